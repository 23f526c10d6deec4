"""Time to solution: wall time from a target Boltzmann machine to DKL(target‖sampled) <= 0.02.

What is measured
    The user's whole job for a random 5-unit Boltzmann machine
    (``random_boltzmann_machine(5, kind="sbs", seed=0)``): build a
    :class:`lifsampling.LIFSampler` with default settings, ``sample(T,
    n_chains=64, seed=1)``, compute DKL(target‖sampled).  Everything a first
    call does is inside the timed region: calibration of the activation
    function and of the interaction map (unless cached), the standalone build
    of the network structure (unless cached), simulation, read-out and DKL.
    Every case runs in a fresh Python process (``import lifsampling`` not
    timed).

    1. **search** (fresh cache): T = 125, 250, 500, … ms until DKL <= 0.02; T*
       is the first duration that reaches it.
    2. **not cached**: one call with T* in a fresh process with an empty cache
       directory: calibrations and build included.
    3. **cached**: the same call again in a new process with the cache of (2):
       nothing to calibrate or compile.  For these short runs ``device="auto"``
       picks Cython (a standalone build would not pay for itself once).
    4. **cached, cpp_standalone / cython**: (3) with the device given
       explicitly, after one warm-up call that builds the standalone project
       (or warms the Cython cache).

Run::

    python benchmarks/time_to_solution.py [--quick] [--out results/time_to_solution.json]

``--quick``: a short calibration (20 points x 1 s), no interaction map,
T from 100 ms, and 8 chains; numbers not meaningful.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import Stopwatch, environment, format_table, log, paragraph, parse_args, print_report, write_json

NAME = "time_to_solution"
LIMIT = 0.02

CHILD = r"""
import json, sys, time
import lifsampling as ls
cfg = json.loads(sys.argv[1])
target = ls.random_boltzmann_machine(5, kind="sbs", seed=0)
rows = []
t_total = time.perf_counter()
for duration in cfg["durations"]:
    t0 = time.perf_counter()
    kwargs = dict(cache_dir=cfg["cache_dir"], progress=False, device=cfg["device"])
    if cfg["quick"]:
        cal = ls.calibrate(n_points=20, duration=1000.0, prescan_duration=200.0,
                           cache_dir=cfg["cache_dir"], progress=False)
        sampler = ls.LIFSampler(target, calibration=cal, interactions=None, **kwargs)
    else:
        sampler = ls.LIFSampler(target, **kwargs)
    result = sampler.sample(duration, n_chains=cfg["chains"], seed=1)
    dkl = ls.kl_divergence(target, result).dkl_target_sampled
    rows.append({"duration_ms": duration, "wall_s": time.perf_counter() - t0, "dkl": dkl,
                 "device": result.attrs["device"]})
    if dkl <= cfg["limit"]:
        break
print(json.dumps({"rows": rows, "total_s": time.perf_counter() - t_total}))
"""


def child(durations: list[float], cache_dir: Path, device: str, chains: int, quick: bool) -> dict:
    cfg = {
        "durations": durations,
        "cache_dir": str(cache_dir),
        "device": device,
        "chains": chains,
        "quick": quick,
        "limit": LIMIT,
    }
    done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(cfg)], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    args = parse_args(NAME, __doc__, None, argv)
    env = environment()
    chains = 8 if args.quick else 64
    start = 100.0 if args.quick else 125.0
    search = [start * 2**k for k in range(8)]
    with Stopwatch() as total, tempfile.TemporaryDirectory(prefix="lifsampling-tts-") as tmp:
        tmp = Path(tmp)
        log("search (fresh cache) ...")
        found = child(search, tmp / "search", "auto", chains, args.quick)
        last = found["rows"][-1]
        reached = last["dkl"] <= LIMIT
        t_star = last["duration_ms"]
        log(f"  T* = {t_star} ms (DKL {last['dkl']:.4f})")
        cases = {}
        log("not cached ...")
        cases["not cached"] = child([t_star], tmp / "fresh", "auto", chains, args.quick)["rows"][0]
        log("cached ...")
        cases["cached"] = child([t_star], tmp / "fresh", "auto", chains, args.quick)["rows"][0]
        for device in ("cpp_standalone", "cython"):
            log(f"cached, {device} ...")
            child([t_star], tmp / "fresh", device, chains, args.quick)  # build / warm its caches
            cases[f"cached, {device}"] = child([t_star], tmp / "fresh", device, chains, args.quick)["rows"][0]

    table = [[name, c["device"], c["duration_ms"], c["dkl"], c["wall_s"]] for name, c in cases.items()]
    search_table = [[r["duration_ms"], r["dkl"], r["wall_s"], r["device"]] for r in found["rows"]]
    payload = {
        "quick": args.quick,
        "wall_time_s": total.seconds,
        "limit": LIMIT,
        "chains": chains,
        "reached": reached,
        "t_star_ms": t_star,
        "search": found,
        "cases": cases,
        "standalone_speedup_over_cython": cases["cached, cython"]["wall_s"]
        / cases["cached, cpp_standalone"]["wall_s"],
    }
    write_json(args.out, NAME, payload, env)
    print_report(
        f"Time to DKL <= {LIMIT} (5-unit BM, {chains} chains)",
        env,
        [
            format_table(["T ms", "DKL", "wall s", "device"], search_table, title="search (fresh cache)"),
            format_table(["case", "device", "T ms", "DKL", "wall s"], table, title="time to solution"),
            paragraph(
                f"DKL <= {LIMIT} {'reached' if reached else 'NOT reached'} at T* = {t_star:g} ms "
                f"with {chains} chains.  Cached, the default device ({cases['cached']['device']}) takes "
                f"{cases['cached']['wall_s']:.2f} s, C++ standalone "
                f"{cases['cached, cpp_standalone']['wall_s']:.2f} s, Cython "
                f"{cases['cached, cython']['wall_s']:.2f} s; not cached (calibrations and build "
                f"included) {cases['not cached']['wall_s']:.1f} s."
            ),
        ],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
