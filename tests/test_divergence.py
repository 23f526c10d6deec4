"""KL divergence between target and sampled distributions (science.md section 2)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import lifsampling as ls


@pytest.fixture
def coin():
    """One unit with p(z = 1) = 3/4."""
    return ls.BoltzmannMachine([[0.0]], [math.log(3.0)])


def test_hand_computation(coin):
    np.testing.assert_allclose(coin.probabilities(), [0.25, 0.75])
    kl = ls.kl_divergence(coin, np.array([30, 70]), pseudo_count=0)
    assert kl.dkl_target_sampled == pytest.approx(0.25 * math.log(0.25 / 0.3) + 0.75 * math.log(0.75 / 0.7))
    assert kl.dkl_sampled_target == pytest.approx(0.3 * math.log(0.3 / 0.25) + 0.7 * math.log(0.7 / 0.75))
    assert (kl.n_samples, kl.n_unvisited, kl.pseudo_count) == (100, 0, 0.0)


def test_hand_computation_with_default_pseudo_count(coin):
    kl = ls.kl_divergence(coin, np.array([30, 70]))
    q = [30.5 / 101, 70.5 / 101]
    assert kl.pseudo_count == 0.5
    assert kl.dkl_target_sampled == pytest.approx(0.25 * math.log(0.25 / q[0]) + 0.75 * math.log(0.75 / q[1]))
    assert kl.dkl_sampled_target == pytest.approx(q[0] * math.log(q[0] / 0.25) + q[1] * math.log(q[1] / 0.75))


def test_zero_for_a_perfect_sample(coin):
    kl = ls.kl_divergence(coin, np.array([25, 75]), pseudo_count=0)
    assert kl.dkl_target_sampled == pytest.approx(0.0, abs=1e-12)
    assert kl.dkl_sampled_target == pytest.approx(0.0, abs=1e-12)
    assert ls.kl_divergence(coin, np.array([50, 50])).dkl_target_sampled > 0


def test_unvisited_states():
    bm = ls.random_boltzmann_machine(2, seed=0)
    p = bm.probabilities()
    counts = np.array([10, 0, 5, 5])
    raw = ls.kl_divergence(bm, counts, pseudo_count=0)
    assert raw.dkl_target_sampled == math.inf  # p* > 0 where q = 0
    assert math.isfinite(raw.dkl_sampled_target)
    assert raw.n_unvisited == 1
    kt = ls.kl_divergence(bm, counts)  # default pseudo-count keeps it finite
    assert math.isfinite(kt.dkl_target_sampled) and kt.dkl_target_sampled > 0
    assert kt.n_unvisited == 1 and kt.n_samples == 20
    q = (counts + 0.5) / 22.0
    assert kt.dkl_target_sampled == pytest.approx(float(np.sum(p * np.log(p / q))))
    assert kt.dkl_sampled_target == pytest.approx(float(np.sum(q * np.log(q / p))))
    assert ls.kl_divergence(bm, np.array([0, 0, 3, 0])).n_unvisited == 3
    assert ls.kl_divergence(bm, np.array([1, 0, 2, 1])).n_unvisited == 1  # visited once is visited


def test_probability_array_as_target():
    p = np.array([0.5, 0.5, 0.0, 0.0])
    kl = ls.kl_divergence(p, np.array([1, 1, 1, 1]), pseudo_count=0)
    assert kl.dkl_target_sampled == pytest.approx(math.log(2))  # states with p* = 0 contribute 0
    assert kl.dkl_sampled_target == math.inf  # sampled where the target has no mass
    bm = ls.random_boltzmann_machine(3, seed=1)
    counts = np.arange(8)
    assert ls.kl_divergence(bm.probabilities(), counts) == ls.kl_divergence(bm, counts)


def test_result_dataset_as_sample():
    bm = ls.random_boltzmann_machine(3, seed=2)
    ds = ls.GibbsSampler(bm).sample(500.0, n_chains=4, seed=0)
    assert ls.kl_divergence(bm, ds) == ls.kl_divergence(bm, ls.state_counts(ds))
    assert ls.kl_divergence(bm, ds).n_samples == 4 * 50


def test_errors(coin):
    with pytest.raises(ValueError, match="pseudo_count must be >= 0, got -1"):
        ls.kl_divergence(coin, np.array([1, 1]), pseudo_count=-1)
    with pytest.raises(ValueError, match="target has 2 states but counts have 4"):
        ls.kl_divergence(coin, np.array([1, 1, 1, 1]))
    with pytest.raises(ValueError, match="no samples"):
        ls.kl_divergence(coin, np.array([0, 0]), pseudo_count=0)


def test_to_dict_and_repr(coin):
    kl = ls.kl_divergence(coin, np.array([30, 70]))
    d = kl.to_dict()
    assert set(d) == {"dkl_target_sampled", "dkl_sampled_target", "n_samples", "n_unvisited", "pseudo_count"}
    assert "unvisited=0" in repr(kl) and "n=100" in repr(kl)


@pytest.mark.parametrize("pseudo_count", [0.5, 0.0])
def test_expected_divergence_of_independent_samples_is_the_floor(pseudo_count):
    """E[DKL(p* || q)] ≈ (2^K - 1) / (2N) for N independent draws (science.md section 2)."""
    bm = ls.random_boltzmann_machine(3, seed=3)
    p = bm.probabilities()
    rng = np.random.default_rng(0)
    n = 20_000
    d = [
        ls.kl_divergence(bm, rng.multinomial(n, p), pseudo_count=pseudo_count).dkl_target_sampled
        for _ in range(400)
    ]
    floor = (2**3 - 1) / (2 * n)
    # the statistic 2N * DKL is about chi-square(7): sd of the mean over 400 repeats is ~3 %
    assert np.mean(d) == pytest.approx(floor, rel=0.15)


# -- DKL against time -----------------------------------------------------------------
def _result(rng, n_chains=3, n_draws=137, n_units=3, interval=2.5):
    states = rng.integers(0, 2, size=(n_chains, n_draws, n_units))
    return ls.make_result(states, sample_interval=interval, sampler="test")


def test_dkl_vs_time(rng):
    bm = ls.random_boltzmann_machine(3, seed=4)
    res = _result(rng)
    curve = ls.dkl_vs_time(bm, res, n_points=12)
    t = curve.time.values
    assert curve.time.attrs["units"] == "ms"
    assert np.all(np.diff(t) > 0)  # strictly increasing time coordinate
    assert t[-1] == 137 * 2.5 and t[0] == 2.5
    last = ls.kl_divergence(bm, res)
    assert curve.dkl_target_sampled.values[-1] == last.dkl_target_sampled
    assert curve.dkl_sampled_target.values[-1] == last.dkl_sampled_target
    assert curve.n_unvisited.values[-1] == last.n_unvisited
    np.testing.assert_array_equal(curve.n_samples.values, 3 * t / 2.5)
    # every point is the divergence of the first draws of every chain
    for i, n_draws in enumerate(np.round(t / 2.5).astype(int)):
        sub = ls.make_result(res.states.values[:, :n_draws], sample_interval=2.5, sampler="test")
        assert curve.dkl_target_sampled.values[i] == pytest.approx(
            ls.kl_divergence(bm, sub).dkl_target_sampled, rel=1e-12
        )
    assert curve.attrs["n_chains"] == 3 and curve.attrs["pseudo_count"] == 0.5


def test_dkl_vs_time_of_a_thinned_result(rng):
    """Keeping every 10th draw keeps the time axis: the curve still ends at the full run."""
    bm = ls.random_boltzmann_machine(3, seed=4)
    res = _result(rng, n_draws=200, interval=1.0)
    thinned = res.isel(draw=slice(None, None, 10))
    curve = ls.dkl_vs_time(bm, thinned, n_points=5)
    assert curve.time.values[-1] == 200.0
    np.testing.assert_array_equal(curve.n_samples.values, 3 * curve.time.values / 10.0)
    assert curve.dkl_target_sampled.values[-1] == ls.kl_divergence(bm, thinned).dkl_target_sampled


def test_dkl_vs_time_pseudo_count(rng):
    bm = ls.random_boltzmann_machine(3, seed=4)
    res = _result(rng, n_draws=5)
    curve = ls.dkl_vs_time(bm, res, pseudo_count=0.0)
    assert curve.attrs["pseudo_count"] == 0.0
    assert np.isinf(curve.dkl_target_sampled.values[0])  # 3 draws cannot visit 8 states


def test_dkl_vs_time_single_draw_and_errors(rng):
    bm = ls.random_boltzmann_machine(3, seed=4)
    curve = ls.dkl_vs_time(bm, _result(rng, n_draws=1))
    assert curve.sizes["time"] == 1
    with pytest.raises(ValueError, match="the result has no draws"):
        ls.dkl_vs_time(bm, _result(rng, n_draws=0))
