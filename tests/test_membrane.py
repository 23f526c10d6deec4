"""Free-membrane-potential theory (science.md section 3)."""

from __future__ import annotations

import numpy as np
import pytest

import lifsampling as ls


def test_sbs_numbers(sbs_neuron, sbs_noise):
    # science.md: g_l = 200 nS, g_tot = 260 nS, tau_eff = 0.77 ms, sigma ≈ 1.0 mV
    fm = ls.free_membrane(sbs_neuron, sbs_noise)
    assert float(fm.g_tot) == pytest.approx(0.26, abs=1e-12)
    assert float(fm.tau_eff) == pytest.approx(0.769, abs=5e-4)
    assert float(fm.std) == pytest.approx(1.0, abs=0.05)
    # E_L = -50 mV, g_e = g_i = 30 nS: mu = (0.2 * -50 + 0.03 * 0 + 0.03 * -100) / 0.26 = -50
    assert float(fm.mean) == pytest.approx(-50.0, abs=1e-12)


def test_high_conductance_numbers():
    # science.md: g_tot = 455 nS, tau_eff = 0.22 ms, mu ≈ -55.1 mV, sigma ≈ 3.0 mV
    fm = ls.free_membrane(
        ls.NeuronParameters.preset("high_conductance"), ls.PoissonNoise.preset("high_conductance")
    )
    assert float(fm.g_tot) == pytest.approx(0.455, abs=1e-12)
    assert float(fm.tau_eff) == pytest.approx(0.22, abs=0.002)
    assert float(fm.mean) == pytest.approx(-55.1, abs=0.05)
    assert float(fm.std) == pytest.approx(3.0, abs=0.1)


def _science_md_formula(neuron, rates_khz, weights, e_l):
    """science.md section 3, written out term by term for two sources (E, I)."""
    g_l, c_m = neuron.cm / neuron.tau_m, neuron.cm
    tau_s = (neuron.tau_syn_E, neuron.tau_syn_I)
    rev = (neuron.e_rev_E, neuron.e_rev_I)
    g = [weights[x] * rates_khz[x] * tau_s[x] for x in (0, 1)]
    g_tot = g_l + g[0] + g[1]
    tau_eff = c_m / g_tot
    mu = (g_l * e_l + g[0] * rev[0] + g[1] * rev[1]) / g_tot
    var = 0.0
    for x in (0, 1):
        tau_g = 1.0 / (1.0 / tau_s[x] - 1.0 / tau_eff)
        amp = weights[x] * (rev[x] - mu) * tau_g / (tau_eff * g_tot)
        shape = tau_s[x] / 2 + tau_eff / 2 - 2 * tau_eff * tau_s[x] / (tau_eff + tau_s[x])
        var = var + rates_khz[x] * amp**2 * shape
    return mu, np.sqrt(var), g_tot, tau_eff


@pytest.mark.parametrize("preset", ["sbs", "high_conductance", "dold"])
def test_matches_science_md_formula(preset):
    neuron = ls.NeuronParameters.preset(preset).replace(tau_syn_I=7.0)  # distinct E and I time constants
    noise = ls.PoissonNoise.preset(preset)
    e_l = np.array([-70.0, -60.0, -52.5, -40.0])
    mu, sigma, g_tot, tau_eff = _science_md_formula(
        neuron, (noise.rate_exc / 1000, noise.rate_inh / 1000), (noise.weight_exc, noise.weight_inh), e_l
    )
    fm = ls.free_membrane(neuron, noise, e_l)
    assert fm.mean.shape == fm.std.shape == (4,)
    np.testing.assert_allclose(fm.mean, mu, rtol=1e-12)
    np.testing.assert_allclose(fm.std, sigma, rtol=1e-12)
    assert float(fm.g_tot) == pytest.approx(g_tot, rel=1e-12)
    assert float(fm.tau_eff) == pytest.approx(tau_eff, rel=1e-12)


def test_default_leak_potential_is_the_neurons(sbs_neuron, sbs_noise):
    n = sbs_neuron.replace(v_rest=-53.0)
    expected = ls.free_membrane(sbs_neuron, sbs_noise, -53.0).mean
    assert float(ls.free_membrane(n, sbs_noise).mean) == float(expected)


def test_mean_moves_with_leak_potential_by_g_l_over_g_tot(sbs_neuron, sbs_noise):
    # the conversion factor between alpha in E_L units and in units of the mean potential
    fm = ls.free_membrane(sbs_neuron, sbs_noise, np.array([-52.0, -51.0]))
    assert fm.mean[1] - fm.mean[0] == pytest.approx(0.2 / 0.26, rel=1e-12)


def test_no_noise_gives_the_bare_membrane(sbs_neuron):
    fm = ls.free_membrane(sbs_neuron, ls.PoissonNoise(0.0, 0.0, 0.0, 0.0), -63.0)
    assert float(fm.mean) == pytest.approx(-63.0)
    assert float(fm.std) == 0.0
    assert float(fm.g_tot) == pytest.approx(sbs_neuron.g_l)
    assert float(fm.tau_eff) == pytest.approx(sbs_neuron.tau_m)


def test_current_based_membrane():
    neuron = ls.NeuronParameters(model="curr_exp", cm=0.25, tau_m=5.0, tau_syn_E=3.0, tau_syn_I=8.0)
    noise = ls.PoissonNoise(2000.0, 1000.0, 0.02, 0.05)  # nA
    fm = ls.free_membrane(neuron, noise, -60.0)
    g_l = 0.05
    assert float(fm.g_tot) == pytest.approx(g_l)
    assert float(fm.tau_eff) == pytest.approx(5.0)
    # mean current 0.02 nA * 2 kHz * 3 ms - 0.05 nA * 1 kHz * 8 ms = -0.28 nA -> -5.6 mV
    assert float(fm.mean) == pytest.approx(-65.6)
    var = 0.0
    for rate, w, ts in ((2.0, 0.02, 3.0), (1.0, 0.05, 8.0)):
        tau_g = 1 / (1 / ts - 1 / 5.0)
        var += rate * (w / g_l * tau_g / 5.0) ** 2 * (ts / 2 + 2.5 - 2 * 5.0 * ts / (5.0 + ts))
    assert float(fm.std) == pytest.approx(np.sqrt(var), rel=1e-12)


def test_singular_time_constants(sbs_neuron):
    # tau_syn == tau_eff (no noise: tau_eff = tau_m)
    n = sbs_neuron.replace(tau_syn_E=1.0)
    with pytest.raises(ValueError, match="singular for tau_syn == tau_eff"):
        ls.free_membrane(n, ls.PoissonNoise(0.0, 0.0, 0.0, 0.0))


def _simulate_free_membrane(neuron, noise, n_neurons=1000, dt=0.01, t_max=100.0, t_skip=20.0, seed=0):
    """Monte Carlo: integrate the threshold-free membrane of many neurons in numpy.

    Exact exponential update of V for the conductances of each step, Poisson
    kicks of the conductances.  Returns mean and std of V over neurons and time.
    """
    rng = np.random.default_rng(seed)
    g_l = neuron.g_l
    nu_e, nu_i = noise.rate_exc * 1e-3 * dt, noise.rate_inh * 1e-3 * dt
    ge = np.full(n_neurons, noise.weight_exc * nu_e / dt * neuron.tau_syn_E)
    gi = np.full(n_neurons, noise.weight_inh * nu_i / dt * neuron.tau_syn_I)
    v = np.full(n_neurons, neuron.v_rest)
    de, di = np.exp(-dt / neuron.tau_syn_E), np.exp(-dt / neuron.tau_syn_I)
    samples = []
    for step in range(int(t_max / dt)):
        g_tot = g_l + ge + gi
        v_inf = (g_l * neuron.v_rest + ge * neuron.e_rev_E + gi * neuron.e_rev_I) / g_tot
        v = v_inf + (v - v_inf) * np.exp(-dt * g_tot / neuron.cm)
        ge = ge * de + noise.weight_exc * rng.poisson(nu_e, n_neurons)
        gi = gi * di + noise.weight_inh * rng.poisson(nu_i, n_neurons)
        if step * dt >= t_skip and step % 50 == 0:
            samples.append(v.copy())
    samples = np.array(samples)
    return samples.mean(), samples.std()


@pytest.mark.parametrize("preset", ["sbs", "high_conductance"])
def test_theory_agrees_with_simulated_free_membrane(preset):
    # The theory linearises around mu; in these regimes that is good to about 1 %.
    # Monte Carlo error of the estimates (1000 neurons x 80 ms): ~0.03 sigma and ~1 %.
    neuron, noise = ls.NeuronParameters.preset(preset), ls.PoissonNoise.preset(preset)
    fm = ls.free_membrane(neuron, noise)
    mean, std = _simulate_free_membrane(neuron, noise)
    assert mean == pytest.approx(float(fm.mean), abs=0.1 * float(fm.std))
    assert std == pytest.approx(float(fm.std), rel=0.05)
