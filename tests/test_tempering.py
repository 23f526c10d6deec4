"""Rhythmic background, phase-gated read-out and the measured temperature map."""

from __future__ import annotations

import json

import numpy as np
import pytest
from _helpers import conductance_samples, filtered_count_moments

import lifsampling as ls
from lifsampling.noise import noise_from_dict
from lifsampling.tempering import check_phase_window as _phase_window
from lifsampling.tempering import in_window, phase_gate


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(amplitude=3000.0, frequency=10.0), "below the mean excitatory rate"),
        (dict(amplitude=5000.0, frequency=10.0), "below the mean excitatory rate"),
        (dict(amplitude=-1.0, frequency=10.0), ">= 0"),
        (dict(amplitude=100.0, frequency=0.0), "frequency must be > 0"),
        (dict(amplitude=100.0, frequency=-5.0), "frequency must be > 0"),
        (dict(amplitude=100.0, frequency=5.0, phase=np.inf), "phase must be finite"),
        (dict(amplitude=100.0, frequency=5.0, hot_fraction=0.0), "hot_fraction must be in"),
        (dict(amplitude=100.0, frequency=5.0, hot_fraction=1.5), "hot_fraction must be in"),
        (dict(amplitude=100.0, frequency=5.0, hot_fraction=np.nan), "hot_fraction must be in"),
    ],
)
def test_bad_rhythms_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ls.OscillatingPoissonNoise(**kwargs)


def test_rhythm_rates_phase_and_cold_noise():
    osc = ls.OscillatingPoissonNoise(ls.PoissonNoise(3000.0, 1500.0), amplitude=1200.0, frequency=5.0)
    t = np.linspace(0, 400, 4001)
    e, i = osc.rates(t)
    np.testing.assert_allclose(e / i, 2.0)  # fixed E/I ratio
    assert e.min() == pytest.approx(1800.0, rel=1e-6) and e.max() == pytest.approx(4200.0, rel=1e-6)
    trough = t[np.argmin(e)]
    assert osc.phase(trough) == pytest.approx(0.75, abs=1e-3)
    assert osc.period == 200.0
    cold = osc.calibration_noise()
    assert (cold.rate_exc, cold.rate_inh) == pytest.approx((1800.0, 900.0))
    assert noise_from_dict(osc.to_dict()) == osc
    assert ls.PoissonNoise().calibration_noise() == ls.PoissonNoise()
    assert ls.PoissonNoise().phase(np.arange(3.0)) is None


def test_pulse_profile_rests_at_the_trough_between_pulses():
    base = ls.PoissonNoise(3000.0, 1500.0)
    sine = ls.OscillatingPoissonNoise(base, amplitude=1200.0, frequency=5.0, phase=0.4)
    t = np.linspace(0, 400, 40_001)
    np.testing.assert_allclose(  # hot_fraction = 1 is the sine
        sine.rates(t)[0], 3000.0 + 1200.0 * np.sin(2 * np.pi * 5.0 * t * 1e-3 + 0.4), atol=1e-9
    )
    pulse = ls.OscillatingPoissonNoise(base, amplitude=1200.0, frequency=5.0, phase=0.4, hot_fraction=0.3)
    e, i = pulse.rates(t)
    np.testing.assert_allclose(e / i, 2.0)
    phase = pulse.phase(t)
    distance = np.abs((phase - 0.25 + 0.5) % 1.0 - 0.5)  # cycles from the peak
    hot = distance < 0.15
    np.testing.assert_allclose(e[~hot], 1800.0)  # 70 % of the period at the trough rate
    assert hot.mean() == pytest.approx(0.3, abs=1e-3)
    assert np.all(e[hot] > 1800.0) and e.max() == pytest.approx(4200.0, rel=1e-6)
    assert pulse.phase(t[np.argmax(e)]) == pytest.approx(0.25, abs=1e-4)
    assert np.abs(np.diff(e)).max() < 2.0  # continuous: no jump at the pulse's edges
    assert pulse.calibration_noise() == sine.calibration_noise()
    assert noise_from_dict(pulse.to_dict()) == pulse and "hot_fraction=0.3" in repr(pulse)
    assert sine.cold_window == pytest.approx((0.7, 0.8))
    assert pulse.cold_window == (0.75, 0.1)  # second half of the plateau [0.4, 1.1)
    half = ls.OscillatingPoissonNoise(base, amplitude=1200.0, frequency=5.0, hot_fraction=0.5)
    assert half.cold_window == (0.75, 1.0)


def test_simulated_pulse_follows_its_profile(sbs_neuron):
    """The generated Brian2 code drives the neurons with the rates of ``rates()``."""
    base = ls.PoissonNoise(3000.0, 3000.0, 0.001, 0.001)
    pulse = ls.OscillatingPoissonNoise(base, amplitude=2000.0, frequency=10.0, hot_fraction=0.3)
    g = conductance_samples(pulse, sbs_neuron, 0.1, n=200, steps=8_000)  # 800 ms
    phase = pulse.phase(100.0 + np.arange(1, g.shape[1] + 1))  # samples at the end of each ms
    tau = sbs_neuron.tau_syn_E

    def level(rate):
        return filtered_count_moments(0.001, rate * 1e-4, rate * 1e-4, 0.1, tau)[0]

    late_plateau = (phase >= 0.7) & (phase < 1.0)  # > 3 tau_syn after the pulse ended at 0.4
    assert g[:, late_plateau].mean() == pytest.approx(level(1000.0), rel=0.03)
    near_peak = (phase >= 0.25) & (phase < 0.3)
    assert g[:, near_peak].mean() > 2.5 * level(1000.0)


def test_phase_windows():
    assert _phase_window("cold") == pytest.approx((0.7, 0.8))
    assert _phase_window("all") is None
    phase = np.array([0.05, 0.5, 0.7, 0.79, 0.8, 0.95])
    np.testing.assert_array_equal(in_window(phase, (0.7, 0.8)), [0, 0, 1, 1, 0, 0])
    np.testing.assert_array_equal(in_window(phase, (0.9, 0.1)), [1, 0, 0, 0, 0, 1])  # wraps around 1
    for bad in ((0.5, 0.5), (-0.1, 0.2), (0.2, 1.5), "hot", (1, 2, 3)):
        with pytest.raises(ValueError, match="phase_window"):
            _phase_window(bad)


def test_gated_lif_run_keeps_exactly_the_window(lif_target, calibration, tmp_path):
    """Calibrated for the cold phase; kept draws are exactly those whose phase lies in the window."""
    cold = ls.PoissonNoise.preset("sbs")  # the session calibration's noise is the cold phase here
    osc = ls.OscillatingPoissonNoise(
        ls.PoissonNoise(4500.0, 4500.0, cold.weight_exc, cold.weight_inh), amplitude=1500.0, frequency=10.0
    )
    assert osc.calibration_noise() == cold
    sampler = ls.LIFSampler(
        lif_target, noise=osc, calibration=calibration, cache_dir=tmp_path, progress=False
    )
    full = sampler.sample(1000.0, n_chains=2, seed=3, burn_in=100.0, phase_window="all")
    assert full.sizes["draw"] == 1000 and full.attrs["phase_window"] == "all"
    expected_phase = np.mod(np.round(10.0 * (100.0 + full.time.values) * 1e-3, 9), 1.0)
    np.testing.assert_allclose(full.phase.values, expected_phase, atol=1e-9)
    gated = sampler.sample(1000.0, n_chains=2, seed=3, burn_in=100.0)
    afterwards = phase_gate(full)  # the same selection, from a run that kept every draw
    np.testing.assert_array_equal(afterwards.states.values, gated.states.values)
    np.testing.assert_array_equal(afterwards.phase.values, gated.phase.values)
    with pytest.raises(ValueError, match="records no phase"):
        phase_gate(full.drop_vars("phase"))
    pulse = ls.OscillatingPoissonNoise(osc.base, amplitude=1500.0, frequency=10.0, hot_fraction=0.4)
    assert pulse.cold_window == (0.75, 0.05)
    recorded_as_pulse = full.assign_attrs(noise=json.dumps(pulse.to_dict()))
    cold = phase_gate(recorded_as_pulse)  # "cold" is the window of the recorded rhythm
    assert np.all((cold.phase.values >= 0.75) | (cold.phase.values < 0.05))
    assert cold.sizes["draw"] == 300
    keep = (full.phase.values >= 0.7) & (full.phase.values < 0.8)
    assert gated.sizes["draw"] == keep.sum() == 100
    np.testing.assert_array_equal(gated.time.values, full.time.values[keep])
    np.testing.assert_array_equal(gated.states.values, full.states.values[:, keep])  # same seed, same run
    assert np.all((gated.phase.values >= 0.7) & (gated.phase.values < 0.8))
    assert ls.sample_interval(gated) == pytest.approx(
        (full.time.values[keep][-1] - full.time.values[keep][0]) / 99
    )
    # stationary noise: the window is ignored
    plain = ls.LIFSampler(lif_target, calibration=calibration, progress=False).sample(
        200.0, n_chains=1, seed=1
    )
    assert "phase" not in plain.coords


def test_temperature_map_is_monotone_and_near_sqrt(calibration_settings, calibration_cache_dir):
    rates = [1500.0, 3000.0, 6000.0]
    tmap = ls.temperature_map(rates, cache_dir=calibration_cache_dir, **calibration_settings)
    assert tmap.t_weight[0] == pytest.approx(1.0) and tmap.t_bias[0] == pytest.approx(1.0)
    assert np.all(np.diff(tmap.t_weight) > 0) and np.all(np.diff(tmap.t_bias) > 0)
    # the high-conductance limit sqrt(rate) holds within 25 %
    np.testing.assert_allclose(tmap.t_weight, tmap.t_predicted, rtol=0.25)
    np.testing.assert_allclose(tmap.rate(tmap.temperature(4000.0)), 4000.0, rtol=1e-9)
    with pytest.raises(ValueError, match="outside the measured range"):
        tmap.temperature(10_000.0)
    assert set(tmap.to_dict()) >= {"rates_hz", "t_weight", "t_bias", "t_predicted"}


@pytest.mark.parametrize(
    ("rates", "message"),
    [([3000.0], "at least two"), ([0.0, 100.0], "positive"), ([100.0, 100.0], "distinct")],
)
def test_temperature_map_rejects_bad_rates(rates, message):
    with pytest.raises(ValueError, match=message):
        ls.temperature_map(rates)
