"""Translation between Boltzmann parameters and LIF network parameters.

Bias → leak potential (Petrovici et al. 2016, Phys. Rev. E 94, 042312)::

    E_L,k = v_p05 + α b_k

Weight → synaptic weight of the connection ``i → j``, evaluated at the
target neuron's free-membrane state (``μ_j``, ``τ_eff``): the integral of the
linearised PSP over ``[0, τ_ref]`` equals the area of a rectangular PSP of
height ``α_ū W_ij`` lasting ``τ_ref``, with ``α_ū = α g_l / g_tot``.  For
exponential conductances (``τ_r = τ_ref``, ``τ_s = τ_syn``)::

    w_ij = W_ij α g_l τ_r (τ_s − τ_eff) /
           ( τ_s ΔE [ τ_s (1 − e^(−τ_r/τ_s)) − τ_eff (1 − e^(−τ_r/τ_eff)) ] )   [µS]

with ``ΔE = E_rev_E − μ_j`` (excitatory, ``W_ij ≥ 0``) or ``μ_j − E_rev_I``
(inhibitory, ``|W_ij|``).  Current-based synapses: the same with
``g_tot = g_l``, ``τ_eff = τ_m`` and no ``ΔE`` (weights in nA).

:func:`lif_to_boltzmann` inverts both maps exactly, so round trips are testable.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .calibration import Calibration
from .interaction import InteractionCalibration
from .membrane import free_membrane
from .targets import BoltzmannMachine

__all__ = ["LIFParameters", "boltzmann_to_lif", "lif_to_boltzmann"]


@dataclass(frozen=True)
class LIFParameters:
    """Parameters of one translated sampling network.

    Attributes
    ----------
    v_rest : ndarray, shape (K,)
        Leak potential ``E_L`` of each neuron [mV].
    w_exc, w_inh : ndarray, shape (K, K)
        Non-negative weights of the excitatory / inhibitory synapse from
        neuron ``i`` (row) to neuron ``j`` (column) [µS, or nA if current-based].
    weight_unit : str
        ``"uS"`` or ``"nA"``.
    v_thresh : ndarray, shape (K,), optional
        Firing threshold of each neuron [mV] (fixed-pattern parameter noise,
        :class:`lifsampling.ParameterNoise`); None: the neuron model's threshold.
    """

    v_rest: np.ndarray
    w_exc: np.ndarray
    w_inh: np.ndarray
    weight_unit: str
    v_thresh: np.ndarray | None = None

    @property
    def n_units(self) -> int:
        return int(self.v_rest.shape[0])


def _weight_per_unit(
    cal: Calibration, v_rest: np.ndarray, b: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Synaptic weight per unit of W onto each target neuron: (excitatory, inhibitory)."""
    neuron = cal.neuron
    fm = free_membrane(neuron, cal.noise, v_rest)
    tau_r = neuron.tau_refrac
    out = []
    for tau_s, excitatory in ((neuron.tau_syn_E, True), (neuron.tau_syn_I, False)):
        tau_eff = float(fm.tau_eff)
        shape = tau_s * (1 - np.exp(-tau_r / tau_s)) - tau_eff * (1 - np.exp(-tau_r / tau_eff))
        factor = cal.alpha * neuron.g_l * tau_r * (tau_s - tau_eff) / (tau_s * shape)
        if neuron.conductance_based:
            d_e = (neuron.e_rev_E - fm.mean) if excitatory else (fm.mean - neuron.e_rev_I)
            if np.any(d_e <= 0):
                k = int(np.flatnonzero(np.broadcast_to(d_e, v_rest.shape) <= 0)[0])
                which = f"b[{k}] = {b[k]:g}: the" if b is not None else "The"
                raise ValueError(
                    f"{which} mean free membrane potential lies beyond a reversal potential for neuron {k} "
                    f"(the {'excitatory' if excitatory else 'inhibitory'} one; E_L = {v_rest[k]:.4g} mV); "
                    "a conductance-based neuron cannot express such a bias. Reduce |b| (or widen the "
                    "reversal potentials)."
                )
            out.append(factor / d_e)
        else:
            out.append(np.full(v_rest.shape, factor))
    return out[0], out[1]


def _check_expressible(W_target: np.ndarray, W: np.ndarray, v_rest: np.ndarray, cal: Calibration) -> None:
    """Refuse couplings whose PSP would have to cross a reversal potential.

    A conductance-based synapse cannot move the membrane past its reversal
    potential, so the rectangular PSP of height ``α_ū |W_ij|`` that a coupling
    stands for must stay below the driving force ``ΔE_j`` of the target neuron.
    """
    neuron = cal.neuron
    fm = free_membrane(neuron, cal.noise, v_rest)
    alpha_u = cal.alpha * neuron.g_l / np.broadcast_to(fm.g_tot, v_rest.shape)
    mean = np.broadcast_to(fm.mean, v_rest.shape)
    limit = np.where(W > 0, (neuron.e_rev_E - mean)[None, :], (mean - neuron.e_rev_I)[None, :])
    height = np.abs(W) * alpha_u[None, :]
    bad = height >= limit
    if np.any(bad):
        i, j = (int(x) for x in np.argwhere(bad)[0])
        kind = "excitatory" if W[i, j] > 0 else "inhibitory"
        raise ValueError(
            f"W[{i}, {j}] = {W_target[i, j]:g} is beyond what conductances can express: it needs a PSP of "
            f"{height[i, j]:.3g} mV onto neuron {j}, but the {kind} reversal potential is only "
            f"{limit[i, j]:.3g} mV from its mean membrane potential. Scale W down (the translated "
            f"coupling onto neuron {j} must stay below {limit[i, j] / alpha_u[j]:.3g})."
        )


def boltzmann_to_lif(
    target: BoltzmannMachine,
    calibration: Calibration,
    interactions: InteractionCalibration | None = None,
) -> LIFParameters:
    """Translate a Boltzmann machine into LIF leak potentials and synaptic weights.

    The neuron model and background come from the calibration, so the
    translation always uses the activation function they were measured with.

    Parameters
    ----------
    target : BoltzmannMachine
    calibration : Calibration
    interactions : InteractionCalibration, optional
        Measured map from requested to realised couplings; when given, every
        ``W_ij`` is replaced by the coupling that realises it
        (:meth:`InteractionCalibration.nominal`) before the PSP-area formula.

    Returns
    -------
    LIFParameters

    References
    ----------
    Petrovici et al. (2016), Phys. Rev. E 94, 042312; Probst et al. (2015),
    Front. Comput. Neurosci.

    Examples
    --------
    >>> lif = boltzmann_to_lif(bm, cal)   # doctest: +SKIP
    >>> lif.v_rest                        # doctest: +SKIP
    array([-50.9, -50.1, ...])
    """
    W, b = np.asarray(target.W), np.asarray(target.b)
    if interactions is not None:
        W = interactions.nominal(W)
    v_rest = calibration.v_p05 + calibration.alpha * b
    f_exc, f_inh = _weight_per_unit(calibration, v_rest, b)
    if calibration.neuron.conductance_based:
        _check_expressible(np.asarray(target.W), W, v_rest, calibration)
    w_exc = np.where(W > 0, W, 0.0) * f_exc[None, :]
    w_inh = np.where(W < 0, -W, 0.0) * f_inh[None, :]
    return LIFParameters(v_rest, w_exc, w_inh, calibration.neuron.weight_unit)


def lif_to_boltzmann(
    params: LIFParameters,
    calibration: Calibration,
    interactions: InteractionCalibration | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Invert :func:`boltzmann_to_lif`: the Boltzmann ``(W, b)`` a LIF network encodes.

    Pass the same ``interactions`` as to :func:`boltzmann_to_lif` for an exact round trip.

    ``W`` is returned as computed per connection and may be asymmetric if the
    LIF weights are (wrap it in :class:`BoltzmannMachine` when symmetric).
    """
    if params.weight_unit != calibration.neuron.weight_unit:
        raise ValueError(
            f"weights are in {params.weight_unit} but the calibrated neuron uses "
            f"{calibration.neuron.weight_unit}."
        )
    b = (params.v_rest - calibration.v_p05) / calibration.alpha
    f_exc, f_inh = _weight_per_unit(calibration, params.v_rest)
    W = params.w_exc / f_exc[None, :] - params.w_inh / f_inh[None, :]
    if interactions is not None:
        W = interactions.effective(W)
    np.fill_diagonal(W, 0.0)
    return W, b
