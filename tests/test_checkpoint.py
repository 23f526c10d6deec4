"""Checkpointed sampling runs: a run killed with SIGKILL resumes and returns exactly the
states of the uninterrupted run; damaged or foreign checkpoints are refused clearly.

Cost: ~30 s (Cython runs of a 5-unit network, two of them in subprocesses).
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import lifsampling as ls
from lifsampling._checkpoint import MAGIC

RUN = dict(n_chains=4, seed=3, burn_in=100.0)
DURATION = 15_000.0  # ms per chain: long enough to kill the subprocess mid-way
EVERY = 1_000.0

SCRIPT = """
import sys
import lifsampling as ls
cal = ls.Calibration.load(sys.argv[1])
target = ls.random_boltzmann_machine(5, kind="sbs", seed=2)
sampler = ls.LIFSampler(target, calibration=cal, interactions=None, progress=False)
result = sampler.sample({duration}, n_chains=4, seed=3, burn_in=100.0, checkpoint=sys.argv[2],
                        checkpoint_every={every})
ls.save_result(result, sys.argv[3])
"""


@pytest.fixture(scope="module")
def sampler(calibration):
    target = ls.random_boltzmann_machine(5, kind="sbs", seed=2)
    return ls.LIFSampler(target, calibration=calibration, interactions=None, progress=False)


def _checkpoint_step(path) -> int | None:
    """Steps done according to the checkpoint file (None while there is none)."""
    if not path.exists():
        return None
    return int(pickle.loads(path.read_bytes()[len(MAGIC) + 65 :])["step"])


def test_checkpointed_run_is_reproducible_and_samples_like_a_plain_run(sampler, tmp_path):
    short = 3_000.0
    plain = sampler.sample(short, **RUN)
    first = sampler.sample(short, **RUN, checkpoint=tmp_path / "a.ckpt", checkpoint_every=500.0)
    second = sampler.sample(short, **RUN, checkpoint=tmp_path / "b.ckpt", checkpoint_every=500.0)
    np.testing.assert_array_equal(first.states.values, second.states.values)
    assert first.attrs["device"] in ("cython", "numpy")
    # other random numbers after each checkpoint, same distribution
    assert not np.array_equal(plain.states.values, first.states.values)
    np.testing.assert_allclose(
        first.states.mean(dim=("chain", "draw")), plain.states.mean(dim=("chain", "draw")), atol=0.05
    )
    # calling again with the finished checkpoint returns the same states without simulating
    again = sampler.sample(short, **RUN, checkpoint=tmp_path / "a.ckpt", checkpoint_every=500.0)
    np.testing.assert_array_equal(first.states.values, again.states.values)


def test_sigkill_mid_run_then_resume_gives_the_uninterrupted_result(sampler, calibration, tmp_path):
    reference = sampler.sample(DURATION, **RUN, checkpoint=tmp_path / "ref.ckpt", checkpoint_every=EVERY)
    cal_path, ckpt, out = tmp_path / "cal.json", tmp_path / "run.ckpt", tmp_path / "result.nc"
    calibration.save(cal_path)
    script = tmp_path / "run.py"
    script.write_text(SCRIPT.format(duration=DURATION, every=EVERY))
    args = [sys.executable, str(script), str(cal_path), str(ckpt), str(out)]

    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # no pipe to fill
    deadline = time.monotonic() + 300
    while _checkpoint_step(ckpt) is None and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not out.exists()
    total = int(round((RUN["burn_in"] + DURATION) / 0.1))
    killed_at = _checkpoint_step(ckpt)
    assert killed_at is not None and 0 < killed_at < total, killed_at

    done = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    resumed = ls.load_result(out)
    np.testing.assert_array_equal(resumed.states.values, reference.states.values)


def test_damaged_or_foreign_checkpoint_is_refused(sampler, tmp_path):
    path = tmp_path / "run.ckpt"
    sampler.sample(1_000.0, **RUN, checkpoint=path, checkpoint_every=500.0)
    with pytest.raises(ls.CheckpointError, match="belongs to another run"):
        sampler.sample(1_000.0, **{**RUN, "seed": 4}, checkpoint=path, checkpoint_every=500.0)
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ls.CheckpointError, match="damaged"):
        sampler.sample(1_000.0, **RUN, checkpoint=path, checkpoint_every=500.0)
    path.write_bytes(b"garbage")
    with pytest.raises(ls.CheckpointError, match="not a lifsampling checkpoint"):
        sampler.sample(1_000.0, **RUN, checkpoint=path, checkpoint_every=500.0)


def test_checkpoint_needs_an_integer_seed_and_a_runtime_device(sampler, tmp_path, calibration):
    with pytest.raises(ValueError, match="needs an integer seed"):
        sampler.sample(1_000.0, n_chains=2, checkpoint=tmp_path / "x.ckpt")
    standalone = ls.LIFSampler(
        sampler.target, calibration=calibration, interactions=None, device="cpp_standalone", progress=False
    )
    with pytest.raises(ValueError, match="need a runtime device"):
        standalone.sample(1_000.0, n_chains=2, seed=1, checkpoint=tmp_path / "x.ckpt")


def test_run_that_would_not_fit_in_memory_is_refused_up_front(sampler, monkeypatch):
    """The estimate is checked before anything is simulated (no out-of-memory kill halfway)."""
    import lifsampling._resources as resources

    monkeypatch.setattr(resources, "available_memory", lambda: 200 * 2**20)  # 200 MiB
    start = time.monotonic()
    with pytest.raises(
        MemoryError, match=r"sampling 8 chain\(s\) x 10000000 draws x 5 units needs about [0-9.]+ GiB"
    ):
        sampler.sample(1e7, n_chains=8, seed=1)
    assert time.monotonic() - start < 5.0
    sampler.sample(100.0, n_chains=2, seed=1, burn_in=0.0)  # small runs still fit
