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
from .noise import NoiseSource, input_variables

DEVICES = ("cython", "numpy", "cpp_standalone")

#: Version of what a simulation produces for given parameters and seed.  It is
#: part of every cache key of measured quantities (calibrations), so that a
#: change of the simulated model or of its random draws never reuses numbers
#: measured with the old code.  Bump it with any such change.
#: 2: background counts drawn from a CDF table (exact Poisson per step).
SIMULATION_VERSION = 2

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
        """
    if per_neuron_threshold:
        eqs = eqs.replace("V_th : volt (shared, constant)", "V_th : volt (constant)")
        eqs = eqs.replace("V_reset : volt (shared, constant)", "V_reset : volt (constant)")
    return eqs + noise.neuron_equations(neuron, dt)


def _build(spec: NetworkSpec, v_init: np.ndarray):
    """Create the Brian2 objects of ``spec``; return (network, group, spike monitor)."""
    import brian2 as b2

    # Objects of earlier networks in this process would make Brian2 rename the code
    # objects (``..._codeobject_1``), which changes the generated code and forces a
    # recompile (Cython and cpp_standalone alike).
    gc.collect()
    # One named clock for every object: with one clock per object Brian2 initialises
    # the clocks in main.cpp in set order, which varies from run to run (recompile).
    clock = b2.Clock(dt=spec.dt * b2.ms, name="lifsampling_clock")
    n = spec.neuron
    group = b2.NeuronGroup(
        spec.n_neurons,
        neuron_equations(n, spec.noise, spec.dt, per_neuron_threshold=spec.v_thresh is not None),
        threshold="V > V_th",
        reset="V = V_reset",
        refractory="tau_ref",
        method="exponential_euler",
        clock=clock,
        name="lifsampling_neurons",
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


def simulate(
    spec: NetworkSpec,
    *,
    duration: float,
    seed: int,
    consumer: SpikeConsumer,
    device: str = "cython",
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
    if device not in DEVICES:
        raise ValueError(f"device must be one of {DEVICES}, got {device!r}.")
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


_STANDALONE_SEED_CODE = """
{
    const char* _seed_text = std::getenv("LIFSAMPLING_SEED");
    const unsigned long _seed = _seed_text ? std::strtoul(_seed_text, nullptr, 10) : 0UL;
    for (size_t _i = 0; _i < brian::_random_generators.size(); _i++)
        brian::_random_generators[_i].seed(_seed + _i);
}
"""


@contextlib.contextmanager
def _environ(**values: str):
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _simulate_standalone(spec, n_steps, seed, consumer, v_init, cache_dir, chunk):
    import brian2 as b2

    directory = (Path(cache_dir) if cache_dir is not None else default_cache_dir()) / "standalone"
    directory = directory / spec.structure_key()
    directory.mkdir(parents=True, exist_ok=True)
    b2.set_device("cpp_standalone", directory=str(directory), build_on_run=False)
    try:
        net, group, monitor = _build(spec, v_init)
        # The seed is read at run time, so a new seed reuses the compiled binary.
        b2.device.insert_code("main", _STANDALONE_SEED_CODE)
        net.run(n_steps * spec.dt * b2.ms, namespace={})
        with _environ(LIFSAMPLING_SEED=str(int(seed))):
            b2.device.build(directory=str(directory), compile=True, run=True, with_output=False)
        idx = np.asarray(monitor.i[:], dtype=np.int64)
        stp = np.asarray(np.round(monitor.t_[:] / (spec.dt * 1e-3)), dtype=np.int64)
    finally:
        b2.device.reinit()
        b2.set_device("runtime")
    order = np.argsort(stp, kind="stable")
    idx, stp = idx[order], stp[order]
    for start in range(0, n_steps, chunk):
        end = min(start + chunk, n_steps)
        lo, hi = np.searchsorted(stp, [start, end])
        consumer(idx[lo:hi], stp[lo:hi], end)
