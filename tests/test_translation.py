"""Translation Boltzmann (W, b) <-> LIF (leak potentials, synaptic weights), science.md section 5."""

from __future__ import annotations

import brian2 as b2
import numpy as np
import pytest

import lifsampling as ls
from lifsampling.calibration import logistic


@pytest.fixture(scope="module")
def current_calibration():
    """A current-based calibration made by hand (fake fitted values, no simulation)."""
    neuron = ls.NeuronParameters(
        model="curr_exp", cm=0.2, tau_m=2.0, v_rest=0.0, tau_syn_E=5.0, tau_syn_I=8.0
    )
    noise = ls.PoissonNoise(2000.0, 2000.0, 0.05 * b2.nA, 0.05 * b2.nA)
    v = np.linspace(-55.0, -45.0, 9)
    return ls.Calibration(
        v_p05=-50.3, alpha=1.7, v_rest=v, p_on=logistic(v, -50.3, 1.7), neuron=neuron, noise=noise, dt=0.1
    )


def _expected_weight_per_unit(cal, v_rest_target, excitatory):
    """science.md section 5 formula, evaluated independently of the package's helper."""
    n = cal.neuron
    tau_r = n.tau_refrac
    tau_s = n.tau_syn_E if excitatory else n.tau_syn_I
    fm = ls.free_membrane(n, cal.noise, v_rest_target)
    tau_eff = float(fm.tau_eff)
    bracket = tau_s * (1 - np.exp(-tau_r / tau_s)) - tau_eff * (1 - np.exp(-tau_r / tau_eff))
    w = cal.alpha * n.g_l * tau_r * (tau_s - tau_eff) / (tau_s * bracket)
    if n.conductance_based:
        delta_e = (n.e_rev_E - fm.mean) if excitatory else (fm.mean - n.e_rev_I)
        w = w / delta_e
    return w


def test_bias_becomes_leak_potential(hand_calibration):
    bm = ls.BoltzmannMachine(np.zeros((3, 3)), [-1.0, 0.0, 2.5])
    lif = ls.boltzmann_to_lif(bm, hand_calibration)
    np.testing.assert_allclose(lif.v_rest, [-50.6 - 0.79, -50.6, -50.6 + 2.5 * 0.79], rtol=1e-14)
    np.testing.assert_array_equal(lif.w_exc, 0)
    np.testing.assert_array_equal(lif.w_inh, 0)
    assert lif.n_units == 3 and lif.weight_unit == "uS"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_round_trip_conductance_based(hand_calibration, seed):
    bm = ls.random_boltzmann_machine(5, seed=seed)
    lif = ls.boltzmann_to_lif(bm, hand_calibration)
    W, b = ls.lif_to_boltzmann(lif, hand_calibration)
    np.testing.assert_allclose(W, bm.W, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(b, bm.b, rtol=1e-12, atol=1e-14)


def test_round_trip_with_measured_calibration(calibration):
    bm = ls.random_boltzmann_machine(4, kind="beta", seed=9)
    lif = ls.boltzmann_to_lif(bm, calibration)
    W, b = ls.lif_to_boltzmann(lif, calibration)
    np.testing.assert_allclose(W, bm.W, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(b, bm.b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("seed", [0, 4])
def test_round_trip_current_based(current_calibration, seed):
    bm = ls.random_boltzmann_machine(5, seed=seed)
    lif = ls.boltzmann_to_lif(bm, current_calibration)
    assert lif.weight_unit == "nA"
    W, b = ls.lif_to_boltzmann(lif, current_calibration)
    np.testing.assert_allclose(W, bm.W, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(b, bm.b, rtol=1e-12, atol=1e-14)


def test_sign_convention(hand_calibration):
    W = np.array([[0.0, 0.8, -0.6], [0.8, 0.0, 0.0], [-0.6, 0.0, 0.0]])
    lif = ls.boltzmann_to_lif(ls.BoltzmannMachine(W, np.zeros(3)), hand_calibration)
    assert np.all(lif.w_exc >= 0) and np.all(lif.w_inh >= 0)
    np.testing.assert_array_equal(lif.w_exc > 0, W > 0)  # W > 0: only excitatory
    np.testing.assert_array_equal(lif.w_inh > 0, W < 0)  # W < 0: only inhibitory
    np.testing.assert_array_equal(np.diag(lif.w_exc), 0)


def test_weight_magnitude_for_the_sbs_set(hand_calibration):
    """About 5 nS per unit of W for the sbs neuron (alpha = 0.79 mV, mu ≈ -50.5 mV)."""
    for sign, attr in ((1.0, "w_exc"), (-1.0, "w_inh")):
        W = sign * np.array([[0.0, 1.0], [1.0, 0.0]])
        lif = ls.boltzmann_to_lif(ls.BoltzmannMachine(W, np.zeros(2)), hand_calibration)
        w = getattr(lif, attr)[0, 1]
        assert 0.0045 < w < 0.006, f"{attr} = {w * 1000:.2f} nS per unit W"
        assert getattr(lif, attr)[0, 1] == getattr(lif, attr)[1, 0]  # equal biases: symmetric
        # linear in |W|
        lif2 = ls.boltzmann_to_lif(ls.BoltzmannMachine(2.5 * W, np.zeros(2)), hand_calibration)
        assert getattr(lif2, attr)[0, 1] == pytest.approx(2.5 * w, rel=1e-12)


def test_weights_follow_the_formula_at_the_target_neuron(hand_calibration):
    """w_ij is evaluated at the free membrane of the postsynaptic neuron j (column)."""
    b = np.array([2.0, -2.0, 0.5])
    W = np.array([[0.0, 1.0, -0.5], [1.0, 0.0, 0.7], [-0.5, 0.7, 0.0]])
    lif = ls.boltzmann_to_lif(ls.BoltzmannMachine(W, b), hand_calibration)
    for i in range(3):
        for j in range(3):
            if W[i, j] > 0:
                f = _expected_weight_per_unit(hand_calibration, lif.v_rest[j], True)
                assert lif.w_exc[i, j] == pytest.approx(W[i, j] * f, rel=1e-12)
            elif W[i, j] < 0:
                f = _expected_weight_per_unit(hand_calibration, lif.v_rest[j], False)
                assert lif.w_inh[i, j] == pytest.approx(-W[i, j] * f, rel=1e-12)
    # neuron 0 has the higher leak potential, so less excitatory driving force and a
    # larger excitatory weight onto it
    assert lif.w_exc[1, 0] > lif.w_exc[0, 1]


def test_current_based_weights_follow_the_formula(current_calibration):
    W = np.array([[0.0, 1.0], [1.0, 0.0]])
    lif = ls.boltzmann_to_lif(ls.BoltzmannMachine(W, [1.0, -1.0]), current_calibration)
    f = _expected_weight_per_unit(current_calibration, 0.0, True)
    np.testing.assert_allclose(lif.w_exc[[0, 1], [1, 0]], f, rtol=1e-12)  # independent of E_L
    lif = ls.boltzmann_to_lif(ls.BoltzmannMachine(-W, [1.0, -1.0]), current_calibration)
    f = _expected_weight_per_unit(current_calibration, 0.0, False)
    np.testing.assert_allclose(lif.w_inh[[0, 1], [1, 0]], f, rtol=1e-12)


def test_asymmetric_lif_weights_translate_to_asymmetric_W(hand_calibration):
    lif = ls.boltzmann_to_lif(ls.BoltzmannMachine([[0, 1], [1, 0]], [0, 0]), hand_calibration)
    w_exc = lif.w_exc.copy()
    w_exc[0, 1] *= 2
    W, _ = ls.lif_to_boltzmann(ls.LIFParameters(lif.v_rest, w_exc, lif.w_inh, "uS"), hand_calibration)
    assert W[0, 1] == pytest.approx(2.0) and W[1, 0] == pytest.approx(1.0)


def test_biases_beyond_the_reversal_potentials(hand_calibration):
    with pytest.raises(ValueError, match="mean free membrane potential lies beyond a reversal potential"):
        ls.boltzmann_to_lif(ls.BoltzmannMachine(np.zeros((2, 2)), [200.0, 0.0]), hand_calibration)
    with pytest.raises(ValueError, match="beyond a reversal potential"):
        ls.boltzmann_to_lif(ls.BoltzmannMachine(np.zeros((2, 2)), [0.0, -200.0]), hand_calibration)


def test_weight_unit_mismatch(hand_calibration, current_calibration):
    lif = ls.boltzmann_to_lif(ls.random_boltzmann_machine(3, seed=0), current_calibration)
    with pytest.raises(ValueError, match="weights are in nA but the calibrated neuron uses uS"):
        ls.lif_to_boltzmann(lif, hand_calibration)
