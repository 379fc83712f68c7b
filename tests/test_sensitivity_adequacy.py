# Guards against an adequacy check that cannot fail or measures the wrong thing: a likelihood-ratio test on REML
# likelihoods, a spline one-year change that is not the predicted difference, and a GEE that ignores the AR(1)
# structure it claims.
import numpy as np
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf

from okapi.data.derive import pain_long
from okapi.data.loading import load_cohort
from okapi.models.mixed_models import fit_pain_mixed_model, linear_combination
from okapi.plan import SensitivitySettings
from okapi.sensitivity import adequacy
from okapi.simulation.study import as_cohort
from okapi.synthetic.cohort import simulate_cohort


@pytest.fixture(scope="module")
def results():
    return adequacy.run_adequacy_sensitivity(load_cohort(), SensitivitySettings())


def test_double_programming_linear_ml_fit_matches_the_book_route(results):
    # the adequacy module builds its own design; with linear time it must give the book's ML fit and one-year change
    fit = fit_pain_mixed_model(pain_long(load_cohort()), "nprs ~ years", reml=False)
    assert results.linear_loglik == pytest.approx(fit.loglik, abs=1e-3)
    book = linear_combination(fit, {"years": 1.0})
    assert results.linear_change.estimate == pytest.approx(book.estimate, abs=1e-5)
    assert results.linear_change.ci_low == pytest.approx(book.ci_low, abs=1e-4)


def test_spline_change_is_the_predicted_difference(results):
    curves = results.curves.set_index("month")
    assert results.spline_change.estimate == pytest.approx(curves.loc[12, "spline"] - curves.loc[0, "spline"])
    assert results.linear_change.estimate == pytest.approx(curves.loc[12, "linear"] - curves.loc[0, "linear"])


def test_likelihood_ratio_has_no_power_against_a_straight_course():
    # Known truth: straight class courses and dropout unrelated to pain; the spline adds nothing, so over 6 cohorts
    # the LR test rejects at 5% in at most 2 (P of 3 or more false rejections out of 6 at 5%: 0.2%), while on the
    # default, curved generator it rejects in most.
    straight = {"pain_time_constant_months": (1e6, 1e6, 1e6), "dropout_log_odds_per_nprs_point": 0.0,
                "pain_baseline_level": 5.0, "pain_m0_class_offsets": (-1.0, 0.0, 0.5)}
    settings = SensitivitySettings()
    p_straight = [adequacy.run_adequacy_sensitivity(as_cohort(simulate_cohort(800, seed, straight)), settings).lr_p
                  for seed in range(6)]
    p_curved = [adequacy.run_adequacy_sensitivity(as_cohort(simulate_cohort(800, seed)), settings).lr_p
                for seed in range(3)]
    assert sum(p < 0.05 for p in p_straight) <= 2
    assert sum(p < 0.05 for p in p_curved) >= 2


def test_double_programming_gee_ar1_matches_a_direct_statsmodels_call(results):
    long = pain_long(load_cohort()).sort_values(["patient_id", "month"], kind="stable").reset_index(drop=True)
    model = smf.gee("nprs ~ years", groups="patient_id", data=long, time=long["month"].to_numpy(),
                    cov_struct=sm.cov_struct.Autoregressive(grid=True))
    fit = model.fit()
    assert results.gee_change.estimate == pytest.approx(fit.params["years"], rel=1e-10)
    assert results.gee_autocorrelation == pytest.approx(model.cov_struct.dep_params, rel=1e-10)
    assert 0 < results.gee_autocorrelation < 1
    assert np.isfinite(results.residual_lag1)
