"""quantum.states, quantum.povm, quantum.metrics: states, the tetrahedral POVM, fidelities, Bell values."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import quantum as qs


def random_density_matrix(n_qubits: int, rng: np.random.Generator, rank: int | None = None) -> np.ndarray:
    d = 2**n_qubits
    a = rng.normal(size=(d, rank or d)) + 1j * rng.normal(size=(d, rank or d))
    rho = a @ a.conj().T
    return rho / np.trace(rho).real


# -- states -------------------------------------------------------------------
def test_bell_states_are_orthonormal():
    psis = np.array([qs.bell_state(k) for k in ("phi+", "phi-", "psi+", "psi-")])
    np.testing.assert_allclose(psis.conj() @ psis.T, np.eye(4), atol=1e-12)


def test_ghz_and_w_states():
    ghz = qs.ghz_state(4)
    assert np.flatnonzero(ghz).tolist() == [0, 15]
    w = qs.w_state(4)
    assert np.flatnonzero(w).tolist() == [1, 2, 4, 8]
    for psi in (ghz, w):
        assert np.linalg.norm(psi) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="n_qubits must be an integer >= 2"):
        qs.ghz_state(1)


def test_werner_state_range():
    for r in (-1 / 3, 0.0, 0.5, 1.0):
        qs.check_density_matrix(qs.werner_state(r))
    with pytest.raises(ValueError, match=r"r must be in \[-1/3, 1\]"):
        qs.werner_state(1.2)


def test_bad_density_matrices_are_rejected_clearly():
    rho = qs.density_matrix(qs.bell_state("phi+"))
    bad = rho.copy()
    bad[0, 1] = 0.3
    with pytest.raises(ValueError, match="must be Hermitian; rho\\[0, 1\\]"):
        qs.check_density_matrix(bad)
    with pytest.raises(ValueError, match="must have trace 1, got trace 2"):
        qs.check_density_matrix(2 * rho)
    with pytest.raises(ValueError, match="positive semi-definite; its smallest eigenvalue is -0.5"):
        qs.check_density_matrix(np.diag([1.5, -0.5]))
    with pytest.raises(ValueError, match="must be square"):
        qs.check_density_matrix(np.ones((2, 3)) / 2)
    with pytest.raises(ValueError, match="dimension 2\\*\\*N"):
        qs.check_density_matrix(np.eye(3) / 3)
    with pytest.raises(ValueError, match="norm 1"):
        qs.density_matrix([1.0, 1.0])
    # every consumer validates: fidelity, Bell value, POVM, driver
    with pytest.raises(ValueError, match="trace 1"):
        qs.quantum_fidelity(2 * rho, rho)
    with pytest.raises(ValueError, match="Hermitian"):
        qs.bell_operator(bad)
    with pytest.raises(ValueError, match="Hermitian"):
        qs.TetrahedralPOVM(2).probabilities(bad)


def test_partial_trace():
    rng = np.random.default_rng(0)
    a, b = random_density_matrix(1, rng), random_density_matrix(2, rng)
    rho = np.kron(a, b)
    np.testing.assert_allclose(qs.partial_trace(rho, [0]), a, atol=1e-12)
    np.testing.assert_allclose(qs.partial_trace(rho, [1, 2]), b, atol=1e-12)
    np.testing.assert_allclose(qs.partial_trace(np.kron(b, a), [2]), a, atol=1e-12)


# -- POVM -----------------------------------------------------------------------
def test_povm_elements_and_duals():
    povm = qs.TetrahedralPOVM(1)
    np.testing.assert_allclose(povm.operators.sum(axis=0), np.eye(2), atol=1e-12)
    overlaps = np.einsum("aij,bji->ab", povm.operators, povm.duals).real
    np.testing.assert_allclose(overlaps, np.eye(4), atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(qs.TETRAHEDRON, axis=1), 1.0)
    for m in povm.operators:
        assert np.linalg.eigvalsh(m).min() >= -1e-12


def test_povm_outcome_index_convention():
    """P(a) = Tr(ρ ⊗_i M_{a_i}) with a = Σ a_i 4^(N-1-i): the first qubit is most significant."""
    rng = np.random.default_rng(1)
    povm = qs.TetrahedralPOVM(2)
    rho = random_density_matrix(2, rng)
    p = povm.probabilities(rho)
    for a0, a1 in itertools.product(range(4), repeat=2):
        m = np.kron(povm.operators[a0], povm.operators[a1])
        assert p[4 * a0 + a1] == pytest.approx(np.trace(rho @ m).real, abs=1e-12)


@pytest.mark.parametrize("n_qubits", [1, 2, 3])
def test_povm_round_trip(n_qubits):
    """ρ → P → ρ is exact, for pure and mixed states."""
    rng = np.random.default_rng(n_qubits)
    povm = qs.TetrahedralPOVM(n_qubits)
    for rho in (random_density_matrix(n_qubits, rng), random_density_matrix(n_qubits, rng, rank=1)):
        p = povm.probabilities(rho)
        assert p.shape == (4**n_qubits,) and p.min() >= 0 and p.sum() == pytest.approx(1.0)
        np.testing.assert_allclose(povm.reconstruct(p), rho, atol=1e-12)


def test_povm_observables():
    povm = qs.TetrahedralPOVM(3)
    p = povm.probabilities(qs.ghz_state(3))
    z = qs.PAULI["Z"]
    x = qs.PAULI["X"]
    assert povm.expectation(p, np.kron(np.kron(z, z), np.eye(2))) == pytest.approx(1.0)
    assert povm.expectation(p, np.kron(np.kron(x, x), x)) == pytest.approx(1.0)
    assert povm.expectation(p, np.kron(np.kron(z, np.eye(2)), np.eye(2))) == pytest.approx(0.0, abs=1e-12)


def test_povm_measurements_and_histogram():
    povm = qs.TetrahedralPOVM(2)
    psi = qs.bell_state("phi+")
    a = povm.sample(psi, 40_000, seed=3)
    np.testing.assert_array_equal(a, povm.sample(psi, 40_000, seed=3))
    hist = povm.histogram(a)
    assert np.abs(hist - povm.probabilities(psi)).max() < 0.01
    with pytest.raises(ValueError, match="n_measurements must be an integer >= 1"):
        povm.sample(psi, 0)
    with pytest.raises(ValueError, match="1 qubit\\(s\\) but the POVM is for 2"):
        povm.probabilities([1, 0])
    with pytest.raises(ValueError, match="limited to 10 qubits"):
        qs.TetrahedralPOVM(11)


def test_encoding_of_outcomes_as_visible_units():
    from lifsampling import all_states, states_to_indices

    n = 3
    digits = qs.outcome_digits(np.arange(4**n), n)
    bits = qs.encode_outcomes(digits)
    assert bits.shape == (4**n, 2 * n) and bits.dtype == np.int8
    # the visible state index is the outcome index, so all 2N-bit states come out in order
    np.testing.assert_array_equal(bits, all_states(2 * n))
    np.testing.assert_array_equal(states_to_indices(bits), np.arange(4**n))
    np.testing.assert_array_equal(qs.decode_visible(bits), digits)
    np.testing.assert_array_equal(qs.outcome_index(digits), np.arange(4**n))
    with pytest.raises(ValueError, match="in pairs"):
        qs.decode_visible([1, 0, 1])
    with pytest.raises(ValueError, match="0..3"):
        qs.encode_outcomes([4])


# -- metrics ------------------------------------------------------------------------
def test_fidelity_of_identical_states_is_one():
    rng = np.random.default_rng(5)
    for rho in (qs.bell_state("phi+"), qs.werner_state(0.3), random_density_matrix(3, rng)):
        assert qs.quantum_fidelity(rho, rho) == pytest.approx(1.0, abs=1e-7)


def test_fidelity_values():
    phi, psi = qs.bell_state("phi+"), qs.bell_state("psi+")
    assert qs.quantum_fidelity(phi, psi) == pytest.approx(0.0, abs=1e-7)
    mixed = (phi + psi) / np.sqrt(2)
    assert qs.quantum_fidelity(phi, mixed) == pytest.approx(1 / np.sqrt(2))
    for r in (0.0, 0.5, 0.9):  # F(Φ+, Werner) = √((1 + 3r)/4)
        assert qs.quantum_fidelity(phi, qs.werner_state(r)) == pytest.approx(np.sqrt((1 + 3 * r) / 4))
    rng = np.random.default_rng(6)
    a, b = random_density_matrix(2, rng), random_density_matrix(2, rng)
    assert qs.quantum_fidelity(a, b) == pytest.approx(qs.quantum_fidelity(b, a), abs=1e-8)
    assert 0 <= qs.quantum_fidelity(a, b) <= 1


def test_fidelity_of_unphysical_reconstruction():
    """A histogram's reconstruction is not positive: refused by default, accepted on request."""
    povm = qs.TetrahedralPOVM(2)
    phi = qs.bell_state("phi+")
    hist = povm.histogram(povm.sample(phi, 50, seed=0))
    rho_hat = povm.reconstruct(hist)
    assert np.linalg.eigvalsh(rho_hat).min() < 0
    with pytest.raises(ValueError, match="positive semi-definite"):
        qs.quantum_fidelity(phi, rho_hat)
    assert 0 < qs.quantum_fidelity(phi, rho_hat, allow_unphysical=True) < 1.2


def test_classical_fidelity_and_dkl():
    p = qs.TetrahedralPOVM(2).probabilities(qs.bell_state("phi+"))
    assert qs.classical_fidelity(p, p) == pytest.approx(1.0)
    assert qs.kl_divergence(p, p) == pytest.approx(0.0, abs=1e-12)
    q = np.full(16, 1 / 16)
    assert qs.kl_divergence(p, q) > 0 and qs.classical_fidelity(p, q) < 1
    assert qs.kl_divergence([0.5, 0.5], [1.0, 0.0]) == np.inf
    with pytest.raises(ValueError, match="must sum to 1"):
        qs.classical_fidelity([0.5, 0.6], [0.5, 0.5])


def test_bell_operator():
    tsirelson = 2 * np.sqrt(2)
    assert qs.bell_operator(qs.bell_state("phi+")) == pytest.approx(tsirelson)
    assert qs.bell_operator(qs.bell_state("psi-")) == pytest.approx(-tsirelson)
    for r in (0.0, 0.5, 0.9, 1.0):
        assert qs.bell_operator(qs.werner_state(r)) == pytest.approx(tsirelson * r)
    # B(θ) of |Φ+⟩ = 3 cos θ − cos 3θ
    for theta in (0.1, 0.5, 1.0):
        expected = 3 * np.cos(theta) - np.cos(3 * theta)
        assert qs.bell_operator(qs.bell_state("phi+"), theta) == pytest.approx(expected)
    # product states obey the classical bound
    rng = np.random.default_rng(7)
    for _ in range(5):
        prod = np.kron(random_density_matrix(1, rng), random_density_matrix(1, rng))
        assert abs(qs.bell_operator(prod)) <= 2 + 1e-12


def test_bell_operator_from_povm_probabilities():
    povm = qs.TetrahedralPOVM(2)
    for r in (0.0, 0.5, 0.9, 1.0):
        p = povm.probabilities(qs.werner_state(r))
        assert qs.bell_operator_from_probabilities(p) == pytest.approx(2 * np.sqrt(2) * r)
    p3 = qs.TetrahedralPOVM(3).probabilities(qs.ghz_state(3))
    # qubits 0 and 1 of GHZ3 are classically correlated: ⟨ZZ⟩ = 1, ⟨XX⟩ = 0 → B(π/4) = √2
    assert qs.bell_operator_from_probabilities(p3) == pytest.approx(np.sqrt(2))
    with pytest.raises(ValueError, match="4\\*\\*N entries"):
        qs.bell_operator_from_probabilities(np.full(5, 0.2))
