"""Unit handling at the API boundary: Brian2 quantities or plain PyNN-unit floats."""

from __future__ import annotations

import brian2 as b2
import numpy as np
import pytest
from brian2.units.fundamentalunits import DimensionMismatchError

import lifsampling as ls
from lifsampling._units import positive, steps, to_array, to_float


@pytest.mark.parametrize(
    "quantity, unit, expected",
    [
        (0.2 * b2.nF, "nF", 0.2),
        (200 * b2.pF, "nF", 0.2),
        (1 * b2.second, "ms", 1000.0),
        (10 * b2.ms, "ms", 10.0),
        (-0.05 * b2.volt, "mV", -50.0),
        (1 * b2.nS, "uS", 0.001),
        (2 * b2.uS, "uS", 2.0),
        (0.5 * b2.nA, "nA", 0.5),
        (3 * b2.kHz, "Hz", 3000.0),
    ],
)
def test_brian2_quantities_are_converted_to_pynn_units(quantity, unit, expected):
    assert to_float(quantity, unit, "x") == pytest.approx(expected, rel=1e-12)


def test_plain_numbers_are_taken_in_pynn_units():
    assert to_float(0.2, "nF", "cm") == 0.2
    assert to_float(np.float32(3), "ms", "t") == 3.0
    np.testing.assert_array_equal(to_array([1, 2], "mV", "v"), [1.0, 2.0])
    np.testing.assert_allclose(to_array(np.array([1, 2]) * b2.mV, "mV", "v"), [1.0, 2.0])


@pytest.mark.parametrize(
    "value, unit, match",
    [
        (10 * b2.mV, "nF", r"cm must have the dimensions of nF \(farad\), got 10\. \* mvolt"),
        (1 * b2.nF, "ms", r"cm must have the dimensions of ms \(second\)"),
        (1 * b2.ms, "Hz", r"cm must have the dimensions of Hz \(hertz\)"),
        (1 * b2.nA, "uS", r"cm must have the dimensions of uS \(siemens\)"),
    ],
)
def test_wrong_dimensions(value, unit, match):
    with pytest.raises(DimensionMismatchError, match=match):
        to_float(value, unit, "cm")


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf, [1.0, np.nan]])
def test_non_finite_values(value):
    with pytest.raises(ValueError, match="x must be finite"):
        to_array(value, "mV", "x")


def test_non_numeric_values():
    with pytest.raises(TypeError, match="x must be a number \\(in mV\\) or a Brian2 quantity, got 'abc'"):
        to_float("abc", "mV", "x")
    with pytest.raises(TypeError, match="x must be a number"):
        to_float([1.0, "b"], "mV", "x")


def test_scalar_required():
    with pytest.raises(ValueError, match=r"x must be a scalar, got an array of shape \(2,\)"):
        to_float([1.0, 2.0], "mV", "x")


def test_unknown_unit():
    with pytest.raises(KeyError, match="unknown unit 'mA'"):
        to_float(1.0, "mA", "x")


@pytest.mark.parametrize("value", [0.0, -1.0, 0 * b2.ms, -2 * b2.ms])
def test_positive(value):
    with pytest.raises(ValueError, match="tau must be positive, got"):
        positive(value, "ms", "tau")
    assert positive(0.1 * b2.ms, "ms", "tau") == pytest.approx(0.1)


def test_steps():
    assert steps(10.0, 0.1, "tau_refrac") == 100
    assert steps(0.3, 0.1, "x") == 3  # 0.3 / 0.1 = 2.9999999999999996
    assert steps(0.0, 0.1, "burn_in") == 0
    assert steps(1.0, 1.0, "x") == 1
    with pytest.raises(ValueError, match=r"sample_interval = 0\.25 ms is not a multiple of dt = 0\.1 ms"):
        steps(0.25, 0.1, "sample_interval")
    with pytest.raises(ValueError, match="use e.g. 1 ms"):
        steps(1.04, 0.1, "x")


# -- the boundary is used by every public constructor -----------------------------------
def test_neuron_parameters_accept_quantities(sbs_neuron):
    p = ls.NeuronParameters(
        cm=200 * b2.pF,
        tau_m=1 * b2.ms,
        v_rest=-50 * b2.mV,
        v_thresh=-0.05 * b2.volt,
        v_reset=-50.001 * b2.mV,
        e_rev_E=0 * b2.mV,
        e_rev_I=-100 * b2.mV,
        tau_syn_E=10 * b2.ms,
        tau_syn_I=0.01 * b2.second,
        tau_refrac=10 * b2.ms,
    )
    for name, value in sbs_neuron.to_dict().items():
        assert getattr(p, name) == (value if isinstance(value, str) else pytest.approx(value, rel=1e-12))
    assert isinstance(p.cm, float)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(cm=10 * b2.mV), r"cm must have the dimensions of nF \(farad\)"),
        (dict(tau_m=1 * b2.nF), r"tau_m must have the dimensions of ms \(second\)"),
        (dict(v_thresh=1 * b2.ms), r"v_thresh must have the dimensions of mV \(volt\)"),
        (dict(tau_refrac=5 * b2.Hz), r"tau_refrac must have the dimensions of ms"),
    ],
)
def test_neuron_parameters_dimension_errors(kwargs, match):
    with pytest.raises(DimensionMismatchError, match=match):
        ls.NeuronParameters(**kwargs)


def test_noise_dimension_errors():
    with pytest.raises(DimensionMismatchError, match=r"rate_exc must have the dimensions of Hz"):
        ls.PoissonNoise(rate_exc=5 * b2.ms)
    with pytest.raises(ValueError, match=r"weight_exc must be a conductance \(µS\) or a current \(nA\)"):
        ls.PoissonNoise(weight_exc=1 * b2.mV)


def test_sampler_durations_accept_quantities():
    g = ls.GibbsSampler(ls.random_boltzmann_machine(2, seed=0), sweep_time=10 * b2.ms)
    ds = g.sample(0.1 * b2.second, n_chains=1, seed=0, burn_in=20 * b2.ms)
    assert ds.sizes["draw"] == 10
    assert ds.attrs["burn_in_ms"] == 20.0
    with pytest.raises(DimensionMismatchError, match="duration must have the dimensions of ms"):
        g.sample(1 * b2.mV, seed=0)
