"""Results as arviz InferenceData: contents, and that arviz's own functions accept it."""

from __future__ import annotations

import arviz as az
import numpy as np
import pytest

import lifsampling as ls
from lifsampling.inference_data import as_result


@pytest.fixture(scope="module")
def bm():
    return ls.random_boltzmann_machine(4, seed=3)


@pytest.fixture(scope="module")
def gibbs(bm):
    return ls.GibbsSampler(bm).sample(3_000.0, n_chains=3, seed=5)


def test_posterior_holds_states_energy_and_state_index(bm, gibbs):
    idata = ls.to_inference_data(gibbs)
    post = idata.posterior
    assert dict(post.states.sizes) == {"chain": 3, "draw": 300, "unit": 4}
    assert post.states.dtype == np.int8
    np.testing.assert_array_equal(post.states.values, gibbs.states.values)
    np.testing.assert_allclose(post.energy.values, bm.energy(gibbs.states.values))
    np.testing.assert_array_equal(post.state_index.values, ls.states_to_indices(gibbs.states.values))
    np.testing.assert_array_equal(post.time.values, gibbs.time.values)
    assert post.energy.dims == post.state_index.dims == ("chain", "draw")
    np.testing.assert_array_equal(idata.constant_data.W.values, bm.W)
    np.testing.assert_array_equal(idata.constant_data.b.values, bm.b)
    assert post.attrs["sampler"] == "gibbs"
    assert post.attrs["seed"] == 5


def test_energy_sign_convention(bm):
    """p(z) = exp(-E(z)) / Z: the most probable state has the lowest energy."""
    states = ls.all_states(bm.n_units)
    e = bm.energy(states)
    np.testing.assert_allclose(bm.probabilities(), np.exp(-e) / np.exp(-e).sum())


def test_arviz_functions_accept_it(gibbs):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    idata = ls.to_inference_data(gibbs)
    for fn in (az.ess, az.rhat, az.mcse):
        out = fn(idata)
        assert set(out.data_vars) == {"states", "energy", "state_index"}
        assert np.isfinite(out.energy.values)
    assert az.ess(idata, method="tail").states.sizes == {"unit": 4}
    assert az.autocorr(idata.posterior.energy.values[0])[0] == pytest.approx(1.0)
    summary = az.summary(idata, var_names=["energy", "states"])
    assert len(summary) == 5
    az.plot_trace(idata, var_names=["energy"])
    az.plot_rank(idata, var_names=["energy"])
    az.plot_autocorr(idata, var_names=["energy"], combined=True)
    plt.close("all")


def test_target_argument_overrides_and_is_checked(bm, gibbs):
    other = ls.random_boltzmann_machine(4, seed=99)
    idata = ls.to_inference_data(gibbs, other)
    np.testing.assert_allclose(idata.posterior.energy.values, other.energy(gibbs.states.values))
    with pytest.raises(ValueError, match="target has 5 units but the result has 4"):
        ls.to_inference_data(gibbs, ls.random_boltzmann_machine(5, seed=0))
    with pytest.raises(TypeError, match="BoltzmannMachine"):
        ls.to_inference_data(gibbs, np.zeros((4, 4)))


def test_without_a_target_there_is_no_energy(gibbs):
    bare = gibbs.drop_vars(["target_W", "target_b"])
    idata = ls.to_inference_data(bare)
    assert "energy" not in idata.posterior and "constant_data" not in idata.groups()
    assert "state_index" in idata.posterior


def test_netcdf_round_trip_and_back_to_a_result(gibbs, tmp_path):
    idata = ls.to_inference_data(gibbs)
    path = tmp_path / "idata.nc"
    idata.to_netcdf(str(path))
    loaded = az.from_netcdf(str(path))
    back = as_result(loaded)
    np.testing.assert_array_equal(back.states.values, gibbs.states.values)
    np.testing.assert_array_equal(back.time.values, gibbs.time.values)
    assert ls.result_target(back) == ls.result_target(gibbs)
    assert back.attrs["sampler"] == "gibbs"


def test_rejects_what_is_not_a_result():
    import xarray as xr

    with pytest.raises(ValueError, match="no 'states'"):
        ls.to_inference_data(xr.Dataset({"x": ("a", [1, 2])}))
    with pytest.raises(ValueError, match="no posterior 'states'"):
        as_result(az.from_dict(posterior={"mu": np.zeros((2, 10))}))
