"""Sampler backends: where the ``(v, h)`` samples of an RBM come from.

Every backend has one method, ``sample(model, n_samples, seed=...)``, and
returns :class:`Samples` — visible and hidden states with a weight per sample —
so that the drivers of :mod:`quantum` work unchanged on

* :class:`ExactBackend` — i.i.d. draws from the exact distribution (``v`` from the
  enumerated visible marginal, ``h`` from ``p(h | v)``), or with
  ``enumerate=True`` no draws at all: every visible state weighted by its exact
  probability and ``h`` replaced by ``E[h | v]``, which turns every estimator
  of the drivers into its exact expectation (tests, and separating sampling
  error from ansatz error);
* :class:`GibbsBackend` — :class:`lifsampling.GibbsSampler` chains;
* :class:`LIFBackend` — :class:`lifsampling.LIFSampler`, a network of spiking LIF
  neurons, as on the neuromorphic chips of Czischek et al. (SciPost Phys. 12,
  039, 2022) and Klassert et al. (iScience 25, 104707, 2022).

Examples
--------
>>> from quantum import RBM, ExactBackend, GibbsBackend
>>> rbm = RBM.random(4, 2, seed=0)
>>> s = ExactBackend().sample(rbm, 1000, seed=1)
>>> s.visible.shape, s.hidden.shape, s.visible.dtype
((1000, 4), (1000, 2), dtype('int8'))
>>> g = GibbsBackend(n_chains=10).sample(rbm, 1000, seed=1)
>>> g.visible.shape
(1000, 4)
"""

from __future__ import annotations

import inspect
import math
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import numpy as np

import lifsampling as ls
from lifsampling import all_states, states_to_indices
from lifsampling._network import repeated_run_device
from lifsampling._seeding import derive_seed, make_rng

from .models import RBM

__all__ = ["Samples", "Backend", "ExactBackend", "GibbsBackend", "LIFBackend"]


@dataclass(frozen=True)
class Samples:
    """Samples of an RBM from a backend.

    Attributes
    ----------
    visible : numpy.ndarray, shape (S, n_visible)
        0/1 visible states (``int8``).
    hidden : numpy.ndarray, shape (S, n_hidden)
        0/1 hidden states (``int8``); for an enumeration the conditional means
        ``E[h | v]`` (float).
    weights : numpy.ndarray, shape (S,)
        Weight of each sample, summing to 1 (``1/S`` for draws, ``p(v)`` for an enumeration).
    exact : bool
        True for an enumeration (weights are exact probabilities, no sampling noise).
    wall_time : float
        Seconds the backend took.
    """

    visible: np.ndarray
    hidden: np.ndarray
    weights: np.ndarray
    exact: bool = False
    wall_time: float = 0.0

    @property
    def n_samples(self) -> int:
        return int(self.visible.shape[0])

    def visible_indices(self) -> np.ndarray:
        """State index of each visible sample (unit 0 most significant)."""
        return states_to_indices(self.visible)

    def visible_distribution(self) -> np.ndarray:
        """Weighted histogram of the visible states over all ``2**n_visible`` states."""
        n = self.visible.shape[1]
        if n > 20:
            raise ValueError(f"a histogram over 2**{n} visible states is too large (limit 20 units).")
        return np.bincount(self.visible_indices(), weights=self.weights, minlength=2**n)


def _check_n_samples(n_samples) -> int:
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
        raise ValueError(f"n_samples must be an integer >= 1, got {n_samples!r}.")
    return int(n_samples)


def _check_model(model) -> RBM:
    if not isinstance(model, RBM):
        raise TypeError(f"model must be a quantum.RBM, got {type(model).__name__}.")
    return model


def _draws(states: np.ndarray, n_visible: int, exact: bool, wall: float) -> Samples:
    states = np.asarray(states, dtype=np.int8).reshape(-1, states.shape[-1])
    n = states.shape[0]
    return Samples(states[:, :n_visible], states[:, n_visible:], np.full(n, 1.0 / n), exact, wall)


class Backend(ABC):
    """Interface of the sampler backends: ``sample(model, n_samples, seed=...) -> Samples``."""

    #: Short name recorded in the drivers' logs.
    name: str = "backend"

    @abstractmethod
    def sample(self, model: RBM, n_samples: int, *, seed: int | np.random.Generator | None = None) -> Samples:
        """Draw (at least) ``n_samples`` samples ``(v, h)`` of ``model``."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class ExactBackend(Backend):
    """Exact samples of an RBM (visible units enumerated, at most 20 of them).

    Parameters
    ----------
    enumerate : bool
        False (default): ``n_samples`` i.i.d. draws, ``v ~ p(v)`` and then
        ``h ~ p(h | v)``.  True: every visible state once, weighted by ``p(v)``,
        with ``h = E[h | v]``; ``n_samples`` and ``seed`` are ignored and the
        drivers' estimators become exact expectations.

    Examples
    --------
    >>> from quantum import RBM
    >>> s = ExactBackend(enumerate=True).sample(RBM.random(3, 2, seed=0), 1)
    >>> s.n_samples, s.exact, round(float(s.weights.sum()), 12)
    (8, True, 1.0)
    """

    def __init__(self, *, enumerate: bool = False) -> None:
        self.enumerate = bool(enumerate)
        self.name = "exact-enumeration" if self.enumerate else "exact"

    def __repr__(self) -> str:
        return f"ExactBackend(enumerate={self.enumerate})"

    def sample(self, model: RBM, n_samples: int, *, seed: int | np.random.Generator | None = None) -> Samples:
        model = _check_model(model)
        t0 = time.perf_counter()
        p = model.visible_probabilities()
        if self.enumerate:
            v = all_states(model.n_visible)
            return Samples(v, model.hidden_means(v), p, True, time.perf_counter() - t0)
        n = _check_n_samples(n_samples)
        rng = make_rng(seed)
        idx = rng.choice(p.size, size=n, p=p / p.sum())
        v = all_states(model.n_visible)[idx]
        h = (rng.random((n, model.n_hidden)) < model.hidden_means(v)).astype(np.int8)
        return Samples(v, h, np.full(n, 1.0 / n), False, time.perf_counter() - t0)


class GibbsBackend(Backend):
    """Gibbs chains of :class:`lifsampling.GibbsSampler` on the RBM's Boltzmann machine.

    ``n_chains`` chains run ``burn_in`` sweeps, then ``⌈n_samples / n_chains⌉ × thin``
    sweeps of which every ``thin``-th is kept; each call starts fresh chains
    from random states.  Consecutive draws of a chain are correlated.

    Parameters
    ----------
    n_chains : int
        Parallel chains (vectorised).
    burn_in : int
        Discarded sweeps per chain.
    thin : int
        Keep one sweep in ``thin``.

    Examples
    --------
    >>> from quantum import RBM
    >>> GibbsBackend(n_chains=4, burn_in=10).sample(RBM.random(3, 2, seed=0), 10, seed=0).n_samples
    12
    """

    name = "gibbs"

    def __init__(self, *, n_chains: int = 100, burn_in: int = 50, thin: int = 1) -> None:
        for label, value, minimum in (("n_chains", n_chains, 1), ("burn_in", burn_in, 0), ("thin", thin, 1)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
                raise ValueError(f"{label} must be an integer >= {minimum}, got {value!r}.")
        self.n_chains, self.burn_in, self.thin = int(n_chains), int(burn_in), int(thin)

    def __repr__(self) -> str:
        return f"GibbsBackend(n_chains={self.n_chains}, burn_in={self.burn_in}, thin={self.thin})"

    def sample(self, model: RBM, n_samples: int, *, seed: int | np.random.Generator | None = None) -> Samples:
        model = _check_model(model)
        n_draws = math.ceil(_check_n_samples(n_samples) / self.n_chains)
        t0 = time.perf_counter()
        # one sweep = 1 "ms": durations below count sweeps
        sampler = ls.GibbsSampler(model.to_boltzmann(), sweep_time=1.0)
        result = sampler.sample(
            float(n_draws * self.thin), n_chains=self.n_chains, seed=seed, burn_in=float(self.burn_in)
        )
        states = result.states.values[:, self.thin - 1 :: self.thin]
        return _draws(states, model.n_visible, False, time.perf_counter() - t0)


class LIFBackend(Backend):
    """Spiking samples: a fresh :class:`lifsampling.LIFSampler` for every parameter set.

    The RBM becomes a :class:`lifsampling.RestrictedBoltzmannMachine` whose
    biases and weights the sampler translates into leak potentials and
    synaptic weights.  The first call calibrates (or loads the cached
    calibrations); later calls reuse its ``calibration_`` and ``interactions_``,
    so only the network is rebuilt.  Draws are read every ``sample_interval``
    (a sampler option, 1 ms by default) and are correlated over about one
    refractory period (10 ms).

    Drivers call the backend hundreds of times with one network structure,
    so unless ``device`` is given (or ``LIFSAMPLING_DEVICE`` is set) the
    backend runs on ``"cpp_standalone"`` whenever the fast path suits the
    noise and a compiler is present: the project is built once (~6–20 s) and
    every later call only passes new weights, leak potentials and a seed to
    the binary.  For the runs of ``benchmarks/quantum_study.py`` that is
    3–4x faster per call than Cython (0.24 s per 10^4 draws of a 26-unit
    network; ~1.3 s per 2x10^5 draws of a 12-unit one).

    Parameters
    ----------
    n_chains : int
        Independent network copies simulated together.
    burn_in : float
        Discarded time per chain [ms].
    **sampler_options
        Passed to :class:`lifsampling.LIFSampler` (``neuron``, ``noise``,
        ``calibration``, ``interactions``, ``synapses``, ``dt``,
        ``sample_interval``, ``device``, ``cache_dir``, ``progress``, …).

    Attributes
    ----------
    calibration_, interactions_
        Calibrations in use after the first call (None before).
    last_sampler_ : lifsampling.LIFSampler or None
        The sampler of the latest call.

    Examples
    --------
    >>> backend = LIFBackend(n_chains=8, interactions=None, progress=False)
    >>> s = backend.sample(RBM.random(4, 2, seed=0), 8000, seed=1)  # doctest: +SKIP
    """

    name = "lif"

    def __init__(self, *, n_chains: int = 8, burn_in: float = 500.0, **sampler_options: Any) -> None:
        if isinstance(n_chains, bool) or not isinstance(n_chains, (int, np.integer)) or n_chains < 1:
            raise ValueError(f"n_chains must be an integer >= 1, got {n_chains!r}.")
        if not np.isfinite(burn_in) or burn_in < 0:
            raise ValueError(f"burn_in must be a non-negative number of ms, got {burn_in!r}.")
        params = inspect.signature(ls.LIFSampler.__init__).parameters
        unknown = sorted(set(sampler_options) - (set(params) - {"self", "target"}))
        if unknown:
            valid = sorted(set(params) - {"self", "target"})
            raise ValueError(f"unknown LIFSampler option(s) {unknown}; valid options: {valid}.")
        self.n_chains, self.burn_in = int(n_chains), float(burn_in)
        self.sampler_options = dict(sampler_options)
        device = None if "device" in sampler_options else repeated_run_device(sampler_options.get("noise"))
        if device is not None:  # a driver reruns one structure hundreds of times: build once
            self.sampler_options["device"] = device
        self.calibration_ = sampler_options.get("calibration")
        self.interactions_ = sampler_options.get("interactions", "calibrate")
        self.last_sampler_: ls.LIFSampler | None = None

    def __repr__(self) -> str:
        opts = "".join(f", {k}={v!r}" for k, v in self.sampler_options.items() if k != "calibration")
        return f"LIFBackend(n_chains={self.n_chains}, burn_in={self.burn_in}{opts})"

    def make_sampler(self, model: RBM) -> ls.LIFSampler:
        """The LIF sampler of ``model``, sharing the calibrations of earlier calls."""
        opts = dict(self.sampler_options)
        if self.calibration_ is not None:
            opts["calibration"] = self.calibration_
            opts["interactions"] = self.interactions_
        return ls.LIFSampler(model.to_boltzmann(), **opts)

    def sample(self, model: RBM, n_samples: int, *, seed: int | np.random.Generator | None = None) -> Samples:
        model = _check_model(model)
        n_draws = math.ceil(_check_n_samples(n_samples) / self.n_chains)
        t0 = time.perf_counter()
        sampler = self.make_sampler(model)
        result = sampler.sample(
            n_draws * sampler.sample_interval,
            n_chains=self.n_chains,
            seed=derive_seed(seed),
            burn_in=self.burn_in,
        )
        self.calibration_, self.interactions_ = sampler.calibration_, sampler.interactions_
        self.last_sampler_ = sampler
        return _draws(result.states.values, model.n_visible, False, time.perf_counter() - t0)
