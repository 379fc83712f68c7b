"""The adverse-effects chapter in one call: adverse effects at week 1 (C7), the monthly share of patients reporting one
over follow-up (the companion paper: falling; R7: "in the normal range", no figures), and concomitant treatments at
inclusion by depressive symptoms.

The cohort records "any adverse effect" as yes/no per call: no type, severity or attribution, so the only comparisons
possible are the week-1 share and the direction of the monthly trend. The call at month m (1-12) reports the month
before it, days [(m - 1), m) x 365.25/12 after inclusion; month 0 is the inclusion call and has no month of ketamine
behind it.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from okapi.data.codebook import DAYS_PER_MONTH
from okapi.data.loading import REAL, Cohort
from okapi.data.derive import depression_groups, month_of_day, patient_summary
from okapi.models.intervals import newcombe_difference, proportion_ci
from okapi.verdicts.ledger import NOT_COMPARABLE, LedgerEntry, PublishedStatement, entry
from okapi.data.privacy import MIN_CELL, is_small_count
from okapi.book.report import fmt_count_percent, fmt_number, fmt_p_statement
from okapi.book.tables import Row, characteristics_table
from okapi.data.targets import target_value

CHAPTER = "chapters/adverse_effects"
FOLLOW_UP_MONTHS = np.arange(1, 13)
TREATMENTS = {"opioid": "Opioid", "antidepressant": "Antidepressant",
              "antiepileptic": "Antiepileptic (gabapentinoid)", "anxiolytic": "Anxiolytic (benzodiazepine or other)"}


@dataclass(frozen=True)
class Proportion:
    count: int
    total: int
    share: float
    ci_low: float  # Wilson 95% CI
    ci_high: float


def proportion(count: int, total: int) -> Proportion:
    share, low, high = proportion_ci(count, total) if total else (np.nan, np.nan, np.nan)
    return Proportion(int(count), int(total), share, low, high)


def administration_months(cohort: Cohort) -> pd.DataFrame:
    """Unique (patient_id, month) pairs of follow-up months 1-12 holding at least one ketamine administration."""
    inclusion = cohort.patients.set_index("patient_id")["inclusion_date"]
    days = (cohort.ketamine["date"] - cohort.ketamine["patient_id"].map(inclusion)).dt.days.to_numpy()
    month = month_of_day(days)
    pairs = pd.DataFrame({"patient_id": cohort.ketamine["patient_id"].to_numpy(), "month": month})
    return pairs.drop_duplicates().reset_index(drop=True)


def monthly_reports(cohort: Cohort) -> pd.DataFrame:
    """One row per answered adverse-effect question at months 1-12: patient_id, month, adverse_effect (0/1),
    stay (1 when ketamine was given during that month), sorted by patient (patients.csv order) then month."""
    visits = cohort.visits
    answered = visits.loc[visits["adverse_effect"].notna() & visits["month"].isin(FOLLOW_UP_MONTHS),
                          ["patient_id", "month", "adverse_effect"]]
    stays = administration_months(cohort).assign(stay=1)
    reports = answered.merge(stays, on=["patient_id", "month"], how="left", validate="one_to_one")
    order = pd.Series(np.arange(len(cohort.patients)), index=cohort.patients["patient_id"])
    reports = reports.assign(order=reports["patient_id"].map(order)).sort_values(["order", "month"], kind="stable")
    return pd.DataFrame({"patient_id": reports["patient_id"].to_numpy(), "month": reports["month"].to_numpy(dtype=int),
                         "adverse_effect": reports["adverse_effect"].to_numpy(dtype=int),
                         "stay": reports["stay"].fillna(0).to_numpy(dtype=int)})


def monthly_shares(reports: pd.DataFrame) -> pd.DataFrame:
    """Per month 1-12: answered, with_effect, share and Wilson CI; the same shares in months with and without a stay."""
    rows = []
    for month in FOLLOW_UP_MONTHS:
        at_month = reports[reports["month"] == month]
        row = {"month": int(month)}
        for suffix, subset in (("", at_month), ("_stay", at_month[at_month["stay"] == 1]),
                               ("_no_stay", at_month[at_month["stay"] == 0])):
            p = proportion(int(subset["adverse_effect"].sum()), len(subset))
            row.update({f"answered{suffix}": p.total, f"with_effect{suffix}": p.count, f"share{suffix}": p.share,
                        f"ci_low{suffix}": p.ci_low, f"ci_high{suffix}": p.ci_high})
        rows.append(row)
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class OddsRatio:
    odds_ratio: float
    ci_low: float
    ci_high: float
    p: float


def fit_trend(reports: pd.DataFrame, adjust_for_stay: bool) -> dict[str, OddsRatio]:
    """Marginal logistic model (GEE, exchangeable working correlation within patient, robust SEs) of a monthly
    adverse effect on the month (per month after month 1) and, if asked, on a stay that month."""
    from statsmodels.genmod.cov_struct import Exchangeable
    from statsmodels.genmod.families import Binomial
    from statsmodels.genmod.generalized_estimating_equations import GEE

    names = ["month"] + (["stay"] if adjust_for_stay else [])
    exog = np.column_stack([np.ones(len(reports)), reports["month"].to_numpy(float) - 1]
                           + ([reports["stay"].to_numpy(float)] if adjust_for_stay else []))
    groups = pd.factorize(reports["patient_id"])[0]
    fit = GEE(reports["adverse_effect"].to_numpy(float), exog, groups=groups, family=Binomial(),
              cov_struct=Exchangeable()).fit()
    z = stats.norm.ppf(0.975)
    return {name: OddsRatio(float(np.exp(fit.params[i])), float(np.exp(fit.params[i] - z * fit.bse[i])),
                            float(np.exp(fit.params[i] + z * fit.bse[i])), float(fit.pvalues[i]))
            for i, name in enumerate(names, start=1)}


def treatment_table(patients: pd.DataFrame, min_cell: int | None) -> pd.DataFrame:
    """Concomitant treatments at inclusion: overall, by depressive symptoms, and the difference (HADS-D > 7 minus
    <= 7) in percentage points with Newcombe's 95% CI (left out where a count would be suppressed)."""
    recorded = patients[list(TREATMENTS)].astype(float)
    # Known to take one as soon as one field says so; known to take none only when all four fields say so.
    any_treatment = np.where((recorded == 1).any(axis=1), 1.0, np.where(recorded.notna().all(axis=1), 0.0, np.nan))
    patients = patients.assign(any_treatment=any_treatment)
    rows = [Row(label, column, "count") for column, label in TREATMENTS.items()]
    rows.append(Row("Any of these four", "any_treatment", "count"))
    table = characteristics_table(patients, rows, by="depressed", group_labels=depression_groups(), min_cell=min_cell)
    differences = []
    for row in rows:
        counts = []
        for level in (True, False):
            values = patients.loc[patients["depressed"] == level, row.column].dropna()
            counts += [int(values.sum()), len(values)]
        # A difference beside one shown share gives back the hidden one: hidden whenever a cell is.
        small = min_cell and any(is_small_count(c, min_cell) or is_small_count(n - c, min_cell)
                                 for c, n in zip(counts[0::2], counts[1::2]))
        if small or min(counts[1::2]) == 0:
            differences.append("-")
            continue
        difference, low, high = newcombe_difference(*counts)
        differences.append(f"{fmt_number(100 * difference, 1)} ({fmt_number(100 * low, 1)} to "
                           f"{fmt_number(100 * high, 1)})")
    table.insert(len(table.columns) - 1, "Difference, > 7 minus \u2264 7, percentage points (95% CI)", differences)
    return table


@dataclass
class AdverseEffectsResults:
    n_patients: int
    week1: Proportion  # patients with an effect among those with a week-1 answer
    week1_assessed: Proportion  # patients with a week-1 answer among all patients
    week1_by_group: dict[bool, Proportion]  # depressed -> proportion
    week1_difference: tuple[float, float, float]
    week1_vs_published_p: float  # exact binomial test of the week-1 count against the published share (C7)
    any_during_follow_up: Proportion  # patients with at least one monthly effect among those with an answer
    monthly: pd.DataFrame
    trend_crude: dict[str, OddsRatio]
    trend_adjusted: dict[str, OddsRatio]
    n_reports: int
    n_month0_reports: int  # adverse-effect answers at the inclusion call (expected none)
    treatments: pd.DataFrame
    real_mode: bool


def analyse_adverse_effects(cohort: Cohort, trend: bool = True) -> AdverseEffectsResults:
    """The chapter's analysis; without `trend` (okapi.simulation.operating's reruns, for the ledger alone) the
    monthly trend models are not fitted."""
    patients = patient_summary(cohort)
    week1 = patients["ae_week1"]
    assessed = week1.notna()
    by_group = {level: proportion(int(week1[assessed & (patients["depressed"] == level)].sum()),
                                  int((assessed & (patients["depressed"] == level)).sum())) for level in (True, False)}
    reports = monthly_reports(cohort)
    per_patient = reports.groupby("patient_id")["adverse_effect"].max()
    real = cohort.mode == REAL
    return AdverseEffectsResults(
        n_patients=len(patients),
        week1=proportion(int(week1[assessed].sum()), int(assessed.sum())),
        week1_assessed=proportion(int(assessed.sum()), len(patients)),
        week1_by_group=by_group,
        week1_difference=newcombe_difference(by_group[True].count, by_group[True].total,
                                             by_group[False].count, by_group[False].total),
        week1_vs_published_p=float(stats.binomtest(int(week1[assessed].sum()), int(assessed.sum()),
                                                   target_value("C7a") / target_value("C7b")).pvalue),
        any_during_follow_up=proportion(int(per_patient.sum()), len(per_patient)),
        monthly=monthly_shares(reports),
        trend_crude=fit_trend(reports, adjust_for_stay=False) if trend else None,
        trend_adjusted=fit_trend(reports, adjust_for_stay=True) if trend else None,
        n_reports=len(reports),
        n_month0_reports=int(cohort.visits.loc[cohort.visits["month"] == 0, "adverse_effect"].notna().sum()),
        treatments=treatment_table(patients, MIN_CELL if real else None),
        real_mode=real,
    )


def ledger_entries(results: AdverseEffectsResults) -> list[LedgerEntry]:
    """C7a, C7b: shares scaled to the companion paper's denominators (218 patients assessed at week 1, of the 256 of
    its analysis set C1), by the estimate rule with the binomial SE."""
    assessed_published, analysis_set = target_value("C7b"), target_value("C1")
    rows = []
    for target_id, p, denominator, what in (
        ("C7a", results.week1, assessed_published, "patients with an effect per {d:.0f} assessed"),
        ("C7b", results.week1_assessed, analysis_set, "patients assessed per {d:.0f} included"),
    ):
        scaled = (denominator * p.share, denominator * p.ci_low, denominator * p.ci_high)
        rows.append(entry(target_id, scaled[0], CHAPTER, ci=scaled[1:],
                          se=denominator * (p.share * (1 - p.share) / p.total) ** 0.5, digits=0,
                          note=f"{what.format(d=denominator)}; here {p.count} of {p.total}"))
    return rows


# --- what the chapter shows -------------------------------------------------------------------------------------------
def _share_text(p: Proportion) -> str:
    return (f"{p.count} ({fmt_number(100 * p.share, 1)}%; 95% CI {fmt_number(100 * p.ci_low, 1)}% to "
            f"{fmt_number(100 * p.ci_high, 1)}%)")


def _odds_text(o: OddsRatio) -> str:
    p = fmt_p_statement(o.p)
    return f"OR {fmt_number(o.odds_ratio, 2)} (95% CI {fmt_number(o.ci_low, 2)} to {fmt_number(o.ci_high, 2)}; {p})"


def monthly_table(results: AdverseEffectsResults) -> pd.DataFrame:
    """The monthly shares as the book prints them. In real mode a cell is hidden when its count, the count without an
    effect or its number answering is 1-4; and since "all answers" is the sum of the months with and without a stay,
    when one of these two is hidden so is the other."""
    rows = []
    for _, m in results.monthly.iterrows():
        def cell(suffix):
            count, total = int(m[f"with_effect{suffix}"]), int(m[f"answered{suffix}"])
            return f"{count} of {total} ({fmt_number(100 * m[f'share{suffix}'], 1)}%)" if total else "-"

        def small(suffix):
            count, total = int(m[f"with_effect{suffix}"]), int(m[f"answered{suffix}"])
            return results.real_mode and any(is_small_count(n) for n in (count, total - count, total))

        cells = {suffix: cell(suffix) for suffix in ("", "_stay", "_no_stay")}
        hidden = {suffix for suffix in cells if small(suffix)}
        if len(hidden & {"_stay", "_no_stay"}) == 1:
            hidden |= {"_stay", "_no_stay"}
        cells.update({suffix: f"<{MIN_CELL} (hidden)" if small(suffix) else "hidden" for suffix in hidden})
        rows.append({"Month": str(int(m["month"])), "All answers": cells[""], "Month with a ketamine stay":
                     cells["_stay"], "Month without": cells["_no_stay"]})
    return pd.DataFrame(rows)


def glued_texts(results: AdverseEffectsResults) -> dict[str, str]:
    """Every number of the chapter's prose; numbers carry a unit or word, since myst-nb literal_evals glued text."""
    crude, adjusted = results.trend_crude["month"], results.trend_adjusted
    first, last = results.monthly.iloc[0], results.monthly.iloc[-1]
    falls = crude.ci_high < 1
    difference, low, high = results.week1_difference
    texts = {
        "n_patients": str(results.n_patients),
        "days_per_month": f"{fmt_number(DAYS_PER_MONTH * 12, 2)}/12 days",
        "week1": _share_text(results.week1),
        "week1_assessed": fmt_count_percent(results.week1_assessed.count, results.week1_assessed.total),
        "published_week1": f"{target_value('C7a'):.0f} of {target_value('C7b'):.0f} "
                           f"({fmt_number(100 * target_value('C7a') / target_value('C7b'), 1)}%)",
        "published_analysis_set": f"{target_value('C1'):.0f}",
        "week1_depressed": _share_text(results.week1_by_group[True]),
        "week1_not_depressed": _share_text(results.week1_by_group[False]),
        "week1_difference": f"{fmt_number(100 * difference, 1)} percentage points (95% CI {fmt_number(100 * low, 1)} "
                            f"to {fmt_number(100 * high, 1)})",
        "any_follow_up": _share_text(results.any_during_follow_up),
        "n_reports": str(results.n_reports),
        "month0_sentence": ("The inclusion call (month 0), which has no month of ketamine behind it, carries no "
                            "adverse-effect answer." if results.n_month0_reports == 0 else
                            f"The inclusion call (month 0) carries {results.n_month0_reports} adverse-effect answers, "
                            "left out of the monthly shares because no month of ketamine precedes it."),
        "share_month1": f"{fmt_number(100 * first['share'], 1)}%", "share_month12": f"{fmt_number(100 * last['share'], 1)}%",
        "or_month_crude": _odds_text(crude),
        "or_month_adjusted": _odds_text(adjusted["month"]),
        "or_stay": _odds_text(adjusted["stay"]),
        "week1_vs_published_p": fmt_p_statement(results.week1_vs_published_p),
        "week1_judgement": _week1_judgement(results),
        "trend_judgement": ("The share falls over the year, as the companion paper reported." if falls else
                            "The 95% CI of the monthly odds ratio reaches 1, so this cohort does not show the fall "
                            "over follow-up that the companion paper reported."),
    }
    return texts


def _week1_judgement(results: AdverseEffectsResults) -> str:
    published = target_value("C7a") / target_value("C7b")
    test = f"exact binomial test of this cohort's count against it: {fmt_p_statement(results.week1_vs_published_p)}"
    if results.week1.ci_low <= published <= results.week1.ci_high:
        return f"The published share lies inside this cohort's 95% CI ({test})."
    text = f"The published share lies outside this cohort's 95% CI ({test})."
    if not results.real_mode:
        text += (" The synthetic cohort's generator draws each week-1 effect with exactly the published probability "
                 "(methods chapter), so this miss is sampling noise, which a 95% interval registers in 5% of cohorts.")
    return text


def published_statements(results: AdverseEffectsResults) -> list[PublishedStatement]:
    """R7: the paper called adverse effects 'in the normal range' without frequencies, so nothing can be compared."""
    week1, trend = results.week1, results.trend_crude["month"]
    course = ("fell" if trend.ci_high < 1 else "rose" if trend.ci_low > 1 else "did not clearly change")
    finding = ("no frequencies were published, so the statement cannot be checked; here "
               f"{fmt_number(100 * week1.share, 1)}% of the patients answering at week 1 reported an adverse effect, "
               f"and the monthly share {course} over follow-up")
    return [PublishedStatement("R7", "adverse effects were in the normal range", finding, NOT_COMPARABLE, CHAPTER)]
