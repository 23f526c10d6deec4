"""How close two states or outcome distributions are: fidelities, KL divergence, Bell operator.

* :func:`quantum_fidelity` — root fidelity ``F = Tr √(√ρ σ √ρ)``;
* :func:`classical_fidelity` — ``Σ_a √(P(a) Q(a))`` of two outcome distributions;
* :func:`kl_divergence` — ``Σ_a P(a) ln(P(a)/Q(a))`` in nats;
* :func:`bell_operator` and :func:`bell_operator_from_probabilities` — the CHSH
  combination ``B(θ) = C(0, θ) + C(0, −θ) + C(2θ, θ) − C(2θ, −θ)`` of connected
  correlators of ``A(φ) = cos φ σᶻ + sin φ σˣ``, maximal (``2√2``) for
  ``|Φ⁺⟩`` at ``θ = π/4``; a local hidden-variable model cannot exceed 2.

As in Czischek et al., *Spiking neuromorphic chip learns entangled quantum
states*, SciPost Phys. 12, 039 (2022), doi:10.21468/SciPostPhys.12.3.039.

Examples
--------
>>> from quantum import bell_state, werner_state, quantum_fidelity, bell_operator
>>> round(quantum_fidelity(bell_state("phi+"), werner_state(0.8)), 6)
0.921954
>>> round(bell_operator(bell_state("phi+")), 6)
2.828427
"""

from __future__ import annotations

import numpy as np

from .povm import TetrahedralPOVM
from .states import ATOL, PAULI, check_density_matrix, density_matrix, n_qubits_of, partial_trace

__all__ = [
    "quantum_fidelity",
    "classical_fidelity",
    "kl_divergence",
    "correlator",
    "bell_operator",
    "bell_operator_from_probabilities",
]


def _hermitian_unit_trace(sigma, *, atol: float = ATOL) -> np.ndarray:
    """A matrix that is Hermitian with trace 1 (positivity not required)."""
    sigma = np.asarray(sigma, dtype=complex)
    if sigma.ndim == 1:
        return density_matrix(sigma)
    if sigma.ndim != 2 or sigma.shape[0] != sigma.shape[1]:
        raise ValueError(f"a density matrix must be square, got shape {sigma.shape}.")
    n_qubits_of(sigma.shape[0], "density matrix")
    if np.abs(sigma - sigma.conj().T).max() > atol:
        raise ValueError("the matrix must be Hermitian; symmetrise it with (rho + rho.conj().T) / 2.")
    tr = float(np.trace(sigma).real)
    if abs(tr - 1) > atol:
        raise ValueError(f"the matrix must have trace 1, got trace {tr:.10g}; divide it by its trace.")
    return (sigma + sigma.conj().T) / 2


def quantum_fidelity(rho, sigma, *, allow_unphysical: bool = False) -> float:
    """Root (Uhlmann) fidelity ``F(ρ, σ) = Tr √(√ρ σ √ρ)``, in [0, 1].

    For a pure ``ρ = |ψ⟩⟨ψ|`` it is ``√⟨ψ|σ|ψ⟩``; for two pure states ``|⟨ψ|φ⟩|``.

    Parameters
    ----------
    rho, sigma : array_like
        State vectors or density matrices of the same number of qubits.
        ``rho`` must be a valid density matrix.
    allow_unphysical : bool
        Accept a ``sigma`` that is Hermitian with trace 1 but not positive
        (e.g. reconstructed from estimated POVM probabilities); negative
        eigenvalues of ``√ρ σ √ρ`` then count as zero.

    Raises
    ------
    ValueError
        If ``rho`` (or, unless ``allow_unphysical``, ``sigma``) is not a density
        matrix, or the dimensions differ.

    Examples
    --------
    >>> from quantum import bell_state
    >>> round(quantum_fidelity(bell_state("phi+"), bell_state("phi+")), 12)
    1.0
    >>> round(quantum_fidelity(bell_state("phi+"), bell_state("psi+")), 12)
    0.0
    """
    rho = check_density_matrix(density_matrix(rho))
    sigma = _hermitian_unit_trace(sigma) if allow_unphysical else check_density_matrix(density_matrix(sigma))
    if rho.shape != sigma.shape:
        raise ValueError(f"the states have different dimensions: {rho.shape} and {sigma.shape}.")
    lam, vec = np.linalg.eigh(rho)
    sqrt_rho = (vec * np.sqrt(np.clip(lam, 0.0, None))) @ vec.conj().T
    m = sqrt_rho @ sigma @ sqrt_rho
    mu = np.linalg.eigvalsh((m + m.conj().T) / 2)
    return float(np.sqrt(np.clip(mu, 0.0, None)).sum())


def _distribution(p, name: str) -> np.ndarray:
    p = np.asarray(p, dtype=float)
    if p.ndim != 1 or p.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D distribution, got shape {p.shape}.")
    if not np.all(np.isfinite(p)) or np.any(p < 0):
        raise ValueError(f"{name} must be finite and non-negative.")
    total = p.sum()
    if abs(total - 1) > 1e-6:
        raise ValueError(f"{name} must sum to 1, got {total:.10g}; normalise it.")
    return p / total


def classical_fidelity(p, q) -> float:
    """Classical fidelity (Bhattacharyya coefficient) ``Σ_a √(P(a) Q(a))`` of two distributions.

    Examples
    --------
    >>> classical_fidelity([0.5, 0.5], [0.5, 0.5])
    1.0
    """
    p, q = _distribution(p, "p"), _distribution(q, "q")
    if p.shape != q.shape:
        raise ValueError(f"the distributions have different lengths: {p.size} and {q.size}.")
    return float(np.sqrt(p * q).sum())


def kl_divergence(p, q) -> float:
    """``DKL(P ‖ Q) = Σ_a P(a) ln(P(a)/Q(a))`` in nats (``inf`` if Q misses part of P's support).

    Examples
    --------
    >>> round(kl_divergence([0.5, 0.5], [0.25, 0.75]), 6)
    0.143841
    """
    p, q = _distribution(p, "p"), _distribution(q, "q")
    if p.shape != q.shape:
        raise ValueError(f"the distributions have different lengths: {p.size} and {q.size}.")
    support = p > 0
    if np.any(q[support] == 0):
        return float("inf")
    return float(np.sum(p[support] * np.log(p[support] / q[support])))


def _observable(phi: float) -> np.ndarray:
    return np.cos(phi) * PAULI["Z"] + np.sin(phi) * PAULI["X"]


def correlator(rho2, phi_a: float, phi_b: float) -> float:
    """Connected correlator ``⟨A(φ_a) ⊗ A(φ_b)⟩ − ⟨A(φ_a)⟩⟨A(φ_b)⟩`` of a two-qubit state.

    ``A(φ) = cos φ σᶻ + sin φ σˣ``.
    """
    rho2 = np.asarray(rho2, dtype=complex)
    a, b = _observable(phi_a), _observable(phi_b)
    one = PAULI["I"]
    ab = np.trace(rho2 @ np.kron(a, b)).real
    ea = np.trace(rho2 @ np.kron(a, one)).real
    eb = np.trace(rho2 @ np.kron(one, b)).real
    return float(ab - ea * eb)


def _bell(rho2, theta: float) -> float:
    c = correlator
    return c(rho2, 0.0, theta) + c(rho2, 0.0, -theta) + c(rho2, 2 * theta, theta) - c(rho2, 2 * theta, -theta)


def bell_operator(state, theta: float = np.pi / 4, *, qubits: tuple[int, int] = (0, 1)) -> float:
    """Bell (CHSH) value ``B(θ) = C(0,θ) + C(0,−θ) + C(2θ,θ) − C(2θ,−θ)`` of a state.

    Parameters
    ----------
    state : array_like
        State vector or density matrix of two or more qubits.
    theta : float
        Measurement angle; ``π/4`` gives the maximal violation ``2√2`` for ``|Φ⁺⟩``.
    qubits : (int, int)
        The two qubits the correlators refer to (the others are traced out).

    Examples
    --------
    >>> from quantum import werner_state
    >>> round(bell_operator(werner_state(0.5)), 6)  # 2√2 · r
    1.414214
    """
    rho = check_density_matrix(density_matrix(state))
    return float(_bell(partial_trace(rho, list(qubits)), float(theta)))


def bell_operator_from_probabilities(
    probabilities, theta: float = np.pi / 4, *, qubits: tuple[int, int] = (0, 1)
) -> float:
    """Bell value ``B(θ)`` from tetrahedral-POVM outcome probabilities (``4^N`` of them).

    The correlators are linear in the state, so ``B`` is evaluated on the
    reconstructed ``ρ = Σ_a P(a) ⊗ Q_{a_i}``, which need not be positive for an
    estimated distribution.

    Examples
    --------
    >>> from quantum import TetrahedralPOVM, bell_state
    >>> P = TetrahedralPOVM(2).probabilities(bell_state("phi+"))
    >>> round(bell_operator_from_probabilities(P), 6)
    2.828427
    """
    p = np.asarray(probabilities, dtype=float)
    n = int(round(np.log(max(p.size, 1)) / np.log(4)))
    if p.ndim != 1 or n < 2 or 4**n != p.size:
        raise ValueError(f"probabilities must have 4**N entries for N >= 2 qubits, got shape {p.shape}.")
    rho = TetrahedralPOVM(n).reconstruct(p)
    return float(_bell(partial_trace(rho, list(qubits)), float(theta)))
