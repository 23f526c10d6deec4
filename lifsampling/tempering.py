"""Background rate as temperature: the measured map T(ν) of a LIF sampling neuron.

In the high-conductance state a stronger background makes PSPs smaller
(∝ 1/ν, the total conductance grows with the rate) and the free membrane
noise smaller too (∝ ν^(−½)), so in units of the activation width the
effective weights and biases shrink ∝ ν^(−½): the background rate acts as a
temperature ``T ∝ √ν`` (Petrovici et al. 2016; Korcsak-Gorzo et al. 2022,
PLoS Comput. Biol. 18, e1009753).  The formula is a limit; :func:`temperature_map`
measures the map by calibrating the activation function at several rates,
with excitatory and inhibitory rates scaled together (fixed E/I ratio).

For a network translated at the reference rate ``ν_ref`` (its "cold" rate),
running it at rate ν changes

* the couplings by ``1 / T_W(ν)``, ``T_W = w(ν) / w(ν_ref)``, where ``w`` is
  the synaptic weight that realises ``W = 1`` (:func:`lifsampling.boltzmann_to_lif`);
* the biases by ``1 / T_b(ν)``, ``T_b = α(ν) / α(ν_ref)``, the width of the
  activation function, plus an offset ``(v_p05(ν_ref) − v_p05(ν)) / α(ν)``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from .calibration import Calibration, calibrate
from .neurons import NeuronParameters
from .noise import PoissonNoise
from .translation import _weight_per_unit

__all__ = ["TemperatureMap", "temperature_map", "phase_gate", "COLD_WINDOW"]


#: width of the default cold-phase window, in periods
COLD_WINDOW = 0.1


def check_phase_window(
    window: tuple[float, float] | str, cold: tuple[float, float] | None = None
) -> tuple[float, float] | None:
    """A phase window as ``(start, end)`` in cycles; ``"all"`` → None.

    ``"cold"`` → ``cold``, the rhythm's own cold window
    (:attr:`OscillatingPoissonNoise.cold_window`), by default a tenth of the
    period centred on the trough.
    """
    if isinstance(window, str):
        if window == "all":
            return None
        if window == "cold":
            return (0.75 - COLD_WINDOW / 2, 0.75 + COLD_WINDOW / 2) if cold is None else tuple(cold)
        raise ValueError(f"phase_window must be (start, end) in cycles, 'cold' or 'all'; got {window!r}.")
    try:
        start, end = (float(x) for x in window)
    except (TypeError, ValueError):
        raise ValueError(
            f"phase_window must be (start, end) in cycles, 'cold' or 'all'; got {window!r}."
        ) from None
    if not (0 <= start < 1 and 0 < end <= 1) or start == end:
        raise ValueError(f"phase_window ({start}, {end}) must lie in [0, 1] cycles with start != end.")
    return (start, end)


def in_window(phase: np.ndarray, window: tuple[float, float]) -> np.ndarray:
    """Whether phases (cycles) lie in ``[start, end)``, wrapping around 1 when ``start > end``."""
    start, end = window
    return (phase >= start) & (phase < end) if start < end else (phase >= start) | (phase < end)


def phase_gate(result: Any, window: tuple[float, float] | str = "cold") -> Any:
    """Keep the draws of a result whose recorded ``phase`` lies in ``window``.

    For runs sampled with ``phase_window="all"`` under a rhythmic background
    (:class:`lifsampling.OscillatingPoissonNoise`): the same selection as
    sampling with ``phase_window=window`` directly, so one run serves several
    windows.  ``"cold"`` is the cold window of the rhythm the result was
    sampled with (recorded in its ``noise`` attribute).

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> ds = xr.Dataset({"states": (("chain", "draw", "unit"), np.zeros((1, 4, 1), np.int8))},
    ...                 coords={"phase": ("draw", [0.1, 0.72, 0.78, 0.9])})
    >>> phase_gate(ds).sizes["draw"]
    2
    """
    if "phase" not in result.coords:
        raise ValueError(
            "the result records no phase: sample with a rhythmic background and phase_window='all'."
        )
    w = check_phase_window(window, _recorded_cold_window(result))
    if w is None:
        return result
    keep = np.flatnonzero(in_window(result.phase.values, w))
    if keep.size == 0:
        raise ValueError(f"no draw falls into the phase window {w}.")
    gated = result.isel(draw=keep)
    gated = gated.assign_coords(draw=np.arange(keep.size))
    gated.attrs["phase_window"] = json.dumps(list(w))
    return gated


def _recorded_cold_window(result: Any) -> tuple[float, float] | None:
    """The cold window of the rhythm recorded in a result's attributes (None if none is)."""
    from .noise import noise_from_dict

    recorded = result.attrs.get("noise")
    if isinstance(recorded, str):
        recorded = json.loads(recorded)
    if not isinstance(recorded, dict):
        return None
    return getattr(noise_from_dict(recorded), "cold_window", None)


@dataclass(frozen=True)
class TemperatureMap:
    """Measured effective temperature against background rate.

    Attributes
    ----------
    rates : ndarray
        Excitatory background rates [Hz] (inhibitory ones scaled alike), ascending.
    reference_rate : float
        The rate with ``T = 1`` [Hz].
    alpha, v_p05 : ndarray
        Activation width and half-activation leak potential at each rate [mV].
    weight_per_unit : ndarray
        Excitatory synaptic weight realising ``W = 1`` at each rate [µS or nA].
    calibrations : tuple of Calibration
    """

    rates: np.ndarray
    reference_rate: float
    alpha: np.ndarray
    v_p05: np.ndarray
    weight_per_unit: np.ndarray
    calibrations: tuple[Calibration, ...]

    def _ref(self, values: np.ndarray) -> float:
        return float(np.interp(np.log(self.reference_rate), np.log(self.rates), values))

    @property
    def t_bias(self) -> np.ndarray:
        """``T_b(ν) = α(ν) / α(ν_ref)``."""
        return self.alpha / self._ref(self.alpha)

    @property
    def t_weight(self) -> np.ndarray:
        """``T_W(ν) = w(ν) / w(ν_ref)``."""
        return self.weight_per_unit / self._ref(self.weight_per_unit)

    @property
    def t_predicted(self) -> np.ndarray:
        """The high-conductance prediction ``√(ν / ν_ref)``."""
        return np.sqrt(self.rates / self.reference_rate)

    def temperature(self, rate: Any, kind: str = "weight") -> np.ndarray:
        """``T`` at any rate in the measured range [Hz] (log–log interpolation)."""
        t = self._curve(kind)
        rate = np.asarray(rate, dtype=float)
        self._check_range(rate, self.rates, "rate", "Hz")
        return np.exp(np.interp(np.log(rate), np.log(self.rates), np.log(t)))

    def rate(self, temperature: Any, kind: str = "weight") -> np.ndarray:
        """The rate [Hz] at which the network has temperature ``T`` (inverse of :meth:`temperature`)."""
        t = self._curve(kind)
        if np.any(np.diff(t) <= 0):
            raise ValueError(f"the measured T_{kind}(ν) is not monotone; it cannot be inverted.")
        temperature = np.asarray(temperature, dtype=float)
        self._check_range(temperature, t, "temperature", "")
        return np.exp(np.interp(np.log(temperature), np.log(t), np.log(self.rates)))

    def _curve(self, kind: str) -> np.ndarray:
        if kind not in ("weight", "bias"):
            raise ValueError(f"kind must be 'weight' or 'bias', got {kind!r}.")
        return self.t_weight if kind == "weight" else self.t_bias

    @staticmethod
    def _check_range(x: np.ndarray, grid: np.ndarray, name: str, unit: str) -> None:
        lo, hi = float(np.min(grid)), float(np.max(grid))
        if np.any(x < lo * (1 - 1e-9)) or np.any(x > hi * (1 + 1e-9)):
            raise ValueError(
                f"{name} outside the measured range [{lo:g}, {hi:g}] {unit}; measure a wider map."
            )

    def to_dict(self) -> dict:
        return {
            "rates_hz": self.rates.tolist(),
            "reference_rate_hz": self.reference_rate,
            "alpha_mv": self.alpha.tolist(),
            "v_p05_mv": self.v_p05.tolist(),
            "weight_per_unit": self.weight_per_unit.tolist(),
            "t_bias": self.t_bias.tolist(),
            "t_weight": self.t_weight.tolist(),
            "t_predicted": self.t_predicted.tolist(),
        }


def temperature_map(
    rates: Any,
    *,
    neuron: NeuronParameters | None = None,
    noise: PoissonNoise | None = None,
    reference_rate: float | None = None,
    dt: float = 0.1,
    **calibrate_kwargs: Any,
) -> TemperatureMap:
    """Measure the effective temperature of a LIF sampling neuron against its background rate.

    Parameters
    ----------
    rates : sequence of float
        Excitatory background rates [Hz] (at least 2, positive); the
        inhibitory rate keeps the ratio it has in ``noise``.
    neuron : NeuronParameters, optional
        Default: the sbs preset.
    noise : PoissonNoise, optional
        Weights and E/I ratio of the background (default: the sbs preset).
    reference_rate : float, optional
        Rate with ``T = 1`` [Hz] (default: the lowest rate, the coldest).
    dt : float
        Time step [ms].
    **calibrate_kwargs
        Passed to :func:`lifsampling.calibrate` (``n_points``, ``duration``,
        ``cache_dir``, ``progress``, …); each rate is one (cached) calibration.

    Returns
    -------
    TemperatureMap

    Examples
    --------
    >>> tmap = temperature_map([1000.0, 3000.0, 9000.0])     # doctest: +SKIP
    >>> tmap.t_weight, tmap.t_predicted                        # doctest: +SKIP
    (array([1.   , 1.73..., 2.97...]), array([1.   , 1.732, 3.   ]))
    """
    neuron = NeuronParameters.preset("sbs") if neuron is None else neuron
    noise = PoissonNoise.preset("sbs") if noise is None else noise
    if not isinstance(noise, PoissonNoise):
        raise TypeError(f"noise must be a PoissonNoise (stationary), got {type(noise).__name__}.")
    rates = np.asarray(rates, dtype=float)
    if rates.ndim != 1 or rates.size < 2 or not np.all(np.isfinite(rates)) or np.any(rates <= 0):
        raise ValueError(f"rates must be at least two positive rates [Hz], got {rates.tolist()!r}.")
    if np.unique(rates).size != rates.size:
        raise ValueError("rates must be distinct.")
    rates = np.sort(rates)
    reference = float(rates[0] if reference_rate is None else reference_rate)
    if not rates[0] <= reference <= rates[-1]:
        raise ValueError(
            f"reference_rate {reference:g} Hz must lie within the rates [{rates[0]:g}, {rates[-1]:g}]."
        )
    ratio = noise.rate_inh / noise.rate_exc if noise.rate_exc > 0 else 1.0
    cals, alpha, v05, w1 = [], [], [], []
    for nu in rates:
        bg = PoissonNoise(nu, nu * ratio, noise.weight_exc, noise.weight_inh)
        cal = calibrate(neuron, bg, dt=dt, **calibrate_kwargs)
        cals.append(cal)
        alpha.append(cal.alpha)
        v05.append(cal.v_p05)
        w1.append(float(_weight_per_unit(cal, np.array([cal.v_p05]))[0][0]))
    return TemperatureMap(rates, reference, np.array(alpha), np.array(v05), np.array(w1), tuple(cals))
