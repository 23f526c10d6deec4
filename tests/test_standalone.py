"""The C++ standalone fast path: compile once per structure, rerun with new data and seeds,
and a background generator with the statistics of the reference Poisson input.

Cost: two standalone builds (~10–20 s each on 2 cores) and a small C++ program.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

import lifsampling as ls
from lifsampling import _network
from lifsampling.noise import _CPP_DIR

needs_compiler = pytest.mark.skipif(
    not _network._compiler_available(), reason="needs a C++ compiler and make"
)

DURATION = 1000.0
CHAINS = 4


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("standalone-cache")


@pytest.fixture(scope="module")
def sampler_factory(calibration, cache):
    def make(seed: int) -> ls.LIFSampler:
        target = ls.random_boltzmann_machine(5, kind="sbs", seed=seed)
        return ls.LIFSampler(
            target,
            calibration=calibration,
            interactions=None,
            device="cpp_standalone",
            cache_dir=cache,
            progress=False,
        )

    return make


def _projects(cache: Path) -> dict[str, float]:
    """Built projects and the modification time of their binaries."""
    return {p.parent.name: p.stat().st_mtime_ns for p in (cache / "standalone").glob("*/main")}


@needs_compiler
def test_rerun_with_new_parameters_duration_and_seed_compiles_nothing(sampler_factory, cache):
    first = sampler_factory(0).sample(DURATION, n_chains=CHAINS, seed=1, burn_in=100.0)
    built = _projects(cache)
    assert len(built) == 1 and first.attrs["device"] == "cpp_standalone"

    again = sampler_factory(0).sample(DURATION, n_chains=CHAINS, seed=1, burn_in=100.0)
    other_seed = sampler_factory(0).sample(DURATION, n_chains=CHAINS, seed=2, burn_in=100.0)
    other_target = sampler_factory(1).sample(DURATION, n_chains=CHAINS, seed=1, burn_in=100.0)
    longer = sampler_factory(1).sample(2 * DURATION, n_chains=CHAINS, seed=3, burn_in=0.0)

    # nothing was compiled again: same project, same binary
    assert _projects(cache) == built
    # the same seed reproduces the states; another seed or target changes them
    np.testing.assert_array_equal(first.states.values, again.states.values)
    assert not np.array_equal(first.states.values, other_seed.states.values)
    assert not np.array_equal(first.states.values, other_target.states.values)
    assert longer.sizes["draw"] == 2 * DURATION
    # every chain samples (~40 % of the time on for these targets), none is frozen
    on = longer.states.mean(dim=("draw", "unit")).values
    assert np.all((on > 0.1) & (on < 0.8)), on


@needs_compiler
def test_new_values_reach_the_binary(sampler_factory, calibration):
    """Leak potentials passed at run time take effect: a strongly negative bias silences a unit."""
    target = ls.BoltzmannMachine(np.zeros((5, 5)), np.array([-4.0, -2.0, 0.0, 2.0, 4.0]))
    sampler = ls.LIFSampler(
        target,
        calibration=calibration,
        interactions=None,
        device="cpp_standalone",
        cache_dir=sampler_factory(0).cache_dir,
        progress=False,
    )
    result = sampler.sample(2 * DURATION, n_chains=CHAINS, seed=4, burn_in=100.0)
    p_on = result.states.mean(dim=("chain", "draw")).values
    expected = 1 / (1 + np.exp(-target.b))
    np.testing.assert_allclose(p_on, expected, atol=0.06)


@needs_compiler
def test_poisson_counts_are_poisson(tmp_path):
    """The standalone count generator against the Poisson pmf (chi-square, 1e6 draws per mean)."""
    program = tmp_path / "counts.cpp"
    program.write_text(
        '#include "lifsampling_poisson.h"\n#include <cstdio>\n#include <cstdlib>\n'
        "int main(int argc, char** argv) {\n"
        "  const double mean = std::atof(argv[1]); long hist[200] = {0};\n"
        "  for (int i = 0; i < 1000000; i++) hist[lifsampling::poisson_count(mean, 0)]++;\n"
        '  for (int k = 0; k < 200; k++) std::printf("%ld\\n", hist[k]);\n}\n'
    )
    compiler = shutil.which("c++")
    exe = tmp_path / "counts"
    subprocess.run([compiler, "-O2", "-std=c++11", f"-I{_CPP_DIR}", str(program), "-o", str(exe)], check=True)
    for mean in (0.03, 0.3, 1.3, 7.0, 40.0):  # 40: beyond the tables (std::poisson_distribution)
        out = subprocess.run(
            [str(exe), repr(mean)], check=True, capture_output=True, text=True, env={"LIFSAMPLING_SEED": "7"}
        ).stdout
        hist = np.array(out.split(), dtype=float)
        k = np.arange(hist.size)
        assert hist.sum() == 1e6
        mu = (k * hist).sum() / 1e6
        var = ((k - mu) ** 2 * hist).sum() / 1e6
        assert abs(mu - mean) < 5 * np.sqrt(mean / 1e6), (mean, mu)
        assert abs(var / mean - 1) < 0.02, (mean, var)
        # chi-square over bins with >= 5 expected counts (tail pooled)
        expected = 1e6 * stats.poisson.pmf(k, mean)
        keep = expected >= 5
        observed = np.r_[hist[keep], hist[~keep].sum()]
        expect = np.r_[expected[keep], 1e6 - expected[keep].sum()]
        chi2 = ((observed - expect) ** 2 / expect).sum()
        assert stats.chi2.sf(chi2, keep.sum()) > 1e-3, (mean, chi2)
    # the seed is read at run time: another seed, other draws
    runs = [
        subprocess.run(
            [str(exe), "0.3"], check=True, capture_output=True, text=True, env={"LIFSAMPLING_SEED": s}
        ).stdout
        for s in ("7", "7", "8")
    ]
    assert runs[0] == runs[1] != runs[2]


def _conductance_standalone(directory: Path, noise: ls.PoissonNoise, n: int, duration: float) -> np.ndarray:
    """g_e [µS] of ``n`` silent sampling neurons driven by ``noise`` on the standalone path."""
    import brian2 as b2

    neuron = ls.NeuronParameters.preset("sbs")
    spec = _network.NetworkSpec(neuron=neuron, noise=noise, v_rest=np.full(n, -100.0), dt=0.1)
    b2.set_device("cpp_standalone", directory=str(directory), build_on_run=False)
    try:
        net, group, _ = _network._build(spec, np.full(n, -100.0))
        monitor = b2.StateMonitor(group, "g_e", record=True, dt=1 * b2.ms)
        net.add(monitor)
        net.run(duration * b2.ms, namespace={})
        b2.device.build(directory=str(directory), run=True, with_output=False)
        return np.asarray(monitor.g_e / b2.uS)
    finally:
        b2.device.reinit()
        b2.set_device("runtime")


def _conductance_poisson_input(noise: ls.PoissonNoise, n: int, duration: float) -> np.ndarray:
    """The same with Brian2's stock PoissonInput (binomial over 1000 sources), numpy target."""
    import brian2 as b2

    b2.prefs.codegen.target = "numpy"
    try:
        b2.seed(3)
        tau = ls.NeuronParameters.preset("sbs").tau_syn_E * b2.ms
        group = b2.NeuronGroup(n, "dg_e/dt = -g_e / tau : siemens", method="exact", dt=0.1 * b2.ms)
        sources = 1000
        inp = b2.PoissonInput(
            group, "g_e", sources, noise.rate_exc / sources * b2.Hz, noise.weight_exc * b2.uS
        )
        monitor = b2.StateMonitor(group, "g_e", record=True, dt=1 * b2.ms)
        b2.run(duration * b2.ms, namespace={"tau": tau})
        del inp
        return np.asarray(monitor.g_e / b2.uS)
    finally:
        b2.prefs.codegen.target = "cython"


@needs_compiler
def test_fast_noise_conductance_matches_poisson_input(tmp_path):
    """Mean and variance of the background conductance: fast path = PoissonInput = shot-noise theory."""
    noise = ls.PoissonNoise.preset("sbs")
    tau = ls.NeuronParameters.preset("sbs").tau_syn_E * 1e-3  # s
    n, duration, skip = 40, 6000.0, 100  # skip the first 100 ms (rise from 0)
    fast = _conductance_standalone(tmp_path / "g", noise, n, duration)[:, skip:]
    ref = _conductance_poisson_input(noise, n, duration)[:, skip:]
    mean_theory = noise.rate_exc * noise.weight_exc * tau
    var_theory = noise.rate_exc * noise.weight_exc**2 * tau / 2
    for g in (fast, ref):
        assert g.mean() == pytest.approx(mean_theory, rel=0.02)
        assert g.var() == pytest.approx(var_theory, rel=0.05)
    assert fast.mean() == pytest.approx(ref.mean(), rel=0.02)
    assert fast.var() == pytest.approx(ref.var(), rel=0.06)


@needs_compiler
def test_activation_function_matches_cython(tmp_path):
    """The activation function measured on the fast path agrees with the Cython reference."""
    settings = dict(n_points=12, duration=4000.0, prescan_duration=500.0, cache_dir=tmp_path, progress=False)
    fast = ls.calibrate(device="cpp_standalone", **settings)
    ref = ls.calibrate(device="cython", **settings)
    assert fast.settings["device"] == "cpp_standalone" and ref.settings["device"] == "cython"
    assert abs(fast.v_p05 - ref.v_p05) < 0.3, (fast.v_p05, ref.v_p05)
    assert fast.alpha == pytest.approx(ref.alpha, rel=0.1)


@needs_compiler
def test_damaged_project_is_reported_and_rebuilt(sampler_factory, cache):
    """A cached binary that does not match its checksum is detected, reported and rebuilt."""
    before = sampler_factory(0).sample(DURATION, n_chains=CHAINS, seed=1, burn_in=100.0)
    (binary,) = (cache / "standalone").glob("*/main")
    with binary.open("ab") as f:
        f.write(b"damage")
    with pytest.warns(RuntimeWarning, match=r"does not match its checksum; rebuilding it"):
        after = sampler_factory(0).sample(DURATION, n_chains=CHAINS, seed=1, burn_in=100.0)
    np.testing.assert_array_equal(before.states.values, after.states.values)
    manifest = binary.parent / "lifsampling_manifest.json"
    manifest.write_text("{ not json")
    with pytest.warns(RuntimeWarning, match=r"unreadable manifest"):
        again = sampler_factory(0).sample(DURATION, n_chains=CHAINS, seed=1, burn_in=100.0)
    np.testing.assert_array_equal(before.states.values, again.states.values)


def test_auto_device_choice(monkeypatch):
    """ "auto": standalone for runs that repay a build, Cython otherwise; the variable overrides it."""
    from lifsampling._network import resolve_device

    noise = ls.PoissonNoise.preset("sbs")
    monkeypatch.delenv("LIFSAMPLING_DEVICE", raising=False)
    monkeypatch.setattr(_network, "_compiler_available", lambda: True)
    assert resolve_device("auto", noise, 320, 10_000.0) == "cpp_standalone"  # 64 chains x 10 s
    assert resolve_device("auto", noise, 5, 10_000.0) == "cpp_standalone"  # 1 chain x 10 s: 3 s in Cython
    assert resolve_device("auto", noise, 40, 1_000.0) == "cython"  # ~0.3 s in Cython
    assert resolve_device("auto", noise, 320, 10_000.0, checkpointed=True) == "cython"
    assert resolve_device("auto", noise, 10**6, 10**7) == "cython"  # spikes would not fit in memory
    pool = type("Pool", (ls.PoissonNoise,), {})()  # not a built-in Poisson source
    assert resolve_device("auto", pool, 320, 10_000.0) == "cython"
    assert resolve_device("cython", noise, 320, 10_000.0) == "cython"
    monkeypatch.setenv("LIFSAMPLING_DEVICE", "numpy")
    assert resolve_device("auto", noise, 320, 10_000.0) == "numpy"
    assert resolve_device("cpp_standalone", noise, 320, 10_000.0) == "cpp_standalone"
    monkeypatch.setenv("LIFSAMPLING_DEVICE", "gpu")
    with pytest.raises(ValueError, match="LIFSAMPLING_DEVICE must be one of"):
        resolve_device("auto", noise, 320, 10_000.0)
    monkeypatch.delenv("LIFSAMPLING_DEVICE")
    monkeypatch.setattr(_network, "_compiler_available", lambda: False)
    assert resolve_device("auto", noise, 320, 10_000.0) == "numpy"
