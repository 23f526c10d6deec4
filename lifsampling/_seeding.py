"""One place that turns a user's seed into random generators (private)."""

from __future__ import annotations

import numpy as np


def make_rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    """Return a :class:`numpy.random.Generator` for ``seed``.

    An existing generator is returned unchanged, so that callers can thread
    one generator through several steps.
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None and (not isinstance(seed, (int, np.integer)) or seed < 0):
        raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}.")
    return np.random.default_rng(seed)


def derive_seed(seed: int | np.random.Generator | None) -> int:
    """A 31-bit integer seed for simulators (Brian2) derived from ``seed``.

    ``None`` draws fresh entropy; an integer maps to itself (so a run is easy
    to repeat by hand), a generator is advanced by one draw.
    """
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        if seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed}.")
        if seed >= 2**31 - 1:
            raise ValueError(f"integer seeds must be < 2**31 - 1, got {seed}.")
        return int(seed)
    return int(make_rng(seed).integers(0, 2**31 - 1))
