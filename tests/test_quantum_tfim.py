"""quantum.tfim and quantum.vmc: the Ising chain, local energies, the energy gradient, VMC runs."""

from __future__ import annotations

import warnings
from functools import reduce

import numpy as np
import pytest

import lifsampling as ls
import quantum as qs

#: Exact ground-state energies, J = 1 (science.md §10b; dense diagonalisation).
EXACT_ENERGIES = {
    # N: (PBC h=0.5, PBC h=1, PBC h=2, OBC h=0.5, OBC h=1, OBC h=2)
    4: (-4.271558, -5.226252, -8.543117, -3.427034, -4.758770, -8.376799),
    6: (-6.384695, -7.727407, -12.769389, -5.522030, -7.296230, -12.630964),
    8: (-8.509082, -10.251662, -17.018164, -7.640593, -9.837951, -16.885141),
    10: (-10.635604, -12.784906, -21.271209, -9.765504, -12.381490, -21.139319),
}


@pytest.mark.parametrize("n_sites", sorted(EXACT_ENERGIES))
def test_exact_ground_state_energies(n_sites):
    settings = [(pbc, h) for pbc in (True, False) for h in (0.5, 1.0, 2.0)]
    for (pbc, h), e0 in zip(settings, EXACT_ENERGIES[n_sites], strict=True):
        H = qs.TransverseFieldIsing(n_sites, h=h, pbc=pbc)
        assert H.ground_state_energy() == pytest.approx(e0, abs=2e-6), (n_sites, pbc, h)


def test_ground_state_is_positive_and_normalised():
    for n in (6, 10):  # dense and Lanczos
        H = qs.TransverseFieldIsing(n, h=0.7)
        e0, psi = H.ground_state()
        assert np.linalg.norm(psi) == pytest.approx(1.0)
        assert psi.min() > 0
        assert H.expectation(psi) == pytest.approx(e0)
        assert H.gap() > 0


def test_hamiltonian_against_kronecker_products():
    """H = −J Σ σᶻσᶻ − h Σ σˣ in the basis index of v (unit 0 most significant), s = 2v − 1."""
    n, J, h = 3, -0.8, 0.6
    X, Z, one = (qs.PAULI[k].real for k in "XZI")

    def site(op, i):
        return reduce(np.kron, [op if k == i else one for k in range(n)])

    # with s = 2v − 1 the state v = 1 has σᶻ = +1, so σᶻ here is −Z in the |0⟩, |1⟩ basis
    for pbc in (True, False):
        bonds = [(0, 1), (1, 2)] + ([(2, 0)] if pbc else [])
        dense = -J * sum(site(Z, i) @ site(Z, j) for i, j in bonds) - h * sum(site(X, i) for i in range(n))
        np.testing.assert_allclose(qs.TransverseFieldIsing(n, h=h, J=J, pbc=pbc).to_dense(), dense)


def test_exact_diagonalisation_is_limited_to_14_sites():
    with pytest.raises(ValueError, match="limited to 14 sites .* got n_sites = 15"):
        qs.TransverseFieldIsing(15).ground_state()
    with pytest.raises(ValueError, match="n_sites must be an integer >= 2"):
        qs.TransverseFieldIsing(1)


def test_degenerate_ground_state_warns():
    with pytest.warns(UserWarning, match="degenerate"):
        qs.TransverseFieldIsing(4, h=0.0).ground_state()


@pytest.mark.parametrize("pbc", [True, False])
def test_local_energy_against_dense_matrix(pbc):
    """E_loc(v) = ⟨v|H|ψ⟩/ψ(v) with ψ = √p of an RBM, for analytic and histogram ratios."""
    n = 4
    H = qs.TransverseFieldIsing(n, h=0.7, J=-0.8, pbc=pbc)
    rbm = qs.RBM.random(n, 3, scale=0.7, seed=5)
    p = rbm.visible_probabilities()
    psi = np.sqrt(p)
    v = ls.all_states(n)
    expected = (H.to_dense() @ psi) / psi
    np.testing.assert_allclose(H.local_energy(v, rbm.log_unnormalized), expected, atol=1e-12)
    np.testing.assert_allclose(H.local_energy(v, qs.empirical_log_prob(v, p)), expected, atol=1e-12)
    assert p @ expected == pytest.approx(H.expectation(psi))
    # symmetrised state
    psi_sym = np.sqrt(0.5 * (p + p[::-1]))
    np.testing.assert_allclose(
        H.local_energy(v, qs.symmetrized(rbm.log_unnormalized)),
        (H.to_dense() @ psi_sym) / psi_sym,
        atol=1e-12,
    )


def test_local_energy_with_unvisited_neighbours():
    """Histogram ratios: flipped states never sampled contribute nothing."""
    H = qs.TransverseFieldIsing(3, h=1.0)
    v = np.array([[1, 1, 1], [1, 1, 1], [0, 1, 1]])
    e = H.local_energy(v, qs.empirical_log_prob(v))
    # all up: -3 J; one neighbour (spin 0 flipped) with p ratio 1/2
    assert e[0] == pytest.approx(-3 - np.sqrt(0.5))
    assert e[2] == pytest.approx(1 - np.sqrt(2))


def _energy(rbm, H, symmetrize=False):
    p = rbm.visible_probabilities()
    if symmetrize:
        p = 0.5 * (p + p[::-1])
    return H.expectation(np.sqrt(p))


@pytest.mark.parametrize("symmetrize", [False, True])
def test_energy_gradient_against_finite_differences(symmetrize):
    H = qs.TransverseFieldIsing(4, h=0.8)
    rbm = qs.RBM.random(4, 3, scale=0.6, seed=2)
    s = qs.ExactBackend(enumerate=True).sample(rbm, 1)
    log_prob = qs.symmetrized(rbm.log_unnormalized) if symmetrize else rbm.log_unnormalized
    e_loc = H.local_energy(s.visible, log_prob)
    assert s.weights @ e_loc == pytest.approx(_energy(rbm, H, symmetrize))
    grad = qs.energy_gradient(rbm, s, e_loc)
    theta, eps = rbm.parameters, 1e-6
    fd = np.array(
        [
            (
                _energy(rbm.with_parameters(theta + eps * e), H, symmetrize)
                - _energy(rbm.with_parameters(theta - eps * e), H, symmetrize)
            )
            / (2 * eps)
            for e in np.eye(theta.size)
        ]
    )
    np.testing.assert_allclose(grad, fd, atol=1e-7)


def test_vmc_finds_the_ground_state_exactly():
    """Exact expectations, SR: N = 4 at h = 1 to < 1e-3 relative error within 200 iterations."""
    H = qs.TransverseFieldIsing(4, h=1.0)
    vmc = qs.VMC(
        H,
        qs.RBM.random(4, 4, scale=0.1, seed=0),
        qs.ExactBackend(enumerate=True),
        optimizer=qs.SGD(0.1),
        preconditioner=qs.SR(0.01),
        seed=0,
    )
    log = vmc.run(200)
    assert log.sizes["iteration"] == 200
    assert log.relative_error[-1] < 1e-3 and log.fidelity[-1] > 0.999
    assert log.energy[-1] == pytest.approx(log.energy_model[-1])
    assert log.attrs["driver"] == "VMC" and log.attrs["exact_energy"] == pytest.approx(-5.226252, abs=1e-6)


@pytest.mark.parametrize("ratios", ["histogram", "analytic"])
def test_vmc_learns_from_samples(ratios):
    H = qs.TransverseFieldIsing(4, h=1.0)
    vmc = qs.VMC(
        H,
        qs.RBM.random(4, 4, scale=0.1, seed=0),
        qs.ExactBackend(),
        optimizer=qs.SGD(0.1),
        preconditioner=qs.SR(0.01),
        n_samples=2000,
        ratios=ratios,
        seed=0,
    )
    log = vmc.run(200)
    assert np.median(log.relative_error_model[-20:]) < 1e-2
    assert np.median(log.fidelity[-20:]) > 0.97
    assert np.all(log.energy_error > 0)


def _one_step(hidden, preconditioner, n_sites=4):
    vmc = qs.VMC(
        qs.TransverseFieldIsing(n_sites, h=1.0),
        qs.RBM.random(n_sites, n_sites, scale=0.5, seed=3),
        qs.ExactBackend(),
        optimizer=qs.SGD(0.1),
        preconditioner=preconditioner,
        n_samples=3000,
        hidden=hidden,
        seed=4,
    )
    vmc.run(1)
    return vmc.model.parameters


def test_averaged_hidden_states_give_the_sampled_gradient_but_a_smaller_metric():
    """O is linear in h: per-state mean h gives the same gradient, and S loses Var(h | v)."""
    plain = {h: _one_step(h, None) for h in ("sampled", "averaged", "conditional")}
    np.testing.assert_allclose(plain["averaged"], plain["sampled"], rtol=1e-12, atol=1e-12)
    assert not np.allclose(plain["conditional"], plain["sampled"])  # a different (exact) estimate
    sr = {h: _one_step(h, qs.SR(0.01)) for h in ("sampled", "averaged")}
    start = qs.RBM.random(4, 4, scale=0.5, seed=3).parameters
    n_v = 4 + 4  # visible and hidden biases come first; the hidden-bias block is [4:8]
    step = {h: np.linalg.norm((sr[h] - start)[4:n_v]) for h in sr}
    assert step["averaged"] > 1.5 * step["sampled"], step


def test_averaged_hidden_states_reach_the_ground_state_at_n6():
    """Histogram ratios, 10^4 exact draws: with per-state mean h N = 6 gets below 1.5e-3 (sampled: ~2e-3)."""
    H = qs.TransverseFieldIsing(6, h=1.0)
    errors = {}
    for hidden in ("averaged", "sampled"):
        vmc = qs.VMC(
            H,
            qs.RBM.random(6, 6, scale=0.1, seed=1),
            qs.ExactBackend(),
            optimizer=qs.SGD(0.1),
            preconditioner=qs.SR(0.01),
            n_samples=10_000,
            symmetrize=True,
            hidden=hidden,
            seed=1,
        )
        errors[hidden] = float(np.median(vmc.run(150).relative_error_model[-30:]))
    assert errors["averaged"] < 1.5e-3, errors
    assert errors["averaged"] < 0.5 * errors["sampled"], errors


def test_evaluate_measures_without_updating():
    H = qs.TransverseFieldIsing(6, h=1.0)
    model = qs.RBM.random(6, 6, scale=0.5, seed=2)
    vmc = qs.VMC(H, model, qs.ExactBackend(), symmetrize=True, seed=0)
    small = vmc.evaluate(2_000, seed=1)
    large = vmc.evaluate(400_000, seed=1)
    assert vmc.model is model and vmc.step_count == 0  # nothing learned
    exact = small["energy_model"]  # the state's exact energy, same in both records
    assert large["energy_model"] == exact
    # the histogram estimate is biased upwards at small n and converges with n
    assert abs(large["energy"] - exact) < 0.2 * abs(small["energy"] - exact)
    assert abs(large["energy"] - exact) < 5e-3 * abs(exact)
    enumerated = qs.VMC(H, model, qs.ExactBackend(enumerate=True), symmetrize=True).evaluate(1)
    assert enumerated["energy"] == pytest.approx(exact, rel=1e-12)
    with pytest.raises(ValueError, match="n_samples must be an integer >= 1"):
        vmc.evaluate(0)


def test_vmc_rejects_unknown_hidden_mode():
    with pytest.raises(ValueError, match="hidden must be one of"):
        qs.VMC(qs.TransverseFieldIsing(4), qs.RBM.random(4, 2), qs.ExactBackend(), hidden="mean")


def test_symmetrised_state_in_the_ordered_phase():
    """h = 0.5: ψ = √(½(p(v) + p(1 − v))) is Z₂ symmetric by construction."""
    H = qs.TransverseFieldIsing(6, h=0.5)
    vmc = qs.VMC(
        H,
        qs.RBM.random(6, 6, scale=0.1, seed=0),
        qs.ExactBackend(enumerate=True),
        optimizer=qs.SGD(0.1),
        preconditioner=qs.SR(0.01),
        symmetrize=True,
        seed=0,
    )
    log = vmc.run(150)
    assert log.fidelity[-1] > 0.995 and log.relative_error[-1] < 2e-3
    assert {"magnetization", "abs_magnetization", "z2_asymmetry"} <= set(log.data_vars)
    assert 0 <= float(log.z2_asymmetry[-1]) <= 1


def test_vmc_log_saves_and_stops_early(tmp_path):
    H = qs.TransverseFieldIsing(3, h=1.0)
    vmc = qs.VMC(H, qs.RBM.random(3, 2, seed=0), qs.GibbsBackend(n_chains=10), n_samples=200, seed=1)
    out = qs.RunLog(tmp_path / "run.nc", save_every=2)
    log = vmc.run(10, out=out, callback=lambda step, record, driver: step < 4)
    assert log.sizes["iteration"] == 5 and log.iteration.values.tolist() == [0, 1, 2, 3, 4]
    loaded = qs.load_log(tmp_path / "run.nc")
    np.testing.assert_allclose(loaded.energy, log.energy)
    assert loaded.attrs["ratios"] == "histogram" and loaded.attrs["seed"] == 1
    again = vmc.run(2)  # a second run continues the numbering
    assert again.iteration.values.tolist() == [5, 6]


def test_vmc_rejects_mismatched_parts():
    H = qs.TransverseFieldIsing(4, h=1.0)
    with pytest.raises(ValueError, match="4 sites; use RBM.random\\(4, n_hidden\\)"):
        qs.VMC(H, qs.RBM.random(5, 2), qs.ExactBackend())
    with pytest.raises(ValueError, match="ratios must be one of"):
        qs.VMC(H, qs.RBM.random(4, 2), qs.ExactBackend(), ratios="exact")
    with pytest.raises(TypeError, match="backend must be a quantum sampler backend"):
        qs.VMC(H, qs.RBM.random(4, 2), ls.GibbsSampler)
    with pytest.raises(ValueError, match="n_samples must be an integer >= 1"):
        qs.VMC(H, qs.RBM.random(4, 2), qs.ExactBackend(), n_samples=0)
    with pytest.warns(UserWarning, match="cannot represent"):
        qs.VMC(qs.TransverseFieldIsing(4, h=-1.0), qs.RBM.random(4, 2), qs.ExactBackend())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        big = qs.VMC(qs.TransverseFieldIsing(16, h=1.0), qs.RBM.random(16, 2), qs.ExactBackend())
    assert not big.exact and np.isnan(big.e0)
