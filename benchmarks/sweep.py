"""Scale-out: a sweep of 16 LIF runs serially, on local processes and on a 2-worker Dask cluster.

What is measured
    The wall time of :func:`lifsampling.sample_many` for one parameter sweep
    of 16 runs — 4 random 5-unit sbs-style Boltzmann machines
    (``random_boltzmann_machine(5, kind="sbs", seed=t)``, t = 0..3) x 4
    simulator seeds (1..4), each run 8 chains x 10 000 ms (+500 ms burn-in) of
    :class:`lifsampling.LIFSampler` (sbs neuron, private Poisson noise,
    renewing synapses, analytic translation, ``--device`` cython by default) —
    executed three ways:

    * ``serial``: ``max_workers=1``, every run in this process, one after the
      other (first and, in full runs, again last);
    * ``processes``: ``max_workers=2``, two local worker processes (``spawn``),
      started by the call (their start-up and Brian2 import are included);
    * ``dask``: ``client=`` a :func:`lifsampling.local_cluster` of 2 worker
      processes (1 thread each), the first sweep on fresh workers and a second
      one on warm workers; the cluster's start-up is timed separately.

How it compares
    Speed-up = serial wall time / wall time, with the faster of two serial
    sweeps (one first, one last: the machine's load may change in between).
    Every way must return the same states, run for run, as the serial sweep
    (same seeds): ``identical``.

Targets
    The Dask sweep returns the serial samples and is faster than serial
    (speed-up > 1; the ideal on 2 free cores is 2).

The calibration is made (or loaded from the cache) once, before timing, and a
short warm-up run in this process compiles the network structure, whose Cython
build every worker then loads from Brian2's on-disk cache.  Timing depends on
what else runs on the machine: the load average is recorded.

Run::

    python benchmarks/sweep.py [--quick] [--device cython|numpy|cpp_standalone] [--out results/sweep.json]

``--quick``: 4 runs (2 targets x 2 seeds) of 2 chains x 200 ms, no warm Dask sweep (a smoke
test; the speed-ups are not meaningful).
``--cache-dir``: lifsampling cache for the calibration (default: lifsampling's own).
"""

from __future__ import annotations

import os

import numpy as np
from _common import Stopwatch, environment, format_table, log, paragraph, parse_args, print_report, write_json

import lifsampling as ls

NAME = "sweep"
N_UNITS = 5
N_WORKERS = 2

FULL = {
    "target_seeds": [0, 1, 2, 3],
    "run_seeds": [1, 2, 3, 4],
    "n_chains": 8,
    "duration_ms": 10_000.0,
    "burn_in_ms": 500.0,
    "calibration": {},
}
QUICK = {
    "target_seeds": [0, 1],
    "run_seeds": [1, 2],
    "n_chains": 2,
    "duration_ms": 200.0,
    "burn_in_ms": 100.0,
    "calibration": {"n_points": 30, "duration": 3000.0, "prescan_duration": 500.0, "seed": 1234},
}


def add_arguments(parser) -> None:
    parser.add_argument(
        "--device", choices=("cython", "numpy", "cpp_standalone"), default="cython", help="Brian2 device"
    )


def make_runs(settings: dict, calibration: ls.Calibration, device: str, cache_dir) -> list[ls.Run]:
    """The 16 runs of the sweep: targets x seeds."""
    runs = []
    for t in settings["target_seeds"]:
        sampler = ls.LIFSampler(
            ls.random_boltzmann_machine(N_UNITS, kind="sbs", seed=t),
            calibration=calibration,
            interactions=None,
            device=device,
            cache_dir=cache_dir,
            progress=False,
        )
        for s in settings["run_seeds"]:
            runs.append(
                ls.Run(
                    sampler,
                    settings["duration_ms"],
                    n_chains=settings["n_chains"],
                    seed=s,
                    burn_in=settings["burn_in_ms"],
                )
            )
    return runs


def identical(results, reference) -> bool:
    return len(results) == len(reference) and all(
        np.array_equal(a.states.values, b.states.values) and a.attrs["seed"] == b.attrs["seed"]
        for a, b in zip(results, reference, strict=True)
    )


def timed(label: str, workers: int, call, reference=None) -> tuple[dict, list]:
    log(f"{label} ...")
    with Stopwatch() as sw:
        results = call()
    row = {"mode": label, "workers": workers, "wall_s": sw.seconds, "load_average_1min": os.getloadavg()[0]}
    row["identical"] = True if reference is None else identical(results, reference)
    log(f"  {sw.seconds:.1f} s, identical to serial: {row['identical']}")
    return row, results


def main(argv=None) -> int:
    args = parse_args(NAME, __doc__, add_arguments, argv)
    settings = dict(QUICK if args.quick else FULL)
    env = environment()
    from distributed import Client

    with Stopwatch() as total:
        log("calibrating (or loading the cached calibration) ...")
        with Stopwatch() as sw_cal:
            calibration = ls.calibrate(
                ls.NeuronParameters.preset("sbs"),
                ls.PoissonNoise.preset("sbs"),
                dt=0.1,
                cache_dir=args.cache_dir,
                progress=False,
                **settings["calibration"],
            )
        runs = make_runs(settings, calibration, args.device, args.cache_dir)
        log("warm-up run (compiles the network structure on first use) ...")
        with Stopwatch() as sw_warm:
            runs[0].sampler.sample(10.0, n_chains=settings["n_chains"], seed=0, burn_in=0.0)

        serial_row, serial = timed("serial", 1, lambda: ls.sample_many(runs, max_workers=1))
        rows = [serial_row]
        row, _ = timed("processes", N_WORKERS, lambda: ls.sample_many(runs, max_workers=N_WORKERS), serial)
        rows.append(row)
        log(f"starting a {N_WORKERS}-worker LocalCluster ...")
        with Stopwatch() as sw_cluster:
            cluster = ls.local_cluster(N_WORKERS)
            client = Client(cluster)
        try:
            for label in ("dask",) if args.quick else ("dask", "dask (warm)"):
                row, _ = timed(label, N_WORKERS, lambda: ls.sample_many(runs, client=client), serial)
                rows.append(row)
        finally:
            client.close()
            cluster.close()
        if not args.quick:  # the machine's load may have changed since the first serial sweep
            row, _ = timed("serial (again)", 1, lambda: ls.sample_many(runs, max_workers=1), serial)
            rows.append(row)
    reference = min(r["wall_s"] for r in rows if r["workers"] == 1)
    for row in rows:
        row["speedup"] = reference / row["wall_s"]

    dask_rows = [r for r in rows if r["mode"].startswith("dask")]
    dask_row = dask_rows[0]
    targets = {
        "serial_reference_s": reference,
        "dask_identical": all(r["identical"] for r in dask_rows),
        "dask_speedup": dask_row["speedup"],
        "dask_warm_speedup": dask_rows[-1]["speedup"],
        "dask_faster_than_serial": bool(dask_row["speedup"] > 1.0),
        "all_identical": all(r["identical"] for r in rows),
    }
    chain_seconds = len(runs) * settings["n_chains"] * settings["duration_ms"] / 1000.0
    headers = ["mode", "workers", "wall s", "speed-up", "identical", "load after"]
    table = format_table(
        headers,
        [
            [r["mode"], r["workers"], r["wall_s"], r["speedup"], r["identical"], r["load_average_1min"]]
            for r in rows
        ],
    )
    description = paragraph(
        f"{len(runs)} LIFSampler runs: {len(settings['target_seeds'])} random {N_UNITS}-unit sbs-style "
        f"BMs x seeds {settings['run_seeds']}, {settings['n_chains']} chains x "
        f"{settings['duration_ms']:g} ms "
        f"(+{settings['burn_in_ms']:g} ms burn-in) each = {chain_seconds:g} chain-seconds; "
        f"device {args.device}, analytic translation.",
        "processes: sample_many(max_workers=2), start-up of the processes included; dask: a 2-worker "
        "local_cluster (started beforehand), fresh workers, then warm workers.",
        "load after: the 1-minute load average when the mode finished; other work on the machine "
        "takes cores from the parallel modes first.",
    )
    verdict = "\n".join(
        [
            f"Dask sweep identical to serial: {'yes' if targets['dask_identical'] else 'NO'}; "
            f"speed-up {targets['dask_speedup']:.2f}x (warm {targets['dask_warm_speedup']:.2f}x, "
            f"ideal {N_WORKERS}x): faster than serial "
            f"{'yes' if targets['dask_faster_than_serial'] else 'NO'}",
            f"cluster start-up {sw_cluster.seconds:.1f} s (not in the Dask wall times); calibration "
            f"{sw_cal.seconds:.1f} s; warm-up {sw_warm.seconds:.1f} s; total {total.seconds:.1f} s",
        ]
        + (["--quick: short runs, the speed-ups are not meaningful"] if args.quick else [])
    )
    title = f"sweep ({'quick' if args.quick else 'full'})"
    print_report(title, env, [description, table, verdict])
    write_json(
        args.out,
        NAME,
        {
            "quick": args.quick,
            "settings": {
                **settings,
                "n_runs": len(runs),
                "n_units": N_UNITS,
                "n_workers": N_WORKERS,
                "device": args.device,
                "interactions": None,
            },
            "calibration": {"v_p05": calibration.v_p05, "alpha": calibration.alpha, "wall_s": sw_cal.seconds},
            "warmup_wall_s": sw_warm.seconds,
            "cluster_start_s": sw_cluster.seconds,
            "rows": rows,
            "targets": targets,
            "wall_time_s": total.seconds,
        },
        env,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
