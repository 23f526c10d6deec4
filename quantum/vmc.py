"""Variational ground states with ``ψ = √p`` of a sampled Boltzmann machine (Klassert et al. 2022).

The variational state is ``ψ_θ(v) = √p_θ(v)``, ``p_θ`` the visible marginal
of an RBM whose samples come from a backend (exact, Gibbs or a spiking LIF
network).  Each iteration estimates the energy ``E = ⟨E_loc⟩`` and its
gradient

.. math:: ∂_θ E = \\big⟨(E_\\mathrm{loc}(v) − E)\\, ∂_θ \\log \\tilde p(v, h)\\big⟩_{(v,h) \\sim p_θ}

from samples and updates θ with Adam, optionally preconditioned by
stochastic reconfiguration (:class:`quantum.SR`, ``S = ¼ Cov(O_k, O_l)``).
The ratios ``p(v')/p(v)`` in ``E_loc`` come from the histogram of the
samples over all ``2^N`` visible states (``ratios="histogram"``: the paper's
way, needs only samples, feasible for small N) or from the RBM's analytic
marginal (``"analytic"``: scales, exact only if the sampler samples the RBM
faithfully).

Hidden states.  ``ψ`` depends on ``v`` only, so ``O`` enters through
``E[O(v, h) | v]``, and ``O`` is linear in ``h``: any estimate of
``E[h | v]`` will do (``hidden=``).  ``"sampled"`` uses each draw's own
``h`` (the chip's way); ``"averaged"`` (the default with histogram ratios)
the mean sampled ``h`` of all draws with the same visible state, which needs
nothing but the samples and so also holds for a spiking network whose hidden
units do not follow the RBM exactly; ``"conditional"`` (the default with
analytic ratios) the RBM's ``σ(c + Wᵀv)``.  On the same samples
``"sampled"`` and ``"averaged"`` give the *same* gradient; they differ in the
SR matrix ``S``, which with sampled ``h`` also holds the draw-to-draw
variance ``Var(h | v)``: that is not part of the metric of ``ψ``, and it
shrinks the steps along the hidden parameters.  In ``benchmarks/quantum_study.py``
(exact draws, SR + SGD 0.1, 300 iterations) it left the relative error at
1.3e-3 (N = 6), 1.0e-3 (N = 8) and 2.0e-3 (N = 10); averaged: 1.7e-4 and 3.2e-4 (N = 6, 8).

Z₂ symmetry.  The exact ground state of a finite chain is symmetric under the
global spin flip ``v → 1 − v``.  In the ordered phase (``h < J``) its two
halves (mostly up, mostly down) are separated by a barrier that Gibbs chains
and spiking networks rarely cross, and the RBM itself tends to collapse onto
one of them: the energy is then nearly right (the two halves have almost the
same energy) while the fidelity drops towards ½.  With ``symmetrize=True``
the variational state is ``ψ(v) = √(½(p_θ(v) + p_θ(1 − v)))``, exactly
symmetric whatever ``p_θ`` is: ``E_loc`` uses the symmetrised ratios, and
the gradient keeps the form above with samples from ``p_θ`` (because ``E_loc``
of the symmetric state is itself flip invariant).  The log records the
magnetisation of the raw samples and ``z2_asymmetry`` (``|P(M > 0) − P(M < 0)|``,
0 for a symmetric sampler, 1 for a collapsed one) either way.

Reference: R. Klassert, A. Baumbach, M. A. Petrovici, M. Gärttner,
*Variational learning of quantum ground states on spiking neuromorphic
hardware*, iScience 25, 104707 (2022), doi:10.1016/j.isci.2022.104707.

Examples
--------
>>> from quantum import RBM, SGD, SR, VMC, ExactBackend, TransverseFieldIsing
>>> H = TransverseFieldIsing(4, h=1.0)
>>> vmc = VMC(H, RBM.random(4, 4, scale=0.1, seed=0), ExactBackend(enumerate=True),
...           optimizer=SGD(0.1), preconditioner=SR(0.01), seed=0)
>>> log = vmc.run(200)
>>> bool(log.relative_error[-1] < 1e-3), bool(log.fidelity[-1] > 0.999)
(True, True)
"""

from __future__ import annotations

import time
import warnings
from typing import Any, Literal

import numpy as np

from .driver import Driver
from .models import RBM
from .optimizers import SGD, SR, Adam
from .samplers import Backend, Samples, _check_n_samples
from .tfim import MAX_EXACT_SITES, TransverseFieldIsing, empirical_log_prob, symmetrized

__all__ = ["VMC", "energy_gradient"]

RATIO_MODES = ("histogram", "analytic")
HIDDEN_MODES = ("sampled", "averaged", "conditional")


def energy_gradient(model: RBM, samples: Samples, local_energies: np.ndarray, hidden=None) -> np.ndarray:
    """``Σ_s w_s (E_loc(v_s) − E) O(v_s, h_s)``: the §10b estimate of ``∂E/∂θ``.

    ``hidden`` replaces the sampled hidden states (e.g. by ``E[h | v]``).
    """
    w = samples.weights
    energy = float(w @ local_energies)
    h = samples.hidden if hidden is None else hidden
    return model.weighted_sum(samples.visible, h, w * (local_energies - energy))


class VMC(Driver):
    """Variational Monte Carlo for the transverse-field Ising chain with ``ψ = √p_θ``.

    Parameters
    ----------
    hamiltonian : TransverseFieldIsing
    model : RBM
        One visible unit per site.
    backend : Backend
        Where the samples come from.
    optimizer : Adam or SGD, optional
        Default ``Adam(learning_rate=0.01)``.  ``SGD(0.1)`` with ``SR(0.01)``
        converges much faster here: plain Adam from small weights tends to
        stall for hundreds of iterations near a magnetised, almost product
        state (relative error ~3e-2, fidelity ~0.6).
    preconditioner : SR, optional
        Stochastic reconfiguration; the optimiser then receives ``S⁻¹ F``
        (``F = ½ ∂E``, the force of ``log ψ = ½ log p``).  With ``symmetrize``
        ``S`` is that of ``p_θ``, a positive-definite stand-in for the metric of
        the symmetrised state.
    n_samples : int
        Samples per iteration.
    ratios : {"histogram", "analytic"}
        Where ``p(v')/p(v)`` comes from (see the module docstring).
    symmetrize : bool
        Use the Z₂-symmetrised state ``√(½(p(v) + p(1 − v)))``.
    hidden : {"averaged", "sampled", "conditional"}, optional
        The hidden states in ``O(v, h)`` (see the module docstring).  Default:
        ``"averaged"`` with histogram ratios, ``"conditional"`` with analytic ones.
    exact : bool or None
        Log exact references (relative error, fidelity with the exact ground
        state, exact energy of the model).  Default: if ``n_sites ≤ 14``.
    seed : int or numpy.random.Generator, optional
        Drives every backend call.

    Notes
    -----
    Per iteration (for the model *before* the iteration's update) the log has
    ``energy`` (sample estimate), ``energy_error`` (standard error ignoring
    autocorrelation), ``energy_variance``, ``relative_error`` (``|E − E₀|/|E₀|``
    of the estimate); with an exact reference ``energy_model`` and
    ``relative_error_model`` (exact energy of the RBM's state), ``overlap``
    ``|⟨ψ₀|ψ_θ⟩|`` and ``fidelity`` ``|⟨ψ₀|ψ_θ⟩|²`` of the RBM's state, and
    ``fidelity_sampled`` of the sampled state ``√p̂`` (histogram); the Z₂
    check ``magnetization``, ``abs_magnetization`` and ``z2_asymmetry`` of the
    raw samples; ``grad_norm``, ``sample_wall_s``, ``step_wall_s``.
    """

    dim = "iteration"

    def __init__(
        self,
        hamiltonian: TransverseFieldIsing,
        model: RBM,
        backend: Backend,
        *,
        optimizer: Adam | SGD | None = None,
        preconditioner: SR | None = None,
        n_samples: int = 10_000,
        ratios: Literal["histogram", "analytic"] = "histogram",
        symmetrize: bool = False,
        hidden: Literal["sampled", "averaged", "conditional"] | None = None,
        exact: bool | None = None,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        super().__init__(model, backend, optimizer, n_samples, seed)
        if not isinstance(hamiltonian, TransverseFieldIsing):
            raise TypeError(f"hamiltonian must be a TransverseFieldIsing, got {type(hamiltonian).__name__}.")
        if model.n_visible != hamiltonian.n_sites:
            raise ValueError(
                f"the model has {model.n_visible} visible units but the chain has {hamiltonian.n_sites} "
                f"sites; use RBM.random({hamiltonian.n_sites}, n_hidden)."
            )
        if ratios not in RATIO_MODES:
            raise ValueError(f"ratios must be one of {RATIO_MODES}, got {ratios!r}.")
        if hidden is None:
            hidden = "conditional" if ratios == "analytic" else "averaged"
        if hidden not in HIDDEN_MODES:
            raise ValueError(f"hidden must be one of {HIDDEN_MODES} or None, got {hidden!r}.")
        if preconditioner is not None and not isinstance(preconditioner, SR):
            raise TypeError(f"preconditioner must be SR or None, got {type(preconditioner).__name__}.")
        if not hamiltonian.stoquastic:
            warnings.warn(
                f"h = {hamiltonian.h} < 0: the ground state has sign changes that ψ = √p cannot "
                "represent; flip the sign of h (an equivalent model) instead.",
                UserWarning,
                stacklevel=2,
            )
        self.hamiltonian = hamiltonian
        self.preconditioner = preconditioner
        self.ratios = ratios
        self.hidden = hidden
        self.symmetrize = bool(symmetrize)
        self.exact = hamiltonian.n_sites <= MAX_EXACT_SITES if exact is None else bool(exact)
        if self.exact:
            self.e0, self.psi0 = hamiltonian.ground_state()
        else:
            self.e0, self.psi0 = float("nan"), None

    def describe(self) -> dict[str, Any]:
        d = super().describe()
        H = self.hamiltonian
        d.update(
            hamiltonian=repr(H),
            n_sites=H.n_sites,
            h=H.h,
            J=H.J,
            pbc=H.pbc,
            ratios=self.ratios,
            hidden=self.hidden,
            symmetrize=self.symmetrize,
            preconditioner=repr(self.preconditioner),
            exact_energy=self.e0,
            reference="Klassert et al., iScience 25, 104707 (2022)",
        )
        return d

    def _log_prob(self, samples: Samples):
        lp = (
            empirical_log_prob(samples.visible, samples.weights)
            if self.ratios == "histogram"
            else self.model.log_unnormalized
        )
        return symmetrized(lp) if self.symmetrize else lp

    def _state(self, p: np.ndarray) -> np.ndarray:
        """``√p`` over all visible states, symmetrised if asked."""
        if self.symmetrize:
            p = 0.5 * (p + p[::-1])  # index of 1 − v is 2^N − 1 − index of v
        return np.sqrt(p / p.sum())

    def evaluate(self, n_samples: int, *, seed: int | np.random.Generator | None = None) -> dict[str, float]:
        """Measure the current model without updating it: one (typically larger) batch of samples.

        The energy estimate of an iteration is that of the batch the
        iteration drew, and with histogram ratios it is biased upwards by the
        noise of rarely visited states (more so for correlated samples, such
        as a spiking network's).  A final batch of, say, 10-20x the training
        samples measures the state the sampler represents much more precisely.

        Parameters
        ----------
        n_samples : int
            Samples to draw.
        seed : int or numpy.random.Generator, optional

        Returns
        -------
        dict
            The record an iteration logs (``energy``, ``energy_error``,
            ``relative_error``, ``fidelity_sampled``, ``z2_asymmetry``, …) for
            the current model, without gradient entries.

        Examples
        --------
        >>> from quantum import RBM, ExactBackend, TransverseFieldIsing
        >>> vmc = VMC(TransverseFieldIsing(4), RBM.random(4, 4, seed=0), ExactBackend(), seed=0)
        >>> record = vmc.evaluate(10_000, seed=1)
        >>> sorted(k for k in record if k.startswith("energy"))
        ['energy', 'energy_error', 'energy_model', 'energy_variance']
        """
        samples = self.backend.sample(self.model, _check_n_samples(n_samples), seed=seed)
        record, _ = self._estimate(samples)
        record["sample_wall_s"] = samples.wall_time
        return record

    def _estimate(self, samples: Samples) -> tuple[dict[str, float], np.ndarray]:
        """The logged estimates for ``samples`` of the current model, and the local energies."""
        model, H = self.model, self.hamiltonian
        w = samples.weights
        e_loc = H.local_energy(samples.visible, self._log_prob(samples))
        energy = float(w @ e_loc)
        variance = float(w @ (e_loc - energy) ** 2)
        n_eff = 1.0 / float(w @ w)
        m = H.magnetization(samples.visible)
        record = {
            "energy": energy,
            "energy_error": float(np.sqrt(variance / n_eff)) if not samples.exact else 0.0,
            "energy_variance": variance,
            "relative_error": abs(energy - self.e0) / abs(self.e0),
            "magnetization": float(w @ m),
            "abs_magnetization": float(w @ np.abs(m)),
            "z2_asymmetry": float(abs(w @ np.sign(m))),
        }
        if self.exact:
            psi = self._state(model.visible_probabilities())
            e_model = H.expectation(psi)
            overlap = float(abs(self.psi0 @ psi))
            psi_hat = self._state(samples.visible_distribution())
            record.update(
                energy_model=e_model,
                relative_error_model=abs(e_model - self.e0) / abs(self.e0),
                overlap=overlap,
                fidelity=overlap**2,
                fidelity_sampled=float(self.psi0 @ psi_hat) ** 2,
            )
        return record, e_loc

    def _step(self, seed: int) -> dict[str, float]:
        t0 = time.perf_counter()
        model = self.model
        samples = self.backend.sample(model, self.n_samples, seed=seed)
        record, e_loc = self._estimate(samples)
        energy = record["energy"]
        w = samples.weights
        if self.hidden == "sampled":  # the sampled hidden states, as on the chip
            v_o, h_o, w_o, e_o = samples.visible, samples.hidden, w, e_loc
        else:  # O(v) = O(v, E[h|v]) depends on v only: one row per distinct visible state
            uniq, first, inverse = np.unique(
                samples.visible_indices(), return_index=True, return_inverse=True
            )
            inverse = inverse.ravel()
            v_o = samples.visible[first]
            w_o = np.bincount(inverse, weights=w, minlength=uniq.size)
            e_o = e_loc[first]
            if self.hidden == "conditional":
                h_o = model.hidden_means(v_o)
            else:  # "averaged": the mean sampled hidden state of each visible state
                h_o = np.stack(
                    [np.bincount(inverse, weights=w * hj, minlength=uniq.size) for hj in samples.hidden.T],
                    axis=1,
                ).reshape(uniq.size, model.n_hidden)
                h_o /= w_o[:, None]
        grad = model.weighted_sum(v_o, h_o, w_o * (e_o - energy))
        direction = grad
        if self.preconditioner is not None:
            sub = self.preconditioner.subset(w_o.size)
            w_sub = w_o[sub] / w_o[sub].sum()
            s_matrix = 0.25 * model.weighted_covariance(v_o[sub], h_o[sub], w_sub)
            direction = self.preconditioner.apply(s_matrix, 0.5 * grad)
        self.model = model.with_parameters(self.optimizer.step(model.parameters, direction))
        record.update(
            grad_norm=float(np.linalg.norm(grad)),
            sample_wall_s=samples.wall_time,
            step_wall_s=time.perf_counter() - t0,
        )
        return record
