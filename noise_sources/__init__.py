"""Background noise sources for LIF sampling beyond private Poisson input.

Pick a noise model in one argument of :class:`lifsampling.LIFSampler`::

    import lifsampling as ls
    import noise_sources as ns

    bm = ls.random_boltzmann_machine(5, seed=0)
    ls.LIFSampler(bm, noise=ns.PoissonNoise.preset("sbs"))           # private Poisson (reference)
    ls.LIFSampler(bm, noise=ns.SharedPoolNoise(500, in_degree=100))  # shared Poisson pool
    ls.LIFSampler(bm, noise=ns.NetworkNoise(300, in_degree=100))     # deterministic network
    ls.LIFSampler(bm, noise=ns.EnsembleNoise(n_units=5, in_degree=20))  # chains drive each other

Modules: :mod:`~noise_sources.pool` (shared Poisson pool), :mod:`~noise_sources.network`
(deterministic recurrent network, Jordan et al. 2019, Sci. Rep. 9, 18303),
:mod:`~noise_sources.ensemble` (sampling networks as each other's noise,
Dold et al. 2019, Neural Networks 119, 200), :mod:`~noise_sources.measures`
(input correlations, noise autocorrelation time, free-membrane statistics).
"""

from lifsampling.noise import NoiseSource, PoissonNoise, noise_from_dict

from .ensemble import EnsembleNoise, sample_ensemble, sample_together
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
]


def from_dict(d: dict) -> NoiseSource:
    """Rebuild any noise source (these and lifsampling's) from its ``to_dict()``.

    Examples
    --------
    >>> pool = SharedPoolNoise(200, in_degree=50, seed=3)
    >>> from_dict(pool.to_dict()) == pool
    True
    """
    d = dict(d)
    kind = d.get("kind")
    if kind == "SharedPoolNoise":
        d.pop("kind")
        return SharedPoolNoise(d.pop("n_sources"), d.pop("in_degree"), **d)
    if kind == "NetworkNoise":
        return NetworkNoise.from_dict(d)
    if kind == "EnsembleNoise":
        d.pop("kind")
        return EnsembleNoise(**d)
    return noise_from_dict(d)
