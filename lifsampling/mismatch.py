"""Fixed-pattern parameter noise: the mismatch of a physical network.

Neurons and synapses built in silicon (or grown in tissue) do not have the
parameters they were asked for: every leak potential, threshold and weight is
off by its own amount, fixed for the lifetime of the device (fixed-pattern
noise).  :class:`ParameterNoise` draws such a pattern once, from its seed, and
applies it to every network the sampler runs (``LIFSampler(...,
parameter_noise=...)``; :class:`lifsampling.WakeSleep` trains on the
distorted network, so that learning compensates the distortion it cannot see,
as in-the-loop training on neuromorphic hardware does; Kungl et al. 2019,
Front. Neurosci. 13, 1201).

Scales
------
* ``e_l`` and ``thresholds``: standard deviation of the offset of each
  neuron's leak potential / threshold, as a fraction of the width of the
  activation function, ``Δ = 2 α ln 19`` — the range of leak potentials over
  which ``p_on`` rises from 5 % to 95 % (4.65 mV for the sbs neuron,
  ``α`` = 0.79 mV).  ``e_l = 0.1`` is an offset of ``0.1 Δ = 0.59 α``, i.e.
  a bias error of 0.59 Boltzmann units per neuron (standard deviation).
  A threshold offset moves the reset potential with it (the reset stays at
  the neuron model's distance below the threshold).
* ``weights``: relative standard deviation; every synapse ``i → j`` realises
  ``w_ij (1 + σ ξ_ij)`` (clipped at 0, so no synapse changes sign).

All chains of a run share the pattern: they are repeated runs of one physical
network.  The pattern depends only on the seed and the number of neurons
(``ξ`` drawn in a fixed order), so the same object always distorts a network
the same way, and changing one of the three levels leaves the others' patterns
unchanged.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from .translation import LIFParameters

__all__ = ["ParameterNoise"]

#: Activation width Δ per unit of α: the E_L range from p_on = 5 % to 95 % is 2 α ln 19.
WIDTH_PER_ALPHA = 2.0 * math.log(19.0)


@dataclass(frozen=True)
class ParameterNoise:
    """Fixed-pattern variation of leak potentials, thresholds and synaptic weights.

    Parameters
    ----------
    e_l : float
        Standard deviation of each neuron's leak-potential offset, as a
        fraction of the activation width ``Δ = 2 α ln 19`` [mV] of the
        calibration in use (module docstring).  ≥ 0.
    weights : float
        Relative standard deviation of each synaptic weight: ``w (1 + σ ξ)``,
        clipped at 0.  ≥ 0.
    thresholds : float
        Standard deviation of each neuron's threshold offset (the reset moves
        with it), as a fraction of ``Δ``.  ≥ 0.
    seed : int
        Drives the pattern; the same seed gives the same pattern.

    Examples
    --------
    >>> noise = ParameterNoise(e_l=0.1, weights=0.1, seed=3)
    >>> p = noise.pattern(4)
    >>> p["e_l"].shape, p["weights"].shape
    ((4,), (4, 4))
    >>> bool(np.all(p["e_l"] == ParameterNoise(e_l=0.5, seed=3).pattern(4)["e_l"]))
    True
    """

    e_l: float = 0.0
    weights: float = 0.0
    thresholds: float = 0.0
    seed: int = 0
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("e_l", "weights", "thresholds"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
                raise TypeError(f"{name} must be a number (a relative standard deviation), got {value!r}.")
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}.")
            object.__setattr__(self, name, float(value))
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}.")
        object.__setattr__(self, "seed", int(self.seed))

    def pattern(self, n_units: int) -> dict[str, np.ndarray]:
        """Standard-normal draws ``ξ``: ``e_l`` (K,), ``thresholds`` (K,), ``weights`` (K, K)."""
        if n_units not in self._cache:
            rng = np.random.default_rng(self.seed)
            self._cache[n_units] = {
                "e_l": rng.standard_normal(n_units),
                "thresholds": rng.standard_normal(n_units),
                "weights": rng.standard_normal((n_units, n_units)),
            }
        return {k: v.copy() for k, v in self._cache[n_units].items()}

    def width(self, calibration) -> float:
        """The activation width ``Δ = 2 α ln 19`` [mV] that scales E_L and threshold offsets."""
        return WIDTH_PER_ALPHA * float(calibration.alpha)

    def apply(self, network: LIFParameters, calibration) -> LIFParameters:
        """The network as the noisy substrate realises it.

        Parameters
        ----------
        network : LIFParameters
            Intended parameters of one chain.
        calibration : Calibration
            Gives ``α`` (the scale of the offsets) and the neuron's threshold.
        """
        K = network.n_units
        xi = self.pattern(K)
        delta = self.width(calibration)
        v_rest = np.asarray(network.v_rest, dtype=float) + self.e_l * delta * xi["e_l"]
        factor = np.clip(1.0 + self.weights * xi["weights"], 0.0, None)
        v_thresh = network.v_thresh
        if self.thresholds > 0:
            base = calibration.neuron.v_thresh if v_thresh is None else np.asarray(v_thresh, dtype=float)
            v_thresh = base + self.thresholds * delta * xi["thresholds"]
        return LIFParameters(
            v_rest, network.w_exc * factor, network.w_inh * factor, network.weight_unit, v_thresh
        )

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("_cache")
        return {"kind": "ParameterNoise", **d}

    @classmethod
    def from_dict(cls, d: dict) -> ParameterNoise:
        d = {k: v for k, v in d.items() if k != "kind"}
        return cls(**d)
