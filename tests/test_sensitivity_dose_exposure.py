# Guards against a dose-exposure analysis that measures the wrong thing: a lag that lets the dose of a month sit
# beside the score that triggered it, a landmark whose exposure runs into the outcome window, a mixed model that
# differs from the statsmodels route, and a bias table whose "no effect" cohorts still carry one.
import pytest

from okapi.data.derive import dose_by_month
from okapi.data.loading import load_cohort
from okapi.models.mixed_models import fit_pain_mixed_model, linear_combination
from okapi.plan import DOSE_LANDMARK_MONTH
from okapi.sensitivity import dose_exposure
from okapi.simulation.study import as_cohort
from okapi.synthetic.cohort import simulate_cohort


@pytest.fixture(scope="module")
def cohort():
    return load_cohort()


def test_the_lagged_dose_excludes_the_month_before_the_score(cohort):
    long = dose_exposure.exposure_long(cohort)
    doses = dose_by_month(cohort)
    ids = list(cohort.patients["patient_id"])
    for _, row in long.sample(50, random_state=1).iterrows():
        i, t = ids.index(row["patient_id"]), int(row["month"])
        assert row["dose_lag_g"] == pytest.approx(doses[i, :t].sum())  # months 0..t-1: not month t
        assert row["dose_total_g"] == pytest.approx(doses[i].sum())


def test_the_landmark_exposure_ends_where_the_outcome_window_starts(cohort):
    long = dose_exposure.exposure_long(cohort)
    frame = dose_exposure.landmark_frame(long, cohort)
    assert frame["month"].min() > DOSE_LANDMARK_MONTH
    doses = dose_by_month(cohort)
    ids = list(cohort.patients["patient_id"])
    first = frame.drop_duplicates("patient_id").head(20)
    for _, row in first.iterrows():
        assert row["dose_before_g"] == pytest.approx(doses[ids.index(row["patient_id"]), :DOSE_LANDMARK_MONTH + 1].sum())


def test_double_programming_time_varying_model_matches_statsmodels(cohort):
    # statsmodels' MixedLM (REML, the same random intercept and slope): the estimates agree to 1e-4 points per gram
    # and the SEs to 1%, the tolerances of the book's other lmm_batch checks.
    long = dose_exposure.exposure_long(cohort)
    ours = dose_exposure.estimate_all(cohort)["time_varying"]
    theirs = linear_combination(fit_pain_mixed_model(long, "nprs ~ years + dose_lag_g"), {"dose_lag_g": 1.0})
    assert ours.estimate == pytest.approx(theirs.estimate, abs=1e-4)
    assert ours.se == pytest.approx(theirs.se, rel=0.01)


def test_estimators_centre_on_zero_when_nothing_links_dose_to_pain():
    # Known truth: no dose effect, re-treatment and dropout blind to pain. Then neither follow-up length nor
    # re-treatment ties dose to pain, and each estimate on a large cohort lies within 3 SE of 0.
    blind = {"pain_per_gram_received": 0.0, "retreatment_log_rate_per_nprs_point": 0.0,
             "dropout_log_odds_per_nprs_point": 0.0}
    found = dose_exposure.estimate_all(as_cohort(simulate_cohort(3000, 5, blind)))
    for key, c in found.items():
        assert abs(c.estimate) < 3 * c.se, (key, c.estimate, c.se)


def test_a_dose_effect_is_seen_by_the_time_varying_model():
    # Known truth the other way: with -1 point per gram received, a large cohort's time-varying estimate is negative
    # and its CI excludes 0 (the lag attenuates it, so only the sign and the exclusion are checked).
    found = dose_exposure.estimate_all(as_cohort(simulate_cohort(3000, 5, {"pain_per_gram_received": -1.0})))
    assert found["time_varying"].ci_high < 0
