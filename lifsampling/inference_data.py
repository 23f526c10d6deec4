"""Sampling results as :class:`arviz.InferenceData`.

A result Dataset (spiking or Gibbs) becomes an ``InferenceData`` whose
``posterior`` group holds, with dims ``chain`` and ``draw``:

* ``states`` — the 0/1 state of every unit, dims ``(chain, draw, unit)``;
* ``energy`` — the target energy ``E(z) = -½ zᵀWz - bᵀz`` of every sample
  (when the target is known), the scalar whose mixing summarises the joint state;
* ``state_index`` — the joint-state index (unit 0 = most significant bit).

The sampled time of every draw is the non-dimension coordinate ``time`` [ms]
along ``draw``.  The ``constant_data`` group holds the target (``W``, ``b``)
and the group attributes hold the run settings of the result, so every arviz
function (``az.ess``, ``az.rhat``, ``az.mcse``, ``az.autocorr``,
``az.plot_trace``, ``az.plot_rank``, ``az.summary`` …) applies directly.

Note that arviz's ``energy`` in ``sample_stats`` means the Hamiltonian of HMC;
the Boltzmann energy here lives in ``posterior`` and is *not* meant for
``az.plot_energy`` / ``az.bfmi``.
"""

from __future__ import annotations

import json
from typing import Any

import arviz as az
import numpy as np
import xarray as xr

from .results import _validate, result_target
from .targets import BoltzmannMachine, states_to_indices

__all__ = ["to_inference_data", "as_result"]

#: joint-state indices are int64: at most this many units
MAX_INDEX_UNITS = 62


def _target_for(result: xr.Dataset, target: BoltzmannMachine | None) -> BoltzmannMachine | None:
    """The target to use with ``result``: the given one (checked) or the stored one."""
    if target is None:
        return result_target(result)
    if not isinstance(target, BoltzmannMachine):
        raise TypeError(f"target must be a BoltzmannMachine, got {type(target).__name__}.")
    n = result.sizes["unit"]
    if target.n_units != n:
        raise ValueError(
            f"the target has {target.n_units} units but the result has {n}; "
            "pass the target the result was sampled from."
        )
    return target


def to_inference_data(result: xr.Dataset, target: BoltzmannMachine | None = None) -> az.InferenceData:
    """Convert a sampling result to :class:`arviz.InferenceData`.

    Parameters
    ----------
    result : xarray.Dataset
        A result of :meth:`LIFSampler.sample`, :meth:`GibbsSampler.sample` or
        :func:`load_result`.
    target : BoltzmannMachine, optional
        The target distribution; defaults to the one stored in the result.
        Without a target there is no ``energy`` variable.

    Returns
    -------
    arviz.InferenceData
        Groups ``posterior`` (``states``, ``energy``, ``state_index``) and, with
        a target, ``constant_data`` (``W``, ``b``).

    Examples
    --------
    >>> import arviz as az
    >>> from lifsampling import GibbsSampler, random_boltzmann_machine
    >>> bm = random_boltzmann_machine(3, seed=0)
    >>> idata = to_inference_data(GibbsSampler(bm).sample(200.0, n_chains=2, seed=1))
    >>> sorted(idata.posterior.data_vars)
    ['energy', 'state_index', 'states']
    >>> bool(az.ess(idata, var_names=["energy"]).energy > 0)
    True
    """
    _validate(result, "result")
    target = _target_for(result, target)
    states = result.states.values.astype(np.int8, copy=False)
    coords: dict[str, Any] = {
        "chain": result.chain.values,
        "draw": result.draw.values,
        "unit": result.unit.values,
    }
    if "time" in result.coords:
        coords["time"] = ("draw", result.time.values, {"units": "ms"})
    posterior = xr.Dataset({"states": (("chain", "draw", "unit"), states)}, coords=coords)
    posterior.states.attrs["description"] = "state z_k of unit k (0/1)"
    if target is not None:
        posterior["energy"] = (("chain", "draw"), target.energy(states))
        posterior.energy.attrs["description"] = "Boltzmann energy E(z) = -z.W.z/2 - b.z of the sample"
    if states.shape[-1] <= MAX_INDEX_UNITS:
        posterior["state_index"] = (("chain", "draw"), states_to_indices(states))
        posterior.state_index.attrs["description"] = "joint-state index, unit 0 = most significant bit"
    posterior.attrs.update(_json_safe_attrs(result.attrs))
    groups: dict[str, xr.Dataset] = {"posterior": posterior}
    if target is not None:
        groups["constant_data"] = xr.Dataset(
            {"W": (("unit", "unit_j"), target.W), "b": (("unit",), target.b)},
            coords={"unit": result.unit.values, "unit_j": result.unit.values},
            attrs={"description": "target Boltzmann machine p(z) ∝ exp(z.W.z/2 + b.z)"},
        )
    return az.InferenceData(**groups)


def as_result(data: xr.Dataset | az.InferenceData) -> xr.Dataset:
    """A result Dataset from a result or from :func:`to_inference_data` output."""
    if isinstance(data, az.InferenceData):
        if "posterior" not in data.groups() or "states" not in data.posterior:
            raise ValueError(
                "the InferenceData has no posterior 'states'; it was not made by to_inference_data."
            )
        post = data.posterior
        ds = xr.Dataset({"states": post.states.astype(np.int8)}, attrs=dict(post.attrs))
        if "time" in post.coords:
            ds = ds.assign_coords(time=post.time)
        if "constant_data" in data.groups() and "W" in data.constant_data:
            ds["target_W"] = (("unit", "unit_j"), data.constant_data.W.values)
            ds["target_b"] = (("unit",), data.constant_data.b.values)
        return ds
    _validate(data, "result")
    return data


def _json_safe_attrs(attrs: dict) -> dict:
    """Attributes as NetCDF-safe scalars/strings (arviz saves InferenceData as NetCDF)."""
    out = {}
    for key, value in attrs.items():
        if isinstance(value, (str, int, float, np.integer, np.floating)):
            out[key] = value
        elif isinstance(value, np.ndarray) and value.ndim == 0:
            out[key] = value.item()
        else:
            out[key] = json.dumps(value, default=str)
    return out
