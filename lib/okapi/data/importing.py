"""`okapi import`: source files as data holders keep them (okapi.data.readers) + a mapping (okapi.data.mapping) -> the
three CSV files of the codebook's schema, built in memory, cell by cell (okapi.data.conversion).

Nothing lost, nothing silent: each source row becomes one output row (a patient, a visit, an administration) or, in
the wide layout of visits, one row per month; a row with no value at all is skipped and reported with its number;
every cell that cannot be converted stops the import with its file, column, rows and reason. Every output row keeps
its origin (source, row number, column), so that a codebook rule broken by the result (okapi.data.validation, run on
the bytes before anything is written) is reported at the source row that caused it. The tallies behind the printed
reconciliation (rows in and out, values copied, recoded, set missing, per variable) are kept here.
"""

import csv
import io
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from okapi.data.codebook import Codebook
from okapi.data.conversion import CellError, canonical, convert
from okapi.data.mapping import MONTH, ImportProblem, Mapping, TableSpec, VariableSpec
from okapi.data.readers import SourceTable


@dataclass
class Origin:
    source: SourceTable
    row: int  # the row number in the source, as the user finds it
    month: int | None = None  # wide layout: the month this output row was read from


@dataclass
class BuiltTable:
    """One output file: its rows as text, where each came from, and the tallies of the reconciliation."""

    file: str
    spec: TableSpec
    source: SourceTable
    header: list[str]
    rows: list[list[str]] = field(default_factory=list)
    origins: list[Origin] = field(default_factory=list)
    tallies: dict = field(default_factory=dict)  # variable -> Counter of conversion outcomes
    months: list[int] = field(default_factory=list)  # wide layout
    wide_columns: dict = field(default_factory=dict)  # variable -> {month: source column}

    def source_column(self, variable: str, origin: Origin) -> str:
        spec = self.spec.variables.get(variable)
        if spec is None or spec.absent:
            return ""
        if spec.wide:
            return self.wide_columns.get(variable, {}).get(origin.month, "")
        return spec.column

    def to_csv(self) -> bytes:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(self.header)
        writer.writerows(self.rows)
        return buffer.getvalue().encode("utf-8")


def _problem(kind: str, message: str, source: SourceTable, column: str = "", rows=()) -> ImportProblem:
    return ImportProblem(kind, message, source.label, column, tuple(rows), source.row_word)


def _column_problems(spec: VariableSpec, column: str, source: SourceTable, table: str) -> list[ImportProblem]:
    if column not in source.cells:
        return [_problem("unknown_column", f"[{table}.columns] {spec.variable} = \"{column}\": no such column in "
                                           "the source (names are case-sensitive)", source)]
    if column in source.duplicated:
        return [_problem("duplicate_column", f"the source has two columns of this name ({spec.variable} reads it): "
                                             "rename one", source, column)]
    if spec.value_labels and column not in source.value_labels:
        return [_problem("bad_mapping", f"{spec.variable}: value_labels = true, but this column carries no value "
                                        "labels in the source (Stata and SPSS files can; SAS formats live in a "
                                        "catalog file, not read here: use recode)", source, column)]
    return []


def wide_columns(spec: VariableSpec, source: SourceTable, table: str) -> tuple[dict, list[ImportProblem]]:
    """{month: source column} of a wide variable, from its name pattern (NPRS_M{month} matches NPRS_M0, NPRS_M12)."""
    before, after = spec.wide.split(MONTH)
    pattern = re.compile(re.escape(before) + r"(\d+)" + re.escape(after))
    found = defaultdict(list)
    for column in source.columns:
        match = pattern.fullmatch(column)
        if match:
            found[int(match.group(1))].append(column)
    problems = []
    if not found:
        problems.append(_problem("unknown_column", f"[{table}.columns] {spec.variable} = {{ wide = \"{spec.wide}\" }}:"
                                                   " no column of the source matches", source))
    for month, columns in sorted(found.items()):
        if len(columns) > 1:
            problems.append(_problem("duplicate_column", f"{spec.variable}: {len(columns)} columns for month {month} "
                                     f"({', '.join(columns)}); keep one", source, columns[0]))
        else:
            problems += _column_problems(spec, columns[0], source, table)
    return {month: columns[0] for month, columns in sorted(found.items())}, problems


class _Cells:
    """Converts cells and gathers their problems by (kind, column, reason), each with every row it occurs in."""

    def __init__(self, codebook: Codebook, built: BuiltTable):
        self.codebook, self.built = codebook, built
        self.failures = defaultdict(list)
        self.distinct = defaultdict(set)  # how many different values failed (counted, never shown)

    def text(self, variable: str, column: str, index: int) -> str:
        spec, source = self.built.spec.variables[variable], self.built.source
        rule = self.codebook.rule(self.built.file, variable)
        try:
            text, outcome = convert(source.cells[column][index], rule, spec, source.value_labels.get(column),
                                    column in source.float32)
        except CellError as error:
            key = (error.kind, column, f"{variable}: {error}")
            self.failures[key].append(source.rows[index])
            self.distinct[key].add(canonical(source.cells[column][index]))
            return ""
        self.built.tallies[variable][outcome] += 1
        return text

    def problems(self) -> list[ImportProblem]:
        problems = []
        for (kind, column, message), rows in self.failures.items():
            count = len(self.distinct[(kind, column, message)])
            message += f" ({count} distinct value{'s' if count != 1 else ''}; look them up at these rows)"
            problems.append(_problem(kind, message, self.built.source, column, rows))
        return problems


def build_table(spec: TableSpec, source: SourceTable, codebook: Codebook) -> tuple[BuiltTable, list[ImportProblem]]:
    header = list(codebook.columns(spec.file))
    built = BuiltTable(spec.file, spec, source, header, tallies={v: Counter() for v in header})
    problems = []
    for variable, vspec in spec.variables.items():
        if vspec.wide:
            built.wide_columns[variable], found = wide_columns(vspec, source, spec.name)
            problems += found
        elif not vspec.absent:
            problems += _column_problems(vspec, vspec.column, source, spec.name)
    if problems:
        return built, problems
    cells = _Cells(codebook, built)
    if spec.layout == "wide":
        built.months = sorted({m for columns in built.wide_columns.values() for m in columns})
    for index, row_number in enumerate(source.rows):
        for month in built.months or [None]:
            row = []
            for variable in header:
                vspec = spec.variables.get(variable)
                if variable == "month" and month is not None:
                    row.append(str(month))
                elif vspec.absent:
                    built.tallies[variable]["absent"] += 1
                    row.append("")
                elif vspec.wide and month not in built.wide_columns[variable]:
                    built.tallies[variable]["no_column"] += 1
                    row.append("")
                else:
                    column = built.wide_columns[variable][month] if vspec.wide else vspec.column
                    row.append(cells.text(variable, column, index))
            built.rows.append(row)
            built.origins.append(Origin(source, row_number, month))
    return built, cells.problems()


def build_extract(mapping: Mapping, sources: dict, codebook: Codebook) -> tuple[dict, list[ImportProblem]]:
    """{file: BuiltTable} from {table name: SourceTable}, and every problem found (the import stops on any)."""
    built, problems = {}, []
    for name, spec in mapping.tables.items():
        table, found = build_table(spec, sources[name], codebook)
        built[spec.file] = table
        problems += found
    return built, problems


def trace_problem(problem, built: dict) -> str:
    """Where a codebook rule broken by the result comes from: 'okapi.dta, column NPRS_M3, observations 4 and 9'."""
    table = built.get(problem.file)
    if table is None or not problem.lines:
        return ""
    variables = [part.strip() for part in (problem.column or "").split(",") if part.strip()]
    places = defaultdict(list)
    for line in problem.lines:
        index = line - 2  # line 1 is the header
        if not 0 <= index < len(table.origins):
            continue
        origin = table.origins[index]
        columns = [table.source_column(v, origin) for v in variables if v != "month"]
        if "month" in variables and origin.month is not None:
            columns.append(f"month {origin.month} from the column names")
        places[(origin.source.label, ", ".join(c for c in columns if c))].append(origin.row)
    parts = []
    for (label, columns), rows in places.items():
        word = table.source.row_word + ("s" if len(rows) > 1 else "")
        shown = ", ".join(map(str, rows[:5])) + (f" and {len(rows) - 5} more" if len(rows) > 5 else "")
        parts.append(f"{label}{', column ' + columns if columns else ''}, {word} {shown}")
    return "; ".join(parts)
