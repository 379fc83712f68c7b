# Guards the missing-data sensitivity section against: wrong pooling (Rubin's rules, Barnard-Rubin df), a delta
# applied to the wrong months (intermittent gaps, observed scores), imputations that disagree with the direct-
# likelihood fit they should reproduce under MAR, a tipping analysis that points the wrong way or misses a known
# MNAR shift, tipping points that are not where the CI touches zero, a per-year/per-month slip, and results that
# depend on row order or leak small counts in real-data mode.
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from okapi.models import lmm_batch
from okapi.data.loading import REAL, load_cohort
from okapi.models.mixed_models import fit_pain_mixed_model
from okapi.sensitivity.verdicts import CONTRADICTED, SUPPORTED
from okapi.sensitivity.missing import (_subset_fit, complete_case_sets, missing_data_from_long,
                                       run_missing_sensitivity, tipping_holds, verdicts)
from okapi.models.imputation import (MONTHS, YEARS, draw_imputations, first_root, margin, pain_grid,
                                     pool, pooled_over, shifted)
from okapi.plan import SensitivitySettings
from support.known_truth import simulate_pain_panel

# MI under MAR against the direct-likelihood fit of the same model: the MI estimate carries Monte Carlo error
# sqrt(B / m) around its infinite-m value, which matches the likelihood estimate up to O(1/n); 3 Monte Carlo SEs.
MC_SES = 3.0
# Rubin's total SE against the likelihood SE: B is estimated on m - 1 df (relative SE of sqrt(T) about 5-10% at
# m = 20), so the ratio must lie within 0.8 to 1.25.
SE_RATIO = (0.8, 1.25)


@pytest.fixture(scope="module")
def cohort_results():
    return run_missing_sensitivity(load_cohort(), SensitivitySettings())


def analysis_set() -> pd.DataFrame:
    from okapi.data.derive import pain_long
    long_df = pain_long(load_cohort())
    data = long_df.loc[long_df["hads_d_baseline"].notna()].copy()
    data["depressed"] = data["depressed"].astype(bool)
    return data


def test_rubin_rules_match_a_hand_computed_case():
    # Q = 1, 2, 3.5; U = 1, 1.2, 0.9; m = 3; complete-data df 48. By hand: Q-bar = 13/6, U-bar = 3.1/3,
    # B = 19/12, T = U-bar + (4/3) B = 3.14444, lambda = (4/3) B / T = 0.671378, df_old = 2 / lambda^2 = 4.43706,
    # df_obs = (49/51) 48 (1 - lambda) = 15.15497, df = 1 / (1/df_old + 1/df_obs) = 3.43220.
    pooled = pool(np.array([1.0, 2.0, 3.5]), np.array([1.0, 1.2, 0.9]), 48)
    assert float(pooled.estimate) == pytest.approx(13 / 6, rel=1e-12)
    assert float(pooled.within) == pytest.approx(3.1 / 3, rel=1e-12)
    assert float(pooled.between) == pytest.approx(19 / 12, rel=1e-12)
    assert float(pooled.total) == pytest.approx(3.144444, rel=1e-6)
    assert float(pooled.missing_information) == pytest.approx(0.671378, rel=1e-5)
    assert float(pooled.df) == pytest.approx(3.43220, rel=1e-5)
    multiplier = float(pooled.ci_high - pooled.estimate) / np.sqrt(3.144444)
    assert 2.776 < multiplier < 3.182  # between the printed t(0.975) quantiles for 4 and 3 df
    assert multiplier == pytest.approx(stats.t.ppf(0.975, 3.43220), rel=1e-5)


def test_rubin_rules_without_between_variance_use_the_complete_data_df():
    pooled = pool(np.full(5, 0.7), np.full(5, 0.04), 100)
    assert float(pooled.total) == pytest.approx(0.04)
    assert float(pooled.df) == pytest.approx(101 / 103 * 100)


def small_grid() -> pd.DataFrame:
    # A: seen at 0, 1, 3 (gap at 2, dropout after 3), depressed; B: seen at 0 and 12 only, not depressed.
    rows = [("A", m, 5.0 + m, True) for m in (0, 1, 3)] + [("B", m, 4.0, False) for m in (0, 12)]
    frame = pd.DataFrame(rows, columns=["patient_id", "month", "nprs", "depressed"])
    return frame.assign(years=frame["month"] / 12)


def test_delta_shifts_only_the_months_after_the_last_observed_score():
    grid = pain_grid(small_grid())
    assert grid.last_observed.tolist() == [3, 12]
    assert np.nonzero(grid.after_dropout[0])[0].tolist() == list(range(4, 13))
    assert not grid.after_dropout[1].any()  # B answered at month 12: every gap of B is intermittent
    assert np.nonzero(grid.intermittent[0])[0].tolist() == [2]
    completed = np.where(grid.observed, grid.nprs, 0.0)[None]
    moved = shifted(completed, grid, delta_not_depressed=1.0, delta_depressed=2.5) - completed
    assert np.all(moved[0, 0, 4:] == 2.5) and np.all(moved[0, 0, :4] == 0)
    assert np.all(moved[0, 1] == 0)


def test_imputation_keeps_observed_scores_and_fills_every_missing_one():
    grid = pain_grid(analysis_set())
    imputations = draw_imputations(grid, 3, seed=1)
    assert np.array_equal(imputations.completed[:, grid.observed], np.repeat(grid.nprs[grid.observed][None], 3, 0))
    assert np.all(np.isfinite(imputations.completed))
    assert not np.allclose(imputations.completed[0], imputations.completed[1])  # separate draws


def test_double_programming_mi_under_mar_agrees_with_direct_likelihood(cohort_results):
    r, m = cohort_results, cohort_results.n_imputations
    checks = ((r.mi_interaction, r.dl_interaction), (r.mi_decline, r.dl_decline_from_imputation_model))
    for mi, dl in checks:
        monte_carlo_se = np.sqrt(float(mi.between) / m)
        assert abs(float(mi.estimate) - dl.estimate) < MC_SES * monte_carlo_se
        dl_se = (dl.ci_high - dl.ci_low) / (2 * 1.959964)
        assert SE_RATIO[0] < float(mi.se) / dl_se < SE_RATIO[1]


def test_interaction_is_per_month_as_in_the_depression_chapter(cohort_results):
    # A second coding: time in months in the fixed part (statsmodels), read directly per month.
    fit = fit_pain_mixed_model(analysis_set(), "nprs ~ month * depressed", "~years")
    assert cohort_results.dl_interaction.estimate == pytest.approx(fit.fixed.loc["month:depressed", "estimate"],
                                                                   rel=1e-3)
    assert cohort_results.dl_interaction.estimate < 0 and cohort_results.dl_decline.estimate < 0


def mnar_panel(delta_not: float, delta_dep: float, seed: int = 31):
    """Complete simulated panels, MCAR dropout, then the true post-dropout scores shifted by a known delta per
    group: the pattern-mixture truth the tipping analysis assumes. Returns the observed long data and the
    full-data estimates (the analysis with nothing missing)."""
    full, _ = simulate_pain_panel(n_patients=400, seed=seed, visit_missing=0.0, monthly_dropout=1e-12)
    full = full.sort_values(["patient_id", "month"])
    ids = full["patient_id"].unique()
    y = full["nprs"].to_numpy().reshape(len(ids), 13)
    depressed = full.groupby("patient_id", sort=True)["depressed"].first().to_numpy()
    dropout = np.random.default_rng(seed).geometric(0.08, size=len(ids))  # first month missed
    after = MONTHS[None, :] >= dropout[:, None]
    y_true = y + after * np.where(depressed == 1, delta_dep, delta_not)[:, None]
    truth = {"decline": lmm_batch.fit_complete_grid(y_true, YEARS, np.ones((len(ids), 1))).coefficients[0, 1],
             "interaction": lmm_batch.fit_complete_grid(y_true, YEARS, np.column_stack(
                 [np.ones(len(ids)), depressed])).coefficients[1, 1] / 12}
    observed = full.loc[~after.reshape(-1)].assign(depressed=lambda f: f["depressed"].astype(bool))
    return observed, truth


def test_known_truth_mnar_shift_is_recovered_and_mar_is_biased_the_predicted_way():
    delta_not, delta_dep = 0.5, 2.0
    observed, truth = mnar_panel(delta_not, delta_dep)
    grid = pain_grid(observed)
    imputations = draw_imputations(grid, 10, seed=5)
    decline, interaction = pooled_over(imputations, grid, [[0.0, 0.0], [delta_not, delta_dep]])
    for pooled, key in ((decline, "decline"), (interaction, "interaction")):
        mar, at_truth = float(pooled.estimate[0]), float(pooled.estimate[1])
        se = float(pooled.se[1])
        assert abs(at_truth - truth[key]) < 3 * se  # the right delta recovers the full-data answer
        # Higher pain after dropout flattens the decline, more so for depressed dropouts: MAR, blind to it,
        # must come out below the truth (a steeper decline, a more negative interaction) by a clear margin.
        assert truth[key] - mar > 2 * float(pooled.se[0])


def test_tipping_points_are_where_the_ci_touches_zero(cohort_results):
    r = cohort_results
    grid = pain_grid(analysis_set())
    imputations = draw_imputations(grid, r.n_imputations, SensitivitySettings().seed)
    direction = np.sign(r.dl_decline.estimate)
    decline = pooled_over(imputations, grid, [[r.decline_tipping] * 2])[0]
    assert abs(float(margin(decline, direction)[0])) < 1e-5
    below = r.common.loc[r.common["delta"] < r.decline_tipping, "decline_margin"]
    assert (below > 0).all()
    pair = [0.0, r.interaction_tipping] if r.depressed_shifted else [r.interaction_tipping, 0.0]
    assert r.depressed_shifted == (r.dl_interaction.estimate < 0)  # worse pain erodes a steeper decline
    interaction = pooled_over(imputations, grid, [pair])[1]
    assert abs(float(margin(interaction, np.sign(r.dl_interaction.estimate))[0])) < 1e-5


def test_tipping_search_reports_beyond_the_grid_and_already_overturned():
    deltas = np.array([0.0, 1.0, 2.0])
    assert np.isnan(first_root(deltas, np.array([3.0, 2.0, 1.0]), lambda d: 3 - d))
    assert first_root(deltas, np.array([-1.0, -2.0, -3.0]), lambda d: -1 - d) == 0.0
    assert first_root(deltas, np.array([1.5, 0.5, -0.5]), lambda d: 1.5 - d) == pytest.approx(1.5, abs=1e-6)


def test_verdicts_follow_the_stated_rule(cohort_results):
    assert tipping_holds(float("nan"), 0.85) and tipping_holds(1.2, 0.85) and not tipping_holds(0.5, 0.85)
    r = cohort_results
    outcomes = [v.outcome for v in verdicts(r)]
    expected_tipping = [tipping_holds(r.decline_tipping, r.benchmark), tipping_holds(r.interaction_tipping,
                                                                                     r.benchmark)]
    assert outcomes[1] == (SUPPORTED if expected_tipping[0] else CONTRADICTED)
    assert outcomes[3] == (SUPPORTED if expected_tipping[1] else CONTRADICTED)
    assert [v.conclusion for v in verdicts(r)] == ["pain_decline"] * 2 + ["depression_interaction"] * 2


def test_complete_case_definitions():
    data = analysis_set()
    sets = complete_case_sets(data)
    counts = data.groupby("patient_id")["month"].agg(["size", lambda m: {0, 12} <= set(m)])
    assert set(sets["all_months"]) == set(counts.index[counts["size"] == 13])
    assert set(sets["endpoints"]) == set(counts.index[counts.iloc[:, 1]])
    assert set(sets["all_months"]) <= set(sets["endpoints"])


def test_results_do_not_depend_on_row_order_and_follow_the_seed():
    data = analysis_set()
    settings = SensitivitySettings(n_imputations=4, tipping_deltas=(0.0, 1.0, 2.0))
    a = missing_data_from_long(data, settings)
    b = missing_data_from_long(data.sample(frac=1.0, random_state=2), settings)
    pd.testing.assert_frame_equal(a.common, b.common)
    assert a.decline_tipping == b.decline_tipping
    c = missing_data_from_long(data, SensitivitySettings(n_imputations=4, tipping_deltas=(0.0, 1.0, 2.0), seed=9))
    assert float(c.mi_decline.estimate) != float(a.mi_decline.estimate)


def test_real_mode_does_not_fit_or_show_a_handful_of_patients():
    data = analysis_set()
    few = data.loc[data["patient_id"].isin(data["patient_id"].unique()[:3])]
    combination, note = _subset_fit(few, "nprs ~ years", REAL)
    assert combination is None and "fewer than" in note


def test_a_positive_interaction_is_eroded_by_shifting_the_dropouts_without_depression():
    from support.known_truth import PanelTruth
    data, _ = simulate_pain_panel(n_patients=300, seed=12, monthly_dropout=0.06,
                                  truth=PanelTruth(6.5, -0.9, 0.3, 0.6, 1.3, 0.8, -0.3, 1.0))
    results = missing_data_from_long(data.assign(depressed=data["depressed"].astype(bool)),
                                     SensitivitySettings(n_imputations=4, tipping_deltas=(0.0, 1.0, 2.0, 3.0)))
    assert results.dl_interaction.estimate > 0 and not results.depressed_shifted
    grid = pain_grid(data)
    imputations = draw_imputations(grid, 4, SensitivitySettings().seed)
    interaction = pooled_over(imputations, grid, [[results.interaction_tipping, 0.0]])[1]
    assert abs(float(margin(interaction, 1.0)[0])) < 1e-5
