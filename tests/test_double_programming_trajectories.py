# Guards against a trajectory model that runs but answers wrongly: a wrong likelihood (dropped visits counted, a
# wrong compound-symmetry determinant, a parameter count off by one, hence a wrong BIC) or an EM stuck below the
# maximum. Checked against R flexmix (its own starts; on simulated cohorts and on the committed one), visit-by-visit
# likelihoods, quadrature and an optimiser.
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from okapi.data.loading import load_cohort
from okapi.data.derive import pain_long
from okapi.paths import REPO_ROOT
from support.rbridge import R_SOURCES, r_reference
from support.known_truth_trajectories import TrajectorySimulationSettings, simulate_trajectory_cohort
from okapi.models.trajectories import (fit_censored_trajectory_model, fit_trajectory_model, log_likelihood_at,
                                       polynomial_design, prepare_trajectory_data, summarise_fit)

FLEXMIX_SCRIPT = REPO_ROOT / "tests" / "r" / "flexmix_reference.R"
DEGREE = 2
# (model name in the R script, K values, patients, flexmix starts). FLXMRlmm loops over patients in R and takes
# ~5 s per start at K = 2 with 100 patients, so the random-intercept comparison stops at K = 3 with one start.
R_RUNS = {
    "lcga_class_variance": ((1, 2, 3, 4), 150, 4),
    "lcga_common_variance": ((1, 2, 3, 4), 150, 4),
    "random_intercept": ((1, 2, 3), 100, 1),
}
FLEXMIX_TOLERANCE, FLEXMIX_ITER_MAX = "1e-10", "1000"
# Same likelihood at the same parameters: only rounding differs (flexmix writes 15 significant digits).
SAME_LIKELIHOOD_TOLERANCE = 1e-6
# Same maximum: ours vs flexmix's estimates with its variance put back on the ML scale (see below), in log-lik units.
MAXIMUM_TOLERANCE = 1e-3
COEFFICIENT_TOLERANCE = 0.005      # NPRS points (observed differences are below 0.001)
PROPORTION_TOLERANCE = 0.002
VARIANCE_RELATIVE_TOLERANCE = 0.005


def flexmix_variance_to_ml(residual_variance, model, n_observations, k):
    """flexmix's gaussian M-step does not return the ML variance: FLXMRglm divides the weighted residual sum of
    squares by (n_obs - p), FLXMRglmfix(varFix = TRUE) by (n_obs - p / K) (its degrees of freedom take the first
    class's coefficient count over K stacked copies). FLXMRlmm returns the ML value. This undoes the divisor.
    """
    p = DEGREE + 1
    if model == "lcga_class_variance":
        return residual_variance * (n_observations - p) / n_observations
    if model == "lcga_common_variance":
        return residual_variance * (n_observations - p / k) / n_observations
    return residual_variance


def simulated_long(n_patients: int) -> pd.DataFrame:
    long_df, _ = simulate_trajectory_cohort(n_patients, seed=20230517)
    return long_df


def flexmix_parameters(parameters: pd.DataFrame, k: int):
    """flexmix components ordered like ours (by mean predicted pain over months 0-12)."""
    table = parameters[parameters["k"] == k].pivot(index="component", columns="parameter", values="value")
    coefficients = table[[f"coef_{j}" for j in range(DEGREE + 1)]].to_numpy()
    months = polynomial_design(np.arange(13) / 12.0, DEGREE)
    order = np.argsort((coefficients @ months.T).mean(axis=1), kind="stable")
    return (coefficients[order], table["prior"].to_numpy()[order], table["residual_variance"].to_numpy()[order],
            float(table["random_intercept_variance"].iloc[0]))


def our_fit(long_df, model: str, k: int):
    return fit_trajectory_model(long_df, k, degree=DEGREE, random_intercept=model == "random_intercept",
                                class_specific_variance=model == "lcga_class_variance", n_starts=30, seed=7)


@pytest.fixture(scope="module", params=R_SOURCES)
def flexmix_results(request):
    def run(model):
        k_values, n_patients, nrep = R_RUNS[model]
        long_df = simulated_long(n_patients)
        out = r_reference(FLEXMIX_SCRIPT, {"long": long_df[["patient_id", "years", "nprs"]]}, request.param,
                          f"flexmix_{model}", packages=["flexmix", "mvtnorm"], timeout=240,
                          extra_args=[model, str(DEGREE), ",".join(map(str, k_values)), str(nrep), "11",
                                      FLEXMIX_TOLERANCE, FLEXMIX_ITER_MAX])
        return model, (long_df, out["fits"].set_index("k"), out["parameters"])

    # The three R jobs are independent subprocesses: run them side by side.
    with ThreadPoolExecutor(max_workers=len(R_RUNS)) as pool:
        return dict(pool.map(run, R_RUNS))


CASES = [(model, k) for model, (k_values, _, _) in R_RUNS.items() for k in k_values]


@pytest.mark.parametrize("model,k", CASES)
def test_double_programming_flexmix_maximum_and_curves(flexmix_results, model, k):
    long_df, fits, parameters = flexmix_results[model]
    reference = fits.loc[k]
    assert reference["k_fitted"] == k, "flexmix dropped a class despite minprior = 0"
    data = prepare_trajectory_data(long_df, DEGREE)
    coefficients, priors, residual_variance, tau2 = flexmix_parameters(parameters, k)

    # 1. Our likelihood function, evaluated at flexmix's estimates, gives flexmix's own log-likelihood.
    ll_at_flexmix, _ = log_likelihood_at(data, coefficients, priors, residual_variance, tau2)
    assert ll_at_flexmix == pytest.approx(reference["loglik"], abs=SAME_LIKELIHOOD_TOLERANCE)

    # 2. Our EM reaches the same maximum and never a worse one. flexmix's reported value sits below the maximum
    #    by its variance divisor (~p^2 / (4 n_obs) = 0.002 for FLXMRglm here); with the ML variance it is the same.
    fit = our_fit(long_df, model, k)
    gap = fit.log_likelihood - reference["loglik"]
    assert gap >= -SAME_LIKELIHOOD_TOLERANCE, f"flexmix found a higher maximum by {-gap:.6f}"
    ml_variance = flexmix_variance_to_ml(residual_variance, model, data.n_observations, k)
    ll_at_flexmix_ml, _ = log_likelihood_at(data, coefficients, priors, ml_variance, tau2)
    assert fit.log_likelihood == pytest.approx(ll_at_flexmix_ml, abs=MAXIMUM_TOLERANCE)

    # 3. Same class curves, shares and variances after ordering the classes the same way.
    np.testing.assert_allclose(fit.coefficients, coefficients, atol=COEFFICIENT_TOLERANCE)
    np.testing.assert_allclose(fit.class_probabilities, priors, atol=PROPORTION_TOLERANCE)
    np.testing.assert_allclose(fit.residual_variance, ml_variance, rtol=VARIANCE_RELATIVE_TOLERANCE)
    assert fit.random_intercept_variance == pytest.approx(tau2, rel=VARIANCE_RELATIVE_TOLERANCE, abs=1e-8)

    # 4. Same parameter count, so flexmix's BIC (N = visits) is ours under the same convention.
    summary = summarise_fit(fit)
    assert fit.n_parameters == reference["df"]
    assert reference["nobs"] == fit.n_observations
    assert summary["bic_observations"] == pytest.approx(reference["bic"] - 2.0 * gap, abs=1e-6)


def visit_by_visit_log_likelihood(long_df, coefficients, priors, residual_variance, tau2=0.0, nodes=80):
    """Independent route: densities of single visits; a random intercept integrated by Gauss-Hermite quadrature."""
    long_df = long_df.sort_values(["patient_id", "month"])
    codes, _ = pd.factorize(long_df["patient_id"], sort=True)
    x = polynomial_design(long_df["years"].to_numpy(), DEGREE)
    y = long_df["nprs"].to_numpy()
    k = len(priors)
    if tau2 > 0:
        points, weights = np.polynomial.hermite_e.hermegauss(nodes)       # for a standard normal b / sqrt(tau2)
        b_values, log_w = np.sqrt(tau2) * points, np.log(weights / weights.sum())
    else:
        b_values, log_w = np.zeros(1), np.zeros(1)
    n_patients = codes.max() + 1
    per_class = np.empty((n_patients, k))
    for cls in range(k):
        mean = x @ coefficients[cls]
        logpdf = stats.norm.logpdf(y[:, None], mean[:, None] + b_values[None, :], np.sqrt(residual_variance[cls]))
        summed = np.zeros((n_patients, b_values.size))
        np.add.at(summed, codes, logpdf)
        per_class[:, cls] = np.log(np.exp(summed + log_w).sum(axis=1))
    joint = per_class + np.log(priors)
    return float(np.log(np.exp(joint).sum(axis=1)).sum())


@pytest.mark.parametrize("random_intercept", [False, True])
def test_double_programming_likelihood_by_visit_and_quadrature(random_intercept):
    long_df = simulated_long(120)
    fit = fit_trajectory_model(long_df, 3, degree=DEGREE, random_intercept=random_intercept,
                               class_specific_variance=not random_intercept, n_starts=10, seed=3)
    brute_force = visit_by_visit_log_likelihood(long_df, fit.coefficients, fit.class_probabilities,
                                                fit.residual_variance, fit.random_intercept_variance)
    # 80 Gauss-Hermite nodes integrate this normal-normal integrand to near machine precision.
    assert fit.log_likelihood == pytest.approx(brute_force, rel=1e-10, abs=1e-7)


def test_rejects_rows_without_an_outcome_being_counted():
    long_df = simulated_long(60)
    with_gaps = pd.concat([long_df, long_df.head(25).assign(nprs=np.nan)], ignore_index=True)
    assert prepare_trajectory_data(with_gaps).n_observations == len(long_df)
    a = fit_trajectory_model(long_df, 2, n_starts=6, n_final=2, seed=1)
    b = fit_trajectory_model(with_gaps, 2, n_starts=6, n_final=2, seed=1)
    assert a.log_likelihood == b.log_likelihood


# Censored-normal LCGA (no R reference installed here: flexmix has no censored family, lcmm is not packaged).
CENSORED_CURVES = ((2.0, -3.0, 1.5), (5.5, -1.5, 0.5), (9.0, 0.5, -0.3))


def censored_long(n_patients: int, seed: int = 8) -> pd.DataFrame:
    settings = TrajectorySimulationSettings(class_curves=CENSORED_CURVES, random_intercept_sd=0.0, residual_sd=1.5,
                                            integer_scale=False)
    long_df, _ = simulate_trajectory_cohort(n_patients, seed=seed, settings=settings)
    return long_df.assign(nprs=long_df["nprs"].clip(0.0, 10.0))


def censored_log_likelihood_by_visit(long_df, coefficients, priors, residual_variance):
    """Independent route: scipy's normal density, cdf and survival function visit by visit."""
    codes, _ = pd.factorize(long_df["patient_id"], sort=True)
    x = polynomial_design(long_df["years"].to_numpy(), DEGREE)
    y = long_df["nprs"].to_numpy()
    per_class = np.zeros((codes.max() + 1, len(priors)))
    for cls in range(len(priors)):
        mean, sd = x @ coefficients[cls], np.sqrt(residual_variance[cls])
        terms = np.where(y <= 0, stats.norm.logcdf(0, mean, sd),
                         np.where(y >= 10, stats.norm.logsf(10, mean, sd), stats.norm.logpdf(y, mean, sd)))
        np.add.at(per_class[:, cls], codes, terms)
    return float(np.log(np.exp(per_class + np.log(priors)).sum(axis=1)).sum())


def test_double_programming_censored_likelihood_and_maximum():
    long_df = censored_long(200)
    assert ((long_df["nprs"] == 0) | (long_df["nprs"] == 10)).mean() > 0.1, "too little censoring to test anything"
    fit = fit_censored_trajectory_model(long_df, 2, degree=DEGREE, class_specific_variance=True, n_starts=10, seed=4)
    by_visit = censored_log_likelihood_by_visit(long_df, fit.coefficients, fit.class_probabilities,
                                                fit.residual_variance)
    assert fit.log_likelihood == pytest.approx(by_visit, rel=1e-12, abs=1e-8)

    # A general-purpose optimiser started at the EM solution finds nothing higher: EM stopped at a maximum.
    def negative_loglik(theta):
        coefficients = theta[:6].reshape(2, 3)
        priors = np.array([1.0, np.exp(theta[6])]) / (1.0 + np.exp(theta[6]))
        return -censored_log_likelihood_by_visit(long_df, coefficients, priors, np.exp(theta[7:9]))

    theta0 = np.r_[fit.coefficients.ravel(), np.log(fit.class_probabilities[1] / fit.class_probabilities[0]),
                   np.log(fit.residual_variance)]
    polished = optimize.minimize(negative_loglik, theta0, method="BFGS", options={"gtol": 1e-6})
    assert -polished.fun - fit.log_likelihood < 1e-4


def test_double_programming_censored_model_without_censoring_is_normal_lcga():
    long_df = simulated_long(150)
    normal = fit_trajectory_model(long_df, 3, degree=DEGREE, class_specific_variance=True, n_starts=10, seed=4)
    censored = fit_censored_trajectory_model(long_df, 3, degree=DEGREE, class_specific_variance=True,
                                             bounds=(-100.0, 100.0), n_starts=10, seed=4)
    assert censored.log_likelihood == pytest.approx(normal.log_likelihood, abs=1e-5)
    np.testing.assert_allclose(censored.coefficients, normal.coefficients, atol=1e-4)


COMMITTED_K_VALUES, COMMITTED_STARTS = (1, 2, 3), 4


@pytest.fixture(scope="module", params=R_SOURCES)
def flexmix_on_committed_cohort(request):
    long_df = pain_long(load_cohort())[["patient_id", "years", "nprs"]]
    out = r_reference(FLEXMIX_SCRIPT, {"long": long_df}, request.param, "flexmix_committed_cohort",
                      packages=["flexmix", "mvtnorm"], timeout=240,
                      extra_args=["lcga_common_variance", str(DEGREE), ",".join(map(str, COMMITTED_K_VALUES)),
                                  str(COMMITTED_STARTS), "11", FLEXMIX_TOLERANCE, FLEXMIX_ITER_MAX])
    return long_df, out["fits"].set_index("k"), out["parameters"]


@pytest.mark.parametrize("k", COMMITTED_K_VALUES)
def test_double_programming_flexmix_on_the_committed_cohort(flexmix_on_committed_cohort, k):
    # The same checks on the book's own data: same likelihood at flexmix's estimates, same maximum, same curves.
    long_df, fits, parameters = flexmix_on_committed_cohort
    reference = fits.loc[k]
    data = prepare_trajectory_data(long_df, DEGREE)
    coefficients, priors, residual_variance, tau2 = flexmix_parameters(parameters, k)
    ll_at_flexmix, _ = log_likelihood_at(data, coefficients, priors, residual_variance, tau2)
    assert ll_at_flexmix == pytest.approx(reference["loglik"], abs=SAME_LIKELIHOOD_TOLERANCE)
    fit = our_fit(long_df, "lcga_common_variance", k)
    ml_variance = flexmix_variance_to_ml(residual_variance, "lcga_common_variance", data.n_observations, k)
    ll_at_flexmix_ml, _ = log_likelihood_at(data, coefficients, priors, ml_variance, tau2)
    assert fit.log_likelihood == pytest.approx(ll_at_flexmix_ml, abs=MAXIMUM_TOLERANCE)
    np.testing.assert_allclose(fit.coefficients, coefficients, atol=COEFFICIENT_TOLERANCE)
