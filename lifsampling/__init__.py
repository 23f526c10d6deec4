"""lifsampling: sampling-based inference with spiking LIF neurons.

Define a target distribution (a Boltzmann machine), let a network of
conductance-based leaky integrate-and-fire neurons sample from it, and measure
how well it sampled.

>>> import lifsampling as ls
>>> bm = ls.random_boltzmann_machine(5, seed=0)
>>> result = ls.LIFSampler(bm).sample(10_000.0, n_chains=8, seed=1)  # doctest: +SKIP
>>> ls.kl_divergence(bm, result)                                     # doctest: +SKIP
>>> ls.diagnose(result).verdict                                      # doctest: +SKIP
"""

from ._cache import CacheEntryWarning
from ._checkpoint import CheckpointError
from .alignment import SAL, asymmetry, effective_asymmetry, effective_couplings
from .calibration import Calibration, CalibrationMismatchError, calibrate
from .diagnostics import Diagnostics, DiagnosticsWarning, compare, diagnose
from .distributed import Run, local_cluster, sample_many
from .divergence import KLDivergence, dkl_vs_time, kl_divergence
from .evidence import ClampLeakWarning, clamp_agreement, condition, evidence_of
from .gibbs import GibbsSampler
from .graphical import BayesianNetwork, CompiledModel, FactorGraph, compile_to_boltzmann
from .inference_data import to_inference_data
from .interaction import InteractionCalibration, calibrate_interactions
from .learning import WakeSleep, fine_tune, network_from_boltzmann
from .membrane import FreeMembrane, free_membrane
from .mismatch import ParameterNoise
from .modes import (
    MixingMetrics,
    Modes,
    assign_modes,
    attractor_boltzmann_machine,
    clustered_boltzmann_machine,
    describe_modes,
    find_modes,
    mixing_metrics,
)
from .neurons import NeuronParameters
from .noise import NoiseSource, OscillatingPoissonNoise, PoissonNoise
from .queries import Estimate, map_state, posterior_marginals, probability
from .readout import StateReadout, states_from_spikes
from .report import Report, write_report
from .results import (
    joint_distribution,
    load_result,
    make_result,
    marginals,
    result_target,
    sample_interval,
    save_result,
    state_counts,
)
from .sampler import LIFSampler
from .sampling import Sampler
from .targets import (
    BoltzmannMachine,
    RestrictedBoltzmannMachine,
    all_states,
    indices_to_states,
    load_target,
    random_boltzmann_machine,
    states_to_indices,
)
from .tempering import TemperatureMap, phase_gate, temperature_map
from .translation import LIFParameters, boltzmann_to_lif, lif_to_boltzmann

__version__ = "0.1.0"

__all__ = [
    "BayesianNetwork",
    "BoltzmannMachine",
    "CacheEntryWarning",
    "Calibration",
    "CalibrationMismatchError",
    "CheckpointError",
    "ClampLeakWarning",
    "CompiledModel",
    "Diagnostics",
    "DiagnosticsWarning",
    "Estimate",
    "FactorGraph",
    "FreeMembrane",
    "GibbsSampler",
    "InteractionCalibration",
    "KLDivergence",
    "LIFParameters",
    "LIFSampler",
    "MixingMetrics",
    "Modes",
    "NeuronParameters",
    "NoiseSource",
    "OscillatingPoissonNoise",
    "ParameterNoise",
    "PoissonNoise",
    "Report",
    "Run",
    "RestrictedBoltzmannMachine",
    "SAL",
    "Sampler",
    "StateReadout",
    "TemperatureMap",
    "WakeSleep",
    "all_states",
    "asymmetry",
    "assign_modes",
    "attractor_boltzmann_machine",
    "boltzmann_to_lif",
    "calibrate",
    "calibrate_interactions",
    "clamp_agreement",
    "clustered_boltzmann_machine",
    "compare",
    "compile_to_boltzmann",
    "condition",
    "describe_modes",
    "diagnose",
    "dkl_vs_time",
    "effective_asymmetry",
    "effective_couplings",
    "evidence_of",
    "find_modes",
    "fine_tune",
    "free_membrane",
    "indices_to_states",
    "joint_distribution",
    "kl_divergence",
    "lif_to_boltzmann",
    "load_result",
    "load_target",
    "local_cluster",
    "make_result",
    "map_state",
    "marginals",
    "mixing_metrics",
    "network_from_boltzmann",
    "phase_gate",
    "posterior_marginals",
    "probability",
    "random_boltzmann_machine",
    "result_target",
    "sample_interval",
    "sample_many",
    "save_result",
    "state_counts",
    "states_from_spikes",
    "states_to_indices",
    "temperature_map",
    "to_inference_data",
    "write_report",
]
