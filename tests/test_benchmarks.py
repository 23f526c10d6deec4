"""The benchmark scripts run and write the JSON they promise (so they cannot rot).

Each script in ``benchmarks/`` is run with ``--quick`` in a subprocess, as a
user would run it, with a temporary ``--out``; the test checks the exit code,
the printed table and the keys of the JSON document.  The numbers themselves
are not checked: quick runs are too short to mean anything (the full runs are
the benchmarks).  Cost: a few minutes in all, most of it clean Cython and
C++ standalone builds (throughput, scaling, memory, time to solution) and the
stock-Brian2 peers.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
ENVIRONMENT_KEYS = {"date", "python", "brian2", "numpy", "cpu_count", "load_average_1_5_15min", "git"}


def run_benchmark(name: str, tmp_path: Path, *args: str) -> tuple[dict, str]:
    """Run ``benchmarks/NAME.py --quick --out TMP`` and return (JSON document, stdout)."""
    out = tmp_path / "results" / f"{name}.json"
    proc = subprocess.run(
        [sys.executable, str(BENCHMARKS / f"{name}.py"), "--quick", "--out", str(out), *args],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, f"{name}.py failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    doc = json.loads(out.read_text())
    assert doc["benchmark"] == name
    assert doc["quick"] is True
    assert ENVIRONMENT_KEYS <= set(doc["environment"])
    assert doc["wall_time_s"] > 0
    return doc, proc.stdout


@pytest.mark.parametrize(
    "name",
    [
        "accuracy",
        "throughput",
        "scaling",
        "calibration",
        "diagnostics",
        "inference",
        "tempering_study",
        "quantum_study",
        "learning_study",
        "sweep",
        "memory",
        "time_to_solution",
    ],
)
def test_help(name):
    proc = subprocess.run(
        [sys.executable, str(BENCHMARKS / f"{name}.py"), "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "--quick" in proc.stdout and "--out" in proc.stdout


def test_accuracy_quick(tmp_path):
    doc, stdout = run_benchmark("accuracy", tmp_path)
    assert "DKL(t||s)" in stdout and "median" in stdout
    assert doc["settings"]["seeds"] == [0, 1]
    assert doc["settings"]["synapses"] == "renewing"
    assert len(doc["rows"]) == 2
    for row in doc["rows"] + [doc["median"], doc["max"]]:
        for part in ("lif", "gibbs_same_time", "gibbs_same_draws"):
            assert {"dkl_target_sampled", "dkl_sampled_target", "n_unvisited", "n_samples", "wall_s"} <= set(
                row[part]
            )
    row = doc["rows"][0]
    assert row["lif"]["n_samples"] == row["gibbs_same_draws"]["n_samples"] == 2 * 1000
    assert row["gibbs_same_time"]["n_samples"] == 2 * 100
    assert {"median_ok", "max_ok", "all_ok", "median_lif_dkl_target_sampled"} <= set(doc["targets"])
    assert {"v_p05", "alpha", "fit", "wall_s"} <= set(doc["calibration"])


def _check_peer(result, nest_status, keys):
    """A peer's entry: its numbers when it ran, an error when it failed, None when it was skipped."""
    if result is None:
        assert nest_status != "ok"
        return
    if result["ok"]:
        assert keys <= set(result)
    else:
        assert result["error"]


def test_throughput_quick(tmp_path):
    doc, stdout = run_benchmark("throughput", tmp_path, "--cache-dir", str(tmp_path / "cache"))
    assert "chain-bio-s/wall-s" in stdout and "ours/NEST" in stdout and "ours/stock" in stdout
    assert [r["n_chains"] for r in doc["rows"]] == [1, 8]
    assert doc["settings"]["duration_ms"] == 1000.0 and doc["settings"]["threads"] == 1
    nest = doc["nest"]["status"]
    assert nest == "ok" or nest.startswith("skipped") or nest == "failed"
    for row in doc["rows"]:
        ours = row["ours"]
        timings = {"first_s", "new_target_s", "run_s", "build_s", "rebuild_s", "chain_bio_s_per_wall_s"}
        assert timings <= set(ours)
        assert ours["chain_bio_s_per_wall_s"] > 0
        assert set(ours["calls"]) == {"first", "run", "new_target", "other_seed"}
        assert all(call["compiled_artefacts"] >= 0 for call in ours["calls"].values())
        assert ours["calls"]["new_target"]["compiled_artefacts"] == 0  # a new target is data, not code
        assert ours["same_seed_identical"] and ours["other_seed_differs"]
        assert row["network"]["n_neurons"] == 5 * row["n_chains"] and row["network"]["synapses"] == "renewing"
        assert row["stock_brian2"]["ok"], row["stock_brian2"]
        assert row["stock_brian2"]["chain_bio_s_per_wall_s"] > 0 and row["ours_over_stock_brian2"] > 0
        _check_peer(row["nest"], nest, {"simulate_s", "setup_s", "n_spikes", "chain_bio_s_per_wall_s"})
    assert doc["seeds"] == {"same_seed_identical": True, "other_seed_differs": True}
    (both,) = [r for r in doc["rows"] if "ours_two_processes" in r]  # 8 chains on both cores
    assert (
        both["ours_two_processes"]["chain_bio_s_per_wall_s"] > 0
        and both["ours_two_processes"]["processes"] == 2
    )
    assert "ours 2 procs" in stdout
    target = doc["target"]
    assert target["n_chains"] == 64 and target["limit_chain_bio_s_per_wall_s"] == 2000.0
    assert target["measured"] is False and target["met"] is False  # not measured in quick mode
    assert {"v_rest", "w_exc", "w_inh"} <= set(doc["calibration"]["translation"])


def test_scaling_quick(tmp_path):
    doc, stdout = run_benchmark("scaling", tmp_path, "--cache-dir", str(tmp_path / "cache"))
    assert "ours/stock" in stdout and "ours/NEST" in stdout
    assert doc["settings"]["sizes"] == [
        {"n_neurons": 10, "duration_ms": 200.0},
        {"n_neurons": 100, "duration_ms": 200.0},
    ]
    assert doc["settings"]["synapses"] == "additive" and doc["settings"]["block"] == 100
    nest = doc["nest"]["status"]
    assert nest == "ok" or nest.startswith("skipped") or nest == "failed"
    for row, n_synapses in zip(doc["rows"], (10 * 9, 100 * 99), strict=True):
        assert row["network"]["n_synapses"] == n_synapses and row["steps"] == 2000
        assert row["ours"]["ok"] and row["ours"]["updates_per_s"] > 0
        assert row["stock_brian2"]["ok"] and row["stock_brian2"]["updates_per_s"] > 0
        assert row["ours_over_stock_brian2"] > 0
        _check_peer(row["nest"], nest, {"simulate_s", "n_spikes", "updates_per_s"})
        for peer in ("ours", "stock_brian2"):
            assert row[peer]["mean_rate_hz"] > 0


def test_calibration_quick(tmp_path):
    doc, stdout = run_benchmark("calibration", tmp_path)
    assert "v_p05" in stdout
    (row,) = doc["rows"]
    assert row["variant"].startswith("(a)") and row["dt_ms"] == 0.1
    assert -53.0 < row["v_p05"] < -48.0 and 0.3 < row["alpha"] < 2.0
    assert {"rms_residual", "max_residual", "n_points"} <= set(row["fit"])
    assert {"delta_v_p05_mV", "delta_alpha_rel", "within_tolerance", "reference", "wall_s"} <= set(row)


def test_diagnostics_quick(tmp_path):
    doc, stdout = run_benchmark("diagnostics", tmp_path)
    assert "lifsampling.diagnose(result)" in stdout and "az.summary" in stdout
    assert {"n_chains": 2, "n_draws": 2000, "n_units": 8, "repeats": 1}.items() <= doc["settings"].items()
    steps = ["diagnose", "to_inference_data", "az_summary", "to_inference_data+az_summary", "write_report"]
    assert [row["step"] for row in doc["rows"]] == steps
    for row in doc["rows"]:
        assert {"call", "size", "repeats", "times_s", "best_s", "median_s", "ratio_to_az_summary"} <= set(row)
        assert row["size"] == "2 x 2000 x 8"
        assert 0 < row["best_s"] <= row["median_s"]
    assert doc["rows"][2]["ratio_to_az_summary"] == 1.0
    assert doc["diagnose_best_s"] == doc["rows"][0]["best_s"]
    assert doc["ratio_diagnose_to_az_summary"] > 0
    assert doc["target_s"] == 10 and doc["target_size"] == [8, 100_000, 20]
    assert doc["at_target_size"] is False and doc["passed"] is False  # not measured in quick mode
    assert {"generator", "generation_wall_s", "tau_int_draws_units_max", "tau_int_draws_energy"} <= set(
        doc["data"]
    )
    assert doc["data"]["tau_int_draws_energy"] > 0
    assert doc["write_report"]["wall_s"] > 0 and doc["write_report"]["html_kib"] > 0
    assert {"diagnose_peak_mib", "maxrss_mib"} <= set(doc["memory"])
    assert isinstance(doc["diagnostics_warning"]["raised"], bool)
    assert isinstance(doc["diagnostics_warning"]["messages"], list)


def test_inference_quick(tmp_path):
    doc, stdout = run_benchmark("inference", tmp_path)
    assert "err enumerated" in stdout and "|err|/MCSE" in stdout and "explaining away" in stdout
    quick = {"n_models": 3, "n_chains": 2, "duration_ms": 2000.0, "seeds": [1]}
    assert quick.items() <= doc["settings"].items()
    comp = doc["compilation"]
    assert [r["kind"] for r in comp["rows"]] == ["bayesian_network"] * 3 + ["factor_graph"] * 3
    model_keys = {"seed", "n_variables", "factor_orders", "n_auxiliary", "n_units", "max_abs_W", "max_abs_b"}
    for row in comp["rows"]:
        assert model_keys <= set(row)
        assert 3 <= row["n_variables"] <= 6 and 3 in row["factor_orders"]
        assert row["error_analytic"] <= 1e-9  # compilation is exact: checked even in quick mode
        assert row["enumerated"] == (row["n_units"] <= 20)
        assert (row["error_enumerated"] is None) != row["enumerated"]
        if row["enumerated"]:
            assert row["error_enumerated"] <= 1e-9
    assert {"n_models", "n_enumerated", "max_error_analytic", "max_error_enumerated", "passed"} <= set(
        comp["summary"]
    )
    assert comp["summary"]["n_models"] == 6 and comp["summary"]["passed"] is False  # fewer than 20 models
    inf = doc["inference"]
    assert inf["network"]["variables"] == ["reflectance", "shape", "luminance", "contour", "sharp_edge"]
    assert inf["evidence_sets"] == [{"luminance": 1}, {"luminance": 1, "contour": 1}]
    assert {"v_p05", "alpha", "wall_s"} <= set(inf["calibration"]) and inf["clamp_couplings"] is not None
    runs = inf["runs"]
    assert [(r["sampler"], r["evidence"]) for r in runs] == [
        (s, e) for e in inf["evidence_sets"] for s in ("lif", "gibbs")
    ]
    run_keys = {"seed", "n_chains", "duration_ms", "burn_in_ms", "n_draws", "wall_s", "max_abs_error"}
    for run in runs:
        assert run_keys | {"variables", "evidence_agreement"} <= set(run)
        assert set(run["variables"]).isdisjoint(run["evidence"])
        for v in run["variables"].values():
            assert {"exact", "estimate", "mcse", "error", "abs_error_over_mcse"} <= set(v)
    assert runs[0]["n_draws"] == 2 * 2000 and runs[1]["n_draws"] == 2 * 200
    assert set(runs[0]["evidence_agreement"]) == {"luminance"} and runs[1]["evidence_agreement"] is None
    (per_seed,) = inf["per_seed"]
    verdict_keys = {"lif_max_abs_error", "lif_ok", "gibbs_max_abs_error_over_mcse", "gibbs_ok", "clamp_ok"}
    assert verdict_keys <= set(per_seed["verdict"])
    shift = per_seed["explaining_away"]
    assert shift["variable"] == "reflectance" and abs(shift["exact"] - 0.0440) < 1e-3
    assert {"lif", "lif_mcse", "gibbs", "gibbs_mcse"} <= set(shift)
    assert verdict_keys | {"compilation_ok", "all_ok", "robust_all_seeds"} <= set(doc["targets"])


def test_tempering_study_quick(tmp_path):
    doc, stdout = run_benchmark("tempering_study", tmp_path)
    assert "DKL cold" in stdout and "x control" in stdout and "control 1/10" in stdout
    quick = {"frequencies_hz": [5.0, 10.0], "amplitudes_hz": [2000.0], "n_chains": 2, "duration_ms": 1000.0}
    assert quick.items() <= doc["settings"].items()
    assert doc["settings"]["seeds"] == [1, 2] and doc["settings"]["headline"] == [5.0, 2000.0, 0.3]
    assert doc["settings"]["sine_cold_window"] == [0.7, 0.8] and doc["settings"]["hot_fractions"] == [
        1.0,
        0.3,
    ]
    target = doc["target"]
    assert target["modes"] == ["1111100000", "0000011111"]
    # the exact landscape is checked even in quick mode: barrier 6 w with w = 2.5
    assert target["barriers"] == pytest.approx([15.0, 15.0])
    assert {"v_p05", "alpha", "interactions", "wall_s"} <= set(doc["calibration"])
    assert doc["temperature_map"]["rates_hz"] == [1000.0, 5000.0]
    assert {"t_weight", "t_bias", "t_predicted", "wall_s"} <= set(doc["temperature_map"])
    run_keys = {"n_draws", "draws_per_chain", "n_switches", "switch_rate_per_s", "switch_rate_per_kept_s"}
    run_keys |= {"n_visited", "occupancy", "target_occupancy", "mean_energy", "dkl_target_sampled"}
    control = doc["control"]
    assert run_keys <= set(control["all"]) and run_keys <= set(control["thinned"])
    assert control["all"]["n_draws"] == 2 * 1000 and control["thinned"]["n_draws"] == 2 * 100
    settings = [(r["hot_fraction"], r["frequency_hz"], r["amplitude_hz"]) for r in doc["rows"]]
    assert settings == [(d, f, 2000.0) for d in (1.0, 0.3) for f in (5.0, 10.0)]
    for row in doc["rows"]:
        assert {"hot_rate_hz", "rate_ratio", "t_ratio_weight", "t_ratio_sqrt", "wall_s", "verdict"} <= set(
            row
        )
        assert row["hot_rate_hz"] == 5000.0 and row["cold_rate_hz"] == 1000.0
        for part in ("cold", "wide", "all_phases"):
            assert run_keys <= set(row[part])
        if row["profile"] == "sine":  # a tenth of every period: 1000 ms x 0.1
            assert row["cold"]["window"] == [0.7, 0.8] and row["cold"]["n_draws"] == 2 * 100
        else:  # the second half of the cold plateau: 0.75 -> 1.25 - 0.3 / 2, 0.35 of every period
            assert row["cold"]["window"] == [0.75, 0.1] and row["cold"]["n_draws"] == 2 * 350
            assert row["wide"]["window"] == [0.4, 0.1] and row["wide"]["n_draws"] == 2 * 700
        assert row["all_phases"]["n_draws"] == 2 * 1000
        assert {"switch_ratio", "switches_ok", "control_dkl", "dkl_ok", "both_ok"} <= set(row["verdict"])
    per_seed = doc["seeds"]["per_seed"]
    assert [s["seed"] for s in per_seed] == [1, 2]
    for s in per_seed:
        assert {"control", "rhythm", "verdict"} <= set(s)
    keys = {"n_settings", "n_switches_ok", "n_dkl_ok", "n_both_ok", "settings_meeting_both", "passed"}
    keys |= {"headline", "headline_seeds_both_ok", "headline_robust"}
    keys |= {"headline_seeds_mean_dkl", "control_seeds_mean_dkl"}
    assert keys <= set(doc["targets"]) and doc["targets"]["n_settings"] == 4
    tilted = doc["asymmetric"]
    assert tilted["tilt"] == 0.2 and tilted["mode_probabilities"][0] == pytest.approx(0.7293, abs=1e-4)
    assert run_keys <= set(tilted["control"]["all"]) and run_keys <= set(tilted["rhythm"]["cold"])
    assert tilted["control"]["all"]["target_occupancy"][0] > 0.7


def test_learning_study_quick(tmp_path):
    doc, stdout = run_benchmark("learning_study", tmp_path, "--cache-dir", str(tmp_path / "cache"))
    assert "(a) fine-tuning" in stdout and "(c) 7 units" in stdout and "bars and stripes" in stdout
    assert doc["settings"]["seeds"] == [0, 1] and doc["settings"]["iterations"] == 3
    for part in ("fine_tune", "parameter_noise"):
        assert [r["seed"] for r in doc[part]] == [0, 1]
        for row in doc[part]:
            assert {"before", "after", "train_wall_s", "iterations"} <= set(row)
            assert {"dkl_target_sampled", "n_unvisited", "wall_s"} <= set(row["after"])
    assert [r["noise"] for r in doc["parameter_noise"]] == [0.1, 0.1]
    assert [r["sal"] for r in doc["sal"]] == ["none", "all", "nearest"]
    for row in doc["sal"]:
        assert {"asymmetry_before", "asymmetry_after", "asymmetry_drop", "before", "after"} <= set(row)
        assert {"effective_asymmetry_before", "effective_asymmetry_after"} <= set(row)
    assert doc["sal"][0]["asymmetry_after"] == pytest.approx(doc["sal"][0]["asymmetry_before"])  # no SAL
    assert doc["data"]["n_patterns"] == 14 and 0 <= doc["data"]["fraction_patterns"] <= 1
    keys = {"a_median_after", "a_ok", "b_ratio_to_clean", "b_ok", "c_drop_nominal", "c_drop_effective"}
    keys |= {"c_drop_ok", "c_effective_drop_ok", "c_dkl_ok", "d_dkl"}
    assert keys <= set(doc["targets"])


def test_capped_noise_is_its_own_kind(monkeypatch):
    """The benchmark's capped background never shares a calibration with PoissonNoise."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    from calibration import CappedPoissonNoise

    import lifsampling as ls

    sbs = ls.PoissonNoise.preset("sbs")
    capped = CappedPoissonNoise(sbs.rate_exc, sbs.rate_inh, sbs.weight_exc, sbs.weight_inh)
    assert capped.to_dict()["kind"] == "CappedPoissonNoise"
    assert {k: v for k, v in capped.to_dict().items() if k != "kind"} == {
        k: v for k, v in sbs.to_dict().items() if k != "kind"
    }
    assert capped != sbs


def test_quantum_study_quick(tmp_path):
    doc, stdout = run_benchmark(
        "quantum_study", tmp_path, "--cache-dir", str(tmp_path / "cache"), "--parts", "povm,tfim,ordered"
    )
    assert "POVM state learning" in stdout and "TFIM ground states" in stdout and "ordered phase" in stdout
    assert doc["settings"]["n_epochs"] == 4 and doc["settings"]["n_iter"] == 4
    assert doc["settings"]["lif"]["enabled"] is True and doc["calibration"]["interactions"] is None
    povm_keys = {"quantum_fidelity_sampled", "quantum_fidelity_model", "classical_fidelity_sampled"}
    povm_keys |= {"dkl_sampled", "bell_sampled", "min_eigenvalue_sampled", "wall_s", "wall_s_per_epoch"}
    assert [(r["target"], r["backend"]) for r in doc["povm"]] == [
        ("Bell |Phi+>", "exact"),
        ("Bell |Phi+>", "gibbs"),
        ("Bell |Phi+>", "lif"),
        ("GHZ(3)", "exact"),
        ("Werner r=0.5", "exact"),
        ("GHZ(3)", "gibbs"),
        ("Werner r=0.5", "gibbs"),
        ("GHZ(3)", "lif"),
        ("Werner r=0.5", "lif"),
    ]
    for row in doc["povm"]:
        assert povm_keys <= set(row)
    vmc_keys = {"relative_error", "relative_error_model", "fidelity", "fidelity_sampled", "z2_asymmetry"}
    vmc_keys |= {"exact_energy", "wall_s", "wall_s_per_iteration", "n_iter"}
    assert [(r["backend"], r["ratios"], r["symmetrize"]) for r in doc["tfim"]] == [
        ("exact", "histogram", True),
        ("exact", "analytic", False),
        ("gibbs", "histogram", True),
        ("lif", "histogram", True),
    ]
    assert [(r["backend"], r["symmetrize"]) for r in doc["ordered"]] == [
        ("exact", False),
        ("exact", True),
        ("gibbs", False),
        ("gibbs", True),
    ]
    for row in doc["tfim"] + doc["ordered"]:
        assert vmc_keys <= set(row)
    assert doc["tfim"][0]["exact_energy"] == pytest.approx(-5.226252, abs=1e-6)  # checked even in quick mode
    targets = {"bell_lif_ok", "ghz3_above_witness", "tfim_exact_ok", "tfim_gibbs_ok", "tfim_lif_ok"}
    targets |= {"werner_exact_ok", "werner_gibbs_ok", "werner_lif_ok", "tfim_lif_final_ok"}
    lif = doc["tfim"][-1]
    assert lif["n_iter"] == 6 and lif["refine_samples"] == 5 * lif["n_samples"]
    assert lif["eval_samples"] == 4000
    assert 0 <= lif["eval_fidelity_sampled"] <= 1 and lif["eval_relative_error"] >= 0
    assert targets <= set(doc["targets"])
    assert doc["netket"] == [] and doc["parts"] == ["povm", "tfim", "ordered"]


def test_quantum_study_without_netket(tmp_path):
    """The NetKet peer is optional: without an interpreter the part says so and records nothing."""
    missing = tmp_path / "no-netket" / "python"
    doc, stdout = run_benchmark(
        "quantum_study", tmp_path, "--parts", "netket", "--netket-python", str(missing)
    )
    assert doc["netket"] == [] and doc["povm"] == [] and doc["tfim"] == []
    assert "NetKet reference: not run" in stdout and doc["parts"] == ["netket"]


def test_noise_study_quick(tmp_path):
    doc, stdout = run_benchmark("noise_study", tmp_path)
    assert "private Poisson" in stdout and "pool N=300" in stdout and "network N=150" in stdout
    assert "ensemble (no Poisson)" in stdout
    labels = ["private Poisson", "pool N=300", "network N=150", "private, pool-matched"]
    assert [r["label"] for r in doc["rows"]] == labels
    for row in doc["rows"] + [doc["ensemble"]]:
        assert len(row["dkl"]) == 2 and row["wall_s"] > 0
        assert {"mean", "std", "n_pairs"} <= set(row["connectivity_correlation"])
    assert "input_correlation" in doc["rows"][1]["measured"]
    assert {"rate", "cv_isi", "count_correlation", "verdict"} <= set(doc["rows"][2]["network"])
    assert {"pool_error_falls_with_size", "network_goal_met", "ensemble_ratio"} <= set(doc["targets"])
    proc = subprocess.run(
        [sys.executable, str(BENCHMARKS / "noise_study.py"), "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0 and "--quick" in proc.stdout


def test_sweep_quick(tmp_path):
    pytest.importorskip("distributed")
    doc, stdout = run_benchmark("sweep", tmp_path, "--cache-dir", str(tmp_path / "cache"))
    assert "speed-up" in stdout and "identical" in stdout and "dask" in stdout
    assert doc["settings"]["n_runs"] == 4 and doc["settings"]["n_workers"] == 2
    assert [r["mode"] for r in doc["rows"]] == ["serial", "processes", "dask"]
    for row in doc["rows"]:
        assert {"workers", "wall_s", "speedup", "identical"} <= set(row)
        assert row["identical"] is True  # the same samples wherever the runs ran
    keys = {"dask_identical", "dask_speedup", "dask_faster_than_serial", "all_identical"}
    assert keys <= set(doc["targets"])
    assert doc["cluster_start_s"] > 0


def test_memory_quick(tmp_path):
    doc, stdout = run_benchmark("memory", tmp_path, "--cache-dir", str(tmp_path / "cache"))
    assert "binary peak MB" in stdout
    assert [r["device"] for r in doc["rows"]] == ["cpp_standalone", "cython"]
    for row in doc["rows"]:
        assert row["states"] == 2 * 2000 and row["units"] == 20 and row["states_dtype"] == "int8"
        assert row["peak_rss_mb"] > row["rss_before_mb"] > 0 and row["within_limit"]
    assert doc["rows"][0]["binary_peak_rss_mb"] >= 0  # polled: a quick run's binary may end unseen
    assert doc["met"] is True


def test_time_to_solution_quick(tmp_path):
    doc, stdout = run_benchmark("time_to_solution", tmp_path)
    assert "time to solution" in stdout
    assert set(doc["cases"]) == {"not cached", "cached", "cached, cpp_standalone", "cached, cython"}
    assert doc["cases"]["cached, cpp_standalone"]["device"] == "cpp_standalone"
    assert doc["cases"]["cached, cython"]["device"] == "cython"
    rows = doc["search"]["rows"]
    assert [r["duration_ms"] for r in rows] == [100.0 * 2**k for k in range(len(rows))]
    assert all(c["wall_s"] > 0 and c["dkl"] >= 0 for c in doc["cases"].values())
