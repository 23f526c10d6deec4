"""Inference with compiled graphical models: exact compilation, spiking posterior marginals.

What is measured
    (1) Compilation.  Seeded random Bayesian networks (3-6 variables, a random
    DAG in which every node has at most two parents and at least one has two,
    so that its CPT is a third-order factor; ``P(x = 1 | parents)`` ~
    uniform(0.05, 0.95)) and random factor graphs (3-6 variables, factors of
    order 2 and 3, at least one of order 3, in about half of those with >= 4
    variables one of order 4; log-tables ~ N(0, 1)) are compiled with
    :func:`lifsampling.compile_to_boltzmann` (default ``max_weight``).  The
    distribution of the compiled machine over the original variables is
    compared with ``model.probabilities()`` (largest absolute difference over
    the ``2**n`` joint states) in two ways: (a) ``marginal_probabilities()``,
    the auxiliary units summed out analytically (exact because they couple to
    variables only; the benchmark checks that their block of ``W`` is zero),
    and (b) full enumeration of ``machine.probabilities()`` over all units,
    summed over the auxiliary ones, for machines of at most 20 units.  Per
    model: number of auxiliary units, largest ``|W|`` and ``|b|``.

    (2) Inference.  The 5-variable explaining-away network (reflectance and
    shape both cause luminance; contour depends on shape, sharp_edge on
    reflectance) compiled with the default ``max_weight`` = 1.5, under the
    evidence ``{luminance: 1}`` and ``{luminance: 1, contour: 1}``.  Sampled
    by :class:`lifsampling.LIFSampler` with its defaults (sbs neuron, Poisson
    background, renewing synapses, interaction calibration, clamped-to-1
    coupling map, dt 0.1 ms, read-out every 1 ms), 8 chains x 20 000 ms
    (after 500 ms burn-in) per evidence set, and by
    :class:`lifsampling.GibbsSampler` (one sweep per 10 ms, the same sampled
    time and seed).  Posterior marginals of the free variables with their MCSE
    (:func:`lifsampling.posterior_marginals`) against the exact posterior; the
    clamp agreement of the observed units; the explaining-away shift
    ``P(reflectance | luminance) - P(reflectance | luminance, contour)``.
    The first seed is the benchmark; further seeds (``--seeds``, default one
    more) repeat the LIF and Gibbs runs as a robustness check.

Targets
    (1) for >= 20 models the compiled marginal equals the target to 1e-9
    (analytic sum for all, enumeration where <= 20 units).
    (2) LIF posterior marginals within 0.03 absolute of the exact posterior
    for both evidence sets; Gibbs within its error bars, judged as |error| <=
    3 MCSE for every free variable; clamp agreement >= 99.9 %.

The calibration (activation function and interaction map) and the coupling
map of clamped neurons are made or loaded from lifsampling's cache before the
runs and timed separately; a 10 ms warm-up run absorbs Brian2's Cython
compilation, so the per-run wall times are pure sampling.

Run::

    python benchmarks/inference.py [--quick] [--duration MS] [--chains N] [--seeds S [S ...]]
        [--models N] [--out results/inference.json]

``--quick``: 3 + 3 random models, one seed, 2 chains x 2000 ms (a smoke test;
the sampling numbers are not meaningful).
``--cache-dir``: lifsampling cache for the calibrations (default: lifsampling's own).
"""

from __future__ import annotations

import json
import math
import warnings

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

NAME = "inference"
COMPILE_TOLERANCE = 1e-9
MIN_MODELS = 20
MAX_ENUMERATED_UNITS = 20
LIF_LIMIT = 0.03  # absolute error of a posterior marginal
GIBBS_Z_LIMIT = 3.0  # |error| / MCSE: "within its error bars"
MIN_CLAMP_AGREEMENT = 0.999
BURN_IN_MS = 500.0
GIBBS_SWEEP_MS = 10.0  # one sweep per refractory period (GibbsSampler default)

PARENTS = {
    "reflectance": [],
    "shape": [],
    "luminance": ["reflectance", "shape"],
    "contour": ["shape"],
    "sharp_edge": ["reflectance"],
}
CPTS = {
    "reflectance": 0.4,
    "shape": 0.4,
    "luminance": [[0.2, 0.6], [0.6, 0.7]],
    "contour": [0.3, 0.7],
    "sharp_edge": [0.35, 0.65],
}
EVIDENCE = [{"luminance": 1}, {"luminance": 1, "contour": 1}]
SHIFT_VARIABLE = "reflectance"

FULL = {"n_models": 20, "n_chains": 8, "duration_ms": 20_000.0, "seeds": [1, 2]}
QUICK = {"n_models": 3, "n_chains": 2, "duration_ms": 2_000.0, "seeds": [1]}


def add_arguments(parser) -> None:
    parser.add_argument(
        "--duration",
        type=float,
        default=None,
        help=f"sampled ms per chain (default: {FULL['duration_ms']:g}, --quick: {QUICK['duration_ms']:g})",
    )
    parser.add_argument(
        "--chains",
        type=int,
        default=None,
        help=f"chains per run (default: {FULL['n_chains']}, --quick: {QUICK['n_chains']})",
    )
    parser.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=None,
        help=f"simulator seeds; the first is the benchmark, the others a robustness check "
        f"(default: {FULL['seeds']}, --quick: {QUICK['seeds']})",
    )
    parser.add_argument(
        "--models",
        type=int,
        default=None,
        help=f"random Bayesian networks and as many factor graphs "
        f"(default: {FULL['n_models']} each, --quick: {QUICK['n_models']})",
    )


# -- (1) compilation ---------------------------------------------------------
def random_bayesian_network(seed: int) -> ls.BayesianNetwork:
    """3-6 variables, random DAG with <= 2 parents per node (the last in the order has 2)."""
    rng = np.random.default_rng([1, seed])
    n = int(rng.integers(3, 7))
    names = [f"x{i}" for i in range(n)]
    order = rng.permutation(n)  # topological order, independent of the variable order
    parents: dict[str, list[str]] = {}
    for pos, v in enumerate(order):
        k = 2 if pos == n - 1 else int(rng.integers(0, min(2, pos) + 1))
        parents[names[v]] = [names[p] for p in rng.choice(order[:pos], size=k, replace=False)]
    cpts = {v: rng.uniform(0.05, 0.95, size=(2,) * len(parents[v])) for v in names}
    return ls.BayesianNetwork({v: parents[v] for v in names}, cpts)


def random_factor_graph(seed: int) -> ls.FactorGraph:
    """3-6 variables, n-1 to n+1 factors of order 2-3 (>= one of order 3), sometimes one of order 4."""
    rng = np.random.default_rng([2, seed])
    n = int(rng.integers(3, 7))
    names = [f"x{i}" for i in range(n)]
    n_factors = int(rng.integers(n - 1, n + 2))
    orders = [3] + [int(rng.choice([2, 3])) for _ in range(n_factors - 1)]
    if n >= 4 and rng.random() < 0.5:
        orders[-1] = 4
    factors = []
    for order in orders:
        scope = sorted(rng.choice(n, size=order, replace=False).tolist())
        factors.append(([names[i] for i in scope], np.exp(rng.normal(0.0, 1.0, size=(2,) * order))))
    return ls.FactorGraph(names, factors)


def check_compilation(kind: str, seed: int, model: ls.FactorGraph) -> dict:
    """Compile ``model`` and compare the compiled marginal with the target, analytically and enumerated."""
    with Stopwatch() as sw:
        cm = ls.compile_to_boltzmann(model)
    n, K = model.n_variables, cm.machine.n_units
    W, b = np.asarray(cm.machine.W), np.asarray(cm.machine.b)
    target = model.probabilities()
    analytic = float(np.abs(cm.marginal_probabilities() - target).max())
    enumerated = None
    if K <= MAX_ENUMERATED_UNITS:
        # unit 0 is the most significant bit: rows = variable states, columns = auxiliary states
        p = cm.machine.probabilities().reshape(2**n, 2 ** (K - n)).sum(axis=1)
        enumerated = float(np.abs(p - target).max())
    return {
        "kind": kind,
        "seed": seed,
        "n_variables": n,
        "factor_orders": sorted(len(scope) for scope, _ in model.factors),
        "n_auxiliary": cm.n_auxiliary,
        "n_units": K,
        "max_abs_W": float(np.abs(W).max()),
        "max_abs_W_auxiliary": float(np.abs(W[:n, n:]).max()) if K > n else 0.0,
        "max_abs_b": float(np.abs(b).max()),
        "auxiliary_block_zero": bool(np.all(W[n:, n:] == 0)),
        "error_analytic": analytic,
        "enumerated": enumerated is not None,
        "error_enumerated": enumerated,
        "compile_s": sw.seconds,
    }


def compilation_part(n_models: int) -> tuple[list[dict], dict]:
    rows = []
    for kind, make in (("bayesian_network", random_bayesian_network), ("factor_graph", random_factor_graph)):
        for seed in range(n_models):
            rows.append(check_compilation(kind, seed, make(seed)))
    enumerated = [r["error_enumerated"] for r in rows if r["enumerated"]]
    summary = {
        "n_models": len(rows),
        "n_bayesian_networks": sum(r["kind"] == "bayesian_network" for r in rows),
        "n_factor_graphs": sum(r["kind"] == "factor_graph" for r in rows),
        "n_with_order_4": sum(4 in r["factor_orders"] for r in rows),
        "n_enumerated": len(enumerated),
        "max_error_analytic": max(r["error_analytic"] for r in rows),
        "max_error_enumerated": max(enumerated) if enumerated else None,
        "max_n_auxiliary": max(r["n_auxiliary"] for r in rows),
        "median_n_auxiliary": float(np.median([r["n_auxiliary"] for r in rows])),
        "max_abs_W": max(r["max_abs_W"] for r in rows),
        "max_abs_W_auxiliary": max(r["max_abs_W_auxiliary"] for r in rows),
        "max_abs_b": max(r["max_abs_b"] for r in rows),
        "all_auxiliary_blocks_zero": all(r["auxiliary_block_zero"] for r in rows),
        "tolerance": COMPILE_TOLERANCE,
    }
    summary["passed"] = bool(
        summary["n_models"] >= MIN_MODELS
        and summary["max_error_analytic"] <= COMPILE_TOLERANCE
        and all(e <= COMPILE_TOLERANCE for e in enumerated)
        and summary["all_auxiliary_blocks_zero"]
    )
    return rows, summary


def compilation_table(rows: list[dict], summary: dict) -> str:
    headers = ["model", "seed", "vars", "factor orders", "aux", "units", "max|W|", "max|b|"]
    headers += ["err analytic", "err enumerated"]
    body: list = []
    for r in rows:
        kind = "BN" if r["kind"] == "bayesian_network" else "FG"
        orders = ",".join(str(o) for o in r["factor_orders"])
        body.append(
            [kind, r["seed"], r["n_variables"], orders, r["n_auxiliary"], r["n_units"], r["max_abs_W"]]
            + [r["max_abs_b"], r["error_analytic"], r["error_enumerated"]]
        )
    body.append(None)
    body.append(
        ["all", None, None, f"{summary['n_with_order_4']} with order 4", summary["max_n_auxiliary"], None]
        + [summary["max_abs_W"], summary["max_abs_b"], summary["max_error_analytic"]]
        + [summary["max_error_enumerated"]]
    )
    return format_table(headers, body, digits=[4, 4, 4, 4, 4, 4, 3, 3, 2, 2])


# -- (2) inference -----------------------------------------------------------
def evidence_label(evidence: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in evidence.items())


def _ratio(error: float, mcse: float) -> float | None:
    return abs(error) / mcse if mcse and math.isfinite(mcse) and mcse > 0 else None


def run_sampler(sampler, cm: ls.CompiledModel, evidence: dict, settings: dict, seed: int) -> dict:
    """One run under ``evidence``: posterior marginals of the free variables and the run's bookkeeping."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ls.ClampLeakWarning)
        result, wall = timed_sample(
            sampler,
            settings["duration_ms"],
            n_chains=settings["n_chains"],
            seed=seed,
            burn_in=BURN_IN_MS,
            evidence=cm.evidence(evidence),
        )
    leak_warnings = [str(w.message) for w in caught if issubclass(w.category, ls.ClampLeakWarning)]
    for w in caught:  # anything else is passed on unchanged
        if not issubclass(w.category, ls.ClampLeakWarning):
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    post = ls.posterior_marginals(result)
    variables = {}
    for k, name in enumerate(cm.variables):
        if name in evidence:
            continue
        est, mcse, exact = (float(post[v].values[k]) for v in ("estimate", "mcse", "exact"))
        error = est - exact
        ess = est * (1 - est) / mcse**2 if mcse and math.isfinite(mcse) and mcse > 0 else None
        variables[name] = {
            "exact": exact,
            "estimate": est,
            "mcse": mcse,
            "error": error,
            "abs_error_over_mcse": _ratio(error, mcse),
            "ess": ess,
        }
    raw = result.attrs.get("evidence_agreement")
    agreement = None
    if raw is not None:  # LIF only: {unit: fraction} (a JSON string in the attrs), by variable name
        raw = json.loads(raw) if isinstance(raw, str) else raw
        agreement = {cm.variables[int(k)]: float(v) for k, v in raw.items()}
    ratios = [v["abs_error_over_mcse"] for v in variables.values() if v["abs_error_over_mcse"] is not None]
    return {
        "sampler": result.attrs["sampler"],
        "seed": seed,
        "evidence": evidence,
        "n_chains": int(result.sizes["chain"]),
        "duration_ms": settings["duration_ms"],
        "burn_in_ms": BURN_IN_MS,
        "sample_interval_ms": ls.sample_interval(result),
        "n_draws": int(result.sizes["chain"] * result.sizes["draw"]),
        "wall_s": wall,
        "evidence_agreement": agreement,
        "min_evidence_agreement": min(agreement.values()) if agreement else None,
        "clamp_leak_warnings": leak_warnings,
        "variables": variables,
        "max_abs_error": max(abs(v["error"]) for v in variables.values()),
        "max_abs_error_over_mcse": max(ratios) if ratios else None,
    }


def judge_seed(runs: list[dict]) -> dict:
    """Pass/fail of one seed's LIF and Gibbs runs over both evidence sets."""
    lif = [r for r in runs if r["sampler"] == "lif"]
    gibbs = [r for r in runs if r["sampler"] == "gibbs"]
    lif_err = max(r["max_abs_error"] for r in lif)
    # a variable without an MCSE (a constant indicator) cannot be judged: the check fails
    gibbs_z = [v["abs_error_over_mcse"] for r in gibbs for v in r["variables"].values()]
    gibbs_z_max = None if any(z is None for z in gibbs_z) else max(gibbs_z)
    clamp = min(r["min_evidence_agreement"] for r in lif)
    out = {
        "lif_max_abs_error": lif_err,
        "lif_limit": LIF_LIMIT,
        "lif_ok": lif_err <= LIF_LIMIT,
        "gibbs_max_abs_error_over_mcse": gibbs_z_max,
        "gibbs_max_abs_error": max(r["max_abs_error"] for r in gibbs),
        "gibbs_limit_mcse": GIBBS_Z_LIMIT,
        "gibbs_ok": gibbs_z_max is not None and gibbs_z_max <= GIBBS_Z_LIMIT,
        "clamp_min_agreement": clamp,
        "clamp_limit": MIN_CLAMP_AGREEMENT,
        "clamp_ok": clamp >= MIN_CLAMP_AGREEMENT,
        "lif_max_abs_error_over_mcse": max(r["max_abs_error_over_mcse"] or 0.0 for r in lif),
    }
    out["all_ok"] = bool(out["lif_ok"] and out["gibbs_ok"] and out["clamp_ok"])
    return out


def explaining_away(runs: list[dict]) -> dict:
    """P(reflectance | first evidence) - P(reflectance | second evidence), exact and per sampler."""
    out: dict = {"variable": SHIFT_VARIABLE}
    for name in ("lif", "gibbs"):
        a, b = (next(r for r in runs if r["sampler"] == name and r["evidence"] == ev) for ev in EVIDENCE)
        va, vb = a["variables"][SHIFT_VARIABLE], b["variables"][SHIFT_VARIABLE]
        out["exact"] = va["exact"] - vb["exact"]
        out[name] = va["estimate"] - vb["estimate"]
        out[f"{name}_mcse"] = math.hypot(va["mcse"], vb["mcse"])  # independent runs
        out[f"{name}_error"] = out[name] - out["exact"]
    return out


def inference_table(runs: list[dict], variables: tuple[str, ...]) -> str:
    headers = ["evidence", "variable", "exact", "LIF", "MCSE", "LIF err", "|err|/MCSE"]
    headers += ["Gibbs", "MCSE", "Gibbs err", "|err|/MCSE"]
    body: list = []
    for ev in EVIDENCE:
        lif = next(r for r in runs if r["sampler"] == "lif" and r["evidence"] == ev)
        gibbs = next(r for r in runs if r["sampler"] == "gibbs" and r["evidence"] == ev)
        if body:
            body.append(None)
        for name in variables:
            if name in ev:
                continue
            a, g = lif["variables"][name], gibbs["variables"][name]
            body.append(
                [evidence_label(ev), name, a["exact"], a["estimate"], a["mcse"], a["error"]]
                + [a["abs_error_over_mcse"], g["estimate"], g["mcse"], g["error"], g["abs_error_over_mcse"]]
            )
    return format_table(headers, body, digits=[4, 4, 4, 4, 2, 2, 2, 4, 2, 2, 2])


def runs_table(runs: list[dict]) -> str:
    headers = ["seed", "evidence", "sampler", "chains x ms", "draws", "wall s", "min clamp agr."]
    headers += ["max|err|", "max|err|/MCSE"]
    body = [
        [
            r["seed"],
            evidence_label(r["evidence"]),
            r["sampler"],
            f"{r['n_chains']} x {r['duration_ms']:g}",
            r["n_draws"],
            r["wall_s"],
            r["min_evidence_agreement"],
            r["max_abs_error"],
            r["max_abs_error_over_mcse"],
        ]
        for r in runs
    ]
    return format_table(headers, body, digits=[4, 4, 4, 4, 4, 3, 5, 2, 2])


def robustness_table(per_seed: list[dict]) -> str:
    headers = ["seed", "LIF max|err|", "LIF ok", "Gibbs max|err|/MCSE", "Gibbs ok", "min clamp agr."]
    headers += ["shift exact", "shift LIF", "shift MCSE", "shift Gibbs", "all ok"]
    body = [
        [
            s["seed"],
            s["verdict"]["lif_max_abs_error"],
            s["verdict"]["lif_ok"],
            s["verdict"]["gibbs_max_abs_error_over_mcse"],
            s["verdict"]["gibbs_ok"],
            s["verdict"]["clamp_min_agreement"],
            s["explaining_away"]["exact"],
            s["explaining_away"]["lif"],
            s["explaining_away"]["lif_mcse"],
            s["explaining_away"]["gibbs"],
            s["verdict"]["all_ok"],
        ]
        for s in per_seed
    ]
    return format_table(headers, body, digits=[4, 2, 4, 2, 4, 5, 3, 3, 2, 3, 4])


def inference_part(settings: dict, cache_dir) -> dict:
    bn = ls.BayesianNetwork(PARENTS, CPTS)
    cm = ls.compile_to_boltzmann(bn)  # default max_weight 1.5
    machine = cm.machine
    sampler = ls.LIFSampler(machine, cache_dir=cache_dir, progress=False)
    gibbs = ls.GibbsSampler(machine, sweep_time=GIBBS_SWEEP_MS)

    log("calibrating (or loading the cached calibration and interaction map) ...")
    with Stopwatch() as sw_cal:
        calibration = sampler.calibrate()
    log(f"  {calibration!r}, {sampler.interactions_!r} in {sw_cal.seconds:.1f} s")
    log("coupling map of clamped neurons (measured or loaded) ...")
    with Stopwatch() as sw_clamp:
        sampler.clamped_network(cm.evidence(EVIDENCE[0]))
    log(f"  {sampler.clamp_couplings_!r} in {sw_clamp.seconds:.1f} s")
    log("warm-up run (compiles the network structure on first use) ...")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ls.ClampLeakWarning)  # 10 ms say nothing about the clamp
        evidence = cm.evidence(EVIDENCE[0])
        warm = {"n_chains": settings["n_chains"], "seed": 0, "burn_in": 0.0, "evidence": evidence}
        _, warm_s = timed_sample(sampler, 10.0, **warm)
    log(f"  {warm_s:.1f} s")

    runs, per_seed = [], []
    for seed in settings["seeds"]:
        seed_runs = []
        for ev in EVIDENCE:
            for name, s in (("LIF", sampler), ("Gibbs", gibbs)):
                seed_runs.append(run_sampler(s, cm, ev, settings, seed))
                r = seed_runs[-1]
                log(
                    f"seed {seed}, {evidence_label(ev)}, {name}: max|err| {r['max_abs_error']:.4f}, "
                    f"max|err|/MCSE {r['max_abs_error_over_mcse'] or float('nan'):.2f}, "
                    f"{r['wall_s']:.1f} s"
                )
        runs += seed_runs
        per_seed.append(
            {"seed": seed, "verdict": judge_seed(seed_runs), "explaining_away": explaining_away(seed_runs)}
        )

    exact_posteriors = {evidence_label(ev): bn.posterior_marginals(ev) for ev in EVIDENCE}
    return {
        "network": {
            "parents": PARENTS,
            "cpts": CPTS,
            "variables": list(cm.variables),
            "n_auxiliary": cm.n_auxiliary,
            "n_units": machine.n_units,
            "max_weight": cm.max_weight,
            "max_abs_W": float(np.abs(machine.W).max()),
            "max_abs_b": float(np.abs(machine.b).max()),
            "compile_error_analytic": float(np.abs(cm.marginal_probabilities() - bn.probabilities()).max()),
            "exact_posteriors": exact_posteriors,
        },
        "evidence_sets": EVIDENCE,
        "calibration": {
            "v_p05": calibration.v_p05,
            "alpha": calibration.alpha,
            "fit": calibration.fit,
            "settings": calibration.settings,
            "wall_s": sw_cal.seconds,
        },
        "interaction_calibration": None if sampler.interactions_ is None else sampler.interactions_.to_dict(),
        "clamp_couplings": None if sampler.clamp_couplings_ is None else sampler.clamp_couplings_.to_dict(),
        "clamp_map_wall_s": sw_clamp.seconds,
        "warmup_wall_s": warm_s,
        "sampler": {
            "dt_ms": sampler.dt,
            "sample_interval_ms": sampler.sample_interval,
            "synapses": sampler.synapses,
            "device": sampler.device,
            "clamp_strength": sampler.clamp_strength,
            "gibbs_sweep_time_ms": GIBBS_SWEEP_MS,
        },
        "runs": runs,
        "per_seed": per_seed,
    }


def main(argv=None) -> int:
    args = parse_args(NAME, __doc__, add_arguments, argv)
    settings = dict(QUICK if args.quick else FULL)
    for key, value in (
        ("duration_ms", args.duration),
        ("n_chains", args.chains),
        ("seeds", args.seeds),
        ("n_models", args.models),
    ):
        if value is not None:
            settings[key] = value
    if settings["n_chains"] < 1 or settings["n_models"] < 1 or settings["duration_ms"] <= 0:
        raise SystemExit("--chains and --models must be >= 1 and --duration > 0")
    env = environment()

    with Stopwatch() as total:
        log(f"compiling {settings['n_models']} random Bayesian networks and factor graphs each ...")
        with Stopwatch() as sw_compile:
            comp_rows, comp_summary = compilation_part(settings["n_models"])
        log(f"  {sw_compile.seconds:.1f} s, max error {comp_summary['max_error_analytic']:.3g}")
        inference = inference_part(settings, args.cache_dir)

    main_seed = inference["per_seed"][0]
    verdict = main_seed["verdict"]
    shift = main_seed["explaining_away"]
    targets = {
        "compilation_ok": comp_summary["passed"],
        "compilation_max_error": max(
            comp_summary["max_error_analytic"], comp_summary["max_error_enumerated"] or 0.0
        ),
        "compilation_tolerance": COMPILE_TOLERANCE,
        "n_models": comp_summary["n_models"],
        "n_enumerated": comp_summary["n_enumerated"],
        "seed": main_seed["seed"],
        **verdict,
        "robust_all_seeds": all(s["verdict"]["all_ok"] for s in inference["per_seed"]),
    }
    targets["all_ok"] = bool(targets["compilation_ok"] and verdict["all_ok"])

    n_lif = settings["n_chains"] * settings["duration_ms"] / inference["sampler"]["sample_interval_ms"]
    n_gibbs = settings["n_chains"] * settings["duration_ms"] / GIBBS_SWEEP_MS
    net = inference["network"]
    blocks = [
        paragraph(
            f"(1) Compilation: {comp_summary['n_bayesian_networks']} random Bayesian networks (BN) and "
            f"{comp_summary['n_factor_graphs']} random factor graphs (FG), compile_to_boltzmann(model) with "
            "the default max_weight.  err = max over joint states |p_compiled(x) - p_target(x)|; analytic: "
            "marginal_probabilities() (auxiliary units summed out); enumerated: machine.probabilities() "
            f"summed over the auxiliary units (machines of <= {MAX_ENUMERATED_UNITS} units only, '-' "
            "otherwise).  aux = auxiliary units."
        ),
        compilation_table(comp_rows, comp_summary),
        paragraph(
            f"max error {targets['compilation_max_error']:.3g} (tolerance {COMPILE_TOLERANCE:g}) over "
            f"{comp_summary['n_models']} models, {comp_summary['n_enumerated']} of them also enumerated; "
            f"auxiliary-auxiliary couplings all zero: {comp_summary['all_auxiliary_blocks_zero']}; largest "
            f"auxiliary coupling {comp_summary['max_abs_W_auxiliary']:.3g}.  Compilation "
            f"{'met' if comp_summary['passed'] else 'NOT met'}."
        ),
        paragraph(
            f"(2) Inference: explaining-away network ({len(net['variables'])} variables + "
            f"{net['n_auxiliary']} auxiliary units, max |W| {net['max_abs_W']:.3g}, max |b| "
            f"{net['max_abs_b']:.3g}).  LIFSampler (defaults: sbs neuron, renewing synapses, interaction "
            f"calibration, clamped-neuron coupling map), {settings['n_chains']} chains x "
            f"{settings['duration_ms']:g} ms (+{BURN_IN_MS:g} ms burn-in) = {n_lif:.0f} draws per evidence "
            f"set, seed {main_seed['seed']}; GibbsSampler, the same sampled time and seed, one sweep per "
            f"{GIBBS_SWEEP_MS:g} ms = {n_gibbs:.0f} draws.  MCSE from arviz (autocorrelation-aware)."
        ),
        inference_table(
            [r for r in inference["runs"] if r["seed"] == main_seed["seed"]], tuple(net["variables"])
        ),
        runs_table(inference["runs"]),
        paragraph(
            f"explaining away: P({SHIFT_VARIABLE}=1 | {evidence_label(EVIDENCE[0])}) - "
            f"P({SHIFT_VARIABLE}=1 | {evidence_label(EVIDENCE[1])}) per seed (shift MCSE: LIF):"
        ),
        robustness_table(inference["per_seed"]),
        "\n".join(
            [
                f"LIF max |error| = {verdict['lif_max_abs_error']:.4f} (target <= {LIF_LIMIT}): "
                f"{'met' if verdict['lif_ok'] else 'NOT met'}",
                f"Gibbs max |error|/MCSE = {verdict['gibbs_max_abs_error_over_mcse'] or float('nan'):.2f} "
                f"(within its error bars: <= {GIBBS_Z_LIMIT:g} MCSE): "
                f"{'met' if verdict['gibbs_ok'] else 'NOT met'}",
                f"clamp agreement min = {100 * verdict['clamp_min_agreement']:.3f} % "
                f"(target >= {100 * MIN_CLAMP_AGREEMENT:.1f} %): "
                f"{'met' if verdict['clamp_ok'] else 'NOT met'}",
                f"explaining-away shift: exact {shift['exact']:.4f}, LIF {shift['lif']:.4f} ± "
                f"{shift['lif_mcse']:.4f}, Gibbs {shift['gibbs']:.4f} ± {shift['gibbs_mcse']:.4f}",
                f"all seeds {settings['seeds']} pass: {targets['robust_all_seeds']}",
                f"calibration {inference['calibration']['wall_s']:.1f} s, clamp map "
                f"{inference['clamp_map_wall_s']:.1f} s (cached maps load instantly), warm-up "
                f"{inference['warmup_wall_s']:.1f} s; compilation part {sw_compile.seconds:.1f} s; "
                f"total {total.seconds:.1f} s",
            ]
            + (
                ["--quick: short runs, the sampling numbers and checks are not meaningful"]
                if args.quick
                else []
            )
        ),
    ]
    print_report(f"inference ({'quick' if args.quick else 'full'})", env, blocks)

    write_json(
        args.out,
        NAME,
        {
            "quick": args.quick,
            "settings": {
                **settings,
                "burn_in_ms": BURN_IN_MS,
                "max_enumerated_units": MAX_ENUMERATED_UNITS,
                "compile_tolerance": COMPILE_TOLERANCE,
                "lif_limit": LIF_LIMIT,
                "gibbs_limit_mcse": GIBBS_Z_LIMIT,
                "min_clamp_agreement": MIN_CLAMP_AGREEMENT,
            },
            "compilation": {"rows": comp_rows, "summary": comp_summary, "wall_s": sw_compile.seconds},
            "inference": inference,
            "targets": targets,
            "wall_time_s": total.seconds,
        },
        env,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
