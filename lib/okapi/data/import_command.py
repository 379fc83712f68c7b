"""The command `python -m okapi import SOURCE... --mapping MAPPING.toml --out DIR [--dry-run] [--force]`, and
`python -m okapi import [SOURCE...] --template --mapping MAPPING.toml` (a skeleton to fill in).

Order of work, so that nothing is written unless all of it holds: the mapping is read and checked (exit 4); --out is
checked (not inside a source's folder: 10; no extract there already unless --force: 11); every source is read,
read-only (3); the three files are built in memory (5 to 9: unknown column, missing recode, bad date, duplicated
column, wrong type); the codebook's rules are checked on those bytes (1, each broken rule traced to its source rows);
then the files and their SHA-256 manifest are written, and `okapi validate` is run on the written folder. Exit codes:
okapi.data.mapping.EXIT_CODES. When problems of several kinds are found, all are printed and the exit code is the
smallest. Messages name files, columns, rows and rules, never a cell value (the sources are patient data).
"""

import sys
from collections import Counter
from pathlib import Path

from okapi import paths
from okapi.data.codebook import Codebook, load_codebook
from okapi.data.importing import BuiltTable, build_extract, trace_problem
from okapi.data.manifest import write_manifest
from okapi.data.mapping import (EXIT_CODES, ImportProblem, Mapping, MappingError, load_mapping,
                                mapping_template)
from okapi.data.readers import SourceError, read_source
from okapi.data.validation import format_report, inspect_contents, validate_extract

MANIFEST_NAME = "SHA256SUMS"
OUTCOMES = (("copied", "copied"), ("recoded", "recoded"), ("set_missing", "set missing"),
            ("declared_missing", "declared"), ("empty", "were empty"))
LEGEND = ("    (copied: converted as is; recoded: by a recode or a value label; set missing: a missing code of the "
          "mapping;\n     declared: missing by the source's own declaration, Stata/SAS .a-.z or SPSS user-missing; "
          "were empty: blank or system-missing)")


class ImportFailed(Exception):
    def __init__(self, problems: list[ImportProblem]):
        self.problems = sorted(problems, key=lambda p: p.exit_code)
        super().__init__("\n".join(p.describe() for p in self.problems))

    @property
    def exit_code(self) -> int:
        return self.problems[0].exit_code


def _choose_sources(mapping: Mapping, sources: list[Path]) -> dict:
    """{table name: (path, sheet)}; every SOURCE must feed some table."""
    by_name, problems = {}, []
    for path in sources:
        if path.name in by_name:
            problems.append(ImportProblem("unreadable_source", "two SOURCE files have this name: rename one",
                                          path.name))
        by_name[path.name] = path
    chosen = {}
    for name, spec in mapping.tables.items():
        if spec.source:
            if spec.source not in by_name:
                problems.append(ImportProblem("unknown_column", f"[{name}] source = \"{spec.source}\" is not one of "
                                              f"the SOURCE files given ({', '.join(by_name)})", mapping.path.name))
                continue
            chosen[name] = (by_name[spec.source], spec.sheet)
        elif len(sources) == 1:
            chosen[name] = (sources[0], spec.sheet)
        else:
            problems.append(ImportProblem("bad_mapping", f"[{name}] has no source = \"...\": with several SOURCE "
                                          "files, say which one holds this table", mapping.path.name))
    unused = [path.name for path in sources if path not in {p for p, _ in chosen.values()}]
    problems += [ImportProblem("bad_mapping", "no section of the mapping reads this SOURCE: nothing of it would be "
                               "imported", name) for name in unused]
    if problems:
        raise ImportFailed(problems)
    return chosen


def check_output(out: Path, sources: list[Path], force: bool) -> None:
    """--out must be outside every source's folder and, without --force, must not hold an extract."""
    out = out.resolve()
    for source in sources:
        folder = source.resolve().parent
        if out == folder or out.is_relative_to(folder):
            raise ImportFailed([ImportProblem("output_in_source", f"--out {out} is inside the folder of this source "
                                              f"({folder}): write the extract elsewhere (e.g. private/ of the "
                                              "repository); the sources are never written to", source.name)])
    if out.exists() and not out.is_dir():
        raise ImportFailed([ImportProblem("output_exists", "--out is a file, not a folder", str(out))])
    existing = [name for name in (*paths.COHORT_FILES, MANIFEST_NAME) if (out / name).exists()]
    if existing and not force:
        raise ImportFailed([ImportProblem("output_exists", f"already holds {', '.join(existing)}; pass --force to "
                                          "replace them", str(out))])


def read_sources(mapping: Mapping, sources: list[Path]) -> dict:
    chosen = _choose_sources(mapping, sources)
    cache, tables, problems = {}, {}, []
    for name, key in chosen.items():
        if key not in cache:
            try:
                cache[key] = read_source(key[0], key[1], mapping.delimiter, mapping.encoding)
            except SourceError as error:
                problems.append(error.problem)
                cache[key] = None
        tables[name] = cache[key]
    if problems:
        raise ImportFailed(problems)
    return tables


def _variable_line(built: BuiltTable, variable: str, codebook: Codebook) -> str:
    spec, tally = built.spec.variables.get(variable), built.tallies[variable]
    if variable == "month" and built.spec.layout == "wide":
        source, counts = "(read from the column names)", [len(built.rows), 0, 0, 0, 0]
    else:
        source = spec.describe_source()
        if spec.wide:
            source += f" ({len(built.wide_columns[variable])} columns)"
        if spec.unit:
            source += f" ({spec.unit} -> {codebook.rule(built.file, variable).unit})"
        if spec.value_labels:
            source += " (value labels)"
        counts = [tally[key] for key, _ in OUTCOMES]
    extra = []
    if tally["absent"]:
        extra.append(f"{tally['absent']} empty: not in the source")
    if tally["no_column"]:
        missing = [m for m in built.months if m not in built.wide_columns.get(variable, {})]
        extra.append(f"{tally['no_column']} empty: no column for month{'s' if len(missing) > 1 else ''} "
                     f"{', '.join(map(str, missing))}")
    cells = "".join(f"{count:>11}" for count in [sum(counts) + tally["absent"] + tally["no_column"], *counts])
    return f"    {variable:<20} {source:<36}{cells}" + (f"   {'; '.join(extra)}" if extra else "")


def reconciliation(built: dict, codebook: Codebook) -> str:
    """Rows in and out per file, and per variable how many values were copied, recoded, set missing or were empty."""
    lines = ["Reconciliation (counts of values; no value is shown):"]
    for file, table in built.items():
        source = table.source
        rows_in = len(source.rows) + len(source.blank_rows)
        if table.months:
            how = (f"{len(source.rows)} {source.row_word}s x {len(table.months)} months "
                   f"({table.months[0]} to {table.months[-1]})")
        else:
            how = f"one for each {source.row_word}"
        lines.append(f"  {file}: {rows_in} {source.row_word}s in from {source.label}, {len(table.rows)} rows out "
                     f"({how})")
        if source.blank_rows:
            rows = ", ".join(map(str, source.blank_rows[:10])) + (" ..." if len(source.blank_rows) > 10 else "")
            lines.append(f"    skipped, no value at all: {len(source.blank_rows)} {source.row_word}(s) {rows}")
        lines.append(f"    {'variable':<20} {'source column':<36}" + "".join(f"{label:>11}" for label in
                                                                                ("values", *dict(OUTCOMES).values())))
        lines += [_variable_line(table, variable, codebook) for variable in table.header]
    used = Counter()
    for table in built.values():
        for spec in table.spec.variables.values():
            columns = table.wide_columns.get(spec.variable, {}).values() if spec.wide else [spec.column]
            used.update((table.source.label, column) for column in columns if column)
    seen = set()
    for table in built.values():
        source = table.source
        if source.label in seen:
            continue
        seen.add(source.label)
        unused = [i + 1 for i, column in enumerate(source.columns) if (source.label, column) not in used]
        if unused:
            shown = ", ".join(map(str, unused[:15])) + (" ..." if len(unused) > 15 else "")
            lines.append(f"  {source.label}: {len(unused)} of {len(source.columns)} columns not imported "
                         f"(positions {shown})")
    lines.append(LEGEND)
    return "\n".join(lines) + "\n"


def write_template(target: Path, sources: list[Path], force: bool) -> int:
    if target.exists() and not force:
        print(f"import: refused: {target} exists; pass --force to replace it", file=sys.stderr)
        return EXIT_CODES["output_exists"]
    columns = {}
    for source in sources:
        try:
            columns[source.name] = read_source(source).columns
        except SourceError as error:  # e.g. a CSV in another encoding: the skeleton is still useful without the list
            print(f"import: the columns of {source.name} are not listed in the template: {error}", file=sys.stderr)
    target.write_text(mapping_template(paths.CODEBOOK, columns), encoding="utf-8")
    print(f"wrote a mapping skeleton to {target}: fill in every \"\" (see the comments), then run the import")
    return 0


def run_import(sources: list[Path], mapping_path: Path, out: Path | None, dry_run: bool = False,
               force: bool = False, codebook: Codebook | None = None) -> int:
    codebook = codebook or load_codebook()
    try:
        mapping = load_mapping(mapping_path, codebook)
        if out is None and not dry_run:
            raise ImportFailed([ImportProblem("usage", "--out FOLDER is required (or --dry-run)")])
        if out is not None:
            check_output(out, sources, force or dry_run)  # a dry run replaces nothing: an existing extract may stay
        tables = read_sources(mapping, sources)
        built, problems = build_extract(mapping, tables, codebook)
        if problems:
            raise ImportFailed(problems)
    except MappingError as error:
        return _fail(ImportFailed(error.problems))
    except ImportFailed as error:
        return _fail(error)
    contents = {file: table.to_csv() for file, table in built.items()}
    sys.stdout.write(reconciliation(built, codebook))
    checked = inspect_contents(contents, str(out or "(dry run)"), codebook).report
    if not checked.valid:
        print("The result breaks codebook rules, so nothing was written:", file=sys.stderr)
        for problem in checked.problems:
            origin = trace_problem(problem, built)
            print(f"  - {problem.describe()}" + (f"\n      from {origin}" if origin else ""), file=sys.stderr)
        return EXIT_CODES["invalid_result"]
    if dry_run:
        print("Dry run: the extract would pass `okapi validate`; nothing was written.")
        return 0
    out.mkdir(parents=True, exist_ok=True)
    for file, data in contents.items():
        (out / file).write_bytes(data)
    write_manifest(out, paths.COHORT_FILES, MANIFEST_NAME)
    report = validate_extract(out)
    sys.stdout.write(format_report(report))
    if not report.valid:
        return EXIT_CODES["invalid_result"]
    print(f"wrote {', '.join(contents)} and {MANIFEST_NAME} to {out}")
    return 0


def _fail(error: ImportFailed) -> int:
    count = len(error.problems)
    print(f"import: refused, {count} problem{'s' if count != 1 else ''} (no cell value is shown; rows as the "
          "source numbers them):", file=sys.stderr)
    for problem in error.problems:
        print(f"  - {problem.describe()}", file=sys.stderr)
    return error.exit_code
