"""Sampling networks as each other's noise (Dold et al. 2019), and running many networks together.

Dold et al. (2019, Neural Networks 119, 200) showed that an ensemble of
sampling networks needs no Poisson input at all: each network uses the spikes
of the others as its background.  :class:`EnsembleNoise` is that background:
every sampling neuron receives ``K`` synapses from neurons of *other*
networks (chains), ``round(γ K)`` of them excitatory (weight ``w``) and the
rest inhibitory (weight ``g w``), the sign drawn per connection (sampling
neurons have no fixed E/I identity).  Random signs make the shared-input
correlations of two neurons average out; cross-correlations that remain act
like extra couplings, and the autocorrelated, refractory spike trains change
the activation function (the paper absorbs both with training, which this
module does not do).

Calibration: the ensemble's activity depends on the network it drives, so it
cannot be calibrated on unconnected neurons.  :meth:`EnsembleNoise.calibration_noise`
returns private Poisson noise with the same mean input
(``round(γ K)·ν̄`` Hz at ``w`` and ``(K − round(γ K))·ν̄`` Hz at ``g w``, with
``ν̄ = expected_rate``); the translation therefore assumes Poisson statistics.

:func:`sample_together` runs several targets' chains in one Brian2 network
sharing one noise source (the study's way of serving many sampling neurons from
one pool or noise network); :func:`sample_ensemble` does that with an
:class:`EnsembleNoise` and returns one result per network.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr

from lifsampling._units import count as check_count
from lifsampling.neurons import NeuronParameters
from lifsampling.noise import InputComponent, NoiseSource, PoissonNoise, input_variables

from ._common import check_fraction, check_positive, check_seed

__all__ = ["EnsembleNoise", "sample_ensemble", "sample_together"]


class EnsembleNoise(NoiseSource):
    """Background from the spikes of the other sampling networks in the same simulation.

    Use it with ``LIFSampler(target, noise=EnsembleNoise(n_units=target.n_units, ...))``
    and ``n_chains`` ≥ 2: every chain is one network of the ensemble, driven
    only by the others (no Poisson input).  :func:`sample_ensemble` runs an
    ensemble of different targets.  At the start every neuron's synaptic
    conductances are set to their expected mean values (initial conditions
    that start the activity; nothing stochastic is added afterwards).

    Parameters
    ----------
    n_units : int
        Neurons per network: neuron ``j`` belongs to network ``j // n_units``
        and reads only from other networks.
    in_degree : int
        ``K`` inputs per neuron; needs ``K <= n_units · (n_networks − 1)``.
        Small ensembles with few inputs freeze: in our runs 40 networks of 5
        units with ``K = 40`` locked into fixed states, with ``K = 80`` they sampled.
    exc_fraction : float
        ``γ`` in [0, 1], fraction of excitatory connections.
    weight : float, optional
        ``w`` [µS for ``cond_exp``, nA for ``curr_exp``], >= 0.  Default: the
        mean excitatory conductance of the sbs background,
        ``round(γ K) ν̄ w = 3000 Hz × 1 nS``.
    g : float
        Inhibitory weight relative to ``w`` (> 0).
    expected_rate : float
        ``ν̄``, the expected mean firing rate of a sampling neuron [Hz] (> 0),
        about ``p̄_on / τ_ref``: sets the Poisson stand-in used for calibration
        and the initial conductances.
    seed : int
        Drives the connectivity.

    Examples
    --------
    >>> ens = EnsembleNoise(n_units=5, in_degree=40, seed=2)
    >>> ens.calibration_noise()            # the same mean input from private Poisson sources
    PoissonNoise(rate_exc=1000, rate_inh=1000, weight_exc=0.003, weight_inh=0.003)
    """

    def __init__(
        self,
        n_units: int,
        in_degree: int = 80,
        *,
        exc_fraction: float = 0.5,
        weight: float | None = None,
        g: float = 1.0,
        expected_rate: float = 50.0,
        seed: int = 0,
    ) -> None:
        self.n_units = check_count(n_units, "n_units")
        self.in_degree = check_count(in_degree, "in_degree")
        self.exc_fraction = check_fraction(exc_fraction, "exc_fraction")
        self.g = check_positive(g, "g", "(relative inhibitory weight)")
        self.expected_rate = check_positive(expected_rate, "expected_rate", "Hz")
        self.seed = check_seed(seed)
        self.n_in_exc = int(round(self.exc_fraction * self.in_degree))
        if weight is None:  # the sbs background's mean excitatory conductance, 3000 Hz x 1 nS
            weight = 3.0 / (max(self.n_in_exc, 1) * self.expected_rate)
        self.weight = check_positive(weight, "weight", "µS (or nA)", allow_zero=True)

    def __repr__(self) -> str:
        return (
            f"EnsembleNoise(n_units={self.n_units}, in_degree={self.in_degree}, "
            f"exc_fraction={self.exc_fraction:g}, weight={self.weight:g}, g={self.g:g}, "
            f"expected_rate={self.expected_rate:g}, seed={self.seed})"
        )

    def to_dict(self) -> dict:
        return {
            "kind": "EnsembleNoise",
            "n_units": self.n_units,
            "in_degree": self.in_degree,
            "exc_fraction": self.exc_fraction,
            "weight": self.weight,
            "g": self.g,
            "expected_rate": self.expected_rate,
            "seed": self.seed,
        }

    def calibration_noise(self) -> PoissonNoise:
        """Private Poisson noise with the ensemble's expected mean input."""
        k_e, k_i = self.n_in_exc, self.in_degree - self.n_in_exc
        nu = self.expected_rate
        return PoissonNoise(k_e * nu, k_i * nu, self.weight, self.g * self.weight)

    def input_components(self, neuron: NeuronParameters) -> list[InputComponent]:
        return self.calibration_noise().input_components(neuron)

    def connectivity(self, n_neurons: int) -> tuple[np.ndarray, np.ndarray]:
        """``(sources, excitatory)``: arrays (n_neurons, K) of source indices and connection signs."""
        n_neurons = check_count(n_neurons, "n_neurons")
        if n_neurons % self.n_units:
            raise ValueError(f"{n_neurons} neurons are not a whole number of {self.n_units}-unit networks.")
        n_nets = n_neurons // self.n_units
        available = self.n_units * (n_nets - 1)
        if self.in_degree > available:
            raise ValueError(
                f"in_degree K = {self.in_degree} exceeds the {available} neurons of the other "
                f"{n_nets - 1} network(s); run more chains (networks) or lower K."
            )
        rng = np.random.default_rng([self.seed, 5])
        sources = np.empty((n_neurons, self.in_degree), dtype=np.int64)
        for j in range(n_neurons):
            net = j // self.n_units
            pick = rng.choice(available, self.in_degree, replace=False)
            sources[j] = pick + np.where(pick >= net * self.n_units, self.n_units, 0)
        exc = np.zeros((n_neurons, self.in_degree), dtype=bool)
        order = np.argsort(np.random.default_rng([self.seed, 6]).random((n_neurons, self.in_degree)), axis=1)
        np.put_along_axis(exc, order[:, : self.n_in_exc], True, axis=1)
        return sources, exc

    def signed_weights(self, n_targets: int) -> tuple[np.ndarray, np.ndarray]:
        """Signed weight matrix (n_targets × n_targets) and nominal rates (``expected_rate``)."""
        src, exc = self.connectivity(n_targets)
        m = np.zeros((n_targets, n_targets))
        rows = np.arange(n_targets)[:, None]
        m[rows, src] = np.where(exc, self.weight, -self.g * self.weight)
        return m, np.full(n_targets, self.expected_rate)

    def build(self, group: Any, neuron: NeuronParameters) -> list:
        import brian2 as b2

        src, exc = self.connectivity(len(group))
        e_var, i_var = input_variables(neuron)
        unit = b2.uS if neuron.conductance_based else b2.nA
        unit_name = "siemens" if neuron.conductance_based else "amp"
        post = np.repeat(np.arange(len(group)), self.in_degree)
        syn = b2.Synapses(
            group,
            group,
            model=f"w_ens_e : {unit_name} (constant)\nw_ens_i : {unit_name} (constant)",
            on_pre=f"{e_var}_post += w_ens_e\n{i_var}_post += w_ens_i",
            delay=0.1 * b2.ms,
            clock=group.clock,
            name="noise_ensemble",
        )
        syn.connect(i=src.ravel(), j=post)
        flat = exc.ravel()
        syn.w_ens_e = np.where(flat, self.weight, 0.0) * unit
        syn.w_ens_i = np.where(flat, 0.0, self.g * self.weight) * unit
        # Initial conditions that start the activity (nothing stochastic is added later):
        # excitatory conductances drawn uniformly from [0, 3 × mean], inhibitory from [0, mean],
        # so that part of the neurons starts above threshold.
        nu = self.expected_rate * 1e-3
        g_e = self.n_in_exc * nu * neuron.tau_syn_E * self.weight
        g_i = (self.in_degree - self.n_in_exc) * nu * neuron.tau_syn_I * self.g * self.weight
        rng = np.random.default_rng([self.seed, 7])
        setattr(group, e_var, rng.uniform(0.0, 3.0 * g_e, len(group)) * unit)
        setattr(group, i_var, rng.uniform(0.0, g_i, len(group)) * unit)
        return [syn]


def sample_together(
    targets: Sequence[Any],
    noise: NoiseSource,
    duration: float,
    *,
    n_chains: int = 8,
    seed: int = 0,
    burn_in: float = 500.0,
    calibration_kwargs: dict | None = None,
    cache_dir: str | os.PathLike | None = None,
    progress: bool | None = False,
    **sampler_kwargs: Any,
) -> list[xr.Dataset]:
    """Sample several Boltzmann machines (same size) in one simulation that shares ``noise``.

    Each target gets ``n_chains`` chains; all ``len(targets) · n_chains ·
    n_units`` sampling neurons are served by the one noise source (one pool,
    one noise network, or each other).  Every target is translated by its own
    :class:`lifsampling.LIFSampler` with the shared calibration (measured, or
    loaded from the cache, under ``noise.calibration_noise()``).

    Parameters
    ----------
    targets : sequence of BoltzmannMachine
        All with the same number of units.
    noise : NoiseSource
    duration : float
        Sampled time per chain after ``burn_in`` [ms].
    n_chains : int
        Chains per target.
    seed : int
        Simulation seed (initial conditions and Poisson noise).
    calibration_kwargs : dict, optional
        Passed to :meth:`lifsampling.LIFSampler.calibrate` (e.g. shorter calibrations).
    **sampler_kwargs
        Passed to every :class:`lifsampling.LIFSampler` (``neuron``, ``dt``, ``synapses``, …).

    Returns
    -------
    list of xarray.Dataset
        One result per target (dims ``chain, draw, unit``), in order.

    Examples
    --------
    >>> import lifsampling as ls                                        # doctest: +SKIP
    >>> bms = [ls.random_boltzmann_machine(5, seed=s) for s in range(5)]  # doctest: +SKIP
    >>> runs = sample_together(bms, NetworkNoise(300), 10_000.0)          # doctest: +SKIP
    """
    from lifsampling import LIFSampler
    from lifsampling._seeding import derive_seed
    from lifsampling.results import make_result
    from lifsampling.sampler import run_chains

    if not targets:
        raise ValueError("targets must hold at least one Boltzmann machine.")
    n_units = {t.n_units for t in targets}
    if len(n_units) != 1:
        raise ValueError(f"all targets must have the same number of units, got {sorted(n_units)}.")
    n_chains = check_count(n_chains, "n_chains")
    samplers = [
        LIFSampler(t, noise=noise, cache_dir=cache_dir, progress=progress, **sampler_kwargs) for t in targets
    ]
    first = samplers[0]
    cal = first.calibrate(**(calibration_kwargs or {}))
    for s in samplers[1:]:
        s.interactions = first.interactions_  # None: the analytic translation, like the first
        s._use_calibration(cal)
    lifs = [s.lif_parameters_ for s in samplers]
    rep = np.repeat(np.arange(len(targets)), n_chains)
    sim_seed = derive_seed(seed)
    states = run_chains(
        first.neuron,
        noise,
        np.stack([lifs[k].v_rest for k in rep]),
        np.stack([lifs[k].w_exc for k in rep]),
        np.stack([lifs[k].w_inh for k in rep]),
        duration=float(duration),
        burn_in=float(burn_in),
        seed=sim_seed,
        dt=first.dt,
        sample_interval=first.sample_interval,
        synapses=first.synapses,
        delay=first.delay,
        device=first.device,
        cache_dir=cache_dir,
        progress=progress,
    )
    results = []
    for k, (target, sampler) in enumerate(zip(targets, samplers, strict=True)):
        results.append(
            make_result(
                states[rep == k],
                sample_interval=first.sample_interval,
                sampler="lif",
                target=target,
                attrs={
                    "seed": sim_seed,
                    "dt_ms": first.dt,
                    "tau_refrac_ms": first.neuron.tau_refrac,
                    "burn_in_ms": float(burn_in),
                    "synapses": first.synapses,
                    "noise": noise.to_dict(),
                    "calibration": {"v_p05": cal.v_p05, "alpha": cal.alpha, "dt": cal.dt},
                    "shared_simulation": {"n_targets": len(targets), "index": k, "n_chains_each": n_chains},
                    "lif_v_rest_mV": sampler.lif_parameters_.v_rest.tolist(),
                },
            )
        )
    return results


def sample_ensemble(
    targets: Sequence[Any],
    duration: float,
    *,
    n_copies: int = 1,
    noise: EnsembleNoise | None = None,
    **kwargs: Any,
) -> list[xr.Dataset]:
    """Run an ensemble of sampling networks driven only by each other; one result per target.

    ``n_copies`` networks sample each target (``len(targets) · n_copies``
    networks in all, at least 2); every network reads its background from
    the others through ``noise`` (default ``EnsembleNoise(n_units)``).  Other
    keyword arguments go to :func:`sample_together`.

    References
    ----------
    Dold, Bytschok, Kungl, Baumbach, Breitwieser, Senn, Schemmel, Meier,
    Petrovici (2019), Stochasticity from function, Neural Networks 119, 200.

    Examples
    --------
    >>> import lifsampling as ls                                            # doctest: +SKIP
    >>> bms = [ls.random_boltzmann_machine(5, seed=s) for s in range(5)]    # doctest: +SKIP
    >>> runs = sample_ensemble(bms, 10_000.0, n_copies=8)                   # doctest: +SKIP
    >>> [ls.kl_divergence(b, r).dkl_target_sampled for b, r in zip(bms, runs)]  # doctest: +SKIP
    """
    if not targets:
        raise ValueError("targets must hold at least one Boltzmann machine.")
    n_copies = check_count(n_copies, "n_copies")
    n_units = targets[0].n_units
    noise = EnsembleNoise(n_units) if noise is None else noise
    if not isinstance(noise, EnsembleNoise):
        raise TypeError(f"noise must be an EnsembleNoise, got {type(noise).__name__}.")
    if noise.n_units != n_units:
        raise ValueError(f"noise.n_units ({noise.n_units}) must equal the targets' size ({n_units}).")
    if len(targets) * n_copies < 2:
        raise ValueError("an ensemble needs at least 2 networks (targets × n_copies).")
    return sample_together(targets, noise, duration, n_chains=n_copies, **kwargs)
