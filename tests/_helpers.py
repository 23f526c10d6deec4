"""Helpers shared by several test modules (import as ``from _helpers import ...``)."""

import numpy as np


class SimulationCalled(Exception):
    """Raised by the ``no_simulation`` stand-in for the simulator: proves that a code path simulates."""


def conductance_samples(noise, neuron, dt_ms, n=400, steps=20_000):
    """Excitatory input conductance of ``n`` unconnected, silent neurons driven by ``noise``."""
    import brian2 as b2

    from lifsampling._network import neuron_equations

    old = b2.prefs.codegen.target
    b2.prefs.codegen.target = "numpy"  # no compilation for this small check
    try:
        b2.seed(11)
        group = b2.NeuronGroup(
            n,
            neuron_equations(neuron, noise, dt_ms),
            method="exponential_euler",
            dt=dt_ms * b2.ms,
            name="noise_statistics_neurons",
        )
        group.C_m, group.g_l = neuron.cm * b2.nF, neuron.g_l * b2.uS
        group.tau_syn_e = group.tau_syn_i = neuron.tau_syn_E * b2.ms
        group.E_e, group.E_i = neuron.e_rev_E * b2.mV, neuron.e_rev_I * b2.mV
        group.E_L = group.V = -90 * b2.mV
        objects = noise.build(group, neuron)
        mon = b2.StateMonitor(group, "g_e", record=True, dt=1 * b2.ms, when="end")
        net = b2.Network(group, *objects, mon)
        net.run(steps * dt_ms * b2.ms, namespace={})
        return np.asarray(mon.g_e_ / 1e-6)[:, 100:]  # µS, after 100 ms of warm-up
    finally:
        b2.prefs.codegen.target = old


def filtered_count_moments(weight, mean_count, var_count, dt_ms, tau_ms):
    a = np.exp(-dt_ms / tau_ms)  # decay per step; the count is added once per step
    return weight * mean_count / (1 - a), weight**2 * var_count / (1 - a**2)
