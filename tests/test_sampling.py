"""Conformance of every sampler to the shared Sampler interface."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import lifsampling as ls

SAMPLERS = ["gibbs", "lif"]


@pytest.fixture(scope="module")
def target():
    return ls.random_boltzmann_machine(3, seed=0)


@pytest.fixture(params=SAMPLERS)
def sampler(request, target):
    if request.param == "gibbs":
        return ls.GibbsSampler(target)
    cal = request.getfixturevalue("calibration")
    return ls.LIFSampler(target, calibration=cal, progress=False)


def _parameters(method):
    return [
        (p.name, p.kind, p.default, str(p.annotation)) for p in inspect.signature(method).parameters.values()
    ]


SHARED = [
    ("self", inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.empty),
    ("duration", inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.empty),
    ("n_chains", inspect.Parameter.KEYWORD_ONLY, 1),
    ("seed", inspect.Parameter.KEYWORD_ONLY, None),
    ("burn_in", inspect.Parameter.KEYWORD_ONLY, 500.0),
    ("evidence", inspect.Parameter.KEYWORD_ONLY, None),
]


@pytest.mark.parametrize("cls", [ls.GibbsSampler, ls.LIFSampler])
def test_sample_signature(cls):
    """Every sampler takes the shared arguments first; extras are keyword-only with defaults."""
    assert issubclass(cls, ls.Sampler)
    shared = _parameters(ls.Sampler.sample)
    assert [(name, kind, default) for name, kind, default, _ in shared] == SHARED
    params = _parameters(cls.sample)
    assert params[: len(shared)] == shared
    for name, kind, default, _ in params[len(shared) :]:
        assert kind == inspect.Parameter.KEYWORD_ONLY and default is not inspect.Parameter.empty, name


def test_samplers_share_the_signature():
    n = len(SHARED)
    assert _parameters(ls.GibbsSampler.sample)[:n] == _parameters(ls.LIFSampler.sample)[:n]


def test_sampler_base_class_is_abstract(target):
    with pytest.raises(TypeError):
        ls.Sampler(target)


def test_result_conformance(sampler, target):
    ds = sampler.sample(200.0, n_chains=2, seed=3, burn_in=100.0)
    assert ds.states.dims == ("chain", "draw", "unit")
    assert ds.sizes["chain"] == 2 and ds.sizes["unit"] == 3
    assert ds.states.dtype == np.int8
    assert set(np.unique(ds.states.values)) <= {0, 1}
    interval = ds.attrs["sample_interval_ms"]
    assert ds.sizes["draw"] == round(200.0 / interval)
    np.testing.assert_allclose(ds.time.values, np.arange(ds.sizes["draw"]) * interval)
    assert ds.time.attrs["units"] == "ms"
    assert ds.attrs["seed"] == 3 and ds.attrs["burn_in_ms"] == 100.0
    assert isinstance(ds.attrs["sampler"], str)
    assert ls.result_target(ds) == target
    # everything downstream accepts it
    assert ls.kl_divergence(target, ds).n_samples == 2 * ds.sizes["draw"]
    assert ls.dkl_vs_time(target, ds).sizes["time"] >= 2


def test_default_run_arguments(sampler):
    ds = sampler.sample(100.0, seed=1)
    assert ds.sizes["chain"] == 1
    assert ds.attrs["burn_in_ms"] == 500.0


def test_same_seed_same_samples(sampler):
    a = sampler.sample(100.0, n_chains=2, seed=11, burn_in=50.0)
    b = sampler.sample(100.0, n_chains=2, seed=11, burn_in=50.0)
    c = sampler.sample(100.0, n_chains=2, seed=12, burn_in=50.0)
    np.testing.assert_array_equal(a.states.values, b.states.values)
    assert not np.array_equal(a.states.values, c.states.values)


@pytest.mark.parametrize(
    "duration, kwargs",
    [(0.0, {}), (-10.0, {}), (100.0, dict(n_chains=0)), (100.0, dict(seed=-3)), (100.0, dict(burn_in=-1.0))],
)
def test_shared_validation(sampler, duration, kwargs):
    with pytest.raises(ValueError):
        sampler.sample(duration, **kwargs)
