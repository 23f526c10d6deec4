"""Learning in the loop: fine-tuning, parameter noise, spike-based alignment and data (issue #6).

What is measured
    (a) Fine-tuning.  For ten random 5-unit Boltzmann machines drawn as in the
    sbs tests (``random_boltzmann_machine(5, seed=s)``, s = 0..9), the default
    :class:`lifsampling.LIFSampler` (sbs neuron, Poisson background, renewing
    synapses, interaction calibration, dt = 0.1 ms) is evaluated before and
    after :class:`lifsampling.WakeSleep` training on the exact target moments
    (``--iterations`` iterations of 32 persistent chains x 500 ms, natural
    gradient, eta(t) = 0.5 * 30 / (30 + t); trainer seed 1).  Evaluation:
    8 chains x 12 500 ms of sampled time after 500 ms burn-in, simulator seed
    s, DKL(target || sampled) in nats (pseudo-count 1/2 per state).  The
    training wall time is reported per target.

    (b) Parameter noise.  The same with 10 % fixed-pattern noise on leak
    potentials and weights (``ParameterNoise(e_l=0.1, weights=0.1, seed=s)``:
    leak offsets with a standard deviation of 10 % of the activation width
    2 alpha ln 19, i.e. 0.59 bias units; every weight times (1 + 0.1 xi)),
    applied to every network the sampler and the trainer run.

    (c) Spike-based alignment learning.  Seven units, target W*, b* ~ U(-1, 1)
    (upper triangle of W*, symmetrised), the network starting from
    asymmetric weights (every W_ij ~ U(-1, 1) independently, b = 0), trained
    on the target moments with and without :class:`lifsampling.SAL` (nearest-
    spike pairing, rate ``--sal-rate``; also the all-pairs variant) for
    ``--sal-iterations`` iterations; asymmetry (variance of the upper triangle
    of W - W^T) before/after and the final DKL, evaluated as in (a).

    (d) Data.  3x3 bars and stripes (the 14 distinct patterns, made in code)
    learned by a restricted Boltzmann machine with ``--hidden`` hidden units
    (initial weights N(0, 0.1^2), biases 0): wake chains clamp the visible
    units to the patterns (all 14 per iteration), sleep chains run freely.
    DKL(data || generated visible states) of 8 chains x 12 500 ms and the
    fraction of generated states that are patterns.

Targets (issue #6)
    (a) median DKL after <= 0.005; (b) noisy median after <= 2 x the
    noise-free median after; (c) with SAL the asymmetry falls >= 100x and
    the final DKL is at or below the no-SAL run's.

The calibrations (activation function, interaction maps) are made or loaded
from lifsampling's cache before the runs and timed separately.

Run::

    python benchmarks/learning_study.py [--quick] [--iterations N] [--sal-iterations N] [--sal-rate R]
        [--hidden H] [--data-iterations N] [--out results/learning_study.json]

``--quick``: 2 targets per part, short training and evaluation, short calibrations (a smoke test; its
numbers are not meaningful).
``--cache-dir``: lifsampling cache for the calibrations (default: lifsampling's own).
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

NAME = "learning_study"
TARGET_MEDIAN = 0.005
NOISE_FACTOR = 2.0
SAL_DROP = 100.0

FULL = {
    "seeds": list(range(10)),
    "n_chains": 8,
    "duration_ms": 12_500.0,
    "burn_in_ms": 500.0,
    "iterations": 60,
    "sal_seeds": [0, 1, 2],
    "sal_iterations": 100,
    "sal_rate": 0.002,
    "hidden": 8,
    "data_iterations": 150,
    "trainer": {"n_chains": 32, "duration": 500.0},
}
QUICK = {
    "seeds": [0, 1],
    "n_chains": 2,
    "duration_ms": 1_000.0,
    "burn_in_ms": 200.0,
    "iterations": 3,
    "sal_seeds": [0],
    "sal_iterations": 3,
    "sal_rate": 0.002,
    "hidden": 4,
    "data_iterations": 3,
    "trainer": {"n_chains": 4, "duration": 100.0, "settle": 10.0, "burn_in": 20.0},
}
QUICK_CALIBRATION = {"n_points": 20, "duration": 2000.0, "prescan_duration": 500.0}
QUICK_INTERACTIONS = {"n_pairs": 4, "duration": 2000.0}


def add_arguments(parser) -> None:
    parser.add_argument("--iterations", type=int, default=None, help="training iterations of (a) and (b)")
    parser.add_argument("--sal-iterations", type=int, default=None, help="training iterations of (c)")
    parser.add_argument("--sal-rate", type=float, default=None, help="SAL rate of (c)")
    parser.add_argument("--hidden", type=int, default=None, help="hidden units of the RBM of (d)")
    parser.add_argument("--data-iterations", type=int, default=None, help="training iterations of (d)")


def bars_and_stripes(n: int = 3) -> np.ndarray:
    """All distinct n x n bars-and-stripes patterns (rows or columns all on or off), flattened."""
    rows = ls.all_states(n)
    bars = np.array([np.repeat(r, n) for r in rows])
    stripes = np.array([np.tile(r, n) for r in rows])
    return np.unique(np.concatenate([bars, stripes]), axis=0)


def evaluate(sampler, target, cfg, seed) -> dict:
    result, wall = timed_sample(
        sampler, cfg["duration_ms"], n_chains=cfg["n_chains"], seed=seed, burn_in=cfg["burn_in_ms"]
    )
    kl = ls.kl_divergence(target, result)
    return {"dkl_target_sampled": kl.dkl_target_sampled, "n_unvisited": kl.n_unvisited, "wall_s": wall}


def fine_tune_rows(cfg, calibration, interactions, noise_level, cache_dir) -> list[dict]:
    rows = []
    for s in cfg["seeds"]:
        bm = ls.random_boltzmann_machine(5, seed=s)
        noise = None if noise_level == 0 else ls.ParameterNoise(e_l=noise_level, weights=noise_level, seed=s)
        sampler = ls.LIFSampler(
            bm,
            calibration=calibration,
            interactions=interactions,
            parameter_noise=noise,
            cache_dir=cache_dir,
            progress=False,
        )
        before = evaluate(sampler, bm, cfg, s)
        with Stopwatch() as sw:
            trainer = ls.WakeSleep(sampler, seed=1, progress=False, **cfg["trainer"]).fit(
                n_iterations=cfg["iterations"]
            )
        after = evaluate(trainer.sampler_, bm, cfg, s)
        rows.append(
            {
                "seed": s,
                "noise": noise_level,
                "before": before,
                "after": after,
                "train_wall_s": sw.seconds,
                "iterations": cfg["iterations"],
                "final_pooled_training_dkl": float(trainer.history_.dkl_pooled.values[-1]),
            }
        )
        log(
            f"  seed {s} noise {noise_level:g}: DKL {before['dkl_target_sampled']:.4f} -> "
            f"{after['dkl_target_sampled']:.4f} (training {sw.seconds:.1f} s)"
        )
    return rows


def sal_rows(cfg, calibration, interactions, cache_dir) -> list[dict]:
    rows = []
    K = 7
    variants = [("none", None), ("nearest", "nearest"), ("all", "all")]
    for s in cfg["sal_seeds"]:
        rng = np.random.default_rng(1000 + s)
        A = rng.uniform(-1, 1, (K, K))
        target = ls.BoltzmannMachine(np.triu(A, 1) + np.triu(A, 1).T, rng.uniform(-1, 1, K))
        W0 = rng.uniform(-1, 1, (K, K))
        np.fill_diagonal(W0, 0.0)
        net = ls.network_from_boltzmann(W0, np.zeros(K), calibration)
        sampler = ls.LIFSampler(
            target,
            calibration=calibration,
            interactions=interactions,
            network=net,
            cache_dir=cache_dir,
            progress=False,
        )
        before = evaluate(sampler, target, cfg, s)
        for label, pairing in variants:
            sal = None if pairing is None else ls.SAL(rate=cfg["sal_rate"], pairing=pairing)
            with Stopwatch() as sw:
                trainer = ls.WakeSleep(sampler, alignment=sal, seed=1, progress=False, **cfg["trainer"]).fit(
                    n_iterations=cfg["sal_iterations"]
                )
            W = trainer.weights_
            after = evaluate(trainer.sampler_, target, cfg, s)
            row = {
                "seed": s,
                "sal": label,
                "asymmetry_before": ls.asymmetry(W0),
                "asymmetry_after": ls.asymmetry(W),
                "asymmetry_drop": ls.asymmetry(W0) / max(ls.asymmetry(W), 1e-300),
                "before": before,
                "after": after,
                "train_wall_s": sw.seconds,
            }
            rows.append(row)
            log(
                f"  SAL {label} seed {s}: asymmetry {row['asymmetry_before']:.3f} -> "
                f"{row['asymmetry_after']:.4f}, DKL {before['dkl_target_sampled']:.3f} -> "
                f"{after['dkl_target_sampled']:.4f} ({sw.seconds:.1f} s)"
            )
    return rows


def data_row(cfg, calibration, interactions, clamp, cache_dir) -> dict:
    data = bars_and_stripes(3)
    nh = cfg["hidden"]
    rng = np.random.default_rng(0)
    rbm = ls.RestrictedBoltzmannMachine(rng.normal(0, 0.1, (9, nh)), np.zeros(9), np.zeros(nh))
    sampler = ls.LIFSampler(
        rbm,
        calibration=calibration,
        interactions=interactions,
        clamp_couplings=clamp,
        cache_dir=cache_dir,
        progress=False,
    )
    with Stopwatch() as sw:
        trainer = ls.WakeSleep(sampler, seed=1, progress=False, **cfg["trainer"]).fit(
            data=data, n_iterations=cfg["data_iterations"]
        )
    result, wall = timed_sample(
        trainer.sampler_, cfg["duration_ms"], n_chains=cfg["n_chains"], seed=3, burn_in=cfg["burn_in_ms"]
    )
    visible = ls.states_to_indices(result.states.values[..., :9]).ravel()
    p_data = np.bincount(ls.states_to_indices(data), minlength=512) / len(data)
    kl = ls.kl_divergence(p_data, np.bincount(visible, minlength=512))
    in_data = float(np.isin(visible, ls.states_to_indices(data)).mean())
    uniform = ls.kl_divergence(p_data, np.ones(512)).dkl_target_sampled
    row = {
        "n_patterns": len(data),
        "n_visible": 9,
        "n_hidden": nh,
        "iterations": cfg["data_iterations"],
        "dkl_data_generated": kl.dkl_target_sampled,
        "fraction_patterns": in_data,
        "dkl_uniform": uniform,
        "train_wall_s": sw.seconds,
        "eval_wall_s": wall,
        "final_pooled_training_dkl": float(trainer.history_.dkl_pooled.values[-1]),
    }
    log(f"  bars and stripes: DKL {kl.dkl_target_sampled:.3f}, {100 * in_data:.1f} % patterns")
    return row


def median(rows, part, key="dkl_target_sampled") -> float:
    return float(np.median([r[part][key] for r in rows]))


def main(argv=None) -> dict:
    args = parse_args(NAME, __doc__, add_arguments, argv)
    cfg = dict(QUICK if args.quick else FULL)
    for key, value in (
        ("iterations", args.iterations),
        ("sal_iterations", args.sal_iterations),
        ("sal_rate", args.sal_rate),
        ("hidden", args.hidden),
        ("data_iterations", args.data_iterations),
    ):
        if value is not None:
            cfg[key] = value
    env = environment()
    cache_dir = args.cache_dir
    with Stopwatch() as total:
        with Stopwatch() as sw:
            cal = ls.calibrate(
                cache_dir=cache_dir, progress=False, **(QUICK_CALIBRATION if args.quick else {})
            )
            quick = QUICK_INTERACTIONS if args.quick else {}
            inter = ls.calibrate_interactions(cal, cache_dir=cache_dir, progress=False, **quick)
            clamp = ls.calibrate_interactions(
                cal, presynaptic="clamped", cache_dir=cache_dir, progress=False, **quick
            )
        log(f"calibration: {sw.seconds:.1f} s")
        log("(a) fine-tuning")
        clean = fine_tune_rows(cfg, cal, inter, 0.0, cache_dir)
        log("(b) 10 % parameter noise")
        noisy = fine_tune_rows(cfg, cal, inter, 0.1, cache_dir)
        log("(c) SAL")
        sal = sal_rows(cfg, cal, inter, cache_dir)
        log("(d) bars and stripes")
        data = data_row(cfg, cal, inter, clamp, cache_dir)

    def ft_table(rows, title):
        body = [
            [
                r["seed"],
                r["before"]["dkl_target_sampled"],
                r["after"]["dkl_target_sampled"],
                r["train_wall_s"],
                r["after"]["wall_s"],
            ]
            for r in rows
        ]
        body += [None, ["median", median(rows, "before"), median(rows, "after"), None, None]]
        headers = ["seed", "DKL(t||s) before", "DKL(t||s) after", "training [s]", "eval [s]"]
        return format_table(headers, body, title=title)

    clean_median, noisy_median = median(clean, "after"), median(noisy, "after")
    by_variant = {}
    for label in ("none", "nearest", "all"):
        rows = [r for r in sal if r["sal"] == label]
        by_variant[label] = {
            "median_drop": float(np.median([r["asymmetry_drop"] for r in rows])),
            "median_dkl_after": median(rows, "after"),
        }
    sal_body = [
        [
            r["seed"],
            r["sal"],
            r["asymmetry_before"],
            r["asymmetry_after"],
            r["asymmetry_drop"],
            r["before"]["dkl_target_sampled"],
            r["after"]["dkl_target_sampled"],
            r["train_wall_s"],
        ]
        for r in sal
    ]
    targets = {
        "a_median_after": clean_median,
        "a_ok": clean_median <= TARGET_MEDIAN,
        "b_median_after": noisy_median,
        "b_ratio_to_clean": noisy_median / clean_median,
        "b_ok": noisy_median <= NOISE_FACTOR * clean_median,
        "c_drop_nearest": by_variant["nearest"]["median_drop"],
        "c_drop_ok": by_variant["nearest"]["median_drop"] >= SAL_DROP,
        "c_dkl_ok": by_variant["nearest"]["median_dkl_after"] <= by_variant["none"]["median_dkl_after"],
        "d_dkl": data["dkl_data_generated"],
    }
    blocks = [
        ft_table(clean, "(a) fine-tuning 5-unit sbs machines, 8 chains x 12.5 s evaluation"),
        ft_table(noisy, "(b) the same with 10 % fixed-pattern noise on E_L and weights"),
        format_table(
            [
                "seed",
                "SAL",
                "asym before",
                "asym after",
                "drop",
                "DKL before",
                "DKL after",
                "train [s]",
            ],
            sal_body,
            title="(c) 7 units, W*, b* ~ U(-1, 1), asymmetric initial weights",
        ),
        format_table(
            ["patterns", "hidden", "iterations", "DKL(data||gen)", "DKL uniform", "in data", "train [s]"],
            [
                [
                    data["n_patterns"],
                    data["n_hidden"],
                    data["iterations"],
                    data["dkl_data_generated"],
                    data["dkl_uniform"],
                    data["fraction_patterns"],
                    data["train_wall_s"],
                ]
            ],
            title="(d) 3x3 bars and stripes, RBM",
        ),
        paragraph(
            f"Targets: (a) median after {clean_median:.4f} <= {TARGET_MEDIAN}: "
            f"{'met' if targets['a_ok'] else 'not met'}; (b) noisy median {noisy_median:.4f} = "
            f"{targets['b_ratio_to_clean']:.2f} x noise-free (<= {NOISE_FACTOR:g}): "
            f"{'met' if targets['b_ok'] else 'not met'}; (c) SAL asymmetry drop "
            f"{targets['c_drop_nearest']:.1f}x (>= {SAL_DROP:g}): "
            f"{'met' if targets['c_drop_ok'] else 'not met'}, "
            f"DKL with SAL at or below without: {'yes' if targets['c_dkl_ok'] else 'no'}.",
            f"Total wall time {total.seconds:.0f} s.",
        ),
    ]
    print_report("learning study", env, blocks)
    payload = {
        "quick": args.quick,
        "settings": cfg,
        "calibration": {"v_p05": cal.v_p05, "alpha": cal.alpha, "interactions": inter.to_dict()},
        "fine_tune": clean,
        "parameter_noise": noisy,
        "sal": sal,
        "sal_summary": by_variant,
        "data": data,
        "targets": targets,
        "wall_time_s": total.seconds,
    }
    return write_json(args.out, NAME, payload, env)


if __name__ == "__main__":
    main()
