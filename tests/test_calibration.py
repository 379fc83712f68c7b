# Guards against a synthetic cohort that no longer reproduces the published figures it is calibrated to (an assumption
# changed without re-solving the derived parameters, a solved value mistyped into cohort_parameters, a broken
# analogue), against documented compromises that silently grow, and against cohorts that break the codebook's rules
# (values out of range, visits beyond month 12, dropout that is not monotone, doses or dates outside their windows).
import numpy as np
import pandas as pd
import pytest

from okapi.synthetic import calibration
from okapi.synthetic.calibration import (AIMS, analogue_values, arrays_from_simulation, calibration_analogues,
                                         grouped_correlation, grouped_mean, grouped_ols, grouped_sd,
                                         sampling_noise_at_n)
from okapi.synthetic.cohort import codebook_columns, simulate_arrays, simulate_cohort
from okapi.data.targets import load_targets

# Not the default/solver seed (20230519) and not the seeds the standard errors below were measured on (201-212).
CHECK_SEED = 8
N_PER_COHORT, N_COHORTS = 5_000, 20  # 20 cohorts, each with its own 30 centre effects, which one big cohort lacks

# Standard error of the mean analogue over 20 cohorts of 5,000, measured as the SD of that mean over seeds 201-212.
SE_OF_MEAN = {
    "R2a": 0.033, "R2b": 0.034, "R3a": 0.32, "R3b": 0.097, "R3c": 0.32, "R3d": 0.097, "R4": 0.0037,
    "R5a": 0.029, "R5b": 0.026, "R5c": 0.058, "R5d": 0.041, "R6a": 0.036, "R6b": 0.012, "R6c": 0.058, "R6d": 0.034,
    "R8": 0.00031, "R10": 0.0037, "R11": 0.00031,
    "C2a": 0.015, "C2b": 0.0055, "C2c": 0.29, "C3a": 0.015, "C3b": 0.0041, "C3c": 0.53, "C4": 0.0065,
    "C5a": 0.080, "C5b": 0.15, "C5c": 0.17, "C7a": 0.27, "C7b": 0.18,
}
# Half a unit in the last digit of the aim: the published figures are rounded (6.8 stands for 6.75-6.85), and so are
# The exact compromises (R8, R11, C5) get none.
HALF_UNIT = {"R2a": 0.05, "R2b": 0.05, "R3a": 0.5, "R3b": 0.05, "R3c": 0.5, "R3d": 0.05, "R4": 0.005,
             "R5a": 0.05, "R5b": 0.05, "R5c": 0.05, "R5d": 0.05, "R6a": 0.05, "R6b": 0.05, "R6c": 0.05, "R6d": 0.05,
             "R8": 0.0, "R10": 0.005, "R11": 0.0,
             "C2a": 0.05, "C2b": 0.05, "C2c": 0.5, "C3a": 0.05, "C3b": 0.05, "C3c": 0.5, "C4": 0.005,
             "C5a": 0.0, "C5b": 0.0, "C5c": 0.0, "C7a": 0.5, "C7b": 0.5}
# Tolerance = rounding + 4.5 standard errors (4.5 rather than 4 because the solver's own sample adds a little noise).
TOLERANCE = {target: HALF_UNIT[target] + 4.5 * se for target, se in SE_OF_MEAN.items()}


@pytest.fixture(scope="module")
def large_n_analogues():
    patients, _, follow_up = simulate_arrays(N_PER_COHORT, CHECK_SEED, n_cohorts=N_COHORTS)
    return {target: float(np.mean(values))
            for target, values in analogue_values(arrays_from_simulation(patients, follow_up)).items()}


@pytest.fixture(scope="module")
def aims():
    published = load_targets().set_index("id")["value"]
    return {target: AIMS.get(target, (published[target], ""))[0] for target in SE_OF_MEAN}


@pytest.fixture(scope="module")
def cohort():
    return simulate_cohort(n=20_000, seed=CHECK_SEED)


@pytest.mark.parametrize("target", sorted(SE_OF_MEAN))
def test_published_figure_is_reproduced_at_large_n(target, large_n_analogues, aims):
    found = large_n_analogues[target]
    assert abs(found - aims[target]) <= TOLERANCE[target], (
        f"{target}: analogue {found:.5g}, aim {aims[target]:.5g}, tolerance {TOLERANCE[target]:.3g}")


def test_figures_left_free_are_not_aimed_at_and_say_why(large_n_analogues):
    # R9, R12 and R13 follow from the year of care; the generator must not quietly be tuned to them.
    from okapi.synthetic.calibration_solver import SOLVED
    assert not {target for _, target, _, _ in SOLVED} & set(calibration.NOT_CALIBRATED)
    assert not set(calibration.AIMS) & set(calibration.NOT_CALIBRATED)
    frame = calibration_analogues(simulate_cohort(n=500, seed=CHECK_SEED)).set_index("id")
    for target, why in calibration.NOT_CALIBRATED.items():
        assert np.isnan(frame.loc[target, "aim"]) and frame.loc[target, "aim_note"] == why


def test_documented_compromises_stay_within_their_stated_misses():
    published = load_targets().set_index("id")["value"]
    # R8 and R11 are one difference under the book's reading; the aim is their inverse-variance mean, which must lie
    # inside both printed 95% CIs (else the two figures could not be one quantity at all).
    printed = load_targets().set_index("id")
    for target, sign in (("R8", -1), ("R11", 1)):
        assert printed.loc[target, "ci_low"] <= AIMS[target][0] <= printed.loc[target, "ci_high"], target
        assert sign * AIMS[target][0] > 0
    assert AIMS["R8"][0] == -AIMS["R11"][0]
    assert min(published["R11"], -published["R8"]) < AIMS["R11"][0] < max(published["R11"], -published["R8"])
    # C5: renormalising shares that sum to 97.0% moves none by more than 1.5 points.
    for target in ("C5a", "C5b", "C5c"):
        assert abs(AIMS[target][0] - published[target]) < 1.5


def test_tolerances_are_much_tighter_than_sampling_noise_at_329():
    band = sampling_noise_at_n(n=329, n_replicates=300, seed=CHECK_SEED).set_index("id")
    half_width = (band["p97.5"] - band["p2.5"]) / 2
    loose = {t: round(TOLERANCE[t] / half_width[t], 2) for t in TOLERANCE if TOLERANCE[t] > 0.6 * half_width[t]}
    assert not loose, f"tolerance above 60% of the N = 329 sampling half-band: {loose}"


def test_sampling_band_matches_the_analytic_standard_error():
    band = sampling_noise_at_n(n=329, n_replicates=400, seed=CHECK_SEED + 1).set_index("id")
    age_half_width = (band.loc["R2a", "p97.5"] - band.loc["R2a", "p2.5"]) / 2
    assert age_half_width == pytest.approx(1.96 * 11.0 / np.sqrt(329), rel=0.2)
    share = 249 / 329
    women_half_width = (band.loc["R3b", "p97.5"] - band.loc["R3b", "p2.5"]) / 2
    assert women_half_width == pytest.approx(100 * 1.96 * np.sqrt(share * (1 - share) / 329), rel=0.2)
    assert (band["p2.5"] <= band["p50"]).all() and (band["p50"] <= band["p97.5"]).all()


def test_double_programming_cohort_tables_and_raw_arrays_give_the_same_analogues():
    # One route reads the written-out tables (visits pivoted, doses summed from ketamine.csv); the other the arrays.
    n, seed = 3_000, CHECK_SEED + 2
    from_tables = calibration_analogues(simulate_cohort(n=n, seed=seed)).set_index("id")["analogue"]
    patients, _, follow_up = simulate_arrays(n, seed)
    from_arrays = {t: v[0] for t, v in analogue_values(arrays_from_simulation(patients, follow_up)).items()}
    for target, value in from_arrays.items():
        assert from_tables[target] == pytest.approx(value, rel=1e-9, abs=1e-9), target


def test_double_programming_grouped_statistics_match_numpy():
    rng = np.random.default_rng(0)
    group = np.repeat(np.arange(4), 250)
    x1, x2 = rng.normal(size=1000), rng.random(1000) < 0.4
    y = 0.3 * x1 - 0.5 * x2 + rng.normal(size=1000)
    y_missing = np.where(rng.random(1000) < 0.1, np.nan, y)
    slopes = grouped_ols(y, [x1, x2.astype(float)], group, 4)
    for g in range(4):
        rows = group == g
        design = np.column_stack([np.ones(rows.sum()), x1[rows], x2[rows]])
        assert slopes[g] == pytest.approx(np.linalg.lstsq(design, y[rows], rcond=None)[0][1:], rel=1e-10)
        assert grouped_correlation(x1, y, group, 4)[g] == pytest.approx(np.corrcoef(x1[rows], y[rows])[0, 1])
        kept = y_missing[rows][~np.isnan(y_missing[rows])]
        assert grouped_mean(y_missing, group, 4)[g] == pytest.approx(kept.mean())
        assert grouped_sd(y_missing, group, 4)[g] == pytest.approx(kept.std(ddof=1))


def test_invariants(cohort):
    patients, visits, ketamine, truth = cohort.patients, cohort.visits, cohort.ketamine, cohort.truth
    for name, table in cohort.tables().items():
        assert list(table.columns) == [variable for variable, _ in codebook_columns()[name]], name
    assert patients["patient_id"].is_unique and len(patients) == 20_000
    assert patients["inclusion_date"].between("2016-07-07", "2017-09-21").all()
    assert patients["age"].between(18, 100).all() and patients["sex"].isin(["F", "M"]).all()
    assert patients["pain_type"].isin(["neuropathic", "fibromyalgia", "crps", "other"]).all()
    assert patients["pain_duration_years"].between(0.5, 80).all()
    assert patients["centre"].nunique() <= 30
    for name in ("opioid", "antidepressant", "antiepileptic", "anxiolytic", "ae_week1"):
        assert patients[name].dropna().isin([0, 1]).all(), name
    # Visits: exactly months 0-12 once per patient, nothing beyond month 12.
    assert len(visits) == 13 * len(patients)
    assert (visits.groupby("patient_id")["month"].apply(list) == [list(range(13))] * len(patients)).all()
    for name, low, high in (("nprs", 0, 10), ("hads_d", 0, 21), ("hads_a", 0, 21), ("sf12_pcs", 0, 100),
                            ("sf12_mcs", 0, 100), ("adverse_effect", 0, 1)):
        assert visits[name].dropna().between(low, high).all(), name
    for name in ("nprs", "hads_d", "hads_a", "adverse_effect"):
        values = visits[name].dropna().to_numpy(dtype=float)
        assert (values == np.round(values)).all(), name
    # Monotone dropout: after a patient's dropout month no call is answered and no questionnaire returned.
    dropout = truth.set_index("patient_id")["dropout_month"].reindex(visits["patient_id"]).to_numpy(dtype=float)
    after = visits["month"].to_numpy() >= np.nan_to_num(dropout, nan=99)
    assert visits.loc[after, ["nprs", "hads_d", "sf12_pcs", "adverse_effect"]].isna().all().all()
    assert after.any() and truth["dropout_month"].dropna().between(1, 12).all()
    # Ketamine: every patient treated at inclusion, doses >= 0, dates inside the year of follow-up.
    assert (ketamine["dose_mg"] >= 0).all() and ketamine["dose_mg"].notna().all()
    merged = ketamine.merge(patients[["patient_id", "inclusion_date"]], on="patient_id", validate="many_to_one")
    days = (merged["date"] - merged["inclusion_date"]).dt.days
    assert days.between(0, 365).all()
    assert (merged.groupby("patient_id")["date"].min() == patients.set_index("patient_id")["inclusion_date"]).all()
    summed = ketamine.groupby("patient_id")["dose_mg"].sum().reindex(truth["patient_id"]) / 1000
    assert np.allclose(summed.to_numpy(), truth["cumulative_dose_g"].to_numpy())


def test_latent_classes_carry_the_published_correlates_C5_C6(cohort):
    baseline = cohort.visits[cohort.visits["month"] == 0].set_index("patient_id")
    frame = cohort.truth.set_index("patient_id").join(cohort.patients.set_index("patient_id")["pain_type"]).join(
        baseline[["sf12_pcs", "sf12_mcs"]])
    type_share = pd.crosstab(frame["latent_class"], frame["pain_type"], normalize="index")
    assert type_share.loc["mild", "neuropathic"] > 0.5
    assert type_share.loc["severe", "fibromyalgia"] > 0.5
    means = frame.groupby("latent_class")[["hads_d_baseline", "hads_a_baseline", "sf12_pcs", "sf12_mcs",
                                           "nprs_m0_complete", "nprs_m12_complete"]].mean()
    for column in ("hads_d_baseline", "hads_a_baseline", "nprs_m0_complete", "nprs_m12_complete"):
        assert means.loc["mild", column] < means.loc["moderate", column] < means.loc["severe", column], column
    for column in ("sf12_pcs", "sf12_mcs"):
        assert means.loc["severe", column] < min(means.loc["mild", column], means.loc["moderate", column]), column


def test_adverse_effects_fall_over_follow_up_R7(cohort):
    share = cohort.visits.groupby("month")["adverse_effect"].mean()
    assert share[1] > share[6] > share[12]
    assert share[1] < cohort.patients["ae_week1"].mean()  # below the week-1 level (C7)
    assert cohort.visits.loc[cohort.visits["month"] == 0, "adverse_effect"].isna().all()


def test_aims_cover_only_calibrated_targets():
    known = set(load_targets()["id"])
    assert set(calibration.AIMS) <= known
    assert set(SE_OF_MEAN) <= known
