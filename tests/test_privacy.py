# Guards against disclosure from a real extract: a count of 1-4 patients (or its percentage) printed, a suppressed
# cell left uncounted in the note, or a per-patient table (patient_id column, one row per patient or per visit)
# displayed in "real" mode.

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from okapi.data import load_cohort
from okapi.derive import pain_long, patient_summary
from okapi.privacy import MIN_CELL, PatientLevelOutputError, guard_patient_level, suppress_small_counts

VALID = Path(__file__).parent / "fixtures" / "valid"


@pytest.fixture(scope="module")
def real_cohort():
    cohort = load_cohort(VALID)
    assert cohort.mode == "real"
    return cohort


def counts_table() -> pd.DataFrame:
    return pd.DataFrame({
        "group": ["a", "b", "c", "d", "e", "f"],
        "n": [0, 1, 4, 5, 12, pd.NA],
        "pct": [0.0, 2.1, 8.3, 10.4, 25.0, None],
        "n_women": [3, 0, 4, 5, 9, 2],
    }).astype({"n": "Int64"})


def test_suppresses_counts_one_to_four_and_their_percentages():
    table = counts_table()
    result = suppress_small_counts(table, ["n", "n_women"], percent_columns={"pct": "n"})
    assert MIN_CELL == 5
    assert list(result.table["n"])[:5] == [0, "<5", "<5", 5, 12] and pd.isna(result.table["n"].iloc[5])
    assert list(result.table["pct"])[:5] == [0.0, "<5", "<5", 10.4, 25.0] and pd.isna(result.table["pct"].iloc[5])
    assert list(result.table["n_women"]) == ["<5", 0, "<5", 5, 9, "<5"]
    assert result.n_suppressed == 5
    assert "5 counts" in result.note and "<5" in result.note
    pd.testing.assert_frame_equal(table, counts_table())  # the input is not modified


def test_threshold_is_a_parameter():
    result = suppress_small_counts(counts_table(), ["n"], threshold=11)
    assert list(result.table["n"])[:5] == [0, "<11", "<11", "<11", 12]
    assert result.n_suppressed == 3


def test_no_small_counts_means_nothing_changes():
    table = pd.DataFrame({"n": [0, 5, 40]})
    result = suppress_small_counts(table, ["n"])
    assert result.n_suppressed == 0 and list(result.table["n"]) == [0, 5, 40]
    assert result.note.startswith("0 counts")


def test_rejects_unknown_columns():
    with pytest.raises(KeyError, match="nope"):
        suppress_small_counts(counts_table(), ["nope"])
    with pytest.raises(ValueError):
        suppress_small_counts(counts_table(), ["n"], percent_columns={"pct": "n_women"})


def test_guard_refuses_patient_level_tables_in_real_mode(real_cohort):
    with pytest.raises(PatientLevelOutputError):
        guard_patient_level(patient_summary(real_cohort), real_cohort)
    with pytest.raises(PatientLevelOutputError):
        guard_patient_level(pain_long(real_cohort), real_cohort)  # one row per visit
    with pytest.raises(PatientLevelOutputError):  # one row per patient, the id column dropped
        guard_patient_level(patient_summary(real_cohort).drop(columns="patient_id"), real_cohort)
    with pytest.raises(PatientLevelOutputError):  # a few rows, but keyed by patient
        guard_patient_level(real_cohort.patients.head(2).set_index("patient_id")[["age"]], real_cohort)


def test_guard_lets_aggregates_and_synthetic_data_through(real_cohort):
    aggregate = patient_summary(real_cohort).groupby("sex", as_index=False)["age"].mean()
    assert guard_patient_level(aggregate, real_cohort) is aggregate
    synthetic = dataclasses.replace(real_cohort, mode="synthetic")
    summary = patient_summary(synthetic)
    assert guard_patient_level(summary, synthetic) is summary


def test_guard_message_holds_no_values(real_cohort):
    with pytest.raises(PatientLevelOutputError) as raised:
        guard_patient_level(real_cohort.patients, real_cohort)
    assert "P01" not in str(raised.value) and "Centre-A" not in str(raised.value)
