# Guards against a trajectory analysis that fits something but not the truth: EM steps that lower the
# likelihood, probabilities that do not sum to 1, classes that do not match the simulated ones, or a
# class-count rule that fails to find the true K = 3 with the random-intercept model. Plain LCGA's known
# over-extraction on the same data is measured and shown as a warning, not asserted away.
import warnings

import numpy as np
import pytest

from support.known_truth_trajectories import (DEFAULT_CLASS_CURVES, DEFAULT_CLASS_SHARES,
                                              TrajectorySimulationSettings, simulate_trajectory_cohort)
from okapi.models.trajectories.agreement import adjusted_rand_index
from okapi.models.trajectories import (choose_number_of_classes, class_curve_table, fit_censored_trajectory_model,
                                       fit_trajectory_grid, fit_trajectory_model, log_likelihood_at,
                                       posterior_class_table, prepare_trajectory_data, summarise_fit)
from okapi.models.trajectories.censored import prepare_censored_data, run_censored_em
from okapi.models.trajectories.em import run_em
from okapi.models.trajectories.fit import initial_partitions, parameters_from_partition

# Random-intercept SD 0.6 (simulator default 0.8): with it the true 3-class solution clears the 0.7 entropy rule
# with a margin (0.81 at n = 3000, against 0.72 with SD 0.8), so the test checks the rule, not a coin flip.
SETTINGS = TrajectorySimulationSettings(random_intercept_sd=0.6)
# Rounding to integers adds ~1/12 to the residual variance: the oracle uses the variance of the recorded scores.
ORACLE_RESIDUAL_VARIANCE = SETTINGS.residual_sd ** 2 + 1.0 / 12.0
ARI_SHORTFALL_TOLERANCE = 0.03   # fitted classes may classify at most this much worse than the true parameters
MIN_ARI_LARGE_N = 0.6            # and in absolute terms; with these curves even the truth only reaches ~0.7


@pytest.fixture(scope="module")
def large_cohort():
    return simulate_trajectory_cohort(3000, seed=4242, settings=SETTINGS)


@pytest.fixture(scope="module")
def large_random_intercept_grid(large_cohort):
    return fit_trajectory_grid(large_cohort[0], random_intercept=True, n_starts=30, seed=11)


@pytest.mark.parametrize("random_intercept,class_specific_variance,accelerate", [
    (False, False, False), (False, True, False), (True, False, False), (False, True, True), (True, False, True)])
def test_invariants_em_never_lowers_the_likelihood(random_intercept, class_specific_variance, accelerate):
    long_df, _ = simulate_trajectory_cohort(200, seed=5, settings=SETTINGS)
    data = prepare_trajectory_data(long_df, degree=3)
    rng = np.random.default_rng(0)
    labels = initial_partitions(data, 4, 8, rng)
    start = parameters_from_partition(data, labels, 4, random_intercept, class_specific_variance, rng)
    *_, history = run_em(data, start, random_intercept, class_specific_variance, max_iterations=300,
                         keep_history=True, accelerate=accelerate)
    steps = np.diff(history, axis=0)
    # Allow only floating-point noise of summing ~2000 terms of size ~1e1.
    assert steps.min() >= -1e-9 * np.abs(history).max(), f"EM lowered the log-likelihood by {-steps.min():.3g}"
    assert (history[-1] - history[0] > 1.0).all(), "EM did not move: the invariant would hold vacuously"


@pytest.mark.parametrize("random_intercept", [False, True])
def test_invariants_probabilities_sum_to_one(random_intercept):
    long_df, _ = simulate_trajectory_cohort(329, seed=6, settings=SETTINGS)
    fit = fit_trajectory_model(long_df, 3, random_intercept=random_intercept, n_starts=10, seed=2)
    np.testing.assert_allclose(fit.posterior.sum(axis=1), 1.0, atol=1e-12)
    assert fit.class_probabilities.sum() == pytest.approx(1.0, abs=1e-12)
    table = posterior_class_table(fit)
    assert len(table) == fit.n_patients == long_df["patient_id"].nunique()
    np.testing.assert_allclose(table.filter(like="p_class_").sum(axis=1), 1.0, atol=1e-12)
    curves = class_curve_table(fit)
    shares = curves.drop_duplicates("trajectory_class")["class_share"]
    assert shares.sum() == pytest.approx(1.0, abs=1e-12)
    # At an EM fixed point the mixing proportions equal the posterior mean shares.
    np.testing.assert_allclose(shares.to_numpy(), fit.class_probabilities, atol=1e-4)
    assert (np.diff(curves.groupby("trajectory_class")["predicted_nprs"].mean()) > 0).all(), "classes not ordered"


def test_invariants_rerun_gives_identical_fit_table():
    long_df, _ = simulate_trajectory_cohort(150, seed=12, settings=SETTINGS)
    first = fit_trajectory_grid(long_df, k_values=(1, 2, 3), random_intercept=True, n_starts=10, seed=5)[0]
    second = fit_trajectory_grid(long_df, k_values=(1, 2, 3), random_intercept=True, n_starts=10, seed=5)[0]
    assert first.to_csv(float_format="%.17g") == second.to_csv(float_format="%.17g")


def oracle_posterior(long_df):
    """Posterior classes under the TRUE parameters: the best any estimator can classify these patients."""
    data = prepare_trajectory_data(long_df, degree=2)
    shares = np.asarray(DEFAULT_CLASS_SHARES) / np.sum(DEFAULT_CLASS_SHARES)
    _, posterior = log_likelihood_at(data, np.asarray(DEFAULT_CLASS_CURVES), shares,
                                     ORACLE_RESIDUAL_VARIANCE, SETTINGS.random_intercept_sd ** 2)
    return data.patient_ids, posterior.argmax(axis=1)


@pytest.mark.slow
def test_recovery_of_known_classes_at_large_n(large_cohort, large_random_intercept_grid):
    long_df, truth = large_cohort
    fit = large_random_intercept_grid[1][3]
    ids, oracle_classes = oracle_posterior(long_df)
    assert (fit.patient_ids == ids).all()
    ari = adjusted_rand_index(fit.posterior.argmax(axis=1), truth.loc[fit.patient_ids].to_numpy())
    oracle_ari = adjusted_rand_index(oracle_classes, truth.loc[ids].to_numpy())
    assert ari >= MIN_ARI_LARGE_N
    assert ari >= oracle_ari - ARI_SHORTFALL_TOLERANCE, f"ARI {ari:.3f} vs {oracle_ari:.3f} with the truth"
    # Class curves at months 0, 6, 12 and shares near the truth (n = 3000: standard errors ~0.05 points).
    months = np.array([0.0, 0.5, 1.0])
    design = months[:, None] ** np.arange(3)
    np.testing.assert_allclose(fit.coefficients @ design.T, np.asarray(DEFAULT_CLASS_CURVES) @ design.T, atol=0.25)
    realised_shares = truth.value_counts(normalize=True).sort_index().to_numpy()
    np.testing.assert_allclose(fit.class_probabilities, realised_shares, atol=0.03)
    assert fit.random_intercept_variance == pytest.approx(SETTINGS.random_intercept_sd ** 2, abs=0.08)


@pytest.mark.slow
def test_random_intercept_model_finds_the_true_number_of_classes(large_random_intercept_grid):
    table, fits = large_random_intercept_grid
    chosen, reason = choose_number_of_classes(table)
    assert chosen == 3, reason
    assert table.set_index("n_classes").loc[3, "best_replicated"]
    assert "K = 3" in reason


def test_plain_lcga_over_extraction_is_reported(large_cohort):
    """Plain LCGA on data with a within-class random intercept: measured and shown, not asserted either way."""
    table, _ = fit_trajectory_grid(large_cohort[0], random_intercept=False, n_starts=30, seed=11)
    chosen, reason = choose_number_of_classes(table)
    assert set(table["n_classes"]) == {1, 2, 3, 4, 5} and chosen in table["n_classes"].to_list()
    assert len(reason) > 20
    bic = table.set_index("n_classes")["bic"].round(1).to_dict()
    if chosen != 3:
        warnings.warn(f"plain LCGA chose K = {chosen} on 3-class data with random intercepts (over-extraction); "
                      f"BIC by K: {bic}", UserWarning)


def test_small_cohort_choice_is_reported():
    """n = 329 like OKAPI: both models' choices are shown; the small mild class may not be detectable."""
    long_df, truth = simulate_trajectory_cohort(329, seed=4242, settings=SETTINGS)
    found = {}
    for random_intercept in (False, True):
        table, fits = fit_trajectory_grid(long_df, random_intercept=random_intercept, n_starts=30, seed=11)
        chosen, _ = choose_number_of_classes(table)
        ari = adjusted_rand_index(fits[3].posterior.argmax(axis=1), truth.loc[fits[3].patient_ids].to_numpy())
        found["random-intercept" if random_intercept else "plain"] = (chosen, round(ari, 3))
        assert summarise_fit(fits[3])["n_patients"] == 329
    warnings.warn(f"n = 329, true K = 3: chosen K and ARI of the K = 3 fit by model: {found}", UserWarning)


CENSORED_SETTINGS = TrajectorySimulationSettings(class_curves=((2.0, -3.0, 1.5), (5.5, -1.5, 0.5), (9.0, 0.5, -0.3)),
                                                 random_intercept_sd=0.0, residual_sd=1.5, integer_scale=False)


def test_invariants_censored_em_never_lowers_the_likelihood():
    long_df, _ = simulate_trajectory_cohort(200, seed=5, settings=CENSORED_SETTINGS)
    long_df["nprs"] = long_df["nprs"].clip(0, 10)
    rng = np.random.default_rng(0)
    labels = initial_partitions(prepare_trajectory_data(long_df), 3, 6, rng)
    start = parameters_from_partition(prepare_trajectory_data(long_df), labels, 3, False, True, rng)
    *_, history = run_censored_em(prepare_censored_data(long_df), start, True, max_iterations=200, keep_history=True)
    assert np.diff(history, axis=0).min() >= -1e-9 * np.abs(history).max()
    assert (history[-1] - history[0] > 1.0).all()


def test_recovery_censored_model_undoes_the_ceiling_bias():
    """Severe class near 10: the censored model recovers its curve, the normal model is pulled down by the ceiling."""
    long_df, truth = simulate_trajectory_cohort(1000, seed=9, settings=CENSORED_SETTINGS)
    long_df["nprs"] = long_df["nprs"].clip(0, 10)
    censored = fit_censored_trajectory_model(long_df, 3, n_starts=10, seed=1)
    normal = fit_trajectory_model(long_df, 3, n_starts=10, seed=1)
    design = np.array([0.0, 0.5, 1.0])[:, None] ** np.arange(3)
    true_curves = np.asarray(CENSORED_SETTINGS.class_curves) @ design.T
    censored_error = np.abs(censored.coefficients @ design.T - true_curves)
    normal_error = np.abs(normal.coefficients @ design.T - true_curves)
    assert censored_error.max() < 0.3
    assert censored_error[2].max() < normal_error[2].max(), "no gain over the normal model at the ceiling"
    assert censored.residual_variance[0] == pytest.approx(CENSORED_SETTINGS.residual_sd ** 2, rel=0.1)
    ari = adjusted_rand_index(censored.posterior.argmax(axis=1), truth.loc[censored.patient_ids].to_numpy())
    assert ari > 0.8
