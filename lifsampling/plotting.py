"""Figures (matplotlib).  Every function takes ``ax=`` and returns the axes."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["plot_calibration", "plot_dkl_vs_time", "plot_marginals"]


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

    ``curves`` maps a label to the output of :func:`lifsampling.dkl_vs_time`.
    """
    ax = _axes(ax)
    for label, ds in curves.items():
        ax.loglog(ds.time.values, ds[direction].values, "o-", ms=3, label=label)
    ax.set_xlabel("sampled time per chain [ms]")
    ax.set_ylabel(
        "DKL(target ‖ sampled) [nats]"
        if direction == "dkl_target_sampled"
        else "DKL(sampled ‖ target) [nats]"
    )
    ax.legend(fontsize=8)
    return ax


def plot_marginals(target_marginals: np.ndarray, sampled: dict, ax: Any = None) -> Any:
    """Target marginals next to sampled ones (``sampled`` maps label → array)."""
    ax = _axes(ax)
    k = np.arange(len(target_marginals))
    width = 0.8 / (len(sampled) + 1)
    ax.bar(k, target_marginals, width, label="target")
    for n, (label, m) in enumerate(sampled.items(), start=1):
        ax.bar(k + n * width, m, width, label=label)
    ax.set_xticks(k + width * len(sampled) / 2, k)
    ax.set_xlabel("unit")
    ax.set_ylabel("p(z = 1)")
    ax.legend(fontsize=8)
    return ax
