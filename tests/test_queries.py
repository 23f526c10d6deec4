"""Posterior queries from samples: estimates, MCSE that means something, exact answers beside them."""

from __future__ import annotations

import arviz as az
import numpy as np
import pytest

import lifsampling as ls


@pytest.fixture(scope="module")
def bm():
    return ls.random_boltzmann_machine(4, seed=9)


@pytest.fixture(scope="module")
def run(bm):
    return ls.GibbsSampler(bm).sample(40_000.0, n_chains=4, seed=3)


def _exact(bm, event, given=None):
    p, s = bm.probabilities(), ls.all_states(bm.n_units)
    ok_a = np.all([s[:, k] == v for k, v in event.items()], axis=0)
    ok_b = (
        np.all([s[:, k] == v for k, v in (given or {}).items()], axis=0) if given else np.ones(p.size, bool)
    )
    return p[ok_a & ok_b].sum() / p[ok_b].sum()


def test_posterior_marginals_without_evidence(bm, run):
    post = ls.posterior_marginals(run)
    np.testing.assert_allclose(post.exact.values, bm.marginals())
    np.testing.assert_allclose(post.estimate.values, ls.marginals(run).values)
    np.testing.assert_allclose(post.mcse.values, az.mcse(ls.to_inference_data(run)).states.values, rtol=1e-10)
    assert np.all(np.abs(post.estimate - post.exact) < 4 * post.mcse)


def test_probability_of_events_and_conditionals(bm, run):
    event, given = {0: 1, 2: 0}, {1: 1}
    plain = ls.probability(run, event)
    assert plain.exact == pytest.approx(_exact(bm, event))
    assert abs(plain.value - plain.exact) < 4 * plain.mcse
    cond = ls.probability(run, event, given=given)
    assert cond.exact == pytest.approx(_exact(bm, event, given))
    assert cond.n_selected == int((run.states.values[:, :, 1] == 1).sum())
    assert abs(cond.value - cond.exact) < 4 * cond.mcse
    # the delta-method MCSE is larger than that of a plain proportion with as many draws
    assert cond.mcse > np.sqrt(cond.value * (1 - cond.value) / cond.n_selected) * 0.9
    everything = ls.probability(run, {0: 1, 1: 1, 2: 1, 3: 1})  # an event may name every unit
    assert everything.exact == pytest.approx(bm.probabilities()[-1])


def test_mcse_is_calibrated_across_seeds(bm):
    """Over independent runs, errors / MCSE scatter with a standard deviation near 1."""
    z = []
    for seed in range(12):
        r = ls.GibbsSampler(bm).sample(5_000.0, n_chains=4, seed=100 + seed)
        est = ls.probability(r, {1: 1}, given={0: 1})
        z.append((est.value - est.exact) / est.mcse)
    assert 0.5 < np.std(z) < 1.8, z


def test_queries_under_evidence(bm):
    ev = {3: 1}
    r = ls.GibbsSampler(bm).sample(30_000.0, n_chains=4, seed=4, evidence=ev)
    post = ls.posterior_marginals(r)
    np.testing.assert_allclose(post.exact.values[:3], ls.condition(bm, ev).marginals())
    assert post.estimate.values[3] == 1 and post.mcse.values[3] == 0 and bool(post.clamped[3])
    est = ls.probability(r, {0: 1})
    assert est.exact == pytest.approx(_exact(bm, {0: 1}, ev))
    m = ls.map_state(r)
    assert m["units"] == [0, 1, 2]
    exact_p = ls.condition(bm, ev).probabilities()
    assert m["exact_state"] == format(int(np.argmax(exact_p)), "03b")
    assert m["sampled_state_exact_probability"] >= exact_p.max() - 0.05


@pytest.mark.parametrize(
    ("event", "given", "message"),
    [({5: 1}, None, "event on unit 5"), ({0: 3}, None, "event value"), ({0: 1}, {9: 0}, "given on unit 9")],
)
def test_bad_queries(run, event, given, message):
    with pytest.raises(ValueError, match=message):
        ls.probability(run, event, given=given)


def test_condition_that_never_holds(bm):
    r = ls.GibbsSampler(bm).sample(200.0, n_chains=1, seed=0, evidence={0: 0})
    with pytest.raises(ValueError, match="holds in no draw"):
        ls.probability(r, {1: 1}, given={0: 1})
