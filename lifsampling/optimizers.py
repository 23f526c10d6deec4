"""Update rules shared by the trainers: Adam's direction and damped, preconditioned solves.

Both learning in the loop (:class:`lifsampling.WakeSleep`) and the quantum
drivers (:mod:`quantum`) turn noisy sample-based gradients into parameter
steps.  The two pieces they share live here:

* :func:`adam_direction` — the bias-corrected Adam direction
  ``m̂ / (√v̂ + ε)`` (Kingma & Ba 2015, *Adam: a method for stochastic
  optimization*, ICLR), with its running moments kept in a plain ``dict`` so
  that a trainer can checkpoint it;
* :func:`damped_solve` — ``(S + λ 𝟙)⁻¹ g`` for a covariance ``S`` of sampled
  statistics: the natural-gradient step of wake–sleep learning and the
  stochastic reconfiguration of variational Monte Carlo (Sorella 1998).

Examples
--------
>>> import numpy as np
>>> state = {}
>>> adam_direction(state, np.array([0.5, -2.0])).round(6)  # first step: the sign of the gradient
array([ 1., -1.])
>>> state["t"], state["m"]  # running moments, ready to checkpoint
(1, array([ 0.05, -0.2 ]))
>>> damped_solve(np.eye(2), np.array([1.0, 2.0]), shift=1.0)
array([0.5, 1. ])
"""

from __future__ import annotations

import numpy as np

__all__ = ["adam_direction", "damped_solve"]


def adam_direction(
    state: dict, grad: np.ndarray, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8
) -> np.ndarray:
    """Update Adam's running moments in ``state`` with ``grad`` and return ``m̂ / (√v̂ + ε)``.

    ``state`` holds ``"m"``, ``"v"`` (first and second moments) and ``"t"``
    (steps taken); an empty dict, or one whose moments have another shape,
    starts afresh.  The caller multiplies the direction by its learning rate
    and chooses the sign (descent or ascent).
    """
    g = np.asarray(grad, dtype=float)
    m = state.get("m")
    if m is None or np.shape(m) != g.shape:
        state.update(m=np.zeros_like(g), v=np.zeros_like(g), t=0)
    b1, b2 = betas
    state["t"] += 1
    state["m"] = b1 * state["m"] + (1 - b1) * g
    state["v"] = b2 * state["v"] + (1 - b2) * g * g
    m_hat = state["m"] / (1 - b1 ** state["t"])
    v_hat = state["v"] / (1 - b2 ** state["t"])
    return m_hat / (np.sqrt(v_hat) + eps)


def damped_solve(matrix: np.ndarray, grad: np.ndarray, shift: float) -> np.ndarray:
    """``(S + λ 𝟙)⁻¹ g`` with ``λ = shift``; least squares if the damped matrix is singular."""
    s = np.atleast_2d(np.asarray(matrix, dtype=float))
    a = s + shift * np.eye(s.shape[0])
    try:
        return np.linalg.solve(a, grad)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(a, grad, rcond=None)[0]
