"""The mapping file of `okapi import` (TOML, read with tomllib): which source column feeds each codebook variable.

Layout (`python -m okapi import --template --mapping FILE.toml` writes a skeleton with every variable):

    [options]                  # defaults for every variable (a table or a variable may override them)
    missing = [".", "NA", -99, ".a"]   # codes meaning "missing" besides empty cells (".a": Stata/SAS special missing)
    decimal = ","              # decimal mark of numbers written as text
    date_format = "%d/%m/%Y"   # strptime format of dates written as text; "stata", "sas", "spss" or "excel" for
                               # dates stored as day (SPSS: second) numbers without a date format
    value_labels = false       # true: use the Stata/SPSS value labels instead of the codes

    [csv]                      # CSV sources only
    delimiter = ";"            # default: detected from the header line (",", ";", tab or "|")
    encoding = "utf-8"         # e.g. "cp1252" for a CSV saved by a French Excel

    [patients]                 # one section per file of the extract: patients, visits, ketamine
    source = "okapi.xlsx"      # file name of one of the SOURCE arguments (may be left out when there is one)
    sheet = "Patients"         # Excel: the sheet (default: the first)
    layout = "long"            # visits only: "wide" = one row per patient, one column per month

    [patients.columns]
    patient_id = "NUM_PATIENT"                                   # a source column
    sex = { column = "SEXE", recode = { femme = "F", homme = "M" } }
    ae_week1 = false                                             # optional variable the source does not have
    [visits.columns]
    nprs = { wide = "NPRS_M{month}" }                            # wide layout: the month is read from the name
    [ketamine.columns]
    dose_mg = { column = "DOSE", unit = "g" }                    # converted to the codebook's unit (mg)

A variable's table may also hold `missing` (added to the inherited codes), `decimal`, `date_format`,
`value_labels`, `recode` and `unit`. Every problem found in a mapping is an ImportProblem with its own exit code
(EXIT_CODES); messages name the mapping file, section and key, and never a data value.
"""

import difflib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from okapi.data.codebook import Codebook

# Exit codes of `okapi import` (the README's table): one per kind of problem, so that a script can tell them apart.
EXIT_CODES = {
    "ok": 0,
    "invalid_result": 1,      # the extract it would write breaks a codebook rule: nothing is written
    "usage": 2,               # command line (argparse's own code)
    "unreadable_source": 3,   # a source is missing, of an unknown format, corrupt, or not in the declared encoding
    "bad_mapping": 4,         # the mapping file: TOML syntax, unknown section/key/variable, a variable left unmapped
    "unknown_column": 5,      # the mapping names a source file, sheet or column that is not there
    "missing_recode": 6,      # a value present in the data has no recode (or is not a codebook level)
    "bad_date": 7,            # a date that does not parse with the declared format
    "duplicate_column": 8,    # two source columns for one month of a wide variable, or a column name given twice
    "wrong_type": 9,          # a value that is not of the codebook type (text in a number column, 2.5 as integer)
    "output_in_source": 10,   # --out is inside the folder of a source
    "output_exists": 11,      # --out already holds an extract (pass --force)
}
TABLES = {"patients": "patients.csv", "visits": "visits.csv", "ketamine": "ketamine.csv"}
TABLE_KEYS = {"source", "sheet", "layout", "columns", "missing", "decimal", "date_format", "value_labels"}
VARIABLE_KEYS = {"column", "wide", "recode", "missing", "decimal", "date_format", "unit", "value_labels"}
OPTION_KEYS = {"missing", "decimal", "date_format", "value_labels"}
NUMERIC_DATES = ("stata", "sas", "spss", "excel")
MONTH = "{month}"
# Units a source may use for a codebook unit, with the factor to the codebook's unit.
UNITS = {"mg": {"mg": "1", "g": "1000", "ug": "0.001", "µg": "0.001"}, "years": {"years": "1"}}


@dataclass(frozen=True)
class ImportProblem:
    kind: str  # a key of EXIT_CODES
    message: str
    file: str = ""  # the mapping file or a source (with its sheet)
    column: str = ""
    rows: tuple[int, ...] = ()
    row_word: str = "row"

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.kind]

    def describe(self) -> str:
        parts = [part for part in (self.file, f"column {self.column}" if self.column else "") if part]
        if self.rows:
            shown = ", ".join(map(str, self.rows[:5]))
            more = f" and {len(self.rows) - 5} more" if len(self.rows) > 5 else ""
            parts.append(f"{self.row_word}{'s' if len(self.rows) > 1 else ''} {shown}{more}")
        return f"{', '.join(parts)}: {self.message} [{self.kind}, exit {self.exit_code}]"


class MappingError(Exception):
    def __init__(self, problems: list[ImportProblem]):
        self.problems = problems
        super().__init__("\n".join(problem.describe() for problem in problems))


def code_text(value) -> str:
    """A missing code or recode key/target from TOML as the canonical text of a source value (-99 -> "-99")."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


@dataclass(frozen=True)
class VariableSpec:
    variable: str
    column: str | None = None  # long layout
    wide: str | None = None  # wide layout: a name with {month}
    absent: bool = False  # `false`: the source does not have it (written empty)
    recode: dict = field(default_factory=dict)
    missing: frozenset = frozenset()
    decimal: str = "."
    date_format: str = "%Y-%m-%d"
    unit: str = ""  # the source's unit ("" = the codebook's)
    value_labels: bool = False

    def describe_source(self) -> str:
        if self.absent:
            return "(not in the source)"
        return self.wide if self.wide else self.column


@dataclass(frozen=True)
class TableSpec:
    name: str  # patients, visits, ketamine
    file: str  # patients.csv ...
    source: str  # file name of a SOURCE argument ("" = the only one)
    sheet: str
    layout: str
    variables: dict  # codebook variable -> VariableSpec, in codebook order


@dataclass(frozen=True)
class Mapping:
    path: Path
    tables: dict  # table name -> TableSpec
    delimiter: str = ""
    encoding: str = "utf-8"


class _Reader:
    """Collects every problem of the mapping file before giving up, so one run lists them all."""

    def __init__(self, path: Path, codebook: Codebook):
        self.path, self.codebook, self.problems = path, codebook, []

    def bad(self, where: str, message: str) -> None:
        self.problems.append(ImportProblem("bad_mapping", f"[{where}] {message}", self.path.name))

    def unknown_keys(self, where: str, found, allowed, what: str) -> None:
        for key in sorted(set(found) - set(allowed)):
            close = difflib.get_close_matches(key, sorted(allowed), n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]}?" if close else f" (known: {', '.join(sorted(allowed))})"
            self.bad(where, f"unknown {what} {key!r}{hint}")

    def options(self, where: str, raw: dict, inherited: dict) -> dict:
        options = dict(inherited)
        if "missing" in raw:
            codes = raw["missing"] if isinstance(raw["missing"], list) else [raw["missing"]]
            if any(isinstance(code, (dict, list)) for code in codes):
                self.bad(where, "missing must be a list of codes such as [\".\", \"NA\", -99]")
            else:
                options["missing"] = options["missing"] | frozenset(code_text(code) for code in codes)
        if "decimal" in raw:
            if raw["decimal"] not in (".", ","):
                self.bad(where, "decimal must be \".\" or \",\"")
            else:
                options["decimal"] = raw["decimal"]
        if "date_format" in raw:
            text = raw["date_format"]
            if not isinstance(text, str) or not (text in NUMERIC_DATES or "%" in text):
                self.bad(where, f"date_format must be a strptime format such as \"%d/%m/%Y\" or one of "
                                f"{', '.join(NUMERIC_DATES)}")
            else:
                options["date_format"] = text
        if "value_labels" in raw:
            if not isinstance(raw["value_labels"], bool):
                self.bad(where, "value_labels must be true or false")
            else:
                options["value_labels"] = raw["value_labels"]
        return options

    def variable(self, table: str, file: str, layout: str, name: str, raw, options: dict) -> VariableSpec | None:
        where = f"{table}.columns.{name}"
        rule = self.codebook.rule(file, name)
        if raw is False:
            if rule.required:
                self.bad(where, f"{name} is required by the codebook: map it to a source column")
            return VariableSpec(name, absent=True)
        if isinstance(raw, str):
            raw = {"column": raw}
        if not isinstance(raw, dict):
            self.bad(where, "give a source column name, a table such as { column = \"X\" }, or false")
            return None
        self.unknown_keys(where, raw, VARIABLE_KEYS, "key")
        column, wide = raw.get("column"), raw.get("wide")
        if name == "month" and layout == "wide":
            self.bad(where, "in the wide layout the month is read from the column names: leave month out")
            return None
        if (column is None) == (wide is None) or not isinstance(column or wide, str) or not (column or wide).strip():
            self.bad(where, "not filled in: give the source column (\"\" is a placeholder of the template)"
                     if column == "" or wide == "" else "give exactly one of column = \"...\" or wide = \"...{month}\"")
            return None
        if wide is not None and (layout != "wide" or wide.count(MONTH) != 1):
            self.bad(where, f"wide = \"...\" needs layout = \"wide\" in [{table}] and one {MONTH} in the name")
            return None
        if column is not None and layout == "wide" and name != "patient_id":
            self.bad(where, f"layout is wide: give wide = \"NAME{MONTH}\" (patient_id alone is a plain column)")
            return None
        merged = self.options(where, raw, options)
        recode = raw.get("recode", {})
        if not isinstance(recode, dict) or any(isinstance(v, (dict, list)) for v in recode.values()):
            self.bad(where, "recode must be a table such as { femme = \"F\", homme = \"M\" }")
            recode = {}
        recode = {code_text(key): code_text(value) for key, value in recode.items()}
        if rule.levels:
            wrong = sorted({value for value in recode.values() if value not in rule.levels})
            if wrong:
                self.bad(where, f"recode targets must be codebook levels ({', '.join(rule.levels)}); "
                                f"{len(wrong)} target(s) are not")
        unit = raw.get("unit", "")
        if unit and unit not in UNITS.get(rule.unit, {}):
            known = ", ".join(UNITS.get(rule.unit, {})) or "none (the codebook gives no convertible unit)"
            self.bad(where, f"unit {unit!r} cannot be converted to the codebook's {rule.unit or 'unitless'} "
                            f"{name} (convertible units: {known})")
            unit = ""
        return VariableSpec(name, column=column, wide=wide, recode=recode, missing=merged["missing"],
                            decimal=merged["decimal"], date_format=merged["date_format"], unit=unit,
                            value_labels=merged["value_labels"])

    def table(self, name: str, raw, options: dict) -> TableSpec | None:
        file = TABLES[name]
        if not isinstance(raw, dict):
            self.bad(name, "must be a section")
            return None
        self.unknown_keys(name, raw, TABLE_KEYS, "key")
        layout = raw.get("layout", "long")
        if layout not in ("long", "wide") or (layout == "wide" and name != "visits"):
            self.bad(name, "layout must be \"long\"" + (" or \"wide\"" if name == "visits" else ""))
            layout = "long"
        for key in ("source", "sheet"):
            if not isinstance(raw.get(key, ""), str):
                self.bad(name, f"{key} must be a text")
        table_options = self.options(name, raw, options)
        columns = raw.get("columns", {})
        if not isinstance(columns, dict):
            self.bad(f"{name}.columns", "must be a section")
            columns = {}
        expected = [v for v in self.codebook.columns(file) if not (layout == "wide" and v == "month")]
        self.unknown_keys(f"{name}.columns", columns, self.codebook.columns(file), f"variable of {file}")
        variables = {}
        for variable in expected:
            if variable not in columns:
                self.bad(f"{name}.columns", f"{variable} is not mapped: give its source column, or "
                                            f"`{variable} = false` if the source does not have it")
                continue
            spec = self.variable(name, file, layout, variable, columns[variable], table_options)
            if spec is not None:
                variables[variable] = spec
        return TableSpec(name, file, raw.get("source", "") or "", raw.get("sheet", "") or "", layout, variables)


def load_mapping(path, codebook: Codebook) -> Mapping:
    """Read and check the mapping file; raises MappingError listing every problem (exit code 4)."""
    path = Path(path)
    reader = _Reader(path, codebook)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MappingError([ImportProblem("bad_mapping", "no such mapping file", str(path))]) from None
    except (OSError, UnicodeDecodeError) as error:
        raise MappingError([ImportProblem("bad_mapping", f"cannot be read ({error})", str(path))]) from None
    except tomllib.TOMLDecodeError as error:
        raise MappingError([ImportProblem("bad_mapping", f"is not valid TOML: {error}", path.name)]) from None
    reader.unknown_keys("top level", raw, {"options", "csv", *TABLES}, "section")
    options = reader.options("options", raw.get("options", {}), {"missing": frozenset(), "decimal": ".",
                                                                  "date_format": "%Y-%m-%d", "value_labels": False})
    reader.unknown_keys("options", raw.get("options", {}), OPTION_KEYS, "key")
    csv_options = raw.get("csv", {})
    reader.unknown_keys("csv", csv_options, {"delimiter", "encoding"}, "key")
    delimiter = csv_options.get("delimiter", "")
    if delimiter not in ("", ",", ";", "\t", "|"):
        reader.bad("csv", "delimiter must be \",\", \";\", \"\\t\" or \"|\" (or left out: detected)")
    tables = {}
    for name in TABLES:
        if name not in raw:
            reader.bad(name, f"section missing: every file of the extract ({', '.join(TABLES.values())}) needs one")
            continue
        spec = reader.table(name, raw[name], options)
        if spec is not None:
            tables[name] = spec
    if reader.problems:
        raise MappingError(reader.problems)
    return Mapping(path, tables, delimiter, csv_options.get("encoding", "utf-8"))


def mapping_template(codebook_csv: Path, sources: dict | None = None) -> str:
    """A mapping skeleton from the codebook: every variable with its meaning, type, unit and allowed values, its
    source column left "" (to fill in). `sources` ({file name: [column names]}) lists each source's columns in a
    comment, as a reminder of what can be mapped."""
    import csv

    with open(codebook_csv, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    out = [
        "# okapi import mapping: which column of your source feeds each variable of the codebook (data/codebook.csv).",
        "# Fill in every \"\" (a source column name), or write `false` for an optional variable your source does not",
        "# have. A variable may also be a table: { column = \"SEXE\", recode = { femme = \"F\", homme = \"M\" } },",
        "# { column = \"DOSE\", unit = \"g\" }, { column = \"DATE\", date_format = \"%d/%m/%Y\" },",
        "# { wide = \"NPRS_M{month}\" }"
        " (visits with layout = \"wide\"), and the keys of [options] for that variable alone.",
        "# Then: python -m okapi import SOURCE... --mapping THIS_FILE --out FOLDER [--dry-run]",
        "",
        "[options]",
        "missing = []              # codes meaning missing besides empty cells, e.g. [\".\", \"NA\", -99, \".a\"]",
        "decimal = \".\"             # \",\" when numbers are written as text with a decimal comma (40,4)",
        "date_format = \"%Y-%m-%d\"  # dates as text, e.g. \"%d/%m/%Y\"; or stata, sas, spss, excel (day numbers)",
        "value_labels = false      # true: use Stata/SPSS value labels (e.g. 1 = \"femme\") instead of the codes",
        "",
        "[csv]",
        "# delimiter = \";\"         # CSV sources: detected from the header line when left out",
        "encoding = \"utf-8\"        # e.g. \"cp1252\" for a CSV saved by a French Excel",
    ]
    for source, columns in (sources or {}).items():
        out += ["", f"# {source}: {len(columns)} columns", *(f"#   {line}" for line in _wrapped(columns))]
    for table, file in TABLES.items():
        out += ["", f"# ---- {file}", f"[{table}]",
                "source = \"\"    # file name of the source holding this table (\"\" when there is only one)",
                "sheet = \"\"     # Excel: the sheet (\"\" = the first)"]
        if table == "visits":
            out.append("layout = \"long\"  # or \"wide\": a row per patient, variables as { wide = \"NPRS_M{month}\" }"
                       ", no month")
        out.append(f"[{table}.columns]")
        for row in (row for row in rows if row["file"] == file):
            required = "required" if row["required"] == "yes" else "optional (false if absent)"
            unit = f", unit {row['unit']}" if row["unit"] else ""
            out.append(f"# {row['meaning']}")
            out.append(f"#   {row['type']}{unit}; {row['allowed']}; {required}")
            out.append(f"{row['variable']} = \"\"")
    return "\n".join(out) + "\n"


def _wrapped(names: list[str], width: int = 100) -> list[str]:
    lines, line = [], ""
    for name in names:
        if line and len(line) + len(name) + 2 > width:
            lines.append(line)
            line = ""
        line = f"{line}, {name}" if line else name
    return lines + ([line] if line else [])
