# Guards against a mediation chapter that runs the right estimator on the wrong quantities: a pain slope with the
# wrong sign, unit or eligibility rule, a dose in mg where grams are meant, a mediator coded the other way round,
# correlation intervals from the wrong formula, verdicts that do not follow their stated rule, an explanation of the
# statsmodels interval width that does not hold, and glued numbers that myst-nb would mangle. Second routes: numpy
# polyfit, scipy pearsonr, and the synthetic generator's own per-patient truth.

import dataclasses

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from book_pages import texts_myst_would_change
from okapi.chapters import mediation as ma
from okapi.data.loading import load_cohort
from okapi.verdicts import rules
from okapi.verdicts.rules import NOT_ESTIMABLE
from okapi.synthetic.cohort import simulate_cohort, write_cohort
from okapi.data.targets import target_value
from okapi.plan import MEDIATION_MIN_SCORES, MEDIATION_MIN_SPAN_MONTHS


def _loaded(tmp_path_factory, n, seed):
    synthetic = simulate_cohort(n, seed=seed)
    folder = tmp_path_factory.mktemp(f"cohort_{n}_{seed}")
    write_cohort(synthetic, folder)
    return synthetic, load_cohort(folder)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return _loaded(tmp_path_factory, 329, 7)


@pytest.fixture(scope="module")
def small_results(small):
    return ma.analyse_mediation(small[1])


def _visits(rows):
    return pd.DataFrame(rows, columns=["patient_id", "month", "nprs"]).astype({"nprs": "Int64"})


def test_pain_diminution_is_minus_the_slope_per_month_with_the_stated_eligibility():
    visits = _visits(
        [("falls", m, 8 - m) for m in range(0, 7)]  # 1 point less each month: diminution +1 per month
        + [("two_scores", m, 5) for m in (0, 12)]  # too few scores
        + [("short", m, 6 + m) for m in (0, 2, 5)]  # spans 5 months
        + [("rises", m, 2 + m // 2) for m in (0, 3, 6, 9)]
        + [("silent", 1, None)]
    )
    result = ma.pain_diminution(visits)
    assert result.loc["falls", "diminution_per_month"] == pytest.approx(1.0)
    assert np.isnan(result.loc["two_scores", "diminution_per_month"])
    assert np.isnan(result.loc["short", "diminution_per_month"])
    rises = visits[visits["patient_id"] == "rises"]
    expected = -np.polyfit(rises["month"], rises["nprs"].astype(float), 1)[0]
    assert result.loc["rises", "diminution_per_month"] == pytest.approx(expected, rel=1e-12)
    assert "silent" not in result.index


def test_double_programming_pain_diminution_matches_polyfit_on_a_cohort(small):
    _, cohort = small
    result = ma.pain_diminution(cohort.visits)
    scores = cohort.visits[cohort.visits["nprs"].notna()]
    checked = 0
    for patient, rows in scores.groupby("patient_id"):
        months = rows["month"].to_numpy(float)
        eligible = len(rows) >= MEDIATION_MIN_SCORES and months.max() - months.min() >= MEDIATION_MIN_SPAN_MONTHS
        value = result.loc[patient, "diminution_per_month"]
        if eligible:
            assert value == pytest.approx(-np.polyfit(months, rows["nprs"].to_numpy(float), 1)[0], abs=1e-12)
            checked += 1
        else:
            assert np.isnan(value)
    assert checked > 100


def test_dose_is_in_grams_and_the_mediator_is_baseline_hads_above_7(small):
    _, cohort = small
    frame, flow = ma.mediation_dataset(cohort)
    dose_mg = cohort.ketamine.groupby("patient_id")["dose_mg"].sum().reindex(frame["patient_id"], fill_value=0)
    np.testing.assert_allclose(frame["dose_g"].to_numpy() * 1000, dose_mg.to_numpy())
    baseline = cohort.visits[cohort.visits["month"] == 0].set_index("patient_id")["hads_d"]
    baseline = baseline.reindex(frame["patient_id"]).to_numpy(dtype=float, na_value=np.nan)
    expected = np.where(np.isnan(baseline), np.nan, (baseline > 7).astype(float))
    np.testing.assert_array_equal(frame["depressed"].to_numpy(), expected)
    assert flow["n_analysed"] == int(frame["analysed"].sum())
    assert flow["n_with_diminution"] + flow["n_without_diminution"] == flow["n_patients"] == len(cohort.patients)


def test_two_stage_paths_recover_the_generators_truth(tmp_path_factory):
    # Same patients and mediator on both sides; only the outcome differs (estimated slope vs the generator's latent
    # linear slope), so a sign, unit or eligibility slip shows as a gap far beyond sampling error.
    synthetic, cohort = _loaded(tmp_path_factory, 3000, 11)
    frame, _ = ma.mediation_dataset(cohort)
    analysed = frame[frame["analysed"]]
    truth = synthetic.truth.set_index("patient_id").loc[analysed["patient_id"], "pain_diminution_per_month"]
    design = np.column_stack([np.ones(len(analysed)), analysed["dose_g"], analysed["depressed"]])
    true_coef, *_ = np.linalg.lstsq(design, truth.to_numpy(), rcond=None)
    fitted = ma.bootstrap_mediation(analysed["dose_g"], analysed["depressed"], analysed["diminution_per_month"],
                                    n_boot=200, seed=1).ols
    for path, column in (("c_prime", 1), ("b", 2)):
        assert abs(fitted.loc[path, "estimate"] - true_coef[column]) < 4 * fitted.loc[path, "se"], path
    assert true_coef[2] > 4 * fitted.loc["b", "se"]  # the generator's depression effect is there to be found


def test_total_effect_equals_direct_plus_indirect(small_results):
    estimates = small_results.bootstrap.estimates["estimate"]
    assert estimates["c"] == pytest.approx(estimates["c_prime"] + estimates["indirect"], abs=1e-12)
    assert 100 * estimates["indirect"] / estimates["c"] == pytest.approx(small_results.proportion_percent[0])


def test_double_programming_correlation_matches_scipy(small):
    frame, _ = ma.mediation_dataset(small[1])
    ours = ma.pearson_correlation(frame["dose_g"], frame["hads_d_baseline"])
    both = frame[["dose_g", "hads_d_baseline"]].dropna()
    reference = stats.pearsonr(both["dose_g"], both["hads_d_baseline"])
    interval = reference.confidence_interval(0.95)
    assert ours.n == len(both)
    assert ours.r == pytest.approx(reference.statistic, rel=1e-12)
    assert ours.p == pytest.approx(reference.pvalue, rel=1e-8)
    assert (ours.ci_low, ours.ci_high) == pytest.approx((interval.low, interval.high), rel=1e-10)


def test_the_chapters_claim_on_published_sample_sizes_holds():
    # R10's (r, P) fits the cohort's size; R9's needs far more pairs than patients.
    patients = target_value("R1")
    r9_low, _ = ma.implied_sample_size_range("R9")
    r10_low, r10_high = ma.implied_sample_size_range("R10")
    assert r10_low <= patients <= r10_high
    assert r9_low > 3 * patients


def test_ledger_verdicts_follow_their_rules(small_results):
    entries = {item.id: item for item in ma.ledger_entries(small_results)}
    assert set(entries) == {"R9", "R10", "R11", "R12", "R13"}
    total = small_results.bootstrap.ols.loc["c"]
    for target_id, item in entries.items():
        if target_id == "R13" and total["ci_low"] <= 0 <= total["ci_high"]:
            assert item.verdict == NOT_ESTIMABLE and "total effect" in item.not_estimable
            continue
        expected = rules.judge_estimate(target_value(target_id), item.published_se, item.estimate, item.se)
        assert item.verdict == expected, target_id
    assert entries["R11"].estimate == small_results.bootstrap.ols.loc["b", "estimate"]
    assert entries["R11"].se == small_results.bootstrap.ols.loc["b", "se"]


def test_proportion_mediated_is_not_estimable_when_the_total_effect_may_be_zero(small_results):
    ols = small_results.bootstrap.ols.copy()
    for low, high, estimable in ((-0.01, 0.02, False), (0.005, 0.02, True), (-0.03, -0.001, True)):
        ols.loc["c", ["ci_low", "ci_high"]] = (low, high)
        boot = dataclasses.replace(small_results.bootstrap, ols=ols)
        row = next(e for e in ma.ledger_entries(dataclasses.replace(small_results, bootstrap=boot)) if e.id == "R13")
        assert (row.verdict != NOT_ESTIMABLE) == estimable, (low, high)


def test_statsmodels_width_is_explained_by_independent_mediator_draws(small_results):
    # Tolerance: Monte Carlo error of a 95% interval width from 2000 draws is a few per cent.
    assert small_results.predicted_width_ratio > 1.02
    assert small_results.observed_width_ratio == pytest.approx(small_results.predicted_width_ratio, rel=0.12)


def test_glued_texts_survive_myst_literal_eval(small_results):
    changed = texts_myst_would_change(ma.glued_texts(small_results))
    assert not changed, f"would be shown otherwise: {changed}"


def test_results_do_not_depend_on_row_order_and_repeat_exactly(small, small_results):
    _, cohort = small
    rng = np.random.default_rng(3)
    # Patients are shuffled too: the bootstrap draws patients by position.
    shuffled = type(cohort)(cohort.patients.sample(frac=1, random_state=rng).reset_index(drop=True),
                            cohort.visits.sample(frac=1, random_state=rng).reset_index(drop=True),
                            cohort.ketamine.sample(frac=1, random_state=rng).reset_index(drop=True), cohort.folder,
                            cohort.mode, cohort.data_checksum)
    assert ma.glued_texts(ma.analyse_mediation(shuffled)) == ma.glued_texts(small_results)
