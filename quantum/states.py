"""Quantum states of qubits: state vectors, density matrices and their validation.

Conventions (used everywhere in :mod:`quantum`):

* ``|0⟩ = (1, 0)`` and ``|1⟩ = (0, 1)`` are the eigenstates of ``σᶻ`` with
  eigenvalues +1 and −1;
* the first qubit is the most significant one: the basis state
  ``|q_0 q_1 … q_{N−1}⟩`` has index ``Σ_i q_i 2^(N−1−i)``, and operators on
  several qubits are Kronecker products ``A_0 ⊗ A_1 ⊗ …`` in that order.

The named states are those learned by Czischek et al., *Spiking neuromorphic
chip learns entangled quantum states*, SciPost Phys. 12, 039 (2022),
doi:10.21468/SciPostPhys.12.3.039.

Examples
--------
>>> import numpy as np
>>> from quantum.states import bell_state, density_matrix, check_density_matrix
>>> psi = bell_state("phi+")
>>> np.round(psi.real, 4)
array([0.7071, 0.    , 0.    , 0.7071])
>>> rho = check_density_matrix(density_matrix(psi))
>>> rho.shape
(4, 4)
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "PAULI",
    "bell_state",
    "ghz_state",
    "w_state",
    "werner_state",
    "density_matrix",
    "check_density_matrix",
    "check_state_vector",
    "n_qubits_of",
    "partial_trace",
    "BELL_STATES",
]

#: Pauli matrices ``{"I", "X", "Y", "Z"}``.
PAULI: dict[str, np.ndarray] = {
    "I": np.eye(2, dtype=complex),
    "X": np.array([[0, 1], [1, 0]], dtype=complex),
    "Y": np.array([[0, -1j], [1j, 0]], dtype=complex),
    "Z": np.array([[1, 0], [0, -1]], dtype=complex),
}
for _m in PAULI.values():
    _m.setflags(write=False)

_S = 1 / np.sqrt(2)
#: The four Bell states ``|Φ±⟩ = (|00⟩ ± |11⟩)/√2``, ``|Ψ±⟩ = (|01⟩ ± |10⟩)/√2``.
BELL_STATES: dict[str, tuple[float, float, float, float]] = {
    "phi+": (_S, 0.0, 0.0, _S),
    "phi-": (_S, 0.0, 0.0, -_S),
    "psi+": (0.0, _S, _S, 0.0),
    "psi-": (0.0, _S, -_S, 0.0),
}

#: Tolerance of the density-matrix checks (Hermiticity, trace, positivity).
ATOL = 1e-8


def _check_n_qubits(n_qubits: int, minimum: int = 1) -> int:
    if isinstance(n_qubits, bool) or not isinstance(n_qubits, (int, np.integer)) or n_qubits < minimum:
        raise ValueError(f"n_qubits must be an integer >= {minimum}, got {n_qubits!r}.")
    if n_qubits > 14:
        raise ValueError(
            f"n_qubits = {n_qubits} needs state vectors of length 2**{n_qubits}; "
            "dense states are limited to 14 qubits."
        )
    return int(n_qubits)


def bell_state(kind: str = "phi+") -> np.ndarray:
    """State vector of a Bell state.

    Parameters
    ----------
    kind : {"phi+", "phi-", "psi+", "psi-"}
        ``|Φ±⟩ = (|00⟩ ± |11⟩)/√2``, ``|Ψ±⟩ = (|01⟩ ± |10⟩)/√2``.

    Returns
    -------
    numpy.ndarray, shape (4,), complex

    Examples
    --------
    >>> np.round(bell_state("psi-").real, 4)
    array([ 0.    ,  0.7071, -0.7071,  0.    ])
    """
    if kind not in BELL_STATES:
        raise ValueError(f"kind must be one of {sorted(BELL_STATES)}, got {kind!r}.")
    return np.array(BELL_STATES[kind], dtype=complex)


def ghz_state(n_qubits: int) -> np.ndarray:
    """The Greenberger–Horne–Zeilinger state ``(|0…0⟩ + |1…1⟩)/√2`` of ``n_qubits`` ≥ 2 qubits.

    Examples
    --------
    >>> psi = ghz_state(3)
    >>> np.flatnonzero(psi).tolist()
    [0, 7]
    """
    n = _check_n_qubits(n_qubits, minimum=2)
    psi = np.zeros(2**n, dtype=complex)
    psi[0] = psi[-1] = _S
    return psi


def w_state(n_qubits: int) -> np.ndarray:
    """The W state ``(|10…0⟩ + |010…0⟩ + … + |0…01⟩)/√N`` of ``n_qubits`` ≥ 2 qubits.

    Examples
    --------
    >>> psi = w_state(3)
    >>> np.flatnonzero(psi).tolist()
    [1, 2, 4]
    """
    n = _check_n_qubits(n_qubits, minimum=2)
    psi = np.zeros(2**n, dtype=complex)
    psi[[1 << k for k in range(n)]] = 1 / np.sqrt(n)
    return psi


def werner_state(r: float) -> np.ndarray:
    """Werner state ``ρ = r |Φ⁺⟩⟨Φ⁺| + (1 − r) 𝟙/4`` of two qubits.

    Parameters
    ----------
    r : float
        Weight of the Bell state, in ``[−1/3, 1]`` (outside, ρ is not positive).
        The state is entangled for ``r > 1/3`` and violates the CHSH inequality
        for ``r > 1/√2``; its Bell value is ``B(π/4) = 2√2 r``.

    Examples
    --------
    >>> rho = werner_state(0.5)
    >>> round(float(np.trace(rho).real), 12), round(float(rho[0, 3].real), 12)
    (1.0, 0.25)
    """
    r = float(r)
    if not np.isfinite(r) or r < -1 / 3 - 1e-12 or r > 1 + 1e-12:
        raise ValueError(
            f"r must be in [-1/3, 1] (otherwise the Werner state is not a density matrix), got {r!r}."
        )
    return r * density_matrix(bell_state("phi+")) + (1 - r) * np.eye(4, dtype=complex) / 4


def n_qubits_of(dim: int, what: str = "state") -> int:
    """Number of qubits of a Hilbert space of dimension ``dim`` (a power of two ≥ 2)."""
    n = int(dim).bit_length() - 1
    if dim < 2 or 2**n != dim:
        raise ValueError(f"a {what} of qubits has dimension 2**N (N >= 1), got dimension {dim}.")
    return n


def check_state_vector(psi, *, atol: float = ATOL) -> np.ndarray:
    """Validate a state vector (length ``2**N``, finite, norm 1) and return it as a complex array.

    Raises
    ------
    ValueError
        With the offending value and how to fix it.
    """
    psi = np.asarray(psi, dtype=complex)
    if psi.ndim != 1:
        raise ValueError(f"a state vector must be 1-D, got shape {psi.shape}.")
    n_qubits_of(psi.shape[0], "state vector")
    if not np.all(np.isfinite(psi)):
        raise ValueError("the state vector contains non-finite values.")
    norm = float(np.linalg.norm(psi))
    if abs(norm - 1) > atol:
        raise ValueError(f"the state vector must have norm 1, got {norm:.10g}; divide it by its norm.")
    return psi


def density_matrix(state) -> np.ndarray:
    """Density matrix ``|ψ⟩⟨ψ|`` of a state vector (a density matrix is validated and returned).

    Examples
    --------
    >>> density_matrix([1, 0]).real
    array([[1., 0.],
           [0., 0.]])
    """
    arr = np.asarray(state, dtype=complex)
    if arr.ndim == 2:
        return check_density_matrix(arr)
    psi = check_state_vector(arr)
    return np.outer(psi, psi.conj())


def check_density_matrix(rho, *, atol: float = ATOL) -> np.ndarray:
    """Validate a density matrix: square ``2^N × 2^N``, Hermitian, trace 1, positive semi-definite.

    Parameters
    ----------
    rho : array_like, shape (2**N, 2**N)
    atol : float
        Absolute tolerance of every check.

    Returns
    -------
    numpy.ndarray
        ``rho`` as a complex array, made exactly Hermitian.

    Raises
    ------
    ValueError
        If a check fails; the message names the failed property, the offending
        value and how to fix it.

    Examples
    --------
    >>> check_density_matrix(np.eye(2) / 2).real
    array([[0.5, 0. ],
           [0. , 0.5]])
    >>> check_density_matrix(np.eye(2))
    Traceback (most recent call last):
    ...
    ValueError: a density matrix must have trace 1, got trace 2; divide it by its trace.
    """
    rho = np.asarray(rho, dtype=complex)
    if rho.ndim != 2 or rho.shape[0] != rho.shape[1]:
        raise ValueError(f"a density matrix must be square, got shape {rho.shape}.")
    n_qubits_of(rho.shape[0], "density matrix")
    if not np.all(np.isfinite(rho)):
        raise ValueError("the density matrix contains non-finite values.")
    diff = np.abs(rho - rho.conj().T)
    if diff.max() > atol:
        i, j = np.unravel_index(np.argmax(diff), diff.shape)
        raise ValueError(
            f"a density matrix must be Hermitian; rho[{i}, {j}] = {rho[i, j]:.6g} but "
            f"conj(rho[{j}, {i}]) = {np.conj(rho[j, i]):.6g}. Symmetrise it with (rho + rho.conj().T) / 2."
        )
    rho = (rho + rho.conj().T) / 2
    tr = float(np.trace(rho).real)
    if abs(tr - 1) > atol:
        raise ValueError(f"a density matrix must have trace 1, got trace {tr:.10g}; divide it by its trace.")
    lam_min = float(np.linalg.eigvalsh(rho)[0])
    if lam_min < -atol:
        raise ValueError(
            f"a density matrix must be positive semi-definite; its smallest eigenvalue is {lam_min:.6g}. "
            "Project it onto the positive cone (clip negative eigenvalues and renormalise)."
        )
    return rho


def partial_trace(rho, keep) -> np.ndarray:
    """Reduced density matrix of the qubits in ``keep`` (in the order given).

    Examples
    --------
    >>> from quantum.states import ghz_state
    >>> partial_trace(density_matrix(ghz_state(3)), [0]).real
    array([[0.5, 0. ],
           [0. , 0.5]])
    """
    rho = np.asarray(rho, dtype=complex)
    n = n_qubits_of(rho.shape[0], "density matrix")
    keep = [int(k) for k in keep]
    if len(set(keep)) != len(keep) or any(k < 0 or k >= n for k in keep):
        raise ValueError(f"keep must list distinct qubits in 0..{n - 1}, got {keep}.")
    drop = [k for k in range(n) if k not in keep]
    t = rho.reshape((2,) * (2 * n))
    # bring the kept row indices, then the dropped ones, then the same for columns
    t = t.transpose(keep + drop + [n + k for k in keep] + [n + k for k in drop])
    dk, dd = 2 ** len(keep), 2 ** len(drop)
    return np.einsum("ajbj->ab", t.reshape(dk, dd, dk, dd))
