"""Rebuild any noise source from its ``to_dict()`` (these and lifsampling's)."""

from __future__ import annotations

from lifsampling.noise import NoiseSource, noise_from_dict

from .ensemble import EnsembleNoise
from .network import NetworkNoise
from .pool import SharedPoolNoise

__all__ = ["from_dict"]


def from_dict(d: dict) -> NoiseSource:
    """Rebuild any noise source (these and lifsampling's) from its ``to_dict()``.

    Examples
    --------
    >>> pool = SharedPoolNoise(200, in_degree=50, seed=3)
    >>> from_dict(pool.to_dict()) == pool
    True
    """
    d = dict(d)
    kind = d.get("kind")
    if kind == "SharedPoolNoise":
        d.pop("kind")
        return SharedPoolNoise(d.pop("n_sources"), d.pop("in_degree"), **d)
    if kind == "NetworkNoise":
        return NetworkNoise.from_dict(d)
    if kind == "EnsembleNoise":
        d.pop("kind")
        return EnsembleNoise(**d)
    return noise_from_dict(d)
