"""quantum.models and quantum.samplers: the RBM ansatz and the exact, Gibbs and LIF backends."""

from __future__ import annotations

import numpy as np
import pytest

import lifsampling as ls
import quantum as qs


@pytest.fixture
def rbm() -> qs.RBM:
    return qs.RBM.random(4, 3, scale=0.8, seed=11)


# -- the model -------------------------------------------------------------------
def test_sign_convention_matches_lifsampling(rbm):
    """log p̃(v, h) = θ·O(v, h) = −E(z) of the lifsampling machine over z = (v, h)."""
    bm = rbm.to_boltzmann()
    assert isinstance(bm, ls.RestrictedBoltzmannMachine)
    z = ls.all_states(bm.n_units)
    v, h = z[:, :4], z[:, 4:]
    np.testing.assert_allclose(rbm.log_derivatives(v, h) @ rbm.parameters, -bm.energy(z), atol=1e-12)
    np.testing.assert_allclose(rbm.visible_log_probabilities(), bm.visible_log_probabilities(), atol=1e-12)
    # and the visible marginal of the full joint distribution
    p_joint = bm.probabilities().reshape(2**4, 2**3).sum(axis=1)
    np.testing.assert_allclose(rbm.visible_probabilities(), p_joint, atol=1e-12)
    assert qs.RBM.from_boltzmann(bm).parameters == pytest.approx(rbm.parameters)


def test_marginal_log_derivatives_against_finite_differences(rbm):
    """∂ log p̃(v)/∂θ = O(v, E[h|v]) (O is linear in h)."""
    v = ls.all_states(4)
    analytic = rbm.log_derivatives(v, rbm.hidden_means(v))
    theta = rbm.parameters
    eps = 1e-6
    for k in range(theta.size):
        d = np.zeros_like(theta)
        d[k] = eps
        fd = (
            rbm.with_parameters(theta + d).log_unnormalized(v)
            - rbm.with_parameters(theta - d).log_unnormalized(v)
        ) / (2 * eps)
        np.testing.assert_allclose(analytic[:, k], fd, atol=1e-7)


def test_weighted_sums_and_covariance(rbm):
    rng = np.random.default_rng(0)
    v = rng.integers(0, 2, size=(50, 4))
    h = rng.integers(0, 2, size=(50, 3))
    w = rng.random(50)
    w /= w.sum()
    o = rbm.log_derivatives(v, h)
    np.testing.assert_allclose(rbm.weighted_sum(v, h, w), w @ o, atol=1e-12)
    cov = (o * w[:, None]).T @ o - np.outer(w @ o, w @ o)
    np.testing.assert_allclose(rbm.weighted_covariance(v, h, w, chunk=7), cov, atol=1e-12)


def test_bad_models_are_rejected():
    with pytest.raises(ValueError, match="n_hidden must be an integer >= 0, got -1"):
        qs.RBM.random(4, -1)
    with pytest.raises(ValueError, match="n_visible must be an integer >= 1"):
        qs.RBM.random(0, 2)
    with pytest.raises(ValueError, match="visible_bias must have shape \\(2,\\)"):
        qs.RBM(np.zeros((2, 3)), np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match="must be finite"):
        qs.RBM.random(2, 2, seed=0).with_parameters(np.full(8, np.nan))
    with pytest.raises(ValueError, match="theta must have shape \\(8,\\)"):
        qs.RBM.random(2, 2, seed=0).with_parameters(np.zeros(3))
    assert qs.RBM.random(3, 0, seed=0).n_parameters == 3  # no hidden units: independent visible units


def test_parameters_round_trip(rbm):
    theta = rbm.parameters
    assert theta.shape == (rbm.n_parameters,) == (4 + 3 + 12,)
    again = rbm.with_parameters(theta)
    np.testing.assert_array_equal(again.weights, rbm.weights)
    np.testing.assert_array_equal(again.hidden_bias, rbm.hidden_bias)


# -- backends ----------------------------------------------------------------------
def test_exact_backend_draws_from_the_model(rbm):
    backend = qs.ExactBackend()
    s = backend.sample(rbm, 20_000, seed=4)
    assert s.visible.shape == (20_000, 4) and s.hidden.shape == (20_000, 3)
    assert s.visible.dtype == np.int8 and s.hidden.dtype == np.int8 and not s.exact
    np.testing.assert_array_equal(s.visible, backend.sample(rbm, 20_000, seed=4).visible)
    p = rbm.visible_probabilities()
    assert np.abs(s.visible_distribution() - p).max() < 0.015
    # h | v: the mean of the sampled hidden units matches E[h | v]
    np.testing.assert_allclose(s.hidden.mean(axis=0), rbm.hidden_means(s.visible).mean(axis=0), atol=0.015)


def test_exact_enumeration_has_no_sampling_noise(rbm):
    s = qs.ExactBackend(enumerate=True).sample(rbm, 1)
    assert s.exact and s.n_samples == 16
    np.testing.assert_allclose(s.weights, rbm.visible_probabilities())
    np.testing.assert_allclose(s.hidden, rbm.hidden_means(ls.all_states(4)))


def test_gibbs_backend(rbm):
    backend = qs.GibbsBackend(n_chains=50, burn_in=20, thin=2)
    s = backend.sample(rbm, 20_000, seed=2)
    assert s.visible.shape == (20_000, 4) and s.visible.dtype == np.int8
    np.testing.assert_array_equal(s.hidden, backend.sample(rbm, 20_000, seed=2).hidden)
    assert np.abs(s.visible_distribution() - rbm.visible_probabilities()).max() < 0.02
    assert qs.GibbsBackend(n_chains=7).sample(rbm, 10, seed=0).n_samples == 14  # whole draws per chain


def test_backends_reject_bad_input(rbm):
    with pytest.raises(ValueError, match="n_samples must be an integer >= 1"):
        qs.ExactBackend().sample(rbm, 0)
    with pytest.raises(TypeError, match="quantum.RBM"):
        qs.GibbsBackend().sample(rbm.to_boltzmann(), 10)
    with pytest.raises(ValueError, match="n_chains must be an integer >= 1"):
        qs.GibbsBackend(n_chains=0)
    with pytest.raises(ValueError, match="unknown LIFSampler option\\(s\\) \\['n_neurons'\\]; valid options"):
        qs.LIFBackend(n_neurons=3)


def test_lif_backend_smoke(calibration):
    """Two epochs of POVM learning on spiking samples; the calibration is shared, not re-measured."""
    backend = qs.LIFBackend(
        n_chains=2, burn_in=100.0, calibration=calibration, interactions=None, progress=False
    )
    driver = qs.StateLearning(
        qs.bell_state("phi+"), qs.RBM.random(4, 2, scale=0.1, seed=0), backend, n_samples=600, seed=3
    )
    log = driver.run(2)
    assert log.sizes["epoch"] == 2
    assert np.all(np.isfinite(log.quantum_fidelity_sampled)) and np.all(log.sample_wall_s > 0)
    assert backend.calibration_ is calibration and backend.interactions_ is None
    assert backend.last_sampler_.target.n_units == 6


def test_lif_backend_device_choice(monkeypatch):
    """Unpinned, the backend runs the compiled fast path (one build, many calls); explicit choices stay."""
    from lifsampling._network import fast_path_suits

    monkeypatch.delenv("LIFSAMPLING_DEVICE", raising=False)
    expected = {"device": "cpp_standalone"} if fast_path_suits(None) else {}
    assert qs.LIFBackend().sampler_options == expected
    assert qs.LIFBackend(device="cython").sampler_options == {"device": "cython"}

    class CustomNoise(ls.PoissonNoise):  # not a built-in source: the fast path does not apply
        pass

    assert "device" not in qs.LIFBackend(noise=CustomNoise()).sampler_options
    monkeypatch.setenv("LIFSAMPLING_DEVICE", "cython")
    assert qs.LIFBackend().sampler_options == {}
