"""Spike-based alignment learning (SAL): symmetric weights from spike timing.

A sampling network represents a Boltzmann machine only if its reciprocal
weights are equal, ``W_ij = W_ji``; physical networks (and networks whose
weights are learned by local rules) do not guarantee that.  SAL (Gierlich et
al. 2025) aligns them with a pair-based, nearest-spike STDP rule with an
antisymmetric window, applied to both directions of every reciprocal pair
(science.md §9)::

    pre i before post j (Δt = t_j − t_i > 0):   ΔW_ij = −η κ(Δt),   ΔW_ji = +η κ(Δt)
    post j before pre i (Δt = t_i − t_j > 0):   ΔW_ij = +η κ(Δt),   ΔW_ji = −η κ(Δt)

with ``κ(Δt) = exp(−Δt / τ)`` and ``τ = τ_ref = τ_syn`` by default.  Every
pairing changes ``W_ij`` and ``W_ji`` by opposite amounts, so ``W_ij + W_ji``
is kept exactly while ``W_ij − W_ji`` decays: if ``i → j`` is the stronger
direction, ``i`` tends to fire just before ``j``, which weakens ``W_ij`` and
strengthens ``W_ji``.  The symmetric part is left to wake–sleep learning,
whose update is itself symmetric; the two run side by side
(``WakeSleep(..., alignment=SAL(...))``).

Implementation.  Each reciprocal pair ``(i, j)``, ``i < j``, of every model
(sleep) chain gets one extra Brian2 synapse without delay, with two
event-driven traces (``apre``, ``apost``, decaying with ``τ``) that are *set*
to 1 at a spike (nearest-spike pairing: a spike pairs with the most recent
spike of the partner only).  A spike of ``i`` adds ``η · apost`` to the
pair's accumulator, a spike of ``j`` subtracts ``η · apre``; spikes of both
neurons in the same time step are not paired (``Δt = 0`` has no direction).
The accumulator of a run is the change of ``W_ij`` (and minus the change of
``W_ji``), in Boltzmann units; the trainer averages it over the model chains
and applies it to its weights at the end of every iteration, together with
the wake–sleep update (weights do not change during a run: the rule is
accumulated online, applied in batches).  :func:`alignment_update` computes
the same quantity from recorded spike trains with numpy (the reference the
tests compare the Brian2 synapses with).

References
----------
Gierlich, Baumbach, Petrovici et al. (2025), spike-based alignment learning
("weight transport through spike timing"), science.md §9.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["SAL", "asymmetry", "alignment_update", "PAIRINGS"]

#: Pairing schemes: which spikes of a pair's two trains are paired.
PAIRINGS = ("nearest", "adjacent", "all")


@dataclass(frozen=True)
class SAL:
    """Spike-based alignment learning, switched on in :class:`lifsampling.WakeSleep`.

    Parameters
    ----------
    rate : float
        ``η``: change of ``W_ij`` per pairing at ``Δt = 0`` [Boltzmann units].
        It follows the trainer's learning-rate schedule (multiplied by
        ``η(t) / η(0)``).  > 0.
    tau : float
        Time constant of the exponential window ``κ`` [ms] (default 10 ms,
        ``τ_ref = τ_syn`` of the sbs neuron).  > 0.

    Examples
    --------
    >>> SAL(rate=0.002)
    SAL(rate=0.002, tau=10.0, pairing='nearest')
    """

    rate: float = 0.002
    tau: float = 10.0
    pairing: str = "nearest"

    def __post_init__(self) -> None:
        if self.pairing not in PAIRINGS:
            raise ValueError(f"SAL pairing must be one of {PAIRINGS}, got {self.pairing!r}.")
        for name in ("rate", "tau"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
                raise TypeError(f"SAL {name} must be a number, got {value!r}.")
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"SAL {name} must be a finite number > 0, got {value!r}.")
            object.__setattr__(self, name, float(value))

    def to_dict(self) -> dict:
        return {"kind": "SAL", "rate": self.rate, "tau": self.tau, "pairing": self.pairing}


def asymmetry(W: np.ndarray) -> float:
    """Asymmetry of a weight matrix: the variance of the upper triangle of ``W − Wᵀ``.

    Zero for a symmetric matrix.  Entry ``[i, j]`` of ``W`` is the weight of
    the synapse ``i → j``.

    Examples
    --------
    >>> asymmetry(np.array([[0.0, 1.0], [1.0, 0.0]]))
    0.0
    >>> round(asymmetry(np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])), 6)
    0.222222
    """
    W = np.asarray(W, dtype=float)
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"W must be a square matrix, got shape {W.shape}.")
    if W.shape[0] < 2:
        return 0.0
    iu = np.triu_indices(W.shape[0], 1)
    return float(np.var((W - W.T)[iu]))


def alignment_update(
    spikes_i: np.ndarray,
    spikes_j: np.ndarray,
    *,
    rate: float,
    tau: float,
    dt: float = 0.1,
    pairing: str = "nearest",
) -> float:
    """The SAL change of ``W_ij`` (``W_ji`` changes by minus this) for two spike trains.

    The reference implementation of the Brian2 synapses the trainer uses,
    event by event: within a time step the spike of ``i`` is processed before
    that of ``j``, and two spikes in the same step are never paired.

    Parameters
    ----------
    spikes_i, spikes_j : array
        Spike times [ms] (on the grid of ``dt``).
    rate, tau, pairing
        As in :class:`SAL` (``tau`` in ms).
    dt : float
        Time step [ms].

    Examples
    --------
    >>> round(alignment_update([0.0], [10.0], rate=1.0, tau=10.0), 4)  # i before j: W_ij falls
    -0.3679
    >>> round(alignment_update([0.0, 5.0], [10.0], rate=1.0, tau=10.0, pairing="all"), 4)
    -0.9744
    """
    if pairing not in PAIRINGS:
        raise ValueError(f"pairing must be one of {PAIRINGS}, got {pairing!r}.")
    si = set(np.round(np.asarray(spikes_i, dtype=float) / dt).astype(np.int64).tolist())
    sj = set(np.round(np.asarray(spikes_j, dtype=float) / dt).astype(np.int64).tolist())
    trace = {"i": (0.0, 0), "j": (0.0, 0)}  # (value, step of the value)

    def value(who: str, step: int) -> float:
        v, at = trace[who]
        return v * math.exp(-(step - at) * dt / tau)

    delta = 0.0
    for step in sorted(si | sj):
        i_now, j_now = step in si, step in sj
        if i_now:  # pre pathway: i pairs with j's earlier spikes
            if pairing == "all":
                delta += rate * value("j", step)
                trace["i"] = (value("i", step) + 1.0, step)
            else:
                if not j_now:
                    delta += rate * value("j", step)
                if pairing == "adjacent":
                    trace["j"] = (0.0, step)
                trace["i"] = (1.0, step)
        if j_now:  # post pathway: j pairs with i's earlier spikes
            if pairing == "all":
                delta -= rate * (value("i", step) - (1.0 if i_now else 0.0))
                trace["j"] = (value("j", step) + 1.0, step)
            else:
                if not i_now:
                    delta -= rate * value("i", step)
                if pairing == "adjacent":
                    trace["i"] = (0.0, step)
                trace["j"] = (1.0, step)
    return delta
