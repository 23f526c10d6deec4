"""Tests of the noise_sources package: shared pools, deterministic network noise, ensembles, measures.

Simulations are kept tiny (short calibrations, 2-unit targets, a 100-neuron noise network).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import lifsampling as ls
import noise_sources as ns

QUICK_CAL = dict(
    n_points=12, duration=1000.0, prescan=(-60.0, -40.0, 0.5), prescan_duration=300.0, progress=False
)
SMALL_REGIME = ns.NetworkRegime(in_degree=50)


# -- parameters -----------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(n_sources=50, in_degree=100), "exceeds the number of pool sources"),
        (dict(rate=-1.0), "rate must be >= 0 Hz"),
        (dict(weight=-0.001), "weight must be >= 0"),
        (dict(exc_fraction=1.5), r"exc_fraction must be a fraction in \[0, 1\]"),
        (dict(exc_fraction=-0.1), r"exc_fraction must be a fraction in \[0, 1\]"),
        (dict(g=0.0), "g must be > 0"),
        (dict(g=-2.0), "g must be > 0"),
        (dict(n_sources=0), "n_sources must be an integer >= 1"),
        (dict(in_degree=2.5), "in_degree must be an integer >= 1"),
        (dict(n_sources=100, in_degree=50, exc_fraction=0.95), None),  # fits: 95 E sources, 48 E inputs
        (dict(n_sources=100, in_degree=100, exc_fraction=0.5), None),
        (dict(seed=-1), "seed must be an integer"),
    ],
)
def test_pool_parameters(kwargs, message):
    if message is None:
        ns.SharedPoolNoise(**kwargs)
        return
    with pytest.raises(ValueError, match=message):
        ns.SharedPoolNoise(**kwargs)


def test_network_and_ensemble_parameters():
    with pytest.raises(ValueError, match="exceeds the number of noise network neurons"):
        ns.NetworkNoise(100, in_degree=200)
    with pytest.raises(ValueError, match="inhibitory network neurons"):
        ns.NetworkNoise(100, in_degree=50, exc_fraction=0.2)  # needs 40 I of 20
    with pytest.raises(ValueError, match="regime.g must be > 0"):
        ns.NetworkRegime(g=0.0)
    with pytest.raises(ValueError, match=r"regime.exc_fraction must be a fraction"):
        ns.NetworkRegime(exc_fraction=2.0)
    with pytest.raises(ValueError, match="regime.v_reset"):
        ns.NetworkRegime(v_reset=30.0)
    with pytest.raises(ValueError, match="delay_max"):
        ns.NetworkRegime(delay_min=2.0, delay_max=1.0)
    with pytest.raises(ValueError, match="weight must be >= 0"):
        ns.NetworkNoise(weight=-1.0)
    with pytest.raises(TypeError, match="regime must be a NetworkRegime"):
        ns.NetworkNoise(regime={"g": 5})
    with pytest.raises(ValueError, match="expected_rate must be > 0 Hz"):
        ns.EnsembleNoise(5, expected_rate=0.0)
    with pytest.raises(ValueError, match="other 1 network"):
        ns.EnsembleNoise(5, in_degree=20).connectivity(10)
    with pytest.raises(ValueError, match="whole number"):
        ns.EnsembleNoise(5, in_degree=2).connectivity(12)


# -- serialisation and connectivity ---------------------------------------------------
@pytest.mark.parametrize(
    "noise",
    [
        ns.SharedPoolNoise(300, in_degree=60, seed=4),
        ns.NetworkNoise(200, in_degree=50, weight=0.002, seed=3),
        ns.NetworkNoise(100, in_degree=40, regime=SMALL_REGIME, seed=3),
        ns.EnsembleNoise(5, in_degree=10, seed=1),
        ns.PoissonNoise.preset("sbs"),
    ],
    ids=lambda n: type(n).__name__,
)
def test_round_trip(noise):
    again = ns.from_dict(noise.to_dict())
    assert type(again) is type(noise) and again.to_dict() == noise.to_dict()


def test_to_dict_captures_seed_and_parameters():
    a, b = ns.SharedPoolNoise(300, 60, seed=1), ns.SharedPoolNoise(300, 60, seed=2)
    assert a.to_dict() != b.to_dict() and a != b
    assert (
        ns.NetworkNoise(seed=1).to_dict() != ns.NetworkNoise(seed=1, regime=ns.NetworkRegime(g=6.0)).to_dict()
    )
    assert ns.SharedPoolNoise().calibration_noise() is not None
    pool = ns.SharedPoolNoise()
    assert pool.calibration_noise() is pool
    net = ns.NetworkNoise()
    assert net.calibration_noise() is net


def test_connectivity_is_fixed_by_the_seed_and_fixed_in_degree():
    pool = ns.SharedPoolNoise(200, in_degree=50, exc_fraction=0.8, seed=7)
    exc, inh = pool.readout.connectivity(30, pool.seed)
    exc2, inh2 = pool.readout.connectivity(60, pool.seed)
    assert np.array_equal(exc, exc2[:30]) and np.array_equal(inh, inh2[:30])  # rows independent of size
    assert exc.shape == (30, 40) and inh.shape == (30, 10)
    assert exc.max() < 160 <= inh.min()
    assert all(len(set(r)) == 40 for r in exc)  # no repeated source
    other = ns.SharedPoolNoise(200, in_degree=50, seed=8).readout.connectivity(30, 8)[0]
    assert not np.array_equal(exc, other)


# -- measures ---------------------------------------------------------------------
@pytest.mark.parametrize("rho", [0.0, 0.2, 0.6])
def test_input_correlation_of_constructed_inputs(rho):
    rng = np.random.default_rng(3)
    common = rng.normal(size=40_000)
    x = np.sqrt(rho) * common + np.sqrt(1 - rho) * rng.normal(size=(8, 40_000))
    c = ns.input_correlation(x)
    assert c["mean"] == pytest.approx(rho, abs=0.02)
    assert c["std"] < 0.02 and c["n_pairs"] == 28


def test_input_correlation_of_shared_poisson_counts():
    """Spike counts of neurons that share half of their Poisson sources: correlation 1/2."""
    rng = np.random.default_rng(5)
    shared = rng.poisson(2.0, size=50_000)
    counts = shared + rng.poisson(2.0, size=(6, 50_000))
    assert ns.input_correlation(counts)["mean"] == pytest.approx(0.5, abs=0.02)


def test_connectivity_correlation_is_about_k_over_n():
    for n, k in ((1000, 100), (250, 100)):
        c = ns.connectivity_correlation(ns.SharedPoolNoise(n, in_degree=k, seed=0), n_neurons=100)
        assert c["mean"] == pytest.approx(k / n, rel=0.15)
        assert c["std"] > 0
    assert ns.connectivity_correlation(ns.PoissonNoise.preset("sbs"))["mean"] == 0.0
    ens = ns.connectivity_correlation(ns.EnsembleNoise(5, in_degree=20, seed=0), n_neurons=100)
    assert abs(ens["mean"]) < 0.02  # random signs: shared inputs cancel on average
    with pytest.raises(ValueError, match="square matrix"):
        ns.correlation_summary(np.ones(3))


def test_autocorrelation_time_of_filtered_noise():
    rng = np.random.default_rng(2)
    a = np.exp(-1 / 5.0)
    e = rng.normal(size=(4, 40_000))
    x = np.zeros_like(e)
    for k in range(1, e.shape[1]):
        x[:, k] = a * x[:, k - 1] + e[:, k]
    assert ns.autocorrelation_time(x, dt=0.5) == pytest.approx(2.5, rel=0.15)  # 5 steps of 0.5 ms


# -- irregularity -------------------------------------------------------------------
def test_irregularity_of_synthetic_trains():
    rng = np.random.default_rng(0)
    t = rng.uniform(0, 5000.0, 10_000)
    i = rng.integers(0, 100, t.size)
    poisson = ns.check_irregularity(i, t, 100, 5000.0)
    assert poisson.irregular and poisson.cv_isi == pytest.approx(1.0, abs=0.1)
    assert poisson.fano_factor == pytest.approx(1.0, abs=0.15)
    sync_t = np.repeat(np.arange(0, 5000.0, 25.0), 100) + rng.normal(0, 0.3, 200 * 100)
    sync_i = np.tile(np.arange(100), 200)
    sync = ns.check_irregularity(sync_i, sync_t, 100, 5000.0)
    assert sync.synchronous and sync.regular and not sync.irregular
    assert ns.check_irregularity([], [], 10, 1000.0).verdict == "silent"


def test_known_silent_and_known_irregular_networks():
    silent = ns.simulate_network(100, ns.NetworkRegime(drive=15.0, in_degree=50), duration=300.0)
    rep = ns.check_irregularity(*silent, 100, 300.0, start=100.0)
    assert rep.silent and rep.verdict == "silent"
    i, t = ns.simulate_network(200, duration=1200.0, seed=0)
    rep = ns.check_irregularity(i, t, 200, 1200.0, start=200.0)
    assert rep.irregular, rep
    assert 5.0 < rep.rate < 100.0 and rep.cv_isi > 0.8


def test_network_is_deterministic():
    a = ns.simulate_network(100, SMALL_REGIME, seed=3, duration=300.0)
    b = ns.simulate_network(100, SMALL_REGIME, seed=3, duration=300.0)
    c = ns.simulate_network(100, SMALL_REGIME, seed=4, duration=300.0)
    assert a[0].size > 0
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert a[0].size != c[0].size or not np.array_equal(a[1], c[1])


def test_silent_network_noise_warns(tmp_path, monkeypatch):
    monkeypatch.setenv("LIFSAMPLING_CACHE", str(tmp_path))
    noise = ns.NetworkNoise(100, in_degree=40, regime=ns.NetworkRegime(drive=15.0), weight=0.002)
    with pytest.warns(ns.NoiseNetworkWarning, match="silent"):
        noise.statistics(duration=300.0)
    with pytest.raises(RuntimeError, match="silent"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _ = ns.NetworkNoise(100, in_degree=40, regime=ns.NetworkRegime(drive=15.0)).effective_weight


# -- sampling -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_target():
    return ls.BoltzmannMachine([[0.0, 0.8], [0.8, 0.0]], [-0.3, 0.2])


@pytest.mark.parametrize(
    "noise",
    [
        ns.SharedPoolNoise(400, in_degree=100, seed=1),
        ns.NetworkNoise(150, in_degree=50, seed=1),
    ],
    ids=["pool", "network"],
)
def test_lif_sampler_with_shared_noise(noise, small_target, tmp_path):
    sampler = ls.LIFSampler(small_target, noise=noise, interactions=None, cache_dir=tmp_path, progress=False)
    cal = sampler.calibrate(**QUICK_CAL)
    assert cal.noise is noise and 0.1 < cal.alpha < 5.0
    run = sampler.sample(2000.0, n_chains=4, seed=2, burn_in=200.0)
    assert run.states.shape == (4, 2000, 2)
    assert ls.kl_divergence(small_target, run).dkl_target_sampled < 0.15
    p = ls.marginals(run).values
    assert np.all((p > 0.15) & (p < 0.85))
    assert run.attrs["noise"]  # recorded
    # the same seed gives the same samples
    again = sampler.sample(500.0, n_chains=2, seed=2, burn_in=100.0)
    assert np.array_equal(
        again.states.values, sampler.sample(500.0, n_chains=2, seed=2, burn_in=100.0).states.values
    )


def test_ensemble_samples_without_poisson_input(tmp_path):
    targets = [ls.random_boltzmann_machine(3, seed=s) for s in range(3)]
    noise = ns.EnsembleNoise(3, in_degree=60, seed=0)
    runs = ns.sample_ensemble(
        targets,
        2000.0,
        n_copies=10,
        noise=noise,
        seed=1,
        burn_in=200.0,
        interactions=None,
        cache_dir=tmp_path,
        calibration_kwargs=QUICK_CAL,
    )
    assert len(runs) == 3
    for target, run in zip(targets, runs, strict=True):
        assert run.states.shape == (10, 2000, 3)
        p = ls.marginals(run).values
        assert np.all((p > 0.03) & (p < 0.97)), p  # active, not frozen
        # it samples, but without training far from the Poisson control (see the noise study)
        assert ls.kl_divergence(target, run).dkl_target_sampled < 1.5


def test_measure_noise_private_vs_pool(tmp_path):
    priv = ns.measure_noise(ns.PoissonNoise.preset("sbs"), n_neurons=12, duration=1500.0)
    pool = ns.measure_noise(ns.SharedPoolNoise(200, in_degree=100, seed=0), n_neurons=12, duration=1500.0)
    assert abs(priv.input_correlation["mean"]) < 0.08
    assert pool.input_correlation["mean"] == pytest.approx(pool.connectivity_correlation["mean"], abs=0.1)
    assert pool.input_correlation["mean"] > 0.3
    assert priv.tau_corr == pytest.approx(10.0, rel=0.3)  # the synaptic kernel: tau_syn
    assert priv.v_std == pytest.approx(priv.v_std_theory, rel=0.25)


# -- training under the noise the networks get ------------------------------------------
TRAIN = dict(duration=200.0, settle=10.0, burn_in=50.0)


def test_fine_tune_under_network_noise(small_target, tmp_path):
    """All chains share one noise network while they learn; training removes most of the error.

    Every sampling neuron reads half of the 200 network neurons: strongly correlated input.
    """
    noise = ns.NetworkNoise(200, in_degree=100, seed=1)
    sampler = ls.LIFSampler(small_target, noise=noise, interactions=None, cache_dir=tmp_path, progress=False)
    sampler.calibrate(**QUICK_CAL)
    before = sampler.sample(2000.0, n_chains=8, seed=2, burn_in=200.0)
    tuned = ls.fine_tune(sampler, n_iterations=20, n_chains=8, seed=1, progress=False, **TRAIN)
    assert tuned.noise == noise
    after = tuned.sample(2000.0, n_chains=8, seed=2, burn_in=200.0)
    dkl_before = ls.kl_divergence(small_target, before).dkl_target_sampled
    dkl_after = ls.kl_divergence(small_target, after).dkl_target_sampled
    # measured: 0.073 -> 0.0057
    assert dkl_after < 0.3 * dkl_before and dkl_after < 0.02, (dkl_before, dkl_after)


def test_trained_ensemble_samples_its_targets(tmp_path):
    """30 networks driven only by each other, trained together (Dold et al. 2019)."""
    targets = [ls.random_boltzmann_machine(3, seed=s) for s in range(3)]
    noise = ns.EnsembleNoise(3, in_degree=60, seed=0)
    common = dict(interactions=None, cache_dir=tmp_path, calibration_kwargs=QUICK_CAL)
    run = dict(n_copies=10, noise=noise, seed=1, burn_in=200.0)
    untrained = ns.sample_ensemble(targets, 2000.0, **run, **common)
    trainers = ns.train_ensemble(
        targets, n_copies=10, noise=noise, n_iterations=20, seed=1, wake_sleep=TRAIN, **common
    )
    assert len(trainers) == 3
    for tr in trainers:
        assert tr.n_iter_ == 20 and tr.history_.sizes["iteration"] == 20
        assert tr.sampler_.noise == noise
        assert np.array_equal(tr.sampler_.lif_parameters_.v_rest, tr.network_.v_rest)
    trained = ns.sample_ensemble([tr.sampler_ for tr in trainers], 2000.0, **run)
    for target, u, t in zip(targets, untrained, trained, strict=True):
        dkl_u = ls.kl_divergence(target, u).dkl_target_sampled
        dkl_t = ls.kl_divergence(target, t).dkl_target_sampled
        # measured: 0.56-0.68 untrained, 0.037-0.043 trained
        assert dkl_t < 0.3 * dkl_u and dkl_t < 0.1, (dkl_u, dkl_t)


def test_train_together_is_deterministic_and_keeps_targets_apart(tmp_path):
    targets = [ls.random_boltzmann_machine(3, seed=s) for s in (5, 6)]
    noise = ns.SharedPoolNoise(200, in_degree=50, seed=2)
    kwargs = dict(
        n_iterations=2,
        n_chains=2,
        seed=4,
        interactions=None,
        cache_dir=tmp_path,
        calibration_kwargs=QUICK_CAL,
        wake_sleep=dict(duration=100.0, settle=10.0, burn_in=20.0),
    )
    a = ns.train_together(targets, noise, **kwargs)
    b = ns.train_together(targets, noise, **kwargs)
    for x, y in zip(a, b, strict=True):
        assert np.array_equal(x.weights_, y.weights_) and np.array_equal(x.biases_, y.biases_)
    assert not np.allclose(a[0].biases_, a[1].biases_)  # each target learns its own network
    assert [x.sampler_.target for x in a] == targets


def test_train_together_rejects_bad_settings(small_target, tmp_path):
    noise = ns.SharedPoolNoise(200, in_degree=50, seed=2)
    with pytest.raises(ValueError, match=r"\['checkpoint', 'n_chains'\]"):
        ns.train_together([small_target], noise, wake_sleep={"n_chains": 4, "checkpoint": "x.pkl"})
    with pytest.raises(ValueError, match="n_iterations must be an integer >= 1"):
        ns.train_together([small_target], noise, n_iterations=0)
    other = ls.LIFSampler(small_target, noise=ns.PoissonNoise.preset("sbs"), cache_dir=tmp_path)
    with pytest.raises(TypeError, match="not a mix"):
        ns.train_together([small_target, other], noise)
    with pytest.raises(ValueError, match="must use the shared noise"):
        ns.sample_together([other], noise, 100.0)
    shared = ls.LIFSampler(small_target, noise=noise, cache_dir=tmp_path)
    with pytest.raises(TypeError, match="cannot be applied to given LIFSamplers"):
        ns.sample_together([shared], noise, 100.0, dt=0.1)
    with pytest.raises(ValueError, match="at least 2 networks"):
        ns.train_ensemble([small_target], noise=ns.EnsembleNoise(2, in_degree=2))
    with pytest.raises(TypeError, match="must be an EnsembleNoise"):
        ns.train_ensemble([small_target, small_target], noise=noise)
