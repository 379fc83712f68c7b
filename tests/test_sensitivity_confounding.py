# Guards against a confounding analysis that adjusts for the wrong thing or reports an E-value that cannot be right:
# the adjusted model against statsmodels, the unadjusted model on the same patients, and the E-value formula.
import warnings

import pytest

from okapi.data.loading import load_cohort
from okapi.models.mixed_models import fit_pain_mixed_model, linear_combination
from okapi.plan import CONFOUNDERS, SensitivitySettings
from okapi.sensitivity import confounding


@pytest.fixture(scope="module")
def results():
    return confounding.run_confounding_sensitivity(load_cohort(), SensitivitySettings())


def test_e_value_of_a_hand_computed_case():
    # d = 0.5: RR = exp(0.455) = 1.5762; E = RR + sqrt(RR (RR - 1)) = 1.5762 + 0.9529 = 2.5291
    assert confounding.e_value(0.5, 1.0) == pytest.approx(2.5291, abs=1e-4)
    assert confounding.e_value(-0.5, 1.0) == confounding.e_value(0.5, 1.0)
    assert confounding.e_value(0.0, 1.0) == 1.0


def test_every_confounder_and_its_slope_enter_the_model():
    formula = confounding.adjusted_formula()
    for name in CONFOUNDERS:
        assert name in formula
    assert "years:centre" not in formula  # centres on the level only


def test_double_programming_adjusted_interaction_matches_statsmodels(results):
    # statsmodels' MixedLM (REML) on the same frame and formula. With 30 centre dummies and 9 slope terms its
    # optimiser does not converge on this cohort (it warns and retries with L-BFGS) and stops at a lower REML
    # criterion than the book's fit, so the book's optimum must be at least as good, and the two estimates agree to
    # 1e-3 points per year (0.5% of the estimate), the SEs to 1%.
    from okapi.models.lmm_batch import fit_random_slope_model

    long, _ = confounding.analysis_frame(load_cohort())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # its non-convergence warning, which this test reports
        theirs_fit = fit_pain_mixed_model(long, confounding.adjusted_formula())
    ours_fit = fit_random_slope_model(long, confounding.adjusted_formula(), warn=False)
    assert ours_fit.loglik >= theirs_fit.loglik - 1e-6
    theirs = linear_combination(theirs_fit, {"years:depressed": 1.0})
    assert results.adjusted.estimate == pytest.approx(theirs.estimate, abs=1e-3)
    assert results.adjusted.se == pytest.approx(theirs.se, rel=0.01)


def test_unadjusted_and_adjusted_use_the_same_patients(results):
    long, left_out = confounding.analysis_frame(load_cohort())
    assert long["patient_id"].nunique() == results.n_patients
    assert left_out >= 0 and long[list(CONFOUNDERS)].notna().all().all()
    assert results.e_ci <= results.e_estimate
