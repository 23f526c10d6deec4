"""A Brian2 network of sampling chains that stays alive between runs (private).

Learning runs the same network again and again with slightly changed leak
potentials and weights.  Rebuilding it for every iteration would cost Brian2's
set-up (and would restart every chain from scratch); :class:`PersistentChains`
builds the network of ``C`` chains once (with :func:`lifsampling._network._build`,
so the generated code is that of the sampler), and between runs only writes new
values into ``E_L``, the synaptic weights and, optionally, the thresholds.  The
membrane potentials, conductances, refractory clocks, renewing-synapse state
and spikes in flight carry over from one run to the next: persistent chains.

Its whole dynamic state can be exported as bytes (:meth:`PersistentChains.state`,
Brian2's ``Network.store``) and restored into a freshly built network of the
same shape (:meth:`PersistentChains.restore`): that is how a checkpointed
training run resumes exactly where it stopped.

Optionally it carries the synapses of spike-based alignment learning
(:mod:`lifsampling.alignment`): one synapse per reciprocal pair with
event-driven nearest-spike traces that accumulate the pair's antisymmetric
update during a run.

Only Brian2's runtime devices (``"cython"``, ``"numpy"``) can keep a network
alive between runs.
"""

from __future__ import annotations

import gc
import os
import tempfile
from dataclasses import dataclass

import numpy as np

from ._network import NetworkSpec, _build, _codegen_target
from ._units import steps
from .neurons import NeuronParameters
from .noise import NoiseSource
from .readout import StateReadout

RUNTIME_DEVICES = ("cython", "numpy")

_STORE_NAME = "lifsampling_checkpoint"

# Spike-based alignment learning (see lifsampling.alignment): ``delta`` accumulates the change of
# W_ij (pre = i, post = j) in Boltzmann units; W_ji changes by -delta.  The pre pathway runs before
# the post pathway in a time step, and ``lastspike`` is already updated for neurons that spike in
# it, so that pairs of spikes in the same step (dt = 0, no direction) are left out.  The synapses
# have no delay: they see exactly the spike times.
_SAL_MODEL = """
delta : 1
dapre/dt = -apre / tau_sal : 1 (event-driven)
dapost/dt = -apost / tau_sal : 1 (event-driven)
eta_sal : 1 (shared)
tau_sal : second (shared, constant)
"""
#: on_pre / on_post code per pairing scheme (lifsampling.alignment.PAIRINGS)
_SAL_CODE = {
    "nearest": (
        "delta += eta_sal * apost * int(lastspike_post < t)\napre = 1",
        "delta -= eta_sal * apre * int(lastspike_pre < t)\napost = 1",
    ),
    "adjacent": (
        "delta += eta_sal * apost * int(lastspike_post < t)\napost = 0\napre = 1",
        "delta -= eta_sal * apre * int(lastspike_pre < t)\napre = 0\napost = 1",
    ),
    "all": (
        "delta += eta_sal * apost\napre += 1",
        "delta -= eta_sal * (apre - int(lastspike_pre == t))\napost += 1",
    ),
}


@dataclass(frozen=True)
class ChainRun:
    """What one run of :class:`PersistentChains` produced.

    ``states``: int8 (C, n_draws, K); ``alignment``: the accumulated
    alignment update per reciprocal pair and chain, shape (C, n_pairs), or None;
    ``spikes``: (neuron index, time step counted from the start of the run).
    """

    states: np.ndarray
    alignment: np.ndarray | None
    spikes: tuple[np.ndarray, np.ndarray]


class PersistentChains:
    """``n_chains`` copies of a ``n_units``-neuron all-to-all network in one live Brian2 network.

    Parameters
    ----------
    neuron, noise, dt, synapses, delay
        As for :class:`lifsampling.LIFSampler`.
    n_units, n_chains : int
    device : {"cython", "numpy"}
    per_neuron_threshold : bool
        Give every neuron its own threshold (parameter noise).
    alignment_pairs : (n_pairs, 2) int array, optional
        Unit pairs ``(i, j)``, ``i < j``, that get alignment synapses (in every
        chain listed in ``alignment_chains``).
    alignment_chains : sequence of int, optional
        The chains with alignment synapses (default: all).
    alignment_tau : float
        Time constant of the alignment window [ms].
    seed : int
        Drives the initial membrane potentials.
    """

    def __init__(
        self,
        neuron: NeuronParameters,
        noise: NoiseSource,
        n_units: int,
        n_chains: int,
        *,
        dt: float,
        synapses: str,
        delay: float,
        device: str = "cython",
        per_neuron_threshold: bool = False,
        alignment_pairs: np.ndarray | None = None,
        alignment_chains: np.ndarray | None = None,
        alignment_tau: float = 10.0,
        alignment_pairing: str = "nearest",
        seed: int = 0,
    ) -> None:
        import brian2 as b2

        if device not in RUNTIME_DEVICES:
            raise ValueError(
                f"learning keeps its network alive between iterations, which needs one of Brian2's "
                f"runtime devices {RUNTIME_DEVICES}; got device={device!r}."
            )
        from .sampler import chain_connections

        self.neuron, self.noise, self.dt, self.device = neuron, noise, float(dt), device
        self.n_units, self.n_chains = int(n_units), int(n_chains)
        K, C = self.n_units, self.n_chains
        pre, post = chain_connections(K, C)
        self._chain, self._i, self._j = pre // K, pre % K, post % K
        spec = NetworkSpec(
            neuron=neuron,
            noise=noise,
            v_rest=np.full(K * C, neuron.v_reset),
            dt=self.dt,
            pre=pre,
            post=post,
            w_exc=np.zeros(pre.size),
            w_inh=np.zeros(pre.size),
            renewing=synapses == "renewing",
            delay=delay,
            v_thresh=np.full(K * C, neuron.v_thresh) if per_neuron_threshold else None,
        )
        self.per_neuron_threshold = bool(per_neuron_threshold)
        self._n_ref = steps(neuron.tau_refrac, self.dt, "tau_refrac")
        rng = np.random.default_rng(seed)
        v_init = rng.uniform(neuron.v_reset - 5.0, neuron.v_thresh, size=K * C)
        with _codegen_target(device):
            self.net, self.group, self.monitor = _build(spec, v_init)
            self.synapses = self.net["lifsampling_synapses"]
            self.alignment = None
            self.alignment_pairs = None
            if alignment_pairs is not None:
                pairs = np.asarray(alignment_pairs, dtype=int).reshape(-1, 2)
                chains = np.arange(C) if alignment_chains is None else np.asarray(alignment_chains, int)
                self.alignment_pairs, self._alignment_chains = pairs, chains
                sal = b2.Synapses(
                    self.group,
                    self.group,
                    model=_SAL_MODEL,
                    on_pre=_SAL_CODE[alignment_pairing][0],
                    on_post=_SAL_CODE[alignment_pairing][1],
                    clock=self.group.clock,
                    name="lifsampling_alignment",
                )
                offsets = (chains * K)[:, None]
                sal.connect(i=(offsets + pairs[:, 0]).ravel(), j=(offsets + pairs[:, 1]).ravel())
                sal.tau_sal = float(alignment_tau) * b2.ms
                sal.eta_sal = 0.0
                sal.delta = 0.0
                self.net.add(sal)
                self.alignment = sal

    # -- parameters --------------------------------------------------------------------
    def set_parameters(
        self,
        v_rest: np.ndarray,
        w_exc: np.ndarray,
        w_inh: np.ndarray,
        v_thresh: np.ndarray | None = None,
    ) -> None:
        """New leak potentials (C, K) [mV], weights (C, K, K) [µS or nA] and thresholds (C, K) [mV]."""
        import brian2 as b2

        C, K = self.n_chains, self.n_units
        v_rest = np.broadcast_to(np.asarray(v_rest, dtype=float), (C, K))
        self.group.E_L[:] = v_rest.ravel() * b2.mV
        scale = b2.uS if self.neuron.conductance_based else b2.nA
        idx = (self._chain, self._i, self._j)
        self.synapses.w_e[:] = np.broadcast_to(np.asarray(w_exc, dtype=float), (C, K, K))[idx] * scale
        self.synapses.w_i[:] = np.broadcast_to(np.asarray(w_inh, dtype=float), (C, K, K))[idx] * scale
        if self.per_neuron_threshold:
            th = self.neuron.v_thresh if v_thresh is None else v_thresh
            th = np.broadcast_to(np.asarray(th, dtype=float), (C, K)).ravel()
            self.group.V_th[:] = th * b2.mV
            self.group.V_reset[:] = (th - (self.neuron.v_thresh - self.neuron.v_reset)) * b2.mV
        elif v_thresh is not None:
            raise ValueError("this network was built without per-neuron thresholds.")

    # -- running -----------------------------------------------------------------------
    def run(
        self,
        duration: float,
        *,
        seed: int,
        settle: float = 0.0,
        sample_interval: float = 1.0,
        alignment_rate: float = 0.0,
    ) -> ChainRun:
        """Run ``settle + duration`` ms on from the current state; states read after ``settle``.

        ``seed`` reseeds Brian2's random numbers before the run, so a run is
        fully determined by the network's state, its parameters and ``seed``.
        ``alignment_rate`` is the alignment learning rate during this run (per
        pairing, Boltzmann units).
        """
        import brian2 as b2

        K, C, dt = self.n_units, self.n_chains, self.dt
        interval = steps(sample_interval, dt, "sample_interval")
        n_draws = steps(duration, sample_interval, "duration", "sample_interval")
        first = steps(settle, dt, "settle")
        n_steps = first + n_draws * interval
        start = int(round(float(self.net.t / b2.second) / (dt * 1e-3)))
        readout = StateReadout(K * C, self._n_ref, first, interval, n_draws)
        # spikes of the previous run may still hold a neuron in state 1
        last = np.asarray(self.group.lastspike_[:], dtype=float)
        last = np.where(np.isfinite(last), np.round(last / (dt * 1e-3)) - start, -1e12)
        readout._last = np.maximum(last, np.iinfo(np.int64).min // 4).astype(np.int64)
        if self.alignment is not None:
            self.alignment.delta[:] = 0.0
            self.alignment.eta_sal = float(alignment_rate)
        self.monitor.resize(0)
        self.monitor.variables["N"].set_value(0)
        with _codegen_target(self.device):
            b2.seed(int(seed))
            self.net.run(n_steps * dt * b2.ms, namespace={})
        idx = np.asarray(self.monitor.i[:], dtype=np.int64)
        stp = np.asarray(np.round(self.monitor.t_[:] / (dt * 1e-3)), dtype=np.int64) - start
        self.monitor.resize(0)
        self.monitor.variables["N"].set_value(0)
        readout(idx, stp, n_steps)
        states = readout.states.reshape(n_draws, C, K).transpose(1, 0, 2)
        sal = None
        if self.alignment is not None:
            sal = np.asarray(self.alignment.delta[:], dtype=float).reshape(len(self._alignment_chains), -1)
        return ChainRun(np.ascontiguousarray(states), sal, (idx, stp))

    # -- state -------------------------------------------------------------------------
    def state(self) -> bytes:
        """The network's complete dynamic state (Brian2 ``Network.store``) as bytes."""
        with tempfile.TemporaryDirectory(prefix="lifsampling-state-") as tmp:
            path = os.path.join(tmp, "state.pkl")
            self.net.store(_STORE_NAME, filename=path)
            with open(path, "rb") as fh:
                return fh.read()

    def restore(self, state: bytes) -> None:
        """Restore a state exported by :meth:`state` from a network of the same shape."""
        with tempfile.TemporaryDirectory(prefix="lifsampling-state-") as tmp:
            path = os.path.join(tmp, "state.pkl")
            with open(path, "wb") as fh:
                fh.write(state)
            self.net.restore(_STORE_NAME, filename=path)

    def close(self) -> None:
        """Drop the Brian2 objects (so that later networks keep their code-object names)."""
        for name in ("net", "group", "monitor", "synapses", "alignment"):
            setattr(self, name, None)
        gc.collect()
