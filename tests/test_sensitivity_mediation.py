# Guards the "Mediation, honestly" section against errors a table of readings would hide: a weighted bootstrap that
# mis-weights resamples or patients' clusters (checked against mediation_paths and against refitting with patient
# dummies), a moderation fit with the wrong terms, windows that leak later dose or concurrent pain into the
# "change" reading, an IKY curve misapplied (second routes: numerical root of the moment equations; simulation with
# a known error correlation, with covariates), verdicts that break their rules, and row-order dependence.
import dataclasses

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import optimize

from okapi.sensitivity import mediation as smed
from okapi.data.codebook import DAYS_PER_MONTH
from okapi.data.loading import load_cohort
from okapi.models.mediation import bootstrap_indices, indirect_effect_sensitivity, mediation_paths
from okapi.sensitivity.verdicts import NOT_ASSESSABLE, CONTRADICTED, SUPPORTED
from support.known_truth import simulate_mediation_data
from okapi.data.targets import target_value
from okapi.plan import SensitivitySettings

SETTINGS = SensitivitySettings(n_bootstrap=300)


@pytest.fixture(scope="module")
def cohort():
    return load_cohort()


@pytest.fixture(scope="module")
def results(cohort):
    return smed.run_mediation_sensitivity(cohort, SETTINGS)


def test_double_programming_weighted_paths_match_mediation_paths_on_the_same_resamples():
    data, _ = simulate_mediation_data(n=150, seed=8, n_covariates=1)
    n = len(data["y"])
    given = mediation_paths(data["x"], data["m"], data["y"], data["covariates"], indices=bootstrap_indices(n, 50, 9))
    base = np.column_stack([np.ones(n), data["covariates"]])
    ours = smed.weighted_mediation_paths(base, data["x"], data["m"], data["y"], smed.resample_counts(n, 50, 9))
    np.testing.assert_allclose(ours, given, rtol=1e-8)


def test_cluster_bootstrap_equals_refitting_with_patient_dummies():
    # Each resample rebuilt row by row, a drawn-twice patient counted as two patients, paths from OLS with one dummy
    # per drawn patient: the route the weighted, centred-once computation must reproduce.
    rng = np.random.default_rng(3)
    sizes = rng.integers(1, 5, size=25)
    patient = np.repeat(np.arange(25), sizes)
    x = rng.integers(0, 4, patient.size) * 3.0
    m = 0.5 * x + rng.normal(size=25)[patient] + rng.normal(size=patient.size)
    y = -0.2 * x + 0.3 * m + rng.normal(size=25)[patient] + rng.normal(size=patient.size)
    frame = pd.DataFrame({"patient": patient, "x": x, "m": m, "y": y})
    frame = frame[frame.groupby("patient")["x"].transform("size") >= 2]
    codes, _ = pd.factorize(frame["patient"])
    centred = frame[["x", "m", "y"]] - frame.groupby("patient")[["x", "m", "y"]].transform("mean")
    weights = smed.resample_counts(codes.max() + 1, 5, 21)
    ours = smed.weighted_mediation_paths(np.empty((len(frame), 0)), *centred.to_numpy().T, weights[:, codes])
    for k, drawn in enumerate(bootstrap_indices(codes.max() + 1, 5, 21)):
        rows = [frame[codes == p].assign(draw=j) for j, p in enumerate(drawn)]
        sample = pd.concat(rows)
        dummies = pd.get_dummies(sample["draw"], dtype=float).to_numpy()

        def coef(target, *regressors):
            design = np.column_stack([*regressors, dummies])
            return np.linalg.lstsq(design, sample[target].to_numpy(), rcond=None)[0]

        a = coef("m", sample["x"])[0]
        c_prime, b = coef("y", sample["x"], sample["m"])[:2]
        c = coef("y", sample["x"])[0]
        np.testing.assert_allclose(ours[k, :4], [a, b, c_prime, c], rtol=1e-8, atol=1e-12)


def test_moderation_terms_match_statsmodels_ols():
    data, _ = simulate_mediation_data(n=200, seed=12)
    m = (data["m"] > np.median(data["m"])).astype(float)
    fit = sm.OLS(data["y"], np.column_stack([np.ones(200), data["x"], m, data["x"] * m])).fit()
    c1, c3 = fit.params[1], fit.params[3]
    ours = smed.weighted_moderation(data["x"], m, data["y"], np.ones((1, 200)))[0]
    share = m.mean()
    np.testing.assert_allclose(ours, [c3, c1 + c3, c1, c1 + c3 * share, c3 * share, c3 * share / (c1 + c3 * share)],
                               rtol=1e-9)


def test_change_reading_ignores_pain_and_dose_outside_its_windows(cohort):
    month = 3
    base = smed.change_frame(cohort, month)
    visits = cohort.visits.copy()
    visits.loc[visits["month"] <= month, "nprs"] = 10  # pain up to the month of the mediator: not the outcome
    inclusion = cohort.patients.set_index("patient_id")["inclusion_date"]
    given_on = pd.to_datetime(cohort.ketamine["date"])
    day = (given_on - pd.to_datetime(cohort.ketamine["patient_id"].map(inclusion))).dt.days
    ketamine = cohort.ketamine.copy()
    ketamine.loc[day.to_numpy() >= month * DAYS_PER_MONTH, "dose_mg"] *= 7  # dose after the mediator
    changed = smed.change_frame(dataclasses.replace(cohort, visits=visits, ketamine=ketamine), month)
    pd.testing.assert_frame_equal(base, changed)
    # ... while the early dose itself is what X holds (independent sum over the first `month` months)
    early = cohort.ketamine.loc[day.to_numpy() < month * DAYS_PER_MONTH].groupby("patient_id")["dose_mg"].sum()
    np.testing.assert_allclose(base["dose_g"], base["patient_id"].map(early).fillna(0).to_numpy() / 1000)
    assert (base["hads_d_change"] == base["hads_d_later"] - base["hads_d_baseline"]).all()


def test_time_reading_pairs_hads_with_the_next_months_pain(cohort):
    frame = smed.time_frame(cohort)
    months = smed.questionnaire_months(cohort.visits)
    assert set(frame["month"]) <= set(months) and 12 not in set(frame["month"])
    lookup = cohort.visits.set_index(["patient_id", "month"])
    sample = frame.sample(20, random_state=1)
    for _, row in sample.iterrows():
        assert lookup.loc[(row["patient_id"], row["month"] + 1), "nprs"] == row["nprs_next"]
        assert lookup.loc[(row["patient_id"], row["month"]), "hads_d"] == row["hads_d"]
    sums = frame.groupby("patient_id")[["month_within", "hads_d_within", "nprs_next_within"]].sum()
    assert np.abs(sums.to_numpy()).max() < 1e-9
    assert frame.groupby("patient_id").size().min() >= 2


def test_iky_curve_matches_the_root_of_the_moment_equations(results):
    # Second route: for each rho, find the b that makes corr(mediator error, outcome error) = rho given the
    # identified residual covariance, numerically, and compare a * b with the closed form.
    for key in smed.MEDIATION_READINGS:
        curve = results.readings[key].curve
        s1, s2, a = curve.sigma_total, curve.sigma_mediator, curve.a
        cov12 = curve.rho_at_zero * s1 * s2
        for rho in (-0.6, -0.2, 0.0, 0.3, 0.7):
            def gap(b):
                cov23 = cov12 - b * s2 ** 2  # errors: e1 = b e2 + e3
                var3 = s1 ** 2 - 2 * b * cov12 + b ** 2 * s2 ** 2
                return cov23 / (s2 * np.sqrt(var3)) - rho
            span = 50 * s1 / s2
            b = optimize.brentq(gap, -span, span, xtol=1e-14)
            assert curve.at(rho) == pytest.approx(a * b, rel=1e-7, abs=1e-12)


def test_iky_with_covariates_recovers_a_known_indirect_effect_at_the_true_rho():
    # The change reading uses a covariate; known truth with correlated errors, 200 replicate samples.
    true_rho, at_truth, naive = 0.35, [], []
    for replicate in range(200):
        data, truth = simulate_mediation_data(n=329, seed=90_000 + replicate, rho=true_rho, n_covariates=1)
        curve = indirect_effect_sensitivity(data["x"], data["m"], data["y"], data["covariates"],
                                            rho=np.array([0.0, true_rho]))
        naive.append(curve.indirect[0])
        at_truth.append(curve.indirect[1])
    at_truth, naive = np.array(at_truth), np.array(naive)
    mc_se = at_truth.std(ddof=1) / np.sqrt(at_truth.size)
    assert abs(at_truth.mean() - truth.indirect) < 4 * mc_se  # 4 Monte Carlo SEs
    assert abs(naive.mean() - truth.indirect) > 10 * mc_se


def test_a_baseline_confounder_shows_mediation_that_does_not_exist():
    # Known truth for the published reading's design: M (baseline) causes both the dose X and the outcome Y, X has no
    # effect on M at all, so the true indirect effect of X through M is zero; the product a * b is not.
    products = []
    for replicate in range(200):
        rng = np.random.default_rng(70_000 + replicate)
        m = (rng.normal(size=329) > 0).astype(float)
        x = 0.7 + 0.3 * m + rng.gamma(2.0, 0.3, size=329)
        y = 0.05 * m + 0.0 * x + rng.normal(0, 0.1, size=329)
        products.append(mediation_paths(x, m, y)[4])
    products = np.array(products)
    assert products.mean() > 10 * products.std(ddof=1) / np.sqrt(products.size)


def _with_estimates(reading, **intervals):
    table = reading.estimates.copy()
    for name, (low, high) in intervals.items():
        table.loc[name, ["ci_low", "ci_high", "estimate"]] = [low, high, (low + high) / 2]
    return dataclasses.replace(reading, estimates=table)


def test_verdicts_follow_their_stated_rules(results):
    share = target_value("R13") / 100
    change = results.readings["change"]
    # Temporal order is not a test that fails by definition: the published reading is judged on its numbers.
    assert smed.mediation_outcome(_with_estimates(results.readings["published"], indirect=(0.01, 0.02),
                                                  proportion=(0.5, 0.8)), share) == (SUPPORTED, False)
    assert smed.mediation_outcome(_with_estimates(change, indirect=(0.01, 0.02), proportion=(0.5, 0.8)),
                                  share) == (SUPPORTED, False)
    assert smed.mediation_outcome(_with_estimates(change, indirect=(-0.01, 0.02), proportion=(0.5, 0.8)),
                                  share) == (CONTRADICTED, True)  # no indirect effect seen: weighed by power
    assert smed.mediation_outcome(_with_estimates(change, indirect=(0.01, 0.02), proportion=(0.7, 0.9)),
                                  share) == (CONTRADICTED, False)  # the published share outside
    assert smed.mediation_outcome(_with_estimates(change, indirect=(0.01, 0.02), proportion=(-0.5, 1.2)),
                                  share) == (NOT_ASSESSABLE, True)
    by_analysis = {(v.conclusion, v.analysis): v for v in smed.verdicts(results)}
    assert len(by_analysis) == 6
    for key, names in (("published", ("total", "direct")), ("change", ("total", "direct"))):
        verdict = next(v for (c, a), v in by_analysis.items() if c == "dose_not" and a.endswith(
            smed.reading_labels(results)[key].lower()))
        rows = results.readings[key].estimates.loc[list(names)]
        holds_zero = ((rows["ci_low"] <= 0) & (rows["ci_high"] >= 0)).all()
        assert verdict.outcome == (SUPPORTED if holds_zero else CONTRADICTED)


def test_bootstrap_intervals_hold_their_estimates_except_for_ratios(results):
    for reading in results.readings.values():
        table = reading.estimates.drop(index="proportion")
        assert ((table["ci_low"] <= table["estimate"]) & (table["estimate"] <= table["ci_high"])).all()
    assert results.questionnaire_months == (0, 3, 6, 9, 12)


def test_results_do_not_depend_on_row_order(cohort, results):
    rng = np.random.default_rng(11)
    shuffled = dataclasses.replace(cohort, **{name: getattr(cohort, name).sample(frac=1, random_state=rng)
                                              for name in ("patients", "visits", "ketamine")})
    again = smed.run_mediation_sensitivity(shuffled, SETTINGS)
    for key in smed.READINGS:
        pd.testing.assert_frame_equal(results.readings[key].estimates, again.readings[key].estimates, rtol=1e-10)
    assert smed.glued_text(results) == smed.glued_text(again)


def test_time_reading_resamples_patients_with_all_their_rows(cohort, results):
    # Resampling patient-months as if independent would give intervals too narrow for repeated measures.
    frame = smed.time_frame(cohort)
    codes, ids = pd.factorize(frame["patient_id"])
    x, m, y = (frame[f"{c}_within"].to_numpy() for c in ("month", "hads_d", "nprs_next"))
    weights = smed.resample_counts(len(ids), SETTINGS.n_bootstrap, SETTINGS.seed)[:, codes]
    indirect = smed.weighted_mediation_paths(np.empty((len(frame), 0)), x, m, y, weights)[:, 4]
    low, high = np.quantile(indirect, [0.025, 0.975])
    row = results.readings["time"].estimates.loc["indirect"]
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((low, high), rel=1e-12)
    assert results.readings["time"].n_patients == len(ids) < results.readings["time"].n_rows
