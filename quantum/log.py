"""The drivers' logger: one record per step, an xarray Dataset at the end, NetCDF on disk.

A logger is called as ``logger(step, record)`` with a dict of numbers, and
``flush()`` writes it (if it has a path).  The drivers of :mod:`quantum`
create one per ``run`` unless given one; :meth:`RunLog.to_dataset` turns the
records into an :class:`xarray.Dataset` with one variable per key and the
step dimension (``epoch`` or ``iteration``).

Examples
--------
>>> from quantum.log import RunLog
>>> log = RunLog(dim="epoch")
>>> log(0, {"fidelity": 0.5})
>>> log(1, {"fidelity": 0.9})
>>> ds = log.to_dataset()
>>> ds.fidelity.values.tolist(), ds.sizes["epoch"]
([0.5, 0.9], 2)
"""

from __future__ import annotations

import datetime
import json
import os
from typing import Any

import numpy as np
import xarray as xr

from lifsampling._io import atomic_path

__all__ = ["RunLog", "save_log", "load_log"]

_ENGINE = "h5netcdf"


def _attr(value: Any) -> Any:
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, default=str)
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if value is None:
        return "None"
    if isinstance(value, (int, float, str, np.integer, np.floating)):
        return value
    return repr(value)


class RunLog:
    """In-memory log of a run, optionally written to NetCDF every ``save_every`` steps.

    Parameters
    ----------
    path : path, optional
        NetCDF file written by :meth:`flush` (atomically).
    save_every : int
        Flush every this many records (0: only when the run ends).
    dim : str
        Name of the step dimension (the drivers set it).
    """

    def __init__(
        self, path: str | os.PathLike | None = None, *, save_every: int = 0, dim: str = "step"
    ) -> None:
        if isinstance(save_every, bool) or not isinstance(save_every, int) or save_every < 0:
            raise ValueError(f"save_every must be an integer >= 0, got {save_every!r}.")
        self.path = path
        self.save_every = save_every
        self.dim = dim
        self.attrs: dict[str, Any] = {}
        self._steps: list[int] = []
        self._records: list[dict[str, float]] = []

    def __len__(self) -> int:
        return len(self._steps)

    def __call__(self, step: int, record: dict[str, float]) -> None:
        self._steps.append(int(step))
        self._records.append(dict(record))
        if self.path is not None and self.save_every and len(self._steps) % self.save_every == 0:
            self.flush()

    def to_dataset(self) -> xr.Dataset:
        """The records as a Dataset: one variable per key, dim :attr:`dim`, attributes :attr:`attrs`."""
        keys: list[str] = []
        for rec in self._records:
            keys += [k for k in rec if k not in keys]
        data = {k: (self.dim, np.array([float(rec.get(k, np.nan)) for rec in self._records])) for k in keys}
        ds = xr.Dataset(data, coords={self.dim: np.array(self._steps, dtype=np.int64)})
        attrs = {"created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")}
        attrs.update({k: _attr(v) for k, v in self.attrs.items()})
        ds.attrs.update(attrs)
        return ds

    def flush(self) -> None:
        """Write the log to :attr:`path` (nothing without a path)."""
        if self.path is not None:
            save_log(self.to_dataset(), self.path)


def save_log(log: xr.Dataset, path: str | os.PathLike) -> None:
    """Save a driver log as NetCDF (HDF5), atomically."""
    if not isinstance(log, xr.Dataset):
        raise TypeError(f"log must be an xarray.Dataset, got {type(log).__name__}.")
    with atomic_path(path) as tmp:
        log.to_netcdf(tmp, engine=_ENGINE)


def load_log(path: str | os.PathLike) -> xr.Dataset:
    """Load a log saved with :func:`save_log` (fully into memory)."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"log file {path!r} does not exist.")
    with xr.open_dataset(path, engine=_ENGINE) as ds:
        return ds.load()
