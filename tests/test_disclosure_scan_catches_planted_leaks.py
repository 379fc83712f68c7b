# Guards the real-data release against disclosive outputs that the runtime guard cannot see: a small count, a count that
# another shown count recovers (a total and a subgroup, a group total and its groups, a count and its percentage), a
# minimum or maximum, a patient-level row or identifier, a figure drawing patients one by one. Each leak is planted in a
# small fake built book and must be caught naming the file and what, without repeating the value; a clean one passes.
import json

import nbformat
import pytest

from okapi import cli, paths
from okapi.book.disclosure_scan import DATA_FREE_PAGES, scan_book
from okapi.book.report import ALT_KEY

N = 120
PLANTED_ID = "PX0042"
CLEAN_TABLE = [["Characteristic", "Overall (n = 120)", "Group A (n = 60)", "Group B (n = 52)", "Missing"],
               ["Age, years", "51.2 (11.7)", "51.6 (11.2)", "50.6 (12.2)", "0"],
               ["Women", "90 (75.0%)", "45 (75.0%)", "39 (75.0%)", "0"],
               ["Pain duration, years", "5.9 (3.4 to 9.9)", "5.8 (3.5 to 10.1)", "5.8 (3.4 to 9.9)", "8"]]
CLEAN_TEXT = ("The cohort has 120 patients from 30 centres; 112 of them had a depression score at inclusion "
              "(HADS-D > 7: 52 (46.4%)). Pain fell by 0.9 points (95% CI 0.7 to 1.1) over the year; mean (SD) or "
              "median (interquartile range). Figure 1 Patients answering each month. K = 3 classes were chosen.")
CLEAN_ALT = "Line chart of mean pain by month, 0 to 12, with its 95% band, in two groups of patients."


def html_table(rows: list[list[str]], caption: str = "Table 1") -> str:
    head = "".join(f"<th><p>{cell}</p></th>" for cell in rows[0])
    body = "".join("<tr>" + "".join(f"<td><p>{cell}</p></td>" for cell in row) + "</tr>" for row in rows[1:])
    return (f'<table><caption><span class="caption-number">{caption} </span><span class="caption-text">A table.'
            f"</span></caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def page(body: str) -> str:
    return (f'<html><body><nav><p>Menu 3 patients</p></nav><article class="bd-article"><section><h1>Results</h1>'
            f"{body}</section></article></body></html>")


def figure(alt: str | None, number: int = 1) -> str:
    alt_attribute = f' alt="{alt}"' if alt is not None else ""
    return (f'<figure><img src="_images/x.png"{alt_attribute}/><figcaption><p><span class="caption-number">Figure '
            f"{number} </span>Pain by month.</p></figcaption></figure>")


@pytest.fixture()
def book(tmp_path):
    """A clean built book: two pages, a ledger beside them, and the extract whose identifiers must not show."""
    html = tmp_path / "html"
    (html / "chapters").mkdir(parents=True)
    (html / "index.html").write_text(page(f"<p>{CLEAN_TEXT}</p>{html_table(CLEAN_TABLE)}{figure(CLEAN_ALT)}"))
    (html / "chapters" / "pain.html").write_text(page("<p>Pain fell over the year.</p>"))
    ledger = {"data": {"mode": "real", "n_patients": N, "sha256": "0" * 64},
              "entries": [{"id": "R1", "estimate": float(N), "note": ""}, {"id": "R3a", "estimate": 90.0, "note": ""}],
              "statements": [{"id": "C6", "finding": "4 of 5 comparisons hold"}]}
    (html / "reproduction-ledger.json").write_text(json.dumps(ledger))
    extract = tmp_path / "extract"
    extract.mkdir()
    (extract / "patients.csv").write_text("patient_id,age\n" + "".join(f"PX{i:04d},50\n" for i in range(1, N + 1)))
    return html, extract


def plant(book, body: str, name: str = "chapters/pain.html"):
    (book[0] / name).write_text(page(body))


def findings(book, **options):
    return [f for f in scan_book(book[0], extract=book[1], **options)]


def caught(book, kind: str, file: str, where: str, **options):
    found = findings(book, **options)
    assert [f for f in found if f.kind == kind and f.file == file and where in f.where], \
        "\n".join(f.describe() for f in found) or "nothing found"
    return found


def test_a_clean_book_passes(book, capsys):
    assert findings(book) == []
    assert cli.main(["disclosure-scan", str(book[0]), "--extract", str(book[1])]) == 0
    assert "no finding" in capsys.readouterr().out


def test_a_small_count_in_a_count_column_is_caught(book):
    plant(book, html_table([["Month", "Patients"], ["0", "118"], ["12", "3"]], "Table 4"))
    caught(book, "small_count", "chapters/pain.html", "Table 4, column 'Patients', row 2")


def test_a_small_count_in_the_text_and_in_a_figure_alt_text_is_caught(book):
    plant(book, "<h2>Adverse effects</h2><p>Hallucinations: 3 (2.5%).</p>" + figure("Bars of 4 patients per month"))
    found = caught(book, "small_count", "chapters/pain.html", "section 'Adverse effects', text")
    assert any(f.kind == "small_count" and f.where == "Figure 1 (alt text)" for f in found)


def test_a_subgroup_within_four_of_the_cohort_total_is_caught(book):
    plant(book, "<h2>Follow-up</h2><p>Of them, 117 patients gave a pain score.</p>")
    caught(book, "recoverable_count", "chapters/pain.html", "section 'Follow-up', text")


def test_a_group_total_minus_its_groups_is_caught(book):
    plant(book, html_table([["Characteristic", "Overall (n = 120)", "A (n = 60)", "B (n = 57)"], ["Age", "50", "51",
                                                                                                 "49"]], "Table 5"))
    caught(book, "recoverable_count", "chapters/pain.html", "Table 5, header")


def test_a_denominator_implied_by_a_percentage_is_caught(book):
    # 58 (50.0%) implies 116 with a value: 4 of the column's 120 lack one, although no count of 4 is printed.
    plant(book, html_table([["Characteristic", "Overall (n = 120)", "Missing"], ["Opioid", "58 (50.0%)", "<5"]],
                           "Table 6"))
    caught(book, "recoverable_count", "chapters/pain.html", "Table 6, column 'Overall (n = 120)', row 1")


def test_a_minimum_or_maximum_is_caught(book):
    plant(book, "<h2>Cohort</h2><p>Ages ranged widely (range 19 to 87).</p>" +
          html_table([["Variable", "Mean", "Max"], ["Age", "51", "87"]], "Table 7"))
    found = caught(book, "min_max", "chapters/pain.html", "section 'Cohort', text")
    assert any(f.kind == "min_max" and f.where == "Table 7, column 'Max'" for f in found)
    assert not any("87" in f.describe() for f in found)


def test_a_patient_identifier_of_the_extract_is_caught_without_being_repeated(book, capsys):
    plant(book, f"<h2>Listing</h2><p>The youngest was {PLANTED_ID}.</p>")
    found = caught(book, "patient_identifier", "chapters/pain.html", "section 'Listing', text")
    assert cli.main(["disclosure-scan", str(book[0]), "--extract", str(book[1])]) == 1
    printed = capsys.readouterr()
    assert PLANTED_ID not in printed.out + printed.err and PLANTED_ID not in "".join(f.describe() for f in found)


def test_a_patient_level_table_is_caught(book):
    rows = [["Patient", "Age"]] + [[f"S{i}", "50"] for i in range(N)]
    plant(book, html_table(rows, "Table 8"))
    found = caught(book, "patient_level_table", "chapters/pain.html", "Table 8")
    assert any("column 'Patient'" in f.where for f in found) and any("as many rows" in f.message for f in found)


def test_a_figure_drawing_patients_one_by_one_is_caught(book):
    plant(book, figure("Spaghetti plot: one line per patient, pain by month", 2) + figure(None, 3))
    found = caught(book, "patient_level_figure", "chapters/pain.html", "Figure 2 (alt text)")
    assert any(f.kind == "unchecked_figure" and f.where == "Figure 3 (alt text)" for f in found)


def test_a_stored_notebook_figure_without_alt_text_or_drawing_patients_is_caught(book, tmp_path):
    folder = tmp_path / "book-source"
    (folder / "chapters").mkdir(parents=True)
    notebook = nbformat.v4.new_notebook()
    image = {"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"}
    notebook.cells = [nbformat.v4.new_code_cell("plot()", outputs=[nbformat.v4.new_output("display_data", image)]),
                      nbformat.v4.new_code_cell("glue()", outputs=[nbformat.v4.new_output(
                          "display_data", image, metadata={ALT_KEY: "Individual trajectories of pain, by month"})])]
    nbformat.write(notebook, folder / "chapters" / "pain.ipynb")
    found = findings(book, notebooks=folder)
    assert {(f.file, f.where, f.kind) for f in found} == {
        ("pain.ipynb", "code cell 1, figure output", "unchecked_figure"),
        ("pain.ipynb", "code cell 2, figure output", "patient_level_figure")}


def test_leaks_in_the_ledger_json_are_caught(book, tmp_path):
    ledger = tmp_path / "ledger.json"
    ledger.write_text(json.dumps({"data": {"n_patients": N},
                                  "entries": [{"id": "R3c", "estimate": 3.0}, {"id": "C7b", "estimate": 117.0},
                                              {"id": "X1", "note": "n = 2 excluded", "max": 87}]}))
    found = findings(book, ledger=ledger)
    kinds = {(f.where, f.kind) for f in found if f.file == str(ledger)}
    assert kinds == {("entry R3c, estimate", "small_count"), ("entry C7b, estimate", "recoverable_count"),
                     ("entry X1, note", "small_count"), ("entry X1, max", "min_max")}


def test_pages_computed_from_simulated_cohorts_only_are_not_scanned(book):
    plant(book, html_table([["Classes chosen", "Cohorts"], ["K = 5", "1 (0.5%)"]]), next(iter(DATA_FREE_PAGES)))
    assert findings(book) == []
    source = book[0].parent / "source"
    (source / "chapters").mkdir(parents=True)
    (source / "chapters" / "simulation_study.md").write_text("cohort = load_cohort()\n")
    assert [f.kind for f in findings(book, notebooks=source)] == ["small_count"]  # it reads the extract now


def test_the_real_data_build_runs_the_scan_and_the_synthetic_one_skips_it(book, monkeypatch, capsys):
    plant(book, "<p>3 patients had hallucinations.</p>")
    monkeypatch.delenv(paths.DATA_DIR_ENV, raising=False)
    assert cli.main(["disclosure-scan", str(book[0]), "--real-only"]) == 0
    monkeypatch.setenv(paths.DATA_DIR_ENV, str(book[1]))
    assert cli.main(["disclosure-scan", str(book[0]), "--real-only"]) == 1
    assert "chapters/pain.html: section 'Results', text: a count below 5" in capsys.readouterr().err
    recipe = (paths.REPO_ROOT / "Makefile").read_text(encoding="utf-8").split("\nbook:", 1)[1].split("\n\n", 1)[0]
    assert "okapi disclosure-scan $(BOOK_DIR)/_build/html --real-only" in recipe
