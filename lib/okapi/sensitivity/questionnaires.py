"""Depression, anxiety and quality of life over the year, and which leads: depression or pain?

- Courses: HADS-D, HADS-A, SF-12 PCS and MCS, each by a mixed model on the months it was measured (read from
  visits.csv), with the pain model's random intercept and slope: the change per year with its CI.
- Cross-lagged panel model on the consecutive questionnaire months where both were measured: pain at the later month
  on pain and HADS-D at the earlier one, and HADS-D at the later month on both at the earlier one, each pair of
  consecutive waves pooled, all four scores standardised (so the two cross-lags are comparable), SEs clustered by
  patient. The difference of the two cross-lags (depression -> later pain minus pain -> later depression) has a
  patient-bootstrap interval.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from okapi.book.report import fmt_ci, fmt_number
from okapi.data.loading import Cohort
from okapi.models.lmm_batch import fit_random_slope_model
from okapi.models.mixed_models import LinearCombination, linear_combination
from okapi.plan import CI_LEVEL, SensitivitySettings

SCORES = {"hads_d": "HADS-D", "hads_a": "HADS-A", "sf12_pcs": "SF-12 PCS", "sf12_mcs": "SF-12 MCS"}


def questionnaire_months(cohort: Cohort) -> list[int]:
    """The months at which HADS-D was recorded for anyone (read from the data, not assumed)."""
    return sorted(int(m) for m in cohort.visits.loc[cohort.visits["hads_d"].notna(), "month"].unique())


def course(cohort: Cohort, score: str) -> LinearCombination:
    frame = cohort.visits.loc[cohort.visits[score].notna(), ["patient_id", "month", score]].copy()
    frame["years"] = frame["month"] / 12
    frame[score] = frame[score].astype(float)
    return linear_combination(fit_random_slope_model(frame, f"{score} ~ years", warn=False), {"years": 1.0})


def lagged_pairs(cohort: Cohort) -> pd.DataFrame:
    """One row per patient and pair of consecutive questionnaire months with NPRS and HADS-D at both, standardised
    over all the rows at the earlier and at the later month alike."""
    months = questionnaire_months(cohort)
    visits = cohort.visits[["patient_id", "month"]].assign(
        **{c: cohort.visits[c].to_numpy(dtype=float, na_value=np.nan) for c in ("nprs", "hads_d")})
    wide = visits.pivot(index="patient_id", columns="month", values=["nprs", "hads_d"])
    rows = []
    for earlier, later in zip(months[:-1], months[1:]):
        block = pd.DataFrame({"patient_id": wide.index, "pain_before": wide[("nprs", earlier)].to_numpy(),
                              "depression_before": wide[("hads_d", earlier)].to_numpy(),
                              "pain_after": wide[("nprs", later)].to_numpy(),
                              "depression_after": wide[("hads_d", later)].to_numpy(), "wave": later})
        rows.append(block.dropna())
    pairs = pd.concat(rows, ignore_index=True)
    for score in ("pain", "depression"):
        values = pd.concat([pairs[f"{score}_before"], pairs[f"{score}_after"]])
        mean, sd = values.mean(), values.std(ddof=1)
        for when in ("before", "after"):
            pairs[f"{score}_{when}"] = (pairs[f"{score}_{when}"] - mean) / sd
    return pairs


def _cross_lags(pairs: pd.DataFrame) -> tuple[float, float]:
    """(depression -> later pain, pain -> later depression), each adjusted for the outcome's own earlier value."""
    x = np.column_stack([np.ones(len(pairs)), pairs["pain_before"], pairs["depression_before"]])
    pain = np.linalg.lstsq(x, pairs["pain_after"].to_numpy(), rcond=None)[0]
    depression = np.linalg.lstsq(x, pairs["depression_after"].to_numpy(), rcond=None)[0]
    return float(pain[2]), float(depression[1])


@dataclass
class QuestionnaireResults:
    months: list[int]
    courses: dict[str, LinearCombination]
    cross_lags: tuple[float, float]
    cross_lag_ci: dict[str, tuple[float, float]]  # "depression_to_pain", "pain_to_depression", "difference"
    n_pairs: int
    n_patients: int


def run_questionnaires_sensitivity(cohort: Cohort, settings: SensitivitySettings) -> QuestionnaireResults:
    pairs = lagged_pairs(cohort)
    estimate = _cross_lags(pairs)
    patients = pairs["patient_id"].unique()
    rows_of = pairs.groupby("patient_id").indices
    rng = np.random.default_rng(settings.seed)
    draws = []
    for _ in range(settings.n_bootstrap):
        chosen = rng.choice(patients, size=patients.size, replace=True)
        index = np.concatenate([rows_of[p] for p in chosen])
        draws.append(_cross_lags(pairs.iloc[index]))
    draws = np.array(draws)
    tail = (1 - CI_LEVEL) / 2
    quantile = lambda v: tuple(float(q) for q in np.quantile(v, [tail, 1 - tail]))  # noqa: E731
    return QuestionnaireResults(
        questionnaire_months(cohort), {score: course(cohort, score) for score in SCORES}, estimate,
        {"depression_to_pain": quantile(draws[:, 0]), "pain_to_depression": quantile(draws[:, 1]),
         "difference": quantile(draws[:, 0] - draws[:, 1])}, len(pairs), int(patients.size))


def courses_table(results: QuestionnaireResults) -> pd.DataFrame:
    return pd.DataFrame([{"Score": label, "Change per year (95% CI)":
                          f"{fmt_number(results.courses[k].estimate, 2)} "
                          f"({fmt_ci(results.courses[k].ci_low, results.courses[k].ci_high, 2)})"}
                         for k, label in SCORES.items()])


def verdicts(results: QuestionnaireResults) -> list:
    """No conclusion of the paper rests on these courses or on which of depression and pain leads: they describe,
    and the chapter says so, rather than judge."""
    return []


def glued_text(results: QuestionnaireResults, finished=None) -> dict[str, str]:
    lags, ci = results.cross_lags, results.cross_lag_ci
    difference = lags[0] - lags[1]
    low, high = ci["difference"]
    text = {"sens_questionnaires_months": ", ".join(map(str, results.months)),
            "sens_questionnaires_n_pairs": str(results.n_pairs), "sens_questionnaires_n_patients": str(results.n_patients),
            "sens_questionnaires_dep_to_pain": f"{fmt_number(lags[0], 3)} ({fmt_ci(*ci['depression_to_pain'], 3)})",
            "sens_questionnaires_pain_to_dep": f"{fmt_number(lags[1], 3)} ({fmt_ci(*ci['pain_to_depression'], 3)})",
            "sens_questionnaires_difference": f"{fmt_number(difference, 3)} ({fmt_ci(low, high, 3)})",
            "sens_questionnaires_leader": (
                "depression predicted later pain more than pain predicted later depression" if low > 0 else
                "pain predicted later depression more than depression predicted later pain" if high < 0 else
                "neither predicted the other more than the reverse: the interval of the difference holds 0")}
    for key, label in SCORES.items():
        c = results.courses[key]
        text[f"sens_questionnaires_{key}"] = f"{fmt_number(c.estimate, 2)} ({fmt_ci(c.ci_low, c.ci_high, 2)})"
    return text
