"""Accuracy of LIF sampling: DKL to the exact target, next to Gibbs references.

What is measured
    For ten random 5-unit Boltzmann machines drawn as in the sbs tests
    (``random_boltzmann_machine(5, kind="sbs", seed=s)``, s = 0..9), the
    Kullback-Leibler divergence between the exact target distribution
    (enumeration of all 32 states) and the distribution sampled by
    :class:`lifsampling.LIFSampler` with its default settings: sbs neuron,
    private Poisson background, renewing synapses (``--synapses`` to change),
    weights corrected by the measured interaction calibration
    (``--interactions none`` for the analytic translation alone),
    dt = 0.1 ms, one state read out every 1 ms.  Each target is sampled by
    8 chains x 12 500 ms of sampled time (after 500 ms burn-in) with simulator
    seed s, i.e. 100 000 draws.  Both directions of the DKL are reported (nats,
    pseudo-count 1/2 per state, see :mod:`lifsampling.divergence`), with the
    number of never-visited states and the wall time of the LIF run.

How it compares
    Two exact Gibbs samplers (:class:`lifsampling.GibbsSampler`) on the same
    target and seed: one sweep per refractory period (``sweep_time`` = 10 ms,
    the usual convention: the same sampled time, 1 250 sweeps per chain), and
    one sweep per LIF read-out (``sweep_time`` = 1 ms: the same number of draws
    as the LIF result, 12 500 per chain).  A correct sampler with the LIF
    sampler's number of effective samples would sit between the two.

Targets
    median LIF DKL(target||sampled) <= 0.02 and no target above 0.05.

The calibration is made (or loaded from lifsampling's cache) once, before the
loop, and timed separately; a 10 ms warm-up run absorbs Brian2's Cython
compilation, so the per-target wall times are pure sampling.

Run::

    python benchmarks/accuracy.py [--quick] [--synapses additive|renewing] [--interactions calibrate|none]
        [--out results/accuracy.json]

``--quick``: 2 targets, 2 chains x 1000 ms (a smoke test; its DKLs are not meaningful).
``--cache-dir``: lifsampling cache for the calibration (default: lifsampling's own).
"""

from __future__ import annotations

import numpy as np
from _common import (
    Stopwatch,
    environment,
    format_table,
    log,
    paragraph,
    parse_args,
    print_report,
    timed_sample,
    write_json,
)

import lifsampling as ls

NAME = "accuracy"
N_UNITS = 5
TARGET_MEDIAN = 0.02
TARGET_MAX = 0.05
GIBBS_SWEEP_PER_TAU_REF = 10.0  # ms: one sweep per refractory period (GibbsSampler default)
GIBBS_SWEEP_PER_DRAW = 1.0  # ms: one sweep per LIF read-out -> same number of draws

FULL = {"seeds": list(range(10)), "n_chains": 8, "duration_ms": 12_500.0, "burn_in_ms": 500.0}
QUICK = {"seeds": [0, 1], "n_chains": 2, "duration_ms": 1_000.0, "burn_in_ms": 500.0}


def add_arguments(parser) -> None:
    parser.add_argument(
        "--synapses", choices=("renewing", "additive"), default="renewing", help="LIFSampler synapse kind"
    )
    parser.add_argument(
        "--interactions",
        choices=("calibrate", "none"),
        default="calibrate",
        help="correct the weight translation with the measured interaction calibration (default) "
        "or use the analytic translation alone",
    )


def gibbs_dkl(target: ls.BoltzmannMachine, sweep_time: float, settings: dict, seed: int) -> dict:
    """DKL of a Gibbs run with the LIF run's chains, sampled time and burn-in."""
    sampler = ls.GibbsSampler(target, sweep_time=sweep_time)
    with Stopwatch() as sw:
        result = sampler.sample(
            settings["duration_ms"], n_chains=settings["n_chains"], seed=seed, burn_in=settings["burn_in_ms"]
        )
    return {**ls.kl_divergence(target, result).to_dict(), "wall_s": sw.seconds, "sweep_time_ms": sweep_time}


def run_target(
    seed: int, settings: dict, synapses: str, calibration: ls.Calibration, interactions, cache_dir
) -> dict:
    """LIF and both Gibbs references for the sbs-style target of ``seed``."""
    target = ls.random_boltzmann_machine(N_UNITS, kind="sbs", seed=seed)
    sampler = ls.LIFSampler(
        target,
        synapses=synapses,
        calibration=calibration,
        interactions=interactions,
        cache_dir=cache_dir,
        progress=False,
    )
    run = {"n_chains": settings["n_chains"], "seed": seed, "burn_in": settings["burn_in_ms"]}
    result, wall = timed_sample(sampler, settings["duration_ms"], **run)
    lif = ls.kl_divergence(target, result)
    marginal_error = np.abs(ls.marginals(result).values - target.marginals())
    return {
        "seed": seed,
        "lif": {**lif.to_dict(), "wall_s": wall, "max_marginal_error": float(marginal_error.max())},
        "gibbs_same_time": gibbs_dkl(target, GIBBS_SWEEP_PER_TAU_REF, settings, seed),
        "gibbs_same_draws": gibbs_dkl(target, GIBBS_SWEEP_PER_DRAW, settings, seed),
    }


def table_row(label, r: dict) -> list:
    return [
        label,
        r["lif"]["dkl_target_sampled"],
        r["lif"]["dkl_sampled_target"],
        r["lif"]["n_unvisited"],
        r["lif"]["max_marginal_error"],
        r["lif"]["wall_s"],
        r["gibbs_same_time"]["dkl_target_sampled"],
        r["gibbs_same_draws"]["dkl_target_sampled"],
    ]


def aggregate(rows: list[dict], reduce) -> dict:
    """Column-wise ``reduce`` (median, max) over the per-target rows, same nesting."""
    out = {}
    for part in ("lif", "gibbs_same_time", "gibbs_same_draws"):
        out[part] = {}
        for key in rows[0][part]:
            values = [r[part][key] for r in rows]
            value = float(reduce(values))
            integral = all(isinstance(v, int) for v in values) and value.is_integer()
            out[part][key] = int(value) if integral else value
    return out


def main(argv=None) -> int:
    args = parse_args(NAME, __doc__, add_arguments, argv)
    settings = dict(QUICK if args.quick else FULL)
    env = environment()

    with Stopwatch() as total:
        first = ls.random_boltzmann_machine(N_UNITS, kind="sbs", seed=settings["seeds"][0])
        probe = ls.LIFSampler(
            first,
            synapses=args.synapses,
            interactions=None if args.interactions == "none" else "calibrate",
            cache_dir=args.cache_dir,
            progress=False,
        )
        n_samples = settings["n_chains"] * settings["duration_ms"] / probe.sample_interval
        log("calibrating (or loading the cached calibration) ...")
        with Stopwatch() as sw_cal:
            calibration = probe.calibrate()
        log(f"  {calibration!r}, {probe.interactions_!r} in {sw_cal.seconds:.1f} s")
        log("warm-up run (compiles the network structure on first use) ...")
        _, warm_s = timed_sample(probe, 10.0, n_chains=settings["n_chains"], seed=0, burn_in=0.0)
        log(f"  {warm_s:.1f} s")

        rows = []
        for seed in settings["seeds"]:
            rows.append(
                run_target(seed, settings, args.synapses, calibration, probe.interactions_, args.cache_dir)
            )
            r = rows[-1]
            log(
                f"seed {seed}: LIF DKL {r['lif']['dkl_target_sampled']:.4g} in {r['lif']['wall_s']:.1f} s, "
                f"Gibbs {r['gibbs_same_time']['dkl_target_sampled']:.3g} / "
                f"{r['gibbs_same_draws']['dkl_target_sampled']:.3g}"
            )
        median, maximum = aggregate(rows, np.median), aggregate(rows, np.max)

    lif_dkls = [r["lif"]["dkl_target_sampled"] for r in rows]
    targets = {
        "median_lif_dkl_target_sampled": float(np.median(lif_dkls)),
        "median_limit": TARGET_MEDIAN,
        "median_ok": bool(np.median(lif_dkls) <= TARGET_MEDIAN),
        "max_lif_dkl_target_sampled": float(np.max(lif_dkls)),
        "max_limit": TARGET_MAX,
        "max_ok": bool(np.max(lif_dkls) <= TARGET_MAX),
        "n_above_max_limit": int(np.sum(np.asarray(lif_dkls) > TARGET_MAX)),
    }
    targets["all_ok"] = targets["median_ok"] and targets["max_ok"]

    headers = ["seed", "DKL(t||s)", "DKL(s||t)", "unvisited", "max|dp_k|", "LIF wall s"]
    headers += ["Gibbs 10ms DKL(t||s)", "Gibbs 1ms DKL(t||s)"]
    table_rows = [table_row(r["seed"], r) for r in rows] + [None]
    table_rows += [table_row("median", median), table_row("max", maximum)]
    description = paragraph(
        f"{N_UNITS}-unit sbs-style BMs, seeds {settings['seeds'][0]}-{settings['seeds'][-1]}; LIFSampler "
        f"(sbs neuron, {args.synapses} synapses, dt 0.1 ms, read-out every 1 ms), "
        f"{settings['n_chains']} chains x {settings['duration_ms']:g} ms (+{settings['burn_in_ms']:g} ms "
        f"burn-in) = {n_samples:.0f} draws per target.",
        f"Gibbs 10ms: one sweep per tau_ref (same sampled time, "
        f"{settings['duration_ms'] / GIBBS_SWEEP_PER_TAU_REF:.0f} sweeps/chain); Gibbs 1ms: same number of "
        f"draws as LIF ({settings['duration_ms'] / GIBBS_SWEEP_PER_DRAW:.0f} sweeps/chain).  DKL in nats, "
        "pseudo-count 1/2; max|dp_k| = largest marginal error of the LIF run.",
    )
    verdict = "\n".join(
        [
            f"median LIF DKL(target||sampled) = {targets['median_lif_dkl_target_sampled']:.4g} "
            f"(target <= {TARGET_MEDIAN}): {'met' if targets['median_ok'] else 'NOT met'}",
            f"max LIF DKL(target||sampled)    = {targets['max_lif_dkl_target_sampled']:.4g} "
            f"(target: none > {TARGET_MAX}): {'met' if targets['max_ok'] else 'NOT met'}",
            f"calibration: v_p05 = {calibration.v_p05:.3f} mV, alpha = {calibration.alpha:.4f} mV "
            f"({sw_cal.seconds:.1f} s, cached calibrations load instantly); warm-up {warm_s:.1f} s; "
            f"total {total.seconds:.1f} s",
        ]
        + (["--quick: short runs, the DKLs and the target check are not meaningful"] if args.quick else [])
    )
    title = f"accuracy ({'quick' if args.quick else 'full'})"
    print_report(title, env, [description, format_table(headers, table_rows), verdict])

    write_json(
        args.out,
        NAME,
        {
            "quick": args.quick,
            "settings": {
                **settings,
                "n_units": N_UNITS,
                "target_kind": "sbs",
                "synapses": args.synapses,
                "interactions": args.interactions,
                "interaction_calibration": None
                if probe.interactions_ is None
                else probe.interactions_.to_dict(),
                "dt_ms": probe.dt,
                "sample_interval_ms": probe.sample_interval,
                "device": probe.device,
                "gibbs_sweep_times_ms": [GIBBS_SWEEP_PER_TAU_REF, GIBBS_SWEEP_PER_DRAW],
            },
            "calibration": {
                "v_p05": calibration.v_p05,
                "alpha": calibration.alpha,
                "fit": calibration.fit,
                "settings": calibration.settings,
                "wall_s": sw_cal.seconds,
            },
            "warmup_wall_s": warm_s,
            "rows": rows,
            "median": median,
            "max": maximum,
            "targets": targets,
            "wall_time_s": total.seconds,
        },
        env,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
