"""Shared helpers of the benchmark scripts (not a benchmark itself).

Every script in this folder

* takes the same basic options (:func:`parse_args`): ``--quick`` for a short
  smoke run, ``--out`` for the JSON file (default ``benchmarks/results/NAME.json``,
  git-ignored) and ``--cache-dir`` for lifsampling's cache;
* prints its results as an aligned plain-text table (:func:`format_table`);
* writes one JSON document (:func:`write_json`, atomic) with its settings, its
  rows, a summary and the environment it ran in (:func:`environment`: Python,
  Brian2, NumPy and lifsampling versions, CPU count, load average, date, git
  commit), so that numbers from different machines and days can be compared.

Timing numbers depend on the machine and on what else runs on it; the
environment block records the load average at the start of the run for that
reason.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import gc
import importlib.metadata as md
import importlib.util
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

BENCHMARK_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCHMARK_DIR.parent
RESULTS_DIR = BENCHMARK_DIR / "results"


# -- command line ------------------------------------------------------------
def parse_args(
    name: str,
    doc: str | None,
    add_arguments: Callable[[argparse.ArgumentParser], None] | None = None,
    argv: Sequence[str] | None = None,
) -> argparse.Namespace:
    """Parse the options every benchmark shares, plus the script's own.

    ``name`` is the benchmark's name (``results/NAME.json`` is the default
    output), ``doc`` its module docstring (its first paragraph becomes the
    ``--help`` description), ``add_arguments`` adds script-specific options.
    """
    description = (doc or "").strip().split("\n\n")[0]
    parser = argparse.ArgumentParser(
        prog=f"benchmarks/{name}.py",
        description=description,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--quick", action="store_true", help="short smoke run (used by the tests; numbers not meaningful)"
    )
    parser.add_argument(
        "--out", type=Path, default=RESULTS_DIR / f"{name}.json", help="where to write the JSON results"
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="lifsampling cache directory (calibrations, standalone builds); "
        "default: the script's own choice, see its docstring",
    )
    if add_arguments is not None:
        add_arguments(parser)
    return parser.parse_args(argv)


def log(message: str) -> None:
    """Progress message on stderr (stdout carries only the tables)."""
    print(message, file=sys.stderr, flush=True)


# -- timing ------------------------------------------------------------------
class Stopwatch:
    """Wall-clock seconds of a ``with`` block: ``with Stopwatch() as sw: ...; sw.seconds``."""

    def __init__(self) -> None:
        self.seconds = float("nan")
        self._start = 0.0

    def __enter__(self) -> Stopwatch:
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self._start


def timed_sample(sampler: Any, duration: float, **kwargs: Any) -> tuple[Any, float]:
    """``sampler.sample(duration, **kwargs)`` and its wall time [s].

    Garbage-collects first: Brian2 objects of an earlier network that are still
    alive make Brian2 rename the new network's code objects, which changes the
    generated code and recompiles it; collecting them keeps timed runs free of
    compilation.
    """
    gc.collect()
    with Stopwatch() as sw:
        result = sampler.sample(duration, **kwargs)
    return result, sw.seconds


@contextlib.contextmanager
def cache_directory(path: Path | None, prefix: str) -> Iterator[Path]:
    """``path`` (created if needed), or a temporary directory removed afterwards."""
    if path is not None:
        path.mkdir(parents=True, exist_ok=True)
        yield path
        return
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        yield Path(tmp)


# -- environment -------------------------------------------------------------
def _version(package: str) -> str | None:
    try:
        return md.version(package)
    except md.PackageNotFoundError:
        return None


def _module_path(name: str) -> str | None:
    """Where a package is imported from (a PYTHONPATH override shows up here)."""
    spec = importlib.util.find_spec(name)
    return None if spec is None or spec.origin is None else str(Path(spec.origin).parent)


def _git_commit() -> dict[str, Any]:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=REPO_DIR, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()

    try:
        dirty = bool(git("status", "--porcelain", "--", "lifsampling"))
        return {"commit": git("rev-parse", "HEAD"), "lifsampling_dirty": dirty}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "lifsampling_dirty": None}


def environment() -> dict[str, Any]:
    """Versions, hardware and time of this run (stored in every JSON file)."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = os.cpu_count()
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = None
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "brian2": _version("brian2"),
        "numpy": _version("numpy"),
        "lifsampling": _version("lifsampling"),
        "lifsampling_path": _module_path("lifsampling"),
        "cython": _version("cython"),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "cpu_usable": usable,
        "load_average_1_5_15min": load,
        "git": _git_commit(),
    }


def describe_environment(env: dict[str, Any]) -> str:
    """One line for the top of a printed report."""
    return (
        f"python {env['python']}, brian2 {env['brian2']}, numpy {env['numpy']}, "
        f"{env['cpu_usable']}/{env['cpu_count']} CPUs, load average {env['load_average_1_5_15min']}, "
        f"{env['date']}"
    )


# -- tables ------------------------------------------------------------------
def format_cell(value: Any, digits: int = 4) -> str:
    """A table cell: floats with ``digits`` significant digits, bools as yes/no, None as '-'."""
    if value is None:
        return "-"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if math.isnan(value):
            return "-"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        if value != 0 and (abs(value) >= 10**digits or abs(value) < 1e-3):
            return f"{value:.{digits - 1}e}"
        if abs(value) < 1:
            return f"{value:.{digits}g}"
        return f"{value:.{max(digits - len(str(int(abs(value)))), 1)}f}"
    return str(value)


def format_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[Any] | None],
    title: str | None = None,
    digits: int | Sequence[int] = 4,
) -> str:
    """An aligned plain-text table; numbers right-aligned, text left-aligned.

    ``digits``: significant digits of float cells, one number or one per column.
    A row that is ``None`` becomes a separator line.
    """
    per_column = [digits] * len(headers) if isinstance(digits, int) else list(digits)
    cells = [
        None if r is None else [format_cell(v, d) for v, d in zip(r, per_column, strict=True)] for r in rows
    ]
    body = [c for c in cells if c is not None]
    widths = [max([len(h)] + [len(r[k]) for r in body]) for k, h in enumerate(headers)]
    data = [r for r in rows if r is not None]
    numeric = [all(v is None or _is_number(v) for v in (r[k] for r in data)) for k in range(len(headers))]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric, strict=True)
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    out = [] if title is None else [title]
    out += [line(headers), rule]
    out += [rule if c is None else line(c) for c in cells]
    return "\n".join(out)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def paragraph(*sentences: str, width: int = 100) -> str:
    """Sentences joined and wrapped to ``width`` columns (for the text around tables)."""
    return textwrap.fill(" ".join(s.strip() for s in sentences), width=width)


def print_report(title: str, env: dict[str, Any], blocks: Sequence[str]) -> None:
    """Print a benchmark's report to stdout: title, environment line, then each block."""
    print(f"== {title} ==")
    print(describe_environment(env))
    for block in blocks:
        print()
        print(block)
    sys.stdout.flush()


# -- JSON ----------------------------------------------------------------------
def _jsonable(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _finite(value: Any) -> Any:
    """NaN and infinities become None (strict JSON has no such numbers)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def write_json(path: Path, name: str, payload: dict[str, Any], env: dict[str, Any]) -> dict[str, Any]:
    """Write ``{"benchmark": name, "environment": env, **payload}`` to ``path`` atomically.

    The document goes to a temporary file in the same directory that is then
    renamed over ``path``, so a reader never sees half a file.  Returns the document.
    """
    document = {"benchmark": name, "environment": env, **payload}
    text = json.dumps(_finite(json.loads(json.dumps(document, default=_jsonable))), indent=1)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text + "\n")
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give it an ordinary file's mode
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    log(f"wrote {path}")
    return document
