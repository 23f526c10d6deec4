"""Inference queries answered from samples, with Monte Carlo error bars and exact answers beside them.

Every query takes a result (sampled with or without evidence, see
:mod:`lifsampling.evidence`) and returns estimates with their Monte Carlo
standard error (MCSE), computed by arviz from the autocorrelation of the
chains as in :func:`lifsampling.diagnose`, and — when the target is known and
small enough to enumerate — the exact answer conditional on the same evidence.

* :func:`posterior_marginals` — ``p(z_k = 1 | evidence)`` of every unit;
* :func:`probability` — ``P(A | evidence)`` or ``P(A | B, evidence)`` of
  events ``A``, ``B`` given as ``{unit: value}`` (a conjunction).  ``B`` that
  was not clamped is conditioned on by selecting the draws in which it holds
  (a ratio estimator; its MCSE comes from the delta method applied to the
  series ``(1_{A∧B} − r·1_B) / P(B)``);
* :func:`map_state` — the most probable joint state of the free units (the
  most frequent one in the draws), next to the exact MAP state.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import arviz as az
import numpy as np
import xarray as xr

from .evidence import check_evidence, condition, evidence_of, free_units, holds
from .inference_data import _target_for, as_result
from .targets import MAX_EXACT_UNITS, BoltzmannMachine, all_states, states_to_indices

__all__ = ["Estimate", "posterior_marginals", "probability", "map_state"]


@dataclass(frozen=True)
class Estimate:
    """A probability estimated from samples.

    Attributes
    ----------
    value : float
    mcse : float
        Monte Carlo standard error (NaN when the indicator never changed).
    exact : float or None
        The exact answer, when the target can be enumerated.
    n_selected : int
        Draws the estimate is based on (all draws, or those in which the
        condition ``given`` held).
    """

    value: float
    mcse: float
    exact: float | None
    n_selected: int

    @property
    def error(self) -> float | None:
        """``value − exact`` (None without an exact answer)."""
        return None if self.exact is None else self.value - self.exact

    def to_dict(self) -> dict:
        return {"value": self.value, "mcse": self.mcse, "exact": self.exact, "n_selected": self.n_selected}

    def __repr__(self) -> str:
        exact = "" if self.exact is None else f", exact {self.exact:.4f}"
        return f"Estimate({self.value:.4f} ± {self.mcse:.4f}{exact})"


def _mcse(series: np.ndarray) -> float:
    """arviz MCSE of the mean of a (chain, draw) series; NaN for a constant series."""
    series = np.asarray(series, dtype=float)
    if np.ptp(series) == 0:
        return float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(az.mcse(series))


def _setup(result: xr.Dataset | az.InferenceData, target: BoltzmannMachine | None):
    result = as_result(result)
    target = _target_for(result, target)
    return result, target, evidence_of(result)


def _exact_conditional(target: BoltzmannMachine | None, evidence: Mapping[int, int]) -> np.ndarray | None:
    """Exact p(z | evidence) over all 2^K states of the full target (zero where evidence fails)."""
    if target is None or target.n_units > MAX_EXACT_UNITS:
        return None
    p = target.probabilities()
    if evidence:
        p = p * holds(all_states(target.n_units), evidence)
        p = p / p.sum()
    return p


def posterior_marginals(
    result: xr.Dataset | az.InferenceData, target: BoltzmannMachine | None = None
) -> xr.Dataset:
    """``p(z_k = 1 | evidence)`` of every unit from samples, with MCSE and the exact value.

    Parameters
    ----------
    result : xarray.Dataset or arviz.InferenceData
        A sampling result (with or without evidence).
    target : BoltzmannMachine, optional
        Default: the target stored in the result.

    Returns
    -------
    xarray.Dataset
        Over dim ``unit``: ``estimate``, ``mcse``, ``exact`` (NaN if unknown),
        ``clamped`` (bool; clamped units report their observed value exactly).

    Examples
    --------
    >>> from lifsampling import GibbsSampler, BoltzmannMachine
    >>> bm = BoltzmannMachine([[0, 2], [2, 0]], [-1.0, -1.0])
    >>> run = GibbsSampler(bm).sample(20_000.0, n_chains=4, seed=0, evidence={0: 1})
    >>> post = posterior_marginals(run)
    >>> round(float(post.exact[1]), 4)          # sigmoid(-1 + 2)
    0.7311
    >>> bool(abs(post.estimate[1] - post.exact[1]) < 4 * post.mcse[1])
    True
    """
    result, target, ev = _setup(result, target)
    K = result.sizes["unit"]
    states = result.states.values
    est = states.mean(axis=(0, 1), dtype=float)
    mcse = np.array([_mcse(states[:, :, k]) if k not in ev else 0.0 for k in range(K)])
    exact = np.full(K, np.nan)
    p = _exact_conditional(target, ev)
    if p is not None:
        exact = p @ all_states(K).astype(float)
    for k, v in ev.items():
        est[k] = v
    return xr.Dataset(
        {
            "estimate": ("unit", est),
            "mcse": ("unit", mcse),
            "exact": ("unit", exact),
            "clamped": ("unit", np.isin(np.arange(K), list(ev))),
        },
        coords={"unit": result.unit.values},
        attrs={"evidence": str(ev)},
    )


def probability(
    result: xr.Dataset | az.InferenceData,
    event: Mapping[Any, Any],
    given: Mapping[Any, Any] | None = None,
    target: BoltzmannMachine | None = None,
) -> Estimate:
    """``P(event | given, evidence)`` from samples, with MCSE and the exact value.

    Parameters
    ----------
    result : xarray.Dataset or arviz.InferenceData
    event : dict ``{unit: 0 or 1}``
        The event ``A`` (all listed units take the listed values).
    given : dict ``{unit: 0 or 1}``, optional
        A further condition ``B`` that was not clamped: only the draws in which
        it holds count.  Clamped evidence needs no ``given``.
    target : BoltzmannMachine, optional

    Raises
    ------
    ValueError
        For units out of range, values other than 0/1, or a condition that
        holds in no draw.

    Examples
    --------
    >>> from lifsampling import GibbsSampler, BoltzmannMachine
    >>> bm = BoltzmannMachine([[0, 2], [2, 0]], [-1.0, -1.0])
    >>> run = GibbsSampler(bm).sample(20_000.0, n_chains=4, seed=0)
    >>> est = probability(run, {1: 1}, given={0: 1})
    >>> round(est.exact, 4)
    0.7311
    """
    result, target, ev = _setup(result, target)
    K = result.sizes["unit"]
    a = check_evidence(event, K, what="event", allow_all=True)
    b = check_evidence(given, K, what="given", allow_all=True)
    states = result.states.values
    ind_a = holds(states, a)
    if b:
        ind_b = holds(states, b)
        n_b = int(ind_b.sum())
        if n_b == 0:
            raise ValueError(f"the condition {b} holds in no draw; sample longer or clamp it as evidence.")
        ab = ind_a & ind_b
        pb = ind_b.mean()
        value = float(ab.sum() / n_b)
        mcse = _mcse((ab - value * ind_b) / pb)  # delta method for the ratio estimator
    else:
        n_b = ind_a.size
        value = float(ind_a.mean())
        mcse = _mcse(ind_a)
    exact = None
    p = _exact_conditional(target, ev)
    if p is not None:
        s = all_states(K)
        in_b = holds(s, b)
        exact = float(p[holds(s, a) & in_b].sum() / p[in_b].sum())
    return Estimate(value, mcse, exact, n_b)


def map_state(result: xr.Dataset | az.InferenceData, target: BoltzmannMachine | None = None) -> dict:
    """The most probable joint state of the free units, from samples and exactly.

    Returns
    -------
    dict
        ``units`` (the free units), ``state`` (their values in the most
        frequent sampled joint state, as a string of 0/1), ``frequency`` and its
        ``mcse``, and — for an enumerable target — ``exact_state``,
        ``exact_probability`` of that state and ``sampled_state_exact_probability``.

    Examples
    --------
    >>> from lifsampling import GibbsSampler, BoltzmannMachine
    >>> bm = BoltzmannMachine([[0, 3], [3, 0]], [-1.0, -1.0])
    >>> out = map_state(GibbsSampler(bm).sample(20_000.0, n_chains=2, seed=0))
    >>> out["state"], out["exact_state"]
    ('11', '11')
    """
    result, target, ev = _setup(result, target)
    K = result.sizes["unit"]
    free = free_units(K, ev)
    idx = states_to_indices(result.states.values[:, :, free])
    counts = np.bincount(idx.ravel(), minlength=1)
    best = int(np.argmax(counts))
    out: dict[str, Any] = {
        "units": [int(u) for u in result.unit.values[free]],
        "state": format(best, f"0{len(free)}b"),
        "frequency": float(counts[best] / idx.size),
        "mcse": _mcse((idx == best).astype(float)),
    }
    if target is not None and len(free) <= MAX_EXACT_UNITS:
        cond = condition(target, ev) if ev else target
        p = cond.probabilities()
        exact = int(np.argmax(p))
        out["exact_state"] = format(exact, f"0{len(free)}b")
        out["exact_probability"] = float(p[exact])
        out["sampled_state_exact_probability"] = float(p[best]) if best < p.size else 0.0
    if math.isnan(out["mcse"]):
        out["mcse"] = None
    return out
