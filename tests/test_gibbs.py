"""The Gibbs reference sampler against exact enumeration."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import chi2

import lifsampling as ls

K = 5
N_CHAINS = 40_000


@pytest.fixture(scope="module")
def target():
    return ls.random_boltzmann_machine(K, seed=42)


@pytest.fixture(scope="module")
def independent_draws(target):
    """One draw from each of many independent chains after 20 burn-in sweeps.

    Draws of different chains are independent, so the count statistics are
    multinomial and the usual chi-square / DKL-floor arguments hold exactly
    (no autocorrelation to account for).
    """
    return ls.GibbsSampler(target).sample(10.0, n_chains=N_CHAINS, seed=2024, burn_in=200.0)


def test_independent_draws_pass_a_chi_square_test(target, independent_draws):
    counts = ls.state_counts(independent_draws)
    n = counts.sum()
    assert n == N_CHAINS
    expected = n * target.probabilities()
    g = 2 * np.sum(np.where(counts > 0, counts * np.log(counts / expected), 0.0))  # G-test statistic
    assert g < chi2.ppf(0.999, df=2**K - 1)


def test_dkl_is_at_the_sampling_noise_floor(target, independent_draws):
    # For N independent draws E[DKL(p* || q)] ≈ (2^K - 1) / (2N) = 3.9e-4 here, with a
    # standard deviation of about sqrt(2 (2^K - 1)) / (2N) = 1e-4.  Five times the floor
    # is 16 standard deviations above it, yet an error of 20 % in every coupling or of
    # 0.1 in every bias (DKL 6e-3, 5e-3) would exceed it several times over.
    floor = (2**K - 1) / (2 * N_CHAINS)
    kl = ls.kl_divergence(target, independent_draws)
    assert kl.dkl_target_sampled < 5 * floor
    assert kl.dkl_sampled_target < 5 * floor
    assert kl.n_unvisited == 0
    p = target.probabilities()
    for wrong in (
        ls.BoltzmannMachine(0.8 * target.W, target.b),
        ls.BoltzmannMachine(target.W, target.b + 0.1),
    ):
        q = wrong.probabilities()
        assert np.sum(p * np.log(p / q)) > 10 * floor  # the bound can tell these apart


def test_moments_of_long_chains(target):
    """Marginals and pairwise moments, with errors from independent per-chain means.

    Successive sweeps of one chain are correlated, but chains are independent:
    the spread of the per-chain means gives an honest standard error.
    """
    ds = ls.GibbsSampler(target).sample(1000.0, n_chains=400, seed=7)
    z = ds.states.values.astype(float)  # (chain, draw, unit)
    states = ls.all_states(K).astype(float)
    p = target.probabilities()
    exact_m = p @ states
    exact_c = np.einsum("s,si,sj->ij", p, states, states)
    chain_m = z.mean(axis=1)
    chain_c = np.einsum("cdi,cdj->cij", z, z) / z.shape[1]
    for chains, exact in ((chain_m, exact_m), (chain_c, exact_c)):
        se = chains.std(axis=0, ddof=1) / np.sqrt(chains.shape[0])
        assert np.all(np.abs(chains.mean(axis=0) - exact) < 4.5 * se + 1e-12)


def test_conditional_update_of_a_single_unit():
    # one unit, p(z = 1) = sigmoid(b): every sweep is an independent draw
    b = 1.2
    ds = ls.GibbsSampler(ls.BoltzmannMachine([[0.0]], [b])).sample(10_000.0, n_chains=20, seed=3)
    p1 = 1 / (1 + np.exp(-b))
    n = ds.states.size
    assert float(ds.states.mean()) == pytest.approx(p1, abs=4 * np.sqrt(p1 * (1 - p1) / n))


def test_result_dims_and_attrs(target):
    ds = ls.GibbsSampler(target, sweep_time=5.0).sample(100.0, n_chains=3, seed=11, burn_in=50.0)
    assert ds.states.dims == ("chain", "draw", "unit")
    assert dict(ds.states.sizes) == {"chain": 3, "draw": 20, "unit": K}
    assert ds.states.dtype == np.int8
    np.testing.assert_allclose(ds.time.values, np.arange(20) * 5.0)
    a = ds.attrs
    assert a["sampler"] == "gibbs"
    assert a["sample_interval_ms"] == 5.0 and a["sweep_time_ms"] == 5.0
    assert a["burn_in_ms"] == 50.0 and a["seed"] == 11
    assert ls.result_target(ds) == target
    default = ls.GibbsSampler(target).sample(1000.0, seed=0)
    assert dict(default.states.sizes) == {"chain": 1, "draw": 100, "unit": K}  # one sweep per 10 ms
    assert default.attrs["burn_in_ms"] == 500.0


def test_determinism(target):
    g = ls.GibbsSampler(target)
    a = g.sample(200.0, n_chains=4, seed=5)
    b = g.sample(200.0, n_chains=4, seed=5)
    c = g.sample(200.0, n_chains=4, seed=6)
    np.testing.assert_array_equal(a.states.values, b.states.values)
    assert not np.array_equal(a.states.values, c.states.values)
    d = g.sample(200.0, n_chains=4, seed=np.random.default_rng(5))
    e = g.sample(200.0, n_chains=4, seed=np.random.default_rng(5))
    np.testing.assert_array_equal(d.states.values, e.states.values)
    assert "seed" not in d.attrs  # a generator cannot be recorded


def test_no_burn_in(target):
    ds = ls.GibbsSampler(target).sample(30.0, n_chains=2, seed=0, burn_in=0.0)
    assert ds.sizes["draw"] == 3 and ds.attrs["burn_in_ms"] == 0.0


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(duration=0.0), ValueError, "duration must be positive, got 0.0 ms"),
        (dict(duration=-10.0), ValueError, "duration must be positive"),
        (dict(duration=float("nan")), ValueError, "duration must be finite"),
        (dict(duration=105.0), ValueError, r"duration = 105\.0 ms is not a multiple of"),
        (dict(burn_in=-1.0), ValueError, "burn_in must be >= 0 ms, got -1.0"),
        (dict(n_chains=0), ValueError, "n_chains must be an integer >= 1, got 0"),
        (dict(n_chains=-2), ValueError, "n_chains must be an integer >= 1"),
        (dict(n_chains=2.0), ValueError, "n_chains must be an integer >= 1, got 2.0"),
        (dict(n_chains=True), ValueError, "n_chains must be an integer >= 1, got True"),
        (dict(n_chains="4"), ValueError, "n_chains must be an integer >= 1, got '4'"),
        (dict(seed=-1), ValueError, "seed must be a non-negative integer or None, got -1"),
        (dict(seed=1.5), ValueError, "seed must be a non-negative integer or None, got 1.5"),
        (dict(seed="abc"), ValueError, "seed must be a non-negative integer or None"),
    ],
)
def test_sample_validation(target, kwargs, exc, match):
    args = dict(duration=100.0, n_chains=1, seed=0) | kwargs
    duration = args.pop("duration")
    with pytest.raises(exc, match=match):
        ls.GibbsSampler(target).sample(duration, **args)


def test_constructor_validation(target):
    with pytest.raises(ValueError, match="sweep_time must be positive"):
        ls.GibbsSampler(target, sweep_time=0.0)
    with pytest.raises(TypeError, match="target must be a BoltzmannMachine, got ndarray"):
        ls.GibbsSampler(np.zeros((2, 2)))
