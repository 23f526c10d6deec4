"""Peak memory of sampling and reading out 10^6 states x 100 units.

What is measured
    A random 100-unit Boltzmann machine (``random_boltzmann_machine(100,
    seed=0)``, analytic translation, ``interactions=None``) sampled with 10
    chains x 100 s at one state per ms: 10^6 states of 100 units, read out from
    the spikes into the result's ``states`` (int8, 100 MB).  Each device runs in
    a fresh process (after a short warm-up process that calibrated and compiled
    everything, so that no compiler runs in the measured one); reported are the
    peak resident set size of that Python process (``ru_maxrss``), of the
    compiled standalone binary it runs (``VmHWM`` from /proc, polled every
    20 ms; the binary holds the run's spikes), their sum (an upper bound of
    the peak of both together), the RSS before sampling (imports,
    calibration) and the size of the states array.  Limit: 2 GB in total.

    * ``cpp_standalone`` (what ``device="auto"`` picks for this run): the binary
      keeps every spike (~12 bytes each) until the run ends, then the spikes are
      read out in chunks.
    * ``cython``: spikes are streamed to the read-out in chunks during the run.

Run::

    python benchmarks/memory.py [--quick] [--out results/memory.json] [--cache-dir DIR]

``--quick``: 20 units, 2 chains x 2 s, a short calibration.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import (
    Stopwatch,
    cache_directory,
    environment,
    format_table,
    log,
    paragraph,
    parse_args,
    print_report,
    write_json,
)

NAME = "memory"
LIMIT_MB = 2048.0
FULL = {"units": 100, "chains": 10, "duration_ms": 100_000.0}
QUICK = {"units": 20, "chains": 2, "duration_ms": 2_000.0}

CHILD = r"""
import json, resource, sys, time
import lifsampling as ls
cfg = json.loads(sys.argv[1])
if cfg["quick"]:
    cal = ls.calibrate(n_points=20, duration=1000.0, prescan_duration=200.0, cache_dir=cfg["cache_dir"],
                       progress=False)
else:
    cal = ls.calibrate(cache_dir=cfg["cache_dir"], progress=False)
target = ls.random_boltzmann_machine(cfg["units"], seed=0)
sampler = ls.LIFSampler(target, calibration=cal, interactions=None, device=cfg["device"],
                        cache_dir=cfg["cache_dir"], progress=False)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t0 = time.perf_counter()
result = sampler.sample(cfg["duration_ms"], n_chains=cfg["chains"], seed=1, burn_in=100.0)
wall = time.perf_counter() - t0
print(json.dumps({
    "device": result.attrs["device"],
    "states": int(result.sizes["chain"] * result.sizes["draw"]),
    "units": int(result.sizes["unit"]),
    "states_mb": result.states.nbytes / 2**20,
    "states_dtype": str(result.states.dtype),
    "rss_before_mb": before,
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "wall_s": wall,
    "mean_on": float(result.states.mean()),
}))
"""


def _descendants(pid: int) -> list[int]:
    """Process ids of all descendants of ``pid`` (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _binary_peak_mb(pid: int) -> float | None:
    """Peak RSS (VmHWM) of the standalone binaries (``main``) among ``pid``'s descendants."""
    peak = None
    for child in _descendants(pid):
        try:
            status = Path(f"/proc/{child}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("Name", "").strip() == "main" and "VmHWM" in fields:
            mb = float(fields["VmHWM"].split()[0]) / 1024
            peak = mb if peak is None else max(peak, mb)
    return peak


def run_child(config: dict) -> dict:
    """Run the measured child, polling its standalone binary's peak RSS every 20 ms."""
    # output to files, not pipes: a child that filled a pipe while we poll would block
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(config)], stdout=out, stderr=err)
        binary_peak = None
        while proc.poll() is None:
            found = _binary_peak_mb(proc.pid)
            if found is not None:
                binary_peak = found if binary_peak is None else max(binary_peak, found)
            time.sleep(0.02)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        raise RuntimeError(f"{config['device']} run failed:\n{stderr[-3000:]}")
    row = json.loads(stdout.strip().splitlines()[-1])
    row["binary_peak_rss_mb"] = binary_peak or 0.0
    return row


def measure(device: str, settings: dict, cache_dir, quick: bool) -> dict:
    """Peak memory of one run in a fresh process, after a warm-up process that compiled
    everything (the measured run compiles nothing)."""
    cfg = {**settings, "device": device, "cache_dir": str(cache_dir), "quick": quick}
    run_child({**cfg, "duration_ms": 200.0})  # warm-up: calibration, Cython or standalone build
    row = run_child(cfg)
    row["total_peak_mb"] = row["peak_rss_mb"] + row["binary_peak_rss_mb"]
    row["within_limit"] = row["total_peak_mb"] < LIMIT_MB
    return row


def main(argv=None) -> int:
    args = parse_args(NAME, __doc__, None, argv)
    settings = dict(QUICK if args.quick else FULL)
    env = environment()
    rows = []
    with Stopwatch() as total, cache_directory(args.cache_dir, "lifsampling-memory-") as cache:
        for device in ("cpp_standalone", "cython"):
            log(f"{device} ...")
            rows.append(measure(device, settings, cache, args.quick))
            log(f"  peak {rows[-1]['total_peak_mb']:.0f} MB in {rows[-1]['wall_s']:.1f} s")
    headers = ["device", "states", "units", "states MB", "RSS before MB", "Python peak MB", "binary peak MB"]
    headers += ["total MB", "< 2 GB", "wall s"]
    table = [
        [
            r["device"],
            r["states"],
            r["units"],
            r["states_mb"],
            r["rss_before_mb"],
            r["peak_rss_mb"],
            r["binary_peak_rss_mb"],
            r["total_peak_mb"],
            "yes" if r["within_limit"] else "NO",
            r["wall_s"],
        ]
        for r in rows
    ]
    met = all(r["within_limit"] for r in rows)
    write_json(
        args.out,
        NAME,
        {
            "quick": args.quick,
            "wall_time_s": total.seconds,
            "settings": settings,
            "limit_mb": LIMIT_MB,
            "rows": rows,
            "met": met,
        },
        env,
    )
    print_report(
        f"memory ({'quick' if args.quick else 'full'})",
        env,
        [
            format_table(headers, table),
            paragraph(
                f"{settings['chains']} chains x {settings['duration_ms'] / 1000:g} s, "
                f"{settings['units']} units: peak memory {'within' if met else 'ABOVE'} "
                f"{LIMIT_MB / 1024:g} GB on every device."
            ),
        ],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
