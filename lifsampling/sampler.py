"""Sampling from a Boltzmann machine with a network of LIF neurons."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
import xarray as xr

from ._checkpoint import Checkpoint
from ._network import DEVICES, NetworkSpec, resolve_device, simulate
from ._resources import check_memory
from ._seeding import derive_seed
from ._units import positive, steps
from .calibration import Calibration, calibrate
from .evidence import (
    CLAMP_STRENGTH,
    agreement_of,
    check_evidence,
    clamped_v_rest,
    warn_if_leaking,
)
from .interaction import InteractionCalibration, calibrate_interactions
from .mismatch import ParameterNoise
from .neurons import NeuronParameters
from .noise import NoiseSource, PoissonNoise
from .readout import StateReadout
from .results import make_result
from .sampling import Sampler, check_run
from .targets import BoltzmannMachine
from .tempering import check_phase_window, phase_gate
from .translation import LIFParameters, _weight_per_unit, boltzmann_to_lif, lif_to_boltzmann

__all__ = ["LIFSampler"]

SYNAPSE_KINDS = ("renewing", "additive")


def chain_connections(n_units: int, n_chains: int) -> tuple[np.ndarray, np.ndarray]:
    """Pre/post indices of all-to-all synapses inside each chain (block-diagonal)."""
    i, j = np.nonzero(~np.eye(n_units, dtype=bool))
    offsets = (np.arange(n_chains) * n_units)[:, None]
    return (offsets + i).ravel(), (offsets + j).ravel()


def run_chains(
    neuron: NeuronParameters,
    noise: NoiseSource,
    v_rest: np.ndarray,
    w_exc: np.ndarray,
    w_inh: np.ndarray,
    *,
    duration: float,
    burn_in: float,
    seed: int,
    dt: float,
    sample_interval: float,
    synapses: str,
    delay: float,
    device: str,
    cache_dir: str | os.PathLike | None,
    progress: bool | None,
    v_thresh: np.ndarray | None = None,
    checkpoint: Checkpoint | None = None,
) -> np.ndarray:
    """Simulate ``C`` independent K-neuron networks in one Brian2 network; return states.

    ``v_rest`` has shape (C, K) [mV], ``w_exc``/``w_inh`` (C, K, K) with entry
    ``[c, i, j]`` the weight of synapse ``i → j`` in chain ``c``; ``v_thresh``
    (C, K) [mV], optional, gives every neuron its own threshold.  Returns
    ``int8`` states of shape (C, n_draws, K) read every ``sample_interval`` ms
    after ``burn_in``.  Used by :class:`LIFSampler` and the interaction calibration.
    """
    C, K = v_rest.shape
    n_draws = steps(duration, sample_interval, "duration", "sample_interval")
    interval_steps = steps(sample_interval, dt, "sample_interval")
    # states (int8) + the spikes a standalone run holds (~24 bytes each in the binary and
    # here, at most one per refractory period) + the read-out's working memory
    standalone = resolve_device(device, noise, K * C, burn_in + duration, dt, checkpoint is not None)
    max_spikes = K * C * (burn_in + duration) / neuron.tau_refrac
    check_memory(
        C * n_draws * K + (24 * max_spikes if standalone == "cpp_standalone" else 0) + 5e7,
        f"sampling {C} chain(s) x {n_draws} draws x {K} units",
        "sample fewer chains or draws per call (e.g. in pieces with different seeds), "
        "or a longer sample_interval.",
    )
    pre, post = chain_connections(K, C)
    chain, i, j = pre // K, pre % K, post % K
    spec = NetworkSpec(
        neuron=neuron,
        noise=noise,
        v_rest=np.asarray(v_rest, dtype=float).ravel(),
        dt=dt,
        pre=pre,
        post=post,
        w_exc=np.asarray(w_exc)[chain, i, j],
        w_inh=np.asarray(w_inh)[chain, i, j],
        renewing=synapses == "renewing",
        delay=delay,
        v_thresh=None if v_thresh is None else np.asarray(v_thresh, dtype=float).ravel(),
    )
    readout = StateReadout(
        n_neurons=K * C,
        n_ref_steps=steps(neuron.tau_refrac, dt, "tau_refrac"),
        first_step=steps(burn_in, dt, "burn_in"),
        interval_steps=interval_steps,
        n_draws=n_draws,
    )
    rng = np.random.default_rng(seed)
    v_init = rng.uniform(neuron.v_reset - 5.0, neuron.v_thresh, size=K * C)
    simulate(
        spec,
        duration=burn_in + duration,
        seed=seed,
        consumer=readout,
        device=device,
        v_init=v_init,
        progress=progress,
        cache_dir=cache_dir,
        description=f"sampling {C} chain(s)",
        max_chunk_steps=max(1, int(2e7 // (K * C))) * interval_steps,
        checkpoint=checkpoint,
    )
    return readout.states.reshape(n_draws, C, K).transpose(1, 0, 2)


def _gate(
    result: xr.Dataset, noise: NoiseSource, burn_in: float, window: tuple[float, float] | None
) -> xr.Dataset:
    """Record the phase of every draw of a rhythmic background and keep those in ``window``."""
    phase = noise.phase(burn_in + result.time.values)
    if phase is None:
        return result
    phase = np.mod(np.round(phase, 9), 1.0)  # 0.8 - 1e-16 is 0.8: windows keep exactly what they say
    result = result.assign_coords(
        phase=("draw", phase, {"units": "cycles", "description": "0.75 = trough (cold)"})
    )
    if window is None:
        result.attrs["phase_window"] = "all"
        return result
    return phase_gate(result, window)


class LIFSampler(Sampler):
    """Sample a Boltzmann machine with conductance-based LIF neurons in Brian2.

    The target's biases become leak potentials and its weights synaptic
    weights (:func:`boltzmann_to_lif`), using an activation function
    calibrated for the same neuron, background and time step.  ``n_chains``
    independent copies of the network run inside one Brian2 network, each
    neuron with its own background noise.  A neuron is in state ``z = 1`` for
    ``tau_refrac`` after each spike; states are read every ``sample_interval``.

    Parameters
    ----------
    target : BoltzmannMachine
    neuron : NeuronParameters, optional
        Default: ``NeuronParameters.preset("sbs")``.
    noise : NoiseSource, optional
        Default: ``PoissonNoise.preset("sbs")`` (private Poisson background).
    calibration : Calibration, optional
        Activation function to translate with.  It must have been measured for
        ``neuron``, ``noise`` and ``dt`` (else :class:`CalibrationMismatchError`).
        If omitted, the sampler calibrates on first use (and caches the result).
    interactions : InteractionCalibration, "calibrate" or None
        Correction of the analytic weight translation by the measured coupling
        of LIF pairs (:func:`calibrate_interactions`).  ``"calibrate"`` (default)
        measures it on first use (cached, ~10 s); ``None`` uses the analytic
        translation alone (Petrovici et al. 2016), whose couplings come out
        20–50 % too strong for the sbs neuron.
    synapses : {"renewing", "additive"}
        ``"renewing"``: Tsodyks–Markram synapses with U = 1, τ_rec = τ_syn, so a
        burst does not stack PSPs (default; with the analytic translation alone it
        corrects most of the error of bursting neurons).  ``"additive"``: plain
        exponential synapses.  The interaction calibration is measured per kind.
    dt : float
        Simulation time step [ms].
    sample_interval : float
        Time between read-out states [ms]; a multiple of ``dt``.
    delay : float
        Synaptic delay [ms].
    device : {"auto", "cpp_standalone", "cython", "numpy"}
        Brian2 code-generation target.  ``"cpp_standalone"`` compiles each
        network structure once (~6–20 s, cached on disk) and then reruns the
        binary with new biases, weights, durations and seeds without
        compiling; it is the fastest (``docs/performance.md``) but holds the
        spikes of a run in memory until it ends.  ``"cython"`` compiles each
        structure once too and streams spikes to the readout in chunks.
        ``"auto"`` (default) takes ``"cpp_standalone"`` for runs of the
        built-in Poisson backgrounds that would take Cython ≥ 2 s and whose
        spikes fit in memory, when a C++ compiler is found, else
        ``"cython"`` (``"numpy"`` without a compiler); ``$LIFSAMPLING_DEVICE``
        overrides the choice.  The result records the device that ran.
    cache_dir : path, optional
        Where calibrations and standalone builds are cached.
    progress : bool, optional
        Show a progress bar (default: only for runs longer than a few seconds).
    clamp_strength : float
        How far from threshold the leak potential of a clamped neuron is moved,
        in units of the Boltzmann bias, on top of its total coupling
        ``Σ_j |W_kj|`` (see :mod:`lifsampling.evidence`).
    clamp_couplings : InteractionCalibration, optional
        Coupling map of clamped-to-1 presynaptic neurons
        (``calibrate_interactions(cal, presynaptic="clamped")``).  Default:
        measured (and cached) on the first run with such evidence, unless
        ``interactions=None``, in which case clamped units use the analytic
        translation as well.
    network : LIFParameters, optional
        Run this network instead of the translation of ``target`` (e.g. one
        trained by :class:`lifsampling.WakeSleep`; see :func:`lifsampling.fine_tune`).
        Its weights are taken as they are; ``target`` remains the distribution
        results are compared with.  Evidence clamps it like the translated
        network: a clamped-to-1 unit's outgoing weights request, through the
        clamped-neuron coupling map, the coupling the free network realises
        (``interactions_.effective`` of the weights converted back to Boltzmann
        units; the weights themselves with ``interactions=None``).
    parameter_noise : ParameterNoise, optional
        Fixed-pattern variation of leak potentials, thresholds and weights
        (:class:`lifsampling.ParameterNoise`), drawn once and applied to the
        network of every run (all chains alike, as repeated runs of one
        physical network); clamping is applied before it.

    Attributes
    ----------
    calibration_ : Calibration
        The calibration in use (after :meth:`calibrate` or the first :meth:`sample`).
    interactions_ : InteractionCalibration or None
        The interaction calibration in use (None: analytic translation).
    lif_parameters_ : LIFParameters
        The network of one chain: the translation of ``target``, or ``network``
        (before parameter noise).
    clamp_couplings_ : InteractionCalibration or None
        Coupling map of clamped-to-1 presynaptic neurons (measured on the
        first run with such evidence).

    References
    ----------
    Petrovici, Bill, Bytschok, Schemmel, Meier (2016), Phys. Rev. E 94, 042312.
    Buesing, Bill, Nessler, Maass (2011), PLoS Comput. Biol. 7, e1002211.

    Examples
    --------
    >>> from lifsampling import LIFSampler, random_boltzmann_machine, kl_divergence
    >>> bm = random_boltzmann_machine(5, seed=0)
    >>> sampler = LIFSampler(bm)
    >>> result = sampler.sample(10_000.0, n_chains=8, seed=1)  # doctest: +SKIP
    >>> kl_divergence(bm, result)                              # doctest: +SKIP
    KLDivergence(target‖sampled=0.01..., ...)
    """

    def __init__(
        self,
        target: BoltzmannMachine,
        *,
        neuron: NeuronParameters | None = None,
        noise: NoiseSource | None = None,
        calibration: Calibration | None = None,
        interactions: InteractionCalibration | Literal["calibrate"] | None = "calibrate",
        synapses: Literal["renewing", "additive"] = "renewing",
        dt: float = 0.1,
        sample_interval: float = 1.0,
        delay: float = 0.1,
        device: str = "auto",
        cache_dir: str | os.PathLike | None = None,
        progress: bool | None = None,
        clamp_strength: float = CLAMP_STRENGTH,
        clamp_couplings: InteractionCalibration | None = None,
        network: LIFParameters | None = None,
        parameter_noise: ParameterNoise | None = None,
    ) -> None:
        super().__init__(target)
        if network is not None:
            if not isinstance(network, LIFParameters):
                raise TypeError(f"network must be LIFParameters, got {type(network).__name__}.")
            K = target.n_units
            shapes = (network.v_rest.shape, network.w_exc.shape, network.w_inh.shape)
            if shapes != ((K,), (K, K), (K, K)) or (
                network.v_thresh is not None and np.shape(network.v_thresh) != (K,)
            ):
                raise ValueError(
                    f"network must describe {K} neurons like the target (v_rest ({K},), weights "
                    f"({K}, {K})); got v_rest {shapes[0]}, w_exc {shapes[1]}, w_inh {shapes[2]}."
                )
        if parameter_noise is not None and not isinstance(parameter_noise, ParameterNoise):
            raise TypeError(
                f"parameter_noise must be a ParameterNoise, got {type(parameter_noise).__name__}."
            )
        self.network = network
        self.parameter_noise = parameter_noise
        if not np.isfinite(clamp_strength) or clamp_strength <= 0:
            raise ValueError(
                f"clamp_strength must be a positive number (bias units), got {clamp_strength!r}."
            )
        self.clamp_strength = float(clamp_strength)
        self.neuron = NeuronParameters.preset("sbs") if neuron is None else neuron
        self.noise = PoissonNoise.preset("sbs") if noise is None else noise
        if not isinstance(self.neuron, NeuronParameters):
            raise TypeError(f"neuron must be NeuronParameters, got {type(neuron).__name__}.")
        if not isinstance(self.noise, NoiseSource):
            raise TypeError(f"noise must be a NoiseSource, got {type(noise).__name__}.")
        self.noise.check_compatible(self.neuron)
        if network is not None and network.weight_unit != self.neuron.weight_unit:
            raise ValueError(
                f"network weights are in {network.weight_unit} but the neuron takes "
                f"{self.neuron.weight_unit}."
            )
        if synapses not in SYNAPSE_KINDS:
            raise ValueError(f"synapses must be one of {SYNAPSE_KINDS}, got {synapses!r}.")
        if device not in DEVICES:
            raise ValueError(f"device must be one of {DEVICES}, got {device!r}.")
        self.synapses = synapses
        self.dt = positive(dt, "ms", "dt")
        self.sample_interval = positive(sample_interval, "ms", "sample_interval")
        self.delay = positive(delay, "ms", "delay")
        # fail early: both must be whole numbers of time steps
        steps(self.sample_interval, self.dt, "sample_interval")
        steps(self.neuron.tau_refrac, self.dt, "tau_refrac")
        self.device = device
        self.cache_dir = cache_dir
        self.progress = progress
        if not (
            interactions is None
            or interactions == "calibrate"
            or isinstance(interactions, InteractionCalibration)
        ):
            raise ValueError(
                f"interactions must be an InteractionCalibration, 'calibrate' or None; got {interactions!r}."
            )
        self.interactions = interactions
        self.calibration_: Calibration | None = None
        self.interactions_: InteractionCalibration | None = None
        self.lif_parameters_: LIFParameters | None = None
        if clamp_couplings is not None:
            if not isinstance(clamp_couplings, InteractionCalibration):
                raise TypeError(
                    "clamp_couplings must be an InteractionCalibration, "
                    f"got {type(clamp_couplings).__name__}."
                )
            if clamp_couplings.settings.get("presynaptic") != "clamped":
                raise ValueError(
                    "clamp_couplings must be measured with "
                    "calibrate_interactions(..., presynaptic='clamped')."
                )
        self.clamp_couplings_: InteractionCalibration | None = clamp_couplings
        if calibration is not None:
            self._use_calibration(calibration)

    def _use_calibration(self, calibration: Calibration, **kwargs) -> None:
        if not isinstance(calibration, Calibration):
            raise TypeError(f"calibration must be a Calibration, got {type(calibration).__name__}.")
        calibration.check_compatible(self.neuron, self.noise.calibration_noise(), self.dt)
        lif = boltzmann_to_lif(self.target, calibration)  # checks the target before any measurement
        inter = self.interactions
        if isinstance(inter, InteractionCalibration):
            inter.check_compatible(calibration, self.synapses, self.delay)
        elif inter == "calibrate":
            opts = {k: kwargs[k] for k in ("device", "cache_dir", "progress") if k in kwargs}
            opts.setdefault("device", self.device)
            opts.setdefault("cache_dir", self.cache_dir)
            opts.setdefault("progress", self.progress)
            inter = calibrate_interactions(calibration, synapses=self.synapses, delay=self.delay, **opts)
        self.calibration_ = calibration
        self.interactions_ = inter
        self.lif_parameters_ = lif if inter is None else boltzmann_to_lif(self.target, calibration, inter)
        if self.network is not None:
            self.lif_parameters_ = self.network

    def clamped_network(self, evidence: Mapping[int, int]) -> LIFParameters:
        """The network of one chain with the units in ``evidence`` clamped.

        A unit clamped to 1 (0) gets the leak potential
        ``E_L = v_p05 ± α (clamp_strength + Σ_j |W_kj|)``, far enough from
        threshold that no synaptic input changes its state.  A unit clamped to
        1 fires at the end of every refractory period, so its PSPs arrive back
        to back, without the tails and bursts of a switching unit: its outgoing
        weights come from the coupling map measured for clamped presynaptic
        neurons (``calibrate_interactions(presynaptic="clamped")``, cached),
        or from the analytic translation when ``interactions=None``.
        """
        if self.lif_parameters_ is None:
            self.calibrate()
        ev = check_evidence(evidence, self.target.n_units)
        lif = self.lif_parameters_
        if not ev:
            return lif
        cal = self.calibration_
        W = np.asarray(self.target.W)
        if self.network is not None:  # the coupling the given network realises, [i, j] = i → j
            W, _ = lif_to_boltzmann(lif, cal, self.interactions_)
        if any(ev.values()) and self.interactions is not None and self.clamp_couplings_ is None:
            self.clamp_couplings_ = calibrate_interactions(
                cal,
                synapses=self.synapses,
                delay=self.delay,
                presynaptic="clamped",
                device=self.device,
                cache_dir=self.cache_dir,
                progress=self.progress,
            )
        if self.clamp_couplings_ is not None:
            self.clamp_couplings_.check_compatible(cal, self.synapses, self.delay)
        W_out = W if self.clamp_couplings_ is None else self.clamp_couplings_.nominal(W)
        if self.network is None:
            outgoing = boltzmann_to_lif(BoltzmannMachine(W_out, self.target.b), cal)
        else:  # the network's own weight per unit of W onto each target neuron
            f_exc, f_inh = _weight_per_unit(cal, lif.v_rest)
            outgoing = LIFParameters(
                lif.v_rest,
                np.where(W_out > 0, W_out, 0.0) * f_exc[None, :],
                np.where(W_out < 0, -W_out, 0.0) * f_inh[None, :],
                lif.weight_unit,
            )
        v_rest, w_exc, w_inh = lif.v_rest.copy(), lif.w_exc.copy(), lif.w_inh.copy()
        reach = self.clamp_strength + np.maximum(np.abs(W).sum(axis=1), np.abs(W).sum(axis=0))
        for k, value in ev.items():
            v_rest[k] = clamped_v_rest(cal, value, reach[k])
            if value:
                w_exc[k], w_inh[k] = outgoing.w_exc[k], outgoing.w_inh[k]
        return LIFParameters(v_rest, w_exc, w_inh, lif.weight_unit, lif.v_thresh)

    def calibrate(self, **kwargs) -> Calibration:
        """Calibrate (or load the cached calibration) for this sampler's settings.

        Keyword arguments go to :func:`calibrate`.  With ``interactions="calibrate"``
        the interaction calibration is measured (or loaded) too.  Returns the
        calibration, which is also stored in :attr:`calibration_`.
        """
        kwargs.setdefault("device", self.device)
        kwargs.setdefault("cache_dir", self.cache_dir)
        kwargs.setdefault("progress", self.progress)
        noise = self.noise.calibration_noise()  # for a rhythm: the cold phase
        self._use_calibration(calibrate(self.neuron, noise, dt=self.dt, **kwargs), **kwargs)
        return self.calibration_

    def sample(
        self,
        duration: float,
        *,
        n_chains: int = 1,
        seed: int | np.random.Generator | None = None,
        burn_in: float = 500.0,
        evidence: Mapping[int, int] | None = None,
        phase_window: tuple[float, float] | str = "cold",
        client: Any = None,
        chains_per_task: int | None = None,
        checkpoint: str | os.PathLike | None = None,
        checkpoint_every: float = 60_000.0,
    ) -> xr.Dataset:
        """Run ``n_chains`` chains for ``burn_in + duration`` ms and read out states.

        Parameters
        ----------
        duration : float
            Sampled time per chain after burn-in [ms]; a multiple of ``sample_interval``.
        n_chains : int
            Independent copies of the network (all in one Brian2 network).
        seed : int or numpy.random.Generator, optional
            Drives initial conditions and all noise; the same seed gives
            identical states.  ``None`` draws a seed, which is recorded in the result.
        burn_in : float
            Discarded initial time [ms]; a multiple of ``dt``.
        evidence : dict, optional
            ``{unit: 0 or 1}``: observed units, clamped through their leak
            potential (:mod:`lifsampling.evidence`).  The result records the
            evidence and, per clamped unit, the fraction of draws that showed the
            observed value (``evidence_agreement``); below 99.9 % a
            :class:`ClampLeakWarning` is issued.
        phase_window : (start, end), "cold" or "all"
            With a rhythmic background (:class:`OscillatingPoissonNoise`): keep
            only the draws whose phase (in cycles, 0.75 = trough) lies in
            ``[start, end)`` (wrapping around 1).  ``"cold"`` (default) keeps the
            rhythm's :attr:`~OscillatingPoissonNoise.cold_window`, where the
            network has the temperature it was translated for; ``"all"`` keeps
            every draw.  The
            result records the ``phase`` of every kept draw and the window.
            Ignored for stationary backgrounds.
        client : distributed.Client or concurrent.futures.Executor, optional
            Run the chains as tasks on a Dask cluster (or an executor) in blocks
            of ``chains_per_task`` (:func:`lifsampling.distributed.sample_chains`).
        chains_per_task : int, optional
            Chains per task; alone (without ``client``) the blocks run on local
            processes.  Block ``b`` is seeded from ``(seed, b)``, so the samples
            depend on ``chains_per_task`` but not on where the blocks ran; the
            result records each chain's seed (coordinate ``chain_seed``).
            Without ``client`` and ``chains_per_task`` all chains run in one
            network in this process.
        checkpoint : path, optional
            Save the run's progress to this file every ``checkpoint_every`` ms
            of simulated time (atomically, with a checksum), and continue from
            it if it exists: calling ``sample`` again with the same arguments
            after a crash resumes the run, and returns exactly the states of the
            uninterrupted run with the same seed and ``checkpoint_every`` (the
            random stream restarts from (seed, step) at every checkpoint, so a
            run without checkpoints gives other samples of the same
            distribution).  Needs an integer ``seed`` and a runtime device
            (``"auto"`` then uses Cython).  The file is kept after the run.
        checkpoint_every : float
            Simulated time between checkpoints [ms]; a multiple of ``dt``.

        Returns
        -------
        xarray.Dataset
            ``states`` (chain, draw, unit) and provenance attributes
            (see :mod:`lifsampling.results`).
        """
        if checkpoint is not None:
            if client is not None or chains_per_task is not None:
                raise ValueError("checkpoint cannot be combined with client or chains_per_task.")
            if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
                raise ValueError(
                    "a checkpointed run needs an integer seed (so that a resumed run is the same run); "
                    f"got seed={seed!r}."
                )
        if client is not None or chains_per_task is not None:
            from .distributed import sample_chains

            return sample_chains(
                self,
                duration,
                n_chains=n_chains,
                chains_per_task=chains_per_task,
                seed=seed,
                client=client,
                burn_in=burn_in,
                evidence=evidence,
                phase_window=phase_window,
            )
        run = check_run(duration, n_chains, burn_in)
        ev = check_evidence(evidence, self.target.n_units)
        window = check_phase_window(phase_window, getattr(self.noise, "cold_window", None))
        steps(run.duration, self.sample_interval, "duration", "sample_interval")
        steps(run.burn_in, self.dt, "burn_in")
        if self.lif_parameters_ is None:
            self.calibrate()
        lif = self.clamped_network(ev)
        if self.parameter_noise is not None:
            lif = self.parameter_noise.apply(lif, self.calibration_)
        K, C = self.target.n_units, run.n_chains
        sim_seed = derive_seed(seed)
        states = run_chains(
            self.neuron,
            self.noise,
            np.broadcast_to(lif.v_rest, (C, K)),
            np.broadcast_to(lif.w_exc, (C, K, K)),
            np.broadcast_to(lif.w_inh, (C, K, K)),
            v_thresh=None if lif.v_thresh is None else np.broadcast_to(lif.v_thresh, (C, K)),
            duration=run.duration,
            burn_in=run.burn_in,
            seed=sim_seed,
            dt=self.dt,
            sample_interval=self.sample_interval,
            synapses=self.synapses,
            delay=self.delay,
            device=self.device,
            cache_dir=self.cache_dir,
            progress=self.progress,
            checkpoint=None
            if checkpoint is None
            else Checkpoint(Path(checkpoint), steps(checkpoint_every, self.dt, "checkpoint_every")),
        )
        cal = self.calibration_
        agreement = agreement_of(states, ev)
        warn_if_leaking(agreement, stacklevel=2)
        result = make_result(
            states,
            sample_interval=self.sample_interval,
            sampler="lif",
            target=self.target,
            attrs={
                "seed": sim_seed,
                "dt_ms": self.dt,
                "tau_refrac_ms": self.neuron.tau_refrac,
                "burn_in_ms": run.burn_in,
                "synapses": self.synapses,
                "device": resolve_device(
                    self.device,
                    self.noise,
                    K * C,
                    run.burn_in + run.duration,
                    self.dt,
                    checkpoint is not None,
                ),
                "neuron_parameters": self.neuron.to_dict(),
                "noise": self.noise.to_dict(),
                "calibration": {
                    "v_p05": cal.v_p05,
                    "alpha": cal.alpha,
                    "dt": cal.dt,
                    "fit": cal.fit,
                    "settings": cal.settings,
                },
                "interactions": None if self.interactions_ is None else self.interactions_.to_dict(),
                "lif_v_rest_mV": lif.v_rest.tolist(),
                "network": None if self.network is None else "given",
                "parameter_noise": None if self.parameter_noise is None else self.parameter_noise.to_dict(),
                "evidence": ev or None,
                "evidence_agreement": {str(k): a for k, a in agreement.items()} or None,
                "clamp_strength": self.clamp_strength if ev else None,
            },
        )
        return _gate(result, self.noise, run.burn_in, window)
