"""Learning a quantum state from its POVM measurement statistics (Czischek et al. 2022).

An RBM with two visible units per qubit (:func:`quantum.povm.encode_outcomes`)
is trained to reproduce the tetrahedral-POVM outcome distribution ``P*`` of a
target state — the exact one or the histogram of a finite number of simulated
measurements — by minimising ``DKL(P* ‖ P_θ)`` with the sample-based gradient

.. math:: ∂_θ D_\\mathrm{KL} = −\\big⟨(P^*(v)/P_θ(v) − 1)\\, ∂_θ \\log \\tilde p(v, h)\\big⟩_{(v,h) \\sim p_θ}

and Adam.  ``P_θ(v)`` in the ratio is the histogram of the same samples
(``probabilities="histogram"``, the paper's way, which needs nothing but
samples — a spiking network provides them) or the RBM's exact visible
marginal (``"analytic"``).  From each epoch's distribution the state
``ρ_θ = Σ_a P_θ(a) ⊗ Q_{a_i}`` is reconstructed and compared with the target.

Reference: S. Czischek, A. Baumbach, S. Billaudelle, B. Cramer, L. Kades,
J. M. Pawlowski, M. K. Oberthaler, J. Schemmel, M. A. Petrovici, T. Gasenzer,
M. Gärttner, *Spiking neuromorphic chip learns entangled quantum states*,
SciPost Phys. 12, 039 (2022), doi:10.21468/SciPostPhys.12.3.039.

Examples
--------
>>> from quantum import RBM, ExactBackend, StateLearning, bell_state, Adam
>>> driver = StateLearning(bell_state("phi+"), RBM.random(4, 8, scale=0.1, seed=0),
...                        ExactBackend(enumerate=True), optimizer=Adam(0.05), seed=1)
>>> log = driver.run(300)
>>> bool(log.quantum_fidelity_model[-1] > 0.95)
True
"""

from __future__ import annotations

import time
from typing import Any, Literal

import numpy as np

from .driver import Driver
from .metrics import bell_operator_from_probabilities, classical_fidelity, kl_divergence, quantum_fidelity
from .models import RBM
from .optimizers import SGD, Adam
from .povm import TetrahedralPOVM
from .samplers import Backend
from .states import density_matrix, n_qubits_of

__all__ = ["StateLearning", "povm_gradient"]

PROBABILITY_MODES = ("histogram", "analytic")
#: Pseudo-count per outcome of the sampled distribution in ``dkl_sampled``.
PSEUDO_COUNT = 0.5


def povm_gradient(model: RBM, samples, target: np.ndarray, p_estimate: np.ndarray) -> np.ndarray:
    """``−Σ_s w_s (P*(v_s)/P̂(v_s) − 1) O(v_s, h_s)``: the §10a estimate of ``∂DKL(P* ‖ P_θ)/∂θ``.

    Parameters
    ----------
    model : RBM
    samples : Samples
        From a backend (``weights`` sum to 1).
    target : array, shape (4**N,)
        ``P*`` by outcome index.
    p_estimate : array, shape (4**N,)
        ``P_θ`` by outcome index, positive wherever a sample lies.
    """
    idx = samples.visible_indices()
    coef = -samples.weights * (target[idx] / p_estimate[idx] - 1.0)
    return model.weighted_sum(samples.visible, samples.hidden, coef)


class StateLearning(Driver):
    """Train an RBM on the POVM statistics of a quantum state; one epoch = one update.

    Parameters
    ----------
    target : array_like
        State vector or density matrix of ``N`` qubits (validated).
    model : RBM
        ``2N`` visible units (two per qubit), any number of hidden units.
    backend : Backend
        Where the model's samples come from (:class:`ExactBackend`,
        :class:`GibbsBackend`, :class:`LIFBackend`).
    optimizer : Adam or SGD, optional
        Default ``Adam(learning_rate=0.01)``.
    n_samples : int
        Samples per epoch.
    n_measurements : int, optional
        Train on the histogram of this many simulated measurements of the
        target (drawn once, from ``seed``) instead of the exact ``P*``.
    probabilities : {"histogram", "analytic"}
        ``P_θ(v)`` in the gradient: histogram of the epoch's samples, or the
        RBM's exact marginal.
    theta : float
        Angle of the logged Bell value ``B(θ)`` (two or more qubits).
    seed : int or numpy.random.Generator, optional
        Drives the measurement data and every backend call.

    Attributes
    ----------
    model : RBM
        The current model (updated by :meth:`run`).
    target_distribution : numpy.ndarray
        Exact ``P*`` of the target state.
    data_distribution : numpy.ndarray
        What the model is trained on (``P*`` or the measured histogram).

    Notes
    -----
    Per epoch the log records, for the model *before* the epoch's update:
    ``quantum_fidelity``, ``classical_fidelity``, ``dkl`` (``DKL(P* ‖ ·)``,
    nats), ``bell`` (``B(θ)``) — each with suffix ``_sampled`` (the histogram
    of the epoch's samples: what the sampler represents, a spiking network
    included; ``dkl_sampled`` with a pseudo-count of ½ per outcome) and
    ``_model`` (the RBM's exact distribution) — and ``grad_norm``,
    ``sample_wall_s``, ``step_wall_s``.

    The state reconstructed from a learned or sampled distribution is
    Hermitian with trace 1 but need not be positive (not every distribution
    over outcomes is the POVM distribution of a state); ``min_eigenvalue_*``
    records its smallest eigenvalue.  The fidelity formula is then applied
    with negative eigenvalues of ``√ρ σ √ρ`` counted as zero, and it, like
    ``B(θ)``, can come out slightly above its physical bound (1, ``2√2``):
    a sign of a non-positive reconstruction, not of a better state.
    """

    dim = "epoch"

    def __init__(
        self,
        target,
        model: RBM,
        backend: Backend,
        *,
        optimizer: Adam | SGD | None = None,
        n_samples: int = 10_000,
        n_measurements: int | None = None,
        probabilities: Literal["histogram", "analytic"] = "histogram",
        theta: float = np.pi / 4,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        super().__init__(model, backend, optimizer, n_samples, seed)
        self.rho = density_matrix(target)
        n_qubits = n_qubits_of(self.rho.shape[0], "target state")
        self.povm = TetrahedralPOVM(n_qubits)
        if model.n_visible != self.povm.n_visible:
            raise ValueError(
                f"the model has {model.n_visible} visible units but {n_qubits} qubit(s) need "
                f"{self.povm.n_visible} (two per qubit); use RBM.random({self.povm.n_visible}, n_hidden)."
            )
        if probabilities not in PROBABILITY_MODES:
            raise ValueError(f"probabilities must be one of {PROBABILITY_MODES}, got {probabilities!r}.")
        self.probabilities = probabilities
        self.theta = float(theta)
        self.target_distribution = self.povm.probabilities(self.rho)
        self.n_measurements = n_measurements
        if n_measurements is None:
            self.data_distribution = self.target_distribution
        else:
            outcomes = self.povm.sample(self.rho, n_measurements, seed=self._rng)
            self.data_distribution = self.povm.histogram(outcomes)

    def describe(self) -> dict[str, Any]:
        d = super().describe()
        d.update(
            n_qubits=self.povm.n_qubits,
            n_measurements=self.n_measurements,
            probabilities=self.probabilities,
            bell_theta=self.theta,
            reference="Czischek et al., SciPost Phys. 12, 039 (2022)",
        )
        return d

    def metrics(self, distribution: np.ndarray, suffix: str) -> dict[str, float]:
        """Quantum and classical fidelity, DKL and Bell value of an outcome distribution."""
        rho_hat = self.povm.reconstruct(distribution)
        out = {
            f"quantum_fidelity{suffix}": quantum_fidelity(self.rho, rho_hat, allow_unphysical=True),
            f"classical_fidelity{suffix}": classical_fidelity(self.target_distribution, distribution),
            f"dkl{suffix}": kl_divergence(self.target_distribution, distribution),
            f"min_eigenvalue{suffix}": float(np.linalg.eigvalsh(rho_hat)[0]),
        }
        if self.povm.n_qubits >= 2:
            out[f"bell{suffix}"] = bell_operator_from_probabilities(distribution, self.theta)
        return out

    def _step(self, seed: int) -> dict[str, float]:
        t0 = time.perf_counter()
        model = self.model
        samples = self.backend.sample(model, self.n_samples, seed=seed)
        p_hist = samples.visible_distribution()
        p_model = model.visible_probabilities()
        p_est = p_hist if self.probabilities == "histogram" else p_model
        grad = povm_gradient(model, samples, self.data_distribution, p_est)
        self.model = model.with_parameters(self.optimizer.step(model.parameters, grad))
        record = {**self.metrics(p_hist / p_hist.sum(), "_sampled"), **self.metrics(p_model, "_model")}
        if not samples.exact:  # a finite histogram misses outcomes: DKL with a pseudo-count
            counts = p_hist * samples.n_samples
            q = (counts + PSEUDO_COUNT) / (counts.sum() + PSEUDO_COUNT * counts.size)
            record["dkl_sampled"] = kl_divergence(self.target_distribution, q)
        record.update(
            grad_norm=float(np.linalg.norm(grad)),
            sample_wall_s=samples.wall_time,
            step_wall_s=time.perf_counter() - t0,
        )
        return record
