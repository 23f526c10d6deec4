"""Gibbs sampling: the exact reference sampler, vectorised over chains."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr
from scipy.special import expit

from ._seeding import make_rng
from ._units import positive, steps
from .evidence import check_evidence
from .results import make_result
from .sampling import Sampler, check_run
from .targets import BoltzmannMachine

__all__ = ["GibbsSampler"]


class GibbsSampler(Sampler):
    """Systematic-scan Gibbs sampler of a Boltzmann machine.

    One sweep updates every unit once, in order, from
    ``p(z_k = 1 | z_¬k) = σ(b_k + Σ_j W_kj z_j)``.  To compare with spiking
    samplers in sampled time, a sweep is assigned ``sweep_time`` ms (by
    default one refractory period, 10 ms, the usual convention), and a run of
    ``duration`` ms yields ``duration / sweep_time`` draws per chain.
    Units in ``evidence`` are held at their observed values and never updated.

    Parameters
    ----------
    target : BoltzmannMachine
    sweep_time : float
        Sampled time per sweep [ms].

    Examples
    --------
    >>> from lifsampling import random_boltzmann_machine
    >>> g = GibbsSampler(random_boltzmann_machine(3, seed=1))
    >>> ds = g.sample(1000.0, n_chains=4, seed=0)
    >>> dict(ds.states.sizes)
    {'chain': 4, 'draw': 100, 'unit': 3}
    """

    def __init__(self, target: BoltzmannMachine, *, sweep_time: float = 10.0) -> None:
        super().__init__(target)
        self.sweep_time = positive(sweep_time, "ms", "sweep_time")

    def sample(
        self,
        duration: float,
        *,
        n_chains: int = 1,
        seed: int | np.random.Generator | None = None,
        burn_in: float = 500.0,
        evidence: Mapping[int, int] | None = None,
    ) -> xr.Dataset:
        run = check_run(duration, n_chains, burn_in)
        ev = check_evidence(evidence, self.target.n_units)
        n_draws = steps(run.duration, self.sweep_time, "duration", "sweep_time")
        n_burn = int(np.ceil(run.burn_in / self.sweep_time))
        rng = make_rng(seed)
        W, b = self.target.W, self.target.b
        K = self.target.n_units
        z = (rng.random((run.n_chains, K)) < 0.5).astype(float)
        for k, value in ev.items():
            z[:, k] = value
        free = [k for k in range(K) if k not in ev]
        out = np.empty((run.n_chains, n_draws, K), dtype=np.int8)
        for sweep in range(n_burn + n_draws):
            u = rng.random((run.n_chains, K))
            for k in free:
                z[:, k] = u[:, k] < expit(z @ W[:, k] + b[k])
            if sweep >= n_burn:
                out[:, sweep - n_burn] = z
        return make_result(
            out,
            sample_interval=self.sweep_time,
            sampler="gibbs",
            target=self.target,
            attrs={
                "seed": seed if isinstance(seed, (int, np.integer)) else None,
                "burn_in_ms": run.burn_in,
                "sweep_time_ms": self.sweep_time,
                "evidence": ev or None,
            },
        )
