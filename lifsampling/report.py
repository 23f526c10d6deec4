"""Convergence reports: one self-contained HTML page and a machine-readable summary.

:func:`write_report` (and ``lifsampling report``) diagnoses one or more
results on a common target with :func:`lifsampling.diagnose` and writes

* ``report.html`` — a single file that opens offline: the verdict of every run
  at the top, run settings, the comparison table, DKL against sampled time
  (log–log, both directions, with the floor of an unbiased sampler), sampled
  vs target marginals with error bars, the most probable joint states, energy
  traces, autocorrelation, rank plots, the ESS / R-hat table with the values
  that fail highlighted, and every warning.  Figures are embedded as PNG.
* ``summary.json`` — every number in the report.

Nothing is written until every input has been read and every number and
figure computed; each file is then written atomically, so a failed call
leaves the output directory as it was.
"""

from __future__ import annotations

import base64
import datetime
import html
import io
import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ._io import atomic_path
from .diagnostics import Diagnostics, DiagnosticsWarning, diagnose_all, labelled_items, unique_labels
from .evidence import conditioned, evidence_of
from .inference_data import _target_for, as_result, to_inference_data
from .results import joint_distribution, load_result, result_target
from .targets import MAX_EXACT_UNITS, BoltzmannMachine, load_target

__all__ = ["Report", "write_report"]

REPORT_FILE = "report.html"
SUMMARY_FILE = "summary.json"


@dataclass(frozen=True)
class Report:
    """What :func:`write_report` wrote."""

    html_path: Path
    summary_path: Path
    diagnostics: list[Diagnostics]
    summary: dict

    @property
    def verdicts(self) -> dict[str, str]:
        """Verdict of every run by label."""
        return {d.label: d.verdict for d in self.diagnostics}


def write_report(
    results: Any,
    out_dir: str | os.PathLike,
    target: BoltzmannMachine | str | os.PathLike | None = None,
    *,
    title: str | None = None,
    **diagnose_kwargs: Any,
) -> Report:
    """Diagnose results and write ``report.html`` and ``summary.json`` into ``out_dir``.

    Parameters
    ----------
    results : result, path, or a sequence or mapping (label → result) of them
        Result Datasets, :func:`to_inference_data` output, or NetCDF files
        written by :func:`save_result`.  Labels default to the file name or the
        sampler's name.
    out_dir : path
        Output directory (created if needed).  Existing ``report.html`` and
        ``summary.json`` are replaced only when the new ones are complete.
    target : BoltzmannMachine or path to a target ``.npz``, optional
        The common target.  Default: the one stored in the results (which must
        then agree).
    title : str, optional
        Title of the page.
    **diagnose_kwargs
        Passed to :func:`lifsampling.diagnose` (thresholds and such).

    Returns
    -------
    Report

    Raises
    ------
    ValueError, FileNotFoundError
        If a result cannot be read or has too few draws, if the target's unit
        count differs from a result's, or if the results were sampled from
        different targets and none is given.

    Examples
    --------
    >>> from lifsampling import GibbsSampler, random_boltzmann_machine
    >>> bm = random_boltzmann_machine(4, seed=0)
    >>> run = GibbsSampler(bm).sample(5_000.0, n_chains=4, seed=1)
    >>> report = write_report({"Gibbs": run}, "report_dir", bm)   # doctest: +SKIP
    >>> report.html_path                                           # doctest: +SKIP
    PosixPath('report_dir/report.html')
    """
    runs = _collect(results)
    target = _common_target(runs, target)
    evidence = _common_evidence(runs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DiagnosticsWarning)  # the report lists every warning
        diags = diagnose_all(dict(runs), target, **diagnose_kwargs)
    # figures show the free units against the exact conditional distribution (if there is evidence)
    free = [conditioned(r, target) for _, r in runs]
    shown_target = free[0][1]
    idatas = [to_inference_data(r, shown_target) for r, _, _ in free]
    figures = _figures(diags, [r for r, _, _ in free], idatas, shown_target)
    summary = _summary(diags, target, title)
    summary["evidence"] = {str(k): v for k, v in evidence.items()}
    page = _html(summary, diags, figures, title)

    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {str(out)!r} exists and is not a directory.")
    html_path, summary_path = out / REPORT_FILE, out / SUMMARY_FILE
    text = json.dumps(summary, indent=1, allow_nan=False)
    with atomic_path(html_path) as tmp_html, atomic_path(summary_path) as tmp_json:
        tmp_html.write_text(page, encoding="utf-8")
        tmp_json.write_text(text, encoding="utf-8")
    return Report(html_path, summary_path, diags, summary)


# -- inputs ----------------------------------------------------------------------------------------
def _collect(results: Any) -> list[tuple[str, xr.Dataset]]:
    """(label, result) pairs with unique labels, every file read and validated."""
    runs = []
    for label, r in labelled_items(results):
        if isinstance(r, (str, os.PathLike)):
            ds = load_result(r)
            label = label or Path(r).stem
        else:
            ds = as_result(r)
            label = label or str(ds.attrs.get("sampler", "result"))
        n_draws = ds.sizes["draw"]
        if n_draws == 0 or ds.sizes["chain"] == 0:
            raise ValueError(f"{label}: the result is empty ({ds.sizes['chain']} chains x {n_draws} draws).")
        runs.append((str(label), ds))
    return list(zip(unique_labels([label for label, _ in runs]), [ds for _, ds in runs], strict=True))


def _common_evidence(runs: list[tuple[str, xr.Dataset]]) -> dict[int, int]:
    evidences = [(label, evidence_of(ds)) for label, ds in runs]
    first_label, first = evidences[0]
    for label, ev in evidences[1:]:
        if ev != first:
            raise ValueError(
                f"{label} was sampled under evidence {ev or 'none'} but {first_label} under "
                f"{first or 'none'}; runs in one report must share their evidence. Report them separately."
            )
    return first


def _common_target(runs: list[tuple[str, xr.Dataset]], target: Any) -> BoltzmannMachine | None:
    if isinstance(target, (str, os.PathLike)):
        target = load_target(target)
    if target is not None:
        for label, ds in runs:
            try:
                _target_for(ds, target)
            except ValueError as exc:
                raise ValueError(f"{label}: {exc}") from None
        return target
    stored = [(label, result_target(ds)) for label, ds in runs]
    known = [(label, t) for label, t in stored if t is not None]
    if not known:
        return None
    first_label, first = known[0]
    for label, t in known[1:]:
        if t != first:
            raise ValueError(
                f"{label} and {first_label} were sampled from different targets; pass the one to "
                "compare against (--target TARGET.npz)."
            )
    for label, ds in runs:
        if ds.sizes["unit"] != first.n_units:
            raise ValueError(f"{label} has {ds.sizes['unit']} units but the target has {first.n_units}.")
    return first


# -- figures -----------------------------------------------------------------------------------------
def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _figures(diags, results, idatas, target) -> list[tuple[str, str, str]]:
    """(id, caption, base64 PNG) of every figure, in page order."""
    from matplotlib.figure import Figure

    from .plotting import (
        plot_autocorrelation,
        plot_dkl_vs_time,
        plot_energy_trace,
        plot_joint,
        plot_marginals,
        plot_rank,
    )

    out = []
    curves = {d.label: d.dkl_curve for d in diags if d.dkl_curve is not None}
    if curves:
        fig = Figure(figsize=(11, 4))
        axes = fig.subplots(1, 2)
        plot_dkl_vs_time(curves, ax=axes[0], direction="dkl_target_sampled")
        plot_dkl_vs_time(curves, ax=axes[1], direction="dkl_sampled_target")
        fig.suptitle("DKL against sampled time per chain (all chains pooled); dashed: unbiased-sampler floor")
        out.append(
            (
                "dkl",
                "DKL in both directions against sampled time. The dashed line of each run is "
                "(2^K − 1) / (2 N_eff), the DKL an unbiased sampler with the same effective sample size "
                "would reach; a curve that levels off above it shows a systematic error.",
                _png(fig),
            )
        )

    exact = target is not None and target.n_units <= MAX_EXACT_UNITS
    fig = Figure(figsize=(max(6, 0.6 * diags[0].n_units + 3), 3.8))
    ax = fig.subplots()
    plot_marginals(
        target.marginals() if exact else None,
        {d.label: d.units.marginal.values for d in diags},
        ax=ax,
        errors={d.label: 2 * np.nan_to_num(d.units.mcse.values) for d in diags},
    )
    ax.set_title("marginals p(z_k = 1); error bars: ± 2 MCSE")
    out.append(
        (
            "marginals",
            "Sampled marginals with ± 2 Monte-Carlo standard errors, next to the target's.",
            _png(fig),
        )
    )

    if exact:
        fig = Figure(figsize=(11, 4))
        ax = fig.subplots()
        sampled = {d.label: joint_distribution(r) for d, r in zip(diags, results, strict=True)}
        plot_joint(target.probabilities(), sampled, n_states=min(16, 2**target.n_units), ax=ax)
        ax.set_title("the most probable joint states")
        out.append(
            (
                "joint",
                "Probabilities of the target's most probable joint states, sampled vs target.",
                _png(fig),
            )
        )

    for n, (d, idata) in enumerate(zip(diags, idatas, strict=True)):
        if "energy" in idata.posterior:
            fig = Figure(figsize=(13, 3.4), layout="constrained")
            plot_energy_trace(idata, axes=fig.subplots(1, 3), target=target)
            fig.suptitle(f"{d.label}: energy E(z) per chain")
            out.append(
                (
                    f"energy-{n}",
                    f"{d.label}: energy of the samples, per chain: distribution (target in black), trace, "
                    "running mean (target mean dashed).",
                    _png(fig),
                )
            )
        fig = Figure(figsize=(6, 3.8))
        ax = fig.subplots()
        plot_autocorrelation(idata, ax=ax)
        ax.set_title(f"{d.label}: autocorrelation (mean over chains)")
        out.append(
            (f"autocorr-{n}", f"{d.label}: autocorrelation of every unit and of the energy.", _png(fig))
        )
        worst = _worst_units(d, 3)
        n_panels = len(worst) + ("energy" in idata.posterior)
        fig = Figure(figsize=(3.2 * n_panels, 3.4), layout="constrained")
        axes = fig.subplots(1, n_panels, squeeze=False)[0]
        plot_rank(idata, units=worst, axes=axes)
        fig.suptitle(f"{d.label}: rank plots (units with the largest R-hat)")
        out.append(
            (
                f"rank-{n}",
                f"{d.label}: rank histograms per chain (ties broken at random); well-mixed chains give flat "
                "histograms.",
                _png(fig),
            )
        )
    return out


def _worst_units(d: Diagnostics, n: int) -> list:
    rhat = np.nan_to_num(d.units.rhat.values, nan=-np.inf)
    order = np.argsort(-rhat, kind="stable")[:n]
    return [d.units.unit.values[i] for i in sorted(order)]


# -- summary and page --------------------------------------------------------------------------------
def _summary(diags, target, title) -> dict:
    import importlib.metadata as md

    return {
        "title": title or _default_title(diags, target),
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "lifsampling_version": md.version("lifsampling"),
        "arviz_version": md.version("arviz"),
        "target": None
        if target is None
        else {
            "n_units": target.n_units,
            "W": target.W.tolist(),
            "b": target.b.tolist(),
            "marginals": target.marginals().tolist() if target.n_units <= MAX_EXACT_UNITS else None,
        },
        "verdicts": {d.label: {"status": d.status, "verdict": d.verdict} for d in diags},
        "comparison": {d.label: d.summary_row() for d in diags},
        "runs": [d.to_dict() for d in diags],
    }


def _default_title(diags, target) -> str:
    what = f"{target.n_units}-unit target" if target is not None else f"{diags[0].n_units} units"
    return f"Convergence report: {', '.join(d.label for d in diags)} on a {what}"


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1150px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.4}
h1{font-size:1.5em}h2{font-size:1.2em;border-bottom:1px solid #ccc;margin-top:2em}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0}.scroll{overflow-x:auto}
td,th{border:1px solid #ddd;padding:.2em .5em;text-align:right}th{background:#f3f3f3}
td:first-child,th:first-child{text-align:left}
.verdict{padding:.6em 1em;margin:.5em 0;border-left:6px solid}
.converged{background:#eef8ee;border-color:#2a2}.biased{background:#fff6e5;border-color:#e90}
.notconverged{background:#fdeeee;border-color:#c22}
td.bad{background:#fbd5d5;font-weight:bold}td.na{color:#888}
figure{margin:1em 0}figure img{max-width:100%}figcaption{font-size:.85em;color:#555}
.warn li{color:#8a4b00}code{background:#f4f4f4;padding:0 .2em}
"""


def _fmt(v: Any, digits: int = 4) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        if not np.isfinite(v):
            return "—"
        return f"{v:.{digits}g}"
    return html.escape(str(v))


def _table(header: list[str], rows: list[list[tuple[str, str]]]) -> str:
    """rows of (text, css class) cells."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f'<td class="{c}">{t}</td>' if c else f"<td>{t}</td>" for t, c in row) + "</tr>"
        for row in rows
    )
    return f"<div class='scroll'><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"


def _status_class(status: str) -> str:
    return {"converged": "converged", "converged (biased)": "biased"}.get(status, "notconverged")


_SETTINGS_SHOWN = (
    "sampler",
    "seed",
    "dt_ms",
    "burn_in_ms",
    "synapses",
    "device",
    "created",
    "version_lifsampling",
)


def _html(summary: dict, diags: list[Diagnostics], figures, title) -> str:
    esc = html.escape
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{esc(summary['title'])}</title><style>{_CSS}</style></head><body>",
        f"<h1>{esc(summary['title'])}</h1>",
        f"<p>Written {esc(summary['created'])} by lifsampling {esc(summary['lifsampling_version'])} "
        f"with arviz {esc(summary['arviz_version'])}. Every number is also in <code>summary.json</code>.</p>",
        "<h2>Verdict</h2>",
    ]
    for d in diags:
        parts.append(
            f"<div class='verdict {_status_class(d.status)}'><b>{esc(d.label)}: {esc(d.status)}.</b> "
            f"{esc(d.verdict)}</div>"
        )
    if summary.get("evidence"):
        observed = ", ".join(f"unit {k} = {v}" for k, v in summary["evidence"].items())
        agree = "; ".join(
            f"{esc(d.label)}: " + ", ".join(f"unit {k} {100 * a:.2f} %" for k, a in d.clamp_agreement.items())
            for d in diags
        )
        parts.append(
            f"<p><b>Evidence</b> (clamped units): {esc(observed)}. Every diagnostic below refers to the free "
            f"units and the exact conditional distribution given the evidence. Draws in which the clamped "
            f"units showed their observed values: {agree}.</p>"
        )

    parts.append("<h2>Runs</h2>")
    header = ["run", "chains", "draws per chain", "sample interval [ms]", "time per chain [ms]"]
    header += list(_SETTINGS_SHOWN)
    rows = []
    for d in diags:
        row = [(esc(d.label), ""), (str(d.n_chains), ""), (str(d.n_draws), "")]
        row += [(_fmt(d.sample_interval), ""), (_fmt(d.sampled_time, 6), "")]
        row += [(_fmt(d.settings.get(k)), "") for k in _SETTINGS_SHOWN]
        rows.append(row)
    parts.append(_table(header, rows))
    for d in diags:
        items = "".join(
            f"<tr><td>{esc(str(k))}</td><td style='text-align:left'><code>{esc(str(v))}</code></td></tr>"
            for k, v in d.settings.items()
        )
        parts.append(
            f"<details><summary>all settings of {esc(d.label)}</summary><table>{items}</table></details>"
        )

    parts.append("<h2>Comparison</h2>")
    cols = [
        ("dkl_target_sampled", "DKL(target‖sampled)"),
        ("dkl_sampled_target", "DKL(sampled‖target)"),
        ("dkl_floor", "floor (2^K−1)/(2N_eff)"),
        ("tvd", "TVD"),
        ("max_abs_marginal_error", "max |Δ marginal|"),
        ("min_ess_bulk", "min bulk ESS"),
        ("min_ess_tail", "min tail ESS"),
        ("max_rhat", "max R-hat"),
        ("max_tau_int_ms", "max τ_int [ms]"),
        ("energy_ess_bulk", "energy ESS"),
        ("energy_rhat", "energy R-hat"),
        ("energy_tau_int_ms", "energy τ_int [ms]"),
        ("status", "status"),
    ]
    rows = []
    for d in diags:
        s = d.summary_row()
        th = d.thresholds
        row = [(esc(d.label), "")]
        for key, _ in cols:
            v = s[key]
            bad = (key in ("max_rhat", "energy_rhat") and v is not None and v > th["rhat"]) or (
                key in ("min_ess_bulk", "min_ess_tail", "energy_ess_bulk")
                and v is not None
                and v < th["min_ess"]
            )
            row.append((_fmt(v), "bad" if bad else ("na" if v is None else "")))
        rows.append(row)
    parts.append(_table(["run"] + [c for _, c in cols], rows))
    parts.append(
        "<p>Thresholds (Vehtari et al. 2021): R-hat ≤ "
        f"{diags[0].thresholds['rhat']}, bulk and tail ESS ≥ {diags[0].thresholds['min_ess_per_chain']:.0f} "
        "per chain. τ_int = N / ESS<sub>mean</sub> × sample interval. DKL uses a pseudo-count of "
        f"{diags[0].divergence.pseudo_count if diags[0].divergence else 0.5} per state.</p>"
    )

    for fig_id, caption, data in figures[: _n_shared(figures)]:
        parts.append(_figure(fig_id, caption, data))

    for n, d in enumerate(diags):
        parts.append(f"<h2>{esc(d.label)}</h2>")
        parts.append(_unit_table(d))
        if d.over_sampled:
            parts.append(_states_table(d))
        if d.warnings:
            parts.append("<ul class='warn'>" + "".join(f"<li>{esc(w)}</li>" for w in d.warnings) + "</ul>")
        for fig_id, caption, data in figures:
            if fig_id.endswith(f"-{n}"):
                parts.append(_figure(fig_id, caption, data))
    parts.append("</body></html>")
    return "\n".join(parts)


def _n_shared(figures) -> int:
    return sum(1 for fig_id, _, _ in figures if fig_id in ("dkl", "marginals", "joint"))


def _figure(fig_id: str, caption: str, data: str) -> str:
    return (
        f"<figure id='{fig_id}'><img alt='{html.escape(caption)}' src='data:image/png;base64,{data}'>"
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def _unit_table(d: Diagnostics) -> str:
    th = d.thresholds
    u = d.units
    has_target = "target_marginal" in u
    header = ["variable", "status", "p(z=1)", "MCSE"]
    header += ["target", "Δ/MCSE"] if has_target else []
    header += ["bulk ESS", "tail ESS", "R-hat", "τ_int [ms]", "min switches"]
    rows = []
    for i, k in enumerate(u.unit.values):
        status = str(u.status.values[i])
        row = [(f"unit {k}", ""), (status, "" if status == "ok" else "na")]
        row += [(_fmt(float(u.marginal.values[i])), ""), (_fmt(float(u.mcse.values[i]), 2), "")]
        if has_target:
            t = float(u.target_marginal.values[i])
            z = abs(float(u.marginal.values[i]) - t) / float(u.mcse.values[i]) if status == "ok" else None
            bad_z = z is not None and z > th["bias_z"]
            row += [(_fmt(t), ""), (_fmt(z, 2), "bad" if bad_z else "")]
        for name in ("ess_bulk", "ess_tail"):
            v = float(u[name].values[i])
            row.append(
                (
                    _fmt(v, 5),
                    "bad" if np.isfinite(v) and v < th["min_ess"] else ("" if np.isfinite(v) else "na"),
                )
            )
        r = float(u.rhat.values[i])
        row.append(
            (_fmt(r, 4), "bad" if np.isfinite(r) and r > th["rhat"] else ("" if np.isfinite(r) else "na"))
        )
        row += [(_fmt(float(u.tau_int.values[i]), 3), ""), (str(int(u.min_switches.values[i])), "")]
        rows.append(row)
    if d.energy is not None:
        e = d.energy
        row = [("energy E(z)", ""), ("", ""), (f"mean {_fmt(e['mean'])}", ""), (_fmt(e["mcse"], 2), "")]
        row += [("", ""), ("", "")] if has_target else []
        for name in ("ess_bulk", "ess_tail"):
            v = e[name]
            row.append((_fmt(v, 5), "bad" if np.isfinite(v) and v < th["min_ess"] else ""))
        row.append((_fmt(e["rhat"], 4), "bad" if np.isfinite(e["rhat"]) and e["rhat"] > th["rhat"] else ""))
        row += [(_fmt(e["tau_int"], 3), ""), ("", "")]
        rows.append(row)
    return "<h3>ESS, R-hat and marginals</h3>" + _table(header, rows)


def _states_table(d: Diagnostics) -> str:
    header = ["", "state", "p target", "p sampled", "difference", "z"]
    rows = []
    for kind, states in (("over-sampled", d.over_sampled), ("under-sampled", d.under_sampled)):
        for s in states:
            rows.append(
                [
                    (kind, ""),
                    (f"<code>{s['state']}</code>", ""),
                    (_fmt(s["p_target"]), ""),
                    (_fmt(s["p_sampled"]), ""),
                    (_fmt(s["difference"], 3), ""),
                    (_fmt(s["z"], 3), ""),
                ]
            )
    return (
        "<h3>Most over- and under-sampled joint states</h3>"
        + _table(header, rows)
        + "<p>z = difference / √(p(1−p)/N_eff), N_eff = energy ESS.</p>"
    )
