"""Targets: Boltzmann machines, exact enumeration, state indices, files."""

from __future__ import annotations

import math

import numpy as np
import pytest

import lifsampling as ls
from lifsampling.targets import MAX_EXACT_UNITS


# -- brute force references (explicit python loops, no vectorisation) --------
def _state_of(index: int, n_units: int) -> list[int]:
    """State with the given index; unit 0 is the most significant bit."""
    return [(index >> (n_units - 1 - k)) & 1 for k in range(n_units)]


def _energy(W, b, z) -> float:
    """E(z) = -1/2 z.W.z - b.z, written out term by term."""
    e = 0.0
    for i in range(len(z)):
        e -= b[i] * z[i]
        for j in range(len(z)):
            e -= 0.5 * W[i][j] * z[i] * z[j]
    return e


def brute_force(W, b):
    """(probabilities, log Z, marginals) of p(z) ∝ exp(½ zᵀWz + bᵀz) by looping over states."""
    K = len(b)
    weights = [math.exp(-_energy(W, b, _state_of(s, K))) for s in range(2**K)]
    Z = sum(weights)
    p = [w / Z for w in weights]
    marg = [sum(p[s] for s in range(2**K) if _state_of(s, K)[k]) for k in range(K)]
    return np.array(p), math.log(Z), np.array(marg)


def _random_params(rng, K):
    A = rng.normal(0, 1.2, size=(K, K))
    W = np.triu(A, 1) + np.triu(A, 1).T
    return W, rng.normal(0, 1, size=K)


# -- exact enumeration -------------------------------------------------------
@pytest.mark.parametrize("K", [1, 2, 3, 4, 5, 6])
def test_exact_enumeration_matches_brute_force(K, rng):
    W, b = _random_params(rng, K)
    bm = ls.BoltzmannMachine(W, b)
    p, log_z, marg = brute_force(W, b)
    np.testing.assert_allclose(bm.probabilities(), p, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(bm.log_probabilities(), np.log(p), rtol=1e-10)
    assert bm.log_partition() == pytest.approx(log_z, rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(bm.marginals(), marg, rtol=1e-10, atol=1e-15)
    assert bm.probabilities().sum() == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("K", [2, 4])
def test_energy_matches_brute_force(K, rng):
    W, b = _random_params(rng, K)
    bm = ls.BoltzmannMachine(W, b)
    states = ls.all_states(K)
    expected = [_energy(W, b, list(z)) for z in states]
    np.testing.assert_allclose(bm.energy(states), expected, rtol=1e-12, atol=1e-12)
    # leading dimensions are kept
    assert bm.energy(states.reshape(2, -1, K)).shape == (2, 2 ** (K - 1))


def test_conditional_logits_are_exact_log_odds(rng):
    K = 4
    W, b = _random_params(rng, K)
    bm = ls.BoltzmannMachine(W, b)
    p = bm.probabilities()
    states = ls.all_states(K)
    for z in states:
        logits = bm.conditional_logits(z)
        for k in range(K):
            on, off = z.copy(), z.copy()
            on[k], off[k] = 1, 0
            log_odds = math.log(p[ls.states_to_indices(on)] / p[ls.states_to_indices(off)])
            assert logits[k] == pytest.approx(log_odds, rel=1e-9, abs=1e-9)


def test_cached_exact_distribution_is_not_mutated_by_callers():
    bm = ls.random_boltzmann_machine(3, seed=0)
    p = bm.probabilities()
    p[:] = 0.0
    lp = bm.log_probabilities()
    lp[:] = 0.0
    assert bm.probabilities().sum() == pytest.approx(1.0)
    assert np.all(bm.log_probabilities() < 0)


# -- state-index convention --------------------------------------------------
def test_state_index_convention_unit0_is_most_significant_bit():
    np.testing.assert_array_equal(
        ls.all_states(3),
        [[0, 0, 0], [0, 0, 1], [0, 1, 0], [0, 1, 1], [1, 0, 0], [1, 0, 1], [1, 1, 0], [1, 1, 1]],
    )
    assert ls.all_states(3).dtype == np.int8
    assert ls.states_to_indices(np.array([1, 0, 0])) == 4
    assert ls.states_to_indices(np.array([0, 0, 1])) == 1
    np.testing.assert_array_equal(ls.states_to_indices(np.array([[1, 0, 1], [0, 1, 1]])), [5, 3])
    np.testing.assert_array_equal(ls.indices_to_states(np.array([6]), 3), [[1, 1, 0]])


def test_probabilities_are_indexed_by_state_index():
    # only unit 0 has a (large) bias: the probable states are those with z_0 = 1,
    # which are the upper half of the indices when unit 0 is the MSB
    bm = ls.BoltzmannMachine(np.zeros((3, 3)), [8.0, 0.0, 0.0])
    p = bm.probabilities()
    assert p[4:].sum() > 0.999
    np.testing.assert_allclose(p[4:], p[4:].mean())
    bm = ls.BoltzmannMachine(np.zeros((3, 3)), [0.0, 0.0, 8.0])
    assert bm.probabilities()[1::2].sum() > 0.999


@pytest.mark.parametrize("K", [1, 3, 7, 20])
def test_index_round_trip(K, rng):
    idx = rng.integers(0, 2**K, size=(4, 5))
    states = ls.indices_to_states(idx, K)
    assert states.shape == (4, 5, K)
    assert set(np.unique(states)) <= {0, 1}
    np.testing.assert_array_equal(ls.states_to_indices(states), idx)
    z = rng.integers(0, 2, size=(6, K))
    np.testing.assert_array_equal(ls.indices_to_states(ls.states_to_indices(z), K), z)


def test_all_states_rows_have_their_own_index():
    for K in (1, 4, 9):
        np.testing.assert_array_equal(ls.states_to_indices(ls.all_states(K)), np.arange(2**K))


def test_states_to_indices_limit():
    with pytest.raises(ValueError, match="at most 62 units"):
        ls.states_to_indices(np.zeros((1, 63), dtype=int))


# -- exact-enumeration limit ------------------------------------------------
def test_too_many_units_for_exact_enumeration():
    K = MAX_EXACT_UNITS + 1
    assert MAX_EXACT_UNITS == 20
    bm = ls.BoltzmannMachine(np.zeros((K, K)), np.zeros(K))  # building it is fine
    assert bm.energy(np.ones(K)) == 0.0
    for method in (bm.probabilities, bm.log_probabilities, bm.log_partition, bm.marginals):
        with pytest.raises(ValueError, match=r"exact enumeration needs 2\*\*21 states.*limit of 20"):
            method()
    with pytest.raises(ValueError, match="exact enumeration"):
        ls.all_states(K)


def test_exact_enumeration_at_the_limit_is_allowed():
    assert ls.all_states(MAX_EXACT_UNITS).shape == (2**MAX_EXACT_UNITS, MAX_EXACT_UNITS)


# -- validation ---------------------------------------------------------------
@pytest.mark.parametrize(
    "W, b, match",
    [
        ([[0, 1], [2, 0]], [0, 0], r"W must be symmetric; W\[0, 1\] = 1.0 but W\[1, 0\] = 2.0"),
        ([[1, 0], [0, 0]], [0, 0], r"zero diagonal.*W\[0, 0\] = 1.0"),
        ([[0, np.nan], [np.nan, 0]], [0, 0], r"W must contain only finite values; W\[0, 1\] = nan"),
        ([[0, np.inf], [np.inf, 0]], [0, 0], r"finite values; W\[0, 1\] = inf"),
        ([[0, 1], [1, 0]], [0, np.inf], r"b must contain only finite values; b\[1\] = inf"),
        ([[0, 1], [1, 0]], [np.nan, 0], r"b must contain only finite values; b\[0\] = nan"),
        ([0, 1, 2], [0, 0, 0], r"W must be a 2-D matrix, got shape \(3,\)"),
        (np.zeros((2, 3)), [0, 0], r"W must be square, got shape \(2, 3\)"),
        (np.zeros((0, 0)), [], "at least one unit"),
        (np.zeros((3, 3)), [0, 0], r"b must be a vector of length 3, got shape \(2,\)"),
        (np.zeros((2, 2)), [[0, 0]], r"b must be a vector of length 2, got shape \(1, 2\)"),
        ([["a", "b"], ["c", "d"]], [0, 0], "W must be a numeric matrix"),
        (np.zeros((2, 2)), ["x", 0], "b must be a numeric vector"),
    ],
)
def test_invalid_boltzmann_machine(W, b, match):
    with pytest.raises(ValueError, match=match):
        ls.BoltzmannMachine(W, b)


def test_tiny_asymmetry_is_tolerated_and_symmetrised():
    W = np.array([[0.0, 1.0], [1.0 + 1e-13, 0.0]])
    bm = ls.BoltzmannMachine(W, [0.0, 0.0])
    np.testing.assert_array_equal(bm.W, bm.W.T)


def test_parameters_are_copied_and_read_only():
    W = np.array([[0.0, 1.0], [1.0, 0.0]])
    bm = ls.BoltzmannMachine(W, [0.5, -0.5])
    W[0, 1] = 5.0
    assert bm.W[0, 1] == 1.0
    with pytest.raises(ValueError):
        bm.W[0, 1] = 3.0
    with pytest.raises(ValueError):
        bm.b[0] = 3.0


def test_equality():
    a = ls.BoltzmannMachine([[0, 1], [1, 0]], [0, 1])
    assert a == ls.BoltzmannMachine([[0.0, 1.0], [1.0, 0.0]], [0.0, 1.0])
    assert a != ls.BoltzmannMachine([[0, 1], [1, 0]], [0, 2])
    rbm = ls.RestrictedBoltzmannMachine([[1.0]], [0.0], [1.0])
    assert rbm != ls.BoltzmannMachine(rbm.W, rbm.b)  # different kinds of target


def test_energy_rejects_wrong_number_of_units():
    bm = ls.random_boltzmann_machine(3, seed=0)
    with pytest.raises(ValueError, match="states must have 3 units along the last axis"):
        bm.energy(np.zeros((2, 4)))


# -- restricted Boltzmann machines ---------------------------------------------
def _rbm(rng, nv, nh):
    return ls.RestrictedBoltzmannMachine(
        rng.normal(0, 1, size=(nv, nh)), rng.normal(0, 1, size=nv), rng.normal(0, 1, size=nh)
    )


def test_rbm_structure(rng):
    V = rng.normal(size=(2, 3))
    a, c = rng.normal(size=2), rng.normal(size=3)
    rbm = ls.RestrictedBoltzmannMachine(V, a, c)
    assert isinstance(rbm, ls.BoltzmannMachine)
    assert (rbm.n_units, rbm.n_visible, rbm.n_hidden) == (5, 2, 3)
    np.testing.assert_array_equal(rbm.W[:2, :2], 0)
    np.testing.assert_array_equal(rbm.W[2:, 2:], 0)
    np.testing.assert_array_equal(rbm.W[:2, 2:], V)
    np.testing.assert_array_equal(rbm.W[2:, :2], V.T)
    np.testing.assert_array_equal(rbm.weights, V)
    np.testing.assert_array_equal(rbm.visible_bias, a)
    np.testing.assert_array_equal(rbm.hidden_bias, c)
    np.testing.assert_array_equal(rbm.b, np.r_[a, c])


@pytest.mark.parametrize("nv, nh", [(1, 1), (2, 3), (3, 2), (4, 1)])
def test_rbm_visible_marginal_matches_brute_force_sum_over_hidden(nv, nh, rng):
    rbm = _rbm(rng, nv, nh)
    V, a, c = rbm.weights, rbm.visible_bias, rbm.hidden_bias
    unnorm = []
    for iv in range(2**nv):
        v = _state_of(iv, nv)
        total = 0.0
        for ih in range(2**nh):
            h = _state_of(ih, nh)
            e = sum(a[i] * v[i] for i in range(nv)) + sum(c[j] * h[j] for j in range(nh))
            e += sum(v[i] * V[i][j] * h[j] for i in range(nv) for j in range(nh))
            total += math.exp(e)
        unnorm.append(total)
    expected = np.array(unnorm) / sum(unnorm)
    np.testing.assert_allclose(np.exp(rbm.visible_log_probabilities()), expected, rtol=1e-10)
    # consistent with the joint distribution (visible units are the most significant bits)
    joint = rbm.probabilities().reshape(2**nv, 2**nh).sum(axis=1)
    np.testing.assert_allclose(joint, expected, rtol=1e-10)


def test_rbm_visible_marginal_with_many_hidden_units(rng):
    # the visible marginal sums hidden units analytically: fine beyond the exact limit
    rbm = _rbm(rng, 3, 25)
    lp = rbm.visible_log_probabilities()
    assert lp.shape == (8,)
    assert np.exp(lp).sum() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="exact enumeration"):
        rbm.probabilities()


def test_rbm_visible_marginal_limit(rng):
    rbm = _rbm(rng, MAX_EXACT_UNITS + 1, 1)
    with pytest.raises(ValueError, match="exact enumeration needs 2\\*\\*21"):
        rbm.visible_log_probabilities()


@pytest.mark.parametrize(
    "args, match",
    [
        ((np.zeros((2, 3)), np.zeros(3), np.zeros(3)), "visible_bias must be a vector of length 2"),
        ((np.zeros((2, 3)), np.zeros(2), np.zeros(2)), "hidden_bias must be a vector of length 3"),
        ((np.zeros(3), np.zeros(3), np.zeros(3)), "weights must be a 2-D matrix"),
        ((np.full((1, 1), np.nan), np.zeros(1), np.zeros(1)), "weights must contain only finite"),
    ],
)
def test_invalid_rbm(args, match):
    with pytest.raises(ValueError, match=match):
        ls.RestrictedBoltzmannMachine(*args)


def test_to_dict():
    bm = ls.BoltzmannMachine([[0, 1], [1, 0]], [0.5, -0.5])
    assert bm.to_dict() == {"kind": "BoltzmannMachine", "W": [[0, 1], [1, 0]], "b": [0.5, -0.5]}
    rbm = ls.RestrictedBoltzmannMachine([[1.0]], [0.0], [2.0])
    assert rbm.to_dict()["n_visible"] == 1
    assert rbm.to_dict()["kind"] == "RestrictedBoltzmannMachine"


# -- files ------------------------------------------------------------------------
def test_save_load_round_trip(tmp_path):
    bm = ls.random_boltzmann_machine(4, seed=3)
    bm.save(tmp_path / "bm.npz")
    loaded = ls.load_target(tmp_path / "bm.npz")
    assert type(loaded) is ls.BoltzmannMachine
    assert loaded == bm
    assert [p.name for p in tmp_path.iterdir()] == ["bm.npz"]  # no temporary files left


def test_save_load_round_trip_rbm(tmp_path, rng):
    rbm = _rbm(rng, 2, 3)
    rbm.save(tmp_path / "rbm.npz")
    loaded = ls.load_target(tmp_path / "rbm.npz")
    assert type(loaded) is ls.RestrictedBoltzmannMachine
    assert loaded == rbm
    assert loaded.n_visible == 2


def test_load_plain_npz(tmp_path):
    np.savez(tmp_path / "t.npz", W=np.array([[0.0, 2.0], [2.0, 0.0]]), b=np.array([1.0, 0.0]))
    assert ls.load_target(tmp_path / "t.npz") == ls.BoltzmannMachine([[0, 2], [2, 0]], [1, 0])


@pytest.mark.parametrize(
    "arrays, match",
    [
        ({"W": np.zeros((2, 2))}, r"lacks the array\(s\) b; it has \['W'\]"),
        ({"b": np.zeros(2)}, r"lacks the array\(s\) W; it has \['b'\]"),
        ({"weights": np.zeros((2, 2))}, r"lacks the array\(s\) W, b"),
        ({}, r"lacks the array\(s\) W, b; it has no arrays"),
    ],
)
def test_load_target_missing_arrays(tmp_path, arrays, match):
    path = tmp_path / "t.npz"
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match=match):
        ls.load_target(path)


def test_load_target_refuses_a_non_restricted_W_with_n_visible(tmp_path):
    W = np.array([[0.0, 1.0, 2.0], [1.0, 0.0, 3.0], [2.0, 3.0, 0.0]])  # visible-visible coupling W[0, 1]
    np.savez(tmp_path / "t.npz", W=W, b=np.zeros(3), n_visible=np.array(2))
    with pytest.raises(ValueError, match="restricted"):
        ls.load_target(tmp_path / "t.npz")


def test_load_target_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ls.load_target(tmp_path / "missing.npz")
    (tmp_path / "junk.npz").write_text("not an archive")
    with pytest.raises(ValueError, match="cannot read target file .* as an .npz archive"):
        ls.load_target(tmp_path / "junk.npz")
    np.savez(tmp_path / "asym.npz", W=np.array([[0.0, 1.0], [0.0, 0.0]]), b=np.zeros(2))
    with pytest.raises(ValueError, match="symmetric"):
        ls.load_target(tmp_path / "asym.npz")


# -- random machines ------------------------------------------------------------
@pytest.mark.parametrize("kind", ["sbs", "buesing", "beta"])
def test_random_boltzmann_machine_is_valid_and_deterministic(kind):
    bm = ls.random_boltzmann_machine(6, kind=kind, seed=11)
    assert bm.n_units == 6
    np.testing.assert_array_equal(bm.W, bm.W.T)
    np.testing.assert_array_equal(np.diag(bm.W), 0)
    assert np.all(bm.W[~np.eye(6, dtype=bool)] != 0)
    assert bm == ls.random_boltzmann_machine(6, kind=kind, seed=11)
    assert bm == ls.random_boltzmann_machine(6, kind=kind, seed=np.random.default_rng(11))
    assert bm != ls.random_boltzmann_machine(6, kind=kind, seed=12)


def test_random_boltzmann_machine_kinds_differ():
    machines = [ls.random_boltzmann_machine(5, kind=k, seed=0) for k in ("sbs", "buesing", "beta")]
    assert machines[0] != machines[1] and machines[1] != machines[2] and machines[0] != machines[2]


@pytest.mark.parametrize(
    "kind, w_std, b_mean, b_std, bounded",
    [
        ("sbs", np.sqrt(0.5), 0.0, 1.0, False),  # W = (A + A^T)/2 with A ~ N(0, 1)
        ("buesing", 0.3, -1.5, 0.5, False),
        ("beta", np.sqrt(0.5), 0.0, np.sqrt(0.5), True),  # 2 Beta(1/2, 1/2) - 1 has variance 1/2
    ],
)
def test_random_boltzmann_machine_distributions(kind, w_std, b_mean, b_std, bounded):
    K = 400
    bm = ls.random_boltzmann_machine(K, kind=kind, seed=5)
    w = bm.W[np.triu_indices(K, 1)]
    assert w.std() == pytest.approx(w_std, rel=0.03)
    assert w.mean() == pytest.approx(0.0, abs=0.03)
    assert bm.b.mean() == pytest.approx(b_mean, abs=4 * b_std / np.sqrt(K))
    assert bm.b.std() == pytest.approx(b_std, rel=0.15)
    if bounded:
        assert np.all(np.abs(w) <= 1) and np.all(np.abs(bm.b) <= 1)
        # arcsine law: P(|x| > 0.62) = 1 - 2 asin(0.62) / pi = 0.57 (uniform or normal: 0.38)
        assert np.mean(np.abs(w) > 0.62) > 0.5
    else:
        assert np.any(np.abs(w) > 1.2 * w_std)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(n_units=0), "n_units must be an integer >= 1, got 0"),
        (dict(n_units=2.5), "n_units must be an integer >= 1"),
        (dict(n_units=3, kind="gauss"), "kind must be one of 'sbs', 'buesing', 'beta'; got 'gauss'"),
        (dict(n_units=3, seed=-1), "seed must be a non-negative integer"),
        (dict(n_units=3, seed=1.5), "seed must be a non-negative integer"),
        (dict(n_units=3, seed="abc"), "seed must be a non-negative integer"),
    ],
)
def test_random_boltzmann_machine_errors(kwargs, match):
    n = kwargs.pop("n_units")
    with pytest.raises(ValueError, match=match):
        ls.random_boltzmann_machine(n, **kwargs)
