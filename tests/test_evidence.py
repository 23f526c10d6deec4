"""Evidence: validation, exact conditionals, clamping in Gibbs and LIF samplers, clamped-run diagnostics."""

from __future__ import annotations

import numpy as np
import pytest

import lifsampling as ls
from lifsampling.evidence import check_evidence, free_units


@pytest.fixture(scope="module")
def bm():
    return ls.random_boltzmann_machine(4, seed=5)


def test_condition_is_the_exact_conditional(bm):
    ev = {1: 1, 3: 0}
    cond = ls.condition(bm, ev)
    p = bm.probabilities()
    states = ls.all_states(4)
    mask = (states[:, 1] == 1) & (states[:, 3] == 0)
    expected = p[mask] / p[mask].sum()  # free units 0 and 2, in index order
    np.testing.assert_allclose(cond.probabilities(), expected, rtol=1e-12)
    np.testing.assert_array_equal(free_units(4, ev), [0, 2])


@pytest.mark.parametrize(
    ("evidence", "error", "message"),
    [
        ({7: 1}, ValueError, "units 0 to 3 only"),
        ({-1: 1}, ValueError, "units 0 to 3 only"),
        ({1: 2}, ValueError, "must be 0 or 1"),
        ({1: 0.5}, ValueError, "must be 0 or 1"),
        ({1: np.nan}, ValueError, "must be 0 or 1"),
        ({"a": 1}, TypeError, "unit indices"),
        ({0: 1, 1: 1, 2: 0, 3: 1}, ValueError, "clamps every unit"),
        ([1, 0], TypeError, "mapping"),
    ],
)
def test_bad_evidence(bm, evidence, error, message):
    with pytest.raises(error, match=message):
        check_evidence(evidence, 4)
    with pytest.raises(error, match=message):
        ls.GibbsSampler(bm).sample(100.0, evidence=evidence)


def test_evidence_values_are_normalised():
    assert check_evidence({np.int64(2): True, 0: 0.0}, 3) == {0: 0, 2: 1}
    assert check_evidence(None, 3) == {}


def test_gibbs_clamps_and_samples_the_conditional(bm):
    ev = {1: 1, 3: 0}
    run = ls.GibbsSampler(bm).sample(30_000.0, n_chains=4, seed=1, evidence=ev)
    assert ls.evidence_of(run) == ev
    assert ls.clamp_agreement(run) == {1: 1.0, 3: 1.0}
    d = ls.diagnose(run)
    assert d.evidence == ev and d.clamp_agreement == {1: 1.0, 3: 1.0}
    assert list(d.units.unit.values) == [0, 2]  # the free units, with their labels
    np.testing.assert_allclose(d.units.target_marginal.values, ls.condition(bm, ev).marginals())
    assert d.status == "converged", d.verdict
    # saved and loaded, the evidence is still there
    assert (
        ls.evidence_of(ls.make_result(run.states.values, sample_interval=10.0, sampler="x", attrs=run.attrs))
        == ev
    )


def test_lif_clamps_with_measured_agreement(lif_target, calibration, tmp_path):
    """Clamped LIF neurons show their value in >= 99.9 % of draws; the free unit samples the conditional."""
    sampler = ls.LIFSampler(lif_target, calibration=calibration, cache_dir=tmp_path, progress=False)
    for ev in ({0: 1, 2: 0}, {0: 0, 2: 1}):
        run = sampler.sample(4000.0, n_chains=4, seed=7, burn_in=200.0, evidence=ev)
        agreement = ls.clamp_agreement(run)
        assert min(agreement.values()) >= 0.999, agreement
        assert run.attrs["evidence"]
        exact = ls.condition(lif_target, ev).marginals()[0]
        post = ls.posterior_marginals(run)
        assert abs(float(post.estimate[1]) - exact) < 0.06, (ev, float(post.estimate[1]), exact)
        assert bool(post.clamped[0]) and bool(post.clamped[2]) and not bool(post.clamped[1])
    assert sampler.clamp_couplings_ is not None  # measured for the clamped-to-1 neuron, then cached
    again = ls.LIFSampler(lif_target, calibration=calibration, clamp_couplings=sampler.clamp_couplings_)
    np.testing.assert_array_equal(again.clamped_network({0: 1}).w_exc, sampler.clamped_network({0: 1}).w_exc)
    on, off = sampler.clamped_network({0: 1}).v_rest[0], sampler.clamped_network({0: 0}).v_rest[0]
    assert (
        on > calibration.v_p05 + 15 * calibration.alpha and off < calibration.v_p05 - 15 * calibration.alpha
    )


def test_clamp_settings_are_validated(lif_target, calibration, tmp_path):
    with pytest.raises(ValueError, match="clamp_strength"):
        ls.LIFSampler(lif_target, clamp_strength=0.0)
    with pytest.raises(TypeError, match="InteractionCalibration"):
        ls.LIFSampler(lif_target, clamp_couplings="calibrate")
    free_map = ls.calibrate_interactions(calibration, cache_dir=tmp_path, progress=False)
    with pytest.raises(ValueError, match="presynaptic='clamped'"):
        ls.LIFSampler(lif_target, clamp_couplings=free_map)


def test_report_of_runs_with_different_evidence_is_refused(bm, tmp_path):
    a = ls.GibbsSampler(bm).sample(2000.0, n_chains=2, seed=1, evidence={0: 1})
    b = ls.GibbsSampler(bm).sample(2000.0, n_chains=2, seed=1)
    with pytest.raises(ValueError, match="must share their evidence"):
        ls.write_report({"a": a, "b": b}, tmp_path / "r")
    assert not (tmp_path / "r").exists()
    report = ls.write_report({"a": a}, tmp_path / "ok")
    assert report.summary["evidence"] == {"0": 1}
    assert "Evidence" in report.html_path.read_text()


def test_warn_if_leaking_names_the_units_below_the_limit():
    import warnings

    from lifsampling.evidence import warn_if_leaking

    with pytest.warns(ls.ClampLeakWarning, match=r"unit\(s\) 0 showed the evidence in 50.00 % of draws"):
        warn_if_leaking({0: 0.5, 1: 1.0})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_if_leaking({0: 1.0, 1: 0.9995})  # above 99.9 %: no warning
