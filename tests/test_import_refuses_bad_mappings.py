# Guards against an import that guesses, drops or garbles data without saying so: each bad mapping (unknown column, a
# recode missing a value, a date that does not parse, a duplicated month column, a value of the wrong type, a malformed
# or incomplete mapping, an unreadable source) must stop it with its own exit code and a message naming file, column
# and rows but never the cell's value; it must never write into a source's folder, over an extract, or a broken one.
import tomllib

import pytest

from okapi import cli, paths
from okapi.data.codebook import load_codebook
from okapi.data.mapping import EXIT_CODES

from support.wide_exports import CSV_MAPPING, write_csv

N_PATIENTS = 6
PLANTED = "XQZ-planted"  # a value planted in a source cell: it must never be printed


@pytest.fixture()
def holder(tmp_path):
    """A data holder's folder: a wide CSV of six patients (';', cp1252, decimal comma) and its ketamine file."""
    folder = tmp_path / "holder"
    folder.mkdir()
    sources = write_csv(folder, N_PATIENTS)
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(CSV_MAPPING, encoding="utf-8")
    return sources, mapping, tmp_path / "extract"


def run(capsys, sources, mapping, out, *extra):
    code = cli.main(["import", *map(str, sources), "--mapping", str(mapping), "--out", str(out), *extra])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def edit_mapping(mapping, old, new):
    text = mapping.read_text(encoding="utf-8")
    assert old in text
    mapping.write_text(text.replace(old, new, 1), encoding="utf-8")


def edit_cell(source, line: int, column: str, value: str):
    """Set one cell of the ';' CSV (line 1 is the header)."""
    lines = source.read_bytes().decode("cp1252").split("\r\n")
    header = lines[0].split(";")
    cells = lines[line - 1].split(";")
    cells[header.index(column)] = value
    lines[line - 1] = ";".join(cells)
    source.write_bytes("\r\n".join(lines).encode("cp1252"))


def assert_refused(code, output, kind, out, *expected):
    assert code == EXIT_CODES[kind], output
    assert f"[{kind}, exit {code}]" in output
    for part in expected:
        assert part in output, (part, output)
    assert PLANTED not in output
    assert not out.exists(), "a refused import wrote something"


def test_the_valid_mapping_imports(holder, capsys):
    code, output = run(capsys, *holder)
    assert code == 0, output
    assert (holder[2] / "patients.csv").read_text().count("\n") == N_PATIENTS + 1


def test_an_unknown_column_is_refused(holder, capsys):
    sources, mapping, out = holder
    edit_mapping(mapping, 'age = "age"', 'age = "agee"')
    code, output = run(capsys, *holder)
    assert_refused(code, output, "unknown_column", out, "okapi.csv", '[patients.columns] age = "agee"')


def test_a_recode_missing_a_value_of_the_data_is_refused(holder, capsys):
    sources, mapping, out = holder
    edit_cell(sources[0], 4, "douleur", PLANTED)
    code, output = run(capsys, *holder)
    assert_refused(code, output, "missing_recode", out, "okapi.csv, column douleur, line 4:", "no recode")


def test_a_category_value_outside_the_codebook_without_recode_is_refused(holder, capsys):
    sources, mapping, out = holder
    edit_mapping(mapping, 'sex = { column = "sexe", recode = { "féminin" = "F", masculin = "M" } }', 'sex = "sexe"')
    code, output = run(capsys, *holder)
    assert_refused(code, output, "missing_recode", out, "okapi.csv, column sexe, lines 2, 3", "not a codebook level")


def test_a_date_that_does_not_parse_is_refused(holder, capsys):
    sources, mapping, out = holder
    edit_cell(sources[0], 5, "inclusion", "31/02/2017")
    code, output = run(capsys, *holder)
    assert_refused(code, output, "bad_date", out, "okapi.csv, column inclusion, line 5:", "%d/%m/%Y")
    assert "31/02/2017" not in output


def test_a_date_format_that_does_not_fit_the_data_is_refused(holder, capsys):
    sources, mapping, out = holder
    edit_mapping(mapping, 'date_format = "%d/%m/%Y"', 'date_format = "%Y-%m-%d"')
    code, output = run(capsys, *holder)
    assert_refused(code, output, "bad_date", out, "okapi.csv, column inclusion, lines 2, 3, 4, 5, 6 and 1 more",
                   "ketamine_admin.csv, column date")


def test_a_duplicated_month_column_is_refused(holder, capsys):
    sources, mapping, out = holder
    text = sources[0].read_bytes().decode("cp1252")
    sources[0].write_bytes(text.replace(";nprs_2;", ";nprs_02;", 1).replace(";nprs_3;", ";nprs_2;", 1)
                           .encode("cp1252"))
    code, output = run(capsys, *holder)
    assert_refused(code, output, "duplicate_column", out, "nprs: 2 columns for month 2 (nprs_02, nprs_2)")


def test_a_column_name_given_twice_in_the_source_is_refused(holder, capsys):
    sources, mapping, out = holder
    text = sources[0].read_bytes().decode("cp1252")
    sources[0].write_bytes(text.replace(";duree;", ";age;", 1).encode("cp1252"))
    edit_mapping(mapping, 'pain_duration_years = "duree"', "pain_duration_years = false")
    code, output = run(capsys, *holder)
    assert_refused(code, output, "duplicate_column", out, "okapi.csv, column age: the source has two columns")


def test_a_value_of_the_wrong_type_is_refused(holder, capsys):
    sources, mapping, out = holder
    edit_cell(sources[0], 3, "age", PLANTED)
    edit_cell(sources[1], 7, "dose", "12,5,1")
    code, output = run(capsys, *holder)
    assert_refused(code, output, "wrong_type", out, "okapi.csv, column age, line 3: age: not a number",
                   "ketamine_admin.csv, column dose, line 7")


def test_a_fraction_in_an_integer_column_is_refused(holder, capsys):
    sources, mapping, out = holder
    edit_cell(sources[0], 2, "nprs_4", "6,5")
    code, output = run(capsys, *holder)
    assert_refused(code, output, "wrong_type", out, "okapi.csv, column nprs_4, line 2: nprs: not a whole number")


def test_a_decimal_comma_without_decimal_option_is_refused(holder, capsys):
    sources, mapping, out = holder
    edit_mapping(mapping, 'decimal = ","', 'decimal = "."')
    code, output = run(capsys, *holder)
    assert_refused(code, output, "wrong_type", out, "column duree", 'decimal = ","')


def test_malformed_toml_is_refused(holder, capsys):
    sources, mapping, out = holder
    edit_mapping(mapping, "[patients.columns]", "[patients.columns")
    code, output = run(capsys, *holder)
    assert_refused(code, output, "bad_mapping", out, "mapping.toml: is not valid TOML")


def test_an_unknown_variable_and_an_unmapped_one_are_refused(holder, capsys):
    sources, mapping, out = holder
    edit_mapping(mapping, 'hads_d = { wide = "hads_d_{month}" }', 'hads-d = { wide = "hads_d_{month}" }')
    code, output = run(capsys, *holder)
    assert_refused(code, output, "bad_mapping", out, "unknown variable of visits.csv 'hads-d'; did you mean hads_d?",
                   "hads_d is not mapped")


def test_an_unknown_unit_and_a_recode_to_a_non_level_are_refused(holder, capsys):
    sources, mapping, out = holder
    edit_mapping(mapping, 'dose_mg = "dose"', 'dose_mg = { column = "dose", unit = "ml" }')
    edit_mapping(mapping, 'masculin = "M"', 'masculin = "H"')
    code, output = run(capsys, *holder)
    assert_refused(code, output, "bad_mapping", out, "unit 'ml' cannot be converted", "recode targets must be")


def test_value_labels_on_a_source_without_labels_are_refused(holder, capsys):
    sources, mapping, out = holder
    edit_mapping(mapping, 'centre = "centre"', 'centre = { column = "centre", value_labels = true }')
    code, output = run(capsys, *holder)
    assert_refused(code, output, "bad_mapping", out, "value_labels = true, but this column carries no value labels")


def test_a_source_file_the_mapping_names_but_not_given_is_refused(holder, capsys):
    sources, mapping, out = holder
    code, output = run(capsys, [sources[0]], mapping, out)
    assert_refused(code, output, "unknown_column", out, '[ketamine] source = "ketamine_admin.csv" is not one of')


def test_a_source_file_given_but_never_read_is_refused(holder, capsys):
    sources, mapping, out = holder
    extra = sources[0].with_name("notes.csv")
    extra.write_text("a;b\n1;2\n")
    code, output = run(capsys, [*sources, extra], mapping, out)
    assert_refused(code, output, "bad_mapping", out, "notes.csv: no section of the mapping reads this SOURCE")


def test_an_unreadable_source_is_refused(holder, capsys):
    sources, mapping, out = holder
    edit_mapping(mapping, 'encoding = "cp1252"', 'encoding = "utf-8"')
    code, output = run(capsys, *holder)
    assert_refused(code, output, "unreadable_source", out, "okapi.csv", "is not utf-8 text", "encoding")
    broken = sources[0].with_name("okapi.dta")
    broken.write_bytes(b"not a stata file")
    mapping.write_text(mapping.read_text(encoding="utf-8").replace('"okapi.csv"', '"okapi.dta"'), encoding="utf-8")
    code, output = run(capsys, [broken, sources[1]], mapping, out)
    assert code == EXIT_CODES["unreadable_source"] and "okapi.dta: cannot be read as a .dta file" in output


def test_a_result_breaking_a_codebook_rule_is_traced_to_its_source_row(holder, capsys):
    sources, mapping, out = holder
    lines = sources[0].read_bytes().decode("cp1252").split("\r\n")
    sources[0].write_bytes("\r\n".join([*lines[:3], lines[2], *lines[3:]]).encode("cp1252"))  # patient of line 3 twice
    code, output = run(capsys, *holder)
    assert code == EXIT_CODES["invalid_result"] and not out.exists(), output
    assert "patients.csv, column patient_id, line 4: repeats a patient_id" in output
    assert "from okapi.csv, column patient, line 4" in output


def test_blank_rows_are_skipped_and_reported(holder, capsys):
    sources, mapping, out = holder
    lines = sources[0].read_bytes().decode("cp1252").split("\r\n")
    sources[0].write_bytes("\r\n".join([*lines[:4], ";" * lines[0].count(";"), *lines[4:]]).encode("cp1252"))
    code, output = run(capsys, *holder)
    assert code == 0, output
    assert f"patients.csv: {N_PATIENTS + 1} lines in from okapi.csv, {N_PATIENTS} rows out" in output
    assert "skipped, no value at all: 1 line(s) 5" in output


def test_it_never_writes_into_a_source_folder(holder, capsys):
    sources, mapping, out = holder
    inside = sources[0].parent / "extract"
    code, output = run(capsys, sources, mapping, inside)
    assert_refused(code, output, "output_in_source", inside, "is inside the folder of this source")
    code, output = run(capsys, sources, mapping, sources[0].parent)
    assert code == EXIT_CODES["output_in_source"]
    assert sorted(p.name for p in sources[0].parent.iterdir()) == sorted(p.name for p in sources)


def test_an_existing_extract_is_replaced_only_with_force(holder, capsys):
    sources, mapping, out = holder
    out.mkdir()
    (out / "patients.csv").write_text("an earlier extract\n")
    (out / "notes.txt").write_text("the user's own file\n")
    code, output = run(capsys, *holder)
    assert code == EXIT_CODES["output_exists"] and "already holds patients.csv; pass --force" in output
    assert (out / "patients.csv").read_text() == "an earlier extract\n"
    code, output = run(capsys, *holder, "--force")
    assert code == 0, output
    assert (out / "notes.txt").read_text() == "the user's own file\n"  # only the extract's own files are replaced


def test_a_dry_run_writes_nothing(holder, capsys):
    code, output = run(capsys, *holder, "--dry-run")
    assert code == 0 and "Dry run" in output and "Reconciliation" in output
    assert not holder[2].exists()
    holder[2].mkdir()
    (holder[2] / "patients.csv").write_text("an earlier extract\n")
    code, output = run(capsys, *holder, "--dry-run")  # beside an existing extract: checked, left alone
    assert code == 0 and [p.name for p in holder[2].iterdir()] == ["patients.csv"]
    assert (holder[2] / "patients.csv").read_text() == "an earlier extract\n"


def test_the_template_lists_every_codebook_variable_and_refuses_to_run_unfilled(holder, tmp_path, capsys):
    sources, mapping, out = holder
    template = tmp_path / "template.toml"
    assert cli.main(["import", str(sources[1]), "--template", "--mapping", str(template)]) == 0
    parsed = tomllib.loads(template.read_text(encoding="utf-8"))
    codebook = load_codebook()
    for table, file in (("patients", "patients.csv"), ("visits", "visits.csv"), ("ketamine", "ketamine.csv")):
        assert list(parsed[table]["columns"]) == list(codebook.columns(file))
    assert "# ketamine_admin.csv: 3 columns\n#   patient, date, dose\n" in template.read_text(encoding="utf-8")
    assert cli.main(["import", str(sources[1]), "--template", "--mapping", str(template)]) == \
        EXIT_CODES["output_exists"]
    code, output = run(capsys, [sources[1]], template, out)
    assert code == EXIT_CODES["bad_mapping"]
    assert output.count("not filled in") == sum(len(codebook.columns(f)) for f in paths.COHORT_FILES)


def test_the_readme_example_mapping_is_accepted(tmp_path):
    # The README's worked mapping is what a data holder copies first: it must be a complete, valid mapping.
    from okapi.data.mapping import load_mapping

    readme = (paths.REPO_ROOT / "README.md").read_text(encoding="utf-8")
    example = tmp_path / "readme.toml"
    example.write_text(readme.split("```toml\n", 1)[1].split("```", 1)[0], encoding="utf-8")
    mapping = load_mapping(example, load_codebook())
    assert mapping.tables["visits"].layout == "wide" and mapping.tables["ketamine"].variables["dose_mg"].unit == "g"
