# Guards against the fast REML fit (okapi.models.lmm_batch) answering differently from the checked statsmodels/lme4 fit:
# a different likelihood (ML vs REML, a lost constant), a wrong analytic gradient that stops the optimiser short,
# lost or extra rows, wrong GLS standard errors, batched or weighted fits that mix up outcomes or patients, a wrong
# closed form on complete grids, and boundary or failed fits passing without a warning.
import warnings

import numpy as np
import pandas as pd
import pytest

from okapi.models import lmm_batch
from okapi.data.loading import load_cohort
from okapi.data.derive import pain_long
from okapi.models.mixed_models import fit_pain_mixed_model, linear_combination, wald_test
from okapi.chapters.pain import canonical_order
from okapi.paths import REPO_ROOT
from support.rbridge import R_SOURCES, r_reference
from support.known_truth import PanelTruth, simulate_pain_panel

FORMULAS = ("nprs ~ years", "nprs ~ years * depressed", "nprs ~ C(month) * depressed")
INTERACTION = r"^C\(month\)\[T\.\d+\]:depressed$"
PANELS = {
    "integer_scores_329": dict(n_patients=329, seed=101, integer_scores=True),
    "heavy_dropout_250": dict(n_patients=250, seed=202, visit_missing=0.2, monthly_dropout=0.06,
                              truth=PanelTruth(5.9, -1.2, 0.9, -0.2, 1.8, 0.6, 0.2, 1.3)),
}
# Against statsmodels. statsmodels stops early: at its estimates the REML gradient is still ~1e-2 and its
# log-likelihood 1e-7 to 1e-5 below the optimum, which leaves its variance components up to ~2e-3 (relative) off.
# The tolerances are set from that shortfall; the tight checks are the likelihood evaluated at statsmodels' own
# estimates (below) and lme4.
SM_ESTIMATE, SM_SE, SM_COMPONENTS, SM_LOGLIK = 2e-4, 5e-4, 5e-3, 1e-4
# Against lme4 (converges to ~1e-7 in the REML criterion): the "1e-5 if both optimisers converge" agreement.
R_ESTIMATE, R_SE, R_COMPONENTS, R_LOGLIK = 1e-5, 1e-5, 1e-4, 1e-6


def depression_analysis_set() -> pd.DataFrame:
    long_df = pain_long(load_cohort())
    data = canonical_order(long_df.loc[long_df["hads_d_baseline"].notna()])
    data["depressed"] = data["depressed"].astype(bool)
    return data


@pytest.fixture(scope="module")
def cohort_data():
    return depression_analysis_set()


def relative_to_scale(a: pd.Series, b: pd.Series, scale: pd.Series) -> float:
    return float(((a - b).abs() / scale).max())


def component_scale(components: pd.Series) -> np.ndarray:
    # A covariance is compared on the scale of the product of its SDs, since it can be near zero.
    vi, vs = components["var(Intercept)"], components["var(years)"]
    return np.array([vi, vs, np.sqrt(vi * vs), components["var(Residual)"]])


def assert_agree(fast, reference, estimate_tol, se_tol, component_tol, loglik_tol):
    assert list(fast.fixed.index) == list(reference.fixed.index)
    assert list(fast.variance_components.index) == list(reference.variance_components.index)
    assert (fast.n_patients, fast.n_observations) == (reference.n_patients, reference.n_observations)
    scale = np.maximum(reference.fixed["estimate"].abs(), reference.fixed["se"])
    assert relative_to_scale(fast.fixed["estimate"], reference.fixed["estimate"], scale) < estimate_tol
    assert float((fast.fixed["se"] / reference.fixed["se"] - 1).abs().max()) < se_tol
    components = reference.variance_components
    assert float(np.max(np.abs(fast.variance_components - components) / component_scale(components))) < component_tol
    assert abs(fast.loglik - reference.loglik) < loglik_tol


@pytest.mark.parametrize("formula", FORMULAS)
def test_double_programming_matches_statsmodels_on_the_cohort(cohort_data, formula):
    reference = fit_pain_mixed_model(cohort_data, formula, "~years")
    fast = lmm_batch.fit_random_slope_model(cohort_data, formula)
    assert_agree(fast, reference, SM_ESTIMATE, SM_SE, SM_COMPONENTS, SM_LOGLIK)
    # Same likelihood, better converged: the fast fit never ends below statsmodels' optimum.
    assert fast.loglik >= reference.loglik - 1e-8
    assert fast.statsmodels_result is None and fast.converged and fast.warnings == ()


@pytest.fixture(scope="module")
def panel_fits():
    """statsmodels fits of two formulas on each simulated panel (fitted once: they are the slow part)."""
    fits = {}
    for panel, options in PANELS.items():
        data, _ = simulate_pain_panel(**options)
        fits[panel] = (data, {formula: fit_pain_mixed_model(data, formula, "~years")
                              for formula in ("nprs ~ years", "nprs ~ C(month) * depressed")})
    return fits


@pytest.mark.parametrize("panel", sorted(PANELS))
def test_double_programming_matches_statsmodels_on_simulated_panels(panel_fits, panel):
    data, references = panel_fits[panel]
    for formula, reference in references.items():
        fast = lmm_batch.fit_random_slope_model(data, formula)
        assert_agree(fast, reference, SM_ESTIMATE, SM_SE, SM_COMPONENTS, SM_LOGLIK)
        assert fast.loglik >= reference.loglik - 1e-8
        if "C(month)" in formula:  # the omnibus test of time x depression (R8's P) through the shared helper
            assert wald_test(fast, INTERACTION).chi2 == pytest.approx(wald_test(reference, INTERACTION).chi2,
                                                                      rel=1e-3)


def test_likelihood_beta_and_covariance_equal_statsmodels_at_its_own_estimates(panel_fits):
    """Convergence aside, the functions must be the same: at statsmodels' variance components the profiled REML
    log-likelihood, beta and the GLS covariance agree to rounding, and the analytic gradient to finite differences."""
    data, references = panel_fits["integer_scores_329"]
    for formula, reference in references.items():
        result = reference.statsmodels_result
        factor = np.linalg.cholesky(np.asarray(result.cov_re) / result.scale)
        theta = np.array([factor[0, 0], factor[1, 0], factor[1, 1]])
        design = lmm_batch.random_slope_design(data, formula)
        statistics = lmm_batch._statistics(design, data.loc[design.rows, "nprs"].to_numpy(float),
                                           np.ones(len(design.group_labels)))
        deviance, gradient, (beta, sigma2, xtvx_inv) = lmm_batch._profiled(theta, statistics)
        assert -deviance / 2 == pytest.approx(reference.loglik, abs=1e-8)
        np.testing.assert_allclose(beta, reference.fixed["estimate"].to_numpy(), atol=1e-10)
        assert sigma2 == pytest.approx(result.scale, rel=1e-10)
        np.testing.assert_allclose(sigma2 * xtvx_inv, reference.fixed_cov.to_numpy(), rtol=1e-8, atol=1e-12)
        step = 1e-4
        numeric = [(lmm_batch._profiled(theta + step * e, statistics, False)[0]
                    - lmm_batch._profiled(theta - step * e, statistics, False)[0]) / (2 * step) for e in np.eye(3)]
        np.testing.assert_allclose(gradient, numeric, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("r_source", R_SOURCES)
def test_double_programming_matches_lme4(cohort_data, r_source):
    data = cohort_data.assign(depressed=cohort_data["depressed"].astype(int))
    r_formulas = {"nprs ~ years * depressed": "nprs ~ years * depressed + (years | patient_id)",
                  "nprs ~ C(month) * depressed": "nprs ~ factor(month) * depressed + (years | patient_id)"}
    spec = pd.DataFrame([{"model_id": str(i), "formula": r, "wald_pattern": "", "anova_term": "", "repeats": 1}
                         for i, r in enumerate(r_formulas.values())])
    r_out = r_reference(REPO_ROOT / "tests" / "r" / "lmm_reference.R",
                        {"data": data[["patient_id", "month", "years", "nprs", "depressed"]], "models": spec},
                        r_source, "lmm_batch_lme4", packages=["lme4", "lmerTest"], timeout=240)
    for i, formula in enumerate(r_formulas):
        fast = lmm_batch.fit_random_slope_model(data, formula)
        r_fixed = r_out["fixed"].query("model_id == @i")
        scale = np.maximum(r_fixed["estimate"].abs(), r_fixed["se"]).to_numpy()
        assert np.max(np.abs(fast.fixed["estimate"].to_numpy() - r_fixed["estimate"].to_numpy()) / scale) < R_ESTIMATE
        assert np.max(np.abs(fast.fixed["se"].to_numpy() / r_fixed["se"].to_numpy() - 1)) < R_SE
        r_components = r_out["varcomp"].query("model_id == @i").set_index("component")["value"]
        r_components = r_components.reindex(fast.variance_components.index)
        assert np.max(np.abs(fast.variance_components - r_components) / component_scale(r_components)) < R_COMPONENTS
        assert fast.loglik == pytest.approx(float(r_out["fit"].query("model_id == @i")["loglik"].iloc[0]),
                                            abs=R_LOGLIK)


def test_booleans_are_coded_as_one_term_and_work_with_linear_combinations(cohort_data):
    fast = lmm_batch.fit_random_slope_model(cohort_data, "nprs ~ years * depressed")
    assert list(fast.fixed.index) == ["Intercept", "years", "depressed", "years:depressed"]
    combo = linear_combination(fast, {"years": 1 / 12, "years:depressed": 1 / 12})
    by_hand = (fast.fixed.loc["years", "estimate"] + fast.fixed.loc["years:depressed", "estimate"]) / 12
    assert combo.estimate == pytest.approx(by_hand, rel=1e-12)


def test_row_order_does_not_change_the_fit(cohort_data):
    shuffled = cohort_data.sample(frac=1.0, random_state=3)
    a = lmm_batch.fit_random_slope_model(cohort_data, "nprs ~ years * depressed")
    b = lmm_batch.fit_random_slope_model(shuffled, "nprs ~ years * depressed")
    np.testing.assert_allclose(a.fixed.to_numpy(), b.fixed.to_numpy(), rtol=1e-7, atol=1e-9)
    assert a.loglik == pytest.approx(b.loglik, abs=1e-8)


def test_batched_columns_are_fitted_each_on_its_own():
    data, _ = simulate_pain_panel(n_patients=200, seed=5)
    rng = np.random.default_rng(9)
    outcomes = np.column_stack([data["nprs"], data["nprs"] + rng.normal(0, 0.7, len(data)), 10 - data["nprs"]])
    fits = lmm_batch.fit_random_slope_models(data, "nprs ~ years * depressed", outcomes)
    for j, fit in enumerate(fits):
        single = lmm_batch.fit_random_slope_model(data.assign(nprs=outcomes[:, j]), "nprs ~ years * depressed")
        np.testing.assert_allclose(fit.fixed.to_numpy(), single.fixed.to_numpy(), rtol=1e-9, atol=1e-12)
    # Reflecting the outcome reflects every coefficient but the intercept's offset: a mixed-up column would not.
    assert fits[2].fixed.loc["years", "estimate"] == pytest.approx(-fits[0].fixed.loc["years", "estimate"], rel=1e-6)


def test_patient_weights_equal_duplicated_patients():
    data, _ = simulate_pain_panel(n_patients=120, seed=11)
    design = lmm_batch.random_slope_design(data, "nprs ~ years * depressed")
    counts = np.random.default_rng(4).multinomial(len(design.group_labels), np.full(len(design.group_labels),
                                                                                    1 / len(design.group_labels)))
    weighted = lmm_batch.fit_outcome_arrays(design, data.loc[design.rows, "nprs"].to_numpy(float), counts)
    copies = []
    for label, count in zip(design.group_labels, counts):
        for copy in range(count):
            copies.append(data.loc[data["patient_id"] == label].assign(patient_id=f"{label}_{copy}"))
    duplicated = lmm_batch.fit_random_slope_model(pd.concat(copies, ignore_index=True), "nprs ~ years * depressed")
    np.testing.assert_allclose(weighted.beta[0], duplicated.fixed["estimate"].to_numpy(), rtol=1e-7)
    np.testing.assert_allclose(weighted.components[0], duplicated.variance_components.to_numpy(), rtol=1e-5)
    assert weighted.loglik[0] == pytest.approx(duplicated.loglik, abs=1e-7)


def test_double_programming_closed_form_on_complete_grids_equals_iterative_fit():
    data, _ = simulate_pain_panel(n_patients=150, seed=8, visit_missing=0.0, monthly_dropout=1e-9)
    data = data.sort_values(["patient_id", "month"])
    n_patients, n_months = data["patient_id"].nunique(), 13
    assert len(data) == n_patients * n_months  # a complete grid
    rng = np.random.default_rng(2)
    outcomes = data["nprs"].to_numpy()[:, None] + rng.normal(0, 0.5, (len(data), 3))
    iterative = lmm_batch.fit_random_slope_models(data, "nprs ~ years * depressed", outcomes)
    depressed = data.groupby("patient_id", sort=True)["depressed"].first().to_numpy()
    grid = lmm_batch.fit_complete_grid(outcomes.T.reshape(3, n_patients, n_months), np.arange(13) / 12,
                                       np.column_stack([np.ones(n_patients), depressed]))
    for j, fit in enumerate(iterative):
        assert grid.interior[j]
        closed = grid.coefficients[j]
        np.testing.assert_allclose([closed[0, 0], closed[0, 1], closed[1, 0], closed[1, 1]],
                                   fit.fixed["estimate"].to_numpy(), rtol=1e-8)
        se = np.sqrt([grid.variance(0, 0)[j], grid.variance(0, 1)[j], grid.variance(1, 0)[j],
                      grid.variance(1, 1)[j]])
        np.testing.assert_allclose(se, fit.fixed["se"].to_numpy(), rtol=1e-5)
        np.testing.assert_allclose(grid.components[j], fit.variance_components.to_numpy(), rtol=1e-4, atol=1e-6)


def lines_without_slope_variance(n_patients: int = 60) -> pd.DataFrame:
    """Every patient's own least-squares slope is exactly the common one: the REML slope variance must be zero."""
    rng = np.random.default_rng(1)
    years = np.arange(13) / 12
    Z = np.column_stack([np.ones(13), years])
    noise = rng.normal(size=(n_patients, 13))
    noise -= noise @ Z @ np.linalg.solve(Z.T @ Z, Z.T)  # residuals orthogonal to each patient's line
    nprs = 6 + rng.normal(0, 1, (n_patients, 1)) - 0.8 * years + noise
    return pd.DataFrame({"patient_id": np.repeat(np.arange(n_patients), 13), "years": np.tile(years, n_patients),
                         "nprs": nprs.ravel()})


def test_boundary_fit_is_not_silent():
    with pytest.warns(RuntimeWarning, match="boundary"):
        fit = lmm_batch.fit_random_slope_model(lines_without_slope_variance(), "nprs ~ years")
    assert "boundary" in " ".join(fit.warnings)


def test_failed_convergence_is_not_silent(monkeypatch, cohort_data):
    monkeypatch.setattr(lmm_batch, "GRADIENT_TOLERANCE_PER_PATIENT", 0.0)  # no optimum can pass: the failure path must fire
    with pytest.warns(RuntimeWarning, match="did not converge"):
        fit = lmm_batch.fit_random_slope_model(cohort_data, "nprs ~ years")
    assert not fit.converged


def test_a_good_fit_emits_no_warning(cohort_data):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lmm_batch.fit_random_slope_model(cohort_data, "nprs ~ C(month) * depressed")


def test_rejects_rank_deficient_design_and_incomplete_batches(cohort_data):
    with pytest.raises(ValueError, match="rank deficient"):
        lmm_batch.fit_random_slope_model(cohort_data.assign(twice=2 * cohort_data["years"]), "nprs ~ years + twice")
    outcomes = np.tile(cohort_data["nprs"].to_numpy(float)[:, None], (1, 2))
    outcomes[3, 1] = np.nan
    with pytest.raises(ValueError, match="complete"):
        lmm_batch.fit_random_slope_models(cohort_data, "nprs ~ years", outcomes)


def test_a_large_cohort_is_not_flagged_as_not_converged():
    # The convergence rule once used an absolute gradient tolerance: the deviance grows with the number of patients,
    # so good fits of 5,000 patients were reported as not converged (and would have failed a chapter's build). This
    # generated cohort is one that the absolute rule flagged (largest gradient 0.0016, at the rounding limit).
    from okapi.simulation.study import as_cohort
    from okapi.synthetic.cohort import simulate_cohort

    long_df = pain_long(as_cohort(simulate_cohort(n=5000, seed=2)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a "did not converge" warning fails the test
        fit = lmm_batch.fit_random_slope_model(long_df, "nprs ~ years")
    assert fit.converged and fit.n_patients > 4000


@pytest.mark.slow
@pytest.mark.parametrize("n_patients, seed", [(10000, None), (30000, 1)])
def test_the_optimiser_does_not_creep_at_rounding_sized_steps_on_a_large_cohort(monkeypatch, n_patients, seed):
    # The deviance and its rounding grow with the number of patients. Two stopping rules were once absolute or too
    # tight: the Newton search ended only when the expected decrease fell below 1e-10 (below the rounding of the
    # deviance from about 3,000 patients on), and the line search judged a step on the deviance alone (whose evaluation
    # noise, ~1e-6 at 30,000 patients, exceeds 64 eps |deviance|). Both times the search refused the step to the optimum
    # and crept by rounding-sized steps: 3,106 evaluations and 100 Newton steps at 10,000 patients (45x the time of
    # 3,000 patients), 185 at this 30,000-patient cohort. Counted, not timed: a good search needs a few dozen.
    from okapi.simulation.study import as_cohort
    from okapi.synthetic.cohort import simulate_cohort

    long_df = pain_long(as_cohort(simulate_cohort(n=n_patients, **({} if seed is None else {"seed": seed}))))
    evaluations = []
    profiled = lmm_batch._profiled

    def counted(*args, **kwargs):
        evaluations.append(1)
        return profiled(*args, **kwargs)

    monkeypatch.setattr(lmm_batch, "_profiled", counted)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = lmm_batch.fit_random_slope_model(long_df, "nprs ~ years")
    assert fit.converged and fit.n_patients > 0.9 * n_patients
    assert len(evaluations) < 60
    # ... and the search still ends at the optimum (the gradient there is ~1e-7; the convergence rule allows 0.03-0.09).
    design = lmm_batch.random_slope_design(long_df, "nprs ~ years")
    statistics = lmm_batch._statistics(design, long_df.loc[design.rows, "nprs"].to_numpy(float),
                                       np.ones(len(design.group_labels)))
    gradient = profiled(lmm_batch.theta_of(fit.variance_components.to_numpy()), statistics)[1]
    assert np.max(np.abs(gradient)) < 1e-4
