"""Shared machinery of the noise sources (private): validation, fixed connectivity, readout synapses.

Every shared noise source here has ``N`` source neurons, the first ``N_E``
excitatory and the rest inhibitory, and every sampling neuron reads from
exactly ``K_E = round(γ K)`` excitatory and ``K_I = K - K_E`` inhibitory
sources drawn without replacement (fixed in-degree).  An excitatory source
adds ``w`` to the neuron's excitatory input (``g_e``, or ``I_e``), an
inhibitory one ``g · w`` to its inhibitory input.  Connectivity comes from a
NumPy generator seeded by the source's ``seed`` alone; row ``j`` (the sources
of sampling neuron ``j``) does not depend on how many sampling neurons there
are, so chain ``c`` of a 10-chain run reads from the same sources as chain
``c`` of a 20-chain run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from lifsampling.neurons import NeuronParameters
from lifsampling.noise import input_variables


def check_fraction(value: Any, name: str) -> float:
    """``value`` as a float in [0, 1], or a ValueError naming it."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}.") from None
    if not (0.0 <= x <= 1.0):
        raise ValueError(f"{name} must be a fraction in [0, 1], got {value!r}.")
    return x


def check_positive(value: Any, name: str, unit: str, *, allow_zero: bool = False) -> float:
    """``value`` as a finite float > 0 (>= 0 with ``allow_zero``), or a ValueError naming it and its unit."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number [{unit}], got {value!r}.") from None
    if not np.isfinite(x) or x < 0 or (x == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be {bound} {unit}, got {value!r}.")
    return x


def check_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**31 - 1:
        raise ValueError(f"seed must be an integer in [0, 2**31 - 1), got {seed!r}.")
    return int(seed)


@dataclass(frozen=True)
class Readout:
    """How sampling neurons read from ``n_sources`` sources (``n_exc`` of them excitatory).

    ``in_degree`` K inputs per sampling neuron, ``n_in_exc`` of them excitatory.
    """

    n_sources: int
    n_exc: int
    in_degree: int
    n_in_exc: int

    @classmethod
    def make(cls, n_sources: int, exc_fraction: float, in_degree: int, what: str) -> Readout:
        n_exc = int(round(exc_fraction * n_sources))
        k_exc = int(round(exc_fraction * in_degree))
        if in_degree > n_sources:
            raise ValueError(
                f"in_degree K = {in_degree} exceeds the number of {what} N = {n_sources}: every sampling "
                "neuron draws K different sources; lower K or enlarge N."
            )
        if k_exc > n_exc or in_degree - k_exc > n_sources - n_exc:
            raise ValueError(
                f"with exc_fraction = {exc_fraction:g}, each sampling neuron needs {k_exc} excitatory and "
                f"{in_degree - k_exc} inhibitory sources but the {what} has {n_exc} and "
                f"{n_sources - n_exc}; lower in_degree or enlarge the {what}."
            )
        return cls(n_sources, n_exc, in_degree, k_exc)

    def connectivity(self, n_targets: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """Source indices of every sampling neuron: ``(exc, inh)`` arrays of shape (n_targets, K_E / K_I).

        Row ``j`` depends on ``seed`` and ``j`` only (not on ``n_targets``).
        """
        rng_e = np.random.default_rng([seed, 1])
        rng_i = np.random.default_rng([seed, 2])
        n_inh, k_inh = self.n_sources - self.n_exc, self.in_degree - self.n_in_exc
        exc = np.argsort(rng_e.random((n_targets, self.n_exc)), axis=1)[:, : self.n_in_exc]
        inh = self.n_exc + np.argsort(rng_i.random((n_targets, n_inh)), axis=1)[:, :k_inh]
        return np.sort(exc, axis=1), np.sort(inh, axis=1)

    def matrix(self, n_targets: int, seed: int, weight: float, g: float) -> np.ndarray:
        """Signed weight matrix (n_targets, n_sources): ``+w`` excitatory, ``-g w`` inhibitory, else 0."""
        exc, inh = self.connectivity(n_targets, seed)
        m = np.zeros((n_targets, self.n_sources))
        rows = np.arange(n_targets)[:, None]
        m[rows, exc] = weight
        m[rows, inh] = -g * weight
        return m


def build_readout(
    source: Any,
    group: Any,
    neuron: NeuronParameters,
    readout: Readout,
    seed: int,
    weight: float,
    g: float,
    name: str,
    delay: float = 0.1,
) -> list:
    """Synapses from ``source`` (a Brian2 group of ``readout.n_sources``) onto the sampling ``group``."""
    import brian2 as b2

    e_var, i_var = input_variables(neuron)
    unit = b2.uS if neuron.conductance_based else b2.nA
    unit_name = "siemens" if neuron.conductance_based else "amp"
    exc, inh = readout.connectivity(len(group), seed)
    objects = []
    for kind, var, src, idx, w in (
        ("exc", e_var, source[: readout.n_exc], exc, weight),
        ("inh", i_var, source[readout.n_exc :], inh - readout.n_exc, g * weight),
    ):
        if idx.shape[1] == 0:
            continue
        syn = b2.Synapses(
            src,
            group,
            model=f"w_noise : {unit_name} (constant)",
            on_pre=f"{var}_post += w_noise",
            delay=delay * b2.ms,
            clock=group.clock,
            name=f"{name}_{kind}",
        )
        syn.connect(i=idx.ravel(), j=np.repeat(np.arange(len(group)), idx.shape[1]))
        syn.w_noise = w * unit
        objects.append(syn)
    return objects
