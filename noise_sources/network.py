"""Deterministic network noise: a recurrent, inhibition-dominated LIF network as the background.

Jordan et al. (2019, Sci. Rep. 9, 18303) replaced the Poisson background of
sampling neurons by the spikes of a recurrent network of deterministic
neurons: 80 % excitatory, fixed in-degree, inhibition-dominated (relative
inhibitory strength ``g > 4``), in the asynchronous-irregular (AI) regime.
Its inhibitory feedback decorrelates its own activity, so a few hundred
network neurons can stand in for many private sources; the sampling neurons
read from it with the sign of each source neuron's type.

The network here is a Brunel-type current-based LIF network with delta
synapses (potentials relative to rest, in mV)::

    τ_m dv/dt = μ_ext − v            (clamped for τ_ref after a spike)
    v > θ → spike, v ← V_r;  excitatory spike: v_post += J, inhibitory: v_post −= g J
    after a delay drawn uniformly from [d_min, d_max]

with a constant, identical drive ``μ_ext`` and no stochastic input at all: the
only randomness is the connectivity, the delays and the initial potentials,
all drawn from ``seed``.  Irregularity has to come from the recurrent
dynamics; :func:`check_irregularity` measures it (rate, CV of inter-spike
intervals, Fano factor, pairwise spike-count correlation) and
:class:`NetworkNoise` warns (:class:`NoiseNetworkWarning`) when its network is
silent, regular or synchronous.  The regime parameters are those of
:class:`NetworkRegime`; its defaults are our own choice (checked with
:func:`check_irregularity`), not the paper's.
"""

from __future__ import annotations

import gc
import json
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from lifsampling._cache import cache_path, load_or_compute, read_json, verify_checksum, with_checksum
from lifsampling._io import write_text_atomic
from lifsampling._units import count as check_count
from lifsampling.neurons import NeuronParameters
from lifsampling.noise import InputComponent, NoiseSource

from ._common import Readout, build_readout, check_fraction, check_positive, check_seed

__all__ = [
    "IrregularityReport",
    "NetworkNoise",
    "NetworkRegime",
    "NoiseNetworkWarning",
    "check_irregularity",
    "simulate_network",
]

#: Version of the noise network's model and random draws; part of every
#: ``to_dict`` (and so of calibration cache keys).  Bump it with any change.
MODEL_VERSION = 1


class NoiseNetworkWarning(UserWarning):
    """The noise network is not asynchronous-irregular (silent, regular or synchronous)."""


@dataclass(frozen=True)
class NetworkRegime:
    """Parameters of the recurrent noise network (current-based LIF, delta synapses).

    Parameters
    ----------
    in_degree : int
        Recurrent inputs per network neuron (fixed in-degree), a fraction
        ``exc_fraction`` of them from the excitatory population.
    exc_fraction : float
        Fraction of excitatory neurons (0.8).
    g : float
        Relative strength of inhibition, ``J_I = −g J`` (> 0; > 4 is inhibition-dominated
        for ``exc_fraction = 0.8``).
    coupling : float
        ``J``, the PSP jump of an excitatory synapse [mV], > 0.  The default
        0.7 mV was chosen by a scan (below); 1.1 mV, the default before, is
        bursty.
    drive : float
        ``μ_ext``, the constant input [mV] (relative to rest); above ``v_thresh`` the
        neurons fire without recurrent input.
    tau_m, tau_ref : float
        Membrane time constant and refractory period [ms].
    v_thresh, v_reset : float
        Threshold and reset [mV] relative to rest.
    delay_min, delay_max : float
        Synaptic delays are drawn uniformly from ``[delay_min, delay_max]`` [ms].

    Notes
    -----
    How the defaults were chosen (N = 300, seed 1, 2 s, :func:`check_irregularity`):
    a scan of g ∈ {5, 6, 8}, drive ∈ {25, 30, 40} mV, in-degree ∈ {50, 100},
    J ∈ {0.5, 1.1} mV and delays of 0.5–3 or 1–5 ms, then J in 0.4–0.9 mV
    around the promising points.  J = 0.5 mV fires too regularly (CV of ISIs
    0.3–0.6), J = 1.1 mV too burstily (CV 1.2–1.7, Fano factor up to 2.7).
    The defaults (g = 8, drive 40 mV, in-degree 50, J = 0.7 mV) give 41 Hz,
    CV 1.02, Fano 1.16 and a pairwise count correlation of 0.05 (J = 1.1 mV:
    37 Hz, CV 1.58, 0.04); as a noise source for 200 sampling neurons reading
    K = 30 (K = 100) of the 300 neurons it gave the lowest untrained DKL of
    the regimes tried, 0.041 (0.130) against 0.060 (0.179) with J = 1.1 mV,
    and an input autocorrelation time of 1.5 τ_syn (2.0 τ_syn).  Below
    ~150 neurons it synchronises (N = 100: count correlation 0.16).
    """

    in_degree: int = 50
    exc_fraction: float = 0.8
    g: float = 8.0
    coupling: float = 0.7
    drive: float = 40.0
    tau_m: float = 20.0
    tau_ref: float = 2.0
    v_thresh: float = 20.0
    v_reset: float = 10.0
    delay_min: float = 0.5
    delay_max: float = 3.0

    def __post_init__(self) -> None:
        check_count(self.in_degree, "regime.in_degree")
        check_fraction(self.exc_fraction, "regime.exc_fraction")
        check_positive(self.g, "regime.g", "(relative inhibitory strength)")
        check_positive(self.coupling, "regime.coupling", "mV")
        check_positive(self.drive, "regime.drive", "mV", allow_zero=True)
        check_positive(self.tau_m, "regime.tau_m", "ms")
        check_positive(self.tau_ref, "regime.tau_ref", "ms", allow_zero=True)
        if not self.v_reset < self.v_thresh:
            raise ValueError(f"regime.v_reset ({self.v_reset}) must be below v_thresh ({self.v_thresh}) mV.")
        check_positive(self.delay_min, "regime.delay_min", "ms")
        if self.delay_max < self.delay_min:
            raise ValueError(
                f"regime.delay_max ({self.delay_max}) must be >= delay_min ({self.delay_min}) ms."
            )


@dataclass(frozen=True)
class IrregularityReport:
    """Firing statistics of a network and whether it is asynchronous-irregular.

    Attributes
    ----------
    rate : float
        Mean firing rate per neuron [Hz].
    cv_isi : float
        Mean coefficient of variation of inter-spike intervals (neurons with
        >= 3 spikes; NaN if none). ~1 for Poisson-like firing, ~0 for regular.
    fano_factor : float
        Mean Fano factor of single-neuron spike counts in ``window`` ms windows.
    count_correlation : float
        Mean pairwise correlation coefficient of spike counts in ``bin`` ms
        bins, from the variance of the population count (~0 asynchronous,
        → 1 synchronous).
    silent, regular, synchronous : bool
        ``rate < min_rate``, ``cv_isi < min_cv``, ``count_correlation > max_correlation``.
    """

    rate: float
    cv_isi: float
    fano_factor: float
    count_correlation: float
    silent: bool
    regular: bool
    synchronous: bool
    thresholds: dict = field(default_factory=dict)

    @property
    def irregular(self) -> bool:
        """True in the asynchronous-irregular regime (neither silent, regular nor synchronous)."""
        return not (self.silent or self.regular or self.synchronous)

    @property
    def verdict(self) -> str:
        if self.silent:
            return "silent"
        problems = [w for w, bad in (("regular", self.regular), ("synchronous", self.synchronous)) if bad]
        return " and ".join(problems) if problems else "asynchronous-irregular"

    def to_dict(self) -> dict:
        return {**asdict(self), "irregular": self.irregular, "verdict": self.verdict}

    def __repr__(self) -> str:
        return (
            f"IrregularityReport({self.verdict}: rate={self.rate:.3g} Hz, CV={self.cv_isi:.3g}, "
            f"Fano={self.fano_factor:.3g}, count correlation={self.count_correlation:.3g})"
        )


def check_irregularity(
    indices: np.ndarray,
    times: np.ndarray,
    n_neurons: int,
    duration: float,
    *,
    start: float = 0.0,
    bin: float = 5.0,
    window: float = 100.0,
    min_rate: float = 1.0,
    min_cv: float = 0.5,
    max_correlation: float = 0.1,
) -> IrregularityReport:
    """Rate, CV of ISIs, Fano factor and count correlation of spike trains.

    Parameters
    ----------
    indices, times : array
        Neuron index and time [ms] of every spike.
    n_neurons : int
    duration : float
        End of the analysed interval [ms]; spikes before ``start`` [ms] are ignored.
    bin : float
        Bin of the population count for the count correlation [ms].
    window : float
        Counting window of the Fano factor [ms].
    min_rate, min_cv, max_correlation
        Thresholds of ``silent`` [Hz], ``regular`` and ``synchronous``.

    Returns
    -------
    IrregularityReport

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> t = rng.uniform(0, 10_000.0, 20_000); i = rng.integers(0, 100, t.size)
    >>> check_irregularity(i, t, 100, 10_000.0).verdict       # Poisson: 20 Hz, CV ~ 1
    'asynchronous-irregular'
    >>> check_irregularity(np.arange(0), np.arange(0.0), 100, 1000.0).verdict
    'silent'
    """
    n_neurons = check_count(n_neurons, "n_neurons")
    indices = np.asarray(indices, dtype=np.int64)
    times = np.asarray(times, dtype=float)
    keep = (times >= start) & (times < duration)
    indices, times = indices[keep], times[keep]
    span = duration - start
    if span <= 0:
        raise ValueError(f"duration ({duration} ms) must exceed start ({start} ms).")
    rate = indices.size / n_neurons / span * 1e3
    order = np.lexsort((times, indices))
    idx, t = indices[order], times[order]
    cvs = []
    bounds = np.searchsorted(idx, np.arange(n_neurons + 1))
    for k in range(n_neurons):
        isi = np.diff(t[bounds[k] : bounds[k + 1]])
        if isi.size >= 2 and isi.mean() > 0:
            cvs.append(isi.std() / isi.mean())
    cv = float(np.mean(cvs)) if cvs else float("nan")
    n_win = int(span // window)
    fano = float("nan")
    if n_win >= 2 and indices.size:
        counts = np.zeros((n_neurons, n_win))
        w = ((times - start) // window).astype(np.int64)
        ok = w < n_win
        np.add.at(counts, (indices[ok], w[ok]), 1)
        m = counts.mean(axis=1)
        active = m > 0
        if active.any():
            fano = float(np.mean(counts[active].var(axis=1, ddof=1) / m[active]))
    n_bins = int(span // bin)
    corr = float("nan")
    if n_bins >= 2 and indices.size:
        b = ((times - start) // bin).astype(np.int64)
        ok = b < n_bins
        single = np.zeros((n_neurons, n_bins))
        np.add.at(single, (indices[ok], b[ok]), 1)
        var_i = single.var(axis=1)
        pop_var = single.sum(axis=0).var()
        sd = np.sqrt(var_i)
        denom = sd.sum() ** 2 - var_i.sum()
        corr = float((pop_var - var_i.sum()) / denom) if denom > 0 else float("nan")
    silent = rate < min_rate
    return IrregularityReport(
        rate=float(rate),
        cv_isi=cv,
        fano_factor=fano,
        count_correlation=corr,
        silent=bool(silent),
        regular=bool(not silent and (np.isnan(cv) or cv < min_cv)),
        synchronous=bool(not silent and not np.isnan(corr) and corr > max_correlation),
        thresholds={"min_rate": min_rate, "min_cv": min_cv, "max_correlation": max_correlation},
    )


def _network_draws(n_neurons: int, regime: NetworkRegime, seed: int):
    """Recurrent connectivity, delays and initial potentials (all from ``seed``)."""
    rec = Readout.make(n_neurons, regime.exc_fraction, regime.in_degree, "noise network")
    exc, inh = rec.connectivity(n_neurons, np.random.default_rng([seed, 3]).integers(2**31 - 1))
    pre = np.concatenate([exc, inh], axis=1)
    post = np.repeat(np.arange(n_neurons), pre.shape[1])
    jump = np.where(pre.ravel() < rec.n_exc, regime.coupling, -regime.g * regime.coupling)
    rng = np.random.default_rng([seed, 4])
    delays = rng.uniform(regime.delay_min, regime.delay_max, size=post.size)
    v0 = rng.uniform(0.0, regime.v_thresh, size=n_neurons)
    return pre.ravel(), post, jump, delays, v0


def _build_network(n_neurons: int, regime: NetworkRegime, seed: int, clock: Any) -> tuple[Any, list]:
    """The Brian2 noise network; returns (neuron group, [group, recurrent synapses])."""
    import brian2 as b2

    eqs = """
    dv/dt = (mu_ext - v) / tau_nn : volt (unless refractory)
    mu_ext : volt (shared, constant)
    tau_nn : second (shared, constant)
    theta_nn : volt (shared, constant)
    reset_nn : volt (shared, constant)
    tref_nn : second (shared, constant)
    """
    group = b2.NeuronGroup(
        n_neurons,
        eqs,
        threshold="v > theta_nn",
        reset="v = reset_nn",
        refractory="tref_nn",
        method="exact",
        clock=clock,
        name="noise_network_neurons",
    )
    group.mu_ext = regime.drive * b2.mV
    group.tau_nn = regime.tau_m * b2.ms
    group.theta_nn = regime.v_thresh * b2.mV
    group.reset_nn = regime.v_reset * b2.mV
    group.tref_nn = regime.tau_ref * b2.ms
    pre, post, jump, delays, v0 = _network_draws(n_neurons, regime, seed)
    group.v = v0 * b2.mV
    syn = b2.Synapses(
        group,
        group,
        model="J_rec : volt (constant)",
        on_pre="v_post += J_rec",
        clock=clock,
        name="noise_network_recurrent",
    )
    syn.connect(i=pre, j=post)
    syn.J_rec = jump * b2.mV
    # delays on the grid of the clock, so that they do not depend on rounding inside Brian2
    dt = float(clock.dt / b2.ms)
    syn.delay = np.maximum(np.round(delays / dt), 1) * dt * b2.ms
    return group, [group, syn]


def simulate_network(
    n_neurons: int,
    regime: NetworkRegime | None = None,
    *,
    seed: int = 0,
    duration: float = 2000.0,
    dt: float = 0.1,
    device: str = "cython",
) -> tuple[np.ndarray, np.ndarray]:
    """Simulate the noise network alone; return spike ``(indices, times [ms])``.

    Deterministic: the same ``n_neurons``, ``regime``, ``seed`` and ``dt`` give the same spikes.

    Examples
    --------
    >>> i, t = simulate_network(100, NetworkRegime(in_degree=50), duration=200.0)  # doctest: +SKIP
    """
    import brian2 as b2

    from lifsampling._network import _codegen_target

    regime = NetworkRegime() if regime is None else regime
    n_neurons = check_count(n_neurons, "n_neurons")
    duration = check_positive(duration, "duration", "ms")
    gc.collect()
    with _codegen_target(device):
        clock = b2.Clock(dt=dt * b2.ms, name="lifsampling_clock")
        group, objects = _build_network(n_neurons, regime, seed, clock)
        monitor = b2.SpikeMonitor(group, name="noise_network_spikes")
        net = b2.Network(*objects, monitor)
        net.run(duration * b2.ms, namespace={})
        i, t = np.asarray(monitor.i[:], dtype=np.int64), np.asarray(monitor.t_[:]) * 1e3
    del net, monitor, group, objects
    gc.collect()
    return i, t


class NetworkNoise(NoiseSource):
    """Background from a deterministic recurrent LIF network (Jordan et al. 2019).

    One noise network of ``n_neurons`` (:class:`NetworkRegime`: 80 %
    excitatory, fixed in-degree, inhibition-dominated, constant drive, no
    stochastic input) is simulated together with the sampling neurons.  Every
    sampling neuron reads from ``round(γ K)`` excitatory and the remaining
    inhibitory network neurons (fixed, from ``seed``), with weight ``w`` on its
    excitatory input and ``g w`` on its inhibitory input.  All chains of a
    :class:`lifsampling.LIFSampler` share this one network (the realistic,
    cheap case: a few hundred neurons serve every sampling neuron); chains are
    then not independent, and the simulation seed does not change the noise
    at all (it is deterministic), only the chains' initial states.  The
    activation function is measured under the same network
    (:meth:`calibration_noise` returns the source itself; the calibration's
    neurons read from it exactly like sampling neurons).

    ``weight=None`` (default) chooses ``w`` so that the mean excitatory
    conductance equals the sbs background's, ``round(γ K) ν w = 3000 Hz × 1 nS``,
    with ``ν`` the network's rate measured by :meth:`statistics`; ``g = 4``
    (with γ = 0.8) then matches the inhibitory conductance too.

    Parameters
    ----------
    n_neurons : int
        Size ``N`` of the noise network.
    in_degree : int
        ``K``, network neurons read by every sampling neuron (<= N).
    exc_fraction : float
        ``γ``: fraction of the K inputs taken from excitatory network neurons (in [0, 1]).
    weight : float, optional
        ``w`` [µS for ``cond_exp``, nA for ``curr_exp``], >= 0; None: matched as above.
    g : float
        Inhibitory weight relative to ``w`` (> 0).
    regime : NetworkRegime, optional
        The noise network's own parameters (default :class:`NetworkRegime()`).
    seed : int
        Drives every random draw of the network and the readout.
    dt : float
        Time step [ms] of :meth:`statistics`' measurement (use the sampler's).

    Warns
    -----
    NoiseNetworkWarning
        From :meth:`statistics` (called when the weights or the input
        description are needed) if the network is silent, regular or synchronous.

    References
    ----------
    Jordan, Petrovici, Breitwieser, Schemmel, Meier, Diesmann, Tetzlaff (2019),
    Deterministic networks for probabilistic computing, Sci. Rep. 9, 18303.
    Brunel (2000), J. Comput. Neurosci. 8, 183 (the network model).

    Examples
    --------
    >>> noise = NetworkNoise(300, in_degree=100, seed=1)
    >>> noise.calibration_noise() is noise
    True
    >>> noise.statistics().irregular                    # doctest: +SKIP
    True
    >>> import lifsampling as ls                         # doctest: +SKIP
    >>> ls.LIFSampler(ls.random_boltzmann_machine(5, seed=0), noise=noise)  # doctest: +SKIP
    """

    def __init__(
        self,
        n_neurons: int = 300,
        in_degree: int = 100,
        *,
        exc_fraction: float = 0.8,
        weight: float | None = None,
        g: float = 4.0,
        regime: NetworkRegime | None = None,
        seed: int = 0,
        dt: float = 0.1,
    ) -> None:
        self.n_neurons = check_count(n_neurons, "n_neurons")
        self.in_degree = check_count(in_degree, "in_degree")
        self.exc_fraction = check_fraction(exc_fraction, "exc_fraction")
        self.weight = (
            None if weight is None else check_positive(weight, "weight", "µS (or nA)", allow_zero=True)
        )
        self.g = check_positive(g, "g", "(relative inhibitory weight)")
        self.regime = NetworkRegime() if regime is None else regime
        if not isinstance(self.regime, NetworkRegime):
            raise TypeError(f"regime must be a NetworkRegime, got {type(self.regime).__name__}.")
        self.seed = check_seed(seed)
        self.dt = check_positive(dt, "dt", "ms")
        self.readout = _mixed_readout(
            self.n_neurons, self.regime.exc_fraction, self.in_degree, self.exc_fraction
        )
        self._stats: dict | None = None

    def __repr__(self) -> str:
        w = "matched" if self.weight is None else f"{self.weight:g}"
        return (
            f"NetworkNoise(n_neurons={self.n_neurons}, in_degree={self.in_degree}, "
            f"exc_fraction={self.exc_fraction:g}, weight={w}, g={self.g:g}, seed={self.seed})"
        )

    def to_dict(self) -> dict:
        return {
            "kind": "NetworkNoise",
            "n_neurons": self.n_neurons,
            "in_degree": self.in_degree,
            "exc_fraction": self.exc_fraction,
            "weight": self.weight,
            "g": self.g,
            "regime": asdict(self.regime),
            "seed": self.seed,
            "dt": self.dt,
            "model_version": MODEL_VERSION,
        }

    @classmethod
    def from_dict(cls, d: dict) -> NetworkNoise:
        d = dict(d)
        d.pop("kind", None)
        version = d.pop("model_version", MODEL_VERSION)
        if version != MODEL_VERSION:
            raise ValueError(f"NetworkNoise model_version {version} is not this version ({MODEL_VERSION}).")
        n, k = d.pop("n_neurons"), d.pop("in_degree")
        return cls(n, k, regime=NetworkRegime(**d.pop("regime")), **d)

    # -- the network's statistics --------------------------------------------
    def statistics(self, *, duration: float = 2000.0, warn: bool = True) -> dict:
        """Irregularity and rate of the noise network alone (cached in memory and on disk).

        Simulates the network for ``duration`` ms (the first 200 ms are
        discarded) and returns ``{"report": IrregularityReport, "rate_exc",
        "rate_inh" [Hz]}``.  Issues a :class:`NoiseNetworkWarning` unless the
        network is asynchronous-irregular.
        """
        if self._stats is None or self._stats["duration"] != duration:
            key = {k: v for k, v in self.to_dict().items() if k not in ("weight", "g", "exc_fraction")}
            key.pop("in_degree")

            def load(path):
                data = read_json(path, "noise-network statistics")
                verify_checksum(data, f"noise-network statistics {str(path)!r}")
                if not isinstance(data.get("report"), dict) or "rate_exc" not in data:
                    raise ValueError(f"noise-network statistics {str(path)!r} are incomplete.")
                return data

            def measure():
                i, t = simulate_network(
                    self.n_neurons, self.regime, seed=self.seed, duration=duration + 200.0, dt=self.dt
                )
                rep = check_irregularity(i, t, self.n_neurons, duration + 200.0, start=200.0)
                n_e = self.readout.n_exc
                rates = np.bincount(i[t >= 200.0], minlength=self.n_neurons) / duration * 1e3
                return {
                    "report": rep.to_dict(),
                    "rate_exc": float(rates[:n_e].mean()),
                    "rate_inh": float(rates[n_e:].mean()) if n_e < self.n_neurons else 0.0,
                }

            data = load_or_compute(
                cache_path(None, "noise_networks", {**key, "duration": duration}),
                load,
                measure,
                lambda d, path: write_text_atomic(path, json.dumps(with_checksum(d))),
            )
            data = {k: v for k, v in data.items() if k != "checksum"}
            r = {k: v for k, v in data["report"].items() if k not in ("irregular", "verdict")}
            self._stats = {**data, "report": IrregularityReport(**r), "duration": duration}
        rep = self._stats["report"]
        if warn and not rep.irregular:
            warnings.warn(
                f"the noise network ({self!r}) is {rep.verdict}: {rep!r}. It will not act like "
                "independent Poisson noise; change NetworkRegime (drive, coupling, g, delays).",
                NoiseNetworkWarning,
                stacklevel=2,
            )
        return self._stats

    @property
    def effective_weight(self) -> float:
        """``w`` in use: the given weight, or the one matched to the sbs background [µS or nA]."""
        if self.weight is not None:
            return self.weight
        rate = self.statistics()["rate_exc"]
        if rate <= 0:
            raise RuntimeError("the noise network is silent; its weight cannot be matched. Pass weight=...")
        return 3.0 / (self.readout.n_in_exc * rate) if self.readout.n_in_exc else 0.0

    # -- NoiseSource ---------------------------------------------------------
    def build(self, group: Any, neuron: NeuronParameters) -> list:
        w = self.effective_weight
        net_group, objects = _build_network(self.n_neurons, self.regime, self.seed, group.clock)
        syns = build_readout(net_group, group, neuron, self.readout, self.seed, w, self.g, "noise_network")
        return [*objects, *syns]

    def input_components(self, neuron: NeuronParameters) -> list[InputComponent]:
        """Mean input of one sampling neuron at the network's measured rates, as two Poisson streams."""
        s, r, w = self.statistics(), self.readout, self.effective_weight
        return [
            InputComponent(r.n_in_exc * s["rate_exc"], w, True),
            InputComponent((r.in_degree - r.n_in_exc) * s["rate_inh"], self.g * w, False),
        ]

    def signed_weights(self, n_targets: int) -> tuple:
        """Signed weight matrix (n_targets × N) and the network neurons' mean rates [Hz]."""
        s = self.statistics()
        rates = np.where(np.arange(self.n_neurons) < self.readout.n_exc, s["rate_exc"], s["rate_inh"])
        return self.readout.matrix(n_targets, self.seed, self.effective_weight, self.g), rates


def _mixed_readout(n: int, net_exc_fraction: float, k: int, in_exc_fraction: float) -> Readout:
    """A readout whose input E fraction differs from the network's E fraction."""
    if k > n:
        raise ValueError(
            f"in_degree K = {k} exceeds the number of noise network neurons N = {n}: every sampling "
            "neuron reads K different network neurons; lower K or enlarge the network."
        )
    n_exc = int(round(net_exc_fraction * n))
    k_exc = int(round(in_exc_fraction * k))
    if k_exc > n_exc or k - k_exc > n - n_exc:
        raise ValueError(
            f"each sampling neuron needs {k_exc} excitatory and {k - k_exc} inhibitory network neurons "
            f"but the network has {n_exc} and {n - n_exc}; lower in_degree or change exc_fraction."
        )
    return Readout(n, n_exc, k, k_exc)
