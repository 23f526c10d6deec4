"""Peer simulators for the speed benchmarks: the same network in lifsampling, stock Brian2 and NEST.

Not a benchmark itself; ``throughput.py`` and ``scaling.py`` use it.

The network description
    A plain dict shared by all simulators (PyNN units): ``n_neurons``; ``pre``,
    ``post`` (synapse indices), ``w_exc``, ``w_inh`` (non-negative weights, µS
    or nA), ``v_rest`` (leak potential per neuron, mV); ``neuron``
    (``NeuronParameters.to_dict()``, default the sbs preset); ``noise`` (rates
    [Hz] and weights of the private Poisson background, ``PoissonNoise.to_dict()``,
    default the sbs preset); ``dt`` and ``delay`` [ms]; ``synapses``
    ("renewing" or "additive"); ``duration`` [ms]; ``seed``; ``threads`` (1).
    It is written to disk as one ``.npz`` file (arrays plus the rest as JSON)
    that every peer reads.

Builders
    :func:`bm_chains`: C independent copies of a 5-unit Boltzmann machine
    translated to LIF parameters (all-to-all within each chain,
    block-diagonal), exactly what ``LIFSampler.sample(n_chains=C)`` simulates.
    :func:`recurrent_blocks`: N neurons in recurrent all-to-all blocks of 100
    (N = 10: one block of 10) with fixed-seed random weights and leak
    potentials drawn from the 5-unit translation (so of its magnitude).

Runners (one thread each, same network, duration, dt and seed)
    :func:`run_ours`: ``lifsampling._network.simulate`` with the
    :class:`~lifsampling._network.NetworkSpec` of the description and a
    consumer that counts spikes, called twice (the second call is the warm
    one); with ``cpp_standalone`` Brian2's binary run time is recorded too.
    :func:`run_stock_brian2`: what a Brian2 user would write (conductance-based
    equations as a string, parameters as constants, ``Synapses`` with
    ``on_pre`` - additive, or the renewing Tsodyks-Markram U = 1 form of
    lifsampling - and two ``PoissonInput``s per neuron: N = 1000 sources x
    rate/1000 each, i.e. binomial(1000, rate dt / 1000) events per step, which
    is Poisson to within 0.03 % in the variance at 3 kHz and dt = 0.1 ms),
    ``SpikeMonitor``, ``cpp_standalone`` in a fresh project directory, in a
    subprocess so that its ``set_device`` does not touch the caller.
    :func:`run_nest`: ``_nest_network.py`` in the NEST venv (subprocess).

Every runner returns a dict of timings and spike counts; a failing peer
returns ``{"ok": False, "error": ...}`` instead of raising.
"""

from __future__ import annotations

import contextlib
import gc
import inspect
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ARRAYS = ("pre", "post", "w_exc", "w_inh", "v_rest")
BLOCK = 100
POISSON_SOURCES = 1000  # stock Brian2: sources per PoissonInput


# -- descriptions ------------------------------------------------------------------
def _base(n_neurons: int, v_rest, pre, post, w_exc, w_inh, *, synapses, duration, seed, dt=0.1):
    import lifsampling as ls

    return {
        "n_neurons": int(n_neurons),
        "pre": np.asarray(pre, dtype=np.int64),
        "post": np.asarray(post, dtype=np.int64),
        "w_exc": np.asarray(w_exc, dtype=float),
        "w_inh": np.asarray(w_inh, dtype=float),
        "v_rest": np.asarray(v_rest, dtype=float),
        "neuron": ls.NeuronParameters.preset("sbs").to_dict(),
        "noise": ls.PoissonNoise.preset("sbs").to_dict(),
        "dt": float(dt),
        "delay": 0.1,
        "synapses": synapses,
        "duration": float(duration),
        "seed": int(seed),
        "threads": 1,
    }


def bm_chains(translation: dict, n_chains: int, *, duration: float, seed: int, synapses="renewing") -> dict:
    """C copies of the translated 5-unit BM (``translation``: v_rest (K,), w_exc/w_inh (K, K))."""
    v_rest = np.asarray(translation["v_rest"], dtype=float)
    w_exc = np.asarray(translation["w_exc"], dtype=float)
    w_inh = np.asarray(translation["w_inh"], dtype=float)
    K = len(v_rest)
    i, j = np.nonzero(~np.eye(K, dtype=bool))
    offsets = (np.arange(n_chains) * K)[:, None]
    pre, post = (offsets + i).ravel(), (offsets + j).ravel()
    return _base(
        K * n_chains,
        np.tile(v_rest, n_chains),
        pre,
        post,
        np.tile(w_exc[i, j], n_chains),
        np.tile(w_inh[i, j], n_chains),
        synapses=synapses,
        duration=duration,
        seed=seed,
    )


def recurrent_blocks(
    translation: dict, n_neurons: int, *, duration: float, seed: int, synapses="additive", block=BLOCK
) -> dict:
    """N neurons in all-to-all blocks of ``block`` (the last one smaller), weights of the BM's magnitude.

    Every synapse's signed weight is drawn (fixed seed 12345) from the
    off-diagonal signed weights ``w_exc - w_inh`` of the translated BM, every
    leak potential from its ``v_rest``.
    """
    rng = np.random.default_rng(12345)
    w_exc = np.asarray(translation["w_exc"], dtype=float)
    w_inh = np.asarray(translation["w_inh"], dtype=float)
    K = w_exc.shape[0]
    signed = (w_exc - w_inh)[~np.eye(K, dtype=bool)]
    pres, posts = [], []
    for start in range(0, n_neurons, block):
        size = min(block, n_neurons - start)
        i, j = np.nonzero(~np.eye(size, dtype=bool))
        pres.append(start + i)
        posts.append(start + j)
    pre, post = np.concatenate(pres), np.concatenate(posts)
    w = rng.choice(signed, size=len(pre))
    v_rest = rng.choice(np.asarray(translation["v_rest"], dtype=float), size=n_neurons)
    return _base(
        n_neurons,
        v_rest,
        pre,
        post,
        np.where(w > 0, w, 0.0),
        np.where(w < 0, -w, 0.0),
        synapses=synapses,
        duration=duration,
        seed=seed,
    )


def save_description(desc: dict, path: Path) -> Path:
    """Write ``desc`` as one .npz file: the arrays, plus everything else as JSON in ``meta``."""
    meta = {k: v for k, v in desc.items() if k not in ARRAYS}
    arrays = {k: np.asarray(desc[k]) for k in ARRAYS}
    with open(path, "wb") as f:
        np.savez(f, meta=np.array(json.dumps(meta)), **arrays)
    return path


def load_description(path: str | os.PathLike) -> dict:
    with np.load(path) as f:
        desc = json.loads(str(f["meta"]))
        desc.update({k: f[k] for k in ARRAYS})
    return desc


def summary(desc: dict) -> dict:
    """The description without its arrays (for the JSON results)."""
    out = {k: v for k, v in desc.items() if k not in ARRAYS}
    out["n_synapses"] = int(len(desc["pre"]))
    out["n_nonzero_weights"] = int(np.count_nonzero(desc["w_exc"]) + np.count_nonzero(desc["w_inh"]))
    return out


# -- the 5-unit translation (in a subprocess) ---------------------------------------
TRANSLATE = """
import json, sys, lifsampling as ls
out, cache = sys.argv[1], sys.argv[2] or None
target = ls.random_boltzmann_machine(5, kind="sbs", seed=0)
sampler = ls.LIFSampler(target, cache_dir=cache, progress=False)
cal = sampler.calibrate()
cal.save(out + "/calibration.json")
if sampler.interactions_ is not None:
    sampler.interactions_.save(out + "/interactions.json")
lif = sampler.lif_parameters_
json.dump({"v_rest": lif.v_rest.tolist(), "w_exc": lif.w_exc.tolist(), "w_inh": lif.w_inh.tolist(),
           "weight_unit": lif.weight_unit}, open(out + "/translation.json", "w"))
"""


def translation_in_subprocess(cache_dir: Path | None, workdir: Path) -> dict:
    """Calibrate (cached) and translate ``random_boltzmann_machine(5, kind="sbs", seed=0)`` in a child.

    Done in a subprocess so that nothing is compiled in the benchmark's own
    process before its measured builds.  Returns the LIF parameters (v_rest,
    w_exc, w_inh), the paths of the saved calibration and interaction
    calibration, and the wall time.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", TRANSLATE, str(workdir), str(cache_dir or "")], check=True)
    out = json.loads((workdir / "translation.json").read_text())
    out["calibration_path"] = workdir / "calibration.json"
    inter = workdir / "interactions.json"
    out["interactions_path"] = inter if inter.exists() else None
    out["wall_s"] = time.perf_counter() - t0
    return out


# -- lifsampling ---------------------------------------------------------------------
@contextlib.contextmanager
def standalone_timers():
    """Record Brian2's cpp_standalone timers ('make', binary run) of every build in the block."""
    from brian2.devices.cpp_standalone.device import CPPStandaloneDevice

    records: list[dict] = []
    original = CPPStandaloneDevice.build

    def build(self, *args, **kwargs):
        out = original(self, *args, **kwargs)
        make = (self.timers.get("compile") or {}).get("make")
        records.append({"make_s": make, "binary_s": self.timers.get("run_binary")})
        return out

    CPPStandaloneDevice.build = build
    try:
        yield records
    finally:
        CPPStandaloneDevice.build = original


def network_spec(desc: dict):
    """The lifsampling NetworkSpec of a description."""
    from lifsampling._network import NetworkSpec
    from lifsampling.neurons import NeuronParameters
    from lifsampling.noise import noise_from_dict

    return NetworkSpec(
        neuron=NeuronParameters.from_dict(desc["neuron"]),
        noise=noise_from_dict(desc["noise"]),
        v_rest=np.asarray(desc["v_rest"], dtype=float),
        dt=float(desc["dt"]),
        pre=np.asarray(desc["pre"]),
        post=np.asarray(desc["post"]),
        w_exc=np.asarray(desc["w_exc"], dtype=float),
        w_inh=np.asarray(desc["w_inh"], dtype=float),
        renewing=desc["synapses"] == "renewing",
        delay=float(desc["delay"]),
    )


class SpikeCounter:
    """A spike consumer that only counts."""

    def __init__(self) -> None:
        self.n_spikes = 0

    def __call__(self, idx: np.ndarray, steps: np.ndarray, end_step: int) -> None:
        self.n_spikes += int(len(idx))


def run_ours(desc: dict, *, device: str | None = None, cache_dir: Path | None = None, calls: int = 2) -> dict:
    """``simulate()`` of the description, ``calls`` times; timings of each call.

    ``device`` None: simulate()'s default.  The last call is the warm one
    (``run_s``); with cpp_standalone ``binary_s`` is Brian2's binary run time of it.
    """
    from lifsampling._network import simulate

    spec = network_spec(desc)
    kwargs: dict[str, Any] = {"duration": float(desc["duration"]), "seed": int(desc["seed"])}
    if device is not None:
        kwargs["device"] = device
    if cache_dir is not None:
        kwargs["cache_dir"] = cache_dir
    if device is None:
        default = inspect.signature(simulate).parameters["device"].default
        label = f"default ({default}{_resolved(default, spec, desc)})"
    else:
        label = device
    out: dict[str, Any] = {"ok": True, "device": label, "calls": []}
    try:
        with standalone_timers() as timers:
            for _ in range(calls):
                counter = SpikeCounter()
                gc.collect()
                before = len(timers)
                t0 = time.perf_counter()
                simulate(spec, consumer=counter, progress=False, **kwargs)
                wall = time.perf_counter() - t0
                call = {"wall_s": wall, "n_spikes": counter.n_spikes}
                if len(timers) > before:
                    call.update(timers[-1])
                out["calls"].append(call)
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
    last = out["calls"][-1]
    out.update(
        first_s=out["calls"][0]["wall_s"],
        run_s=last["wall_s"],
        binary_s=last.get("binary_s"),
        n_spikes=last["n_spikes"],
        mean_rate_hz=rate(last["n_spikes"], desc),
    )
    return out


def _resolved(device: str, spec, desc: dict) -> str:
    """': cython' etc. when lifsampling can tell what an automatic device choice means here."""
    from lifsampling import _network

    resolve = getattr(_network, "resolve_device", None)
    if resolve is None:
        return ""
    try:
        return f": {resolve(device, spec.noise, spec.n_neurons, float(desc['duration']), spec.dt)}"
    except Exception:  # noqa: BLE001 - a label only
        return ""


def rate(n_spikes: int, desc: dict) -> float:
    return n_spikes / desc["n_neurons"] / (desc["duration"] / 1000.0)


# -- stock Brian2 (subprocess) ----------------------------------------------------------
def _stock_brian2(desc: dict, directory: str) -> dict:
    """Build and run the description as a plain Brian2 script would (inside the child process)."""
    t0 = time.perf_counter()
    import brian2 as b2

    import_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    b2.set_device("cpp_standalone", directory=directory)
    b2.defaultclock.dt = desc["dt"] * b2.ms
    b2.seed(int(desc["seed"]))
    p = desc["neuron"]
    cond = p["model"] == "cond_exp"
    unit = b2.uS if cond else b2.nA
    ns = {
        "C_m": p["cm"] * b2.nF,
        "g_l": p["cm"] / p["tau_m"] * b2.uS,
        "tau_syn_e": p["tau_syn_E"] * b2.ms,
        "tau_syn_i": p["tau_syn_I"] * b2.ms,
        "V_th": p["v_thresh"] * b2.mV,
        "V_reset": p["v_reset"] * b2.mV,
        "E_e": p["e_rev_E"] * b2.mV,
        "E_i": p["e_rev_I"] * b2.mV,
    }
    if cond:
        eqs = """
        dV/dt = (g_l*(E_L - V) + g_e*(E_e - V) + g_i*(E_i - V)) / C_m : volt (unless refractory)
        dg_e/dt = -g_e / tau_syn_e : siemens
        dg_i/dt = -g_i / tau_syn_i : siemens
        E_L : volt
        """
        e, i = "g_e", "g_i"
    else:
        eqs = """
        dV/dt = (g_l*(E_L - V) + I_e - I_i) / C_m : volt (unless refractory)
        dI_e/dt = -I_e / tau_syn_e : amp
        dI_i/dt = -I_i / tau_syn_i : amp
        E_L : volt
        """
        e, i = "I_e", "I_i"
    group = b2.NeuronGroup(
        desc["n_neurons"],
        eqs,
        threshold="V > V_th",
        reset="V = V_reset",
        refractory=p["tau_refrac"] * b2.ms,
        method="exponential_euler",
        namespace=ns,
    )
    group.E_L = np.asarray(desc["v_rest"]) * b2.mV
    group.V = p["v_reset"] * b2.mV
    noise = desc["noise"]
    inputs = [
        b2.PoissonInput(
            group, var, N=POISSON_SOURCES, rate=noise[rate] / POISSON_SOURCES * b2.Hz, weight=noise[w] * unit
        )
        for var, rate, w in ((e, "rate_exc", "weight_exc"), (i, "rate_inh", "weight_inh"))
    ]
    wunit = "siemens" if cond else "amp"
    if desc["synapses"] == "renewing":
        model = f"w_e : {wunit} (constant)\nw_i : {wunit} (constant)\nt_last : second"
        on_pre = (
            f"{e}_post += w_e * (1 - exp(-(t - t_last) / tau_syn_e))\n"
            f"{i}_post += w_i * (1 - exp(-(t - t_last) / tau_syn_i))\n"
            "t_last = t"
        )
    else:
        model = f"w_e : {wunit} (constant)\nw_i : {wunit} (constant)"
        on_pre = f"{e}_post += w_e\n{i}_post += w_i"
    objects = [group, *inputs]
    if len(desc["pre"]):
        syn = b2.Synapses(group, group, model, on_pre=on_pre, delay=desc["delay"] * b2.ms, namespace=ns)
        syn.connect(i=np.asarray(desc["pre"]), j=np.asarray(desc["post"]))
        syn.w_e = np.asarray(desc["w_exc"]) * unit
        syn.w_i = np.asarray(desc["w_inh"]) * unit
        if desc["synapses"] == "renewing":
            syn.t_last = -1e6 * b2.second
        objects.append(syn)
    monitor = b2.SpikeMonitor(group)
    net = b2.Network(*objects, monitor)
    net.run(desc["duration"] * b2.ms)  # build_on_run: generate, compile, run the binary
    n_spikes = int(monitor.num_spikes)
    whole = time.perf_counter() - t0
    timers = b2.device.timers
    return {
        "ok": True,
        "import_s": import_s,
        "whole_s": whole,
        "binary_s": timers["run_binary"],
        "compile_s": sum(v for v in (timers.get("compile") or {}).values() if v is not None),
        "n_spikes": n_spikes,
        "mean_rate_hz": rate(n_spikes, desc),
        "poisson_input": f"{POISSON_SOURCES} sources x rate/{POISSON_SOURCES} per PoissonInput (binomial)",
    }


def _child(kind: str, desc_path: str, result_path: str) -> int:
    desc = load_description(desc_path)
    with tempfile.TemporaryDirectory(prefix="stock-brian2-") as directory:
        result = _stock_brian2(desc, directory)
    Path(result_path).write_text(json.dumps(result))
    return 0


def _subprocess_json(cmd: list[str], result: Path, timeout: float, env=None) -> dict:
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"ok": False, "error": f"timed out after {timeout:.0f} s"}
    wall = time.perf_counter() - t0
    if proc.returncode != 0 or not result.exists():
        tail = (proc.stderr or proc.stdout)[-3000:]
        return {"ok": False, "error": f"exit code {proc.returncode}", "stderr": tail, "process_s": wall}
    out = json.loads(result.read_text())
    out.setdefault("ok", True)
    out["process_s"] = wall
    return out


def run_stock_brian2(desc: dict, workdir: Path, timeout: float = 3600.0) -> dict:
    """The description as a plain Brian2 cpp_standalone script, in a subprocess (fresh project dir)."""
    workdir.mkdir(parents=True, exist_ok=True)
    path = save_description(desc, workdir / "network.npz")
    result = workdir / "stock_brian2.json"
    result.unlink(missing_ok=True)
    cmd = [sys.executable, str(Path(__file__).resolve()), "stock-brian2", str(path), str(result)]
    return _subprocess_json(cmd, result, timeout)


def run_nest(desc: dict, python: Path | None, workdir: Path, timeout: float = 3600.0) -> dict:
    """The description in NEST 3.10 (``_nest_network.py`` run by the NEST venv's ``python``)."""
    from _nest_env import quiet_environment

    if python is None:
        return {"ok": False, "error": "no NEST venv"}
    workdir.mkdir(parents=True, exist_ok=True)
    path = save_description(desc, workdir / "network.npz")
    result = workdir / "nest.json"
    result.unlink(missing_ok=True)
    cmd = [str(python), str(HERE / "_nest_network.py"), str(path), str(result)]
    out = _subprocess_json(cmd, result, timeout, env=quiet_environment())
    if out.get("ok"):
        out["mean_rate_hz"] = rate(out["n_spikes"], desc)
    return out


def nest_interpreter(option: Path | None, *, disabled: bool, create: bool) -> tuple[Path | None, dict]:
    """The NEST venv's interpreter for a benchmark run, and a status dict for its JSON.

    ``disabled`` (``--no-nest``): never looked up.  ``create`` False (quick
    mode): only an existing venv is used, none is made.
    """
    from _nest_env import nest_python, venv_path

    status: dict[str, Any] = {"venv": str(venv_path(option)), "enabled": not disabled}
    if disabled:
        status["status"] = "skipped (--no-nest)"
        return None, status
    try:
        python = nest_python(option, create=create)
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        status.update(status="failed", error=f"{type(exc).__name__}: {exc}"[-3000:])
        return None, status
    if python is None:
        status["status"] = "skipped (no NEST venv; quick mode never creates one)"
        return None, status
    status.update(status="ok", python=str(python))
    return python, status


def peer_cell(result: dict | None, key: str) -> Any:
    """A table cell from a peer's result: the value, '-' when absent, 'failed' on failure."""
    if result is None:
        return None
    if not result.get("ok"):
        return "failed"
    return result.get(key)


def add_nest_option(parser) -> None:
    """The --nest-venv and --no-nest options of the speed benchmarks."""
    parser.add_argument(
        "--nest-venv",
        type=Path,
        default=None,
        help="NEST 3.10 virtual environment (made there if missing, except in --quick mode); "
        "default $LIFSAMPLING_NEST_VENV or ~/.cache/lifsampling/nest-venv",
    )
    parser.add_argument("--no-nest", action="store_true", help="leave NEST out")


if __name__ == "__main__":
    raise SystemExit(_child(*sys.argv[1:4]))
