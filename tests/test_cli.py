"""End-to-end tests of the ``lifsampling`` command line."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

import lifsampling as ls
from lifsampling.cli import main


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """One cache for the module: the CLI calibrates (with its defaults) only once."""
    return str(tmp_path_factory.mktemp("cli-cache"))


@pytest.fixture(scope="module")
def target_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli-target") / "target.npz"
    assert main(["random-target", "--units", "3", "--seed", "8", "--out", str(path)]) == 0
    return path


def test_random_target_writes_a_loadable_machine(target_file):
    bm = ls.load_target(target_file)
    assert bm == ls.random_boltzmann_machine(3, seed=8)


def test_sample_end_to_end(target_file, cache, tmp_path, capsys):
    out = tmp_path / "result.nc"
    args = [
        "sample",
        str(target_file),
        "--duration",
        "2000",
        "--chains",
        "4",
        "--seed",
        "3",
        "--out",
        str(out),
        "--cache-dir",
        cache,
        "--quiet",
    ]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "wrote" in printed and "KLDivergence" in printed
    result = ls.load_result(out)
    assert dict(result.states.sizes) == {"chain": 4, "draw": 2000, "unit": 3}
    assert result.attrs["sample_interval_ms"] == 1.0
    assert result.attrs["seed"] == 3
    assert json.loads(result.attrs["interactions"])["synapses"] == "renewing"
    assert ls.result_target(result) == ls.load_target(target_file)
    # a short run of a 3-unit machine still lands far closer to the target than uniform
    uniform = ls.kl_divergence(ls.result_target(result), np.ones(8)).dkl_target_sampled
    assert ls.kl_divergence(ls.result_target(result), result).dkl_target_sampled < uniform / 3

    # same command, same seed -> identical states (the calibrations now come from the cache)
    out2 = tmp_path / "again.nc"
    assert main(args[:-5] + ["--out", str(out2), "--cache-dir", cache, "--quiet"]) == 0
    np.testing.assert_array_equal(ls.load_result(out2).states.values, result.states.values)


def _error(args, capsys) -> str:
    assert main(args) == 2
    return capsys.readouterr().err


def test_sample_reports_bad_target_files(tmp_path, capsys):
    bad = tmp_path / "bad.npz"
    np.savez(bad, W=np.zeros((2, 2)))
    err = _error(["sample", str(bad), "--duration", "100", "--out", str(tmp_path / "r.nc")], capsys)
    assert "lacks the array(s) b" in err
    err = _error(
        ["sample", str(tmp_path / "missing.npz"), "--duration", "100", "--out", str(tmp_path / "r.nc")],
        capsys,
    )
    assert "does not exist" in err
    assert not (tmp_path / "r.nc").exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--duration", "0"], "duration must be positive"),
        (["--duration", "-5"], "duration must be positive"),
        (["--duration", "100", "--sample-interval", "0.25"], "not a multiple of dt"),
        (["--duration", "100.5"], "not a multiple of sample_interval"),
        (["--duration", "100", "--chains", "0"], "n_chains must be an integer >= 1"),
    ],
)
def test_sample_reports_bad_run_settings(target_file, cache, tmp_path, capsys, extra, message):
    out = tmp_path / "r.nc"
    err = _error(["sample", str(target_file), *extra, "--out", str(out), "--cache-dir", cache], capsys)
    assert message in err
    assert not out.exists()


def test_sample_refuses_an_output_that_is_not_netcdf(target_file, tmp_path, capsys):
    err = _error(["sample", str(target_file), "--duration", "100", "--out", str(tmp_path / "r.csv")], capsys)
    assert ".nc" in err


def test_demo_end_to_end(cache, tmp_path, capsys):
    out = tmp_path / "demo"
    assert (
        main(
            [
                "demo",
                "--out-dir",
                str(out),
                "--duration",
                "1000",
                "--chains",
                "2",
                "--cache-dir",
                cache,
                "--quiet",
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "DKL(target || sampled)" in printed and "Gibbs" in printed
    assert "convergence report:" in printed and "report.html" in printed
    for name in ("target.npz", "result.nc", "gibbs.nc", "demo.png", "report.html", "summary.json"):
        assert (out / name).stat().st_size > 0, name
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["verdicts"]) == {"LIF", "Gibbs"}
    lif, gibbs = ls.load_result(out / "result.nc"), ls.load_result(out / "gibbs.nc")
    assert lif.attrs["sampler"] == "lif" and gibbs.attrs["sampler"] == "gibbs"
    assert lif.sizes["chain"] == gibbs.sizes["chain"] == 2


def test_console_script_is_installed():
    exe = shutil.which("lifsampling") or str((sys.executable.rsplit("/", 1)[0]) + "/lifsampling")
    proc = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0
    for command in ("sample", "demo", "random-target", "calibrate", "report"):
        assert command in proc.stdout


def test_sample_with_evidence(target_file, cache, tmp_path, capsys):
    out = tmp_path / "ev.nc"
    args = ["sample", str(target_file), "--duration", "1000", "--chains", "2", "--seed", "3"]
    args += ["--out", str(out), "--cache-dir", cache, "--quiet", "--evidence", "0=1", "--evidence", "2=0"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "evidence {0: 1, 2: 0}" in printed and "KLDivergence" in printed
    result = ls.load_result(out)
    assert ls.evidence_of(result) == {0: 1, 2: 0}
    assert min(ls.clamp_agreement(result).values()) >= 0.999


@pytest.mark.parametrize(
    ("evidence", "message"),
    [("0:1", "UNIT=VALUE"), ("x=1", "UNIT=VALUE"), ("7=1", "units 0 to 2"), ("0=2", "0 or 1")],
)
def test_sample_refuses_bad_evidence(target_file, tmp_path, capsys, evidence, message):
    out = tmp_path / "bad.nc"
    code = main(["sample", str(target_file), "--duration", "100", "--out", str(out), "--evidence", evidence])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not out.exists()
