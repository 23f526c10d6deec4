"""Property-based tests of input validation (hypothesis), over the pure-Python layers only.

Random valid inputs never crash and round-trip; invalid ones raise one ``ValueError`` or
``TypeError`` whose message names the field.  No Brian2 simulation runs here: the sampler and
``calibrate`` are only asked to check their arguments (a stand-in simulator raises if they get
further).

``BAD_INPUTS`` is the bad-input table of docs/reliability.md; ``python
tests/test_hypothesis_inputs.py`` prints it, and ``test_bad_input_table_matches_the_docs``
keeps the two in step.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import tempfile
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from brian2 import ms, mV, nS

import lifsampling as ls
from lifsampling._units import steps, to_float
from lifsampling.calibration import logistic

#: h5netcdf's File.__del__ fails on files it could not open (the damaged ones made on purpose here)
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

hypothesis = pytest.importorskip("hypothesis") if __name__ != "__main__" else None
if hypothesis is not None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    #: Bounded for CI: the whole module runs in well under a minute.  Derandomized (the same
    #: examples every run, no example database on disk), so CI cannot fail at random.
    FAST = settings(
        max_examples=40,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    FILES = settings(FAST, max_examples=15)

DOCS = Path(__file__).resolve().parents[1] / "docs" / "reliability.md"
SBS = ls.NeuronParameters.preset("sbs")
SBS_NOISE = ls.PoissonNoise.preset("sbs")


def _calibration(v_p05: float = -50.6, alpha: float = 0.79, n: int = 11) -> ls.Calibration:
    v = np.linspace(v_p05 - 3, v_p05 + 3, n)
    return ls.Calibration(
        v_p05=v_p05,
        alpha=alpha,
        v_rest=v,
        p_on=logistic(v, v_p05, alpha if alpha > 0 else 1.0),
        neuron=SBS.replace(v_rest=0.0),
        noise=SBS_NOISE,
        dt=0.1,
    )


CAL = _calibration()


class SimulationCalled(Exception):
    pass


@contextlib.contextmanager
def _no_simulation():
    import lifsampling.calibration as calibration_module
    import lifsampling.sampler as sampler_module

    def forbidden(*args, **kwargs):
        raise SimulationCalled

    with (
        mock.patch.object(calibration_module, "simulate", forbidden),
        mock.patch.object(sampler_module, "simulate", forbidden),
    ):
        yield


# -- strategies --------------------------------------------------------------------------------
if hypothesis is not None:
    finite = st.floats(-5.0, 5.0, allow_nan=False, allow_infinity=False)
    bad_float = st.sampled_from([float("nan"), float("inf"), -float("inf")])

    @st.composite
    def machines(draw, max_units: int = 6, bound: float = 5.0):
        """A valid (W, b): symmetric, zero diagonal, finite."""
        k = draw(st.integers(1, max_units))
        elems = st.floats(-bound, bound, allow_nan=False, allow_infinity=False)
        a = draw(hnp.arrays(float, (k, k), elements=elems))
        W = np.triu(a, 1) + np.triu(a, 1).T
        b = draw(hnp.arrays(float, (k,), elements=elems))
        return W, b

    @st.composite
    def spikes(draw):
        """A spike train on a grid: (neurons, steps, n_neurons, n_ref, first, interval, n_draws)."""
        n = draw(st.integers(1, 4))
        n_ref = draw(st.integers(1, 12))
        first = draw(st.integers(0, 20))
        interval = draw(st.integers(1, 7))
        n_draws = draw(st.integers(0, 25))
        end = first + interval * n_draws + 5
        m = draw(st.integers(0, 30))
        s = np.sort(np.array(draw(st.lists(st.integers(0, end - 1), min_size=m, max_size=m)), dtype=np.int64))
        neurons = np.array(draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m)), dtype=np.int64)
        return neurons, s, n, n_ref, first, interval, n_draws


# -- targets -------------------------------------------------------------------------------------
if hypothesis is not None:

    @FAST
    @given(machines())
    def test_valid_targets_never_crash(wb):
        W, b = wb
        bm = ls.BoltzmannMachine(W, b)
        p = bm.probabilities()
        assert np.all(np.isfinite(p)) and np.isclose(p.sum(), 1.0)
        assert np.all((bm.marginals() >= 0) & (bm.marginals() <= 1))

    @FAST
    @given(machines(), st.data())
    def test_non_finite_values_name_the_entry(wb, data):
        W, b = wb
        where = data.draw(st.sampled_from(["W", "b"]))
        value = data.draw(bad_float)
        if where == "W":
            k = len(b)
            i, j = data.draw(st.integers(0, k - 1)), data.draw(st.integers(0, k - 1))
            W = W.copy()
            W[i, j] = value
        else:
            b = b.copy()
            b[data.draw(st.integers(0, len(b) - 1))] = value
        with pytest.raises(ValueError, match=rf"{where} must contain only finite values; {where}\["):
            ls.BoltzmannMachine(W, b)

    @FAST
    @given(machines(), st.data())
    def test_asymmetric_W_names_the_pair_and_the_fix(wb, data):
        W, b = wb
        k = len(b)
        hypothesis.assume(k >= 2)
        i = data.draw(st.integers(0, k - 2))
        j = data.draw(st.integers(i + 1, k - 1))
        W = W.copy()
        W[i, j] += data.draw(st.floats(0.01, 5.0))
        with pytest.raises(
            ValueError, match=r"W must be symmetric; W\[.*Symmetrise it with \(W \+ W.T\) / 2"
        ):
            ls.BoltzmannMachine(W, b)

    @FAST
    @given(machines(), st.integers(-2, 2).filter(lambda d: d != 0))
    def test_wrong_shapes_name_the_field(wb, delta):
        W, b = wb
        k = len(b)
        hypothesis.assume(k + delta >= 0)
        with pytest.raises(ValueError, match=rf"b must be a vector of length {k}"):
            ls.BoltzmannMachine(W, np.zeros(k + delta))
        with pytest.raises(ValueError, match=r"W must be (square|a 2-D matrix)"):
            ls.BoltzmannMachine(np.zeros((k, k + abs(delta))) if delta > 0 else np.zeros(k), b)

    @FAST
    @given(st.sampled_from(["text", "complex", "ragged", "nested"]))
    def test_wrong_dtypes_name_the_field(kind):
        bad = {
            "text": [["a", "b"], ["c", "d"]],
            "complex": np.array([[0, 1j], [1j, 0]]),
            "ragged": [[0.0, 1.0], [1.0]],
            "nested": [[[0.0]]],
        }[kind]
        with pytest.raises(ValueError, match=r"^W must "):
            ls.BoltzmannMachine(bad, [0.0, 0.0])

    @FILES
    @given(machines(), st.booleans())
    def test_target_files_round_trip(wb, restricted):
        W, b = wb
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "t.npz"
            if restricted and len(b) >= 2:
                nv = len(b) // 2
                bm = ls.RestrictedBoltzmannMachine(W[:nv, nv:], b[:nv], b[nv:])
            else:
                bm = ls.BoltzmannMachine(W, b)
            bm.save(path)
            loaded = ls.load_target(path)
            assert type(loaded) is type(bm) and loaded == bm

    @FILES
    @given(st.binary(min_size=0, max_size=300), st.sampled_from(["garbage", "truncated", "flipped"]))
    def test_damaged_target_files_name_the_file(junk, how):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "t.npz"
            ls.random_boltzmann_machine(3, seed=0).save(path)
            raw = path.read_bytes()
            if how == "garbage":
                raw = junk
            elif how == "truncated":
                raw = raw[: len(junk) % len(raw)]
            else:
                at = (len(junk) * 7919) % len(raw)
                raw = raw[:at] + bytes([raw[at] ^ 0xFF]) + raw[at + 1 :]
            path.write_bytes(raw)
            try:
                loaded = ls.load_target(path)
            except ValueError as exc:
                assert str(path) in str(exc)
            else:  # a flip in bytes numpy never reads: the target is the one saved
                assert loaded == ls.random_boltzmann_machine(3, seed=0)

    @FILES
    @given(
        st.dictionaries(
            st.sampled_from(["W", "b", "n_visible"]),
            hnp.arrays(
                st.sampled_from([np.float64, np.int64, np.bool_, np.complex128]),
                hnp.array_shapes(min_dims=0, max_dims=3, max_side=3),
            ),
        )
    )
    def test_arbitrary_target_files_load_or_name_the_file(arrays):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "t.npz"
            np.savez(path, **arrays)
            try:
                bm = ls.load_target(path)
            except ValueError as exc:
                assert str(path) in str(exc)
            else:
                assert isinstance(bm, ls.BoltzmannMachine)


# -- translation ---------------------------------------------------------------------------------
if hypothesis is not None:

    @FAST
    @given(machines(bound=5.0), st.floats(-60.0, -40.0), st.floats(0.2, 3.0))
    def test_translation_round_trips(wb, v_p05, alpha):
        W, b = wb
        cal = _calibration(v_p05, alpha)
        bm = ls.BoltzmannMachine(W, b)
        lif = ls.boltzmann_to_lif(bm, cal)
        assert np.all(np.isfinite(lif.v_rest))
        assert np.all(lif.w_exc >= 0) and np.all(lif.w_inh >= 0)
        W2, b2 = ls.lif_to_boltzmann(lif, cal)
        np.testing.assert_allclose(W2, bm.W, atol=1e-9 * (1 + np.abs(bm.W).max()))
        np.testing.assert_allclose(b2, bm.b, atol=1e-9 * (1 + np.abs(bm.b).max()))

    @FAST
    @given(st.floats(90.0, 1e6), st.booleans())
    def test_weights_beyond_conductances_name_the_entry(w, excitatory):
        W = np.array([[0.0, w], [w, 0.0]]) * (1 if excitatory else -1)
        with pytest.raises(ValueError, match=r"W\[0, 1\] = .* is beyond what conductances can express"):
            ls.boltzmann_to_lif(ls.BoltzmannMachine(W, [0.0, 0.0]), CAL)

    @FAST
    @given(st.floats(120.0, 1e6), st.booleans())
    def test_biases_beyond_reversal_potentials_name_the_entry(value, positive):
        b = [value if positive else -value, 0.0]
        with pytest.raises(
            ValueError,
            match=r"b\[0\] = .*: the mean free membrane potential lies beyond a reversal potential",
        ):
            ls.boltzmann_to_lif(ls.BoltzmannMachine(np.zeros((2, 2)), b), CAL)

    @FAST
    @given(
        st.sampled_from(["v_p05", "alpha", "dt"]),
        st.one_of(bad_float, st.just(-1.0), st.just(0.0), st.just("1.0"), st.just(None)),
    )
    def test_bad_calibration_values_name_the_field(field, value):
        kwargs = dict(CAL.__dict__) | {field: value}
        if field == "v_p05" and isinstance(value, float) and np.isfinite(value):
            return  # any finite v_p05 is valid
        with pytest.raises((ValueError, TypeError), match=rf"^Calibration\.{field} .*must"):
            ls.Calibration(**kwargs)


# -- readout ---------------------------------------------------------------------------------------
def _naive_states(neurons, steps_, n, n_ref, first, interval, n_draws):
    grid = first + interval * np.arange(n_draws)
    out = np.zeros((n_draws, n), dtype=np.int8)
    for k, s in zip(neurons, steps_, strict=True):
        out[(grid >= s) & (grid < s + n_ref), k] = 1
    return out


if hypothesis is not None:

    @FAST
    @given(spikes(), st.integers(1, 4))
    def test_readout_matches_the_definition_in_any_chunking(sp, n_chunks):
        neurons, s, n, n_ref, first, interval, n_draws = sp
        expected = _naive_states(neurons, s, n, n_ref, first, interval, n_draws)
        np.testing.assert_array_equal(
            ls.states_from_spikes(neurons, s, n, n_ref, first, interval, n_draws), expected
        )
        end = max(first + interval * n_draws, int(s.max()) + 1 if s.size else 0)
        cuts = np.linspace(0, end, n_chunks + 1).astype(int)
        r = ls.StateReadout(n, n_ref, first, interval, n_draws)
        for a, b in zip(cuts[:-1], cuts[1:], strict=True):
            sel = (s >= a) & (s < b)
            r(neurons[sel], s[sel], int(b))
        np.testing.assert_array_equal(r.states, expected)
        assert r.complete and r.spike_counts.sum() == len(s)

    @FAST
    @given(
        st.sampled_from(["n_neurons", "n_ref_steps", "first_step", "interval_steps", "n_draws"]),
        st.one_of(st.integers(-5, -1), st.just(2.5), st.just(True), st.just(None)),
    )
    def test_bad_readout_grid_names_the_field(field, value):
        kwargs = dict(n_neurons=2, n_ref_steps=3, first_step=0, interval_steps=1, n_draws=4) | {field: value}
        with pytest.raises(ValueError, match=rf"^{field} must be an integer >= "):
            ls.StateReadout(**kwargs)

    @FAST
    @given(st.integers(2, 100), st.booleans())
    def test_spikes_of_unknown_neurons_are_refused(index, negative):
        r = ls.StateReadout(2, 3, 0, 1, 4)
        with pytest.raises(ValueError, match=r"neurons must be indices in \[0, 2\)"):
            r(np.array([-index if negative else index]), np.array([1]), 4)


# -- durations, dt, sample interval, units ---------------------------------------------------------
if hypothesis is not None:
    dt_values = st.sampled_from([0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0])

    @FAST
    @given(dt_values, st.integers(1, 50))
    def test_valid_time_grids_are_accepted(dt, k):
        sampler = ls.LIFSampler(
            ls.BoltzmannMachine([[0.0, 1.0], [1.0, 0.0]], [0.0, 0.0]),
            interactions=None,
            dt=dt,
            sample_interval=k * dt,
        )
        assert sampler.dt == dt and steps(sampler.sample_interval, dt, "sample_interval") == k

    @FAST
    @given(dt_values, st.integers(1, 50), st.floats(0.05, 0.95))
    def test_sample_interval_off_the_grid_names_the_fix(dt, k, frac):
        with pytest.raises(ValueError, match=r"sample_interval = .* is not a multiple of dt = .*; use e.g."):
            ls.LIFSampler(
                ls.BoltzmannMachine([[0.0]], [0.0]), interactions=None, dt=dt, sample_interval=(k + frac) * dt
            )

    @FAST
    @given(st.floats(0.3, 3.0).filter(lambda x: abs(10.0 / x - round(10.0 / x)) > 1e-3))
    def test_dt_not_dividing_tau_refrac_names_the_fix(dt):
        with pytest.raises(ValueError, match=r"(tau_refrac|sample_interval) = .* is not a multiple of dt"):
            ls.LIFSampler(
                ls.BoltzmannMachine([[0.0]], [0.0]), interactions=None, dt=dt, sample_interval=dt * 10
            )

    @FAST
    @given(
        st.sampled_from(["dt", "sample_interval", "delay"]),
        st.one_of(st.floats(max_value=0.0, allow_nan=False), bad_float),
    )
    def test_non_positive_times_name_the_field(field, value):
        with pytest.raises(ValueError, match=rf"^{field} must be (positive|finite)"):
            ls.LIFSampler(ls.BoltzmannMachine([[0.0]], [0.0]), interactions=None, **{field: value})

    @FAST
    @given(
        st.sampled_from(["dt", "sample_interval", "delay"]),
        st.sampled_from([1 * mV, 5 * nS, 2 * ms * ms, 3 * ms * mV]),
    )
    def test_wrongly_dimensioned_quantities_name_the_field(field, value):
        with pytest.raises(TypeError, match=rf"^{field} must have the dimensions of ms"):
            ls.LIFSampler(ls.BoltzmannMachine([[0.0]], [0.0]), interactions=None, **{field: value})

    @FAST
    @given(st.sampled_from([0.1, 0.2, 0.5]))
    def test_brian2_quantities_equal_plain_numbers(dt):
        assert to_float(dt * ms, "ms", "dt") == dt
        a = ls.LIFSampler(ls.BoltzmannMachine([[0.0]], [0.0]), interactions=None, dt=dt * ms)
        assert a.dt == dt

    @FAST
    @given(
        st.sampled_from(["duration", "burn_in", "n_chains"]),
        st.one_of(st.floats(-1e4, -0.001), bad_float, st.just(0), st.just(2.5 * mV), st.just("x")),
    )
    def test_bad_run_arguments_name_the_field(field, value):
        if field == "burn_in" and value == 0:
            return  # no burn-in is valid
        sampler = ls.LIFSampler(ls.BoltzmannMachine([[0.0]], [0.0]), calibration=CAL, interactions=None)
        kwargs = dict(duration=100.0, n_chains=1, burn_in=0.0) | {field: value}
        duration = kwargs.pop("duration")
        with _no_simulation(), pytest.raises((ValueError, TypeError), match=rf"^{field} must"):
            sampler.sample(duration, **kwargs)

    @FAST
    @given(st.floats(1.0, 1000.0).filter(lambda x: abs(x - round(x)) > 1e-3))
    def test_duration_off_the_sample_grid_names_the_fix(duration):
        sampler = ls.LIFSampler(ls.BoltzmannMachine([[0.0]], [0.0]), calibration=CAL, interactions=None)
        with (
            _no_simulation(),
            pytest.raises(ValueError, match=r"duration = .* is not a multiple of sample_interval"),
        ):
            sampler.sample(duration, burn_in=0.0)

    @FAST
    @given(
        st.sampled_from(["dt", "duration", "prescan_duration", "burn_in", "n_points", "prescan"]),
        st.one_of(
            st.just(-1.0), st.just(0), st.just(float("nan")), st.just(1 * mV), st.just((0.0, -1.0, 0.1))
        ),
    )
    def test_bad_calibration_settings_name_the_field(field, value):
        if (field, value) == ("burn_in", 0):
            return
        if field == "prescan" and not isinstance(value, tuple):
            value = (value, value, value)
        with _no_simulation(), pytest.raises((ValueError, TypeError), match=rf"^{field} must"):
            ls.calibrate(**{field: value}, cache=False, device="numpy")


# -- result and calibration files ------------------------------------------------------------------
if hypothesis is not None:

    @FILES
    @given(
        hnp.arrays(np.int8, hnp.array_shapes(min_dims=3, max_dims=3, max_side=5), elements=st.integers(0, 1)),
        st.floats(0.1, 10.0),
        st.dictionaries(
            st.sampled_from(["seed", "note", "flag", "settings"]),
            st.one_of(st.integers(0, 2**31), st.text(max_size=10), st.booleans(), st.just({"a": [1, 2]})),
        ),
    )
    def test_result_files_round_trip(states, interval, attrs):
        import xarray as xr

        result = ls.make_result(states, sample_interval=interval, sampler="h", attrs=attrs)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "r.nc"
            ls.save_result(result, path)
            loaded = ls.load_result(path)
        xr.testing.assert_identical(loaded.drop_attrs(), result.drop_attrs())
        assert set(loaded.attrs) == set(result.attrs)

    @FAST
    @given(hnp.arrays(st.sampled_from([np.float64, np.int64]), hnp.array_shapes(max_dims=4, max_side=3)))
    def test_non_binary_or_misshapen_states_are_refused(states):
        hypothesis.assume(states.ndim != 3 or (states.size and not np.isin(states, (0, 1)).all()))
        with pytest.raises(ValueError, match=r"^states must "):
            ls.make_result(states, sample_interval=1.0, sampler="x")

    @FILES
    @given(st.floats(-70.0, -30.0), st.floats(0.01, 5.0), st.integers(4, 30))
    def test_calibration_files_round_trip(v_p05, alpha, n):
        cal = _calibration(v_p05, alpha, n)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "c.json"
            cal.save(path)
            assert ls.Calibration.load(path).to_dict() == cal.to_dict()

    @FILES
    @given(st.lists(st.floats(0.1, 5.0), min_size=1, max_size=4, unique=True), st.floats(0.5, 2.0))
    def test_interaction_files_round_trip_and_invert(mags, ratio):
        m = np.sort(np.array(mags))
        w0 = np.concatenate([-m[::-1], m])
        ic = ls.InteractionCalibration(w0, w0 * ratio, np.zeros(w0.size), "renewing", 0.1, "x")
        w = np.linspace(-10.0, 10.0, 41)
        np.testing.assert_allclose(ic.nominal(ic.effective(w)), w, atol=1e-9)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "ic.json"
            ic.save(path)
            assert ls.InteractionCalibration.load(path) == ic

    @FILES
    @given(st.data())
    def test_damaged_calibration_files_name_the_file(data):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "c.json"
            CAL.save(path)
            raw = path.read_bytes()
            how = data.draw(st.sampled_from(["truncate", "flip", "edit", "drop"]))
            if how == "truncate":
                raw = raw[: data.draw(st.integers(0, len(raw) - 1))]
            elif how == "flip":
                at = data.draw(st.integers(0, len(raw) - 1))
                raw = raw[:at] + bytes([raw[at] ^ data.draw(st.integers(1, 255))]) + raw[at + 1 :]
            else:
                d = json.loads(raw)
                key = data.draw(st.sampled_from(sorted(k for k in d if k != "checksum")))
                if how == "edit":
                    d[key] = data.draw(st.one_of(st.floats(allow_nan=False), st.text(max_size=3), st.none()))
                else:
                    del d[key]
                raw = json.dumps(d).encode()
            path.write_bytes(raw)
            try:
                loaded = ls.Calibration.load(path)
            except ValueError as exc:
                assert str(path) in str(exc)
            else:  # a change that JSON does not see (whitespace, an equal value)
                assert loaded.to_dict() == CAL.to_dict()


# -- the bad-input table of docs/reliability.md ------------------------------------------------------
def _bm2(W=((0.0, 1.0), (1.0, 0.0)), b=(0.0, 0.0)):
    return ls.BoltzmannMachine(np.array(W, dtype=complex if np.iscomplexobj(W) else float), b)


def _write(name: str, content: bytes) -> str:
    Path(name).write_bytes(content)
    return name


def _npz(name: str, **arrays) -> str:
    np.savez(name, **arrays)
    return name


def _saved_result(name: str, edit=None) -> str:
    ds = ls.make_result(np.zeros((1, 3, 2), dtype=np.int8), sample_interval=1.0, sampler="x")
    if edit is None:
        ls.save_result(ds, name)
        import h5py

        with h5py.File(name, "r+") as f:
            f["states"][0, 0, 0] = 1
    else:
        edit(ds).to_netcdf(name, engine="h5netcdf")
    return name


def _cal_file(name: str, change: dict | None = None, damage: str = "") -> str:
    CAL.save(name)
    text = Path(name).read_text()
    if change:
        d = json.loads(text) | change
        text = json.dumps(d)
    if damage == "truncate":
        text = text[:80]
    Path(name).write_text(text)
    return name


def _sampler(**kwargs):
    return ls.LIFSampler(
        ls.BoltzmannMachine([[0.0, 1.0], [1.0, 0.0]], [0.0, 0.0]), interactions=None, **kwargs
    )


def _sample(duration, **kwargs):
    sampler = ls.LIFSampler(
        ls.BoltzmannMachine([[0.0, 1.0], [1.0, 0.0]], [0.0, 0.0]), calibration=CAL, interactions=None
    )
    with _no_simulation():
        return sampler.sample(duration, **kwargs)


#: (where, input, how to provoke it).  Every call raises ValueError or TypeError.
BAD_INPUTS = [
    ("target", "NaN in W", lambda: _bm2([[0.0, np.nan], [np.nan, 0.0]])),
    ("target", "inf in b", lambda: _bm2(b=[np.inf, 0.0])),
    ("target", "asymmetric W", lambda: _bm2([[0.0, 1.0], [0.5, 0.0]])),
    ("target", "non-zero diagonal", lambda: _bm2([[1.0, 1.0], [1.0, 0.0]])),
    ("target", "W not square", lambda: ls.BoltzmannMachine(np.zeros((2, 3)), [0.0, 0.0])),
    ("target", "b of the wrong length", lambda: _bm2(b=[0.0, 0.0, 0.0])),
    ("target", "W of strings", lambda: ls.BoltzmannMachine([["a", "b"], ["c", "d"]], [0.0, 0.0])),
    ("target", "complex W", lambda: _bm2(np.array([[0, 1j], [1j, 0]]))),
    (
        "translation",
        "W = 200 (sbs neuron)",
        lambda: ls.boltzmann_to_lif(_bm2([[0.0, 200.0], [200.0, 0.0]]), CAL),
    ),
    ("translation", "b = 1000 (sbs neuron)", lambda: ls.boltzmann_to_lif(_bm2(b=[1000.0, 0.0]), CAL)),
    ("sampler", "dt = 0", lambda: _sampler(dt=0.0)),
    ("sampler", "dt = 1 mV (Brian2 quantity)", lambda: _sampler(dt=1 * mV)),
    (
        "sampler",
        "dt = 0.3 ms (does not divide tau_refrac = 10 ms)",
        lambda: _sampler(dt=0.3, sample_interval=0.9),
    ),
    ("sampler", "sample_interval = 0.25 ms with dt = 0.1 ms", lambda: _sampler(sample_interval=0.25)),
    ("sampler", "delay = -1 ms", lambda: _sampler(delay=-1.0)),
    ("sampler", "device = 'gpu'", lambda: _sampler(device="gpu")),
    ("sample", "duration = -5 ms", lambda: _sample(-5.0)),
    ("sample", "duration = 100.5 ms with sample_interval = 1 ms", lambda: _sample(100.5)),
    ("sample", "burn_in = NaN", lambda: _sample(100.0, burn_in=float("nan"))),
    ("sample", "n_chains = 0", lambda: _sample(100.0, n_chains=0)),
    ("sample", "evidence = {5: 1} for 2 units", lambda: _sample(100.0, evidence={5: 1})),
    ("calibrate", "n_points = 3", lambda: ls.calibrate(n_points=3, cache=False)),
    ("calibrate", "prescan = (0, -1, 0.1)", lambda: ls.calibrate(prescan=(0.0, -1.0, 0.1), cache=False)),
    ("calibration", "alpha = 0", lambda: _calibration(alpha=0.0)),
    ("calibration", "v_p05 = NaN", lambda: _calibration(v_p05=float("nan"))),
    ("readout", "n_ref_steps = 0", lambda: ls.StateReadout(2, 0, 0, 1, 4)),
    (
        "readout",
        "spike of neuron 7 in a 2-neuron read-out",
        lambda: ls.StateReadout(2, 3, 0, 1, 4)([7], [1], 4),
    ),
    (
        "result",
        "states with a 2",
        lambda: ls.make_result(np.full((1, 2, 2), 2), sample_interval=1.0, sampler="x"),
    ),
    (
        "result",
        "states of shape (2, 2)",
        lambda: ls.make_result(np.zeros((2, 2)), sample_interval=1.0, sampler="x"),
    ),
    ("target file", "not an .npz archive", lambda: ls.load_target(_write("junk.npz", b"not a zip"))),
    ("target file", "no b in the archive", lambda: ls.load_target(_npz("nob.npz", W=np.zeros((2, 2))))),
    (
        "target file",
        "asymmetric W in the archive",
        lambda: ls.load_target(_npz("asym.npz", W=np.array([[0.0, 1.0], [0.0, 0.0]]), b=np.zeros(2))),
    ),
    (
        "result file",
        "truncated file",
        lambda: ls.load_result(_write("cut.nc", b"\x89HDF\r\n\x1a\n" + b"\x00" * 64)),
    ),
    ("result file", "a state changed after saving", lambda: ls.load_result(_saved_result("edited.nc"))),
    (
        "result file",
        "target_W without target_b",
        lambda: ls.load_result(
            _saved_result("half.nc", lambda ds: ds.assign(target_W=(("unit", "unit_j"), np.zeros((2, 2)))))
        ),
    ),
    (
        "result file",
        "not a lifsampling result",
        lambda: ls.load_result(_saved_result("other.nc", lambda ds: ds.rename(states="x"))),
    ),
    (
        "calibration file",
        "truncated JSON",
        lambda: ls.Calibration.load(_cal_file("cut.json", damage="truncate")),
    ),
    (
        "calibration file",
        "a number edited after saving",
        lambda: ls.Calibration.load(_cal_file("edited.json", {"alpha": 0.8})),
    ),
    (
        "calibration file",
        "alpha = -1 (no checksum)",
        lambda: ls.Calibration.load(_cal_file("neg.json", {"alpha": -1.0, "checksum": None})),
    ),
    (
        "CLI",
        "--evidence 2",
        lambda: __import__("lifsampling.cli", fromlist=["_parse_evidence"])._parse_evidence(["2"]),
    ),
]


def bad_input_messages() -> list[tuple[str, str, str, str]]:
    """(where, input, exception type, message) of every row, run in a scratch directory."""
    rows = []
    old = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        try:
            for where, what, call in BAD_INPUTS:
                try:
                    call()
                except (ValueError, TypeError) as exc:
                    kind = "TypeError" if isinstance(exc, TypeError) else "ValueError"
                    rows.append((where, what, kind, str(exc)))
                else:
                    raise AssertionError(f"{where}: {what} raised nothing")
        finally:
            os.chdir(old)
    return rows


def bad_input_table() -> str:
    """The markdown table of docs/reliability.md."""

    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| where | input | error | message |", "| --- | --- | --- | --- |"]
    for where, what, kind, message in bad_input_messages():
        lines.append(f"| {where} | {cell(what)} | {kind} | {cell(message)} |")
    return "\n".join(lines)


TABLE_BEGIN = "<!-- bad-input table: generated by python tests/test_hypothesis_inputs.py -->"
TABLE_END = "<!-- end of bad-input table -->"


def test_every_bad_input_raises_one_clear_error():
    for where, what, _kind, message in bad_input_messages():
        assert message and not message.startswith(("Traceback", "'")), (where, what, message)


def test_bad_input_table_matches_the_docs():
    text = DOCS.read_text(encoding="utf-8")
    match = re.search(re.escape(TABLE_BEGIN) + r"\n(.*?)\n" + re.escape(TABLE_END), text, re.S)
    assert match, f"{DOCS} lacks the bad-input table markers"
    assert match.group(1) == bad_input_table(), (
        "docs/reliability.md is out of date: regenerate the table with "
        "python tests/test_hypothesis_inputs.py --write"
    )


if __name__ == "__main__":
    table = bad_input_table()
    if "--write" in sys.argv:
        text = DOCS.read_text(encoding="utf-8")
        start, end = text.index(TABLE_BEGIN) + len(TABLE_BEGIN), text.index(TABLE_END)
        DOCS.write_text(text[:start] + "\n" + table + "\n" + text[end:], encoding="utf-8")
        print(f"wrote {len(BAD_INPUTS)} rows to {DOCS}")
    else:
        print(table)
