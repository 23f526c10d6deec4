"""lifsampling.diagnostics: arviz's numbers, degenerate binary series flagged, verdicts that are right."""

from __future__ import annotations

import json
import warnings

import arviz as az
import numpy as np
import pytest

import lifsampling as ls
from lifsampling.diagnostics import MIN_DRAWS


@pytest.fixture(scope="module")
def bm():
    return ls.random_boltzmann_machine(4, seed=11)


@pytest.fixture(scope="module")
def gibbs(bm):
    """Well mixed: 4 chains x 3000 sweeps."""
    return ls.GibbsSampler(bm).sample(30_000.0, n_chains=4, seed=2)


@pytest.fixture(scope="module")
def diag(gibbs):
    return ls.diagnose(gibbs)


def _with_states(result, states):
    return ls.make_result(
        states, sample_interval=ls.sample_interval(result), sampler="edited", target=ls.result_target(result)
    )


def test_numbers_are_what_arviz_computes(gibbs, diag, bm):
    idata = ls.to_inference_data(gibbs)
    for method in ("bulk", "tail", "mean"):
        ref = az.ess(idata, method=method)
        np.testing.assert_allclose(diag.units[f"ess_{method}"].values, ref.states.values, rtol=1e-12)
        assert diag.energy[f"ess_{method}"] == pytest.approx(float(ref.energy), rel=1e-12)
    rhat = az.rhat(idata)
    np.testing.assert_allclose(diag.units.rhat.values, rhat.states.values, rtol=1e-12)
    assert diag.energy["rhat"] == pytest.approx(float(rhat.energy), rel=1e-12)
    mcse = az.mcse(idata, method="mean")
    np.testing.assert_allclose(diag.units.mcse.values, mcse.states.values, rtol=1e-10)
    assert diag.energy["mcse"] == pytest.approx(float(mcse.energy), rel=1e-10)
    n = gibbs.sizes["chain"] * gibbs.sizes["draw"]
    np.testing.assert_allclose(diag.units.tau_int.values, n / diag.units.ess_mean.values * 10.0)
    np.testing.assert_allclose(diag.units.marginal.values, ls.marginals(gibbs).values)
    np.testing.assert_allclose(diag.units.target_marginal.values, bm.marginals())


def test_distribution_level_numbers(gibbs, diag, bm):
    kl = ls.kl_divergence(bm, gibbs)
    assert diag.divergence == kl
    q = ls.joint_distribution(gibbs)
    assert diag.tvd == pytest.approx(0.5 * np.abs(q - bm.probabilities()).sum())
    assert diag.floor == pytest.approx(15 / (2 * diag.energy["ess_bulk"]))
    curve = diag.dkl_curve
    assert curve.dkl_target_sampled.values[-1] == pytest.approx(kl.dkl_target_sampled)
    assert curve.floor.values[-1] == pytest.approx(diag.floor)
    # the floor falls as 1/t where it is drawn
    shown = np.isfinite(curve.floor.values)
    np.testing.assert_allclose(
        curve.floor.values[shown] * curve.time.values[shown], diag.floor * curve.time.values[-1]
    )
    over, under = diag.over_sampled[0], diag.under_sampled[0]
    assert over["difference"] == pytest.approx(np.max(q - bm.probabilities()))
    assert under["difference"] == pytest.approx(np.min(q - bm.probabilities()))
    assert over["state"] == "".join(map(str, ls.indices_to_states(over["index"], 4)))


def test_a_good_run_converges(diag):
    assert diag.status == "converged"
    assert diag.converged
    assert diag.verdict.startswith("Converged to within sampling noise")
    assert set(diag.units.status.values) == {"ok"}
    assert not diag.warnings


def test_inference_data_input_gives_the_same_numbers(gibbs, diag):
    d2 = ls.diagnose(ls.to_inference_data(gibbs))
    np.testing.assert_array_equal(d2.units.ess_bulk.values, diag.units.ess_bulk.values)
    assert d2.divergence == diag.divergence


def test_to_dict_is_strict_json(diag):
    text = json.dumps(diag.to_dict(), allow_nan=False)
    back = json.loads(text)
    assert back["units"]["ess_bulk"] == pytest.approx(diag.units.ess_bulk.values.tolist())
    assert back["summary"]["status"] == "converged"


def test_constant_unit_is_flagged_not_nan_table(gibbs):
    states = gibbs.states.values.copy()
    states[:, :, 1] = 0  # unit 1 never fires although the target gives it p ~ 0.4
    with pytest.warns(ls.DiagnosticsWarning, match="unit 1 never switched"):
        d = ls.diagnose(_with_states(gibbs, states))
    assert d.units.status.values[1] == "constant"
    # arviz would report ESS = number of draws and R-hat NaN; we report undefined, explicitly
    assert np.isnan(d.units.ess_bulk.values[1]) and np.isnan(d.units.rhat.values[1])
    assert np.isfinite(d.units.ess_bulk.values[[0, 2, 3]]).all()
    assert d.status == "not converged"
    assert "never switched" in d.verdict
    json.dumps(d.to_dict(), allow_nan=False)


def test_constant_unit_that_the_target_also_switches_off_is_only_a_warning():
    bm = ls.BoltzmannMachine(np.zeros((2, 2)), [0.0, -30.0])  # p(z_1 = 1) ~ 1e-13
    run = ls.GibbsSampler(bm).sample(20_000.0, n_chains=4, seed=1)
    assert run.states.values[:, :, 1].max() == 0
    with pytest.warns(ls.DiagnosticsWarning, match="undefined"):
        d = ls.diagnose(run)
    assert d.units.status.values[1] == "constant"
    assert d.status == "converged"


def test_chains_stuck_in_different_states_do_not_converge(gibbs):
    states = gibbs.states.values.copy()
    states[:2, :, 0] = 0
    states[2:, :, 0] = 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ls.DiagnosticsWarning)
        d = ls.diagnose(_with_states(gibbs, states))
    assert d.units.status.values[0] == "few switches"
    assert d.status == "not converged"
    assert "R-hat of unit(s) 0" in d.verdict


def test_rarely_switching_unit_is_flagged(gibbs):
    states = gibbs.states.values.copy()
    states[:, :, 2] = 0
    states[0, 100:103, 2] = 1  # two switches in chain 0, none elsewhere
    with pytest.warns(ls.DiagnosticsWarning):
        d = ls.diagnose(_with_states(gibbs, states))
    assert d.units.status.values[2] == "few switches"
    assert d.units.min_switches.values[2] == 0
    assert d.status == "not converged"  # the target says unit 2 should switch often


def test_short_run_does_not_converge(gibbs):
    with pytest.warns(ls.DiagnosticsWarning):
        d = ls.diagnose(gibbs.isel(draw=slice(0, 30)))
    assert d.status == "not converged"
    assert "ESS" in d.verdict


def test_one_chain_is_warned_about(gibbs):
    with pytest.warns(ls.DiagnosticsWarning, match="only one chain"):
        d = ls.diagnose(gibbs.isel(chain=[0]))
    assert d.n_chains == 1
    # arviz gives NaN for one chain; here R-hat compares the chain's quarters
    assert np.isfinite(d.units.rhat.values).all() and np.isfinite(d.energy["rhat"])
    assert d.status == "converged"


def test_wrong_temperature_is_called_biased(bm):
    """A sampler for the target at beta = 2 mixes, but its DKL is far above the floor."""
    cold = ls.BoltzmannMachine(2 * bm.W, 2 * bm.b)
    run = ls.GibbsSampler(cold).sample(30_000.0, n_chains=4, seed=3)
    d = ls.diagnose(run, bm)
    assert d.status == "converged (biased)"
    assert d.divergence.dkl_target_sampled > 10 * d.floor
    assert "More samples will not remove" in d.verdict


def test_too_few_or_no_draws_are_refused(gibbs):
    with pytest.raises(ValueError, match=f"at least {MIN_DRAWS}"):
        ls.diagnose(gibbs.isel(draw=slice(0, 1)))
    with pytest.raises(ValueError, match=f"at least {MIN_DRAWS}"):
        ls.diagnose(gibbs.isel(draw=slice(0, 0)))


def test_target_with_other_unit_count_is_refused(gibbs):
    with pytest.raises(ValueError, match="target has 3 units but the result has 4"):
        ls.diagnose(gibbs, ls.random_boltzmann_machine(3, seed=0))


def test_without_target_only_mixing_is_judged(gibbs):
    d = ls.diagnose(gibbs.drop_vars(["target_W", "target_b"]))
    assert d.energy is None and d.divergence is None and "target_marginal" not in d.units
    assert d.status == "converged" and "no exact target" in d.verdict


def test_large_target_skips_exact_quantities(rng):
    K = 21
    bm = ls.BoltzmannMachine(np.zeros((K, K)), np.zeros(K))
    states = (rng.random((2, 50, K)) < 0.5).astype(np.int8)
    run = ls.make_result(states, sample_interval=1.0, sampler="iid", target=bm)
    with pytest.warns(ls.DiagnosticsWarning, match="no exact distribution"):
        d = ls.diagnose(run)
    assert d.divergence is None and d.tvd is None and d.energy is not None


def test_compare_tabulates_runs(bm, gibbs):
    short = gibbs.isel(draw=slice(0, 200))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ls.DiagnosticsWarning)
        table = ls.compare({"long": gibbs, "short": short}, bm)
        assert list(table.index) == ["long", "short"]
        assert table.loc["long", "dkl_target_sampled"] < table.loc["short", "dkl_target_sampled"]
        assert table.loc["short", "draws"] == 200
        assert {"min_ess_bulk", "max_rhat", "tvd", "dkl_floor", "status"} <= set(table.columns)
        same = ls.compare([gibbs, gibbs], bm)
    assert list(same.index) == ["gibbs", "gibbs (2)"]
    assert list(ls.compare(gibbs).index) == ["gibbs"]
    # Diagnostics pass through; the mapping's label wins and the caller's object is not changed
    d = ls.diagnose(gibbs)
    assert (
        list(ls.compare({"mine": d, "again": d}).index) == ["mine", "again"] and d.label == "gibbs"
    )  # one Dataset, not a mapping of its variables
    with pytest.raises(ValueError, match="no results"):
        ls.compare([], bm)
