"""Learning in the loop: wake-sleep, fine-tuning, checkpoints, parameter noise and SAL.

The update rule and input validation are tested without Brian2 (a stand-in for
the persistent network returns prescribed states); everything else runs small
real networks (3 units, a few chains, ~100 ms per iteration).
"""

from __future__ import annotations

import numpy as np
import pytest

import lifsampling as ls
import lifsampling.learning as learning
from lifsampling._persistent import ChainRun, PersistentChains
from lifsampling.alignment import (
    PAIRINGS,
    alignment_update,
    effective_asymmetry,
    effective_couplings,
    spike_alignment,
)

SMALL = dict(n_chains=4, duration=100.0, settle=10.0, burn_in=20.0, progress=False)


# -- a stand-in for the Brian2 network: prescribed states, no simulation ----------------------
class _FakeChains:
    """Returns ``states`` (chains, draws, K) from every run; records the parameters it was given."""

    states: np.ndarray = np.zeros((1, 1, 1), dtype=np.int8)
    spikes: tuple = (np.zeros(0, int), np.zeros(0, int))
    sequence: list = []  # states of successive runs, before falling back to ``states``
    parameters: list = []

    def __init__(self, neuron, noise, n_units, n_chains, **kwargs):
        self.n_units, self.n_chains = n_units, n_chains

    def set_parameters(self, v_rest, w_exc, w_inh, v_thresh=None):
        type(self).parameters.append((np.array(v_rest), np.array(w_exc), np.array(w_inh)))

    def run(self, duration, *, seed, settle=0.0, sample_interval=1.0, alignment_rate=0.0):
        states = type(self).sequence.pop(0) if type(self).sequence else type(self).states
        return ChainRun(states, None, type(self).spikes)

    def state(self):
        return b""

    def restore(self, state):
        pass

    def close(self):
        pass


@pytest.fixture
def fake_chains(monkeypatch):
    _FakeChains.parameters = []
    _FakeChains.spikes = (np.zeros(0, int), np.zeros(0, int))
    _FakeChains.sequence = []
    monkeypatch.setattr(learning, "PersistentChains", _FakeChains)
    return _FakeChains


def _two_unit_states(p11, p10, p01, p00, n=1000):
    """States of 2 units with the given joint frequencies (one chain)."""
    counts = np.round(np.array([p00, p01, p10, p11]) * n).astype(int)
    rows = np.repeat(ls.all_states(2), counts, axis=0)
    return rows[None, :, :]


# -- the update rule ---------------------------------------------------------------------
def test_update_rule_signs_and_size_on_two_units(hand_calibration, fake_chains):
    """Model less correlated and unit 0 less active than the target: W_01 and b_0 must grow.

    Target: W = 1, b = (0, 0), exact moments <z0> = <z1> = (1 + e) / (3 + e) = 0.650,
    <z0 z1> = e / (3 + e) = 0.475.  Model samples: <z0> = 0.3, <z1> = 0.75 (too active),
    <z0 z1> = 0.1.  One SGD step with eta = 0.1 is exactly eta times the moment
    differences, symmetric in W.
    """
    target = ls.BoltzmannMachine([[0.0, 1.0], [1.0, 0.0]], [0.0, 0.0])
    sampler = ls.LIFSampler(target, calibration=hand_calibration, interactions=None, progress=False)
    fake_chains.states = _two_unit_states(p11=0.1, p10=0.2, p01=0.65, p00=0.05)
    W0, b0 = ls.lif_to_boltzmann(sampler.lif_parameters_, hand_calibration)
    trainer = ls.WakeSleep(
        sampler, optimizer="sgd", learning_rate=0.1, schedule="constant", n_chains=1, progress=False, seed=0
    )
    trainer.fit(n_iterations=1)
    p = target.probabilities()  # states 00, 01, 10, 11
    m_target = np.array([p[2] + p[3], p[1] + p[3]])
    dW, db = trainer.weights_ - W0, trainer.biases_ - b0
    np.testing.assert_allclose(db, 0.1 * (m_target - [0.3, 0.75]), atol=1e-12)
    np.testing.assert_allclose(dW, 0.1 * (p[3] - 0.1) * np.array([[0, 1], [1, 0]]), atol=1e-12)
    assert db[0] > 0 > db[1] and dW[0, 1] > 0  # too little activity / correlation -> more, and vice versa
    # the natural gradient (the default) preconditions with a positive-definite matrix: an ascent
    # direction, though not necessarily of the same sign in every parameter
    nat = ls.WakeSleep(sampler, learning_rate=0.1, schedule="constant", n_chains=1, progress=False, seed=0)
    nat.fit(n_iterations=1)
    grad = np.r_[db, dW[0, 1]]
    assert np.dot(np.r_[nat.biases_ - b0, nat.weights_[0, 1] - W0[0, 1]], grad) > 0
    h = trainer.history_
    assert list(h.data_vars) == [
        "dkl",
        "dkl_pooled",
        "mean_error",
        "correlation_error",
        "learning_rate",
        "asymmetry",
        "wall_time",
    ]
    assert h.sizes["iteration"] == 1 and h.learning_rate.item() == 0.1
    np.testing.assert_allclose(h.mean_error.item(), np.sqrt(np.mean((m_target - [0.3, 0.75]) ** 2)))
    np.testing.assert_allclose(h.correlation_error.item(), abs(p[3] - 0.1))


def test_a_model_that_matches_the_target_stays_put(hand_calibration, fake_chains):
    target = ls.BoltzmannMachine([[0.0, 0.0], [0.0, 0.0]], [0.0, 0.0])  # independent fair coins
    sampler = ls.LIFSampler(target, calibration=hand_calibration, interactions=None, progress=False)
    fake_chains.states = _two_unit_states(0.25, 0.25, 0.25, 0.25)
    trainer = ls.WakeSleep(sampler, n_chains=1, progress=False, seed=0).fit(n_iterations=3)
    W0, b0 = ls.lif_to_boltzmann(sampler.lif_parameters_, hand_calibration)
    np.testing.assert_allclose(trainer.weights_, W0, atol=1e-12)
    np.testing.assert_allclose(trainer.biases_, b0, atol=1e-12)


def test_keep_best_ends_on_the_network_of_the_best_iteration(hand_calibration, fake_chains):
    """Iterations 0 and 2 sample all-off states (far from the fair coins of the target),
    iteration 1 samples them exactly: keep_best returns the network that iteration 1
    sampled, i.e. the one after iteration 0's update; without it, the last one."""
    target = ls.BoltzmannMachine([[0.0, 0.0], [0.0, 0.0]], [0.0, 0.0])
    sampler = ls.LIFSampler(target, calibration=hand_calibration, interactions=None, progress=False)
    off, fair = _two_unit_states(0, 0, 0, 1), _two_unit_states(0.25, 0.25, 0.25, 0.25)
    runs = {}
    for keep in (False, True, None):
        fake_chains.sequence = [fair, off, fair, off]  # the first run is the burn-in
        one = keep is None  # one iteration only: the network that iteration 1 samples
        trainer = ls.WakeSleep(
            sampler, optimizer="sgd", n_chains=1, progress=False, seed=0, keep_best=bool(keep)
        )
        runs[keep] = trainer.fit(n_iterations=1 if one else 3)
    assert runs[True].best_iteration_ == runs[False].best_iteration_ == 1
    np.testing.assert_array_equal(runs[True].weights_, runs[None].weights_)
    np.testing.assert_array_equal(runs[True].biases_, runs[None].biases_)
    assert not np.allclose(runs[False].biases_, runs[True].biases_)
    h = runs[True].history_.dkl.values
    assert h[1] < min(h[0], h[2]) and runs[True].history_.sizes["iteration"] == 3
    with pytest.raises(TypeError, match="keep_best"):
        ls.WakeSleep(sampler, keep_best="yes")


def test_schedules_and_optimizers(hand_calibration):
    sampler = ls.LIFSampler(
        ls.random_boltzmann_machine(2, seed=0), calibration=hand_calibration, interactions=None
    )
    inverse = ls.WakeSleep(sampler, learning_rate=10 / 100, tau=100.0, seed=0)
    assert [inverse.rate(t) for t in (0, 100)] == pytest.approx([0.1, 0.05])  # sbs: 10 / (100 + t)
    assert ls.WakeSleep(sampler, schedule="constant", learning_rate=0.3, seed=0).rate(50) == 0.3
    assert ls.WakeSleep(sampler, schedule=lambda t: 1.0 / (t + 1), seed=0).rate(3) == 0.25
    adam = ls.WakeSleep(sampler, optimizer="adam", learning_rate=0.02, seed=0)
    adam._opt, adam._mask = {}, ~np.eye(2, dtype=bool)
    step_W, step_b = adam._step(np.array([[0, 0.3], [0.3, 0]]), np.array([-0.01, 0.0]), 0, 0.02, None)
    np.testing.assert_allclose(step_b, [-0.02, 0.0], atol=1e-6)  # Adam's first step: eta * sign(g)
    np.testing.assert_allclose(step_W[0, 1], 0.02, atol=1e-6)


# -- bad inputs -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"learning_rate": 0.0}, ValueError, "learning_rate must be a finite number > 0"),
        ({"learning_rate": -1.0}, ValueError, "learning_rate must be a finite number > 0"),
        ({"learning_rate": float("nan")}, ValueError, "learning_rate"),
        ({"learning_rate": "fast"}, TypeError, "learning_rate must be a number"),
        ({"schedule": "cosine"}, ValueError, "schedule must be one of"),
        ({"optimizer": "rmsprop"}, ValueError, "optimizer must be one of"),
        ({"momentum": 1.0}, ValueError, "momentum"),
        ({"n_chains": 0}, ValueError, "n_chains must be an integer >= 1"),
        ({"duration": 100.05}, ValueError, "sample_interval"),
        ({"seed": -1}, ValueError, "seed"),
        ({"alignment": "sal"}, TypeError, "alignment must be a SAL"),
        ({"checkpoint_every": 0}, ValueError, "checkpoint_every"),
    ],
)
def test_bad_settings_are_rejected(hand_calibration, kwargs, error, match):
    sampler = ls.LIFSampler(
        ls.random_boltzmann_machine(2, seed=0), calibration=hand_calibration, interactions=None
    )
    with pytest.raises(error, match=match):
        ls.WakeSleep(sampler, **kwargs)


def test_bad_data_and_targets_are_rejected(hand_calibration, no_simulation):
    rbm = ls.RestrictedBoltzmannMachine(np.zeros((3, 2)), np.zeros(3), np.zeros(2))
    sampler = ls.LIFSampler(rbm, calibration=hand_calibration, interactions=None)
    trainer = ls.WakeSleep(sampler, seed=0)
    with pytest.raises(ValueError, match=r"only 0 and 1 .* found e\.g\. 0\.5"):
        trainer.fit(data=[[0, 1, 0.5], [1, 1, 0]])
    with pytest.raises(ValueError, match="only 0 and 1"):
        trainer.fit(data=np.array([[0, 1, 2]]))
    with pytest.raises(ValueError, match=r"data has 4 columns .* expected 5 \(all units\) or 3"):
        trainer.fit(data=np.zeros((5, 4), dtype=int))
    with pytest.raises(ValueError, match=r"shape \(n_samples, n_visible\).* got shape \(2, 3, 1\)"):
        trainer.fit(data=np.zeros((2, 3, 1), dtype=int))
    with pytest.raises(ValueError, match="empty"):
        trainer.fit(data=np.zeros((0, 3), dtype=int))
    with pytest.raises(ValueError, match="distinct units"):
        trainer.fit(data=np.zeros((2, 2), dtype=int), visible=[0, 0])
    with pytest.raises(ValueError, match="either target .* or data"):
        trainer.fit(target=rbm, data=np.zeros((2, 3), dtype=int))
    with pytest.raises(ValueError, match="target has 2 units but the sampler's network has 5"):
        trainer.fit(target=ls.random_boltzmann_machine(2, seed=0))
    with pytest.raises(TypeError, match="BoltzmannMachine"):
        trainer.fit(target=np.zeros((5, 5)))
    with pytest.raises(ValueError, match="n_iterations"):
        trainer.fit(n_iterations=0)


def test_a_sampler_refuses_a_network_of_the_wrong_shape(hand_calibration):
    bm = ls.random_boltzmann_machine(3, seed=0)
    lif = ls.boltzmann_to_lif(ls.random_boltzmann_machine(2, seed=0), hand_calibration)
    with pytest.raises(ValueError, match="network must describe 3 neurons"):
        ls.LIFSampler(bm, network=lif)
    with pytest.raises(TypeError, match="network must be LIFParameters"):
        ls.LIFSampler(bm, network=np.zeros(3))
    with pytest.raises(TypeError, match="parameter_noise must be a ParameterNoise"):
        ls.LIFSampler(bm, parameter_noise=0.1)


# -- the sampler runs a given network ---------------------------------------------------------
def test_a_given_network_runs_exactly_like_the_translation(lif_target, calibration):
    base = ls.LIFSampler(lif_target, calibration=calibration, interactions=None, progress=False)
    W, b = ls.lif_to_boltzmann(base.lif_parameters_, calibration)
    net = ls.network_from_boltzmann(W, b, calibration)
    np.testing.assert_allclose(net.w_exc, base.lif_parameters_.w_exc, rtol=1e-12)
    np.testing.assert_allclose(net.w_inh, base.lif_parameters_.w_inh, rtol=1e-12)
    given = ls.LIFSampler(lif_target, calibration=calibration, interactions=None, network=net, progress=False)
    a = base.sample(300.0, n_chains=2, seed=4, burn_in=50.0)
    c = given.sample(300.0, n_chains=2, seed=4, burn_in=50.0)
    np.testing.assert_array_equal(a.states.values, c.states.values)
    assert c.attrs["network"] == "given"
    # evidence clamps the given network as it clamps the translated one
    ev = {0: 1, 2: 0}
    x, y = base.clamped_network(ev), given.clamped_network(ev)
    np.testing.assert_allclose(y.v_rest, x.v_rest, rtol=1e-12)
    np.testing.assert_allclose(y.w_exc, x.w_exc, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(y.w_inh, x.w_inh, rtol=1e-9, atol=1e-15)


# -- parameter noise -----------------------------------------------------------------------------
def test_parameter_noise_pattern_and_scales(hand_calibration):
    lif = ls.boltzmann_to_lif(ls.random_boltzmann_machine(4, seed=1), hand_calibration)
    assert ls.ParameterNoise().apply(lif, hand_calibration).v_thresh is None
    np.testing.assert_array_equal(ls.ParameterNoise(seed=5).apply(lif, hand_calibration).w_exc, lif.w_exc)
    noise = ls.ParameterNoise(e_l=0.1, weights=0.2, thresholds=0.05, seed=5)
    a, b = noise.apply(lif, hand_calibration), noise.apply(lif, hand_calibration)
    np.testing.assert_array_equal(a.v_rest, b.v_rest)  # drawn once: the same every time
    xi = noise.pattern(4)
    width = 2 * np.log(19) * hand_calibration.alpha  # 5 % to 95 % of the activation function
    np.testing.assert_allclose(a.v_rest - lif.v_rest, 0.1 * width * xi["e_l"])
    np.testing.assert_allclose(a.v_thresh, -50.0 + 0.05 * width * xi["thresholds"])
    np.testing.assert_allclose(a.w_exc, lif.w_exc * np.clip(1 + 0.2 * xi["weights"], 0, None))
    other = ls.ParameterNoise(e_l=0.3, seed=5).pattern(4)
    np.testing.assert_array_equal(other["weights"], xi["weights"])  # one level leaves the others alone
    assert ls.ParameterNoise.from_dict(noise.to_dict()) == noise
    with pytest.raises(ValueError, match="e_l must be a finite number >= 0"):
        ls.ParameterNoise(e_l=-0.1)
    with pytest.raises(ValueError, match="seed"):
        ls.ParameterNoise(seed=-2)


def test_a_sampler_with_threshold_noise_runs(lif_target, calibration):
    noise = ls.ParameterNoise(e_l=0.1, weights=0.1, thresholds=0.1, seed=2)
    sampler = ls.LIFSampler(
        lif_target, calibration=calibration, interactions=None, parameter_noise=noise, progress=False
    )
    result = sampler.sample(300.0, n_chains=2, seed=1, burn_in=50.0)
    assert result.states.values.any() and not result.states.values.all()
    assert '"thresholds": 0.1' in result.attrs["parameter_noise"]


def test_threshold_noise_leaves_the_default_model_code_alone(sbs_neuron, sbs_noise):
    from lifsampling._network import neuron_equations

    plain = neuron_equations(sbs_neuron, sbs_noise, 0.1)
    assert "V_th : volt (shared, constant)" in plain
    per_neuron = neuron_equations(sbs_neuron, sbs_noise, 0.1, per_neuron_threshold=True)
    assert "V_th : volt (constant)" in per_neuron and "V_reset : volt (constant)" in per_neuron


# -- persistence and checkpoints ------------------------------------------------------------------
def test_checkpoint_resume_gives_the_uninterrupted_trajectory(lif_target, calibration, tmp_path):
    sampler = ls.LIFSampler(lif_target, calibration=calibration, interactions=None, progress=False)
    full = ls.WakeSleep(sampler, seed=11, **SMALL).fit(n_iterations=4)
    path = tmp_path / "train.ckpt"
    first = ls.WakeSleep(sampler, seed=11, checkpoint=path, checkpoint_every=1, **SMALL).fit(n_iterations=2)
    assert path.exists() and first.n_iter_ == 2
    resumed = ls.WakeSleep(sampler, seed=11, checkpoint=path, **SMALL).fit(n_iterations=4)
    assert resumed.n_iter_ == 4
    np.testing.assert_array_equal(resumed.weights_, full.weights_)
    np.testing.assert_array_equal(resumed.biases_, full.biases_)
    for var in ("dkl", "mean_error", "correlation_error", "learning_rate", "dkl_pooled"):
        np.testing.assert_array_equal(resumed.history_[var].values, full.history_[var].values)
    # the trajectory moved, and depends on the seed
    assert not np.array_equal(full.biases_, ls.lif_to_boltzmann(sampler.lif_parameters_, calibration)[1])
    other = ls.WakeSleep(sampler, seed=12, **SMALL).fit(n_iterations=1)
    assert not np.array_equal(other.history_.dkl.values, full.history_.dkl.values[:1])
    # a checkpoint of another run is refused
    with pytest.raises(ValueError, match="another training run"):
        ls.WakeSleep(sampler, seed=12, checkpoint=path, **SMALL).fit(n_iterations=4)
    done = ls.WakeSleep(sampler, seed=11, checkpoint=path, **SMALL).fit(n_iterations=3)
    assert done.n_iter_ == 4  # nothing left to do: the checkpoint is further along


def test_persistent_chains_restore_exactly(lif_target, calibration):
    lif = ls.boltzmann_to_lif(lif_target, calibration)
    kwargs = dict(dt=0.1, synapses="renewing", delay=0.1)
    a = PersistentChains(calibration.neuron, calibration.noise, 3, 2, seed=1, **kwargs)
    a.set_parameters(lif.v_rest, lif.w_exc, lif.w_inh)
    a.run(50.0, seed=1)
    saved = a.state()
    x = a.run(100.0, seed=2, settle=5.0)
    a.close()
    b = PersistentChains(calibration.neuron, calibration.noise, 3, 2, seed=99, **kwargs)
    b.set_parameters(lif.v_rest, lif.w_exc, lif.w_inh)
    b.restore(saved)
    y = b.run(100.0, seed=2, settle=5.0)
    b.close()
    np.testing.assert_array_equal(x.states, y.states)
    assert x.states.shape == (2, 100, 3)


# -- SAL -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("pairing", PAIRINGS)
def test_alignment_synapses_match_the_spike_train_reference(lif_target, calibration, pairing):
    """The Brian2 traces give exactly the nearest-spike (or adjacent / all-pairs) sums of numpy."""
    lif = ls.boltzmann_to_lif(lif_target, calibration)
    pairs = np.array([[0, 1], [0, 2], [1, 2]])
    chains = PersistentChains(
        calibration.neuron,
        calibration.noise,
        3,
        2,
        dt=0.1,
        synapses="renewing",
        delay=0.1,
        alignment_pairs=pairs,
        alignment_pairing=pairing,
        seed=3,
    )
    chains.set_parameters(lif.v_rest, lif.w_exc, lif.w_inh)
    run = chains.run(300.0, seed=5, alignment_rate=0.01)
    chains.close()
    idx, stp = run.spikes
    assert run.alignment.shape == (2, 3) and idx.size > 50
    for c in range(2):
        for k, (i, j) in enumerate(pairs):
            ti, tj = stp[idx == 3 * c + i] * 0.1, stp[idx == 3 * c + j] * 0.1
            expected = alignment_update(ti, tj, rate=0.01, tau=10.0, dt=0.1, pairing=pairing)
            assert run.alignment[c, k] == pytest.approx(expected, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("window, rate", [("exponential", 0.01), ("rectangular", 0.03)])
def test_sal_keeps_reciprocal_sums_and_reduces_asymmetry(calibration, window, rate):
    """Equal biases (no heterogeneity between the neurons) and wake-sleep switched off
    (learning rate 1e-12): SAL alone removes most of the asymmetry, W_ij + W_ji stays
    (Brian2 synapses for the exponential window, the recorded spikes for the rectangular)."""
    W0 = np.array([[0.0, 1.0, -0.6], [0.2, 0.0, 0.8], [-0.1, -0.4, 0.0]])
    b = np.zeros(3)
    target = ls.BoltzmannMachine((W0 + W0.T) / 2, b)
    net = ls.network_from_boltzmann(W0, b, calibration)
    sampler = ls.LIFSampler(target, calibration=calibration, interactions=None, network=net, progress=False)
    trainer = ls.WakeSleep(
        sampler,
        alignment=ls.SAL(rate=rate, window=window),
        learning_rate=1e-12,
        schedule="constant",
        n_chains=16,
        duration=500.0,
        settle=10.0,
        burn_in=50.0,
        seed=3,
        progress=False,
    ).fit(n_iterations=10)
    W = trainer.weights_
    np.testing.assert_allclose(W + W.T, W0 + W0.T, atol=1e-9)
    h = trainer.history_.asymmetry.values
    assert h[0] == pytest.approx(ls.asymmetry(W0))
    assert ls.asymmetry(W) < 0.5 * ls.asymmetry(W0)


@pytest.mark.parametrize("pairing", ["all", "nearest"])
def test_rectangular_window_matches_the_spike_train_reference(pairing):
    """spike_alignment (all pairs of units, chains kept apart) equals the event-by-event
    reference, for a window of tau_ref (at most one partner spike in it) and a wider one."""
    rng = np.random.default_rng(0)
    for tau in (10.0, 25.0):
        step = np.sort(rng.choice(20_000, 300, replace=False))
        unit, chain = rng.integers(0, 3, 300), rng.integers(0, 2, 300)
        dW = spike_alignment(unit, step, n_units=3, rate=0.5, tau=tau, pairing=pairing, chain=chain)
        expected = np.zeros((3, 3))
        for c in range(2):
            for i, j in [(0, 1), (0, 2), (1, 2)]:
                ti, tj = (step[(chain == c) & (unit == u)] * 0.1 for u in (i, j))
                d = alignment_update(ti, tj, rate=0.5, tau=tau, pairing=pairing, window="rectangular")
                expected[i, j] += d
                expected[j, i] -= d
        np.testing.assert_allclose(dW, expected, atol=1e-12)
        assert np.abs(dW).max() > 0
    # boundaries: paired for 0 < dt <= tau, never in the same step, never across chains
    assert spike_alignment([0, 1], [0, 100], n_units=2, rate=1.0, tau=10.0)[0, 1] == -1.0
    assert spike_alignment([0, 1], [0, 101], n_units=2, rate=1.0, tau=10.0)[0, 1] == 0.0
    assert spike_alignment([0, 1], [7, 7], n_units=2, rate=1.0, tau=10.0)[0, 1] == 0.0
    assert spike_alignment([0, 1], [0, 50], n_units=2, rate=1.0, tau=10.0, chain=[0, 1])[0, 1] == 0.0


def test_rectangular_sal_in_the_trainer_uses_the_sleep_chains_spikes(hand_calibration, fake_chains):
    """Sleep chain 0: unit 0 fires 5 ms before unit 1 (W_01 falls, W_10 rises by the SAL
    rate, averaged over the 2 sleep chains); spikes of later chains (wake chains, when
    learning from data) do not count; the moments match, so only SAL moves W."""
    target = ls.BoltzmannMachine([[0.0, 0.0], [0.0, 0.0]], [0.0, 0.0])
    sampler = ls.LIFSampler(target, calibration=hand_calibration, interactions=None, progress=False)
    fake_chains.states = np.repeat(_two_unit_states(0.25, 0.25, 0.25, 0.25), 2, axis=0)
    # spikes: (chain * K + unit, time step); chain 2 is not a sleep chain
    fake_chains.spikes = (np.array([0, 1, 2, 4, 5]), np.array([10, 60, 70, 10, 60]))
    sal = ls.SAL(rate=0.2, pairing="all", window="rectangular")
    trainer = ls.WakeSleep(
        sampler, alignment=sal, schedule="constant", n_chains=2, progress=False, seed=0
    ).fit(n_iterations=1)
    W0, _ = ls.lif_to_boltzmann(sampler.lif_parameters_, hand_calibration)
    np.testing.assert_allclose(trainer.weights_ - W0, [[0.0, -0.1], [0.1, 0.0]], atol=1e-12)
    assert trainer.weights_[0, 1] + trainer.weights_[1, 0] == pytest.approx(W0[0, 1] + W0[1, 0])


def test_asymmetry_metric():
    assert ls.asymmetry(np.eye(3)) == 0.0
    W = np.array([[0.0, 2.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    assert ls.asymmetry(W) == pytest.approx(np.var([2.0, 0.0, 0.0]))
    with pytest.raises(ValueError, match="square"):
        ls.asymmetry(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="pairing"):
        ls.SAL(pairing="causal")
    with pytest.raises(ValueError, match="window must be one of"):
        ls.SAL(window="gaussian")
    with pytest.raises(ValueError, match="'nearest' or 'all'"):
        ls.SAL(window="rectangular", pairing="adjacent")
    with pytest.raises(ValueError, match="rate"):
        ls.SAL(rate=0.0)


def _neural_sampling_states(W, b, *, n_chains=200, n_steps=3000, tau=10, seed=0, burn_in=200):
    """Abstract neural sampling (Buesing et al. 2011), discrete time: a neuron that is not
    refractory fires with probability sigma(u - log tau), u = b + z @ W (W[i, j]: i -> j)."""
    rng = np.random.default_rng(seed)
    K = len(b)
    left = np.zeros((n_chains, K), dtype=int)
    out = np.zeros((n_chains, n_steps, K), dtype=np.int8)
    for t in range(n_steps + burn_in):
        z = (left > 0).astype(float)
        if t >= burn_in:
            out[:, t - burn_in] = z
        p = 1.0 / (1.0 + np.exp(-(b + z @ W - np.log(tau))))
        fire = (left == 0) & (rng.random((n_chains, K)) < p)
        left = np.maximum(left - 1, 0)
        left[fire] = tau
    return out


def test_effective_couplings_recover_asymmetric_weights_of_neural_sampling():
    """The hazard regression recovers the directed W (and b - log tau) of an abstract
    neural-sampling network, asymmetric or not; the state distribution could not."""
    rng = np.random.default_rng(3)
    W = rng.uniform(-1, 1, (4, 4))
    np.fill_diagonal(W, 0.0)
    b = rng.uniform(-1, 1, 4)
    states = _neural_sampling_states(W, b)
    W_eff, b_eff = effective_couplings(states)
    np.testing.assert_allclose(W_eff, W, atol=0.08)
    np.testing.assert_allclose(b_eff, b - np.log(10), atol=0.08)
    assert effective_asymmetry(states) == pytest.approx(ls.asymmetry(W), rel=0.1)
    sym = _neural_sampling_states((W + W.T) / 2, b, seed=1)
    assert effective_asymmetry(sym) < 0.01 * ls.asymmetry(W) + 2e-3


def test_effective_couplings_reject_bad_states():
    with pytest.raises(ValueError, match="0 and 1"):
        effective_couplings(np.full((1, 10, 2), 2))
    with pytest.raises(ValueError, match="shape"):
        effective_couplings(np.zeros(5))


# -- learning works ------------------------------------------------------------------------------------
def test_fine_tuning_reduces_the_translation_error(calibration):
    """A 3-unit machine with strong couplings, analytic translation (its couplings come out
    20-50 % too strong): 30 iterations of fine-tuning must cut DKL(target || sampled) at
    least in half and below 0.01 (measured: 0.047 -> 0.004, 8 chains x 4 s each)."""
    base = ls.random_boltzmann_machine(3, seed=8)
    bm = ls.BoltzmannMachine(2.0 * base.W, base.b)
    sampler = ls.LIFSampler(bm, calibration=calibration, interactions=None, progress=False)
    run = dict(n_chains=8, seed=21, burn_in=200.0)
    before = ls.kl_divergence(bm, sampler.sample(4000.0, **run)).dkl_target_sampled
    tuned = ls.fine_tune(sampler, n_iterations=30, duration=300.0, seed=4, progress=False)
    assert isinstance(tuned, ls.LIFSampler) and tuned.target is bm
    after = ls.kl_divergence(bm, tuned.sample(4000.0, **run)).dkl_target_sampled
    assert after < before / 2 and after < 0.01, (before, after)


def test_training_from_data_with_hidden_units(calibration):
    """Wake chains clamp the visible units to the data; the result is an RBM sampler."""
    rbm = ls.RestrictedBoltzmannMachine(np.zeros((2, 2)), np.zeros(2), np.zeros(2))
    sampler = ls.LIFSampler(rbm, calibration=calibration, interactions=None, progress=False)
    data = np.array([[1, 1], [0, 0], [1, 1], [0, 0], [1, 1]])
    trainer = ls.WakeSleep(sampler, seed=2, learning_rate=0.3, n_wake_chains=3, **SMALL)
    trainer.fit(data=data, n_iterations=3)
    assert trainer._n_wake == 3
    h = trainer.history_
    assert h.attrs["trained_on"] == "data" and np.all(np.isfinite(h.dkl.values))
    assert trainer.best_iteration_ == int(np.argmin(h.dkl.values))  # tracked whether kept or not
    W = trainer.weights_
    assert np.all(W[:2, :2] == 0) and np.all(W[2:, 2:] == 0)  # an RBM stays restricted
    assert isinstance(trainer.sampler_.target, ls.RestrictedBoltzmannMachine)
    # fully visible data: moments straight from the data, no wake chains
    full = ls.WakeSleep(
        ls.LIFSampler(ls.random_boltzmann_machine(2, seed=0), calibration=calibration, interactions=None),
        seed=2,
        **SMALL,
    ).fit(data=data, n_iterations=1)
    assert full._n_wake == 0 and full.history_.sizes["iteration"] == 1
