"""Shared fixtures and options of the lifsampling test suite.

Brian2 compiles Cython code the first time it sees a network structure (15-30 s
each, then cached in ``~/.cython``).  The suite therefore uses only three
structures -- the calibration network (neurons without synapses), the sampling
network with renewing synapses and the one with additive synapses -- and shares
the expensive objects (one calibration, one LIF run) through session fixtures.

Tests marked ``slow`` run only with ``pytest --runslow``.
"""

from __future__ import annotations

import numpy as np
import pytest

import lifsampling as ls

#: Short calibration of the sbs neuron at dt = 0.1 ms used by the whole suite
#: (about 3 s once Brian2's code is compiled).
SHORT_CALIBRATION = dict(n_points=30, duration=3000.0, prescan_duration=500.0, seed=1234)

#: Target and run of the session LIF sample: a 3-unit sbs-style machine with clear
#: couplings (DKL of the product of its marginals 0.069, of the uniform distribution 0.136).
LIF_TARGET_SEED = 8
LIF_RUN = dict(n_chains=8, seed=1, burn_in=500.0)
LIF_DURATION = 5000.0


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False, help="also run tests marked slow")


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: long-running test; skipped unless --runslow is given")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--runslow"):
        return
    skip_slow = pytest.mark.skip(reason="slow test: pass --runslow to run it")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip_slow)


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory):
    """Keep the default lifsampling cache out of the user's home directory.

    ``device="auto"`` is pinned to Cython (``LIFSAMPLING_DEVICE``, inherited by the
    subprocesses of benchmark and tutorial tests): its compiled code serves networks
    of every size, where each new network structure would cost a standalone build of
    ~15 s.  The standalone path is tested where it is asked for by name
    (tests/test_standalone.py and others with ``device="cpp_standalone"``).
    """
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LIFSAMPLING_CACHE", str(tmp_path_factory.mktemp("default-cache")))
        mp.setenv("LIFSAMPLING_DEVICE", "cython")
        yield


@pytest.fixture
def no_simulation(monkeypatch):
    """Replace the simulator with a stand-in that raises :class:`SimulationCalled`."""
    from _helpers import SimulationCalled

    import lifsampling.calibration as calibration_module
    import lifsampling.sampler as sampler_module

    def forbidden(*args, **kwargs):
        raise SimulationCalled

    # calibrate() simulates through calibration.simulate; LIFSampler and
    # calibrate_interactions through sampler.run_chains -> sampler.simulate
    monkeypatch.setattr(calibration_module, "simulate", forbidden)
    monkeypatch.setattr(sampler_module, "simulate", forbidden)


@pytest.fixture
def rng():
    return np.random.default_rng(20240607)


@pytest.fixture(scope="session")
def sbs_neuron() -> ls.NeuronParameters:
    return ls.NeuronParameters.preset("sbs")


@pytest.fixture(scope="session")
def sbs_noise() -> ls.PoissonNoise:
    return ls.PoissonNoise.preset("sbs")


@pytest.fixture(scope="session")
def calibration_cache_dir(tmp_path_factory):
    """Cache directory holding the session calibration (treat as read-only)."""
    return tmp_path_factory.mktemp("calibration-cache")


@pytest.fixture(scope="session")
def calibration_settings() -> dict:
    """Keyword arguments of :func:`lifsampling.calibrate` for the session calibration."""
    return dict(dt=0.1, progress=False, **SHORT_CALIBRATION)


@pytest.fixture(scope="session")
def calibration(calibration_cache_dir, calibration_settings, sbs_neuron, sbs_noise) -> ls.Calibration:
    """A short calibration of the sbs neuron and background at dt = 0.1 ms."""
    return ls.calibrate(sbs_neuron, sbs_noise, cache_dir=calibration_cache_dir, **calibration_settings)


@pytest.fixture(scope="session")
def hand_calibration(sbs_neuron, sbs_noise) -> ls.Calibration:
    """A calibration built by hand (no simulation) with the published sbs values."""
    return ls.Calibration(
        v_p05=-50.6,
        alpha=0.79,
        v_rest=np.linspace(-53.0, -48.0, 11),
        p_on=ls.calibration.logistic(np.linspace(-53.0, -48.0, 11), -50.6, 0.79),
        neuron=sbs_neuron.replace(v_rest=0.0),
        noise=sbs_noise,
        dt=0.1,
    )


@pytest.fixture(scope="session")
def lif_target() -> ls.BoltzmannMachine:
    return ls.random_boltzmann_machine(3, seed=LIF_TARGET_SEED)


@pytest.fixture(scope="session")
def lif_result(lif_target, calibration):
    """8 chains x 5000 ms of LIF sampling (renewing synapses) of ``lif_target``."""
    sampler = ls.LIFSampler(lif_target, calibration=calibration, progress=False)
    return sampler.sample(LIF_DURATION, **LIF_RUN)


@pytest.fixture(scope="session")
def report_target() -> ls.BoltzmannMachine:
    """The 5-unit target of the report tests."""
    return ls.random_boltzmann_machine(5, seed=0)


@pytest.fixture(scope="session")
def report_runs(report_target, calibration) -> dict:
    """A real LIF run and a Gibbs run on the same 5-unit target (4 chains x 3 s each)."""
    sampler = ls.LIFSampler(report_target, calibration=calibration, progress=False)
    return {
        "LIF": sampler.sample(3000.0, n_chains=4, seed=3, burn_in=200.0),
        "Gibbs": ls.GibbsSampler(report_target).sample(3000.0, n_chains=4, seed=3),
    }
