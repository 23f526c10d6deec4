"""The ``lifsampling`` command line.

``lifsampling demo``
    The main job on a built-in default: a random 5-unit Boltzmann machine,
    calibration (cached), 8 LIF chains, a DKL-against-time table next to the
    Gibbs reference, a result file and a figure.
``lifsampling sample TARGET.npz --duration MS --chains N --seed S --out RESULT.nc [--evidence U=V ...]``
    Sample a target saved as ``.npz`` (arrays ``W`` and ``b``), optionally with
    observed units clamped.
``lifsampling random-target --units K --seed S --out TARGET.npz``
    Write a random Boltzmann machine.
``lifsampling calibrate [--dt MS] --out CAL.json``
    Calibrate the activation function of the sbs neuron and store it.
``lifsampling report RESULT.nc [RESULT2.nc ...] [--target TARGET.npz] --out DIR``
    Convergence diagnostics of one or more results: ``DIR/report.html`` and
    ``DIR/summary.json``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["main"]


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dt", type=float, default=0.1, help="time step [ms] (default 0.1)")
    p.add_argument(
        "--sample-interval", type=float, default=1.0, help="time between read-out states [ms] (default 1.0)"
    )
    p.add_argument("--burn-in", type=float, default=500.0, help="discarded initial time [ms] (default 500)")
    p.add_argument(
        "--synapses",
        choices=("renewing", "additive"),
        default="renewing",
        help="synapse model (default renewing)",
    )
    p.add_argument(
        "--device",
        choices=("auto", "cpp_standalone", "cython", "numpy"),
        default="auto",
        help="Brian2 code-generation target (default auto: C++ standalone for runs that repay a build)",
    )
    p.add_argument(
        "--interactions",
        choices=("calibrate", "none"),
        default="calibrate",
        help="correct the weight translation by the measured coupling of LIF pairs (default) "
        "or use the analytic translation alone",
    )
    p.add_argument(
        "--neuron",
        choices=("sbs", "high_conductance", "dold"),
        default="sbs",
        help="neuron and background parameter preset (default sbs)",
    )
    p.add_argument(
        "--cache-dir",
        default=None,
        help="cache for calibrations and builds (default $LIFSAMPLING_CACHE or ~/.cache/lifsampling)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lifsampling",
        description="Sample Boltzmann machines with networks of spiking LIF neurons.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    s = sub.add_parser("sample", help="sample a target saved as .npz")
    s.add_argument("target", help="target file (.npz with arrays W and b)")
    s.add_argument("--duration", type=float, required=True, help="sampled time per chain after burn-in [ms]")
    s.add_argument("--chains", type=int, default=1, help="number of chains (default 1)")
    s.add_argument("--seed", type=int, default=None, help="random seed (default: drawn and recorded)")
    s.add_argument("--out", required=True, help="result file (.nc)")
    s.add_argument(
        "--evidence",
        action="append",
        default=None,
        metavar="UNIT=VALUE",
        help="clamp an observed unit (repeat for several), e.g. --evidence 2=1",
    )
    _add_run_options(s)

    d = sub.add_parser("demo", help="the main job on a built-in 5-unit Boltzmann machine")
    d.add_argument(
        "--out-dir", default="lifsampling-demo", help="output directory (default lifsampling-demo)"
    )
    d.add_argument(
        "--duration", type=float, default=12_500.0, help="sampled time per chain [ms] (default 12500)"
    )
    d.add_argument("--chains", type=int, default=8, help="number of chains (default 8)")
    d.add_argument("--units", type=int, default=5, help="units of the random target (default 5)")
    d.add_argument("--seed", type=int, default=0, help="seed of target and sampling (default 0)")
    _add_run_options(d)

    r = sub.add_parser("random-target", help="write a random Boltzmann machine as .npz")
    r.add_argument("--units", type=int, default=5, help="number of units (default 5)")
    r.add_argument(
        "--kind", choices=("sbs", "buesing", "beta"), default="sbs", help="distribution (default sbs)"
    )
    r.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    r.add_argument("--out", required=True, help="target file (.npz)")

    c = sub.add_parser("calibrate", help="calibrate the activation function")
    c.add_argument("--out", required=True, help="calibration file (.json)")
    c.add_argument("--points", type=int, default=100, help="leak potentials in the sweep (default 100)")
    c.add_argument(
        "--point-duration", type=float, default=20_000.0, help="time per point [ms] (default 20000)"
    )
    _add_run_options(c)

    rep = sub.add_parser("report", help="convergence report (HTML + JSON) of one or more result files")
    rep.add_argument(
        "results", nargs="+", help="result files (.nc) written by 'lifsampling sample' or save_result"
    )
    rep.add_argument(
        "--target", default=None, help="target file (.npz); default: the target stored in the results"
    )
    rep.add_argument("--out", required=True, help="output directory for report.html and summary.json")
    rep.add_argument("--label", action="append", default=None, help="name of each result (repeat, in order)")
    rep.add_argument("--title", default=None, help="title of the report")
    return parser


def _sampler(target, args):
    from . import LIFSampler, NeuronParameters, PoissonNoise

    return LIFSampler(
        target,
        neuron=NeuronParameters.preset(args.neuron),
        noise=PoissonNoise.preset(args.neuron),
        synapses=args.synapses,
        interactions=None if args.interactions == "none" else "calibrate",
        dt=args.dt,
        sample_interval=args.sample_interval,
        device=args.device,
        cache_dir=args.cache_dir,
        progress=False if args.quiet else None,
    )


def _cmd_sample(args) -> int:
    from . import clamp_agreement, kl_divergence, load_target, save_result
    from .evidence import conditioned

    target = load_target(args.target)
    if not args.out.endswith((".nc", ".nc4", ".h5")):
        raise ValueError(f"--out should be a NetCDF file ending in .nc, got {args.out!r}.")
    evidence = _parse_evidence(args.evidence)
    sampler = _sampler(target, args)
    result = sampler.sample(
        args.duration, n_chains=args.chains, seed=args.seed, burn_in=args.burn_in, evidence=evidence
    )
    save_result(result, args.out)
    msg = f"wrote {args.out}: {args.chains} chain(s) x {result.sizes['draw']} draws x {target.n_units} units"
    free, reference, ev = conditioned(result, target)
    if ev:
        msg += f"; evidence {ev} shown in {clamp_agreement(result)} of draws; vs the exact conditional"
    if reference.n_units <= 20:
        msg += f"; {kl_divergence(reference, free)}"
    print(msg)
    return 0


def _parse_evidence(items: list[str] | None) -> dict[int, int] | None:
    """``["2=1", "0=0"]`` → ``{2: 1, 0: 0}`` (values and ranges are checked by the sampler)."""
    if not items:
        return None
    out = {}
    for item in items:
        unit, sep, value = item.partition("=")
        try:
            if not sep:
                raise ValueError
            out[int(unit)] = int(value)
        except ValueError:
            raise ValueError(
                f"--evidence must look like UNIT=VALUE with integers, e.g. 2=1; got {item!r}."
            ) from None
    return out


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    fmt = "  ".join(f"{{:>{w}}}" for w in widths)
    return "\n".join(
        [fmt.format(*header), fmt.format(*("-" * w for w in widths))] + [fmt.format(*r) for r in rows]
    )


def _cmd_demo(args) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from . import GibbsSampler, dkl_vs_time, kl_divergence, marginals, random_boltzmann_machine, save_result
    from .plotting import plot_calibration, plot_dkl_vs_time, plot_marginals
    from .report import write_report

    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    target = random_boltzmann_machine(args.units, seed=args.seed)
    target.save(out / "target.npz")
    print(
        f"target: random {args.units}-unit Boltzmann machine (sbs-style, seed {args.seed})"
        f" -> {out / 'target.npz'}"
    )
    sampler = _sampler(target, args)
    cal = sampler.calibrate()
    print(f"calibration: {cal}")
    if sampler.interactions_ is not None:
        print(f"interactions: {sampler.interactions_}")
    lif = sampler.sample(args.duration, n_chains=args.chains, seed=args.seed, burn_in=args.burn_in)
    gibbs = GibbsSampler(target).sample(args.duration, n_chains=args.chains, seed=args.seed)
    save_result(lif, out / "result.nc")
    save_result(gibbs, out / "gibbs.nc")
    curves = {"LIF": dkl_vs_time(target, lif, n_points=12), "Gibbs": dkl_vs_time(target, gibbs, n_points=12)}
    times = curves["Gibbs"].time.values
    lif_at = curves["LIF"].interp(time=times)
    floor = (2**args.units - 1) / (2 * curves["Gibbs"].n_samples.values)
    rows = [
        [f"{t:.0f}", f"{a:.4f}", f"{g:.4f}", f"{f:.4f}"]
        for t, a, g, f in zip(
            times,
            lif_at.dkl_target_sampled.values,
            curves["Gibbs"].dkl_target_sampled.values,
            floor,
            strict=False,
        )
    ]
    print(f"\nDKL(target || sampled) [nats], {args.chains} chains pooled, against sampled time per chain:")
    print(_table(rows, ["time [ms]", "LIF", "Gibbs", "floor*"]))
    print("* (2^K - 1) / (2 N) with N = Gibbs draws so far: the expected DKL of independent samples")
    final = kl_divergence(target, lif)
    print(f"\nLIF final: {final}")
    print(f"Gibbs final: {kl_divergence(target, gibbs)}")

    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    plot_calibration(cal, ax=axes[0])
    plot_dkl_vs_time(curves, ax=axes[1])
    axes[1].loglog(times, floor, "k--", lw=1, label="floor (Gibbs N)")
    axes[1].legend(fontsize=8)
    plot_marginals(
        target.marginals(), {"LIF": marginals(lif).values, "Gibbs": marginals(gibbs).values}, ax=axes[2]
    )
    fig.suptitle(f"lifsampling demo: {args.units}-unit BM, {args.chains} chains x {args.duration:g} ms")
    fig.tight_layout()
    fig_path = out / "demo.png"
    fig.savefig(fig_path, dpi=110)
    plt.close(fig)
    print(f"\nwrote {out / 'result.nc'}, {out / 'gibbs.nc'}, {fig_path}")
    report = write_report({"LIF": lif, "Gibbs": gibbs}, out, target, title="lifsampling demo")
    for label, verdict in report.verdicts.items():
        print(f"{label}: {verdict}")
    print(f"convergence report: {report.html_path.resolve()} (numbers in {report.summary_path})")
    return 0 if np.isfinite(final.dkl_target_sampled) else 1


def _cmd_report(args) -> int:
    from .report import write_report

    if args.label is not None and len(args.label) != len(args.results):
        raise ValueError(
            f"got {len(args.label)} --label for {len(args.results)} result files; give one per file."
        )
    results = dict(zip(args.label, args.results, strict=True)) if args.label else args.results
    report = write_report(results, args.out, args.target, title=args.title)
    for label, verdict in report.verdicts.items():
        print(f"{label}: {verdict}")
    print(f"wrote {report.html_path} and {report.summary_path}")
    return 0


def _cmd_random_target(args) -> int:
    from . import random_boltzmann_machine

    bm = random_boltzmann_machine(args.units, kind=args.kind, seed=args.seed)
    bm.save(args.out)
    print(f"wrote {args.out}: {bm.n_units}-unit Boltzmann machine ({args.kind}, seed {args.seed})")
    return 0


def _cmd_calibrate(args) -> int:
    from . import NeuronParameters, PoissonNoise, calibrate

    cal = calibrate(
        NeuronParameters.preset(args.neuron),
        PoissonNoise.preset(args.neuron),
        dt=args.dt,
        n_points=args.points,
        duration=args.point_duration,
        device=args.device,
        cache_dir=args.cache_dir,
        progress=False if args.quiet else None,
    )
    cal.save(args.out)
    print(f"wrote {args.out}: {cal}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``lifsampling`` console script."""
    args = _parser().parse_args(argv)
    commands = {
        "sample": _cmd_sample,
        "demo": _cmd_demo,
        "random-target": _cmd_random_target,
        "calibrate": _cmd_calibrate,
        "report": _cmd_report,
    }
    try:
        return commands[args.command](args)
    except (ValueError, TypeError, OSError, RuntimeError) as exc:
        print(f"lifsampling {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; nothing was written for the unfinished run.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
