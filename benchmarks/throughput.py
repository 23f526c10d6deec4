"""Throughput of LIF sampling: chain-seconds of biological time per wall-clock second.

What is measured
    :meth:`lifsampling.LIFSampler.sample` on a random 5-unit Boltzmann machine
    (``random_boltzmann_machine(5, kind="sbs", seed=0)``, default sampler
    settings: sbs neuron, renewing synapses, dt = 0.1 ms) with 1, 8 and 64
    chains in one network, for Brian2's ``"cython"`` runtime and the
    ``"cpp_standalone"`` device.  For every (chains, device) three calls of
    ``sample(10 000 ms, burn_in=0, seed=1)`` are timed (wall clock, whole call:
    code generation, compilation if any, simulation, state read-out):

    1. first call, with a clean build cache;
    2. the identical call again (nothing to compile): its wall time is the
       **run** time, and ``chains x 10 s / run`` the throughput in chain-bio-s
       per wall-s;
    3. the same call for a new target (``seed=1`` machine: other biases and
       weights, same structure).

    **build** = call 1 - call 2 (what the first use of a structure costs),
    **rebuild** = call 3 - call 2 (what a new target costs; should be ~0:
    parameters are data, not code).  The same duration and seed are used in all
    three calls because ``cpp_standalone`` compiles the run length (and, before
    lifsampling commit cbf11f2, the seed) into ``main.cpp``: changing them costs
    a recompile of that file, which is not what "rebuild" should measure.  For
    ``cpp_standalone`` Brian2's own timers are recorded too: time spent in
    ``make`` in each call and time running the compiled binary (the pure
    simulation).  ``cpp/cython`` is the ratio of the two devices' throughputs
    at the same number of chains.

Caches
    Cython extensions and standalone projects go to a fresh temporary directory
    (so "build" is a clean build), or to ``--cache-dir`` if given (then a second
    invocation shows warm-cache numbers).  The calibration is made in a
    subprocess beforehand (lifsampling's default calibration cache, or
    ``--cache-dir``), so that nothing is compiled in this process before the
    measured builds.  Brian2's Cython code does not depend on the number of
    neurons, so only the first chain count pays the Cython build.

Target
    >= 500 chain-bio-s per wall-s at 64 chains (best device).

The machine and its load matter; the JSON records the load average at the start.

Run::

    python benchmarks/throughput.py [--quick] [--out results/throughput.json] [--cache-dir DIR]

``--quick``: 1 s runs, 1 and 8 chains with Cython, 8 chains with cpp_standalone.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from pathlib import Path

import brian2
from _common import (
    Stopwatch,
    cache_directory,
    environment,
    format_table,
    log,
    paragraph,
    parse_args,
    print_report,
    write_json,
)

import lifsampling as ls

NAME = "throughput"
N_UNITS = 5
TARGET_SEEDS = (0, 1)  # the timed target, then "new target, same structure"
SIM_SEED = 1
TARGET_CHAINS = 64
TARGET_THROUGHPUT = 500.0  # chain-bio-s per wall-s

FULL = {
    "duration_ms": 10_000.0,
    "configs": [(c, d) for d in ("cython", "cpp_standalone") for c in (1, 8, 64)],
}
QUICK = {"duration_ms": 1_000.0, "configs": [(1, "cython"), (8, "cython"), (8, "cpp_standalone")]}

CALIBRATE = (
    "import sys, lifsampling as ls; "
    "ls.calibrate(cache_dir=sys.argv[2] or None, progress=False).save(sys.argv[1])"
)


def calibration_in_subprocess(cache_dir: Path | None, workdir: Path) -> tuple[ls.Calibration, float]:
    """The default calibration (cached), computed in a child process; (calibration, wall s)."""
    path = workdir / "calibration.json"
    with Stopwatch() as sw:
        subprocess.run([sys.executable, "-c", CALIBRATE, str(path), str(cache_dir or "")], check=True)
    return ls.Calibration.load(path), sw.seconds


@contextlib.contextmanager
def standalone_timers():
    """Record Brian2's cpp_standalone timers ('make', binary run) of every build in the block."""
    from brian2.devices.cpp_standalone.device import CPPStandaloneDevice

    records: list[dict] = []
    original = CPPStandaloneDevice.build

    def build(self, *args, **kwargs):
        out = original(self, *args, **kwargs)
        records.append({"make_s": self.timers["compile"]["make"], "binary_s": self.timers["run_binary"]})
        return out

    CPPStandaloneDevice.build = build
    try:
        yield records
    finally:
        CPPStandaloneDevice.build = original


def cython_modules(cache_dir: Path) -> int:
    """Number of compiled Cython extension modules in the benchmark's Cython cache."""
    return sum(1 for p in (cache_dir / "cython").glob("*") if p.suffix in (".so", ".pyd"))


def measure(n_chains: int, device: str, duration: float, calibration, cache_dir: Path, timers: list) -> dict:
    """The three timed calls of one (chains, device) configuration."""
    targets = [ls.random_boltzmann_machine(N_UNITS, kind="sbs", seed=s) for s in TARGET_SEEDS]
    calls = {}
    for label, target in (("first", targets[0]), ("run", targets[0]), ("new_target", targets[1])):
        sampler = ls.LIFSampler(
            target, calibration=calibration, device=device, cache_dir=cache_dir, progress=False
        )
        n_before, modules_before = len(timers), cython_modules(cache_dir)
        with Stopwatch() as sw:
            result = sampler.sample(duration, n_chains=n_chains, seed=SIM_SEED, burn_in=0.0)
        calls[label] = {
            "wall_s": sw.seconds,
            "n_draws": int(result.sizes["draw"]),
            "cython_modules_compiled": cython_modules(cache_dir) - modules_before,
        }
        if len(timers) > n_before:
            calls[label].update(timers[-1])
        log(f"  {device:>14} {n_chains:>3} chains, {label:>10}: {sw.seconds:7.2f} s")
    run = calls["run"]["wall_s"]
    bio = n_chains * duration / 1000.0
    row = {
        "n_chains": n_chains,
        "device": device,
        "duration_ms": duration,
        "chain_bio_s": bio,
        "build_s": calls["first"]["wall_s"] - run,
        "rebuild_s": calls["new_target"]["wall_s"] - run,
        "run_s": run,
        "chain_bio_s_per_wall_s": bio / run,
        "calls": calls,
    }
    if "binary_s" in calls["run"]:
        row["simulation_only_chain_bio_s_per_wall_s"] = bio / calls["run"]["binary_s"]
    return row


def main(argv=None) -> int:
    args = parse_args(NAME, __doc__, None, argv)
    settings = dict(QUICK if args.quick else FULL)
    duration = settings["duration_ms"]
    env = environment()

    with Stopwatch() as total, cache_directory(args.cache_dir, "lifsampling-throughput-") as cache:
        log("calibration (subprocess, cached) ...")
        calibration, cal_s = calibration_in_subprocess(args.cache_dir, cache)
        brian2.prefs.codegen.runtime.cython.cache_dir = str(cache / "cython")
        rows = []
        with standalone_timers() as timers:
            for n_chains, device in settings["configs"]:
                rows.append(measure(n_chains, device, duration, calibration, cache, timers))

    by_key = {(r["n_chains"], r["device"]): r for r in rows}
    for r in rows:
        other = by_key.get((r["n_chains"], "cython"))
        if r["device"] == "cpp_standalone" and other is not None:
            r["cpp_over_cython"] = r["chain_bio_s_per_wall_s"] / other["chain_bio_s_per_wall_s"]
    at_target = [r for r in rows if r["n_chains"] == TARGET_CHAINS]
    best = max(at_target, key=lambda r: r["chain_bio_s_per_wall_s"]) if at_target else None
    target = {
        "n_chains": TARGET_CHAINS,
        "limit_chain_bio_s_per_wall_s": TARGET_THROUGHPUT,
        "best_device": best["device"] if best else None,
        "best_chain_bio_s_per_wall_s": best["chain_bio_s_per_wall_s"] if best else None,
        "met": bool(best and best["chain_bio_s_per_wall_s"] >= TARGET_THROUGHPUT),
    }

    headers = ["chains", "device", "build s", "rebuild s", "run s", "chain-bio-s/wall-s", "cpp/cython"]
    headers += ["compiled in 1st/new/run", "binary s", "sim-only bio-s/wall-s"]
    table = []
    for r in rows:
        c = [r["calls"][k] for k in ("first", "new_target", "run")]
        if "make_s" in c[2]:
            compiled = "/".join(f"{x['make_s']:.1f}" for x in c) + " s make"
        else:
            compiled = "/".join(str(x["cython_modules_compiled"]) for x in c) + " Cython modules"
        table.append(
            [r["n_chains"], r["device"], r["build_s"], r["rebuild_s"], r["run_s"]]
            + [r["chain_bio_s_per_wall_s"], r.get("cpp_over_cython"), compiled, c[2].get("binary_s")]
            + [r.get("simulation_only_chain_bio_s_per_wall_s")]
        )
    description = paragraph(
        f"LIFSampler on a {N_UNITS}-unit sbs-style BM (renewing synapses, dt 0.1 ms), "
        f"{duration / 1000:g} s biological time per chain per call, burn-in 0, seed {SIM_SEED}.",
        "build = first call - identical second call (clean cache); rebuild = call with a new target "
        "(same structure, duration, seed) - second call; run = wall time of the second call, "
        "whole sample() call.  compiled: Cython extension modules built in each call (cython), "
        "time in 'make' (cpp_standalone); binary: time running the compiled simulation.",
    )
    if best:
        verdict = (
            f"target >= {TARGET_THROUGHPUT:g} chain-bio-s/wall-s at {TARGET_CHAINS} chains: "
            f"{'met' if target['met'] else 'NOT met'} (best: {best['device']}, "
            f"{best['chain_bio_s_per_wall_s']:.0f})"
        )
    else:
        verdict = f"target at {TARGET_CHAINS} chains: not measured in this mode"
    verdict += (
        f"\ncalibration (subprocess) {cal_s:.1f} s; total {total.seconds:.1f} s; the machine has "
        f"{env['cpu_usable']} usable CPUs and load average {env['load_average_1_5_15min']} at the start: "
        "timings are noisy"
    )
    title = f"throughput ({'quick' if args.quick else 'full'})"
    print_report(title, env, [description, format_table(headers, table), verdict])

    write_json(
        args.out,
        NAME,
        {
            "quick": args.quick,
            "settings": {
                "duration_ms": duration,
                "burn_in_ms": 0.0,
                "n_units": N_UNITS,
                "target_seeds": list(TARGET_SEEDS),
                "sim_seed": SIM_SEED,
                "configs": [list(c) for c in settings["configs"]],
                "cache_dir": str(args.cache_dir) if args.cache_dir else "temporary",
            },
            "calibration": {"v_p05": calibration.v_p05, "alpha": calibration.alpha, "wall_s": cal_s},
            "rows": rows,
            "target": target,
            "wall_time_s": total.seconds,
        },
        env,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
