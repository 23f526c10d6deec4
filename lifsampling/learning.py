"""Learning in the loop: wake–sleep training of a LIF sampling network.

The analytic translation of a Boltzmann machine into LIF parameters is only
approximate (science.md §6), and physical networks add fixed-pattern
parameter noise on top.  Learning removes both: run the network, compare
what it samples with what it should sample, and move its parameters
(Petrovici et al. 2016; Kungl et al. 2019; Dold et al. 2019).  The wake–sleep
(contrastive) rule, in Boltzmann units::

    ΔW_ij = η (⟨z_i z_j⟩_target − ⟨z_i z_j⟩_model)
    Δb_i  = η (⟨z_i⟩_target − ⟨z_i⟩_model)

The target moments are exact for a known target (every unit visible); with
data and hidden units they come from the *wake* phase, in which the visible
units are clamped to data vectors (:mod:`lifsampling.evidence`) and the
hidden units sample their conditional distribution.  The model moments come
from the *sleep* phase, the free-running network.

What is learned.  The trainer keeps the network as a signed Boltzmann-unit
matrix ``W`` (``K × K``, entry ``[i, j]`` = synapse ``i → j``, allowed to be
asymmetric) and biases ``b``, in the units of the analytic translation
(:func:`network_from_boltzmann`): a bias change ``Δb`` moves the leak
potential by ``α Δb`` [mV] and a weight change moves the synaptic weight by
the translation's weight per unit of ``W`` (excitatory for ``W > 0``,
inhibitory for ``W < 0``).  Fine-tuning starts from the sampler's translated
network, interaction calibration included (``sampler.lif_parameters_``
converted back with :func:`lif_to_boltzmann`), so it starts where the
translation left off.

Persistent chains.  All chains (sleep chains, plus one wake chain per data
vector of a minibatch) live in one Brian2 network that is built once and
kept alive; between iterations only leak potentials and weights are
rewritten, so every chain continues from its state at the end of the
previous iteration (membrane potentials, conductances, refractory clocks,
spikes in flight).  Each iteration discards the first ``settle`` ms (the
network relaxes to the new parameters, wake chains to their new data vector).

Reproducibility.  Iteration ``t`` reseeds the simulator with a seed derived
from ``(seed, t)``, and its minibatch is drawn from the same pair, so a run is
determined by ``seed``.  With ``checkpoint=path`` the complete trainer state
(iteration, ``W``, ``b``, optimizer state, the Brian2 network state, history,
seed) is written atomically every ``checkpoint_every`` iterations; ``fit`` on
an existing checkpoint resumes, and the resumed run continues exactly the
trajectory of an uninterrupted run with the same seed.

References
----------
Petrovici, Bill, Bytschok, Schemmel, Meier (2016), Phys. Rev. E 94, 042312.
Kungl, Schmitt, Klähn, Müller, Baumbach, Dold, Kugele, Müller, Koke, Kleider,
Mauch, Breitwieser, Leng, Gürtler, Güttler, Husmann, Husmann, Hartel,
Karasenko, Grübl, Schemmel, Meier, Petrovici (2019), Front. Neurosci. 13, 1201.
Dold, Bytschok, Kungl, Baumbach, Breitwieser, Senn, Schemmel, Meier, Petrovici
(2019), Neural Networks 119, 200–213.
Gierlich et al. (2025), spike-based alignment learning (:mod:`lifsampling.alignment`).
"""

from __future__ import annotations

import gc
import hashlib
import json
import math
import os
import pickle
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import numpy as np
import xarray as xr

from ._cache import content_key
from ._io import atomic_path
from ._persistent import RUNTIME_DEVICES, ChainRun, PersistentChains
from ._units import count, non_negative, positive, steps
from .alignment import SAL, asymmetry, spike_alignment
from .calibration import Calibration
from .divergence import kl_divergence
from .optimizers import adam_direction, damped_solve
from .sampler import LIFSampler
from .targets import (
    MAX_EXACT_UNITS,
    BoltzmannMachine,
    RestrictedBoltzmannMachine,
    all_states,
    states_to_indices,
)
from .translation import LIFParameters, _weight_per_unit, lif_to_boltzmann

__all__ = ["WakeSleep", "fine_tune", "network_from_boltzmann", "moments"]

SCHEDULES = ("constant", "inverse")
OPTIMIZERS = ("sgd", "momentum", "adam", "natural")
CHECKPOINT_SCHEMA = 1
#: iterations pooled in the history's ``dkl_pooled``
DKL_WINDOW = 10


# -- pure parts -------------------------------------------------------------------------
def network_from_boltzmann(W: np.ndarray, b: np.ndarray, calibration: Calibration) -> LIFParameters:
    """The LIF network of signed Boltzmann-unit weights and biases (analytic translation).

    Like :func:`lifsampling.boltzmann_to_lif` without an interaction
    calibration, but ``W`` may be asymmetric (entry ``[i, j]`` is the synapse
    ``i → j``; the diagonal is ignored): ``E_L = v_p05 + α b`` and
    ``w_ij = W_ij · f(E_L,j)`` with the excitatory (``W_ij > 0``) or
    inhibitory (``W_ij < 0``) weight per unit of ``W`` onto neuron ``j``.
    :func:`lifsampling.lif_to_boltzmann` inverts it exactly.

    Examples
    --------
    >>> lif = network_from_boltzmann([[0, 0.5], [-0.2, 0]], [0.0, 1.0], cal)  # doctest: +SKIP
    >>> lif_to_boltzmann(lif, cal)[0]                                        # doctest: +SKIP
    array([[ 0. ,  0.5], [-0.2,  0. ]])
    """
    W = np.array(W, dtype=float)
    b = np.asarray(b, dtype=float)
    K = b.shape[0] if b.ndim == 1 else -1
    if b.ndim != 1 or W.shape != (K, K):
        raise ValueError(f"W must be K×K and b of length K; got W {W.shape} and b {b.shape}.")
    if not (np.all(np.isfinite(W)) and np.all(np.isfinite(b))):
        raise ValueError("W and b must be finite.")
    np.fill_diagonal(W, 0.0)
    v_rest = calibration.v_p05 + calibration.alpha * b
    f_exc, f_inh = _weight_per_unit(calibration, v_rest)
    w_exc = np.where(W > 0, W, 0.0) * f_exc[None, :]
    w_inh = np.where(W < 0, -W, 0.0) * f_inh[None, :]
    return LIFParameters(v_rest, w_exc, w_inh, calibration.neuron.weight_unit)


def moments(states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and second moments ``⟨z_i⟩`` (K,) and ``⟨z_i z_j⟩`` (K, K) of 0/1 states (..., K).

    Examples
    --------
    >>> m, c = moments(np.array([[1, 0], [1, 1]]))
    >>> m.tolist(), c[0, 1].item()
    ([1.0, 0.5], 0.5)
    """
    z = np.asarray(states, dtype=float)
    z = z.reshape(-1, z.shape[-1])
    return z.mean(axis=0), (z.T @ z) / z.shape[0]


def _exact_moments(target: BoltzmannMachine) -> tuple[np.ndarray, np.ndarray]:
    p = target.probabilities()
    z = all_states(target.n_units).astype(float)
    return p @ z, (z * p[:, None]).T @ z


def _learnable(target: BoltzmannMachine) -> np.ndarray:
    """Which connections learn: the layers' couplings of an RBM, every pair otherwise."""
    K = target.n_units
    if isinstance(target, RestrictedBoltzmannMachine):
        mask = np.zeros((K, K), dtype=bool)
        nv = target.n_visible
        mask[:nv, nv:] = mask[nv:, :nv] = True
        return mask
    return ~np.eye(K, dtype=bool)


def _iteration_seed(seed: int, iteration: int, stream: int = 0) -> int:
    """A 31-bit simulator seed for iteration ``iteration`` (-1: the initial burn-in) of run ``seed``."""
    ss = np.random.SeedSequence(entropy=int(seed), spawn_key=(int(iteration) + 1, int(stream)))
    return int(ss.generate_state(1, dtype=np.uint32)[0] % (2**31 - 1))


def _check_data(data: Any, n_visible: int) -> np.ndarray:
    try:
        arr = np.asarray(data)
    except Exception:
        raise ValueError("data must be an array of 0/1 vectors, one row per data vector.") from None
    if arr.ndim == 1 and arr.size == n_visible:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != n_visible:
        raise ValueError(
            f"data must have shape (n_samples, {n_visible}): one row of {n_visible} visible units per "
            f"data vector; got shape {arr.shape}. Pass visible=[...] to say which units the columns are."
        )
    if arr.shape[0] == 0:
        raise ValueError("data is empty: pass at least one data vector.")
    if arr.dtype == bool:
        arr = arr.astype(np.int8)
    if not np.issubdtype(arr.dtype, np.number) or not np.isin(arr, (0, 1)).all():
        bad = arr[~np.isin(arr, (0, 1))] if np.issubdtype(arr.dtype, np.number) else arr.ravel()
        raise ValueError(
            f"data must contain only 0 and 1 (binary unit states), found e.g. {bad.ravel()[0].item()!r}; "
            "binarise it first, e.g. (data > 0.5).astype(int)."
        )
    return arr.astype(np.int8)


def _check_visible(visible: Any, target: BoltzmannMachine, n_columns: int) -> np.ndarray:
    K = target.n_units
    if visible is None:
        if n_columns == K:
            return np.arange(K)
        if isinstance(target, RestrictedBoltzmannMachine) and n_columns == target.n_visible:
            return np.arange(target.n_visible)
        expected = f"{K} (all units)"
        if isinstance(target, RestrictedBoltzmannMachine):
            expected += f" or {target.n_visible} (the visible units)"
        raise ValueError(
            f"data has {n_columns} columns but the sampler's target has {K} units: expected {expected}, "
            "or pass visible=[unit, ...] naming the units the columns belong to."
        )
    vis = np.asarray(visible)
    if vis.ndim != 1 or vis.size == 0 or not np.issubdtype(vis.dtype, np.integer):
        raise ValueError(f"visible must be a list of unit indices, got {visible!r}.")
    if np.any(vis < 0) or np.any(vis >= K) or np.unique(vis).size != vis.size:
        raise ValueError(f"visible must name distinct units among 0..{K - 1}, got {vis.tolist()}.")
    return vis.astype(int)


# -- the trainer ------------------------------------------------------------------------
class WakeSleep:
    """Wake–sleep training of a LIF sampling network, with the network in the loop.

    Every iteration runs the network (``n_chains`` persistent free chains,
    ``duration`` ms each, plus one clamped wake chain per data vector of a
    minibatch when learning from data with hidden units), compares its
    moments with the target's, and updates its leak potentials and weights
    through the calibration (module docstring; Petrovici et al. 2016, Kungl
    et al. 2019, Dold et al. 2019).

    Parameters
    ----------
    sampler : LIFSampler
        The network to train: its neuron, background, synapses, dt,
        calibration (calibrated on first use) and the network it runs
        (its translated target, or ``network=``) are the starting point; its
        ``parameter_noise`` is applied to every network the trainer runs.
    learning_rate : float
        ``η0`` (> 0), in Boltzmann units per unit of moment difference.
    schedule : {"inverse", "constant"} or callable
        ``"inverse"``: ``η(t) = η0 τ / (τ + t)`` (sbs used ``10 / (100 + t)``);
        ``"constant"``: ``η0``; a callable maps the iteration ``t`` (0-based)
        to ``η(t)``.
    tau : float
        ``τ`` of the inverse schedule [iterations].
    optimizer : {"sgd", "momentum", "adam", "natural"}
        ``"sgd"``: ``Δθ = η g``.  ``"momentum"``: ``v ← μ v + η g``, ``Δθ = v``.
        ``"adam"``: Adam (Kingma & Ba 2015) with ``betas``; its steps are
        about ``η`` whatever the gradient, so use a smaller ``η`` (~0.02).
        ``"natural"``: natural gradient (Amari 1998), ``Δθ = η (F + λ I)⁻¹ g``
        with ``F`` the covariance of the sufficient statistics ``z_i`` and
        ``z_i z_j`` in the iteration's sleep samples (the Fisher information of
        a Boltzmann machine) and ``λ`` = ``damping``; with ``η`` = 1 a Newton
        step.  It moves rarely-on (or rarely-off) units as fast as the
        others, where plain gradients, proportional to ``p (1 − p)``, crawl.
    momentum : float
        ``μ`` of ``"momentum"``, in [0, 1).
    betas : (float, float)
        Adam's decay rates.
    damping : float
        ``λ`` of ``"natural"`` [squared moment units], ≥ 0.
    max_step : float, optional
        Largest change of any weight or bias in one iteration [Boltzmann
        units]; a larger step is scaled down as a whole (a trust region that
        keeps early natural-gradient steps from a poor start in check).
        None: no limit.
    n_chains : int
        Free-running (sleep) chains.
    duration : float
        Sampled time per chain and iteration [ms], after ``settle``.
    settle : float
        Time discarded at the start of every iteration [ms].
    burn_in : float
        Time the network runs before the first iteration [ms].
    n_wake_chains : int, optional
        Data vectors clamped per iteration (one chain each) when learning from
        data with hidden units.  Default: ``min(n_data, 16)``; with no more
        data vectors than chains, every data vector is used every iteration.
    alignment : SAL, optional
        Spike-based alignment learning on the sleep chains, side by side with
        wake–sleep (:mod:`lifsampling.alignment`).
    seed : int, optional
        Drives everything random in training (initial membrane potentials,
        the simulator in every iteration, minibatches).  ``None`` draws one
        (recorded in :attr:`seed_`).
    checkpoint : path, optional
        File holding the trainer state (a pickle: open only checkpoints you
        wrote).  Written atomically every ``checkpoint_every`` iterations and
        after the last one; if it exists when :meth:`fit` starts, training
        resumes from it (it must have been written with the same sampler,
        target or data, settings and seed).
    checkpoint_every : int
        Iterations between checkpoints.
    progress : bool, optional
        Show a progress bar over iterations (default: if it takes > 2 s).
    keep_best : bool
        End on the network of the iteration whose sleep samples had the
        lowest ``history_.dkl`` (:attr:`best_iteration_`) instead of the last
        one.  A criterion that needs no held-out data (the trainer measures
        it anyway); it picks the luckiest of noisy values, and persistent
        chains that the weight updates keep moving between modes sample a
        multimodal network better than fresh chains do, so evaluate the
        result on fresh samples.  Useful when learning from data, where the
        learning curve is not monotone.

    Attributes
    ----------
    weights_ : ndarray (K, K)
        Learned ``W`` [Boltzmann units of the analytic translation], ``[i, j]`` = ``i → j``.
    biases_ : ndarray (K,)
    network_ : LIFParameters
        The learned network of one chain (before parameter noise).
    sampler_ : LIFSampler
        A sampler that runs the learned network (same settings as ``sampler``).
    history_ : xarray.Dataset
        Per ``iteration``: ``dkl`` (DKL(target ‖ sampled) of that iteration's
        sleep samples, pooled over chains, pseudo-count ½ — from data: of the
        data distribution against the sampled visible distribution; noisy:
        one iteration's samples), ``dkl_pooled`` (the same for the last 10
        iterations' samples pooled),
        ``mean_error`` and ``correlation_error`` (RMS of the differences of
        ``⟨z_i⟩`` and of ``⟨z_i z_j⟩`` over learnable pairs),
        ``learning_rate``, ``asymmetry`` (the *nominal* asymmetry of ``W``,
        :func:`lifsampling.alignment.asymmetry`; for the asymmetry of the
        couplings the network realises, sample the learned network and use
        :func:`lifsampling.alignment.effective_asymmetry`) and ``wall_time`` [s].
    n_iter_ : int
        Iterations done.
    best_iteration_ : int or None
        The iteration with the lowest ``dkl`` (None if it is not computed:
        more than 20 visible units).
    seed_ : int

    References
    ----------
    Petrovici et al. (2016), Phys. Rev. E 94, 042312.
    Kungl et al. (2019), Front. Neurosci. 13, 1201.
    Dold et al. (2019), Neural Networks 119, 200.

    Examples
    --------
    >>> import lifsampling as ls
    >>> bm = ls.random_boltzmann_machine(5, seed=3)
    >>> trainer = ls.WakeSleep(ls.LIFSampler(bm), seed=1)                # doctest: +SKIP
    >>> trainer.fit(n_iterations=100)                                    # doctest: +SKIP
    >>> trainer.history_.dkl[-10:].mean()                                # doctest: +SKIP
    >>> trainer.sampler_.sample(12_500.0, n_chains=8, seed=2)            # doctest: +SKIP
    """

    def __init__(
        self,
        sampler: LIFSampler,
        *,
        learning_rate: float = 0.5,
        schedule: Literal["inverse", "constant"] | Callable[[int], float] = "inverse",
        tau: float = 30.0,
        optimizer: Literal["sgd", "momentum", "adam", "natural"] = "natural",
        momentum: float = 0.9,
        betas: tuple[float, float] = (0.9, 0.999),
        damping: float = 0.01,
        max_step: float | None = 0.5,
        n_chains: int = 32,
        duration: float = 500.0,
        settle: float = 20.0,
        burn_in: float = 200.0,
        n_wake_chains: int | None = None,
        alignment: SAL | None = None,
        seed: int | None = None,
        checkpoint: str | os.PathLike | None = None,
        checkpoint_every: int = 10,
        progress: bool | None = None,
        keep_best: bool = False,
    ) -> None:
        if not isinstance(sampler, LIFSampler):
            raise TypeError(f"sampler must be a LIFSampler, got {type(sampler).__name__}.")
        self.sampler = sampler
        self.learning_rate = _positive_number(learning_rate, "learning_rate")
        if not (callable(schedule) or schedule in SCHEDULES):
            raise ValueError(
                f"schedule must be one of {SCHEDULES} or a callable t -> rate, got {schedule!r}."
            )
        self.schedule = schedule
        self.tau = _positive_number(tau, "tau")
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}.")
        self.optimizer = optimizer
        if not (isinstance(momentum, (int, float)) and 0.0 <= momentum < 1.0):
            raise ValueError(f"momentum must be a number in [0, 1), got {momentum!r}.")
        self.momentum = float(momentum)
        if len(betas) != 2 or not all(0.0 <= float(x) < 1.0 for x in betas):
            raise ValueError(f"betas must be two numbers in [0, 1), got {betas!r}.")
        self.betas = (float(betas[0]), float(betas[1]))
        if isinstance(damping, bool) or not isinstance(damping, (int, float)) or not damping >= 0:
            raise ValueError(f"damping must be a number >= 0, got {damping!r}.")
        self.damping = float(damping)
        self.max_step = None if max_step is None else _positive_number(max_step, "max_step")
        self.n_chains = count(n_chains, "n_chains")
        self.duration = positive(duration, "ms", "duration")
        self.settle = non_negative(settle, "ms", "settle")
        self.burn_in = non_negative(burn_in, "ms", "burn_in")
        steps(self.duration, sampler.sample_interval, "duration", "sample_interval")
        steps(self.settle, sampler.dt, "settle")
        steps(self.burn_in, sampler.dt, "burn_in")
        self.n_wake_chains = None if n_wake_chains is None else count(n_wake_chains, "n_wake_chains")
        if alignment is not None and not isinstance(alignment, SAL):
            raise TypeError(f"alignment must be a SAL or None, got {type(alignment).__name__}.")
        self.alignment = alignment
        if seed is None:
            seed = int(np.random.default_rng().integers(0, 2**31 - 1))
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**63:
            raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}.")
        self.seed = int(seed)
        self.checkpoint = None if checkpoint is None else Path(checkpoint)
        self.checkpoint_every = count(checkpoint_every, "checkpoint_every")
        self.progress = progress
        if not isinstance(keep_best, (bool, np.bool_)):
            raise TypeError(f"keep_best must be True or False, got {keep_best!r}.")
        self.keep_best = bool(keep_best)
        self.device = sampler.device if sampler.device in RUNTIME_DEVICES else "cython"

    # -- schedule and optimiser -----------------------------------------------------------
    def rate(self, iteration: int) -> float:
        """Learning rate ``η(t)`` of iteration ``t`` (0-based)."""
        if callable(self.schedule):
            value = float(self.schedule(int(iteration)))
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"the schedule returned {value!r} for iteration {iteration}; need >= 0.")
            return value
        if self.schedule == "constant":
            return self.learning_rate
        return self.learning_rate * self.tau / (self.tau + iteration)

    def _step(
        self, grad_W: np.ndarray, grad_b: np.ndarray, t: int, lr: float, sleep: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        K = grad_b.size
        if self.optimizer == "natural":
            i, j = np.nonzero(np.triu(self._mask, 1))
            z = sleep.reshape(-1, K).astype(float)
            stats = np.concatenate([z, z[:, i] * z[:, j]], axis=1)
            F = np.cov(stats, rowvar=False, bias=True)
            g = np.concatenate([grad_b, grad_W[i, j]])
            delta = lr * damped_solve(F, g, self.damping)
            step_W = np.zeros((K, K))
            step_W[i, j] = step_W[j, i] = delta[K:]
            return step_W, delta[:K]
        g = np.concatenate([grad_W.ravel(), grad_b])
        s = self._opt
        if self.optimizer == "sgd":
            step = lr * g
        elif self.optimizer == "momentum":
            s["v"] = self.momentum * s.get("v", np.zeros_like(g)) + lr * g
            step = s["v"]
        else:
            step = lr * adam_direction(s, g, self.betas)
        return step[: K * K].reshape(K, K), step[K * K :]

    # -- fitting -----------------------------------------------------------------------
    def fit(
        self,
        target: BoltzmannMachine | None = None,
        data: np.ndarray | None = None,
        *,
        n_iterations: int = 100,
        visible: list[int] | np.ndarray | None = None,
    ) -> WakeSleep:
        """Train for ``n_iterations`` iterations (in total, counting a resumed checkpoint's).

        Parameters
        ----------
        target : BoltzmannMachine, optional
            Distribution to learn (exact moments; every unit visible).
            Default, when ``data`` is not given either: the sampler's target
            (fine-tuning).
        data : array (n_samples, n_visible) of 0/1, optional
            Data vectors of the visible units.  With hidden units the wake
            phase clamps them (one chain per data vector of a minibatch).
        n_iterations : int
        visible : list of int, optional
            The units the data columns belong to.  Default: all units if the
            data have one column per unit, else the visible units of a
            :class:`RestrictedBoltzmannMachine` target.

        Returns
        -------
        WakeSleep
            ``self``, with the learned network in ``weights_``, ``biases_``,
            ``network_``, ``sampler_`` and the learning curve in ``history_``.
        """
        n_iterations = count(n_iterations, "n_iterations")
        cal, fingerprint, state = self._prepare(target, data, visible)
        if self.n_iter_ < n_iterations:
            self._train(n_iterations, cal, fingerprint, None if state is None else state["network_state"])
        self._finish(cal)
        return self

    def _prepare(
        self, target: BoltzmannMachine | None, data: np.ndarray | None, visible: Any
    ) -> tuple[Calibration, str, dict | None]:
        """Check ``target`` or ``data``, calibrate, and set the starting point (or a checkpoint's).

        Returns the calibration, the run's fingerprint and the checkpoint's state (None: a fresh start).
        """
        if target is not None and data is not None:
            raise ValueError("pass either target (a distribution) or data (samples), not both.")
        s = self.sampler
        model = s.target
        if target is None and data is None:
            target = model
        if target is not None:
            if not isinstance(target, BoltzmannMachine):
                raise TypeError(f"target must be a BoltzmannMachine, got {type(target).__name__}.")
            if target.n_units != model.n_units:
                raise ValueError(
                    f"target has {target.n_units} units but the sampler's network has {model.n_units}."
                )
            if target.n_units > MAX_EXACT_UNITS:
                raise ValueError(
                    f"exact target moments need <= {MAX_EXACT_UNITS} units, the target has {target.n_units}; "
                    "train from samples (data=...) instead."
                )
        if s.lif_parameters_ is None:
            s.calibrate()
        cal = s.calibration_
        K = model.n_units
        self._mask = _learnable(model)
        if target is not None:
            self._visible = np.arange(K)
            self._data = None
            self._target_moments = _exact_moments(target)
            self._target = target
        else:
            arr = np.asarray(data)
            if arr.ndim not in (1, 2):
                raise ValueError(
                    "data must have shape (n_samples, n_visible): one row of visible unit states per "
                    f"data vector; got shape {arr.shape}."
                )
            self._visible = _check_visible(visible, model, arr.shape[1] if arr.ndim == 2 else arr.size)
            self._data = _check_data(data, self._visible.size)
            self._target = None
            if self._visible.size == K:
                self._data = self._data[:, np.argsort(self._visible)]
                self._visible = np.arange(K)
                self._target_moments = moments(self._data)
            else:
                self._target_moments = None
        n_wake = 0
        if self._target_moments is None:
            n_wake = self.n_wake_chains or min(len(self._data), 16)
        self._n_wake = n_wake
        W0, b0 = lif_to_boltzmann(s.lif_parameters_, cal)
        W0 = np.where(self._mask, W0, 0.0)
        fingerprint = self._fingerprint(W0, b0)

        state = self._load(fingerprint)
        if state is None:
            self.weights_, self.biases_ = W0.copy(), b0.copy()
            self._opt: dict[str, np.ndarray] = {}
            self._rows: list[dict] = []
            self._recent: list[np.ndarray] = []
            self._best: dict | None = None
            self.n_iter_ = 0
        else:
            self.weights_, self.biases_ = state["W"], state["b"]
            self._opt, self._rows, self.n_iter_ = state["optimizer"], state["history"], state["iteration"]
            self._recent = state["recent_counts"]
            self._best = state.get("best")
        self.seed_ = self.seed
        return cal, fingerprint, state

    def _train(self, n_iterations: int, cal: Calibration, fingerprint: str, network_state: bytes | None):
        try:
            import ipywidgets  # noqa: F401  (tqdm.auto needs it for notebook progress bars)
            from tqdm.auto import tqdm
        except ImportError:
            from tqdm import tqdm

        s = self.sampler
        K, C, B = s.target.n_units, self.n_chains, self._n_wake
        pairs = None
        if self.alignment is not None:
            pairs = np.argwhere(np.triu(self._mask, 1))
        synaptic_sal = self.alignment is not None and self.alignment.window == "exponential"
        noise = s.parameter_noise
        chains = PersistentChains(
            s.neuron,
            s.noise,
            K,
            C + B,
            dt=s.dt,
            synapses=s.synapses,
            delay=s.delay,
            device=self.device,
            per_neuron_threshold=noise is not None and noise.thresholds > 0,
            alignment_pairs=pairs if synaptic_sal else None,
            alignment_chains=np.arange(C),
            alignment_tau=self.alignment.tau if self.alignment is not None else 10.0,
            alignment_pairing=self.alignment.pairing if self.alignment is not None else "nearest",
            seed=_iteration_seed(self.seed, -1, 1),
        )
        self._pairs = pairs
        # Brian2 collects garbage before every run; with the objects of a long session that
        # costs ~0.15 s per iteration.  Objects that exist now are frozen (exempt from
        # collection) until training ends.
        gc.freeze()
        try:
            self._set_network(chains, cal, self.n_iter_)
            if network_state is None:
                if self.burn_in > 0:
                    chains.run(self.burn_in, seed=_iteration_seed(self.seed, -1), sample_interval=s.dt)
            else:
                chains.restore(network_state)
            disable = False if self.progress else (True if self.progress is False else None)
            with tqdm(
                total=n_iterations,
                initial=self.n_iter_,
                desc="wake-sleep",
                unit="it",
                delay=2.0,
                disable=disable,
                leave=False,
            ) as bar:
                while self.n_iter_ < n_iterations:
                    row = self._iterate(chains, cal, self.n_iter_)
                    self._rows.append(row)
                    self.n_iter_ += 1
                    bar.update(1)
                    if np.isfinite(row["dkl"]):
                        bar.set_postfix(dkl=f"{row['dkl']:.4f}")
                    if self.checkpoint is not None and (
                        self.n_iter_ % self.checkpoint_every == 0 or self.n_iter_ == n_iterations
                    ):
                        self._save(fingerprint, chains.state())
        finally:
            gc.unfreeze()
            chains.close()

    def _batch(self, t: int) -> np.ndarray:
        """Data vectors clamped in iteration ``t`` (one per wake chain)."""
        n, B = len(self._data), self._n_wake
        rng = np.random.default_rng(np.random.SeedSequence(entropy=self.seed, spawn_key=(t + 1, 2)))
        if n <= B:
            order = np.concatenate([rng.permutation(n) for _ in range(-(-B // n))])
            return self._data[order[:B]]
        return self._data[rng.choice(n, size=B, replace=False)]

    def _set_network(self, chains: PersistentChains, cal: Calibration, t: int) -> None:
        s = self.sampler
        free = network_from_boltzmann(self.weights_, self.biases_, cal)
        nets = [free] * self.n_chains
        self._clamped = None
        if self._n_wake:
            helper = _with_network(s, free)
            self._clamped = self._batch(t)
            vis = self._visible.tolist()
            nets += [helper.clamped_network(dict(zip(vis, x.tolist(), strict=True))) for x in self._clamped]
            s.clamp_couplings_ = s.clamp_couplings_ or helper.clamp_couplings_  # measured once
        if s.parameter_noise is not None:
            nets = [s.parameter_noise.apply(n, cal) for n in nets]
        v_thresh = None
        if s.parameter_noise is not None and s.parameter_noise.thresholds > 0:
            v_thresh = np.stack([n.v_thresh for n in nets])
        chains.set_parameters(
            np.stack([n.v_rest for n in nets]),
            np.stack([n.w_exc for n in nets]),
            np.stack([n.w_inh for n in nets]),
            v_thresh,
        )

    def _iterate(self, chains: PersistentChains, cal: Calibration, t: int) -> dict:
        start = time.perf_counter()
        lr = self.rate(t)
        self._set_network(chains, cal, t)
        sal_rate = self._alignment_rate(lr)
        run = chains.run(
            self.duration,
            seed=_iteration_seed(self.seed, t),
            settle=self.settle,
            sample_interval=self.sampler.sample_interval,
            alignment_rate=sal_rate,
        )
        row = self._learn(run, t, lr)
        row["wall_time"] = time.perf_counter() - start
        return row

    def _learn(self, run: ChainRun, t: int, lr: float) -> dict:
        """Update ``W`` and ``b`` from iteration ``t``'s run (sleep chains first); its history row.

        The row lacks ``wall_time``, which the caller adds.
        """
        sleep = run.states[: self.n_chains]
        m_model, c_model = moments(sleep)
        if self._target_moments is not None:
            m_target, c_target = self._target_moments
        else:
            wake = run.states[self.n_chains :].copy()
            wake[:, :, self._visible] = self._clamped[:, None, :]  # the clamped values, exactly
            m_target, c_target = moments(wake)
        dm, dc = m_target - m_model, np.where(self._mask, c_target - c_model, 0.0)
        dkl, dkl_pooled = self._dkl(sleep)
        if np.isfinite(dkl) and (self._best is None or dkl < self._best["dkl"]):  # the network sampled
            self._best = {"dkl": dkl, "iteration": t, "W": self.weights_.copy(), "b": self.biases_.copy()}
        row = {
            "dkl": dkl,
            "dkl_pooled": dkl_pooled,
            "mean_error": float(np.sqrt(np.mean(dm**2))),
            "correlation_error": float(np.sqrt(np.mean(dc[np.triu(self._mask, 1)] ** 2)))
            if np.triu(self._mask, 1).any()
            else 0.0,
            "learning_rate": lr,
            "asymmetry": asymmetry(self.weights_),
        }
        step_W, step_b = self._step(dc, dm, t, lr, sleep)
        step_W = np.where(self._mask, step_W, 0.0)
        largest = max(np.abs(step_W).max(initial=0.0), np.abs(step_b).max(initial=0.0))
        if self.max_step is not None and largest > self.max_step:
            step_W, step_b = step_W * (self.max_step / largest), step_b * (self.max_step / largest)
        self.weights_ = self.weights_ + step_W
        self.biases_ = self.biases_ + step_b
        if run.alignment is not None:
            delta = run.alignment.mean(axis=0)
            i, j = self._pairs[:, 0], self._pairs[:, 1]
            self.weights_[i, j] += delta
            self.weights_[j, i] -= delta
        if self.alignment is not None and self.alignment.window == "rectangular":
            self.weights_ += self._spike_alignment(run, lr)
        return row

    def _alignment_rate(self, lr: float) -> float:
        """SAL's rate in an iteration with learning rate ``lr``: it follows the schedule."""
        if self.alignment is None:
            return 0.0
        lr0 = self.rate(0)
        return self.alignment.rate * (lr / lr0 if lr0 > 0 else 0.0)

    def _spike_alignment(self, run: ChainRun, lr: float) -> np.ndarray:
        """SAL with the rectangular window from the sleep chains' spikes, averaged over chains."""
        K, C = self._mask.shape[0], self.n_chains
        idx, stp = run.spikes
        sleep = idx < C * K
        delta = spike_alignment(
            idx[sleep] % K,
            stp[sleep],
            n_units=K,
            rate=self._alignment_rate(lr),
            tau=self.alignment.tau,
            dt=self.sampler.dt,
            pairing=self.alignment.pairing,
            chain=idx[sleep] // K,
        )
        return np.where(self._mask, delta / C, 0.0)

    def _dkl(self, sleep: np.ndarray) -> tuple[float, float]:
        """DKL of this iteration's sleep samples, and of those of the last ``DKL_WINDOW`` iterations."""
        if self._target is not None:
            p = self._target.probabilities()
            counts = np.bincount(states_to_indices(sleep).ravel(), minlength=p.size)
        elif self._visible.size <= MAX_EXACT_UNITS:
            n_states = 2**self._visible.size
            p = np.bincount(states_to_indices(self._data), minlength=n_states) / len(self._data)
            counts = np.bincount(states_to_indices(sleep[..., self._visible]).ravel(), minlength=n_states)
        else:
            return float("nan"), float("nan")
        self._recent = [*self._recent[-(DKL_WINDOW - 1) :], counts]
        return (
            kl_divergence(p, counts).dkl_target_sampled,
            kl_divergence(p, np.sum(self._recent, axis=0)).dkl_target_sampled,
        )

    def _finish(self, cal: Calibration) -> None:
        s = self.sampler
        self.best_iteration_ = None if self._best is None else self._best["iteration"]
        if self.keep_best and self._best is not None:
            self.weights_, self.biases_ = self._best["W"].copy(), self._best["b"].copy()
        self.network_ = network_from_boltzmann(self.weights_, self.biases_, cal)
        target = s.target
        if self._target is None:  # learned from data: the machine the network encodes
            W, b = lif_to_boltzmann(self.network_, cal, s.interactions_)
            W = (W + W.T) / 2
            if isinstance(s.target, RestrictedBoltzmannMachine):
                nv = s.target.n_visible
                target = RestrictedBoltzmannMachine(W[:nv, nv:], b[:nv], b[nv:])
            else:
                target = BoltzmannMachine(W, b)
        self.sampler_ = _with_network(s, self.network_, target)
        self.history_ = self._history()

    def _history(self) -> xr.Dataset:
        rows = self._rows
        n = len(rows)
        units = {
            "dkl": "nats",
            "dkl_pooled": "nats",
            "mean_error": "",
            "correlation_error": "",
            "learning_rate": "",
            "asymmetry": "",
            "wall_time": "s",
        }
        ds = xr.Dataset(
            {
                k: ("iteration", np.array([r[k] for r in rows], dtype=float), {"units": u})
                for k, u in units.items()
            },
            coords={"iteration": np.arange(n)},
        )
        ds.dkl.attrs["description"] = (
            "DKL(target || sampled) of the iteration's sleep samples"
            if self._target is not None
            else "DKL(data || sampled visible states) of the iteration's sleep samples"
        )
        ds.dkl_pooled.attrs["description"] = (
            f"the same for the sleep samples of the last {DKL_WINDOW} iterations pooled (less noisy, "
            "slightly behind the current network)"
        )
        ds.attrs.update(
            {
                "seed": self.seed,
                "settings": json.dumps(self._settings()),
                "trained_on": "target" if self._target is not None else "data",
            }
        )
        return ds

    # -- checkpoints -------------------------------------------------------------------
    def _settings(self) -> dict:
        sched = (
            self.schedule
            if isinstance(self.schedule, str)
            else getattr(self.schedule, "__name__", "callable")
        )
        return {
            "learning_rate": self.learning_rate,
            "schedule": sched,
            "tau": self.tau,
            "optimizer": self.optimizer,
            "momentum": self.momentum,
            "betas": list(self.betas),
            "damping": self.damping,
            "max_step": self.max_step,
            "n_chains": self.n_chains,
            "n_wake_chains": self._n_wake,
            "duration_ms": self.duration,
            "settle_ms": self.settle,
            "burn_in_ms": self.burn_in,
            "alignment": None if self.alignment is None else self.alignment.to_dict(),
            "seed": self.seed,
            "device": self.device,
        }

    def _fingerprint(self, W0: np.ndarray, b0: np.ndarray) -> str:
        s = self.sampler

        def digest(*arrays: np.ndarray) -> str:
            h = hashlib.sha256()
            for a in arrays:
                h.update(np.ascontiguousarray(a).tobytes())
            return h.hexdigest()[:20]

        what = {
            "settings": self._settings(),
            "sampler": {
                "neuron": s.neuron.to_dict(),
                "noise": s.noise.to_dict(),
                "dt": s.dt,
                "synapses": s.synapses,
                "delay": s.delay,
                "sample_interval": s.sample_interval,
                "calibration": [s.calibration_.v_p05, s.calibration_.alpha],
                "interactions": None if s.interactions_ is None else s.interactions_.to_dict(),
                "parameter_noise": None if s.parameter_noise is None else s.parameter_noise.to_dict(),
            },
            "start": digest(W0, b0),
            "target": None if self._target is None else digest(self._target.W, self._target.b),
            "data": None if self._data is None else digest(self._data, self._visible),
        }
        return content_key(what)

    def _save(self, fingerprint: str, network_state: bytes) -> None:
        state = {
            "schema": CHECKPOINT_SCHEMA,
            "fingerprint": fingerprint,
            "iteration": self.n_iter_,
            "W": self.weights_,
            "b": self.biases_,
            "optimizer": self._opt,
            "network_state": network_state,
            "history": self._rows,
            "recent_counts": self._recent,
            "best": self._best,
            "seed": self.seed,
            "settings": self._settings(),
        }
        with atomic_path(self.checkpoint) as tmp:
            with open(tmp, "wb") as fh:
                pickle.dump(state, fh, protocol=pickle.HIGHEST_PROTOCOL)

    def _load(self, fingerprint: str) -> dict | None:
        if self.checkpoint is None or not self.checkpoint.exists():
            return None
        try:
            with open(self.checkpoint, "rb") as fh:
                state = pickle.load(fh)
        except Exception as exc:
            raise ValueError(f"cannot read checkpoint {os.fspath(self.checkpoint)!r}: {exc}") from None
        if not isinstance(state, dict) or state.get("schema") != CHECKPOINT_SCHEMA:
            raise ValueError(f"{os.fspath(self.checkpoint)!r} is not a WakeSleep checkpoint of this version.")
        if state["fingerprint"] != fingerprint:
            raise ValueError(
                f"checkpoint {os.fspath(self.checkpoint)!r} was written by another training run (different "
                "sampler, target or data, settings or seed); delete it or choose another checkpoint path."
            )
        return state


# -- helpers ----------------------------------------------------------------------------
def _with_network(
    sampler: LIFSampler, network: LIFParameters, target: BoltzmannMachine | None = None
) -> LIFSampler:
    """A sampler with ``sampler``'s settings and calibrations that runs ``network``."""
    return LIFSampler(
        sampler.target if target is None else target,
        neuron=sampler.neuron,
        noise=sampler.noise,
        calibration=sampler.calibration_,
        interactions=sampler.interactions_,
        synapses=sampler.synapses,
        dt=sampler.dt,
        sample_interval=sampler.sample_interval,
        delay=sampler.delay,
        device=sampler.device,
        cache_dir=sampler.cache_dir,
        progress=sampler.progress,
        clamp_strength=sampler.clamp_strength,
        clamp_couplings=sampler.clamp_couplings_,
        network=network,
        parameter_noise=sampler.parameter_noise,
    )


def _positive_number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {value!r}.")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}.")
    return float(value)


def fine_tune(sampler: LIFSampler, *, n_iterations: int = 100, **kwargs: Any) -> LIFSampler:
    """Train ``sampler``'s network on its own target; return a sampler that runs the result.

    The one-call form of ``WakeSleep(sampler, **kwargs).fit(n_iterations=...)``:
    starting from the translated network (interaction calibration included),
    wake–sleep learning with the exact target moments removes the systematic
    error of the translation (and compensates ``sampler.parameter_noise``).
    Use :class:`WakeSleep` directly for the learning curve (``history_``).

    Parameters
    ----------
    sampler : LIFSampler
    n_iterations : int
    **kwargs
        Settings of :class:`WakeSleep` (``learning_rate``, ``duration``, ``seed``, …).

    Returns
    -------
    LIFSampler
        Same settings as ``sampler``, running the learned network.

    Examples
    --------
    >>> import lifsampling as ls
    >>> bm = ls.random_boltzmann_machine(5, seed=3)
    >>> tuned = ls.fine_tune(ls.LIFSampler(bm), seed=1)              # doctest: +SKIP
    >>> ls.kl_divergence(bm, tuned.sample(12_500.0, n_chains=8))     # doctest: +SKIP
    """
    return WakeSleep(sampler, **kwargs).fit(n_iterations=n_iterations).sampler_
