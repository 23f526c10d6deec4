"""Memory estimates checked before long runs start (private).

A run whose result would not fit in memory is refused up front, with the
estimate and what to change, instead of being killed halfway by the operating
system.
"""

from __future__ import annotations

import os

#: Fraction of the available memory a run may plan to use.
MAX_FRACTION = 0.8


def available_memory() -> int | None:
    """Bytes of memory available to new allocations (Linux ``MemAvailable``), or None if unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(needed: float, what: str, advice: str) -> None:
    """Raise :class:`MemoryError` if ``needed`` bytes exceed the usable share of available memory."""
    available = available_memory()
    if available is not None and needed > MAX_FRACTION * available:
        raise MemoryError(
            f"{what} needs about {needed / 2**30:.2f} GiB, but only {available / 2**30:.2f} GiB of "
            f"memory are available ({MAX_FRACTION:.0%} may be planned); {advice}"
        )
