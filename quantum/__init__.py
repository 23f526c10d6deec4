"""quantum: entangled states and Ising ground states represented by (spiking) samplers.

Neural-network quantum states with a Boltzmann machine whose samples come
from exact enumeration, Gibbs chains or a network of spiking LIF neurons
(:mod:`lifsampling`).  The pieces compose as in NetKet: a state or a
Hamiltonian, a model (:class:`RBM`), a sampler backend, an optimiser and a
driver that logs into an :class:`xarray.Dataset`.

* Learning a state from POVM measurement statistics — Czischek et al.,
  *Spiking neuromorphic chip learns entangled quantum states*, SciPost Phys.
  12, 039 (2022): :class:`TetrahedralPOVM`, :class:`StateLearning`.
* Variational ground states of the transverse-field Ising chain with
  ``ψ = √p`` — Klassert et al., *Variational learning of quantum ground
  states on spiking neuromorphic hardware*, iScience 25, 104707 (2022):
  :class:`TransverseFieldIsing`, :class:`VMC`.

Examples
--------
>>> import quantum as qs
>>> driver = qs.StateLearning(
...     qs.bell_state("phi+"), qs.RBM.random(4, 20, scale=0.1, seed=0),
...     qs.GibbsBackend(n_chains=100), optimizer=qs.Adam(0.02), n_samples=10_000, seed=1)
>>> log = driver.run(500)                                     # doctest: +SKIP
>>> float(log.quantum_fidelity_sampled[-50:].mean())          # doctest: +SKIP
>>> H = qs.TransverseFieldIsing(6, h=1.0)
>>> vmc = qs.VMC(H, qs.RBM.random(6, 6, scale=0.1, seed=0), qs.ExactBackend(),
...              optimizer=qs.Adam(0.02), n_samples=5_000, seed=1)
>>> log = vmc.run(300)                                        # doctest: +SKIP
"""

from .log import RunLog, load_log, save_log
from .metrics import (
    bell_operator,
    bell_operator_from_probabilities,
    classical_fidelity,
    correlator,
    kl_divergence,
    quantum_fidelity,
)
from .models import RBM
from .optimizers import SGD, SR, Adam
from .povm import (
    TETRAHEDRON,
    TetrahedralPOVM,
    decode_visible,
    encode_outcomes,
    outcome_digits,
    outcome_index,
)
from .samplers import Backend, ExactBackend, GibbsBackend, LIFBackend, Samples
from .state_learning import StateLearning, povm_gradient
from .states import (
    BELL_STATES,
    PAULI,
    bell_state,
    check_density_matrix,
    check_state_vector,
    density_matrix,
    ghz_state,
    partial_trace,
    w_state,
    werner_state,
)
from .tfim import MAX_EXACT_SITES, TransverseFieldIsing, empirical_log_prob, symmetrized
from .vmc import VMC, energy_gradient

__all__ = [
    "Adam",
    "BELL_STATES",
    "Backend",
    "ExactBackend",
    "GibbsBackend",
    "LIFBackend",
    "MAX_EXACT_SITES",
    "PAULI",
    "RBM",
    "RunLog",
    "SGD",
    "SR",
    "Samples",
    "StateLearning",
    "TETRAHEDRON",
    "TetrahedralPOVM",
    "TransverseFieldIsing",
    "VMC",
    "bell_operator",
    "bell_operator_from_probabilities",
    "bell_state",
    "check_density_matrix",
    "check_state_vector",
    "classical_fidelity",
    "correlator",
    "decode_visible",
    "density_matrix",
    "empirical_log_prob",
    "encode_outcomes",
    "energy_gradient",
    "ghz_state",
    "kl_divergence",
    "load_log",
    "outcome_digits",
    "outcome_index",
    "partial_trace",
    "povm_gradient",
    "quantum_fidelity",
    "save_log",
    "symmetrized",
    "w_state",
    "werner_state",
]
