# Guards the sweep of the synthetic generator's assumed parameters against: statistics rebuilt from the generator's
# arrays that differ from the chapters' own estimators on the same cohort; common random numbers assumed instead of
# checked, or a paired shift that misses a known effect; bookkeeping that lets a parameter the analyses never see move
# a conclusion or hands a cohort's results to another run; decisions and verdicts that do not follow their stated
# rules; and a real extract for which the section pretends to apply.
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from matplotlib.figure import Figure

from okapi.sensitivity import assumptions as sweep
from okapi.sensitivity import assumptions_cohorts as cohorts
from okapi.sensitivity import assumptions_report as report
from okapi.synthetic.parameters import parameter
from okapi.data.loading import load_cohort

from okapi.data.derive import monthly_pairs, pain_long
from okapi.models.mediation import bootstrap_mediation
from okapi.chapters.mediation import mediation_dataset, pearson_correlation
from okapi.models.mixed_models import fit_pain_mixed_model, linear_combination

from okapi.sensitivity.verdicts import CONCLUSIONS, NOT_ASSESSABLE, CONTRADICTED, SUPPORTED
from okapi.sensitivity.assumptions_figures import MEDIATION, PAIN_COURSE, tornado_figure

from okapi.models.trajectories import prepare_trajectory_data
from okapi.chapters.trajectories import choose_model, fit_models
from okapi.plan import LINEAR_GROUP, LINEAR_TIME, SYNTHETIC_SEED, SensitivitySettings

TINY = SensitivitySettings(sweep_replicates=2, sweep_default_cohorts=3, sweep_trajectory_starts=4,
                           sweep_trajectory_final=2, sweep_population_patients=20_000,
                           sweep_population_default_draws=2)


class _Extract:
    def __init__(self, mode):
        self.mode = mode


@pytest.fixture(scope="module")
def tiny_sweep():
    return sweep.run_assumptions_sensitivity(_Extract("synthetic"), TINY, parameters=["opioid_share",
                                                                                      "pain_per_gram_received"])


def test_double_programming_statistics_from_arrays_equal_the_chapters_on_the_committed_cohort():
    inputs = cohorts.simulate_inputs(329, SYNTHETIC_SEED)
    cohort = load_cohort()
    book_long, mine = pain_long(cohort), cohorts.pain_long_from_inputs(inputs)
    for column in ("patient_id", "month", "nprs"):
        assert list(book_long[column]) == list(mine[column])
    assert np.array_equal(book_long["hads_d_baseline"].to_numpy(float, na_value=np.nan),
                          mine["hads_d_baseline"].to_numpy(float), equal_nan=True)

    # Mixed models: the sweep's fast fit against the chapters' statsmodels fit on the chapters' own data frame.
    pain = cohorts.analyse_pain(inputs, 10, 3)
    book_slope = linear_combination(fit_pain_mixed_model(book_long, LINEAR_TIME), {"years": 1.0})
    assert pain["pain_decline"] == pytest.approx((book_slope.estimate, book_slope.ci_low, book_slope.ci_high),
                                                 abs=1e-3)
    with_hads = book_long[book_long["hads_d_baseline"].notna()].assign(
        depressed=lambda f: f["depressed"].astype(bool))
    book_interaction = linear_combination(fit_pain_mixed_model(with_hads, LINEAR_GROUP), {"years:depressed": 1 / 12})
    assert cohorts.analyse_depression(inputs)["depression_interaction"] == pytest.approx(
        (book_interaction.estimate, book_interaction.ci_low, book_interaction.ci_high), abs=1e-4)

    # Mediation: r (R9) and path b (R11) as the mediation chapter computes them; anxiety path against statsmodels.
    frame, _ = mediation_dataset(cohort)
    mediation = cohorts.analyse_mediation(inputs)
    pairs = monthly_pairs(cohort)
    r = pearson_correlation(pairs["dose_g"], pairs["diminution"])
    assert mediation["dose_not"] == pytest.approx((r.r, r.ci_low, r.ci_high), abs=1e-12)
    used = frame[frame["analysed"]]
    b = bootstrap_mediation(used["dose_g"], used["depressed"], used["diminution_per_month"], n_boot=10).ols.loc["b"]
    assert mediation["depression_mediates"] == pytest.approx((b["estimate"], b["ci_low"], b["ci_high"]), abs=1e-12)
    # frame is sorted by patient_id (P0001...), which is the generator's order of the arrays
    both = frame.assign(hads_a=inputs.hads_a).query("analysed and hads_a == hads_a")
    both = both.assign(anxious=(both["hads_a"] > 7).astype(float))
    ols = sm.OLS(both["diminution_per_month"], sm.add_constant(both[["dose_g", "depressed", "anxious"]])).fit()
    assert mediation["anxiety_not"] == pytest.approx((ols.params["anxious"], *ols.conf_int().loc["anxious"]),
                                                     abs=1e-12)

    # Trajectories: the same sufficient statistics, and the chapter's choice of K by its own code path.
    book_data, my_data = prepare_trajectory_data(book_long), prepare_trajectory_data(mine)
    assert np.array_equal(book_data.xty, my_data.xty) and np.array_equal(book_data.yty, my_data.yty)
    models = fit_models(book_long)
    assert cohorts.chosen_number_of_classes(mine) == models[choose_model(models)].chosen_k


# A generator inside the pain model's assumptions: straight class courses, dropout unrelated to pain, levels away
# from the 0 and 10 bounds (rounding and clipping at the bounds would attenuate any slope difference).
WELL_SPECIFIED = {"pain_time_constant_months": (1e6, 1e6, 1e6), "dropout_log_odds_per_nprs_point": 0.0,
                  "pain_baseline_level": 5.0, "pain_m0_class_offsets": (-1.0, 0.0, 0.5)}


def test_known_shift_of_the_depression_slope_is_recovered_with_common_random_numbers():
    # slope_shift_depressed is the difference in true slope per month between the two groups; setting it to 0 moves
    # the time x depression interaction per year by -12 x its value, on the very same patients (common random
    # numbers). Paired noise at 1,000 patients: SD 0.015 per cohort (6 seeds), so 0.03 is about 3.5 SD of a
    # 3-cohort mean; a per-month/per-year mix-up misses by 11/12 of the shift, 0.36.
    value = parameter("slope_shift_depressed").value
    shifts = []
    for seed in range(3):
        fits = []
        for shift in (value, 0.0):
            frame = cohorts.pain_long_from_inputs(
                cohorts.simulate_inputs(1000, seed, {**WELL_SPECIFIED, "slope_shift_depressed": shift}))
            frame = frame[frame["hads_d_baseline"].notna()]
            fits.append(cohorts._fit_pain_model(frame, LINEAR_GROUP)[0].fixed.loc["years:depressed", "estimate"])
        shifts.append(fits[1] - fits[0])
    assert np.mean(shifts) == pytest.approx(-12 * value, abs=0.03)


def test_common_random_numbers_are_checked_not_assumed():
    assert cohorts.shifted_streams("centre_size_concentration", (0.5, 20.0), 329, 1) == ("centres",)
    assert cohorts.shifted_streams("pain_residual_sd", (0.7, 1.3), 329, 1) == ()
    # Where no stream shifts, a parameter of the pain residuals leaves everything drawn before them identical (the
    # baseline questionnaires); pain moves, and with it who is re-treated, so the doses move too.
    low, high = (cohorts.simulate_inputs(329, 1, {"pain_residual_sd": v}) for v in (0.7, 1.3))
    assert cohorts.changed_inputs(low, high) == {"nprs", "dose_g", "dose_month_g"}
    # ... unless neither re-treatment nor dropout follows pain: then the doses stay put
    pain_blind = {"retreatment_log_rate_per_nprs_point": 0.0, "dropout_log_odds_per_nprs_point": 0.0}
    low, high = (cohorts.simulate_inputs(329, 1, {**pain_blind, "pain_residual_sd": v}) for v in (0.7, 1.3))
    assert cohorts.changed_inputs(low, high) == {"nprs"}
    stage = cohorts.patient_stage_parameters()
    assert "infusion_dose_median_mg" in stage and "pain_residual_sd" not in stage


def test_a_parameter_the_analyses_never_see_moves_nothing_and_runs_keep_their_results(tiny_sweep):
    summary = tiny_sweep.summary
    unseen = summary[summary["parameter"] == "opioid_share"]
    assert tiny_sweep.reaches["opioid_share"] == () and (unseen["swing"] == 0).all() and not unseen["moved"].any()
    # the dose effect moves pain, hence who stays and who is re-treated: both the scores and the dose move
    assert tiny_sweep.reaches["pain_per_gram_received"] == ("nprs", "dose_g", "dose_month_g")
    # 3 default cohorts + 2 pain_per_gram_received cohorts analysed: its high end is its default (no dose effect), so
    # those cohorts, like opioid_share's, equal the defaults' and are not analysed again.
    assert tiny_sweep.n_cohorts == 3 + 2 * 2 * 2 and tiny_sweep.n_analysed == 3 + 2
    # The parallel run hands each cohort its own results: recompute one end's cohort directly.
    low_end = {"pain_per_gram_received": sweep.end_value(parameter("pain_per_gram_received"), "low")}
    direct = cohorts.analyse_mediation(cohorts.simulate_inputs(329, TINY.seed + 1, low_end))
    raw = tiny_sweep.raw.set_index(["statistic", "parameter", "end", "replicate"])
    assert raw.loc[("dose_not", "pain_per_gram_received", "low", 1), "estimate"] == direct["dose_not"][0]
    default = cohorts.analyse_pain(cohorts.simulate_inputs(329, TINY.seed + 2), 4, 2)
    assert raw.loc[("pain_decline", "default", "default", 2), "estimate"] == default["pain_decline"][0]


def test_decisions_follow_their_stated_rules():
    assert sweep.holds("below", -1.0, -1.5, -0.01) and not sweep.holds("below", -1.0, -1.5, 0.0)
    assert sweep.holds("above", 1.0, 0.01, 2.0) and not sweep.holds("above", 1.0, 0.0, 2.0)
    assert sweep.holds("includes_zero", 0.1, 0.0, 0.2) and not sweep.holds("includes_zero", 0.1, 0.01, 0.2)
    assert sweep.holds("at_least_half", 0.5, np.nan, np.nan) and not sweep.holds("at_least_half", 0.49, 0, 0)
    assert sweep.holds("inside_band", 100.0, np.nan, np.nan) and not sweep.holds("inside_band", 50.0, 0, 0)
    assert sweep.shift_is_real(np.zeros(3), 1.0) == (False, 0.0)
    assert sweep.shift_is_real(np.array([0.1, 0.1, 0.1]), 1.0)[0]  # a deterministic shift is real
    assert not sweep.shift_is_real(np.array([0.3, -0.1, 0.1]), 1.0)[0]
    assert sweep.shift_is_real(np.array([0.5]), 0.4) == (True, 0.4)  # one draw: judged against the noise band


def _hand_made(end_shift: float, parameter_name: str = "pain_residual_sd") -> sweep.AssumptionsResults:
    """Default estimates that swing wildly between seeds; each end = its seed's default + end_shift exactly."""
    settings = SensitivitySettings(sweep_replicates=2, sweep_default_cohorts=4)
    defaults = np.array([-1.0, -3.0, 1.0, -1.0])
    rows = [(key, "default", "default", r, defaults[r], defaults[r] - 0.5, defaults[r] + 0.5)
            for key in cohorts.STATISTICS for r in range(4)]
    rows += [(key, parameter_name, end, r, defaults[r] + end_shift, defaults[r] + end_shift - 0.5,
              defaults[r] + end_shift + 0.5) for key in cohorts.STATISTICS for end in sweep.ENDS for r in range(2)]
    raw = pd.DataFrame(rows, columns=sweep.COLUMNS)
    return sweep.AssumptionsResults(True, "synthetic", settings, (parameter_name,), raw,
                                    pd.DataFrame({"parameter": ["default"] * 4, "end": ["default"] * 4,
                                                  "replicate": range(4), "chosen_k": [2, 2, 3, 1]}),
                                    streams={parameter_name: ()}, reaches={parameter_name: ("nprs",)})


def test_an_end_is_the_default_level_plus_the_paired_shift_and_verdicts_name_what_moves_it():
    stays = _hand_made(0.2)
    row = stays.summary.query("statistic == 'pain_decline' and parameter == 'pain_residual_sd'").iloc[0]
    assert row["level"] == pytest.approx(-1.0) and row["low_value"] == pytest.approx(-0.8)
    assert row["low_ci_high"] == pytest.approx(-0.3) and row["low_holds"] and not row["moved"]
    by_key = dict(zip(cohorts.STATISTICS, report.verdicts(stays)))
    assert by_key["pain_decline"].outcome == SUPPORTED
    assert by_key["depression_mediates"].outcome == NOT_ASSESSABLE  # "above": a default of -1 does not hold

    moves = _hand_made(0.7)  # the expected CI upper limit reaches +0.2: the decline no longer holds
    by_key = dict(zip(cohorts.STATISTICS, report.verdicts(moves)))
    assert by_key["pain_decline"].outcome == CONTRADICTED
    # Named by its label, not its code name (parameter_labels).
    assert "Month-to-month SD of pain ratings = 0.7 (low end)" in by_key["pain_decline"].sentence
    assert "Month-to-month SD of pain ratings (one-year change" in \
        report.glued_text(moves)["sens_assumptions_moved_parameters"]


def test_real_extract_is_not_assessable_and_keeps_every_glue_name_table_and_figure(tiny_sweep):
    real = sweep.run_assumptions_sensitivity(_Extract("real"), TINY)
    assert not real.applicable and real.raw.empty
    found = report.verdicts(real)
    assert len(found) == len(cohorts.STATISTICS) and {v.outcome for v in found} == {NOT_ASSESSABLE}
    assert {v.conclusion for v in found} <= set(CONCLUSIONS)
    assert set(report.glued_text(real)) == set(report.glued_text(tiny_sweep))
    for table in (report.statistics_table, report.parameter_table):
        assert list(table(real).columns) == list(table(tiny_sweep).columns)
    for keys in (PAIN_COURSE, MEDIATION):
        assert isinstance(tornado_figure(real, keys), Figure) and isinstance(tornado_figure(tiny_sweep, keys), Figure)
