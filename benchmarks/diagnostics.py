"""Speed of the convergence diagnostics: diagnose() on 8 chains x 100 000 draws x 20 units.

What is measured
    The wall time (``time.perf_counter``) of :func:`lifsampling.diagnose` on
    one result of 8 chains x 100 000 draws x 20 units: the whole call, i.e.
    arviz bulk/tail/mean ESS and rank-normalised R-hat of every unit and of the
    energy, MCSE, switch counts, the exact target distribution over 2^20 joint
    states (the target is read from the result, so every call enumerates it as
    a user's call would), DKL in both directions, DKL against sampled time
    (20 points), TVD, the most over- and under-sampled states and the verdict.
    Next to it, in the same run and on the same data:
    :func:`lifsampling.to_inference_data` and the peer a user would otherwise
    call, ``arviz.summary(idata, var_names=["states", "energy"])`` (mean, sd,
    HDI, MCSE, ESS bulk/tail and R-hat of every unit and of the energy).  The
    three calls are timed in turn in each of ``--repeats`` rounds (so that a
    burst of load hits all of them alike); the table shows the best and the
    median round, and the ratio of every call's best time to the best time of
    ``az.summary``, which depends much less on the machine than the seconds
    do.  Once after that: :func:`lifsampling.write_report` of the result
    (diagnose again plus every figure and the HTML page, written to a
    temporary directory), and the peak memory that ``diagnose`` allocates
    (``tracemalloc``, in an extra, untimed call: tracing slows allocation).
    An untimed warm-up (all four calls on the first 500 draws) absorbs the
    lazy imports (scipy.stats, matplotlib and its fonts) before the timed rounds.

Data
    Realistic autocorrelated 0/1 samples: :class:`lifsampling.GibbsSampler`
    (systematic scan, one sweep per draw, ``sweep_time`` = 1 ms) on
    ``random_boltzmann_machine(20, seed=0)`` (sbs-style: W, b ~ N(0, 1)),
    8 chains x 100 000 sweeps after 500 sweeps of burn-in, seed 1, wrapped
    with ``make_result(states, sample_interval=1.0, sampler="gibbs",
    target=bm)``.  Its integrated autocorrelation times are a few draws
    (reported in the JSON and below the table).  Generating it takes about
    8 s, so no synthetic substitute is needed; its time is reported but not
    part of any measurement.  With 2^20 joint states and about 5 x 10^5
    effective samples, ``diagnose`` warns that the DKL cannot be judged yet:
    the benchmark silences :class:`lifsampling.DiagnosticsWarning` and records
    whether one was raised and what it said.

Target
    ``diagnose`` under 10 s at 8 chains x 100 000 draws x 20 units (judged on
    the best round; the median round is reported too).

Timing numbers depend on the machine and on what else runs on it; the JSON
records the load average at the start and at the end of the run.

Run::

    python benchmarks/diagnostics.py [--quick] [--repeats N] [--out results/diagnostics.json]

``--quick``: 2 chains x 2 000 draws x 8 units, one round (a smoke test; its
times are not meaningful).  ``--cache-dir`` is accepted for uniformity and
not used (nothing is compiled or calibrated).
"""

from __future__ import annotations

import functools
import os
import resource
import statistics
import tempfile
import tracemalloc
import warnings
from collections.abc import Callable
from typing import Any

import arviz as az
from _common import (
    Stopwatch,
    environment,
    format_table,
    log,
    paragraph,
    parse_args,
    print_report,
    write_json,
)

import lifsampling as ls

NAME = "diagnostics"
TARGET_S = 10.0
TARGET_SIZE = (8, 100_000, 20)  # chains, draws, units of the requirement
TARGET_SEED = 0
SIM_SEED = 1
SWEEP_TIME_MS = 1.0  # one Gibbs sweep per draw
SAMPLE_INTERVAL_MS = 1.0
SUMMARY_VARS = ["states", "energy"]
WARMUP_DRAWS = 500

FULL = {"n_chains": 8, "n_draws": 100_000, "n_units": 20, "burn_in_sweeps": 500, "repeats": 3}
QUICK = {"n_chains": 2, "n_draws": 2_000, "n_units": 8, "burn_in_sweeps": 100, "repeats": 1}

STEPS = ("diagnose", "to_inference_data", "az_summary")
LABELS = {
    "diagnose": "lifsampling.diagnose(result)",
    "to_inference_data": "lifsampling.to_inference_data(result)",
    "az_summary": 'az.summary(idata, var_names=["states", "energy"])',
    "to_inference_data+az_summary": "to_inference_data + az.summary",
    "write_report": "lifsampling.write_report(result, dir, bm)",
}


def add_arguments(parser) -> None:
    parser.add_argument(
        "--repeats",
        type=int,
        default=None,
        help=f"timed rounds (default: {FULL['repeats']}, --quick: {QUICK['repeats']})",
    )


def make_data(settings: dict) -> tuple[ls.BoltzmannMachine, Any, float]:
    """(target, result, wall s): Gibbs samples of the random target, wrapped with make_result."""
    bm = ls.random_boltzmann_machine(settings["n_units"], seed=TARGET_SEED)
    sampler = ls.GibbsSampler(bm, sweep_time=SWEEP_TIME_MS)
    with Stopwatch() as sw:
        run = sampler.sample(
            settings["n_draws"] * SWEEP_TIME_MS,
            n_chains=settings["n_chains"],
            seed=SIM_SEED,
            burn_in=settings["burn_in_sweeps"] * SWEEP_TIME_MS,
        )
    result = ls.make_result(
        run.states.values,
        sample_interval=SAMPLE_INTERVAL_MS,
        sampler="gibbs",
        target=bm,
        attrs={
            "seed": SIM_SEED,
            "sweep_time_ms": SWEEP_TIME_MS,
            "burn_in_sweeps": settings["burn_in_sweeps"],
        },
    )
    return bm, result, sw.seconds


class WarningLog:
    """Record (and so silence) every warning of the ``with`` blocks it is used in.

    DiagnosticsWarnings are the expected ones (kept by message); any other
    warning is counted and logged once on stderr, so nothing is lost.
    """

    def __init__(self) -> None:
        self.diagnostics: list[str] = []
        self.other: list[str] = []

    def __call__(self, fn: Callable[[], Any]) -> Any:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = fn()
        for w in caught:
            text = f"{w.category.__name__}: {w.message}"
            if issubclass(w.category, ls.DiagnosticsWarning):
                if str(w.message) not in self.diagnostics:
                    self.diagnostics.append(str(w.message))
            elif text not in self.other:
                self.other.append(text)
                log(f"  (warning) {text}")
        return out


def timed(fn: Callable[[], Any], record: WarningLog) -> tuple[Any, float]:
    """(return value, wall s) of ``fn()`` with its warnings recorded."""
    with Stopwatch() as sw:
        out = record(fn)
    return out, sw.seconds


def peak_memory_of(fn: Callable[[], Any], record: WarningLog) -> float:
    """Peak MiB allocated (Python objects and NumPy arrays) during ``fn()``, by tracemalloc."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        record(fn)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return (peak - base) / 2**20


def maxrss_mib() -> float:
    """Largest resident set size of this process so far [MiB] (Linux reports kiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def step_row(step: str, times: list[float], reference: float | None, size: str) -> dict:
    best = min(times)
    return {
        "step": step,
        "call": LABELS[step],
        "size": size,
        "repeats": len(times),
        "times_s": times,
        "best_s": best,
        "median_s": statistics.median(times),
        "ratio_to_az_summary": None if reference is None else best / reference,
    }


def main(argv=None) -> int:
    args = parse_args(NAME, __doc__, add_arguments, argv)
    settings = dict(QUICK if args.quick else FULL)
    if args.repeats is not None:
        if args.repeats < 1:
            raise SystemExit("--repeats must be >= 1")
        settings["repeats"] = args.repeats
    env = environment()
    record = WarningLog()
    size = f"{settings['n_chains']} x {settings['n_draws']} x {settings['n_units']}"

    with Stopwatch() as total:
        log(f"sampling {size} (chains x draws x units) with GibbsSampler ...")
        bm, result, data_s = make_data(settings)
        log(f"  {data_s:.1f} s")

        log("warm-up (imports) ...")
        small = result.isel(draw=slice(0, min(WARMUP_DRAWS, settings["n_draws"])))
        warmup = WarningLog()  # its warnings (a short run) are not the benchmark's
        with Stopwatch() as sw_warm:
            warmup(lambda: ls.diagnose(small))
            warmup(lambda: az.summary(ls.to_inference_data(small), var_names=SUMMARY_VARS))
            with tempfile.TemporaryDirectory(prefix="lifsampling-diagnostics-") as tmp:
                warmup(lambda: ls.write_report({"warm-up": small}, tmp))  # bm stays unenumerated
        log(f"  {sw_warm.seconds:.1f} s")

        times: dict[str, list[float]] = {step: [] for step in STEPS}
        diag = None
        for r in range(settings["repeats"]):
            diag, t_diag = timed(lambda: ls.diagnose(result), record)
            idata, t_idata = timed(lambda: ls.to_inference_data(result), record)
            _, t_summary = timed(functools.partial(az.summary, idata, var_names=SUMMARY_VARS), record)
            del idata
            for step, t in zip(STEPS, (t_diag, t_idata, t_summary), strict=True):
                times[step].append(t)
            log(
                f"round {r + 1}/{settings['repeats']}: diagnose {t_diag:.2f} s, to_inference_data "
                f"{t_idata:.2f} s, az.summary {t_summary:.2f} s"
            )
        times["to_inference_data+az_summary"] = [
            a + b for a, b in zip(times["to_inference_data"], times["az_summary"], strict=True)
        ]

        log("write_report (figures included) ...")
        with tempfile.TemporaryDirectory(prefix="lifsampling-diagnostics-") as tmp:
            # a mapping label -> result (older write_report took a bare Dataset, itself a
            # Mapping, for a mapping of its variables)
            report, t_report = timed(lambda: ls.write_report({"gibbs": result}, tmp, bm), record)
            html_kib = report.html_path.stat().st_size / 1024
        times["write_report"] = [t_report]
        log(f"  {t_report:.1f} s")

        log("peak memory of diagnose (tracemalloc, untimed) ...")
        peak_mib = peak_memory_of(lambda: ls.diagnose(result), record)
        log(f"  {peak_mib:.0f} MiB")

    reference = min(times["az_summary"])
    rows = [step_row(step, t, reference, size) for step, t in times.items()]
    by_step = {row["step"]: row for row in rows}
    best, median = by_step["diagnose"]["best_s"], by_step["diagnose"]["median_s"]
    at_target_size = (settings["n_chains"], settings["n_draws"], settings["n_units"]) == TARGET_SIZE
    passed = bool(at_target_size and best < TARGET_S)
    ok = diag.units.status.values == "ok"
    data = {
        "generator": "GibbsSampler (systematic scan, one sweep per draw)",
        "generation_wall_s": data_s,
        "states_mib": result.states.nbytes / 2**20,
        "diagnose_status": diag.status,
        "tau_int_draws_units_median": float(
            statistics.median(diag.units.tau_int.values[ok] / SAMPLE_INTERVAL_MS)
        )
        if ok.any()
        else None,
        "tau_int_draws_units_max": float(diag.units.tau_int.values[ok].max() / SAMPLE_INTERVAL_MS)
        if ok.any()
        else None,
        "tau_int_draws_energy": diag.energy["tau_int"] / SAMPLE_INTERVAL_MS,
        "ess_bulk_energy": diag.energy["ess_bulk"],
        "max_rhat": diag.summary_row()["max_rhat"],
        "dkl_target_sampled": diag.divergence.dkl_target_sampled,
        "tvd": diag.tvd,
    }

    headers = ["call", "size", "rounds", "best s", "median s", "/ az.summary", "target s", "pass"]
    table_rows = []
    for row in rows:
        is_diag = row["step"] == "diagnose"
        table_rows.append(
            [row["call"], row["size"], row["repeats"], row["best_s"], row["median_s"]]
            + [row["ratio_to_az_summary"], TARGET_S if is_diag else None]
            + [passed if is_diag and at_target_size else None]
        )
    description = paragraph(
        f"Data: GibbsSampler on random_boltzmann_machine({settings['n_units']}, seed={TARGET_SEED}), "
        f"one sweep per draw, {settings['n_chains']} chains x {settings['n_draws']} draws after "
        f"{settings['burn_in_sweeps']} sweeps burn-in (generated in {data_s:.1f} s, not timed below); "
        f"tau_int of the units {data['tau_int_draws_units_median']:.2f} (median) to "
        f"{data['tau_int_draws_units_max']:.2f} (max) draws, of the energy "
        f"{data['tau_int_draws_energy']:.2f} draws.",
        f"Each call timed in {settings['repeats']} round(s), wall clock; '/ az.summary' = best time over "
        "the best time of az.summary in the same run.  write_report (once) diagnoses again and draws "
        "every figure.",
    )
    load_end = [round(x, 2) for x in os.getloadavg()]
    verdict_lines = [
        f"target: diagnose under {TARGET_S:g} s at {TARGET_SIZE[0]} x {TARGET_SIZE[1]} x {TARGET_SIZE[2]}: "
        + (
            f"{'met' if passed else 'NOT met'} (best {best:.2f} s, median {median:.2f} s; "
            f"{by_step['diagnose']['ratio_to_az_summary']:.2f} x az.summary)"
            if at_target_size
            else "not measured in this mode"
        ),
        f"peak memory allocated by diagnose: {peak_mib:.0f} MiB (tracemalloc; the states are "
        f"{data['states_mib']:.0f} MiB as int8); process max RSS {maxrss_mib():.0f} MiB",
        "DiagnosticsWarning: "
        + (f"raised ({len(record.diagnostics)} distinct), silenced" if record.diagnostics else "none"),
        f"load average {env['load_average_1_5_15min']} at the start, {load_end} at the end "
        f"({env['cpu_usable']} usable CPUs): timings are noisy; total {total.seconds:.1f} s",
    ]
    if args.quick:
        verdict_lines.append("--quick: small data, the times and the target check are not meaningful")
    title = f"diagnostics ({'quick' if args.quick else 'full'})"
    print_report(title, env, [description, format_table(headers, table_rows), "\n".join(verdict_lines)])

    write_json(
        args.out,
        NAME,
        {
            "quick": args.quick,
            "settings": {
                **settings,
                "target_seed": TARGET_SEED,
                "target_kind": "sbs",
                "sim_seed": SIM_SEED,
                "sweep_time_ms": SWEEP_TIME_MS,
                "sample_interval_ms": SAMPLE_INTERVAL_MS,
                "summary_var_names": SUMMARY_VARS,
                "warmup_draws": WARMUP_DRAWS,
                "arviz": az.__version__,
            },
            "data": data,
            "rows": rows,
            "diagnose_best_s": best,
            "diagnose_median_s": median,
            "az_summary_best_s": reference,
            "ratio_diagnose_to_az_summary": by_step["diagnose"]["ratio_to_az_summary"],
            "target_s": TARGET_S,
            "target_size": list(TARGET_SIZE),
            "at_target_size": at_target_size,
            "passed": passed,
            "median_passed": bool(at_target_size and median < TARGET_S),
            "write_report": {"wall_s": t_report, "html_kib": html_kib},
            "memory": {"diagnose_peak_mib": peak_mib, "maxrss_mib": maxrss_mib()},
            "diagnostics_warning": {"raised": bool(record.diagnostics), "messages": record.diagnostics},
            "other_warnings": record.other,
            "warmup_wall_s": sw_warm.seconds,
            "load_average_end": load_end,
            "wall_time_s": total.seconds,
        },
        env,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
