"""Execute every tutorial notebook top to bottom, in quick mode.

Each notebook in ``tutorials/`` runs in a fresh IPython kernel with
``LIFSAMPLING_TUTORIAL_QUICK=1`` (short simulations), a private, empty
``LIFSAMPLING_CACHE`` and the non-interactive matplotlib backend; any cell
error fails the test.  New tutorials are picked up automatically.

The kernel is started on ``sys.executable`` -- the interpreter running pytest --
and imports the same ``lifsampling`` as the tests do.  It does not depend on any
registered kernelspec (a user-level ``python3`` kernelspec may point to another
Python), only on ``ipykernel`` being installed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient

import lifsampling

TUTORIALS = Path(__file__).resolve().parent.parent / "tutorials"
NOTEBOOKS = sorted(TUTORIALS.glob("*.ipynb"))

#: Seconds per cell.  Generous because a fresh environment compiles Brian2's
#: Cython code during the first simulation.
CELL_TIMEOUT = 900


class _ThisInterpreterKernels(KernelSpecManager):
    """Every kernel name resolves to an IPython kernel on this interpreter."""

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        return KernelSpec(
            argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            display_name=f"Python ({sys.executable})",
            language="python",
        )


def _kernel_env(cache_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    package_root = str(Path(lifsampling.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    env["LIFSAMPLING_TUTORIAL_QUICK"] = "1"
    env["LIFSAMPLING_CACHE"] = str(cache_dir)
    env["MPLBACKEND"] = "Agg"
    return env


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_tutorial_executes(path: Path, tmp_path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    workdir = tmp_path / "work"
    workdir.mkdir()
    km = AsyncKernelManager(kernel_name="python3", kernel_spec_manager=_ThisInterpreterKernels())
    client = NotebookClient(
        nb,
        km=km,
        timeout=CELL_TIMEOUT,
        allow_errors=False,
        resources={"metadata": {"path": str(workdir)}},
    )
    # cleanup_kc: shut the kernel down afterwards although we created its manager
    client.execute(cleanup_kc=True, env=_kernel_env(tmp_path / "cache"))

    errors = [
        out
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]
    assert not errors, f"{path.name}: {errors[0]['ename']}: {errors[0]['evalue']}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_tutorial_is_stored_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [
        i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count") is not None)
    ]
    assert not dirty, (
        f"{path.name}: code cells {dirty} have stored outputs or execution counts; "
        "clear them before committing (Jupyter: Edit > Clear Outputs of All Cells)."
    )
