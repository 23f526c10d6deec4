"""Parameters of the leaky integrate-and-fire sampling neuron.

The neuron is PyNN's ``IF_cond_exp`` (conductance-based, exponential synaptic
conductances) or ``IF_curr_exp`` (current-based), with PyNN parameter names and
units (nF, ms, mV; Petrovici et al. 2016, Phys. Rev. E 94, 042312)::

    C_m dV/dt = g_l (E_L − V) + g_e (E_rev_E − V) + g_i (E_rev_I − V)
    dg_x/dt = −g_x / tau_syn_x ;  V > v_thresh → spike, V ← v_reset, clamp for tau_refrac

with ``g_l = cm / tau_m``.  The leak potential ``v_rest`` is set per neuron by
the translation layer (it encodes the bias), so the value stored here is only
the default for neurons without a bias.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Literal

from ._units import positive, to_float

__all__ = ["NeuronParameters"]

_UNITS = {
    "cm": "nF",
    "tau_m": "ms",
    "v_rest": "mV",
    "v_thresh": "mV",
    "v_reset": "mV",
    "e_rev_E": "mV",
    "e_rev_I": "mV",
    "tau_syn_E": "ms",
    "tau_syn_I": "ms",
    "tau_refrac": "ms",
}

_POSITIVE = {"cm", "tau_m", "tau_syn_E", "tau_syn_I", "tau_refrac"}


@dataclass(frozen=True)
class NeuronParameters:
    """LIF neuron parameters with PyNN names and units.

    Each field accepts a float in the documented unit or a Brian2 quantity;
    values are stored as floats in the PyNN unit.

    Parameters
    ----------
    cm : float
        Membrane capacitance ``C_m`` [nF].
    tau_m : float
        Membrane time constant [ms]; the leak conductance is ``g_l = cm / tau_m`` [µS].
    v_rest : float
        Default leak potential ``E_L`` [mV] (the translation sets it per neuron).
    v_thresh, v_reset : float
        Threshold and reset potential [mV].
    e_rev_E, e_rev_I : float
        Excitatory and inhibitory reversal potentials [mV] (conductance-based only).
    tau_syn_E, tau_syn_I : float
        Synaptic time constants [ms].
    tau_refrac : float
        Refractory period [ms]; a neuron is in state ``z = 1`` for ``tau_refrac``
        after each spike.
    model : {"cond_exp", "curr_exp"}
        Conductance-based (``IF_cond_exp``, synaptic weights in µS) or
        current-based (``IF_curr_exp``, weights in nA) synapses.

    Examples
    --------
    >>> p = NeuronParameters.preset("sbs")
    >>> round(p.g_l, 6)
    0.2
    >>> p.replace(tau_refrac=20.0).tau_refrac
    20.0
    """

    cm: float = 0.2
    tau_m: float = 1.0
    v_rest: float = -50.0
    v_thresh: float = -50.0
    v_reset: float = -50.001
    e_rev_E: float = 0.0
    e_rev_I: float = -100.0
    tau_syn_E: float = 10.0
    tau_syn_I: float = 10.0
    tau_refrac: float = 10.0
    model: Literal["cond_exp", "curr_exp"] = "cond_exp"

    def __post_init__(self) -> None:
        for name, unit in _UNITS.items():
            value = getattr(self, name)
            conv = positive if name in _POSITIVE else to_float
            object.__setattr__(self, name, conv(value, unit, name))
        if self.model not in ("cond_exp", "curr_exp"):
            raise ValueError(f"model must be 'cond_exp' or 'curr_exp', got {self.model!r}.")
        if self.v_reset > self.v_thresh:
            raise ValueError(f"v_reset ({self.v_reset} mV) must not lie above v_thresh ({self.v_thresh} mV).")
        if self.model == "cond_exp" and not self.e_rev_I < self.v_thresh < self.e_rev_E:
            raise ValueError(
                "conductance-based neurons need e_rev_I < v_thresh < e_rev_E, got "
                f"e_rev_I={self.e_rev_I}, v_thresh={self.v_thresh}, e_rev_E={self.e_rev_E} mV."
            )

    @property
    def g_l(self) -> float:
        """Leak conductance ``cm / tau_m`` [µS]."""
        return self.cm / self.tau_m

    @property
    def conductance_based(self) -> bool:
        return self.model == "cond_exp"

    @property
    def weight_unit(self) -> str:
        """PyNN unit of synaptic weights for this neuron model (``"uS"`` or ``"nA"``)."""
        return "uS" if self.conductance_based else "nA"

    def replace(self, **changes) -> NeuronParameters:
        """A copy with some fields changed."""
        return replace(self, **changes)

    def to_dict(self) -> dict:
        """Plain-Python description (JSON-serialisable)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> NeuronParameters:
        names = {f.name for f in fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown neuron parameters {sorted(unknown)}; valid: {sorted(names)}.")
        return cls(**d)

    @classmethod
    def preset(cls, name: str) -> NeuronParameters:
        """A published parameter set (science.md §3).

        ``"sbs"``: the defaults of the spike-based-sampling package
        (``tau_m = 1 ms``, already a high-conductance-like regime).
        ``"high_conductance"``: Petrovici's high-conductance state
        (``cm = 0.1 nF``, ``tau_m = 20 ms``).
        ``"dold"``: Dold et al. 2019 (Neural Networks 119, 200).
        Use it with the matching :meth:`PoissonNoise.preset`.
        """
        try:
            return cls(**dict(zip(_UNITS, _PRESETS[name], strict=True)))
        except KeyError:
            raise ValueError(f"unknown preset {name!r}; choose one of {sorted(_PRESETS)}.") from None


#: Published parameter sets (science.md §3), in the field order of _UNITS.
# fmt: off
_PRESETS = {
    #                   cm  tau_m  v_rest  v_thresh v_reset  e_rev_E e_rev_I  tau_syn_E tau_syn_I tau_refrac
    "sbs":              (0.2, 1.0,  -50.0,  -50.0,  -50.001,    0.0,  -100.0,     10.0,     10.0,     10.0),
    "high_conductance": (0.1, 20.0, -65.0,  -52.0,  -53.0,      0.0,   -90.0,     10.0,     10.0,     10.0),
    "dold":             (0.1, 1.0,  -65.0,  -52.0,  -53.0,      0.0,   -90.0,     10.0,     10.0,     10.0),
}
# fmt: on
