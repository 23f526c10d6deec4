"""Calibration of the LIF activation function.

A sampling neuron's probability of being "on" (refractory) depends on its
leak potential ``E_L`` like a logistic function (Petrovici et al. 2016, Phys.
Rev. E 94, 042312, Sec. III):

.. math:: p_{on}(E_L) = 1 / (1 + \\exp(-(E_L - v_{p05}) / α))

:func:`calibrate` measures ``p_on`` for many independent neurons in one Brian2
network, each at its own ``E_L`` and with its own background, and fits the
logistic on the points with ``0.05 < p_on < 0.95``.  ``p_on`` is the fraction
of time spent refractory, ``n_spikes · τ_ref / T``.

A calibration is only valid for the neuron parameters, the background noise
and the time step it was measured with.  :class:`Calibration` stores all of
them (and the Brian2 version), :meth:`Calibration.check_compatible` refuses a
mismatch, and calibrations are cached on disk (JSON, written atomically)
under a key of everything they depend on.  Saved calibrations carry a checksum;
a damaged cache entry is reported and measured again, and concurrent
processes that need the same calibration measure it once
(:func:`lifsampling._cache.load_or_compute`).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import curve_fit

from ._cache import cache_path, load_or_compute, read_json, verify_checksum, with_checksum
from ._io import write_text_atomic
from ._network import SIMULATION_VERSION, NetworkSpec, resolve_device, simulate
from ._seeding import derive_seed
from ._units import count, positive, steps, to_float
from .neurons import NeuronParameters
from .noise import NoiseSource, noise_from_dict

__all__ = ["Calibration", "CalibrationMismatchError", "calibrate", "logistic"]

SCHEMA = 1


class CalibrationMismatchError(ValueError):
    """A calibration is used with neurons, noise or dt it was not measured for."""


def logistic(v: np.ndarray, v_p05: float, alpha: float) -> np.ndarray:
    """``1 / (1 + exp(-(v - v_p05) / alpha))``."""
    return 1.0 / (1.0 + np.exp(-(np.asarray(v, dtype=float) - v_p05) / alpha))


def _brian2_version() -> str:
    import importlib.metadata as md

    return md.version("brian2")


@dataclass
class Calibration:
    """A measured activation function and everything it depends on.

    Attributes
    ----------
    v_p05 : float
        Leak potential at which ``p_on = ½`` [mV].
    alpha : float
        Width of the logistic in ``E_L`` units [mV].
    v_rest, p_on : ndarray
        The measured points (leak potentials [mV] and on-probabilities).
    neuron : NeuronParameters
    noise : NoiseSource
    dt : float
        Simulation time step [ms].
    settings : dict
        How it was measured (durations, seed, device, prescan window).
    fit : dict
        Fit quality: ``n_points``, ``rms_residual``, ``max_residual`` and the
        standard errors of ``v_p05`` and ``alpha``.
    brian2_version : str

    Examples
    --------
    >>> cal = Calibration.from_json(path)  # doctest: +SKIP
    >>> cal.activation(cal.v_p05)          # doctest: +SKIP
    0.5
    """

    v_p05: float
    alpha: float
    v_rest: np.ndarray
    p_on: np.ndarray
    neuron: NeuronParameters
    noise: NoiseSource
    dt: float
    settings: dict = field(default_factory=dict)
    fit: dict = field(default_factory=dict)
    brian2_version: str = ""

    def __post_init__(self) -> None:
        for name in ("v_p05", "alpha", "dt"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
                raise TypeError(f"Calibration.{name} must be a number, got {value!r}.")
            if not math.isfinite(value):
                raise ValueError(f"Calibration.{name} must be finite, got {value!r}; recalibrate.")
            object.__setattr__(self, name, float(value))
        if self.alpha <= 0:
            raise ValueError(
                f"Calibration.alpha (width of the activation function) must be > 0 mV, got {self.alpha}; "
                "recalibrate."
            )
        if self.dt <= 0:
            raise ValueError(f"Calibration.dt must be > 0 ms, got {self.dt}.")
        try:
            v, p = np.asarray(self.v_rest, dtype=float), np.asarray(self.p_on, dtype=float)
        except (TypeError, ValueError):
            raise TypeError("Calibration.v_rest and p_on must be numeric arrays.") from None
        if v.ndim != 1 or v.shape != p.shape:
            raise ValueError(
                f"Calibration.v_rest and p_on must be 1-D arrays of equal length, got shapes "
                f"{v.shape} and {p.shape}."
            )
        if not (np.all(np.isfinite(v)) and np.all((p >= 0) & (p <= 1))):
            raise ValueError("Calibration.v_rest must be finite and p_on must lie in [0, 1].")
        self.v_rest, self.p_on = v, p
        if not isinstance(self.neuron, NeuronParameters):
            raise TypeError(f"Calibration.neuron must be NeuronParameters, got {type(self.neuron).__name__}.")
        if not isinstance(self.noise, NoiseSource):
            raise TypeError(f"Calibration.noise must be a NoiseSource, got {type(self.noise).__name__}.")

    # -- use --------------------------------------------------------------
    def activation(self, v_rest: np.ndarray | float) -> np.ndarray:
        """Fitted ``p_on`` at leak potential(s) ``v_rest`` [mV]."""
        return logistic(v_rest, self.v_p05, self.alpha)

    @property
    def alpha_free(self) -> float:
        """Width in units of the mean free membrane potential, ``α g_l / g_tot`` [mV]."""
        from .membrane import free_membrane

        return float(self.alpha * self.neuron.g_l / free_membrane(self.neuron, self.noise).g_tot)

    def check_compatible(self, neuron: NeuronParameters, noise: NoiseSource, dt: float) -> None:
        """Raise :class:`CalibrationMismatchError` unless measured for exactly these inputs.

        ``neuron.v_rest`` is ignored (the translation sets ``E_L`` per neuron).  A
        calibration made with another Brian2 version is refused too (unless its
        version is unknown, i.e. empty).
        """
        diffs = []
        mine = self.neuron.replace(v_rest=0.0).to_dict()
        theirs = neuron.replace(v_rest=0.0).to_dict()
        for k in mine:
            a, b = mine[k], theirs[k]
            same = math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) if isinstance(a, float) else a == b
            if not same:
                diffs.append(f"neuron.{k}: calibrated {mine[k]!r}, requested {theirs[k]!r}")
        if self.noise.to_dict() != noise.to_dict():
            diffs.append(f"noise: calibrated {self.noise.to_dict()}, requested {noise.to_dict()}")
        if not math.isclose(self.dt, dt, rel_tol=1e-9):
            diffs.append(f"dt: calibrated {self.dt} ms, requested {dt} ms")
        if self.brian2_version and self.brian2_version != _brian2_version():
            diffs.append(f"Brian2: calibrated with {self.brian2_version}, running {_brian2_version()}")
        if diffs:
            raise CalibrationMismatchError(
                "the calibration does not match the sampler:\n  - "
                + "\n  - ".join(diffs)
                + "\nRecalibrate with lifsampling.calibrate(neuron, noise, dt=...) or pass "
                "calibration=None to let the sampler calibrate (and cache) for its settings."
            )

    # -- files ------------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "schema": SCHEMA,
            "v_p05": self.v_p05,
            "alpha": self.alpha,
            "v_rest": np.asarray(self.v_rest).tolist(),
            "p_on": np.asarray(self.p_on).tolist(),
            "neuron": self.neuron.to_dict(),
            "noise": self.noise.to_dict(),
            "dt": self.dt,
            "settings": self.settings,
            "fit": self.fit,
            "brian2_version": self.brian2_version,
        }

    @classmethod
    def from_dict(cls, d: dict, noise: NoiseSource | None = None) -> Calibration:
        """Rebuild from :meth:`to_dict` output.

        ``noise`` is used as the calibration's noise source when ``d["noise"]``
        equals ``noise.to_dict()``; this is how calibrations of noise sources that
        :func:`~lifsampling.noise.noise_from_dict` does not know are read back.
        """
        if d.get("schema") != SCHEMA:
            raise ValueError(f"unsupported calibration schema {d.get('schema')!r} (expected {SCHEMA}).")
        if noise is None or noise.to_dict() != d["noise"]:
            noise = noise_from_dict(d["noise"])
        return cls(
            v_p05=float(d["v_p05"]),
            alpha=float(d["alpha"]),
            v_rest=np.asarray(d["v_rest"], dtype=float),
            p_on=np.asarray(d["p_on"], dtype=float),
            neuron=NeuronParameters.from_dict(d["neuron"]),
            noise=noise,
            dt=float(d["dt"]),
            settings=dict(d.get("settings", {})),
            fit=dict(d.get("fit", {})),
            brian2_version=str(d.get("brian2_version", "")),
        )

    def save(self, path: str | os.PathLike) -> None:
        """Write as JSON with a checksum, atomically (a reader never sees half a file)."""
        write_text_atomic(path, json.dumps(with_checksum(self.to_dict()), indent=1))

    @classmethod
    def load(cls, path: str | os.PathLike, noise: NoiseSource | None = None) -> Calibration:
        """Read a calibration written by :meth:`save` (``noise``: see :meth:`from_dict`).

        Raises
        ------
        ValueError
            Naming the file, if it is missing, not JSON, fails its checksum (damaged
            or edited), lacks a field or holds an invalid value.
        """
        where = f"calibration file {os.fspath(path)!r}"
        d = read_json(path, "calibration file")
        verify_checksum(d, where)
        try:
            return cls.from_dict(d, noise=noise)
        except KeyError as exc:
            raise ValueError(f"{where} is incomplete: {exc} is missing.") from None
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{where} is invalid: {exc}") from None

    def __repr__(self) -> str:
        return (
            f"Calibration(v_p05={self.v_p05:.3f} mV, alpha={self.alpha:.4f} mV, "
            f"dt={self.dt} ms, points={len(self.v_rest)}, "
            f"rms_residual={self.fit.get('rms_residual', float('nan')):.3g})"
        )

    def plot(self, ax: Any = None) -> Any:
        """Measured points and the fitted logistic; returns the matplotlib axes."""
        from .plotting import plot_calibration

        return plot_calibration(self, ax=ax)


def _measure(neuron, noise, v, *, dt, duration, burn_in, seed, device, cache_dir, progress, what):
    """p_on of independent neurons at leak potentials ``v``."""
    counts = np.zeros(len(v))
    first = steps(burn_in, dt, "burn_in")

    def consume(idx, stp, _end):
        np.add.at(counts, idx[stp >= first], 1)

    simulate(
        NetworkSpec(neuron, noise, np.asarray(v, float), dt),
        duration=burn_in + duration,
        seed=seed,
        consumer=consume,
        device=device,
        v_init=np.full(len(v), neuron.v_reset),
        progress=progress,
        cache_dir=cache_dir,
        description=what,
    )
    # count of spikes * tau_ref / T; a spike near the end contributes its full period
    return np.clip(counts * neuron.tau_refrac / duration, 0.0, 1.0)


def calibrate(
    neuron: NeuronParameters | None = None,
    noise: NoiseSource | None = None,
    *,
    dt: float = 0.1,
    n_points: int = 100,
    duration: float = 20_000.0,
    burn_in: float = 500.0,
    prescan: tuple[float, float, float] = (-80.0, -20.0, 0.2),
    prescan_duration: float = 1_000.0,
    seed: int = 1234,
    device: str = "auto",
    cache: bool = True,
    cache_dir: str | os.PathLike | None = None,
    progress: bool | None = None,
) -> Calibration:
    """Measure the activation function ``p_on(E_L)`` and fit a logistic.

    A coarse pre-scan (``prescan = (start, stop, step)`` in mV, each point
    ``prescan_duration`` ms) finds where ``p_on`` rises from below 0.05 to
    above 0.95; then ``n_points`` leak potentials across that window are
    simulated for ``duration`` ms each (after ``burn_in``), all as independent
    neurons of one network.

    Parameters
    ----------
    neuron : NeuronParameters, optional
        Defaults to the ``"sbs"`` preset.
    noise : NoiseSource, optional
        Defaults to ``PoissonNoise.preset("sbs")``.
    dt : float
        Time step [ms].  Calibrate at the dt you sample with.
    n_points, duration, burn_in, prescan, prescan_duration
        Measurement settings (durations in ms).
    seed : int
        Drives the simulation; the same seed gives the same calibration.
    device : {"auto", "cython", "numpy", "cpp_standalone"}
        Brian2 code-generation target (``"auto"``: see :func:`LIFSampler`).
    cache : bool
        Reuse a cached calibration with identical inputs, and store new ones.
    cache_dir : path, optional
        Defaults to ``$LIFSAMPLING_CACHE`` or ``~/.cache/lifsampling``.

    Returns
    -------
    Calibration

    References
    ----------
    Petrovici et al. (2016), Phys. Rev. E 94, 042312.

    Examples
    --------
    >>> cal = calibrate(n_points=20, duration=2000.0)  # doctest: +SKIP
    >>> cal                                              # doctest: +SKIP
    Calibration(v_p05=-50.6... mV, alpha=0.79... mV, dt=0.1 ms, ...)
    """
    from .noise import PoissonNoise

    neuron = NeuronParameters.preset("sbs") if neuron is None else neuron
    noise = PoissonNoise.preset("sbs") if noise is None else noise
    if not isinstance(neuron, NeuronParameters):
        raise TypeError(f"neuron must be NeuronParameters, got {type(neuron).__name__}.")
    if not isinstance(noise, NoiseSource):
        raise TypeError(f"noise must be a NoiseSource, got {type(noise).__name__}.")
    noise.check_compatible(neuron)
    dt = positive(dt, "ms", "dt")
    duration = positive(duration, "ms", "duration")
    prescan_duration = positive(prescan_duration, "ms", "prescan_duration")
    burn_in = to_float(burn_in, "ms", "burn_in")
    if burn_in < 0:
        raise ValueError(f"burn_in must be >= 0, got {burn_in} ms.")
    steps(burn_in, dt, "burn_in")
    steps(neuron.tau_refrac, dt, "tau_refrac")
    n_points = count(n_points, "n_points", minimum=4)
    device = resolve_device(device, noise, n_points, duration, dt)
    try:
        lo, hi, step = (float(x) for x in prescan)
    except (TypeError, ValueError):
        raise ValueError(f"prescan must be (start, stop, step) in mV, got {prescan!r}.") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and hi > lo and step > 0):
        raise ValueError(
            f"prescan must be (start, stop, step) with stop > start, step > 0, all finite; got {prescan}."
        )

    settings = {
        "n_points": int(n_points),
        "duration_ms": duration,
        "burn_in_ms": float(burn_in),
        "prescan": [lo, hi, step],
        "prescan_duration_ms": prescan_duration,
        "seed": int(seed),
        "device": device,
    }
    inputs = {
        "neuron": neuron.replace(v_rest=0.0).to_dict(),
        "noise": noise.to_dict(),
        "dt": dt,
        "settings": settings,
        "brian2_version": _brian2_version(),
        "schema": SCHEMA,
        "simulation": SIMULATION_VERSION,
    }

    if not cache:
        return _calibrate(neuron, noise, dt, settings, cache_dir, progress)
    return load_or_compute(
        cache_path(cache_dir, "calibrations", inputs),
        lambda path: Calibration.load(path, noise=noise),
        lambda: _calibrate(neuron, noise, dt, settings, cache_dir, progress),
        lambda cal, path: cal.save(path),
    )


def _calibrate(neuron, noise, dt, settings, cache_dir, progress) -> Calibration:
    """Measure and fit (see :func:`calibrate`, which checked the inputs and made ``settings``)."""
    lo, hi, step = settings["prescan"]
    n_points, seed, burn_in = settings["n_points"], settings["seed"], settings["burn_in_ms"]
    duration, prescan_duration, device = (
        settings["duration_ms"],
        settings["prescan_duration_ms"],
        settings["device"],
    )
    seed_pre, seed_main = derive_seed(seed), derive_seed(seed + 1)
    common = dict(dt=dt, burn_in=burn_in, device=device, cache_dir=cache_dir, progress=progress)
    v_pre = np.arange(lo, hi + step / 2, step)
    p_pre = _measure(
        neuron, noise, v_pre, duration=prescan_duration, seed=seed_pre, what="calibration pre-scan", **common
    )
    above = np.flatnonzero(p_pre >= 0.5)
    if above.size == 0 or above[0] == 0:
        raise RuntimeError(
            f"the pre-scan over E_L = {lo}..{hi} mV did not find the rise of the activation "
            "function (p_on never crosses 0.5 inside the window); widen `prescan`."
        )
    mid = above[0]
    below = np.flatnonzero(p_pre[:mid] <= 0.05)
    top = np.flatnonzero(p_pre[mid:] >= 0.95)
    v_lo = v_pre[below[-1]] if below.size else v_pre[0]
    v_hi = v_pre[mid + top[0]] if top.size else v_pre[-1]
    margin = 0.25 * (v_hi - v_lo) + step
    v = np.linspace(v_lo - margin, v_hi + margin, int(n_points))
    p = _measure(neuron, noise, v, duration=duration, seed=seed_main, what="calibration", **common)

    use = (p > 0.05) & (p < 0.95)
    if use.sum() < 3:
        raise RuntimeError(
            f"only {int(use.sum())} calibration points have 0.05 < p_on < 0.95; "
            "increase n_points or duration."
        )
    guess = (float(np.interp(0.5, p[use], v[use])), max((v_hi - v_lo) / 6.0, 1e-3))
    (v_p05, alpha), cov = curve_fit(logistic, v[use], p[use], p0=guess, maxfev=10_000)
    resid = p[use] - logistic(v[use], v_p05, alpha)
    err = np.sqrt(np.diag(cov))
    cal = Calibration(
        v_p05=float(v_p05),
        alpha=float(alpha),
        v_rest=v,
        p_on=p,
        neuron=neuron.replace(v_rest=0.0),
        noise=noise,
        dt=dt,
        settings=settings,
        fit={
            "n_points": int(use.sum()),
            "rms_residual": float(np.sqrt(np.mean(resid**2))),
            "max_residual": float(np.max(np.abs(resid))),
            "v_p05_stderr": float(err[0]),
            "alpha_stderr": float(err[1]),
        },
        brian2_version=_brian2_version(),
    )
    return cal
