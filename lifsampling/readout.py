"""Readout of binary network states from spike trains.

A sampling neuron is in state ``z_k = 1`` for the refractory period
``τ_ref`` after each of its spikes and ``z_k = 0`` otherwise (Buesing et al.
2011, PLoS Comput. Biol. 7, e1002211; Petrovici et al. 2016, Phys. Rev. E 94,
042312).  With spikes on the simulation grid, a spike at step ``s`` gives
``z = 1`` exactly on steps ``s, s+1, …, s + n_ref − 1`` (``n_ref = τ_ref/dt``).

:class:`StateReadout` turns a stream of spike chunks into states on a regular
sampling grid without keeping past spikes: it only carries each neuron's last
spike from one chunk to the next.
"""

from __future__ import annotations

import numpy as np

__all__ = ["StateReadout", "states_from_spikes"]

#: (neuron, grid point) cells read out at once: bounds the read-out's working memory (~100 MB).
_BLOCK_CELLS = 4_000_000


class StateReadout:
    """Stream spikes into binary states read on a regular grid.

    Grid points are the time steps ``first_step + k · interval_steps`` for
    ``k = 0 … n_draws − 1``.  Call the object with each chunk of spikes (in
    time order across calls); the states fill :attr:`states`.

    Parameters
    ----------
    n_neurons : int
    n_ref_steps : int
        Refractory period in time steps (``τ_ref / dt``).
    first_step, interval_steps, n_draws : int
        The sampling grid in time steps.

    Examples
    --------
    >>> r = StateReadout(1, n_ref_steps=3, first_step=0, interval_steps=1, n_draws=6)
    >>> r(np.array([0]), np.array([1]), end_step=6)
    >>> r.states[:, 0]
    array([0, 1, 1, 1, 0, 0], dtype=int8)
    """

    def __init__(
        self, n_neurons: int, n_ref_steps: int, first_step: int, interval_steps: int, n_draws: int
    ) -> None:
        from ._units import count

        for name, value, minimum in (
            ("n_neurons", n_neurons, 1),
            ("n_ref_steps", n_ref_steps, 1),
            ("first_step", first_step, 0),
            ("interval_steps", interval_steps, 1),
            ("n_draws", n_draws, 0),
        ):
            count(value, name, minimum)
        self.n_neurons = int(n_neurons)
        self.n_ref = int(n_ref_steps)
        self.first = int(first_step)
        self.interval = int(interval_steps)
        self.n_draws = int(n_draws)
        self.states = np.zeros((self.n_draws, self.n_neurons), dtype=np.int8)
        self.spike_counts = np.zeros(self.n_neurons, dtype=np.int64)
        self._last = np.full(self.n_neurons, np.iinfo(np.int64).min // 4, dtype=np.int64)
        self._done = 0  # grid points filled so far
        self._end = 0

    def _grid_index(self, step: np.ndarray) -> np.ndarray:
        """Index of the first grid point at or after ``step``."""
        return -((self.first - step) // self.interval)  # ceil((step - first) / interval)

    def __call__(self, neurons: np.ndarray, steps: np.ndarray, end_step: int) -> None:
        neurons, steps = _indices(neurons, "neurons"), _indices(steps, "steps")
        if neurons.shape != steps.shape:
            raise ValueError(
                f"neurons and steps must have the same length (one entry per spike), got {neurons.size} "
                f"and {steps.size}."
            )
        if neurons.size and (neurons.min() < 0 or neurons.max() >= self.n_neurons):
            raise ValueError(
                f"neurons must be indices in [0, {self.n_neurons}), got values from {neurons.min()} "
                f"to {neurons.max()}."
            )
        if end_step < self._end:
            raise ValueError("chunks must arrive in time order.")
        if steps.size and (steps.min() < self._end or steps.max() >= end_step):
            raise ValueError("spike steps must lie inside the chunk [previous end, end_step).")
        self.spike_counts += np.bincount(neurons, minlength=self.n_neurons)[: self.n_neurons]
        k0 = self._done
        k1 = int(min(self.n_draws, max(k0, self._grid_index(np.int64(end_step)))))
        if k1 > k0:
            # each neuron's last spike of earlier chunks may still be active; then this chunk's
            # spikes, which arrive in time order (so their windows can be sliced per block)
            carried = (np.arange(self.n_neurons), self._grid_index(self._last), self._last)
            if steps.size and np.any(steps[1:] < steps[:-1]):
                order = np.argsort(steps, kind="stable")
                neurons, steps = neurons[order], steps[order]
            first, last = self._grid_index(steps), self._grid_index(steps + self.n_ref)
            carried_last = self._grid_index(carried[2] + self.n_ref)
            # grid points in blocks of at most ~4e6 (neuron, point) cells, to bound memory
            block = max(1, _BLOCK_CELLS // self.n_neurons)
            for a in range(k0, k1, block):
                b = min(a + block, k1)
                i0, i1 = np.searchsorted(last, a, side="right"), np.searchsorted(first, b, side="left")
                src_n = np.concatenate([carried[0], neurons[i0:i1]])
                start = np.clip(np.concatenate([carried[1], first[i0:i1]]), a, b) - a
                stop = np.clip(np.concatenate([carried_last, last[i0:i1]]), a, b) - a
                keep = stop > start
                width = b - a + 1
                size = self.n_neurons * width
                row = src_n[keep] * width
                # +1 where a spike's active window opens, -1 where it closes (bincount: faster than add.at)
                diff = np.bincount(row + start[keep], minlength=size) - np.bincount(
                    row + stop[keep], minlength=size
                )
                active = np.cumsum(diff.reshape(self.n_neurons, width)[:, :-1], axis=1, dtype=np.int32) > 0
                self.states[a:b] = active.T
            self._done = k1
        if steps.size:
            # last spike of each neuron in this chunk
            order = np.lexsort((steps, neurons))
            n_sorted, s_sorted = neurons[order], steps[order]
            is_last = np.r_[n_sorted[1:] != n_sorted[:-1], True]
            self._last[n_sorted[is_last]] = s_sorted[is_last]
        self._end = int(end_step)

    def state_dict(self) -> dict:
        """Everything needed to continue the read-out later (see :meth:`load_state_dict`)."""
        return {
            "states": self.states[: self._done].copy(),
            "spike_counts": self.spike_counts.copy(),
            "last": self._last.copy(),
            "done": self._done,
            "end": self._end,
        }

    def load_state_dict(self, state: dict) -> None:
        """Continue from :meth:`state_dict` of a read-out with the same grid."""
        done = int(state["done"])
        self.states[:done] = state["states"]
        self.spike_counts[:] = state["spike_counts"]
        self._last[:] = state["last"]
        self._done, self._end = done, int(state["end"])

    @property
    def complete(self) -> bool:
        """True once every grid point has been read."""
        return self._done == self.n_draws


def _indices(values, name: str) -> np.ndarray:
    """A 1-D int64 array of spike neurons or steps, or a ValueError naming ``name``."""
    raw = np.asarray(values)
    if raw.ndim != 1 or (raw.size and raw.dtype.kind not in "iu"):
        raise ValueError(f"{name} must be a 1-D array of integers, got {raw.dtype} with shape {raw.shape}.")
    return raw.astype(np.int64, copy=False)


def states_from_spikes(
    neurons: np.ndarray,
    steps: np.ndarray,
    n_neurons: int,
    n_ref_steps: int,
    first_step: int,
    interval_steps: int,
    n_draws: int,
) -> np.ndarray:
    """States ``(n_draws, n_neurons)`` on a grid from all spikes at once.

    Convenience wrapper around :class:`StateReadout` for spikes already in memory.

    Examples
    --------
    >>> states_from_spikes([0, 1], [2, 4], 2, n_ref_steps=2, first_step=0,
    ...                    interval_steps=1, n_draws=6).T
    array([[0, 0, 1, 1, 0, 0],
           [0, 0, 0, 0, 1, 1]], dtype=int8)
    """
    steps = np.asarray(steps, dtype=np.int64)
    end = first_step + interval_steps * n_draws
    if steps.size:
        end = max(end, int(steps.max()) + 1)
    r = StateReadout(n_neurons, n_ref_steps, first_step, interval_steps, n_draws)
    r(np.asarray(neurons, dtype=np.int64), steps, end)
    return r.states
