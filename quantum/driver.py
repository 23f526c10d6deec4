"""The loop every driver shares: sample, estimate, update, log (private base class).

A driver owns the current model, a sampler backend, an optimiser and one
random generator (from its ``seed``); :meth:`Driver.run` performs steps and
returns the log as an :class:`xarray.Dataset`.  Ctrl-C stops a run cleanly
after the current step: the log so far is returned, with the attribute
``interrupted = 1``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

import numpy as np
import xarray as xr

from lifsampling._seeding import make_rng

from .log import RunLog
from .models import RBM
from .optimizers import SGD, Adam
from .samplers import Backend, _check_n_samples

__all__ = ["Driver"]


class Driver(ABC):
    """Base class of :class:`quantum.StateLearning` and :class:`quantum.VMC`."""

    #: Name of the step dimension of the log.
    dim: str = "step"

    def __init__(
        self,
        model: RBM,
        backend: Backend,
        optimizer: Adam | SGD | None,
        n_samples: int,
        seed: int | np.random.Generator | None,
    ) -> None:
        if not isinstance(model, RBM):
            raise TypeError(
                f"model must be a quantum.RBM, got {type(model).__name__}. "
                "Build one with RBM.random(n_visible, n_hidden)."
            )
        if not isinstance(backend, Backend):
            raise TypeError(
                f"backend must be a quantum sampler backend (ExactBackend, GibbsBackend, LIFBackend), "
                f"got {type(backend).__name__}."
            )
        self.model = model
        self.backend = backend
        self.optimizer = Adam() if optimizer is None else optimizer
        if not hasattr(self.optimizer, "step"):
            raise TypeError(
                f"optimizer must have a step(params, grad) method, got {type(optimizer).__name__}."
            )
        self.n_samples = _check_n_samples(n_samples)
        self.seed = seed if isinstance(seed, (int, np.integer)) else None
        self._rng = make_rng(seed)
        self.step_count = 0

    @abstractmethod
    def _step(self, seed: int) -> dict[str, float]:
        """One update of :attr:`model`; returns the record to log (metrics of the model it sampled)."""

    def describe(self) -> dict[str, Any]:
        """Settings stored as attributes of the log."""
        return {
            "driver": type(self).__name__,
            "backend": repr(self.backend),
            "optimizer": repr(self.optimizer),
            "n_samples": self.n_samples,
            "n_visible": self.model.n_visible,
            "n_hidden": self.model.n_hidden,
            "seed": self.seed,
        }

    def run(
        self,
        n_steps: int,
        *,
        out: RunLog | None = None,
        callback: Callable[[int, dict[str, float], Driver], bool | None] | None = None,
        show_progress: bool = False,
    ) -> xr.Dataset:
        """Run ``n_steps`` steps and return the log (dim :attr:`dim`).

        Parameters
        ----------
        n_steps : int
        out : RunLog, optional
            Logger to append to (e.g. ``RunLog("run.nc", save_every=50)``); a new
            in-memory one by default.
        callback : callable, optional
            ``callback(step, record, driver)``; returning ``False`` stops the run.
        show_progress : bool
            Progress bar (tqdm).
        """
        if isinstance(n_steps, bool) or not isinstance(n_steps, (int, np.integer)) or n_steps < 0:
            raise ValueError(f"n_steps must be an integer >= 0, got {n_steps!r}.")
        log = RunLog() if out is None else out
        log.dim = self.dim
        log.attrs.update(self.describe())
        steps = range(int(n_steps))
        if show_progress:
            from tqdm.auto import tqdm

            steps = tqdm(steps, desc=type(self).__name__)
        try:
            for _ in steps:
                record = self._step(int(self._rng.integers(0, 2**31 - 1)))
                step = self.step_count
                log(step, record)
                self.step_count += 1
                if callback is not None and callback(step, record, self) is False:
                    break
        except KeyboardInterrupt:
            log.attrs["interrupted"] = True
        log.flush()
        return log.to_dataset()
