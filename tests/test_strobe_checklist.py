# Guards against a reporting checklist that points nowhere: a STROBE item mapped to a section, figure or table label
# that the book does not define (renamed, deleted, or on a page left out of the table of contents), a figure or table
# cited as a section (or the reverse), an item dropped from the checklist, and an item marked as answered with no place
# or as unanswered without a reason.
import re

import nbformat
import pytest

from book_pages import toc_docnames
from okapi import paths
from okapi.chapters import strobe

# The STROBE checklist for cohort studies: 22 items, six of them in parts (von Elm et al. 2007). Written out here,
# independently of okapi.chapters.strobe, so a dropped or renamed item is caught.
STROBE_COHORT_ITEMS = ("1a", "1b", "2", "3", "4", "5", "6a", "6b", "7", "8", "9", "10", "11",
                       "12a", "12b", "12c", "12d", "12e", "13a", "13b", "13c", "14a", "14b", "14c", "15",
                       "16a", "16b", "16c", "17", "18", "19", "20", "21", "22")

SECTION_TARGET = re.compile(r"^\s*\((?P<label>[\w.:-]+)\)=\s*$", re.M)
NAME_OPTION = re.compile(r"^\s*:name:\s*(?P<label>\S+)\s*$", re.M)


def defined_labels(docnames=None) -> dict[str, tuple[str, str]]:
    """{label: (kind, docname)} for every cross-reference target of the pages the book builds (their stored
    notebooks, which is what Sphinx reads): `(label)=` targets are sections, `:name:`s of figures and tables (in
    Markdown cells or in table outputs) are numbered."""
    labels = {}
    for docname in toc_docnames() if docnames is None else docnames:
        notebook = paths.REPO_ROOT / f"{docname}.ipynb"
        if not notebook.exists():
            continue
        for cell in nbformat.read(notebook, as_version=4).cells:
            texts = [cell.source] if cell.cell_type == "markdown" else [
                output.get("data", {}).get("text/markdown", "") for output in cell.get("outputs", [])]
            for text in texts:
                labels.update({m["label"]: ("section", docname) for m in SECTION_TARGET.finditer(text)})
                labels.update({m["label"]: ("numbered", docname) for m in NAME_OPTION.finditer(text)})
    return labels


def missing_labels(items, labels) -> dict[str, list[str]]:
    """{label: items pointing to it} for every mapped label the book does not define."""
    return {label: used_by for label, used_by in strobe.mapped_labels(items).items() if label not in labels}


@pytest.fixture(scope="module")
def book_labels():
    return defined_labels()


def test_every_strobe_item_is_in_the_checklist_once():
    assert [entry.item for entry in strobe.CHECKLIST] == list(STROBE_COHORT_ITEMS)


def test_every_mapped_label_exists_in_the_book(book_labels):
    missing = missing_labels(strobe.CHECKLIST, book_labels)
    assert not missing, "STROBE items map to labels the book does not define: " + "; ".join(
        f"{label} (items {', '.join(items)})" for label, items in sorted(missing.items()))


def test_figures_and_tables_are_cited_by_number_and_sections_by_title(book_labels):
    wrong = [f"{label}: {'numbered' if strobe.is_numbered(label) else 'section'} reference to a {kind[0]} target"
             for label, kind in book_labels.items() if label in strobe.mapped_labels()
             and strobe.is_numbered(label) != (kind[0] == "numbered")]
    assert not wrong, wrong


def test_a_label_that_does_not_exist_is_reported(book_labels):
    planted = strobe.ChecklistItem("4", "Study design", "x", strobe.ADDRESSED,
                                   ("sec-methods-design", "Nowhere <sec-no-such-section>", "tbl-no-such-table"), "x")
    assert "sec-methods-design" in book_labels
    assert missing_labels([planted], book_labels) == {"sec-no-such-section": ["4"], "tbl-no-such-table": ["4"]}


def test_label_collection_reads_sections_figures_and_tables(book_labels):
    # One of each kind, from a Markdown cell, a figure directive and a table produced by code.
    assert book_labels["chapter-pain"] == ("section", "chapters/pain")
    assert book_labels["fig-pain-over-year"] == ("numbered", "chapters/pain")
    assert book_labels["tbl-pain-model"] == ("numbered", "chapters/pain")
    assert book_labels["tbl-ledger"] == ("numbered", "index")


@pytest.mark.parametrize("entry", strobe.CHECKLIST, ids=lambda e: e.item)
def test_status_agrees_with_places_and_note(entry):
    assert entry.status in strobe.STATUSES
    assert entry.note.strip() and entry.asks.strip()
    answered = entry.status in (strobe.ADDRESSED, strobe.PARTLY)
    assert bool(entry.places) == answered, f"item {entry.item}: {entry.status} with places {entry.places}"


def test_table_links_every_place_with_the_right_role():
    table = strobe.checklist_table()
    assert list(table["Item"]) == list(STROBE_COHORT_ITEMS)
    for entry, where in zip(strobe.CHECKLIST, table["Where in this book"]):
        for place in entry.places:
            label = strobe.place_label(place)
            expected = f"{{numref}}`{label}`" if strobe.is_numbered(label) else f"{{ref}}`{place}`"
            assert expected in where, (entry.item, where)


def test_strobe_page_has_its_label_and_shows_the_table():
    source = (paths.CHAPTERS_DIR / "strobe.md").read_text(encoding="utf-8")
    assert "(sec-strobe)=\n# " in source
    labels = defined_labels(["chapters/strobe"])
    assert labels.get("sec-strobe") == ("section", "chapters/strobe")
    assert labels.get("tbl-strobe-checklist") == ("numbered", "chapters/strobe")
