"""The one place that builds and runs Brian2 networks of sampling neurons (private).

Calibration and sampling both describe what they want as a :class:`NetworkSpec`
(neurons with per-neuron leak potentials, a noise source, optional synapses)
and hand it to :func:`simulate`, which streams spikes to a consumer in chunks
so that long runs never hold all spikes in memory.

Design choices that keep Brian2's code generation cheap:

* All neuron parameters except ``E_L`` are ``(shared, constant)`` variables, so
  they are data, not code: Brian2 hoists ``exp(-dt/tau)`` out of the loop, and
  one compiled structure serves every parameter set.
* Objects have fixed names, so the generated code (and Cython's on-disk cache)
  is identical from one network to the next.
* Every chain's network lives in the same ``NeuronGroup`` (block-diagonal
  synapses); with ``cpp_standalone`` the project directory is keyed by the
  structure, and parameter arrays are static data files, so changing biases or
  weights does not recompile.
"""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._cache import content_key, default_cache_dir
from .neurons import NeuronParameters
from .noise import NoiseSource, input_variables, standalone_exp

DEVICES = ("auto", "cython", "numpy", "cpp_standalone")
#: Spikes a standalone run may hold in memory (~12 bytes each) before "auto" streams with Cython.
_STANDALONE_MAX_SPIKES = 1e8
#: Neuron-steps from which "auto" prefers a standalone build to Cython.
_STANDALONE_MIN_WORK = 1e7

#: Version of what a simulation produces for given parameters and seed.  It is
#: part of every cache key of measured quantities (calibrations), so that a
#: change of the simulated model or of its random draws never reuses numbers
#: measured with the old code.  Bump it with any such change.
#: 2: background counts drawn from a CDF table (exact Poisson per step).
#: 3: standalone background counts from lifsampling's own generator (xoshiro256++).
SIMULATION_VERSION = 3

#: consumer(neuron_indices, spike_steps, end_step): spikes of one chunk, steps
#: counted from the start of the simulation; ``end_step`` is the first step
#: not yet simulated.
SpikeConsumer = Callable[[np.ndarray, np.ndarray, int], None]


@dataclass
class NetworkSpec:
    """What to simulate.

    ``v_rest`` has one entry per neuron [mV].  ``pre``/``post`` index the
    synapses, ``w_exc``/``w_inh`` are their non-negative weights [µS or nA].
    ``v_thresh`` (one entry per neuron [mV]) gives every neuron its own firing
    threshold (fixed-pattern parameter noise), with its reset potential at the
    neuron model's distance ``v_thresh - v_reset`` below it; None (default)
    keeps the shared threshold and reset, and the generated code of networks
    without per-neuron thresholds.
    """

    neuron: NeuronParameters
    noise: NoiseSource
    v_rest: np.ndarray
    dt: float
    pre: np.ndarray | None = None
    post: np.ndarray | None = None
    w_exc: np.ndarray | None = None
    w_inh: np.ndarray | None = None
    renewing: bool = True
    delay: float = 0.1
    v_thresh: np.ndarray | None = None

    @property
    def n_neurons(self) -> int:
        return int(len(self.v_rest))

    @property
    def n_synapses(self) -> int:
        return 0 if self.pre is None else int(len(self.pre))

    def structure_key(self) -> str:
        """Hash of everything that changes the generated code (not parameter values)."""
        d = {
            "model": self.neuron.model,
            "noise": type(self.noise).__name__,
            "noise_eqs": self.noise.neuron_equations(self.neuron, self.dt),
            "renewing": self.renewing,
            "n_neurons": self.n_neurons,
            "n_synapses": self.n_synapses,
            "dt": self.dt,
            "delay": self.delay,
        }
        if self.v_thresh is not None:  # only then: keys of networks without it stay as they were
            d["per_neuron_threshold"] = True
        return content_key(d, length=16)


def neuron_equations(
    neuron: NeuronParameters,
    noise: NoiseSource,
    dt: float | None = None,
    per_neuron_threshold: bool = False,
) -> str:
    """Brian2 model equations of the LIF sampling neuron (PyNN IF_cond_exp / IF_curr_exp).

    ``per_neuron_threshold`` makes ``V_th`` and ``V_reset`` per-neuron variables (else shared).
    """
    if neuron.conductance_based:
        eqs = """
        dV/dt = (g_l*(E_L - V) + g_e*(E_e - V) + g_i*(E_i - V)) / C_m : volt (unless refractory)
        dg_e/dt = -g_e / tau_syn_e : siemens
        dg_i/dt = -g_i / tau_syn_i : siemens
        E_e : volt (shared, constant)
        E_i : volt (shared, constant)
        """
    else:
        eqs = """
        dV/dt = (g_l*(E_L - V) + I_e - I_i) / C_m : volt (unless refractory)
        dI_e/dt = -I_e / tau_syn_e : amp
        dI_i/dt = -I_i / tau_syn_i : amp
        """
    eqs += """
        E_L : volt
        C_m : farad (shared, constant)
        g_l : siemens (shared, constant)
        tau_syn_e : second (shared, constant)
        tau_syn_i : second (shared, constant)
        V_th : volt (shared, constant)
        V_reset : volt (shared, constant)
        tau_ref : second (shared, constant)
        t_ref_cut : second (shared, constant)
        """
    if per_neuron_threshold:
        eqs = eqs.replace("V_th : volt (shared, constant)", "V_th : volt (constant)")
        eqs = eqs.replace("V_reset : volt (shared, constant)", "V_reset : volt (constant)")
    return eqs + noise.neuron_equations(neuron, dt)


def _standalone_integrator():
    """Brian2's exponential Euler with ``exp`` of the state update inlined (``lifsampling_exp``).

    The update is the same; only the exponential of the membrane's effective
    time constant (one per neuron and step, ~30 % of a standalone run) is
    computed without a library call.
    """
    import re

    from brian2.stateupdaters.base import StateUpdateMethod
    from brian2.stateupdaters.exponential_euler import exponential_euler

    class InlinedExpEuler(StateUpdateMethod):
        def can_integrate(self, equations, variables, method_options=None):
            return exponential_euler.can_integrate(equations, variables, method_options)

        def __call__(self, equations, variables=None, method_options=None):
            code = exponential_euler(equations, variables, method_options)
            return re.sub(r"\bexp\(", "lifsampling_exp(", code)

    return InlinedExpEuler()


def _build(spec: NetworkSpec, v_init: np.ndarray, collect: bool = True):
    """Create the Brian2 objects of ``spec``; return (network, group, spike monitor).

    ``collect=False`` skips the garbage collection that keeps generated code
    identical (for networks whose code is not generated again).
    """
    import brian2 as b2

    # Objects of earlier networks in this process would make Brian2 rename the code
    # objects (``..._codeobject_1``), which changes the generated code and forces a
    # recompile (Cython and cpp_standalone alike).
    if collect:
        gc.collect()
    # One named clock for every object: with one clock per object Brian2 initialises
    # the clocks in main.cpp in set order, which varies from run to run (recompile).
    clock = b2.Clock(dt=spec.dt * b2.ms, name="lifsampling_clock")
    standalone = b2.get_device().__class__.__name__ == "CPPStandaloneDevice"
    n = spec.neuron
    group = b2.NeuronGroup(
        spec.n_neurons,
        neuron_equations(n, spec.noise, spec.dt, per_neuron_threshold=spec.v_thresh is not None),
        threshold="V > V_th",
        reset="V = V_reset",
        # Refractory for exactly round(tau_ref / dt) steps, as ``refractory="tau_ref"``
        # would be, but tested with one comparison per neuron and step instead of
        # Brian2's integer division (t - lastspike is a whole number of steps).
        refractory="t - lastspike < t_ref_cut",
        method=_standalone_integrator() if standalone else "exponential_euler",
        clock=clock,
        name="lifsampling_neurons",
        namespace={"lifsampling_exp": standalone_exp()} if standalone else None,
    )
    group.C_m = n.cm * b2.nF
    group.g_l = n.g_l * b2.uS
    group.tau_syn_e = n.tau_syn_E * b2.ms
    group.tau_syn_i = n.tau_syn_I * b2.ms
    if spec.v_thresh is None:
        group.V_th = n.v_thresh * b2.mV
        group.V_reset = n.v_reset * b2.mV
    else:
        group.V_th = np.asarray(spec.v_thresh, dtype=float) * b2.mV
        group.V_reset = (np.asarray(spec.v_thresh, dtype=float) - (n.v_thresh - n.v_reset)) * b2.mV
    group.tau_ref = n.tau_refrac * b2.ms
    n_ref = int((n.tau_refrac + 1e-3 * spec.dt) / spec.dt)  # Brian2's timestep(tau_ref, dt)
    group.t_ref_cut = (n_ref - 0.5) * spec.dt * b2.ms
    if n.conductance_based:
        group.E_e = n.e_rev_E * b2.mV
        group.E_i = n.e_rev_I * b2.mV
    group.E_L = np.asarray(spec.v_rest, dtype=float) * b2.mV
    group.V = np.asarray(v_init, dtype=float) * b2.mV
    objects = [group, *spec.noise.build(group, n)]
    if spec.n_synapses:
        e, i = input_variables(n)
        wunit = "siemens" if n.conductance_based else "amp"
        if spec.renewing:
            # Tsodyks-Markram synapse with U = 1, tau_rec = tau_syn, tau_fac = 0: a spike
            # tops the synapse's own contribution back up to w instead of adding w.
            model = f"w_e : {wunit} (constant)\nw_i : {wunit} (constant)\nt_last : second"
            on_pre = (
                f"{e}_post += w_e * (1 - exp(-(t - t_last) / tau_syn_e_post))\n"
                f"{i}_post += w_i * (1 - exp(-(t - t_last) / tau_syn_i_post))\n"
                "t_last = t"
            )
        else:
            model = f"w_e : {wunit} (constant)\nw_i : {wunit} (constant)"
            on_pre = f"{e}_post += w_e\n{i}_post += w_i"
        syn = b2.Synapses(
            group,
            group,
            model=model,
            on_pre=on_pre,
            delay=spec.delay * b2.ms,
            clock=clock,
            name="lifsampling_synapses",
        )
        syn.connect(i=np.asarray(spec.pre), j=np.asarray(spec.post))
        scale = b2.uS if n.conductance_based else b2.nA
        syn.w_e = np.asarray(spec.w_exc, dtype=float) * scale
        syn.w_i = np.asarray(spec.w_inh, dtype=float) * scale
        if spec.renewing:
            syn.t_last = -1e6 * b2.second
        objects.append(syn)
    monitor = b2.SpikeMonitor(group, record=True, name="lifsampling_spikes")
    objects.append(monitor)
    net = b2.Network(*objects)
    return net, group, monitor


def _chunk_ms(n_neurons: int) -> float:
    # at most ~2e6 spikes per chunk at the maximal rate 1/tau_ref ~ 100 Hz
    return float(np.clip(2e7 / max(n_neurons, 1), 1_000.0, 100_000.0))


@contextlib.contextmanager
def _codegen_target(target: str):
    """Use Brian2's runtime code-generation ``target`` inside the block, then restore it."""
    import brian2 as b2

    old = b2.prefs.codegen.target
    b2.prefs.codegen.target = target
    try:
        yield
    finally:
        b2.prefs.codegen.target = old


def _compiler_available() -> bool:
    """True if a C++ compiler and ``make`` are on the PATH (needed by ``cpp_standalone``)."""
    import shutil

    compiler = os.environ.get("CXX") or "c++"
    return shutil.which(compiler) is not None and shutil.which("make") is not None


def resolve_device(device: str, noise: NoiseSource, n_neurons: int, duration: float, dt: float = 0.1) -> str:
    """The code-generation target that ``device`` means for a run of ``duration`` ms.

    ``"auto"`` is ``"cpp_standalone"`` — compiled once per network structure and
    then rerun with new parameters, durations and seeds without compiling
    (:mod:`lifsampling._standalone`) — when all of these hold: the background
    is one of the built-in Poisson sources, a C++ compiler is available, the
    run is long enough to repay a build (≥ 1e7 neuron-steps, about a second of
    Cython time; a build takes ~6–20 s once per structure) and its spikes fit
    in memory (< 1e8 at the maximal rate 1/τ_ref ≈ 100 Hz).  Otherwise it is
    ``"cython"``, whose compiled code does not depend on network size and
    which streams spikes in chunks, or ``"numpy"`` without a compiler.  The
    environment variable ``LIFSAMPLING_DEVICE`` replaces the automatic choice.
    Other values are returned unchanged.
    """
    if device not in DEVICES:
        raise ValueError(f"device must be one of {DEVICES}, got {device!r}.")
    if device != "auto":
        return device
    forced = os.environ.get("LIFSAMPLING_DEVICE")
    if forced:
        if forced not in DEVICES[1:]:
            raise ValueError(f"LIFSAMPLING_DEVICE must be one of {DEVICES[1:]}, got {forced!r}.")
        return forced
    from .noise import OscillatingPoissonNoise, PoissonNoise

    if not _compiler_available():
        return "numpy"
    work = n_neurons * duration / dt
    spikes = n_neurons * duration * 1e-3 * 100.0
    builtin = type(noise) in (PoissonNoise, OscillatingPoissonNoise)
    if builtin and work >= _STANDALONE_MIN_WORK and spikes < _STANDALONE_MAX_SPIKES:
        return "cpp_standalone"
    return "cython"


def simulate(
    spec: NetworkSpec,
    *,
    duration: float,
    seed: int,
    consumer: SpikeConsumer,
    device: str = "auto",
    v_init: np.ndarray | None = None,
    progress: bool | None = None,
    cache_dir: str | os.PathLike | None = None,
    description: str = "simulating",
    max_chunk_steps: int | None = None,
) -> None:
    """Simulate ``spec`` for ``duration`` ms and stream its spikes to ``consumer``.

    ``seed`` drives the simulator's random numbers; ``v_init`` [mV] defaults to
    ``v_reset``.  ``progress`` shows a progress bar (None: only for runs that
    take more than two seconds).  ``max_chunk_steps`` caps the chunk length in
    time steps (so that the consumer's per-chunk work stays bounded).
    """
    device = resolve_device(device, spec.noise, spec.n_neurons, duration, spec.dt)
    if v_init is None:
        v_init = np.full(spec.n_neurons, spec.neuron.v_reset)
    n_steps = int(round(duration / spec.dt))
    chunk = max(1, int(_chunk_ms(spec.n_neurons) / spec.dt))
    if max_chunk_steps is not None:
        chunk = min(chunk, int(max_chunk_steps))
    if device == "cpp_standalone":
        _simulate_standalone(spec, n_steps, seed, consumer, v_init, cache_dir, chunk)
    else:
        _simulate_runtime(spec, n_steps, seed, consumer, v_init, device, progress, description, chunk)


def _simulate_runtime(spec, n_steps, seed, consumer, v_init, device, progress, description, chunk):
    import brian2 as b2

    try:
        import ipywidgets  # noqa: F401  (tqdm.auto needs it for notebook progress bars)
        from tqdm.auto import tqdm
    except ImportError:
        from tqdm import tqdm

    with _codegen_target(device):
        b2.seed(seed)
        net, group, monitor = _build(spec, v_init)
        clock_dt = spec.dt * b2.ms
        disable = False if progress else (True if progress is False else None)
        with tqdm(
            total=n_steps * spec.dt / 1000.0,
            unit="s",
            desc=description,
            delay=2.0,
            disable=disable,
            leave=False,
            bar_format="{l_bar}{bar}| {n:.1f}/{total:.1f} s bio [{elapsed}<{remaining}]",
        ) as bar:
            done = 0
            while done < n_steps:
                k = min(chunk, n_steps - done)
                start = done

                def report(elapsed, completed, _start, _duration, k=k, start=start):
                    bar.n = (start + completed * k) * spec.dt / 1000.0
                    bar.refresh()

                net.run(k * clock_dt, report=report, report_period=1 * b2.second, namespace={})
                done += k
                idx = np.asarray(monitor.i[:], dtype=np.int64)
                stp = np.asarray(np.round(monitor.t_[:] / (spec.dt * 1e-3)), dtype=np.int64)
                monitor.resize(0)
                monitor.variables["N"].set_value(0)
                consumer(idx, stp, done)
                bar.n = done * spec.dt / 1000.0
                bar.refresh()


def _mark_used(net) -> None:
    """Tell Brian2 that the objects of ``net`` were used on purpose (never run)."""
    todo = list(net.objects)
    while todo:
        obj = todo.pop()
        obj._network = net.id
        todo.extend(getattr(obj, "contained_objects", []))


def _simulate_standalone(spec, n_steps, seed, consumer, v_init, cache_dir, chunk):
    """Run ``spec`` with the C++ standalone device, compiling only a new structure.

    The project of the structure is built once and cached (see
    :mod:`lifsampling._standalone`); every call passes its own parameter values,
    duration and seed to the compiled binary.
    """
    import brian2 as b2
    from brian2.utils.filelock import FileLock

    from ._standalone import StandaloneProject, project_key, queued_values
    from .noise import OscillatingPoissonNoise, PoissonNoise

    root = (Path(cache_dir) if cache_dir is not None else default_cache_dir()) / "standalone"
    # What decides the generated code besides the queued arrays: the structure, and
    # for noise sources other than the built-in ones their whole description.
    description = [spec.structure_key()]
    if type(spec.noise) not in (PoissonNoise, OscillatingPoissonNoise):
        description.append(spec.noise.to_dict())
    project = None
    for attempt in (1, 2):
        b2.set_device("cpp_standalone", build_on_run=False)
        try:
            # the first attempt only collects values; code is generated only to build
            net, group, monitor = _build(spec, v_init, collect=attempt == 2)
            values = queued_values(b2.get_device())
            directory = root / project_key(description, b2.get_device())
            project = StandaloneProject.load(directory)
            if attempt == 1:
                _mark_used(net)  # created only for their values: no "unused object" warnings
            if project is None and attempt == 2:
                directory.mkdir(parents=True, exist_ok=True)
                with FileLock(str(directory) + ".lock"):
                    project = StandaloneProject.load(directory)  # built by another process?
                    if project is None:
                        project = StandaloneProject.build(directory, net, monitor, values)
        finally:
            b2.device.reinit()
            b2.set_device("runtime")
        if project is not None:
            break
    out = project.run(values, n_steps * spec.dt * 1e-3, seed)
    stp = np.asarray(np.round(out.times / (spec.dt * 1e-3)), dtype=np.int64)
    idx = np.asarray(out.indices, dtype=np.int64)
    order = np.argsort(stp, kind="stable")
    idx, stp = idx[order], stp[order]
    for start in range(0, n_steps, chunk):
        end = min(start + chunk, n_steps)
        lo, hi = np.searchsorted(stp, [start, end])
        consumer(idx[lo:hi], stp[lo:hi], end)
