"""Spike-based alignment learning (SAL): symmetric weights from spike timing.

A sampling network represents a Boltzmann machine only if its reciprocal
weights are equal, ``W_ij = W_ji``; physical networks (and networks whose
weights are learned by local rules) do not guarantee that.  SAL (Gierlich et
al. 2025) aligns them with a pair-based, nearest-spike STDP rule with an
antisymmetric window, applied to both directions of every reciprocal pair
(science.md §9)::

    pre i before post j (Δt = t_j − t_i > 0):   ΔW_ij = −η κ(Δt),   ΔW_ji = +η κ(Δt)
    post j before pre i (Δt = t_i − t_j > 0):   ΔW_ij = +η κ(Δt),   ΔW_ji = −η κ(Δt)

with the rectangular window ``κ(Δt) = 1`` for ``0 < Δt ≤ τ = τ_ref`` (the
default, below) or ``κ(Δt) = exp(−Δt / τ)`` with ``τ = τ_ref = τ_syn``.  Every
pairing changes ``W_ij`` and ``W_ji`` by opposite amounts, so ``W_ij + W_ji``
is kept exactly while ``W_ij − W_ji`` decays: if ``i → j`` is the stronger
direction, ``i`` tends to fire just before ``j``, which weakens ``W_ij`` and
strengthens ``W_ji``.  The symmetric part is left to wake–sleep learning,
whose update is itself symmetric; the two run side by side
(``WakeSleep(..., alignment=SAL(...))``).

Implementation (exponential window).  Each reciprocal pair ``(i, j)``,
``i < j``, of every model (sleep) chain gets one extra Brian2 synapse without delay, with two
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

What SAL aligns.  The rule sees spike timing, so it aligns the couplings
as the network realises them, not the nominal weights: its fixed point is
where the window-weighted spike cross-correlogram of every pair is
time-symmetric.  In a recurrent sampling network that is *not* exactly
``W_ij = W_ji``: with symmetric weights, third neurons coupled differently to
``i`` and ``j`` make one of them tend to fire first (measured with the
exponential window: SAL alone,
started from a nominally symmetric 7-unit network with W ~ U(−1, 1), builds
up a nominal asymmetry of a few 0.01 within 40 iterations, also with equal
biases and with current-based neurons, and the drift at symmetric weights is
nonzero in abstract neural sampling too; so it is neither the
conductance-based driving force nor bias heterogeneity).
:func:`asymmetry` of the trainer's weights is therefore the *nominal*
asymmetry, with a floor set by that fixed point;
:func:`effective_asymmetry` measures the asymmetry of the couplings the
running network realises, from its sampled states.  Nearest-spike pairing
(``pairing="nearest"``) with the exponential window has an extra drift
between neurons with different rates (for independent Poisson trains
``∝ r_i r_j [1/(r_j + 1/τ) − 1/(r_i + 1/τ)]``); all-pairs pairing
(``"all"``) has none.

The rectangular window (``window="rectangular"``, ``τ = τ_ref``).  Pair a
spike of ``i`` with ``j`` exactly when ``j`` is refractory (``z_j = 1``, it
fired less than ``τ_ref`` ago).  In continuous-time abstract neural sampling
(Buesing et al. 2011: hazard ``e^{u_i} / τ`` while ``z_i = 0``, rectangular
PSPs of length ``τ``) the rate of such pairings is, for symmetric ``W``,
``Σ_z p(z) (1 − z_i) z_j e^{u_i} / τ = ⟨z_i z_j⟩ / τ`` (because
``p(z with z_i = 1) = e^{u_i} p(z with z_i = 0)``), the same for ``(i, j)``
and ``(j, i)``: the rule's drift vanishes at ``W = Wᵀ`` however the third
neurons couple, whereas an exponential window weighs the lags unequally and
sees the time asymmetry they create.  In the LIF network (exponential PSPs,
not exactly neural sampling) a small drift remains.  Measured (7 units,
``W*, b* ~ U(−1, 1)``, seed 0 of ``benchmarks/learning_study.py``, SAL alone
from the nominally symmetric network, rate 0.01, 60 iterations of 32 chains
× 500 ms): nominal asymmetry 0 → 0.0056 with the rectangular window,
0 → 0.22 with the exponential all-pairs window.  This variant is computed
from the spike trains the run records (:func:`spike_alignment`), not by
Brian2 synapses; it is exact in time (``dt``), and the update is the same
(accumulated over the run, applied at its end).

References
----------
Gierlich, Baumbach, Petrovici et al. (2025), spike-based alignment learning
("weight transport through spike timing"), science.md §9.
Buesing, Bill, Nessler, Maass (2011), PLoS Comput. Biol. 7, e1002211
(neural dynamics as sampling).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "SAL",
    "asymmetry",
    "effective_couplings",
    "effective_asymmetry",
    "alignment_update",
    "spike_alignment",
    "PAIRINGS",
    "WINDOWS",
]

#: Pairing schemes: which spikes of a pair's two trains are paired.
PAIRINGS = ("nearest", "adjacent", "all")
#: Window shapes ``κ(Δt)``: ``exp(−Δt/τ)``, or 1 for ``0 < Δt ≤ τ`` (the partner is refractory).
WINDOWS = ("exponential", "rectangular")


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
        Width of the rectangular window, or time constant of the exponential
        one [ms] (default 10 ms, ``τ_ref = τ_syn`` of the sbs neuron; for the
        rectangular window use the neuron's ``tau_refrac``).  > 0.
    pairing : {"nearest", "adjacent", "all"}
        Which spikes are paired (:data:`PAIRINGS`): the most recent spike of
        the partner, only adjacent spikes, or all earlier spikes.  ``"all"``
        has no drift between neurons with different firing rates (module
        docstring).
    window : {"rectangular", "exponential"}
        Shape of ``κ`` (:data:`WINDOWS`).  ``"rectangular"`` (default):
        ``κ = 1`` for ``0 < Δt ≤ τ``; with ``τ = τ_ref`` a spike of ``i`` is
        paired when ``j`` is refractory (``z_j = 1``), the window whose drift
        vanishes at symmetric weights in continuous-time abstract neural
        sampling, and
        whose floor of the nominal asymmetry in LIF networks is ~10–40×
        lower than the exponential window's (module docstring).  Computed
        from the recorded spike trains (:func:`spike_alignment`); pairing
        ``"nearest"`` or ``"all"`` (the same for ``τ ≤ τ_ref``).
        ``"exponential"``: ``exp(−Δt/τ)``, run by Brian2 synapses with
        traces.

    Examples
    --------
    >>> SAL(rate=0.03)  # rectangular window of τ = τ_ref = 10 ms (the sbs neuron's)
    SAL(rate=0.03, tau=10.0, pairing='nearest', window='rectangular')
    >>> SAL(rate=0.01, pairing="all", window="exponential")
    SAL(rate=0.01, tau=10.0, pairing='all', window='exponential')
    """

    rate: float = 0.002
    tau: float = 10.0
    pairing: str = "nearest"
    window: str = "rectangular"

    def __post_init__(self) -> None:
        if self.pairing not in PAIRINGS:
            raise ValueError(f"SAL pairing must be one of {PAIRINGS}, got {self.pairing!r}.")
        _check_window(self.window, self.pairing)
        for name in ("rate", "tau"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
                raise TypeError(f"SAL {name} must be a number, got {value!r}.")
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"SAL {name} must be a finite number > 0, got {value!r}.")
            object.__setattr__(self, name, float(value))

    def to_dict(self) -> dict:
        out = {"kind": "SAL", "rate": self.rate, "tau": self.tau, "pairing": self.pairing}
        if self.window != "exponential":  # keeps the fingerprints of earlier checkpoints
            out["window"] = self.window
        return out


def _check_window(window: str, pairing: str) -> None:
    if window not in WINDOWS:
        raise ValueError(f"SAL window must be one of {WINDOWS}, got {window!r}.")
    if window == "rectangular" and pairing == "adjacent":
        raise ValueError(
            "the rectangular SAL window supports pairing 'nearest' or 'all' (identical for tau <= tau_ref), "
            "not 'adjacent'."
        )


def asymmetry(W: np.ndarray) -> float:
    """Asymmetry of a weight matrix: the variance of the upper triangle of ``W − Wᵀ``.

    Zero for a symmetric matrix.  Entry ``[i, j]`` of ``W`` is the weight of
    the synapse ``i → j``.  Applied to the trainer's ``weights_`` it measures
    the *nominal* asymmetry (of the Boltzmann-unit weights the analytic
    translation turns into synapses, the SAL paper's metric); apply it to
    :func:`effective_couplings` for the asymmetry of the couplings the running
    network realises (:func:`effective_asymmetry`).

    Note that SAL does not drive the nominal asymmetry to zero in a recurrent
    sampling network: the spike timing of a network with *symmetric* weights
    is not time-symmetric (third neurons with different couplings to ``i`` and
    ``j`` make one fire before the other; this holds for conductance- and
    current-based LIF neurons and for abstract neural sampling alike), so the
    rule's fixed point is a small nonzero ``W − Wᵀ`` that depends on ``W``.

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


def effective_couplings(
    states: np.ndarray, *, l2: float = 1e-3, n_newton: int = 30
) -> tuple[np.ndarray, np.ndarray]:
    """Directed couplings a network realises, measured from its sampled states.

    For every unit ``j``, a logistic regression over the samples in which
    ``j`` is off (``z_j(t) = 0``) of whether it spikes by the next sample
    (``z_j(t + 1) = 1``) on the other units' states ``z(t)``: the coefficient
    of ``z_i`` is ``W_eff[i, j]``, the change of ``j``'s firing hazard (log
    odds) while ``i`` is refractory, and the intercept is ``b_eff[j]``.  In
    abstract neural sampling (Buesing et al. 2011), whose hazard is
    ``σ(u_j − log τ)`` with ``u_j = b_j + Σ_i W_ij z_i``, this recovers ``W``
    exactly, also for asymmetric ``W``; in a LIF network it measures the
    coupling through the real PSPs (driving forces, conductances, timing).
    The state distribution alone cannot show asymmetry (a pairwise model fitted
    to it is symmetric by construction); the hazard, a dynamic quantity, can.

    Parameters
    ----------
    states : array, shape (n_chains, n_draws, K) or (n_draws, K)
        0/1 states on a regular time grid (e.g. ``result.states.values``).
    l2 : float
        Ridge penalty of the regressions (keeps rare states finite).
    n_newton : int
        Newton iterations per unit.

    Returns
    -------
    W_eff : ndarray (K, K)
        ``[i, j]``: effect of ``i`` on ``j`` (zero diagonal), in log odds of the
        hazard per sample interval (≈ Boltzmann units).
    b_eff : ndarray (K,)

    Examples
    --------
    >>> z = np.random.default_rng(0).integers(0, 2, (1, 2000, 3))
    >>> W_eff, b_eff = effective_couplings(z)
    >>> W_eff.shape, bool(np.abs(W_eff).max() < 0.5)
    ((3, 3), True)
    """
    S = np.asarray(states, dtype=float)
    if S.ndim == 2:
        S = S[None]
    if S.ndim != 3 or S.shape[1] < 2 or S.shape[2] < 1:
        raise ValueError(f"states must have shape (n_chains, n_draws, K), got {np.shape(states)}.")
    if not np.isin(S, (0.0, 1.0)).all():
        raise ValueError("states must contain only 0 and 1.")
    K = S.shape[-1]
    now, nxt = S[:, :-1].reshape(-1, K), S[:, 1:].reshape(-1, K)
    W, b = np.zeros((K, K)), np.zeros(K)
    for j in range(K):
        off = now[:, j] == 0
        X = np.column_stack([np.delete(now[off], j, axis=1), np.ones(int(off.sum()))])
        y = nxt[off, j]
        theta = np.zeros(K)
        mean = float(np.clip(y.mean() if y.size else 0.5, 1e-6, 1 - 1e-6))
        theta[-1] = math.log(mean / (1 - mean))
        ridge = l2 * np.eye(K)
        for _ in range(n_newton):
            p = 1.0 / (1.0 + np.exp(-(X @ theta)))
            grad = X.T @ (y - p) - l2 * theta
            hess = (X * (p * (1 - p))[:, None]).T @ X + ridge
            step = np.linalg.solve(hess, grad)
            theta += step
            if np.abs(step).max() < 1e-8:
                break
        W[np.arange(K) != j, j] = theta[:-1]
        b[j] = theta[-1]
    return W, b


def effective_asymmetry(states: np.ndarray, **kwargs) -> float:
    """:func:`asymmetry` of the :func:`effective_couplings` measured from ``states``.

    The asymmetry of the couplings as the running network realises them
    (SAL's target: "the asymmetry between *effective* reciprocal
    connections"), as opposed to :func:`asymmetry` of the nominal weights.
    It has a statistical floor that shrinks with the number of samples
    (for a 7-unit sbs network sampled at 1 ms: ≈ 0.01 from 8 chains × 12.5 s,
    ≈ 0.003 from 32 chains × 12.5 s).
    """
    return asymmetry(effective_couplings(states, **kwargs)[0])


def alignment_update(
    spikes_i: np.ndarray,
    spikes_j: np.ndarray,
    *,
    rate: float,
    tau: float,
    dt: float = 0.1,
    pairing: str = "nearest",
    window: str = "exponential",
) -> float:
    """The SAL change of ``W_ij`` (``W_ji`` changes by minus this) for two spike trains.

    The reference implementation, event by event, of the Brian2 synapses the
    trainer uses (exponential window: within a time step the spike of ``i``
    is processed before that of ``j``) and of :func:`spike_alignment`
    (rectangular window); two spikes in the same step are never paired.

    Parameters
    ----------
    spikes_i, spikes_j : array
        Spike times [ms] (on the grid of ``dt``).
    rate, tau, pairing, window
        As in :class:`SAL` (``tau`` in ms).
    dt : float
        Time step [ms].

    Examples
    --------
    >>> round(alignment_update([0.0], [10.0], rate=1.0, tau=10.0), 4)  # i before j: W_ij falls
    -0.3679
    >>> round(alignment_update([0.0, 5.0], [10.0], rate=1.0, tau=10.0, pairing="all"), 4)
    -0.9744
    >>> alignment_update([0.0, 5.0], [10.0], rate=1.0, tau=10.0, pairing="all", window="rectangular")
    -2.0
    """
    if pairing not in PAIRINGS:
        raise ValueError(f"pairing must be one of {PAIRINGS}, got {pairing!r}.")
    _check_window(window, pairing)
    si = set(np.round(np.asarray(spikes_i, dtype=float) / dt).astype(np.int64).tolist())
    sj = set(np.round(np.asarray(spikes_j, dtype=float) / dt).astype(np.int64).tolist())
    if window == "rectangular":
        width = int(round(tau / dt))

        def paired(step: int, partner: set[int]) -> int:
            earlier = [u for u in partner if u < step]
            if pairing == "nearest":
                return int(bool(earlier) and step - max(earlier) <= width)
            return sum(step - u <= width for u in earlier)

        return rate * (sum(paired(t, sj) for t in si) - sum(paired(t, si) for t in sj))
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


def spike_alignment(
    unit: np.ndarray,
    step: np.ndarray,
    *,
    n_units: int,
    rate: float,
    tau: float,
    dt: float = 0.1,
    pairing: str = "all",
    chain: np.ndarray | None = None,
) -> np.ndarray:
    """SAL with the rectangular window for all pairs of units at once, from spike trains.

    A spike of ``i`` at step ``s`` is paired with the spikes of ``j`` in steps
    ``s − τ/dt … s − 1`` (``"all"``) or with the last of them (``"nearest"``);
    every pairing adds ``rate`` to ``W_ij`` and subtracts it from ``W_ji``
    (``j`` fired first, so ``j → i`` is the direction to strengthen).  With
    ``τ = τ_ref`` the partner is paired exactly while it is refractory, and
    both pairings coincide (a neuron fires at most once per ``τ_ref``).
    :func:`alignment_update` is the event-by-event reference for one pair.

    Parameters
    ----------
    unit, step : int arrays (n_spikes,)
        Unit (0 … n_units − 1) and time step of every spike.
    n_units : int
    rate, tau, pairing
        As in :class:`SAL` (``tau`` in ms, window width).
    dt : float
        Time step [ms].
    chain : int array (n_spikes,), optional
        Chain of every spike; spikes of different chains are never paired.

    Returns
    -------
    ndarray (K, K)
        The change of ``W`` summed over chains (antisymmetric, zero diagonal),
        in the units of ``rate``.

    Examples
    --------
    >>> dW = spike_alignment([0, 1], [0, 50], n_units=2, rate=1.0, tau=10.0)  # 0 fires 5 ms before 1
    >>> dW.tolist()
    [[0.0, -1.0], [1.0, 0.0]]
    """
    if pairing not in ("nearest", "all"):
        raise ValueError(f"spike_alignment supports pairing 'nearest' or 'all', got {pairing!r}.")
    unit = np.asarray(unit, dtype=np.int64).ravel()
    step = np.asarray(step, dtype=np.int64).ravel()
    if unit.shape != step.shape or (unit.size and (unit.min() < 0 or unit.max() >= n_units)):
        raise ValueError(f"unit and step must have the same length and units in 0..{n_units - 1}.")
    width = int(round(tau / dt))
    if chain is not None:  # one time axis, chains separated by more than the window
        chain = np.asarray(chain, dtype=np.int64).ravel()
        span = int(step.max() - step.min()) + width + 2 if step.size else 0
        step = step + chain * span
    M = np.zeros((n_units, n_units))  # M[i, j]: spikes of i paired with earlier spikes of j
    for j in range(n_units):
        partner = np.sort(step[unit == j])
        upto = np.searchsorted(partner, step - 1, side="right")  # partner spikes before each spike
        if pairing == "all":
            weight = upto - np.searchsorted(partner, step - width, side="left")
        else:
            last = partner[np.maximum(upto - 1, 0)] if partner.size else np.zeros_like(step)
            weight = (upto > 0) & (step - last <= width)
        M[:, j] = np.bincount(unit, weights=weight.astype(float), minlength=n_units)
    np.fill_diagonal(M, 0.0)
    return rate * (M - M.T)
