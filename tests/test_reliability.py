"""Reliability: shared caches under concurrent processes, damaged cache entries and result files.

See docs/reliability.md for what is guaranteed; this module is how it is tested.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

import lifsampling as ls
from lifsampling._cache import CacheEntryWarning, load_or_compute, read_json, verify_checksum, with_checksum
from lifsampling._io import write_text_atomic

#: h5netcdf's File.__del__ fails on files it could not open (the damaged ones made on purpose here)
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

#: One process: calibrate, measure a small interaction map and sample a 3-unit machine with the
#: C++ standalone device and with the default device, all through one shared cache directory.
WORKER = textwrap.dedent(
    """
    import json, sys, warnings
    import lifsampling as ls

    cache, out, index = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cal = ls.calibrate(
            n_points=30, duration=3000.0, prescan_duration=500.0, seed=1234, dt=0.1,
            cache_dir=cache, progress=False,
        )
        ic = ls.calibrate_interactions(
            cal, couplings=(1.0,), n_pairs=2, duration=500.0, burn_in=50.0, cache_dir=cache, progress=False
        )
        bm = ls.random_boltzmann_machine(3, seed=8)
        draws = {}
        for device in ("cpp_standalone", "auto"):
            sampler = ls.LIFSampler(
                bm, calibration=cal, interactions=ic, device=device, cache_dir=cache, progress=False
            )
            result = sampler.sample(300.0, n_chains=2, seed=index, burn_in=50.0)
            path = f"{out}/result-{index}-{device}.nc"
            ls.save_result(result, path)
            draws[device] = int(ls.load_result(path).sizes["draw"])
    print(json.dumps({
        "v_p05": cal.v_p05, "alpha": cal.alpha, "w_effective": ic.w_effective.tolist(), "draws": draws,
        "warnings": [f"{w.category.__name__}: {w.message}" for w in caught
                     if issubclass(w.category, (ls.CacheEntryWarning, RuntimeWarning))],
    }))
    """
)


def _run_workers(script: str, args: list[list[str]], timeout: float) -> list[dict]:
    """Run the workers at once; their output goes to files, not pipes: a worker that fills a
    pipe nobody reads yet would block while holding a lock the others wait for."""
    env = dict(os.environ, PYTHONWARNINGS="ignore::DeprecationWarning")
    files = [(tempfile.TemporaryFile("w+"), tempfile.TemporaryFile("w+")) for _ in args]
    procs = [
        subprocess.Popen([sys.executable, "-c", script, *a], stdout=out, stderr=err, text=True, env=env)
        for a, (out, err) in zip(args, files, strict=True)
    ]
    outputs = []
    try:
        deadline = time.monotonic() + timeout
        for p, (out, err) in zip(procs, files, strict=True):
            p.wait(timeout=max(1.0, deadline - time.monotonic()))
            out.seek(0)
            err.seek(0)
            assert p.returncode == 0, f"worker failed (exit {p.returncode}):\n{err.read()[-3000:]}"
            outputs.append(json.loads(out.read().strip().splitlines()[-1]))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
        for out, err in files:
            out.close()
            err.close()
    return outputs


def _check_cache(cache: Path) -> dict[str, int]:
    """Every entry in the cache loads and verifies; returns the number of entries by kind."""
    counts = {}
    for path in sorted((cache / "calibrations").glob("*.json")):
        verify_checksum(read_json(path, "calibration"), str(path), required=True)
        ls.Calibration.load(path)
        counts["calibrations"] = counts.get("calibrations", 0) + 1
    for path in sorted((cache / "interactions").glob("*.json")):
        verify_checksum(read_json(path, "interaction calibration"), str(path), required=True)
        ls.InteractionCalibration.load(path)
        counts["interactions"] = counts.get("interactions", 0) + 1
    for manifest in sorted((cache / "standalone").glob("*/lifsampling_manifest.json")):
        json.loads(manifest.read_text())
        assert (manifest.parent / "main").exists(), f"{manifest.parent} has a manifest but no binary"
        counts["standalone"] = counts.get("standalone", 0) + 1
    leftovers = [p for p in cache.rglob(".*.tmp")]
    assert not leftovers, f"temporary files left in the cache: {leftovers}"
    return counts


def test_four_processes_share_one_cache(tmp_path):
    """4 processes calibrate and sample at once through one cache; all succeed, the cache is valid."""
    cache, out = tmp_path / "cache", tmp_path / "out"
    out.mkdir()
    reports = _run_workers(WORKER, [[str(cache), str(out), str(i)] for i in range(4)], timeout=600)
    assert len(reports) == 4
    # one calibration and one interaction map, measured once and read by all
    assert len({(r["v_p05"], r["alpha"]) for r in reports}) == 1
    assert len({tuple(r["w_effective"]) for r in reports}) == 1
    assert all(r["draws"] == {"cpp_standalone": 300, "auto": 300} for r in reports)
    assert all(r["warnings"] == [] for r in reports), [r["warnings"] for r in reports]
    counts = _check_cache(cache)
    assert counts["calibrations"] == 1 and counts["interactions"] == 1 and counts["standalone"] >= 1
    assert len(list(out.glob("*.nc"))) == 8


def _compute_once_worker(entry: str, log: str, queue) -> None:
    """One process of the lock test: compute an entry that takes a while, logging each computation."""

    def compute():
        with open(log, "a") as fh:
            fh.write("computed\n")
        time.sleep(1.0)
        return {"value": 42}

    def load(path):
        d = read_json(path, "entry")
        verify_checksum(d, str(path), required=True)
        return d

    def save(d, path):
        write_text_atomic(path, json.dumps(with_checksum(d)))

    queue.put(load_or_compute(Path(entry), load, compute, save)["value"])


def test_concurrent_writers_compute_an_entry_once(tmp_path):
    import multiprocessing

    ctx = multiprocessing.get_context("fork")  # the parent has imported everything already
    entry, log = tmp_path / "kind" / "entry.json", tmp_path / "log.txt"
    queue = ctx.Queue()
    procs = [ctx.Process(target=_compute_once_worker, args=(str(entry), str(log), queue)) for _ in range(4)]
    for p in procs:
        p.start()
    values = [queue.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert values == [42] * 4
    assert log.read_text().count("computed") == 1
    assert json.loads(entry.read_text())["value"] == 42


def _entry_with_changed_number(entry: Path) -> None:
    """Change one digit of v_p05 in place: the file stays valid JSON, only the checksum can tell."""
    text = entry.read_text()
    key = '"v_p05": -'
    at = text.index(key) + len(key)
    digit = text[at]
    entry.write_text(text[:at] + ("4" if digit != "4" else "5") + text[at + 1 :])
    json.loads(entry.read_text())


@pytest.mark.parametrize("damage", ["changed number", "flipped bytes", "truncated"])
def test_damaged_calibration_cache_entry_is_reported_and_rebuilt(
    calibration, calibration_cache_dir, calibration_settings, sbs_neuron, sbs_noise, tmp_path, damage
):
    cache = tmp_path / "cache"
    shutil.copytree(calibration_cache_dir, cache)
    (entry,) = sorted((cache / "calibrations").glob("*.json"))
    if damage == "changed number":
        _entry_with_changed_number(entry)
        expected = "fails its checksum"
    elif damage == "flipped bytes":
        raw = bytearray(entry.read_bytes())
        raw[len(raw) // 2 : len(raw) // 2 + 4] = b"\xff\x00\xfe\x01"
        entry.write_bytes(bytes(raw))
        expected = "cannot read calibration file"
    else:
        entry.write_bytes(entry.read_bytes()[:200])
        expected = "cannot read calibration file"
    with pytest.raises(ValueError, match=expected) as info:
        ls.Calibration.load(entry)
    assert str(entry) in str(info.value)
    with pytest.warns(CacheEntryWarning, match=f"cache entry '{entry}' is damaged and will be rebuilt"):
        again = ls.calibrate(sbs_neuron, sbs_noise, cache_dir=cache, **calibration_settings)
    assert again.v_p05 == calibration.v_p05 and again.alpha == calibration.alpha  # same seed
    assert ls.Calibration.load(entry).to_dict() == calibration.to_dict()  # rebuilt in place
    assert _check_cache(cache) == {"calibrations": 1}


def test_damaged_interaction_cache_entry_is_reported_and_rebuilt(tmp_path, hand_calibration):
    ic = ls.InteractionCalibration(
        np.array([-1.0, 1.0]), np.array([-1.2, 1.5]), np.zeros(2), "renewing", 0.1, "x"
    )
    entry = tmp_path / "interactions" / "e.json"
    ic.save(entry)
    text = entry.read_text().replace("1.5", "1.6")
    entry.write_text(text)
    with pytest.raises(ValueError, match="interaction calibration .*e.json' fails its checksum"):
        ls.InteractionCalibration.load(entry)
    calls = []

    def compute():
        calls.append(1)
        return ic

    with pytest.warns(CacheEntryWarning, match="e.json' is damaged and will be rebuilt"):
        got = load_or_compute(entry, ls.InteractionCalibration.load, compute, lambda v, p: v.save(p))
    assert got == ic and calls == [1]
    assert ls.InteractionCalibration.load(entry) == ic
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_or_compute(entry, ls.InteractionCalibration.load, compute, lambda v, p: v.save(p)) == ic
    assert calls == [1]


# -- result files ---------------------------------------------------------------------------------
@pytest.fixture
def saved_result(tmp_path):
    bm = ls.random_boltzmann_machine(3, seed=0)
    states = np.random.default_rng(1).integers(0, 2, size=(2, 200, 3))
    result = ls.make_result(states, sample_interval=1.0, sampler="test", target=bm, attrs={"seed": 3})
    path = tmp_path / "result.nc"
    ls.save_result(result, path)
    return result, path


def test_result_round_trip_verifies_and_hides_the_checksum(saved_result):
    import xarray as xr

    result, path = saved_result
    loaded = ls.load_result(path)
    xr.testing.assert_identical(loaded, result)
    assert "lifsampling_checksum" not in loaded.attrs


def test_edited_result_file_fails_its_checksum(saved_result):
    h5py = pytest.importorskip("h5py")
    _, path = saved_result
    with h5py.File(path, "r+") as f:  # a silent change of one state: still a valid NetCDF file
        f["states"][0, 0, 0] = 1 - f["states"][0, 0, 0]
    with pytest.raises(ValueError, match=f"result file '{path}' fails its checksum"):
        ls.load_result(path)


def test_edited_result_attribute_fails_its_checksum(saved_result):
    h5py = pytest.importorskip("h5py")
    _, path = saved_result
    with h5py.File(path, "r+") as f:
        f.attrs["sample_interval_ms"] = 2.0
    with pytest.raises(ValueError, match="fails its checksum"):
        ls.load_result(path)


def test_truncated_result_file_is_a_clear_error(saved_result):
    _, path = saved_result
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ValueError, match=f"cannot read '{path}' as a NetCDF result file: it is truncated"):
        ls.load_result(path)


def test_flipped_bytes_in_a_result_file_never_go_unnoticed(saved_result):
    """Wherever bytes are damaged, loading raises a ValueError or returns the data that were saved."""
    import xarray as xr

    result, path = saved_result
    raw = path.read_bytes()
    rng = np.random.default_rng(5)
    start = time.perf_counter()
    detected = 0
    for offset in rng.choice(len(raw), size=40, replace=False):
        damaged = bytearray(raw)
        damaged[offset] ^= 0xFF
        path.write_bytes(bytes(damaged))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                loaded = ls.load_result(path)
        except ValueError as exc:
            assert str(path) in str(exc)
            detected += 1
        else:
            xr.testing.assert_identical(loaded.drop_attrs(), result.drop_attrs())
            assert loaded.attrs == result.attrs
    assert detected > 0 and time.perf_counter() - start < 60


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda ds: ds.drop_vars("target_b"), "holds only one of 'target_W' and 'target_b'"),
        (lambda ds: ds.assign(states=ds.states * 2), "'states' must hold only 0 and 1"),
        (
            lambda ds: ds.drop_vars("time").drop_attrs(),
            "records no sample interval",
        ),
    ],
    ids=["target_b missing", "non-binary states", "no sample interval"],
)
def test_result_file_missing_what_a_result_needs_is_a_clear_error(saved_result, tmp_path, edit, message):
    result, _ = saved_result
    path = tmp_path / "bad.nc"
    edit(result).to_netcdf(path, engine="h5netcdf")  # written by other code: no checksum
    with pytest.raises(ValueError, match=f"result file '{path}'.*{message}"):
        ls.load_result(path)


def test_damaged_target_file_is_a_clear_error(tmp_path):
    path = tmp_path / "t.npz"
    ls.random_boltzmann_machine(4, seed=0).save(path)
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 3] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match=f"cannot read target file '{path}' as an .npz archive"):
        ls.load_target(path)
    path.write_bytes(bytes(raw[: len(raw) // 2]))
    with pytest.raises(ValueError, match=f"cannot read target file '{path}' as an .npz archive"):
        ls.load_target(path)
