"""Noise study: sampling quality under private Poisson, shared pools, network noise and ensembles.

What is measured
    Five random 5-unit Boltzmann machines (``random_boltzmann_machine(5,
    seed=s)``, s = 0..4) are sampled *in one simulation per noise model*: 8
    chains each, 40 chains and 200 sampling neurons in all, every one of them
    served by the same noise source.  For each noise model the activation
    function is calibrated under that noise and the weights come from the
    analytic translation (``interactions=None``, for every model alike: the
    measured interaction map cannot be used under small shared pools, where
    the pairs' shared input shifts every realised coupling upwards, by about
    +1.7 at N = 150, and the map is refused as not increasing through zero).
    DKL(target || sampled) is measured after 10 000 ms of sampled time
    per chain (500 ms burn-in).  Noise models: private Poisson (sbs, the
    reference), shared Poisson pools of N = 150, 300, 1000, 3000 sources and
    deterministic noise networks (:class:`noise_sources.NetworkNoise`) of
    N = 150, 300, 1000 neurons; every sampling neuron reads K = 100 sources
    (80 excitatory).  Then a pool and a network of N = 300 read with K = 30
    (weights scaled to keep the mean conductance), the same network in the
    bursty regime that was the default before (coupling J = 1.1 mV instead of
    0.7 mV, see :class:`noise_sources.NetworkRegime`), and private Poisson with
    the pools' input statistics (3000 Hz x 1 nS, 750 Hz x 4 nS; the limit
    N -> infinity of the pools).  Beside each: the pairwise input correlation predicted
    by the connectivity and measured on 40 free neurons (mean ± spread), the
    input autocorrelation time relative to tau_syn, and the network's
    irregularity (rate, CV, pairwise count correlation).

    A larger machine (12 units, ``seed=100``) is sampled by 10 chains
    (120 sampling neurons) under private Poisson, a pool of 300 and a network
    of 300.  An ensemble of 40 sampling networks (the five targets, 8 copies
    each) driven only by each other (:class:`noise_sources.EnsembleNoise`,
    K = 100) is compared with the private-Poisson control.

    Training under the noise the networks really get (``--part training``):
    for private Poisson (sbs), network noise N = 300 with K = 30 and K = 100
    (and K = 30 in the old J = 1.1 mV regime), and the ensemble (40 networks,
    K = 100), the five targets' networks are
    trained together by wake-sleep (:func:`noise_sources.train_together` /
    :func:`noise_sources.train_ensemble`) in the simulation layout they are
    later sampled in (same chains, same noise wiring), with the same budget
    for every row: 200 iterations x 500 ms x 8 chains per target, the
    trainer's defaults otherwise (natural gradient, eta 0.5 tau / (tau + t),
    tau 30, max step 0.5).  Untrained and trained networks are then sampled
    alike (10 000 ms per chain, seed 11).

Targets
    Shared-pool error falls with pool size; network noise from <= 300
    neurons serving >= 100 sampling neurons within 1.5x the private-Poisson
    DKL (median over the five targets).

Run::

    python benchmarks/noise_study.py [--quick] [--part {all,models,training}] [--out FILE] [--cache-dir DIR]

``--quick``: 2 targets x 2 chains x 500 ms, two noise models plus the
ensemble, short calibrations, no interaction calibration, 3 training
iterations of 100 ms for a network and the ensemble (a smoke test).
``--part``: ``models`` = the noise-model tables only, ``training`` = the
trained-versus-untrained table only, ``all`` (default) both.
``--cache-dir``: lifsampling cache (default: lifsampling's own).
"""

from __future__ import annotations

import json
import warnings

import numpy as np
from _common import Stopwatch, environment, format_table, log, paragraph, parse_args, print_report, write_json

import lifsampling as ls
import noise_sources as ns

NAME = "noise_study"
GOAL_RATIO = 1.5
#: the noise network's coupling J [mV] of the regime that was the default before the scan
OLD_COUPLING = 1.1

FULL = {
    "seeds": [0, 1, 2, 3, 4],
    "n_chains": 8,
    "duration_ms": 10_000.0,
    "burn_in_ms": 500.0,
    "pools": [150, 300, 1000, 3000],
    "networks": [150, 300, 1000],
    "in_degree": 100,
    "sparse": {"n": 300, "in_degree": 30},
    "large": {"n_units": 12, "seed": 100, "n_chains": 10, "pool": 300, "network": 300},
    "ensemble_in_degree": 100,
    "calibration": {"n_points": 40, "duration": 5000.0, "prescan_duration": 500.0},
    "interactions": None,
    "measure": {"n_neurons": 40, "duration": 2000.0},
    "training": {
        "n_iterations": 200,
        "wake_sleep": {"duration": 500.0},
        "models": [
            "private",
            "network 300 30",
            "network 300 100",
            f"network 300 30 {OLD_COUPLING}",
            "ensemble",
        ],
    },
}
QUICK = {
    "seeds": [0, 1],
    "n_chains": 2,
    "duration_ms": 500.0,
    "burn_in_ms": 200.0,
    "pools": [300],
    "networks": [150],
    "in_degree": 100,
    "sparse": None,
    "large": None,
    "ensemble_in_degree": 15,
    "calibration": {
        "n_points": 12,
        "duration": 1000.0,
        "prescan": (-60.0, -40.0, 0.5),
        "prescan_duration": 300.0,
    },
    "interactions": None,
    "measure": {"n_neurons": 8, "duration": 300.0},
    "training": {
        "n_iterations": 3,
        "wake_sleep": {"duration": 100.0, "settle": 10.0, "burn_in": 20.0},
        "models": ["network 150 100", "ensemble"],
    },
}
TRAIN_SEED = 1


def noise_models(settings: dict) -> list[tuple[str, ls.NoiseSource]]:
    k = settings["in_degree"]
    models: list[tuple[str, ls.NoiseSource]] = [("private Poisson", ns.PoissonNoise.preset("sbs"))]
    models += [(f"pool N={n}", ns.SharedPoolNoise(n, in_degree=k, seed=1)) for n in settings["pools"]]
    models += [(f"network N={n}", ns.NetworkNoise(n, in_degree=k, seed=1)) for n in settings["networks"]]
    sparse = settings["sparse"]
    if sparse is not None:  # fewer, stronger inputs: correlation K/N drops at the same N
        n, ks = sparse["n"], sparse["in_degree"]
        w = 3.0 / (round(0.8 * ks) * 37.5)  # the sbs mean conductance, as for K = 100
        models += [
            (f"pool N={n} K={ks}", ns.SharedPoolNoise(n, in_degree=ks, weight=w, seed=1)),
            (f"network N={n} K={ks}", ns.NetworkNoise(n, in_degree=ks, seed=1)),
            (  # the bursty regime that was the default before (J = 1.1 mV instead of 0.7 mV)
                f"network N={n} K={ks} J={OLD_COUPLING}",
                ns.NetworkNoise(n, in_degree=ks, regime=ns.NetworkRegime(coupling=OLD_COUPLING), seed=1),
            ),
        ]
    # the pools' input statistics (K = 100) from private sources: the pool's N -> infinity limit
    models.append(("private, pool-matched", ns.PoissonNoise(3000.0, 750.0, 0.001, 0.004)))
    return models


def describe_noise(noise: ls.NoiseSource, n_neurons: int, settings: dict) -> dict:
    """Connectivity and measured input correlation, autocorrelation time, network irregularity."""
    out: dict = {"noise": noise.to_dict()}
    out["connectivity_correlation"] = ns.connectivity_correlation(noise, n_neurons)
    if isinstance(noise, ns.NetworkNoise):
        stats = noise.statistics(warn=False)
        out["network"] = {
            **stats["report"].to_dict(),
            "rate_exc": stats["rate_exc"],
            "rate_inh": stats["rate_inh"],
        }
        out["weight"] = noise.effective_weight
    if not isinstance(noise, ns.EnsembleNoise):
        with Stopwatch() as sw:
            m = ns.measure_noise(noise, **settings["measure"])
        out["measured"] = {**m.to_dict(), "wall_s": sw.seconds}
    return out


def run_model(label, noise, targets, settings, cache_dir, n_chains) -> dict:
    log(f"{label}: calibrating and sampling {len(targets)} target(s) x {n_chains} chains ...")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ns.NoiseNetworkWarning)
        with Stopwatch() as sw:
            runs = ns.sample_together(
                targets,
                noise,
                settings["duration_ms"],
                n_chains=n_chains,
                seed=11,
                burn_in=settings["burn_in_ms"],
                calibration_kwargs=settings["calibration"],
                interactions=settings["interactions"],
                cache_dir=cache_dir,
            )
    dkls = [ls.kl_divergence(t, r).dkl_target_sampled for t, r in zip(targets, runs, strict=True)]
    n_sampling = len(targets) * n_chains * targets[0].n_units
    row = {
        "label": label,
        "dkl": dkls,
        "dkl_median": float(np.median(dkls)),
        "dkl_mean": float(np.mean(dkls)),
        "n_sampling_neurons": n_sampling,
        "wall_s": sw.seconds,
        "warnings": sorted(
            {str(w.message)[:200] for w in caught if issubclass(w.category, ns.NoiseNetworkWarning)}
        ),
        **describe_noise(noise, min(n_sampling, 200), settings),
    }
    log(f"  median DKL {row['dkl_median']:.4g} ({sw.seconds:.0f} s incl. calibration)")
    return row


def table_row(r: dict, reference: float) -> list:
    m = r.get("measured", {})
    c = m.get("input_correlation", {})
    net = r.get("network", {})
    return [
        r["label"],
        r["dkl_median"],
        r["dkl_mean"],
        max(r["dkl"]),
        r["dkl_median"] / reference,
        r["connectivity_correlation"]["mean"],
        c.get("mean"),
        c.get("std"),
        m.get("tau_corr_over_tau_syn"),
        net.get("rate"),
        net.get("cv_isi"),
        net.get("count_correlation"),
        r["n_sampling_neurons"],
        r["wall_s"],
    ]


HEADERS = [
    "noise",
    "DKL med",
    "DKL mean",
    "DKL max",
    "/private",
    "rho conn",
    "rho meas",
    "rho sd",
    "tau/tau_syn",
    "net Hz",
    "net CV",
    "net corr",
    "neurons",
    "wall s",
]


def training_noise(name: str, settings: dict) -> tuple[str, ls.NoiseSource]:
    """``"private"``, ``"network N K [J]"`` or ``"ensemble"``: label and noise source of a training row."""
    if name == "private":
        return "private Poisson", ns.PoissonNoise.preset("sbs")
    if name == "ensemble":
        k = settings["ensemble_in_degree"]
        return f"ensemble K={k} (no Poisson)", ns.EnsembleNoise(5, in_degree=k, seed=1)
    _, n, k, *coupling = name.split()
    if coupling:
        regime = ns.NetworkRegime(coupling=float(coupling[0]))
        return f"network N={n} K={k} J={coupling[0]}", ns.NetworkNoise(int(n), int(k), regime=regime, seed=1)
    return f"network N={n} K={k}", ns.NetworkNoise(int(n), in_degree=int(k), seed=1)


def noise_key(noise: ls.NoiseSource | dict) -> str:
    return json.dumps(noise if isinstance(noise, dict) else noise.to_dict(), sort_keys=True)


def training_row(name: str, targets: list, settings: dict, cache_dir, known: dict) -> dict:
    """DKL of the untrained and of the jointly trained networks under one noise source.

    ``known`` maps :func:`noise_key` to the untrained DKLs already measured by
    the noise-model table (the same call), which are then not measured again.
    """
    label, noise = training_noise(name, settings)
    cfg, n_chains = settings["training"], settings["n_chains"]
    sample = {"n_chains": n_chains, "seed": 11, "burn_in": settings["burn_in_ms"], "cache_dir": cache_dir}
    log(f"training under {label}: {len(targets)} targets x {n_chains} chains, {cfg['n_iterations']} it ...")

    def dkls(runs):
        return [ls.kl_divergence(t, r).dkl_target_sampled for t, r in zip(targets, runs, strict=True)]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ns.NoiseNetworkWarning)
        with Stopwatch() as sw_u:
            untrained = known.get(noise_key(noise))
            if untrained is None:
                runs = ns.sample_together(
                    targets,
                    noise,
                    settings["duration_ms"],
                    calibration_kwargs=settings["calibration"],
                    interactions=settings["interactions"],
                    **sample,
                )
                untrained = dkls(runs)
        with Stopwatch() as sw_t:
            trainers = ns.train_together(
                targets,
                noise,
                n_iterations=cfg["n_iterations"],
                n_chains=n_chains,
                seed=TRAIN_SEED,
                calibration_kwargs=settings["calibration"],
                interactions=settings["interactions"],
                cache_dir=cache_dir,
                wake_sleep=cfg["wake_sleep"],
            )
        with Stopwatch() as sw_s:
            trained = ns.sample_together(
                [tr.sampler_ for tr in trainers], noise, settings["duration_ms"], **sample
            )
    row = {
        "label": label,
        "noise": noise.to_dict(),
        "untrained": list(untrained),
        "trained": dkls(trained),
        "curve_dkl_pooled": [tr.history_.dkl_pooled.values.tolist() for tr in trainers],
        "untrained_wall_s": sw_u.seconds,
        "train_wall_s": sw_t.seconds,
        "trained_wall_s": sw_s.seconds,
    }
    row["untrained_median"] = float(np.median(row["untrained"]))
    row["trained_median"] = float(np.median(row["trained"]))
    log(f"  median DKL {row['untrained_median']:.4g} untrained, {row['trained_median']:.4g} trained")
    return row


TRAINING_HEADERS = [
    "noise",
    "untrained med",
    "trained med",
    "trained max",
    "untr/priv untr",
    "tr/priv tr",
    "tr/priv untr",
    "train s",
]


def training_table(rows: list[dict]) -> list[list]:
    ref = next((r for r in rows if r["label"] == "private Poisson"), None)
    ref_u = ref["untrained_median"] if ref else float("nan")
    ref_t = ref["trained_median"] if ref else float("nan")
    return [
        [
            r["label"],
            r["untrained_median"],
            r["trained_median"],
            max(r["trained"]),
            r["untrained_median"] / ref_u,
            r["trained_median"] / ref_t,
            r["trained_median"] / ref_u,
            r["train_wall_s"],
        ]
        for r in rows
    ]


def models_part(settings: dict, targets: list, cache_dir) -> tuple[list[str], list[str], dict]:
    """The noise-model tables: blocks of text, verdict lines, JSON parts."""
    rows = [
        run_model(label, noise, targets, settings, cache_dir, settings["n_chains"])
        for label, noise in noise_models(settings)
    ]
    reference = rows[0]["dkl_median"]

    ens_noise = ns.EnsembleNoise(5, in_degree=settings["ensemble_in_degree"], seed=1)
    ens = run_model("ensemble (no Poisson)", ens_noise, targets, settings, cache_dir, settings["n_chains"])

    large_rows = []
    if settings["large"] is not None:
        lg = settings["large"]
        big = [ls.random_boltzmann_machine(lg["n_units"], seed=lg["seed"])]
        k = settings["in_degree"]
        for label, noise in (
            ("private Poisson", ns.PoissonNoise.preset("sbs")),
            (f"pool N={lg['pool']}", ns.SharedPoolNoise(lg["pool"], in_degree=k, seed=1)),
            (f"network N={lg['network']}", ns.NetworkNoise(lg["network"], in_degree=k, seed=1)),
        ):
            large_rows.append(run_model(label, noise, big, settings, cache_dir, lg["n_chains"]))

    pools = [r for r in rows if r["label"].startswith("pool") and " K=" not in r["label"]]
    pool_dkls = [r["dkl_median"] for r in pools]
    nets = [r for r in rows if r["label"].startswith("network")]  # any K
    goal_nets = [r for r in nets if r["noise"]["n_neurons"] <= 300]
    best = min(goal_nets, key=lambda r: r["dkl_median"]) if goal_nets else None
    targets_met = {
        "pool_error_falls_with_size": bool(len(pool_dkls) > 1 and pool_dkls[-1] < pool_dkls[0]),
        "pool_error_monotone": bool(all(a >= b for a, b in zip(pool_dkls, pool_dkls[1:], strict=False))),
        "best_small_network": None if best is None else best["label"],
        "best_small_network_ratio": None if best is None else best["dkl_median"] / reference,
        "network_goal_met": bool(best is not None and best["dkl_median"] <= GOAL_RATIO * reference),
        "ensemble_ratio": ens["dkl_median"] / reference,
    }

    n_sampling = len(targets) * settings["n_chains"] * 5
    description = paragraph(
        f"{len(targets)} random 5-unit BMs (seeds {settings['seeds']}), {settings['n_chains']} chains each,",
        f"all {n_sampling} sampling neurons in one simulation sharing the noise;",
        f"{settings['duration_ms']:g} ms sampled per chain (+{settings['burn_in_ms']:g} ms burn-in),",
        "dt 0.1 ms, calibrated under each noise.  DKL(target||sampled) in nats over the targets;",
        "/private = median relative to private Poisson.  rho conn / rho meas: pairwise input correlation",
        "predicted by the connectivity / measured on free neurons (rho sd: its spread over pairs);",
        "tau/tau_syn: autocorrelation time of the input current over tau_syn (1 for Poisson input);",
        "net: rate, CV of ISIs and pairwise spike-count correlation (5 ms bins) of the noise network alone.",
        "Wall time includes calibration.",
    )
    blocks = [
        description,
        format_table(HEADERS, [table_row(r, reference) for r in rows] + [None, table_row(ens, reference)]),
    ]
    if large_rows:
        lref = large_rows[0]["dkl_median"]
        lg = settings["large"]
        title = (
            f"larger machine: {lg['n_units']} units, {lg['n_chains']} chains "
            f"({lg['n_units'] * lg['n_chains']} sampling neurons)"
        )
        blocks.append(format_table(HEADERS, [table_row(r, lref) for r in large_rows], title=title))
    by_size = ", ".join(f"{r['label'][7:]}: {r['dkl_median']:.4g}" for r in pools)
    ratio = targets_met["best_small_network_ratio"]
    verdict = [
        f"shared-pool median DKL by N: {by_size} -> falls with size: "
        f"{targets_met['pool_error_falls_with_size']} (monotone: {targets_met['pool_error_monotone']})",
        f"best network <= 300 neurons: {targets_met['best_small_network']} at "
        f"{float('nan') if ratio is None else ratio:.3g}x private (goal <= {GOAL_RATIO}x): "
        f"{'met' if targets_met['network_goal_met'] else 'NOT met'}",
        f"ensemble (no Poisson input): median DKL {ens['dkl_median']:.4g} = "
        f"{targets_met['ensemble_ratio']:.3g}x private",
    ]
    return blocks, verdict, {"rows": rows, "ensemble": ens, "large": large_rows, "targets": targets_met}


def training_part(settings: dict, targets: list, cache_dir, known: dict) -> tuple[list[str], list[str], dict]:
    """The trained-versus-untrained table: blocks of text, verdict lines, JSON parts."""
    cfg = settings["training"]
    rows = [training_row(name, targets, settings, cache_dir, known) for name in cfg["models"]]
    ws = cfg["wake_sleep"]
    description = paragraph(
        "Wake-sleep under the noise the networks get: the targets' networks trained together",
        f"(train_together, {cfg['n_iterations']} iterations x {ws['duration']:g} ms x",
        f"{settings['n_chains']} chains per target, the same budget for every row), then sampled like the",
        f"untrained ones ({settings['duration_ms']:g} ms per chain, seed 11).  Median DKL over the targets;",
        "priv untr / priv tr: the private-Poisson row untrained / trained.",
    )
    blocks = [description, format_table(TRAINING_HEADERS, training_table(rows), title="training")]
    by = {r["label"]: r for r in rows}
    ref = by.get("private Poisson")
    verdict = []
    summary: dict = {}
    for r in rows:
        if r is ref:
            continue
        if ref is not None:
            summary[r["label"]] = {
                "trained_over_private_untrained": r["trained_median"] / ref["untrained_median"],
                "trained_over_private_trained": r["trained_median"] / ref["trained_median"],
            }
        verdict.append(
            f"{r['label']}: median DKL {r['untrained_median']:.4g} -> {r['trained_median']:.4g} trained"
            + (
                ""
                if ref is None
                else f" ({summary[r['label']]['trained_over_private_untrained']:.3g}x untrained private, "
                f"{summary[r['label']]['trained_over_private_trained']:.3g}x trained private)"
            )
        )
    return blocks, verdict, {"training": rows, "training_summary": summary}


def add_arguments(parser) -> None:
    parser.add_argument(
        "--part",
        choices=("all", "models", "training"),
        default="all",
        help="which tables to measure: the noise models, wake-sleep training under them, or both",
    )


def main(argv=None) -> int:
    args = parse_args(NAME, __doc__, add_arguments, argv)
    settings = dict(QUICK if args.quick else FULL)
    env = environment()
    cache_dir = args.cache_dir
    targets = [ls.random_boltzmann_machine(5, seed=s) for s in settings["seeds"]]

    blocks: list[str] = []
    verdict: list[str] = []
    doc: dict = {"quick": args.quick, "part": args.part, "settings": settings}
    known: dict = {}  # untrained DKLs by noise, from the noise-model table
    with Stopwatch() as total:
        if args.part in ("all", "models"):
            b, v, d = models_part(settings, targets, cache_dir)
            blocks, verdict = blocks + b, verdict + v
            doc.update(d)
            known = {noise_key(r["noise"]): r["dkl"] for r in [*d["rows"], d["ensemble"]]}
        if args.part in ("all", "training"):
            b, v, d = training_part(settings, targets, cache_dir, known)
            blocks, verdict = blocks + b, verdict + v
            doc.update(d)
    verdict.append(f"total {total.seconds:.0f} s")
    if args.quick:
        verdict.append("--quick: short runs, the numbers are not meaningful")
    print_report(f"noise study ({'quick' if args.quick else 'full'})", env, [*blocks, "\n".join(verdict)])
    write_json(args.out, NAME, {**doc, "wall_time_s": total.seconds}, env)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
