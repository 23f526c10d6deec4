"""Readout of binary states from spikes, and its consistency with Brian2's refractoriness.

Definition under test: a spike at step ``s`` gives ``z = 1`` exactly on steps
``s, s+1, ..., s + n_ref - 1``; states are read on the grid
``first_step + k * interval_steps``.
"""

from __future__ import annotations

import numpy as np
import pytest

import lifsampling as ls
from lifsampling._network import NetworkSpec, simulate


def paint(neurons, steps, n_neurons, n_ref, first, interval, n_draws):
    """Brute-force reference: paint z = 1 for n_ref steps after each spike, read the grid."""
    neurons, steps = list(neurons), list(steps)
    n_total = max([first + interval * n_draws] + [s + n_ref for s in steps]) + 1
    z = np.zeros((n_total, n_neurons), dtype=np.int8)
    for n, s in zip(neurons, steps, strict=True):
        for t in range(s, s + n_ref):
            z[t, n] = 1
    return z[[first + k * interval for k in range(n_draws)]].reshape(n_draws, n_neurons)


def stream(neurons, steps, boundaries, readout):
    """Feed spikes to ``readout`` in chunks ending at ``boundaries`` (sorted)."""
    neurons, steps = np.asarray(neurons, dtype=np.int64), np.asarray(steps, dtype=np.int64)
    start = 0
    for end in boundaries:
        sel = (steps >= start) & (steps < end)
        order = np.argsort(steps[sel], kind="stable")  # time order, like a spike monitor
        readout(neurons[sel][order], steps[sel][order], end)
        start = end


def test_single_spike_is_on_for_exactly_n_ref_steps():
    for s in (0, 1, 7, 20):
        for n_ref in (1, 3, 10):
            states = ls.states_from_spikes([0], [s], 1, n_ref, first_step=0, interval_steps=1, n_draws=40)
            on = np.flatnonzero(states[:, 0])
            np.testing.assert_array_equal(on, np.arange(s, s + n_ref))


def test_docstring_examples():
    r = ls.StateReadout(1, n_ref_steps=3, first_step=0, interval_steps=1, n_draws=6)
    r(np.array([0]), np.array([1]), end_step=6)
    np.testing.assert_array_equal(r.states[:, 0], [0, 1, 1, 1, 0, 0])
    states = ls.states_from_spikes(
        [0, 1], [2, 4], 2, n_ref_steps=2, first_step=0, interval_steps=1, n_draws=6
    )
    np.testing.assert_array_equal(states.T, [[0, 0, 1, 1, 0, 0], [0, 0, 0, 0, 1, 1]])
    assert states.dtype == np.int8


def test_grid_with_offset_and_interval():
    # spike at step 13 with n_ref 5 covers steps 13..17; grid 10, 14, 18, 22 -> only 14
    states = ls.states_from_spikes([0], [13], 1, 5, first_step=10, interval_steps=4, n_draws=4)
    np.testing.assert_array_equal(states[:, 0], [0, 1, 0, 0])
    # a spike during burn-in still counts after it: step 8 with n_ref 5 covers 8..12 -> grid 10
    states = ls.states_from_spikes([0], [8], 1, 5, first_step=10, interval_steps=4, n_draws=4)
    np.testing.assert_array_equal(states[:, 0], [1, 0, 0, 0])
    # window ends just before a grid point: step 5 with n_ref 5 covers 5..9, grid starts at 10
    states = ls.states_from_spikes([0], [5], 1, 5, first_step=10, interval_steps=4, n_draws=4)
    np.testing.assert_array_equal(states[:, 0], [0, 0, 0, 0])


@pytest.mark.parametrize("case", range(60))
def test_streaming_readout_matches_brute_force(case):
    rng = np.random.default_rng(1000 + case)
    n_neurons = int(rng.integers(1, 5))
    n_ref = int(rng.integers(1, 30))
    first = int(rng.integers(0, 50))
    interval = int(rng.integers(1, 15))
    n_draws = int(rng.integers(0, 40))
    end = first + interval * n_draws + int(rng.integers(0, 30))
    n_spikes = int(rng.integers(0, 60))
    steps = np.sort(rng.integers(0, max(end, 1), size=n_spikes))
    neurons = rng.integers(0, n_neurons, size=n_spikes)
    if case % 3 == 0:  # bursts: several spikes of one neuron within a refractory period
        half = n_spikes // 2
        steps, neurons = np.r_[steps, steps[:half] + 1], np.r_[neurons, neurons[:half]]
        order = np.argsort(steps, kind="stable")
        steps, neurons = steps[order], neurons[order]
        end = max(end, int(steps.max(initial=-1)) + 1)
    # arbitrary chunk boundaries, including empty chunks and chunks past the grid
    cuts = np.unique(rng.integers(0, end + 1, size=int(rng.integers(0, 8))))
    boundaries = [int(c) for c in cuts if c > 0] + [end]
    if case % 4 == 1:
        boundaries = sorted(boundaries + [boundaries[-1]])  # a chunk of zero length
    readout = ls.StateReadout(n_neurons, n_ref, first, interval, n_draws)
    stream(neurons, steps, boundaries, readout)
    expected = paint(neurons, steps, n_neurons, n_ref, first, interval, n_draws)
    np.testing.assert_array_equal(readout.states, expected)
    assert readout.complete == (end >= first + interval * (n_draws - 1) + 1 or n_draws == 0)
    np.testing.assert_array_equal(readout.spike_counts, np.bincount(neurons, minlength=n_neurons))
    # the all-at-once wrapper agrees
    np.testing.assert_array_equal(
        ls.states_from_spikes(neurons, steps, n_neurons, n_ref, first, interval, n_draws), expected
    )


def test_refractory_window_spanning_several_chunks():
    r = ls.StateReadout(2, n_ref_steps=25, first_step=0, interval_steps=1, n_draws=60)
    r(np.array([1]), np.array([3]), 10)
    r(np.array([], dtype=int), np.array([], dtype=int), 20)
    r(np.array([], dtype=int), np.array([], dtype=int), 25)
    r(np.array([0]), np.array([40]), 60)
    np.testing.assert_array_equal(np.flatnonzero(r.states[:, 1]), np.arange(3, 28))
    np.testing.assert_array_equal(np.flatnonzero(r.states[:, 0]), np.arange(40, 60))
    assert r.complete


def test_chunks_after_the_grid_are_ignored():
    r = ls.StateReadout(1, n_ref_steps=2, first_step=0, interval_steps=1, n_draws=3)
    r(np.array([0]), np.array([1]), 3)
    assert r.complete
    r(np.array([0]), np.array([5]), 10)
    np.testing.assert_array_equal(r.states[:, 0], [0, 1, 1])
    np.testing.assert_array_equal(r.spike_counts, [2])


def test_incomplete_until_the_last_grid_point_is_simulated():
    r = ls.StateReadout(1, n_ref_steps=2, first_step=5, interval_steps=5, n_draws=3)  # grid 5, 10, 15
    r(np.array([], dtype=int), np.array([], dtype=int), 15)
    assert not r.complete
    r(np.array([0]), np.array([15]), 16)
    assert r.complete
    np.testing.assert_array_equal(r.states[:, 0], [0, 0, 1])


def test_readout_errors():
    r = ls.StateReadout(2, n_ref_steps=2, first_step=0, interval_steps=1, n_draws=10)
    r(np.array([0]), np.array([3]), 5)
    with pytest.raises(ValueError, match="chunks must arrive in time order"):
        r(np.array([], dtype=int), np.array([], dtype=int), 4)
    with pytest.raises(ValueError, match=r"spike steps must lie inside the chunk \[previous end, end_step\)"):
        r(np.array([0]), np.array([4]), 8)  # before the previous end (5)
    with pytest.raises(ValueError, match="spike steps must lie inside the chunk"):
        r(np.array([0]), np.array([8]), 8)  # at end_step
    for kwargs in (
        dict(n_ref_steps=0),
        dict(interval_steps=0),
        dict(n_draws=-1),
        dict(first_step=-1),
    ):
        args = dict(n_neurons=1, n_ref_steps=2, first_step=0, interval_steps=1, n_draws=3) | kwargs
        with pytest.raises(
            ValueError, match=rf"^{next(iter(kwargs))} must be an integer >= [01], got -?[01]"
        ):
            ls.StateReadout(**args)


# -- consistency with the Brian2 neuron -------------------------------------------------
def _spikes(spec, duration, **kwargs):
    got = []
    simulate(
        spec,
        duration=duration,
        seed=1,
        progress=False,
        consumer=lambda i, s, end: got.append((i.copy(), s.copy(), end)),
        **kwargs,
    )
    neurons = np.concatenate([g[0] for g in got])
    steps = np.concatenate([g[1] for g in got])
    ends = [g[2] for g in got]
    return neurons, steps, ends


SILENT = ls.PoissonNoise(0.0, 0.0, 0.0, 0.0)


@pytest.mark.parametrize("tau_refrac, n_ref", [(10.0, 100), (2.5, 25)])
def test_brian2_refractory_period_is_exactly_n_ref_steps(sbs_neuron, tau_refrac, n_ref):
    """A neuron far above threshold fires as soon as it can: every n_ref steps.

    With the sbs neuron (v_reset 1 µV below v_thresh) one step of integration
    after the refractory period is enough to cross the threshold again, so the
    inter-spike interval is the refractory period itself, and the readout sees
    the neuron permanently on -- p_on = n_spikes * tau_ref / T = 1.
    """
    neuron = sbs_neuron.replace(tau_refrac=tau_refrac)
    dt, duration = 0.1, 200.0
    spec = NetworkSpec(neuron, SILENT, np.array([0.0, -80.0, -20.0]), dt)
    neurons, steps, ends = _spikes(spec, duration)
    assert ends[-1] == 2000
    assert not np.any(neurons == 1)  # far below threshold, no noise: silent
    for k in (0, 2):
        s = steps[neurons == k]
        assert s[0] == 0  # v_init = v_reset, one step reaches threshold
        np.testing.assert_array_equal(np.diff(s), n_ref)
        assert len(s) * n_ref == int(duration / dt)  # p_on = 1 exactly
    states = ls.states_from_spikes(neurons, steps, 3, n_ref, first_step=0, interval_steps=1, n_draws=2000)
    np.testing.assert_array_equal(states[:, 0], 1)
    np.testing.assert_array_equal(states[:, 1], 0)


def test_brian2_clamps_the_membrane_during_the_refractory_period(sbs_neuron):
    """After the refractory period V restarts from v_reset (clamped, not integrated).

    v_reset = -60 mV, v_thresh = -50 mV, E_L = -49 mV, tau_m = 1 ms, no noise:
    the exactly integrated V_k = E_L + (v_reset - E_L) exp(-k dt / tau_m) first
    exceeds v_thresh after k* = 24 steps (exp(-0.1 k) < 1/11).  A clamped neuron
    therefore fires at step k* - 1 = 23 and then every n_ref + k* - 1 = 123
    steps; an unclamped one would have relaxed to E_L and fire every n_ref steps.
    """
    neuron = sbs_neuron.replace(v_reset=-60.0)
    dt = 0.1
    k_star = int(np.floor(np.log(11.0) / (dt / neuron.tau_m))) + 1
    assert k_star == 24
    spec = NetworkSpec(neuron, SILENT, np.array([-49.0]), dt)
    _, steps, _ = _spikes(spec, 100.0)
    assert steps[0] == k_star - 1
    np.testing.assert_array_equal(np.diff(steps), 100 + k_star - 1)
    states = ls.states_from_spikes(np.zeros_like(steps), steps, 1, 100, 0, 1, 1000)
    # the readout is on during each refractory period and off while V climbs back
    np.testing.assert_array_equal(states[23:123, 0], 1)
    np.testing.assert_array_equal(states[123:146, 0], 0)
    assert states[146, 0] == 1


def test_spike_chunks_fit_the_readout(sbs_neuron):
    """simulate streams chunks [previous end, end) that StateReadout accepts as they come."""
    spec = NetworkSpec(sbs_neuron, SILENT, np.array([0.0, -20.0]), 0.1)
    readout = ls.StateReadout(2, 100, first_step=5, interval_steps=7, n_draws=100)
    ends = []

    def consumer(neurons, steps, end):
        ends.append(end)
        readout(neurons, steps, end)

    simulate(spec, duration=75.0, seed=1, progress=False, consumer=consumer, max_chunk_steps=130)
    assert ends == [130, 260, 390, 520, 650, 750]
    assert readout.complete
    np.testing.assert_array_equal(readout.states, 1)


def test_simulate_rejects_unknown_device(sbs_neuron):
    spec = NetworkSpec(sbs_neuron, SILENT, np.array([0.0]), 0.1)
    with pytest.raises(
        ValueError, match=r"device must be one of \('auto', 'cython', 'numpy', 'cpp_standalone'\)"
    ):
        simulate(spec, duration=1.0, seed=1, consumer=lambda *a: None, device="gpu")
