"""Sensitivity section "Mediation, honestly": the published mediation model under explicit readings.

Depression at inclusion is measured before the cumulative dose accrues, so it cannot mediate dose -> pain. Four
readings of the published model, each with its indirect effect, direct effect and proportion mediated (percentile
bootstrap over patients, settings.n_bootstrap resamples, settings.seed):
- published: X = dose over the year (g), M = HADS-D > 7 at inclusion, Y = pain diminution per month (the mediation
  chapter's model; temporal order X after M, so a*b/c is the share of the crude association removed by adjustment);
- moderator: Y ~ X * M; the dose slope differs by depression and "indirect" is the modification part c3 * P(M = 1);
- change: X = dose before the month-m questionnaire, M = HADS-D at month m minus at inclusion (baseline HADS-D a
  covariate of every regression), Y = pain diminution over the months after m: ordered X -> M -> Y;
- time: X = months on treatment, M = HADS-D at a questionnaire month, Y = NPRS of the following month, within
  patients (patient means removed), resampling patients with all their rows.
The Imai-Keele-Yamamoto curve (okapi.models.mediation.indirect_effect_sensitivity) gives, for each mediation reading, the
mediator-outcome error correlation rho at which the indirect effect vanishes.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from okapi.data.codebook import DAYS_PER_MONTH

from okapi.models.mediation import SensitivityCurve, bootstrap_indices, indirect_effect_sensitivity, mediation_paths
from okapi.chapters.mediation import MG_PER_G, mediation_dataset, pain_diminution
from okapi.verdicts.ledger import published_value
from okapi.data.privacy import shown_count
from okapi.book.report import and_list, fmt_estimate_ci, fmt_number
from okapi.sensitivity.verdicts import NOT_ASSESSABLE, CONTRADICTED, SUPPORTED, Verdict, verdict_line
from okapi.data.targets import target_value
from okapi.plan import CI_LEVEL, HADS_D_CUTOFF, MEDIATION_MIN_SCORES, MEDIATION_MIN_SPAN_MONTHS, SensitivitySettings

READINGS = ("published", "moderator", "change", "time")
MEDIATION_READINGS = ("published", "change", "time")  # the ones with an indirect effect and an IKY curve
TEMPORALLY_ORDERED = {"published": False, "moderator": True, "change": True, "time": True}
MEDIATION_NAMES = ("a", "b", "direct", "total", "indirect", "proportion")
MODERATOR_NAMES = ("interaction", "effect_depressed", "direct", "total", "indirect", "proportion")


@dataclass(frozen=True)
class ReadingResult:
    key: str  # a member of READINGS
    n_patients: int
    n_rows: int  # observations (patient-months for the time reading, else = n_patients)
    estimates: pd.DataFrame  # index: quantity; columns estimate, ci_low, ci_high (percentile bootstrap)
    total_flips_sign: float  # share of resamples whose total effect has the other sign
    curve: SensitivityCurve | None  # IKY; None for the moderator reading
    extra: dict  # reading-specific facts for the prose (months, share depressed, ...)


@dataclass
class MediationReadingsResults:
    readings: dict[str, ReadingResult]
    n_bootstrap: int
    seed: int
    change_month: int
    questionnaire_months: tuple[int, ...]
    mode: str


# --- estimation ------------------------------------------------------------------------------------------------------
def resample_counts(n_units: int, n_boot: int, seed: int) -> np.ndarray:
    """How many times each unit is drawn in each resample (n_boot x n_units): the same draws as bootstrap_mediation."""
    indices = bootstrap_indices(n_units, n_boot, seed)
    flat = (indices + n_units * np.arange(n_boot)[:, None]).ravel()
    return np.bincount(flat, minlength=n_boot * n_units).reshape(n_boot, n_units).astype(float)


def weighted_least_squares(design: np.ndarray, target: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Coefficients of `target` on `design` for each row of `weights` (resamples x rows): resamples x columns."""
    n, p = design.shape
    cross = (weights @ (design[:, :, None] * design[:, None, :]).reshape(n, p * p)).reshape(-1, p, p)
    right = weights @ (design * target[:, None])
    return np.linalg.solve(cross, right[..., None])[..., 0]


def weighted_mediation_paths(base: np.ndarray, x, m, y, weights: np.ndarray) -> np.ndarray:
    """a, b, c' (direct), c (total), a*b, a*b/c per row of `weights`; `base` holds the intercept/covariate columns
    (none for data already centred within patients)."""
    x, m, y = (np.asarray(v, dtype=float) for v in (x, m, y))
    a = weighted_least_squares(np.column_stack([base, x]), m, weights)[:, -1]
    outcome = weighted_least_squares(np.column_stack([base, x, m]), y, weights)
    total = weighted_least_squares(np.column_stack([base, x]), y, weights)[:, -1]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.column_stack([a, outcome[:, -1], outcome[:, -2], total, a * outcome[:, -1],
                                a * outcome[:, -1] / total])


def weighted_moderation(x, m, y, weights: np.ndarray) -> np.ndarray:
    """Y = c0 + c1 X + c2 M + c3 X M: c3, c1 + c3, c1, the average slope c1 + c3 p (p = share with M = 1), the
    modification part c3 p and its share of the average slope, per row of `weights`."""
    x, m, y = (np.asarray(v, dtype=float) for v in (x, m, y))
    coef = weighted_least_squares(np.column_stack([np.ones_like(x), x, m, x * m]), y, weights)
    share = weights @ m / weights.sum(axis=1)
    c1, c3 = coef[:, 1], coef[:, 3]
    average = c1 + c3 * share
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.column_stack([c3, c1 + c3, c1, average, c3 * share, c3 * share / average])


def summarise_replicates(names, point: np.ndarray, replicates: np.ndarray) -> tuple[pd.DataFrame, float]:
    rows = {}
    for j, name in enumerate(names):
        boot = replicates[:, j][np.isfinite(replicates[:, j])]
        low, high = np.quantile(boot, [(1 - CI_LEVEL) / 2, (1 + CI_LEVEL) / 2])
        rows[name] = {"estimate": float(point[j]), "ci_low": float(low), "ci_high": float(high)}
    total = list(names).index("total")
    flips = float(np.mean(np.sign(replicates[:, total]) != np.sign(point[total])))
    return pd.DataFrame.from_dict(rows, orient="index"), flips


def _mediation_reading(key, x, m, y, covariates, settings, extra) -> ReadingResult:
    n = len(np.asarray(y))
    point = mediation_paths(x, m, y, covariates)
    replicates = mediation_paths(x, m, y, covariates, indices=bootstrap_indices(n, settings.n_bootstrap,
                                                                                 settings.seed))
    estimates, flips = summarise_replicates(MEDIATION_NAMES, point, replicates)
    curve = indirect_effect_sensitivity(x, m, y, covariates)
    return ReadingResult(key, n, n, estimates, flips, curve, extra)


# --- the readings' data ----------------------------------------------------------------------------------------------
def _published_frame(cohort) -> pd.DataFrame:
    frame, _ = mediation_dataset(cohort)  # sorted by patient_id, so resamples do not depend on file order
    return frame.loc[frame["analysed"]].reset_index(drop=True)


def change_frame(cohort, month: int) -> pd.DataFrame:
    """Per patient, sorted by patient_id: dose before the month-`month` call (g), HADS-D at inclusion and at `month`,
    and pain diminution over the months after `month` (same eligibility rule as the mediation chapter)."""
    patients, visits, ketamine = cohort.patients, cohort.visits, cohort.ketamine
    days = (pd.to_datetime(ketamine["date"]) - ketamine["patient_id"].map(
        pd.to_datetime(patients.set_index("patient_id")["inclusion_date"]))).dt.days
    early = ketamine.loc[days.to_numpy() < month * DAYS_PER_MONTH].groupby("patient_id")["dose_mg"].sum()
    hads = visits.pivot(index="patient_id", columns="month", values="hads_d")
    later = pain_diminution(visits.loc[visits["month"] > month])["diminution_per_month"]
    frame = pd.DataFrame({"patient_id": sorted(patients["patient_id"])})
    frame["dose_g"] = frame["patient_id"].map(early).fillna(0.0).to_numpy(dtype=float) / MG_PER_G
    for column, at in (("hads_d_baseline", 0), ("hads_d_later", month)):
        frame[column] = frame["patient_id"].map(hads[at]).to_numpy(dtype=float, na_value=np.nan)
    frame["hads_d_change"] = frame["hads_d_later"] - frame["hads_d_baseline"]
    frame["diminution_after"] = frame["patient_id"].map(later).to_numpy(dtype=float, na_value=np.nan)
    return frame.dropna().reset_index(drop=True)


def questionnaire_months(visits: pd.DataFrame) -> tuple[int, ...]:
    """Months at which any HADS-D was recorded (read from the data, not assumed)."""
    return tuple(int(m) for m in sorted(visits.loc[visits["hads_d"].notna(), "month"].unique()))


def time_frame(cohort) -> pd.DataFrame:
    """One row per patient and questionnaire month t (with a month t + 1): HADS-D at t, NPRS at t + 1, each centred
    on the patient's own mean over the rows kept; patients with fewer than two rows are dropped (no within-patient
    contrast)."""
    visits = cohort.visits
    months = [t for t in questionnaire_months(visits) if t + 1 <= visits["month"].max()]
    wide = visits.pivot(index="patient_id", columns="month")
    rows = [pd.DataFrame({"patient_id": wide.index, "month": t, "hads_d": wide[("hads_d", t)].to_numpy(dtype=float),
                          "nprs_next": wide[("nprs", t + 1)].to_numpy(dtype=float)}) for t in months]
    frame = pd.concat(rows).dropna().sort_values(["patient_id", "month"], kind="stable")
    frame = frame.loc[frame.groupby("patient_id")["month"].transform("size") >= 2].reset_index(drop=True)
    for column in ("month", "hads_d", "nprs_next"):
        frame[f"{column}_within"] = frame[column] - frame.groupby("patient_id")[column].transform("mean")
    return frame


# --- the section -----------------------------------------------------------------------------------------------------
def run_mediation_sensitivity(cohort, settings: SensitivitySettings) -> MediationReadingsResults:
    """Every reading with its bootstrap intervals and, where it has an indirect effect, its IKY curve."""
    readings = {}
    published = _published_frame(cohort)
    x, m, y = published["dose_g"], published["depressed"], published["diminution_per_month"]
    readings["published"] = _mediation_reading("published", x, m, y, None, settings, {})

    point = weighted_moderation(x, m, y, np.ones((1, len(y))))[0]
    replicates = weighted_moderation(x, m, y, resample_counts(len(y), settings.n_bootstrap, settings.seed))
    estimates, flips = summarise_replicates(MODERATOR_NAMES, point, replicates)
    readings["moderator"] = ReadingResult("moderator", len(y), len(y), estimates, flips, None,
                                          {"share_depressed": float(np.mean(m)), "n_depressed": int(np.sum(m))})

    month = int(settings.hads_change_month)
    change = change_frame(cohort, month)
    readings["change"] = _mediation_reading(
        "change", change["dose_g"], change["hads_d_change"], change["diminution_after"],
        change[["hads_d_baseline"]].to_numpy(), settings,
        {"hads_change_mean": float(change["hads_d_change"].mean()), "dose_median": float(change["dose_g"].median())})

    within = time_frame(cohort)
    codes, patient_ids = pd.factorize(within["patient_id"])
    x, m, y = (within[f"{c}_within"].to_numpy() for c in ("month", "hads_d", "nprs_next"))
    no_columns = np.empty((len(within), 0))
    point = weighted_mediation_paths(no_columns, x, m, y, np.ones((1, len(within))))[0]
    patient_weights = resample_counts(len(patient_ids), settings.n_bootstrap, settings.seed)
    replicates = weighted_mediation_paths(no_columns, x, m, y, patient_weights[:, codes])
    estimates, flips = summarise_replicates(MEDIATION_NAMES, point, replicates)
    readings["time"] = ReadingResult("time", len(patient_ids), len(within), estimates, flips,
                                     indirect_effect_sensitivity(x, m, y), {})
    return MediationReadingsResults(readings, settings.n_bootstrap, settings.seed, month,
                                    questionnaire_months(cohort.visits), cohort.mode)


# --- what each reading means -----------------------------------------------------------------------------------------
def reading_labels(results: MediationReadingsResults) -> dict[str, str]:
    return {"published": "Published arithmetic", "moderator": "Depression as a moderator",
            "change": f"Dose \u2192 change in depression (to month {results.change_month}) \u2192 later pain",
            "time": "Time on treatment \u2192 depression \u2192 pain"}


def reading_roles(results: MediationReadingsResults) -> dict[str, str]:
    m = results.change_month
    return {
        "published": f"X: dose over the year (g); M: HADS-D > {HADS_D_CUTOFF} at inclusion; Y: pain diminution "
                     "over the year (NPRS points per month)",
        "moderator": f"X: dose over the year (g); modifier: HADS-D > {HADS_D_CUTOFF} at inclusion; Y: pain "
                     "diminution over the year; Y ~ X x modifier",
        "change": f"X: dose before the month-{m} call (g); M: HADS-D at month {m} minus at inclusion (baseline "
                  f"HADS-D held fixed); Y: pain diminution from month {m + 1} on",
        "time": "X: months on treatment; M: HADS-D at a questionnaire month; Y: NPRS of the following month; all "
                "within patients",
    }


def reading_order(results: MediationReadingsResults) -> dict[str, str]:
    m = results.change_month
    return {
        "published": "No: M is measured at inclusion, before the dose it is said to carry accrues",
        "moderator": "Yes for effect modification (a baseline trait may modify a later exposure's effect); it is "
                     "not mediation",
        "change": f"Yes: dose before month {m}, then HADS-D at month {m}, then pain after it; the dose was not "
                  "randomised",
        "time": "Yes in order (HADS-D at month t, pain over the next month), but the exposure is time, not "
                "ketamine, and there is no untreated comparison",
    }


def published_share_meaning(results: MediationReadingsResults, published: str) -> dict[str, str]:
    """What the published proportion would say under each reading (`published` as printed, e.g. '64.6%')."""
    return {
        "published": f"Adjusting the dose-relief association for baseline depression removes {published} of it: a "
                     "statement about confounding, not about a pathway",
        "moderator": f"{published} of the average dose-relief slope is the extra slope of patients with depressive "
                     "symptoms; nothing is carried through depression",
        "change": f"{published} of the effect of the early dose on later relief passes through the change in "
                  "depressive symptoms that the dose caused",
        "time": f"{published} of the monthly fall in pain goes with the fall in depressive symptoms over the same "
                "months; it says nothing about ketamine against no ketamine",
    }


# --- verdicts --------------------------------------------------------------------------------------------------------
def _fmt(reading: ReadingResult, name: str, digits: int = 4, percent: bool = False) -> str:
    row = reading.estimates.loc[name]
    k = 100.0 if percent else 1.0
    text = fmt_estimate_ci(k * row["estimate"], k * row["ci_low"], k * row["ci_high"], 1 if percent else digits)
    return text.replace(" (95% CI", "% (95% CI").replace(")", "%)") if percent else text


def _includes_zero(reading: ReadingResult, name: str) -> bool:
    row = reading.estimates.loc[name]
    return row["ci_low"] <= 0 <= row["ci_high"]


def mediation_outcome(reading: ReadingResult, published_share: float) -> tuple[str, bool]:
    """(outcome, whether it rests on no effect seen). Supported if the indirect effect's 95% CI excludes zero and
    holds the published share; not assessable when the share's CI holds both 0% and 100% (no mediation cannot be
    told from complete mediation). Temporal order is a question of design, said in the sentence, not a test that
    could fail here: a reading that puts the mediator before the exposure is judged on its numbers like the others."""
    share = reading.estimates.loc["proportion"]
    if share["ci_low"] <= 0 and share["ci_high"] >= 1:
        return NOT_ASSESSABLE, True
    inside = share["ci_low"] <= published_share <= share["ci_high"]
    null = _includes_zero(reading, "indirect")
    return (SUPPORTED if inside and not null else CONTRADICTED), null


def verdicts(results: MediationReadingsResults) -> list[Verdict]:
    """depression_mediates per mediation reading (mediation_outcome); dose_not per reading with the dose as exposure:
    supported when every dose effect of the reading (total and direct; for the moderator, in each group) has a 95% CI
    holding zero: support from effects not seen, which the registry weighs by the power to see one."""
    r, labels = results.readings, reading_labels(results)
    share = target_value("R13") / 100
    out = []
    for key in MEDIATION_READINGS:
        reading = r[key]
        rho = fmt_number(reading.curve.rho_at_zero, 2)
        lead = ("Depression at inclusion precedes the year's dose, so it cannot mediate it; in the published "
                "arithmetic" if key == "published" else f"Read as {labels[key].lower()},")
        robustness = (f"its 95% CI already includes zero, and its estimate would vanish at an error correlation of "
                      f"{rho}" if _includes_zero(reading, "indirect") else
                      f"an unmeasured common cause correlating the mediator and outcome errors at {rho} would "
                      "remove it")
        outcome, null = mediation_outcome(reading, share)
        out.append(Verdict(
            "depression_mediates", f"mediation reading: {labels[key].lower()}", outcome,
            f"{lead} the indirect effect is {_fmt(reading, 'indirect')} and the proportion mediated "
            f"{_fmt(reading, 'proportion', percent=True)} ({shown_count(reading.n_patients, results.mode)} "
            f"patients); {robustness}.", null_result=null))
    for key, names in (("published", ("total", "direct")), ("moderator", ("direct", "effect_depressed")),
                       ("change", ("total", "direct"))):
        reading = r[key]
        outcome = SUPPORTED if all(_includes_zero(reading, name) for name in names) else CONTRADICTED
        if key == "moderator":
            sentence = (f"The dose slope of pain diminution is {_fmt(reading, 'direct')} per gram without depressive "
                        f"symptoms and {_fmt(reading, 'effect_depressed')} with them (difference "
                        f"{_fmt(reading, 'interaction')}): the rule asks whether the dose goes with pain "
                        "diminution in either group, and neither group's slope differs from 0 even where the two "
                        "slopes differ from each other.")
        else:
            lead = ("In the published arithmetic, the dose's" if key == "published"
                    else f"Read as {labels[key].lower()}, the early dose's")
            sentence = (f"{lead} total effect on pain diminution is {_fmt(reading, 'total')} per gram and its direct "
                        f"effect {_fmt(reading, 'direct')}.")
        out.append(Verdict("dose_not", f"mediation reading: {labels[key].lower()}", outcome, sentence,
                           null_result=outcome == SUPPORTED))
    return out


# --- what the section prints -----------------------------------------------------------------------------------------
def glued_text(results: MediationReadingsResults, finished: list[Verdict] | None = None) -> dict[str, str]:
    p = "sens_mediation_"
    texts = {f"{p}n_bootstrap": str(results.n_bootstrap), f"{p}seed": str(results.seed),
             f"{p}change_month": str(results.change_month), f"{p}after_month": str(results.change_month + 1),
             f"{p}questionnaire_months": and_list([str(m) for m in results.questionnaire_months]),
             f"{p}min_scores": str(MEDIATION_MIN_SCORES), f"{p}min_span": str(MEDIATION_MIN_SPAN_MONTHS),
             f"{p}published_r13": published_value("R13") + "%"}
    for key, reading in results.readings.items():
        texts[f"{p}{key}_n"] = shown_count(reading.n_patients, results.mode)
        texts[f"{p}{key}_n_rows"] = str(reading.n_rows)
        texts[f"{p}{key}_flips"] = fmt_number(100 * reading.total_flips_sign, 1) + "%"
        for name in reading.estimates.index:
            texts[f"{p}{key}_{name}"] = _fmt(reading, name, percent=name == "proportion")
        if reading.curve is not None:
            texts[f"{p}{key}_rho_zero"] = fmt_number(reading.curve.rho_at_zero, 2)
            texts[f"{p}{key}_rho_squared"] = fmt_number(100 * reading.curve.rho_at_zero ** 2, 1) + "%"
    moderator = results.readings["moderator"].extra
    texts[f"{p}moderator_n_depressed"] = shown_count(moderator["n_depressed"], results.mode)
    texts[f"{p}moderator_share_depressed"] = fmt_number(100 * moderator["share_depressed"], 1) + "%"
    texts[f"{p}change_hads_mean"] = fmt_number(results.readings["change"].extra["hads_change_mean"], 2)
    for verdict, name in zip(finished or verdicts(results), ["mediates_" + k for k in MEDIATION_READINGS]
                             + ["dose_published", "dose_moderator", "dose_change"]):
        texts[f"{p}verdict_{name}"] = verdict_line(verdict)
    return texts


def readings_table(results: MediationReadingsResults) -> pd.DataFrame:
    """What each reading assumes, whether its order in time allows a causal reading, and what 64.6% would mean."""
    labels, roles, order = reading_labels(results), reading_roles(results), reading_order(results)
    meaning = published_share_meaning(results, published_value("R13") + "%")
    return pd.DataFrame([{"Reading": labels[k], "Variables": roles[k], "Temporal order coherent?": order[k],
                          "What the published share would mean": meaning[k]} for k in READINGS])


def estimates_table(results: MediationReadingsResults) -> pd.DataFrame:
    """Indirect, direct and total effects and the proportion mediated per reading, with percentile bootstrap CIs."""
    labels, rows = reading_labels(results), []
    for key in READINGS:
        reading = results.readings[key]
        size = shown_count(reading.n_patients, results.mode)
        rows.append({"Reading": labels[key],
                     "Patients": size if key != "time" else f"{size} ({reading.n_rows} patient-months)",
                     "Indirect (95% CI)": _fmt(reading, "indirect").replace("95% CI ", ""),
                     "Direct (95% CI)": _fmt(reading, "direct").replace("95% CI ", ""),
                     "Total (95% CI)": _fmt(reading, "total").replace("95% CI ", ""),
                     "Proportion (95% CI)": _fmt(reading, "proportion", percent=True).replace("95% CI ", ""),
                     "rho at which the indirect effect is 0": "" if reading.curve is None
                     else fmt_number(reading.curve.rho_at_zero, 2)})
    return pd.DataFrame(rows)
