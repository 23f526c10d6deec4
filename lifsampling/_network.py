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
from ._checkpoint import Checkpoint
from .neurons import NeuronParameters
from .noise import NoiseSource, input_variables, is_standalone, standalone_exp

DEVICES = ("auto", "cython", "numpy", "cpp_standalone")
#: Spikes a standalone run may hold in memory (~12 bytes each) before "auto" streams with Cython.
_STANDALONE_MAX_SPIKES = 1e8
#: Cython's cost per time step and per neuron-step [s] (2 cores, benchmarks/throughput.py) ...
_CYTHON_STEP_S, _CYTHON_NEURON_STEP_S = 3e-5, 2e-8
#: ... and the estimated Cython time from which "auto" prefers a standalone build [s].
_STANDALONE_MIN_CYTHON_S = 2.0

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
    standalone = is_standalone()
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


def _forced_device() -> str | None:
    """The device ``LIFSAMPLING_DEVICE`` imposes on ``"auto"`` (None if unset)."""
    forced = os.environ.get("LIFSAMPLING_DEVICE")
    if forced and forced not in DEVICES[1:]:
        raise ValueError(f"LIFSAMPLING_DEVICE must be one of {DEVICES[1:]}, got {forced!r}.")
    return forced or None


def fast_path_suits(noise: NoiseSource | None) -> bool:
    """Whether the standalone fast path can run ``noise`` here (built-in Poisson source, compiler).

    ``None`` stands for the default background (:class:`PoissonNoise`).
    """
    from .noise import OscillatingPoissonNoise, PoissonNoise

    builtin = noise is None or type(noise) in (PoissonNoise, OscillatingPoissonNoise)
    return builtin and _compiler_available()


def repeated_run_device(noise: NoiseSource | None) -> str | None:
    """The device for one network structure run many times with new parameters (e.g. a driver).

    ``"cpp_standalone"`` when the fast path suits ``noise``, even for short
    runs: the one-off build is amortised over the calls.  None (leave the
    choice to ``"auto"``) when ``LIFSAMPLING_DEVICE`` is set or the fast path
    does not apply.
    """
    return "cpp_standalone" if _forced_device() is None and fast_path_suits(noise) else None


def resolve_device(
    device: str,
    noise: NoiseSource,
    n_neurons: int,
    duration: float,
    dt: float = 0.1,
    checkpointed: bool = False,
) -> str:
    """The code-generation target that ``device`` means for a run of ``duration`` ms.

    ``"auto"`` is ``"cpp_standalone"`` — compiled once per network structure and
    then rerun with new parameters, durations and seeds without compiling
    (:mod:`lifsampling._standalone`) — when all of these hold: the background
    is one of the built-in Poisson sources, a C++ compiler is available, the
    run would take Cython at least ~2 s (steps x (30 µs + neurons x 20 ns);
    standalone runs are 10–50x faster and a build takes ~6–20 s once per
    structure) and its spikes fit in memory (< 1e8 at the maximal rate
    1/τ_ref ≈ 100 Hz).  Otherwise it is
    ``"cython"``, whose compiled code does not depend on network size and
    which streams spikes in chunks, or ``"numpy"`` without a compiler.  The
    environment variable ``LIFSAMPLING_DEVICE`` replaces the automatic choice.
    Checkpointed runs (``checkpointed=True``) need a runtime device: ``"auto"``
    is then Cython (or numpy), and ``"cpp_standalone"`` is refused.  Other
    values are returned unchanged.
    """
    if device not in DEVICES:
        raise ValueError(f"device must be one of {DEVICES}, got {device!r}.")
    if checkpointed:
        if device == "cpp_standalone":
            raise ValueError(
                "checkpointed runs need a runtime device (the standalone binary cannot stop and resume "
                "mid-run); use device='auto' or 'cython'."
            )
        if device == "auto":
            return "cython" if _compiler_available() else "numpy"
    if device != "auto":
        return device
    forced = _forced_device()
    if forced:
        return forced
    if not _compiler_available():
        return "numpy"
    n_steps = duration / dt
    cython_seconds = n_steps * (_CYTHON_STEP_S + n_neurons * _CYTHON_NEURON_STEP_S)
    spikes = n_neurons * duration * 1e-3 * 100.0
    if (
        fast_path_suits(noise)
        and cython_seconds >= _STANDALONE_MIN_CYTHON_S
        and spikes < _STANDALONE_MAX_SPIKES
    ):
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
    checkpoint: Checkpoint | None = None,
) -> None:
    """Simulate ``spec`` for ``duration`` ms and stream its spikes to ``consumer``.

    ``seed`` drives the simulator's random numbers; ``v_init`` [mV] defaults to
    ``v_reset``.  ``progress`` shows a progress bar (None: only for runs that
    take more than two seconds).  ``max_chunk_steps`` caps the chunk length in
    time steps (so that the consumer's per-chunk work stays bounded).
    ``checkpoint`` saves the run's progress every ``checkpoint.every_steps``
    steps and continues a run from its checkpoint (runtime devices only; the
    consumer must have ``state_dict``/``load_state_dict``); ``"auto"`` then
    means Cython.
    """
    device = resolve_device(device, spec.noise, spec.n_neurons, duration, spec.dt, checkpoint is not None)
    if v_init is None:
        v_init = np.full(spec.n_neurons, spec.neuron.v_reset)
    n_steps = int(round(duration / spec.dt))
    chunk = max(1, int(_chunk_ms(spec.n_neurons) / spec.dt))
    if max_chunk_steps is not None:
        chunk = min(chunk, int(max_chunk_steps))
    if device == "cpp_standalone":
        _simulate_standalone(spec, n_steps, seed, consumer, v_init, cache_dir, chunk)
    else:
        _simulate_runtime(
            spec, n_steps, seed, consumer, v_init, device, progress, description, chunk, checkpoint
        )


def _run_key(spec: NetworkSpec, n_steps: int, seed: int, v_init: np.ndarray) -> str:
    """Identity of a run (checkpoints of one run are never continued by another)."""
    import hashlib

    h = hashlib.sha256(_spec_digest(spec).encode())
    h.update(repr((n_steps, int(seed))).encode())
    h.update(np.ascontiguousarray(v_init, dtype=float).tobytes())
    return h.hexdigest()


def _reseed_runtime(seed: int, step: int) -> None:
    """Restart the runtime random stream from (seed, step) (at checkpoints).

    Brian2's stored random state cannot move between processes (its Cython
    buffer is a pointer), so a checkpointed run draws fresh numbers from a seed
    derived from its seed and the step at every checkpoint; the resumed run does
    the same and continues exactly as the uninterrupted one.
    """
    import brian2 as b2

    np.random.seed(np.random.SeedSequence([int(seed), int(step)]).generate_state(1)[0])
    device = b2.get_device()
    for name in ("rand_buffer_index", "randn_buffer_index"):
        index = getattr(device, name, None)
        if index is not None:
            index[:] = 0  # refill the buffers from the new stream


def _simulate_runtime(
    spec, n_steps, seed, consumer, v_init, device, progress, description, chunk, checkpoint
):
    import brian2 as b2

    try:
        import ipywidgets  # noqa: F401  (tqdm.auto needs it for notebook progress bars)
        from tqdm.auto import tqdm
    except ImportError:
        from tqdm import tqdm

    with _codegen_target(device):
        saved = None
        if checkpoint is not None:  # read (and check) it before anything is built
            checkpoint.key = _run_key(spec, n_steps, seed, v_init)
            chunk = min(chunk, checkpoint.every_steps)
            saved = checkpoint.load()
        b2.seed(seed)
        net, group, monitor = _build(spec, v_init)
        clock_dt = spec.dt * b2.ms
        done = 0
        if saved is not None:  # continue where the run stopped
            net.run(0 * b2.ms, namespace={})  # prepares the spike queues that the state fills
            net._stored_state["lifsampling_checkpoint"] = saved["network"]
            # not Brian2's random state: it holds a pointer into the old process's memory
            net.restore("lifsampling_checkpoint", restore_random_state=False)
            consumer.load_state_dict(saved["consumer"])
            done = int(saved["step"])
            _reseed_runtime(seed, done)
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
            bar.n = done * spec.dt / 1000.0
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
                if checkpoint is not None and (done % checkpoint.every_steps == 0 or done == n_steps):
                    _reseed_runtime(seed, done)  # what a resumed run does at this step, too
                    net.store("lifsampling_checkpoint")
                    state = net._stored_state.pop("lifsampling_checkpoint")
                    checkpoint.save({"network": state, "consumer": consumer.state_dict(), "step": done})
                bar.n = done * spec.dt / 1000.0
                bar.refresh()


#: Run argument of the initial membrane potentials (the only value that v_init sets).
_INITIAL_V = "lifsampling_neurons.V"
#: Values and project directory of the last standalone spec (see _simulate_standalone).
_HARVESTED: dict = {}


def _spec_digest(spec: NetworkSpec) -> str:
    """Hash of everything in ``spec`` (structure and values)."""
    import hashlib

    h = hashlib.sha256(spec.structure_key().encode())
    h.update(repr((spec.neuron.to_dict(), spec.noise.to_dict(), SIMULATION_VERSION)).encode())
    for a in (spec.v_rest, spec.pre, spec.post, spec.w_exc, spec.w_inh, spec.v_thresh):
        h.update(b"-" if a is None else np.ascontiguousarray(a, dtype=float).tobytes())
    return h.hexdigest()


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

    from ._standalone import StandaloneProject, load_or_build, project_key, queued_values
    from .noise import OscillatingPoissonNoise, PoissonNoise

    root = (Path(cache_dir) if cache_dir is not None else default_cache_dir()) / "standalone"
    # What decides the generated code besides the queued arrays: the structure, and
    # for noise sources other than the built-in ones their whole description.
    description = [spec.structure_key()]
    if type(spec.noise) not in (PoissonNoise, OscillatingPoissonNoise):
        description.append(spec.noise.to_dict())

    def harvest(collect: bool):
        """Create the network on the standalone device: (net, monitor, values, project directory)."""
        net, group, monitor = _build(spec, v_init, collect=collect)
        values = queued_values(b2.get_device())
        return net, monitor, values, root / project_key(description, b2.get_device())

    # The values of a network depend only on the spec and v_init; creating the Brian2
    # objects to collect them costs ~50 ms, so they are kept for the next run of the spec.
    spec_key = (str(root), _spec_digest(spec))
    if spec_key in _HARVESTED:
        values, directory = _HARVESTED[spec_key]
        values = {**values, _INITIAL_V: np.asarray(v_init, dtype=np.float64) * 1e-3}  # mV -> V
    else:
        b2.set_device("cpp_standalone", build_on_run=False)
        try:
            # only the values are needed from a built structure, not its code
            net, monitor, values, directory = harvest(collect=False)
            _mark_used(net)  # created only for their values: no "unused object" warnings
        finally:
            b2.device.reinit()
            b2.set_device("runtime")
        if _INITIAL_V in values:
            _HARVESTED.clear()  # one spec at a time: runs of many different specs gain nothing
            _HARVESTED[spec_key] = (values, directory)

    def build(directory: Path):
        # again, after a garbage collection that keeps the generated code's names fixed
        b2.set_device("cpp_standalone", build_on_run=False)
        try:
            net, monitor, values, _ = harvest(collect=True)
            return StandaloneProject.build(directory, net, monitor, values)
        finally:
            b2.device.reinit()
            b2.set_device("runtime")

    project = load_or_build(directory, build)
    out = project.run(values, n_steps * spec.dt * 1e-3, seed)
    idx = out.indices  # int32: the largest arrays of a long run, kept compact
    stp = np.rint(out.times / (spec.dt * 1e-3)).astype(np.int64)
    if stp.size and np.any(stp[1:] < stp[:-1]):  # Brian2 records in time order; just in case
        order = np.argsort(stp, kind="stable")
        idx, stp = idx[order], stp[order]
    del out
    for start in range(0, n_steps, chunk):
        end = min(start + chunk, n_steps)
        lo, hi = np.searchsorted(stp, [start, end])
        consumer(idx[lo:hi], stp[lo:hi], end)
