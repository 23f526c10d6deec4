"""Figures (matplotlib).  Every function takes ``ax=`` and returns the axes."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "plot_autocorrelation",
    "plot_calibration",
    "plot_dkl_vs_time",
    "plot_energy_trace",
    "plot_joint",
    "plot_marginals",
    "plot_rank",
]

#: colours of the target and of up to nine runs (matplotlib's tab10)
_TARGET_COLOUR = "0.35"


def _axes(ax: Any) -> Any:
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(5, 3.5))
    return ax


def plot_calibration(calibration: Any, ax: Any = None) -> Any:
    """Measured ``p_on(E_L)`` and the fitted logistic of a :class:`Calibration`."""
    ax = _axes(ax)
    v, p = calibration.v_rest, calibration.p_on
    ax.plot(v, p, "o", ms=3, label="measured")
    vv = np.linspace(v.min(), v.max(), 400)
    ax.plot(
        vv,
        calibration.activation(vv),
        "-",
        label=(f"logistic: $v_{{p05}}$={calibration.v_p05:.2f} mV, α={calibration.alpha:.3f} mV"),
    )
    ax.set_xlabel("$E_L$ [mV]")
    ax.set_ylabel("$p_{on}$")
    ax.legend(fontsize=8)
    return ax


def plot_dkl_vs_time(curves: dict, ax: Any = None, direction: str = "dkl_target_sampled") -> Any:
    """Log–log DKL against sampled time for several results.

    ``curves`` maps a label to the output of :func:`lifsampling.dkl_vs_time`
    (or the ``dkl_curve`` of :class:`lifsampling.Diagnostics`).  A curve with a
    ``floor`` variable gets the expected DKL of an unbiased sampler with the
    same ESS drawn beside it as a dashed line of the same colour.
    """
    ax = _axes(ax)
    for label, ds in curves.items():
        (line,) = ax.loglog(ds.time.values, ds[direction].values, "o-", ms=3, label=label)
        if "floor" in ds:
            ax.loglog(
                ds.time.values, ds.floor.values, "--", lw=1, color=line.get_color(), label=f"{label}: floor"
            )
    ax.set_xlabel("sampled time per chain [ms]")
    ax.set_ylabel(
        "DKL(target ‖ sampled) [nats]"
        if direction == "dkl_target_sampled"
        else "DKL(sampled ‖ target) [nats]"
    )
    ax.legend(fontsize=8)
    return ax


def plot_marginals(
    target_marginals: np.ndarray | None, sampled: dict, ax: Any = None, errors: dict | None = None
) -> Any:
    """Target marginals next to sampled ones.

    ``sampled`` maps label → array of ``p(z_k = 1)``; ``errors`` (optional)
    maps label → half-width of the error bar (e.g. ``2 * mcse``).
    ``target_marginals`` may be None when the target is unknown.
    """
    ax = _axes(ax)
    n_units = len(next(iter(sampled.values()))) if target_marginals is None else len(target_marginals)
    k = np.arange(n_units)
    n_bars = len(sampled) + (target_marginals is not None)
    width = 0.8 / n_bars
    offset = 0
    if target_marginals is not None:
        ax.bar(k, target_marginals, width, label="target", color=_TARGET_COLOUR)
        offset = 1
    for n, (label, m) in enumerate(sampled.items(), start=offset):
        err = None if errors is None else errors.get(label)
        ax.bar(k + n * width, m, width, yerr=err, capsize=2 if err is not None else 0, label=label)
    ax.set_xticks(k + width * (n_bars - 1) / 2, k)
    ax.set_xlabel("unit")
    ax.set_ylabel("p(z = 1)")
    ax.legend(fontsize=8)
    return ax


def plot_joint(target_p: np.ndarray | None, sampled: dict, n_states: int = 16, ax: Any = None) -> Any:
    """Probabilities of the most probable joint states, target next to sampled.

    ``target_p`` are the exact probabilities of all ``2**K`` states (or None);
    ``sampled`` maps label → sampled fractions of all states.  The states shown
    are the ``n_states`` most probable under the target (else under the first run).
    """
    ax = _axes(ax)
    first = next(iter(sampled.values()))
    ref = first if target_p is None else target_p
    order = np.argsort(-np.asarray(ref), kind="stable")[:n_states]
    n_units = int(np.log2(len(ref)))
    names = [format(int(i), f"0{n_units}b") for i in order]
    x = np.arange(len(order))
    n_bars = len(sampled) + (target_p is not None)
    width = 0.8 / n_bars
    offset = 0
    if target_p is not None:
        ax.bar(x, np.asarray(target_p)[order], width, label="target", color=_TARGET_COLOUR)
        offset = 1
    for n, (label, q) in enumerate(sampled.items(), start=offset):
        ax.bar(x + n * width, np.asarray(q)[order], width, label=label)
    ax.set_xticks(x + width * (n_bars - 1) / 2, names, rotation=90, family="monospace", fontsize=7)
    ax.set_xlabel("joint state z (unit 0 first)")
    ax.set_ylabel("p(z)")
    ax.legend(fontsize=8)
    return ax


def plot_energy_trace(
    idata: Any, axes: Any = None, target: Any = None, n_trace: int = 300, bins: int = 40
) -> Any:
    """Energy ``E(z)`` of every chain: its distribution, its trace and its running mean.

    Three panels: (1) the distribution of ``E`` in each chain (step
    histograms), with the exact distribution of ``E`` under ``target`` in
    black when given; (2) the first ``n_trace`` draws of every chain, one strip
    per chain; (3) the running mean of every chain against sampled time, with
    the exact ``⟨E⟩`` dashed.  Chains that sample the same distribution have
    overlapping histograms and running means that meet.

    ``idata`` comes from :func:`lifsampling.to_inference_data` (with a target);
    ``axes`` is a sequence of three axes or None.
    """
    post = idata.posterior
    e = post.energy.values
    n_chains, n_draws = e.shape
    time = post.time.values if "time" in post.coords else np.arange(n_draws, dtype=float)
    if axes is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(1, 3, figsize=(13, 3.2))
    ax_hist, ax_trace, ax_mean = axes
    # probability of each energy bin; with few distinct levels (small K) one bin per level
    levels = np.unique(e)
    if levels.size <= bins:
        gap = np.diff(levels).min() if levels.size > 1 else 1.0
        edges = np.concatenate([levels - gap / 2, [levels[-1] + gap / 2]])
    else:
        edges = np.linspace(e.min(), e.max(), bins + 1)
    centres = (edges[1:] + edges[:-1]) / 2
    for c in range(n_chains):
        counts, _ = np.histogram(e[c], bins=edges)
        ax_hist.plot(centres, counts / n_draws, ".-", ms=3, lw=0.6, alpha=0.8)
    exact_mean = None
    if target is not None and target.n_units <= 20:
        from .targets import all_states

        e_all = target.energy(all_states(target.n_units))
        p = target.probabilities()
        p_bins, _ = np.histogram(e_all, bins=edges, weights=p)
        ax_hist.plot(centres, p_bins, "o", mfc="none", mec="k", ms=6, label="target")
        exact_mean = float(p @ e_all)
        ax_hist.legend(fontsize=7)
    ax_hist.set_xlabel("E(z)")
    ax_hist.set_ylabel("probability")
    ax_hist.set_title("distribution per chain", fontsize=9)

    n = min(n_trace, n_draws)
    span = max(float(np.ptp(e[:, :n])), 1e-12)
    for c in range(n_chains):
        ax_trace.step(time[:n], e[c, :n] - e[:, :n].min() + 1.2 * span * c, where="post", lw=0.7)
    ax_trace.set_yticks(
        1.2 * span * np.arange(n_chains) + span / 2, [f"chain {c}" for c in range(n_chains)], fontsize=7
    )
    ax_trace.set_xlabel("sampled time [ms]")
    ax_trace.set_title(f"trace, first {n} draws", fontsize=9)

    running = np.cumsum(e, axis=1) / np.arange(1, n_draws + 1)
    for c in range(n_chains):
        ax_mean.plot(time, running[c], lw=1)
    if exact_mean is not None:
        ax_mean.axhline(exact_mean, color="k", ls="--", lw=1, label="target ⟨E⟩")
        ax_mean.legend(fontsize=7)
    ax_mean.set_xscale("log" if time[0] > 0 or n_draws > 2 else "linear")
    ax_mean.set_xlabel("sampled time [ms]")
    ax_mean.set_ylabel("running mean of E")
    ax_mean.set_title("running mean per chain", fontsize=9)
    return axes


def plot_autocorrelation(idata: Any, ax: Any = None, max_lag: float | None = None) -> Any:
    """Autocorrelation against lag [ms] of every unit (thin lines) and of the energy (thick).

    Averaged over chains (``arviz.autocorr`` of each chain).  ``max_lag`` [ms]
    defaults to five times the slowest unit's integrated autocorrelation time.
    """
    import arviz as az

    ax = _axes(ax)
    post = idata.posterior
    n_draws = post.sizes["draw"]
    from .results import sample_interval

    known = "time" in post.coords or "sample_interval_ms" in post.attrs
    interval = sample_interval(post) if known else 1.0  # [ms]; in draws if the result says nothing
    states = post.states.values.astype(float)
    acf = np.array(
        [[az.autocorr(states[c, :, k]) for c in range(states.shape[0])] for k in range(states.shape[2])]
    )
    acf = np.nanmean(acf, axis=1)  # (unit, lag); constant units give NaN
    if max_lag is None:
        # first lag where every unit's autocorrelation fell below 0.05, times 2
        below = np.where(np.all(~(np.abs(acf) > 0.05), axis=0))[0]
        max_lag = 2 * (below[0] if below.size else n_draws // 4) * interval
    n_lag = int(min(n_draws, max(4, max_lag / interval + 1)))
    lags = np.arange(n_lag) * interval
    for k in range(acf.shape[0]):
        ax.plot(lags, acf[k, :n_lag], lw=0.8, alpha=0.6, label=f"unit {k}" if acf.shape[0] <= 10 else None)
    if "energy" in post:
        e = post.energy.values
        acf_e = np.nanmean([az.autocorr(e[c]) for c in range(e.shape[0])], axis=0)
        ax.plot(lags, acf_e[:n_lag], "k-", lw=2, label="energy")
    ax.axhline(0, color="0.6", lw=0.5)
    ax.set_xlabel("lag [ms]")
    ax.set_ylabel("autocorrelation")
    ax.legend(fontsize=7, ncol=2)
    return ax


def plot_rank(idata: Any, units: Any = None, axes: Any = None, seed: int = 0) -> Any:
    """arviz rank plots of the energy and of some units, ties broken at random.

    The states are 0/1 and the energy takes few values, so ranks have large
    ties; each value gets a uniform jitter smaller than half the gap between its
    distinct values (seeded) before ranking, which keeps the order of distinct
    values and makes the rank histograms of well-mixed chains uniform.
    ``units`` selects the units (default: all, up to four).
    """
    import arviz as az
    import xarray as xr

    post = idata.posterior
    rng = np.random.default_rng(seed)
    if units is None:
        units = post.unit.values[:4]
    data = {"states": post.states.sel(unit=list(units)).astype(float)}
    if "energy" in post:
        data = {"energy": post.energy, **data}
    jittered = {}
    for name, da in data.items():
        values = np.unique(da.values)
        gap = np.min(np.diff(values)) if values.size > 1 else 1.0
        jittered[name] = da + rng.uniform(-0.45 * gap, 0.45 * gap, size=da.shape)
    axes = az.plot_rank(xr.Dataset(jittered), kind="bars", ax=axes)
    names = (["energy"] if "energy" in post else []) + [f"unit {u}" for u in units]
    for ax, name in zip(np.ravel(axes), names, strict=False):
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("rank (all chains)", fontsize=8)
        ax.set_ylabel("chain", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.locator_params(axis="x", nbins=3)
    return axes
