"""Confounding of the depression comparison: the time x depression interaction adjusted for what differs between
patients at inclusion, and the E-value of the adjusted estimate.

Depressive symptoms were not assigned. Patients with and without them may differ in age, sex, pain type, pain at
inclusion, pain duration, concomitant treatments and clinic, each of which could shape the pain course. The adjusted
model adds each of these (CONFOUNDERS, okapi.plan) and its interaction with time to the depression chapter's model,
so that the interaction compares the yearly change of patients alike in all of them; centres enter as fixed effects
on the level (30 clinics, too few per clinic for their own slopes). Patients missing any of them are left out, and
the unadjusted model is refitted on the same patients, so that the comparison is not one of two samples.

E-value (VanderWeele and Ding 2017): the minimum strength of association, on the risk-ratio scale, that an unmeasured
confounder would need with both depression and the pain course to explain the adjusted estimate away. For a
difference in means, the standardised difference d = estimate / SD(outcome) is turned into an approximate risk ratio
RR = exp(0.91 d); E = RR + sqrt(RR (RR - 1)) (with RR inverted when below 1), and the same for the CI limit nearest 1
(E = 1 when the CI holds the null).
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from okapi.book.report import fmt_ci, fmt_number
from okapi.data.derive import pain_long, patient_summary
from okapi.data.loading import Cohort
from okapi.data.privacy import shown_count
from okapi.models.lmm_batch import fit_random_slope_model
from okapi.models.mixed_models import LinearCombination, linear_combination
from okapi.plan import CONFOUNDERS, HADS_D_CUTOFF, SensitivitySettings
from okapi.sensitivity.verdicts import Verdict, verdict_line
from okapi.verdicts.rules import CONTRADICTED, SUPPORTED

LABELS = {"age": "age", "sex": "sex", "pain_type": "pain type", "nprs_baseline": "pain at inclusion",
          "pain_duration_years": "pain duration", "opioid": "opioids", "antidepressant": "antidepressants",
          "antiepileptic": "antiepileptics", "anxiolytic": "anxiolytics", "centre": "centre"}
SLOPE_CONFOUNDERS = tuple(c for c in CONFOUNDERS if c != "centre")  # each with its own slope; centre on the level


def adjusted_formula() -> str:
    slopes = " + ".join(f"years:{name}" for name in SLOPE_CONFOUNDERS)
    levels = " + ".join(CONFOUNDERS)
    return f"nprs ~ years * depressed + {levels} + {slopes}"


def analysis_frame(cohort: Cohort) -> tuple[pd.DataFrame, int]:
    """pain_long of the patients with baseline HADS-D and every confounder, with the confounders joined; and how
    many patients with a baseline HADS-D were left out for a missing confounder."""
    summary = patient_summary(cohort, HADS_D_CUTOFF)
    covariates = summary[["patient_id", *[c for c in CONFOUNDERS if c not in ("centre", "pain_type")]]]
    long = pain_long(cohort, HADS_D_CUTOFF)
    long = long[long["hads_d_baseline"].notna()].drop(columns=["centre"]).merge(
        summary[["patient_id", "centre"]].merge(covariates, on="patient_id"), on="patient_id", how="left",
        validate="many_to_one")
    long["depressed"] = long["depressed"].astype(float)
    long["sex"] = (long["sex"] == "F").astype(float)
    complete = long[list(CONFOUNDERS)].notna().all(axis=1)
    before = long["patient_id"].nunique()
    long = long[complete].copy()
    for column in ("age", "nprs_baseline", "pain_duration_years"):  # centred, so the main terms stay at the mean
        long[column] = long[column].astype(float) - long[column].astype(float).mean()
    return long.reset_index(drop=True), before - long["patient_id"].nunique()


def e_value(estimate: float, sd: float) -> float:
    rr = np.exp(0.91 * abs(estimate) / sd)
    return float(rr + np.sqrt(rr * (rr - 1)))


@dataclass
class ConfoundingResults:
    unadjusted: LinearCombination  # time x depression per year, same patients
    adjusted: LinearCombination
    outcome_sd: float  # SD of NPRS at inclusion among the analysed patients
    e_estimate: float
    e_ci: float  # for the CI limit nearest the null; 1 when the CI holds it
    n_patients: int
    n_left_out: int
    mode: str


def run_confounding_sensitivity(cohort: Cohort, settings: SensitivitySettings) -> ConfoundingResults:
    long, left_out = analysis_frame(cohort)
    unadjusted = linear_combination(fit_random_slope_model(long, "nprs ~ years * depressed", warn=False),
                                    {"years:depressed": 1.0})
    adjusted = linear_combination(fit_random_slope_model(long, adjusted_formula(), warn=False),
                                  {"years:depressed": 1.0})
    baseline = long.loc[long["month"] == 0, "nprs"].astype(float)
    sd = float(baseline.std(ddof=1))
    holds_null = adjusted.ci_low <= 0 <= adjusted.ci_high
    nearest = min(abs(adjusted.ci_low), abs(adjusted.ci_high))
    return ConfoundingResults(unadjusted, adjusted, sd, e_value(adjusted.estimate, sd),
                              1.0 if holds_null else e_value(nearest, sd), int(long["patient_id"].nunique()),
                              left_out, cohort.mode)


def _ci(c: LinearCombination) -> str:
    return f"{fmt_number(c.estimate, 2)} (95% CI {fmt_ci(c.ci_low, c.ci_high, 2)})"


def verdicts(results: ConfoundingResults) -> list[Verdict]:
    a = results.adjusted
    return [Verdict("depression_interaction", "adjusted for inclusion characteristics and centre",
                    SUPPORTED if a.ci_high < 0 else CONTRADICTED,
                    f"Adjusted, the yearly change differed by {_ci(a)} points between patients with and without "
                    f"depressive symptoms (unadjusted on the same patients {_ci(results.unadjusted)}); E-value "
                    f"{fmt_number(results.e_estimate, 2)} (CI limit {fmt_number(results.e_ci, 2)}).",
                    null_result=a.ci_low <= 0 <= a.ci_high)]


def glued_text(results: ConfoundingResults, finished: list[Verdict] | None = None) -> dict[str, str]:
    text = {"sens_confounding_list": ", ".join(LABELS[c] for c in CONFOUNDERS),
            "sens_confounding_n": str(results.n_patients),
            "sens_confounding_left_out": shown_count(results.n_left_out, results.mode),
            "sens_confounding_unadjusted": f"{_ci(results.unadjusted)} points per year",
            "sens_confounding_adjusted": f"{_ci(results.adjusted)} points per year",
            "sens_confounding_sd": f"{fmt_number(results.outcome_sd, 2)} points",
            "sens_confounding_e": fmt_number(results.e_estimate, 2),
            "sens_confounding_e_ci": fmt_number(results.e_ci, 2)}
    for verdict in finished or []:
        text["sens_confounding_verdict"] = verdict_line(verdict)
    return text
