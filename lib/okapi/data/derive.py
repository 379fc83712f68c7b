"""Analysis datasets shared by the chapters and the models, derived from a loaded Cohort.

`patient_summary`: one row per patient (characteristics, baseline and month-12 scores, depression group, ketamine
exposure, follow-up). `pain_long`: one row per observed NPRS, with the patient-level covariates the pain models use.
`dose_by_month` and `monthly_pairs`: the ketamine received between two calls and the pain change over them (the unit
of R9 under the book's reading).
"""

import numpy as np
import pandas as pd

from okapi.data.codebook import DAYS_PER_MONTH

from okapi.data.loading import Cohort
from okapi.plan import BASELINE_MONTH, FINAL_MONTH, HADS_D_CUTOFF

SCORES = ("nprs", "hads_d", "hads_a", "sf12_pcs", "sf12_mcs")


def _scores_at(visits: pd.DataFrame, month: int, suffix: str) -> pd.DataFrame:
    at_month = visits.loc[visits["month"] == month, ["patient_id", *SCORES]]
    return at_month.rename(columns={score: f"{score}_{suffix}" for score in SCORES})


def depression_groups(cutoff: int = HADS_D_CUTOFF) -> dict[bool, str]:
    """The labels of the two groups split at `cutoff`, keyed by `depressed`: HADS-D at most / above the cut-off."""
    return {False: f"HADS-D \u2264 {cutoff}", True: f"HADS-D > {cutoff}"}


def patient_summary(cohort: Cohort, threshold: int = HADS_D_CUTOFF) -> pd.DataFrame:
    """One row per patient, in patients.csv order.

    Adds <score>_baseline and <score>_month12 for NPRS, HADS-D, HADS-A, SF-12 PCS/MCS (missing where not measured);
    depressed = hads_d_baseline > threshold (nullable: NA when baseline HADS-D is missing); cumulative_dose_mg and
    n_administrations from ketamine.csv (0 when a patient has none); n_nprs_observed and last_month_observed
    (the last month with an NPRS; NA when none).
    """
    visits, ketamine = cohort.visits, cohort.ketamine
    exposure = ketamine.groupby("patient_id")["dose_mg"].agg(cumulative_dose_mg="sum", n_administrations="size")
    observed = visits.loc[visits["nprs"].notna()].groupby("patient_id")["month"]
    follow_up = pd.DataFrame({"n_nprs_observed": observed.size(), "last_month_observed": observed.max()})
    summary = (
        cohort.patients.merge(_scores_at(visits, BASELINE_MONTH, "baseline"), on="patient_id", how="left",
                              validate="one_to_one")
        .merge(_scores_at(visits, FINAL_MONTH, "month12"), on="patient_id", how="left", validate="one_to_one")
        .merge(exposure, left_on="patient_id", right_index=True, how="left", validate="one_to_one")
        .merge(follow_up, left_on="patient_id", right_index=True, how="left", validate="one_to_one")
    )
    summary["depressed"] = summary["hads_d_baseline"] > threshold
    summary["cumulative_dose_mg"] = summary["cumulative_dose_mg"].fillna(0.0)
    for count in ("n_administrations", "n_nprs_observed"):
        summary[count] = summary[count].fillna(0).astype("int64")
    summary["last_month_observed"] = summary["last_month_observed"].astype("Int64")
    return summary.reset_index(drop=True)


def pain_long(cohort: Cohort, threshold: int = HADS_D_CUTOFF) -> pd.DataFrame:
    """One row per observed NPRS (patients in patients.csv order, then month), with the pain models' covariates.

    Columns: patient_id, centre, month, years (= month / 12), nprs (int64, never missing here), hads_d_baseline,
    hads_a_baseline (nullable), depressed (nullable boolean), pain_type, cumulative_dose_mg.
    """
    summary = patient_summary(cohort, threshold)
    covariates = summary[["patient_id", "centre", "hads_d_baseline", "hads_a_baseline", "depressed", "pain_type",
                          "cumulative_dose_mg"]]
    observed = cohort.visits.loc[cohort.visits["nprs"].notna(), ["patient_id", "month", "nprs"]]
    long = observed.merge(covariates, on="patient_id", how="inner", validate="many_to_one")
    position = pd.Series(range(len(summary)), index=summary["patient_id"])
    long = long.assign(order=long["patient_id"].map(position)).sort_values(["order", "month"], kind="stable")
    long["years"] = long["month"] / 12
    long["nprs"] = long["nprs"].astype("int64")
    columns = ["patient_id", "centre", "month", "years", "nprs", "hads_d_baseline", "hads_a_baseline", "depressed",
               "pain_type", "cumulative_dose_mg"]
    return long[columns].reset_index(drop=True)


N_MONTHS = FINAL_MONTH + 1


def month_of_day(day) -> np.ndarray:
    """The month an administration belongs to: month t runs from call t - 1 to call t (day 0, the inclusion stay,
    is month 1); anything after day 365 counts in month 12."""
    return np.minimum(np.asarray(day) // DAYS_PER_MONTH + 1, FINAL_MONTH).astype(int)


def dose_by_month(cohort: Cohort) -> np.ndarray:
    """Grams of ketamine received in each month, patients (patients.csv order) x months 0-12 (month 0 is empty)."""
    position = pd.Series(np.arange(len(cohort.patients)), index=cohort.patients["patient_id"])
    inclusion = cohort.patients.set_index("patient_id")["inclusion_date"]
    ketamine = cohort.ketamine
    day = (ketamine["date"] - ketamine["patient_id"].map(inclusion)).dt.days.to_numpy()
    flat = position.loc[ketamine["patient_id"]].to_numpy() * N_MONTHS + month_of_day(day)
    grams = np.bincount(flat, weights=ketamine["dose_mg"].to_numpy(dtype=float) / 1000.0,
                        minlength=len(position) * N_MONTHS)
    return grams.reshape(len(position), N_MONTHS)


def pair_arrays(nprs: np.ndarray, dose_month_g: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every pair of consecutive answered calls (t - 1, t): (patient row, month t, grams received in month t, pain
    diminution NPRS(t - 1) - NPRS(t)), by patient then month."""
    both = ~np.isnan(nprs[:, :-1]) & ~np.isnan(nprs[:, 1:])
    row, previous = np.nonzero(both)
    month = previous + 1
    return row, month, dose_month_g[row, month], nprs[row, previous] - nprs[row, month]


def monthly_pairs(cohort: Cohort) -> pd.DataFrame:
    """One row per pair of consecutive answered calls: patient_id, month (the later call), dose_g (received between
    the two calls), diminution (NPRS at the earlier call minus NPRS at the later one)."""
    visits = cohort.visits.pivot(index="patient_id", columns="month", values="nprs")
    visits = visits.reindex(index=cohort.patients["patient_id"], columns=range(N_MONTHS))
    row, month, dose, diminution = pair_arrays(visits.to_numpy(dtype=float, na_value=np.nan), dose_by_month(cohort))
    return pd.DataFrame({"patient_id": cohort.patients["patient_id"].to_numpy()[row], "month": month,
                         "dose_g": dose, "diminution": diminution})
