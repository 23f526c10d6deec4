"""Neuron parameters: PyNN names and units, presets, validation."""

from __future__ import annotations

import json

import numpy as np
import pytest

import lifsampling as ls


def test_sbs_preset_matches_science_table(sbs_neuron):
    assert sbs_neuron.to_dict() == dict(
        cm=0.2,
        tau_m=1.0,
        v_rest=-50.0,
        v_thresh=-50.0,
        v_reset=-50.001,
        e_rev_E=0.0,
        e_rev_I=-100.0,
        tau_syn_E=10.0,
        tau_syn_I=10.0,
        tau_refrac=10.0,
        model="cond_exp",
    )
    assert sbs_neuron.g_l == pytest.approx(0.2)  # 200 nS
    assert sbs_neuron.conductance_based and sbs_neuron.weight_unit == "uS"


@pytest.mark.parametrize(
    "name, values",
    [
        (
            "high_conductance",
            dict(cm=0.1, tau_m=20.0, v_rest=-65.0, v_thresh=-52.0, v_reset=-53.0, e_rev_I=-90.0),
        ),
        ("dold", dict(cm=0.1, tau_m=1.0, v_rest=-65.0, v_thresh=-52.0, v_reset=-53.0, e_rev_I=-90.0)),
    ],
)
def test_other_presets(name, values):
    p = ls.NeuronParameters.preset(name)
    for key, value in values.items():
        assert getattr(p, key) == value
    assert (p.e_rev_E, p.tau_syn_E, p.tau_syn_I, p.tau_refrac) == (0.0, 10.0, 10.0, 10.0)


def test_unknown_preset():
    match = r"unknown preset 'nest'; choose one of \['dold', 'high_conductance', 'sbs'\]"
    with pytest.raises(ValueError, match=match):
        ls.NeuronParameters.preset("nest")


def test_replace_and_dict_round_trip(sbs_neuron):
    p = sbs_neuron.replace(tau_refrac=20.0, v_rest=-60.0)
    assert (p.tau_refrac, p.v_rest, p.cm) == (20.0, -60.0, 0.2)
    assert sbs_neuron.tau_refrac == 10.0  # frozen original unchanged
    d = json.loads(json.dumps(p.to_dict()))
    assert ls.NeuronParameters.from_dict(d) == p
    with pytest.raises(AttributeError):
        p.cm = 1.0  # type: ignore[misc]


def test_from_dict_rejects_unknown_names():
    with pytest.raises(ValueError, match=r"unknown neuron parameters \['C_m'\]"):
        ls.NeuronParameters.from_dict({"C_m": 0.2})


def test_current_based_model():
    p = ls.NeuronParameters(model="curr_exp", e_rev_E=-200.0, e_rev_I=100.0)  # reversals unused
    assert not p.conductance_based
    assert p.weight_unit == "nA"


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(cm=0.0), "cm must be positive, got 0.0 nF"),
        (dict(tau_m=-1.0), "tau_m must be positive"),
        (dict(tau_syn_E=0.0), "tau_syn_E must be positive"),
        (dict(tau_syn_I=-3.0), "tau_syn_I must be positive"),
        (dict(tau_refrac=0.0), "tau_refrac must be positive, got 0.0 ms"),
        (dict(v_thresh=np.nan), "v_thresh must be finite"),
        (dict(v_rest=np.inf), "v_rest must be finite"),
        (dict(model="IF_cond_exp"), "model must be 'cond_exp' or 'curr_exp', got 'IF_cond_exp'"),
        (dict(v_reset=-49.0), r"v_reset \(-49.0 mV\) must not lie above v_thresh \(-50.0 mV\)"),
        (dict(e_rev_E=-60.0), "conductance-based neurons need e_rev_I < v_thresh < e_rev_E"),
        (dict(e_rev_I=-40.0), "conductance-based neurons need e_rev_I < v_thresh < e_rev_E"),
    ],
)
def test_invalid_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ls.NeuronParameters(**kwargs)


def test_non_numeric_parameter():
    with pytest.raises(TypeError, match="cm must be a number"):
        ls.NeuronParameters(cm="big")
