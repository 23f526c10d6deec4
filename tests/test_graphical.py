"""Factor graphs and Bayesian networks, and their exact compilation to Boltzmann machines."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import lifsampling as ls
from lifsampling.graphical import _find_cycle


def _random_bn(rng, n):
    names = [f"v{i}" for i in range(n)]
    parents = {}
    for i, v in enumerate(names):
        k = int(rng.integers(0, min(i, 2) + 1))
        parents[v] = list(rng.choice(names[:i], size=k, replace=False)) if k else []
    cpts = {v: rng.uniform(0.05, 0.95, size=(2,) * len(parents[v])) for v in names}
    return ls.BayesianNetwork(parents, cpts)


def _random_factor_graph(rng, n):
    names = [f"x{i}" for i in range(n)]
    factors = []
    for _ in range(int(rng.integers(1, 4))):
        k = int(min(n, rng.choice([2, 3, 3, 4])))
        scope = list(rng.choice(names, size=k, replace=False))
        factors.append((scope, np.exp(rng.normal(0, 1, size=(2,) * k))))
    return ls.FactorGraph(names, factors)


def _enumerated_marginal(cm):
    """Sum the full joint of the compiled machine over its auxiliary units (<= 20 units)."""
    p = cm.machine.probabilities()
    return p.reshape(2**cm.n_variables, 2**cm.n_auxiliary).sum(axis=1)


@pytest.mark.parametrize("kind", ["bayesian network", "factor graph"])
def test_compilation_is_exact(kind):
    rng = np.random.default_rng(7 if kind == "factor graph" else 8)
    checked = 0
    for _ in range(12):
        n = int(rng.integers(3, 7))
        model = _random_bn(rng, n) if kind == "bayesian network" else _random_factor_graph(rng, n)
        cm = ls.compile_to_boltzmann(model)
        target = model.probabilities()
        np.testing.assert_allclose(cm.marginal_probabilities(), target, rtol=0, atol=1e-9)
        if cm.machine.n_units <= 20:
            np.testing.assert_allclose(_enumerated_marginal(cm), target, rtol=0, atol=1e-9)
            checked += 1
        assert np.abs(cm.machine.W[: cm.n_variables, cm.n_variables :]).max(initial=0) <= 1.5 + 1e-12
    assert checked >= 6  # most models are small enough for full enumeration


def test_third_order_factor_needs_an_auxiliary_unit():
    bn = ls.BayesianNetwork(
        {"a": [], "b": [], "c": ["a", "b"]}, {"a": 0.3, "b": 0.6, "c": [[0.1, 0.8], [0.7, 0.2]]}
    )
    assert any(len(k) == 3 for k in bn.monomials())
    cm = ls.compile_to_boltzmann(bn, max_weight=4.0)
    assert cm.n_auxiliary >= 1
    np.testing.assert_allclose(_enumerated_marginal(cm), bn.probabilities(), atol=1e-12)
    # a smaller weight bound needs more auxiliary units, and is still exact
    small = ls.compile_to_boltzmann(bn, max_weight=0.5)
    assert small.n_auxiliary > cm.n_auxiliary
    np.testing.assert_allclose(small.marginal_probabilities(), bn.probabilities(), atol=1e-12)


def test_pairwise_model_needs_no_auxiliary_units():
    bm = ls.random_boltzmann_machine(4, seed=2)
    names = [f"z{i}" for i in range(4)]
    factors = [
        ((names[i], names[j]), np.exp(np.array([[0, 0], [0, bm.W[i, j]]])))
        for i, j in itertools.combinations(range(4), 2)
    ]
    factors += [((names[i],), np.exp(np.array([0.0, bm.b[i]]))) for i in range(4)]
    cm = ls.compile_to_boltzmann(ls.FactorGraph(names, factors))
    assert cm.n_auxiliary == 0
    np.testing.assert_allclose(cm.machine.W, bm.W, atol=1e-12)
    np.testing.assert_allclose(cm.machine.b, bm.b, atol=1e-12)


def test_bayesian_network_probabilities_are_the_product_of_cpts():
    bn = ls.BayesianNetwork({"a": [], "b": ["a"]}, {"a": 0.3, "b": [0.2, 0.9]})
    # states 00, 01, 10, 11 (a is the most significant bit)
    np.testing.assert_allclose(bn.probabilities(), [0.7 * 0.8, 0.7 * 0.2, 0.3 * 0.1, 0.3 * 0.9])
    full = ls.BayesianNetwork({"a": [], "b": ["a"]}, {"a": [0.7, 0.3], "b": [[0.8, 0.2], [0.1, 0.9]]})
    np.testing.assert_allclose(full.probabilities(), bn.probabilities())
    assert bn.marginals()["b"] == pytest.approx(0.7 * 0.2 + 0.3 * 0.9)


def test_explaining_away_in_the_exact_posterior():
    bn = ls.BayesianNetwork(
        {"rain": [], "sprinkler": [], "wet": ["rain", "sprinkler"]},
        {"rain": 0.2, "sprinkler": 0.3, "wet": [[0.05, 0.9], [0.9, 0.99]]},
    )
    prior = bn.marginals()["rain"]
    wet = bn.posterior_marginals({"wet": 1})["rain"]
    both = bn.posterior_marginals({"wet": 1, "sprinkler": 1})["rain"]
    assert wet > prior and both < wet
    assert bn.evidence({"wet": 1, "rain": 0}) == {0: 0, 2: 1}


@pytest.mark.parametrize(
    ("parents", "cpts", "message"),
    [
        ({"a": [], "b": ["a"]}, {"a": [0.6, 0.3], "b": [0.2, 0.9]}, "must be 1 for every parent"),
        ({"a": [], "b": ["a"]}, {"a": 0.3, "b": [[0.8, 0.3], [0.1, 0.9]]}, "must be 1 for every parent"),
        ({"a": ["b"], "b": ["c"], "c": ["a"]}, {"a": [0.5, 0.5], "b": [0.5, 0.5], "c": [0.5, 0.5]}, "cycle"),
        ({"a": ["a"]}, {"a": [0.5, 0.5]}, "its own parent"),
        ({"a": ["x"]}, {"a": [0.5, 0.5]}, "unknown parent"),
        ({"a": [], "b": []}, {"a": 0.5}, "missing: \\['b'\\]"),
        ({"a": []}, {"a": 1.0}, "strictly between 0 and 1"),
        ({"a": []}, {"a": -0.2}, "strictly between 0 and 1"),
        ({"a": [], "b": ["a"]}, {"a": 0.5, "b": [0.1, 0.2, 0.3]}, "must have shape"),
    ],
)
def test_bad_bayesian_networks(parents, cpts, message):
    with pytest.raises(ValueError, match=message):
        ls.BayesianNetwork(parents, cpts)


def test_cycle_is_named():
    cycle = _find_cycle({"a": ("c",), "b": ("a",), "c": ("b",)})
    assert cycle[0] == cycle[-1] and set(cycle) == {"a", "b", "c"}


@pytest.mark.parametrize(
    ("factors", "message"),
    [
        ([(("a", "q"), np.ones((2, 2)))], "unknown variable"),
        ([(("a", "a"), np.ones((2, 2)))], "names a variable twice"),
        ([(("a", "b"), np.ones(2))], "shape"),
        ([(("a", "b"), np.zeros((2, 2)))], "strictly positive"),
        ([(("a",), [1.0, np.nan])], "strictly positive"),
        ([("a",)], "pair"),
    ],
)
def test_bad_factor_graphs(factors, message):
    with pytest.raises(ValueError, match=message):
        ls.FactorGraph(["a", "b"], factors)


@pytest.mark.parametrize(
    ("observed", "message"),
    [({"nope": 1}, "unknown variable"), ({"a": 2}, "variable 'a' must be 0 or 1"), ({"a": 0.5}, "0 or 1")],
)
def test_bad_evidence_by_name(observed, message):
    bn = ls.BayesianNetwork({"a": [], "b": ["a"]}, {"a": 0.3, "b": [0.2, 0.9]})
    with pytest.raises(ValueError, match=message):
        bn.evidence(observed)
    with pytest.raises(ValueError, match=message):
        ls.compile_to_boltzmann(bn).evidence(observed)


def test_compile_rejects_bad_arguments():
    with pytest.raises(TypeError, match="FactorGraph"):
        ls.compile_to_boltzmann(ls.random_boltzmann_machine(3, seed=0))
    bn = ls.BayesianNetwork({"a": []}, {"a": 0.5})
    with pytest.raises(ValueError, match="max_weight"):
        ls.compile_to_boltzmann(bn, max_weight=0.0)


def test_posterior_marginals_of_the_variables_of_a_compiled_model():
    bn = ls.BayesianNetwork(
        {"rain": [], "sprinkler": [], "wet": ["rain", "sprinkler"]},
        {"rain": 0.2, "sprinkler": 0.3, "wet": [[0.05, 0.9], [0.9, 0.99]]},
    )
    cm = ls.compile_to_boltzmann(bn)
    run = ls.GibbsSampler(cm.machine).sample(20_000.0, n_chains=4, seed=1, evidence=cm.evidence({"wet": 1}))
    post = cm.posterior_marginals(run)
    assert list(post.variable.values) == ["rain", "sprinkler", "wet"]
    exact = bn.posterior_marginals({"wet": 1})
    np.testing.assert_allclose(post.exact.values, [exact[v] for v in bn.variables], atol=1e-9)
    assert np.all(np.abs(post.estimate - post.exact) <= 4 * post.mcse + 1e-12)


def test_map_state_of_the_variables_of_a_compiled_model():
    bn = ls.BayesianNetwork(
        {"rain": [], "sprinkler": [], "wet": ["rain", "sprinkler"]},
        {"rain": 0.2, "sprinkler": 0.3, "wet": [[0.05, 0.9], [0.9, 0.99]]},
    )
    cm = ls.compile_to_boltzmann(bn)
    run = ls.GibbsSampler(cm.machine).sample(20_000.0, n_chains=4, seed=2, evidence=cm.evidence({"wet": 1}))
    out = cm.map_state(run)
    assert out["variables"] == ["rain", "sprinkler"]
    post = bn.probabilities().reshape(2, 2, 2)[:, :, 1]
    best = np.unravel_index(np.argmax(post), post.shape)
    assert out["exact_state"] == f"{best[0]}{best[1]}"
    assert out["exact_probability"] == pytest.approx(post.max() / post.sum())
    assert out["state"] == out["exact_state"]
