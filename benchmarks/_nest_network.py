"""Run one peer network in NEST 3.10 (executed inside the NEST venv; not a benchmark).

Usage (by ``_peers.run_nest``)::

    NEST_VENV/bin/python benchmarks/_nest_network.py NETWORK.npz RESULT.json

``NETWORK.npz`` is the plain-dict description of ``_peers.py`` (PyNN units:
nF, µS or nA, mV, ms, Hz; arrays as arrays, the rest as JSON in ``meta``).
The network is built as a NEST user would build it:

* ``iaf_cond_exp`` neurons (``iaf_psc_exp`` for current-based ones) with
  ``C_m`` = cm [nF] x 1000 pF, ``g_L`` = cm / tau_m [µS] x 1000 nS, one ``E_L``
  per neuron, ``V_th``, ``V_reset``, ``t_ref``, ``tau_syn_ex/in``, ``E_ex/E_in``;
  ``V_m`` starts at ``V_reset``;
* the private Poisson background: one ``poisson_generator`` per rate, connected
  all-to-all to the neurons (NEST draws an independent train for every target),
  weight +w_exc and -w_inh (µS x 1000 nS, or nA x 1000 pA), delay = dt;
* recurrent synapses from ``pre``/``post``: excitatory weight positive (onto the
  excitatory receptor), inhibitory as a negative weight, zero weights left out;
  ``static_synapse`` for "additive", ``tsodyks2_synapse`` with U = u = 1, x = 1,
  tau_rec = tau_syn, tau_fac = 0 for "renewing" (a spike tops the synapse's
  conductance back up to w instead of adding w, as the sbs package did);
* resolution dt, ``local_num_threads`` (default 1), ``rng_seed`` = seed, one
  ``spike_recorder``.

``RESULT.json`` gets the NEST version, setup seconds (kernel reset to the last
Connect), ``Simulate()`` seconds, the number of spikes, the mean rate [Hz] and
the number of connections.  This file imports only NEST, NumPy and the
standard library.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np


def build_and_run(desc: dict) -> dict:
    import nest

    t0 = time.perf_counter()
    if hasattr(nest, "VerbosityLevel"):
        nest.verbosity = nest.VerbosityLevel.ERROR
    else:
        nest.set_verbosity("M_ERROR")
    nest.ResetKernel()
    dt = float(desc["dt"])
    nest.SetKernelStatus(
        {
            "resolution": dt,
            "local_num_threads": int(desc.get("threads", 1)),
            "rng_seed": int(desc["seed"]) % (2**31 - 1) + 1,
            "print_time": False,
        }
    )
    p = desc["neuron"]
    n = int(desc["n_neurons"])
    conductance = p["model"] == "cond_exp"
    scale = 1000.0  # nF -> pF, µS -> nS, nA -> pA
    params = {
        "C_m": p["cm"] * scale,
        "V_th": p["v_thresh"],
        "V_reset": p["v_reset"],
        "t_ref": p["tau_refrac"],
        "tau_syn_ex": p["tau_syn_E"],
        "tau_syn_in": p["tau_syn_I"],
        "I_e": 0.0,
    }
    if conductance:
        model = "iaf_cond_exp"
        params.update(g_L=p["cm"] / p["tau_m"] * scale, E_ex=p["e_rev_E"], E_in=p["e_rev_I"])
    else:
        model = "iaf_psc_exp"
        params.update(tau_m=p["tau_m"])
    neurons = nest.Create(model, n, params=params)
    neurons.set(E_L=[float(v) for v in desc["v_rest"]], V_m=float(p["v_reset"]))

    noise = desc["noise"]
    for rate, weight in ((noise["rate_exc"], noise["weight_exc"]), (noise["rate_inh"], -noise["weight_inh"])):
        if rate > 0 and weight != 0:
            gen = nest.Create("poisson_generator", params={"rate": float(rate)})
            nest.Connect(gen, neurons, "all_to_all", {"weight": weight * scale, "delay": dt})

    pre = np.asarray(desc["pre"], dtype=np.int64)
    post = np.asarray(desc["post"], dtype=np.int64)
    first = int(neurons[0].global_id)
    renewing = desc["synapses"] == "renewing"
    n_connections = 0
    for weights, sign, tau in ((desc["w_exc"], 1.0, p["tau_syn_E"]), (desc["w_inh"], -1.0, p["tau_syn_I"])):
        w = np.asarray(weights, dtype=float)
        keep = w != 0
        if not keep.any():
            continue
        if renewing:
            name = f"renewing_{'exc' if sign > 0 else 'inh'}"
            nest.CopyModel(
                "tsodyks2_synapse", name, {"U": 1.0, "u": 1.0, "x": 1.0, "tau_rec": tau, "tau_fac": 0.0}
            )
        else:
            name = "static_synapse"
        nest.Connect(
            pre[keep] + first,
            post[keep] + first,
            conn_spec="one_to_one",
            syn_spec={
                "synapse_model": name,
                "weight": sign * w[keep] * scale,
                "delay": np.full(int(keep.sum()), float(desc["delay"])),
            },
        )
        n_connections += int(keep.sum())
    recorder = nest.Create("spike_recorder")
    nest.Connect(neurons, recorder)
    setup = time.perf_counter() - t0

    t1 = time.perf_counter()
    nest.Simulate(float(desc["duration"]))
    simulate = time.perf_counter() - t1
    n_spikes = int(recorder.get("n_events"))
    return {
        "nest_version": nest.__version__,
        "model": model,
        "synapse_model": ("tsodyks2_synapse" if renewing else "static_synapse") if n_connections else None,
        "threads": int(desc.get("threads", 1)),
        "setup_s": setup,
        "simulate_s": simulate,
        "n_spikes": n_spikes,
        "mean_rate_hz": n_spikes / n / (float(desc["duration"]) / 1000.0),
        "n_recurrent_connections": n_connections,
    }


def load_description(path: str) -> dict:
    """The network of ``_peers.save_description``: arrays plus ``meta`` (JSON) in one .npz file."""
    with np.load(path) as f:
        desc = json.loads(str(f["meta"]))
        desc.update({k: f[k] for k in f.files if k != "meta"})
    return desc


def main(argv: list[str]) -> int:
    desc = load_description(argv[1])
    result = build_and_run(desc)
    with open(argv[2], "w") as f:
        json.dump(result, f)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
