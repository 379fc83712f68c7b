# Guards against clinical-relevance numbers that are computed wrongly: the shared Newcombe interval
# (okapi.models.intervals) differing from statsmodels', responders counted on the wrong denominator (complete cases vs non-responder imputation), the
# 30% rule applied to patients with no pain at inclusion, and a regression-to-the-mean bound with its sign flipped.
import numpy as np
import pytest
from statsmodels.stats.proportion import confint_proportions_2indep

from okapi.data.derive import patient_summary
from okapi.data.loading import load_cohort
from okapi.models.intervals import newcombe_difference
from okapi.plan import HADS_D_CUTOFF, RESPONDER_MONTHS
from okapi.sensitivity import clinical


@pytest.fixture(scope="module")
def cohort():
    return load_cohort()


@pytest.mark.parametrize("counts", [(15, 61, 9, 51), (0, 20, 3, 25), (40, 40, 30, 45), (22, 149, 12, 151)])
def test_double_programming_newcombe_matches_statsmodels(counts):
    x1, n1, x2, n2 = counts
    difference, low, high = newcombe_difference(x1, n1, x2, n2)
    theirs = confint_proportions_2indep(x1, n1, x2, n2, method="newcomb", compare="diff")
    assert difference == pytest.approx(x1 / n1 - x2 / n2)
    assert (low, high) == pytest.approx(theirs, abs=1e-10)


def test_responders_counted_on_the_stated_denominators(cohort):
    table = clinical.responders(cohort).set_index(["month", "rule", "handling"])
    scores = cohort.visits.pivot(index="patient_id", columns="month", values="nprs").astype(float)
    depressed = patient_summary(cohort, HADS_D_CUTOFF).set_index("patient_id")["depressed"].reindex(scores.index)
    month = max(RESPONDER_MONTHS)
    base, later = scores[0], scores[month]
    hit = (base - later >= 0.3 * base) & (base > 0)
    group = depressed == True  # noqa: E712 (nullable booleans: NA is not a group)
    complete = base.notna() & later.notna() & group
    row = table.loc[(month, "percent", "complete")]
    assert row["n_depressed"] == complete.sum() and row["responders_depressed"] == (hit & complete).sum()
    everyone = base.notna() & group
    row = table.loc[(month, "percent", "nri")]
    assert row["n_depressed"] == everyone.sum() and row["responders_depressed"] == (hit & everyone).sum()
    assert row["n_depressed"] >= table.loc[(month, "percent", "complete"), "n_depressed"]


def test_first_month_excess_is_the_fall_beyond_the_trend(cohort):
    fall, trend, excess = clinical.first_month_excess(cohort)
    scores = cohort.visits.pivot(index="patient_id", columns="month", values="nprs").astype(float)[[0, 1]].dropna()
    assert fall == pytest.approx(float((scores[0] - scores[1]).mean()))
    assert excess == pytest.approx(fall - trend)
    assert np.isfinite(trend)
