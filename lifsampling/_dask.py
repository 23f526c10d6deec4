"""The Dask worker plugin that imports Brian2 on each worker's main thread (private).

Imported only when a :class:`distributed.Client` is used, so that lifsampling
itself never imports Dask.
"""

from __future__ import annotations

from distributed import WorkerPlugin

PLUGIN_NAME = "lifsampling-brian2"


class Brian2Import(WorkerPlugin):
    """Import Brian2 when a worker starts (or joins later), on its event-loop thread.

    Brian2 installs a ``SIGINT`` handler on import, which Python allows only on
    a process's main thread; Dask runs tasks in other threads, where the first
    ``import brian2`` would fail.  A worker plugin's ``setup`` runs on the
    worker's event loop, the main thread of a worker process.
    """

    name = PLUGIN_NAME
    idempotent = True  # registered again by every call: the scheduler keeps the first

    def setup(self, worker) -> None:
        import brian2  # noqa: F401
