"""`okapi validate`: check an extract (a folder with the three files, or one file) against the codebook.

Exit codes of `run_validate_command`: 0 valid; 1 invalid (the files were read, and some content breaks a codebook
rule); 2 unreadable: the path does not exist, a folder lacks one of the three files, a file's name is not one of
them, a file cannot be opened, is 0 bytes (or blank), is not UTF-8, is separated by ';', tab or '|' instead of
commas, or is not parseable CSV. A file with a header and no data rows is readable, so it is invalid (1), not
unreadable. A UTF-8 byte-order mark (as Excel writes) is accepted.

Locations are line numbers in the file (line 1 is the header, so line 2 is the first patient or visit), which is
also the row number a spreadsheet shows. Nothing is ever written: each file is opened read-only, once. The report
names files, columns, lines and rules and never prints a cell value (not even from the header, which could be a
data line), because a real extract is patient data.
"""

import csv
import hashlib
import io
import sys
from dataclasses import dataclass, field
from pathlib import Path

from okapi.data.codebook import Codebook, load_codebook
from okapi.data.validation_rules import (
                                         ParsedFile,
                                         Problem,
                                         check_across_rows_and_files,
                                         check_cells,
                                         check_header,
                                         )

__all__ = ["Problem", "ValidationReport", "CheckedExtract", "inspect_extract", "inspect_contents", "validate_extract",
           "format_report", "run_validate_command"]

OTHER_DELIMITERS = {";": "semicolons", "\t": "tabs", "|": "vertical bars"}


@dataclass
class ValidationReport:
    path: str
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def unreadable(self) -> bool:
        return any(problem.unreadable for problem in self.problems)

    @property
    def valid(self) -> bool:
        return not self.problems

    @property
    def exit_code(self) -> int:
        return 2 if self.unreadable else 1 if self.problems else 0


@dataclass
class CheckedExtract:
    """The report plus what was parsed, so the loader analyses exactly the bytes that were validated."""

    report: ValidationReport
    files: dict[str, ParsedFile]


def _unreadable(name: str, rule: str, message: str, lines: tuple[int, ...] = ()) -> Problem:
    return Problem(name, None, lines, rule, message, unreadable=True)


def _parse_file(path: Path, name: str) -> tuple[ParsedFile | None, list[Problem]]:
    try:
        raw = path.read_bytes()
    except OSError as error:
        return None, [_unreadable(name, "cannot_open", f"cannot be opened ({error.strerror})")]
    return _parse_bytes(raw, name)


def _parse_bytes(raw: bytes, name: str) -> tuple[ParsedFile | None, list[Problem]]:
    if not raw.strip():
        return None, [_unreadable(name, "empty_file", "the file is empty (0 bytes or blank): no header, no rows")]
    try:
        text = raw.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        return None, [_unreadable(name, "not_utf8", "is not UTF-8 text (first bad byte on this line); save it as "
                                  "CSV UTF-8", (line,))]
    if "\x00" in text:
        return None, [_unreadable(name, "unparseable_csv", "contains NUL bytes: not a text CSV file")]
    records, starts = [], []
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        line_before = 0
        for record in reader:
            if record:
                records.append(record)
                starts.append(line_before + 1)
            line_before = reader.line_num
    except csv.Error:
        # Reported at the line where the broken record starts (an unclosed quote runs on to the end of the file).
        return None, [_unreadable(name, "unparseable_csv", "is not valid CSV from this line on (a stray or "
                                  "unclosed quote?)", (line_before + 1,))]
    if not records:
        return None, [_unreadable(name, "empty_file", "the file holds no CSV records: no header, no rows")]
    header = records[0]
    if len(header) == 1:
        for delimiter, label in OTHER_DELIMITERS.items():
            if delimiter in header[0]:
                return None, [_unreadable(name, "wrong_delimiter", f"the header is separated by {label}; the "
                                          "codebook's files are comma-separated", (starts[0],))]
    parsed = ParsedFile(name, header, [], [], hashlib.sha256(raw).hexdigest())
    ragged = []
    for record, line in zip(records[1:], starts[1:]):
        if len(record) == len(header):
            parsed.rows.append(record)
            parsed.lines.append(line)
        else:
            ragged.append(line)
    problems = []
    if ragged:
        problems.append(Problem(name, None, tuple(ragged), "field_count", f"row does not have the header's "
                                f"{len(header)} fields (row left out of the other checks)"))
    if not records[1:]:
        problems.append(Problem(name, None, (starts[0],), "no_data_rows", "the file has a header but no data rows"))
    return parsed, problems


def _targets(path: Path, codebook: Codebook) -> tuple[dict[str, Path], list[Problem]]:
    if path.is_dir():
        found, problems = {}, []
        for name in codebook.file_names:
            if (path / name).is_file():
                found[name] = path / name
            else:
                problems.append(_unreadable(name, "file_missing", "not in the folder"))
        return found, problems
    if path.is_file():
        if path.name in codebook.file_names:
            return {path.name: path}, []
        return {}, [_unreadable(path.name, "unknown_file_name",
                                f"the file name must be one of {', '.join(codebook.file_names)}")]
    return {}, [_unreadable(str(path), "path_missing", "no such file or folder")]


def inspect_extract(path, codebook: Codebook | None = None) -> CheckedExtract:
    """Parse and check every file of the extract; read-only."""
    codebook = codebook or load_codebook()
    path = Path(path)
    report = ValidationReport(str(path))
    targets, report.problems = _targets(path, codebook)
    checked = _check_files(report, {name: (lambda p=file_path, n=name: _parse_file(p, n))
                                    for name, file_path in targets.items()}, codebook)
    if path.is_file():
        report.notes = ["one file checked alone: the rules linking it to the other files were not checked"]
    return checked


def inspect_contents(contents: dict[str, bytes], label: str, codebook: Codebook | None = None) -> CheckedExtract:
    """The same checks on the three files' bytes before they are written (`okapi import` checks what it would write,
    so that nothing invalid reaches the disk)."""
    codebook = codebook or load_codebook()
    report = ValidationReport(label)
    report.problems = [_unreadable(name, "file_missing", "not produced") for name in codebook.file_names
                       if name not in contents]
    return _check_files(report, {name: (lambda raw=raw, n=name: _parse_bytes(raw, n))
                                 for name, raw in contents.items()}, codebook)


def _check_files(report: ValidationReport, parsers: dict, codebook: Codebook) -> CheckedExtract:
    files = {}
    for name, parse in parsers.items():
        parsed, problems = parse()
        report.problems.extend(problems)
        if parsed is None:
            continue
        report.rows[name] = len(parsed.rows)
        report.problems.extend(check_header(parsed, codebook))
        report.problems.extend(check_cells(parsed, codebook))
        files[name] = parsed
    cross, report.notes = check_across_rows_and_files(files, codebook)
    report.problems.extend(cross)
    return CheckedExtract(report, files)


def validate_extract(path) -> ValidationReport:
    """Check a folder holding patients.csv, visits.csv and ketamine.csv (or one of those files) against the codebook."""
    return inspect_extract(path).report


def format_report(report: ValidationReport) -> str:
    lines = [f"okapi validate: {report.path}"]
    for name, count in report.rows.items():
        lines.append(f"  {name}: {count} data row{'s' if count != 1 else ''} read")
    for note in report.notes:
        lines.append(f"  note: {note}")
    if report.valid:
        lines.append("VALID: every codebook rule holds.")
        return "\n".join(lines) + "\n"
    verdict = "UNREADABLE" if report.unreadable else "INVALID"
    count = len(report.problems)
    lines.append(f"{verdict}: {count} problem{'s' if count != 1 else ''} (line numbers count the header as line 1; "
                 "no cell values are shown)")
    lines.extend(f"  - {problem.describe()}" for problem in report.problems)
    return "\n".join(lines) + "\n"


def run_validate_command(path) -> int:
    """Print the report; return 0 valid, 1 invalid, 2 unreadable."""
    report = validate_extract(path)
    sys.stdout.write(format_report(report))
    return report.exit_code
