"""Background noise for sampling neurons: the noise-source interface.

Every LIF sampling neuron needs stochastic background input that puts it into
a high-conductance, noisy regime (Petrovici et al. 2016, Phys. Rev. E 94,
042312).  A :class:`NoiseSource` describes that input and knows how to build
it in Brian2; the sampler and the calibration call it and never look inside.
:class:`PoissonNoise` — one private excitatory and one private inhibitory
Poisson source per neuron — is the reference and the default.  Other sources
(shared pools, deterministic networks) implement the same interface.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import poisson

from ._units import to_float
from .neurons import NeuronParameters

__all__ = ["NoiseSource", "PoissonNoise", "OscillatingPoissonNoise", "InputComponent"]

#: Largest mean count per step drawn from a CDF table (above: Brian2's poisson()).
_TABLE_MAX_MEAN = 2.0
#: Probability mass beyond the table that is lumped into its last entry.
_TABLE_TAIL = 1e-12


#: C++ sources of the standalone background-count function (``lifsampling_poisson``).
_CPP_DIR = Path(__file__).with_name("_cpp")
#: Table slots of the standalone count function, one per stream of counts.
_SLOTS = {"e": 0, "i": 1}


def is_standalone() -> bool:
    """True when Brian2's current device is C++ standalone."""
    import brian2

    return brian2.get_device().__class__.__name__ == "CPPStandaloneDevice"


@cache
def standalone_poisson():
    """Brian2 function ``lifsampling_poisson(mean, slot)``: one Poisson(mean) count.

    C++ standalone only (``lifsampling/_cpp/lifsampling_poisson.h``): exact
    inversion of the Poisson CDF with 64-bit thresholds and an xoshiro256++
    generator seeded at run time from ``LIFSAMPLING_SEED``, about 6x faster than
    Brian2's ``poisson()`` or a binomial ``PoissonInput``.  ``slot`` (0–7) keeps
    one cached CDF table per stream of counts.
    """
    import brian2 as b2

    def lifsampling_poisson(mean, slot):  # Python version (numpy target); never compiled
        return np.random.poisson(mean)

    function = b2.Function(
        lifsampling_poisson,
        arg_units=[1, 1],
        arg_types=["float", "integer"],
        return_unit=1,
        return_type="integer",
        stateless=False,
    )
    function.implementations.add_implementation(
        "cpp",
        {
            "support_code": (
                "static inline int32_t lifsampling_poisson(const double mean, const int32_t slot)\n"
                "{ return lifsampling::poisson_count(mean, slot); }"
            )
        },
        name="lifsampling_poisson",
        compiler_kwds={
            "headers": ['"lifsampling_poisson.h"'],
            "include_dirs": [str(_CPP_DIR)],
        },
    )
    return function


@cache
def standalone_exp():
    """Brian2 function ``lifsampling_exp(x)``: ``exp`` inlined (``_cpp/lifsampling_exp.h``).

    For the membrane update of C++ standalone networks: a polynomial with range
    reduction, within 1e-15 relative of ``exp`` for |x| < 20, without a library
    call per neuron and step.
    """
    import brian2 as b2

    function = b2.Function(np.exp, arg_units=[1], return_unit=1)
    function.implementations.add_implementation(
        "cpp",
        {
            "support_code": (
                "static inline double lifsampling_exp(const double x) { return lifsampling::fast_exp(x); }"
            )
        },
        name="lifsampling_exp",
        compiler_kwds={"headers": ['"lifsampling_exp.h"'], "include_dirs": [str(_CPP_DIR)]},
    )
    return function


def _use_standalone_poisson(group: Any) -> bool:
    """Make ``lifsampling_poisson`` known to ``group``'s code if the device is standalone."""
    if not is_standalone():
        return False
    if group.namespace is None:
        group.namespace = {}
    group.namespace["lifsampling_poisson"] = standalone_poisson()
    return True


def input_variables(neuron: NeuronParameters) -> tuple[str, str]:
    """Names of the excitatory and inhibitory input variables in the neuron model."""
    return ("g_e", "g_i") if neuron.conductance_based else ("I_e", "I_i")


@dataclass(frozen=True)
class InputComponent:
    """One Poisson-like input stream, for free-membrane theory.

    ``rate`` in Hz, ``weight`` in µS (conductance-based) or nA (current-based),
    ``excitatory`` selects the synapse type.
    """

    rate: float
    weight: float
    excitatory: bool


class NoiseSource(ABC):
    """Interface of a background-noise source for LIF sampling neurons.

    A noise source contributes extra variables to the neuron model
    (:meth:`neuron_equations`), creates the Brian2 objects that drive the
    neurons' input variables (:meth:`build`), describes its input statistics
    for free-membrane theory (:meth:`input_components`) and serialises its
    configuration (:meth:`to_dict`) so that calibrations can be matched to
    the noise they were measured under.
    """

    @abstractmethod
    def to_dict(self) -> dict:
        """JSON-serialisable configuration, including a ``"kind"`` key."""

    @abstractmethod
    def build(self, group: Any, neuron: NeuronParameters) -> list:
        """Create the Brian2 objects that drive ``group`` and return them.

        ``group`` is the sampling :class:`brian2.NeuronGroup`; its input
        variables are named by ``input_variables(neuron)``.  Objects returned
        are added to the network by the caller (and must be, or Brian2 drops them).
        """

    def neuron_equations(self, neuron: NeuronParameters, dt: float | None = None) -> str:
        """Extra lines for the neuron model's equations at time step ``dt`` [ms] (default: none)."""
        return ""

    def calibration_noise(self) -> NoiseSource:
        """The noise under which the activation function is measured for translation.

        Itself for stationary sources; a time-varying source returns the
        stationary noise of the phase the network is translated for (for
        :class:`OscillatingPoissonNoise`, the cold phase).
        """
        return self

    def phase(self, time: np.ndarray) -> np.ndarray | None:
        """Phase (in cycles, ``[0, 1)``) of the background at simulation times [ms]; None if stationary."""
        return None

    def input_components(self, neuron: NeuronParameters) -> list[InputComponent]:
        """Mean-rate description of the input for free-membrane theory."""
        raise NotImplementedError(
            f"{type(self).__name__} has no Poisson description; free-membrane theory "
            "needs measured statistics for it."
        )

    def check_compatible(self, neuron: NeuronParameters) -> None:
        """Raise ``ValueError`` if this source cannot drive ``neuron`` (default: any neuron)."""
        return None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NoiseSource) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(repr(sorted(self.to_dict().items())))


def _weight(value: Any, name: str) -> tuple[float, str | None]:
    """A synaptic weight and its unit kind (``"uS"``, ``"nA"`` or None for plain floats)."""
    if hasattr(value, "dim"):
        import brian2
        from brian2.units.fundamentalunits import get_dimensions

        if get_dimensions(value) == get_dimensions(brian2.siemens):
            return to_float(value, "uS", name), "uS"
        if get_dimensions(value) == get_dimensions(brian2.amp):
            return to_float(value, "nA", name), "nA"
        raise ValueError(f"{name} must be a conductance (µS) or a current (nA), got {value!r}.")
    return to_float(value, "uS", name), None


def _rate_variables(neuron: NeuronParameters) -> list[str]:
    """Model lines of the mean rates and weights of a two-stream Poisson background."""
    unit = "siemens" if neuron.conductance_based else "amp"
    return [
        "nu_bg_e : Hz (shared, constant)",
        "nu_bg_i : Hz (shared, constant)",
        f"w_bg_e : {unit} (shared, constant)",
        f"w_bg_i : {unit} (shared, constant)",
    ]


def _set_rates(group: Any, noise: PoissonNoise, neuron: NeuronParameters) -> None:
    """Set the variables of :func:`_rate_variables` on a Brian2 group from ``noise``."""
    import brian2 as b2

    wunit = b2.uS if neuron.conductance_based else b2.nA
    group.nu_bg_e = noise.rate_exc * b2.Hz
    group.nu_bg_i = noise.rate_inh * b2.Hz
    group.w_bg_e = noise.weight_exc * wunit
    group.w_bg_i = noise.weight_inh * wunit


class PoissonNoise(NoiseSource):
    """Private Poisson background: each neuron has its own E and I sources.

    Every time step each neuron receives ``Poisson(rate · dt)`` excitatory and
    inhibitory events (the statistics of NEST's ``poisson_generator``), each
    adding ``weight`` to the input conductance (or current).

    Parameters
    ----------
    rate_exc, rate_inh : float
        Rates of the excitatory and inhibitory source [Hz], ≥ 0.
    weight_exc, weight_inh : float
        Weights [µS for ``cond_exp`` neurons, nA for ``curr_exp``], ≥ 0.

    Examples
    --------
    >>> noise = PoissonNoise.preset("sbs")
    >>> noise.rate_exc, noise.weight_exc
    (3000.0, 0.001)
    """

    def __init__(
        self,
        rate_exc: float = 3000.0,
        rate_inh: float = 3000.0,
        weight_exc: float = 0.001,
        weight_inh: float = 0.001,
    ) -> None:
        self.rate_exc = to_float(rate_exc, "Hz", "rate_exc")
        self.rate_inh = to_float(rate_inh, "Hz", "rate_inh")
        self.weight_exc, kind_e = _weight(weight_exc, "weight_exc")
        self.weight_inh, kind_i = _weight(weight_inh, "weight_inh")
        for name in ("rate_exc", "rate_inh", "weight_exc", "weight_inh"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}.")
        if kind_e and kind_i and kind_e != kind_i:
            raise ValueError("weight_exc and weight_inh must both be conductances or both currents.")
        self.weight_kind = kind_e or kind_i

    @classmethod
    def preset(cls, name: str) -> PoissonNoise:
        """The background of a published parameter set (see :meth:`NeuronParameters.preset`)."""
        presets = {
            "sbs": (3000.0, 3000.0, 0.001, 0.001),
            "high_conductance": (5000.0, 5000.0, 0.0035, 0.0055),
            "dold": (2000.0, 2000.0, 0.001, 0.0035),
        }
        if name not in presets:
            raise ValueError(f"unknown preset {name!r}; choose one of {sorted(presets)}.")
        return cls(*presets[name])

    def __repr__(self) -> str:
        return (
            f"PoissonNoise(rate_exc={self.rate_exc:g}, rate_inh={self.rate_inh:g}, "
            f"weight_exc={self.weight_exc:g}, weight_inh={self.weight_inh:g})"
        )

    def to_dict(self) -> dict:
        return {
            "kind": "PoissonNoise",
            "rate_exc": self.rate_exc,
            "rate_inh": self.rate_inh,
            "weight_exc": self.weight_exc,
            "weight_inh": self.weight_inh,
        }

    def check_compatible(self, neuron: NeuronParameters) -> None:
        if self.weight_kind is not None and self.weight_kind != neuron.weight_unit:
            raise ValueError(
                f"PoissonNoise weights are given in {self.weight_kind} but the neuron model "
                f"{neuron.model!r} takes weights in {neuron.weight_unit}."
            )

    def count_cdf(self, mean: float) -> np.ndarray | None:
        """Cumulative distribution of one source's event count in one time step.

        Returns ``P(count <= k)`` for ``k = 0 … K-1``, truncated where the
        remaining tail ``P(count >= K)`` is below 1e-12 (that tail is drawn as
        ``K``), or None to fall back to Brian2's ``poisson()`` (for means above
        2 events per step, where the table would grow long).  The count is then
        drawn with one uniform number and branch-free comparisons, which is
        about 1.4× faster than ``poisson()`` and has the same Poisson
        statistics (the statistics of NEST's ``poisson_generator``; a binomial
        ``PoissonInput`` with one source would cap the count at one event per
        step).  Subclasses may override it to model other per-step statistics.
        """
        if mean > _TABLE_MAX_MEAN:
            return None
        k = np.arange(64)
        tail = poisson.sf(k, mean)  # P(count > k)
        n = int(np.argmax(tail < _TABLE_TAIL)) + 1
        return poisson.cdf(k[:n], mean)

    def _tables(self, dt: float | None) -> dict[str, np.ndarray | None]:
        if dt is None:
            return {"e": None, "i": None}
        return {
            "e": self.count_cdf(self.rate_exc * dt * 1e-3),
            "i": self.count_cdf(self.rate_inh * dt * 1e-3),
        }

    def neuron_equations(self, neuron: NeuronParameters, dt: float | None = None) -> str:
        lines = _rate_variables(neuron)
        for x, cdf in self._tables(dt).items():
            if cdf is not None:
                lines += [f"cdf_bg_{x}_{k} : 1 (shared, constant)" for k in range(len(cdf))]
        return "\n".join(lines) + "\n"

    def build(self, group: Any, neuron: NeuronParameters) -> list:
        import brian2 as b2

        self.check_compatible(neuron)
        _set_rates(group, self, neuron)
        code = []
        targets = dict(zip("ei", input_variables(neuron), strict=True))
        # the standalone generator draws exact Poisson counts: not for subclasses with other statistics
        exact_poisson = type(self).count_cdf is PoissonNoise.count_cdf
        standalone = exact_poisson and _use_standalone_poisson(group)
        for x, cdf in self._tables(float(group.clock.dt / b2.ms)).items():
            if standalone:
                count = f"lifsampling_poisson(nu_bg_{x} * dt, {_SLOTS[x]})"
            elif cdf is None:
                count = f"poisson(nu_bg_{x} * dt)"
            else:
                for k, value in enumerate(cdf):
                    setattr(group, f"cdf_bg_{x}_{k}", value)
                code.append(f"u_bg_{x} = rand()")
                count = "(" + " + ".join(f"int(u_bg_{x} > cdf_bg_{x}_{k})" for k in range(len(cdf))) + ")"
            code.append(f"{targets[x]} += w_bg_{x} * {count}")
        runner = group.run_regularly(
            "\n".join(code),
            when="start",
            name=f"{group.name}_poisson_background",
        )
        return [runner]

    def input_components(self, neuron: NeuronParameters) -> list[InputComponent]:
        self.check_compatible(neuron)
        return [
            InputComponent(self.rate_exc, self.weight_exc, True),
            InputComponent(self.rate_inh, self.weight_inh, False),
        ]


class OscillatingPoissonNoise(NoiseSource):
    """Private Poisson background whose rates follow a rhythm: an oscillating temperature.

    Both rates are modulated by the same factor, so the E/I ratio (and with it
    the mean free membrane potential in the high-conductance state) stays fixed::

        ν_e(t) = ν_e0 + A g(t),    ν_i(t) = ν_i0 (1 + (A / ν_e0) g(t)),    -1 ≤ g ≤ 1

    With ``hot_fraction = 1`` (default) the profile is a sine,
    ``g = sin(2π f t + φ)``.  With ``hot_fraction = d < 1`` the rate rests at
    the trough ``ν_e0 - A`` for ``1 - d`` of every period and rises in a
    raised-cosine pulse of width ``d`` periods to ``ν_e0 + A``: a cold plateau
    on which the network can relax before it is sampled, and a short hot
    excursion that lets it cross barriers.  The sine is the case ``d = 1`` of
    the same formula.  In cycles ``c = f t + φ / 2π`` the peak is at phase
    0.25 and the trough (the centre of the plateau) at 0.75::

        δ = c - 0.25 - floor(c + 0.25)          (distance from the peak, [-½, ½))
        g = -cos(2π clip(δ / d + ½, 0, 1))

    The background rate acts as an effective temperature, ``T ∝ √ν`` in the
    high-conductance limit (measure it with :func:`lifsampling.temperature_map`),
    so the network is colder at the trough and hotter at the peak: a cortical
    rhythm implements simulated tempering (Korcsak-Gorzo et al. 2022, PLoS
    Comput. Biol. 18, e1009753).  The network is calibrated and translated for
    the cold phase (:meth:`calibration_noise`, the stationary background at the
    trough rates ``ν0 − A``), and samples are kept from a window of the cold
    phase (:attr:`cold_window`; ``LIFSampler.sample(phase_window=...)``).

    Per time step each neuron receives ``Poisson(ν(t) · dt)`` events of each
    kind (Brian2's ``poisson()`` with the time-dependent mean).

    Parameters
    ----------
    base : PoissonNoise, optional
        Mean rates ``ν_e0``, ``ν_i0`` and the weights (default: the sbs preset).
    amplitude : float
        ``A`` [Hz] of the excitatory rate; ``0 ≤ A < ν_e0``.
    frequency : float
        ``f`` [Hz], > 0.
    phase : float
        ``φ`` [rad].
    hot_fraction : float
        ``d``, the fraction of each period spent above the trough rate,
        ``0 < d ≤ 1`` (1: sine).

    Raises
    ------
    ValueError
        If the amplitude is negative or not below the mean rate (the rate must
        stay positive), the frequency is not positive, or ``hot_fraction`` is
        outside (0, 1].

    Examples
    --------
    >>> osc = OscillatingPoissonNoise(amplitude=2000.0, frequency=10.0)
    >>> osc.calibration_noise().rate_exc      # the cold phase: 3000 - 2000 Hz
    1000.0
    >>> float(osc.phase(75.0))                 # 75 ms into a 100 ms cycle: the trough (cold)
    0.75
    >>> pulse = OscillatingPoissonNoise(amplitude=2000.0, frequency=2.0, hot_fraction=0.3)
    >>> [round(float(r), 1) for r in pulse.rates([125.0, 300.0, 375.0])[0]]  # peak, plateau, plateau
    [5000.0, 1000.0, 1000.0]
    """

    def __init__(
        self,
        base: PoissonNoise | None = None,
        *,
        amplitude: float,
        frequency: float,
        phase: float = 0.0,
        hot_fraction: float = 1.0,
    ) -> None:
        self.base = PoissonNoise.preset("sbs") if base is None else base
        if not isinstance(self.base, PoissonNoise):
            raise TypeError(f"base must be a PoissonNoise, got {type(self.base).__name__}.")
        self.amplitude = to_float(amplitude, "Hz", "amplitude")
        self.frequency = to_float(frequency, "Hz", "frequency")
        self.phase_offset = float(phase)
        if not np.isfinite(self.amplitude) or self.amplitude < 0:
            raise ValueError(f"amplitude must be >= 0 Hz, got {self.amplitude}.")
        if self.amplitude >= self.base.rate_exc:
            raise ValueError(
                f"amplitude ({self.amplitude:g} Hz) must be below the mean excitatory rate "
                f"({self.base.rate_exc:g} Hz), or the rate would become zero or negative."
            )
        if not np.isfinite(self.frequency) or self.frequency <= 0:
            raise ValueError(f"frequency must be > 0 Hz, got {self.frequency}.")
        if not np.isfinite(self.phase_offset):
            raise ValueError(f"phase must be finite (radians), got {phase!r}.")
        self.hot_fraction = float(hot_fraction)
        if not (0.0 < self.hot_fraction <= 1.0):
            raise ValueError(
                f"hot_fraction must be in (0, 1] (the fraction of each period above the trough "
                f"rate; 1 = sine), got {hot_fraction!r}."
            )
        self.weight_kind = self.base.weight_kind

    @property
    def relative_amplitude(self) -> float:
        """``A / ν_e0``: the modulation depth of both rates."""
        return self.amplitude / self.base.rate_exc

    @property
    def period(self) -> float:
        """Period of the rhythm [ms]."""
        return 1e3 / self.frequency

    def __repr__(self) -> str:
        return (
            f"OscillatingPoissonNoise({self.base!r}, amplitude={self.amplitude:g} Hz, "
            f"frequency={self.frequency:g} Hz, phase={self.phase_offset:g}"
            + ("" if self.hot_fraction == 1.0 else f", hot_fraction={self.hot_fraction:g}")
            + ")"
        )

    def to_dict(self) -> dict:
        return {
            "kind": "OscillatingPoissonNoise",
            "base": self.base.to_dict(),
            "amplitude": self.amplitude,
            "frequency": self.frequency,
            "phase": self.phase_offset,
            "hot_fraction": self.hot_fraction,
        }

    def check_compatible(self, neuron: NeuronParameters) -> None:
        self.base.check_compatible(neuron)

    def calibration_noise(self) -> PoissonNoise:
        """The stationary background at the cold phase (the trough rates)."""
        b = self.base
        inh = b.rate_inh - self.amplitude * b.rate_inh / b.rate_exc
        return PoissonNoise(b.rate_exc - self.amplitude, inh, b.weight_exc, b.weight_inh)

    def profile(self, time: np.ndarray) -> np.ndarray:
        """The modulation ``g(t)`` in [-1, 1] at simulation times [ms] (-1: trough, 1: peak)."""
        c = self._cycles(time)
        delta = c - 0.25 - np.floor(c + 0.25)
        return -np.cos(2 * np.pi * np.clip(delta / self.hot_fraction + 0.5, 0.0, 1.0))

    def rates(self, time: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Excitatory and inhibitory rates [Hz] at simulation times [ms]."""
        m = 1.0 + self.relative_amplitude * self.profile(time)
        return self.base.rate_exc * m, self.base.rate_inh * m

    @property
    def cold_window(self) -> tuple[float, float]:
        """The default phase window of cold samples, ``(start, end)`` in cycles.

        For the sine, a tenth of the period centred on the trough (0.7, 0.8).
        For a pulse (``hot_fraction < 1``), the second half of the cold
        plateau: the first half gives the network time to cool down after the
        pulse (its memory of the hot phase lasts longer than one neuron's
        time constants), the second half is sampled.
        """
        from .tempering import COLD_WINDOW

        if self.hot_fraction == 1.0:
            return (0.75 - COLD_WINDOW / 2, 0.75 + COLD_WINDOW / 2)
        end = 1.25 - self.hot_fraction / 2  # where the next pulse begins
        return (0.75, round(end - 1.0 if end > 1.0 else end, 12))

    def _cycles(self, time: np.ndarray) -> np.ndarray:
        return self.frequency * np.asarray(time, dtype=float) * 1e-3 + self.phase_offset / (2 * np.pi)

    def phase(self, time: np.ndarray) -> np.ndarray:
        """Phase of the rhythm in cycles, ``[0, 1)``, at simulation times [ms].

        0 is where the modulation rises through its mean, 0.25 the peak (hot),
        0.75 the trough (cold).
        """
        return np.mod(self._cycles(time), 1.0)

    def neuron_equations(self, neuron: NeuronParameters, dt: float | None = None) -> str:
        lines = _rate_variables(neuron)
        lines += [
            f"osc_{name} : {unit} (shared, constant)"
            for name, unit in (("depth", 1), ("freq", "Hz"), ("phase", 1), ("hot", 1))
        ]
        return "\n".join(lines) + "\n"

    def build(self, group: Any, neuron: NeuronParameters) -> list:
        import brian2 as b2

        self.check_compatible(neuron)
        _set_rates(group, self.base, neuron)
        group.osc_depth = self.relative_amplitude
        group.osc_freq = self.frequency * b2.Hz
        group.osc_phase = self.phase_offset
        group.osc_hot = self.hot_fraction
        e, i = input_variables(neuron)
        standalone = _use_standalone_poisson(group)

        def count(x: str) -> str:
            mean = f"nu_bg_{x} * m_bg * dt"
            return f"lifsampling_poisson({mean}, {_SLOTS[x]})" if standalone else f"poisson({mean})"

        code = "\n".join(
            [
                "c_bg = osc_freq * t + osc_phase / (2 * pi)",
                "x_bg = clip((c_bg - 0.25 - floor(c_bg + 0.25)) / osc_hot + 0.5, 0, 1)",
                "m_bg = 1 - osc_depth * cos(2 * pi * x_bg)",
                f"{e} += w_bg_e * {count('e')}",
                f"{i} += w_bg_i * {count('i')}",
            ]
        )
        runner = group.run_regularly(
            code,
            when="start",
            name=f"{group.name}_oscillating_background",
        )
        return [runner]

    def input_components(self, neuron: NeuronParameters) -> list[InputComponent]:
        """The time-averaged input (the mean rates)."""
        return self.base.input_components(neuron)


def noise_from_dict(d: dict) -> NoiseSource:
    """Rebuild a noise source from :meth:`NoiseSource.to_dict` output."""
    d = dict(d)
    kind = d.pop("kind", None)
    if kind == "PoissonNoise":
        return PoissonNoise(**d)
    if kind == "OscillatingPoissonNoise":
        return OscillatingPoissonNoise(noise_from_dict(d.pop("base")), **d)
    raise ValueError(f"unknown noise source kind {kind!r}.")
