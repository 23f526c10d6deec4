"""The sampler interface shared by every sampler in the toolkit.

A sampler is configured in its constructor (target, neuron model, noise, …)
and does work in :meth:`Sampler.sample`, which always has the same
signature and returns the same result type (see :mod:`lifsampling.results`),
so that spiking and reference samplers compare like for like.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import xarray as xr

from ._units import count, non_negative, positive
from .targets import BoltzmannMachine

__all__ = ["Sampler"]


@dataclass(frozen=True)
class RunLength:
    """Validated run settings, in ms."""

    duration: float
    burn_in: float
    n_chains: int


def check_run(duration, n_chains, burn_in) -> RunLength:
    """Validate the arguments every ``sample`` call shares."""
    duration = positive(duration, "ms", "duration")
    burn_in = non_negative(burn_in, "ms", "burn_in")
    return RunLength(duration, burn_in, count(n_chains, "n_chains"))


class Sampler(ABC):
    """Base class of all samplers of a :class:`BoltzmannMachine` target."""

    def __init__(self, target: BoltzmannMachine) -> None:
        if not isinstance(target, BoltzmannMachine):
            raise TypeError(
                f"target must be a BoltzmannMachine, got {type(target).__name__}. "
                "Build one with BoltzmannMachine(W, b) or load_target(path)."
            )
        self.target = target

    @abstractmethod
    def sample(
        self,
        duration: float,
        *,
        n_chains: int = 1,
        seed: int | np.random.Generator | None = None,
        burn_in: float = 500.0,
        evidence: Mapping[int, int] | None = None,
    ) -> xr.Dataset:
        """Sample ``duration`` ms of sampled time per chain, after ``burn_in`` ms.

        ``evidence`` (``{unit: 0 or 1}``) clamps observed units, so that the free
        units sample the conditional distribution (:mod:`lifsampling.evidence`).
        Returns a result Dataset with ``states`` of dims (chain, draw, unit).
        """
