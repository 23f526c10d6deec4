"""Target distributions over binary vectors: Boltzmann machines.

A Boltzmann machine (BM) over ``z`` in ``{0, 1}^K`` defines

.. math:: p(z) = \\exp(E(z)) / Z, \\qquad E(z) = \\tfrac12 z^T W z + b^T z

with symmetric ``W`` and zero diagonal (Petrovici et al. 2016, Phys. Rev. E 94,
042312; Buesing et al. 2011, PLoS Comput. Biol.).  Note the sign: here
``E`` is the *negative* energy, large for probable states.

State-index convention (used everywhere in the toolkit): unit 0 is the most
significant bit, ``index = sum_k z_k 2**(K-1-k)``.  :func:`states_to_indices`
and :func:`all_states` implement it.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy.special import logsumexp

from ._io import atomic_path
from ._seeding import make_rng

__all__ = [
    "BoltzmannMachine",
    "RestrictedBoltzmannMachine",
    "random_boltzmann_machine",
    "load_target",
    "all_states",
    "states_to_indices",
    "indices_to_states",
    "MAX_EXACT_UNITS",
]

#: Largest number of units for which distributions are enumerated exactly.
MAX_EXACT_UNITS = 20


def _check_exact(n_units: int) -> None:
    if n_units > MAX_EXACT_UNITS:
        raise ValueError(
            f"exact enumeration needs 2**{n_units} states, more than the limit of "
            f"{MAX_EXACT_UNITS} units ({2**MAX_EXACT_UNITS} states). Use sampled "
            "estimates (e.g. GibbsSampler) for larger machines."
        )


def all_states(n_units: int) -> np.ndarray:
    """All ``2**n_units`` binary states, row ``i`` being the state with index ``i``.

    Unit 0 is the most significant bit.

    Examples
    --------
    >>> all_states(2)
    array([[0, 0],
           [0, 1],
           [1, 0],
           [1, 1]], dtype=int8)
    """
    _check_exact(n_units)
    idx = np.arange(2**n_units, dtype=np.int64)
    shifts = np.arange(n_units - 1, -1, -1, dtype=np.int64)
    return ((idx[:, None] >> shifts[None, :]) & 1).astype(np.int8)


def states_to_indices(states: np.ndarray) -> np.ndarray:
    """Joint-state index of binary states along the last axis (unit 0 = MSB).

    Examples
    --------
    >>> states_to_indices(np.array([[1, 0, 1], [0, 0, 1]]))
    array([5, 1])
    """
    states = np.asarray(states)
    n_units = states.shape[-1]
    if n_units > 62:
        raise ValueError(f"state indices need at most 62 units, got {n_units}.")
    weights = (1 << np.arange(n_units - 1, -1, -1, dtype=np.int64)).astype(np.int64)
    return states.astype(np.int64) @ weights


def indices_to_states(indices: np.ndarray, n_units: int) -> np.ndarray:
    """Inverse of :func:`states_to_indices`."""
    indices = np.asarray(indices, dtype=np.int64)
    shifts = np.arange(n_units - 1, -1, -1, dtype=np.int64)
    return ((indices[..., None] >> shifts) & 1).astype(np.int8)


def _check_real(x, name: str) -> None:
    try:
        complex_values = np.iscomplexobj(x)
    except (TypeError, ValueError):  # ragged nesting: refused by the conversion that follows
        return
    if complex_values:
        raise ValueError(f"{name} must hold real numbers, got complex values; pass the real part (np.real).")


def _as_matrix(W, name: str = "W") -> np.ndarray:
    _check_real(W, name)
    try:
        W = np.array(W, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a numeric matrix, got {W!r}.") from None
    if W.ndim != 2:
        raise ValueError(f"{name} must be a 2-D matrix, got shape {W.shape}.")
    if not np.all(np.isfinite(W)):
        bad = np.argwhere(~np.isfinite(W))[0]
        raise ValueError(
            f"{name} must contain only finite values; {name}[{bad[0]}, {bad[1]}] = {W[tuple(bad)]}."
        )
    return W


def _as_vector(b, n: int, name: str = "b") -> np.ndarray:
    _check_real(b, name)
    try:
        b = np.array(b, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a numeric vector, got {b!r}.") from None
    if b.ndim != 1 or b.shape[0] != n:
        raise ValueError(f"{name} must be a vector of length {n}, got shape {b.shape}.")
    if not np.all(np.isfinite(b)):
        i = int(np.argwhere(~np.isfinite(b))[0, 0])
        raise ValueError(f"{name} must contain only finite values; {name}[{i}] = {b[i]}.")
    return b


@dataclass(frozen=True, eq=False)
class BoltzmannMachine:
    """A fully connected Boltzmann machine ``p(z) ∝ exp(½ zᵀWz + bᵀz)``.

    Parameters
    ----------
    W : array_like, shape (K, K)
        Symmetric coupling matrix with zero diagonal (dimensionless).
    b : array_like, shape (K,)
        Biases (dimensionless).

    Raises
    ------
    ValueError
        If ``W`` is not square, not symmetric, has a non-zero diagonal, or if
        any value is not finite, or if ``b`` has the wrong length.

    Examples
    --------
    >>> bm = BoltzmannMachine([[0, 1], [1, 0]], [-0.5, 0.2])
    >>> bm.n_units
    2
    >>> p = bm.probabilities()
    >>> float(round(p.sum(), 12))
    1.0
    """

    W: np.ndarray
    b: np.ndarray
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        W = _as_matrix(self.W)
        if W.shape[0] != W.shape[1]:
            raise ValueError(f"W must be square, got shape {W.shape}.")
        if W.shape[0] == 0:
            raise ValueError("a Boltzmann machine needs at least one unit.")
        asym = np.max(np.abs(W - W.T))
        if asym > 1e-10 * max(1.0, np.max(np.abs(W))):
            i, j = np.unravel_index(np.argmax(np.abs(W - W.T)), W.shape)
            raise ValueError(
                f"W must be symmetric; W[{i}, {j}] = {W[i, j]} but W[{j}, {i}] = {W[j, i]}. "
                "Symmetrise it with (W + W.T) / 2."
            )
        if np.any(np.diag(W) != 0):
            i = int(np.flatnonzero(np.diag(W))[0])
            raise ValueError(
                f"W must have a zero diagonal (no self-coupling); W[{i}, {i}] = {W[i, i]}. "
                "A self-coupling of binary units is a bias: add W[i, i] / 2 to b[i]."
            )
        b = _as_vector(self.b, W.shape[0])
        W = (W + W.T) / 2
        W.setflags(write=False)
        b.setflags(write=False)
        object.__setattr__(self, "W", W)
        object.__setattr__(self, "b", b)

    # -- basic properties -------------------------------------------------
    @property
    def n_units(self) -> int:
        """Number of units ``K``."""
        return int(self.b.shape[0])

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n_units={self.n_units})"

    def __eq__(self, other: object) -> bool:
        return (
            type(other) is type(self) and np.array_equal(self.W, other.W) and np.array_equal(self.b, other.b)
        )

    __hash__ = None  # mutable-looking arrays: not hashable

    # -- energies and exact distribution ----------------------------------
    def energy(self, states: np.ndarray) -> np.ndarray:
        """Energy ``E(z) = -½ zᵀWz - bᵀz`` of states along the last axis (``p(z) = exp(-E(z)) / Z``).

        Examples
        --------
        >>> float(BoltzmannMachine([[0, 1], [1, 0]], [0.5, 0.0]).energy([1, 1]))
        -1.5
        """
        states = np.asarray(states)
        if states.shape[-1] != self.n_units:
            raise ValueError(
                f"states must have {self.n_units} units along the last axis, got shape {states.shape}."
            )
        flat = states.reshape(-1, self.n_units)
        out = np.empty(flat.shape[0])
        step = max(1, 2**22 // self.n_units)  # chunks of ~32 MB of float64: long runs stay cheap in memory
        for start in range(0, flat.shape[0], step):
            z = flat[start : start + step].astype(float)
            out[start : start + step] = -0.5 * np.einsum("ij,ij->i", z @ self.W, z) - z @ self.b
        return out.reshape(states.shape[:-1])

    def _exact(self) -> tuple[np.ndarray, float]:
        if "log_p" not in self._cache:
            _check_exact(self.n_units)
            e = -self.energy(all_states(self.n_units))
            log_z = float(logsumexp(e))
            self._cache["log_p"] = e - log_z
            self._cache["log_z"] = log_z
        return self._cache["log_p"], self._cache["log_z"]

    def log_partition(self) -> float:
        """``log Z`` by exact enumeration (up to :data:`MAX_EXACT_UNITS` units)."""
        return self._exact()[1]

    def log_probabilities(self) -> np.ndarray:
        """Exact ``log p(z)`` of all ``2**K`` states, indexed by the state index."""
        return self._exact()[0].copy()

    def probabilities(self) -> np.ndarray:
        """Exact ``p(z)`` of all ``2**K`` states, indexed by the state index."""
        return np.exp(self._exact()[0])

    def marginals(self) -> np.ndarray:
        """Exact ``p(z_k = 1)`` for each unit."""
        if "marginals" not in self._cache:
            p = self.probabilities()
            # p(z_k = 1) = sum of p over the indices whose bit (K-1-k) is set, without a 2^K x K table
            idx = np.arange(p.size)
            self._cache["marginals"] = np.array(
                [p[(idx >> (self.n_units - 1 - k)) & 1 == 1].sum() for k in range(self.n_units)]
            )
        return self._cache["marginals"].copy()

    def conditional_logits(self, states: np.ndarray) -> np.ndarray:
        """Local fields ``b_k + Σ_j W_kj z_j`` (the log-odds of ``z_k = 1`` given the others)."""
        return np.asarray(states, dtype=float) @ self.W + self.b

    # -- files ---------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> None:
        """Save as ``.npz`` with arrays ``W`` and ``b`` (written atomically)."""
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, W=np.asarray(self.W), b=np.asarray(self.b), **self._extra_arrays())

    def _extra_arrays(self) -> dict:
        return {}

    def to_dict(self) -> dict:
        """Plain-Python description (for JSON and result attributes)."""
        return {"kind": type(self).__name__, "W": self.W.tolist(), "b": self.b.tolist()}


class RestrictedBoltzmannMachine(BoltzmannMachine):
    """A restricted Boltzmann machine: visible units first, then hidden units.

    Couplings exist only between the layers.  As a :class:`BoltzmannMachine`
    over all ``n_visible + n_hidden`` units it can be sampled by every sampler
    in the toolkit.

    Parameters
    ----------
    weights : array_like, shape (n_visible, n_hidden)
        Visible–hidden couplings.
    visible_bias : array_like, shape (n_visible,)
    hidden_bias : array_like, shape (n_hidden,)

    Examples
    --------
    >>> rbm = RestrictedBoltzmannMachine(np.ones((2, 3)), np.zeros(2), np.zeros(3))
    >>> rbm.n_units, rbm.n_visible, rbm.n_hidden
    (5, 2, 3)
    """

    def __init__(self, weights, visible_bias, hidden_bias) -> None:
        V = _as_matrix(weights, "weights")
        nv, nh = V.shape
        a = _as_vector(visible_bias, nv, "visible_bias")
        c = _as_vector(hidden_bias, nh, "hidden_bias")
        W = np.zeros((nv + nh, nv + nh))
        W[:nv, nv:] = V
        W[nv:, :nv] = V.T
        object.__setattr__(self, "_cache", {})
        object.__setattr__(self, "n_visible", nv)
        object.__setattr__(self, "n_hidden", nh)
        object.__setattr__(self, "W", W)
        object.__setattr__(self, "b", np.concatenate([a, c]))
        self.__post_init__()

    @property
    def weights(self) -> np.ndarray:
        """Visible–hidden block of ``W``, shape (n_visible, n_hidden)."""
        return self.W[: self.n_visible, self.n_visible :]

    @property
    def visible_bias(self) -> np.ndarray:
        return self.b[: self.n_visible]

    @property
    def hidden_bias(self) -> np.ndarray:
        return self.b[self.n_visible :]

    def visible_log_probabilities(self) -> np.ndarray:
        """Exact ``log p(v)`` of all ``2**n_visible`` visible states (hidden units summed out)."""
        _check_exact(self.n_visible)
        v = all_states(self.n_visible).astype(float)
        log_pt = v @ self.visible_bias + np.logaddexp(0, v @ self.weights + self.hidden_bias).sum(axis=1)
        return log_pt - logsumexp(log_pt)

    def _extra_arrays(self) -> dict:
        return {"n_visible": np.array(self.n_visible)}

    def to_dict(self) -> dict:
        d = super().to_dict()
        d["n_visible"] = self.n_visible
        return d


def load_target(path: str | os.PathLike) -> BoltzmannMachine:
    """Load a target saved with :meth:`BoltzmannMachine.save` (``.npz`` with ``W`` and ``b``).

    A file that also holds ``n_visible`` is loaded as a
    :class:`RestrictedBoltzmannMachine`.

    Raises
    ------
    FileNotFoundError, ValueError
        If the file does not exist, is not an ``.npz`` archive, or lacks ``W`` or ``b``.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"target file {path!r} does not exist.")
    if not zipfile.is_zipfile(path):
        raise ValueError(
            f"cannot read target file {path!r} as an .npz archive (it is not a zip archive: damaged, "
            "truncated or another format). Save targets with BoltzmannMachine.save or "
            "numpy.savez(path, W=W, b=b)."
        )
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except Exception as exc:  # zipfile / pickle errors
        raise ValueError(
            f"cannot read target file {path!r} as an .npz archive ({exc}). "
            "Save targets with BoltzmannMachine.save or numpy.savez(path, W=W, b=b)."
        ) from None
    missing = [k for k in ("W", "b") if k not in arrays]
    if missing:
        raise ValueError(
            f"target file {path!r} lacks the array(s) {', '.join(missing)}; it has "
            f"{sorted(arrays) or 'no arrays'}. A target file needs 'W' (K×K, symmetric, "
            "zero diagonal) and 'b' (length K)."
        )
    try:
        return _target_from_arrays(arrays, path)
    except (TypeError, ValueError) as exc:
        msg = str(exc)
        raise ValueError(msg if msg.startswith("target file") else f"target file {path!r}: {msg}") from None


def _target_from_arrays(arrays: dict, path: str) -> BoltzmannMachine:
    for name in ("W", "b"):
        if arrays[name].dtype.kind not in "biuf":
            raise ValueError(
                f"{name} must hold real numbers, got dtype {arrays[name].dtype}; save float arrays."
            )
    if "n_visible" in arrays:
        raw = arrays["n_visible"]
        W, b = arrays["W"], arrays["b"]
        BoltzmannMachine(W, b)  # validates shapes, symmetry, diagonal
        if raw.shape != () or raw.dtype.kind not in "iu" or not 0 <= int(raw) <= b.shape[0]:
            raise ValueError(
                f"n_visible must be one integer between 0 and {b.shape[0]} (the number of visible "
                f"units), got {raw!r}."
            )
        nv = int(raw)
        if np.any(W[:nv, :nv] != 0) or np.any(W[nv:, nv:] != 0):
            raise ValueError(
                f"target file {path!r} has n_visible = {nv} but W couples units within a layer; "
                "a restricted Boltzmann machine couples only visible to hidden units (remove "
                "n_visible to load it as a general BoltzmannMachine)."
            )
        return RestrictedBoltzmannMachine(W[:nv, nv:], b[:nv], b[nv:])
    return BoltzmannMachine(arrays["W"], arrays["b"])


def random_boltzmann_machine(
    n_units: int,
    *,
    kind: Literal["sbs", "buesing", "beta"] = "sbs",
    seed: int | np.random.Generator | None = None,
) -> BoltzmannMachine:
    """Draw a random Boltzmann machine as used in the literature.

    Parameters
    ----------
    n_units : int
        Number of units ``K``.
    kind : {"sbs", "buesing", "beta"}
        ``"sbs"``: ``A ~ N(0, 1)^{K×K}``, ``W = (A + Aᵀ)/2`` with zero diagonal,
        ``b ~ N(0, 1)`` (the spike-based-sampling test machines).
        ``"buesing"``: ``W ~ N(0, 0.3²)`` (symmetrised), ``b ~ N(-1.5, 0.5²)``
        (Buesing et al. 2011).
        ``"beta"``: ``W`` and ``b`` from ``2·Beta(0.5, 0.5) − 1`` (on [−1, 1]),
        in the spirit of Petrovici et al. 2016.
    seed : int or numpy.random.Generator, optional
        Drives all draws; the same seed gives the same machine.

    Examples
    --------
    >>> bm = random_boltzmann_machine(5, seed=0)
    >>> bm.n_units
    5
    """
    if not isinstance(n_units, (int, np.integer)) or n_units < 1:
        raise ValueError(f"n_units must be an integer >= 1, got {n_units!r}.")
    rng = make_rng(seed)
    K = int(n_units)
    if kind == "sbs":
        A = rng.normal(0.0, 1.0, size=(K, K))
        W = (A + A.T) / 2
        b = rng.normal(0.0, 1.0, size=K)
    elif kind == "buesing":
        A = rng.normal(0.0, 0.3, size=(K, K))
        W = np.triu(A, 1) + np.triu(A, 1).T
        b = rng.normal(-1.5, 0.5, size=K)
    elif kind == "beta":
        A = 2 * rng.beta(0.5, 0.5, size=(K, K)) - 1
        W = np.triu(A, 1) + np.triu(A, 1).T
        b = 2 * rng.beta(0.5, 0.5, size=K) - 1
    else:
        raise ValueError(f"kind must be one of 'sbs', 'buesing', 'beta'; got {kind!r}.")
    np.fill_diagonal(W, 0.0)
    return BoltzmannMachine(W, b)
