"""The restricted Boltzmann machine ansatz: probabilities, marginals, log-derivatives.

A restricted Boltzmann machine (RBM) over visible units ``v ∈ {0,1}^n_v`` and
hidden units ``h ∈ {0,1}^n_h`` in the toolkit's Boltzmann convention
(:class:`lifsampling.BoltzmannMachine`, ``p ∝ exp(−E)``):

.. math:: p(v, h) = \\frac{1}{Z} \\exp\\big(a^T v + c^T h + v^T W h\\big),
          \\qquad \\log \\tilde p(v) = a^T v + \\sum_j \\operatorname{softplus}(c_j + (W^T v)_j).

Parameters ``θ = (a, c, W)`` are flattened in that order (``W`` row-major) for
optimisers.  The log-derivatives of the joint,

.. math:: O(v, h) = ∂_θ \\log \\tilde p(v, h) = (v,\\; h,\\; v h^T),

drive both learning rules of :mod:`quantum` (POVM state learning and VMC);
because ``O`` is linear in ``h`` the same functions accept the conditional
means ``E[h | v] = σ(c + Wᵀv)`` in place of ``h``, which gives
``∂_θ log p̃(v)``.

Examples
--------
>>> from quantum import RBM
>>> rbm = RBM.random(4, 3, seed=0)
>>> rbm.n_parameters
19
>>> p = rbm.visible_probabilities()
>>> p.shape, round(float(p.sum()), 12)
((16,), 1.0)
>>> bm = rbm.to_boltzmann()  # a lifsampling.RestrictedBoltzmannMachine for the samplers
>>> bool(np.allclose(bm.visible_log_probabilities(), np.log(p)))
True
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, logsumexp

from lifsampling import RestrictedBoltzmannMachine, all_states
from lifsampling._seeding import make_rng

__all__ = ["RBM"]

#: Visible units up to which the visible marginal is normalised by enumeration.
MAX_ENUMERATED_VISIBLE = 20


def _count(value, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


class RBM:
    """A restricted Boltzmann machine ``p(v, h) ∝ exp(aᵀv + cᵀh + vᵀWh)`` (immutable).

    Parameters
    ----------
    weights : array_like, shape (n_visible, n_hidden)
        Visible–hidden couplings ``W``.
    visible_bias : array_like, shape (n_visible,)
        ``a``.
    hidden_bias : array_like, shape (n_hidden,)
        ``c``.

    See Also
    --------
    RBM.random : an RBM with small random weights.
    lifsampling.RestrictedBoltzmannMachine : the sampler-side twin (:meth:`to_boltzmann`).
    """

    def __init__(self, weights, visible_bias, hidden_bias) -> None:
        W = np.array(weights, dtype=float)
        if W.ndim != 2:
            raise ValueError(f"weights must have shape (n_visible, n_hidden), got {W.shape}.")
        nv, nh = W.shape
        if nv < 1:
            raise ValueError("an RBM needs at least one visible unit.")
        a = np.array(visible_bias, dtype=float)
        c = np.array(hidden_bias, dtype=float)
        if a.shape != (nv,):
            raise ValueError(f"visible_bias must have shape ({nv},), got {a.shape}.")
        if c.shape != (nh,):
            raise ValueError(f"hidden_bias must have shape ({nh},), got {c.shape}.")
        for name, arr in (("weights", W), ("visible_bias", a), ("hidden_bias", c)):
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"{name} must be finite; the optimiser diverged or the input is broken.")
            arr.setflags(write=False)
        self.weights, self.visible_bias, self.hidden_bias = W, a, c

    @classmethod
    def random(
        cls,
        n_visible: int,
        n_hidden: int,
        *,
        scale: float = 0.01,
        seed: int | np.random.Generator | None = None,
    ) -> RBM:
        """An RBM with weights and biases drawn from ``N(0, scale²)``.

        Parameters
        ----------
        n_visible : int
            Visible units (≥ 1).
        n_hidden : int
            Hidden units (≥ 0).
        scale : float
            Standard deviation of the initial parameters.
        seed : int or numpy.random.Generator, optional
            Drives the draw.

        Examples
        --------
        >>> RBM.random(2, 3, seed=1).weights.shape
        (2, 3)
        >>> RBM.random(2, -1)
        Traceback (most recent call last):
        ...
        ValueError: n_hidden must be an integer >= 0, got -1.
        """
        nv = _count(n_visible, "n_visible", 1)
        nh = _count(n_hidden, "n_hidden", 0)
        if not np.isfinite(scale) or scale < 0:
            raise ValueError(f"scale must be a non-negative number, got {scale!r}.")
        rng = make_rng(seed)
        return cls(
            rng.normal(0.0, scale, size=(nv, nh)),
            rng.normal(0.0, scale, size=nv),
            rng.normal(0.0, scale, size=nh),
        )

    # -- sizes and parameters ------------------------------------------------
    @property
    def n_visible(self) -> int:
        return int(self.weights.shape[0])

    @property
    def n_hidden(self) -> int:
        return int(self.weights.shape[1])

    @property
    def n_parameters(self) -> int:
        """``n_v + n_h + n_v n_h``."""
        return self.n_visible + self.n_hidden + self.weights.size

    @property
    def parameters(self) -> np.ndarray:
        """Flat parameter vector ``(a, c, W.ravel())``."""
        return np.concatenate([self.visible_bias, self.hidden_bias, self.weights.ravel()])

    def with_parameters(self, theta) -> RBM:
        """A new RBM of the same shape with the flat parameter vector ``theta``."""
        theta = np.asarray(theta, dtype=float)
        if theta.shape != (self.n_parameters,):
            raise ValueError(f"theta must have shape ({self.n_parameters},), got {theta.shape}.")
        nv, nh = self.n_visible, self.n_hidden
        return RBM(theta[nv + nh :].reshape(nv, nh), theta[:nv], theta[nv : nv + nh])

    def __repr__(self) -> str:
        return f"RBM(n_visible={self.n_visible}, n_hidden={self.n_hidden})"

    # -- probabilities ---------------------------------------------------------
    def _visible(self, v) -> np.ndarray:
        v = np.asarray(v, dtype=float)
        if v.shape[-1] != self.n_visible:
            raise ValueError(f"visible states must have {self.n_visible} units, got shape {v.shape}.")
        return v

    def log_unnormalized(self, v) -> np.ndarray:
        """``log p̃(v) = aᵀv + Σ_j softplus(c_j + (Wᵀv)_j)`` (hidden units summed out analytically)."""
        v = self._visible(v)
        return v @ self.visible_bias + np.logaddexp(0.0, v @ self.weights + self.hidden_bias).sum(axis=-1)

    def hidden_means(self, v) -> np.ndarray:
        """Conditional means ``E[h_j | v] = σ(c_j + (Wᵀv)_j)``."""
        return expit(self._visible(v) @ self.weights + self.hidden_bias)

    def visible_log_probabilities(self) -> np.ndarray:
        """Normalised ``log p(v)`` of all ``2**n_visible`` visible states (state index, unit 0 = MSB)."""
        if self.n_visible > MAX_ENUMERATED_VISIBLE:
            raise ValueError(
                f"normalising p(v) enumerates 2**{self.n_visible} visible states; the limit is "
                f"{MAX_ENUMERATED_VISIBLE} visible units. Use ratios (log_unnormalized) instead."
            )
        log_pt = self.log_unnormalized(all_states(self.n_visible))
        return log_pt - logsumexp(log_pt)

    def visible_probabilities(self) -> np.ndarray:
        """Normalised ``p(v)`` of all ``2**n_visible`` visible states."""
        return np.exp(self.visible_log_probabilities())

    # -- log-derivatives ---------------------------------------------------------
    def _pair(self, v, h) -> tuple[np.ndarray, np.ndarray]:
        v = np.atleast_2d(self._visible(v))
        h = np.atleast_2d(np.asarray(h, dtype=float))
        if h.shape != (v.shape[0], self.n_hidden):
            raise ValueError(f"h must have shape ({v.shape[0]}, {self.n_hidden}), got {h.shape}.")
        return v, h

    def log_derivatives(self, v, h) -> np.ndarray:
        """``O(v, h) = ∂_θ log p̃(v, h) = (v, h, v hᵀ)``, one row per sample, shape (S, n_parameters).

        Memory grows as ``S × n_parameters``; :meth:`weighted_sum` and
        :meth:`weighted_covariance` avoid materialising it.
        """
        v, h = self._pair(v, h)
        return np.concatenate([v, h, (v[:, :, None] * h[:, None, :]).reshape(v.shape[0], -1)], axis=1)

    def weighted_sum(self, v, h, coefficients) -> np.ndarray:
        """``Σ_s c_s O(v_s, h_s)`` without building ``O`` (gradient estimators)."""
        v, h = self._pair(v, h)
        c = np.asarray(coefficients, dtype=float)
        if c.shape != (v.shape[0],):
            raise ValueError(f"coefficients must have shape ({v.shape[0]},), got {c.shape}.")
        return np.concatenate([c @ v, c @ h, ((v * c[:, None]).T @ h).ravel()])

    def weighted_covariance(self, v, h, weights, *, chunk: int = 4096) -> np.ndarray:
        """``Cov_w(O_k, O_l)`` over samples with weights ``w`` (summing to 1), in chunks."""
        v, h = self._pair(v, h)
        w = np.asarray(weights, dtype=float)
        mean = self.weighted_sum(v, h, w)
        second = np.zeros((self.n_parameters, self.n_parameters))
        for start in range(0, v.shape[0], chunk):
            o = self.log_derivatives(v[start : start + chunk], h[start : start + chunk])
            second += o.T @ (o * w[start : start + chunk, None])
        return second - np.outer(mean, mean)

    # -- the sampler side --------------------------------------------------------
    def to_boltzmann(self) -> RestrictedBoltzmannMachine:
        """The same distribution as a :class:`lifsampling.RestrictedBoltzmannMachine`.

        Units ``0 … n_v−1`` are the visible, ``n_v …`` the hidden units; every
        sampler of :mod:`lifsampling` accepts it.
        """
        return RestrictedBoltzmannMachine(self.weights, self.visible_bias, self.hidden_bias)

    @classmethod
    def from_boltzmann(cls, machine: RestrictedBoltzmannMachine) -> RBM:
        """The RBM of a :class:`lifsampling.RestrictedBoltzmannMachine`."""
        if not isinstance(machine, RestrictedBoltzmannMachine):
            raise TypeError(f"machine must be a RestrictedBoltzmannMachine, got {type(machine).__name__}.")
        return cls(machine.weights, machine.visible_bias, machine.hidden_bias)
