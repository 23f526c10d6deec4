"""Sampling networks as each other's noise (Dold et al. 2019), and running many networks together.

Dold et al. (2019, Neural Networks 119, 200) showed that an ensemble of
sampling networks needs no Poisson input at all: each network uses the spikes
of the others as its background.  :class:`EnsembleNoise` is that background:
every sampling neuron receives ``K`` synapses from neurons of *other*
networks (chains), ``round(γ K)`` of them excitatory (weight ``w``) and the
rest inhibitory (weight ``g w``), the sign drawn per connection (sampling
neurons have no fixed E/I identity).  Random signs make the shared-input
correlations of two neurons average out; cross-correlations that remain act
like extra couplings, and the autocorrelated, refractory spike trains change
the activation function; the paper absorbs both with wake–sleep training
(:func:`train_ensemble`).

Calibration: the ensemble's activity depends on the network it drives, so it
cannot be calibrated on unconnected neurons.  :meth:`EnsembleNoise.calibration_noise`
returns private Poisson noise with the same mean input
(``round(γ K)·ν̄`` Hz at ``w`` and ``(K − round(γ K))·ν̄`` Hz at ``g w``, with
``ν̄ = expected_rate``); the translation therefore assumes Poisson statistics.

:func:`sample_together` runs several targets' chains in one Brian2 network
sharing one noise source (the study's way of serving many sampling neurons from
one pool or noise network); :func:`sample_ensemble` does that with an
:class:`EnsembleNoise` and returns one result per network.

Training under the noise the networks really get: :func:`train_together` runs
wake–sleep learning (:class:`lifsampling.WakeSleep`, Dold et al. 2019) on the
networks of several targets *at once*, in the one simulation (and with the
same neuron-to-noise wiring) that :func:`sample_together` will later use, so
each network learns to compensate the shared-noise correlations and the
non-Poisson statistics it meets there; :func:`train_ensemble` does it for an
ensemble, where every network is trained while it is driven by the others.
A single sampler needs nothing special: ``lifsampling.fine_tune(LIFSampler(bm,
noise=NetworkNoise(...)))`` trains its chains under the shared noise network.
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from lifsampling._units import count as check_count
from lifsampling.neurons import NeuronParameters
from lifsampling.noise import InputComponent, NoiseSource, PoissonNoise, input_variables

from ._common import check_fraction, check_positive, check_seed

if TYPE_CHECKING:
    from lifsampling import LIFSampler, WakeSleep

__all__ = ["EnsembleNoise", "sample_ensemble", "sample_together", "train_ensemble", "train_together"]


class EnsembleNoise(NoiseSource):
    """Background from the spikes of the other sampling networks in the same simulation.

    Use it with ``LIFSampler(target, noise=EnsembleNoise(n_units=target.n_units, ...))``
    and ``n_chains`` ≥ 2: every chain is one network of the ensemble, driven
    only by the others (no Poisson input).  :func:`sample_ensemble` runs an
    ensemble of different targets.  At the start every neuron's synaptic
    conductances are set to their expected mean values (initial conditions
    that start the activity; nothing stochastic is added afterwards).

    Parameters
    ----------
    n_units : int
        Neurons per network: neuron ``j`` belongs to network ``j // n_units``
        and reads only from other networks.
    in_degree : int
        ``K`` inputs per neuron; needs ``K <= n_units · (n_networks − 1)``.
        Small ensembles with few inputs freeze: in our runs 40 networks of 5
        units with ``K = 40`` locked into fixed states, with ``K = 80`` they sampled.
    exc_fraction : float
        ``γ`` in [0, 1], fraction of excitatory connections.
    weight : float, optional
        ``w`` [µS for ``cond_exp``, nA for ``curr_exp``], >= 0.  Default: the
        mean excitatory conductance of the sbs background,
        ``round(γ K) ν̄ w = 3000 Hz × 1 nS``.
    g : float
        Inhibitory weight relative to ``w`` (> 0).
    expected_rate : float
        ``ν̄``, the expected mean firing rate of a sampling neuron [Hz] (> 0),
        about ``p̄_on / τ_ref``: sets the Poisson stand-in used for calibration
        and the initial conductances.
    seed : int
        Drives the connectivity.

    Examples
    --------
    >>> ens = EnsembleNoise(n_units=5, in_degree=40, seed=2)
    >>> ens.calibration_noise()            # the same mean input from private Poisson sources
    PoissonNoise(rate_exc=1000, rate_inh=1000, weight_exc=0.003, weight_inh=0.003)
    """

    def __init__(
        self,
        n_units: int,
        in_degree: int = 80,
        *,
        exc_fraction: float = 0.5,
        weight: float | None = None,
        g: float = 1.0,
        expected_rate: float = 50.0,
        seed: int = 0,
    ) -> None:
        self.n_units = check_count(n_units, "n_units")
        self.in_degree = check_count(in_degree, "in_degree")
        self.exc_fraction = check_fraction(exc_fraction, "exc_fraction")
        self.g = check_positive(g, "g", "(relative inhibitory weight)")
        self.expected_rate = check_positive(expected_rate, "expected_rate", "Hz")
        self.seed = check_seed(seed)
        self.n_in_exc = int(round(self.exc_fraction * self.in_degree))
        if weight is None:  # the sbs background's mean excitatory conductance, 3000 Hz x 1 nS
            weight = 3.0 / (max(self.n_in_exc, 1) * self.expected_rate)
        self.weight = check_positive(weight, "weight", "µS (or nA)", allow_zero=True)

    def __repr__(self) -> str:
        return (
            f"EnsembleNoise(n_units={self.n_units}, in_degree={self.in_degree}, "
            f"exc_fraction={self.exc_fraction:g}, weight={self.weight:g}, g={self.g:g}, "
            f"expected_rate={self.expected_rate:g}, seed={self.seed})"
        )

    def to_dict(self) -> dict:
        return {
            "kind": "EnsembleNoise",
            "n_units": self.n_units,
            "in_degree": self.in_degree,
            "exc_fraction": self.exc_fraction,
            "weight": self.weight,
            "g": self.g,
            "expected_rate": self.expected_rate,
            "seed": self.seed,
        }

    def calibration_noise(self) -> PoissonNoise:
        """Private Poisson noise with the ensemble's expected mean input."""
        k_e, k_i = self.n_in_exc, self.in_degree - self.n_in_exc
        nu = self.expected_rate
        return PoissonNoise(k_e * nu, k_i * nu, self.weight, self.g * self.weight)

    def input_components(self, neuron: NeuronParameters) -> list[InputComponent]:
        return self.calibration_noise().input_components(neuron)

    def connectivity(self, n_neurons: int) -> tuple[np.ndarray, np.ndarray]:
        """``(sources, excitatory)``: arrays (n_neurons, K) of source indices and connection signs."""
        n_neurons = check_count(n_neurons, "n_neurons")
        if n_neurons % self.n_units:
            raise ValueError(f"{n_neurons} neurons are not a whole number of {self.n_units}-unit networks.")
        n_nets = n_neurons // self.n_units
        available = self.n_units * (n_nets - 1)
        if self.in_degree > available:
            raise ValueError(
                f"in_degree K = {self.in_degree} exceeds the {available} neurons of the other "
                f"{n_nets - 1} network(s); run more chains (networks) or lower K."
            )
        rng = np.random.default_rng([self.seed, 5])
        sources = np.empty((n_neurons, self.in_degree), dtype=np.int64)
        for j in range(n_neurons):
            net = j // self.n_units
            pick = rng.choice(available, self.in_degree, replace=False)
            sources[j] = pick + np.where(pick >= net * self.n_units, self.n_units, 0)
        exc = np.zeros((n_neurons, self.in_degree), dtype=bool)
        order = np.argsort(np.random.default_rng([self.seed, 6]).random((n_neurons, self.in_degree)), axis=1)
        np.put_along_axis(exc, order[:, : self.n_in_exc], True, axis=1)
        return sources, exc

    def signed_weights(self, n_targets: int) -> tuple[np.ndarray, np.ndarray]:
        """Signed weight matrix (n_targets × n_targets) and nominal rates (``expected_rate``)."""
        src, exc = self.connectivity(n_targets)
        m = np.zeros((n_targets, n_targets))
        rows = np.arange(n_targets)[:, None]
        m[rows, src] = np.where(exc, self.weight, -self.g * self.weight)
        return m, np.full(n_targets, self.expected_rate)

    def build(self, group: Any, neuron: NeuronParameters) -> list:
        import brian2 as b2

        src, exc = self.connectivity(len(group))
        e_var, i_var = input_variables(neuron)
        unit = b2.uS if neuron.conductance_based else b2.nA
        unit_name = "siemens" if neuron.conductance_based else "amp"
        post = np.repeat(np.arange(len(group)), self.in_degree)
        syn = b2.Synapses(
            group,
            group,
            model=f"w_ens_e : {unit_name} (constant)\nw_ens_i : {unit_name} (constant)",
            on_pre=f"{e_var}_post += w_ens_e\n{i_var}_post += w_ens_i",
            delay=0.1 * b2.ms,
            clock=group.clock,
            name="noise_ensemble",
        )
        syn.connect(i=src.ravel(), j=post)
        flat = exc.ravel()
        syn.w_ens_e = np.where(flat, self.weight, 0.0) * unit
        syn.w_ens_i = np.where(flat, 0.0, self.g * self.weight) * unit
        # Initial conditions that start the activity (nothing stochastic is added later):
        # excitatory conductances drawn uniformly from [0, 3 × mean], inhibitory from [0, mean],
        # so that part of the neurons starts above threshold.
        nu = self.expected_rate * 1e-3
        g_e = self.n_in_exc * nu * neuron.tau_syn_E * self.weight
        g_i = (self.in_degree - self.n_in_exc) * nu * neuron.tau_syn_I * self.g * self.weight
        rng = np.random.default_rng([self.seed, 7])
        setattr(group, e_var, rng.uniform(0.0, 3.0 * g_e, len(group)) * unit)
        setattr(group, i_var, rng.uniform(0.0, g_i, len(group)) * unit)
        return [syn]


def _samplers(
    targets: Sequence[Any],
    noise: NoiseSource,
    *,
    calibration_kwargs: dict | None,
    cache_dir: str | os.PathLike | None,
    progress: bool | None,
    sampler_kwargs: dict,
) -> list[LIFSampler]:
    """One calibrated sampler per target (same size) under ``noise``, sharing one calibration.

    Items that are already :class:`lifsampling.LIFSampler` objects are used as
    they are (they must use ``noise`` and agree on neuron, dt, synapses, delay
    and sampling interval).
    """
    from lifsampling import LIFSampler

    if not targets:
        raise ValueError("targets must hold at least one Boltzmann machine.")
    given = [isinstance(t, LIFSampler) for t in targets]
    if any(given) and not all(given):
        raise TypeError("targets must be all Boltzmann machines or all LIFSamplers, not a mix.")
    n_units = {(t.target if g else t).n_units for t, g in zip(targets, given, strict=True)}
    if len(n_units) != 1:
        raise ValueError(f"all targets must have the same number of units, got {sorted(n_units)}.")
    if all(given):
        if sampler_kwargs:
            raise TypeError(
                f"sampler settings {sorted(sampler_kwargs)} cannot be applied to given LIFSamplers; "
                "set them when making the samplers."
            )
        samplers = list(targets)
        first = samplers[0]

        def settings(s: LIFSampler) -> tuple:
            return (s.neuron.to_dict(), s.dt, s.synapses, s.delay, s.sample_interval)

        for s in samplers:
            if s.noise != noise:
                raise ValueError(f"every sampler must use the shared noise {noise!r}, got {s.noise!r}.")
            if settings(s) != settings(first):
                raise ValueError(
                    "the samplers must agree on neuron, dt, synapses, delay and sample_interval to run "
                    "in one simulation."
                )
            if s.lif_parameters_ is None:
                s.calibrate(**(calibration_kwargs or {}))
        return samplers
    samplers = [
        LIFSampler(t, noise=noise, cache_dir=cache_dir, progress=progress, **sampler_kwargs) for t in targets
    ]
    first = samplers[0]
    cal = first.calibrate(**(calibration_kwargs or {}))
    for s in samplers[1:]:
        s.interactions = first.interactions_  # None: the analytic translation, like the first
        s._use_calibration(cal)
    return samplers


def sample_together(
    targets: Sequence[Any],
    noise: NoiseSource,
    duration: float,
    *,
    n_chains: int = 8,
    seed: int = 0,
    burn_in: float = 500.0,
    calibration_kwargs: dict | None = None,
    cache_dir: str | os.PathLike | None = None,
    progress: bool | None = False,
    **sampler_kwargs: Any,
) -> list[xr.Dataset]:
    """Sample several Boltzmann machines (same size) in one simulation that shares ``noise``.

    Each target gets ``n_chains`` chains; all ``len(targets) · n_chains ·
    n_units`` sampling neurons are served by the one noise source (one pool,
    one noise network, or each other).  Every target is translated by its own
    :class:`lifsampling.LIFSampler` with the shared calibration (measured, or
    loaded from the cache, under ``noise.calibration_noise()``).  Chain ``c``
    of target ``k`` is chain ``k · n_chains + c`` of the simulation, the
    layout :func:`train_together` trains in.

    Parameters
    ----------
    targets : sequence of BoltzmannMachine or of LIFSampler
        All with the same number of units.  LIFSamplers (e.g. the
        ``sampler_`` of trainers from :func:`train_together`) run their own
        network and must use ``noise``.
    noise : NoiseSource
    duration : float
        Sampled time per chain after ``burn_in`` [ms].
    n_chains : int
        Chains per target.
    seed : int
        Simulation seed (initial conditions and Poisson noise).
    calibration_kwargs : dict, optional
        Passed to :meth:`lifsampling.LIFSampler.calibrate` (e.g. shorter calibrations).
    **sampler_kwargs
        Passed to every :class:`lifsampling.LIFSampler` (``neuron``, ``dt``, ``synapses``, …).

    Returns
    -------
    list of xarray.Dataset
        One result per target (dims ``chain, draw, unit``), in order.

    Examples
    --------
    >>> import lifsampling as ls                                        # doctest: +SKIP
    >>> bms = [ls.random_boltzmann_machine(5, seed=s) for s in range(5)]  # doctest: +SKIP
    >>> runs = sample_together(bms, NetworkNoise(300), 10_000.0)          # doctest: +SKIP
    """
    from lifsampling._seeding import derive_seed
    from lifsampling.results import make_result
    from lifsampling.sampler import run_chains

    samplers = _samplers(
        targets,
        noise,
        calibration_kwargs=calibration_kwargs,
        cache_dir=cache_dir,
        progress=progress,
        sampler_kwargs=sampler_kwargs,
    )
    n_chains = check_count(n_chains, "n_chains")
    first = samplers[0]
    cal = first.calibration_
    lifs = [s.lif_parameters_ for s in samplers]
    rep = np.repeat(np.arange(len(samplers)), n_chains)
    sim_seed = derive_seed(seed)
    states = run_chains(
        first.neuron,
        noise,
        np.stack([lifs[k].v_rest for k in rep]),
        np.stack([lifs[k].w_exc for k in rep]),
        np.stack([lifs[k].w_inh for k in rep]),
        duration=float(duration),
        burn_in=float(burn_in),
        seed=sim_seed,
        dt=first.dt,
        sample_interval=first.sample_interval,
        synapses=first.synapses,
        delay=first.delay,
        device=first.device,
        cache_dir=cache_dir,
        progress=progress,
    )
    results = []
    for k, sampler in enumerate(samplers):
        results.append(
            make_result(
                states[rep == k],
                sample_interval=first.sample_interval,
                sampler="lif",
                target=sampler.target,
                attrs={
                    "seed": sim_seed,
                    "dt_ms": first.dt,
                    "tau_refrac_ms": first.neuron.tau_refrac,
                    "burn_in_ms": float(burn_in),
                    "synapses": first.synapses,
                    "noise": noise.to_dict(),
                    "calibration": {"v_p05": cal.v_p05, "alpha": cal.alpha, "dt": cal.dt},
                    "shared_simulation": {"n_targets": len(samplers), "index": k, "n_chains_each": n_chains},
                    "lif_v_rest_mV": sampler.lif_parameters_.v_rest.tolist(),
                },
            )
        )
    return results


def sample_ensemble(
    targets: Sequence[Any],
    duration: float,
    *,
    n_copies: int = 1,
    noise: EnsembleNoise | None = None,
    **kwargs: Any,
) -> list[xr.Dataset]:
    """Run an ensemble of sampling networks driven only by each other; one result per target.

    ``targets`` are Boltzmann machines or LIFSamplers (e.g. trained by
    :func:`train_ensemble`).  ``n_copies`` networks sample each target (``len(targets) · n_copies``
    networks in all, at least 2); every network reads its background from
    the others through ``noise`` (default ``EnsembleNoise(n_units)``).  Other
    keyword arguments go to :func:`sample_together`.

    References
    ----------
    Dold, Bytschok, Kungl, Baumbach, Breitwieser, Senn, Schemmel, Meier,
    Petrovici (2019), Stochasticity from function, Neural Networks 119, 200.

    Examples
    --------
    >>> import lifsampling as ls                                            # doctest: +SKIP
    >>> bms = [ls.random_boltzmann_machine(5, seed=s) for s in range(5)]    # doctest: +SKIP
    >>> runs = sample_ensemble(bms, 10_000.0, n_copies=8)                   # doctest: +SKIP
    >>> [ls.kl_divergence(b, r).dkl_target_sampled for b, r in zip(bms, runs)]  # doctest: +SKIP
    """
    noise = _ensemble_noise(targets, n_copies, noise)
    return sample_together(targets, noise, duration, n_chains=n_copies, **kwargs)


def _ensemble_noise(targets: Sequence[Any], n_copies: int, noise: EnsembleNoise | None) -> EnsembleNoise:
    """``noise`` (default ``EnsembleNoise(n_units)``) after checking that it fits the ensemble."""
    from lifsampling import LIFSampler

    if not targets:
        raise ValueError("targets must hold at least one Boltzmann machine.")
    n_copies = check_count(n_copies, "n_copies")
    first = targets[0].target if isinstance(targets[0], LIFSampler) else targets[0]
    n_units = first.n_units
    noise = EnsembleNoise(n_units) if noise is None else noise
    if not isinstance(noise, EnsembleNoise):
        raise TypeError(f"noise must be an EnsembleNoise, got {type(noise).__name__}.")
    if noise.n_units != n_units:
        raise ValueError(f"noise.n_units ({noise.n_units}) must equal the targets' size ({n_units}).")
    if len(targets) * n_copies < 2:
        raise ValueError("an ensemble needs at least 2 networks (targets × n_copies).")
    return noise


def train_together(
    targets: Sequence[Any],
    noise: NoiseSource,
    *,
    n_iterations: int = 100,
    n_chains: int = 8,
    seed: int = 0,
    calibration_kwargs: dict | None = None,
    cache_dir: str | os.PathLike | None = None,
    progress: bool | None = False,
    wake_sleep: dict | None = None,
    **sampler_kwargs: Any,
) -> list[WakeSleep]:
    """Wake–sleep-train several targets' networks together, in one simulation sharing ``noise``.

    The networks (``n_chains`` persistent chains per target, laid out as in
    :func:`sample_together`, so every sampling neuron reads the same noise
    sources in training and in sampling) run in one live Brian2 network.
    Every iteration runs all of them at once for ``settle + duration`` ms;
    each target's :class:`lifsampling.WakeSleep` then updates its own weights
    and biases from its own chains' moments against its exact target moments
    (its optimizer, schedule and history are its own).  The networks thereby
    learn under the noise they really get: the correlated input of a shared
    pool or noise network (Jordan et al. 2019), or, with
    :class:`EnsembleNoise`, the spikes of the other networks, which change
    while those networks learn (Dold et al. 2019).

    Parameters
    ----------
    targets : sequence of BoltzmannMachine or of LIFSampler
        As for :func:`sample_together`; every unit is visible (exact target
        moments, like :func:`lifsampling.fine_tune`).
    noise : NoiseSource
        Shared by all chains of all targets.
    n_iterations : int
        Wake–sleep iterations (>= 1).
    n_chains : int
        Chains (networks) per target; a target's chains share its parameters.
        ``n_chains=1`` with a target repeated gives every network its own.
    seed : int
        Drives the initial states and every iteration's simulator seed.
    calibration_kwargs : dict, optional
        Passed to :meth:`lifsampling.LIFSampler.calibrate`.
    progress : bool, optional
        Show a progress bar over iterations.
    wake_sleep : dict, optional
        Settings of :class:`lifsampling.WakeSleep` (``learning_rate``,
        ``optimizer``, ``duration`` [ms], ``settle`` [ms], ``burn_in`` [ms], …);
        not ``n_chains``, ``seed``, ``alignment``, ``n_wake_chains`` or
        ``checkpoint``.
    **sampler_kwargs
        Passed to every :class:`lifsampling.LIFSampler` (``neuron``, ``dt``, …).

    Returns
    -------
    list of lifsampling.WakeSleep
        One fitted trainer per target: learned parameters (``weights_``,
        ``biases_``, ``network_``), learning curve (``history_``; its
        ``wall_time`` is that of the whole joint iteration) and ``sampler_``,
        which :func:`sample_together` runs with the same ``noise`` and ``n_chains``.

    References
    ----------
    Dold, Bytschok, Kungl, Baumbach, Breitwieser, Senn, Schemmel, Meier,
    Petrovici (2019), Stochasticity from function, Neural Networks 119, 200.
    Jordan, Petrovici, Breitwieser, Schemmel, Meier, Diesmann, Tetzlaff (2019),
    Deterministic networks for probabilistic computing, Sci. Rep. 9, 18303.

    Examples
    --------
    >>> import lifsampling as ls                                              # doctest: +SKIP
    >>> bms = [ls.random_boltzmann_machine(5, seed=s) for s in range(5)]      # doctest: +SKIP
    >>> noise = NetworkNoise(300, in_degree=30, seed=1)                        # doctest: +SKIP
    >>> trained = train_together(bms, noise, n_iterations=60, n_chains=8)      # doctest: +SKIP
    >>> runs = sample_together([t.sampler_ for t in trained], noise, 10_000.0) # doctest: +SKIP
    """
    from lifsampling import WakeSleep
    from lifsampling._persistent import ChainRun, PersistentChains
    from lifsampling.learning import _iteration_seed, network_from_boltzmann

    n_iterations = check_count(n_iterations, "n_iterations")
    n_chains = check_count(n_chains, "n_chains")
    seed = check_seed(seed)
    settings = dict(wake_sleep or {})
    refused = sorted(set(settings) & {"n_chains", "seed", "alignment", "n_wake_chains", "checkpoint"})
    if refused:
        raise ValueError(
            f"wake_sleep settings {refused} are set by train_together (n_chains, seed) or not supported "
            "in joint training (alignment, n_wake_chains, checkpoint); remove them."
        )
    samplers = _samplers(
        targets,
        noise,
        calibration_kwargs=calibration_kwargs,
        cache_dir=cache_dir,
        progress=progress,
        sampler_kwargs=sampler_kwargs,
    )
    for s in samplers:
        if s.parameter_noise is not None:
            raise ValueError(
                "train_together does not support parameter_noise; train such samplers one by one."
            )
    trainers = [WakeSleep(s, n_chains=n_chains, seed=seed, progress=False, **settings) for s in samplers]
    cals = [tr._prepare(None, None, None)[0] for tr in trainers]
    first, lead = samplers[0], trainers[0]
    K, C, T = first.target.n_units, n_chains, len(trainers)

    def set_networks(chains: PersistentChains) -> None:
        nets = [
            network_from_boltzmann(tr.weights_, tr.biases_, cal)
            for tr, cal in zip(trainers, cals, strict=True)
        ]
        rep = np.repeat(np.arange(T), C)
        chains.set_parameters(
            np.stack([nets[k].v_rest for k in rep]),
            np.stack([nets[k].w_exc for k in rep]),
            np.stack([nets[k].w_inh for k in rep]),
        )

    chains = PersistentChains(
        first.neuron,
        noise,
        K,
        T * C,
        dt=first.dt,
        synapses=first.synapses,
        delay=first.delay,
        device=lead.device,
        seed=_iteration_seed(seed, -1, 1),
    )
    gc.freeze()  # as in WakeSleep: exempt the objects that exist now from Brian2's collections
    try:
        set_networks(chains)
        if lead.burn_in > 0:
            chains.run(lead.burn_in, seed=_iteration_seed(seed, -1), sample_interval=first.dt)
        iterations: Any = range(n_iterations)
        if progress:
            from tqdm.auto import tqdm

            iterations = tqdm(iterations, desc="wake-sleep (together)", leave=False)
        for t in iterations:
            start = time.perf_counter()
            set_networks(chains)
            run = chains.run(
                lead.duration,
                seed=_iteration_seed(seed, t),
                settle=lead.settle,
                sample_interval=first.sample_interval,
            )
            rows = []
            idx, stp = run.spikes
            for k, tr in enumerate(trainers):
                mine = (idx >= k * C * K) & (idx < (k + 1) * C * K)  # this target's chains, renumbered
                part = ChainRun(run.states[k * C : (k + 1) * C], None, (idx[mine] - k * C * K, stp[mine]))
                rows.append(tr._learn(part, t, tr.rate(t)))
            elapsed = time.perf_counter() - start
            for tr, row in zip(trainers, rows, strict=True):
                row["wall_time"] = elapsed
                tr._rows.append(row)
                tr.n_iter_ += 1
    finally:
        gc.unfreeze()
        chains.close()
    for tr, cal in zip(trainers, cals, strict=True):
        tr._finish(cal)
    return trainers


def train_ensemble(
    targets: Sequence[Any],
    *,
    n_copies: int = 1,
    noise: EnsembleNoise | None = None,
    **kwargs: Any,
) -> list[WakeSleep]:
    """Wake–sleep-train an ensemble of sampling networks while they drive each other (Dold et al. 2019).

    The ensemble of :func:`sample_ensemble` (``len(targets) · n_copies``
    networks, no Poisson input, background = spikes of the other networks
    through ``noise``, default ``EnsembleNoise(n_units)``) is trained with
    :func:`train_together`: every network learns while it is driven by the
    others, so the learned weights and biases absorb the cross-correlations
    and the non-Poisson statistics of that background.  The copies of a
    target share its parameters.  Sample the result with
    ``sample_ensemble([t.sampler_ for t in trainers], duration, n_copies=n_copies, noise=noise)``.

    Parameters
    ----------
    targets : sequence of BoltzmannMachine or of LIFSampler
    n_copies : int
        Networks per target.
    noise : EnsembleNoise, optional
    **kwargs
        Passed to :func:`train_together` (``n_iterations``, ``seed``, ``wake_sleep``, …).

    Returns
    -------
    list of lifsampling.WakeSleep
        One fitted trainer per target.

    References
    ----------
    Dold, Bytschok, Kungl, Baumbach, Breitwieser, Senn, Schemmel, Meier,
    Petrovici (2019), Stochasticity from function, Neural Networks 119, 200.

    Examples
    --------
    >>> import lifsampling as ls                                               # doctest: +SKIP
    >>> bms = [ls.random_boltzmann_machine(5, seed=s) for s in range(5)]       # doctest: +SKIP
    >>> ens = EnsembleNoise(5, in_degree=100, seed=1)                          # doctest: +SKIP
    >>> trained = train_ensemble(bms, n_copies=8, noise=ens, n_iterations=60)  # doctest: +SKIP
    >>> tuned = [t.sampler_ for t in trained]                                   # doctest: +SKIP
    >>> runs = sample_ensemble(tuned, 10_000.0, n_copies=8, noise=ens)          # doctest: +SKIP
    """
    noise = _ensemble_noise(targets, n_copies, noise)
    return train_together(targets, noise, n_chains=n_copies, **kwargs)
