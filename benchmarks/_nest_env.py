"""NEST 3.10 in its own virtual environment, for the speed benchmarks' peer runs (not a benchmark).

The ``nest-simulator`` wheel pulls in a NumPy that breaks brian2 2.9, so NEST is
never a dependency of lifsampling and never installed into the benchmark's own
environment.  :func:`nest_python` makes (once) a separate virtual environment
with ``python3 -m venv`` and ``pip install nest-simulator==3.10.0`` and returns
its interpreter; the benchmarks run ``_nest_network.py`` with it in a
subprocess.

Where: ``--nest-venv PATH`` of the benchmarks, else the environment variable
``LIFSAMPLING_NEST_VENV``, else ``~/.cache/lifsampling/nest-venv``.  The venv is
built in a temporary sibling directory and renamed into place only after
``import nest`` worked in it, and a marker file (``lifsampling-nest-ok``) is
written last, so a half-made environment is never used.  A venv cannot be
moved once made (its scripts hold absolute paths), so the temporary directory
is only used for the build; the interpreter is always called as ``bin/python``
of the final path, which works after the rename because ``bin/python`` is a
symlink to the base interpreter and ``pyvenv.cfg`` is found next to it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

NEST_VERSION = "3.10.0"
ENV_VARIABLE = "LIFSAMPLING_NEST_VENV"
MARKER = "lifsampling-nest-ok"
DEFAULT_VENV = Path("~/.cache/lifsampling/nest-venv")


def venv_path(path: str | os.PathLike | None = None) -> Path:
    """The NEST venv's directory: ``path``, else ``$LIFSAMPLING_NEST_VENV``, else the default."""
    if path is None:
        path = os.environ.get(ENV_VARIABLE) or DEFAULT_VENV
    return Path(path).expanduser().absolute()


def _python_of(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def quiet_environment() -> dict[str, str]:
    """Environment for NEST subprocesses: no banner, one OpenMP thread, no PYTHONPATH leaking in."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(PYNEST_QUIET="1", OMP_NUM_THREADS="1")
    return env


def nest_version(python: Path, timeout: float = 300.0) -> str:
    """``nest.__version__`` imported by ``python`` (raises ``RuntimeError`` if that fails)."""
    proc = subprocess.run(
        [str(python), "-c", "import nest; print(nest.__version__)"],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=quiet_environment(),
    )
    if proc.returncode != 0:
        raise RuntimeError(f"'import nest' failed with {python}:\n{proc.stderr[-2000:]}")
    return proc.stdout.strip().splitlines()[-1]


def _base_python() -> str:
    """A ``python3`` to make the venv with (the benchmark's own interpreter's base if it has one)."""
    base = Path(getattr(sys, "_base_executable", "") or "")
    if base.is_file():
        return str(base)
    return shutil.which("python3") or sys.executable


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def nest_python(path: str | os.PathLike | None = None, create: bool = True) -> Path | None:
    """The Python interpreter of a working NEST venv, creating it if needed and allowed.

    Returns None when the venv does not exist (or is incomplete) and ``create``
    is False.  Raises ``RuntimeError`` (with pip's or Python's output) when
    creating it fails; the benchmarks catch that and report NEST as failed.
    """
    venv = venv_path(path)
    python = _python_of(venv)
    if (venv / MARKER).is_file() and python.exists():
        return python
    if not create:
        return None
    venv.parent.mkdir(parents=True, exist_ok=True)
    if venv.exists():  # a half-made or foreign directory: never use it, never delete it
        raise RuntimeError(
            f"{venv} exists but has no {MARKER} marker (a failed or foreign install); remove it "
            "or pass another --nest-venv."
        )
    build = Path(tempfile.mkdtemp(prefix=f".{venv.name}.building-", dir=venv.parent))
    try:
        _log(f"creating the NEST venv in {venv} (pip install nest-simulator=={NEST_VERSION}) ...")
        steps = [
            [_base_python(), "-m", "venv", str(build)],
            [str(_python_of(build)), "-m", "pip", "install", "--quiet", f"nest-simulator=={NEST_VERSION}"],
        ]
        for cmd in steps:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
            if proc.returncode != 0:
                output = f"{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
                raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{output}")
        # venvs embed their path in bin/ scripts and pyvenv.cfg; rename first, then verify
        # and mark the final location, so the marker vouches for the path that is used.
        os.replace(build, venv)
        try:
            version = nest_version(python)
            if not version.startswith(NEST_VERSION.rsplit(".0", 1)[0]):
                raise RuntimeError(f"{venv} imports NEST {version}, expected {NEST_VERSION}")
            (venv / MARKER).write_text(f"nest-simulator {version}\n")
        except BaseException:
            shutil.rmtree(venv, ignore_errors=True)  # ours, unmarked: never leave it half-made
            raise
        _log(f"NEST {version} ready in {venv}")
        return python
    finally:
        if build.exists():
            shutil.rmtree(build, ignore_errors=True)
