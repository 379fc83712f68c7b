"""The cohort chapter's results in one call: Table 1, follow-up counts, and the published-vs-cohort comparison."""

from dataclasses import dataclass

import pandas as pd

from okapi.data import attrition
from okapi.data.loading import REAL, Cohort
from okapi.data.derive import depression_groups, patient_summary
from okapi.models.intervals import mean_ci, proportion_ci, sd_ci
from okapi.verdicts.ledger import LedgerEntry, entry, published_value
from okapi.data.privacy import MIN_CELL, min_shown_count, shown_count
from okapi.book.report import fmt_count_percent, fmt_mean_sd, fmt_number
from okapi.book.tables import PAIN_TYPE_LABELS, Row, characteristics_table, comparison_table
from okapi.data.targets import target_value


CHARACTERISTIC_ROWS = [
    Row("Age, years", "age", "mean_sd"),
    Row("Women", "sex", "level:F"),
    *[Row(label, "pain_type", f"level:{level}") for level, label in PAIN_TYPE_LABELS.items()],
    Row("Pain duration, years", "pain_duration_years", "median_iqr"),
    Row("Pain intensity (NPRS, 0-10)", "nprs_baseline", "mean_sd"),
    Row("HADS depression (0-21)", "hads_d_baseline", "mean_sd"),
    Row("HADS anxiety (0-21)", "hads_a_baseline", "mean_sd"),
    Row("SF-12 physical component", "sf12_pcs_baseline", "mean_sd"),
    Row("SF-12 mental component", "sf12_mcs_baseline", "mean_sd"),
    Row("Opioid", "opioid", "count"),
    Row("Antidepressant", "antidepressant", "count"),
    Row("Antiepileptic", "antiepileptic", "count"),
    Row("Anxiolytic", "anxiolytic", "count"),
    Row("Cumulative ketamine dose over 1 year, mg", "cumulative_dose_mg", "median_iqr", digits=0),
    Row("Ketamine administrations over 1 year", "n_administrations", "median_iqr", digits=0),
]


CHAPTER = "chapters/cohort"


@dataclass
class CohortDescription:
    n_patients: int
    age: tuple[float, float, float]  # mean, 95% CI
    age_sd: tuple[float, float, float]
    women: tuple[int, float, float, float]  # count, share, 95% CI of the share
    characteristics: pd.DataFrame
    answers_by_month: pd.DataFrame
    comparison: pd.DataFrame
    glued: dict[str, str]
    min_pattern_count: int


def _published(target_id: str, digits: int) -> str:
    return fmt_number(target_value(target_id), digits)


def describe_cohort(cohort: Cohort, tables: bool = True) -> CohortDescription:
    """The chapter's description; without `tables` (okapi.simulation.operating's reruns, for the ledger alone)
    Table 1 is not built."""
    patients = patient_summary(cohort)
    min_cell = MIN_CELL if cohort.mode == REAL else None
    characteristics = characteristics_table(patients, CHARACTERISTIC_ROWS, by="depressed",
                                            group_labels=depression_groups(), min_cell=min_cell) if tables else None
    groups = patients.set_index("patient_id")["depressed"].map(depression_groups())
    answers = attrition.answers_by_month(cohort.visits, groups, group_order=list(depression_groups().values()))
    patterns = attrition.pattern_summary(cohort.visits)

    baseline = patients["nprs_baseline"].dropna()
    month12 = patients["nprs_month12"].dropna()
    women = int((patients["sex"] == "F").sum())
    comparison = comparison_table([
        {"id": "R1", "quantity": "Patients", "published": _published("R1", 0), "reproduced": str(len(patients))},
        {"id": "R2", "quantity": "Age, years, mean (SD)",
         "published": f"{_published('R2a', 1)} ({_published('R2b', 1)})", "reproduced": fmt_mean_sd(patients["age"])},
        {"id": "R3", "quantity": "Women, n (%)",
         "published": f"{_published('R3a', 0)} ({_published('R3b', 1)}%)",
         "reproduced": fmt_count_percent(women, len(patients))},
        {"id": "C2", "quantity": "Pain at inclusion (NPRS), mean (SD); patients with a score",
         "published": f"{_published('C2a', 1)} ({_published('C2b', 1)}); {_published('C2c', 0)}",
         "reproduced": f"{fmt_mean_sd(baseline)}; {len(baseline)}"},
        {"id": "C3", "quantity": "Pain at month 12 (NPRS), mean (SD); patients with a score",
         "published": f"{_published('C3a', 1)} ({_published('C3b', 1)}); {_published('C3c', 0)}",
         "reproduced": f"{fmt_mean_sd(month12)}; {len(month12)}"},
    ])
    glued = {
        "n_patients": str(len(patients)),
        "n_centres": str(patients["centre"].nunique()),
        "n_depressed": fmt_count_percent(int(patients["depressed"].sum()), int(patients["depressed"].notna().sum())),
        "n_with_hads_d": str(int(patients["depressed"].notna().sum())),
        "companion_n": published_value("C1"),
        "n_never_answered": shown_count(int(patterns["never answered"]), cohort.mode),
        "n_answered_m0": str(int(answers.loc[answers["month"] == 0, "Overall"].iloc[0])),
        "n_answered_m12": str(int(answers.loc[answers["month"] == 12, "Overall"].iloc[0])),
        "n_complete": shown_count(int(patterns["complete"]), cohort.mode),
        "n_monotone": shown_count(int(patterns["monotone dropout"]), cohort.mode),
        "n_intermittent": shown_count(int(patterns["intermittent"]), cohort.mode),
    }
    return CohortDescription(
        n_patients=len(patients), age=mean_ci(patients["age"]), age_sd=sd_ci(patients["age"]),
        women=(women, *proportion_ci(women, len(patients))), characteristics=characteristics,
        answers_by_month=answers, comparison=comparison, glued=glued,
        min_pattern_count=min_shown_count(cohort.mode))


def ledger_entries(description: CohortDescription) -> list[LedgerEntry]:
    """R1-R3: the size of the cohort (exact) and age and sex (the estimate rule of okapi.verdicts.rules: the
    reproduced SE from the t interval of the mean, the chi-square interval of the SD, the binomial SE of a share)."""
    n = description.n_patients
    count, share, low, high = description.women
    se_share = (share * (1 - share) / n) ** 0.5
    return [
        entry("R1", n, CHAPTER, digits=0),
        entry("R2a", description.age[0], CHAPTER, ci=description.age[1:], digits=1),
        entry("R2b", description.age_sd[0], CHAPTER, ci=description.age_sd[1:], digits=1),
        entry("R3a", count, CHAPTER, ci=(n * low, n * high), se=n * se_share, digits=0),
        entry("R3b", 100 * share, CHAPTER, ci=(100 * low, 100 * high), se=100 * se_share, digits=1),
        entry("R3c", n - count, CHAPTER, ci=(n * (1 - high), n * (1 - low)), se=n * se_share, digits=0),
        entry("R3d", 100 * (1 - share), CHAPTER, ci=(100 * (1 - high), 100 * (1 - low)), se=100 * se_share,
              digits=1),
    ]
