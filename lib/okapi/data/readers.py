"""Source files of `okapi import`, read into one shape: columns of raw cells with the row number a user would look up.

Formats (by extension): CSV/TXT (any of , ; tab | as delimiter, detected from the header line unless the mapping says),
Excel .xlsx (openpyxl; one sheet), Stata .dta, SPSS .sav, SAS .sas7bdat and SAS transport .xpt (pyreadstat).

Cells keep the type the source gave (text, int, float, date, datetime, bool); an empty cell is None. Missing values that
the source itself declares become `DeclaredMissing`: Stata and SAS special missings (.a to .z, shown as ".a") and
SPSS user-missing values or ranges. (SAS transport files lose special missings: pyreadstat reads them as empty.)
Row numbers: CSV line (the header is line 1), Excel sheet row, observation number for the statistics formats. Files are
opened read-only, once; nothing is written. Messages never show a cell value.
"""

import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

from okapi.data.mapping import ImportProblem

CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
STAT_SUFFIXES = {".dta", ".sav", ".zsav", ".sas7bdat", ".xpt"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
DELIMITERS = (",", ";", "\t", "|")


@dataclass(frozen=True)
class DeclaredMissing:
    """A value the source file declares missing (Stata .a, SPSS user-missing -99): counted, written empty."""

    code: str


@dataclass
class SourceTable:
    label: str  # "okapi.xlsx, sheet Patients" or "okapi.dta": how messages name it
    row_word: str  # "line", "row" or "observation"
    columns: list[str]
    cells: dict[str, list]  # column -> one raw value per data row
    rows: list[int]  # the row number of each data row, as the user finds it
    value_labels: dict[str, dict] = field(default_factory=dict)  # column -> {code: label}
    float32: set = field(default_factory=set)  # numeric columns stored in single precision
    numeric: set = field(default_factory=set)  # columns the source stores as numbers
    duplicated: set = field(default_factory=set)  # column names given more than once (first one kept)
    blank_rows: list[int] = field(default_factory=list)  # rows with no value at all: skipped, and reported


class SourceError(Exception):
    def __init__(self, problem: ImportProblem):
        self.problem = problem
        super().__init__(problem.describe())


def _fail(label: str, message: str, rows: tuple[int, ...] = (), row_word: str = "line", kind="unreadable_source"):
    raise SourceError(ImportProblem(kind, message, label, rows=rows, row_word=row_word))


def _table(label: str, row_word: str, header: list, records: list[list], numbers: list[int]) -> SourceTable:
    columns, cells, duplicated, index = [], {}, set(), []
    for position, name in enumerate(header):
        name = "" if name is None else str(name).strip()
        if name in cells:
            duplicated.add(name)
            continue
        columns.append(name)
        cells[name] = []
        index.append(position)
    table = SourceTable(label, row_word, columns, cells, [], duplicated=duplicated)
    for record, number in zip(records, numbers):
        values = [None if v is None or (isinstance(v, str) and not v.strip()) else v for v in record]
        if all(v is None for v in values):
            table.blank_rows.append(number)
            continue
        table.rows.append(number)
        for name, position in zip(columns, index):
            cells[name].append(values[position] if position < len(values) else None)
    return table


def read_csv(path: Path, delimiter: str = "", encoding: str = "utf-8") -> SourceTable:
    label = path.name
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding)
    except (UnicodeDecodeError, LookupError) as error:
        line = raw[: getattr(error, "start", 0)].count(b"\n") + 1
        _fail(label, f"is not {encoding} text (first bad byte on this line); set [csv] encoding = \"cp1252\" (or the "
                     "encoding it was saved in) in the mapping", (line,))
    if not text.strip():
        _fail(label, "is empty")
    first = text.splitlines()[0]
    delimiter = delimiter or max(DELIMITERS, key=first.count)
    records, numbers, line_before = [], [], 0
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        for record in reader:
            records.append(record)
            numbers.append(line_before + 1)
            line_before = reader.line_num
    except csv.Error:
        _fail(label, "is not valid CSV from this line on (a stray or unclosed quote?)", (line_before + 1,))
    header, body = records[0], records[1:]
    ragged = tuple(n for record, n in zip(body, numbers[1:]) if record and len(record) != len(header))
    if ragged:
        _fail(label, f"row does not have the header's {len(header)} fields (delimiter {delimiter!r})", ragged)
    body = [record or [None] * len(header) for record in body]
    return _table(label, "line", header, body, numbers[1:])


def read_excel(path: Path, sheet: str = "") -> SourceTable:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds (zipfile, KeyError, InvalidFileException)
        _fail(path.name, f"cannot be opened as an Excel workbook ({type(error).__name__})")
    try:
        if sheet and sheet not in book.sheetnames:
            _fail(path.name, f"has no sheet {sheet!r} (its sheets: {', '.join(book.sheetnames)})",
                  kind="unknown_column")
        worksheet = book[sheet] if sheet else book.worksheets[0]
        label = f"{path.name}, sheet {worksheet.title}"
        rows = [list(row) for row in worksheet.iter_rows(values_only=True)]
    finally:
        book.close()
    if not rows:
        _fail(label, "is empty")
    table = _table(label, "row", rows[0], rows[1:], list(range(2, len(rows) + 1)))
    table.numeric = {name for name in table.columns
                     if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in table.cells[name]
                            if v is not None)}
    return table


def _pyreadstat_reader(suffix: str):
    import pyreadstat

    return {".dta": (pyreadstat.read_dta, True), ".sav": (pyreadstat.read_sav, True),
            ".zsav": (pyreadstat.read_sav, True), ".sas7bdat": (pyreadstat.read_sas7bdat, True),
            ".xpt": (pyreadstat.read_xport, False)}[suffix]


def _spss_missing(value, ranges: list[dict]) -> bool:
    return isinstance(value, (int, float)) and any(r["lo"] <= value <= r["hi"] for r in ranges
                                                   if isinstance(r.get("lo"), (int, float)))


def read_statistics_file(path: Path) -> SourceTable:
    suffix = path.suffix.lower()
    read, has_user_missing = _pyreadstat_reader(suffix)
    options = {"output_format": "dict"}
    if has_user_missing:
        options["user_missing"] = True  # special and user-defined missings come through, to be counted
    try:
        data, meta = read(str(path), **options)
    except Exception as error:  # pyreadstat.ReadstatError and friends
        _fail(path.name, f"cannot be read as a {suffix} file ({type(error).__name__}: {str(error)[:80]})")
    types = meta.readstat_variable_types or {}
    numeric = {name for name, kind in types.items() if kind != "string"}
    spss_ranges = getattr(meta, "missing_ranges", {}) or {}
    records = [[] for _ in range(meta.number_rows or 0)]
    for name in meta.column_names:
        values = list(data[name])
        if len(records) < len(values):
            records += [[] for _ in range(len(values) - len(records))]
        for record, value in zip(records, values):
            if isinstance(value, float) and math.isnan(value):
                value = None
            elif name in numeric and isinstance(value, str):
                value = DeclaredMissing("." + value.lower())  # Stata/SAS special missing .a-.z
            elif name in spss_ranges and _spss_missing(value, spss_ranges[name]):
                value = DeclaredMissing(str(int(value)) if float(value).is_integer() else repr(float(value)))
            record.append(value)
    table = _table(path.name, "observation", list(meta.column_names), records, list(range(1, len(records) + 1)))
    table.numeric = numeric & set(table.columns)
    table.float32 = {name for name, kind in types.items() if kind == "float"}
    table.value_labels = {name: labels for name, labels in (meta.variable_value_labels or {}).items() if labels}
    return table


def read_source(path: Path, sheet: str = "", delimiter: str = "", encoding: str = "utf-8") -> SourceTable:
    """One source file (one sheet of a workbook) as a SourceTable; raises SourceError (exit code 3, or 5 for a sheet
    that does not exist)."""
    path = Path(path)
    if not path.is_file():
        _fail(str(path), "no such source file")
    suffix = path.suffix.lower()
    if sheet and suffix not in EXCEL_SUFFIXES:
        _fail(path.name, "the mapping gives a sheet, but this is not an Excel workbook", kind="bad_mapping")
    try:
        if suffix in CSV_SUFFIXES:
            return read_csv(path, delimiter, encoding)
        if suffix in EXCEL_SUFFIXES:
            return read_excel(path, sheet)
        if suffix in STAT_SUFFIXES:
            return read_statistics_file(path)
    except OSError as error:
        _fail(path.name, f"cannot be opened ({error.strerror})")
    known = sorted(CSV_SUFFIXES | EXCEL_SUFFIXES | STAT_SUFFIXES)
    _fail(path.name, f"unknown format {suffix or '(no extension)'}; known: {', '.join(known)} (save an .xls as .xlsx)")
