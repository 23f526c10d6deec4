"""Convergence diagnostics of sampling results, computed with arviz.

:func:`diagnose` answers the questions a user of a sampler must ask of every
run — how far is the sampled distribution from the target, how strongly are
successive samples correlated, do the chains agree, was it long enough — and
:func:`compare` puts several runs on one target side by side.

Methods
-------
* **ESS and R-hat** (Vehtari et al. 2021, *Bayesian Analysis* 16, 667): bulk
  and tail effective sample size and rank-normalised split R-hat, from
  ``arviz.ess`` / ``arviz.rhat``, per unit and for the energy ``E(z)`` of the
  sample.  A run counts as mixed when every R-hat is ≤ 1.01 and every bulk
  and tail ESS is ≥ 100 per chain (their recommendation).
* **Integrated autocorrelation time** ``τ_int = N / ESS_mean`` in draws, times
  the sample interval: the sampled time after which a draw is effectively new.
* **MCSE** of each marginal ``p(z_k = 1)``: ``sd / √ESS_mean``, as ``arviz.mcse``.
* **DKL** in both directions against sampled time (:func:`dkl_vs_time`) with
  the floor ``(2^K − 1) / (2 N_eff)`` that an unbiased sampler with ``N_eff``
  independent samples reaches (the χ² approximation of the expected DKL of a
  multinomial estimate).  ``N_eff`` is the bulk ESS of the energy, scaled with
  the fraction of draws used.  A sampler whose DKL stays far above the floor
  has a systematic error that more samples will not remove.
* **Total variation distance** ``½ Σ |q(z) − p(z)|`` (raw sampled fractions)
  and the joint states that are most over- and under-sampled.

Binary series
-------------
A 0/1 series is degenerate when a unit never changes state.  arviz then
returns an ESS equal to the number of draws and an R-hat of NaN (or a huge
number when different chains are stuck in different states) — numbers that
look meaningful and are not.  Here such units are flagged (``status``
``"constant"``), their ESS, R-hat, τ_int and MCSE are set to NaN, they are left
out of the pass/fail checks *unless the target says they should switch*, and a
warning says why.  Units that switch fewer than ``min_switches`` times in some
chain are flagged ``"few switches"``: their numbers are shown, but they are
unreliable, and the verdict says so.
"""

from __future__ import annotations

import dataclasses
import math
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import arviz as az
import numpy as np
import xarray as xr

from .divergence import DEFAULT_PSEUDO_COUNT, KLDivergence, dkl_vs_time, kl_divergence
from .evidence import MIN_CLAMP_AGREEMENT, clamp_agreement, conditioned, leaking
from .inference_data import _target_for, as_result
from .results import sample_interval, state_counts
from .targets import MAX_EXACT_UNITS, BoltzmannMachine, indices_to_states

__all__ = ["Diagnostics", "DiagnosticsWarning", "diagnose", "compare", "MIN_DRAWS"]

#: arviz needs at least this many draws per chain (split chains of two draws each)
MIN_DRAWS = 4


class DiagnosticsWarning(UserWarning):
    """A diagnostic could not be computed meaningfully (e.g. a unit never switched)."""


@dataclass
class Diagnostics:
    """Everything :func:`diagnose` measured about one result.

    Attributes
    ----------
    label : str
    n_chains, n_draws, n_units : int
    sample_interval : float
        Sampled time between draws [ms].
    units : xarray.Dataset
        Per unit (dim ``unit``): ``marginal``, ``mcse`` (of the marginal),
        ``target_marginal`` (if the target is known and small enough),
        ``ess_bulk``, ``ess_tail``, ``ess_mean``, ``rhat``, ``tau_int`` [ms],
        ``min_switches`` (fewest state changes in any chain) and ``status``
        (``"ok"``, ``"few switches"`` or ``"constant"``).
    energy : dict or None
        ``mean``, ``mcse``, ``ess_bulk``, ``ess_tail``, ``ess_mean``, ``rhat``,
        ``tau_int`` [ms] of the sample energy ``E(z)``.
    divergence : KLDivergence or None
        DKL of the whole run (both directions).
    dkl_curve : xarray.Dataset or None
        :func:`dkl_vs_time` plus the variable ``floor``.
    floor : float or None
        ``(2^K − 1) / (2 N_eff)`` for the whole run [nats].
    tvd : float or None
        Total variation distance of the whole run.
    over_sampled, under_sampled : list of dict
        The joint states with the largest ``q − p`` and ``p − q``.
    evidence : dict
        ``{unit: value}`` the result was sampled under (then ``units`` lists the free units).
    clamp_agreement : dict
        ``{unit: fraction of draws showing the observed value}``.
    warnings : list of str
    status : str
        ``"converged"``, ``"converged (biased)"`` or ``"not converged"``.
    verdict : str
        One plain-language paragraph.
    """

    label: str
    sampler: str
    n_chains: int
    n_draws: int
    n_units: int
    sample_interval: float
    units: xr.Dataset
    energy: dict | None
    divergence: KLDivergence | None
    dkl_curve: xr.Dataset | None
    floor: float | None
    tvd: float | None
    over_sampled: list[dict]
    under_sampled: list[dict]
    settings: dict
    thresholds: dict
    warnings: list[str] = field(default_factory=list)
    status: str = ""
    verdict: str = ""
    evidence: dict = field(default_factory=dict)
    clamp_agreement: dict = field(default_factory=dict)

    @property
    def sampled_time(self) -> float:
        """Sampled time per chain [ms]."""
        return self.n_draws * self.sample_interval

    @property
    def converged(self) -> bool:
        """Whether the chains mixed (R-hat and ESS checks passed), biased or not."""
        return self.status != "not converged"

    def table(self):
        """The per-unit diagnostics as a :class:`pandas.DataFrame` (one row per unit)."""
        return self.units.to_dataframe()

    def summary_row(self) -> dict:
        """The headline numbers of this run (one row of :func:`compare`)."""
        ok = self.units.status.values == "ok"
        row = {
            "sampler": self.sampler,
            "chains": self.n_chains,
            "draws": self.n_draws,
            "time_per_chain_ms": self.sampled_time,
            "dkl_target_sampled": self.divergence.dkl_target_sampled if self.divergence else None,
            "dkl_sampled_target": self.divergence.dkl_sampled_target if self.divergence else None,
            "dkl_floor": self.floor,
            "tvd": self.tvd,
            "max_abs_marginal_error": _max_marginal_error(self.units),
            "min_ess_bulk": _nanmin(self.units.ess_bulk.values[ok]),
            "min_ess_tail": _nanmin(self.units.ess_tail.values[ok]),
            "max_rhat": _nanmax(self.units.rhat.values[ok]),
            "max_tau_int_ms": _nanmax(self.units.tau_int.values[ok]),
            "energy_ess_bulk": self.energy["ess_bulk"] if self.energy else None,
            "energy_rhat": self.energy["rhat"] if self.energy else None,
            "energy_tau_int_ms": self.energy["tau_int"] if self.energy else None,
            "status": self.status,
        }
        return {k: _clean(v) for k, v in row.items()}

    def to_dict(self) -> dict:
        """Every number as plain JSON types (NaN → None)."""
        units = {}
        for name, var in self.units.data_vars.items():
            units[name] = [_clean(v) for v in var.values.tolist()]
        curve = None
        if self.dkl_curve is not None:
            curve = {"time_ms": self.dkl_curve.time.values.tolist()}
            for name, var in self.dkl_curve.data_vars.items():
                curve[name] = [_clean(v) for v in var.values.tolist()]
        return {
            "label": self.label,
            "sampler": self.sampler,
            "n_chains": self.n_chains,
            "n_draws": self.n_draws,
            "n_units": self.n_units,
            "sample_interval_ms": self.sample_interval,
            "time_per_chain_ms": self.sampled_time,
            "status": self.status,
            "verdict": self.verdict,
            "warnings": list(self.warnings),
            "thresholds": dict(self.thresholds),
            "settings": dict(self.settings),
            "units": units,
            "energy": None if self.energy is None else {k: _clean(v) for k, v in self.energy.items()},
            "divergence": None if self.divergence is None else self.divergence.to_dict(),
            "dkl_floor": _clean(self.floor),
            "tvd": _clean(self.tvd),
            "dkl_curve": curve,
            "over_sampled": self.over_sampled,
            "under_sampled": self.under_sampled,
            "evidence": {str(k): v for k, v in self.evidence.items()},
            "clamp_agreement": {str(k): v for k, v in self.clamp_agreement.items()},
            "summary": self.summary_row(),
        }

    def __repr__(self) -> str:
        return f"Diagnostics({self.label!r}, {self.status}: {self.verdict})"


def diagnose(
    data: xr.Dataset | az.InferenceData,
    target: BoltzmannMachine | None = None,
    *,
    label: str | None = None,
    rhat_threshold: float = 1.01,
    min_ess_per_chain: float = 100.0,
    min_switches: int = 10,
    bias_factor: float = 3.0,
    bias_z: float = 4.0,
    n_states: int = 5,
    n_points: int = 20,
    pseudo_count: float = DEFAULT_PSEUDO_COUNT,
) -> Diagnostics:
    """Diagnose the convergence of one sampling result.

    Parameters
    ----------
    data : xarray.Dataset or arviz.InferenceData
        A sampling result (:func:`load_result`, ``sampler.sample(...)``) or its
        :func:`to_inference_data` conversion.  A result sampled under evidence
        is diagnosed on its free units against the exact conditional
        distribution; the clamped units' agreement with the evidence is reported.
    target : BoltzmannMachine, optional
        The target; defaults to the one stored in the result.  Without a target
        only the mixing diagnostics (ESS, R-hat, τ_int, MCSE) are computed; for
        more than 20 units the energy is diagnosed but DKL and TVD are not.
    label : str, optional
        Name of the run in tables and figures (default: the sampler's name).
    rhat_threshold : float
        Largest acceptable R-hat (default 1.01, Vehtari et al. 2021).
    min_ess_per_chain : float
        Smallest acceptable bulk and tail ESS per chain (default 100).
    min_switches : int
        A unit that changes state fewer times than this in some chain is
        flagged as unreliable.
    bias_factor : float
        A mixed run whose DKL(target ‖ sampled) exceeds ``bias_factor`` times
        the floor of an unbiased sampler is called biased (judged only when the
        energy ESS is at least ``10 · 2^K``, where the floor is meaningful).
    bias_z : float
        A mixed run with a marginal further than ``bias_z`` MCSE from the
        target's is called biased.
    n_states : int
        Number of most over- and under-sampled joint states to list.
    n_points : int
        Points of the DKL-against-time curve.
    pseudo_count : float
        Pseudo-count of the DKL estimate (see :mod:`lifsampling.divergence`).

    Returns
    -------
    Diagnostics

    Raises
    ------
    ValueError
        If the result has fewer than :data:`MIN_DRAWS` draws per chain, no
        chains or units, or a target with another number of units.

    Examples
    --------
    >>> from lifsampling import GibbsSampler, random_boltzmann_machine
    >>> bm = random_boltzmann_machine(4, seed=0)
    >>> d = diagnose(GibbsSampler(bm).sample(20_000.0, n_chains=4, seed=1))
    >>> d.status
    'converged'
    >>> float(d.units.rhat.max()) < 1.01
    True
    """
    result = as_result(data)
    target = _target_for(result, target)
    agreement = clamp_agreement(result)
    # with evidence, the free units are diagnosed against the exact conditional distribution
    result, target, evidence = conditioned(result, target)
    n_chains, n_draws, n_units = (result.sizes[d] for d in ("chain", "draw", "unit"))
    if n_chains < 1 or n_units < 1:
        raise ValueError(f"the result is empty ({n_chains} chains, {n_units} units); nothing to diagnose.")
    if n_draws < MIN_DRAWS:
        raise ValueError(
            f"the result has {n_draws} draw(s) per chain; diagnostics need at least {MIN_DRAWS} "
            "(R-hat and ESS split every chain in halves). Sample for longer."
        )
    interval = sample_interval(result)
    states = result.states.values
    exact = target is not None and n_units <= MAX_EXACT_UNITS
    warn: list[str] = []
    for k, a in leaking(agreement).items():
        warn.append(
            f"clamped unit {k} showed its observed value {evidence[k]} in only {100 * a:.2f} % of draws "
            f"(< {100 * MIN_CLAMP_AGREEMENT:.1f} %): the evidence leaks."
        )
    if n_chains == 1:
        warn.append(
            "only one chain: R-hat compares the quarters of it (a stationarity check), not independent "
            "chains, so it cannot see a mode the chain never visited; use >= 4 chains."
        )

    # -- per-unit and energy diagnostics, all from arviz ------------------------------------------
    variables = {"states": (("chain", "draw", "unit"), states)}
    if target is not None:
        variables["energy"] = (("chain", "draw"), target.energy(states))
    ds = xr.Dataset(variables)
    with warnings.catch_warnings():
        # arviz divides by zero variance for constant series; handled explicitly below
        warnings.simplefilter("ignore", RuntimeWarning)
        ess_bulk = az.ess(ds, method="bulk")
        ess_tail = az.ess(ds, method="tail")
        ess_mean = az.ess(ds, method="mean")
        rhat = az.rhat(ds if n_chains > 1 else _halves_as_chains(ds))  # arviz: NaN for one chain
    n_total = n_chains * n_draws

    switches = np.count_nonzero(np.diff(states, axis=1), axis=1)  # (chain, unit)
    min_sw = switches.min(axis=0)
    # "constant": the same value in every draw of every chain.  Chains stuck in *different*
    # states are not constant: that is a mixing failure, which R-hat reports.
    first = states[:, 0, :]
    constant = (switches.sum(axis=0) == 0) & (first.min(axis=0) == first.max(axis=0))
    few = ~constant & (min_sw < min_switches)
    status = np.where(constant, "constant", np.where(few, "few switches", "ok"))

    marg = states.mean(axis=(0, 1), dtype=np.float64)
    sd = states.reshape(-1, n_units).std(axis=0, ddof=1, dtype=np.float64)
    unit_vars = {
        "marginal": marg,
        "mcse": sd / np.sqrt(ess_mean.states.values),
        "ess_bulk": ess_bulk.states.values.astype(float),
        "ess_tail": ess_tail.states.values.astype(float),
        "ess_mean": ess_mean.states.values.astype(float),
        "rhat": rhat.states.values.astype(float),
    }
    unit_vars["tau_int"] = n_total / unit_vars["ess_mean"] * interval
    for name in ("mcse", "ess_bulk", "ess_tail", "ess_mean", "rhat", "tau_int"):
        unit_vars[name] = np.where(constant, np.nan, unit_vars[name])
    units = xr.Dataset(
        {name: ("unit", values) for name, values in unit_vars.items()},
        coords={"unit": result.unit.values},
    )
    units["min_switches"] = ("unit", min_sw.astype(np.int64))
    units["status"] = ("unit", status.astype(str))
    if exact:
        units["target_marginal"] = ("unit", target.marginals())
    for name, unit_text in (("tau_int", "ms"), ("mcse", "probability")):
        units[name].attrs["units"] = unit_text

    energy = None
    if target is not None:
        e = ds.energy.values
        energy = {
            "mean": float(e.mean()),
            "ess_bulk": float(ess_bulk.energy),
            "ess_tail": float(ess_tail.energy),
            "ess_mean": float(ess_mean.energy),
            "rhat": float(rhat.energy),
        }
        energy["mcse"] = float(e.std(ddof=1) / math.sqrt(energy["ess_mean"]))
        energy["tau_int"] = n_total / energy["ess_mean"] * interval
        if np.ptp(e) == 0:
            warn.append("the energy is the same in every draw: the sampler never left one state.")
            energy = {k: (v if k == "mean" else float("nan")) for k, v in energy.items()}

    # -- distribution-level diagnostics -------------------------------------------------------
    divergence = curve = floor = tvd = None
    over: list[dict] = []
    under: list[dict] = []
    if target is not None and not exact:
        warn.append(
            f"the target has {n_units} > {MAX_EXACT_UNITS} units: no exact distribution, so no DKL, "
            "TVD or target marginals."
        )
    if exact:
        p = target.probabilities()
        counts = state_counts(result)
        q = counts / counts.sum()
        divergence = kl_divergence(p, counts, pseudo_count=pseudo_count)
        tvd = 0.5 * float(np.abs(q - p).sum())
        curve = dkl_vs_time(target, result, n_points=n_points, pseudo_count=pseudo_count)
        n_eff = energy["ess_bulk"] if energy and np.isfinite(energy["ess_bulk"]) else float(n_total)
        frac = curve.n_samples.values / n_total
        n_eff_t = n_eff * frac
        # the chi-square approximation needs N_eff >> 2^K: not drawn where N_eff < 2^K
        curve["floor"] = ("time", np.where(n_eff_t >= p.size, (p.size - 1) / (2.0 * n_eff_t), np.nan))
        curve.floor.attrs["description"] = (
            "(2^K - 1) / (2 N_eff): expected DKL of an unbiased sampler; NaN where N_eff < 2^K"
        )
        floor = (p.size - 1) / (2.0 * n_eff)
        over, under = _extreme_states(p, q, n_eff, n_units, n_states)
        if n_eff < 10 * p.size:
            warn.append(
                f"the energy ESS ({n_eff:.0f}) is below 10 x 2^K = {10 * p.size}: the DKL is dominated by "
                "sampling noise and its floor is only a rough guide; sample for longer."
            )

    thresholds = {
        "rhat": rhat_threshold,
        "min_ess": min_ess_per_chain * n_chains,
        "min_ess_per_chain": min_ess_per_chain,
        "min_switches": min_switches,
        "bias_factor": bias_factor,
        "bias_z": bias_z,
    }
    target_marg = units.target_marginal.values if exact else None
    status_text, verdict, more = _verdict(units, energy, divergence, floor, thresholds, target_marg, n_draws)
    warn.extend(more)
    if warn:
        name = label or result.attrs.get("sampler", "result")
        warnings.warn(f"{name}: " + " ".join(warn), DiagnosticsWarning, stacklevel=2)
    settings = {
        k: (v.item() if isinstance(v, np.generic) else v)
        for k, v in result.attrs.items()
        if isinstance(v, (str, int, float, np.integer, np.floating))
    }
    return Diagnostics(
        label=label or str(result.attrs.get("sampler", "result")),
        sampler=str(result.attrs.get("sampler", "unknown")),
        n_chains=n_chains,
        n_draws=n_draws,
        n_units=n_units,
        sample_interval=interval,
        units=units,
        energy=energy,
        divergence=divergence,
        dkl_curve=curve,
        floor=floor,
        tvd=tvd,
        over_sampled=over,
        under_sampled=under,
        settings=settings,
        thresholds=thresholds,
        warnings=warn,
        status=status_text,
        verdict=verdict,
        evidence=evidence,
        clamp_agreement=agreement,
    )


def compare(
    results: Mapping[str, Any] | Sequence[Any],
    target: BoltzmannMachine | None = None,
    **kwargs: Any,
):
    """Diagnose several results on one target and tabulate the headline numbers.

    Parameters
    ----------
    results : mapping label → result, or sequence of results
        Results, InferenceData or already computed :class:`Diagnostics`.
    target : BoltzmannMachine, optional
        The common target (default: the one stored in each result).
    **kwargs
        Passed to :func:`diagnose`.

    Returns
    -------
    pandas.DataFrame
        One row per result (index: label), columns as :meth:`Diagnostics.summary_row`.

    Examples
    --------
    >>> from lifsampling import GibbsSampler, random_boltzmann_machine
    >>> bm = random_boltzmann_machine(3, seed=0)
    >>> runs = {f"seed {s}": GibbsSampler(bm).sample(5_000.0, n_chains=2, seed=s) for s in (1, 2)}
    >>> list(compare(runs, bm).index)
    ['seed 1', 'seed 2']
    """
    import pandas as pd

    diags = diagnose_all(results, target, **kwargs)
    return pd.DataFrame(
        [d.summary_row() for d in diags], index=pd.Index([d.label for d in diags], name="run")
    )


def diagnose_all(
    results: Mapping[str, Any] | Sequence[Any], target: BoltzmannMachine | None = None, **kwargs: Any
) -> list[Diagnostics]:
    """:func:`diagnose` every result (labels made unique); :class:`Diagnostics` pass through."""
    out = [
        # a copy: the caller's Diagnostics keep their label; the mapping's label wins
        dataclasses.replace(r, label=r.label if label is None else str(label))
        if isinstance(r, Diagnostics)
        else diagnose(r, target, label=label, **kwargs)
        for label, r in labelled_items(results)
    ]
    for d, label in zip(out, unique_labels([d.label for d in out]), strict=True):
        d.label = label
    return out


def labelled_items(results: Any) -> list[tuple[str | None, Any]]:
    """``(label or None, result)`` pairs from one result, a sequence or a mapping label → result.

    A Dataset is a Mapping (of its variables) but counts as one result, as do an
    InferenceData, a path and any other non-container object.
    """
    if isinstance(results, (xr.Dataset, az.InferenceData, str, os.PathLike)) or not isinstance(
        results, (Mapping, Sequence)
    ):
        items = [(None, results)]
    elif isinstance(results, Mapping):
        items = list(results.items())
    else:
        items = [(None, r) for r in results]
    if not items:
        raise ValueError("no results given: pass at least one result or result file.")
    return items


def unique_labels(labels: Sequence[str]) -> list[str]:
    """Labels with repeats numbered: ``["a", "a"]`` → ``["a", "a (2)"]``."""
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return out


# -- helpers ---------------------------------------------------------------------------------------
def _halves_as_chains(ds: xr.Dataset) -> xr.Dataset:
    """One chain as two (its halves), since arviz's R-hat needs >= 2 chains; split R-hat then
    compares the four quarters of the chain."""
    half = ds.sizes["draw"] // 2
    first = ds.isel(chain=0, draw=slice(0, half))
    second = ds.isel(chain=0, draw=slice(half, 2 * half)).assign_coords(draw=first.draw)
    return xr.concat([first, second], dim="chain")


def _extreme_states(p: np.ndarray, q: np.ndarray, n_eff: float, n_units: int, n: int):
    diff = q - p
    sigma = np.sqrt(np.maximum(p * (1 - p), 1e-300) / max(n_eff, 1.0))

    def rows(order):
        out = []
        for i in order[:n]:
            out.append(
                {
                    "state": "".join(map(str, indices_to_states(np.array([i]), n_units)[0])),
                    "index": int(i),
                    "p_target": float(p[i]),
                    "p_sampled": float(q[i]),
                    "difference": float(diff[i]),
                    "z": float(diff[i] / sigma[i]),
                }
            )
        return out

    return rows(np.argsort(-diff, kind="stable")), rows(np.argsort(diff, kind="stable"))


def _verdict(units, energy, divergence, floor, th, target_marg, n_draws):
    """Status, verdict text and extra warnings from the computed numbers."""
    problems: list[str] = []
    notes: list[str] = []
    warn: list[str] = []
    status = units.status.values
    ok = status == "ok"
    names = [str(u) for u in units.unit.values]
    rhat = units.rhat.values

    bad_r = (status != "constant") & ~(rhat <= th["rhat"])  # NaN R-hat of a switching unit fails too
    if bad_r.any():
        problems.append(
            f"R-hat of unit(s) {_list(names, bad_r)} "
            + (
                f"up to {np.nanmax(rhat[bad_r]):.3g} > {th['rhat']}"
                if np.isfinite(rhat[bad_r]).any()
                else "undefined (NaN)"
            )
        )
    ess = np.minimum(units.ess_bulk.values, units.ess_tail.values)
    low = ok & (ess < th["min_ess"])
    if low.any():
        problems.append(
            f"ESS of unit(s) {_list(names, low)} down to {np.nanmin(ess[low]):.0f} < {th['min_ess']:.0f} "
            f"({th['min_ess_per_chain']:.0f} per chain)"
        )
    if energy is not None and np.isfinite(energy["rhat"]):
        if energy["rhat"] > th["rhat"]:
            problems.append(f"R-hat of the energy {energy['rhat']:.3f} > {th['rhat']}")
        if min(energy["ess_bulk"], energy["ess_tail"]) < th["min_ess"]:
            problems.append(
                f"ESS of the energy {min(energy['ess_bulk'], energy['ess_tail']):.0f} < {th['min_ess']:.0f}"
            )
    for k in np.flatnonzero(~ok):
        rarer = None if target_marg is None else n_draws * min(target_marg[k], 1 - target_marg[k])
        should_switch = rarer is not None and rarer >= 10 * th["min_switches"]
        if status[k] == "constant":
            what = f"unit {names[k]} never switched (always {int(round(units.marginal.values[k]))})"
        else:
            n_sw = int(units.min_switches.values[k])
            what = f"unit {names[k]} " + (
                "never switched in some chain" if n_sw == 0 else f"switched only {n_sw} times in some chain"
            )
        if should_switch:
            problems.append(
                f"{what} although the target gives p(z=1) = {target_marg[k]:.3g} "
                f"(about {rarer:.0f} draws per chain in its rarer state)"
            )
        elif status[k] == "constant":
            warn.append(f"{what}: its ESS and R-hat are undefined and shown as NaN.")
        else:
            warn.append(f"{what} (fewer than {th['min_switches']}): its ESS and R-hat are unreliable.")
            notes.append(f"unit {names[k]} switched too rarely to be judged")
    warn.extend(w + "." for w in problems)

    if problems:
        text = (
            "Not converged: " + "; ".join(problems) + ". Run longer, use more chains, or check the sampler."
        )
        return "not converged", text, warn
    mixed = f"the chains mix (R-hat ≤ {th['rhat']}, ESS ≥ {th['min_ess']:.0f})"
    parts: list[str] = []
    bias: list[str] = []
    if divergence is not None and floor is not None:
        d = divergence.dkl_target_sampled
        n_states = 2 ** units.sizes["unit"]
        n_eff = (n_states - 1) / (2 * floor)
        if n_eff >= 10 * n_states:
            ratio = d / floor
            parts.append(
                f"DKL(target ‖ sampled) = {d:.3g} nats, {ratio:.1f}× the floor {floor:.2g} "
                "of an unbiased sampler with this ESS"
            )
            if ratio > th["bias_factor"]:
                bias.append("DKL")
        else:
            parts.append(
                f"DKL(target ‖ sampled) = {d:.3g} nats cannot be judged yet: {n_eff:.0f} effective samples "
                f"for {n_states} joint states (needs ≳ {10 * n_states})"
            )
    if "target_marginal" in units:
        err = np.abs(units.marginal.values - units.target_marginal.values)
        z = np.where(ok, err / units.mcse.values, 0.0)
        k = int(np.argmax(z)) if ok.any() else int(np.argmax(err))
        parts.append(
            f"largest marginal error {err.max():.3f} (worst in MCSE units: unit {names[k]}, {z[k]:.1f} MCSE)"
        )
        if z[k] > th["bias_z"]:
            bias.append("marginals")
    if bias:
        status_text = "converged (biased)"
        text = f"Converged, but biased: {mixed}, yet " + "; ".join(parts)
        text += ". More samples will not remove this systematic error."
    elif parts:
        status_text = "converged"
        text = "Converged to within sampling noise of the target: " + "; ".join(parts) + "."
    else:
        status_text = "converged"
        text = f"Converged: {mixed}; no exact target to compare with."
    if notes:
        text += " Caveat: " + "; ".join(notes) + "."
    return status_text, text, warn


def _max_marginal_error(units: xr.Dataset) -> float | None:
    if "target_marginal" not in units:
        return None
    return float(np.max(np.abs(units.marginal.values - units.target_marginal.values)))


def _list(names: list[str], mask: np.ndarray) -> str:
    sel = [n for n, m in zip(names, mask, strict=True) if m]
    return ", ".join(sel[:8]) + (f" and {len(sel) - 8} more" if len(sel) > 8 else "")


def _nanmin(x: np.ndarray) -> float | None:
    x = np.asarray(x, float)
    return float(np.nanmin(x)) if np.isfinite(x).any() else None


def _nanmax(x: np.ndarray) -> float | None:
    x = np.asarray(x, float)
    return float(np.nanmax(x)) if np.isfinite(x).any() else None


def _clean(v: Any) -> Any:
    """JSON-safe scalar: numpy → Python, NaN/inf → None."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v
