"""write_report / ``lifsampling report``: contents of report.html and summary.json, and bad input."""

from __future__ import annotations

import base64
import json
import re

import arviz as az
import numpy as np
import pytest
import xarray as xr

import lifsampling as ls
from lifsampling.cli import main


@pytest.fixture(scope="module")
def files(report_runs, report_target, tmp_path_factory):
    d = tmp_path_factory.mktemp("report-inputs")
    paths = {}
    for label, run in report_runs.items():
        paths[label] = d / f"{label.lower()}.nc"
        ls.save_result(run, paths[label])
    paths["target"] = d / "target.npz"
    report_target.save(paths["target"])
    return paths


@pytest.fixture(scope="module")
def report(files, tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "out"
    code = main(
        [
            "report",
            str(files["LIF"]),
            str(files["Gibbs"]),
            "--target",
            str(files["target"]),
            "--out",
            str(out),
        ]
        + ["--label", "LIF", "--label", "Gibbs"]
    )
    assert code == 0
    return out


def test_report_files_exist(report):
    assert sorted(p.name for p in report.iterdir()) == ["report.html", "summary.json"]


def test_summary_matches_arviz_on_the_inference_data(report, report_runs, report_target):
    summary = json.loads((report / "summary.json").read_text())
    assert set(summary["verdicts"]) == {"LIF", "Gibbs"}
    for run in summary["runs"]:
        idata = ls.to_inference_data(report_runs[run["label"]], report_target)
        for method in ("bulk", "tail"):
            ref = az.ess(idata, method=method)
            np.testing.assert_allclose(run["units"][f"ess_{method}"], ref.states.values, rtol=1e-9)
            assert run["energy"][f"ess_{method}"] == pytest.approx(float(ref.energy), rel=1e-9)
        rhat = az.rhat(idata)
        np.testing.assert_allclose(run["units"]["rhat"], rhat.states.values, rtol=1e-9)
        assert run["energy"]["rhat"] == pytest.approx(float(rhat.energy), rel=1e-9)
        mcse = az.mcse(idata)
        np.testing.assert_allclose(run["units"]["mcse"], mcse.states.values, rtol=1e-9)
        np.testing.assert_allclose(
            run["units"]["marginal"], idata.posterior.states.mean(("chain", "draw")).values, rtol=1e-12
        )
        kl = ls.kl_divergence(report_target, report_runs[run["label"]])
        assert run["divergence"]["dkl_target_sampled"] == pytest.approx(kl.dkl_target_sampled, rel=1e-12)
        assert run["summary"]["max_rhat"] == pytest.approx(max(rhat.states.values), rel=1e-9)
        assert run["status"] in ("converged", "converged (biased)", "not converged")
    assert summary["target"]["n_units"] == 5
    np.testing.assert_allclose(summary["target"]["marginals"], report_target.marginals())


def test_html_is_self_contained(report):
    page = (report / "report.html").read_text()
    srcs = re.findall(r"<img[^>]*src='([^']*)'", page)
    # shared: DKL, marginals, joint states; per run: energy, autocorrelation, rank plots
    assert len(srcs) == 3 + 2 * 3
    for src in srcs:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert not re.search(r"(src|href)=['\"]?(https?:)?//", page), "the page must not load anything"
    for text in (
        "Verdict",
        "ESS, R-hat and marginals",
        "DKL(target‖sampled)",
        "Most over- and under-sampled",
    ):
        assert text in page


def test_python_api_and_replacing_a_report(report_runs, report_target, tmp_path):
    first = ls.write_report(report_runs, tmp_path, report_target, title="first")
    assert first.html_path == tmp_path / "report.html"
    assert set(first.verdicts) == {"LIF", "Gibbs"}
    second = ls.write_report({"Gibbs only": report_runs["Gibbs"]}, tmp_path, title="second")
    summary = json.loads(second.summary_path.read_text())
    assert summary["title"] == "second" and list(summary["verdicts"]) == ["Gibbs only"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html", "summary.json"]  # no temp files
    single = ls.write_report(report_runs["Gibbs"], tmp_path / "single")  # one Dataset, its stored target
    assert list(single.verdicts) == ["gibbs"]


def _run_cli_failing(args, out, capsys) -> str:
    code = main(["report", *map(str, args), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert not out.exists() or sorted(p.name for p in out.iterdir()) == ["old.txt"], "DIR was written to"
    return err


@pytest.fixture
def out_dir(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("keep me")
    return out


def test_result_without_states(tmp_path, out_dir, capsys):
    bad = tmp_path / "nostates.nc"
    xr.Dataset({"spikes": ("t", np.arange(3.0))}).to_netcdf(bad, engine="h5netcdf")
    assert "no 'states' variable" in _run_cli_failing([bad], out_dir, capsys)


def test_target_with_another_unit_count(files, tmp_path, out_dir, capsys):
    small = tmp_path / "small.npz"
    ls.random_boltzmann_machine(3, seed=1).save(small)
    err = _run_cli_failing([files["LIF"], "--target", small], out_dir, capsys)
    assert "target has 3 units but the result has 5" in err


def test_corrupt_netcdf(files, tmp_path, out_dir, capsys):
    bad = tmp_path / "corrupt.nc"
    data = files["Gibbs"].read_bytes()
    bad.write_bytes(data[: len(data) // 2])
    assert "cannot read" in _run_cli_failing([files["LIF"], bad], out_dir, capsys)
    garbage = tmp_path / "garbage.nc"
    garbage.write_bytes(b"not a netcdf file at all")
    assert "cannot read" in _run_cli_failing([garbage], out_dir, capsys)


@pytest.mark.parametrize("n_draws", [0, 1])
def test_empty_or_one_draw_result(report_runs, n_draws, tmp_path, out_dir, capsys):
    path = tmp_path / "short.nc"
    ls.save_result(report_runs["Gibbs"].isel(draw=slice(0, n_draws)), path)
    err = _run_cli_failing([path], out_dir, capsys)
    assert ("empty" in err) if n_draws == 0 else ("at least 4" in err)


def test_missing_file_and_out_that_is_a_file(files, tmp_path, capsys):
    out = tmp_path / "new"
    assert "does not exist" in _run_cli_failing([tmp_path / "missing.nc"], out, capsys)
    assert not out.exists()
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    assert main(["report", str(files["Gibbs"]), "--out", str(a_file)]) == 2
    assert a_file.read_text() == "x"
    assert "not a directory" in capsys.readouterr().err


def test_results_from_different_targets_need_an_explicit_target(report_runs, tmp_path, out_dir, capsys):
    other = ls.GibbsSampler(ls.random_boltzmann_machine(5, seed=7)).sample(500.0, n_chains=2, seed=1)
    p1, p2 = tmp_path / "a.nc", tmp_path / "b.nc"
    ls.save_result(report_runs["Gibbs"], p1)
    ls.save_result(other, p2)
    assert "different targets" in _run_cli_failing([p1, p2], out_dir, capsys)


def test_label_count_must_match(files, out_dir, capsys):
    err = _run_cli_failing([files["LIF"], files["Gibbs"], "--label", "only one"], out_dir, capsys)
    assert "one per file" in err
