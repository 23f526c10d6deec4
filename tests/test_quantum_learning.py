"""quantum.state_learning: the POVM gradient and learning Bell, Werner and GHZ states."""

from __future__ import annotations

import numpy as np
import pytest

import quantum as qs


def _dkl(rbm: qs.RBM, target: np.ndarray) -> float:
    return qs.kl_divergence(target, rbm.visible_probabilities())


@pytest.mark.parametrize("probabilities", ["histogram", "analytic"])
def test_povm_gradient_against_finite_differences(probabilities):
    """With exact expectations the §10a estimate is ∂DKL(P* ‖ P_θ)/∂θ, for both P_θ estimates."""
    target = qs.TetrahedralPOVM(2).probabilities(qs.werner_state(0.7))
    rbm = qs.RBM.random(4, 3, scale=0.5, seed=1)
    s = qs.ExactBackend(enumerate=True).sample(rbm, 1)
    p_est = s.visible_distribution() if probabilities == "histogram" else rbm.visible_probabilities()
    grad = qs.povm_gradient(rbm, s, target, p_est)
    theta, eps = rbm.parameters, 1e-6
    fd = np.array(
        [
            (
                _dkl(rbm.with_parameters(theta + eps * e), target)
                - _dkl(rbm.with_parameters(theta - eps * e), target)
            )
            / (2 * eps)
            for e in np.eye(theta.size)
        ]
    )
    np.testing.assert_allclose(grad, fd, atol=1e-7)


def test_povm_gradient_from_samples_is_unbiased():
    """The histogram-based estimate from i.i.d. draws averages to the exact gradient."""
    target = qs.TetrahedralPOVM(2).probabilities(qs.bell_state("phi+"))
    rbm = qs.RBM.random(4, 2, scale=0.5, seed=2)
    exact = qs.ExactBackend(enumerate=True).sample(rbm, 1)
    g_exact = qs.povm_gradient(rbm, exact, target, rbm.visible_probabilities())
    backend = qs.ExactBackend()
    grads = []
    for seed in range(20):
        s = backend.sample(rbm, 5000, seed=seed)
        grads.append(qs.povm_gradient(rbm, s, target, rbm.visible_probabilities()))
    grads = np.array(grads)
    err = grads.std(axis=0) / np.sqrt(len(grads))
    assert np.all(np.abs(grads.mean(axis=0) - g_exact) < 5 * err + 1e-3)


def test_bell_state_is_learned_with_exact_expectations():
    """A real check that learning works: |Φ+⟩ to F > 0.99 and B(π/4) > 2.7 in 300 epochs."""
    driver = qs.StateLearning(
        qs.bell_state("phi+"),
        qs.RBM.random(4, 8, scale=0.1, seed=0),
        qs.ExactBackend(enumerate=True),
        optimizer=qs.Adam(0.05),
        seed=1,
    )
    log = driver.run(300)
    assert log.sizes["epoch"] == 300
    assert log.quantum_fidelity_model[0] < 0.6
    assert log.quantum_fidelity_model[-1] > 0.99 and log.bell_model[-1] > 2.7
    assert log.classical_fidelity_model[-1] > 0.999 and log.dkl_model[-1] < 1e-3
    # with exact expectations the "sampled" distribution is the model's
    np.testing.assert_allclose(log.quantum_fidelity_sampled, log.quantum_fidelity_model)
    final = driver.model.visible_probabilities()
    assert (
        qs.quantum_fidelity(qs.bell_state("phi+"), driver.povm.reconstruct(final), allow_unphysical=True)
        > 0.99
    )


def test_werner_state_from_samples():
    """Werner r = 0.5 from i.i.d. model samples (histogram ratios): B(π/4) approaches √2."""
    driver = qs.StateLearning(
        qs.werner_state(0.5),
        qs.RBM.random(4, 4, scale=0.1, seed=0),
        qs.ExactBackend(),
        optimizer=qs.Adam(0.1),
        n_samples=4000,
        seed=2,
    )
    log = driver.run(200)
    assert abs(float(log.bell_model[-20:].mean()) - np.sqrt(2)) < 0.1
    assert float(log.quantum_fidelity_model[-20:].mean()) > 0.98
    assert np.all(np.isfinite(log.dkl_sampled))  # pseudo-count: finite although outcomes are missed


def test_learning_from_measurement_data():
    target = qs.ghz_state(3)
    driver = qs.StateLearning(
        target,
        qs.RBM.random(6, 6, scale=0.1, seed=0),
        qs.ExactBackend(enumerate=True),
        optimizer=qs.Adam(0.05),
        n_measurements=2000,
        seed=4,
    )
    assert driver.data_distribution.sum() == pytest.approx(1.0)
    assert not np.allclose(driver.data_distribution, driver.target_distribution)
    again = qs.StateLearning(
        target, qs.RBM.random(6, 6, seed=0), qs.ExactBackend(enumerate=True), n_measurements=2000, seed=4
    )
    np.testing.assert_array_equal(again.data_distribution, driver.data_distribution)
    log = driver.run(100)
    assert log.attrs["n_measurements"] == 2000 and log.attrs["n_qubits"] == 3
    assert float(log.quantum_fidelity_model[-1]) > float(log.quantum_fidelity_model[0])
    assert "bell_model" in log  # on qubits 0 and 1


def test_learning_log_round_trip(tmp_path):
    driver = qs.StateLearning(
        qs.bell_state("psi-"),
        qs.RBM.random(4, 2, seed=0),
        qs.GibbsBackend(n_chains=20),
        n_samples=400,
        seed=0,
    )
    log = driver.run(3)
    assert set(log.dims) == {"epoch"}
    expected = {"quantum_fidelity", "classical_fidelity", "dkl", "bell"}
    assert {f"{k}_{s}" for k in expected for s in ("sampled", "model")} <= set(log.data_vars)
    qs.save_log(log, tmp_path / "log.nc")
    loaded = qs.load_log(tmp_path / "log.nc")
    np.testing.assert_allclose(loaded.bell_model, log.bell_model)
    assert loaded.attrs["backend"].startswith("GibbsBackend")


def test_state_learning_rejects_bad_input():
    rbm = qs.RBM.random(4, 2, seed=0)
    with pytest.raises(ValueError, match="2 qubit\\(s\\) need 6|3 qubit\\(s\\) need 6"):
        qs.StateLearning(qs.ghz_state(3), rbm, qs.ExactBackend())
    with pytest.raises(ValueError, match="probabilities must be one of"):
        qs.StateLearning(qs.bell_state(), rbm, qs.ExactBackend(), probabilities="exact")
    with pytest.raises(ValueError, match="trace 1"):
        qs.StateLearning(2 * qs.werner_state(0.5), rbm, qs.ExactBackend())
    with pytest.raises(ValueError, match="Hermitian"):
        qs.StateLearning(np.triu(np.ones((4, 4))) / 4, rbm, qs.ExactBackend())
    with pytest.raises(TypeError, match="model must be a quantum.RBM"):
        qs.StateLearning(qs.bell_state(), rbm.to_boltzmann(), qs.ExactBackend())
