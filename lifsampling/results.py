"""Sampling results as labelled xarray data, saved and loaded as NetCDF.

Every sampler in the toolkit returns an :class:`xarray.Dataset` with

* ``states`` — ``int8`` 0/1, dims ``("chain", "draw", "unit")``;
* coordinate ``time`` along ``draw`` — sampled time since the end of burn-in [ms];
* ``target_W`` (dims ``unit``, ``unit_j``) and ``target_b`` (``unit``) when the
  target is known;
* attributes that say how it was made: ``sampler``, ``sample_interval_ms``,
  ``dt_ms``, ``tau_refrac_ms``, ``burn_in_ms``, ``seed``, JSON strings
  ``neuron_parameters``, ``noise``, ``calibration``, ``settings``, plus
  library versions and the creation time.

The dims ``chain`` and ``draw`` follow the arviz convention, so results convert
to ``arviz.InferenceData`` directly.

:func:`save_result` writes atomically (a temporary file moved into place) and
records a SHA-256 checksum of its attributes and numeric variables (attribute
``lifsampling_checksum``); :func:`load_result` verifies it, so a truncated,
damaged or edited file raises one ``ValueError`` that names the file.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import json
import os
from typing import Any

import numpy as np
import xarray as xr

from ._io import atomic_path
from .targets import MAX_EXACT_UNITS, BoltzmannMachine, RestrictedBoltzmannMachine, states_to_indices

__all__ = [
    "make_result",
    "save_result",
    "load_result",
    "result_target",
    "state_counts",
    "joint_distribution",
    "marginals",
    "sample_interval",
]

_ENGINE = "h5netcdf"
#: Attribute holding the checksum of a saved result (removed again by :func:`load_result`).
CHECKSUM_ATTR = "lifsampling_checksum"


@functools.cache
def _versions() -> dict:
    """Versions of the packages that made a result (read once: ~10 ms per call otherwise)."""
    import importlib.metadata as md

    out = {}
    for pkg in ("lifsampling", "brian2", "numpy", "xarray"):
        try:
            out[f"version_{pkg}"] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    return out


def _binary(states: np.ndarray) -> bool:
    """True if every entry is 0 or 1 (integer arrays checked without temporaries)."""
    if states.dtype == bool:
        return True
    if np.issubdtype(states.dtype, np.integer):
        return bool(states.min() >= 0 and states.max() <= 1)
    return bool(((states == 0) | (states == 1)).all())


def make_result(
    states: np.ndarray,
    *,
    sample_interval: float,
    sampler: str,
    target: BoltzmannMachine | None = None,
    attrs: dict[str, Any] | None = None,
) -> xr.Dataset:
    """Wrap a ``(chain, draw, unit)`` 0/1 array as a result Dataset.

    Parameters
    ----------
    states : array, shape (n_chains, n_draws, n_units)
    sample_interval : float
        Sampled time between draws [ms].
    sampler : str
        Name of the sampler that made it (``"lif"``, ``"gibbs"``, …).
    target : BoltzmannMachine, optional
        Stored alongside as ``target_W`` / ``target_b``.
    attrs : dict, optional
        Further attributes; dict values are stored as JSON strings, ``None`` is dropped.

    Examples
    --------
    >>> ds = make_result(np.zeros((2, 3, 4), dtype=np.int8), sample_interval=1.0, sampler="demo")
    >>> dict(ds.states.sizes)
    {'chain': 2, 'draw': 3, 'unit': 4}
    """
    states = np.asarray(states)
    if states.ndim != 3:
        raise ValueError(f"states must have dims (chain, draw, unit), got shape {states.shape}.")
    if states.size and not _binary(states):
        raise ValueError("states must contain only 0 and 1.")
    n_chains, n_draws, n_units = states.shape
    states = states.astype(np.int8, copy=False)  # no copy of the read-out's int8 states
    data_vars: dict[str, Any] = {"states": (("chain", "draw", "unit"), states)}
    if target is not None:
        if target.n_units != n_units:
            raise ValueError(f"target has {target.n_units} units but states have {n_units}.")
        data_vars["target_W"] = (("unit", "unit_j"), np.asarray(target.W))
        data_vars["target_b"] = (("unit",), np.asarray(target.b))
    ds = xr.Dataset(
        data_vars,
        coords={
            "chain": np.arange(n_chains),
            "draw": np.arange(n_draws),
            "unit": np.arange(n_units),
            "time": ("draw", np.arange(n_draws) * float(sample_interval), {"units": "ms"}),
        },
    )
    ds.states.attrs["description"] = "z_k = 1 during the refractory period after a spike of unit k"
    meta: dict[str, Any] = {
        "sampler": sampler,
        "sample_interval_ms": float(sample_interval),
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        **_versions(),
    }
    if isinstance(target, RestrictedBoltzmannMachine):
        meta["target_n_visible"] = target.n_visible
    for key, value in (attrs or {}).items():
        if value is None:
            continue
        if isinstance(value, (dict, list, tuple)):
            value = json.dumps(value)
        elif isinstance(value, (bool, np.bool_)):
            value = int(value)
        meta[key] = value
    ds.attrs.update(meta)
    return ds


def save_result(result: xr.Dataset, path: str | os.PathLike) -> None:
    """Save a result as NetCDF (HDF5), atomically: an existing file is replaced only on success."""
    _validate(result, "result")
    names = [str(n) for n in result.variables if _hashable(result.variables[n].values)]
    stamped = result.copy(deep=False)
    stamped.attrs = {
        **{k: v for k, v in result.attrs.items() if k != CHECKSUM_ATTR},
        CHECKSUM_ATTR: json.dumps({"sha256": _checksum(result, names), "variables": sorted(names)}),
    }
    with atomic_path(path) as tmp:
        stamped.to_netcdf(tmp, engine=_ENGINE)


def _hashable(values: np.ndarray) -> bool:
    return values.dtype.kind in "biuf"


def _checksum(ds: xr.Dataset, names: list[str]) -> str:
    """SHA-256 of the dataset's attributes and of the named variables' shapes and values."""
    h = hashlib.sha256()
    attrs = {str(k): _plain(v) for k, v in ds.attrs.items() if k != CHECKSUM_ATTR}
    h.update(json.dumps(attrs, sort_keys=True, default=repr).encode())
    for name in sorted(names):
        v = np.ascontiguousarray(ds.variables[name].values)
        if v.dtype.kind == "b":
            v = v.view(np.uint8)
        h.update(f"{name}|{v.dtype.kind}{v.dtype.itemsize}|{v.shape}|".encode())
        h.update(v.astype(v.dtype.newbyteorder("<"), copy=False))
    return h.hexdigest()


def _plain(value: Any) -> Any:
    """An attribute value as plain Python, the same before saving and after loading."""
    if isinstance(value, (np.ndarray, list, tuple)):
        items = [_plain(x) for x in np.asarray(value, dtype=object).ravel().tolist()]
        return items[0] if len(items) == 1 else items
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, np.generic):
        return value.item()
    return value


def _verify(ds: xr.Dataset, path: str) -> None:
    """Check the checksum stamped by :func:`save_result` (files without one pass) and remove it."""
    raw = ds.attrs.pop(CHECKSUM_ATTR, None)
    if raw is None:
        return
    try:
        recorded = json.loads(raw)
        names, digest = list(recorded["variables"]), str(recorded["sha256"])
    except (TypeError, ValueError, KeyError):
        raise ValueError(
            f"result file {path!r} is damaged: its attribute {CHECKSUM_ATTR!r} is unreadable."
        ) from None
    missing = [n for n in names if n not in ds.variables]
    if missing:
        raise ValueError(
            f"result file {path!r} is damaged: the variable(s) {missing} it was saved with are missing."
        )
    if _checksum(ds, names) != digest:
        raise ValueError(
            f"result file {path!r} fails its checksum: its data were damaged or edited after "
            "save_result wrote it. Rerun the sampling (or restore the file from a copy)."
        )


def load_result(path: str | os.PathLike) -> xr.Dataset:
    """Load a result saved with :func:`save_result` (fully into memory).

    Raises
    ------
    FileNotFoundError, ValueError
        If the file is missing; is truncated, damaged or not NetCDF; fails the
        checksum :func:`save_result` stamped on it (content changed after saving);
        lacks ``states (chain, draw, unit)`` of 0/1; holds only one of
        ``target_W``/``target_b``; or records no sample interval.  The message
        names the file.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"result file {path!r} does not exist.")
    try:
        ds = xr.load_dataset(path, engine=_ENGINE)
    except Exception as exc:
        raise ValueError(
            f"cannot read {path!r} as a NetCDF result file: it is truncated, damaged or not a NetCDF "
            f"(HDF5) file ({type(exc).__name__}: {exc}). Rerun the sampling or restore the file."
        ) from None
    _validate(ds, path)
    _verify(ds, path)
    _validate_values(ds, path)
    ds["states"] = ds.states.astype(np.int8)
    return ds


def _validate(ds: xr.Dataset, what: str) -> None:
    if not isinstance(ds, xr.Dataset) or "states" not in ds:
        raise ValueError(f"{what} has no 'states' variable; it is not a lifsampling result.")
    if ds.states.dims != ("chain", "draw", "unit"):
        raise ValueError(f"{what}: 'states' must have dims (chain, draw, unit), got {ds.states.dims}.")


def _validate_values(ds: xr.Dataset, path: str) -> None:
    """What a file must hold beyond a 'states' variable to be a usable result."""
    states = ds.states.values
    if states.dtype.kind not in "biu" or (states.size and not _binary(states)):
        raise ValueError(
            f"result file {path!r}: 'states' must hold only 0 and 1 (integers), got {states.dtype}."
        )
    if ("target_W" in ds) != ("target_b" in ds):
        raise ValueError(
            f"result file {path!r} holds only one of 'target_W' and 'target_b'; it needs both or neither."
        )
    if "target_W" in ds:
        K = ds.sizes["unit"]
        if ds.target_W.shape != (K, K) or ds.target_b.shape != (K,):
            raise ValueError(
                f"result file {path!r}: 'target_W' must be ({K}, {K}) and 'target_b' ({K},) for {K} units, "
                f"got {ds.target_W.shape} and {ds.target_b.shape}."
            )
    if "time" not in ds.coords and "sample_interval_ms" not in ds.attrs and ds.sizes["draw"] > 1:
        raise ValueError(
            f"result file {path!r} records no sample interval (neither a 'time' coordinate nor the "
            "attribute 'sample_interval_ms')."
        )


def sample_interval(result: xr.Dataset) -> float:
    """Sampled time per draw of a result [ms].

    The mean spacing of the ``time`` coordinate (so a thinned result reports
    its real spacing, and a phase-gated one the sampled time each kept draw
    stands for), else the ``sample_interval_ms`` attribute.
    """
    n = result.sizes["draw"]
    if "time" in result.coords and n > 1:
        t = result.time.values
        return float((t[-1] - t[0]) / (n - 1))
    if "sample_interval_ms" in result.attrs:
        return float(result.attrs["sample_interval_ms"])
    raise ValueError("the result records no sample interval (attribute 'sample_interval_ms').")


def result_target(result: xr.Dataset) -> BoltzmannMachine | None:
    """The target stored in a result, or None."""
    if "target_W" not in result:
        return None
    W, b = result.target_W.values, result.target_b.values
    nv = result.attrs.get("target_n_visible")
    if nv is not None:
        nv = int(nv)
        return RestrictedBoltzmannMachine(W[:nv, nv:], b[:nv], b[nv:])
    return BoltzmannMachine(W, b)


def state_counts(result: xr.Dataset, n_draws: int | None = None) -> np.ndarray:
    """How often each joint state occurs (all chains pooled), indexed by state index.

    ``n_draws`` limits the count to the first draws of every chain.
    """
    idx = joint_indices(result)
    if n_draws is not None:
        idx = idx[:, :n_draws]
    return np.bincount(idx.ravel(), minlength=2 ** result.sizes["unit"])


def joint_indices(result: xr.Dataset) -> np.ndarray:
    """Joint-state index of every draw, shape (chain, draw) (unit 0 = most significant bit)."""
    _validate(result, "result")
    K = result.sizes["unit"]
    if K > MAX_EXACT_UNITS:
        raise ValueError(f"joint-state counts need <= {MAX_EXACT_UNITS} units, got {K}.")
    return states_to_indices(result.states.values)


def joint_distribution(result: xr.Dataset) -> np.ndarray:
    """Sampled joint distribution: fraction of draws in each joint state."""
    c = state_counts(result)
    return c / max(c.sum(), 1)


def marginals(result: xr.Dataset) -> xr.DataArray:
    """Sampled ``p(z_k = 1)`` per unit (all chains and draws pooled)."""
    _validate(result, "result")
    return result.states.mean(("chain", "draw")).rename("marginal")
