"""Evidence: observed values of some units, and the exact conditional distribution.

Evidence is a mapping ``{unit: value}`` with values 0 or 1.  Every sampler
accepts it (``sampler.sample(..., evidence={2: 1})``) and records it in the
result (attribute ``evidence``); :func:`condition` gives the exact reference.

Conditioning a Boltzmann machine ``p(z) ∝ exp(-E(z))`` on ``z_c = e`` leaves a
Boltzmann machine over the free units ``f`` with the same couplings ``W_ff``
and biases ``b_f + W_fc e`` (Probst et al. 2015, Front. Comput. Neurosci. 9:13,
answer inference queries this way: by clamping the observed units).

How the samplers clamp
----------------------
* Exact and Gibbs: the clamped units are fixed; only free units are updated.
* LIF (:class:`LIFSampler`): a clamped neuron keeps its synapses and its
  background noise, but its leak potential is moved far from the threshold,
  ``E_L = v_p05 ± α (s + Σ_j |W_kj|)`` with the clamp strength ``s`` (default
  20, in units of the Boltzmann bias), so that no synaptic input can flip it:
  a neuron clamped to 1 fires again as soon as its refractory period ends and
  is in state 1 continuously; one clamped to 0 never fires.  Its spikes reach
  the free neurons through the ordinary synapses, which is exactly how an
  observed unit acts on the others.  A neuron clamped to 1 fires at the end of
  every refractory period, so its PSPs arrive back to back, without the tails
  and bursts the interaction calibration of switching pairs corrects for; its
  outgoing weights therefore come from a coupling map measured for clamped
  presynaptic neurons (``calibrate_interactions(..., presynaptic="clamped")``,
  cached; the analytic translation with ``interactions=None``).  What is left of the noise is measured:
  :func:`clamp_agreement` is the fraction of draws in which each clamped unit
  shows its observed value (the samplers warn below 99.9 %).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

from .targets import BoltzmannMachine

__all__ = [
    "ClampLeakWarning",
    "check_evidence",
    "condition",
    "free_units",
    "evidence_of",
    "clamp_agreement",
    "MIN_CLAMP_AGREEMENT",
]

#: below this fraction of draws showing the observed value, a clamp is reported as leaking
MIN_CLAMP_AGREEMENT = 0.999

#: default clamp strength of :class:`LIFSampler` (bias units beyond the unit's total coupling)
CLAMP_STRENGTH = 20.0


class ClampLeakWarning(UserWarning):
    """A clamped unit did not show its observed value often enough."""


def check_evidence(
    evidence: Mapping[Any, Any] | None, n_units: int, *, what: str = "evidence", allow_all: bool = False
) -> dict[int, int]:
    """Validate evidence (or any assignment ``{unit: 0 or 1}``) and return it sorted by unit.

    ``what`` names the argument in error messages; ``allow_all`` accepts an
    assignment of every unit (an event may; evidence may not).

    Raises
    ------
    TypeError, ValueError
        If ``evidence`` is not a mapping, names a unit outside ``0 … n_units-1``,
        has a value other than 0/1, or clamps every unit.

    Examples
    --------
    >>> check_evidence({3: 1, 0: False}, 5)
    {0: 0, 3: 1}
    """
    if evidence is None:
        return {}
    if not isinstance(evidence, Mapping):
        raise TypeError(
            f"{what} must be a mapping {{unit: 0 or 1}}, e.g. {{2: 1}}; got {type(evidence).__name__}."
        )
    out: dict[int, int] = {}
    for unit, value in evidence.items():
        if isinstance(unit, str) and unit.strip().lstrip("-").isdigit():
            unit = int(unit)  # keys of evidence read back from JSON
        if isinstance(unit, bool) or not isinstance(unit, (int, np.integer)):
            raise TypeError(f"{what} keys must be unit indices (int), got {unit!r}.")
        if not 0 <= unit < n_units:
            raise ValueError(f"{what} on unit {unit}, but the target has units 0 to {n_units - 1} only.")
        if isinstance(value, (bool, np.bool_)):
            value = int(value)
        if not isinstance(value, (int, np.integer, float, np.floating)) or value not in (0, 1):
            raise ValueError(f"{what} value of unit {unit} must be 0 or 1, got {value!r}.")
        out[int(unit)] = int(value)
    if len(out) == n_units and not allow_all:
        raise ValueError(
            "the evidence clamps every unit: nothing is left to sample. Leave at least one free."
        )
    return dict(sorted(out.items()))


def holds(states: np.ndarray, assignment: Mapping[int, int]) -> np.ndarray:
    """Whether each state (units along the last axis) takes the values of ``assignment``.

    All True for an empty assignment.

    Examples
    --------
    >>> holds(np.array([[1, 0], [1, 1]]), {0: 1, 1: 0})
    array([ True, False])
    """
    states = np.asarray(states)
    out = np.ones(states.shape[:-1], dtype=bool)
    for k, v in assignment.items():
        out &= states[..., k] == v
    return out


def clamped_v_rest(calibration: Any, value: int, reach: float) -> float:
    """Leak potential [mV] of a neuron clamped to ``value``: ``v_p05 ± α · reach``.

    ``reach`` is the clamp strength plus the total coupling ``Σ_j |W_kj|`` of
    the unit, in units of the Boltzmann bias.
    """
    return calibration.v_p05 + (1 if value else -1) * calibration.alpha * reach


def free_units(n_units: int, evidence: Mapping[int, int]) -> np.ndarray:
    """Indices of the units not in ``evidence``."""
    return np.array([k for k in range(n_units) if k not in evidence], dtype=int)


def condition(target: BoltzmannMachine, evidence: Mapping[Any, Any]) -> BoltzmannMachine:
    """The exact conditional ``p(z_free | evidence)`` as a Boltzmann machine over the free units.

    Its unit ``i`` is the ``i``-th free unit of ``target`` (see :func:`free_units`).

    Examples
    --------
    >>> bm = BoltzmannMachine([[0, 2], [2, 0]], [0.0, -1.0])
    >>> condition(bm, {0: 1}).b
    array([1.])
    """
    ev = check_evidence(evidence, target.n_units)
    free = free_units(target.n_units, ev)
    clamped = np.array(list(ev), dtype=int)
    values = np.array(list(ev.values()), dtype=float)
    W = np.asarray(target.W)
    b = np.asarray(target.b)[free] + (W[np.ix_(free, clamped)] @ values if clamped.size else 0.0)
    return BoltzmannMachine(W[np.ix_(free, free)], b)


def evidence_of(result: xr.Dataset) -> dict[int, int]:
    """The evidence a result was sampled under (``{}`` if none)."""
    raw = result.attrs.get("evidence")
    if raw is None:
        return {}
    ev = json.loads(raw) if isinstance(raw, str) else raw
    return check_evidence(ev, result.sizes["unit"])


def clamp_agreement(result: xr.Dataset, evidence: Mapping[int, int] | None = None) -> dict[int, float]:
    """Fraction of draws (all chains) in which each clamped unit shows its observed value."""
    ev = evidence_of(result) if evidence is None else check_evidence(evidence, result.sizes["unit"])
    return agreement_of(result.states.values, ev)


def agreement_of(states: np.ndarray, evidence: Mapping[int, int]) -> dict[int, float]:
    """Fraction of draws of a ``(chain, draw, unit)`` array in which each clamped unit shows its value."""
    return {k: float(np.mean(holds(states, {k: v}))) for k, v in evidence.items()}


def leaking(agreement: Mapping[int, float]) -> dict[int, float]:
    """The clamped units whose agreement is below :data:`MIN_CLAMP_AGREEMENT`."""
    return {k: a for k, a in agreement.items() if a < MIN_CLAMP_AGREEMENT}


def warn_if_leaking(agreement: Mapping[int, float], stacklevel: int = 2) -> None:
    """Issue a :class:`ClampLeakWarning` naming the clamped units that leak (``stacklevel`` as for
    :func:`warnings.warn`, counted from the caller of this function)."""
    bad = leaking(agreement)
    if bad:
        warnings.warn(
            "clamped unit(s) "
            + ", ".join(f"{k} showed the evidence in {100 * a:.2f} % of draws" for k, a in bad.items())
            + f" (< {100 * MIN_CLAMP_AGREEMENT:.1f} %); raise clamp_strength.",
            ClampLeakWarning,
            stacklevel=stacklevel + 1,
        )


def conditioned(
    result: xr.Dataset, target: BoltzmannMachine | None
) -> tuple[xr.Dataset, BoltzmannMachine | None, dict[int, int]]:
    """The free units of a result and the exact conditional target, for diagnostics.

    Without evidence, ``(result, target, {})`` unchanged.  The free units keep
    their original labels in the ``unit`` coordinate.
    """
    ev = evidence_of(result)
    if not ev:
        return result, target, ev
    free = free_units(result.sizes["unit"], ev)
    reduced = result.drop_vars([v for v in ("target_W", "target_b") if v in result]).isel(unit=free)
    reduced.attrs = {k: v for k, v in result.attrs.items() if k not in ("evidence", "target_n_visible")}
    return reduced, None if target is None else condition(target, ev), ev
