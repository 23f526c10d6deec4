"""Background noise sources for LIF sampling beyond private Poisson input.

Pick a noise model in one argument of :class:`lifsampling.LIFSampler`::

    import lifsampling as ls
    import noise_sources as ns

    bm = ls.random_boltzmann_machine(5, seed=0)
    ls.LIFSampler(bm, noise=ns.PoissonNoise.preset("sbs"))           # private Poisson (reference)
    ls.LIFSampler(bm, noise=ns.SharedPoolNoise(500, in_degree=100))  # shared Poisson pool
    ls.LIFSampler(bm, noise=ns.NetworkNoise(300, in_degree=100))     # deterministic network
    ls.LIFSampler(bm, noise=ns.EnsembleNoise(n_units=5, in_degree=20))  # chains drive each other

and train the network under the noise it gets (wake–sleep, Dold et al. 2019)::

    ls.fine_tune(ls.LIFSampler(bm, noise=ns.NetworkNoise(300, in_degree=30)))
    ns.train_together(bms, ns.NetworkNoise(300, in_degree=30))  # many targets sharing one network
    ns.train_ensemble(bms, n_copies=8, noise=ns.EnsembleNoise(5, in_degree=100))

Modules: :mod:`~noise_sources.pool` (shared Poisson pool), :mod:`~noise_sources.network`
(deterministic recurrent network, Jordan et al. 2019, Sci. Rep. 9, 18303),
:mod:`~noise_sources.ensemble` (sampling networks as each other's noise,
Dold et al. 2019, Neural Networks 119, 200; running and training many networks
in one simulation), :mod:`~noise_sources.measures`
(input correlations, noise autocorrelation time, free-membrane statistics).
"""

from lifsampling.noise import NoiseSource, PoissonNoise

from ._registry import from_dict
from .ensemble import EnsembleNoise, sample_ensemble, sample_together, train_ensemble, train_together
from .measures import (
    NoiseMeasurement,
    autocorrelation_time,
    connectivity_correlation,
    correlation_summary,
    input_correlation,
    measure_noise,
)
from .network import (
    IrregularityReport,
    NetworkNoise,
    NetworkRegime,
    NoiseNetworkWarning,
    check_irregularity,
    simulate_network,
)
from .pool import SharedPoolNoise

__all__ = [
    "EnsembleNoise",
    "IrregularityReport",
    "NetworkNoise",
    "NetworkRegime",
    "NoiseMeasurement",
    "NoiseNetworkWarning",
    "NoiseSource",
    "PoissonNoise",
    "SharedPoolNoise",
    "autocorrelation_time",
    "check_irregularity",
    "connectivity_correlation",
    "correlation_summary",
    "from_dict",
    "input_correlation",
    "measure_noise",
    "sample_ensemble",
    "sample_together",
    "simulate_network",
    "train_ensemble",
    "train_together",
]
