"""Calibration of the effective coupling between LIF sampling neurons.

The analytic translation (:func:`lifsampling.boltzmann_to_lif`) matches the
area of a synaptic PSP over one refractory period to that of the rectangular
interaction of an ideal sampler (Petrovici et al. 2016, Phys. Rev. E 94,
042312).  Real PSPs are not rectangular: with ``τ_syn = τ_ref`` a third of
the PSP arrives after the presynaptic neuron has already switched off,
refractory bursts interact with the synaptic dynamics, and the activation
function is not exactly logistic.  Measured in symmetric two-neuron networks
(``b = 0``), the coupling a LIF pair realises — its log odds ratio
``ln(p₁₁ p₀₀ / p₀₁ p₁₀)`` — exceeds the requested ``W`` by 20–50 % for the
sbs neuron, more for excitation than inhibition, and non-linearly in ``W``.

:func:`calibrate_interactions` measures that map ``W_requested → W_effective``
for a grid of couplings of both signs (many pairs in one Brian2 network), and
:class:`InteractionCalibration` inverts it, so the translation asks the
synapses for the nominal coupling that *realises* the target ``W``.  Like the
activation function it is measured once per neuron, noise, time step and
synapse model, cached, and refused when those differ.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import numpy as np

from ._cache import cache_path, content_key, load_or_compute, read_json, verify_checksum, with_checksum
from ._io import write_text_atomic
from ._network import SIMULATION_VERSION, resolve_device
from ._seeding import derive_seed
from ._units import positive, steps, to_float
from .calibration import Calibration, CalibrationMismatchError
from .evidence import CLAMP_STRENGTH, clamped_v_rest
from .targets import BoltzmannMachine, states_to_indices

__all__ = ["InteractionCalibration", "calibrate_interactions"]

SCHEMA = 1


def _activation_id(calibration: Calibration) -> str:
    return content_key(calibration.to_dict())


@dataclass(eq=False)
class InteractionCalibration:
    """Measured map from requested to effective Boltzmann coupling.

    Attributes
    ----------
    w_nominal : ndarray
        Couplings requested from the analytic translation (sorted, both signs).
    w_effective : ndarray
        Couplings realised by LIF pairs (log odds ratios), same order.
    w_effective_stderr : ndarray
        Standard errors of ``w_effective`` (independent pairs, between-pair spread).
    synapses : str
        Synapse model it was measured with (``"renewing"`` or ``"additive"``).
    delay : float
        Synaptic delay [ms].
    activation_id : str
        Identity of the activation :class:`Calibration` it builds on.
    settings : dict
        How it was measured.

    Examples
    --------
    >>> ic = InteractionCalibration(np.array([-1.0, 1.0]), np.array([-1.2, 1.5]),
    ...                             np.zeros(2), "renewing", 0.1, "x")
    >>> float(ic.nominal(1.5)), float(ic.effective(-0.5))
    (1.0, -0.6)
    """

    w_nominal: np.ndarray
    w_effective: np.ndarray
    w_effective_stderr: np.ndarray
    synapses: str
    delay: float
    activation_id: str
    settings: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        w0 = np.asarray(self.w_nominal, dtype=float).ravel()
        we = np.asarray(self.w_effective, dtype=float).ravel()
        if we.shape != w0.shape or np.shape(self.w_effective_stderr) != w0.shape:
            raise ValueError("w_nominal, w_effective and w_effective_stderr must have the same length.")
        if not (np.all(np.isfinite(w0)) and np.all(np.isfinite(we))):
            raise ValueError("couplings must be finite.")
        order = np.argsort(w0)
        w0, we = w0[order], we[order]
        self.w_effective_stderr = np.asarray(self.w_effective_stderr, dtype=float)[order]
        if w0.size == 0 or np.any(w0 == 0):
            raise ValueError("w_nominal must hold non-zero couplings.")
        if not (w0[0] < 0 < w0[-1]):
            raise ValueError("w_nominal must hold couplings of both signs.")
        if np.any(np.diff(w0) == 0):
            raise ValueError("w_nominal must not repeat a coupling.")
        if isinstance(self.delay, bool) or not isinstance(self.delay, (int, float, np.number)):
            raise TypeError(f"delay must be a number of ms, got {self.delay!r}.")
        if not (np.isfinite(self.delay) and self.delay > 0):
            raise ValueError(f"delay must be a positive number of ms, got {self.delay!r}.")
        # Anchor at zero; the map must be invertible, so a measurement too noisy to be
        # strictly increasing is refused rather than smoothed.
        self._x = np.concatenate([w0[w0 < 0], [0.0], w0[w0 > 0]])
        self._y = np.concatenate([we[w0 < 0], [0.0], we[w0 > 0]])
        if np.any(np.diff(self._y) <= 0):
            raise ValueError(
                "the measured coupling map is not strictly increasing; remeasure with longer "
                f"durations or more pairs (nominal {w0.tolist()}, effective {we.tolist()})."
            )
        self.w_nominal, self.w_effective = w0, we

    def __eq__(self, other: object) -> bool:
        return isinstance(other, InteractionCalibration) and self.to_dict() == other.to_dict()

    __hash__ = None

    def _map(self, w, x, y) -> np.ndarray:
        w = np.asarray(w, dtype=float)
        out = np.interp(w, x, y)
        lo, hi = w < x[0], w > x[-1]
        out = np.where(lo, w * (y[0] / x[0]), out)  # beyond the grid: constant ratio
        return np.where(hi, w * (y[-1] / x[-1]), out)

    def effective(self, w_nominal: np.ndarray | float) -> np.ndarray:
        """Coupling realised when ``w_nominal`` is requested from the analytic translation."""
        return self._map(w_nominal, self._x, self._y)

    def nominal(self, w_target: np.ndarray | float) -> np.ndarray:
        """Coupling to request so that the network realises ``w_target``."""
        return self._map(w_target, self._y, self._x)

    def check_compatible(self, calibration: Calibration, synapses: str, delay: float) -> None:
        """Raise :class:`CalibrationMismatchError` unless made for these settings."""
        diffs = []
        if self.activation_id != _activation_id(calibration):
            diffs.append("it was measured on top of another activation calibration")
        if self.synapses != synapses:
            diffs.append(f"synapses: measured with {self.synapses!r}, requested {synapses!r}")
        if not np.isclose(self.delay, delay):
            diffs.append(f"delay: measured with {self.delay} ms, requested {delay} ms")
        if diffs:
            raise CalibrationMismatchError(
                "the interaction calibration does not match: "
                + "; ".join(diffs)
                + ". Recalibrate with calibrate_interactions(calibration, synapses=..., delay=...)."
            )

    def to_dict(self) -> dict:
        return {
            "schema": SCHEMA,
            "w_nominal": self.w_nominal.tolist(),
            "w_effective": self.w_effective.tolist(),
            "w_effective_stderr": self.w_effective_stderr.tolist(),
            "synapses": self.synapses,
            "delay": self.delay,
            "activation_id": self.activation_id,
            "settings": self.settings,
        }

    @classmethod
    def from_dict(cls, d: dict) -> InteractionCalibration:
        if not isinstance(d, dict) or d.get("schema") != SCHEMA:
            raise ValueError("not an interaction calibration of a supported schema.")
        return cls(
            np.asarray(d["w_nominal"]),
            np.asarray(d["w_effective"]),
            np.asarray(d["w_effective_stderr"]),
            str(d["synapses"]),
            float(d["delay"]),
            str(d["activation_id"]),
            dict(d.get("settings", {})),
        )

    def save(self, path: str | os.PathLike) -> None:
        """Write as JSON with a checksum, atomically (a reader never sees half a file)."""
        write_text_atomic(path, json.dumps(with_checksum(self.to_dict()), indent=1))

    @classmethod
    def load(cls, path: str | os.PathLike) -> InteractionCalibration:
        """Read a map written by :meth:`save`; a ``ValueError`` naming the file if it is damaged."""
        where = f"interaction calibration {os.fspath(path)!r}"
        d = read_json(path, "interaction calibration")
        verify_checksum(d, where)
        try:
            return cls.from_dict(d)
        except KeyError as exc:
            raise ValueError(f"cannot read {where}: it is incomplete, {exc} is missing.") from None
        except (TypeError, ValueError) as exc:
            raise ValueError(f"cannot read {where}: {exc}") from None

    def __repr__(self) -> str:
        ratios = ", ".join(f"{a:+g}→{b:+.2f}" for a, b in zip(self.w_nominal, self.w_effective, strict=True))
        return f"InteractionCalibration({self.synapses}, W requested→realised: {ratios})"


def log_odds_ratio(states: np.ndarray, pseudo_count: float = 0.5) -> float:
    """``ln(p₁₁ p₀₀ / p₀₁ p₁₀)`` of two-unit states (…, 2), with a pseudo-count per cell."""
    c = np.bincount(states_to_indices(states).ravel(), minlength=4) + pseudo_count
    return float(np.log(c[3] * c[0] / (c[1] * c[2])))


def calibrate_interactions(
    calibration: Calibration,
    *,
    synapses: str = "renewing",
    delay: float = 0.1,
    couplings: tuple[float, ...] | None = None,
    n_pairs: int = 16,
    duration: float = 20_000.0,
    burn_in: float = 500.0,
    sample_interval: float = 1.0,
    seed: int = 4321,
    device: str = "auto",
    cache: bool = True,
    cache_dir: str | os.PathLike | None = None,
    progress: bool | None = None,
    presynaptic: str = "free",
) -> InteractionCalibration:
    """Measure the coupling LIF pairs realise for requested couplings ``±couplings``.

    For every ``W`` in ``±couplings``, ``n_pairs`` symmetric two-neuron
    networks with ``b = 0`` are translated analytically and simulated (all in
    one Brian2 network) for ``duration`` ms; the realised coupling is the log
    odds ratio of each pair's sampled joint distribution, averaged over pairs.

    Parameters
    ----------
    calibration : Calibration
        Activation function (neuron, noise and dt come from it).
    synapses : {"renewing", "additive"}
    delay : float
        Synaptic delay [ms].
    couplings : tuple of float, optional
        Positive magnitudes of the requested couplings (default ``(0.5, 1.0)``
        for free pairs, ``(0.5, 1, 2, 3, 4)`` for clamped ones).  Beyond the largest one
        the map keeps its outermost ratio.  The default measures only small
        couplings on purpose: the pair map grows super-linearly for strong
        excitation (requested 3 → realised 5.2 for the sbs neuron), but in
        networks where several inputs add up that non-linearity does not carry
        over; on ten random 5-unit machines the small-coupling map gave a
        median DKL of 0.006 and a maximum of 0.026, the full map (±0.5 … ±3)
        0.006 and 0.046 (``benchmarks/accuracy.py``).
    n_pairs, duration, burn_in, sample_interval, seed, device
        Measurement settings (times in ms).
    presynaptic : {"free", "clamped"}
        ``"free"``: symmetric pairs, both neurons sampling (the map used for
        every coupling between free units).  ``"clamped"``: the presynaptic
        neuron is clamped to 1 (:mod:`lifsampling.evidence`) and only the
        synapse onto the free neuron (``b = 0``) exists; the realised coupling
        is the shift of the free neuron's log odds against a clamped-to-1
        neuron with zero weight.  A neuron that fires at the end of every
        refractory period delivers back-to-back PSPs without tails, a
        different input from that of a switching neuron, so evidence needs
        its own map.
    cache, cache_dir
        Reuse / store the result (JSON) under a key of all inputs.

    Returns
    -------
    InteractionCalibration

    Examples
    --------
    >>> ic = calibrate_interactions(ls.calibrate())   # doctest: +SKIP
    >>> ic.nominal(1.0)                               # doctest: +SKIP
    0.74...
    """
    from .sampler import SYNAPSE_KINDS

    if synapses not in SYNAPSE_KINDS:
        raise ValueError(f"synapses must be one of {SYNAPSE_KINDS}, got {synapses!r}.")
    if presynaptic not in ("free", "clamped"):
        raise ValueError(f"presynaptic must be 'free' or 'clamped', got {presynaptic!r}.")
    if couplings is None:
        couplings = (0.5, 1.0) if presynaptic == "free" else (0.5, 1.0, 2.0, 3.0, 4.0)
    mags = np.asarray(couplings, dtype=float)
    if mags.size == 0 or np.any(mags <= 0) or not np.all(np.isfinite(mags)):
        raise ValueError(f"couplings must be positive magnitudes, got {couplings!r}.")
    if not isinstance(n_pairs, (int, np.integer)) or n_pairs < 2:
        raise ValueError(f"n_pairs must be an integer >= 2, got {n_pairs!r}.")
    delay = positive(delay, "ms", "delay")
    duration = positive(duration, "ms", "duration")
    sample_interval = positive(sample_interval, "ms", "sample_interval")
    burn_in = to_float(burn_in, "ms", "burn_in")
    if burn_in < 0:
        raise ValueError(f"burn_in must be >= 0 ms, got {burn_in}.")
    steps(duration, sample_interval, "duration", "sample_interval")
    steps(sample_interval, calibration.dt, "sample_interval")
    device = resolve_device(
        device, calibration.noise, 2 * n_pairs * (2 * mags.size + 1), duration, calibration.dt
    )
    steps(burn_in, calibration.dt, "burn_in")
    settings = {
        "couplings": mags.tolist(),
        "n_pairs": int(n_pairs),
        "duration_ms": float(duration),
        "burn_in_ms": float(burn_in),
        "sample_interval_ms": float(sample_interval),
        "seed": int(seed),
        "device": device,
    }
    if presynaptic == "clamped":  # keeps the cache keys of free-pair maps unchanged
        settings["presynaptic"] = "clamped"
    act = _activation_id(calibration)
    inputs = {
        "activation": act,
        "synapses": synapses,
        "delay": delay,
        "settings": settings,
        "schema": SCHEMA,
        "simulation": SIMULATION_VERSION,
    }

    def measure() -> InteractionCalibration:
        from .sampler import run_chains
        from .translation import boltzmann_to_lif

        grid = np.concatenate([-mags[::-1], mags])
        if presynaptic == "clamped":
            grid = np.concatenate([grid, [0.0]])  # the last group: zero weight, the baseline
        pairs = [BoltzmannMachine([[0.0, w], [w, 0.0]], [0.0, 0.0]) for w in grid]
        lifs = [boltzmann_to_lif(pair, calibration) for pair in pairs]
        if presynaptic == "clamped":
            on = clamped_v_rest(calibration, 1, CLAMP_STRENGTH + mags.max())
            for lif in lifs:
                lif.v_rest[0] = on
                lif.w_exc[1, 0] = lif.w_inh[1, 0] = 0.0  # only the synapse onto the free neuron
        rep = np.repeat(np.arange(grid.size), n_pairs)
        states = run_chains(
            calibration.neuron,
            calibration.noise,
            np.stack([lifs[g].v_rest for g in rep]),
            np.stack([lifs[g].w_exc for g in rep]),
            np.stack([lifs[g].w_inh for g in rep]),
            duration=duration,
            burn_in=burn_in,
            seed=derive_seed(seed),
            dt=calibration.dt,
            sample_interval=sample_interval,
            synapses=synapses,
            delay=delay,
            device=device,
            cache_dir=cache_dir,
            progress=progress,
        )
        if presynaptic == "clamped":
            p_on = (states[:, :, 1].sum(axis=1) + 0.5) / (states.shape[1] + 1.0)
            logit = np.log(p_on / (1 - p_on)).reshape(grid.size, n_pairs)
            per_pair = logit[:-1] - logit[-1].mean()  # shift against the zero-weight baseline
            grid = grid[:-1]
        else:
            per_pair = np.array([log_odds_ratio(s) for s in states]).reshape(grid.size, n_pairs)
        result = InteractionCalibration(
            w_nominal=grid,
            w_effective=per_pair.mean(axis=1),
            w_effective_stderr=per_pair.std(axis=1, ddof=1) / np.sqrt(n_pairs),
            synapses=synapses,
            delay=float(delay),
            activation_id=act,
            settings=settings,
        )
        return result

    if not cache:
        return measure()
    return load_or_compute(
        cache_path(cache_dir, "interactions", inputs),
        InteractionCalibration.load,
        measure,
        lambda ic, path: ic.save(path),
    )
