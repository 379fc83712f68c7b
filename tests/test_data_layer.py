# Guards against the data layer analysing the wrong thing: an invalid or edited extract loaded silently, real data
# mistaken for the synthetic cohort, columns typed loosely, or derived datasets that lose, duplicate or mis-sum
# patients (cumulative dose, depression split, observed pain).

import csv
import shutil
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest

from okapi import paths
from okapi.data.loading import ExtractInvalidError, load_cohort
from okapi.data.derive import pain_long, patient_summary
from okapi.data.manifest import ManifestError, combined_digest, sha256_of, write_manifest
from okapi.data.validation import run_validate_command
from okapi.plan import HADS_D_CUTOFF

FIXTURES = Path(__file__).parent / "fixtures"
VALID = FIXTURES / "valid"


def rows_of(folder: Path, name: str) -> list[dict[str, str]]:
    with open(folder / name, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_loads_a_folder_in_real_mode_with_codebook_types():
    cohort = load_cohort(VALID)
    assert cohort.mode == "real"
    assert cohort.folder == VALID.resolve()
    assert cohort.n_patients == len(rows_of(VALID, "patients.csv")) == 6
    assert len(cohort.visits) == len(rows_of(VALID, "visits.csv"))
    assert len(cohort.ketamine) == len(rows_of(VALID, "ketamine.csv"))
    assert cohort.data_checksum == combined_digest({name: sha256_of(VALID / name) for name in paths.COHORT_FILES})
    types = {**cohort.patients.dtypes.astype(str), **cohort.visits.dtypes.astype(str)}
    assert types["age"] == "int64" and types["month"] == "int64"          # required integers
    assert types["nprs"] == "Int64" and types["opioid"] == "Int64"        # integers that may be missing
    assert types["sf12_pcs"] == "float64" and types["pain_duration_years"] == "float64"
    assert types["inclusion_date"] == "datetime64[ns]"
    assert cohort.ketamine["date"].dtype == "datetime64[ns]"
    assert pd.api.types.is_string_dtype(cohort.patients["sex"])
    assert list(cohort.patients.columns)[:3] == ["patient_id", "centre", "inclusion_date"]
    # Missing cells stay missing, not zero.
    assert cohort.visits["nprs"].isna().sum() == sum(row["nprs"] == "" for row in rows_of(VALID, "visits.csv"))
    assert cohort.patients.loc[cohort.patients["patient_id"] == "P03", "pain_duration_years"].isna().all()


def test_loads_the_folder_named_by_okapi_data_dir(monkeypatch):
    monkeypatch.setenv(paths.DATA_DIR_ENV, str(VALID))
    cohort = load_cohort()
    assert cohort.folder == VALID.resolve() and cohort.mode == "real"
    assert cohort.data_checksum == load_cohort(VALID).data_checksum


def test_invalid_extract_raises_with_the_problems_and_no_values():
    with pytest.raises(ExtractInvalidError) as raised:
        load_cohort(FIXTURES / "bad" / "unknown_patient_visits")
    message = str(raised.value)
    assert "visits.csv, column patient_id, line 29" in message and "[unknown_reference]" in message
    assert "SECRET-7" not in message
    assert raised.value.report.exit_code == 1
    with pytest.raises(ExtractInvalidError, match=r"\[file_missing\]"):
        load_cohort(FIXTURES / "bad" / "file_missing")
    with pytest.raises(ExtractInvalidError, match=r"\[path_missing\]"):
        load_cohort(FIXTURES / "no-such-folder")


def test_loading_writes_nothing(tmp_path):
    copy = tmp_path / "extract"
    shutil.copytree(VALID, copy, copy_function=shutil.copy2)
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in copy.iterdir()}
    load_cohort(copy)
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in copy.iterdir()} == before


def test_committed_style_folder_fails_loudly_when_a_byte_changes(tmp_path, monkeypatch):
    committed = tmp_path / "data"
    shutil.copytree(VALID, committed)
    write_manifest(committed, paths.COHORT_FILES)
    # A copy of a committed-style folder elsewhere is still "real": only data/ itself is synthetic.
    assert load_cohort(committed).mode == "real"
    monkeypatch.setattr(paths, "DATA_DIR", committed)
    cohort = load_cohort(committed)
    assert cohort.mode == "synthetic"
    visits = committed / "visits.csv"
    original = visits.read_bytes()
    visits.write_bytes(original.replace(b"P06,1,7,", b"P06,1,6,"))  # one byte; still a valid extract
    assert visits.read_bytes() != original
    assert run_validate_command(committed) == 0
    with pytest.raises(ManifestError, match="visits.csv"):
        load_cohort(committed)


def test_invariants_of_patient_summary():
    cohort = load_cohort(VALID)
    summary = patient_summary(cohort)
    assert list(summary["patient_id"]) == list(cohort.patients["patient_id"])  # one row each, none lost, same order
    doses, counts = defaultdict(float), defaultdict(int)
    for row in rows_of(VALID, "ketamine.csv"):
        doses[row["patient_id"]] += float(row["dose_mg"])
        counts[row["patient_id"]] += 1
    for _, patient in summary.iterrows():
        assert patient["cumulative_dose_mg"] == pytest.approx(doses[patient["patient_id"]], abs=1e-9)
        assert patient["n_administrations"] == counts[patient["patient_id"]]
    assert summary.set_index("patient_id").loc["P04", "cumulative_dose_mg"] == 0  # no administration at all
    visits = rows_of(VALID, "visits.csv")
    for _, patient in summary.iterrows():
        mine = [row for row in visits if row["patient_id"] == patient["patient_id"]]
        baseline = next(row for row in mine if row["month"] == "0")
        expected_d = None if baseline["hads_d"] == "" else int(baseline["hads_d"])
        assert (pd.isna(patient["hads_d_baseline"]) if expected_d is None
                else patient["hads_d_baseline"] == expected_d)
        observed = [int(row["month"]) for row in mine if row["nprs"] != ""]
        assert patient["n_nprs_observed"] == len(observed)
        assert patient["last_month_observed"] == max(observed)
        month12 = [row for row in mine if row["month"] == "12"]
        assert pd.isna(patient["nprs_month12"]) if not month12 else patient["nprs_month12"] == int(month12[0]["nprs"])


@pytest.mark.parametrize("threshold", [HADS_D_CUTOFF, 9, 11])
def test_depressed_matches_the_threshold(threshold):
    summary = patient_summary(load_cohort(VALID), threshold=threshold)
    for _, patient in summary.iterrows():
        if pd.isna(patient["hads_d_baseline"]):
            assert pd.isna(patient["depressed"])
        else:
            assert bool(patient["depressed"]) == (patient["hads_d_baseline"] > threshold)
    if threshold == HADS_D_CUTOFF:
        # The fixture's P02 has HADS-D exactly 7: not depressed at the paper's cut-off (> 7, not >= 7).
        assert not summary.set_index("patient_id").loc["P02", "depressed"]
        assert summary.set_index("patient_id").loc["P01", "depressed"]


def test_invariants_of_pain_long():
    cohort = load_cohort(VALID)
    long = pain_long(cohort)
    summary = patient_summary(cohort).set_index("patient_id")
    assert len(long) == int(cohort.visits["nprs"].notna().sum())
    assert long["nprs"].notna().all() and long["nprs"].dtype == "int64"
    assert (long["years"] == long["month"] / 12).all()
    assert not long.duplicated(["patient_id", "month"]).any()
    for column in ("centre", "pain_type", "cumulative_dose_mg", "hads_d_baseline"):
        expected = summary.loc[long["patient_id"], column].reset_index(drop=True)
        pd.testing.assert_series_equal(long[column], expected, check_names=False, check_dtype=False)
    with_pain = set(cohort.visits.loc[cohort.visits["nprs"].notna(), "patient_id"])
    assert set(long["patient_id"]) == with_pain
    assert list(long.columns) == ["patient_id", "centre", "month", "years", "nprs", "hads_d_baseline",
                                  "hads_a_baseline", "depressed", "pain_type", "cumulative_dose_mg"]


def test_committed_cohort_loads_in_synthetic_mode_and_validates(monkeypatch, capsys):
    # Fails (does not skip) until data/patients.csv, visits.csv, ketamine.csv and SHA256SUMS are committed.
    monkeypatch.delenv(paths.DATA_DIR_ENV, raising=False)
    missing = [name for name in (*paths.COHORT_FILES, "SHA256SUMS") if not (paths.DATA_DIR / name).exists()]
    assert not missing, f"the committed synthetic cohort is absent: {missing}"
    assert run_validate_command(paths.DATA_DIR) == 0, capsys.readouterr().out
    cohort = load_cohort()
    assert cohort.mode == "synthetic" and cohort.folder == paths.DATA_DIR.resolve()
    summary = patient_summary(cohort)
    assert len(summary) == cohort.n_patients == cohort.patients["patient_id"].nunique()
    assert summary["cumulative_dose_mg"].sum() == pytest.approx(cohort.ketamine["dose_mg"].sum())
    assert len(pain_long(cohort)) == int(cohort.visits["nprs"].notna().sum())
