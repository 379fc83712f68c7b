"""Dose as a time-varying exposure: does the ketamine a patient has received so far go with lower pain?

The paper related the one-year cumulative dose to pain diminution (R9, R12). That total is exposed to two biases
that have nothing to do with an effect of ketamine:
- follow-up length: a patient followed longer can be re-treated more often, and dropout is related to pain;
- pain-triggered re-treatment: a patient whose pain comes back is re-treated, then regresses towards their mean, so
  dose and later pain relief go together even when the dose does nothing.

Three estimators of the dose's association with pain, each in NPRS points per gram:
- one-year total: the time x total dose interaction of the pain mixed model (nprs ~ years * total dose, per year),
  the patient-level question of R12;
- time-varying: nprs ~ years + dose received up to the previous call (lagged by one month, so the dose precedes the
  score it is set against and a stay triggered by the last score does not count), random intercept and slope;
- landmark: patients still answering after the landmark month, pain after it against the dose received up to it
  (nprs ~ dose before the landmark + NPRS at inclusion + years, scores after the landmark), so that the exposure is
  fixed before the outcome window opens.

How large the biases are is measured, not argued: on synthetic cohorts whose generator gives the dose no effect on
pain (okapi.synthetic.care, pain_per_gram_received = 0) every estimator's mean is its bias, and with a stated effect
its share of 95% CIs excluding 0 is its power.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from okapi.data.derive import dose_by_month, pain_long
from okapi.data.loading import Cohort
from okapi.models.lmm_batch import fit_random_slope_model
from okapi.models.mixed_models import LinearCombination, linear_combination
from okapi.plan import DOSE_LANDMARK_MONTH, DOSE_EFFECT_FOR_POWER, SensitivitySettings
from okapi.book.report import fmt_ci, fmt_number
from okapi.sensitivity.verdicts import Verdict, verdict_line
from okapi.verdicts.ledger import published_figure
from okapi.verdicts.rules import CONTRADICTED, SUPPORTED

ESTIMATORS = {"total": "one-year total dose x time (per year)", "time_varying": "dose received so far, lagged one "
              "month", "landmark": f"landmark at month {DOSE_LANDMARK_MONTH}: dose before it, pain after it"}


def exposure_long(cohort: Cohort) -> pd.DataFrame:
    """pain_long with the dose received up to the previous call (dose_lag_g) and over the year (dose_total_g)."""
    long = pain_long(cohort)
    doses = dose_by_month(cohort)  # patients x months; month t = between call t - 1 and call t
    lagged = np.concatenate([np.zeros((doses.shape[0], 1)), np.cumsum(doses, axis=1)[:, :-1]], axis=1)
    position = pd.Series(np.arange(len(cohort.patients)), index=cohort.patients["patient_id"])
    rows = long["patient_id"].map(position).to_numpy()
    months = long["month"].to_numpy(dtype=int)
    return long.assign(dose_lag_g=lagged[rows, months], dose_total_g=doses.sum(axis=1)[rows])


def _fit(frame: pd.DataFrame, formula: str, term: str, weight: float = 1.0) -> LinearCombination:
    return linear_combination(fit_random_slope_model(frame, formula, warn=False), {term: weight})


def landmark_frame(long: pd.DataFrame, cohort: Cohort, month: int = DOSE_LANDMARK_MONTH) -> pd.DataFrame:
    """Scores after the landmark of patients with a score at inclusion, with the dose received up to the landmark
    call and the years since it."""
    doses = dose_by_month(cohort)
    before = pd.Series(doses[:, 1:month + 1].sum(axis=1), index=cohort.patients["patient_id"])
    baseline = long.loc[long["month"] == 0].set_index("patient_id")["nprs"]
    after = long.loc[long["month"] > month].copy()
    after = after[after["patient_id"].isin(baseline.index)]
    return after.assign(dose_before_g=after["patient_id"].map(before).to_numpy(dtype=float),
                        nprs_m0=after["patient_id"].map(baseline).to_numpy(dtype=float),
                        years_after=(after["month"] - month) / 12)


def estimate_all(cohort: Cohort) -> dict[str, LinearCombination]:
    long = exposure_long(cohort)
    landmark = landmark_frame(long, cohort)
    return {"total": _fit(long, "nprs ~ years * dose_total_g", "years:dose_total_g"),
            "time_varying": _fit(long, "nprs ~ years + dose_lag_g", "dose_lag_g"),
            "landmark": _fit(landmark.rename(columns={"years": "years_calendar", "years_after": "years"}),
                             "nprs ~ years + dose_before_g + nprs_m0", "dose_before_g")}


@dataclass
class DoseExposureResults:
    estimates: dict[str, LinearCombination]
    n_scores: int
    n_landmark_patients: int
    simulation: pd.DataFrame  # estimator x truth: mean estimate, bias, SD, share of CIs excluding 0
    n_cohorts: int
    mode: str


def _simulated_estimates(task) -> dict[str, tuple[float, float, float]]:
    from okapi.simulation.study import as_cohort
    from okapi.synthetic.cohort import simulate_cohort

    n, seed, effect = task
    found = estimate_all(as_cohort(simulate_cohort(n, seed, {"pain_per_gram_received": effect})))
    return {key: (c.estimate, c.ci_low, c.ci_high) for key, c in found.items()}


def known_truth_simulation(settings: SensitivitySettings) -> pd.DataFrame:
    """Each estimator on cohorts of the published size whose generator gives the dose no effect, and a stated one:
    mean estimate, SD, and the share of 95% CIs excluding 0 (false-positive rate without an effect, power with it).
    Common random numbers: the same seeds under both truths."""
    from okapi.compute.engine import map_in_processes, task_seeds

    seeds = [task_seeds(settings.seed, 7, i)[0] for i in range(settings.dose_cohorts)]
    rows = []
    for effect in (0.0, DOSE_EFFECT_FOR_POWER):
        found = map_in_processes(_simulated_estimates, [(settings.sweep_n_patients, s, effect) for s in seeds],
                                 settings.n_workers)
        for key in ESTIMATORS:
            values = np.array([f[key] for f in found])
            excludes = (values[:, 1] > 0) | (values[:, 2] < 0)
            rows.append({"estimator": key, "effect": effect, "mean": values[:, 0].mean(),
                         "sd": values[:, 0].std(ddof=1), "excludes_zero": excludes.mean()})
    return pd.DataFrame(rows)


def run_dose_exposure_sensitivity(cohort: Cohort, settings: SensitivitySettings) -> DoseExposureResults:
    long = exposure_long(cohort)
    landmark = landmark_frame(long, cohort)
    return DoseExposureResults(estimate_all(cohort), len(long), int(landmark["patient_id"].nunique()),
                               known_truth_simulation(settings), settings.dose_cohorts, cohort.mode)


UNITS = {"total": "NPRS points per year per gram", "time_varying": "NPRS points per gram",
         "landmark": "NPRS points per gram"}


def _ci(c: LinearCombination) -> str:
    return f"{fmt_number(c.estimate, 3)} ({fmt_ci(c.ci_low, c.ci_high, 3)})"


def simulation_table(results: DoseExposureResults) -> pd.DataFrame:
    sim = results.simulation.set_index(["estimator", "effect"])
    rows = []
    for key, label in ESTIMATORS.items():
        none, some = sim.loc[(key, 0.0)], sim.loc[(key, DOSE_EFFECT_FOR_POWER)]
        rows.append({"Estimator": label, "Unit": UNITS[key], "This cohort (95% CI)": _ci(results.estimates[key]),
                     "Mean without a dose effect (bias)": fmt_number(none["mean"], 3),
                     "SD over cohorts": fmt_number(none["sd"], 3),
                     "95% CI excludes 0 without an effect": f"{fmt_number(100 * none['excludes_zero'], 0)}%",
                     f"With {fmt_number(DOSE_EFFECT_FOR_POWER, 1)} points per gram (power)":
                         f"{fmt_number(100 * some['excludes_zero'], 0)}%"})
    return pd.DataFrame(rows)


def verdicts(results: DoseExposureResults) -> list[Verdict]:
    """dose_not under the two designs that keep the exposure before the outcome: supported when the 95% CI holds 0
    (a null result: the power rule applies), contradicted when it excludes 0."""
    out = []
    for key in ("time_varying", "landmark"):
        c = results.estimates[key]
        holds = c.ci_low <= 0 <= c.ci_high
        out.append(Verdict("dose_not", ESTIMATORS[key], SUPPORTED if holds else CONTRADICTED,
                           f"The dose went with pain by {_ci(c)} {UNITS[key]}.", null_result=holds))
    return out


def glued_text(results: DoseExposureResults, finished: list[Verdict] | None = None) -> dict[str, str]:
    sim = results.simulation.set_index(["estimator", "effect"])
    text = {"sens_dose_landmark_month": str(DOSE_LANDMARK_MONTH), "sens_dose_n_scores": str(results.n_scores),
            "sens_dose_n_landmark": str(results.n_landmark_patients), "sens_dose_n_cohorts": str(results.n_cohorts),
            "sens_dose_effect": f"{fmt_number(DOSE_EFFECT_FOR_POWER, 1)} NPRS points per gram",
            "sens_dose_published_r12": published_figure("R12")}
    for key in ESTIMATORS:
        text[f"sens_dose_{key}"] = f"{_ci(results.estimates[key])} {UNITS[key]}"
        text[f"sens_dose_{key}_bias"] = f"{fmt_number(sim.loc[(key, 0.0), 'mean'], 3)} {UNITS[key]}"
        text[f"sens_dose_{key}_false"] = f"{fmt_number(100 * sim.loc[(key, 0.0), 'excludes_zero'], 0)}%"
        text[f"sens_dose_{key}_power"] = (f"{fmt_number(100 * sim.loc[(key, DOSE_EFFECT_FOR_POWER), 'excludes_zero'], 0)}"
                                          "%")
    for verdict in finished or []:
        key = next(k for k, label in ESTIMATORS.items() if label == verdict.analysis)
        text[f"sens_dose_verdict_{key}"] = verdict_line(verdict)
    return text
