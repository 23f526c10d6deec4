"""Multimodal targets, exact mode landscapes and mixing metrics (issue #5, oscillation-driven tempering)."""

from __future__ import annotations

import functools
import heapq
import itertools
import math

import numpy as np
import pytest

import lifsampling as ls
from lifsampling.modes import (
    DEFAULT_BARRIER,
    Modes,
    assign_modes,
    attractor_boltzmann_machine,
    clustered_boltzmann_machine,
    describe_modes,
    find_modes,
    mixing_metrics,
)

A, B = [1, 1, 0, 0], [0, 0, 1, 1]
NEAR_B = [0, 1, 1, 1]  # one flip from B, three from A
TIE, TIE0 = [1, 0, 1, 0], [0, 0, 0, 0]  # two flips from both modes: unassigned


# -- brute-force references ------------------------------------------------------------------------
def _minimax_from(bm: ls.BoltzmannMachine, start: int):
    """Dijkstra on the hypercube with path cost = highest energy on the path; yields (level, state)."""
    E = bm.energy(ls.all_states(bm.n_units))
    best = np.full(E.size, np.inf)
    best[start] = E[start]
    heap = [(E[start], start)]
    while heap:
        level, s = heapq.heappop(heap)
        if level > best[s]:
            continue
        yield level, s
        for k in range(bm.n_units):
            t = s ^ (1 << k)
            new = max(level, E[t])
            if new < best[t]:
                best[t] = new
                heapq.heappush(heap, (new, t))


def brute_saddle(bm, a, b) -> float:
    target = int(ls.states_to_indices(np.asarray(b)))
    return next(
        level for level, s in _minimax_from(bm, int(ls.states_to_indices(np.asarray(a)))) if s == target
    )


def brute_depth(bm, a) -> float:
    E = bm.energy(ls.all_states(bm.n_units))
    i = int(ls.states_to_indices(np.asarray(a)))
    lower = ((level, s) for level, s in _minimax_from(bm, i) if (E[s], s) < (E[i], i))  # ties: by index
    return next((level - E[i] for level, _ in lower), math.inf)


def brute_minima(bm) -> np.ndarray:
    """State indices of the strict local minima (every single flip raises E)."""
    E = bm.energy(ls.all_states(bm.n_units))
    idx = np.arange(E.size)
    return np.flatnonzero(np.all([E[idx ^ (1 << k)] > E for k in range(bm.n_units)], axis=0))


def strong_random(n_units: int, seed: int) -> ls.BoltzmannMachine:
    """A random machine with strong couplings: several local minima."""
    bm = ls.random_boltzmann_machine(n_units, seed=seed)
    return ls.BoltzmannMachine(3 * bm.W, bm.b)


def trajectory_result(chains, times=None, target=None):
    res = ls.make_result(np.array(chains, dtype=np.int8), sample_interval=2.0, sampler="test", target=target)
    if times is not None:
        res = res.assign_coords(time=("draw", np.asarray(times, float), {"units": "ms"}))
    return res


# chain 0: A A ? nearB B ? ? A  -> 2 switches; chain 1: never A; chain 2: A, excursions, A (no switch)
CHAINS = [
    [A, A, TIE, NEAR_B, B, TIE0, TIE, A],
    [TIE, TIE, B, B, B, B, TIE0, B],
    [A, TIE, A, TIE0, A, A, TIE, A],
]


# -- mode assignment -------------------------------------------------------------------------------
def test_assign_modes_nearest_ties_and_max_distance():
    labels = assign_modes(np.array(CHAINS), [A, B])
    assert labels.shape == (3, 8)
    assert labels[0].tolist() == [0, 0, -1, 1, 1, -1, -1, 0]
    assert labels[1].tolist() == [-1, -1, 1, 1, 1, 1, -1, 1]
    strict = assign_modes(np.array(CHAINS), [A, B], max_distance=0)
    assert strict[0].tolist() == [0, 0, -1, -1, 1, -1, -1, 0]
    assert assign_modes([[1, 1, 1, 1]], [A, B], max_distance=5).tolist() == [-1]  # tie at distance 2


def test_assign_modes_accepts_modes_objects_and_three_modes():
    bm, modes = clustered_boltzmann_machine(6, 3, barrier=2.0)
    states = modes.states.copy()
    states[1, 2] = 1  # one extra unit on: still nearest to mode 1
    assert assign_modes(states, modes).tolist() == [0, 1, 2]
    assert assign_modes(np.zeros((2, 5, 6), dtype=np.int8), modes).tolist() == [[-1] * 5] * 2  # all tied


@pytest.mark.parametrize(
    "modes, match",
    [
        ([[1, 1, 0], [0, 0, 1]], "have 3 units but the target/states have 4"),
        ([[1, 2, 0, 0], B], "only 0 and 1"),
        ([A, A], "repeated state"),
        (A, "2-D"),
        (np.zeros((0, 4)), "empty"),
    ],
)
def test_assign_modes_rejects_bad_modes(modes, match):
    with pytest.raises(ValueError, match=match):
        assign_modes(np.array(CHAINS), modes)


def test_assign_modes_rejects_bad_states_and_distance():
    with pytest.raises(ValueError, match="only 0 and 1"):
        assign_modes([[0, 2, 0, 0]], [A, B])
    with pytest.raises(ValueError, match="max_distance"):
        assign_modes([A], [A, B], max_distance=-1)


# -- switch counting on constructed trajectories ---------------------------------------------------
def test_switches_first_visits_and_modes_visited():
    mm = mixing_metrics(trajectory_result(CHAINS), [A, B])
    c = mm.chains
    assert c.n_switches.values.tolist() == [2, 0, 0]
    assert c.n_visited.values.tolist() == [2, 1, 1]
    np.testing.assert_array_equal(c.first_visit.values, [[0.0, 6.0], [np.inf, 4.0], [0.0, np.inf]])
    np.testing.assert_array_equal(c.cover_time.values, [6.0, np.inf, np.inf])
    np.testing.assert_allclose(c.occupancy.values, [[3 / 8, 2 / 8], [0, 5 / 8], [5 / 8, 0]])
    np.testing.assert_allclose(c.unassigned.values, [3 / 8, 3 / 8, 3 / 8])
    np.testing.assert_allclose(c.duration.values, 16.0)  # 8 draws x 2 ms
    np.testing.assert_allclose(c.switch_rate.values, [2 / 16e-3, 0, 0])
    p = mm.pooled
    assert int(p.n_switches) == 2 and int(p.n_visited) == 2
    assert float(p.switch_rate) == pytest.approx(2 / 48e-3)
    np.testing.assert_array_equal(p.first_visit.values, [0.0, 4.0])
    assert float(p.cover_time) == 4.0
    assert mm.labels.values[0].tolist() == [0, 0, -1, 1, 1, -1, -1, 0]
    assert mm.modes is None and mm.dkl_curve is None  # no target stored
    assert "tau_int_energy" not in c


def test_switch_hysteresis_with_max_distance():
    # with max_distance = 0 the near-B draw is unassigned; A -> ? -> ? -> B is still one switch
    mm = mixing_metrics(trajectory_result(CHAINS), [A, B], max_distance=0)
    assert mm.chains.n_switches.values.tolist() == [2, 0, 0]
    np.testing.assert_array_equal(mm.chains.first_visit.values[0], [0.0, 8.0])
    flicker = [[A, B, A, B, A, B, A, B]]
    assert mixing_metrics(trajectory_result(flicker), [A, B]).chains.n_switches.values.tolist() == [7]


def test_unequally_spaced_draws_use_the_spanned_time():
    times = [0.0, 1.0, 2.0, 3.0, 10.0, 11.0, 12.0, 13.0]  # a phase-gated result: a gap of 6 ms
    mm = mixing_metrics(trajectory_result(CHAINS, times=times), [A, B])
    np.testing.assert_allclose(mm.chains.duration.values, 14.0)  # 13 ms + one spacing of 1 ms
    np.testing.assert_allclose(mm.chains.kept_time.values, 8.0)
    np.testing.assert_allclose(mm.chains.switch_rate.values, [2 / 14e-3, 0, 0])
    np.testing.assert_array_equal(mm.chains.first_visit.values[:, 1], [3.0, 2.0, np.inf])
    offset = mixing_metrics(trajectory_result(CHAINS, times=np.add(times, 100.0)), [A, B])
    np.testing.assert_array_equal(offset.chains.first_visit.values, mm.chains.first_visit.values)
    with pytest.raises(ValueError, match="increase strictly"):
        mixing_metrics(trajectory_result(CHAINS, times=times[::-1]), [A, B])


def test_tau_int_is_nan_for_constant_or_short_series():
    stuck = [[A] * 8, [B] * 8]
    mm = mixing_metrics(trajectory_result(stuck), [A, B])
    assert np.isnan(mm.chains.tau_int_mode.values).all()
    assert mm.chains.n_switches.values.tolist() == [0, 0]
    assert np.isfinite(mm.pooled.tau_int_mode.values).all()  # chains disagree: a (huge) finite tau
    short = mixing_metrics(trajectory_result([[A, B, A]]), [A, B])
    assert np.isnan(short.pooled.tau_int_mode.values).all()
    assert int(short.pooled.n_switches) == 2


# -- generators ------------------------------------------------------------------------------------
def test_default_clustered_machine():
    bm, modes = clustered_boltzmann_machine()
    assert bm.n_units == 10 and modes.labels == ["1111100000", "0000011111"]
    np.testing.assert_allclose(modes.barriers, [DEFAULT_BARRIER] * 2)
    assert brute_saddle(bm, modes.states[0], modes.states[1]) == pytest.approx(modes.saddles[0, 1])
    np.testing.assert_allclose(modes.saddles[0, 1] - modes.energies, 6.0)
    np.testing.assert_allclose(modes.basin_masses, [0.5, 0.5])
    deep = find_modes(bm, min_depth=1.0)
    assert sorted(deep.labels) == sorted(modes.labels)


@pytest.mark.parametrize(
    "n_units, n_clusters, barrier", [(6, 1, 6.0), (8, 2, 6.0), (8, 3, 7.5), (7, 3, 6.0), (6, 6, 3.0)]
)
def test_clustered_machine_has_the_requested_barrier(n_units, n_clusters, barrier):
    bm, modes = clustered_boltzmann_machine(n_units, n_clusters, barrier=barrier)
    assert modes.n_modes == max(n_clusters, 2)
    assert modes.barriers.min() == pytest.approx(barrier)
    for i, j in itertools.combinations(range(modes.n_modes), 2):
        assert modes.saddles[i, j] == pytest.approx(brute_saddle(bm, modes.states[i], modes.states[j]))
    for i in range(modes.n_modes):
        assert modes.depths[i] == pytest.approx(brute_depth(bm, modes.states[i]))
    # the modes are exactly the local minima
    assert sorted(brute_minima(bm).tolist()) == sorted(modes.indices.tolist())
    assert modes.basin_masses.sum() == pytest.approx(1.0)


def test_ferromagnet_modes_are_all_off_and_all_on():
    bm, modes = clustered_boltzmann_machine(6, 1)
    assert modes.labels == ["000000", "111111"]
    np.testing.assert_allclose(bm.b, -0.5 * bm.W.sum(axis=1))  # symmetric biases
    np.testing.assert_allclose(modes.probabilities[0], modes.probabilities[1])
    np.testing.assert_allclose(modes.basin_masses, [0.5, 0.5])  # tied descents split evenly


def test_coupling_instead_of_barrier_and_jitter():
    bm, modes = clustered_boltzmann_machine(10, 2, coupling=1.0)
    np.testing.assert_allclose(modes.barriers, 12.5)  # saddle 0, modes at -12.5 for unit coupling
    assert bm.W[0, 1] == 1.0 and bm.W[0, 9] == -1.0
    bm1, m1 = clustered_boltzmann_machine(8, 2, barrier=6.0, jitter=0.2, seed=4)
    bm2, _ = clustered_boltzmann_machine(8, 2, barrier=6.0, jitter=0.2, seed=4)
    assert bm1 == bm2 and not np.allclose(bm1.W[0, 1], bm1.W[0, 2])
    assert m1.barriers.min() == pytest.approx(6.0)
    assert m1.saddles[0, 1] == pytest.approx(brute_saddle(bm1, m1.states[0], m1.states[1]))


def test_attractor_machine_with_background_units():
    patterns = [[1, 1, 1, 0, 0, 0, 0], [0, 0, 0, 1, 1, 0, 0]]  # units 5 and 6 belong to no pattern
    bm, modes = attractor_boltzmann_machine(patterns, barrier=5.0)
    assert modes.labels == ["1110000", "0001100"]
    assert modes.barriers.min() == pytest.approx(5.0)
    assert sorted(find_modes(bm, min_depth=1.0).labels) == sorted(modes.labels)
    assert np.all(bm.b[5:] < 0)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(n_units=3, n_clusters=4), "n_clusters = 4 is more than n_units = 3"),
        (dict(n_units=10, n_clusters=0), "n_clusters must be an integer >= 1"),
        (dict(n_units=2.5), "n_units must be an integer"),
        (dict(barrier=-6.0), "barrier must be a positive number"),
        (dict(barrier=0.0), "barrier must be a positive number"),
        (dict(barrier=math.nan), "barrier must be a positive number"),
        (dict(coupling=-1.0), "coupling must be a positive number"),
        (dict(barrier=6.0, coupling=1.0), "either barrier or coupling"),
        (dict(inhibition=0.0), "inhibition must be a positive number"),
        (dict(jitter=-0.1), "jitter must be a number >= 0"),
        (dict(jitter=3.0, seed=0), "not a local minimum"),
        (dict(n_units=21), "at most 20 units"),
    ],
)
def test_clustered_machine_rejects_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        clustered_boltzmann_machine(**kwargs)


def test_attractor_machine_rejects_bad_patterns():
    with pytest.raises(ValueError, match="disjoint; unit 1"):
        attractor_boltzmann_machine([[1, 1, 0], [0, 1, 1]])
    with pytest.raises(ValueError, match="pattern 1 has no unit on"):
        attractor_boltzmann_machine([[1, 1, 0], [0, 0, 0]])
    with pytest.raises(ValueError, match="only 0 and 1"):
        attractor_boltzmann_machine([[1, 1, 0], [0, 0, -1]])


# -- find_modes / describe_modes -------------------------------------------------------------------
def test_find_modes_on_a_constructed_two_mode_machine():
    # two ferromagnetic pairs coupled antiferromagnetically: modes 1100 and 0011
    W = np.array([[0, 4, -4, -4], [4, 0, -4, -4], [-4, -4, 0, 4], [-4, -4, 4, 0]], float)
    bm = ls.BoltzmannMachine(W, [1.0, 1.0, 1.5, 1.5])
    modes = find_modes(bm)
    assert modes.labels == ["0011", "1100"]  # sorted by energy: 0011 is deeper
    np.testing.assert_allclose(modes.energies, bm.energy(modes.states))
    np.testing.assert_allclose(modes.probabilities, bm.probabilities()[modes.indices])
    assert modes.depths[0] == math.inf
    assert modes.depths[1] == pytest.approx(brute_depth(bm, [1, 1, 0, 0]))
    assert modes.saddles[0, 1] == pytest.approx(brute_saddle(bm, [0, 0, 1, 1], [1, 1, 0, 0]))
    assert modes.basin_masses.sum() == pytest.approx(1.0)
    table = modes.table()
    assert list(table.state) == ["0011", "1100"] and table.barrier.iloc[1] == pytest.approx(modes.depths[1])


def brute_basin_masses(bm) -> dict[int, float]:
    """Mass flowing into every minimum under steepest descent, split evenly between tied lowest
    neighbours; on a plateau (no lower neighbour) a state moves to its lowest-index equal neighbour."""
    E = bm.energy(ls.all_states(bm.n_units)).round(9)
    p = bm.probabilities()

    @functools.cache
    def absorb(s: int) -> dict[int, float]:
        nbs = [s ^ (1 << k) for k in range(bm.n_units)]
        low = min(E[t] for t in nbs)
        if low < E[s]:
            ties = [t for t in nbs if E[t] == low]
            out: dict[int, float] = {}
            for t in ties:
                for m, w in absorb(t).items():
                    out[m] = out.get(m, 0.0) + w / len(ties)
            return out
        nxt = min([*nbs, s], key=lambda x: (E[x], x))
        return {s: 1.0} if nxt == s else absorb(nxt)

    mass: dict[int, float] = {}
    for s in range(E.size):
        for m, w in absorb(s).items():
            mass[m] = mass.get(m, 0.0) + w * p[s]
    return mass


# integer weights: many exact ties, plateaus and a minimum of depth 0 (next to an equal-energy plateau)
TIED = ls.BoltzmannMachine(
    [
        [0, 0, 0, 2, -2, 2],
        [0, 0, 0, 2, -1, 2],
        [0, 0, 0, 1, 2, -2],
        [2, 2, 1, 0, 1, 1],
        [-2, -1, 2, 1, 0, -2],
        [2, 2, -2, 1, -2, 0],
    ],
    [2, 1, 2, -2, 0, 2],
)


@pytest.mark.parametrize("bm", [strong_random(8, s) for s in (1, 4, 5, 7, 9)] + [TIED], ids=str)
def test_find_modes_matches_brute_force(bm):
    modes = find_modes(bm)
    E = bm.energy(ls.all_states(bm.n_units)).round(9)
    strict = brute_minima(bm)
    assert set(strict.tolist()) <= set(modes.indices.tolist())  # plus plateau minima (ties by index)
    for i in modes.indices:
        assert all((E[i ^ (1 << k)], i ^ (1 << k)) > (E[i], i) for k in range(bm.n_units))
    assert np.all(np.diff(modes.energies) >= 0)
    for i, j in itertools.combinations(range(modes.n_modes), 2):
        assert modes.saddles[i, j] == pytest.approx(brute_saddle(bm, modes.states[i], modes.states[j]))
    np.testing.assert_allclose(modes.depths, [brute_depth(bm, s) for s in modes.states], atol=1e-9)
    mass = brute_basin_masses(bm)
    np.testing.assert_allclose(modes.basin_masses, [mass[i] for i in modes.indices.tolist()], atol=1e-12)


def test_find_modes_thresholds_keep_the_deep_modes():
    bm = strong_random(8, 5)
    every = find_modes(bm)
    assert every.n_modes == 4
    cut = np.sort(every.depths)[1]  # drop the shallowest minimum
    deep = find_modes(bm, min_depth=cut)
    assert deep.n_modes == every.n_modes - 1 and np.all(deep.depths >= cut)
    assert deep.basin_masses.sum() == pytest.approx(1.0)
    assert np.all(deep.basin_masses >= every.basin_masses[np.isin(every.indices, deep.indices)] - 1e-12)
    heavy = find_modes(bm, min_mass=0.2)
    assert np.all(heavy.basin_masses[1:] >= 0.2) and heavy.basin_masses.sum() == pytest.approx(1.0)
    assert find_modes(bm, min_depth=math.inf).n_modes == 1


def test_describe_modes_of_non_minima_and_errors():
    bm, modes = clustered_boltzmann_machine(6, 2, barrier=3.0)
    near = modes.states.copy()
    near[0, 0] = 0  # one flip above mode 0
    d = describe_modes(bm, near)
    assert d.depths[0] == 0.0 and d.saddles[0, 1] == pytest.approx(brute_saddle(bm, near[0], near[1]))
    assert isinstance(d, Modes) and d.basin_masses.sum() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="have 5 units but the target/states have 6"):
        describe_modes(bm, [[1, 1, 1, 0, 0]])
    with pytest.raises(ValueError, match="only 0 and 1"):
        describe_modes(bm, [[1, 1, 1, 0, 0, 0.5]])
    big = ls.random_boltzmann_machine(21, seed=0)
    with pytest.raises(ValueError, match="at most 20 units"):
        find_modes(big)
    with pytest.raises(ValueError, match="min_depth"):
        find_modes(bm, min_depth=-1.0)
    with pytest.raises(ValueError, match="min_mass"):
        find_modes(bm, min_mass=2.0)


# -- mixing metrics on sampled results -------------------------------------------------------------
@pytest.fixture(scope="module")
def gibbs_run():
    bm, modes = clustered_boltzmann_machine(8, 2, barrier=3.0)
    return bm, modes, ls.GibbsSampler(bm, sweep_time=1.0).sample(4000.0, n_chains=4, seed=5)


def test_mixing_metrics_of_a_gibbs_run(gibbs_run):
    bm, modes, res = gibbs_run
    mm = mixing_metrics(res)  # modes found in the stored target
    assert sorted(mm.modes.labels) == sorted(modes.labels)
    assert int(mm.pooled.n_visited) == 2 and int(mm.pooled.n_switches) > 20
    np.testing.assert_allclose(mm.pooled.occupancy.values, mm.pooled.target_occupancy.values, atol=0.05)
    assert np.isfinite(mm.chains.tau_int_energy.values).all() and float(mm.pooled.tau_int_energy) > 0
    assert np.isfinite(mm.pooled.tau_int_mode.values).all()
    curve = mm.dkl_curve
    assert curve.time.values[-1] == pytest.approx(4000.0) and curve.draws.values[-1] == 4000
    assert curve.dkl_target_sampled.values[-1] < curve.dkl_target_sampled.values[0]
    s = mm.summary()
    assert s["n_modes"] == 2 and s["switch_rate_per_s"] == pytest.approx(float(mm.pooled.switch_rate))
    assert "switches" in repr(mm)
    via_idata = mixing_metrics(ls.to_inference_data(res), modes)
    np.testing.assert_array_equal(
        via_idata.chains.n_switches.values, mixing_metrics(res, modes).chains.n_switches
    )


def test_mixing_metrics_of_a_phase_gated_run(gibbs_run):
    bm, modes, res = gibbs_run
    gated = res.isel(draw=np.flatnonzero(res.time.values % 50 < 20))  # keep 20 ms of every 50 ms
    mm = mixing_metrics(gated, modes)
    assert float(mm.chains.duration[0]) == pytest.approx(3970.0)  # last kept draw at 3969 ms
    assert float(mm.chains.kept_time[0]) == pytest.approx(1600.0)
    assert mm.dkl_curve.time.values[-1] == pytest.approx(3970.0)
    assert mm.dkl_curve.draws.values[-1] == 1600


def test_mixing_metrics_needs_modes_or_a_target(gibbs_run):
    bm, modes, res = gibbs_run
    bare = res.drop_vars(["target_W", "target_b"])
    with pytest.raises(ValueError, match="modes=None needs a target"):
        mixing_metrics(bare)
    assert mixing_metrics(bare, target=bm).modes is not None
    with pytest.raises(ValueError, match="have 4 units but the target/states have 8"):
        mixing_metrics(res, [A, B])
