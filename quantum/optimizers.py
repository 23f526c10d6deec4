"""Optimisers (Adam, SGD) and the stochastic-reconfiguration preconditioner.

An optimiser turns a gradient into a parameter update and keeps its own
state; a preconditioner turns a gradient into a better direction before the
optimiser sees it.  Both work on flat parameter vectors.  The arithmetic
(Adam's direction, the damped solve) is shared with lifsampling's wake–sleep
trainer (:mod:`lifsampling.optimizers`).

Examples
--------
>>> import numpy as np
>>> from quantum import Adam
>>> opt = Adam(learning_rate=0.1)
>>> theta = np.array([1.0, -2.0])
>>> for _ in range(200):
...     theta = opt.step(theta, 2 * theta)  # gradient of |θ|²
>>> bool(np.all(np.abs(theta) < 0.05))
True
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lifsampling.optimizers import adam_direction, damped_solve

__all__ = ["Adam", "SGD", "SR"]


def _positive(value: float, name: str) -> float:
    value = float(value)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}.")
    return value


@dataclass
class Adam:
    """Adam (Kingma & Ba 2015): ``θ ← θ − η m̂ / (√v̂ + ε)``.

    Parameters
    ----------
    learning_rate : float
        Step size ``η``.
    beta1, beta2 : float
        Decay rates of the first and second moment estimates.
    eps : float
        Added to ``√v̂``.
    """

    learning_rate: float = 0.01
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    _state: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        _positive(self.learning_rate, "learning_rate")
        _positive(self.eps, "eps")
        for name in ("beta1", "beta2"):
            b = getattr(self, name)
            if not 0 <= b < 1:
                raise ValueError(f"{name} must be in [0, 1), got {b!r}.")

    def reset(self) -> None:
        """Forget the moment estimates."""
        self._state.clear()

    def step(self, params: np.ndarray, grad: np.ndarray) -> np.ndarray:
        """Return the updated parameters for gradient ``grad`` (descent)."""
        direction = adam_direction(self._state, grad, (self.beta1, self.beta2), self.eps)
        return np.asarray(params, dtype=float) - self.learning_rate * direction


@dataclass
class SGD:
    """Plain gradient descent ``θ ← θ − η g``."""

    learning_rate: float = 0.01

    def __post_init__(self) -> None:
        _positive(self.learning_rate, "learning_rate")

    def reset(self) -> None:
        """Nothing to forget."""

    def step(self, params: np.ndarray, grad: np.ndarray) -> np.ndarray:
        return np.asarray(params, dtype=float) - self.learning_rate * np.asarray(grad, dtype=float)


@dataclass(frozen=True)
class SR:
    """Stochastic reconfiguration: solve ``(S + λ 𝟙) δ = g`` and hand ``δ`` to the optimiser.

    ``S_kl = ¼ Cov(O_k, O_l)`` is the quantum geometric tensor of
    ``ψ = √p`` (``O = ∂_θ log p̃``, Sorella 1998; as in Klassert et al.,
    iScience 25, 104707, 2022).

    Parameters
    ----------
    diag_shift : float
        ``λ``, added to the diagonal for stability.
    max_samples : int or None
        Estimate ``S`` from at most this many samples (every k-th one, the
        weights renormalised): its cost grows as ``n_samples × n_parameters²``
        while its noise matters little for a preconditioner.  None: all samples.
    """

    diag_shift: float = 0.01
    max_samples: int | None = 20_000

    def __post_init__(self) -> None:
        _positive(self.diag_shift, "diag_shift")
        m = self.max_samples
        if m is not None and (isinstance(m, bool) or not isinstance(m, int) or m < 1):
            raise ValueError(f"max_samples must be an integer >= 1 or None, got {m!r}.")

    def subset(self, n_samples: int) -> slice:
        """The samples ``S`` is estimated from."""
        if self.max_samples is None or n_samples <= self.max_samples:
            return slice(None)
        return slice(None, None, -(-n_samples // self.max_samples))

    def apply(self, s_matrix: np.ndarray, grad: np.ndarray) -> np.ndarray:
        """``(S + λ 𝟙)⁻¹ g``."""
        return damped_solve(s_matrix, grad, self.diag_shift)
