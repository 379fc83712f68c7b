# Guards against a validator that lets a broken extract through, points at the wrong file/column/line, prints a
# patient's values (real extracts are patient data), or touches the files it checks. One committed fixture per
# defect (tests/fixtures/bad/<defect>/, written by tests/fixtures/make_fixtures.py), each a copy of valid/ with one
# defect.

import csv
import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from okapi import paths
from okapi.data.codebook import CodebookError, load_codebook
from okapi.data.validation import ValidationReport, format_report, run_validate_command, validate_extract
from okapi.data.validation_rules import Problem

FIXTURES = Path(__file__).parent / "fixtures"
VALID = FIXTURES / "valid"
BAD = FIXTURES / "bad"

P, V, K = "patients.csv", "visits.csv", "ketamine.csv"
# defect -> (exit code, every problem expected as (file, column, lines, rule)); nothing else may be reported.
EXPECTED = {
    "missing_column": (1, [(P, "sex", (1,), "missing_column")]),
    "unknown_column": (1, [(V, None, (1,), "unknown_column")]),
    "duplicate_column": (1, [(P, "age", (1,), "duplicate_column")]),
    "missing_header": (1, [(P, None, (1,), "missing_header")]),
    "field_count": (1, [(V, None, (5,), "field_count")]),
    "no_data_rows": (1, [(K, None, (1,), "no_data_rows")]),
    "wrong_type_integer": (1, [(V, "nprs", (4,), "wrong_type")]),
    "wrong_type_date": (1, [(P, "inclusion_date", (5,), "wrong_type")]),
    "wrong_type_decimal_comma": (1, [(K, "dose_mg", (3,), "wrong_type")]),
    "out_of_range_age": (1, [(P, "age", (3,), "out_of_range")]),
    "out_of_range_inclusion_date": (1, [(P, "inclusion_date", (5,), "out_of_range")]),
    "out_of_range_nprs": (1, [(V, "nprs", (9,), "out_of_range")]),
    "out_of_range_hads": (1, [(V, "hads_d", (19,), "out_of_range")]),
    "out_of_range_sf12": (1, [(V, "sf12_mcs", (24,), "out_of_range")]),
    "out_of_range_month": (1, [(V, "month", (14,), "out_of_range")]),
    "out_of_range_dose": (1, [(K, "dose_mg", (6,), "out_of_range")]),
    "not_allowed_category": (1, [(P, "sex", (4,), "not_allowed_value")]),
    "not_allowed_binary": (1, [(P, "opioid", (2,), "not_allowed_value")]),
    "missing_value_required": (1, [(P, "centre", (6,), "missing_value")]),
    "missing_value_code": (1, [(V, "nprs", (12,), "missing_value_code")]),
    "duplicate_patient_id": (1, [(P, "patient_id", (8,), "duplicate_key")]),
    "duplicate_patient_month": (1, [(V, "patient_id, month", (29,), "duplicate_key")]),
    "missing_baseline": (1, [(P, "patient_id", (6,), "missing_required_row")]),
    "unknown_patient_visits": (1, [(V, "patient_id", (29,), "unknown_reference")]),
    "unknown_patient_ketamine": (1, [(K, "patient_id", (12,), "unknown_reference")]),
    "ketamine_date_outside_window": (1, [(K, "date", (2, 11), "date_outside_window")]),
    "empty_file": (2, [(P, None, (), "empty_file")]),
    "wrong_delimiter_semicolon": (2, [(V, None, (1,), "wrong_delimiter")]),
    "wrong_delimiter_tab": (2, [(K, None, (1,), "wrong_delimiter")]),
    "not_utf8": (2, [(P, None, (4,), "not_utf8")]),
    "unparseable_csv": (2, [(K, None, (7,), "unparseable_csv")]),
    "file_missing": (2, [(K, None, (), "file_missing")]),
}
# Values planted in the fixtures that must never reach the output.
PLANTED = {
    "missing_header": ["SECRET-7"],
    "unknown_patient_visits": ["SECRET-7"],
    "unknown_patient_ketamine": ["SECRET-8"],
    "unknown_column": ["SECRET-COLUMN"],
    "out_of_range_age": ["17"],
    "not_utf8": ["Hôpital", "pital-Nord"],
    "wrong_type_decimal_comma": ["150,5"],
    "out_of_range_sf12": ["104.2"],
}


def where(lines: tuple[int, ...]) -> str:
    if not lines:
        return ""
    if len(lines) == 1:
        return f"line {lines[0]}"
    return f"lines {', '.join(map(str, lines[:-1]))} and {lines[-1]}"


def bad_folders() -> list[str]:
    return sorted(folder.name for folder in BAD.iterdir() if folder.is_dir())


def test_every_bad_fixture_has_an_expectation():
    assert set(bad_folders()) == set(EXPECTED)


def test_valid_fixture_passes(capsys):
    assert run_validate_command(VALID) == 0
    out = capsys.readouterr().out
    assert "VALID" in out and "INVALID" not in out


@pytest.mark.parametrize("defect", sorted(EXPECTED))
def test_rejects_bad_fixture_naming_file_column_lines_and_rule(defect, capsys):
    exit_code, expected = EXPECTED[defect]
    assert run_validate_command(BAD / defect) == exit_code
    out = capsys.readouterr().out
    report = validate_extract(BAD / defect)
    assert sorted((p.file, p.column, p.lines, p.rule) for p in report.problems) == sorted(expected)
    printed = out.splitlines()
    for file, column, lines, rule in expected:
        wanted = [file, f"[{rule}]", where(lines)] + ([f"column {column}"] if column else [])
        assert any(all(part in line for part in wanted) for line in printed), (wanted, out)
    if defect == "unknown_column":
        assert "header field 9" in out  # the unknown column is located by position, not by its (unprinted) name


def _cells(folder: Path) -> set[str]:
    """Every field of every file in the folder (the header too when it is not a real header) of 3+ characters."""
    codebook_text = paths.CODEBOOK.read_text(encoding="utf-8")
    cells = set()
    for file in folder.iterdir():
        lines = file.read_bytes().decode("utf-8", errors="replace").splitlines()
        if lines and "patient_id" in lines[0]:
            lines = lines[1:]
        for line in lines:
            cells.update(field.strip('"') for field in re.split(r"[,;\t]", line))
    return {cell for cell in cells if len(cell) >= 3 and cell not in codebook_text}


@pytest.mark.parametrize("defect", sorted(EXPECTED) + ["<valid>"])
def test_output_never_contains_a_data_value(defect, capsys):
    folder = VALID if defect == "<valid>" else BAD / defect
    run_validate_command(folder)
    out = capsys.readouterr().out
    leaked = sorted(cell for cell in _cells(folder) if cell in out)
    assert not leaked
    for planted in PLANTED.get(defect, []):
        assert planted not in out


# Short bad values (11, X, NA) cannot be searched for in the output (line numbers hold digits too), so these prove
# the output does not depend on them: another bad value in the same cell must give the very same report.
SWAPS = [
    ("out_of_range_nprs", V, 9, ",11,", ",97,"),
    ("out_of_range_hads", V, 19, ",22,", ",48,"),
    ("out_of_range_month", V, 14, ",13,", ",66,"),
    ("not_allowed_category", P, 4, ",X,", ",Q,"),
    ("not_allowed_binary", P, 2, ",2,", ",7,"),
    ("missing_value_code", V, 12, ",NA,", ",.,"),
    ("out_of_range_age", P, 3, ",17,", ",12,"),
]


@pytest.mark.parametrize("defect, file, line, old, new", SWAPS)
def test_output_does_not_depend_on_the_bad_value(defect, file, line, old, new, tmp_path, capsys):
    copy = tmp_path / defect
    shutil.copytree(BAD / defect, copy)
    lines = (copy / file).read_text(encoding="utf-8").splitlines(keepends=True)
    assert old in lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    (copy / file).write_text("".join(lines), encoding="utf-8")
    run_validate_command(BAD / defect)
    original = capsys.readouterr().out.replace(str(BAD / defect), "<path>")
    run_validate_command(copy)
    swapped = capsys.readouterr().out.replace(str(copy), "<path>")
    assert swapped == original


def test_validation_leaves_inputs_byte_identical(tmp_path):
    copy = tmp_path / "fixtures"
    shutil.copytree(FIXTURES / "valid", copy / "valid", copy_function=shutil.copy2)
    shutil.copytree(BAD, copy / "bad", copy_function=shutil.copy2)

    def snapshot():
        return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(copy.rglob("*"))
                if p.is_file()} | {"listing": sorted(map(str, copy.rglob("*")))}

    before = snapshot()
    for folder in [copy / "valid", *sorted((copy / "bad").iterdir())]:
        validate_extract(folder)
        for file in folder.iterdir():
            validate_extract(file)
    assert snapshot() == before


def test_single_file_is_checked_alone(tmp_path, capsys):
    assert run_validate_command(VALID / V) == 0
    assert "checked alone" in capsys.readouterr().out
    assert run_validate_command(BAD / "out_of_range_nprs" / V) == 1
    # Without patients.csv, the baseline rule falls back to the patients seen in visits.csv (P05 now starts at 24).
    report = validate_extract(BAD / "missing_baseline" / V)
    assert [(p.file, p.column, p.lines, p.rule) for p in report.problems] == [
        (V, "patient_id", (24,), "missing_required_row")]
    renamed = tmp_path / "visits_2024.csv"
    shutil.copy(VALID / V, renamed)
    assert validate_extract(renamed).exit_code == 2
    assert validate_extract(tmp_path / "no-such-folder").exit_code == 2


def test_long_line_lists_are_summarised():
    problem = Problem(V, "nprs", tuple(range(2, 12)), "out_of_range", "outside")
    assert problem.where() == "lines 2, 3, 4, 5, 6 and 5 more"
    assert "lines 2, 3, 4, 5, 6 and 5 more" in format_report(ValidationReport("x", [problem]))


@pytest.mark.parametrize("target, code", [(VALID, 0), (BAD / "out_of_range_age", 1),
                                          (BAD / "wrong_delimiter_semicolon", 2), (BAD / "no-such-folder", 2)])
def test_cli_exit_codes_end_to_end(target, code):
    result = subprocess.run([sys.executable, "-m", "okapi", "validate", str(target)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == code, result.stdout + result.stderr
    assert "okapi validate" in result.stdout


def test_committed_fixtures_equal_what_the_builder_writes(tmp_path):
    spec = importlib.util.spec_from_file_location("make_fixtures", FIXTURES / "make_fixtures.py")
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    builder.build(tmp_path)
    written = {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    committed = {p.relative_to(FIXTURES): p.read_bytes() for sub in ("valid", "bad")
                 for p in (FIXTURES / sub).rglob("*") if p.is_file()}
    assert written == committed


def test_codebook_machine_columns_agree_with_its_prose():
    with open(paths.CODEBOOK, encoding="utf-8", newline="") as handle:
        rows = {(row["file"], row["variable"]): row for row in csv.DictReader(handle)}
    codebook = load_codebook()
    for file, rules in codebook.files.items():
        for rule in rules:
            row = rows[(file, rule.name)]
            assert rule.required == (row["missing"] == "not allowed"), (file, rule.name)
            if rule.minimum is not None or rule.maximum is not None:
                assert rule.range_text() in row["allowed"], (file, rule.name)
            if rule.levels:
                assert "; ".join(rule.levels) == row["allowed"], (file, rule.name)


def test_codebook_rejects_an_unknown_type(tmp_path):
    broken = tmp_path / "codebook.csv"
    text = paths.CODEBOOK.read_text(encoding="utf-8")
    broken.write_text(text.replace("patients.csv,age,integer", "patients.csv,age,whole"), encoding="utf-8")
    with pytest.raises(CodebookError, match="unknown type"):
        load_codebook(broken)


def test_accepts_excel_style_utf8_with_bom_and_crlf(tmp_path):
    for file in VALID.iterdir():
        text = file.read_text(encoding="utf-8").replace("\n", "\r\n")
        (tmp_path / file.name).write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert validate_extract(tmp_path).exit_code == 0
