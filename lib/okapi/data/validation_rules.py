"""The checks behind `okapi validate`: header, cells, and rules across rows and files.

Every check reads the codebook's rules (okapi.data.codebook) and reports Problems that name a file, a column, line
numbers and a rule, never a cell value: the input may be patient data.
"""

import difflib
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

from okapi.data.codebook import Codebook, ColumnRule

INTEGER = re.compile(r"-?\d+")
NUMBER = re.compile(r"-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
DECIMAL_COMMA = re.compile(r"-?\d+,\d+")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Codes that statistics packages and spreadsheets write for "missing"; the codebook asks for an empty cell instead.
MISSING_CODES = {"NA", "N/A", "#N/A", "NAN", "NULL", "NONE", ".", "-", "?", "MISSING", "ND", "NR"}
SHOWN_LINES = 5


@dataclass(frozen=True)
class Problem:
    file: str
    column: str | None
    lines: tuple[int, ...]
    rule: str
    message: str
    unreadable: bool = False

    def where(self) -> str:
        """'line 4', 'lines 4 and 9', 'lines 4, 9, 17, 20, 31 and 212 more' (line 1 is the header)."""
        if not self.lines:
            return ""
        shown = [str(n) for n in self.lines[:SHOWN_LINES]]
        rest = len(self.lines) - len(shown)
        if len(self.lines) == 1:
            return f"line {shown[0]}"
        if rest:
            return f"lines {', '.join(shown)} and {rest} more"
        return f"lines {', '.join(shown[:-1])} and {shown[-1]}"

    def describe(self) -> str:
        parts = [self.file]
        if self.column:
            parts.append(f"column {self.column}")
        if self.lines:
            parts.append(self.where())
        return f"{', '.join(parts)}: {self.message} [{self.rule}]"


@dataclass
class ParsedFile:
    """One file's rows as text, their line numbers, and each codebook column's typed values (None = missing/bad)."""

    name: str
    header: list[str]
    rows: list[list[str]]
    lines: list[int]
    sha256: str
    columns: dict[str, int] = field(default_factory=dict)
    typed: dict[str, list] = field(default_factory=dict)


def check_header(parsed: ParsedFile, codebook: Codebook) -> list[Problem]:
    """Missing, unknown and repeated columns; fills parsed.columns with codebook column -> field index."""
    expected = codebook.columns(parsed.name)
    problems = []
    if not set(parsed.header) & set(expected):
        return [Problem(parsed.name, None, (1,), "missing_header",
                        "the first line holds none of the codebook's column names: the file must start with "
                        f"the header ({', '.join(expected)})")]
    for index, name in enumerate(parsed.header):
        if name in parsed.columns:
            problems.append(Problem(parsed.name, name, (1,), "duplicate_column",
                                    f"the header names this column twice (fields {parsed.columns[name] + 1} "
                                    f"and {index + 1}); only the first is checked"))
        elif name in expected:
            parsed.columns[name] = index
    absent = [name for name in expected if name not in parsed.columns]
    for name in absent:
        problems.append(Problem(parsed.name, name, (1,), "missing_column", "column required by the codebook is "
                                "absent from the header"))
    for index, name in enumerate(parsed.header):
        if name not in expected:
            # The unknown name is not printed: a header line can hold anything, data included.
            close = difflib.get_close_matches(name, absent, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]}?" if close else ""
            problems.append(Problem(parsed.name, None, (1,), "unknown_column",
                                    f"header field {index + 1} of {len(parsed.header)} is not a column of "
                                    f"{parsed.name} in the codebook{hint}"))
    return problems


def _typed_value(text: str, rule: ColumnRule) -> tuple[object, tuple[str, str] | None]:
    """(value, (rule broken, message) or None) for one cell; value None when missing or invalid."""
    if not text.strip():
        return None, ("missing_value", "empty, but the codebook requires a value") if rule.required else None
    if rule.type != "string" and text.strip().upper() in MISSING_CODES:
        extra = "; this column may not be missing at all" if rule.required else ""
        return None, ("missing_value_code", f"holds a missing-value code (such as NA or .); leave missing "
                                            f"values empty{extra}")
    if rule.type == "string":
        return text, None
    if rule.type in ("category", "binary"):
        if text not in rule.levels:
            return None, ("not_allowed_value", f"not one of the allowed values ({', '.join(rule.levels)})")
        return text, None
    if rule.type == "integer":
        if not INTEGER.fullmatch(text):
            return None, ("wrong_type", "not a whole number written in digits (such as 7)")
        value = int(text)
    elif rule.type == "number":
        if DECIMAL_COMMA.fullmatch(text.strip()):
            return None, ("wrong_type", "a number written with a decimal comma; use a decimal point")
        if not NUMBER.fullmatch(text):
            return None, ("wrong_type", "not a number (digits with an optional decimal point, such as 2.5)")
        value = float(text)
    else:
        try:
            if not ISO_DATE.fullmatch(text):
                raise ValueError
            value = date.fromisoformat(text)
        except ValueError:
            return None, ("wrong_type", "not a calendar date written YYYY-MM-DD")
    if (rule.minimum is not None and value < rule.minimum) or (rule.maximum is not None and value > rule.maximum):
        return None, ("out_of_range", f"outside the codebook range ({rule.range_text()})")
    return value, None


def check_cells(parsed: ParsedFile, codebook: Codebook) -> list[Problem]:
    """Type, range, allowed values and required cells; fills parsed.typed for the cross checks and the loader."""
    broken: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for column, index in parsed.columns.items():
        rule = codebook.rule(parsed.name, column)
        values = []
        for row, line in zip(parsed.rows, parsed.lines):
            value, failure = _typed_value(row[index], rule)
            values.append(value)
            if failure:
                broken[(column, *failure)].append(line)
        parsed.typed[column] = values
    order = {name: position for position, name in enumerate(codebook.columns(parsed.name))}
    return [Problem(parsed.name, column, tuple(lines), rule, message)
            for (column, rule, message), lines in sorted(broken.items(), key=lambda item: order[item[0][0]])]


def _repeats(keys: list, lines: list[int]) -> list[int]:
    seen, repeated = set(), []
    for key, line in zip(keys, lines):
        if key is None or (isinstance(key, tuple) and None in key):
            continue
        if key in seen:
            repeated.append(line)
        seen.add(key)
    return repeated


def _patient_column(codebook: Codebook, file: str) -> tuple[str, str, str] | None:
    """(column, target file, target column) of the file's `references` check: how its rows find their patient."""
    for rule in codebook.files[file]:
        check = rule.check("references")
        if check:
            return rule.name, check.args[0], check.args[1]
    return None


def check_across_rows_and_files(files: dict[str, ParsedFile], codebook: Codebook) -> tuple[list[Problem], list[str]]:
    """Keys, references, required rows and date windows. Returns (problems, notes on checks that could not run)."""
    problems, notes = [], []
    for name, parsed in files.items():
        for rule in codebook.files[name]:
            if rule.name not in parsed.typed:
                continue
            for check in rule.checks:
                runner = _CROSS_CHECKS[check.name]
                found, note = runner(parsed, rule, check.args, files, codebook)
                problems.extend(found)
                if note:
                    notes.append(note)
    return problems, notes


def _unique(parsed, rule, args, files, codebook):
    lines = _repeats(parsed.typed[rule.name], parsed.lines)
    message = f"repeats a {rule.name} from an earlier line; it must be unique in {parsed.name}"
    return ([Problem(parsed.name, rule.name, tuple(lines), "duplicate_key", message)] if lines else []), None


def _unique_with(parsed, rule, args, files, codebook):
    (other,) = args
    if other not in parsed.typed:
        return [], None
    keys = list(zip(parsed.typed[other], parsed.typed[rule.name]))
    lines = _repeats(keys, parsed.lines)
    message = f"repeats the {other} and {rule.name} of an earlier line: one row per {other} and {rule.name}"
    return ([Problem(parsed.name, f"{other}, {rule.name}", tuple(lines), "duplicate_key", message)]
            if lines else []), None


def _references(parsed, rule, args, files, codebook):
    target_file, target_column = args
    target = files.get(target_file)
    if target is None or target_column not in target.typed:
        return [], f"{parsed.name} {rule.name}: not compared with {target_file} (not available)"
    known = {value for value in target.typed[target_column] if value is not None}
    lines = tuple(line for value, line in zip(parsed.typed[rule.name], parsed.lines)
                  if value is not None and value not in known)
    message = f"{rule.name} not found in {target_file}"
    return ([Problem(parsed.name, rule.name, lines, "unknown_reference", message)] if lines else []), None


def _every_patient_has(parsed, rule, args, files, codebook):
    link = _patient_column(codebook, parsed.name)
    if link is None or link[0] not in parsed.typed:
        return [], None
    own_column, target_file, target_column = link
    wanted = _typed_value(args[0], rule)[0]
    covered = {patient for patient, value in zip(parsed.typed[own_column], parsed.typed[rule.name])
               if value == wanted}
    target = files.get(target_file)
    if target is not None and target_column in target.typed:
        ids, lines, file, column = target.typed[target_column], target.lines, target_file, target_column
    else:
        # Without the patients file, every patient seen in this file is checked (at its first line).
        first_lines = {}
        for patient, line in zip(parsed.typed[own_column], parsed.lines):
            first_lines.setdefault(patient, line)
        ids, lines, file, column = list(first_lines), list(first_lines.values()), parsed.name, own_column
    missing = tuple(line for patient, line in zip(ids, lines) if patient is not None and patient not in covered)
    message = f"patient has no row with {rule.name} = {args[0]} in {parsed.name}"
    return ([Problem(file, column, missing, "missing_required_row", message)] if missing else []), None


def _days_from(parsed, rule, args, files, codebook):
    target_file, date_column, low, high = args
    link = _patient_column(codebook, parsed.name)
    target = files.get(target_file)
    if link is None or target is None or date_column not in target.typed or link[2] not in target.typed:
        return [], f"{parsed.name} {rule.name}: not compared with {target_file} {date_column} (not available)"
    own_column, _, target_column = link
    if own_column not in parsed.typed:
        return [], None
    # A patient listed twice has no single reference date: skip it (its duplicate is reported on its own).
    counts = Counter(target.typed[target_column])
    reference = {patient: start for patient, start in zip(target.typed[target_column], target.typed[date_column])
                 if counts[patient] == 1}
    outside = []
    for patient, when, line in zip(parsed.typed[own_column], parsed.typed[rule.name], parsed.lines):
        start = reference.get(patient)
        if when is not None and start is not None and not int(low) <= (when - start).days <= int(high):
            outside.append(line)
    message = f"not {low} to {high} days after the patient's {date_column} in {target_file}"
    return ([Problem(parsed.name, rule.name, tuple(outside), "date_outside_window", message)]
            if outside else []), None


_CROSS_CHECKS = {
    "unique": _unique,
    "unique_with": _unique_with,
    "references": _references,
    "every_patient_has": _every_patient_has,
    "days_from": _days_from,
}
