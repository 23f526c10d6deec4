"""Result datasets: construction, statistics, NetCDF files."""

from __future__ import annotations

import json
import os
import stat

import numpy as np
import pytest
import xarray as xr

import lifsampling as ls


@pytest.fixture
def states(rng):
    return rng.integers(0, 2, size=(3, 7, 4)).astype(np.int8)


def test_make_result_dims_coords_attrs(states):
    bm = ls.random_boltzmann_machine(4, seed=0)
    ds = ls.make_result(
        states,
        sample_interval=2.5,
        sampler="demo",
        target=bm,
        attrs={"seed": 5, "settings": {"a": 1}, "flag": True, "nothing": None, "values": [1, 2]},
    )
    assert ds.states.dims == ("chain", "draw", "unit")
    assert dict(ds.states.sizes) == {"chain": 3, "draw": 7, "unit": 4}
    assert ds.states.dtype == np.int8
    np.testing.assert_array_equal(ds.states.values, states)
    np.testing.assert_array_equal(ds.chain.values, np.arange(3))
    np.testing.assert_array_equal(ds.draw.values, np.arange(7))
    np.testing.assert_array_equal(ds.unit.values, np.arange(4))
    assert ds.time.dims == ("draw",)
    np.testing.assert_allclose(ds.time.values, np.arange(7) * 2.5)
    assert ds.time.attrs["units"] == "ms"
    assert ds.target_W.dims == ("unit", "unit_j")
    np.testing.assert_array_equal(ds.target_W.values, bm.W)
    np.testing.assert_array_equal(ds.target_b.values, bm.b)
    a = ds.attrs
    assert a["sampler"] == "demo" and a["sample_interval_ms"] == 2.5 and a["seed"] == 5
    assert json.loads(a["settings"]) == {"a": 1}  # dicts and lists become JSON strings
    assert json.loads(a["values"]) == [1, 2]
    assert a["flag"] == 1 and not isinstance(a["flag"], bool)  # NetCDF has no booleans
    assert "nothing" not in a
    assert "created" in a and a["version_lifsampling"] == ls.__version__
    assert "version_brian2" in a and "version_numpy" in a and "version_xarray" in a
    assert "target_n_visible" not in a


def test_make_result_without_target(states):
    ds = ls.make_result(states, sample_interval=1.0, sampler="x")
    assert "target_W" not in ds and "target_b" not in ds
    assert ls.result_target(ds) is None


def test_make_result_from_booleans_and_empty():
    ds = ls.make_result(np.ones((1, 2, 3), dtype=bool), sample_interval=1.0, sampler="x")
    assert ds.states.dtype == np.int8 and int(ds.states.sum()) == 6
    assert ls.make_result(np.zeros((2, 0, 3)), sample_interval=1.0, sampler="x").sizes["draw"] == 0


@pytest.mark.parametrize(
    "array, target, match",
    [
        (np.zeros((2, 3)), None, r"states must have dims \(chain, draw, unit\), got shape \(2, 3\)"),
        (np.full((1, 2, 2), 2), None, "states must contain only 0 and 1"),
        (np.full((1, 2, 2), -1), None, "states must contain only 0 and 1"),
        (
            np.zeros((1, 2, 2)),
            ls.BoltzmannMachine(np.zeros((3, 3)), np.zeros(3)),
            "target has 3 units but states have 2",
        ),
    ],
)
def test_make_result_errors(array, target, match):
    with pytest.raises(ValueError, match=match):
        ls.make_result(array, sample_interval=1.0, sampler="x", target=target)


# -- statistics -------------------------------------------------------------------------
def test_state_counts_joint_and_marginals():
    s = np.array([[[0, 0], [1, 0], [1, 1]], [[1, 0], [1, 0], [0, 1]]])  # indices 0 2 3 / 2 2 1
    ds = ls.make_result(s, sample_interval=1.0, sampler="x")
    np.testing.assert_array_equal(ls.state_counts(ds), [1, 1, 3, 1])
    np.testing.assert_array_equal(ls.state_counts(ds, n_draws=1), [1, 0, 1, 0])
    np.testing.assert_array_equal(ls.state_counts(ds, n_draws=2), [1, 0, 3, 0])
    np.testing.assert_allclose(ls.joint_distribution(ds), [1 / 6, 1 / 6, 3 / 6, 1 / 6])
    m = ls.marginals(ds)
    assert m.dims == ("unit",) and m.name == "marginal"
    np.testing.assert_allclose(m.values, [4 / 6, 2 / 6])


def test_state_counts_limits():
    big = ls.make_result(np.zeros((1, 2, 21)), sample_interval=1.0, sampler="x")
    with pytest.raises(ValueError, match="joint-state counts need <= 20 units, got 21"):
        ls.state_counts(big)
    assert ls.marginals(big).shape == (21,)
    with pytest.raises(ValueError, match="has no 'states' variable"):
        ls.state_counts(xr.Dataset({"x": ("a", [1])}))


# -- files --------------------------------------------------------------------------------
def _assert_same_result(a: xr.Dataset, b: xr.Dataset):
    xr.testing.assert_identical(a, b)
    assert b.states.dtype == np.int8
    assert a.attrs == b.attrs


def test_netcdf_round_trip(tmp_path, states):
    bm = ls.random_boltzmann_machine(4, seed=0)
    ds = ls.make_result(
        states,
        sample_interval=2.5,
        sampler="demo",
        target=bm,
        attrs={"seed": 5, "settings": {"a": [1, 2]}, "flag": False, "dt_ms": 0.1},
    )
    path = tmp_path / "sub" / "result.nc"  # parent directories are created
    ls.save_result(ds, path)
    loaded = ls.load_result(path)
    _assert_same_result(ds, loaded)
    np.testing.assert_array_equal(loaded.states.values, states)
    target = ls.result_target(loaded)
    assert type(target) is ls.BoltzmannMachine and target == bm
    assert sorted(p.name for p in path.parent.iterdir()) == ["result.nc"]  # no temporary files


def test_netcdf_round_trip_rbm(tmp_path, rng):
    rbm = ls.RestrictedBoltzmannMachine(rng.normal(size=(2, 3)), rng.normal(size=2), rng.normal(size=3))
    ds = ls.GibbsSampler(rbm).sample(200.0, n_chains=2, seed=1)
    assert ds.attrs["target_n_visible"] == 2
    ls.save_result(ds, tmp_path / "rbm.nc")
    loaded = ls.load_result(tmp_path / "rbm.nc")
    _assert_same_result(ds, loaded)
    target = ls.result_target(loaded)
    assert type(target) is ls.RestrictedBoltzmannMachine
    assert target == rbm and target.n_visible == 2


def test_save_replaces_an_existing_file(tmp_path, states):
    path = tmp_path / "r.nc"
    ls.save_result(ls.make_result(states, sample_interval=1.0, sampler="a"), path)
    ls.save_result(ls.make_result(1 - states, sample_interval=1.0, sampler="b"), path)
    loaded = ls.load_result(path)
    assert loaded.attrs["sampler"] == "b"
    np.testing.assert_array_equal(loaded.states.values, 1 - states)


def test_failing_save_leaves_an_existing_file_untouched(tmp_path, states, monkeypatch):
    path = tmp_path / "r.nc"
    ls.save_result(ls.make_result(states, sample_interval=1.0, sampler="old"), path)
    before = path.read_bytes()

    def broken_to_netcdf(self, target, *args, **kwargs):
        with open(target, "wb") as fh:  # write garbage part-way, then fail
            fh.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(xr.Dataset, "to_netcdf", broken_to_netcdf)
    with pytest.raises(OSError, match="disk full"):
        ls.save_result(ls.make_result(1 - states, sample_interval=1.0, sampler="new"), path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert ls.load_result(path).attrs["sampler"] == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.nc"]  # temporary file removed


def test_failing_save_creates_no_file(tmp_path, states, monkeypatch):
    def broken_to_netcdf(self, *args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(xr.Dataset, "to_netcdf", broken_to_netcdf)
    with pytest.raises(RuntimeError, match="boom"):
        ls.save_result(ls.make_result(states, sample_interval=1.0, sampler="x"), tmp_path / "r.nc")
    assert list(tmp_path.iterdir()) == []


def test_save_result_rejects_non_results(tmp_path):
    with pytest.raises(ValueError, match="has no 'states' variable; it is not a lifsampling result"):
        ls.save_result(xr.Dataset({"x": ("a", [1, 2])}), tmp_path / "x.nc")
    bad = xr.Dataset({"states": (("draw", "chain", "unit"), np.zeros((2, 1, 1), dtype=np.int8))})
    with pytest.raises(ValueError, match=r"'states' must have dims \(chain, draw, unit\)"):
        ls.save_result(bad, tmp_path / "x.nc")
    assert not (tmp_path / "x.nc").exists()


def test_load_result_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="result file .*missing.nc' does not exist"):
        ls.load_result(tmp_path / "missing.nc")
    (tmp_path / "corrupt.nc").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00" * 64)
    with pytest.raises(ValueError, match="cannot read .*corrupt.nc' as a NetCDF result file"):
        ls.load_result(tmp_path / "corrupt.nc")
    (tmp_path / "text.nc").write_text("hello")
    with pytest.raises(ValueError, match="as a NetCDF result file"):
        ls.load_result(tmp_path / "text.nc")
    xr.Dataset({"x": ("a", [1, 2])}).to_netcdf(tmp_path / "other.nc", engine="h5netcdf")
    with pytest.raises(ValueError, match="other.nc has no 'states' variable; it is not a lifsampling result"):
        ls.load_result(tmp_path / "other.nc")


def test_results_convert_to_arviz(states):
    az = pytest.importorskip("arviz")
    ds = ls.make_result(states, sample_interval=1.0, sampler="x")
    idata = az.convert_to_inference_data(ds[["states"]])
    assert dict(idata.posterior.states.sizes) == {"chain": 3, "draw": 7, "unit": 4}


def test_saved_files_respect_the_umask(tmp_path, states):
    old = os.umask(0o022)
    try:
        ls.save_result(ls.make_result(states, sample_interval=1.0, sampler="x"), tmp_path / "r.nc")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "r.nc").st_mode) == 0o644
