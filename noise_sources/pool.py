"""A shared pool of Poisson sources: the bandwidth-limited background.

Private Poisson noise (:class:`lifsampling.PoissonNoise`) gives every neuron
its own sources, which neither brains nor hardware with limited bandwidth can
afford.  Here ``N`` Poisson sources are shared: every sampling neuron reads
from ``K`` of them, ``γ K`` excitatory and the rest inhibitory, with weights
``w`` and ``g w`` on its excitatory and inhibitory input (Jordan et al. 2019,
Sci. Rep. 9, 18303).  Two sampling neurons that share sources receive
correlated input; the expected pairwise input correlation is about ``K / N``
(:func:`noise_sources.measures.connectivity_correlation` computes it for the
drawn connectivity), and the sampling error grows as ``N`` shrinks.
"""

from __future__ import annotations

from typing import Any

from lifsampling._units import count as check_count
from lifsampling.neurons import NeuronParameters
from lifsampling.noise import InputComponent, NoiseSource

from ._common import Readout, build_readout, check_fraction, check_positive, check_seed

__all__ = ["SharedPoolNoise"]


class SharedPoolNoise(NoiseSource):
    """``N`` shared Poisson sources; every sampling neuron reads from ``K`` of them.

    The first ``round(γ N)`` sources are excitatory, the rest inhibitory.
    Sampling neuron ``j`` reads from ``round(γ K)`` excitatory and
    ``K - round(γ K)`` inhibitory sources, drawn without replacement from a
    generator seeded by ``seed`` (row ``j`` of the connectivity depends on the
    seed and ``j`` only).  All chains of a :class:`lifsampling.LIFSampler`
    share the one pool, like independent neurons of a calibration do; chains
    are then no longer independent (their inputs are correlated by about
    ``K / N``), which makes the spread between chains underestimate the error
    of the mean.  The activation function is measured under this pool
    (:meth:`calibration_noise` returns the source itself).

    The defaults reproduce the mean conductances of the sbs background
    (3000 Hz × 1 nS each for excitation and inhibition):
    ``80 × 37.5 Hz × 1 nS`` and ``20 × 37.5 Hz × 4 nS``.

    Parameters
    ----------
    n_sources : int
        ``N``, number of Poisson sources in the pool (>= 1).
    in_degree : int
        ``K``, sources per sampling neuron, ``1 <= K <= N``.
    exc_fraction : float
        ``γ`` in [0, 1]: fraction of excitatory sources, in the pool and among
        each neuron's inputs.
    rate : float
        Rate of every source [Hz], >= 0.
    weight : float
        ``w``, excitatory weight [µS for ``cond_exp`` neurons, nA for ``curr_exp``], >= 0.
    g : float
        Inhibitory weight relative to ``w`` (> 0); inhibitory sources add ``g w``.
    seed : int
        Drives the connectivity (the spikes are driven by the simulation seed).

    Raises
    ------
    ValueError
        For ``K > N``, negative rates or weights, ``γ`` outside [0, 1],
        ``g <= 0``, or a ``γ`` that leaves too few sources of one kind.

    References
    ----------
    Jordan, Petrovici, Breitwieser, Schemmel, Meier, Diesmann, Tetzlaff (2019),
    Deterministic networks for probabilistic computing, Sci. Rep. 9, 18303.

    Examples
    --------
    >>> pool = SharedPoolNoise(n_sources=500, in_degree=100, seed=1)
    >>> pool.to_dict()["n_sources"], pool.calibration_noise() is pool
    (500, True)
    >>> SharedPoolNoise(n_sources=50, in_degree=100)
    Traceback (most recent call last):
    ...
    ValueError: in_degree K = 100 exceeds the number of pool sources N = 50: ...
    """

    def __init__(
        self,
        n_sources: int = 1000,
        in_degree: int = 100,
        *,
        exc_fraction: float = 0.8,
        rate: float = 37.5,
        weight: float = 0.001,
        g: float = 4.0,
        seed: int = 0,
    ) -> None:
        self.n_sources = check_count(n_sources, "n_sources")
        self.in_degree = check_count(in_degree, "in_degree")
        self.exc_fraction = check_fraction(exc_fraction, "exc_fraction")
        self.rate = check_positive(rate, "rate", "Hz", allow_zero=True)
        self.weight = check_positive(weight, "weight", "µS (or nA)", allow_zero=True)
        self.g = check_positive(g, "g", "(relative inhibitory weight)")
        self.seed = check_seed(seed)
        self.readout = Readout.make(self.n_sources, self.exc_fraction, self.in_degree, "pool sources")

    def __repr__(self) -> str:
        return (
            f"SharedPoolNoise(n_sources={self.n_sources}, in_degree={self.in_degree}, "
            f"exc_fraction={self.exc_fraction:g}, rate={self.rate:g}, weight={self.weight:g}, "
            f"g={self.g:g}, seed={self.seed})"
        )

    def to_dict(self) -> dict:
        return {
            "kind": "SharedPoolNoise",
            "n_sources": self.n_sources,
            "in_degree": self.in_degree,
            "exc_fraction": self.exc_fraction,
            "rate": self.rate,
            "weight": self.weight,
            "g": self.g,
            "seed": self.seed,
        }

    def build(self, group: Any, neuron: NeuronParameters) -> list:
        import brian2 as b2

        pool = b2.PoissonGroup(
            self.n_sources, rates=self.rate * b2.Hz, clock=group.clock, name="noise_pool_sources"
        )
        syns = build_readout(pool, group, neuron, self.readout, self.seed, self.weight, self.g, "noise_pool")
        return [pool, *syns]

    def input_components(self, neuron: NeuronParameters) -> list[InputComponent]:
        """The mean input of one sampling neuron, as two Poisson streams (sums over its sources)."""
        r = self.readout
        return [
            InputComponent(r.n_in_exc * self.rate, self.weight, True),
            InputComponent((r.in_degree - r.n_in_exc) * self.rate, self.g * self.weight, False),
        ]

    def signed_weights(self, n_targets: int) -> tuple:
        """Signed weight matrix (n_targets × N) and the source rates [Hz] (for the measures)."""
        import numpy as np

        return self.readout.matrix(n_targets, self.seed, self.weight, self.g), np.full(
            self.n_sources, self.rate
        )
