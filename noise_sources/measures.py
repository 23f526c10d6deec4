"""Measurements of background noise: input correlations, autocorrelation time, free membrane.

Shared noise makes the inputs of different sampling neurons correlated, and a
network as noise source may make each neuron's input more autocorrelated than
Poisson input; both degrade sampling (Jordan et al. 2019, Sci. Rep. 9, 18303;
Dold et al. 2019, Neural Networks 119, 200).  These functions put numbers on
both:

* :func:`connectivity_correlation` — the pairwise input correlation predicted
  by the connectivity, for independent Poisson sources:
  ``C_ij = Σ_k J_ik J_jk ν_k``, ``ρ_ij = C_ij / √(C_ii C_jj)``;
* :func:`input_correlation` — the same measured from recorded input signals;
* :func:`autocorrelation_time` — the integral of the normalised
  autocorrelation function up to its first zero [ms];
* :func:`measure_noise` — simulates free (non-spiking) neurons under a noise
  source and returns all of the above plus the free-membrane statistics
  (Petrovici et al. 2016, Phys. Rev. E 94, 042312).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from lifsampling.neurons import NeuronParameters
from lifsampling.noise import NoiseSource, PoissonNoise

__all__ = [
    "NoiseMeasurement",
    "autocorrelation_time",
    "connectivity_correlation",
    "correlation_summary",
    "input_correlation",
    "measure_noise",
]


def correlation_summary(matrix: np.ndarray) -> dict:
    """Mean, spread (std), min and max of the off-diagonal entries of a correlation matrix.

    Examples
    --------
    >>> correlation_summary(np.array([[1.0, 0.2], [0.2, 1.0]]))["mean"]
    0.2
    """
    m = np.asarray(matrix, dtype=float)
    if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] < 2:
        raise ValueError(f"need a square matrix of at least 2 × 2, got shape {m.shape}.")
    off = m[~np.eye(m.shape[0], dtype=bool)]
    off = off[np.isfinite(off)]
    if off.size == 0:
        return {
            "mean": float("nan"),
            "std": float("nan"),
            "min": float("nan"),
            "max": float("nan"),
            "n_pairs": 0,
        }
    return {
        "mean": float(off.mean()),
        "std": float(off.std()),
        "min": float(off.min()),
        "max": float(off.max()),
        "n_pairs": int(off.size // 2),
    }


def _corrcoef(cov: np.ndarray) -> np.ndarray:
    d = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    with np.errstate(invalid="ignore", divide="ignore"):
        return cov / np.outer(d, d)


def connectivity_correlation(
    source: NoiseSource | np.ndarray, n_neurons: int = 100, rates: np.ndarray | None = None
) -> dict:
    """Pairwise input correlation predicted by the connectivity (mean, spread, …).

    Parameters
    ----------
    source : NoiseSource or array
        A shared noise source with ``signed_weights(n)`` (:class:`SharedPoolNoise`,
        :class:`NetworkNoise`, :class:`EnsembleNoise`), :class:`lifsampling.PoissonNoise`
        (private: correlation 0), or a signed weight matrix (n_neurons × n_sources).
    n_neurons : int
        Number of sampling neurons to evaluate (the first ones).
    rates : array, optional
        Source rates [Hz] for a matrix (default: all equal).

    Returns
    -------
    dict
        :func:`correlation_summary` of ``ρ_ij`` over pairs of sampling neurons.

    Examples
    --------
    >>> from noise_sources import SharedPoolNoise
    >>> c = connectivity_correlation(SharedPoolNoise(1000, in_degree=100, seed=0), n_neurons=200)
    >>> round(c["mean"], 2)                                 # about K / N
    0.1
    """
    if isinstance(source, PoissonNoise):
        z = np.eye(max(int(n_neurons), 2))
        return correlation_summary(z)
    if isinstance(source, NoiseSource):
        if not hasattr(source, "signed_weights"):
            raise TypeError(f"{type(source).__name__} has no connectivity to evaluate.")
        weights, rates = source.signed_weights(int(n_neurons))
    else:
        weights = np.asarray(source, dtype=float)
    rates = np.ones(weights.shape[1]) if rates is None else np.asarray(rates, dtype=float)
    cov = (weights * rates[None, :]) @ weights.T
    return correlation_summary(_corrcoef(cov))


def input_correlation(signals: np.ndarray) -> dict:
    """Pairwise correlation coefficients of recorded input signals (mean, spread, …).

    Parameters
    ----------
    signals : array, shape (n_neurons, n_times)
        One input time series per neuron (e.g. synaptic current, or spike counts per bin).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> common, own = rng.normal(size=20_000), rng.normal(size=(10, 20_000))
    >>> x = np.sqrt(0.3) * common + np.sqrt(0.7) * own        # correlation 0.3 by construction
    >>> round(input_correlation(x)["mean"], 2)
    0.3
    """
    x = np.asarray(signals, dtype=float)
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 3:
        raise ValueError(f"signals must have shape (n_neurons >= 2, n_times >= 3), got {x.shape}.")
    x = x - x.mean(axis=1, keepdims=True)
    return correlation_summary(_corrcoef(x @ x.T / x.shape[1]))


def autocorrelation_time(signal: np.ndarray, dt: float, max_lag: float | None = None) -> float:
    """Integral of the normalised autocorrelation up to its first zero crossing [ms].

    ``signal`` is one series, or an array (n_series, n_times) whose
    autocorrelations are averaged; ``dt`` is its sampling interval [ms].
    For an exponentially filtered white noise with time constant τ it is τ.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> x = np.zeros(100_000); a = np.exp(-0.1)            # AR(1), τ = 10 steps
    >>> for k, e in enumerate(rng.normal(size=x.size - 1)): x[k + 1] = a * x[k] + e
    >>> 8.0 < autocorrelation_time(x, dt=1.0) < 12.0
    True
    """
    x = np.atleast_2d(np.asarray(signal, dtype=float))
    n = x.shape[1]
    if n < 4:
        raise ValueError("need at least 4 samples.")
    x = x - x.mean(axis=1, keepdims=True)
    size = 1 << int(np.ceil(np.log2(2 * n)))
    spec = np.fft.rfft(x, size, axis=1)
    acf = np.fft.irfft(spec * np.conj(spec), size, axis=1)[:, :n].mean(axis=0)
    if acf[0] <= 0:
        return float("nan")
    acf = acf / acf[0]
    lags = n if max_lag is None else min(n, int(max_lag / dt) + 1)
    acf = acf[:lags]
    neg = np.flatnonzero(acf <= 0)
    end = neg[0] if neg.size else acf.size
    return float(dt * (acf[:end].sum() - 0.5))


@dataclass(frozen=True)
class NoiseMeasurement:
    """What a noise source does to free sampling neurons (see :func:`measure_noise`).

    Attributes
    ----------
    input_correlation : dict
        Measured pairwise correlation of the input currents (mean, std, min, max, n_pairs).
    connectivity_correlation : dict
        The same predicted from the connectivity (Poisson sources).
    tau_corr : float
        Autocorrelation time of one neuron's input current [ms].
    tau_corr_over_tau_ref, tau_corr_over_tau_syn : float
        ``tau_corr`` relative to the refractory period and the synaptic time
        constant (1 for private Poisson input, whose autocorrelation is the
        synaptic kernel's).
    v_mean, v_std : float
        Free membrane potential: mean over neurons of the time average and of the std [mV].
    v_mean_theory, v_std_theory : float
        Free-membrane theory for Poisson input at the same mean rates (NaN if undefined).
    """

    input_correlation: dict
    connectivity_correlation: dict
    tau_corr: float
    tau_corr_over_tau_ref: float
    tau_corr_over_tau_syn: float
    v_mean: float
    v_std: float
    v_mean_theory: float
    v_std_theory: float

    def to_dict(self) -> dict:
        return asdict(self)

    def __repr__(self) -> str:
        c = self.input_correlation
        return (
            f"NoiseMeasurement(input correlation {c['mean']:.3f} ± {c['std']:.3f} "
            f"(connectivity {self.connectivity_correlation['mean']:.3f}), tau_corr {self.tau_corr:.2f} ms "
            f"= {self.tau_corr_over_tau_syn:.2f} tau_syn, free V {self.v_mean:.2f} ± {self.v_std:.2f} mV "
            f"(theory {self.v_mean_theory:.2f} ± {self.v_std_theory:.2f}))"
        )


def measure_noise(
    noise: NoiseSource,
    neuron: NeuronParameters | None = None,
    *,
    n_neurons: int = 50,
    v_rest: float | None = None,
    duration: float = 2000.0,
    burn_in: float = 200.0,
    dt: float = 0.1,
    record_interval: float = 1.0,
    seed: int = 1,
    device: str = "cython",
) -> NoiseMeasurement:
    """Drive ``n_neurons`` free (non-spiking) neurons with ``noise`` and measure their input.

    The neurons are the model of ``neuron`` with the threshold removed and leak
    potential ``v_rest`` (default: 0.5 mV below threshold, near the middle of
    the activation function of the sbs neuron).  Their synaptic input current at
    the mean free potential ``μ``, ``I = g_e (E_e − μ) + g_i (E_i − μ)``
    (``I_e − I_i`` for current-based neurons), is recorded every
    ``record_interval`` ms after ``burn_in``.

    Not for :class:`EnsembleNoise` (its sources are the sampling neurons
    themselves, which do not fire here); use :func:`connectivity_correlation`.

    Examples
    --------
    >>> m = measure_noise(PoissonNoise.preset("sbs"), n_neurons=10, duration=500.0)  # doctest: +SKIP
    >>> m.input_correlation["mean"]                                                   # doctest: +SKIP
    0.00...
    """
    import gc

    import brian2 as b2

    from lifsampling._network import NetworkSpec, _build, _codegen_target
    from lifsampling.membrane import free_membrane

    from .ensemble import EnsembleNoise

    if isinstance(noise, EnsembleNoise):
        raise TypeError(
            "measure_noise cannot drive free neurons with EnsembleNoise; use connectivity_correlation."
        )
    neuron = NeuronParameters.preset("sbs") if neuron is None else neuron
    v_rest = neuron.v_thresh - 0.5 if v_rest is None else float(v_rest)
    # no spikes: the threshold just below the excitatory reversal potential (never reached)
    free = neuron.replace(v_thresh=neuron.e_rev_E - 0.01 if neuron.conductance_based else 1e4)
    spec = NetworkSpec(free, noise, np.full(int(n_neurons), v_rest), dt)
    gc.collect()
    with _codegen_target(device):
        b2.seed(int(seed))
        net, group, _ = _build(spec, np.full(int(n_neurons), v_rest))
        names = ["V", "g_e", "g_i"] if neuron.conductance_based else ["V", "I_e", "I_i"]
        mon = b2.StateMonitor(
            group, names, record=True, dt=record_interval * b2.ms, name="noise_measure_state"
        )
        net.add(mon)
        net.run((burn_in + duration) * b2.ms, namespace={})
        first = int(round(burn_in / record_interval))
        v = np.asarray(mon.V_[:, first:]) * 1e3
        a = np.asarray(getattr(mon, names[1] + "_")[:, first:])
        b = np.asarray(getattr(mon, names[2] + "_")[:, first:])
    del net, group, mon
    gc.collect()
    mu = float(v.mean())
    if neuron.conductance_based:
        current = a * (neuron.e_rev_E - mu) + b * (neuron.e_rev_I - mu)
    else:
        current = a - b
    tau = autocorrelation_time(current, record_interval)
    try:
        fm = free_membrane(neuron, noise, v_rest)
        mt, st = float(fm.mean), float(fm.std)
    except (NotImplementedError, ValueError):
        mt = st = float("nan")
    try:
        conn = connectivity_correlation(noise, int(n_neurons))
    except TypeError:
        conn = correlation_summary(np.full((2, 2), np.nan))
    return NoiseMeasurement(
        input_correlation=input_correlation(current),
        connectivity_correlation=conn,
        tau_corr=tau,
        tau_corr_over_tau_ref=tau / neuron.tau_refrac,
        tau_corr_over_tau_syn=tau / neuron.tau_syn_E,
        v_mean=float(v.mean(axis=1).mean()),
        v_std=float(v.std(axis=1).mean()),
        v_mean_theory=mt,
        v_std_theory=st,
    )
