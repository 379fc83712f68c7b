# Guards against effect sizes that look plausible but are computed wrongly: a sign or denominator slip (SD of the
# change instead of the baseline SD), means taken over the wrong patients, a bootstrap interval that does not reach
# its nominal 95% coverage, a model-based effect size that depends on the time unit, and a paired comparison that
# silently includes patients seen at only one of the two visits.
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from okapi.models.effect_sizes import (
                                       model_based_effect_size,
                                       outcome_by_patient,
                                       paired_change,
                                       standardised_mean_change,
                                       )
from okapi.models.mixed_models import fit_pain_mixed_model
from support.known_truth import PanelTruth, simulate_pain_panel


def two_visit_cohort(seed, n=329, mean0=6.8, mean12=5.9, sd=1.8, corr=0.5, p_seen0=0.73, p_seen12=0.28):
    """Baseline and month-12 scores for n patients, each visit missing completely at random (companion-paper-like
    counts: about 240 at baseline, 93 at month 12). True standardised change = (mean12 - mean0) / sd."""
    rng = np.random.default_rng(seed)
    scores = rng.multivariate_normal([mean0, mean12], sd**2 * np.array([[1, corr], [corr, 1]]), size=n)
    seen = rng.random((n, 2)) < [p_seen0, p_seen12]
    ids = np.array([f"S{i:04d}" for i in range(n)])
    frames = [
        pd.DataFrame({"patient_id": ids[seen[:, k]], "month": month, "nprs": scores[seen[:, k], k]})
        for k, month in enumerate((0, 12))
    ]
    return pd.concat(frames, ignore_index=True)


def test_standardised_mean_change_uses_observed_means_and_baseline_sd():
    long_df = two_visit_cohort(seed=1)
    result = standardised_mean_change(long_df, n_boot=200)
    at = {month: long_df.loc[long_df["month"] == month, "nprs"] for month in (0, 12)}
    expected = (at[12].mean() - at[0].mean()) / at[0].std(ddof=1)
    assert result.effect_size == pytest.approx(expected, rel=1e-12)
    assert (result.n_baseline, result.n_final) == (at[0].size, at[12].size)
    # The companion paper's arithmetic: (5.7 - 6.8) / 1.8 = -0.61 in this signed convention.
    assert result.effect_size < 0 and result.ci_low < result.effect_size < result.ci_high


def test_standardised_mean_change_interval_covers_truth_near_95_percent():
    truth = (5.9 - 6.8) / 1.8
    covered = []
    for replicate in range(300):
        result = standardised_mean_change(two_visit_cohort(seed=1000 + replicate), n_boot=1000, seed=replicate)
        covered.append(result.ci_low <= truth <= result.ci_high)
    # 300 replicates: binomial SE of a 95% coverage is 0.0126; band = 0.95 +/- 3 SE.
    assert 0.912 <= np.mean(covered) <= 0.988


def test_standardised_mean_change_is_deterministic_for_a_seed():
    long_df = two_visit_cohort(seed=2)
    assert standardised_mean_change(long_df, seed=5) == standardised_mean_change(long_df, seed=5)


def test_model_based_effect_size_does_not_depend_on_time_unit_and_is_near_truth():
    truth = PanelTruth(6.8, -0.7, 0.0, 0.0, 1.3, 0.9, -0.3, 1.0)
    long_df, _ = simulate_pain_panel(n_patients=600, seed=7, truth=truth)
    per_year = model_based_effect_size(fit_pain_mixed_model(long_df, fixed="nprs ~ years"), long_df)
    per_month = model_based_effect_size(
        fit_pain_mixed_model(long_df, fixed="nprs ~ month"), long_df, weights={"month": 12.0}
    )
    assert per_month.effect_size == pytest.approx(per_year.effect_size, rel=1e-4)
    assert per_month.change_se == pytest.approx(per_year.change_se, rel=1e-3)
    true_sd0 = np.sqrt(truth.sd_intercept**2 + truth.sd_residual**2)
    true_es = truth.slope_per_year / true_sd0
    # SE of the effect size: slope SE / SD, plus the baseline SD's own relative SE 1 / sqrt(2 n); 4 SEs allowed.
    se = np.hypot(per_year.change_se / per_year.sd_baseline, abs(true_es) / np.sqrt(2 * per_year.n_baseline))
    assert abs(per_year.effect_size - true_es) < 4 * se
    assert per_year.ci_low < per_year.effect_size < per_year.ci_high


def test_paired_change_matches_scipy_paired_t_test_on_patients_seen_twice():
    long_df = two_visit_cohort(seed=3, p_seen0=0.8, p_seen12=0.5).rename(columns={"nprs": "sf12_mcs"})
    result = paired_change(long_df, "sf12_mcs")
    wide = outcome_by_patient(long_df, "sf12_mcs", (0, 12)).dropna()
    reference = stats.ttest_rel(wide[12], wide[0])
    interval = reference.confidence_interval(0.95)
    assert result.n == len(wide)
    assert result.t == pytest.approx(reference.statistic, rel=1e-10)
    assert result.p == pytest.approx(reference.pvalue, rel=1e-8)
    assert (result.ci_low, result.ci_high) == pytest.approx((interval.low, interval.high), rel=1e-10)
    assert result.mean_difference == pytest.approx(result.mean_final - result.mean_baseline, rel=1e-12)
    assert result.sd_baseline == pytest.approx(wide[0].std(ddof=1), rel=1e-12)


def test_rejects_duplicate_patient_month_rows():
    long_df = two_visit_cohort(seed=4)
    duplicated = pd.concat([long_df, long_df.iloc[[0]]], ignore_index=True)
    with pytest.raises(ValueError):
        paired_change(duplicated, "nprs")
    with pytest.raises(ValueError):
        standardised_mean_change(duplicated, n_boot=10)
