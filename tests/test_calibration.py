"""Calibration of the activation function (science.md section 4)."""

from __future__ import annotations

import json
import shutil
import time

import brian2 as b2
import numpy as np
import pytest
from _helpers import SimulationCalled

import lifsampling as ls
from lifsampling.calibration import _measure, logistic


def _assert_same_calibration(a: ls.Calibration, b: ls.Calibration):
    assert a.v_p05 == b.v_p05 and a.alpha == b.alpha
    np.testing.assert_array_equal(a.v_rest, b.v_rest)
    np.testing.assert_array_equal(a.p_on, b.p_on)
    assert a.neuron == b.neuron and a.noise == b.noise and a.dt == b.dt
    assert a.settings == b.settings and a.fit == b.fit and a.brian2_version == b.brian2_version


# -- the measured activation function ------------------------------------------------
def test_sbs_activation_function(calibration, sbs_neuron, sbs_noise):
    """Reference (our Brian2 check with exact Poisson input, dt = 0.1 ms): v_p05 ≈ -50.6 mV, α ≈ 0.79 mV."""
    assert calibration.v_p05 == pytest.approx(-50.6, abs=0.5)
    assert calibration.alpha == pytest.approx(0.79, rel=0.25)
    assert calibration.dt == 0.1
    assert calibration.neuron == sbs_neuron.replace(v_rest=0.0)
    assert calibration.noise == sbs_noise
    assert calibration.brian2_version == b2.__version__


def test_measured_points_and_fit(calibration):
    v, p = calibration.v_rest, calibration.p_on
    assert v.shape == p.shape == (30,)
    assert np.all(np.diff(v) > 0)
    assert np.all((p >= 0) & (p <= 1))
    # the window spans the rise from below 5 % to above 95 %
    assert p[0] < 0.05 and p[-1] > 0.95
    assert np.corrcoef(v, p)[0, 1] > 0.9
    fit = calibration.fit
    assert fit["n_points"] == int(np.sum((p > 0.05) & (p < 0.95))) >= 5
    assert fit["rms_residual"] < 0.05 and fit["max_residual"] < 0.1
    assert 0 < fit["v_p05_stderr"] < 0.1 and 0 < fit["alpha_stderr"] < 0.1
    resid = p - logistic(v, calibration.v_p05, calibration.alpha)
    use = (p > 0.05) & (p < 0.95)
    assert np.sqrt(np.mean(resid[use] ** 2)) == pytest.approx(fit["rms_residual"])
    assert calibration.settings == {
        "n_points": 30,
        "duration_ms": 3000.0,
        "burn_in_ms": 500.0,
        "prescan": [-80.0, -20.0, 0.2],
        "prescan_duration_ms": 500.0,
        "seed": 1234,
        "device": "cython",
    }


def test_activation_and_alpha_free(calibration):
    assert float(calibration.activation(calibration.v_p05)) == pytest.approx(0.5)
    a = calibration.activation(np.array([calibration.v_p05 - calibration.alpha, calibration.v_p05 + 50]))
    np.testing.assert_allclose(a, [1 / (1 + np.e), 1.0])
    assert calibration.alpha_free == pytest.approx(calibration.alpha * 0.2 / 0.26)
    assert "v_p05=" in repr(calibration) and "points=30" in repr(calibration)


def test_p_on_is_the_refractory_fraction(sbs_neuron):
    """Neurons far above / below threshold are on 100 % / 0 % of the time (cf. the readout)."""
    p = _measure(
        sbs_neuron,
        ls.PoissonNoise.preset("sbs"),
        np.array([-20.0, -90.0]),
        dt=0.1,
        duration=1000.0,
        burn_in=100.0,
        seed=1,
        device="cython",
        cache_dir=None,
        progress=False,
        what="test",
    )
    np.testing.assert_array_equal(p, [1.0, 0.0])


# -- files -----------------------------------------------------------------------------
def test_json_round_trip(calibration, tmp_path):
    path = tmp_path / "deep" / "cal.json"
    calibration.save(path)
    d = json.loads(path.read_text())
    assert d["schema"] == 1 and d["dt"] == 0.1 and d["noise"]["kind"] == "PoissonNoise"
    loaded = ls.Calibration.load(path)
    _assert_same_calibration(calibration, loaded)
    _assert_same_calibration(calibration, ls.Calibration.from_dict(calibration.to_dict()))
    assert sorted(p.name for p in path.parent.iterdir()) == ["cal.json"]


def test_load_errors(calibration, tmp_path):
    with pytest.raises(ValueError, match="cannot read calibration file .*missing.json"):
        ls.Calibration.load(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text('{"schema": 1, "v_p05": ')
    with pytest.raises(ValueError, match="cannot read calibration file"):
        ls.Calibration.load(tmp_path / "bad.json")
    d = calibration.to_dict()
    (tmp_path / "old.json").write_text(json.dumps(d | {"schema": 0}))
    with pytest.raises(ValueError, match="unsupported calibration schema 0 \\(expected 1\\)"):
        ls.Calibration.load(tmp_path / "old.json")
    del d["alpha"]
    (tmp_path / "part.json").write_text(json.dumps(d))
    with pytest.raises(ValueError, match="calibration file .*part.json' is incomplete: 'alpha'"):
        ls.Calibration.load(tmp_path / "part.json")


def test_load_json_that_is_not_an_object(tmp_path):
    (tmp_path / "null.json").write_text("null")
    with pytest.raises(ValueError, match="calibration file"):
        ls.Calibration.load(tmp_path / "null.json")


# -- cache ---------------------------------------------------------------------------------
def _cache_files(cache_dir):
    return sorted((cache_dir / "calibrations").glob("*.json"))


def test_cached_calibration_is_reused_without_simulating(
    calibration, calibration_cache_dir, calibration_settings, sbs_neuron, sbs_noise, no_simulation
):
    assert len(_cache_files(calibration_cache_dir)) == 1
    t0 = time.perf_counter()
    again = ls.calibrate(sbs_neuron, sbs_noise, cache_dir=calibration_cache_dir, **calibration_settings)
    assert time.perf_counter() - t0 < 1.0
    _assert_same_calibration(calibration, again)
    # the leak potential is not part of what a calibration depends on
    neuron = sbs_neuron.replace(v_rest=-70.0)
    other_rest = ls.calibrate(neuron, sbs_noise, cache_dir=calibration_cache_dir, **calibration_settings)
    _assert_same_calibration(calibration, other_rest)


@pytest.mark.parametrize(
    "change",
    [
        dict(seed=1235),
        dict(n_points=31),
        dict(duration=3100.0),
        dict(burn_in=400.0),
        dict(dt=0.05),
        dict(prescan=(-80.0, -20.0, 0.5)),
    ],
)
def test_different_settings_are_not_served_from_the_cache(
    calibration, calibration_cache_dir, calibration_settings, sbs_neuron, sbs_noise, no_simulation, change
):
    with pytest.raises(SimulationCalled):
        ls.calibrate(
            sbs_neuron, sbs_noise, cache_dir=calibration_cache_dir, **(calibration_settings | change)
        )


@pytest.mark.parametrize(
    "neuron, noise",
    [
        (ls.NeuronParameters.preset("sbs").replace(tau_refrac=20.0), ls.PoissonNoise.preset("sbs")),
        (ls.NeuronParameters.preset("sbs"), ls.PoissonNoise(3000.0, 3000.0, 0.001, 0.0011)),
    ],
)
def test_different_neurons_or_noise_are_not_served_from_the_cache(
    calibration, calibration_cache_dir, calibration_settings, no_simulation, neuron, noise
):
    with pytest.raises(SimulationCalled):
        ls.calibrate(neuron, noise, cache_dir=calibration_cache_dir, **calibration_settings)


def test_cache_can_be_bypassed(
    calibration, calibration_cache_dir, calibration_settings, sbs_neuron, sbs_noise, no_simulation
):
    with pytest.raises(SimulationCalled):
        ls.calibrate(
            sbs_neuron, sbs_noise, cache=False, cache_dir=calibration_cache_dir, **calibration_settings
        )


def test_corrupt_cache_entry_is_measured_again(
    calibration, calibration_cache_dir, calibration_settings, tmp_path, sbs_neuron, sbs_noise
):
    cache_dir = tmp_path / "cache"
    shutil.copytree(calibration_cache_dir, cache_dir)
    (entry,) = _cache_files(cache_dir)
    entry.write_text(entry.read_text()[:100])  # truncated file
    again = ls.calibrate(sbs_neuron, sbs_noise, cache_dir=cache_dir, **calibration_settings)
    _assert_same_calibration(calibration, again)  # same seed: the same measurement
    _assert_same_calibration(calibration, ls.Calibration.load(entry))  # entry rewritten


def test_uncached_calibration_writes_nothing(
    tmp_path, calibration_settings, sbs_neuron, sbs_noise, no_simulation
):
    with pytest.raises(SimulationCalled):
        ls.calibrate(sbs_neuron, sbs_noise, cache=False, cache_dir=tmp_path, **calibration_settings)
    assert list(tmp_path.iterdir()) == []


# -- compatibility ------------------------------------------------------------------------
def test_check_compatible(calibration, sbs_neuron, sbs_noise):
    calibration.check_compatible(sbs_neuron, sbs_noise, 0.1)
    calibration.check_compatible(sbs_neuron.replace(v_rest=-65.0), sbs_noise, 0.1)  # E_L is set per neuron
    calibration.check_compatible(sbs_neuron, sbs_noise, 0.1 * (1 + 1e-12))
    assert issubclass(ls.CalibrationMismatchError, ValueError)


@pytest.mark.parametrize(
    "neuron_changes, noise, dt, match",
    [
        (dict(tau_refrac=20.0), None, 0.1, r"neuron\.tau_refrac: calibrated 10\.0, requested 20\.0"),
        (dict(cm=0.3), None, 0.1, r"neuron\.cm: calibrated 0\.2, requested 0\.3"),
        (dict(model="curr_exp"), None, 0.1, r"neuron\.model: calibrated 'cond_exp', requested 'curr_exp'"),
        (
            {},
            ls.PoissonNoise(2000.0, 3000.0, 0.001, 0.001),
            0.1,
            r"noise: calibrated \{'kind': 'PoissonNoise'",
        ),
        ({}, None, 0.05, r"dt: calibrated 0\.1 ms, requested 0\.05 ms"),
        (
            dict(v_thresh=-49.0),
            None,
            0.01,
            r"(?s)neuron\.v_thresh.*dt: calibrated 0\.1 ms, requested 0\.01 ms",
        ),
    ],
)
def test_check_compatible_mismatch(calibration, sbs_neuron, sbs_noise, neuron_changes, noise, dt, match):
    with pytest.raises(ls.CalibrationMismatchError, match=match) as info:
        calibration.check_compatible(sbs_neuron.replace(**neuron_changes), noise or sbs_noise, dt)
    assert "Recalibrate with lifsampling.calibrate" in str(info.value)


def test_check_compatible_brian2_version(calibration, sbs_neuron, sbs_noise):
    other = ls.Calibration.from_dict(calibration.to_dict() | {"brian2_version": "2.0.0"})
    with pytest.raises(ls.CalibrationMismatchError, match=r"Brian2: calibrated with 2\.0\.0, running"):
        other.check_compatible(sbs_neuron, sbs_noise, 0.1)
    unknown = ls.Calibration.from_dict(calibration.to_dict() | {"brian2_version": ""})
    unknown.check_compatible(sbs_neuron, sbs_noise, 0.1)


def test_check_compatible_accepts_equivalent_quantities(calibration, sbs_noise):
    neuron = ls.NeuronParameters.preset("sbs").replace(cm=200 * b2.pF)
    calibration.check_compatible(neuron, sbs_noise, 0.1)


# -- argument validation (all before any simulation) -------------------------------------
@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(n_points=3), "n_points must be an integer >= 4, got 3"),
        (dict(n_points=10.0), "n_points must be an integer >= 4, got 10.0"),
        (
            dict(device="gpu"),
            r"device must be one of \('auto', 'cython', 'numpy', 'cpp_standalone'\), got 'gpu'",
        ),
        (dict(prescan=(-20.0, -80.0, 0.2)), "prescan must be \\(start, stop, step\\) with stop > start"),
        (dict(prescan=(-80.0, -20.0, 0.0)), "prescan must be"),
        (dict(duration=0.0), "duration must be positive, got 0.0 ms"),
        (dict(duration=-5.0), "duration must be positive"),
        (dict(prescan_duration=0.0), "prescan_duration must be positive"),
        (dict(dt=0.0), "dt must be positive"),
        (dict(burn_in=-1.0), "burn_in must be >= 0, got -1.0 ms"),
        (dict(burn_in=0.05), r"burn_in = 0\.05 ms is not a multiple of dt = 0\.1 ms"),
        (dict(dt=0.3, burn_in=600.0), r"tau_refrac = 10\.0 ms is not a multiple of dt = 0\.3 ms"),
    ],
)
def test_calibrate_validation(tmp_path, no_simulation, kwargs, match):
    with pytest.raises(ValueError, match=match):
        ls.calibrate(cache_dir=tmp_path, **(dict(progress=False) | kwargs))


def test_calibrate_rejects_incompatible_noise(tmp_path, sbs_neuron, no_simulation):
    with pytest.raises(ValueError, match="weights are given in nA"):
        ls.calibrate(
            sbs_neuron, ls.PoissonNoise(weight_exc=1 * b2.nA, weight_inh=1 * b2.nA), cache_dir=tmp_path
        )


@pytest.mark.parametrize("prescan", [(-80.0, -70.0, 1.0), (-40.0, -30.0, 1.0)])
def test_prescan_that_misses_the_rise(tmp_path, prescan):
    with pytest.raises(RuntimeError, match="did not find the rise of the activation function"):
        ls.calibrate(
            prescan=prescan, prescan_duration=100.0, burn_in=100.0, cache_dir=tmp_path, progress=False
        )
    assert not (tmp_path / "calibrations").exists() or not any((tmp_path / "calibrations").iterdir())


@pytest.mark.slow
def test_default_calibration_matches_reference(tmp_path):
    """Default settings (100 points x 20 s): v_p05 = -50.6 mV, alpha = 0.79 mV within a few %."""
    cal = ls.calibrate(cache_dir=tmp_path, progress=False)
    assert cal.v_p05 == pytest.approx(-50.6, abs=0.15)
    assert cal.alpha == pytest.approx(0.79, rel=0.08)
    assert cal.fit["rms_residual"] < 0.02
