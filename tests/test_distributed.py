"""Many runs as tasks: local processes, Dask workers and serial runs give the same samples.

One plain 2-worker ``LocalCluster`` (no Brian2 preload: lifsampling's worker
plugin must make Brian2 importable) serves the module.  The LIF runs use a
hand-made calibration and the analytic translation, so nothing is calibrated,
and last 50 ms of burn-in plus 300 ms: the cost is Brian2's start-up in each
worker (and its Cython compilation on a machine that never ran the suite).
"""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import lifsampling as ls
from lifsampling.distributed import _warn_if_leaking, block_seed, sample_chains

distributed = pytest.importorskip("distributed")

LIF_RUN = dict(burn_in=50.0)
LIF_DURATION = 300.0


@pytest.fixture(scope="module")
def client():
    """A plain LocalCluster of 2 single-threaded worker processes, without preload."""
    with (
        distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


@pytest.fixture(scope="module")
def lif_sampler(hand_calibration):
    return ls.LIFSampler(
        ls.random_boltzmann_machine(3, seed=8),
        calibration=hand_calibration,
        interactions=None,
        device="cython",
        progress=False,
    )


def sweep(lif_sampler) -> list[ls.Run]:
    """16 small runs: 12 Gibbs runs on 3- and 5-unit targets, 4 short LIF runs."""
    gibbs = [ls.GibbsSampler(ls.random_boltzmann_machine(k, seed=k)) for k in (3, 5)]
    runs = [ls.Run(gibbs[i % 2], 500.0, n_chains=2, seed=10 + i, burn_in=50.0) for i in range(12)]
    runs += [ls.Run(lif_sampler, LIF_DURATION, n_chains=2, seed=s, **LIF_RUN) for s in (1, 2, 3, 4)]
    return runs


def assert_same_states(results, expected):
    assert len(results) == len(expected)
    for got, want in zip(results, expected, strict=True):
        assert got.attrs["sampler"] == want.attrs["sampler"] and got.attrs["seed"] == want.attrs["seed"]
        np.testing.assert_array_equal(got.states.values, want.states.values)


def test_sweep_of_16_runs_on_a_cluster_equals_serial(client, lif_sampler):
    runs = sweep(lif_sampler)
    serial = ls.sample_many(runs, max_workers=1)
    assert [r.attrs["seed"] for r in serial] == [10 + i for i in range(12)] + [1, 2, 3, 4]
    assert [r.sizes["unit"] for r in serial[:4]] == [3, 5, 3, 5]
    assert_same_states(ls.sample_many(runs, client=client), serial)
    # the tuple form, and an executor as the client
    tuples = [(r.sampler, r.duration, {"n_chains": 2, "seed": r.seed, "burn_in": 50.0}) for r in runs[:4]]
    with ThreadPoolExecutor(2) as pool:
        assert_same_states(ls.sample_many(tuples, client=pool), serial[:4])


def test_chain_blocks_are_the_same_on_a_cluster_local_processes_and_serially(client, lif_sampler):
    kwargs = dict(n_chains=4, chains_per_task=2, seed=7, evidence={0: 0}, **LIF_RUN)
    on_cluster = lif_sampler.sample(LIF_DURATION, client=client, **kwargs)
    on_processes = lif_sampler.sample(LIF_DURATION, **kwargs)  # chains_per_task alone: local processes
    serial = sample_chains(lif_sampler, LIF_DURATION, max_workers=1, **kwargs)
    for other in (on_processes, serial):
        np.testing.assert_array_equal(on_cluster.states.values, other.states.values)
        np.testing.assert_array_equal(on_cluster.chain_seed.values, other.chain_seed.values)
    assert on_cluster.chain.values.tolist() == [0, 1, 2, 3]
    seeds = [block_seed(7, b) for b in range(2)]
    assert on_cluster.chain_seed.values.tolist() == [seeds[0]] * 2 + [seeds[1]] * 2
    assert on_cluster.attrs["seed"] == 7 and on_cluster.attrs["chains_per_task"] == 2
    assert on_cluster.attrs["n_tasks"] == 2 and on_cluster.sizes["draw"] == 300
    assert on_cluster.attrs["evidence_agreement"] == '{"0": 1.0}'
    # a block is an ordinary run (one network in this process) with its seed
    block = lif_sampler.sample(LIF_DURATION, n_chains=2, seed=seeds[1], evidence={0: 0}, **LIF_RUN)
    np.testing.assert_array_equal(on_cluster.states.values[2:], block.states.values)
    assert "chain_seed" not in block.coords and block.attrs["seed"] == seeds[1]
    # the worker plugin that imports Brian2 on each worker's main thread is registered
    from lifsampling._dask import PLUGIN_NAME

    assert all(client.run(lambda dask_worker: PLUGIN_NAME in dask_worker.plugins).values())


def test_gibbs_chain_blocks_and_drawn_seeds():
    gibbs = ls.GibbsSampler(ls.random_boltzmann_machine(3, seed=1))
    merged = sample_chains(gibbs, 500.0, n_chains=5, chains_per_task=2, seed=2, max_workers=1)
    assert merged.chain_seed.values.tolist() == [block_seed(2, b) for b in (0, 0, 1, 1, 2)]
    last = gibbs.sample(500.0, n_chains=1, seed=block_seed(2, 2))  # blocks of 2, 2 and 1 chains
    np.testing.assert_array_equal(merged.states.values[4:], last.states.values)
    (drawn,) = ls.sample_many([ls.Run(gibbs, 500.0, n_chains=2)], max_workers=1)
    seed = drawn.attrs["seed"]
    assert isinstance(seed, int) and 0 <= seed < 2**31 - 1
    np.testing.assert_array_equal(gibbs.sample(500.0, n_chains=2, seed=seed).states, drawn.states)


def test_local_cluster_preloads_brian2_with_one_thread_per_worker():
    with ls.local_cluster(1) as cluster, distributed.Client(cluster) as c:
        assert all(w.nthreads == 1 for w in cluster.workers.values())
        loaded = c.run(lambda: "brian2" in sys.modules)
        assert list(loaded.values()) == [True]
    with pytest.raises(ValueError, match="processes=False"):
        ls.local_cluster(2, processes=False)
    with pytest.raises(ValueError, match="threads_per_worker must be 1"):
        ls.local_cluster(2, threads_per_worker=2)


def test_brian2_imports_on_a_thread():
    code = (
        "import sys, threading\n"
        "from lifsampling.distributed import _import_brian2\n"
        "t = threading.Thread(target=_import_brian2); t.start(); t.join()\n"
        "assert 'brian2' in sys.modules\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_bad_inputs_say_what_to_do(lif_sampler):
    gibbs = ls.GibbsSampler(ls.random_boltzmann_machine(3, seed=1))
    with pytest.raises(TypeError, match="Run needs a Sampler"):
        ls.Run(object(), 100.0)
    with pytest.raises(TypeError, match="run 1 must be a Run or a tuple"):
        ls.sample_many([ls.Run(gibbs, 100.0), "run"])
    with pytest.raises(TypeError, match="runs must be a list of Run"):
        ls.sample_many(ls.Run(gibbs, 100.0))
    with pytest.raises(TypeError, match="client must be a dask.distributed.Client"):
        ls.sample_many([ls.Run(gibbs, 100.0)], client="tcp://127.0.0.1:8786")
    with pytest.raises(TypeError, match="client must be a dask.distributed.Client"):
        lif_sampler.sample(100.0, client=4)
    with pytest.raises(ValueError, match="options must not contain"):
        ls.Run(gibbs, 100.0, options={"seed": 1})
    with (
        ThreadPoolExecutor(1) as pool,
        pytest.raises(ValueError, match="max_workers sets the number of local processes"),
    ):
        ls.sample_many([ls.Run(gibbs, 100.0)], client=pool, max_workers=2)
    with pytest.raises(ValueError, match="chains_per_task"):
        lif_sampler.sample(100.0, chains_per_task=0)
    with pytest.raises(ValueError, match="duration"):
        ls.Run(gibbs, -1.0)
    with pytest.raises(TypeError, match="sampler must be a Sampler"):
        sample_chains("gibbs", 100.0)
    assert ls.sample_many([]) == []


def test_leaking_clamps_warn_in_the_calling_process():
    """Warnings of worker processes are lost: the caller judges each result's clamp agreement."""
    result = ls.make_result(np.zeros((1, 2, 3)), sample_interval=1.0, sampler="demo")
    result.attrs["evidence_agreement"] = '{"0": 1.0, "2": 0.5}'
    with pytest.warns(ls.ClampLeakWarning, match="2 showed the evidence in 50.00 %"):
        _warn_if_leaking(result)
