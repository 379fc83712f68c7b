# Guards against a readings search that cannot fail: a check that ignores the reading's unit or precision, R13
# arithmetic with a sign slip, a cluster-robust SE computed wrongly, a primary reading in the plan that the search no
# longer picks, and a calibration that quietly counts the generator's own aims as reproductions.
import numpy as np
import pytest
import statsmodels.api as sm

from okapi.chapters import readings
from okapi.chapters.readings import MET, NOT_APPLICABLE, NOT_MET, READINGS, ReadingFigures
from okapi.data.loading import load_cohort
from okapi.plan import PRIMARY_READING, READING_SE_FACTOR
from okapi.synthetic.calibration import AIMS, NOT_CALIBRATED
from okapi.synthetic.calibration_solver import SOLVED
from okapi.verdicts.ledger import CALIBRATION_TARGETS
from okapi.verdicts.rules import Z_975

BY_KEY = {r.key: r for r in READINGS}


@pytest.fixture(scope="module")
def search():
    return readings.search_readings(load_cohort())


def _figures(key, **changes):
    base = dict(n_r9=300, n_r10=300, b=0.03, se_b=0.008, c_prime=0.0, se_c_prime=0.005, sd_x=0.5, sd_m=0.5,
                sd_y=0.13)
    base.update(changes)
    return ReadingFigures(BY_KEY[key], **base)


def test_the_plan_names_the_reading_the_search_picks(search):
    assert search.best == PRIMARY_READING
    # and it wins outright: a tie would make the choice a matter of listing order
    assert (search.fit.drop(PRIMARY_READING) < search.fit[PRIMARY_READING]).all()


def test_a_patient_level_r9_is_outside_the_n_its_published_p_implies():
    # r = 0.01 with P = .61 needs about a thousand or more observations, never 329 patients
    assert readings._unit_check("R9", 329)[0] == NOT_MET
    assert readings._unit_check("R9", 2000)[0] == MET
    assert readings._unit_check("R10", 300)[0] == MET
    assert readings._unit_check("R10", 2000)[0] == NOT_MET


def test_published_se_range_comes_from_the_rounded_ci_limits():
    # R11 printed 0.01 to 0.04: the limits lie in [0.005, 0.015) and [0.035, 0.045)
    allowed = readings.published_se_range("R11")
    assert allowed.low == pytest.approx((0.035 - 0.015) / (2 * Z_975))
    assert allowed.high == pytest.approx((0.045 - 0.005) / (2 * Z_975))
    assert readings._precision_check("R11", allowed.high * READING_SE_FACTOR * 0.99)[0] == MET
    assert readings._precision_check("R11", allowed.high * READING_SE_FACTOR * 1.01)[0] == NOT_MET
    assert readings._precision_check("R11", allowed.low / READING_SE_FACTOR * 0.99)[0] == NOT_MET


def test_r13_is_unreachable_when_r9_is_the_total_effect_of_opposite_sign():
    # a = R10 x SD(M)/SD(X) < 0 and b = R11 > 0 give a b < 0, while c from R9 = +0.01 is > 0: the share is negative
    reachable = readings.share_range(_figures("A"))
    assert reachable.high < 0
    r9, r10, b = (0.005, 0.015), (-0.065, -0.055), (0.025, 0.035)
    by_hand = [100 * x * y * 0.5 / (z * 0.13) for x in r10 for y in b for z in r9]
    assert reachable.low == pytest.approx(min(by_hand)) and reachable.high == pytest.approx(max(by_hand))
    assert readings._share_check(_figures("A"))[0] == NOT_MET


def test_r13_is_reachable_through_the_direct_effect_when_r9_is_on_another_unit():
    # c = a b + c' with c' anywhere in [-0.005, 0.005): a b + c' can be 0, so any share is reachable
    assert not np.isfinite(readings.share_range(_figures("F")).low)
    assert readings._share_check(_figures("F"))[0] == MET
    # with a large |a b| no printed c' can make the share 64.6%: the check can fail
    strong = _figures("F", sd_m=50.0, sd_x=0.5)
    reachable = readings.share_range(strong)
    assert np.isfinite(reachable.low) and not reachable.low <= 64.6 <= reachable.high


def test_r8_and_r11_are_judged_one_quantity_only_where_the_reading_says_so():
    assert readings._one_quantity_check(BY_KEY["A"])[0] == NOT_MET  # the printed CIs share no magnitude
    assert readings._one_quantity_check(BY_KEY["C"])[0] == NOT_APPLICABLE


def test_cluster_robust_se_matches_statsmodels():
    rng = np.random.default_rng(3)
    cluster = np.repeat(np.arange(60), 5)
    x = rng.normal(size=300) + np.repeat(rng.normal(size=60), 5)
    m = (rng.random(300) < 0.5).astype(float)
    y = 0.2 * x - 0.4 * m + np.repeat(rng.normal(size=60), 5) + rng.normal(size=300)
    beta, se = readings._ols(y, [x, m], cluster=cluster)
    fit = sm.OLS(y, sm.add_constant(np.column_stack([x, m]))).fit(cov_type="cluster", cov_kwds={"groups": cluster})
    assert beta == pytest.approx(fit.params, rel=1e-10)
    assert se == pytest.approx(fit.bse, rel=1e-10)
    plain = sm.OLS(y, sm.add_constant(np.column_stack([x, m]))).fit()
    assert readings._ols(y, [x, m])[1] == pytest.approx(plain.bse, rel=1e-10)


def test_r8_per_year_is_twelve_times_per_month():
    codings = readings.r8_codings(load_cohort()).set_index(["depression", "time unit"])
    for split, _, _ in readings.R8_SPLITS:
        month, year = codings.loc[(split, "per month")], codings.loc[(split, "per year")]
        assert year["estimate"] == pytest.approx(12 * month["estimate"], rel=1e-12)
        assert year["se"] == pytest.approx(12 * month["se"], rel=1e-12)


def test_whatever_the_generator_aims_at_is_counted_as_calibration_not_reproduction():
    aimed = {target for _, target, _, _ in SOLVED} | set(AIMS)
    assert aimed <= CALIBRATION_TARGETS
    assert not set(NOT_CALIBRATED) & CALIBRATION_TARGETS
