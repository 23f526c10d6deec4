"""Multimodal targets, their exact energy landscape, and how well samplers move between modes.

Deep modes are hard for every local sampler: a chain must climb an energy
barrier to leave one.  Oscillation-driven tempering (Korcsak-Gorzo et al. 2022,
*PLoS Comput. Biol.* 18, e1009753) lets a background rhythm act as an effective
temperature so that spiking samplers escape such modes.  This module provides
the targets and the numbers to study that:

* **Targets** — :func:`clustered_boltzmann_machine` and
  :func:`attractor_boltzmann_machine` build machines with several
  well-separated modes whose exact barrier is set by the user (6 energy units
  by default).
* **Landscape** — :func:`find_modes` lists the local minima of the energy
  ``E(z) = −½ zᵀWz − bᵀz`` (``p(z) ∝ exp(−E(z))``) and :func:`describe_modes`
  describes given states; both return :class:`Modes` with exact energies,
  saddles, depths, barriers and basin masses.
* **Mixing** — :func:`assign_modes` labels every draw with its mode and
  :func:`mixing_metrics` counts mode switches, modes visited, first-visit
  times, the time spent in each mode, integrated autocorrelation times and
  DKL against sampled time, for any result.

Energy landscape
----------------
States are connected by single flips (the moves of every local sampler).
The *saddle* between two states is the lowest possible maximum energy along
a single-flip path between them (a minimax path); it is computed exactly over
all ``2^K`` states (``K ≤ 20``): every state follows steepest descent to a
local minimum (its *basin*), the lowest crossing between every pair of
adjacent basins is found, and a Kruskal-type flooding of that basin graph gives
the saddle between any two states (a path that rises over a basin's lowest
crossing can always descend inside a basin, so nothing is lost).  Energies
are rounded to about 11 significant digits first, so that states equal in
energy up to floating-point round-off (mirror images in a symmetric machine)
tie exactly; ties are broken by the state index, so a flat plateau has one
minimum.

For a mode ``i``:

* ``barrier`` = lowest saddle to any *other listed* mode − ``E_i``: the energy a
  chain must climb to leave mode ``i`` for another mode (infinite when only one
  mode is listed);
* ``depth`` = lowest saddle to any state of lower energy − ``E_i`` (the
  persistence of the minimum; infinite for the deepest mode, the first in
  energy order, ties broken by the state index; 0 for a state that is not a
  local minimum).  Unlike the barrier it does not depend on which modes are
  listed;
* ``basin_mass`` = probability mass that flows into the mode under steepest
  descent (a state whose lowest neighbours tie splits its mass evenly between
  them, so mirror-symmetric modes get equal masses), including the mass of the
  unlisted local minima attached to it (every unlisted minimum goes to the
  listed mode with the lowest saddle to it; ties to the lower-energy mode;
  a listed state that is not a minimum takes its descent minimum's basin).
  The basin masses of listed modes sum to 1.

Mode switches and hysteresis
----------------------------
A draw is assigned to the mode at the smallest Hamming distance, or to none
(``-1``) when two modes are equally near or when the nearest one is further
than ``max_distance`` flips.  A *switch* is a change of the assigned mode
between two successive *assigned* draws of a chain: unassigned draws in between
are ignored, so a chain that wanders out of mode A, through states assigned to
no mode, and back into A has not switched, and A → (unassigned) → B is one
switch.  With ``max_distance`` small this hysteresis keeps fluctuations near the
saddle from being counted as switches.

Time of phase-gated results
---------------------------
A result may keep only some draws (e.g. only the cold phases of a tempered
run); its ``time`` coordinate gives the real sampled time of every kept draw
[ms].  Rates are per second of sampled time *spanned* by the draws, including
the gaps where draws were dropped: ``duration = time[-1] − time[0] + spacing``
per chain, with ``spacing`` the smallest difference of successive times (the
sample interval).  That is the time the sampler needed, so gated and ungated
runs compare fairly; for an ungated result it equals ``n_draws × interval``.
The time in kept draws, ``n_draws × spacing``, is reported as ``kept_time``.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import arviz as az
import numpy as np
import xarray as xr
from scipy.sparse import csr_matrix

from ._seeding import make_rng
from .diagnostics import MIN_DRAWS, _clean
from .divergence import DEFAULT_PSEUDO_COUNT, dkl_vs_time
from .inference_data import _target_for, as_result
from .results import sample_interval
from .targets import MAX_EXACT_UNITS, BoltzmannMachine, all_states, indices_to_states, states_to_indices

__all__ = [
    "Modes",
    "MixingMetrics",
    "find_modes",
    "describe_modes",
    "assign_modes",
    "mixing_metrics",
    "clustered_boltzmann_machine",
    "attractor_boltzmann_machine",
    "DEFAULT_BARRIER",
    "MAX_LANDSCAPE_UNITS",
]

#: Escape barrier [energy units] of the generated multimodal targets unless another is asked for.
DEFAULT_BARRIER = 6.0

#: Largest number of units whose energy landscape (saddles, depths, basins) is computed exactly.
MAX_LANDSCAPE_UNITS = MAX_EXACT_UNITS


# -- modes -----------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Modes:
    """Modes of a Boltzmann machine with their exact energy landscape.

    Made by :func:`find_modes`, :func:`describe_modes` and the target
    generators; all energies are in the units of ``E(z) = −½ zᵀWz − bᵀz``
    (``p(z) ∝ exp(−E(z))``, so one unit is a factor ``e`` in probability).
    See the module docstring for the definitions.

    Attributes
    ----------
    states : numpy.ndarray, shape (n_modes, n_units)
        The mode states (int8, 0/1).
    energies : numpy.ndarray, shape (n_modes,)
        ``E`` of every mode.
    saddles : numpy.ndarray, shape (n_modes, n_modes)
        Lowest possible maximum energy on a single-flip path between two
        modes; the diagonal holds the modes' own energies.
    depths : numpy.ndarray, shape (n_modes,)
        Lowest saddle to any state of lower energy, minus the mode's energy
        (``inf`` for the deepest state, 0 for a state that is not a local minimum).
    probabilities : numpy.ndarray, shape (n_modes,)
        ``p(z)`` of the mode state itself.
    basin_masses : numpy.ndarray, shape (n_modes,)
        Probability mass of the mode's basin (sums to 1).

    Examples
    --------
    >>> bm, modes = clustered_boltzmann_machine(6, 2, barrier=4.0)
    >>> modes.states
    array([[1, 1, 1, 0, 0, 0],
           [0, 0, 0, 1, 1, 1]], dtype=int8)
    >>> modes.barriers.round(6).tolist()
    [4.0, 4.0]
    """

    states: np.ndarray
    energies: np.ndarray
    saddles: np.ndarray
    depths: np.ndarray
    probabilities: np.ndarray
    basin_masses: np.ndarray

    @property
    def n_modes(self) -> int:
        return int(self.states.shape[0])

    @property
    def n_units(self) -> int:
        return int(self.states.shape[1])

    def __len__(self) -> int:
        return self.n_modes

    @property
    def indices(self) -> np.ndarray:
        """Joint-state indices of the modes (unit 0 = most significant bit)."""
        return states_to_indices(self.states)

    @property
    def barriers(self) -> np.ndarray:
        """Escape barrier of every mode: lowest saddle to another listed mode minus its energy.

        Infinite when only one mode is listed.
        """
        off = self.saddles + np.diag(np.full(self.n_modes, np.inf))
        return off.min(axis=1) - self.energies

    @property
    def labels(self) -> list[str]:
        """The mode states as strings of 0 and 1 (unit 0 first)."""
        return _labels(self.states)

    def table(self):
        """One row per mode: state, energy, probability, basin mass, depth, barrier (a DataFrame)."""
        import pandas as pd

        return pd.DataFrame(
            {
                "state": self.labels,
                "energy": self.energies,
                "probability": self.probabilities,
                "basin_mass": self.basin_masses,
                "depth": self.depths,
                "barrier": self.barriers,
            },
            index=pd.RangeIndex(self.n_modes, name="mode"),
        )

    def __repr__(self) -> str:
        return f"Modes({self.n_modes} modes of {self.n_units} units, barriers {np.round(self.barriers, 3)})"


def _labels(states: np.ndarray) -> list[str]:
    return ["".join(map(str, row)) for row in np.asarray(states).tolist()]


def _mode_array(modes: Any, n_units: int | None = None, name: str = "modes") -> np.ndarray:
    """Validated ``(n_modes, n_units)`` int8 0/1 array of distinct modes."""
    if isinstance(modes, Modes):
        arr = modes.states
    else:
        try:
            arr = np.array(modes)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a 2-D 0/1 array (n_modes, n_units), got {modes!r}.") from None
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D 0/1 array of shape (n_modes, n_units), got shape {arr.shape}; "
            "wrap a single mode as [mode]."
        )
    if arr.shape[0] == 0:
        raise ValueError(f"{name} is empty: give at least one mode.")
    if n_units is not None and arr.shape[1] != n_units:
        raise ValueError(
            f"{name} have {arr.shape[1]} units but the target/states have {n_units}; "
            f"every mode must be a 0/1 vector of length {n_units}."
        )
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool) or not np.isin(arr, (0, 1)).all():
        raise ValueError(f"{name} must contain only 0 and 1 (one row per mode).")
    arr = arr.astype(np.int8)
    if arr.shape[1] <= 62:
        uniq, first = np.unique(states_to_indices(arr), return_index=True)
        if uniq.size < arr.shape[0]:
            dup = sorted(set(range(arr.shape[0])) - set(first.tolist()))[0]
            raise ValueError(f"{name} contain a repeated state (row {dup}); list every mode once.")
    return arr


# -- exact energy landscape ------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class _Landscape:
    """Steepest-descent basins and their merge tree over all 2^K states (private)."""

    energies: np.ndarray  # (2^K,) E of every state (quantised), by state index
    probabilities: np.ndarray  # (2^K,)
    minima: np.ndarray  # state indices of the local minima, sorted by (energy, index)
    basin: np.ndarray  # (2^K,) position in `minima` of each state's descent minimum (ties: lower index)
    minimum_mass: np.ndarray  # (n_minima,) basin mass of every minimum, tied descents split evenly
    merges: list = field(repr=False)  # (level, a, b): basin-graph merges in order of level
    persistence: np.ndarray  # (n_minima,) depth of every minimum (inf for the first)


def _check_landscape_size(n_units: int) -> None:
    if n_units > MAX_LANDSCAPE_UNITS:
        raise ValueError(
            f"the exact energy landscape (modes, saddles, barriers) needs all 2**{n_units} states; "
            f"it is computed for at most {MAX_LANDSCAPE_UNITS} units. Pass the modes explicitly "
            "(mixing_metrics(result, modes=...)) for larger machines."
        )


def _min_per_key(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unique keys and the smallest value of each."""
    order = np.lexsort((values, keys))
    keys, values = keys[order], values[order]
    first = np.ones(keys.size, dtype=bool)
    first[1:] = keys[1:] != keys[:-1]
    return keys[first], values[first]


def _quantised(E: np.ndarray) -> np.ndarray:
    """Energies rounded to multiples of a power of two ~1e-11 of their scale, so that states equal
    in energy up to floating-point round-off (e.g. mirror images in a symmetric machine) tie exactly."""
    scale = max(1.0, float(np.max(np.abs(E))))
    quantum = 2.0 ** (math.ceil(math.log2(scale)) - 36)
    return np.round(E / quantum) * quantum


def _landscape(target: BoltzmannMachine) -> _Landscape:
    K = target.n_units
    _check_landscape_size(K)
    E = _quantised(target.energy(all_states(K)))
    p = target.probabilities()
    n = E.size
    idx = np.arange(n, dtype=np.int64)
    # steepest descent in the total order (energy, index): move to the smallest of self and neighbours
    best = idx.copy()
    best_e = E.copy()
    lowest_nb = np.full(n, np.inf)
    for k in range(K):
        nb = idx ^ (1 << k)
        e_nb = E[nb]
        lowest_nb = np.minimum(lowest_nb, e_nb)
        better = (e_nb < best_e) | ((e_nb == best_e) & (nb < best))
        best = np.where(better, nb, best)
        best_e = np.where(better, e_nb, best_e)
    label = best
    while True:  # pointer jumping: descent paths are followed to their end in log steps
        nxt = label[label]
        if np.array_equal(nxt, label):
            break
        label = nxt
    minima = np.flatnonzero(label == idx)
    minima = minima[np.lexsort((minima, E[minima]))]
    m = minima.size
    rank = np.empty(n, dtype=np.int64)
    rank[minima] = np.arange(m)
    basin = rank[label]
    # basin masses: probability flows down steepest descent, split evenly between tied lowest neighbours
    down = lowest_nb < E
    src, dst = [np.flatnonzero(~down)], [best[~down]]  # minima keep their mass; plateaus follow `best`
    for k in range(K):
        tied = np.flatnonzero(down & (E[idx ^ (1 << k)] == lowest_nb))
        src.append(tied)
        dst.append(tied ^ (1 << k))
    src_a, dst_a = np.concatenate(src), np.concatenate(dst)
    share = 1.0 / np.bincount(src_a, minlength=n)[src_a]
    flow = csr_matrix((share, (dst_a, src_a)), shape=(n, n))
    mass = p.copy()
    moving = label != idx
    while mass[moving].any():  # every step moves all mass one flip down: ends after the longest descent
        mass = flow @ mass
    # lowest crossing between every pair of adjacent basins
    keys, levels = [], []
    for k in range(K):
        u = idx[(idx >> k) & 1 == 0]
        v = u | (1 << k)
        bu, bv = basin[u], basin[v]
        cross = bu != bv
        lo, hi = np.minimum(bu[cross], bv[cross]), np.maximum(bu[cross], bv[cross])
        kk, lv = _min_per_key(lo * m + hi, np.maximum(E[u[cross]], E[v[cross]]))
        keys.append(kk)
        levels.append(lv)
    key, level = _min_per_key(np.concatenate(keys), np.concatenate(levels))
    # Kruskal flooding; a component's root is its lowest minimum (smallest position), the elder
    e_min = E[minima]
    parent = list(range(m))
    persistence = np.full(m, np.inf)
    merges = []
    order = np.lexsort((key, level))
    for kv, lv in zip(key[order].tolist(), level[order].tolist(), strict=True):
        if len(merges) == m - 1:
            break
        a, b = divmod(kv, m)
        ra, rb = _find(parent, a), _find(parent, b)
        if ra == rb:
            continue
        elder, younger = min(ra, rb), max(ra, rb)
        parent[younger] = elder
        persistence[younger] = lv - e_min[younger]
        merges.append((lv, a, b))
    return _Landscape(E, p, minima, basin, mass[minima], merges, persistence)


def _find(parent: list[int], x: int) -> int:
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


def _join_levels(land: _Landscape, anchors: np.ndarray) -> np.ndarray:
    """``L[x, j]``: flooding level at which minimum ``x`` first shares a basin-graph component
    with minimum ``anchors[j]`` (the energy of ``x`` when they are the same minimum)."""
    m = land.minima.size
    e_min = land.energies[land.minima]
    L = np.full((m, anchors.size), np.inf)
    holders: dict[int, list[int]] = {}
    for j, a in enumerate(anchors.tolist()):
        holders.setdefault(a, []).append(j)
        L[a, j] = e_min[a]
    members: dict[int, list[int]] = {x: [x] for x in holders}
    parent = list(range(m))
    for level, a, b in land.merges:
        ra, rb = _find(parent, a), _find(parent, b)
        ha, hb = holders.get(ra, []), holders.get(rb, [])
        ma, mb = members.get(ra, [ra]), members.get(rb, [rb])
        if hb:
            L[np.ix_(ma, hb)] = level
        if ha:
            L[np.ix_(mb, ha)] = level
        big, small = (ra, rb) if len(ma) >= len(mb) else (rb, ra)
        parent[small] = big
        members.setdefault(big, [big]).extend(members.pop(small, [small]))  # small into large
        if ha or hb:
            holders[big] = holders.pop(ra, []) + holders.pop(rb, [])
    return L


def _describe(land: _Landscape, states: np.ndarray) -> Modes:
    idx = states_to_indices(states)
    n = idx.size
    energies = land.energies[idx]
    basin = land.basin[idx]
    L = _join_levels(land, basin)  # (n_minima, n_modes)
    saddles = np.maximum(np.maximum(energies[:, None], energies[None, :]), L[basin, :])
    np.fill_diagonal(saddles, energies)
    # every local minimum goes to the mode in its basin, else to the mode with the lowest saddle to it
    # (ties: lower energy first)
    attach = np.maximum(L, energies[None, :])
    attach[basin, np.arange(n)] = -np.inf
    by_energy = np.lexsort((np.arange(n), energies))
    owner = by_energy[np.argmin(attach[:, by_energy], axis=1)]
    is_minimum = land.minima[basin] == idx
    return Modes(
        states=states.astype(np.int8),
        energies=energies,
        saddles=saddles,
        depths=np.where(is_minimum, land.persistence[basin], 0.0),
        probabilities=land.probabilities[idx],
        basin_masses=np.bincount(owner, weights=land.minimum_mass, minlength=n),
    )


def describe_modes(target: BoltzmannMachine, modes: Any) -> Modes:
    """Exact energies, saddles, depths, barriers and basin masses of given states.

    Parameters
    ----------
    target : BoltzmannMachine
        At most :data:`MAX_LANDSCAPE_UNITS` units.
    modes : array_like, shape (n_modes, n_units), or Modes
        Distinct 0/1 states (they need not be local minima).

    Returns
    -------
    Modes
        In the order given.

    Raises
    ------
    ValueError
        If the modes are not distinct 0/1 vectors of the target's length, or the
        target has more than :data:`MAX_LANDSCAPE_UNITS` units.

    Examples
    --------
    A ferromagnet of three units with symmetric biases: all-off and all-on are
    equally deep and separated by a saddle one unit above them.

    >>> bm = BoltzmannMachine([[0, 1, 1], [1, 0, 1], [1, 1, 0]], [-1, -1, -1])
    >>> m = describe_modes(bm, [[0, 0, 0], [1, 1, 1]])
    >>> float(m.saddles[0, 1]), m.barriers.tolist()
    (1.0, [1.0, 1.0])
    """
    if not isinstance(target, BoltzmannMachine):
        raise TypeError(f"target must be a BoltzmannMachine, got {type(target).__name__}.")
    states = _mode_array(modes, target.n_units)
    return _describe(_landscape(target), states)


def find_modes(target: BoltzmannMachine, *, min_depth: float = 0.0, min_mass: float = 0.0) -> Modes:
    """The local minima of the energy under single flips, from the exact distribution.

    Parameters
    ----------
    target : BoltzmannMachine
        At most :data:`MAX_LANDSCAPE_UNITS` units.
    min_depth : float
        Keep only minima at least this deep [energy units] (the deepest is
        always kept).  The default 0 keeps every local minimum.  Dropped minima
        are attached to the kept mode with the lowest saddle to them, so their
        basins count towards its basin mass.
    min_mass : float
        Then keep only modes whose basin mass is at least this (0 to 1; the
        deepest mode is always kept); the basins of the modes dropped here are
        attached in the same way.

    Returns
    -------
    Modes
        Sorted by energy, lowest first (ties by state index).

    Examples
    --------
    >>> bm, _ = clustered_boltzmann_machine(6, 2, barrier=4.0)
    >>> modes = find_modes(bm, min_depth=1.0)
    >>> modes.labels
    ['000111', '111000']
    >>> float(modes.basin_masses.sum().round(12))
    1.0
    """
    if not isinstance(target, BoltzmannMachine):
        raise TypeError(f"target must be a BoltzmannMachine, got {type(target).__name__}.")
    if not (isinstance(min_depth, (int, float, np.number)) and min_depth >= 0):
        raise ValueError(f"min_depth must be a number >= 0 (energy units), got {min_depth!r}.")
    if not (isinstance(min_mass, (int, float, np.number)) and 0 <= min_mass <= 1):
        raise ValueError(f"min_mass must be a probability between 0 and 1, got {min_mass!r}.")
    land = _landscape(target)
    states = indices_to_states(land.minima[land.persistence >= min_depth], target.n_units)
    modes = _describe(land, states)
    if min_mass > 0:
        keep = modes.basin_masses >= min_mass
        keep[0] = True
        if not keep.all():
            modes = _describe(land, states[keep])
    return modes


# -- multimodal targets ----------------------------------------------------------------------------
def attractor_boltzmann_machine(
    patterns: Any,
    *,
    barrier: float | None = None,
    coupling: float | None = None,
    inhibition: float = 1.0,
    jitter: float = 0.0,
    seed: int | np.random.Generator | None = None,
) -> tuple[BoltzmannMachine, Modes]:
    """A Boltzmann machine whose modes are given disjoint patterns (winner-take-all attractors).

    Units active together in a pattern excite each other (``W = c``), units of
    different patterns inhibit each other (``W = −c · inhibition``), and the
    bias of a unit of pattern ``p`` (size ``s_p``) is
    ``c · (inhibition · s̄_other − (s_p − 1)) / 2`` with ``s̄_other`` the mean
    size of the other patterns, which centres its local field between "own
    pattern on" and "another pattern on".  With one pattern this is a
    ferromagnet with symmetric biases, and its modes are the pattern and the
    all-off state.  Units in no pattern are inhibited by all pattern units and
    have the bias ``−c · inhibition · s̄ / 2`` (``s̄`` the mean pattern size),
    so they are off in every mode.

    Parameters
    ----------
    patterns : array_like, shape (n_patterns, n_units)
        0/1 rows; every unit is on in at most one pattern, every pattern has
        at least one unit on.
    barrier : float, optional
        Exact escape barrier of the shallowest mode [energy units] (see
        :class:`Modes`); the coupling ``c`` is scaled to meet it.  Default
        :data:`DEFAULT_BARRIER` (6) unless ``coupling`` is given.
    coupling : float, optional
        The excitatory weight ``c`` instead of a barrier.
    inhibition : float
        Ratio of inhibitory to excitatory weight (``> 0``).
    jitter : float
        Standard deviation of Gaussian noise added to every weight and bias
        before scaling, relative to ``c``: machines that are less regular but
        keep the requested barrier exactly.
    seed : int or numpy.random.Generator, optional
        Drives the jitter.

    Returns
    -------
    (BoltzmannMachine, Modes)
        The machine and its modes (the patterns, in the order given, then the
        all-off state if there is only one pattern).

    Raises
    ------
    ValueError
        For overlapping or empty patterns, more than :data:`MAX_LANDSCAPE_UNITS`
        units, a barrier or coupling that is not positive, both given, or
        parameters (inhibition, jitter) that make a pattern unstable.

    Examples
    --------
    >>> bm, modes = attractor_boltzmann_machine([[1, 1, 0, 0, 0], [0, 0, 1, 1, 1]], barrier=3.0)
    >>> modes.barriers.min().round(6)
    np.float64(3.0)
    """
    P = _mode_array(patterns, name="patterns")
    n_patterns, K = P.shape
    if np.any(P.sum(axis=0) > 1):
        unit = int(np.flatnonzero(P.sum(axis=0) > 1)[0])
        raise ValueError(f"patterns must be disjoint; unit {unit} is on in more than one pattern.")
    if np.any(P.sum(axis=1) == 0):
        raise ValueError(
            f"pattern {int(np.flatnonzero(P.sum(axis=1) == 0)[0])} has no unit on; "
            "the all-off state is a mode by itself only for a single pattern."
        )
    _check_landscape_size(K)
    if not (isinstance(inhibition, (int, float, np.number)) and math.isfinite(inhibition) and inhibition > 0):
        raise ValueError(f"inhibition must be a positive number, got {inhibition!r}.")
    if not (isinstance(jitter, (int, float, np.number)) and math.isfinite(jitter) and jitter >= 0):
        raise ValueError(f"jitter must be a number >= 0, got {jitter!r}.")
    if barrier is not None and coupling is not None:
        raise ValueError("give either barrier or coupling, not both (the coupling sets the barrier).")
    for name, value in (("barrier", barrier), ("coupling", coupling)):
        if value is not None and not (
            isinstance(value, (int, float, np.number)) and math.isfinite(value) and value > 0
        ):
            raise ValueError(f"{name} must be a positive number, got {value!r}.")
    if barrier is None and coupling is None:
        barrier = DEFAULT_BARRIER

    group = np.where(P.any(axis=0), P.argmax(axis=0), -1)  # pattern of every unit, -1 for none
    sizes = P.sum(axis=1).astype(float)
    member = group >= 0
    same = (group[:, None] == group[None, :]) & member[:, None]
    W = np.where(same, 1.0, -float(inhibition))
    W[~member[:, None] & ~member[None, :]] = 0.0
    np.fill_diagonal(W, 0.0)
    other = (sizes.sum() - sizes) / max(n_patterns - 1, 1) if n_patterns > 1 else np.zeros(1)
    b = np.where(
        member,
        0.5 * (inhibition * other[np.maximum(group, 0)] - (sizes[np.maximum(group, 0)] - 1)),
        -0.5 * inhibition * sizes.mean(),
    )
    if jitter > 0:
        rng = make_rng(seed)
        A = rng.normal(0.0, jitter, size=(K, K))
        W = W + np.triu(A, 1) + np.triu(A, 1).T
        b = b + rng.normal(0.0, jitter, size=K)
    modes = P if n_patterns > 1 else np.vstack([P, np.zeros((1, K), dtype=np.int8)])
    unit_bm = BoltzmannMachine(W, b)
    _check_stable(unit_bm, modes)
    if coupling is None:
        shallowest = float(describe_modes(unit_bm, modes).barriers.min())
        coupling = barrier / shallowest
    bm = BoltzmannMachine(W * coupling, b * coupling)
    return bm, describe_modes(bm, modes)


def _check_stable(bm: BoltzmannMachine, modes: np.ndarray) -> None:
    """Every mode must be a strict local minimum (every single flip raises the energy)."""
    flips = np.abs(modes[:, None, :] - np.eye(bm.n_units, dtype=np.int8)[None, :, :])
    rise = bm.energy(flips) - bm.energy(modes)[:, None]
    if np.any(rise <= 0):
        i, k = np.argwhere(rise <= 0)[0]
        raise ValueError(
            f"mode {i} ({''.join(map(str, modes[i]))}) is not a local minimum: flipping unit {k} "
            "does not raise the energy. Lower jitter or raise inhibition."
        )


def clustered_boltzmann_machine(
    n_units: int = 10,
    n_clusters: int = 2,
    *,
    barrier: float | None = None,
    coupling: float | None = None,
    inhibition: float = 1.0,
    jitter: float = 0.0,
    seed: int | np.random.Generator | None = None,
) -> tuple[BoltzmannMachine, Modes]:
    """A Boltzmann machine with one mode per cluster of units and an exactly known barrier.

    The units are split into ``n_clusters`` contiguous clusters of (nearly)
    equal size; mode ``c`` is "all units of cluster ``c`` on, the others off".
    Units of one cluster excite each other, units of different clusters
    inhibit each other (:func:`attractor_boltzmann_machine` with the clusters as
    patterns).  With ``n_clusters=1`` it is a ferromagnet with symmetric biases
    whose modes are all-on and all-off.  With the defaults (10 units, 2
    clusters, barrier 6) the two modes are ``1111100000`` and ``0000011111``;
    the coupling is 0.48, the inhibition −0.48 and every bias 0.24.

    Parameters
    ----------
    n_units : int
        Number of units ``K`` (at most :data:`MAX_LANDSCAPE_UNITS`).
    n_clusters : int
        Number of clusters, ``1 ≤ n_clusters ≤ n_units``.
    barrier, coupling, inhibition, jitter, seed
        As in :func:`attractor_boltzmann_machine`: ``barrier`` is the exact escape
        barrier of the shallowest mode [energy units], default
        :data:`DEFAULT_BARRIER` (6); with clusters of unequal size the larger
        clusters' modes are deeper.

    Returns
    -------
    (BoltzmannMachine, Modes)
        The machine and its modes, in cluster order (all-off first, then
        all-on, for one cluster).

    Examples
    --------
    >>> bm, modes = clustered_boltzmann_machine()
    >>> modes.labels
    ['1111100000', '0000011111']
    >>> modes.barriers.round(6).tolist(), float(bm.W[0, 1].round(6))
    ([6.0, 6.0], 0.48)
    """
    for name, value, low in (("n_units", n_units, 1), ("n_clusters", n_clusters, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}.")
    if n_clusters > n_units:
        raise ValueError(
            f"n_clusters = {n_clusters} is more than n_units = {n_units}: every cluster needs a unit."
        )
    _check_landscape_size(int(n_units))
    if n_clusters == 1:
        patterns = np.ones((1, n_units), dtype=np.int8)
    else:
        patterns = np.zeros((n_clusters, n_units), dtype=np.int8)
        for c, units in enumerate(np.array_split(np.arange(n_units), n_clusters)):
            patterns[c, units] = 1
    bm, modes = attractor_boltzmann_machine(
        patterns, barrier=barrier, coupling=coupling, inhibition=inhibition, jitter=jitter, seed=seed
    )
    if n_clusters == 1:  # all-off first, then all-on
        modes = describe_modes(bm, modes.states[::-1])
    return bm, modes


# -- mode assignment -------------------------------------------------------------------------------
def assign_modes(states: Any, modes: Any, max_distance: float | None = None) -> np.ndarray:
    """Index of the nearest mode (Hamming distance) of every state; −1 if none.

    A state is unassigned (−1) when two or more modes are equally near, or when
    the nearest mode is more than ``max_distance`` flips away.

    Parameters
    ----------
    states : array_like, shape (..., n_units)
        0/1 states, e.g. ``result.states`` of shape (chain, draw, unit).
    modes : array_like, shape (n_modes, n_units), or Modes
    max_distance : float, optional
        Largest Hamming distance [flips] at which a state still belongs to a
        mode; default: no limit (every state not at a tie is assigned).

    Returns
    -------
    numpy.ndarray of int64, shape ``states.shape[:-1]``

    Examples
    --------
    >>> modes = [[1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1]]
    >>> assign_modes([[1, 1, 0, 0, 0, 0], [1, 1, 0, 1, 1, 0], [0, 0, 0, 1, 1, 0]], modes)
    array([ 0, -1,  1])
    >>> assign_modes([[1, 1, 0, 0, 0, 0]], modes, max_distance=0)
    array([-1])
    """
    z = np.asarray(states)
    if z.ndim < 1:
        raise ValueError("states must have the units along the last axis, got a scalar.")
    M = _mode_array(modes, z.shape[-1])
    if max_distance is not None and not (
        isinstance(max_distance, (int, float, np.number)) and max_distance >= 0
    ):
        raise ValueError(f"max_distance must be a number of flips >= 0 or None, got {max_distance!r}.")
    if z.size and not np.isin(z, (0, 1)).all():
        raise ValueError("states must contain only 0 and 1.")
    flat = z.reshape(-1, z.shape[-1])
    out = np.empty(flat.shape[0], dtype=np.int64)
    Mf = M.astype(np.float64)
    m_ones = Mf.sum(axis=1)
    step = max(1, 2**22 // max(1, M.shape[0] + z.shape[-1]))
    for start in range(0, flat.shape[0], step):
        x = flat[start : start + step].astype(np.float64)
        d = x.sum(axis=1)[:, None] + m_ones[None, :] - 2.0 * (x @ Mf.T)  # Hamming distances
        best = d.argmin(axis=1)
        d_best = d[np.arange(d.shape[0]), best]
        bad = np.count_nonzero(d == d_best[:, None], axis=1) > 1
        if max_distance is not None:
            bad |= d_best > max_distance + 1e-9
        out[start : start + step] = np.where(bad, -1, best)
    return out.reshape(z.shape[:-1])


# -- mixing metrics --------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class MixingMetrics:
    """How a sampler moved between the modes of its target (made by :func:`mixing_metrics`).

    Attributes
    ----------
    chains : xarray.Dataset
        Per chain (dims ``chain`` and ``mode``):

        * ``n_switches`` — mode switches (see the module docstring: unassigned
          draws in between are ignored);
        * ``switch_rate`` — switches per second of sampled time [1/s];
        * ``n_visited`` — number of distinct modes visited;
        * ``first_visit`` — sampled time of the first draw in each mode,
          counted from the chain's first draw [ms]; ``inf`` if never visited;
        * ``cover_time`` — time until every mode was visited [ms] (``inf`` if
          some mode never was);
        * ``occupancy`` — fraction of draws assigned to each mode, and
          ``unassigned`` — fraction of draws assigned to none;
        * ``tau_int_energy`` — integrated autocorrelation time of the energy
          ``E(z)`` [ms] (with a target); ``tau_int_mode`` — of the indicator of
          being in each mode (the mode held since the last assigned draw) [ms].
          Both are ``N / ESS_mean`` from ``arviz.ess`` times the sampled time
          per draw (``duration / n_draws``, which for a phase-gated result
          includes the gaps); NaN for a series that never changes (the true
          value is then longer than the run) or for fewer than 4 draws;
        * ``duration`` — sampled time spanned per chain [ms], and
          ``kept_time`` — ``n_draws × spacing`` [ms].
    pooled : xarray.Dataset
        The same over all chains (dim ``mode``): sums of switches and
        durations (so ``switch_rate`` is total switches per total sampled
        time), modes visited by any chain, ``first_visit`` the earliest over
        the chains (the time at which the ensemble of chains had found the
        mode) and ``cover_time`` the largest of those, occupancies of all draws,
        τ from all chains together, and — with an enumerable target —
        ``target_occupancy``: the exact probability of the states that
        :func:`assign_modes` gives to each mode (compare with ``occupancy``).
    labels : xarray.DataArray
        The mode of every draw, dims (chain, draw), −1 where unassigned.
    mode_states : numpy.ndarray, shape (n_modes, n_units)
    modes : Modes or None
        The exact landscape of the modes, when the target can be enumerated.
    dkl_curve : xarray.Dataset or None
        :func:`dkl_vs_time` of the kept draws, with the ``time`` coordinate
        replaced by the sampled time spanned per chain [ms] (see the module
        docstring) and the number of draws per chain as coordinate ``draws``.
    settings : dict
        ``max_distance`` and how the modes were chosen.
    """

    chains: xr.Dataset
    pooled: xr.Dataset
    labels: xr.DataArray
    mode_states: np.ndarray
    modes: Modes | None
    dkl_curve: xr.Dataset | None
    settings: dict

    @property
    def n_modes(self) -> int:
        return int(self.mode_states.shape[0])

    def summary(self) -> dict:
        """Headline numbers of the pooled chains as plain Python values (NaN and inf → None)."""
        p = self.pooled
        out: dict[str, Any] = {
            "n_modes": self.n_modes,
            "n_chains": int(self.chains.sizes["chain"]),
            "n_switches": int(p.n_switches),
            "switch_rate_per_s": float(p.switch_rate),
            "n_visited": int(p.n_visited),
            "mean_cover_time_ms": float(self.chains.cover_time.mean()),
            "unassigned": float(p.unassigned),
            "tau_int_energy_ms": float(p.tau_int_energy) if "tau_int_energy" in p else None,
            "max_tau_int_mode_ms": float(p.tau_int_mode.max()),
        }
        if self.dkl_curve is not None:
            out["dkl_target_sampled"] = float(self.dkl_curve.dkl_target_sampled[-1])
        return {k: _clean(v) for k, v in out.items()}

    def __repr__(self) -> str:
        s = self.summary()
        return (
            f"MixingMetrics({s['n_modes']} modes, {s['n_chains']} chains: {s['n_switches']} switches, "
            f"{s['switch_rate_per_s']:.3g}/s, {s['n_visited']} modes visited)"
        )


def _draw_times(result: xr.Dataset) -> tuple[np.ndarray, float]:
    """Times of the draws [ms] and the sample spacing [ms]."""
    n_draws = result.sizes["draw"]
    if "time" in result.coords:
        t = np.asarray(result.time.values, dtype=float)
        if not np.all(np.isfinite(t)):
            raise ValueError("the result's time coordinate contains non-finite values.")
        if np.any(np.diff(t) <= 0):
            raise ValueError(
                "the result's time coordinate must increase strictly along draw; sort the draws by time."
            )
    else:
        t = np.arange(n_draws) * sample_interval(result)
    spacing = float(np.min(np.diff(t))) if n_draws > 1 else sample_interval(result)
    return t, spacing


def _tau_int(series: dict[str, np.ndarray], n_chains: int, time_per_draw: float) -> dict:
    """``N / ESS_mean × time_per_draw`` of (chain, draw[, mode]) series: per chain and pooled."""
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name, x in series.items():
        x = np.asarray(x, dtype=float)
        extra = x.shape[2:]
        dims = ("chain", "draw") + ("mode",) * len(extra)
        per_chain = np.full((n_chains,) + extra, np.nan)
        pooled = np.full(extra, np.nan)
        if x.shape[1] >= MIN_DRAWS:
            with warnings.catch_warnings():  # constant series: handled below
                warnings.simplefilter("ignore", RuntimeWarning)
                for c in [*range(n_chains), None]:
                    part = x if c is None else x[c : c + 1]
                    ess = az.ess(xr.Dataset({"x": (dims, part)}), method="mean").x.values
                    constant = np.ptp(part, axis=(0, 1)) == 0
                    tau = np.where(constant, np.nan, part.shape[0] * part.shape[1] / ess * time_per_draw)
                    if c is None:
                        pooled = tau
                    else:
                        per_chain[c] = tau
        out[name] = (per_chain, pooled)
    return out


def mixing_metrics(
    data: xr.Dataset | az.InferenceData,
    modes: Any = None,
    target: BoltzmannMachine | None = None,
    *,
    max_distance: float | None = None,
    min_depth: float = 1.0,
    n_points: int = 20,
    pseudo_count: float = DEFAULT_PSEUDO_COUNT,
) -> MixingMetrics:
    """Mode switches, modes visited, first-visit times, τ_int and DKL of a sampling result.

    Parameters
    ----------
    data : xarray.Dataset or arviz.InferenceData
        Any result (LIF, Gibbs, phase-gated …); its ``time`` coordinate gives
        the sampled time of every draw [ms] (see the module docstring for
        results whose draws are not equally spaced).
    modes : array_like, shape (n_modes, n_units), or Modes, optional
        The modes; default: :func:`find_modes` of the target with
        ``min_depth``.
    target : BoltzmannMachine, optional
        Default: the target stored in the result.  Needed for ``modes=None``,
        the energy τ_int, ``target_occupancy`` and the DKL curve.
    max_distance : float, optional
        Passed to :func:`assign_modes` (default: nearest mode, no limit).
    min_depth : float
        Depth [energy units] of the modes found when ``modes`` is None
        (default 1: shallower local minima are part of a deeper mode's basin).
    n_points, pseudo_count
        Of the DKL curve (:func:`dkl_vs_time`).

    Returns
    -------
    MixingMetrics

    Raises
    ------
    ValueError
        If there are no modes and no enumerable target, the modes do not fit the
        result, the result has no draws, or its time coordinate does not increase.

    Examples
    --------
    >>> from lifsampling import GibbsSampler
    >>> bm, modes = clustered_boltzmann_machine(6, 2, barrier=2.0)
    >>> mm = mixing_metrics(GibbsSampler(bm).sample(2000.0, n_chains=2, seed=1), modes)
    >>> int(mm.pooled.n_visited), mm.chains.n_switches.dims
    (2, ('chain',))
    """
    result = as_result(data)
    target = _target_for(result, target)
    n_chains, n_draws, n_units = (result.sizes[d] for d in ("chain", "draw", "unit"))
    if n_chains < 1 or n_draws < 1:
        raise ValueError(f"the result is empty ({n_chains} chains, {n_draws} draws): nothing to measure.")
    exact = target is not None and n_units <= MAX_LANDSCAPE_UNITS
    if modes is None:
        if not exact:
            raise ValueError(
                "modes=None needs a target of at most "
                f"{MAX_LANDSCAPE_UNITS} units to find the modes in; the result "
                + ("stores no target" if target is None else f"has {n_units} units")
                + ". Pass modes=[[...], ...] (0/1 rows) or target=."
            )
        info: Modes | None = find_modes(target, min_depth=min_depth)
        how = f"find_modes(min_depth={min_depth})"
    else:
        states_m = _mode_array(modes, n_units)
        info = describe_modes(target, states_m) if exact else (modes if isinstance(modes, Modes) else None)
        how = "given"
    M = info.states if info is not None else states_m
    m = M.shape[0]
    raw_times, spacing = _draw_times(result)
    times = raw_times - raw_times[0]  # since the first draw
    duration = float(times[-1] + spacing)
    states = result.states.values
    labels = assign_modes(states, M, max_distance)  # (chain, draw)

    # hysteresis: the mode held since the last assigned draw (-1 before the first)
    pos = np.where(labels >= 0, np.arange(n_draws), -1)
    last = np.maximum.accumulate(pos, axis=1)
    held = np.where(last >= 0, np.take_along_axis(labels, np.maximum(last, 0), axis=1), -1)
    switches = np.count_nonzero((held[:, 1:] != held[:, :-1]) & (held[:, :-1] >= 0), axis=1)
    first = np.full((n_chains, m), np.inf)
    occupancy = np.empty((n_chains, m))
    for j in range(m):
        hit = labels == j
        seen = hit.any(axis=1)
        first[seen, j] = times[hit[seen].argmax(axis=1)]
        occupancy[:, j] = hit.mean(axis=1)

    series = {"mode": held[:, :, None] == np.arange(m)}
    if target is not None:
        series["energy"] = target.energy(states)
    tau = _tau_int(series, n_chains, duration / n_draws)

    chain_vars = {
        "n_switches": ("chain", switches),
        "switch_rate": ("chain", switches / duration * 1000.0),
        "n_visited": ("chain", np.count_nonzero(np.isfinite(first), axis=1)),
        "first_visit": (("chain", "mode"), first),
        "cover_time": ("chain", first.max(axis=1)),
        "occupancy": (("chain", "mode"), occupancy),
        "unassigned": ("chain", np.mean(labels < 0, axis=1)),
        "tau_int_mode": (("chain", "mode"), tau["mode"][0]),
        "duration": ("chain", np.full(n_chains, duration)),
        "kept_time": ("chain", np.full(n_chains, n_draws * spacing)),
    }
    pooled_first = first.min(axis=0)
    pooled_vars = {
        "n_switches": ((), int(switches.sum())),
        "switch_rate": ((), switches.sum() / (n_chains * duration) * 1000.0),
        "n_visited": ((), int(np.count_nonzero(np.isfinite(pooled_first)))),
        "first_visit": ("mode", pooled_first),
        "cover_time": ((), pooled_first.max()),
        "occupancy": ("mode", occupancy.mean(axis=0)),
        "unassigned": ((), float(np.mean(labels < 0))),
        "tau_int_mode": ("mode", tau["mode"][1]),
        "duration": ((), n_chains * duration),
        "kept_time": ((), n_chains * n_draws * spacing),
    }
    if "energy" in tau:
        chain_vars["tau_int_energy"] = ("chain", tau["energy"][0])
        pooled_vars["tau_int_energy"] = ((), float(tau["energy"][1]))
    curve = None
    if exact:
        p = target.probabilities()
        region = assign_modes(all_states(n_units), M, max_distance)
        pooled_vars["target_occupancy"] = (
            "mode",
            np.bincount(region[region >= 0], weights=p[region >= 0], minlength=m),
        )
        curve = dkl_vs_time(target, result, n_points=n_points, pseudo_count=pseudo_count)
        draws = curve.n_samples.values // n_chains
        curve = curve.assign_coords(
            time=("time", times[draws - 1] + spacing, {"units": "ms"}), draws=("time", draws)
        )
    mode_coords = {"mode": np.arange(m), "mode_state": ("mode", _labels(M))}
    chains = xr.Dataset(chain_vars, coords={"chain": result.chain.values, **mode_coords})
    pooled = xr.Dataset(pooled_vars, coords=mode_coords)
    for ds in (chains, pooled):
        ds.switch_rate.attrs["units"] = "1/s"
        for name in ("first_visit", "cover_time", "tau_int_mode", "tau_int_energy", "duration", "kept_time"):
            if name in ds:
                ds[name].attrs["units"] = "ms"
    label_da = xr.DataArray(
        labels,
        dims=("chain", "draw"),
        coords={"chain": result.chain.values, "time": ("draw", raw_times, {"units": "ms"})},
        name="mode",
        attrs={"description": "assigned mode of every draw, -1 = none"},
    )
    return MixingMetrics(
        chains=chains,
        pooled=pooled,
        labels=label_da,
        mode_states=M,
        modes=info,
        dkl_curve=curve,
        settings={"max_distance": max_distance, "modes": how, "spacing_ms": spacing},
    )
