# Guards against a trajectory chapter that prints the wrong thing from correct estimators: classes joined to the
# wrong patients or matched to the wrong published group, a BIC with the wrong N, a bootstrap resample that is not
# a resample of patients, a verdict that ignores the number of classes, results that move with row order, and small
# cells shown from a real extract.
import dataclasses

import numpy as np
import pandas as pd
import pytest

from okapi.chapters import trajectories as ta
from okapi.chapters import trajectories_report as tr
from okapi.data.loading import REAL, Cohort
from okapi.data.derive import pain_long, patient_summary
from okapi.verdicts.ledger import NOT_REPRODUCED, REPRODUCED
from okapi.data.privacy import MIN_CELL
from okapi.models.trajectories.agreement import adjusted_rand_index
from okapi.synthetic.cohort import simulate_cohort
from okapi.data.targets import load_targets
from okapi.models.trajectories import log_likelihood_at, posterior_class_table, prepare_trajectory_data

N_RESAMPLES = 20  # enough to exercise the bootstrap; the chapter uses okapi.chapters.trajectories.N_RESAMPLES


@pytest.fixture(scope="module")
def simulated():
    synthetic = simulate_cohort(329, seed=11)
    cohort = Cohort(synthetic.patients, synthetic.visits, synthetic.ketamine, folder=None, mode="synthetic",
                    data_checksum="")
    long_df, patients = pain_long(cohort), patient_summary(cohort)
    return long_df, patients, synthetic.truth


@pytest.fixture(scope="module")
def results(simulated):
    long_df, patients, _ = simulated
    return ta.trajectory_analysis_from_data(long_df, patients, n_resamples=N_RESAMPLES)


def test_bic_counts_patients_not_visits(results):
    n_patients = results.n_classified
    assert n_patients < results.n_observations
    printed = tr.fit_table(results)
    for model in results.models.values():
        for k, fit in model.fits.items():
            row = printed[(printed["Model"] == model.label) & (printed["K"] == str(k))].iloc[0]
            expected = -2 * fit.log_likelihood + fit.n_parameters * np.log(n_patients)
            assert float(row["BIC"].replace("\u2212", "-")) == pytest.approx(expected, abs=0.051)


def test_class_assignment_is_joined_to_the_right_patients(results, simulated):
    # The generator's latent classes are known: a join that misaligns patients would give agreement near zero.
    truth = simulated[2].set_index("patient_id")["latent_class"]
    assigned = ta.patients_by_class(results, results.published_k_fit).set_index("patient_id")["trajectory_class"]
    assert adjusted_rand_index(assigned.to_numpy(), truth.loc[assigned.index].to_numpy()) > 0.2
    posterior = posterior_class_table(results.published_k_fit).set_index("patient_id")
    assert (assigned == posterior.loc[assigned.index, "trajectory_class"]).all()


def test_classes_are_matched_to_published_groups_by_pain_level(results):
    fit = results.published_k_fit
    observed = ta.observed_class_means(results, fit)
    overall = observed.assign(total=observed["n"] * observed["mean"]).groupby("trajectory_class")[["total", "n"]].sum()
    assert (np.diff((overall["total"] / overall["n"]).to_numpy()) > 0).all()
    quantities = load_targets().set_index("id")["quantity"]
    entries = ta.ledger_entries(results)
    for item, group, share in zip(entries, ta.GROUP_NAMES, fit.class_probabilities):
        assert group in quantities[item.id]
        assert item.estimate == pytest.approx(100 * share)
    assert ta.class_labels(3, 3) == {1: "Class 1: mild", 2: "Class 2: moderate", 3: "Class 3: severe"}


def test_bootstrap_resample_is_a_resample_of_patients(simulated):
    # Double programming: indexing the per-patient statistics must equal rebuilding them from copied visit rows.
    long_df = simulated[0][["patient_id", "years", "nprs"]]
    data = prepare_trajectory_data(long_df)
    index = np.random.default_rng(3).integers(0, data.n_patients, size=data.n_patients)
    copies = pd.concat([long_df[long_df["patient_id"] == data.patient_ids[i]].assign(patient_id=f"copy{n:04d}")
                        for n, i in enumerate(index)])
    rebuilt = prepare_trajectory_data(copies)
    resampled = ta.resample_patients(data, index)
    parameters = dict(coefficients=[[3.5, -0.5, 0.3], [7.0, -1.0, 0.5]], class_probabilities=[0.3, 0.7],
                      residual_variance=1.2, random_intercept_variance=0.6)
    assert log_likelihood_at(resampled, **parameters)[0] == pytest.approx(log_likelihood_at(rebuilt, **parameters)[0],
                                                                          rel=1e-12)
    assert resampled.n_observations == len(copies)


def test_bootstrap_interval_brackets_its_estimate(results):
    boot = results.bootstrap
    assert boot.shares.shape == (N_RESAMPLES - boot.n_unusable, results.published_k)
    assert np.allclose(boot.shares.sum(axis=1), 1.0)
    ci = boot.ci
    assert (ci[:, 0] <= ci[:, 1]).all()
    assert ((ci[:, 0] - 0.05 <= results.published_k_fit.class_probabilities)
            & (results.published_k_fit.class_probabilities <= ci[:, 1] + 0.05)).all()


def _with_chosen_k(results, chosen_k, inside):
    """A copy whose chosen model has `chosen_k` and whose bootstrap CIs contain (or exclude) every published share."""
    published = np.array(list(ta.published_shares().values())) / 100
    centre = published if inside else published + 0.3
    shares = np.vstack([centre - 0.01, centre + 0.01])
    models = dict(results.models)
    models[results.chosen_model] = dataclasses.replace(results.chosen, chosen_k=chosen_k)
    return dataclasses.replace(results, models=models,
                               bootstrap=dataclasses.replace(results.bootstrap, shares=shares))


def test_ledger_verdict_needs_the_published_number_of_classes(results):
    k = results.published_k
    verdicts = lambda r: {item.verdict for item in ta.ledger_entries(r)}  # noqa: E731
    assert verdicts(_with_chosen_k(results, k, inside=True)) == {REPRODUCED}
    assert verdicts(_with_chosen_k(results, k, inside=False)) == {NOT_REPRODUCED}
    assert verdicts(_with_chosen_k(results, k - 1, inside=True)) == {NOT_REPRODUCED}
    assert [item.id for item in ta.ledger_entries(results)] == ["C5a", "C5b", "C5c"]


def test_model_choice_compares_bic_of_normal_models_only(results):
    def fake(key, bic):
        table = pd.DataFrame({"n_classes": [1, 2], "bic": [bic + 1.0, bic]})
        return ta.ModelResults(key, table, {}, 2, "", 2)
    assert ta.choose_model({"lcga": fake("lcga", 100.0), "lcga_censored": fake("lcga_censored", 1.0),
                            "gmm": fake("gmm", 90.0)}) == "gmm"
    assert ta.choose_model({"lcga": fake("lcga", 80.0), "lcga_censored": fake("lcga_censored", 1.0),
                            "gmm": fake("gmm", 90.0)}) == "lcga"


def test_c6_verdicts_agree_with_the_class_table(results):
    fit = results.published_k_fit
    checks = ta.c6_checks(results, fit).set_index("Statement")["Holds"]
    table = ta.class_characteristics(results, fit).set_index("Characteristic")
    class_columns = [c for c in table.columns if c.startswith("Class")]
    means = lambda label: [float(table.loc[label, c].split(" (")[0].replace("\u2212", "-"))  # noqa: E731
                           for c in class_columns]
    depression, physical = means("HADS depression (0-21)"), means("SF-12 physical component")
    # One-decimal table values can tie where the checks (full precision) do not; only untied cases are decisive, and
    # at least one must be untied, or this test would check nothing.
    assert depression[-1] != max(depression[:-1]) or physical[-1] != min(physical[:-1])
    if depression[-1] != max(depression[:-1]):
        assert (checks["Severe group has more depression (C6)"] == "yes") == (depression[-1] > max(depression[:-1]))
    if physical[-1] != min(physical[:-1]):
        assert (checks["Severe group has poorer physical quality of life (C6)"] == "yes") == (
            physical[-1] < min(physical[:-1]))
    assert set(checks) <= {"yes", "no"}


def test_results_do_not_depend_on_row_order(results, simulated):
    long_df, patients, _ = simulated
    rng = np.random.default_rng(5)
    shuffled = ta.trajectory_analysis_from_data(long_df.sample(frac=1.0, random_state=rng).reset_index(drop=True),
                                                patients.sample(frac=1.0, random_state=rng).reset_index(drop=True),
                                                n_resamples=N_RESAMPLES)
    assert tr.fit_table(shuffled).equals(tr.fit_table(results))
    assert tr.glued_text(shuffled) == tr.glued_text(results)
    # Visits summed in another order change the last bits only.
    for moved, kept in zip(ta.ledger_entries(shuffled), ta.ledger_entries(results)):
        assert (moved.id, moved.verdict, moved.note) == (kept.id, kept.verdict, kept.note)
        assert np.allclose([moved.estimate, moved.ci_low, moved.ci_high], [kept.estimate, kept.ci_low, kept.ci_high],
                           rtol=0, atol=1e-6)


def test_real_mode_hides_small_cells(results):
    fit = results.published_k_fit
    assigned = ta.patients_by_class(results, fit)
    mild = assigned.loc[assigned["trajectory_class"] == 1, "patient_id"]
    patients = results.patients.copy()
    in_mild = patients["patient_id"].isin(mild)
    patients.loc[in_mild, "pain_type"] = "neuropathic"
    patients.loc[patients.index[in_mild][:2], "pain_type"] = "fibromyalgia"   # 2 patients: below MIN_CELL
    real = dataclasses.replace(results, patients=patients, mode=REAL)
    checks = ta.c6_checks(real, fit).set_index("Statement")["Class values"]
    opposite = checks["Neuropathic pain and fibromyalgia on opposite courses (C6)"]
    assert f"fibromyalgia <{MIN_CELL} patients vs" in opposite
    observed = ta.observed_class_means(real, fit)
    assert observed.loc[observed["n"] < MIN_CELL, "mean"].isna().all()
    assert observed.loc[observed["n"] >= MIN_CELL, "mean"].notna().all()
