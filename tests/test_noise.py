"""Background noise: the PoissonNoise reference source."""

from __future__ import annotations

import brian2 as b2
import numpy as np
import pytest
from _helpers import conductance_samples, filtered_count_moments

import lifsampling as ls
from lifsampling.noise import InputComponent, input_variables, noise_from_dict


def test_presets():
    assert ls.PoissonNoise.preset("sbs").to_dict() == {
        "kind": "PoissonNoise",
        "rate_exc": 3000.0,
        "rate_inh": 3000.0,
        "weight_exc": 0.001,
        "weight_inh": 0.001,
    }
    hc = ls.PoissonNoise.preset("high_conductance")
    assert (hc.rate_exc, hc.rate_inh, hc.weight_exc, hc.weight_inh) == (5000.0, 5000.0, 0.0035, 0.0055)
    dold = ls.PoissonNoise.preset("dold")
    assert (dold.rate_exc, dold.rate_inh, dold.weight_exc, dold.weight_inh) == (2000.0, 2000.0, 0.001, 0.0035)
    with pytest.raises(ValueError, match="unknown preset 'x'"):
        ls.PoissonNoise.preset("x")


def test_quantities_and_equality():
    n = ls.PoissonNoise(3 * b2.kHz, 3000 * b2.Hz, 1 * b2.nS, 0.001 * b2.uS)
    assert n == ls.PoissonNoise.preset("sbs")
    assert hash(n) == hash(ls.PoissonNoise.preset("sbs"))
    assert n.weight_kind == "uS"
    assert n != ls.PoissonNoise(3000.0, 3000.0, 0.001, 0.002)
    assert noise_from_dict(n.to_dict()) == n


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(rate_exc=-1.0), "rate_exc must be >= 0, got -1.0"),
        (dict(rate_inh=-1.0), "rate_inh must be >= 0"),
        (dict(weight_exc=-0.001), "weight_exc must be >= 0"),
        (dict(weight_inh=-0.001), "weight_inh must be >= 0"),
        (dict(weight_exc=1 * b2.nS, weight_inh=1 * b2.nA), "both be conductances or both currents"),
    ],
)
def test_invalid_noise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ls.PoissonNoise(**kwargs)


def test_weight_units_must_match_the_neuron_model(sbs_neuron):
    current = ls.PoissonNoise(weight_exc=0.01 * b2.nA, weight_inh=0.01 * b2.nA)
    curr_neuron = sbs_neuron.replace(model="curr_exp")
    current.check_compatible(curr_neuron)
    with pytest.raises(ValueError, match="weights are given in nA but the neuron model 'cond_exp'"):
        current.check_compatible(sbs_neuron)
    with pytest.raises(ValueError, match="weights are given in uS but the neuron model 'curr_exp'"):
        ls.PoissonNoise(weight_exc=1 * b2.nS).input_components(curr_neuron)
    # plain floats are taken in the neuron's weight unit, whatever it is
    ls.PoissonNoise().check_compatible(curr_neuron)
    ls.PoissonNoise().check_compatible(sbs_neuron)


def test_input_components(sbs_neuron):
    comps = ls.PoissonNoise(1000.0, 2000.0, 0.003, 0.004).input_components(sbs_neuron)
    assert comps == [InputComponent(1000.0, 0.003, True), InputComponent(2000.0, 0.004, False)]
    assert input_variables(sbs_neuron) == ("g_e", "g_i")
    assert input_variables(sbs_neuron.replace(model="curr_exp")) == ("I_e", "I_i")


def test_noise_from_dict_unknown_kind():
    with pytest.raises(ValueError, match="unknown noise source kind 'SharedPool'"):
        noise_from_dict({"kind": "SharedPool"})


def test_custom_noise_source_without_poisson_description(sbs_neuron):
    class Silent(ls.NoiseSource):
        def to_dict(self):
            return {"kind": "Silent"}

        def build(self, group, neuron):
            return []

    s = Silent()
    s.check_compatible(sbs_neuron)
    assert s.neuron_equations(sbs_neuron) == ""
    assert s != ls.PoissonNoise()
    with pytest.raises(NotImplementedError, match="Silent has no Poisson description"):
        ls.free_membrane(sbs_neuron, s)


# -- statistics of the per-step event counts ---------------------------------------


@pytest.mark.parametrize("mean", [0.0, 0.05, 0.3, 1.0, 2.0])
def test_count_table_is_the_poisson_cdf_up_to_a_tiny_tail(mean):
    from scipy.stats import poisson

    cdf = ls.PoissonNoise().count_cdf(mean)
    k = np.arange(len(cdf))
    np.testing.assert_allclose(cdf, poisson.cdf(k, mean), rtol=0, atol=1e-15)
    assert 1.0 - cdf[-1] < 1e-12  # the lumped tail
    assert np.all(np.diff(cdf) >= 0)


def test_count_table_falls_back_to_brian_poisson_for_large_means():
    assert ls.PoissonNoise().count_cdf(2.5) is None


@pytest.mark.parametrize(
    ("rate", "dt_ms"),
    [(3000.0, 0.1), (30_000.0, 0.1)],  # mean 0.3 per step (CDF table) and 3.0 (Brian2's poisson())
)
def test_poisson_background_has_poisson_statistics(sbs_neuron, rate, dt_ms):
    noise = ls.PoissonNoise(rate_exc=rate, rate_inh=rate, weight_exc=0.001, weight_inh=0.001)
    g = conductance_samples(noise, sbs_neuron, dt_ms, steps=int(1500 / dt_ms))
    lam = rate * dt_ms * 1e-3
    mean, var = filtered_count_moments(0.001, lam, lam, dt_ms, sbs_neuron.tau_syn_E)
    assert g.mean() == pytest.approx(mean, rel=0.015)
    assert g.var() == pytest.approx(var, rel=0.04)


def test_capped_counts_have_the_smaller_bernoulli_variance(sbs_neuron):
    """A one-threshold table is Bernoulli: the variance test above tells it apart from Poisson."""

    class Capped(ls.PoissonNoise):
        def to_dict(self):
            return {**super().to_dict(), "kind": "Capped"}

        def count_cdf(self, mean):
            return np.array([1.0 - mean])

    g = conductance_samples(Capped(), sbs_neuron, 0.1, steps=15_000)
    lam = 0.3
    mean, var_bernoulli = filtered_count_moments(0.001, lam, lam * (1 - lam), 0.1, sbs_neuron.tau_syn_E)
    _, var_poisson = filtered_count_moments(0.001, lam, lam, 0.1, sbs_neuron.tau_syn_E)
    assert g.mean() == pytest.approx(mean, rel=0.015)
    assert g.var() == pytest.approx(var_bernoulli, rel=0.04)
    assert abs(g.var() - var_poisson) > 0.2 * var_poisson
