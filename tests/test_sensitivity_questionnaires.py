# Guards against courses and cross-lags computed on the wrong rows or scale: months assumed instead of read,
# pairs that skip a questionnaire month, unstandardised cross-lags, and a course fit that differs from statsmodels.
import warnings

import numpy as np
import pytest

from okapi.data.loading import load_cohort
from okapi.models.mixed_models import fit_pain_mixed_model, linear_combination
from okapi.sensitivity import questionnaires


@pytest.fixture(scope="module")
def cohort():
    return load_cohort()


def test_questionnaire_months_are_read_from_the_data(cohort):
    months = questionnaires.questionnaire_months(cohort)
    recorded = set(cohort.visits.loc[cohort.visits["hads_d"].notna(), "month"].astype(int))
    assert months == sorted(recorded) and 0 in months


def test_pairs_join_consecutive_questionnaire_months_and_are_standardised(cohort):
    pairs = questionnaires.lagged_pairs(cohort)
    months = questionnaires.questionnaire_months(cohort)
    assert set(pairs["wave"]) <= set(months[1:])
    for score in ("pain", "depression"):
        values = np.concatenate([pairs[f"{score}_before"], pairs[f"{score}_after"]])
        assert values.mean() == pytest.approx(0, abs=1e-9) and values.std(ddof=1) == pytest.approx(1)


def test_cross_lags_match_a_direct_regression(cohort):
    pairs = questionnaires.lagged_pairs(cohort)
    x = np.column_stack([np.ones(len(pairs)), pairs["pain_before"], pairs["depression_before"]])
    direct = np.linalg.inv(x.T @ x) @ x.T @ pairs["pain_after"].to_numpy()
    assert questionnaires._cross_lags(pairs)[0] == pytest.approx(direct[2], rel=1e-10)


def test_double_programming_course_matches_statsmodels(cohort):
    # statsmodels' MixedLM (REML) on the same rows. On this cohort HADS-D's random-slope variance is near 0 and
    # statsmodels warns that it did not converge; the book's REML optimum must then be at least as good, and the
    # yearly changes agree to 1e-4 points, the SEs to 1%.
    from okapi.models.lmm_batch import fit_random_slope_model

    frame = cohort.visits.loc[cohort.visits["hads_d"].notna(), ["patient_id", "month", "hads_d"]].copy()
    frame["years"], frame["hads_d"] = frame["month"] / 12, frame["hads_d"].astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # its non-convergence warning, judged here
        theirs_fit = fit_pain_mixed_model(frame, "hads_d ~ years")
    assert fit_random_slope_model(frame, "hads_d ~ years", warn=False).loglik >= theirs_fit.loglik - 1e-6
    theirs = linear_combination(theirs_fit, {"years": 1.0})
    ours = questionnaires.course(cohort, "hads_d")
    assert ours.estimate == pytest.approx(theirs.estimate, abs=1e-4)
    assert ours.se == pytest.approx(theirs.se, rel=0.01)
