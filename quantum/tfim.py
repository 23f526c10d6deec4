"""The transverse-field Ising chain: Hamiltonian, exact ground state, local energies.

.. math:: H = −J \\sum_{⟨i,j⟩} σᶻ_i σᶻ_j − h \\sum_i σˣ_i

on a chain of ``N`` sites with periodic (bonds ``(i, i+1 mod N)``) or open
(bonds ``(i, i+1)``, ``i < N−1``) boundaries.  Basis: the visible state
``v ∈ {0,1}^N`` of a sampler is the ``σᶻ`` configuration ``s = 2v − 1`` and
its state index (unit 0 most significant) is the basis index.  (Only the
sign of the magnetisation depends on this choice: ``H`` is invariant under
the global spin flip ``v → 1 − v``.)  Note that NetKet's ``Ising`` writes the
coupling with the opposite sign (``+J σᶻσᶻ``).

For ``h ≥ 0`` the Hamiltonian is stoquastic and its ground state has
non-negative amplitudes, so ``ψ(v) = √p(v)`` of a Boltzmann machine can
represent it, and the energy is ``E = Σ_v p(v) E_loc(v)`` with

.. math:: E_\\mathrm{loc}(v) = \\sum_{v'} H_{vv'} \\sqrt{p(v')/p(v)}
          = −J \\sum_{⟨i,j⟩} s_i s_j − h \\sum_i \\sqrt{p(v^{(i)}) / p(v)},

``v^{(i)}`` being ``v`` with spin ``i`` flipped (Klassert et al., *Variational
learning of quantum ground states on spiking neuromorphic hardware*,
iScience 25, 104707 (2022), doi:10.1016/j.isci.2022.104707).  The ratios come
from a function ``log_prob(states)`` that returns ``log p`` up to a constant:
:func:`empirical_log_prob` (histogram of samples over all ``2^N`` states, the
paper's way) or :meth:`quantum.RBM.log_unnormalized` (the analytic marginal).

Examples
--------
>>> from quantum import TransverseFieldIsing
>>> H = TransverseFieldIsing(4, h=1.0)
>>> round(H.ground_state_energy(), 6)
-5.226252
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from lifsampling import indices_to_states, states_to_indices

__all__ = [
    "TransverseFieldIsing",
    "empirical_log_prob",
    "symmetrized",
    "MAX_EXACT_SITES",
]

#: Largest chain that :meth:`TransverseFieldIsing.ground_state` diagonalises (2^14 = 16384 states).
MAX_EXACT_SITES = 14
#: Largest chain for which the sparse Hamiltonian is built (2^20 states).
MAX_SPARSE_SITES = 20
_DENSE_SITES = 8

LogProb = Callable[[np.ndarray], np.ndarray]


class TransverseFieldIsing:
    """Transverse-field Ising chain ``H = −J Σ σᶻ_i σᶻ_j − h Σ σˣ_i``.

    Parameters
    ----------
    n_sites : int
        Number of spins ``N`` (≥ 2).
    h : float
        Transverse field.
    J : float
        Ising coupling (``J > 0`` ferromagnetic).
    pbc : bool
        Periodic (True, default) or open boundary conditions.

    Examples
    --------
    >>> H = TransverseFieldIsing(6, h=0.5, pbc=False)
    >>> H
    TransverseFieldIsing(n_sites=6, h=0.5, J=1.0, pbc=False)
    >>> round(H.ground_state_energy(), 6)
    -5.52203
    """

    def __init__(self, n_sites: int, *, h: float = 1.0, J: float = 1.0, pbc: bool = True) -> None:
        if isinstance(n_sites, bool) or not isinstance(n_sites, (int, np.integer)) or n_sites < 2:
            raise ValueError(f"n_sites must be an integer >= 2, got {n_sites!r}.")
        for name, value in (("h", h), ("J", J)):
            if not np.isfinite(value):
                raise ValueError(f"{name} must be a finite number, got {value!r}.")
        self.n_sites, self.h, self.J, self.pbc = int(n_sites), float(h), float(J), bool(pbc)
        n = self.n_sites
        bonds = [(i, i + 1) for i in range(n - 1)]
        if self.pbc:
            bonds.append((n - 1, 0))
        self.bonds: tuple[tuple[int, int], ...] = tuple(bonds)
        self._ground: tuple[float, np.ndarray, float] | None = None
        self._sparse: sp.csr_matrix | None = None

    def __repr__(self) -> str:
        return f"TransverseFieldIsing(n_sites={self.n_sites}, h={self.h!r}, J={self.J!r}, pbc={self.pbc})"

    @property
    def stoquastic(self) -> bool:
        """True if ``h ≥ 0``: the ground state has non-negative amplitudes, ``ψ = √p`` can represent it."""
        return self.h >= 0

    # -- matrix elements ---------------------------------------------------------
    def _states(self, v) -> np.ndarray:
        v = np.asarray(v)
        if v.shape[-1] != self.n_sites:
            raise ValueError(f"states must have {self.n_sites} spins on the last axis, got shape {v.shape}.")
        return v

    def diagonal(self, v) -> np.ndarray:
        """``−J Σ_⟨ij⟩ s_i s_j`` of 0/1 states ``v`` (last axis = sites), ``s = 2v − 1``."""
        s = 2.0 * self._states(v) - 1.0
        i, j = np.array(self.bonds).T
        return -self.J * np.sum(s[..., i] * s[..., j], axis=-1)

    def to_sparse(self) -> sp.csr_matrix:
        """The Hamiltonian as a sparse ``2^N × 2^N`` matrix (basis index = state index of v)."""
        if self._sparse is not None:
            return self._sparse.copy()
        n = self.n_sites
        if n > MAX_SPARSE_SITES:
            raise ValueError(
                f"the sparse Hamiltonian of {n} sites has 2**{n} rows; the limit is {MAX_SPARSE_SITES}."
            )
        idx = np.arange(2**n, dtype=np.int64)
        diag = self.diagonal(indices_to_states(idx, n))
        rows = [idx] + [idx] * n
        cols = [idx] + [idx ^ (1 << (n - 1 - i)) for i in range(n)]
        vals = [diag] + [np.full(idx.size, -self.h)] * n
        self._sparse = sp.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(2**n, 2**n)
        )
        return self._sparse.copy()

    def to_dense(self) -> np.ndarray:
        """The Hamiltonian as a dense matrix."""
        return self.to_sparse().toarray()

    # -- exact ground state --------------------------------------------------------
    def ground_state(self) -> tuple[float, np.ndarray]:
        """Exact ground-state energy and normalised ground state (exact diagonalisation).

        Dense diagonalisation up to 8 sites, Lanczos (``scipy.sparse.linalg.eigsh``)
        up to :data:`MAX_EXACT_SITES` = 14.  The state's overall sign makes its
        amplitudes non-negative for ``h ≥ 0``.  For a (numerically) degenerate
        ground state (``h = 0``) a :class:`UserWarning` says that the state is
        not unique.

        Raises
        ------
        ValueError
            For more than 14 sites.
        """
        if self._ground is None:
            n = self.n_sites
            if n > MAX_EXACT_SITES:
                raise ValueError(
                    f"exact diagonalisation is limited to {MAX_EXACT_SITES} sites (2**{MAX_EXACT_SITES} "
                    f"states); got n_sites = {n}. Run VMC without an exact reference instead "
                    "(its log then has no relative error or fidelity)."
                )
            if n <= _DENSE_SITES:
                lam, vec = np.linalg.eigh(self.to_dense())
            else:
                lam, vec = spla.eigsh(self.to_sparse(), k=2, which="SA", tol=1e-12)
                order = np.argsort(lam)
                lam, vec = lam[order], vec[:, order]
            psi = vec[:, 0].real
            psi = psi * (1.0 if psi.sum() >= 0 else -1.0)
            self._ground = (float(lam[0]), psi / np.linalg.norm(psi), float(lam[1] - lam[0]))
        if self._ground[2] < 1e-9:
            warnings.warn(
                f"the ground state of {self!r} is degenerate (gap {self._ground[2]:.1e}); the returned "
                "state is one of several, and fidelities with it are not meaningful.",
                UserWarning,
                stacklevel=2,
            )
        return self._ground[0], self._ground[1].copy()

    def ground_state_energy(self) -> float:
        """Exact ground-state energy ``E₀``."""
        return self.ground_state()[0]

    def gap(self) -> float:
        """Energy gap between the two lowest eigenstates."""
        self.ground_state()
        return self._ground[2]

    def expectation(self, psi) -> float:
        """``⟨ψ|H|ψ⟩ / ⟨ψ|ψ⟩`` of a dense state vector."""
        psi = np.asarray(psi)
        if psi.shape != (2**self.n_sites,):
            raise ValueError(f"psi must have shape ({2**self.n_sites},), got {psi.shape}.")
        if self._sparse is None:
            self.to_sparse()
        return float(np.vdot(psi, self._sparse @ psi).real / np.vdot(psi, psi).real)

    # -- local energies --------------------------------------------------------------
    def local_energy(self, v, log_prob: LogProb) -> np.ndarray:
        """``E_loc(v) = −J Σ s_i s_j − h Σ_i √(p(v^(i)) / p(v))`` of 0/1 states ``v``.

        Parameters
        ----------
        v : array_like, shape (S, N)
            Visible states (spins ``s = 2v − 1``).
        log_prob : callable
            ``log p`` up to a constant of an array of states (last axis = sites);
            ``-inf`` for states of probability zero.  E.g. ``rbm.log_unnormalized``
            or :func:`empirical_log_prob`.

        Returns
        -------
        numpy.ndarray, shape (S,)
            Computed once per distinct state.
        """
        v = np.atleast_2d(self._states(v))
        n = self.n_sites
        uniq, inverse = np.unique(states_to_indices(v), return_inverse=True)
        us = indices_to_states(uniq, n)
        flipped = us[:, None, :] ^ np.eye(n, dtype=us.dtype)[None]  # (U, N, N): spin i flipped
        lp = np.asarray(log_prob(us), dtype=float)
        lp_flip = np.asarray(log_prob(flipped), dtype=float)
        if np.any(~np.isfinite(lp)):
            raise ValueError("log_prob is not finite for a sampled state; the ratios are undefined there.")
        with np.errstate(under="ignore"):
            ratios = np.exp(0.5 * (lp_flip - lp[:, None]))
        e_loc = self.diagonal(us) - self.h * ratios.sum(axis=1)
        return e_loc[inverse.ravel()]

    def magnetization(self, v) -> np.ndarray:
        """``Σ_i s_i / N`` of 0/1 states ``v``."""
        return (2.0 * self._states(v) - 1.0).mean(axis=-1)


def empirical_log_prob(visible, weights=None) -> LogProb:
    """``log`` of the (weighted) histogram of visible samples over all ``2^N`` states.

    Returns a function of states (last axis = sites) with ``-inf`` for states
    never sampled — the paper's way of estimating the ratios ``p(v')/p(v)``.

    Examples
    --------
    >>> lp = empirical_log_prob(np.array([[0, 1], [0, 1], [1, 1]]))
    >>> np.round(np.exp(lp(np.array([[0, 1], [1, 1], [0, 0]]))), 3)
    array([0.667, 0.333, 0.   ])
    """
    visible = np.asarray(visible)
    n = visible.shape[-1]
    if n > MAX_SPARSE_SITES:
        raise ValueError(f"a histogram over 2**{n} states is too large (limit {MAX_SPARSE_SITES} sites).")
    counts = np.bincount(states_to_indices(visible.reshape(-1, n)), weights=weights, minlength=2**n)
    with np.errstate(divide="ignore"):
        log_p = np.log(counts / counts.sum())

    def log_prob(states: np.ndarray) -> np.ndarray:
        return log_p[states_to_indices(np.asarray(states))]

    return log_prob


def symmetrized(log_prob: LogProb) -> LogProb:
    """``log ½(p(v) + p(1 − v))``: the distribution made invariant under the global spin flip.

    ``ψ(v) = √(½(p(v) + p(v̄)))`` is Z₂ symmetric whatever ``p`` is; the
    exact ground state of a finite chain (``h > 0``) is.

    Examples
    --------
    >>> lp = symmetrized(empirical_log_prob(np.array([[0, 0]])))
    >>> np.exp(lp(np.array([[0, 0], [1, 1], [0, 1]])))
    array([0.5, 0.5, 0. ])
    """

    def sym(states: np.ndarray) -> np.ndarray:
        states = np.asarray(states)
        with np.errstate(divide="ignore"):
            return np.logaddexp(log_prob(states), log_prob(1 - states)) - np.log(2.0)

    return sym
