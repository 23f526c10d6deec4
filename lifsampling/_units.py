"""Unit handling at the API boundary (private).

Every physical quantity enters the toolkit here.  Users may pass either a
Brian2 quantity (``10 * ms``) or a plain float in the documented PyNN unit
(nF, ms, mV, µS, nA, Hz).  Internally all numbers are plain floats in those
units; this module is the only place that converts.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

#: PyNN unit name -> size of one such unit in SI
_PYNN_UNITS = {
    "nF": 1e-9,
    "ms": 1e-3,
    "mV": 1e-3,
    "uS": 1e-6,
    "nA": 1e-9,
    "Hz": 1.0,
}

_DIMENSIONS = {
    "nF": "farad",
    "ms": "second",
    "mV": "volt",
    "uS": "siemens",
    "nA": "amp",
    "Hz": "hertz",
}


def _unit_error(message: str) -> Exception:
    """A Brian2 ``DimensionMismatchError`` that is also a ``TypeError`` (a wrong kind of value)."""
    from brian2.units.fundamentalunits import DimensionMismatchError

    global _UnitError
    if _UnitError is None:

        class UnitError(DimensionMismatchError, TypeError):
            """A quantity with the wrong physical dimensions."""

        UnitError.__qualname__ = "UnitError"
        _UnitError = UnitError
    return _UnitError(message)


_UnitError = None


def _brian_unit(unit: str):
    import brian2

    return getattr(brian2, _DIMENSIONS[unit])


def to_float(value: Any, unit: str, name: str) -> float:
    """Convert a scalar to a float in the PyNN ``unit``.

    Raises a ``ValueError`` naming ``name`` if the value has the wrong
    dimensions or is not finite.
    """
    arr = to_array(value, unit, name)
    if arr.ndim != 0:
        raise ValueError(f"{name} must be a scalar, got an array of shape {arr.shape}.")
    return float(arr)


def to_array(value: Any, unit: str, name: str) -> np.ndarray:
    """Convert a scalar or array to floats in the PyNN ``unit``."""
    if unit not in _PYNN_UNITS:
        raise KeyError(f"unknown unit {unit!r}")
    if hasattr(value, "dim"):
        from brian2.units.fundamentalunits import get_dimensions

        expected = get_dimensions(_brian_unit(unit))
        if get_dimensions(value) != expected:
            raise _unit_error(
                f"{name} must have the dimensions of {unit} ({_DIMENSIONS[unit]}), "
                f"got {value!r}. Pass a Brian2 quantity with the right unit or a plain "
                f"number in {unit}."
            )
        arr = np.asarray(value / _brian_unit(unit), dtype=float) / _PYNN_UNITS[unit]
        # SI -> PyNN scaling is inexact in binary (200 pF -> 0.19999999999999998 nF): round
        # to 12 significant digits so that equal quantities give equal floats.
        arr = _round_significant(arr, 12)
    else:
        try:
            arr = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            raise TypeError(
                f"{name} must be a number (in {unit}) or a Brian2 quantity, got {value!r}."
            ) from None
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {value!r}.")
    return arr


def _round_significant(arr: np.ndarray, digits: int) -> np.ndarray:
    arr = np.asarray(arr, dtype=float)
    finite = np.isfinite(arr) & (arr != 0)
    mag = np.floor(np.log10(np.abs(np.where(finite, arr, 1.0))))
    scale = 10.0 ** (digits - 1 - mag)
    return np.where(finite, np.round(arr * scale) / scale, arr)


def positive(value: Any, unit: str, name: str) -> float:
    """Like :func:`to_float` but also require a value > 0."""
    x = to_float(value, unit, name)
    if not x > 0:
        raise ValueError(f"{name} must be positive, got {x} {unit}.")
    return x


def non_negative(value: Any, unit: str, name: str) -> float:
    """Like :func:`to_float` but also require a value >= 0."""
    x = to_float(value, unit, name)
    if x < 0:
        raise ValueError(f"{name} must be >= 0 {unit}, got {x}.")
    return x


def count(value: Any, name: str, minimum: int = 1) -> int:
    """``value`` as an int ``>= minimum`` (bools refused), or a ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


def steps(duration_ms: float, dt_ms: float, name: str, step_name: str = "dt") -> int:
    """Number of time steps of ``dt_ms`` in ``duration_ms``; it must divide exactly."""
    n = duration_ms / dt_ms
    k = int(round(n))
    if not math.isclose(n, k, rel_tol=0, abs_tol=1e-6):
        raise ValueError(
            f"{name} = {duration_ms} ms is not a multiple of {step_name} = {dt_ms} ms; "
            f"use e.g. {max(k, 1) * dt_ms:g} ms."
        )
    return k
