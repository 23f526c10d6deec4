"""Helpers shared by several test modules (import as ``from _helpers import ...``)."""


class SimulationCalled(Exception):
    """Raised by the ``no_simulation`` stand-in for the simulator: proves that a code path simulates."""
