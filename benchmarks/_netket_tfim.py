"""NetKet's RBM ground state of the periodic TFIM chain, J = h = 1: the quantum study's peer.

Run by ``benchmarks/quantum_study.py`` (part ``netket``) with an interpreter
that has NetKet installed, which is never a dependency of lifsampling::

    python benchmarks/_netket_tfim.py N [N_ITER]

NetKet's standard recipe, as in science.md §10b: ``nk.models.RBM(alpha=1)``
with real parameters, ``MetropolisLocal`` with 16 chains, 1008 samples per
iteration, SGD (0.1) preconditioned by stochastic reconfiguration
(``VMC_SR``, diagonal shift 0.01), seed 1.  The exact ground state comes
from NetKet's Lanczos solver.  Prints one JSON line: relative energy error
(median over the last 20 % of iterations, like the study's rows), fidelity
``|⟨ψ₀|ψ⟩|²`` of the final state, wall time including JAX compilation.
NetKet's ``Ising(J=-1)`` is ``−Σ σᶻσᶻ − h Σ σˣ``, the study's Hamiltonian.
"""

from __future__ import annotations

import json
import sys
import time

import netket as nk
import numpy as np

N_SAMPLES = 1008
N_CHAINS = 16
LEARNING_RATE = 0.1
DIAG_SHIFT = 0.01
SEED = 1


def main(n_sites: int, n_iter: int) -> dict:
    t0 = time.perf_counter()
    hilbert = nk.hilbert.Spin(s=0.5, N=n_sites)
    hamiltonian = nk.operator.Ising(hilbert, nk.graph.Chain(n_sites, pbc=True), h=1.0, J=-1.0)
    energies, vectors = nk.exact.lanczos_ed(hamiltonian, k=1, compute_eigenvectors=True)
    e0, psi0 = float(energies[0]), np.asarray(vectors[:, 0])
    state = nk.vqs.MCState(
        nk.sampler.MetropolisLocal(hilbert, n_chains=N_CHAINS),
        nk.models.RBM(alpha=1, param_dtype=float),
        n_samples=N_SAMPLES,
        seed=SEED,
        sampler_seed=SEED,
    )
    driver = nk.driver.VMC_SR(
        hamiltonian,
        nk.optimizer.Sgd(learning_rate=LEARNING_RATE),
        diag_shift=DIAG_SHIFT,
        variational_state=state,
    )
    log = nk.logging.RuntimeLog()
    driver.run(n_iter=n_iter, out=log, show_progress=False)
    energy = np.real(np.asarray(log.data["Energy"]["Mean"]))
    tail = energy[-max(1, n_iter // 5) :]
    psi = np.asarray(state.to_array())
    return {
        "n_sites": n_sites,
        "netket": nk.__version__,
        "n_samples": N_SAMPLES,
        "n_iter": n_iter,
        "exact_energy": e0,
        "energy": float(np.median(tail)),
        "relative_error": float(np.median(np.abs(tail - e0)) / abs(e0)),
        "fidelity": float(abs(np.vdot(psi0, psi)) ** 2),
        "wall_s": time.perf_counter() - t0,
    }


if __name__ == "__main__":
    n = int(sys.argv[1])
    iterations = int(sys.argv[2]) if len(sys.argv) > 2 else 400
    print(json.dumps(main(n, iterations)))
