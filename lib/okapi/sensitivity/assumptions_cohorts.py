"""What one simulated cohort says about each conclusion of the paper: the statistics of the assumptions sweep.

Each statistic is the book's own estimator, computed from the generator's arrays instead of from written files (the
tests check that both routes give the same numbers on the committed cohort):
- pain_decline: change in NPRS per year, `nprs ~ years` mixed model (pain chapter, R4 / C3a);
- depression_interaction: time x depression (HADS-D > 7) per month, `nprs ~ years * depressed` (R8);
- dose_not: Pearson r of the dose received between two consecutive answered calls with the fall in pain over them,
  Fisher 95% CI (mediation chapter, R9 under the primary reading);
- depression_mediates: path b of depression on pain diminution adjusted for dose, OLS t interval (R11);
- anxiety_not: path of anxiety at inclusion (HADS-A > 7) on pain diminution, adjusted for dose and depression (our
  reading of R14: depression, not anxiety);
- three_trajectories: 1 when the book's rules choose K = 3 trajectory classes, else 0 (C5);
- mediated_share: the proportion mediated (R13) in the simulated population, from the latent quantities the generator
  was calibrated on (okapi.synthetic.calibration): a cohort of 329 cannot decide it (the book's own 95% CI spans hundreds of %).
"""

import hashlib
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from okapi.synthetic.calibration import grouped_ols
from okapi.synthetic.parameters import parameter_values


from okapi.models.lmm_batch import fit_random_slope_model
from okapi.chapters.mediation import pearson_correlation
from okapi.models.mixed_models import linear_combination

from okapi.data.derive import N_MONTHS, month_of_day, pair_arrays
from okapi.synthetic.care import draw_year_of_care
from okapi.synthetic.outcomes import draw_follow_up
from okapi.synthetic.patients import MONTHS, draw_patients, make_streams
from okapi.models.trajectories import choose_number_of_classes, fit_trajectory_grid
from okapi.chapters.trajectories import MODELS, ModelResults, choose_model
from okapi.plan import (HADS_D_CUTOFF, LINEAR_GROUP, LINEAR_TIME, MEDIATION_MIN_SCORES, MEDIATION_MIN_SPAN_MONTHS,
                        PER_MONTH, TRAJECTORY_DEGREE, TRAJECTORY_FINAL, TRAJECTORY_K_VALUES, TRAJECTORY_SEED,
                        TRAJECTORY_STARTS)

PUBLISHED_K = 3  # C5: mild, moderate, severe
MEDIATED_SHARE_BAND = (50.0, 100.0)  # "mediated most": more than half, and not more than all of it


@dataclass(frozen=True)
class Statistic:
    key: str
    conclusion: str  # a key of okapi.sensitivity.verdicts.CONCLUSIONS
    label: str  # axis label
    unit: str  # after a number in prose
    digits: int
    rule: str  # "below", "above", "includes_zero", "at_least_half", "inside_band"
    rule_text: str  # when the conclusion holds, in words
    population: bool = False  # True: computed on a large simulated population, not on cohorts


STATISTICS = {s.key: s for s in (
    Statistic("pain_decline", "pain_decline", "Change in pain, points per year", "points per year", 2, "below",
              "the 95% CI of the one-year change lies below 0"),
    Statistic("depression_interaction", "depression_interaction", "Time x depression, points per month",
              "points per month", 3, "below", "the time x depression interaction is negative with a 95% CI below 0"),
    Statistic("dose_not", "dose_not", "Correlation of dose with pain diminution (r)", "", 2, "includes_zero",
              "the 95% CI of r (dose with pain diminution) includes 0"),
    Statistic("depression_mediates", "depression_mediates", "Depression path b, points per month",
              "points per month", 4, "above", "path b (depression to pain diminution) is positive with a 95% CI "
                                              "above 0"),
    Statistic("mediated_share", "depression_mediates", "Proportion mediated in the population, %", "%", 1,
              "inside_band", "the population proportion mediated is above 50% and at most 100%", population=True),
    Statistic("anxiety_not", "anxiety_not", "Anxiety path given depression, points per month", "points per month",
              3, "includes_zero", "the 95% CI of the anxiety path (HADS-A > 7 to pain diminution, adjusted for dose "
                                  "and depression) includes 0"),
    Statistic("three_trajectories", "three_trajectories", "Share of cohorts with K = 3 chosen", "", 2,
              "at_least_half", "the book's rules choose three trajectory classes in at least half of the cohorts"),
)}


@dataclass(frozen=True)
class CohortInputs:
    """The only arrays the analyses read: observed NPRS (patients x 13), baseline HADS-D and HADS-A as recorded
    (NaN = missing), cumulative dose in grams, and grams received in each month (patients x 13, by the chapters'
    okapi.data.derive.month_of_day)."""
    nprs: np.ndarray
    hads_d: np.ndarray
    hads_a: np.ndarray
    dose_g: np.ndarray
    dose_month_g: np.ndarray

    @property
    def n(self) -> int:
        return self.nprs.shape[0]


# Which inputs each analysis reads: two cohorts with the same fingerprint give the same statistics.
ANALYSIS_INPUTS = {"pain": ("nprs",), "depression": ("nprs", "hads_d"),
                   "mediation": ("nprs", "hads_d", "hads_a", "dose_g", "dose_month_g")}
ANALYSIS_STATISTICS = {"pain": ("pain_decline", "three_trajectories"), "depression": ("depression_interaction",),
                       "mediation": ("dose_not", "depression_mediates", "anxiety_not")}


def _generate(n: int, seed: int, overrides: dict | None):
    values = parameter_values(overrides)
    streams = make_streams(seed)
    patients = draw_patients(n, 1, values, streams)
    administrations, follow_up = draw_follow_up(patients, values, streams)
    return patients, administrations, follow_up, streams


def simulate_inputs(n: int, seed: int, overrides: dict | None = None) -> CohortInputs:
    """The analysed arrays of the cohort okapi.synthetic.cohort.simulate_cohort(n, seed, overrides) would write."""
    _, administrations, follow_up, _ = _generate(n, seed, overrides)
    dose_mg = np.bincount(administrations["patient"], weights=administrations["dose_mg"], minlength=n)
    flat = administrations["patient"] * N_MONTHS + month_of_day(administrations["day"])
    dose_month_g = np.bincount(flat, weights=administrations["dose_mg"] / 1000.0,
                               minlength=n * N_MONTHS).reshape(n, N_MONTHS)
    return CohortInputs(follow_up["nprs"], follow_up["hads_d"][:, 0], follow_up["hads_a"][:, 0], dose_mg / 1000.0,
                        dose_month_g)


def shifted_streams(name: str, values: tuple, n: int, seed: int) -> tuple[str, ...]:
    """Random streams (okapi.synthetic.patients.STREAMS) that consume a different number of draws when `name` takes
    one of `values` instead of its default: downstream of such a draw, common random numbers are lost."""
    _, _, _, reference = _generate(n, seed, None)
    shifted = set()
    for value in values:
        _, _, _, streams = _generate(n, seed, {name: value})
        shifted |= {key for key, rng in streams.items()
                    if rng.bit_generator.state != reference[key].bit_generator.state}
    return tuple(sorted(shifted))


INPUT_LABELS = {"nprs": "NPRS", "hads_d": "HADS-D at inclusion", "hads_a": "HADS-A at inclusion",
                "dose_g": "dose", "dose_month_g": "dose by month"}


def changed_inputs(inputs: CohortInputs, reference: CohortInputs) -> set[str]:
    """Names of the analysed arrays that differ between two cohorts."""
    return {name for name in INPUT_LABELS
            if not np.array_equal(getattr(inputs, name), getattr(reference, name), equal_nan=True)}


def fingerprint(inputs: CohortInputs, analysis: str) -> str:
    digest = hashlib.sha256(analysis.encode())
    for name in ANALYSIS_INPUTS[analysis]:
        digest.update(np.ascontiguousarray(getattr(inputs, name), dtype=float).tobytes())
    return digest.hexdigest()


# --- the analyses -----------------------------------------------------------------------------------------------------
def patient_ids(n: int) -> np.ndarray:
    """The identifiers okapi.synthetic.cohort writes (P0001, ...): sorted order = generation order, as in the chapters."""
    return np.array([f"P{i:0{max(4, len(str(n)))}d}" for i in range(1, n + 1)], dtype=object)


def pain_long_from_inputs(inputs: CohortInputs) -> pd.DataFrame:
    """One row per observed NPRS, by patient then month (derive.pain_long's rows and columns the models use)."""
    n = inputs.n
    patient = np.repeat(np.arange(n), MONTHS.size)
    month = np.tile(MONTHS, n)
    seen = ~np.isnan(inputs.nprs.ravel())
    hads_d = inputs.hads_d[patient[seen]]
    return pd.DataFrame({"patient_id": patient_ids(n)[patient[seen]], "month": month[seen],
                         "years": month[seen] / 12, "nprs": inputs.nprs.ravel()[seen],
                         "hads_d_baseline": hads_d, "depressed": hads_d > HADS_D_CUTOFF})


def _fit_pain_model(long_df: pd.DataFrame, fixed: str):
    """The one place the sweep fits the pain mixed model (random intercept + slope on years per patient, REML): the
    vectorised fit of okapi.models.lmm_batch, the model of okapi.models.mixed_models.fit_pain_mixed_model(long_df, fixed, "~years")
    (checked against it and lme4 in tests/test_double_programming_lmm_batch.py). Warnings are recorded, not
    printed: hundreds of fits run, and the chapter reports how many failed."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = fit_random_slope_model(long_df, fixed)
    return fit, bool(fit.converged and not caught)


def _interval(combo) -> tuple[float, float, float]:
    return combo.estimate, combo.ci_low, combo.ci_high


def chosen_number_of_classes(long_df: pd.DataFrame, n_starts: int = TRAJECTORY_STARTS, n_final: int = TRAJECTORY_FINAL) -> int:
    """The trajectory chapter's choice: K by the stated rules for LCGA and the growth mixture model, then the model
    whose chosen solution has the lower BIC (the censored variant never takes part in the choice)."""
    models = {}
    for key in ("lcga", "gmm"):
        table, fits = fit_trajectory_grid(long_df, k_values=TRAJECTORY_K_VALUES, degree=TRAJECTORY_DEGREE, n_starts=n_starts,
                                          n_final=min(n_final, n_starts), seed=TRAJECTORY_SEED, **MODELS[key].settings)
        k, reason = choose_number_of_classes(table)
        models[key] = ModelResults(key, table, fits, k, reason, int(table.loc[table["bic"].idxmin(), "n_classes"]))
    return models[choose_model(models)].chosen_k


def analyse_pain(inputs: CohortInputs, n_starts: int, n_final: int) -> dict:
    long_df = pain_long_from_inputs(inputs)
    fit, ok = _fit_pain_model(long_df, LINEAR_TIME)
    k = chosen_number_of_classes(long_df, n_starts, n_final)
    return {"pain_decline": _interval(linear_combination(fit, {"years": 1.0})),
            "three_trajectories": (float(k == PUBLISHED_K), np.nan, np.nan), "chosen_k": k, "fits_ok": int(ok),
            "fits": 1}


def analyse_depression(inputs: CohortInputs) -> dict:
    long_df = pain_long_from_inputs(inputs)
    fit, ok = _fit_pain_model(long_df.loc[long_df["hads_d_baseline"].notna()], LINEAR_GROUP)
    return {"depression_interaction": _interval(linear_combination(fit, {"years:depressed": PER_MONTH})),
            "fits_ok": int(ok), "fits": 1}


def pain_diminution_from_matrix(nprs: np.ndarray, min_scores: int = MEDIATION_MIN_SCORES,
                                min_span_months: int = MEDIATION_MIN_SPAN_MONTHS) -> np.ndarray:
    """Per patient, minus the OLS slope of NPRS on month over the observed months; NaN unless the patient has at
    least min_scores scores spanning min_span_months (okapi.chapters.mediation.pain_diminution)."""
    seen = ~np.isnan(nprs)
    count = seen.sum(axis=1)
    t = np.where(seen, MONTHS[None, :], 0.0)
    y = np.where(seen, nprs, 0.0)
    per_patient = np.maximum(count, 1)
    centred_t = np.where(seen, t - (t.sum(axis=1) / per_patient)[:, None], 0.0)
    centred_y = np.where(seen, y - (y.sum(axis=1) / per_patient)[:, None], 0.0)
    sxx = (centred_t ** 2).sum(axis=1)
    slope = (centred_t * centred_y).sum(axis=1) / np.where(sxx > 0, sxx, np.nan)
    span = np.where(seen, MONTHS, -1).max(axis=1) - np.where(seen, MONTHS, MONTHS.size).min(axis=1)
    eligible = (count >= min_scores) & (span >= min_span_months)
    return np.where(eligible, -slope, np.nan)


def ols_last_coefficient(y: np.ndarray, *regressors: np.ndarray) -> tuple[float, float, float]:
    """Coefficient of the last regressor in OLS y ~ 1 + regressors, with its t-based 95% CI (okapi.models.mediation's
    classical table)."""
    design = np.column_stack([np.ones_like(y), *regressors])
    beta, *_ = np.linalg.lstsq(design, y, rcond=None)
    residual = y - design @ beta
    df = y.size - design.shape[1]
    se = np.sqrt(residual @ residual / df * np.linalg.inv(design.T @ design)[-1, -1])
    half = stats.t.ppf(0.975, df) * se
    return float(beta[-1]), float(beta[-1] - half), float(beta[-1] + half)


def analyse_mediation(inputs: CohortInputs) -> dict:
    y = pain_diminution_from_matrix(inputs.nprs)
    _, _, pair_dose, pair_diminution = pair_arrays(inputs.nprs, inputs.dose_month_g)
    correlation = pearson_correlation(pair_dose, pair_diminution)  # R9 over pairs of calls, as the chapter
    depressed, anxious = ((score > HADS_D_CUTOFF).astype(float) for score in (inputs.hads_d, inputs.hads_a))
    with_depression = ~np.isnan(y) & ~np.isnan(inputs.hads_d)
    # Anxiety is read against depression: "depression, not anxiety" (R14) is a comparison within one model; alone,
    # anxiety (correlated 0.6 with depression) would carry part of depression's path.
    with_both = with_depression & ~np.isnan(inputs.hads_a)
    return {"dose_not": (correlation.r, correlation.ci_low, correlation.ci_high),
            "depression_mediates": ols_last_coefficient(y[with_depression], inputs.dose_g[with_depression],
                                                        depressed[with_depression]),
            "anxiety_not": ols_last_coefficient(y[with_both], inputs.dose_g[with_both], depressed[with_both],
                                                anxious[with_both])}


def population_mediated_share(n: int, seed: int, overrides: dict | None = None) -> float:
    """Proportion mediated (%) a b / (a b + c') in a simulated population of n patients, with pain diminution =
    minus the true linear slope and depression = complete baseline HADS-D > 7 (okapi.synthetic.calibration's R13 analogue).
    The year of care is drawn too: the dose and the true slope both depend on it."""
    patients, _, _, _ = _generate(n, seed, overrides)
    depressed = (patients["hads_d0"] > HADS_D_CUTOFF).astype(float)
    diminution, dose, group = -patients["true_slope_per_month"], patients["cumulative_dose_g"], patients["cohort"]
    a = grouped_ols(depressed, [dose], group, 1)[0, 0]
    direct, b = grouped_ols(diminution, [dose, depressed], group, 1)[0]
    return float(100 * a * b / (a * b + direct))


class _ReadRecorder(dict):
    def __init__(self, values):
        super().__init__(values)
        self.read = set()

    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)


def patient_stage_parameters() -> frozenset[str]:
    """Parameters the patient stage (okapi.synthetic.patients.draw_patients) reads at the default values. The stage
    is a pure function of them and the seed, so changing any other parameter alone cannot change its output."""
    values = _ReadRecorder(parameter_values())
    draw_patients(100, 1, values, make_streams(0))
    return frozenset(values.read)


def population_share_parameters() -> frozenset[str]:
    """Parameters that can move population_mediated_share: those read by the patient stage and the year of care
    (okapi.synthetic.care), which decide the true slope, the dose and baseline HADS-D. Questionnaires after
    inclusion and adverse effects come later and cannot."""
    values = _ReadRecorder(parameter_values())
    streams = make_streams(0)
    patients = draw_patients(100, 1, values, streams)
    draw_year_of_care(patients, values, streams["pain"], streams["missing"], streams["stays"])
    return frozenset(values.read)
