"""Many sampling runs at once: on local processes or on a Dask cluster.

Two entry points:

* :func:`sample_many` runs a list of :class:`Run` descriptions (a sampler, a
  duration and the keywords of its ``sample`` call) as tasks and returns the
  results in input order — seeds, parameter sweeps, several targets;
* :func:`sample_chains` (also ``LIFSampler.sample(..., client=, chains_per_task=)``)
  splits the chains of one run into blocks, runs each block as a task and
  merges them into one result with chain labels ``0 .. n_chains - 1``.

Where a task runs never changes its samples: every run gets an explicit seed
before it is sent anywhere (a missing seed is drawn and recorded), and every
block of chains a seed derived from the run's seed and the block's index.

Without a ``client`` the tasks run on local processes (``spawn`` context, one
per usable core; serially in this process with ``max_workers=1``).  With a
:class:`distributed.Client` they run on its workers.  Brian2 installs a signal
handler when it is imported, which works only on a process's main thread, so
the first import on a Dask worker thread fails; lifsampling registers a worker
plugin that imports Brian2 on every worker's main thread (and
:func:`local_cluster` preloads it).  Brian2 keeps global state, so a worker
runs one Brian2 simulation at a time even with several threads: use
``threads_per_worker=1`` and one worker per core.

Each worker process compiles a network structure once: Brian2's Cython cache
(``~/.cython``) and lifsampling's standalone builds (the sampler's
``cache_dir``) are on disk and shared by all processes of a machine, and a
worker keeps loaded code for its next task.  Calibrations are made (or loaded)
in the calling process before any task is sent, so workers never calibrate.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import sys
import threading
import warnings
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import KW_ONLY, dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from ._seeding import derive_seed
from ._units import count
from .evidence import ClampLeakWarning, agreement_of, check_evidence, warn_if_leaking
from .sampling import Sampler, check_run

if TYPE_CHECKING:
    from distributed import Client, LocalCluster

__all__ = ["Run", "sample_many", "sample_chains", "local_cluster", "block_seed"]

#: Keywords a :class:`Run` sets itself, which its ``options`` must not repeat.
_RUN_KEYWORDS = ("duration", "n_chains", "seed", "burn_in", "evidence")
_TASK_KEYWORDS = ("client", "chains_per_task", "max_workers")
_MAX_SEED = 2**31 - 1

#: One Brian2 simulation at a time per process (Brian2 keeps global state).
_BRIAN2_LOCK = threading.Lock()

_INSTALL_HINT = "install it with: pip install 'lifsampling[distributed]'"


@dataclass(frozen=True)
class Run:
    """One sampling run to execute as a task: ``sampler.sample(duration, ...)``.

    Parameters
    ----------
    sampler : Sampler
        Any sampler (:class:`LIFSampler`, :class:`GibbsSampler`, …).  It is
        copied to the process that runs it; a :class:`LIFSampler` is calibrated
        first, in the calling process.
    duration : float
        Sampled time per chain after burn-in [ms].
    n_chains : int
        Chains of this run (all in one task).
    seed : int, numpy.random.Generator or None
        Seed of the run.  :func:`sample_many` turns a generator or ``None``
        into an integer before the run is sent anywhere, and the result records
        it (attribute ``seed``).
    burn_in : float
        Discarded initial time [ms].
    evidence : dict, optional
        ``{unit: 0 or 1}``, as for ``sample``.
    options : dict, optional
        Further keywords of the sampler's ``sample`` (e.g. ``phase_window``).

    Examples
    --------
    >>> from lifsampling import GibbsSampler, random_boltzmann_machine
    >>> gibbs = GibbsSampler(random_boltzmann_machine(3, seed=1))
    >>> runs = [Run(gibbs, 1000.0, n_chains=2, seed=s) for s in range(4)]
    >>> [ds.attrs["seed"] for ds in sample_many(runs, max_workers=1)]
    [0, 1, 2, 3]
    """

    sampler: Sampler
    duration: float
    _: KW_ONLY
    n_chains: int = 1
    seed: int | np.random.Generator | None = None
    burn_in: float = 500.0
    evidence: Mapping[int, int] | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.sampler, Sampler):
            raise TypeError(
                f"Run needs a Sampler (LIFSampler, GibbsSampler, ...) as its sampler, "
                f"got {type(self.sampler).__name__}."
            )
        check_run(self.duration, self.n_chains, self.burn_in)
        if not isinstance(self.options, Mapping):
            raise TypeError(
                f"options must be a dict of sample() keywords, got {type(self.options).__name__}."
            )
        clash = sorted(set(self.options) & set(_RUN_KEYWORDS + _TASK_KEYWORDS))
        if clash:
            raise ValueError(
                f"options must not contain {clash}: set duration, n_chains, seed, burn_in and "
                "evidence as fields of the Run; client, chains_per_task and max_workers belong "
                "to sample_many / sample_chains."
            )
        check_evidence(self.evidence, self.sampler.target.n_units)

    def sample_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of the ``sample`` call (after ``duration``)."""
        return dict(
            n_chains=self.n_chains,
            seed=self.seed,
            burn_in=self.burn_in,
            evidence=self.evidence,
            **self.options,
        )


def block_seed(seed: int, block: int) -> int:
    """Seed of block ``block`` of the chains of a run with seed ``seed`` (31-bit).

    Derived with :class:`numpy.random.SeedSequence` from ``(seed, block)``, so
    blocks are independent and the same on every machine.

    >>> block_seed(1, 0) == block_seed(1, 0) != block_seed(1, 1)
    True
    """
    state = np.random.SeedSequence([int(seed), int(block)]).generate_state(1, np.uint64)[0]
    return int(state % _MAX_SEED)


# -- the task -------------------------------------------------------------------
def _import_brian2() -> None:
    """Import Brian2 here, also on a thread that is not the main thread.

    Brian2's import installs a ``SIGINT`` handler (to stop a simulation on
    Ctrl-C), which Python refuses outside the main thread; there the handler
    could never run anyway, so it is skipped.
    """
    if "brian2" in sys.modules:
        return
    if threading.current_thread() is threading.main_thread():
        import brian2  # noqa: F401

        return
    install = signal.signal

    def skip(signalnum, handler):  # pragma: no cover - trivial
        return signal.getsignal(signalnum)

    signal.signal = skip
    try:
        import brian2  # noqa: F401, F811
    finally:
        signal.signal = install


def _execute(run: Run) -> xr.Dataset:
    """Run one task (in whatever process or thread it was sent to)."""
    _import_brian2()
    with _BRIAN2_LOCK:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ClampLeakWarning)  # issued by the caller (_warn_if_leaking)
            return run.sampler.sample(run.duration, **run.sample_kwargs())


# -- running many tasks ------------------------------------------------------------
def _as_run(item: Any, index: int) -> Run:
    if isinstance(item, Run):
        return item
    if isinstance(item, tuple) and len(item) in (2, 3):
        sampler, duration, *rest = item
        kwargs = dict(rest[0]) if rest else {}
        options = {k: kwargs.pop(k) for k in list(kwargs) if k not in _RUN_KEYWORDS}
        return Run(sampler, duration, options=options, **kwargs)
    raise TypeError(
        f"run {index} must be a Run or a tuple (sampler, duration[, sample keywords]), "
        f"got {type(item).__name__}."
    )


def _prepare(runs: Sequence[Run]) -> None:
    """Calibrate every LIF sampler here, once, so that no worker calibrates."""
    from .sampler import LIFSampler

    seen: set[tuple[int, str]] = set()
    for run in runs:
        sampler = run.sampler
        if not isinstance(sampler, LIFSampler):
            continue
        key = (id(sampler), json.dumps(sorted(check_evidence(run.evidence, sampler.target.n_units).items())))
        if key in seen:
            continue
        seen.add(key)
        if sampler.lif_parameters_ is None:
            sampler.calibrate()
        sampler.clamped_network(run.evidence or {})  # measures the clamped-unit couplings if needed


def _is_dask_client(client: Any) -> bool:
    distributed = sys.modules.get("distributed")  # not imported: cannot be a Client
    return distributed is not None and isinstance(client, distributed.Client)


def _check_client(client: Any) -> None:
    if client is None or isinstance(client, Executor) or _is_dask_client(client):
        return
    raise TypeError(
        "client must be a dask.distributed.Client, a concurrent.futures.Executor or None "
        f"(local processes); got {type(client).__name__}. Create one with "
        "distributed.Client(lifsampling.local_cluster()) or Client('tcp://scheduler:8786')."
    )


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _dispatch(runs: list[Run], client: Any, max_workers: int | None) -> list[xr.Dataset]:
    if _is_dask_client(client):
        from ._dask import PLUGIN_NAME, Brian2Import

        client.register_plugin(Brian2Import(), name=PLUGIN_NAME)
        futures = client.map(_execute, runs, pure=False)
        return client.gather(futures)
    if client is not None:  # a concurrent.futures.Executor
        return list(client.map(_execute, runs))
    n_workers = min(len(runs), _usable_cores() if max_workers is None else max_workers)
    if n_workers <= 1:
        return [_execute(run) for run in runs]
    context = multiprocessing.get_context("spawn")  # no fork of a process holding Brian2 state
    with ProcessPoolExecutor(n_workers, mp_context=context, initializer=_import_brian2) as pool:
        return list(pool.map(_execute, runs))


def sample_many(
    runs: Iterable[Run | tuple],
    *,
    client: Client | Executor | None = None,
    max_workers: int | None = None,
) -> list[xr.Dataset]:
    """Run many sampling runs as parallel tasks; return their results in input order.

    Parameters
    ----------
    runs : iterable of Run or (sampler, duration[, dict of sample keywords])
        What to run.  Runs may use different samplers, targets and settings.
    client : distributed.Client or concurrent.futures.Executor, optional
        Where to run: the workers of a Dask cluster (see :func:`local_cluster`
        and, for a cluster of machines, ``dask-jobqueue``), or any executor.
        ``None`` (default): local processes, one per usable core.
    max_workers : int, optional
        Number of local processes when ``client`` is None (default: usable
        cores, at most one per run); ``1`` runs every task in this process.

    Returns
    -------
    list of xarray.Dataset
        One result per run, in the order of ``runs``.  Every result records
        its seed (attribute ``seed``): a run without one gets a drawn seed, so
        it can be repeated.  Results of equal shape stack with
        ``xarray.concat(results, dim="run")``.

    Notes
    -----
    The samples of a run depend only on the run (sampler, settings, seed),
    never on where it ran: ``client=``, local processes and ``max_workers=1``
    give identical states.  Local processes are started with ``spawn``, so a
    script that calls this must guard its entry point with
    ``if __name__ == "__main__":``.

    Examples
    --------
    >>> from lifsampling import GibbsSampler, random_boltzmann_machine
    >>> samplers = [GibbsSampler(random_boltzmann_machine(3, seed=s)) for s in range(3)]
    >>> results = sample_many([(g, 1000.0, {"n_chains": 2, "seed": 7}) for g in samplers], max_workers=1)
    >>> [dict(ds.states.sizes) for ds in results][0]
    {'chain': 2, 'draw': 100, 'unit': 3}
    """
    results = _run_all(runs, client, max_workers)
    for result in results:
        _warn_if_leaking(result)
    return results


def _run_all(
    runs: Iterable[Run | tuple], client: Client | Executor | None, max_workers: int | None
) -> list[xr.Dataset]:
    """Validate, seed, calibrate and run; warnings of the tasks are judged by the caller."""
    _check_client(client)
    if max_workers is not None:
        if client is not None:
            raise ValueError(
                "max_workers sets the number of local processes; with a client, size the cluster."
            )
        max_workers = count(max_workers, "max_workers")
    if isinstance(runs, (Run, Sampler)) or not isinstance(runs, Iterable):
        raise TypeError(f"runs must be a list of Run objects, got {type(runs).__name__}.")
    runs = [_as_run(item, i) for i, item in enumerate(runs)]
    if not runs:
        return []
    runs = [replace(run, seed=derive_seed(run.seed)) for run in runs]  # explicit seeds, drawn in order
    _prepare(runs)
    return _dispatch(runs, client, max_workers)


def _warn_if_leaking(result: xr.Dataset, stacklevel: int = 3) -> None:
    """Issue the :class:`ClampLeakWarning` of a result here (a worker's warnings are lost)."""
    agreement = result.attrs.get("evidence_agreement")
    if agreement is None:
        return
    warn_if_leaking({int(k): float(a) for k, a in json.loads(agreement).items()}, stacklevel=stacklevel)


# -- one run, its chains split into blocks --------------------------------------------
def sample_chains(
    sampler: Sampler,
    duration: float,
    *,
    n_chains: int = 1,
    chains_per_task: int | None = None,
    seed: int | np.random.Generator | None = None,
    client: Client | Executor | None = None,
    max_workers: int | None = None,
    burn_in: float = 500.0,
    evidence: Mapping[int, int] | None = None,
    **options: Any,
) -> xr.Dataset:
    """Sample ``n_chains`` chains in blocks of at most ``chains_per_task``, one task each.

    ``LIFSampler.sample(..., client=..., chains_per_task=...)`` calls this.
    The chains are split into ``ceil(n_chains / chains_per_task)`` blocks as
    even as possible (first blocks one larger); block ``b`` runs
    ``sampler.sample`` with seed :func:`block_seed` ``(seed, b)``.  The samples
    depend on ``seed`` and ``chains_per_task`` only — not on ``client``, the
    number of workers or ``max_workers`` — but they differ from one
    ``sample`` call without blocks.

    Parameters
    ----------
    sampler : Sampler
    duration : float
        Sampled time per chain after burn-in [ms].
    n_chains : int
        Chains in all.
    chains_per_task : int, optional
        Largest block.  Default: 1 (one chain per task).  One Brian2 network
        simulates many chains faster than many networks of one chain, so use
        blocks of 8–64 chains for long runs of many chains, and a divisor of
        ``n_chains``: blocks of one size share one compiled network structure.
    seed : int, numpy.random.Generator or None
        Seed of the run (drawn if None); recorded as attribute ``seed``.
    client, max_workers
        Where the blocks run, as for :func:`sample_many`.
    burn_in, evidence, **options
        Passed to ``sampler.sample``.

    Returns
    -------
    xarray.Dataset
        The merged result: ``states`` (chain, draw, unit) with chains
        ``0 .. n_chains - 1`` in block order, coordinate ``chain_seed`` (the
        block seed each chain was sampled with) and attributes ``seed`` and
        ``chains_per_task``.  The chains of block ``b`` are those of
        ``sampler.sample(duration, n_chains=<its size>, seed=block_seed(seed, b))``.

    Examples
    --------
    >>> from lifsampling import GibbsSampler, random_boltzmann_machine
    >>> gibbs = GibbsSampler(random_boltzmann_machine(3, seed=1))
    >>> ds = sample_chains(gibbs, 500.0, n_chains=5, chains_per_task=2, seed=3, max_workers=1)
    >>> ds.chain.values.tolist(), ds.attrs["chains_per_task"]
    ([0, 1, 2, 3, 4], 2)
    >>> len(set(ds.chain_seed.values.tolist()))
    3
    """
    if not isinstance(sampler, Sampler):
        raise TypeError(
            f"sampler must be a Sampler (LIFSampler, GibbsSampler, ...), got {type(sampler).__name__}."
        )
    n_chains = count(n_chains, "n_chains")
    per_task = 1 if chains_per_task is None else count(chains_per_task, "chains_per_task")
    base = derive_seed(seed)
    n_blocks = -(-n_chains // per_task)
    sizes = [len(block) for block in np.array_split(np.arange(n_chains), n_blocks)]
    seeds = [block_seed(base, b) for b in range(n_blocks)]
    runs = [
        Run(sampler, duration, n_chains=size, seed=s, burn_in=burn_in, evidence=evidence, options=options)
        for size, s in zip(sizes, seeds, strict=True)
    ]
    merged = _merge(_run_all(runs, client, max_workers), sizes, seeds, base, per_task)
    _warn_if_leaking(merged)
    return merged


def _merge(
    parts: list[xr.Dataset], sizes: list[int], seeds: list[int], seed: int, per_task: int
) -> xr.Dataset:
    """One result from the results of the blocks (chains relabelled 0 .. C-1)."""
    merged = xr.concat(
        parts,
        dim="chain",
        data_vars="minimal",
        coords="minimal",
        compat="override",
        combine_attrs="override",
        join="override",
    )
    n_chains = sum(sizes)
    chain_seed = np.repeat(np.asarray(seeds, dtype=np.int64), sizes)
    merged = merged.assign_coords(
        chain=np.arange(n_chains),
        chain_seed=("chain", chain_seed, {"description": "seed of the task (block of chains) it ran in"}),
    )
    merged.attrs.update(seed=seed, chains_per_task=per_task, n_tasks=len(parts))
    evidence = merged.attrs.get("evidence")
    if evidence is not None and "evidence_agreement" in merged.attrs:
        ev = {int(k): int(v) for k, v in json.loads(evidence).items()}
        agreement = agreement_of(merged.states.values, ev)
        merged.attrs["evidence_agreement"] = json.dumps({str(k): a for k, a in agreement.items()})
    return merged


# -- clusters ---------------------------------------------------------------------------
def local_cluster(n_workers: int = 2, **kwargs: Any) -> LocalCluster:
    """A Dask ``LocalCluster`` of worker processes ready for Brian2.

    One thread per worker process (Brian2 runs one simulation per process at a
    time) and Brian2 preloaded on every worker (its import must happen on a
    process's main thread).  Needs ``pip install 'lifsampling[distributed]'``.

    Parameters
    ----------
    n_workers : int
        Worker processes; at most one per core is useful.
    **kwargs
        Further arguments of :class:`distributed.LocalCluster` (``memory_limit``,
        ``dashboard_address`` — default ``":0"``, any free port —, …); a
        ``preload`` list is extended by ``"brian2"``.

    Returns
    -------
    distributed.LocalCluster
        Use it as a context manager and connect a :class:`distributed.Client` to it.

    Examples
    --------
    >>> from distributed import Client                      # doctest: +SKIP
    >>> with local_cluster(2) as cluster, Client(cluster) as client:  # doctest: +SKIP
    ...     results = sample_many(runs, client=client)
    """
    try:
        from distributed import LocalCluster
    except ImportError:
        raise ImportError(f"local_cluster needs dask.distributed; {_INSTALL_HINT}") from None
    n_workers = count(n_workers, "n_workers")
    if kwargs.get("processes", True) is not True:
        raise ValueError(
            "local_cluster runs Brian2 in worker processes; processes=False (threads) cannot "
            "import Brian2 and would share its global state between simulations."
        )
    threads = kwargs.pop("threads_per_worker", 1)
    if threads != 1:
        raise ValueError(
            f"threads_per_worker must be 1 (one Brian2 simulation per process), got {threads!r}."
        )
    preload = kwargs.pop("preload", None)
    preload = [preload] if isinstance(preload, str) else list(preload or [])
    if "brian2" not in preload:
        preload.append("brian2")
    kwargs.setdefault("dashboard_address", ":0")  # no clash with another cluster's :8787
    kwargs["processes"] = True
    return LocalCluster(n_workers=n_workers, threads_per_worker=1, preload=preload, **kwargs)
