# Guards against a time x depression result that is wrong in sign, unit or test: a per-year coefficient reported as
# per month, the groups swapped, an omnibus test over the wrong terms or with the wrong df, centring of the HADS-D
# score leaking into its interaction, a verdict not following its rule, and glued text rendered differently. The
# chapter's key estimates are refitted by R lme4/lmerTest (when installed) and recovered from a panel of known truth.
import dataclasses

import pandas as pd
import pytest
from myst_nb.core.variables import format_plain_text

from okapi.chapters import depression as depression_pain
from okapi.data.loading import load_cohort
from okapi.data.derive import pain_long
from okapi.verdicts.ledger import NOT_REPRODUCED, REPRODUCED
from okapi.models.mixed_models import fit_pain_mixed_model, linear_combination
from okapi.paths import REPO_ROOT
from support.rbridge import R_SOURCES, r_reference
from IPython.core.formatters import PlainTextFormatter
from support.known_truth import PanelTruth, simulate_pain_panel
from okapi.data.targets import load_targets
from okapi.plan import RANDOM_PART, LINEAR_GROUP

LMM_SCRIPT = REPO_ROOT / "tests" / "r" / "lmm_reference.R"


@pytest.fixture(scope="module")
def long_df():
    return pain_long(load_cohort())


@pytest.fixture(scope="module")
def results(long_df):
    return depression_pain.depression_from_long(long_df)


def _analysed(long_df):
    data = long_df.loc[long_df["hads_d_baseline"].notna()].copy()
    data["depressed"] = data["depressed"].astype(bool)
    return data


def test_interaction_is_per_month_and_matches_a_refit_with_time_in_months(long_df, results):
    per_year = results.linear_fit.fixed.loc["years:depressed"]
    assert results.interaction_per_month.estimate == pytest.approx(per_year["estimate"] / 12, rel=1e-12)
    # Second route: statsmodels (the chapter fits with okapi.models.lmm_batch), time in months in the fixed part.
    # statsmodels' REML optimum stops slightly short of lmm_batch's (1.6e-6 apart here, about 1e-4 of an SE), so
    # agreement is asked to 1e-3 of an SE, as in tests/test_double_programming_lmm_batch.py.
    refit = fit_pain_mixed_model(_analysed(long_df), "nprs ~ month * depressed", "~years")
    combo = results.interaction_per_month
    assert refit.fixed.loc["month:depressed", "estimate"] == pytest.approx(combo.estimate, abs=1e-3 * combo.se)
    assert refit.fixed.loc["month:depressed", "se"] == pytest.approx(combo.se, rel=1e-3)


def test_group_contrast_is_depressed_minus_not_depressed(results):
    slopes = results.slopes_per_month
    assert slopes[True].estimate - slopes[False].estimate == pytest.approx(results.interaction_per_month.estimate,
                                                                            abs=1e-12)
    observed = results.observed.set_index(["group", "month"])["mean"]
    curves = results.categorical_means.set_index(["group", "month"])["predicted"]
    # The categorical model's month-0 difference is its `depressed` coefficient: groups not swapped in the curves.
    assert curves[(True, 0)] - curves[(False, 0)] == pytest.approx(
        results.categorical_fit.fixed.loc["depressed", "estimate"], rel=1e-10)
    assert set(observed.index.get_level_values("group")) == {False, True}


def test_omnibus_tests_have_12_df_over_the_interaction_terms_only(results):
    for test, modifier in ((results.omnibus, "depressed"), (results.score_omnibus, depression_pain.SCORE)):
        assert test.df == 12
        assert test.terms == tuple(f"C(month)[T.{m}]:{modifier}" for m in range(1, 13))


def test_hads_centring_does_not_change_the_score_interaction(long_df, results):
    raw = fit_pain_mixed_model(_analysed(long_df).assign(hads=lambda d: d["hads_d_baseline"].astype(float)),
                               "nprs ~ years * hads", "~years")
    uncentred = linear_combination(raw, {"years:hads": 1 / 12})
    assert uncentred.estimate == pytest.approx(results.score_interaction_per_month.estimate, rel=1e-5)
    assert uncentred.se == pytest.approx(results.score_interaction_per_month.se, rel=1e-4)


def test_recovers_a_known_depression_slope_difference_with_the_right_sign():
    truth = PanelTruth(6.8, -0.7, 0.5, -0.48, 1.3, 0.9, -0.3, 1.0)
    panel, truth = simulate_pain_panel(n_patients=500, seed=11, truth=truth)
    fit = fit_pain_mixed_model(panel, LINEAR_GROUP, RANDOM_PART)
    reference, interaction = depression_pain.slopes_per_month(fit, "depressed")
    # Within 3 SE of the truth (-0.48 per year = -0.04 per month); the sign is the truth's.
    assert abs(interaction.estimate - truth.depression_slope_shift_per_year / 12) < 3 * interaction.se
    assert interaction.ci_high < 0
    assert abs(reference.estimate - truth.slope_per_year / 12) < 3 * reference.se


@pytest.mark.parametrize("r_source", R_SOURCES)
def test_double_programming_interaction_and_omnibus_match_lmertest(long_df, results, r_source):
    data = _analysed(long_df)[["patient_id", "month", "years", "nprs", "depressed"]].assign(
        depressed=lambda d: d["depressed"].astype(int))
    models = pd.DataFrame([
        {"model_id": "linear", "formula": "nprs ~ years * depressed + (years | patient_id)", "wald_pattern": "",
         "anova_term": "", "repeats": 1},
        {"model_id": "categorical", "formula": "nprs ~ factor(month) * depressed + (years | patient_id)",
         "wald_pattern": r"^factor\(month\)[0-9]+:depressed$", "anova_term": "factor(month):depressed", "repeats": 1},
    ])
    out = r_reference(LMM_SCRIPT, {"data": data, "models": models}, r_source, "depression_interaction_lmertest",
                      packages=["lme4", "lmerTest"], timeout=240)
    r_fixed = out["fixed"].set_index(["model_id", "term"])
    r_interaction = r_fixed.loc[("linear", "years:depressed")]
    ours = results.linear_fit.fixed.loc["years:depressed"]
    # Tolerances as in test_double_programming_mixed_models: 1e-4 of max(|estimate|, SE); SEs 1e-3; chi2 5e-3.
    assert abs(ours["estimate"] - r_interaction["estimate"]) < 1e-4 * max(abs(r_interaction["estimate"]),
                                                                          r_interaction["se"])
    assert ours["se"] == pytest.approx(r_interaction["se"], rel=1e-3)
    r_wald = out["wald"].set_index("model_id").loc["categorical"]
    assert r_wald["df"] == results.omnibus.df
    assert results.omnibus.chi2 == pytest.approx(r_wald["chi2"], rel=5e-3)


def test_ledger_verdict_follows_its_rule_and_rejects_an_estimate_outside_the_published_ci(results):
    (item,) = depression_pain.ledger_entries(results)
    target = load_targets().set_index("id").loc["R8"]
    inside = target["ci_low"] <= item.estimate <= target["ci_high"]
    assert item.id == "R8" and item.verdict == (REPRODUCED if inside else NOT_REPRODUCED)
    assert item.p_value == results.omnibus.p
    far = dataclasses.replace(results.interaction_per_month, estimate=results.interaction_per_month.estimate * 12)
    (wrong_unit,) = depression_pain.ledger_entries(dataclasses.replace(results, interaction_per_month=far))
    assert wrong_unit.verdict == NOT_REPRODUCED


def test_patients_without_baseline_hads_are_excluded_and_counted(long_df, results):
    with_pain = long_df["patient_id"].nunique()
    with_hads = long_df.loc[long_df["hads_d_baseline"].notna(), "patient_id"].nunique()
    assert (results.n_patients, results.n_excluded) == (with_hads, with_pain - with_hads)
    assert results.linear_fit.n_patients == with_hads


def test_glued_text_renders_in_the_book_exactly_as_computed(results):
    for name, text in depression_pain.glued_text(results).items():
        assert format_plain_text(PlainTextFormatter()(text), "") == text, name
