# Guards the front page as an abstract: a compact ledger that buries a failed reproduction among the reproduced rows,
# an Id that links to a label its chapter no longer defines (or a chapter grouped under a title it no longer has), a
# figure that leaves out a published figure, draws a verdict other than the rule's or does not tell calibration
# checks from reproductions, a number typed into the abstract instead of glued, and a manuscript table that can no
# longer find the front page's rows once their Ids became links.
import math
import re

import matplotlib.pyplot as plt
import pytest

from book_pages import page_title, stored_ledger, toc_docnames
from okapi import paths
from okapi.book.theme import alt_text
from okapi.verdicts import ledger_compact, ledger_figure, rules
from okapi.verdicts.ledger import CALIBRATION, LedgerEntry, entry
from okapi.verdicts.rules import NOT_ESTIMABLE, NOT_REPRODUCED, REPRODUCED
from okapi_publish import build, source, stored
from test_no_typed_numbers import NUMBER, markdown_prose
from test_strobe_checklist import defined_labels


@pytest.fixture(scope="module")
def entries() -> list[LedgerEntry]:
    """The judged ledger rows the front page published (reproduction-ledger.json in the stored index.ipynb)."""
    return [LedgerEntry(**row) for row in stored_ledger()["entries"]]


def _ids(table) -> list[str]:
    return [re.match(r"\{ref\}`(\S+) <", cell)[1] for cell in table["Id"]]


# --- the compact ledger ----------------------------------------------------------------------------------------------

def test_compact_ledger_puts_not_reproduced_rows_first(entries):
    table = ledger_compact.compact_table(entries)
    verdicts = [cell.split("\u00a0", 1)[1] for cell in table["Verdict"]]
    assert verdicts == sorted(verdicts, key=ledger_compact.VERDICT_ORDER.index)
    assert sorted(_ids(table)) == sorted(row.id for row in entries), "a ledger row is missing or repeated"


def test_a_failed_reproduction_planted_last_is_shown_first():
    # Two rows of one chapter, the reproduced one first in the book's order; a P claim judged not estimable after.
    reproduced = entry("R2a", 51.4, "chapters/cohort", ci=(50.0, 52.8))
    missed = entry("R2b", 20.0, "chapters/cohort", ci=(19.0, 21.0))
    assert (reproduced.verdict, missed.verdict) == (REPRODUCED, NOT_REPRODUCED)
    shown = ledger_compact.compact_table([reproduced, missed])
    assert _ids(shown) == ["R2b", "R2a"]
    assert shown["Verdict"].tolist() == ["\u2717\u00a0not reproduced", "\u2713\u00a0reproduced"]
    assert shown["Rule"].tolist() == [ledger_compact.RULE_KEYS[rules.ESTIMATE.key]] * 2


def test_every_ledger_id_links_to_a_label_its_chapter_defines(entries):
    labels = defined_labels()
    for chapter in {row.chapter for row in entries}:
        assert chapter in ledger_compact.CHAPTERS, f"{chapter} computes ledger rows but has no comparison table"
        title, label = ledger_compact.CHAPTERS[chapter]
        assert labels.get(label) == ("numbered", chapter), f"{label} is not a table of {chapter}"
        assert page_title(paths.REPO_ROOT / f"{chapter}.ipynb").startswith(title), (chapter, title)
    table = ledger_compact.compact_table(entries)
    for cell, row_id in zip(table["Id"], _ids(table)):
        label = re.search(r"<(\S+)>`$", cell)[1]
        chapter = next(row.chapter for row in entries if row.id == row_id)
        assert labels.get(label) == ("numbered", chapter), (row_id, label)


def test_rule_keys_are_explained_once_under_the_table_not_in_every_row(entries):
    table = ledger_compact.compact_table(entries)
    notes = ledger_compact.footnotes_markdown(entries)
    for key in set(table["Rule"]):
        rule = next(r for r, letter in ledger_compact.RULE_KEYS.items() if letter == key)
        assert f"{key}: {rules.RULES[rule].name}" in notes
        assert rules.RULES[rule].text in notes and notes.count(rules.RULES[rule].text) == 1
    assert not any(rule.text in cell for rule in rules.RULES.values() for cell in table.to_numpy().ravel())
    for row in entries:
        if row.verdict == NOT_ESTIMABLE and row.not_estimable:
            assert f"{row.id} not estimable: {row.not_estimable}" in notes


def test_calibration_checks_are_marked_in_the_table(entries):
    table = ledger_compact.compact_table(entries)
    marked = {row_id for row_id, quantity in zip(_ids(table), table["Quantity"])
              if quantity.endswith(ledger_compact.CALIBRATION_MARK)}
    assert marked == {row.id for row in entries if row.kind == CALIBRATION}


def test_the_stored_front_page_shows_the_compact_ledger(entries):
    shown = stored.table("index.ipynb", "tbl-ledger")
    assert shown.header == ledger_compact.COLUMNS
    # The stored reader shows a linked Id by its title (as the manuscript prints it).
    assert [row[0] for row in shown.rows] == [row.id for row in ledger_compact.ordered(entries)]


def test_manuscript_finds_the_front_page_rows_by_their_linked_id():
    parsed = source.parse(build.SOURCE.read_text(encoding="utf-8"))
    display = next(d for d in parsed.displays if d.book_label == "tbl-ledger")
    wanted = [r.strip() for r in display.options["rows"].split(";")]
    table = source.display_table(display)  # raises on a row it cannot find or a cell holding MyST markup
    assert [row[0] for row in table.rows] == wanted


# --- the figure ------------------------------------------------------------------------------------------------------

def test_figure_has_one_row_per_published_figure_with_calibration_marked(entries):
    rows = ledger_figure.figure_rows(entries)
    assert rows["id"].tolist() == [row.id for row in entries if not row.is_p_claim]
    assert (rows["kind"] == CALIBRATION).sum() == sum(row.kind == CALIBRATION and not row.is_p_claim
                                                      for row in entries)
    figure = ledger_figure.plot_published_vs_reproduced(entries)
    try:
        labels = [tick.get_text() for tick in figure.axes[0].get_yticklabels()]
        assert [label.split()[0] for label in labels if label.split()[0] in set(rows["id"])] == rows["id"].tolist()
        headings = [title for chapter, (title, _) in ledger_compact.CHAPTERS.items() if chapter in set(rows["chapter"])]
        assert [label for label in labels if label in headings] == headings, "chapters out of the book's order"
        legend = [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
        assert any(text.startswith("Calibration check") for text in legend)
        assert any(text.startswith("Reproduction") for text in legend)
        alt = alt_text(figure)
        assert f"{(rows['kind'] == CALIBRATION).sum()} calibration checks are squares" in alt
    finally:
        plt.close(figure)


def test_figure_and_verdict_cannot_disagree(entries):
    # On the figure's scale the rule says "reproduced" exactly inside +/-1.96: a point drawn inside the band with a
    # "not reproduced" verdict (or the reverse) would mean the figure shows another quantity than the rule judges.
    for _, row in ledger_figure.figure_rows(entries).iterrows():
        if row["verdict"] == NOT_ESTIMABLE:
            assert math.isnan(row["z"])
        else:
            assert (abs(row["z"]) < rules.Z_975) == (row["verdict"] == REPRODUCED), row["id"]
            assert row["low"] <= row["z"] <= row["high"] and row["pub_low"] <= 0 <= row["pub_high"]


def test_long_quantities_are_cut_at_a_word():
    assert ledger_figure.short_quantity("age, mean") == "age, mean"
    cut = ledger_figure.short_quantity("ketamine dose -> pain diminution (mediation model), regression coefficient")
    assert cut == "ketamine dose \u2192 pain diminution\u2026" and len(cut) <= ledger_figure.LABEL_CHARS


# --- the abstract ----------------------------------------------------------------------------------------------------

def abstract_prose(markdown: str) -> str:
    start = markdown.index("(sec-abstract)=")
    end = markdown.index("\n## ", start + len("(sec-abstract)=\n## "))
    return markdown[start:end]


def test_abstract_numbers_are_glued():
    # Stricter than test_no_typed_numbers: no digit at all in the abstract's prose, whether or not it equals a
    # ledger value today (a count of conclusions or of simulated cohorts changes with the analyses too).
    prose = markdown_prose(abstract_prose((paths.REPO_ROOT / "index.md").read_text(encoding="utf-8")))
    assert [m.group() for m in NUMBER.finditer(prose)] == []


def test_the_abstract_check_catches_a_planted_typed_number():
    planted = ("(sec-abstract)=\n## Abstract\n\nOf {glue:text}`front_reproduction_n` figures, 3 were reproduced."
               "\n\n## Next\n")
    assert [m.group() for m in NUMBER.finditer(markdown_prose(abstract_prose(planted)))] == ["3"]


def test_the_front_page_is_first_and_has_its_abstract_label():
    assert toc_docnames()[0] == "index"
    assert defined_labels(["index"]).get("sec-abstract") == ("section", "index")
    assert defined_labels(["index"]).get("fig-published-vs-reproduced") == ("numbered", "index")


def test_figure_as_saved_fits_the_text_column(entries):
    # The book saves figures with a tight bounding box: a legend or label past the figure's edge makes the saved
    # figure wider than the column, and LaTeX then scales it (and its fonts) down.
    from okapi.book.theme import TEXT_WIDTH_IN

    figure = ledger_figure.plot_published_vs_reproduced(entries)
    try:
        width = figure.get_tightbbox(figure.canvas.get_renderer()).width
        assert width <= TEXT_WIDTH_IN, f"saved {width:.2f} in wide"
    finally:
        plt.close(figure)
