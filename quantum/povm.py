"""The tetrahedral POVM: measurement statistics that determine a quantum state.

A positive operator-valued measure (POVM) with four outcomes per qubit,

.. math:: M_a = \\tfrac14 (\\mathbb 1 + s_a \\cdot \\sigma), \\qquad a = 0, …, 3,

with the corners of a regular tetrahedron on the Bloch sphere
``s_0 = (0, 0, 1)``, ``s_1 = (2√2/3, 0, −1/3)``, ``s_2 = (−√2/3, √(2/3), −1/3)``,
``s_3 = (−√2/3, −√(2/3), −1/3)``, is informationally complete: the outcome
distribution ``P(a) = Tr(ρ M_a)`` of ``N`` qubits (tensor products, ``4^N``
outcomes) determines ``ρ``, through the dual operators
``Q_a = ½ (𝟙 + 3 s_a · σ)``:

.. math:: ρ = \\sum_a P(a) \\bigotimes_i Q_{a_i}, \\qquad ⟨O⟩ = \\sum_a P(a) \\operatorname{Tr}(O Q_a).

Outcome index: ``a = Σ_i a_i 4^(N−1−i)`` (first qubit most significant).
Each 4-valued outcome ``a_i`` is encoded as two binary visible units
``(a_i >> 1, a_i & 1)``; with the toolkit's state index (unit 0 most
significant) the index of the ``2N`` visible units *is* the outcome index.

This is the scheme of Czischek et al., *Spiking neuromorphic chip learns
entangled quantum states*, SciPost Phys. 12, 039 (2022),
doi:10.21468/SciPostPhys.12.3.039 (after Carrasquilla et al., Nat. Mach.
Intell. 1, 155 (2019)).

Examples
--------
>>> from quantum import TetrahedralPOVM, bell_state
>>> povm = TetrahedralPOVM(2)
>>> P = povm.probabilities(bell_state("phi+"))
>>> P.shape, round(float(P.sum()), 12)
((16,), 1.0)
>>> rho = povm.reconstruct(P)
>>> bool(np.allclose(rho, povm.reconstruct(povm.probabilities(rho))))
True
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lifsampling._seeding import make_rng

from .states import PAULI, density_matrix, n_qubits_of

__all__ = [
    "TETRAHEDRON",
    "TetrahedralPOVM",
    "encode_outcomes",
    "decode_visible",
    "outcome_index",
    "outcome_digits",
]

#: Bloch vectors ``s_a`` of the tetrahedral POVM, shape (4, 3): rows a = 0..3, columns x, y, z.
TETRAHEDRON = np.array(
    [
        [0.0, 0.0, 1.0],
        [2 * np.sqrt(2) / 3, 0.0, -1 / 3],
        [-np.sqrt(2) / 3, np.sqrt(2 / 3), -1 / 3],
        [-np.sqrt(2) / 3, -np.sqrt(2 / 3), -1 / 3],
    ]
)
TETRAHEDRON.setflags(write=False)

#: Largest number of qubits handled with dense ``4^N`` distributions and ``2^N × 2^N`` matrices.
MAX_POVM_QUBITS = 10


def _bloch_operators(scale: float, factor: float) -> np.ndarray:
    sigma = np.stack([PAULI["X"], PAULI["Y"], PAULI["Z"]])
    ops = factor * (np.eye(2) + scale * np.einsum("ak,kij->aij", TETRAHEDRON, sigma))
    ops.setflags(write=False)
    return ops


@dataclass(frozen=True)
class TetrahedralPOVM:
    """The tetrahedral POVM on ``n_qubits`` qubits (science.md §10a conventions).

    Parameters
    ----------
    n_qubits : int
        Number of qubits ``N`` (1 … 10); the POVM has ``4^N`` outcomes.

    Attributes
    ----------
    operators : numpy.ndarray, shape (4, 2, 2)
        Single-qubit POVM elements ``M_a = ¼ (𝟙 + s_a · σ)``.
    duals : numpy.ndarray, shape (4, 2, 2)
        Single-qubit dual operators ``Q_a = ½ (𝟙 + 3 s_a · σ)``, ``Tr(M_a Q_b) = δ_ab``.

    Examples
    --------
    >>> povm = TetrahedralPOVM(1)
    >>> np.allclose(povm.operators.sum(axis=0), np.eye(2))
    True
    >>> np.round(povm.probabilities([1, 0]), 4)  # |0⟩: outcome 0 is the +z corner
    array([0.5   , 0.1667, 0.1667, 0.1667])
    """

    n_qubits: int
    operators: np.ndarray = field(init=False, repr=False, compare=False)
    duals: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        n = self.n_qubits
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"n_qubits must be an integer >= 1, got {n!r}.")
        if n > MAX_POVM_QUBITS:
            raise ValueError(
                f"n_qubits = {n} means 4**{n} outcomes; dense POVM distributions are limited "
                f"to {MAX_POVM_QUBITS} qubits."
            )
        object.__setattr__(self, "n_qubits", int(n))
        object.__setattr__(self, "operators", _bloch_operators(1.0, 0.25))
        object.__setattr__(self, "duals", _bloch_operators(3.0, 0.5))

    @property
    def n_outcomes(self) -> int:
        """Number of outcomes ``4^N``."""
        return 4**self.n_qubits

    @property
    def n_visible(self) -> int:
        """Number of binary visible units that encode one outcome, ``2N``."""
        return 2 * self.n_qubits

    def _rho(self, state) -> np.ndarray:
        rho = density_matrix(state)
        n = n_qubits_of(rho.shape[0], "density matrix")
        if n != self.n_qubits:
            raise ValueError(f"the state has {n} qubit(s) but the POVM is for {self.n_qubits}.")
        return rho

    def probabilities(self, state) -> np.ndarray:
        """Outcome distribution ``P(a) = Tr(ρ M_a)`` of a state vector or density matrix.

        Returns
        -------
        numpy.ndarray, shape (4**N,)
            Real, non-negative, sums to 1; indexed by the outcome index.
        """
        n = self.n_qubits
        t = self._rho(state).reshape((2,) * (2 * n))
        m_t = self.operators.transpose(0, 2, 1)  # Tr(ρ M) = Σ_rc ρ_rc M_cr
        for k, i in enumerate(range(n - 1, -1, -1)):  # k qubits done; their outcome axes lead
            t = np.tensordot(m_t, t, axes=([1, 2], [k + i, n + i]))
        p = t.reshape(-1).real
        return np.clip(p, 0.0, None) / np.clip(p, 0.0, None).sum()

    def reconstruct(self, probabilities) -> np.ndarray:
        """Density matrix ``ρ = Σ_a P(a) ⊗_i Q_{a_i}`` from outcome probabilities.

        Exact for the exact distribution of a state; from an estimated
        distribution (a histogram, a model) the result is Hermitian with trace
        1 but need not be positive.

        Parameters
        ----------
        probabilities : array_like, shape (4**N,)
            Non-negative, summing to 1 (a histogram is normalised first).
        """
        p = self._check_probabilities(probabilities)
        n = self.n_qubits
        t = p.astype(complex).reshape((4,) * n)
        for k, i in enumerate(range(n - 1, -1, -1)):  # k qubits done; their (row, col) axes lead
            t = np.tensordot(self.duals, t, axes=([0], [2 * k + i]))
        order = [2 * i for i in range(n)] + [2 * i + 1 for i in range(n)]  # (r_0, c_0, r_1, c_1, …)
        rho = t.transpose(order).reshape(2**n, 2**n)
        return (rho + rho.conj().T) / 2

    def expectation(self, probabilities, operator) -> float:
        """``⟨O⟩ = Σ_a P(a) Tr(O ⊗_i Q_{a_i})`` of an operator on all ``N`` qubits.

        Examples
        --------
        >>> from quantum import PAULI, bell_state
        >>> povm = TetrahedralPOVM(2)
        >>> zz = np.kron(PAULI["Z"], PAULI["Z"])
        >>> round(povm.expectation(povm.probabilities(bell_state("phi+")), zz), 10)
        1.0
        """
        operator = np.asarray(operator, dtype=complex)
        d = 2**self.n_qubits
        if operator.shape != (d, d):
            raise ValueError(f"operator must have shape ({d}, {d}), got {operator.shape}.")
        return float(np.trace(operator @ self.reconstruct(probabilities)).real)

    def _check_probabilities(self, probabilities) -> np.ndarray:
        p = np.asarray(probabilities, dtype=float)
        if p.shape != (self.n_outcomes,):
            raise ValueError(
                f"probabilities must have shape ({self.n_outcomes},) for {self.n_qubits} qubit(s), "
                f"got {p.shape}."
            )
        if not np.all(np.isfinite(p)) or np.any(p < 0) or p.sum() <= 0:
            raise ValueError("probabilities must be finite, non-negative and not all zero.")
        return p / p.sum()

    def sample(
        self, state, n_measurements: int, *, seed: int | np.random.Generator | None = None
    ) -> np.ndarray:
        """Simulate ``n_measurements`` POVM measurements of a state; return outcome indices.

        Parameters
        ----------
        state : array_like
            State vector or density matrix.
        n_measurements : int
        seed : int or numpy.random.Generator, optional
            Drives the draws.

        Examples
        --------
        >>> from quantum import bell_state
        >>> TetrahedralPOVM(2).sample(bell_state("phi+"), 5, seed=0).shape
        (5,)
        """
        if isinstance(n_measurements, bool) or not isinstance(n_measurements, (int, np.integer)):
            raise ValueError(f"n_measurements must be an integer >= 1, got {n_measurements!r}.")
        if n_measurements < 1:
            raise ValueError(f"n_measurements must be an integer >= 1, got {n_measurements!r}.")
        p = self.probabilities(state)
        return make_rng(seed).choice(self.n_outcomes, size=int(n_measurements), p=p)

    def histogram(self, outcomes) -> np.ndarray:
        """Empirical outcome distribution of outcome indices (frequencies, sum 1)."""
        outcomes = np.asarray(outcomes, dtype=np.int64).ravel()
        if outcomes.size == 0:
            raise ValueError("no outcomes given.")
        if outcomes.min() < 0 or outcomes.max() >= self.n_outcomes:
            raise ValueError(f"outcome indices must lie in 0..{self.n_outcomes - 1}.")
        return np.bincount(outcomes, minlength=self.n_outcomes) / outcomes.size


def outcome_index(digits) -> np.ndarray:
    """Outcome index ``Σ_i a_i 4^(N−1−i)`` of per-qubit outcomes (last axis = qubits).

    Examples
    --------
    >>> outcome_index([[0, 1], [3, 2]])
    array([ 1, 14])
    """
    digits = np.asarray(digits, dtype=np.int64)
    if digits.size and (digits.min() < 0 or digits.max() > 3):
        raise ValueError("per-qubit outcomes must lie in 0..3.")
    n = digits.shape[-1]
    return digits @ (4 ** np.arange(n - 1, -1, -1, dtype=np.int64))


def outcome_digits(index, n_qubits: int) -> np.ndarray:
    """Per-qubit outcomes ``a_i`` of outcome indices (inverse of :func:`outcome_index`).

    Examples
    --------
    >>> outcome_digits([1, 14], 2)
    array([[0, 1],
           [3, 2]])
    """
    index = np.asarray(index, dtype=np.int64)
    shifts = 2 * np.arange(n_qubits - 1, -1, -1, dtype=np.int64)
    return (index[..., None] >> shifts) & 3


def encode_outcomes(digits) -> np.ndarray:
    """Binary visible units of per-qubit outcomes: ``a_i → (a_i >> 1, a_i & 1)``.

    Returns ``int8`` 0/1 of shape ``(..., 2N)``.  With unit 0 as the most
    significant bit the visible state index equals the outcome index.

    Examples
    --------
    >>> encode_outcomes([2, 1])
    array([1, 0, 0, 1], dtype=int8)
    """
    digits = np.asarray(digits, dtype=np.int64)
    if digits.size and (digits.min() < 0 or digits.max() > 3):
        raise ValueError("per-qubit outcomes must lie in 0..3.")
    bits = np.stack([digits >> 1, digits & 1], axis=-1)
    return bits.reshape(*digits.shape[:-1], 2 * digits.shape[-1]).astype(np.int8)


def decode_visible(visible) -> np.ndarray:
    """Per-qubit outcomes of binary visible units (inverse of :func:`encode_outcomes`).

    Examples
    --------
    >>> decode_visible([1, 0, 0, 1])
    array([2, 1])
    """
    v = np.asarray(visible, dtype=np.int64)
    if v.shape[-1] % 2:
        raise ValueError(f"visible units come in pairs per qubit; got {v.shape[-1]} units.")
    if v.size and not np.isin(v, (0, 1)).all():
        raise ValueError("visible units must be 0 or 1.")
    pairs = v.reshape(*v.shape[:-1], v.shape[-1] // 2, 2)
    return 2 * pairs[..., 0] + pairs[..., 1]
