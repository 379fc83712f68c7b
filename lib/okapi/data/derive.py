"""Analysis datasets shared by the chapters and the models, derived from a loaded Cohort.

`patient_summary`: one row per patient (characteristics, baseline and month-12 scores, depression group, ketamine
exposure, follow-up). `pain_long`: one row per observed NPRS, with the patient-level covariates the pain models use.
"""

import pandas as pd

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
