# Guards against a committed cohort that the code no longer regenerates byte for byte (an unrecorded change to the
# generator, its parameters or the file format), against randomness that leaks in (same seed, different data), against
# a seed that is ignored, and against write_cohort destroying existing files or touching files it does not own.
import shutil

import numpy as np
import pandas as pd
import pytest

from okapi import paths
from okapi.cli import main
from okapi.data.manifest import read_manifest, verify_manifest
from okapi.synthetic.cohort import format_table, simulate_cohort, write_cohort
from okapi.plan import PUBLISHED_N_PATIENTS

OWNED = list(paths.COHORT_FILES) + [paths.MANIFEST.name]


def _texts(cohort):
    return {name: format_table(table, name) for name, table in cohort.tables().items()}


def _snapshot(folder):
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def test_committed_cohort_is_regenerated_byte_for_byte(tmp_path):
    written = write_cohort(simulate_cohort(), tmp_path)
    assert sorted(path.name for path in written) == sorted(OWNED)
    for name in OWNED:
        assert (tmp_path / name).read_bytes() == (paths.DATA_DIR / name).read_bytes(), (
            f"data/{name} differs from a fresh `python -m okapi simulate --out data --force`")


def test_committed_manifest_lists_exactly_the_three_cohort_files():
    assert sorted(read_manifest(paths.MANIFEST)) == sorted(paths.COHORT_FILES)
    verify_manifest(paths.DATA_DIR)


def test_default_cohort_has_the_published_size_R1():
    cohort = simulate_cohort()
    assert PUBLISHED_N_PATIENTS == 329 and len(cohort.patients) == 329 and len(cohort.truth) == 329


def test_same_seed_twice_gives_identical_cohorts():
    first, second = simulate_cohort(n=150, seed=3), simulate_cohort(n=150, seed=3)
    assert _texts(first) == _texts(second)
    pd.testing.assert_frame_equal(first.truth, second.truth)


def test_another_seed_gives_a_different_cohort():
    first, second = _texts(simulate_cohort(n=150, seed=3)), _texts(simulate_cohort(n=150, seed=4))
    assert all(first[name] != second[name] for name in first)


def test_written_files_read_back_to_the_values_in_memory(tmp_path):
    cohort = simulate_cohort(n=200, seed=5)
    write_cohort(cohort, tmp_path)
    for name, table in cohort.tables().items():
        text = (tmp_path / name).read_text(encoding="utf-8")
        assert "\r" not in text and text.endswith("\n"), name
        back = pd.read_csv(tmp_path / name, keep_default_na=False, na_values=[""], dtype=str)
        for column in table.columns:
            memory = table[column]
            if pd.api.types.is_datetime64_any_dtype(memory):
                memory = memory.dt.strftime("%Y-%m-%d")
            assert (back[column].isna().to_numpy() == memory.isna().to_numpy()).all(), (name, column)
            seen = ~memory.isna().to_numpy()
            if pd.api.types.is_numeric_dtype(memory):
                assert np.array_equal(back[column][seen].astype(float).to_numpy(),
                                      memory[seen].to_numpy(dtype=float)), (name, column)
            else:
                assert (back[column][seen].to_numpy() == memory[seen].astype(str).to_numpy()).all(), (name, column)


def test_integers_are_written_without_decimals(tmp_path):
    write_cohort(simulate_cohort(n=50, seed=6), tmp_path)
    visits = (tmp_path / "visits.csv").read_text(encoding="utf-8").splitlines()
    assert visits[0] == "patient_id,month,nprs,hads_d,hads_a,sf12_pcs,sf12_mcs,adverse_effect"
    for line in visits[1:]:
        fields = line.split(",")
        assert all("." not in fields[i] for i in (1, 2, 3, 4, 7)), line
    patients = (tmp_path / "patients.csv").read_text(encoding="utf-8").splitlines()
    for line in patients[1:]:
        fields = line.split(",")
        assert all("." not in fields[i] for i in (3, 7, 8, 9, 10, 11)), line


def test_write_refuses_to_overwrite_without_force_and_changes_nothing(tmp_path):
    write_cohort(simulate_cohort(n=40, seed=1), tmp_path)
    before = _snapshot(tmp_path)
    with pytest.raises(FileExistsError) as refused:
        write_cohort(simulate_cohort(n=40, seed=2), tmp_path)
    assert all(name in str(refused.value) for name in OWNED)
    assert _snapshot(tmp_path) == before


def test_write_refuses_when_only_one_cohort_file_exists_and_writes_none(tmp_path):
    (tmp_path / "visits.csv").write_text("hand-made\n", encoding="utf-8")
    with pytest.raises(FileExistsError, match="visits.csv"):
        write_cohort(simulate_cohort(n=20, seed=1), tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["visits.csv"]
    assert (tmp_path / "visits.csv").read_text(encoding="utf-8") == "hand-made\n"


def test_force_overwrites_only_the_cohort_files(tmp_path):
    shutil.copyfile(paths.CODEBOOK, tmp_path / "codebook.csv")
    shutil.copyfile(paths.TARGETS, tmp_path / "targets.csv")
    write_cohort(simulate_cohort(n=40, seed=1), tmp_path)
    others = {name: (tmp_path / name).read_bytes() for name in ("codebook.csv", "targets.csv")}
    write_cohort(simulate_cohort(n=40, seed=2), tmp_path, force=True)
    assert {name: (tmp_path / name).read_bytes() for name in others} == others
    assert sorted(read_manifest(tmp_path / paths.MANIFEST.name)) == sorted(paths.COHORT_FILES)
    verify_manifest(tmp_path)


def test_simulate_command_writes_then_refuses_then_forces(tmp_path, capsys):
    arguments = ["simulate", "--out", str(tmp_path), "--n", "30", "--seed", "4"]
    assert main(arguments) == 0
    assert "patients.csv" in capsys.readouterr().out
    before = _snapshot(tmp_path)
    assert main(arguments) == 1
    assert "--force" in capsys.readouterr().err
    assert _snapshot(tmp_path) == before
    assert main(arguments + ["--force"]) == 0
    assert _snapshot(tmp_path) == before  # same seed: same bytes


def test_overrides_move_only_the_outcomes_they_drive():
    # Each concern has its own random stream (common random numbers): a sensitivity sweep of an SF-12 parameter
    # must leave pain, HADS and doses exactly as they were.
    base = simulate_cohort(n=300, seed=9)
    swept = simulate_cohort(n=300, seed=9, overrides={"pcs_change_mean": 5.0})
    for column in ("nprs", "hads_d", "hads_a", "sf12_mcs", "adverse_effect"):
        pd.testing.assert_series_equal(base.visits[column], swept.visits[column])
    pd.testing.assert_frame_equal(base.ketamine, swept.ketamine)
    assert not base.visits["sf12_pcs"].equals(swept.visits["sf12_pcs"])


def test_rejects_unknown_or_misshapen_overrides():
    with pytest.raises(KeyError, match="pcs_chnge_mean"):
        simulate_cohort(n=10, overrides={"pcs_chnge_mean": 1.0})
    with pytest.raises(ValueError, match="needs 3 values"):
        simulate_cohort(n=10, overrides={"pain_m0_class_offsets": (0.0, 1.0)})
