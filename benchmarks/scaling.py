"""Scaling of the simulation engine: neuron-updates per second at N = 10 … 10 000, next to its peers.

What is measured
    N sampling neurons (sbs neuron, private Poisson background, dt = 0.1 ms)
    in recurrent all-to-all blocks of 100 (N = 10: one block of 10), additive
    synapses (so that all three simulators run the identical model), with
    fixed-seed random weights and leak potentials drawn from the translation
    of ``random_boltzmann_machine(5, kind="sbs", seed=0)`` (the magnitude of a
    real sampling network; see ``_peers.recurrent_blocks``), for
    N = 10, 100, 1000, 10 000.  Durations: 10 s of biological time for
    N <= 1000, 1 s for N = 10 000 (recorded in the JSON), so that a full run
    takes minutes.  Throughput is **neuron-updates per second**,
    ``N x steps / wall s``.

    * **ours**: ``lifsampling._network.simulate`` (the engine under
      ``LIFSampler``), default device unless ``--device``; called twice, the
      second (warm) call's wall time is the run time (whole call: code
      generation, any compilation, simulation, spike hand-over); sim-only:
      Brian2's binary run time of that call when Brian2 ran the binary (a
      warm call that reruns a compiled project does not go through Brian2's
      build, so it shows '-').
    * **stock Brian2**: what a Brian2 user would write: ``NeuronGroup`` with the
      equations as a string, ``Synapses`` with ``on_pre``, two ``PoissonInput``\\ s
      per neuron (1000 sources x rate/1000: binomial per-step counts, Poisson to
      within 0.03 % in the variance), ``SpikeMonitor``, cpp_standalone in a
      fresh project directory, in a subprocess; its binary run time (sim-only)
      and its whole call (including compilation).
    * **NEST 3.10**: ``iaf_cond_exp``, ``poisson_generator``\\ s (an independent
      train per target), ``static_synapse``, one thread, in its own venv
      (``_nest_env.py``); ``Simulate()`` time and the whole process.

    The ratios ours/stock and ours/NEST compare our warm whole call with the
    peers' simulation alone (conservative); the sim-only ratio
    (binary vs binary vs ``Simulate()``) is in the JSON.  Mean firing rates of
    all three are reported: the same model should give the same rates.

Run::

    python benchmarks/scaling.py [--quick] [--out results/scaling.json] [--cache-dir DIR]
        [--nest-venv PATH | --no-nest] [--device cpp_standalone|cython]

``--quick``: N = 10 and 100, 0.2 s each; NEST only if its venv already exists
(never created in quick mode).  The NEST venv is made on first use otherwise
(``pip install nest-simulator==3.10.0``).  ``--cache-dir``: where our compiled
code goes (default: a temporary directory, so the first call is a clean build).
"""

from __future__ import annotations

import os

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
from _peers import (
    BLOCK,
    add_nest_option,
    nest_interpreter,
    peer_cell,
    recurrent_blocks,
    run_nest,
    run_ours,
    run_stock_brian2,
    summary,
    translation_in_subprocess,
)

NAME = "scaling"
SEED = 1
FULL = {"sizes": [(10, 10_000.0), (100, 10_000.0), (1000, 10_000.0), (10_000, 1_000.0)]}
QUICK = {"sizes": [(10, 200.0), (100, 200.0)]}


def add_arguments(parser) -> None:
    add_nest_option(parser)
    parser.add_argument(
        "--device",
        default=None,
        help="lifsampling's device for 'ours' (default: simulate()'s default device)",
    )


def updates_per_s(n: int, duration: float, dt: float, seconds: float | None) -> float | None:
    if seconds is None or seconds <= 0:
        return None
    return n * round(duration / dt) / seconds


def with_updates(result: dict | None, n, duration, dt, sim_key: str, whole_key: str) -> dict | None:
    if result is None:
        return None
    out = dict(result)
    if out.get("ok"):
        out["updates_per_s"] = updates_per_s(n, duration, dt, out.get(sim_key))
        out["whole_updates_per_s"] = updates_per_s(n, duration, dt, out.get(whole_key))
    return out


def main(argv=None) -> int:
    args = parse_args(NAME, __doc__, add_arguments, argv)
    settings = dict(QUICK if args.quick else FULL)
    env = environment()

    with Stopwatch() as total, cache_directory(args.cache_dir, "lifsampling-scaling-") as cache:
        python, nest_status = nest_interpreter(args.nest_venv, disabled=args.no_nest, create=not args.quick)
        log(f"NEST: {nest_status['status']}")
        log("calibration and translation of the 5-unit BM (subprocess, cached) ...")
        translation = translation_in_subprocess(args.cache_dir, cache / "translation")
        rows = []
        for n, duration in settings["sizes"]:
            desc = recurrent_blocks(translation, n, duration=duration, seed=SEED)
            dt = desc["dt"]
            log(f"N = {n}: ours ...")
            ours = run_ours(desc, device=args.device, cache_dir=cache)
            if ours.get("ok"):
                ours["updates_per_s"] = updates_per_s(n, duration, dt, ours["run_s"])
                ours["simulation_only_updates_per_s"] = updates_per_s(n, duration, dt, ours["binary_s"])
            else:
                log(f"  ours failed: {ours['error']}")
            log(f"N = {n}: stock Brian2 ...")
            stock = with_updates(
                run_stock_brian2(desc, cache / "peers" / f"n_{n}"), n, duration, dt, "binary_s", "whole_s"
            )
            nest = None
            if python is not None:
                log(f"N = {n}: NEST ...")
                result = run_nest(desc, python, cache / "peers" / f"n_{n}")
                nest = with_updates(result, n, duration, dt, "simulate_s", "process_s")
            row = {
                "n_neurons": n,
                "duration_ms": duration,
                "steps": round(duration / dt),
                "network": summary(desc),
                "ours": ours,
                "stock_brian2": stock,
                "nest": nest,
            }
            for peer in ("stock_brian2", "nest"):
                r = row[peer]
                ok = ours.get("ok") and r is not None and r.get("ok")
                row[f"ours_over_{peer}"] = ours["updates_per_s"] / r["updates_per_s"] if ok else None
                sim = ours.get("simulation_only_updates_per_s") if ok else None
                row[f"ours_over_{peer}_simulation_only"] = None if sim is None else sim / r["updates_per_s"]
            rows.append(row)

    load_end = [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None
    headers = ["N", "bio s", "synapses", "ours", "ours sim-only", "stock Brian2", "NEST"]
    headers += ["ours/stock", "ours/NEST", "stock whole", "NEST whole", "ours 1st call s"]
    headers += ["rate ours/stock/NEST Hz"]
    table = []
    for r in rows:
        o, s, n = r["ours"], r["stock_brian2"], r["nest"]
        rates = [x.get("mean_rate_hz") if x and x.get("ok") else None for x in (o, s, n)]
        table.append(
            [r["n_neurons"], r["duration_ms"] / 1000.0, r["network"]["n_synapses"]]
            + [peer_cell(o, "updates_per_s"), peer_cell(o, "simulation_only_updates_per_s")]
            + [peer_cell(s, "updates_per_s"), peer_cell(n, "updates_per_s")]
            + [r["ours_over_stock_brian2"], r["ours_over_nest"]]
            + [peer_cell(s, "whole_updates_per_s"), peer_cell(n, "whole_updates_per_s")]
            + [peer_cell(o, "first_s"), "/".join("-" if x is None else f"{x:.1f}" for x in rates)]
        )
    device = next((r["ours"]["device"] for r in rows if r["ours"].get("ok")), args.device or "default")
    description = paragraph(
        f"Neuron-updates per second (N x steps / wall s) of N sbs sampling neurons in recurrent "
        f"all-to-all blocks of {BLOCK}, additive synapses, private Poisson background, dt 0.1 ms, "
        f"one thread, seed {SEED}.  ours: lifsampling._network.simulate (device: {device}), warm "
        "second call, whole call; ours sim-only: its Brian2 binary run time ('-' when the warm call "
        "reruns a compiled project without Brian2's build).  stock Brian2: "
        "cpp_standalone, PoissonInput N=1000, binary run time (whole: generation + compilation in a "
        "fresh directory + run).  NEST 3.10: Simulate() (whole: the process incl. import and set-up).  "
        "ours/stock and ours/NEST: our whole warm call over the peers' simulation alone.  "
        f"NEST: {nest_status['status']}.",
    )
    footer = (
        f"calibration + translation (subprocess) {translation['wall_s']:.1f} s; total {total.seconds:.1f} s; "
        f"the machine has {env['cpu_usable']} usable CPUs and load average "
        f"{env['load_average_1_5_15min']} at the start, {load_end} at the end: timings are noisy"
    )
    title = f"scaling ({'quick' if args.quick else 'full'})"
    print_report(title, env, [description, format_table(headers, table, digits=3), footer])

    write_json(
        args.out,
        NAME,
        {
            "quick": args.quick,
            "settings": {
                "sizes": [{"n_neurons": n, "duration_ms": d} for n, d in settings["sizes"]],
                "block": BLOCK,
                "synapses": "additive",
                "seed": SEED,
                "device": args.device or "default",
                "threads": 1,
                "cache_dir": str(args.cache_dir) if args.cache_dir else "temporary",
            },
            "nest": nest_status,
            "translation": {k: translation[k] for k in ("v_rest", "w_exc", "w_inh", "weight_unit", "wall_s")},
            "rows": rows,
            "load_average_end": load_end,
            "wall_time_s": total.seconds,
        },
        env,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
