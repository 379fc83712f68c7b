"""The pain chapter's results in one call: pain over one year, its effect size, and SF-12 from baseline to 1 year.

Time is coded in years in every model (methods notes: in months the random-slope variance is below 0.01 and
statsmodels falsely warns of a boundary fit); per-month figures are the per-year coefficients divided by 12, a linear
combination of the same fit, not a second model.
"""

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from okapi.data.loading import REAL
from okapi.data.derive import pain_long
from okapi.models.effect_sizes import (ModelBasedEffectSize, PairedChange, StandardisedMeanChange,
                                       model_based_effect_size, paired_change, standardised_mean_change)
from okapi.models.intervals import mean_ci, proportion_ci, sd_ci
from okapi.verdicts.ledger import (LedgerEntry, entry, printed_p_statement, printed_targets, published_figure,
                                   published_value, verdict_summary)
from okapi.models import lmm_batch
from okapi.models.mixed_models import (LinearCombination, MixedModelFit, linear_combination,
                                       predicted_means)
from okapi.data.privacy import MIN_CELL, shown_count
from okapi.book.report import and_list, fmt_estimate_ci, fmt_number, fmt_p, fmt_p_statement
from okapi.data.targets import load_targets, target_value
from okapi.plan import BASELINE_MONTH, CATEGORICAL_TIME, EFFECT_SIZE_BOOTSTRAP, FINAL_MONTH, LINEAR_TIME, RANDOM_PART

CHAPTER = "chapters/pain"
FINAL_CONTRAST = f"C(month)[T.{FINAL_MONTH}]"
SF12 = {"sf12_mcs": ("R5", "SF-12 mental component (MCS)"), "sf12_pcs": ("R6", "SF-12 physical component (PCS)")}
# Denominators of the companion paper's counts: 240 of its 256 patients answered at month 0 (C2c), 93 of those 240
# at month 12 (C3c). A count from a 329-patient cohort is compared as the same share of those denominators.
COMPANION_DENOMINATORS = {"C2c": 256, "C3c": 240}


def fmt_combination(combo: LinearCombination, digits: int = 2, scale: float = 1.0, label: str = "95% CI ") -> str:
    return fmt_estimate_ci(scale * combo.estimate, scale * combo.ci_low, scale * combo.ci_high, digits, label)


def monthly_means(long_df: pd.DataFrame, outcome: str = "nprs", by: str | None = None,
                  min_cell: int | None = None) -> pd.DataFrame:
    """Observed mean, SD and t-based 95% CI per month (and group): one row per month (x group) with n answering.
    Cells of fewer than `min_cell` patients keep their count but lose their statistics (real-data mode)."""
    keys = ["month"] if by is None else [by, "month"]
    rows = []
    for key, values in long_df.loc[long_df[outcome].notna()].groupby(keys, sort=True)[outcome]:
        key = key if isinstance(key, tuple) else (key,)
        n = int(values.size)
        stats = [np.nan] * 4
        if n >= max(2, min_cell or 0):
            mean, low, high = mean_ci(values)
            stats = [mean, float(values.std(ddof=1)), low, high]
        rows.append({**dict(zip(keys, key)), "n": n, **dict(zip(("mean", "sd", "ci_low", "ci_high"), stats))})
    return pd.DataFrame(rows)


def canonical_order(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows by patient_id then month: the bootstrap draws patients by position, so without a fixed order its
    interval would depend on the order of the rows in the files."""
    return frame.sort_values(["patient_id", "month"], kind="stable").reset_index(drop=True)


# --- the analysis ----------------------------------------------------------------------------------------------------
def fit_mixed_model(long_df: pd.DataFrame, fixed: str, boundary_expected: bool = False) -> MixedModelFit:
    """The chapters' mixed model: `fixed` with a random intercept and slope on years per patient, REML, by the
    vectorised fit (okapi.models.lmm_batch). statsmodels' MixedLM, which fits the same model about 50 times slower,
    is its second route in the tests (tests/test_double_programming_lmm_batch.py), with R's lme4.

    A fit that did not converge is an error (a warning here fails the build). With `boundary_expected`, a slope
    variance estimated at zero is accepted (the fixed effects stay valid): the SF-12 scores vary between patients
    but barely in their own course, measured at four visits."""
    if RANDOM_PART != lmm_batch.RANDOM:
        raise RuntimeError(f"the plan's random part {RANDOM_PART} is not the one lmm_batch fits ({lmm_batch.RANDOM})")
    fit = lmm_batch.fit_random_slope_model(long_df, fixed, warn=False)
    problems = [m for m in fit.warnings if not (boundary_expected and m == lmm_batch.BOUNDARY_MESSAGE)]
    if problems or not fit.converged:
        warnings.warn(f"mixed model {fixed}: " + "; ".join(problems or ["did not converge"]), RuntimeWarning,
                      stacklevel=2)
    return fit


@dataclass(frozen=True)
class Described:
    """Mean and SD of the values observed at one month, each with its 95% CI."""
    n: int
    mean: tuple[float, float, float]
    sd: tuple[float, float, float]


@dataclass(frozen=True)
class QualityOfLifeChange:
    outcome: str
    baseline: Described  # everyone observed at month 0
    final: Described  # everyone observed at month 12
    paired: PairedChange  # patients observed at both
    model_change: LinearCombination  # mixed model, month 12 vs month 0, every observed value


@dataclass
class PainCourseResults:
    n_patients: int
    n_observations: int
    monthly: pd.DataFrame  # month, n, mean, sd, ci_low, ci_high, model_mean, model_ci_low, model_ci_high
    linear_fit: MixedModelFit
    categorical_fit: MixedModelFit
    slope_per_year: LinearCombination
    slope_per_month: LinearCombination
    final_contrast: LinearCombination  # month 12 - month 0, categorical-time model
    curve: pd.DataFrame  # linear model's population course: month, predicted, ci_low, ci_high
    smc: StandardisedMeanChange  # (month 12 - month 0) / SD month 0, observed cases, signed
    model_effect: ModelBasedEffectSize  # linear model's 1-year change / SD month 0
    model_effect_categorical: ModelBasedEffectSize  # month-12 contrast of the categorical model / SD month 0
    nprs_baseline: Described
    nprs_final: Described
    answered_final_of_baseline: int  # patients with a score at month 0 and at month 12
    sf12: dict[str, QualityOfLifeChange]
    sf12_months: tuple[int, ...]  # months at which an SF-12 was recorded
    mode: str


def describe_month(values_at_month: pd.Series) -> Described:
    values = values_at_month.dropna().astype(float)
    return Described(int(values.size), mean_ci(values), sd_ci(values))


def quality_of_life_change(visits: pd.DataFrame, outcome: str, model: bool = True) -> QualityOfLifeChange:
    """Baseline vs 1 year: observed-case summaries, a paired t test, and (with `model`) a mixed model using every
    observed value."""
    observed = visits.loc[visits[outcome].notna(), ["patient_id", "month", outcome]].copy()
    observed["years"] = observed["month"] / 12
    fit = fit_mixed_model(observed, f"{outcome} ~ C(month)", boundary_expected=True) if model else None
    at = {month: observed.loc[observed["month"] == month, outcome] for month in (BASELINE_MONTH, FINAL_MONTH)}
    return QualityOfLifeChange(
        outcome=outcome, baseline=describe_month(at[BASELINE_MONTH]), final=describe_month(at[FINAL_MONTH]),
        paired=paired_change(observed, outcome, BASELINE_MONTH, FINAL_MONTH),
        model_change=linear_combination(fit, {FINAL_CONTRAST: 1.0}) if model else None)


def pain_course_from_data(long_df: pd.DataFrame, visits: pd.DataFrame, mode: str = "synthetic",
                          n_patients: int | None = None,
                          smc_boot: int = EFFECT_SIZE_BOOTSTRAP, sf12_models: bool = True) -> PainCourseResults:
    """Everything of the chapter from the long pain data (derive.pain_long) and the visits table. okapi.simulation.
    operating reruns it on many cohorts with fewer resamples of the standardised mean change (`smc_boot`) and without
    the SF-12 mixed models (`sf12_models`), which the ledger does not use."""
    min_cell = MIN_CELL if mode == REAL else None
    long_df = canonical_order(long_df)
    linear = fit_mixed_model(long_df, LINEAR_TIME)
    categorical = fit_mixed_model(long_df, CATEGORICAL_TIME)
    months = pd.DataFrame({"month": np.arange(BASELINE_MONTH, FINAL_MONTH + 1)})
    months["years"] = months["month"] / 12
    model_means = predicted_means(categorical, months)
    monthly = monthly_means(long_df, min_cell=min_cell).merge(
        model_means[["month", "predicted", "ci_low", "ci_high"]].rename(
            columns={"predicted": "model_mean", "ci_low": "model_ci_low", "ci_high": "model_ci_high"}), on="month")
    grid = pd.DataFrame({"month": np.linspace(BASELINE_MONTH, FINAL_MONTH, 49)})
    grid["years"] = grid["month"] / 12
    wide = long_df.pivot(index="patient_id", columns="month", values="nprs").reindex(
        columns=[BASELINE_MONTH, FINAL_MONTH])
    both = int(wide.notna().all(axis=1).sum())
    at = {month: long_df.loc[long_df["month"] == month, "nprs"] for month in (BASELINE_MONTH, FINAL_MONTH)}
    return PainCourseResults(
        n_patients=int(long_df["patient_id"].nunique()) if n_patients is None else n_patients,
        n_observations=len(long_df), monthly=monthly, linear_fit=linear, categorical_fit=categorical,
        slope_per_year=linear_combination(linear, {"years": 1.0}),
        slope_per_month=linear_combination(linear, {"years": 1.0 / 12}),
        final_contrast=linear_combination(categorical, {FINAL_CONTRAST: 1.0}),
        curve=predicted_means(linear, grid)[["month", "predicted", "ci_low", "ci_high"]],
        smc=standardised_mean_change(long_df, "nprs", BASELINE_MONTH, FINAL_MONTH, n_boot=smc_boot),
        model_effect=model_based_effect_size(linear, long_df, {"years": 1.0}),
        model_effect_categorical=model_based_effect_size(categorical, long_df, {FINAL_CONTRAST: 1.0}),
        nprs_baseline=describe_month(at[BASELINE_MONTH]), nprs_final=describe_month(at[FINAL_MONTH]),
        answered_final_of_baseline=both,
        sf12={outcome: quality_of_life_change(canonical_order(visits), outcome, sf12_models) for outcome in SF12},
        sf12_months=tuple(int(m) for m in sorted(visits.loc[visits["sf12_mcs"].notna(), "month"].unique())),
        mode=mode)


def analyse_pain_course(cohort) -> PainCourseResults:
    """The chapter's whole analysis on a loaded Cohort."""
    return pain_course_from_data(pain_long(cohort), cohort.visits, cohort.mode, cohort.n_patients)


def companion_effect_size(smc: StandardisedMeanChange) -> tuple[float, float, float]:
    """The companion paper's sign: a decrease in pain counted positive, (mean month 0 - mean month 12) / SD month 0."""
    return -smc.effect_size, -smc.ci_high, -smc.ci_low


# --- the ledger -------------------------------------------------------------------------------------------------------
def _mean_and_sd_entries(prefix: str, letters: str, described: Described, p_value: float | None,
                         note: str, digits: int = 1) -> list[LedgerEntry]:
    """Mean and SD at one month, by the estimate rule (reproduced SE from the t interval of the mean and the
    chi-square interval of the SD)."""
    mean_id, sd_id = prefix + letters[0], prefix + letters[1]
    return [
        entry(mean_id, described.mean[0], CHAPTER, ci=described.mean[1:], p_value=p_value, note=note, digits=digits),
        entry(sd_id, described.sd[0], CHAPTER, ci=described.sd[1:], digits=digits),
    ]


def _count_entry(target_id: str, count: int, total: int) -> LedgerEntry:
    """A count as the same share of the companion paper's denominator (Wilson interval, binomial SE)."""
    denominator = COMPANION_DENOMINATORS[target_id]
    share, low, high = proportion_ci(count, total)
    return entry(target_id, denominator * share, CHAPTER, ci=(denominator * low, denominator * high),
                 se=denominator * (share * (1 - share) / total) ** 0.5,
                 note=f"{count} of {total} here, as a share of the companion paper's {denominator}", digits=0)


def ledger_entries(results: PainCourseResults) -> list[LedgerEntry]:
    """R4, R5a-d, R6a-d, C2a-c, C3a-c, C4 (rules in each entry; see the chapter's comparison section)."""
    effect = results.model_effect
    rows = [entry("R4", effect.effect_size, CHAPTER, ci=(effect.ci_low, effect.ci_high), p_value=results.slope_per_year.p,
                  note="mixed-model 1-year change (linear time) over the baseline SD")]
    for outcome, (prefix, _) in SF12.items():
        change = results.sf12[outcome]
        rows += _mean_and_sd_entries(prefix, "ab", change.baseline, None, "")
        rows += _mean_and_sd_entries(prefix, "cd", change.final, change.paired.p,
                                     f"P: paired t test, {change.paired.n} patients seen at both times")
    rows += _mean_and_sd_entries("C2", "ab", results.nprs_baseline, None, "all patients of the cohort")
    rows.append(_count_entry("C2c", results.nprs_baseline.n, results.n_patients))
    rows += _mean_and_sd_entries("C3", "ab", results.nprs_final, results.final_contrast.p,
                                 "P: month 12 vs month 0 in the mixed model with time as categories")
    rows.append(_count_entry("C3c", results.answered_final_of_baseline, results.nprs_baseline.n))
    c4, c4_low, c4_high = companion_effect_size(results.smc)
    rows.append(entry("C4", c4, CHAPTER, ci=(c4_low, c4_high),
                      note="observed-case standardised mean change, decrease counted positive; bootstrap CI"))
    return rows


# --- what the chapter prints ------------------------------------------------------------------------------------------
def _mean_sd(described: Described, digits: int = 1) -> str:
    return f"{fmt_number(described.mean[0], digits)} ({fmt_number(described.sd[0], digits)})"


def _mean_sd_n(described: Described, digits: int = 1) -> str:
    return f"{_mean_sd(described, digits)}, n = {described.n}"


def _published_change(prefix: str) -> str:
    """'39.7 (10.9) to 42.2 (11.1)' from the four rows of R5 or R6."""
    a, b, c, d = (published_value(prefix + letter) for letter in "abcd")
    return f"{a} ({b}) to {c} ({d})"


def glued_text(results: PainCourseResults) -> dict[str, str]:
    """Every number of the chapter's prose, formatted."""
    linear = results.linear_fit
    components = linear.variance_components
    sd_intercept, sd_slope = np.sqrt(components["var(Intercept)"]), np.sqrt(components["var(years)"])
    smc, effect, categorical = results.smc, results.model_effect, results.model_effect_categorical
    r4 = load_targets().set_index("id").loc["R4"]
    text = {
        "pain_n_patients": str(results.n_patients),
        "pain_n_with_score": str(results.linear_fit.n_patients),
        "pain_n_observations": str(results.n_observations),
        "pain_n_m0": str(results.nprs_baseline.n), "pain_n_m12": str(results.nprs_final.n),
        "pain_n_both": str(results.answered_final_of_baseline),
        "pain_m0": _mean_sd(results.nprs_baseline), "pain_m12": _mean_sd(results.nprs_final),
        "pain_intercept": fmt_combination(linear_combination(linear, {"Intercept": 1.0}), 1),
        "pain_slope_year": fmt_combination(results.slope_per_year, 2),
        "pain_slope_month": fmt_combination(results.slope_per_month, 3),
        "pain_slope_p": fmt_p_statement(results.slope_per_year.p),
        # A bare number such as "1.60" would be shown as "1.6" (myst-nb literal_evals glued text): units attached.
        "pain_sd_intercept": f"{fmt_number(sd_intercept, 2)} points",
        "pain_sd_slope": f"{fmt_number(sd_slope, 2)} points per year",
        "pain_corr": f"correlation {fmt_number(components['cov(Intercept, years)'] / (sd_intercept * sd_slope), 2)}",
        "pain_sd_residual": f"{fmt_number(np.sqrt(components['var(Residual)']), 2)} points",
        "pain_final_contrast": fmt_combination(results.final_contrast, 2),
        "pain_final_contrast_p": fmt_p_statement(results.final_contrast.p),
        "es_smc": fmt_estimate_ci(smc.effect_size, smc.ci_low, smc.ci_high),
        "es_companion": fmt_estimate_ci(*companion_effect_size(smc)),
        "es_model": fmt_estimate_ci(effect.effect_size, effect.ci_low, effect.ci_high),
        "es_model_categorical": fmt_estimate_ci(categorical.effect_size, categorical.ci_low, categorical.ci_high),
        "es_sd_baseline": f"{fmt_number(effect.sd_baseline, 2)} points",
        "es_n_boot": str(smc.n_boot),
        "es_width_r4": f"{fmt_number(r4['ci_high'] - r4['ci_low'], 2)} SD",
        "es_width_model": f"{fmt_number(effect.ci_high - effect.ci_low, 2)} SD",
        "es_width_smc": f"{fmt_number(smc.ci_high - smc.ci_low, 2)} SD",
        "pain_m12_observed_vs_model": _below_or_above(results.monthly, FINAL_MONTH),
        "published_r4": published_figure("R4"),
        "c4_arithmetic": (f"({published_value('C2a')} \u2212 {published_value('C3a')}) / {published_value('C2b')} = "
                          f"{fmt_number((target_value('C2a') - target_value('C3a')) / target_value('C2b'), 2)}"),
        "companion_n": published_value("C1"), "companion_n_m0": published_value("C2c"),
        "sf12_months": and_list(str(month) for month in results.sf12_months), "published_c4": published_figure("C4"),
        "published_c2": f"{published_value('C2a')} ({published_value('C2b')}), n = {published_value('C2c')}",
        "published_c3": f"{published_value('C3a')} ({published_value('C3b')}), n = {published_value('C3c')}",
    }
    for outcome, (prefix, _) in SF12.items():
        change, key = results.sf12[outcome], outcome.replace("sf12_", "")
        text.update({
            f"{key}_baseline": _mean_sd_n(change.baseline), f"{key}_final": _mean_sd_n(change.final),
            f"{key}_paired_n": str(change.paired.n),
            f"{key}_paired_change": fmt_estimate_ci(change.paired.mean_difference, change.paired.ci_low,
                                                    change.paired.ci_high, 1),
            f"{key}_paired_p": fmt_p_statement(change.paired.p),
            f"{key}_model_change": fmt_combination(change.model_change, 1),
            f"{key}_model_p": fmt_p_statement(change.model_change.p),
            f"{key}_published": _published_change(prefix),
            f"{key}_published_p": printed_p_statement(printed_targets().loc[prefix + "c", "p_reported"]),
        })
    text.update(verdict_summary(ledger_entries(results), "pain"))
    return text


def _below_or_above(monthly: pd.DataFrame, month: int) -> str:
    row = monthly.set_index("month").loc[month]
    if np.isnan(row["mean"]):
        return "not shown (too few patients)"
    return "below" if row["mean"] < row["model_mean"] else "above"


def monthly_table(results: PainCourseResults) -> pd.DataFrame:
    monthly = results.monthly
    return pd.DataFrame({
        "Month": monthly["month"].astype(str),
        # Real-data mode: a count of 1-4 patients is not printed (okapi.data.privacy).
        "Patients answering": [shown_count(int(n), results.mode) for n in monthly["n"]],
        "Observed mean (SD)": [("" if np.isnan(m) else f"{fmt_number(m, 2)} ({fmt_number(s, 2)})")
                               for m, s in zip(monthly["mean"], monthly["sd"])],
        "95% CI": ["" if np.isnan(lo) else f"{fmt_number(lo, 2)} to {fmt_number(hi, 2)}"
                   for lo, hi in zip(monthly["ci_low"], monthly["ci_high"])],
        "Model-based mean (95% CI)": [fmt_estimate_ci(m, lo, hi, label="") for m, lo, hi in
                                      zip(monthly["model_mean"], monthly["model_ci_low"], monthly["model_ci_high"])],
    })


def model_table(results: PainCourseResults) -> pd.DataFrame:
    """The linear model's fixed effects (per year and per month) and random-effect SDs."""
    linear = results.linear_fit
    rows = [("Mean pain at inclusion (intercept), points", linear_combination(linear, {"Intercept": 1.0}), 2),
            ("Change per year, points", results.slope_per_year, 2),
            ("Change per month, points", results.slope_per_month, 3)]
    table = [{"Quantity": label, "Estimate (95% CI)": fmt_combination(combo, digits, label=""),
              "P": fmt_p(combo.p)} for label, combo, digits in rows]
    components = linear.variance_components
    for label, value in (("SD of patients' intercepts, points", np.sqrt(components["var(Intercept)"])),
                         ("SD of patients' slopes, points per year", np.sqrt(components["var(years)"])),
                         ("Residual SD, points", np.sqrt(components["var(Residual)"]))):
        table.append({"Quantity": label, "Estimate (95% CI)": fmt_number(value, 2), "P": ""})
    return pd.DataFrame(table)


def effect_size_table(results: PainCourseResults) -> pd.DataFrame:
    smc, effect, categorical = results.smc, results.model_effect, results.model_effect_categorical
    rows = [
        ("Observed cases: (mean month 12 - mean month 0) / SD month 0", (smc.effect_size, smc.ci_low, smc.ci_high),
         "bootstrap over patients", "R4: " + published_figure("R4")),
        ("Same, a decrease counted positive (companion paper's sign)", companion_effect_size(smc),
         "bootstrap over patients", "C4: " + published_figure("C4")),
        ("Mixed model, linear time: 1-year change / SD month 0", (effect.effect_size, effect.ci_low, effect.ci_high),
         "model-based", "R4: " + published_figure("R4")),
        ("Mixed model, time as categories: month 12 vs 0 / SD month 0",
         (categorical.effect_size, categorical.ci_low, categorical.ci_high), "model-based", ""),
    ]
    return pd.DataFrame([{"Definition": label, "Effect size (95% CI)": fmt_estimate_ci(*values, label=""),
                          "Interval": how, "Published": target} for label, values, how, target in rows])


def sf12_table(results: PainCourseResults) -> pd.DataFrame:
    rows = []
    for outcome, (prefix, label) in SF12.items():
        change, paired = results.sf12[outcome], results.sf12[outcome].paired
        # The column is headed P, so the published value without 'P' and '=': '.02', '< .001'.
        published_p = printed_p_statement(printed_targets().loc[prefix + "c", "p_reported"])
        rows.append({
            "Score": label,
            "Month 0, mean (SD); n": f"{_mean_sd(change.baseline)}; {change.baseline.n}",
            "Month 12, mean (SD); n": f"{_mean_sd(change.final)}; {change.final.n}",
            "Paired change (95% CI); P": (fmt_estimate_ci(paired.mean_difference, paired.ci_low, paired.ci_high, 1, "")
                                          + f"; {fmt_p(paired.p)}"),
            "Mixed-model change (95% CI); P": (f"{fmt_combination(change.model_change, 1, label='')}; "
                                               f"{fmt_p(change.model_change.p)}"),
            "Published": f"{_published_change(prefix)}; {published_p.removeprefix('P ').removeprefix('= ')}",
        })
    return pd.DataFrame(rows)
