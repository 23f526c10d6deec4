"""Free-membrane-potential theory of the LIF sampling neuron.

Without a threshold, a conductance-based LIF neuron bombarded by Poisson
input has a membrane potential with mean ``μ`` and standard deviation ``σ``,
and an effective time constant ``τ_eff = C_m / g_tot`` much shorter than
``τ_m`` in the high-conductance state (Petrovici et al. 2016, Phys. Rev. E
94, 042312, Sec. III and App. B).  Rates in kHz, times in ms, conductances
in µS, potentials in mV::

    g_x   = w_x ν_x τ_syn,x
    g_tot = g_l + Σ g_x,        τ_eff = C_m / g_tot
    μ     = (g_l E_L + Σ g_x E_x) / g_tot
    σ²    = Σ ν_x [J_x τ_g,x / τ_eff]² (τ_s/2 + τ_eff/2 − 2 τ_eff τ_s / (τ_eff + τ_s)),
            J_x = w_x (E_x − μ) / g_tot,   τ_g = (1/τ_s − 1/τ_eff)⁻¹

For current-based neurons ``g_tot = g_l``, ``τ_eff = τ_m`` and
``J_x = ±w_x / g_l``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .neurons import NeuronParameters
from .noise import NoiseSource

__all__ = ["FreeMembrane", "free_membrane"]


@dataclass(frozen=True)
class FreeMembrane:
    """Statistics of the free membrane potential (arrays if ``E_L`` was an array).

    Attributes
    ----------
    mean : μ [mV]
    std : σ [mV]
    g_tot : total mean conductance [µS]
    tau_eff : effective membrane time constant [ms]
    """

    mean: np.ndarray
    std: np.ndarray
    g_tot: np.ndarray
    tau_eff: np.ndarray


def free_membrane(
    neuron: NeuronParameters, noise: NoiseSource, v_rest: float | np.ndarray | None = None
) -> FreeMembrane:
    """Mean, spread and effective time constant of the free membrane potential.

    Parameters
    ----------
    neuron : NeuronParameters
    noise : NoiseSource
        Must provide :meth:`NoiseSource.input_components` (Poisson-like input).
    v_rest : float or array, optional
        Leak potential(s) ``E_L`` [mV]; defaults to ``neuron.v_rest``.

    Examples
    --------
    >>> from lifsampling import NeuronParameters, PoissonNoise
    >>> fm = free_membrane(NeuronParameters.preset("sbs"), PoissonNoise.preset("sbs"))
    >>> round(float(fm.g_tot), 3), round(float(fm.tau_eff), 3)
    (0.26, 0.769)
    """
    e_l = np.asarray(neuron.v_rest if v_rest is None else v_rest, dtype=float)
    comps = noise.input_components(neuron)
    g_l, c_m = neuron.g_l, neuron.cm
    tau_s = {True: neuron.tau_syn_E, False: neuron.tau_syn_I}
    if neuron.conductance_based:
        rev = {True: neuron.e_rev_E, False: neuron.e_rev_I}
        g = [c.weight * c.rate * 1e-3 * tau_s[c.excitatory] for c in comps]
        g_tot = g_l + sum(g)
        mu = (g_l * e_l + sum(gx * rev[c.excitatory] for gx, c in zip(g, comps, strict=False))) / g_tot
        amps = [c.weight * (rev[c.excitatory] - mu) / g_tot for c in comps]
    else:
        g_tot = g_l
        currents = [
            (1 if c.excitatory else -1) * c.weight * c.rate * 1e-3 * tau_s[c.excitatory] for c in comps
        ]
        mu = e_l + sum(currents) / g_l
        amps = [(1 if c.excitatory else -1) * c.weight / g_l for c in comps]
    tau_eff = c_m / g_tot
    var = np.zeros_like(mu, dtype=float)
    for c, J in zip(comps, amps, strict=False):
        ts = tau_s[c.excitatory]
        if np.isclose(ts, tau_eff):
            raise ValueError("free-membrane theory is singular for tau_syn == tau_eff.")
        tau_g = 1.0 / (1.0 / ts - 1.0 / tau_eff)
        shape = ts / 2 + tau_eff / 2 - 2 * tau_eff * ts / (tau_eff + ts)
        var = var + c.rate * 1e-3 * (J * tau_g / tau_eff) ** 2 * shape
    return FreeMembrane(
        mean=mu, std=np.sqrt(var), g_tot=np.asarray(g_tot, dtype=float), tau_eff=np.asarray(tau_eff)
    )
