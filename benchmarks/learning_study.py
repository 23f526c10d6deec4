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
    on the target moments with and without :class:`lifsampling.SAL` for
    ``--sal-iterations`` iterations (rate ``--sal-rate``, decaying with the
    trainer's schedule); the final DKL is evaluated as in (a).  Variants
    (``--sal-variants``): ``rect``, the rectangular window of width
    tau_ref = 10 ms (a spike of i is paired while j is refractory; the
    primary variant), ``all`` and ``nearest``, the exponential window
    (tau = 10 ms) with all-pairs or nearest-spike pairing.
    Two asymmetries (variance of the upper triangle of W - W^T): *nominal*,
    of the trainer's Boltzmann-unit weights, and *effective*, of the
    couplings the running network realises
    (:func:`lifsampling.alignment.effective_couplings`: per neuron, a
    logistic regression of its spike hazard on the other units' states; floor
    ~0.003 at 32 chains x 12.5 s).  Control: SAL alone (no wake-sleep) from
    the nominally symmetric network of W*, b*, for the rectangular and the
    exponential all-pairs window: the nominal asymmetry SAL itself creates,
    i.e. the floor of the nominal metric (spike timing in a recurrent network
    with symmetric weights is not time-symmetric; the rectangular window
    cancels the leading part of it).

    (d) Data.  3x3 bars and stripes (the 14 distinct patterns, made in code)
    learned by a restricted Boltzmann machine with ``--hidden`` hidden units
    (initial weights N(0, 0.1^2), biases 0): wake chains clamp the visible
    units to the patterns (all 14 per iteration), sleep chains run freely
    (64 persistent chains x 250 ms per iteration, natural gradient with
    eta(t) = 1.0 * 30 / (30 + t), damping 0.1, steps <= 0.3; the trainer
    keeps the iteration whose sleep samples had the lowest DKL to the data,
    ``keep_best=True``).  DKL(data || generated visible states) of 8 chains
    x 12 500 ms and the fraction of generated states that are patterns; and
    the same for the same sampled time in 64 chains (the patterns are modes
    that a chain leaves rarely, so few long chains weigh them unevenly).
    Measured: 32 hidden units, 150 iterations: 0.45 (8 chains), 0.53 (64
    chains), 90 % patterns; the sleep-phase DKL of the persistent training
    chains is lower (~0.3 at the end, 0.15 after 250 iterations) because the
    weight updates keep those chains moving between patterns; the frozen
    network after 250 iterations puts 98 % of its samples on patterns but
    mixes so slowly between them that DKL(data || generated) is 3-5.

Targets (issue #6)
    (a) median DKL after <= 0.005; (b) noisy median after <= 2 x the
    noise-free median after; (c) with SAL the asymmetry falls >= 100x and
    the final DKL is at or below the no-SAL run's (drop reported both nominal and effective,
    rectangular-window variant).

The calibrations (activation function, interaction maps) are made or loaded
from lifsampling's cache before the runs and timed separately.

Run::

    python benchmarks/learning_study.py [--quick] [--parts abcd] [--iterations N] [--sal-iterations N]
        [--sal-rate R] [--sal-seeds 0,1,2] [--sal-variants none,rect,all] [--hidden H]
        [--data-iterations N] [--out results/learning_study.json]

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
from lifsampling.alignment import effective_asymmetry as effective_asymmetry_of

NAME = "learning_study"
TARGET_MEDIAN = 0.005
NOISE_FACTOR = 2.0
SAL_DROP = 100.0
#: SAL variants of (c): label -> (window, pairing), None: wake-sleep alone
SAL_VARIANTS = {
    "none": None,
    "rect": ("rectangular", "all"),
    "all": ("exponential", "all"),
    "nearest": ("exponential", "nearest"),
}
#: the variant the targets are checked on
SAL_PRIMARY = "rect"
#: variants whose control (SAL alone from the symmetric network) is run
SAL_CONTROLS = ("rect", "all")

FULL = {
    "seeds": list(range(10)),
    "n_chains": 8,
    "duration_ms": 12_500.0,
    "burn_in_ms": 500.0,
    "iterations": 60,
    "sal_seeds": [0, 1, 2],
    "sal_iterations": 100,
    "sal_rate": 0.03,
    "sal_variants": ["none", "rect", "all"],
    "asym_chains": 32,
    "hidden": 32,
    "data_iterations": 150,
    "trainer": {"n_chains": 32, "duration": 500.0},
    # (d): more, shorter sleep chains (the patterns are separate modes), smaller steps, keep the best
    "data_trainer": {
        "n_chains": 64,
        "duration": 250.0,
        "learning_rate": 1.0,
        "tau": 30.0,
        "damping": 0.1,
        "max_step": 0.3,
        "keep_best": True,
    },
    "data_eval_chains": 64,
}
QUICK = {
    "seeds": [0, 1],
    "n_chains": 2,
    "duration_ms": 1_000.0,
    "burn_in_ms": 200.0,
    "iterations": 3,
    "sal_seeds": [0],
    "sal_iterations": 3,
    "sal_rate": 0.03,
    # the variants tests/test_benchmarks.py expects; add rect with --sal-variants none,rect,all
    "sal_variants": ["none", "all", "nearest"],
    "asym_chains": 2,
    "hidden": 4,
    "data_iterations": 3,
    "trainer": {"n_chains": 4, "duration": 100.0, "settle": 10.0, "burn_in": 20.0},
    "data_trainer": {"keep_best": True},
    "data_eval_chains": 4,
}
QUICK_CALIBRATION = {"n_points": 20, "duration": 2000.0, "prescan_duration": 500.0}
QUICK_INTERACTIONS = {"n_pairs": 4, "duration": 2000.0}


def add_arguments(parser) -> None:
    parser.add_argument("--iterations", type=int, default=None, help="training iterations of (a) and (b)")
    parser.add_argument("--sal-iterations", type=int, default=None, help="training iterations of (c)")
    parser.add_argument("--sal-rate", type=float, default=None, help="SAL rate of (c)")
    parser.add_argument("--sal-seeds", default=None, help="seeds of (c), e.g. '0,1,2'")
    parser.add_argument(
        "--sal-variants", default=None, help=f"SAL variants of (c) among {','.join(SAL_VARIANTS)}"
    )
    parser.add_argument("--hidden", type=int, default=None, help="hidden units of the RBM of (d)")
    parser.add_argument("--data-iterations", type=int, default=None, help="training iterations of (d)")
    parser.add_argument("--parts", default="abcd", help="parts to run, e.g. 'c' or 'cd' (default: abcd)")


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


def effective_asymmetry(sampler, cfg, seed) -> float:
    """Asymmetry of the couplings the network realises (hazard regression on its states)."""
    result = sampler.sample(
        cfg["duration_ms"], n_chains=cfg["asym_chains"], seed=10_000 + seed, burn_in=cfg["burn_in_ms"]
    )
    return effective_asymmetry_of(result.states.values)


def sal_rows(cfg, calibration, interactions, cache_dir) -> tuple[list[dict], list[dict]]:
    rows, controls = [], []
    K = 7

    def alignment(label):
        if SAL_VARIANTS[label] is None:
            return None
        window, pairing = SAL_VARIANTS[label]
        return ls.SAL(rate=cfg["sal_rate"], pairing=pairing, window=window)

    for s in cfg["sal_seeds"]:
        rng = np.random.default_rng(1000 + s)
        A = rng.uniform(-1, 1, (K, K))
        target = ls.BoltzmannMachine(np.triu(A, 1) + np.triu(A, 1).T, rng.uniform(-1, 1, K))
        W0 = rng.uniform(-1, 1, (K, K))
        np.fill_diagonal(W0, 0.0)

        def make(W, b, target=target):
            return ls.LIFSampler(
                target,
                calibration=calibration,
                interactions=interactions,
                network=ls.network_from_boltzmann(W, b, calibration),
                cache_dir=cache_dir,
                progress=False,
            )

        sampler = make(W0, np.zeros(K))
        before = evaluate(sampler, target, cfg, s)
        eff_before = effective_asymmetry(sampler, cfg, s)
        for label in cfg["sal_variants"]:
            with Stopwatch() as sw:
                trainer = ls.WakeSleep(
                    sampler, alignment=alignment(label), seed=1, progress=False, **cfg["trainer"]
                ).fit(n_iterations=cfg["sal_iterations"])
            W = trainer.weights_
            after = evaluate(trainer.sampler_, target, cfg, s)
            eff_after = effective_asymmetry(trainer.sampler_, cfg, s)
            row = {
                "seed": s,
                "sal": label,
                "asymmetry_before": ls.asymmetry(W0),
                "asymmetry_after": ls.asymmetry(W),
                "asymmetry_drop": ls.asymmetry(W0) / max(ls.asymmetry(W), 1e-300),
                "effective_asymmetry_before": eff_before,
                "effective_asymmetry_after": eff_after,
                "effective_asymmetry_drop": eff_before / max(eff_after, 1e-300),
                "asymmetry_history": trainer.history_.asymmetry.values.tolist(),
                "before": before,
                "after": after,
                "train_wall_s": sw.seconds,
            }
            rows.append(row)
            log(
                f"  SAL {label} seed {s}: asymmetry nominal {row['asymmetry_before']:.3f} -> "
                f"{row['asymmetry_after']:.4f}, effective {eff_before:.4f} -> {eff_after:.4f}, "
                f"DKL {before['dkl_target_sampled']:.3f} -> {after['dkl_target_sampled']:.4f} "
                f"({sw.seconds:.1f} s)"
            )
        # Control: SAL alone from the nominally symmetric network of the target.
        sym = make(target.W, target.b)
        eff_sym = effective_asymmetry(sym, cfg, s)
        dkl_sym = evaluate(sym, target, cfg, s)["dkl_target_sampled"]
        for label in [v for v in SAL_CONTROLS if v in cfg["sal_variants"]]:
            trainer = ls.WakeSleep(
                sym,
                alignment=alignment(label),
                learning_rate=1e-12,  # wake-sleep off (SAL follows the constant schedule)
                schedule="constant",
                max_step=None,
                seed=1,
                progress=False,
                **cfg["trainer"],
            ).fit(n_iterations=cfg["sal_iterations"])
            control = {
                "seed": s,
                "sal": label,
                "nominal_after": ls.asymmetry(trainer.weights_),
                "effective_before": eff_sym,
                "effective_after": effective_asymmetry(trainer.sampler_, cfg, s),
                "dkl_before": dkl_sym,
                "dkl_after": evaluate(trainer.sampler_, target, cfg, s)["dkl_target_sampled"],
            }
            controls.append(control)
            log(
                f"  SAL {label} alone from symmetric W* seed {s}: nominal 0 -> "
                f"{control['nominal_after']:.4f}, effective {eff_sym:.4f} -> "
                f"{control['effective_after']:.4f}, "
                f"DKL {dkl_sym:.4f} -> {control['dkl_after']:.4f}"
            )
    return rows, controls


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
    settings = {**cfg["trainer"], **cfg["data_trainer"]}
    with Stopwatch() as sw:
        trainer = ls.WakeSleep(sampler, seed=1, progress=False, **settings).fit(
            data=data, n_iterations=cfg["data_iterations"]
        )
    h = trainer.history_
    p_data = np.bincount(ls.states_to_indices(data), minlength=512) / len(data)

    def generated(n_chains, duration):
        result, wall = timed_sample(
            trainer.sampler_, duration, n_chains=n_chains, seed=3, burn_in=cfg["burn_in_ms"]
        )
        visible = ls.states_to_indices(result.states.values[..., :9]).ravel()
        kl = ls.kl_divergence(p_data, np.bincount(visible, minlength=512)).dkl_target_sampled
        return kl, float(np.isin(visible, ls.states_to_indices(data)).mean()), wall

    dkl, in_data, wall = generated(cfg["n_chains"], cfg["duration_ms"])
    # the same sampled time in more, shorter chains (the patterns are modes the chains leave rarely)
    many = cfg["data_eval_chains"]
    dkl_many, in_data_many, _ = generated(many, float(round(cfg["n_chains"] * cfg["duration_ms"] / many)))
    uniform = ls.kl_divergence(p_data, np.ones(512)).dkl_target_sampled
    row = {
        "n_patterns": len(data),
        "n_visible": 9,
        "n_hidden": nh,
        "iterations": cfg["data_iterations"],
        "dkl_data_generated": dkl,
        "fraction_patterns": in_data,
        "eval_chains_many": many,
        "dkl_data_generated_many_chains": dkl_many,
        "fraction_patterns_many_chains": in_data_many,
        "dkl_uniform": uniform,
        "train_wall_s": sw.seconds,
        "eval_wall_s": wall,
        "final_pooled_training_dkl": float(h.dkl_pooled.values[-1]),
        "best_iteration": trainer.best_iteration_,
        "best_training_dkl": float(h.dkl.values[trainer.best_iteration_]),
        "training_dkl": h.dkl.values.tolist(),
        "trainer": settings,
    }
    log(
        f"  bars and stripes: DKL {dkl:.3f}, {100 * in_data:.1f} % patterns; {many} chains: DKL "
        f"{dkl_many:.3f}, {100 * in_data_many:.1f} % patterns; best iteration {trainer.best_iteration_}"
    )
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
        ("sal_seeds", args.sal_seeds and [int(x) for x in args.sal_seeds.split(",")]),
        ("sal_variants", args.sal_variants and args.sal_variants.split(",")),
        ("hidden", args.hidden),
        ("data_iterations", args.data_iterations),
    ):
        if value is not None:
            cfg[key] = value
    unknown = sorted(set(cfg["sal_variants"]) - set(SAL_VARIANTS))
    if unknown:
        raise SystemExit(f"unknown --sal-variants {unknown}; choose among {', '.join(SAL_VARIANTS)}.")
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
        parts = set(args.parts)
        clean = noisy = sal = controls = []
        data = None
        if "a" in parts:
            log("(a) fine-tuning")
            clean = fine_tune_rows(cfg, cal, inter, 0.0, cache_dir)
        if "b" in parts:
            log("(b) 10 % parameter noise")
            noisy = fine_tune_rows(cfg, cal, inter, 0.1, cache_dir)
        if "c" in parts:
            log("(c) SAL")
            sal, controls = sal_rows(cfg, cal, inter, cache_dir)
        if "d" in parts:
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

    nan = float("nan")
    clean_median = median(clean, "after") if clean else nan
    noisy_median = median(noisy, "after") if noisy else nan
    by_variant = {}
    for label in SAL_VARIANTS:
        rows = [r for r in sal if r["sal"] == label]
        if rows:
            by_variant[label] = {
                "median_drop": float(np.median([r["asymmetry_drop"] for r in rows])),
                "median_effective_drop": float(np.median([r["effective_asymmetry_drop"] for r in rows])),
                "median_dkl_after": median(rows, "after"),
            }
    sal_body = [
        [
            r["seed"],
            r["sal"],
            r["asymmetry_before"],
            r["asymmetry_after"],
            r["asymmetry_drop"],
            r["effective_asymmetry_before"],
            r["effective_asymmetry_after"],
            r["effective_asymmetry_drop"],
            r["before"]["dkl_target_sampled"],
            r["after"]["dkl_target_sampled"],
            r["train_wall_s"],
        ]
        for r in sal
    ]
    control_body = [
        [
            c["seed"],
            c["sal"],
            c["nominal_after"],
            c["effective_before"],
            c["effective_after"],
            c["dkl_before"],
            c["dkl_after"],
        ]
        for c in controls
    ]
    primary = by_variant.get(
        SAL_PRIMARY, {"median_drop": nan, "median_effective_drop": nan, "median_dkl_after": nan}
    )
    none = by_variant.get("none", {"median_dkl_after": nan})
    targets = {
        "a_median_after": clean_median,
        "a_ok": clean_median <= TARGET_MEDIAN,
        "b_median_after": noisy_median,
        "b_ratio_to_clean": noisy_median / clean_median,
        "b_ok": noisy_median <= NOISE_FACTOR * clean_median,
        "c_drop_nominal": primary["median_drop"],
        "c_drop_effective": primary["median_effective_drop"],
        "c_drop_ok": primary["median_drop"] >= SAL_DROP,
        "c_effective_drop_ok": primary["median_effective_drop"] >= SAL_DROP,
        "c_dkl_ok": primary["median_dkl_after"] <= none["median_dkl_after"],
        "d_dkl": data["dkl_data_generated"] if data else nan,
        "d_dkl_many_chains": data["dkl_data_generated_many_chains"] if data else nan,
    }
    blocks = [
        ft_table(clean, "(a) fine-tuning 5-unit sbs machines, 8 chains x 12.5 s evaluation") if clean else "",
        ft_table(noisy, "(b) the same with 10 % fixed-pattern noise on E_L and weights") if noisy else "",
        format_table(
            [
                "seed",
                "SAL",
                "nominal before",
                "nominal after",
                "drop",
                "effective before",
                "effective after",
                "drop",
                "DKL before",
                "DKL after",
                "train [s]",
            ],
            sal_body,
            title="(c) 7 units, W*, b* ~ U(-1, 1), asymmetric initial weights: asymmetry and DKL",
        )
        if sal
        else "",
        format_table(
            [
                "seed",
                "SAL",
                "nominal after",
                "effective before",
                "effective after",
                "DKL before",
                "DKL after",
            ],
            control_body,
            title="(c) control: SAL alone from the nominally symmetric network of W*, b*",
        )
        if controls
        else "",
        format_table(
            [
                "patterns",
                "hidden",
                "iterations",
                "best it.",
                "DKL(data||gen)",
                "in data",
                "chains",
                "DKL(data||gen)",
                "in data",
                "DKL uniform",
                "train [s]",
            ],
            [
                [
                    data["n_patterns"],
                    data["n_hidden"],
                    data["iterations"],
                    data["best_iteration"],
                    data["dkl_data_generated"],
                    data["fraction_patterns"],
                    data["eval_chains_many"],
                    data["dkl_data_generated_many_chains"],
                    data["fraction_patterns_many_chains"],
                    data["dkl_uniform"],
                    data["train_wall_s"],
                ]
            ],
            title=(
                f"(d) 3x3 bars and stripes, RBM: generated by {cfg['n_chains']} chains x "
                f"{cfg['duration_ms'] / 1000:g} s, then the same sampled time in more chains"
            ),
        )
        if data
        else "",
        paragraph(
            f"Targets: (a) median after {clean_median:.4f} <= {TARGET_MEDIAN}: "
            f"{'met' if targets['a_ok'] else 'not met'}; (b) noisy median {noisy_median:.4f} = "
            f"{targets['b_ratio_to_clean']:.2f} x noise-free (<= {NOISE_FACTOR:g}): "
            f"{'met' if targets['b_ok'] else 'not met'}; (c) SAL ({SAL_PRIMARY}) asymmetry drop "
            f"nominal {targets['c_drop_nominal']:.1f}x, effective {targets['c_drop_effective']:.1f}x "
            f"(>= {SAL_DROP:g}): nominal {'met' if targets['c_drop_ok'] else 'not met'}, effective "
            f"{'met' if targets['c_effective_drop_ok'] else 'not met'}; "
            f"DKL with SAL at or below without: {'yes' if targets['c_dkl_ok'] else 'no'}.",
            f"Total wall time {total.seconds:.0f} s.",
        ),
    ]
    print_report("learning study", env, [b for b in blocks if b])
    payload = {
        "quick": args.quick,
        "settings": cfg,
        "calibration": {"v_p05": cal.v_p05, "alpha": cal.alpha, "interactions": inter.to_dict()},
        "fine_tune": clean,
        "parameter_noise": noisy,
        "sal": sal,
        "sal_summary": by_variant,
        "sal_control": controls,
        "data": data,
        "targets": targets,
        "wall_time_s": total.seconds,
    }
    return write_json(args.out, NAME, payload, env)


if __name__ == "__main__":
    main()
