# Guards against a mediation analysis that is wrong in ways a summary table hides: the wrong regression behind a
# path (missing covariate, swapped roles), a vectorised bootstrap that resamples rows incorrectly or mis-weights them,
# interval endpoints taken from the wrong quantiles, the exposure-unit slip of statsmodels' Mediation, and a wrong
# closed form for the Imai-Keele-Yamamoto sensitivity curve. Second routes: R lm/boot, brute force, known truth.
import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from okapi.models.mediation import (
                                    PATHS,
                                    bootstrap_indices,
                                    bootstrap_mediation,
                                    indirect_effect_sensitivity,
                                    mediation_paths,
                                    statsmodels_mediation,
                                    )
from okapi.paths import REPO_ROOT
from support.rbridge import R_SOURCES, r_reference
from support.known_truth import simulate_mediation_data

MEDIATION_SCRIPT = REPO_ROOT / "tests" / "r" / "mediation_reference.R"
N_BOOT = 5000
LEVEL = 0.95


def quantile_tolerance(boot_se: float, prob: float, n_boot: int, n_se: float = 4.0) -> float:
    """n_se Monte Carlo SEs of the difference of two independent bootstrap quantile estimates.

    The SE of a sample quantile is sqrt(p (1 - p) / B) / f(q); for a near-normal bootstrap distribution with SD s,
    f(q) = phi(z_p) / s. Two independent runs (ours, R's) add variances, hence sqrt(2). With B = 5000 and p = 0.025
    this is about 0.21 s.
    """
    one_run = np.sqrt(prob * (1 - prob) / n_boot) / stats.norm.pdf(stats.norm.ppf(prob)) * boot_se
    return n_se * np.sqrt(2) * one_run


@pytest.fixture(scope="module", params=R_SOURCES)
def r_boot_reference(request):
    data, _ = simulate_mediation_data(n=329, seed=77, n_covariates=2, x_scale=1000.0)
    frame = pd.DataFrame({"x": data["x"], "m": data["m"], "y": data["y"], "age": data["covariates"][:, 0],
                          "sex": data["covariates"][:, 1]})
    given = bootstrap_indices(len(frame), 300, seed=11)
    out = r_reference(
        MEDIATION_SCRIPT,
        {
            "data": frame,
            "settings": pd.DataFrame({"n_boot": [N_BOOT], "seed": [2023], "level": [LEVEL]}),
            "indices": pd.DataFrame(given),
        },
        request.param,
        "mediation_boot",
        packages=["boot"],
        timeout=240,
    )
    return frame, given, out


def _arrays(frame):
    return frame["x"], frame["m"], frame["y"], frame[["age", "sex"]].to_numpy()


def test_double_programming_point_estimates_match_r_lm(r_boot_reference):
    frame, _, out = r_boot_reference
    ours = mediation_paths(*_arrays(frame))
    r_point = out["point"].set_index("path").loc[list(PATHS), "estimate"].to_numpy()
    np.testing.assert_allclose(ours, r_point, rtol=1e-8)


def test_double_programming_paths_on_the_same_resamples_match_r(r_boot_reference):
    # Same resampled patients on both sides, so any difference is in the vectorised weighting, not Monte Carlo.
    frame, given, out = r_boot_reference
    ours = mediation_paths(*_arrays(frame), indices=given)
    np.testing.assert_allclose(ours, out["given"][list(PATHS)].to_numpy(), rtol=1e-8)


def test_double_programming_bootstrap_intervals_match_r_boot_within_monte_carlo_error(r_boot_reference):
    frame, _, out = r_boot_reference
    ours = bootstrap_mediation(*_arrays(frame), n_boot=N_BOOT, seed=99, level=LEVEL).estimates.loc["indirect"]
    r_boot = out["boot"].iloc[0]
    assert ours["estimate"] == pytest.approx(r_boot["t0"], rel=1e-8)
    # SD of a bootstrap SD estimate is about s / sqrt(2B) per run: 4 such SEs of a difference is about 5.7%.
    assert ours["boot_se"] == pytest.approx(r_boot["boot_se"], rel=4 * np.sqrt(2) / np.sqrt(2 * N_BOOT))
    alpha = 1 - LEVEL
    for ends, prob in ((("perc_low", "bc_low"), alpha / 2), (("perc_high", "bc_high"), 1 - alpha / 2)):
        tolerance = quantile_tolerance(r_boot["boot_se"], prob, N_BOOT)
        for end in ends:
            assert abs(ours[end] - r_boot[end]) < tolerance, end


def test_product_of_coefficients_decomposes_total_effect_with_covariates():
    data, _ = simulate_mediation_data(n=200, seed=3, n_covariates=3)
    a, b, c_prime, c, indirect, proportion = mediation_paths(data["x"], data["m"], data["y"], data["covariates"])
    assert c == pytest.approx(c_prime + a * b, rel=1e-10)
    assert proportion == pytest.approx(indirect / c, rel=1e-12)


def test_estimates_near_known_truth_in_a_large_sample():
    data, truth = simulate_mediation_data(n=20000, seed=8, n_covariates=1, x_scale=1000.0)
    result = bootstrap_mediation(data["x"], data["m"], data["y"], data["covariates"], n_boot=500, seed=1)
    expected = {"a": truth.a, "b": truth.b, "c_prime": truth.c_prime, "c": truth.total, "indirect": truth.indirect}
    for path, value in expected.items():
        # 4 bootstrap SEs (a 500-resample SE is itself within about 13% at 4 of its own SEs).
        row = result.estimates.loc[path]
        assert abs(row["estimate"] - value) < 4 * row["boot_se"], path
    for path in ("a", "b", "c_prime", "c"):
        assert result.ols.loc[path, "estimate"] == pytest.approx(result.estimates.loc[path, "estimate"], rel=1e-9)


def test_percentile_interval_for_indirect_effect_covers_truth_near_95_percent():
    covered = []
    for replicate in range(200):
        data, truth = simulate_mediation_data(n=329, seed=10_000 + replicate, a=0.3, b=0.3)
        est = bootstrap_mediation(data["x"], data["m"], data["y"], n_boot=1000, seed=replicate).estimates
        covered.append(est.loc["indirect", "perc_low"] <= truth.indirect <= est.loc["indirect", "perc_high"])
    # 200 replicates: binomial SE of a 95% coverage is 0.0154; band = 0.95 +/- 3 SE.
    assert 0.904 <= np.mean(covered) <= 0.996


def test_statsmodels_mediation_route_agrees_on_point_estimate_per_exposure_unit():
    data, _ = simulate_mediation_data(n=329, seed=21, x_scale=1000.0)
    n_rep = 400
    table = statsmodels_mediation(data["x"], data["m"], data["y"], exposure_unit=1000.0, n_rep=n_rep, seed=5)
    ours = mediation_paths(data["x"], data["m"], data["y"])
    acme = table.loc["ACME (average)"]
    # Its estimate is a mean over n_rep simulated draws: allow 4 Monte Carlo SEs (draw SD from the CI width).
    mc_se = (acme["Upper CI bound"] - acme["Lower CI bound"]) / (2 * 1.96) / np.sqrt(n_rep)
    assert abs(acme["Estimate"] - ours[4] * 1000.0) < 4 * mc_se
    total = table.loc["Total effect"]
    assert abs(total["Estimate"] - ours[3] * 1000.0) < 4 * (total["Upper CI bound"] - total["Lower CI bound"]) / (
        2 * 1.96
    ) / np.sqrt(n_rep)


def test_sensitivity_curve_equals_product_at_rho_zero_and_vanishes_at_rho_tilde():
    data, _ = simulate_mediation_data(n=329, seed=31, n_covariates=2)
    curve = indirect_effect_sensitivity(data["x"], data["m"], data["y"], data["covariates"])
    indirect = mediation_paths(data["x"], data["m"], data["y"], data["covariates"])[4]
    assert curve.at(0.0) == pytest.approx(indirect, rel=1e-10)
    assert curve.at(curve.rho_at_zero) == pytest.approx(0.0, abs=1e-12)
    # Sign change across rho_at_zero, monotone decreasing in rho (for a positive a).
    assert np.all(np.diff(curve.indirect) < 0)


def _brute_force_indirect_at_rho(x, m, y, rho):
    """Maximise the joint normal likelihood of (m, y) given x with corr(errors) fixed at rho; return a * b."""
    def negloglik(theta):
        a0, a, c0, c_prime, b, log_s2, log_s3 = theta
        e2 = m - a0 - a * x
        e3 = y - c0 - c_prime * x - b * m
        s2, s3 = np.exp(log_s2), np.exp(log_s3)
        u, v = e2 / s2, e3 / s3
        quad = (u**2 - 2 * rho * u * v + v**2) / (1 - rho**2)
        return np.sum(log_s2 + log_s3 + 0.5 * np.log(1 - rho**2) + 0.5 * quad)

    start = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    fitted = optimize.minimize(negloglik, start, method="BFGS", options={"gtol": 1e-9, "maxiter": 5000})
    return fitted.x[1] * fitted.x[4]


@pytest.mark.parametrize("rho", [-0.5, 0.2, 0.6])
def test_sensitivity_closed_form_matches_brute_force_likelihood(rho):
    data, _ = simulate_mediation_data(n=400, seed=41)
    curve = indirect_effect_sensitivity(data["x"], data["m"], data["y"], rho=np.array([rho]))
    brute = _brute_force_indirect_at_rho(data["x"], data["m"], data["y"], rho)
    assert curve.indirect[0] == pytest.approx(brute, rel=1e-5)


def test_sensitivity_at_true_rho_recovers_the_indirect_effect_that_the_naive_estimate_misses():
    true_rho, corrected, naive = 0.4, [], []
    for replicate in range(200):
        data, truth = simulate_mediation_data(n=329, seed=50_000 + replicate, rho=true_rho)
        curve = indirect_effect_sensitivity(data["x"], data["m"], data["y"], rho=np.array([0.0, true_rho]))
        naive.append(curve.indirect[0])
        corrected.append(curve.indirect[1])
    corrected, naive = np.array(corrected), np.array(naive)
    mc_se = corrected.std(ddof=1) / np.sqrt(corrected.size)
    # Mean of 200 replicates within 4 Monte Carlo SEs of truth; the naive mean must be far off (confounded b).
    assert abs(corrected.mean() - truth.indirect) < 4 * mc_se
    assert abs(naive.mean() - truth.indirect) > 10 * mc_se


def test_bootstrap_is_deterministic_and_rejects_missing_values():
    data, _ = simulate_mediation_data(n=100, seed=61)
    first = bootstrap_mediation(data["x"], data["m"], data["y"], n_boot=300, seed=4)
    second = bootstrap_mediation(data["x"], data["m"], data["y"], n_boot=300, seed=4)
    np.testing.assert_array_equal(first.replicates, second.replicates)
    y = data["y"].copy()
    y[3] = np.nan
    with pytest.raises(ValueError):
        bootstrap_mediation(data["x"], data["m"], y, n_boot=10)
