"""The depression chapter's results in one call: does the course of pain over the year differ with depressive
symptoms at inclusion (HADS-D > 7, the paper's split), and with HADS-D as a score?

Two codings of time, as in the pain chapter (years in the fit, results per month = per-year coefficient / 12):
linear time gives one interaction coefficient (the published R8 is read as this, per month); time as 12 categories
gives the omnibus 12-df Wald test of time x depression (the published P of R8).
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from okapi.data.loading import REAL
from okapi.data.derive import depression_groups, pain_long
from okapi.verdicts.ledger import (LedgerEntry, chapter_comparison_table, entry, published_figure,
                                   verdict_summary)
from okapi.models.mixed_models import (LinearCombination, MixedModelFit, WaldTest,
                                       linear_combination, predicted_means, wald_test)
from okapi.chapters.pain import canonical_order, fit_mixed_model, fmt_combination, monthly_means
from okapi.data.privacy import MIN_CELL, shown_count
from okapi.book.report import and_list, fmt_count_percent, fmt_number, fmt_p, fmt_p_statement
from okapi.plan import (BASELINE_MONTH, CATEGORICAL_GROUP, FINAL_MONTH, HADS_D_CUTOFF, LINEAR_GROUP,
                        PUBLISHED_HADS_D_CUTOFF, PER_MONTH)

CHAPTER = "chapters/depression"
GROUP_INTERACTIONS = r"^C\(month\)\[T\.\d+\]:depressed$"
# HADS-D is centred at the cohort mean so that the score model's `years` is the course of an average patient.
SCORE = "hads_d_centred"
LINEAR_SCORE = f"nprs ~ years * {SCORE}"
CATEGORICAL_SCORE = f"nprs ~ C(month) * {SCORE}"
SCORE_INTERACTIONS = rf"^C\(month\)\[T\.\d+\]:{SCORE}$"


@dataclass
class DepressionPainResults:
    n_patients: int  # with a baseline HADS-D (the analysis set)
    n_excluded: int  # patients with pain scores but no baseline HADS-D
    n_depressed: int
    n_observations: int
    hads_mean: float  # centring value of the score models
    hads_means_by_group: dict[bool, float]
    linear_fit: MixedModelFit
    categorical_fit: MixedModelFit
    score_fit: MixedModelFit
    score_categorical_fit: MixedModelFit
    interaction_per_month: LinearCombination  # R8: extra change per month, HADS-D > 7 minus <= 7
    slopes_per_month: dict[bool, LinearCombination]
    baseline_difference: LinearCombination  # at inclusion, HADS-D > 7 minus <= 7 (linear model)
    omnibus: WaldTest  # 12 df, time as categories x depression
    score_slope_per_month: LinearCombination  # at the mean HADS-D
    score_interaction_per_month: LinearCombination  # extra change per month per HADS-D point
    score_omnibus: WaldTest
    observed: pd.DataFrame  # group, month, n, mean, sd, ci_low, ci_high
    linear_curves: pd.DataFrame  # group, month, predicted, ci_low, ci_high
    categorical_means: pd.DataFrame  # group, month, predicted, ci_low, ci_high
    score_curves: pd.DataFrame  # value (HADS-D), month, predicted, ci_low, ci_high
    mode: str
    cutoff: int  # depressive symptoms = HADS-D above this (the analysis plan's, or a rerun's)


def slopes_per_month(fit: MixedModelFit, modifier: str) -> tuple[LinearCombination, LinearCombination]:
    """From a `nprs ~ years * modifier` fit: the change per month where modifier = 0, and the difference in change
    per month per unit of `modifier` (the time x modifier interaction, per month)."""
    return (linear_combination(fit, {"years": PER_MONTH}),
            linear_combination(fit, {f"years:{modifier}": PER_MONTH}))


def _curves(fit: MixedModelFit, column: str, values, months, extra: dict | None = None) -> pd.DataFrame:
    grid = pd.DataFrame([(value, month) for value in values for month in months], columns=[column, "month"])
    grid["years"] = grid["month"] / 12
    for name, shift in (extra or {}).items():
        grid[name] = grid[column] - shift
    predicted = predicted_means(fit, grid)
    return predicted.rename(columns={column: "group" if column == "depressed" else "value"})[
        ["group" if column == "depressed" else "value", "month", "predicted", "ci_low", "ci_high"]]


def depression_from_long(long_df: pd.DataFrame, mode: str = "synthetic", cutoff: int = HADS_D_CUTOFF,
                         scores: bool = True) -> DepressionPainResults:
    """Every result of the chapter from the long pain data (derive.pain_long, split at `cutoff`); without `scores`
    (okapi.simulation.operating's reruns, for the ledger alone) the HADS-D score models are not fitted."""
    has_score = long_df["hads_d_baseline"].notna()
    data = canonical_order(long_df.loc[has_score])
    data["depressed"] = data["depressed"].astype(bool)
    data["hads_d_baseline"] = data["hads_d_baseline"].astype(float)
    patients = data.drop_duplicates("patient_id")
    hads_mean = float(patients["hads_d_baseline"].mean())
    data[SCORE] = data["hads_d_baseline"] - hads_mean

    linear = fit_mixed_model(data, LINEAR_GROUP)
    categorical = fit_mixed_model(data, CATEGORICAL_GROUP)
    score_linear = fit_mixed_model(data, LINEAR_SCORE) if scores else None
    score_categorical = fit_mixed_model(data, CATEGORICAL_SCORE) if scores else None
    slope_reference, interaction = slopes_per_month(linear, "depressed")
    score_slope, score_interaction = slopes_per_month(score_linear, SCORE) if scores else (None, None)

    months = np.arange(BASELINE_MONTH, FINAL_MONTH + 1)
    quartiles = np.round(patients["hads_d_baseline"].quantile([0.25, 0.5, 0.75]).to_numpy())
    observed = monthly_means(data, by="depressed", min_cell=MIN_CELL if mode == REAL else None)
    return DepressionPainResults(
        n_patients=len(patients), n_excluded=int(long_df.loc[~has_score, "patient_id"].nunique()),
        n_depressed=int(patients["depressed"].sum()), n_observations=len(data), hads_mean=hads_mean,
        hads_means_by_group={group: float(rows["hads_d_baseline"].mean())
                             for group, rows in patients.groupby("depressed")},
        linear_fit=linear, categorical_fit=categorical, score_fit=score_linear,
        score_categorical_fit=score_categorical,
        interaction_per_month=interaction,
        slopes_per_month={False: slope_reference,
                          True: linear_combination(linear, {"years": PER_MONTH, "years:depressed": PER_MONTH})},
        baseline_difference=linear_combination(linear, {"depressed": 1.0}),
        omnibus=wald_test(categorical, GROUP_INTERACTIONS),
        score_slope_per_month=score_slope, score_interaction_per_month=score_interaction,
        score_omnibus=wald_test(score_categorical, SCORE_INTERACTIONS) if scores else None,
        observed=observed.rename(columns={"depressed": "group"}),
        linear_curves=_curves(linear, "depressed", (False, True), np.linspace(BASELINE_MONTH, FINAL_MONTH, 49)),
        categorical_means=_curves(categorical, "depressed", (False, True), months),
        score_curves=_curves(score_linear, "hads_d_baseline", [float(q) for q in dict.fromkeys(quartiles)],
                             np.linspace(BASELINE_MONTH, FINAL_MONTH, 49), extra={SCORE: hads_mean})
        if scores else None,
        mode=mode, cutoff=cutoff)


def analyse_depression_and_pain(cohort, cutoff: int = HADS_D_CUTOFF) -> DepressionPainResults:
    """The chapter's whole analysis on a loaded Cohort, depressive symptoms being HADS-D above `cutoff`."""
    return depression_from_long(pain_long(cohort, cutoff), cohort.mode, cutoff)


def ledger_entries(results: DepressionPainResults) -> list[LedgerEntry]:
    """R8: the linear-time interaction per month, by the estimate rule; the P carried (and judged as a claim of its
    own) is the omnibus 12-df Wald test with time as categories, what the published P = .002 is for."""
    combo = results.interaction_per_month
    return [entry("R8", combo.estimate, CHAPTER, ci=(combo.ci_low, combo.ci_high), p_value=results.omnibus.p,
                  note=f"linear time x depression, per month; P: omnibus Wald test, {results.omnibus.df} df",
                  digits=3)]


# --- what the chapter prints ------------------------------------------------------------------------------------------
def glued_text(results: DepressionPainResults) -> dict[str, str]:
    not_depressed = results.n_patients - results.n_depressed
    omnibus, score_omnibus = results.omnibus, results.score_omnibus
    return {
        "dep_n_patients": str(results.n_patients),
        "dep_n_excluded": shown_count(results.n_excluded, results.mode),
        "dep_n_depressed": fmt_count_percent(results.n_depressed, results.n_patients),
        "dep_n_not_depressed": fmt_count_percent(not_depressed, results.n_patients),
        "dep_n_observations": str(results.n_observations),
        "dep_cutoff": str(results.cutoff),
        "dep_cutoff_source": ("the paper's split" if results.cutoff == PUBLISHED_HADS_D_CUTOFF
                              else f"not the paper's split (HADS-D above {PUBLISHED_HADS_D_CUTOFF})"),
        "dep_interaction_month": fmt_combination(results.interaction_per_month, 3),
        "dep_interaction_year": fmt_combination(results.interaction_per_month, 2, scale=12),
        "dep_interaction_p": fmt_p_statement(results.interaction_per_month.p),
        "dep_slope_not_depressed": fmt_combination(results.slopes_per_month[False], 3),
        "dep_slope_depressed": fmt_combination(results.slopes_per_month[True], 3),
        "dep_baseline_difference": fmt_combination(results.baseline_difference, 2),
        "dep_omnibus_chi2": fmt_number(omnibus.chi2, 1), "dep_omnibus_df": str(omnibus.df),
        "dep_omnibus_p": fmt_p_statement(omnibus.p),
        "published_r8": published_figure("R8"),
        "hads_mean": fmt_number(results.hads_mean, 1),
        "hads_mean_not_depressed": fmt_number(results.hads_means_by_group[False], 1),
        "hads_mean_depressed": fmt_number(results.hads_means_by_group[True], 1),
        "hads_slope_month": fmt_combination(results.score_slope_per_month, 3),
        "hads_interaction_month": fmt_combination(results.score_interaction_per_month, 4),
        "hads_interaction_p": fmt_p_statement(results.score_interaction_per_month.p),
        "hads_omnibus_chi2": fmt_number(score_omnibus.chi2, 1), "hads_omnibus_df": str(score_omnibus.df),
        "hads_omnibus_p": fmt_p_statement(score_omnibus.p),
        "hads_curve_values": and_list(f"{value:g}" for value in results.score_curves["value"].unique()),
        "dep_n_with_pain": str(results.n_patients + results.n_excluded),
        **verdict_summary(ledger_entries(results), "dep"),
    }


def model_table(results: DepressionPainResults) -> pd.DataFrame:
    """Both models' main quantities, per month, with the omnibus tests."""
    low, high = depression_groups(results.cutoff).values()
    intercept = linear_combination(results.linear_fit, {"Intercept": 1.0})
    rows = [
        ("Groups", f"Mean pain at inclusion, {low}", intercept, 2),
        ("Groups", f"Difference at inclusion, {high} minus {low}", results.baseline_difference, 2),
        ("Groups", f"Change per month, {low}", results.slopes_per_month[False], 3),
        ("Groups", f"Change per month, {high}", results.slopes_per_month[True], 3),
        ("Groups", "Difference in change per month (time x depression)", results.interaction_per_month, 3),
        ("HADS-D score", "Change per month at the mean HADS-D", results.score_slope_per_month, 3),
        ("HADS-D score", "Difference in change per month per HADS-D point", results.score_interaction_per_month, 4),
    ]
    table = [{"Model": model, "Quantity": label,
              "Estimate (95% CI)": fmt_combination(combo, digits, label=""), "P": fmt_p(combo.p)}
             for model, label, combo, digits in rows]
    for model, label, test in (("Groups", "Omnibus time (categories) x depression", results.omnibus),
                               ("HADS-D score", "Omnibus time (categories) x HADS-D", results.score_omnibus)):
        table.append({"Model": model, "Quantity": label,
                      "Estimate (95% CI)": f"chi-square {fmt_number(test.chi2, 1)}, {test.df} df",
                      "P": fmt_p(test.p)})
    return pd.DataFrame(table)


def comparison(results: DepressionPainResults) -> pd.DataFrame:
    return chapter_comparison_table(ledger_entries(results))
