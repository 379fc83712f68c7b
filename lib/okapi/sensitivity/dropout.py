"""Sensitivity section "Dropout": a pattern-mixture model by dropout time, and retention weights for the mediation
subset.

Pattern mixture (okapi.models.pattern_mixture). Analysis set: the missing-data section's (patients with a pain score
and a baseline HADS-D). Patterns by the last month with a pain score (DROPOUT_PATTERN_EDGES). The pain model gets a
slope per pattern (nprs ~ years * C(pattern)), the depression model a slope per pattern and depression group
(nprs ~ years * depressed * C(pattern)); each pattern's course after its last score is its own slope carried on,
where the likelihood analysis under MAR borrows the course of those who stayed. The one-year decline is the patterns'
slopes averaged with their shares; the interaction, per month, the difference of the two groups' averages, each with
its own pattern shares. A Wald test of the pattern x time terms asks whether the courses differ by pattern at all.

Retention weights (okapi.models.retention_weights). The mediation chapter analyses the patients whose pain slope can
be estimated (enough scores over enough months): those who stayed. Eligible: every patient with a baseline HADS-D (the
mediator). A logistic model of being analysed on what was measured by the first monthly call (RETENTION_NUMERIC,
RETENTION_CATEGORICAL) gives stabilised weights; the published reading of the mediation model (dose over the year ->
depression at inclusion -> pain diminution) is refitted by weighted least squares. The patient bootstrap resamples
the eligible patients and refits the retention model in each resample (settings.n_bootstrap, settings.seed), and the
complete cases are summarised over the same resamples, so that the two intervals differ only by the weights.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from okapi.book.report import and_list, fmt_ci, fmt_estimate_ci, fmt_number, fmt_p
from okapi.chapters.mediation import mediation_dataset
from okapi.data.derive import pain_long, patient_summary
from okapi.data.privacy import MIN_CELL, REAL_MODE, shown_count, suppression_masks
from okapi.data.targets import target_value
from okapi.verdicts.ledger import published_figure
from okapi.models.lmm_batch import fit_random_slope_model
from okapi.models.mixed_models import LinearCombination, WaldTest, linear_combination, wald_test
from okapi.models.pattern_mixture import Z_975, pattern_mixture_contrast, pattern_of_last_month
from okapi.models.retention_weights import (effective_sample_size, predictor_matrix, stabilised_weights,
                                            standardised_differences)
from okapi.plan import (DROPOUT_PATTERN_EDGES, FINAL_MONTH, IMPUTATION_MODEL, PER_MONTH, RETENTION_CATEGORICAL,
                        RETENTION_NUMERIC, SensitivitySettings)
from okapi.sensitivity.mediation import (MEDIATION_NAMES, ReadingResult, resample_counts, mediation_outcome,
                                         summarise_replicates, weighted_mediation_paths)
from okapi.sensitivity.verdicts import CONTRADICTED, SUPPORTED, Verdict, verdict_line

PREDICTOR_LABELS = {"nprs_baseline": "pain at inclusion", "nprs_month_1": "pain at month 1",
                    "hads_d_baseline": "HADS-D at inclusion", "hads_a_baseline": "HADS-A at inclusion", "age": "age",
                    "sex": "sex", "pain_type": "pain type"}
DECLINE_MODEL = "nprs ~ years"
PATTERN_DECLINE_MODEL = "nprs ~ years * C(pattern)"
PATTERN_INTERACTION_MODEL = "nprs ~ years * depressed * C(pattern)"


def pattern_labels(edges: tuple[int, ...] = DROPOUT_PATTERN_EDGES) -> list[str]:
    bounds = [-1, *edges, FINAL_MONTH]
    labels = []
    for k, (low, high) in enumerate(zip(bounds[:-1], bounds[1:])):
        if k == 0:
            labels.append(f"last score by month {high}")
        elif high == FINAL_MONTH:
            labels.append(f"last score after month {low}" if high - low > 1 else f"scored at month {high}")
        else:
            labels.append(f"last score in months {low + 1}-{high}")
    return labels


@dataclass
class DropoutResults:
    mode: str
    n_patients: int
    patterns: pd.DataFrame  # pattern, label, depressed, n_patients, share, slope and se (points per year)
    mar_decline: LinearCombination  # points per year
    pmm_decline: LinearCombination
    mar_interaction: LinearCombination  # points per month
    pmm_interaction: LinearCombination
    pattern_test: WaldTest  # pattern x time terms of the pain model
    n_eligible: int  # mediation subset: patients with a baseline HADS-D
    n_retained: int  # of whom analysed by the mediation chapter
    complete_case: ReadingResult
    weighted: ReadingResult
    effective_n: float  # Kish's effective number of the retained under the weights
    weight_sd: float
    balance: pd.DataFrame  # predictor, unweighted and weighted standardised differences
    n_bootstrap: int
    n_not_converged: int  # resamples whose retention model did not converge (left out of the intervals)


# --- pattern mixture -------------------------------------------------------------------------------------------------
def pattern_frame(cohort) -> pd.DataFrame:
    """pain_long of the missing-data section's analysis set, with each patient's dropout pattern."""
    long = pain_long(cohort)
    long = long.loc[long["hads_d_baseline"].notna()].copy()
    long["depressed"] = long["depressed"].astype(float)
    last = long.groupby("patient_id", sort=False)["month"].max()
    long["pattern"] = long["patient_id"].map(pattern_of_last_month(last, DROPOUT_PATTERN_EDGES))
    return long.reset_index(drop=True)


def _cells(long: pd.DataFrame, by_depression: bool) -> pd.DataFrame:
    keys = ["depressed", "pattern"] if by_depression else ["pattern"]
    cells = long.groupby(keys)["patient_id"].nunique().rename("n_patients").reset_index()
    cells["group"] = cells["depressed"] if by_depression else "all"
    if cells.groupby("group")["pattern"].nunique().min() < len(DROPOUT_PATTERN_EDGES) + 1:
        raise ValueError("a dropout pattern has no patient in a group: merge patterns (DROPOUT_PATTERN_EDGES)")
    return cells


def run_pattern_mixture(long: pd.DataFrame) -> dict:
    decline_fit = fit_random_slope_model(long, PATTERN_DECLINE_MODEL, warn=False)
    interaction_fit = fit_random_slope_model(long, PATTERN_INTERACTION_MODEL, warn=False)
    pmm_decline, decline_cells = pattern_mixture_contrast(decline_fit, _cells(long, False), "years", {"all": 1.0})
    pmm_interaction, cells = pattern_mixture_contrast(interaction_fit, _cells(long, True), "years",
                                                      {1.0: 1.0, 0.0: -1.0}, scale=PER_MONTH)
    labels = pattern_labels()
    cells = cells.assign(slope=cells["slope"] / PER_MONTH, se=cells["se"] / PER_MONTH)  # per year, as the decline
    table = pd.concat([decline_cells.assign(depressed=np.nan), cells], ignore_index=True)
    table["label"] = table["pattern"].map(dict(enumerate(labels)))
    return {"pmm_decline": pmm_decline, "pmm_interaction": pmm_interaction,
            "pattern_test": wald_test(decline_fit, r"^years:C\(pattern\)"),
            "patterns": table[["pattern", "label", "depressed", "n_patients", "share", "slope", "se"]],
            "mar_decline": linear_combination(fit_random_slope_model(long, DECLINE_MODEL, warn=False),
                                              {"years": 1.0}),
            "mar_interaction": linear_combination(fit_random_slope_model(long, IMPUTATION_MODEL, warn=False),
                                                  {"years:depressed": PER_MONTH})}


# --- retention weights -----------------------------------------------------------------------------------------------
def retention_frame(cohort) -> pd.DataFrame:
    """The mediation chapter's patients with a baseline HADS-D (sorted by patient_id), whether each was analysed, and
    the retention model's predictors."""
    frame, _ = mediation_dataset(cohort)
    frame = frame.loc[frame["depressed"].notna()]
    summary = patient_summary(cohort).drop(columns=["hads_d_baseline", "depressed"])
    month_1 = cohort.visits.loc[cohort.visits["month"] == 1].set_index("patient_id")["nprs"]
    summary["nprs_month_1"] = summary["patient_id"].map(month_1)
    return frame.merge(summary, on="patient_id", how="left", validate="one_to_one").reset_index(drop=True)


def _reading(key, point, replicates, n_patients) -> ReadingResult:
    estimates, flips = summarise_replicates(MEDIATION_NAMES, point, replicates)
    return ReadingResult(key, n_patients, n_patients, estimates, flips, None, {})


def run_retention_weighting(cohort, settings: SensitivitySettings) -> dict:
    frame = retention_frame(cohort)
    predictors = predictor_matrix(frame, RETENTION_NUMERIC, RETENTION_CATEGORICAL)
    design, retained = predictors.to_numpy(), frame["analysed"].to_numpy(dtype=bool)
    counts = resample_counts(len(frame), settings.n_bootstrap, settings.seed)
    weights, converged = stabilised_weights(design, retained, np.vstack([np.ones(len(frame)), counts]))
    if not converged[0]:
        raise RuntimeError("the retention model did not converge on the eligible patients")
    kept = frame.loc[retained]
    x, m, y = kept["dose_g"], kept["depressed"], kept["diminution_per_month"]
    base = np.ones((len(kept), 1))
    usable = converged[1:]
    complete = _reading("complete cases", weighted_mediation_paths(base, x, m, y, np.ones((1, len(kept))))[0],
                        weighted_mediation_paths(base, x, m, y, counts[:, retained]), len(kept))
    weighted = _reading("retention-weighted", weighted_mediation_paths(base, x, m, y, weights[:1, retained])[0],
                        weighted_mediation_paths(base, x, m, y, (counts * weights[1:])[usable][:, retained]),
                        len(kept))
    balance = pd.DataFrame({"unweighted": standardised_differences(predictors, retained, np.ones(len(frame))),
                            "weighted": standardised_differences(predictors, retained, weights[0])})
    return {"n_eligible": len(frame), "n_retained": int(retained.sum()), "complete_case": complete,
            "weighted": weighted, "effective_n": effective_sample_size(weights[0]),
            "weight_sd": float(weights[0][retained].std(ddof=1)), "balance": balance,
            "n_bootstrap": settings.n_bootstrap, "n_not_converged": int((~usable).sum())}


def run_dropout_sensitivity(cohort, settings: SensitivitySettings) -> DropoutResults:
    long = pattern_frame(cohort)
    return DropoutResults(mode=cohort.mode, n_patients=int(long["patient_id"].nunique()), **run_pattern_mixture(long),
                          **run_retention_weighting(cohort, settings))


# --- verdicts and text -----------------------------------------------------------------------------------------------
def _ci(c: LinearCombination, digits: int) -> str:
    return f"{fmt_number(c.estimate, digits)} (95% CI {fmt_ci(c.ci_low, c.ci_high, digits)})"


def _path(reading: ReadingResult, name: str, digits: int = 4) -> str:
    row = reading.estimates.loc[name]
    return fmt_estimate_ci(row["estimate"], row["ci_low"], row["ci_high"], digits)


def _share(reading: ReadingResult) -> str:
    row = reading.estimates.loc["proportion"] * 100
    return fmt_estimate_ci(row["estimate"], row["ci_low"], row["ci_high"], 1).replace(" (", "% (").replace(")", "%)")


def verdicts(results: DropoutResults) -> list[Verdict]:
    d, i, w = results.pmm_decline, results.pmm_interaction, results.weighted
    label = "pattern-mixture by dropout time (each pattern's own slope carried on)"
    outcome, null = mediation_outcome(w, target_value("R13") / 100)
    dose_null = all(w.estimates.loc[name, "ci_low"] <= 0 <= w.estimates.loc[name, "ci_high"]
                    for name in ("total", "direct"))
    return [
        Verdict("pain_decline", label, SUPPORTED if d.ci_high < 0 else CONTRADICTED,
                f"Averaged over the dropout patterns, pain changed by {_ci(d, 2)} points per year, beside "
                f"{_ci(results.mar_decline, 2)} under MAR on the same patients.", null_result=d.ci_low <= 0 <= d.ci_high),
        Verdict("depression_interaction", label, SUPPORTED if i.ci_high < 0 else CONTRADICTED,
                f"Averaged over each group's dropout patterns, the time x depression interaction is {_ci(i, 3)} "
                f"points per month, beside {_ci(results.mar_interaction, 3)} under MAR.",
                null_result=i.ci_low <= 0 <= i.ci_high),
        Verdict("depression_mediates", "mediation weighted by the inverse probability of retention", outcome,
                f"Weighted, the indirect effect is {_path(w, 'indirect')} and the proportion mediated {_share(w)} "
                f"(complete cases: {_path(results.complete_case, 'indirect')}, {_share(results.complete_case)}).",
                null_result=null),
        Verdict("dose_not", "mediation weighted by the inverse probability of retention",
                SUPPORTED if dose_null else CONTRADICTED,
                f"Weighted, the dose's total effect on pain diminution is {_path(w, 'total')} per gram and its direct "
                f"effect {_path(w, 'direct')}.", null_result=dose_null),
    ]


def pattern_table(results: DropoutResults) -> pd.DataFrame:
    """Patients and slope (points per year, 95% CI) of each dropout pattern: all, then by depression group.

    In real mode a cell of fewer than 5 patients shows '<5' with no share or slope (either gives its count back), and
    as many other cells are hidden as keep it from being recovered by difference: the patterns of one group add up to
    the group, and a pattern's two groups to its 'all' row.
    """
    t = results.patterns.reset_index(drop=True)
    group = t["depressed"].map({0.0: "without depressive symptoms", 1.0: "with depressive symptoms"}).fillna("all")
    shown = pd.DataFrame({
        "Patients": group, "Dropout pattern": t["label"],
        "n": [str(int(n)) for n in t["n_patients"]],
        "Share of the group": [f"{100 * s:.0f}%" for s in t["share"]],
        "Slope, points per year (95% CI)": [fmt_estimate_ci(s, s - Z_975 * e, s + Z_975 * e, 2)
                                           for s, e in zip(t["slope"], t["se"])]})
    if results.mode != REAL_MODE:
        return shown
    linked = [list(rows) for rows in t.groupby(group.to_numpy()).groups.values()]
    linked += [list(rows) for rows in t.groupby("pattern").groups.values()]
    primary, secondary = suppression_masks(t["n_patients"].to_numpy(int), linked)
    shown.loc[primary, "n"] = f"<{MIN_CELL}"
    shown.loc[secondary, "n"] = "hidden"
    shown.loc[primary | secondary, ["Share of the group", "Slope, points per year (95% CI)"]] = "–"
    return shown


def glued_text(results: DropoutResults, finished: list[Verdict] | None = None) -> dict[str, str]:
    p, b = "sens_dropout_", results.balance
    text = {
        f"{p}n": shown_count(results.n_patients, results.mode),
        f"{p}n_patterns": str(len(DROPOUT_PATTERN_EDGES) + 1),
        f"{p}patterns": "; ".join(pattern_labels()),
        f"{p}predictors": and_list([PREDICTOR_LABELS[name] for name in (*RETENTION_NUMERIC, *RETENTION_CATEGORICAL)]),
        # The rule of the sentence: a Wald P below .05 for the pattern x time terms.
        f"{p}pattern_finding": ("The slopes differed between dropout patterns" if results.pattern_test.p < 0.05
                                else "The slopes did not differ clearly between dropout patterns"),
        f"{p}mar_decline": f"{_ci(results.mar_decline, 2)} points per year",
        f"{p}pmm_decline": f"{_ci(results.pmm_decline, 2)} points per year",
        f"{p}mar_interaction": f"{_ci(results.mar_interaction, 3)} points per month",
        f"{p}pmm_interaction": f"{_ci(results.pmm_interaction, 3)} points per month",
        f"{p}pattern_test": (f"chi-square {fmt_number(results.pattern_test.chi2, 1)} on {results.pattern_test.df} "
                             f"df, {fmt_p(results.pattern_test.p)}"),
        f"{p}published_r4": published_figure("R4"),
        f"{p}published_r8": published_figure("R8"),
        f"{p}published_r13": published_figure("R13"),
        f"{p}n_eligible": shown_count(results.n_eligible, results.mode),
        f"{p}n_retained": shown_count(results.n_retained, results.mode),
        f"{p}effective_n": fmt_number(results.effective_n, 0),
        f"{p}weight_sd": fmt_number(results.weight_sd, 2),
        f"{p}smd_before": fmt_number(b["unweighted"].abs().max(), 2),
        f"{p}smd_after": fmt_number(b["weighted"].abs().max(), 2),
        f"{p}bootstrap": f"{results.n_bootstrap:,}",
        f"{p}not_converged": str(results.n_not_converged),
        f"{p}cc_indirect": _path(results.complete_case, "indirect"),
        f"{p}ipw_indirect": _path(results.weighted, "indirect"),
        f"{p}cc_share": _share(results.complete_case),
        f"{p}ipw_share": _share(results.weighted),
        f"{p}cc_total": _path(results.complete_case, "total"),
        f"{p}ipw_total": _path(results.weighted, "total"),
    }
    for verdict in finished or []:
        key = {"pain_decline": "decline", "depression_interaction": "interaction", "depression_mediates": "mediates",
               "dose_not": "dose"}[verdict.conclusion]
        text[f"{p}verdict_{key}"] = verdict_line(verdict)
    return text
