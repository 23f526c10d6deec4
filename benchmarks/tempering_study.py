"""Oscillation-driven tempering: mode switches and cold-phase DKL against a constant-rate control.

What is measured
    Target: 10 units in two clusters of 5, ``W = +w`` within a cluster,
    ``W = -w`` between clusters, ``b = -w`` for every unit, ``w = 2.5``
    (``--coupling``).  Its two modes ``1111100000`` and ``0000011111`` carry
    0.4986 of the probability each (basin masses 0.5); the exact barrier
    between them (:func:`lifsampling.describe_modes`) is ``6 w`` = 15 energy
    units, the saddle being the all-off state, itself a shallow local minimum
    (depth ``w``, probability 2e-6).

    Constant-rate control: :class:`lifsampling.LIFSampler` with its defaults
    (sbs neuron, renewing synapses, interaction calibration, dt 0.1 ms,
    read-out every 1 ms) and a stationary Poisson background at the cold rate
    ``nu_c`` = 1000 Hz (excitatory and inhibitory, 1 nS each), 8 chains x
    100 s after 500 ms burn-in, seed 1.

    Oscillation-driven sampling: the same sampler with
    :class:`lifsampling.OscillatingPoissonNoise` around ``nu_0 = nu_c + A``
    with amplitude ``A``, so that the trough is the cold rate (the sampler
    calibrates for the trough, i.e. it shares the control's activation
    function and interaction map) and the peak is ``nu_c + 2 A``; two
    profiles (``hot_fraction``): the sine, and a pulse of width 0.3 periods
    on a cold plateau (the rate rests at ``nu_c`` for 70 % of the period);
    frequencies ``f`` = 1, 2, 4 Hz x amplitudes ``A`` = 2000, 4000, 6000 Hz,
    the same chains, sampled time, burn-in and seed.  Each run records every
    draw (``phase_window="all"``); the cold-phase result keeps the draws in
    the rhythm's cold window, exactly as ``phase_window="cold"`` would: for
    the sine phases [0.7, 0.8) of the cycle (0.75 = trough), for the pulse
    the second half of the plateau, [0.75, 0.1) (the first half lets the
    network cool down); a wider window ([0.65, 0.85) for the sine, the whole
    plateau [0.4, 0.1) for the pulse) and all phases are reported too.  The effective temperature
    ratio of peak to trough, ``T_W(nu_c + 2A) / T_W(nu_c)``, comes from
    :func:`lifsampling.temperature_map` (one calibration per rate, cached).

    Per run, from :func:`lifsampling.mixing_metrics` with the two modes (every
    draw assigned to the nearer mode; a switch is a change between successive
    assigned draws of a chain): mode switches (cold-phase samples for the
    oscillating runs, all draws for the control), switches per second of
    sampled time spanned (the time the sampler needed, gaps included) and per
    second of kept time, modes visited, the occupancy of each mode against its
    exact probability, the mean energy of the kept draws; and the DKL(target ||
    sampled) of the kept draws at the end of the run (nats, pseudo-count 1/2
    per state; also with 0.01).  The control is also evaluated on every 10th
    draw, the number of draws the cold window keeps, to separate the
    estimator's pseudo-count floor (~ #states / 2N) from sampling quality.

    Robustness: the control and one headline setting (``--headline``, default
    the pulse at f = 2 Hz, A = 6000 Hz) are repeated with 10 seeds
    (``--seeds``: the first is the sweep's seed), because a control whose
    chains hardly switch has a DKL set by how its 8 chains happened to split
    between the two modes during burn-in: it ranges from the translation's
    own error (an even 4/4 split) to several times that.

    Tilted target (``--tilt``, default 0.2; 0 skips it): the same machine
    with ``b + tilt`` in the first cluster, so that the modes have unequal
    probabilities (0.729 and 0.268, barriers 16 and 15); the control and the
    headline setting, first seed, with the occupancy of each mode against the
    target.  With two mirror-image modes every temperature gives them equal
    weight, so a sampler that equilibrates the modes at the hot phase and
    freezes them on cooling looks right; with unequal modes it does not.

Targets (issue #5)
    At equal total sampled time, oscillation-driven sampling makes >= 10x
    more mode switches than the constant-rate control (a control with no
    switch counts as 1), and its cold-phase DKL at the end of the run is
    lower than the control's.  A setting meets the target when both hold;
    the study passes when at least one setting of the sweep does, and the
    headline setting is called robust when it meets both for every seed.

The calibration (activation function and interaction map at the cold rate)
and the temperature map are made or loaded from lifsampling's cache before
the runs and timed separately; 10 ms warm-up runs absorb Brian2's Cython
compilation of the stationary and the oscillating network, so the per-run
wall times are pure sampling.

Run::

    python benchmarks/tempering_study.py [--quick] [--duration MS] [--chains N] [--seeds S [S ...]]
        [--frequencies F [F ...]] [--amplitudes A [A ...]] [--hot-fractions D [D ...]]
        [--headline F A D] [--coupling W] [--tilt D]
        [--out results/tempering_study.json]

``--quick``: f = 5 and 10 Hz, A = 2000 Hz, both profiles, 2 chains x 1000 ms, seeds 1 and
2, short calibrations (a smoke test; its numbers are not meaningful).
``--cache-dir``: lifsampling cache for the calibrations (default: lifsampling's own).
"""

from __future__ import annotations

import math

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
from lifsampling.tempering import COLD_WINDOW, phase_gate

NAME = "tempering_study"
N_PER_CLUSTER = 5
COLD_RATE = 1000.0  # Hz, excitatory and inhibitory
NOISE_WEIGHT = 0.001  # µS, excitatory and inhibitory (the sbs preset's)
CENTRE = 0.75  # phase of the trough, cycles
SINE_WIDE = (0.65, 0.85)
LOW_PSEUDO_COUNT = 0.01
SWITCH_FACTOR = 10.0

FULL = {
    "coupling": 2.5,
    "frequencies_hz": [1.0, 2.0, 4.0],
    "amplitudes_hz": [2000.0, 4000.0, 6000.0],
    "hot_fractions": [1.0, 0.3],
    "n_chains": 8,
    "duration_ms": 100_000.0,
    "burn_in_ms": 500.0,
    "seeds": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    "headline": [2.0, 6000.0, 0.3],
    "tilt": 0.2,
}
QUICK = {
    "coupling": 2.5,
    "frequencies_hz": [5.0, 10.0],
    "amplitudes_hz": [2000.0],
    "hot_fractions": [1.0, 0.3],
    "n_chains": 2,
    "duration_ms": 1_000.0,
    "burn_in_ms": 100.0,
    "seeds": [1, 2],
    "headline": [5.0, 2000.0, 0.3],
    "tilt": 0.2,
}
#: quick mode: short measurements in place of the calibrate()/calibrate_interactions() defaults
QUICK_CALIBRATION = {"n_points": 20, "duration": 2000.0, "prescan_duration": 500.0}
QUICK_INTERACTIONS = {"n_pairs": 4, "duration": 2000.0}


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
        help=f"simulator seeds; the first drives the sweep, the others repeat the control and the "
        f"headline setting (default: {FULL['seeds']}, --quick: {QUICK['seeds']})",
    )
    parser.add_argument(
        "--frequencies",
        type=float,
        nargs="+",
        default=None,
        help=f"rhythm frequencies [Hz] (default: {FULL['frequencies_hz']}, "
        f"--quick: {QUICK['frequencies_hz']})",
    )
    parser.add_argument(
        "--amplitudes",
        type=float,
        nargs="+",
        default=None,
        help=f"rate amplitudes A [Hz]; the mean rate is {COLD_RATE:g} + A, so the trough stays at "
        f"{COLD_RATE:g} Hz (default: {FULL['amplitudes_hz']}, --quick: {QUICK['amplitudes_hz']})",
    )
    parser.add_argument(
        "--hot-fractions",
        type=float,
        nargs="+",
        default=None,
        help=f"rhythm profiles: the fraction of each period above the trough rate, 1 = sine, d < 1 = "
        f"a raised-cosine pulse of width d on a cold plateau (default: {FULL['hot_fractions']})",
    )
    parser.add_argument(
        "--headline",
        type=float,
        nargs=3,
        metavar=("F", "A", "D"),
        default=None,
        help=f"the setting repeated over the seeds; must be in the sweep "
        f"(default: {FULL['headline']}, --quick: {QUICK['headline']})",
    )
    parser.add_argument(
        "--coupling",
        type=float,
        default=None,
        help=f"w of the target (W = +w within, -w between clusters, b = -w; barrier 6 w) "
        f"(default: {FULL['coupling']:g})",
    )
    parser.add_argument(
        "--tilt",
        type=float,
        default=None,
        help=f"bias added to the first cluster in the asymmetric check (modes' probability ratio "
        f"exp(5 tilt)); 0 skips the check (default: {FULL['tilt']:g})",
    )


# -- target and noise ----------------------------------------------------------
def two_cluster_machine(w: float, tilt: float = 0.0) -> tuple[ls.BoltzmannMachine, ls.Modes]:
    """Two clusters of 5: ``W = +w`` within, ``-w`` between, ``b = -w`` (``+ tilt`` in the first cluster).

    Returns the machine and its two cluster modes; ``tilt`` lowers the first
    mode's energy by ``5 tilt`` (``p_1 / p_2 = exp(5 tilt)``).
    """
    group = np.repeat([0, 1], N_PER_CLUSTER)
    W = np.where(group[:, None] == group[None, :], w, -w)
    np.fill_diagonal(W, 0.0)
    b = np.where(group == 0, -w + tilt, -w)
    bm = ls.BoltzmannMachine(W, b)
    return bm, ls.describe_modes(bm, np.stack([group == 0, group == 1]).astype(np.int8))


def cold_noise() -> ls.PoissonNoise:
    return ls.PoissonNoise(COLD_RATE, COLD_RATE, NOISE_WEIGHT, NOISE_WEIGHT)


def rhythm(frequency: float, amplitude: float, hot_fraction: float = 1.0) -> ls.OscillatingPoissonNoise:
    """Rates ``COLD_RATE + A + A g(t)`` (g a sine or a pulse, -1 at the trough): the trough is cold."""
    mean = COLD_RATE + amplitude
    base = ls.PoissonNoise(mean, mean, NOISE_WEIGHT, NOISE_WEIGHT)
    return ls.OscillatingPoissonNoise(
        base, amplitude=amplitude, frequency=frequency, hot_fraction=hot_fraction
    )


def windows(noise: ls.OscillatingPoissonNoise) -> dict[str, tuple[float, float]]:
    """The rhythm's cold window (``phase_window="cold"``) and a wide one.

    Wide: for the sine [0.65, 0.85); for a pulse the whole cold plateau, from
    the end of the pulse (where the network is still cooling down) on.
    """
    cold = noise.cold_window
    if noise.hot_fraction == 1.0:
        return {"cold": cold, "wide": SINE_WIDE}
    return {"cold": cold, "wide": (0.25 + noise.hot_fraction / 2, cold[1])}


# -- measurements --------------------------------------------------------------
def summarize(result, bm: ls.BoltzmannMachine, modes: ls.Modes) -> dict:
    """Mode switches, occupancy and DKL of one (possibly gated or thinned) result."""
    mm = ls.mixing_metrics(result, modes=modes, target=bm)
    pooled = mm.pooled
    kl = ls.kl_divergence(bm, result)
    kl_low = ls.kl_divergence(bm, result, pseudo_count=LOW_PSEUDO_COUNT)
    spanned_s = float(pooled.duration) / 1000.0
    kept_s = float(pooled.kept_time) / 1000.0
    switches = int(pooled.n_switches)
    return {
        "n_chains": int(result.sizes["chain"]),
        "draws_per_chain": int(result.sizes["draw"]),
        "n_draws": int(result.sizes["chain"] * result.sizes["draw"]),
        "spanned_time_s": spanned_s,
        "kept_time_s": kept_s,
        "n_switches": switches,
        "switch_rate_per_s": float(pooled.switch_rate),
        "switch_rate_per_kept_s": switches / kept_s if kept_s > 0 else None,
        "switches_per_chain": [int(x) for x in mm.chains.n_switches.values],
        "n_visited": int(pooled.n_visited),
        "occupancy": [float(x) for x in pooled.occupancy.values],
        "target_occupancy": [float(x) for x in pooled.target_occupancy.values],
        "occupancy_per_chain": mm.chains.occupancy.values.round(4).tolist(),
        "unassigned": float(pooled.unassigned),
        "mean_energy": float(bm.energy(result.states.values).mean()),
        "dkl_target_sampled": kl.dkl_target_sampled,
        "dkl_sampled_target": kl.dkl_sampled_target,
        "n_unvisited": kl.n_unvisited,
        "dkl_target_sampled_low_pseudo": kl_low.dkl_target_sampled,
    }


def run(sampler: ls.LIFSampler, settings: dict, seed: int, **kwargs):
    """A timed run with the study's duration, chains and burn-in."""
    return timed_sample(
        sampler,
        settings["duration_ms"],
        n_chains=settings["n_chains"],
        seed=seed,
        burn_in=settings["burn_in_ms"],
        **kwargs,
    )


def run_control(sampler, bm, modes, settings: dict, seed: int, thin: int) -> dict:
    result, wall = run(sampler, settings, seed)
    out = {"seed": seed, "all": summarize(result, bm, modes), "wall_s": wall, "thin": thin}
    out["thinned"] = summarize(result.isel(draw=slice(0, None, thin)), bm, modes)
    return out


def run_rhythm(bm, modes, control, setting, settings, seed, cache_dir, tmap) -> dict:
    frequency, amplitude, hot_fraction = setting
    noise = rhythm(frequency, amplitude, hot_fraction)
    sampler = ls.LIFSampler(
        bm,
        noise=noise,
        calibration=control.calibration_,
        interactions=control.interactions_,
        cache_dir=cache_dir,
        progress=False,
    )
    result, wall = run(sampler, settings, seed, phase_window="all")
    hot = COLD_RATE + 2 * amplitude
    out = {
        "seed": seed,
        "frequency_hz": frequency,
        "amplitude_hz": amplitude,
        "hot_fraction": hot_fraction,
        "profile": profile_name(hot_fraction),
        "mean_rate_hz": COLD_RATE + amplitude,
        "cold_rate_hz": COLD_RATE,
        "hot_rate_hz": hot,
        "rate_ratio": hot / COLD_RATE,
        "t_ratio_weight": _temperature(tmap, hot, "weight"),
        "t_ratio_bias": _temperature(tmap, hot, "bias"),
        "t_ratio_sqrt": math.sqrt(hot / COLD_RATE),
        "period_ms": noise.period,
        "wall_s": wall,
    }
    for name, window in windows(noise).items():
        out[name] = {"window": list(window), **summarize(phase_gate(result, window), bm, modes)}
    out["all_phases"] = summarize(result, bm, modes)
    return out


def profile_name(hot_fraction: float) -> str:
    return "sine" if hot_fraction == 1.0 else f"pulse {hot_fraction:g}"


def setting_name(row: dict) -> str:
    return f"{row['profile']}, f {row['frequency_hz']:g} Hz, A {row['amplitude_hz']:g} Hz"


def _temperature(tmap: ls.TemperatureMap, rate: float, kind: str) -> float:
    return float(tmap.temperature(rate, kind=kind))


def judge(row: dict, control: dict) -> dict:
    """The two criteria of the issue for one oscillating run against the control of the same seed."""
    osc, ctl = row["cold"], control["all"]
    ratio = osc["n_switches"] / max(ctl["n_switches"], 1)  # a control without switches counts as 1
    switches_ok = ratio >= SWITCH_FACTOR
    dkl_ok = osc["dkl_target_sampled"] < ctl["dkl_target_sampled"]
    return {
        "control_switches": ctl["n_switches"],
        "switch_ratio": ratio,
        "switches_ok": bool(switches_ok),
        "control_dkl": ctl["dkl_target_sampled"],
        "dkl_ratio": osc["dkl_target_sampled"] / ctl["dkl_target_sampled"]
        if ctl["dkl_target_sampled"] > 0
        else math.inf,
        "dkl_ok": bool(dkl_ok),
        "both_ok": bool(switches_ok and dkl_ok),
    }


def asymmetric_check(settings: dict, control: ls.LIFSampler, tmap, cache_dir) -> dict:
    """Control and headline setting on the tilted target (modes of unequal probability), main seed."""
    bm, modes = two_cluster_machine(settings["coupling"], settings["tilt"])
    sampler = ls.LIFSampler(
        bm,
        noise=cold_noise(),
        calibration=control.calibration_,
        interactions=control.interactions_,
        cache_dir=cache_dir,
        progress=False,
    )
    seed = settings["seeds"][0]
    ctl = run_control(sampler, bm, modes, settings, seed, round(1.0 / COLD_WINDOW))
    row = run_rhythm(bm, modes, sampler, settings["headline"], settings, seed, cache_dir, tmap)
    out = {
        "tilt": settings["tilt"],
        "b": bm.b,
        "mode_probabilities": modes.probabilities,
        "barriers": modes.barriers,
        "seed": seed,
        "control": ctl,
        "rhythm": row,
        "verdict": judge(row, ctl),
    }
    log(
        f"tilted target: control occupancy {np.round(ctl['all']['occupancy'], 3).tolist()}, "
        f"{setting_name(row)} cold phase {np.round(row['cold']['occupancy'], 3).tolist()}, target "
        f"{np.round(ctl['all']['target_occupancy'], 3).tolist()} ({ctl['wall_s'] + row['wall_s']:.1f} s)"
    )
    return out


# -- tables --------------------------------------------------------------------
def sweep_table(control: dict, rows: list[dict]) -> str:
    headers = [
        "profile",
        "f Hz",
        "A Hz",
        "peak/trough nu",
        "T ratio",
        "kept/chain",
        "switches",
        "sw/s",
        "sw/kept-s",
    ]
    headers += ["x control", "visited", "occ 1111100000", "occ 0000011111", "<E>", "DKL cold", "DKL wide"]
    headers += ["DKL control", "switch ok", "DKL ok", "both"]
    c = control["all"]
    body: list = [
        ["control", "-", "-", 1.0, 1.0, c["draws_per_chain"], c["n_switches"], c["switch_rate_per_s"]]
        + [c["switch_rate_per_kept_s"], None, c["n_visited"], c["occupancy"][0], c["occupancy"][1]]
        + [c["mean_energy"], c["dkl_target_sampled"], None, c["dkl_target_sampled"], None, None, None]
    ]
    t = control["thinned"]
    body.append(
        [f"control 1/{control['thin']}", "-", "-", 1.0, 1.0, t["draws_per_chain"], t["n_switches"]]
        + [t["switch_rate_per_s"], t["switch_rate_per_kept_s"], None, t["n_visited"], t["occupancy"][0]]
        + [t["occupancy"][1], t["mean_energy"], t["dkl_target_sampled"], None, None, None, None, None]
    )
    body.append(None)
    for r in rows:
        o, v = r["cold"], r["verdict"]
        body.append(
            [
                r["profile"],
                f"{r['frequency_hz']:g}",
                f"{r['amplitude_hz']:g}",
                r["rate_ratio"],
                r["t_ratio_weight"],
                o["draws_per_chain"],
            ]
            + [o["n_switches"], o["switch_rate_per_s"], o["switch_rate_per_kept_s"], v["switch_ratio"]]
            + [o["n_visited"], o["occupancy"][0], o["occupancy"][1], o["mean_energy"]]
            + [o["dkl_target_sampled"], r["wide"]["dkl_target_sampled"], v["control_dkl"], v["switches_ok"]]
            + [v["dkl_ok"], v["both_ok"]]
        )
    return format_table(headers, body, digits=[3, 3, 4, 2, 3, 6, 5, 3, 3, 3, 3, 3, 3, 4, 3, 3, 3, 3, 3, 3])


def asymmetric_table(check: dict) -> str:
    headers = ["run", "draws used", "switches", "occ 1111100000", "occ 0000011111", "target", "DKL"]
    c, r = check["control"], check["rhythm"]
    target = c["all"]["target_occupancy"]
    runs = [
        ("control, all draws", c["all"]),
        (f"{setting_name(r)}, cold window", r["cold"]),
        (f"{setting_name(r)}, all phases", r["all_phases"]),
    ]
    body = [
        [name, x["n_draws"], x["n_switches"], x["occupancy"][0], x["occupancy"][1]]
        + [f"{target[0]:.3f}/{target[1]:.3f}", x["dkl_target_sampled"]]
        for name, x in runs
    ]
    return format_table(headers, body, digits=[3, 3, 3, 3, 3, 3, 3])


def seeds_table(per_seed: list[dict]) -> str:
    headers = ["seed", "control sw", "control occ", "control DKL", "control DKL 1/10", "osc sw", "osc occ"]
    headers += ["osc DKL cold", "x control", "switch ok", "DKL ok", "both"]
    body = []
    for s in per_seed:
        c, t, o, v = s["control"]["all"], s["control"]["thinned"], s["rhythm"]["cold"], s["verdict"]
        body.append(
            [s["seed"], c["n_switches"], f"{c['occupancy'][0]:.3f}/{c['occupancy'][1]:.3f}"]
            + [c["dkl_target_sampled"], t["dkl_target_sampled"], o["n_switches"]]
            + [f"{o['occupancy'][0]:.3f}/{o['occupancy'][1]:.3f}", o["dkl_target_sampled"], v["switch_ratio"]]
            + [v["switches_ok"], v["dkl_ok"], v["both_ok"]]
        )
    return format_table(headers, body, digits=[4, 4, 4, 3, 3, 4, 4, 3, 3, 3, 3, 3])


# -- main ----------------------------------------------------------------------
def settings_from(args) -> dict:
    settings = dict(QUICK if args.quick else FULL)
    for key, value in (
        ("duration_ms", args.duration),
        ("n_chains", args.chains),
        ("seeds", args.seeds),
        ("frequencies_hz", args.frequencies),
        ("amplitudes_hz", args.amplitudes),
        ("hot_fractions", args.hot_fractions),
        ("headline", args.headline),
        ("coupling", args.coupling),
        ("tilt", args.tilt),
    ):
        if value is not None:
            settings[key] = value
    if settings["n_chains"] < 1 or settings["duration_ms"] <= 0 or settings["coupling"] <= 0:
        raise SystemExit("--chains must be >= 1, --duration and --coupling > 0")
    if min(settings["frequencies_hz"]) <= 0 or min(settings["amplitudes_hz"]) <= 0:
        raise SystemExit("--frequencies and --amplitudes must be > 0")
    if not all(0 < d <= 1 for d in settings["hot_fractions"]):
        raise SystemExit("--hot-fractions must lie in (0, 1]")
    headline = [float(x) for x in settings["headline"]]
    if (
        headline[0] not in settings["frequencies_hz"]
        or headline[1] not in settings["amplitudes_hz"]
        or headline[2] not in settings["hot_fractions"]
    ):
        raise SystemExit(f"--headline {headline} must be one of the swept settings")
    settings["headline"] = headline
    return settings


def make_control(bm: ls.BoltzmannMachine, quick: bool, cache_dir) -> tuple[ls.LIFSampler, dict]:
    """The control sampler with its calibration and interaction map at the cold rate (short in quick mode)."""
    with Stopwatch() as sw:
        if quick:
            neuron = ls.NeuronParameters.preset("sbs")
            cal = ls.calibrate(neuron, cold_noise(), cache_dir=cache_dir, progress=False, **QUICK_CALIBRATION)
            inter = ls.calibrate_interactions(cal, cache_dir=cache_dir, progress=False, **QUICK_INTERACTIONS)
            control = ls.LIFSampler(
                bm,
                noise=cold_noise(),
                calibration=cal,
                interactions=inter,
                cache_dir=cache_dir,
                progress=False,
            )
        else:
            control = ls.LIFSampler(bm, noise=cold_noise(), cache_dir=cache_dir, progress=False)
            control.calibrate()
    cal = control.calibration_
    return control, {
        "v_p05": cal.v_p05,
        "alpha": cal.alpha,
        "fit": cal.fit,
        "settings": cal.settings,
        "interactions": None if control.interactions_ is None else control.interactions_.to_dict(),
        "wall_s": sw.seconds,
    }


def main(argv=None) -> int:
    args = parse_args(NAME, __doc__, add_arguments, argv)
    settings = settings_from(args)
    env = environment()
    main_seed, extra_seeds = settings["seeds"][0], settings["seeds"][1:]
    thin = round(1.0 / COLD_WINDOW)

    with Stopwatch() as total:
        bm, modes = two_cluster_machine(settings["coupling"])
        log("calibrating at the cold rate (or loading the cached calibration and interaction map) ...")
        control, calibration = make_control(bm, args.quick, args.cache_dir)
        log(f"  {control.calibration_!r}, {control.interactions_!r} in {calibration['wall_s']:.1f} s")

        hot_rates = sorted({COLD_RATE + 2 * a for a in settings["amplitudes_hz"]})
        log(f"temperature map at {[COLD_RATE, *hot_rates]} Hz (calibrations, cached) ...")
        with Stopwatch() as sw_tmap:
            tmap = ls.temperature_map(
                [COLD_RATE, *hot_rates],
                noise=cold_noise(),
                reference_rate=COLD_RATE,
                cache_dir=args.cache_dir,
                progress=False,
                **(QUICK_CALIBRATION if args.quick else {}),
            )
        log(f"  T_W = {np.round(tmap.t_weight, 3).tolist()} in {sw_tmap.seconds:.1f} s")

        log("warm-up runs (compile the stationary and the oscillating network on first use) ...")
        with Stopwatch() as sw_warm:
            warm = dict(settings, duration_ms=10.0, burn_in_ms=0.0)
            run(control, warm, 0)
            f0, a0, d0 = (settings[k][0] for k in ("frequencies_hz", "amplitudes_hz", "hot_fractions"))
            run(
                ls.LIFSampler(
                    bm,
                    noise=rhythm(f0, a0, d0),
                    calibration=control.calibration_,
                    interactions=control.interactions_,
                    cache_dir=args.cache_dir,
                    progress=False,
                ),
                warm,
                0,
                phase_window="all",
            )
        log(f"  {sw_warm.seconds:.1f} s")

        ctl = run_control(control, bm, modes, settings, main_seed, thin)
        log(
            f"control, seed {main_seed}: {ctl['all']['n_switches']} switches, "
            f"DKL {ctl['all']['dkl_target_sampled']:.4f}, {ctl['wall_s']:.1f} s"
        )
        rows = []
        for d in settings["hot_fractions"]:
            for f in settings["frequencies_hz"]:
                for a in settings["amplitudes_hz"]:
                    r = run_rhythm(bm, modes, control, (f, a, d), settings, main_seed, args.cache_dir, tmap)
                    r["verdict"] = judge(r, ctl)
                    rows.append(r)
                    log(
                        f"{setting_name(r)}: {r['cold']['n_switches']} cold-phase switches "
                        f"({r['verdict']['switch_ratio']:.1f}x), DKL {r['cold']['dkl_target_sampled']:.4f}, "
                        f"{r['wall_s']:.1f} s"
                    )

        headline = tuple(settings["headline"])
        head = next(r for r in rows if (r["frequency_hz"], r["amplitude_hz"], r["hot_fraction"]) == headline)
        per_seed = [{"seed": main_seed, "control": ctl, "rhythm": head, "verdict": head["verdict"]}]
        for seed in extra_seeds:
            c = run_control(control, bm, modes, settings, seed, thin)
            r = run_rhythm(bm, modes, control, headline, settings, seed, args.cache_dir, tmap)
            per_seed.append({"seed": seed, "control": c, "rhythm": r, "verdict": judge(r, c)})
            v = per_seed[-1]["verdict"]
            log(
                f"seed {seed}: control {c['all']['n_switches']} switches, DKL {v['control_dkl']:.4f}; "
                f"{setting_name(r)}: {r['cold']['n_switches']} switches, DKL "
                f"{r['cold']['dkl_target_sampled']:.4f} ({c['wall_s'] + r['wall_s']:.1f} s)"
            )

        asymmetric = None
        if settings["tilt"] != 0:
            asymmetric = asymmetric_check(settings, control, tmap, args.cache_dir)

    both = [setting_name(r) for r in rows if r["verdict"]["both_ok"]]
    control_dkls = [s["control"]["all"]["dkl_target_sampled"] for s in per_seed]
    rhythm_dkls = [s["rhythm"]["cold"]["dkl_target_sampled"] for s in per_seed]
    targets = {
        "seed": main_seed,
        "switch_factor": SWITCH_FACTOR,
        "n_settings": len(rows),
        "n_switches_ok": sum(r["verdict"]["switches_ok"] for r in rows),
        "n_dkl_ok": sum(r["verdict"]["dkl_ok"] for r in rows),
        "n_both_ok": len(both),
        "settings_meeting_both": both,
        "passed": bool(both),
        "headline": settings["headline"],
        "headline_both_ok": head["verdict"]["both_ok"],
        "headline_seeds": [s["seed"] for s in per_seed],
        "headline_seeds_switches_ok": sum(s["verdict"]["switches_ok"] for s in per_seed),
        "headline_seeds_dkl_ok": sum(s["verdict"]["dkl_ok"] for s in per_seed),
        "headline_seeds_both_ok": sum(s["verdict"]["both_ok"] for s in per_seed),
        "headline_seeds_mean_dkl": float(np.mean(rhythm_dkls)),
        "headline_seeds_max_dkl": float(np.max(rhythm_dkls)),
        "control_seeds_mean_dkl": float(np.mean(control_dkls)),
        "control_seeds_min_dkl": float(np.min(control_dkls)),
        "control_seeds_max_dkl": float(np.max(control_dkls)),
    }
    targets["headline_robust"] = targets["headline_seeds_both_ok"] == len(per_seed)

    barrier = float(modes.barriers.min())
    n_kept = head["cold"]["draws_per_chain"]
    blocks = [
        paragraph(
            f"Target: 10 units, two clusters of {N_PER_CLUSTER}, W = +{settings['coupling']:g} within, "
            f"-{settings['coupling']:g} between, b = -{settings['coupling']:g}; modes "
            f"{' and '.join(modes.labels)} with p = {modes.probabilities[0]:.4f} each, exact barrier "
            f"{barrier:g}.  LIFSampler defaults (sbs neuron, renewing synapses, interaction map), "
            f"{settings['n_chains']} chains x {settings['duration_ms'] / 1000:g} s "
            f"(+{settings['burn_in_ms']:g} ms burn-in) per run, seed {main_seed}.  "
            f"Control: constant {COLD_RATE:g} Hz background.  "
            f"Rhythm: nu(t) = {COLD_RATE:g} + A + A g(t), calibrated for the trough "
            f"({COLD_RATE:g} Hz, shared with the control); profile 'sine': g = sin(2 pi f t), "
            "'pulse d': a raised-cosine pulse of width d periods on a cold plateau "
            "(OscillatingPoissonNoise(hot_fraction=d)).  'kept/chain', switches, occupancy, <E> and "
            "'DKL cold' from the rhythm's cold window (LIFSampler's phase_window='cold': "
            f"[{CENTRE - COLD_WINDOW / 2:g}, {CENTRE + COLD_WINDOW / 2:g}) cycles for the sine, the "
            "second half of the cold plateau for a pulse), 'DKL wide' from "
            f"[{SINE_WIDE[0]:g}, {SINE_WIDE[1]:g}) (sine) or the whole plateau (pulse); the control "
            f"from all its draws ('control 1/{thin}': every {thin}th draw, the sine's cold-window count).",
            "sw/s: switches per second of sampled time spanned (gaps included: the time the sampler "
            "needed); sw/kept-s: per second of kept draws.  T ratio: T_W(peak) / T_W(trough) from "
            f"temperature_map.  <E>: mean energy of the kept draws (exact {bm_mean_energy(bm):.3f}).  "
            "DKL(target||sampled), nats, pseudo-count 1/2 per state.",
        ),
        sweep_table(ctl, rows),
        paragraph(
            f"Seeds: the control and the headline setting {setting_name(head)} repeated "
            f"({n_kept} kept draws per chain); occ = occupancy of {modes.labels[0]}/{modes.labels[1]} "
            f"(target {head['cold']['target_occupancy'][0]:.3f} each)."
        ),
        seeds_table(per_seed),
        *asymmetric_blocks(asymmetric),
        "\n".join(
            [
                f"settings with >= {SWITCH_FACTOR:g}x the control's switches: "
                f"{targets['n_switches_ok']}/{len(rows)}; with a lower cold-phase DKL: "
                f"{targets['n_dkl_ok']}/{len(rows)}; both: {targets['n_both_ok']}/{len(rows)} "
                f"{both}: {'met' if targets['passed'] else 'NOT met'}",
                f"headline {setting_name(head)} meets both for "
                f"{targets['headline_seeds_both_ok']}/{len(per_seed)} seeds (switches "
                f"{targets['headline_seeds_switches_ok']}, DKL {targets['headline_seeds_dkl_ok']}); "
                f"cold-window DKL over the seeds: mean {targets['headline_seeds_mean_dkl']:.4f}, max "
                f"{targets['headline_seeds_max_dkl']:.4f}; control: mean "
                f"{targets['control_seeds_mean_dkl']:.4f}, range {targets['control_seeds_min_dkl']:.4f}"
                f"-{targets['control_seeds_max_dkl']:.4f}",
                f"calibration {calibration['wall_s']:.1f} s, temperature map {sw_tmap.seconds:.1f} s "
                f"(cached ones load instantly), warm-up {sw_warm.seconds:.1f} s, runs "
                f"{sum(r['wall_s'] for r in rows) + ctl['wall_s']:.1f} s (sweep) + "
                f"{sum(s['control']['wall_s'] + s['rhythm']['wall_s'] for s in per_seed[1:]):.1f} s "
                "(seeds) + "
                f"{asymmetric_wall(asymmetric):.1f} s (tilted target); "
                f"total {total.seconds:.1f} s",
            ]
            + (["--quick: short runs, the numbers and checks are not meaningful"] if args.quick else [])
        ),
    ]
    print_report(f"tempering study ({'quick' if args.quick else 'full'})", env, blocks)

    write_json(
        args.out,
        NAME,
        {
            "quick": args.quick,
            "settings": {
                **settings,
                "cold_rate_hz": COLD_RATE,
                "noise_weight_uS": NOISE_WEIGHT,
                "sine_cold_window": [CENTRE - COLD_WINDOW / 2, CENTRE + COLD_WINDOW / 2],
                "sine_wide_window": list(SINE_WIDE),
                "thin": thin,
                "low_pseudo_count": LOW_PSEUDO_COUNT,
                "switch_factor": SWITCH_FACTOR,
                "dt_ms": control.dt,
                "sample_interval_ms": control.sample_interval,
                "synapses": control.synapses,
                "device": control.device,
            },
            "target": {
                "W": bm.W,
                "b": bm.b,
                "modes": modes.labels,
                "mode_energies": modes.energies,
                "mode_probabilities": modes.probabilities,
                "basin_masses": modes.basin_masses,
                "barriers": modes.barriers,
                "saddles": modes.saddles,
                "mean_energy": bm_mean_energy(bm),
            },
            "calibration": calibration,
            "temperature_map": {**tmap.to_dict(), "wall_s": sw_tmap.seconds},
            "warmup_wall_s": sw_warm.seconds,
            "control": ctl,
            "rows": rows,
            "seeds": {"headline": settings["headline"], "per_seed": per_seed},
            "asymmetric": asymmetric,
            "targets": targets,
            "wall_time_s": total.seconds,
        },
        env,
    )
    return 0


def asymmetric_blocks(check: dict | None) -> list[str]:
    if check is None:
        return []
    p = check["mode_probabilities"]
    return [
        paragraph(
            f"Tilted target: the same machine with b + {check['tilt']:g} in the first cluster, so its mode "
            f"has probability {p[0]:.3f} and the other {p[1]:.3f} (barriers "
            f"{', '.join(f'{x:g}' for x in check['barriers'])}); control and headline setting, seed "
            f"{check['seed']}.  A sampler that mixes at the cold temperature finds the target "
            "occupancy; one whose modes are redistributed at the hot phase and frozen on cooling "
            "does not."
        ),
        asymmetric_table(check),
    ]


def asymmetric_wall(check: dict | None) -> float:
    return 0.0 if check is None else check["control"]["wall_s"] + check["rhythm"]["wall_s"]


def bm_mean_energy(bm: ls.BoltzmannMachine) -> float:
    """Exact mean energy of the target."""
    return float(bm.probabilities() @ bm.energy(ls.all_states(bm.n_units)))


if __name__ == "__main__":
    raise SystemExit(main())
