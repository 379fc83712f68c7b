"""Clinical relevance: responders by depression group, the one-year change against the minimal clinically important
difference, and how much of the first month's fall regression to the mean can explain.

- Responders (IMMPACT, Dworkin 2008; Farrar 2001): a fall in NPRS from inclusion of at least RESPONDER_PERCENT % or of
  at least RESPONDER_POINTS points, at each of RESPONDER_MONTHS. Two handlings of a missing score, both shown:
  complete cases (patients who answered at inclusion and at that month) and non-responder imputation (every patient
  with a score at inclusion; a missing score counts as no response, the conservative convention of pain trials).
  Groups by baseline depression (HADS-D above the analysis cut-off); the difference in shares with Newcombe's hybrid
  score interval (method 10 of Newcombe 1998).
- The one-year change of the pain mixed model (pain chapter) set against a fall of PAIN_MCID_POINTS points.
- Regression to the mean: patients start ketamine when their pain is at its worst, so part of the first month's fall
  would happen anyway. The fall from month 0 to month 1 beyond the monthly trend of months 1-12 bounds from above what
  regression to the mean (and a quick onset of ketamine) can add; the decline after month 1 is not explained by it.
"""

from dataclasses import dataclass

import pandas as pd

from okapi.book.report import fmt_ci, fmt_number
from okapi.data.derive import pain_long, patient_summary
from okapi.data.loading import Cohort
from okapi.data.privacy import shown_count
from okapi.models.lmm_batch import fit_random_slope_model
from okapi.models.intervals import newcombe_difference
from okapi.models.mixed_models import LinearCombination, linear_combination
from okapi.plan import (CI_LEVEL, HADS_D_CUTOFF, PAIN_MCID_POINTS, RESPONDER_MONTHS, RESPONDER_PERCENT,
                        RESPONDER_POINTS, SensitivitySettings)
from okapi.sensitivity.verdicts import Verdict, verdict_line
from okapi.verdicts.rules import CONTRADICTED, NOT_ASSESSABLE, SUPPORTED

RULES = {"percent": f">= {RESPONDER_PERCENT}% fall", "points": f">= {fmt_number(RESPONDER_POINTS, 0)}-point fall"}
HANDLINGS = {"complete": "complete cases", "nri": "missing = non-responder"}


def responders(cohort: Cohort) -> pd.DataFrame:
    """One row per month, rule, handling and group: n, responders, share; plus the depressed - not difference."""
    scores = cohort.visits.pivot(index="patient_id", columns="month", values="nprs")
    summary = patient_summary(cohort, HADS_D_CUTOFF).set_index("patient_id")
    baseline = scores[0].astype(float)
    rows = []
    for month in RESPONDER_MONTHS:
        later = scores[month].astype(float)
        fall = baseline - later
        responded = {"percent": (fall >= RESPONDER_PERCENT / 100 * baseline) & (baseline > 0),
                     "points": fall >= RESPONDER_POINTS}
        for handling in HANDLINGS:
            eligible = baseline.notna() & (later.notna() if handling == "complete" else True)
            for rule, hit in responded.items():
                counts = {}
                for depressed in (True, False):
                    in_group = eligible & (summary["depressed"].reindex(scores.index) == depressed).fillna(False)
                    counts[depressed] = (int((hit & in_group).sum()), int(in_group.sum()))
                difference = newcombe_difference(*counts[True], *counts[False], level=CI_LEVEL)
                rows.append({"month": month, "rule": rule, "handling": handling,
                             "responders_depressed": counts[True][0], "n_depressed": counts[True][1],
                             "responders_not": counts[False][0], "n_not": counts[False][1],
                             "difference": difference[0], "ci_low": difference[1], "ci_high": difference[2]})
    return pd.DataFrame(rows)


def first_month_excess(cohort: Cohort) -> tuple[float, float, float]:
    """(mean fall month 0 -> 1 among patients answering both, the monthly trend over months 1-12 from the pain mixed
    model on those months, the excess of the first over the second)."""
    scores = cohort.visits.pivot(index="patient_id", columns="month", values="nprs").astype(float)
    both = scores[[0, 1]].dropna()
    fall = float((both[0] - both[1]).mean())
    long = pain_long(cohort)
    later = long[long["month"] >= 1]
    trend = -linear_combination(fit_random_slope_model(later, "nprs ~ years", warn=False), {"years": 1 / 12}).estimate
    return fall, trend, fall - trend


@dataclass
class ClinicalResults:
    responders: pd.DataFrame
    one_year: LinearCombination
    first_month: tuple[float, float, float]
    mode: str


def run_clinical_sensitivity(cohort: Cohort, settings: SensitivitySettings) -> ClinicalResults:
    fit = fit_random_slope_model(pain_long(cohort), "nprs ~ years", warn=False)
    return ClinicalResults(responders(cohort), linear_combination(fit, {"years": 1.0}), first_month_excess(cohort),
                           cohort.mode)


def responder_table(results: ClinicalResults) -> pd.DataFrame:
    r, mode = results.responders, results.mode

    def share(x: int, n: int) -> str:
        return f"{shown_count(x, mode)}/{shown_count(n, mode)} ({fmt_number(100 * x / n, 0)}%)" if n else "-"

    return pd.DataFrame({
        "Month": r["month"].astype(str), "Responder": [RULES[k] for k in r["rule"]],
        "Missing scores": [HANDLINGS[k] for k in r["handling"]],
        f"HADS-D > {HADS_D_CUTOFF}": [share(x, n) for x, n in zip(r["responders_depressed"], r["n_depressed"])],
        f"HADS-D <= {HADS_D_CUTOFF}": [share(x, n) for x, n in zip(r["responders_not"], r["n_not"])],
        "Difference, points of % (95% CI)": [f"{fmt_number(100 * d, 1)} ({fmt_ci(100 * lo, 100 * hi, 1)})"
                                             for d, lo, hi in zip(r["difference"], r["ci_low"], r["ci_high"])]})


def _final(results: ClinicalResults, rule: str, handling: str) -> pd.Series:
    r = results.responders
    return r[(r["month"] == max(RESPONDER_MONTHS)) & (r["rule"] == rule) & (r["handling"] == handling)].iloc[0]


def verdicts(results: ClinicalResults) -> list[Verdict]:
    """depression_interaction read clinically: more responders at month 12 among the depressed (their pain fell
    faster), by the >= 30% rule under each handling of missing scores."""
    out = []
    for handling, label in HANDLINGS.items():
        row = _final(results, "percent", handling)
        excludes = row["ci_low"] > 0 or row["ci_high"] < 0
        # More responders among the depressed supports it, fewer contradicts it. No difference seen is not assessable:
        # no power was simulated for a comparison of shares, far less powerful than the mixed model's interaction.
        outcome = SUPPORTED if row["ci_low"] > 0 else CONTRADICTED if row["ci_high"] < 0 else NOT_ASSESSABLE
        out.append(Verdict(
            "depression_interaction", f"responders at month {max(RESPONDER_MONTHS)} ({RULES['percent']}, {label})",
            outcome,
            f"At month {max(RESPONDER_MONTHS)} the share of responders ({RULES['percent']}, {label}) differed by "
            f"{fmt_number(100 * row['difference'], 1)} points of % ({fmt_ci(100 * row['ci_low'], 100 * row['ci_high'], 1)}) "
            "between patients with and without depressive symptoms"
            + ("." if excludes else "; the power of this comparison was not measured."), null_result=not excludes))
    return out


def glued_text(results: ClinicalResults, finished: list[Verdict] | None = None) -> dict[str, str]:
    fall, trend, excess = results.first_month
    c = results.one_year
    text = {"sens_clinical_percent": f"{RESPONDER_PERCENT}%", "sens_clinical_points": fmt_number(RESPONDER_POINTS, 0),
            "sens_clinical_months": ", ".join(map(str, RESPONDER_MONTHS)),
            "sens_clinical_mcid": f"{fmt_number(PAIN_MCID_POINTS, 0)} points",
            "sens_clinical_one_year": f"{fmt_number(c.estimate, 2)} points (95% CI {fmt_ci(c.ci_low, c.ci_high, 2)})",
            "sens_clinical_mcid_judgement": (
                f"smaller than a fall of {fmt_number(PAIN_MCID_POINTS, 0)} points: the whole 95% CI lies above "
                f"{fmt_number(-PAIN_MCID_POINTS, 0)}" if c.ci_low > -PAIN_MCID_POINTS else
                f"at least as large as a fall of {fmt_number(PAIN_MCID_POINTS, 0)} points" if c.ci_high <= -PAIN_MCID_POINTS
                else f"compatible with a fall of {fmt_number(PAIN_MCID_POINTS, 0)} points or less"),
            "sens_clinical_first_fall": f"{fmt_number(fall, 2)} points", "sens_clinical_trend": f"{fmt_number(trend, 3)} points",
            "sens_clinical_excess": f"{fmt_number(excess, 2)} points"}
    for rule in RULES:
        for handling in HANDLINGS:
            row = _final(results, rule, handling)
            text[f"sens_clinical_{rule}_{handling}"] = (
                f"{fmt_number(100 * row['difference'], 1)} points of % "
                f"({fmt_ci(100 * row['ci_low'], 100 * row['ci_high'], 1)})")
    for verdict in finished or []:
        key = "complete" if HANDLINGS["complete"] in verdict.analysis else "nri"
        text[f"sens_clinical_verdict_{key}"] = verdict_line(verdict)
    return text
