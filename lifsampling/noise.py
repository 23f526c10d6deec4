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
from typing import Any

import numpy as np
from scipy.stats import poisson

from ._units import to_float
from .neurons import NeuronParameters

__all__ = ["NoiseSource", "PoissonNoise", "InputComponent"]

#: Largest mean count per step drawn from a CDF table (above: Brian2's poisson()).
_TABLE_MAX_MEAN = 2.0
#: Probability mass beyond the table that is lumped into its last entry.
_TABLE_TAIL = 1e-12


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
        unit = "siemens" if neuron.conductance_based else "amp"
        lines = [
            "nu_bg_e : Hz (shared, constant)",
            "nu_bg_i : Hz (shared, constant)",
            f"w_bg_e : {unit} (shared, constant)",
            f"w_bg_i : {unit} (shared, constant)",
        ]
        for x, cdf in self._tables(dt).items():
            if cdf is not None:
                lines += [f"cdf_bg_{x}_{k} : 1 (shared, constant)" for k in range(len(cdf))]
        return "\n".join(lines) + "\n"

    def build(self, group: Any, neuron: NeuronParameters) -> list:
        import brian2 as b2

        self.check_compatible(neuron)
        wunit = b2.uS if neuron.conductance_based else b2.nA
        group.nu_bg_e = self.rate_exc * b2.Hz
        group.nu_bg_i = self.rate_inh * b2.Hz
        group.w_bg_e = self.weight_exc * wunit
        group.w_bg_i = self.weight_inh * wunit
        code = []
        targets = dict(zip("ei", input_variables(neuron), strict=True))
        for x, cdf in self._tables(float(group.clock.dt / b2.ms)).items():
            if cdf is None:
                count = f"poisson(nu_bg_{x} * dt)"
            else:
                for k, value in enumerate(cdf):
                    setattr(group, f"cdf_bg_{x}_{k}", value)
                code.append(f"u_bg_{x} = rand()")
                count = "(" + " + ".join(f"int(u_bg_{x} > cdf_bg_{x}_{k})" for k in range(len(cdf))) + ")"
            code.append(f"{targets[x]} += w_bg_{x} * {count}")
        runner = group.run_regularly("\n".join(code), when="start", name=f"{group.name}_poisson_background")
        return [runner]

    def input_components(self, neuron: NeuronParameters) -> list[InputComponent]:
        self.check_compatible(neuron)
        return [
            InputComponent(self.rate_exc, self.weight_exc, True),
            InputComponent(self.rate_inh, self.weight_inh, False),
        ]


def noise_from_dict(d: dict) -> NoiseSource:
    """Rebuild a noise source from :meth:`NoiseSource.to_dict` output."""
    d = dict(d)
    kind = d.pop("kind", None)
    if kind == "PoissonNoise":
        return PoissonNoise(**d)
    raise ValueError(f"unknown noise source kind {kind!r}.")
