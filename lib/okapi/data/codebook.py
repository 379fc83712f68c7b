"""The codebook (`data/codebook.csv`) read into rules the validator and the loader share.

The CSV is the single source of the schema. Its human-readable columns (`allowed`, `missing`, `meaning`) are for
people; the machine-readable ones are read here:

- `type`: string, integer, number, date (YYYY-MM-DD), category, binary;
- `required`: yes (an empty cell is an error) or no (an empty cell is a missing value);
- `min`, `max`: inclusive bounds (numbers, or ISO dates for date columns), empty when there is none;
- `levels`: the allowed values of a category or binary column, separated by ';';
- `checks`: rules that span rows or files, separated by ';':
  `unique` (no value twice in the file), `unique_with=<column>` (no pair of values twice),
  `references=<file>:<column>` (the value must occur in that column of that file),
  `every_patient_has=<value>` (every patient of the referenced file has a row with this value),
  `days_from=<file>:<date column>:<lo>:<hi>` (a date lies lo..hi days after the patient's date in that file).
"""

import csv
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from okapi import paths

TYPES = ("string", "integer", "number", "date", "category", "binary")
CHECK_NAMES = ("unique", "unique_with", "references", "every_patient_has", "days_from")
# Month m of follow-up (visits.csv `month`) is days [(m - 1), m) x DAYS_PER_MONTH after inclusion: the convention by
# which the generator places administrations and the analyses assign a dated administration to a monthly call.
DAYS_PER_MONTH = 365.25 / 12


class CodebookError(ValueError):
    """The codebook itself is malformed (unknown type, bad bound, unknown check)."""


@dataclass(frozen=True)
class Check:
    name: str
    args: tuple[str, ...] = ()


@dataclass(frozen=True)
class ColumnRule:
    file: str
    name: str
    type: str
    unit: str
    allowed_text: str
    required: bool
    minimum: float | date | None = None
    maximum: float | date | None = None
    levels: tuple[str, ...] = ()
    checks: tuple[Check, ...] = ()

    def check(self, name: str) -> Check | None:
        return next((c for c in self.checks if c.name == name), None)

    def range_text(self) -> str:
        """The bounds as the codebook states them, for messages (never a data value)."""
        low, high = _bound_text(self.minimum), _bound_text(self.maximum)
        if low and high:
            return f"{low} to {high}"
        return f"{low} or more" if low else f"{high} or less"


@dataclass(frozen=True)
class Codebook:
    files: dict[str, tuple[ColumnRule, ...]] = field(default_factory=dict)

    @property
    def file_names(self) -> tuple[str, ...]:
        return tuple(self.files)

    def columns(self, file: str) -> tuple[str, ...]:
        return tuple(rule.name for rule in self.files[file])

    def rule(self, file: str, column: str) -> ColumnRule:
        for rule in self.files[file]:
            if rule.name == column:
                return rule
        raise KeyError(f"{file} has no column {column} in the codebook")


def _bound_text(bound: float | date | None) -> str:
    if bound is None:
        return ""
    return bound.isoformat() if isinstance(bound, date) else f"{bound:g}"


def _parse_bound(text: str, column_type: str, where: str) -> float | date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text) if column_type == "date" else float(text)
    except ValueError as error:
        raise CodebookError(f"{where}: bound is not a {column_type}") from error


def _parse_checks(text: str, where: str) -> tuple[Check, ...]:
    checks = []
    for token in filter(None, (part.strip() for part in text.split(";"))):
        name, _, argument = token.partition("=")
        if name not in CHECK_NAMES:
            raise CodebookError(f"{where}: unknown check {name!r} (known: {', '.join(CHECK_NAMES)})")
        args = tuple(argument.split(":")) if argument else ()
        expected = {"unique": 0, "unique_with": 1, "references": 2, "every_patient_has": 1, "days_from": 4}[name]
        if len(args) != expected:
            raise CodebookError(f"{where}: check {name} takes {expected} argument(s)")
        checks.append(Check(name, args))
    return tuple(checks)


def _parse_row(row: dict[str, str], number: int) -> ColumnRule:
    where = f"codebook line {number} ({row['file']} {row['variable']})"
    column_type = row["type"].strip()
    if column_type not in TYPES:
        raise CodebookError(f"{where}: unknown type {column_type!r}")
    if row["required"].strip() not in ("yes", "no"):
        raise CodebookError(f"{where}: required must be yes or no")
    levels = tuple(filter(None, (part.strip() for part in row.get("levels", "").split(";"))))
    if column_type in ("category", "binary") and not levels:
        raise CodebookError(f"{where}: a {column_type} column needs its levels")
    minimum = _parse_bound(row.get("min", ""), column_type, where)
    maximum = _parse_bound(row.get("max", ""), column_type, where)
    if minimum is not None and maximum is not None and minimum > maximum:
        raise CodebookError(f"{where}: min is above max")
    return ColumnRule(
        file=row["file"].strip(),
        name=row["variable"].strip(),
        type=column_type,
        unit=row["unit"].strip(),
        allowed_text=row["allowed"].strip(),
        required=row["required"].strip() == "yes",
        minimum=minimum,
        maximum=maximum,
        levels=levels,
        checks=_parse_checks(row.get("checks", ""), where),
    )


def load_codebook(path: Path = paths.CODEBOOK) -> Codebook:
    """Read the codebook CSV into per-file column rules, in the codebook's order."""
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        needed = {"file", "variable", "type", "unit", "allowed", "required", "min", "max", "levels", "checks"}
        missing = needed - set(reader.fieldnames or ())
        if missing:
            raise CodebookError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
        files: dict[str, list[ColumnRule]] = {}
        for number, row in enumerate(reader, start=2):
            rule = _parse_row(row, number)
            if rule.name in (existing.name for existing in files.get(rule.file, [])):
                raise CodebookError(f"codebook line {number}: {rule.file} {rule.name} is listed twice")
            files.setdefault(rule.file, []).append(rule)
    return Codebook({name: tuple(rules) for name, rules in files.items()})
