# Guards against a book PDF that builds but prints badly: a line or float running past the margin (an overfull box of
# more than 5 pt, a float too large for the page), a reference LaTeX left unresolved, a verdict or id cut by a column
# too narrow ("re-pro-duced", "R5" for R5a), a figure rescaled by LaTeX (its fonts no longer print at the size they
# were drawn at, >= 7 pt), math in Computer Modern beside Times text, a code cell, "References" twice in the contents.
import re
import subprocess

import pytest
from docutils import nodes
from docutils.utils import new_document

from okapi.book.theme import MIN_FONT_PT
from okapi.verdicts.ledger import NOT_COMPARABLE
from okapi.verdicts.rules import (CONTRADICTED, NOT_ASSESSABLE, NOT_ESTIMABLE, NOT_REPRODUCED, REPRODUCED,
                                 SUPPORTED)
from okapi_publish import latex_layout, widths
from support.latex_log import log_problems

VERDICT_WORDS = sorted({word for verdict in (REPRODUCED, NOT_REPRODUCED, NOT_ESTIMABLE, NOT_COMPARABLE, SUPPORTED,
                                             CONTRADICTED, NOT_ASSESSABLE) for word in verdict.split() if len(word) > 5})


def hyphenated(text: str, words) -> list[str]:
    """Words of `words` that the text breaks with a hyphen at a line end ("repro-\\nduced")."""
    return sorted({word for word in words for cut in range(2, len(word) - 1)
                   if re.search(rf"\b{word[:cut]}-\s*\n\s*{word[cut:]}\b", text)})


# --- The built PDF -----------------------------------------------------------------------------------------------

def test_latex_log_has_no_overfull_box_float_too_large_or_undefined_reference(paper):
    assert log_problems(paper.log) == []


def test_no_verdict_word_is_hyphenated(paper):
    assert VERDICT_WORDS and hyphenated(paper.text, VERDICT_WORDS) == []


def included_graphics(latex: str) -> list[tuple[str, str]]:
    return re.findall(r"\\sphinxincludegraphics(?:\[[^\]]*\])?\{\{([^}]*)\}(\.\w+)\}", latex)


def test_figures_are_vector_pdfs_included_at_their_own_size(paper):
    graphics = included_graphics(paper.latex)
    assert graphics, "no figure in the LaTeX source"
    assert {extension for _, extension in graphics} == {".pdf"}, "a figure is included as a raster image"
    scales = drawn_scales(paper.pdf)
    assert len(scales) >= len(graphics)
    assert [s for s in scales if abs(s - 1) > 0.005] == [], "LaTeX rescaled a figure: its fonts print at another size"


def test_figure_text_prints_at_the_minimum_size_or_more(paper):
    # At scale 1 (the test above) a figure's font sizes are its print sizes.
    sizes = {name: font_sizes(paper.pdf.parent / f"{name}.pdf") for name, _ in included_graphics(paper.latex)}
    assert sizes and all(sizes.values()), "a figure's text could not be measured"
    assert {name: min(found) for name, found in sizes.items() if min(found) < MIN_FONT_PT} == {}


def test_math_is_set_in_times_like_the_text(paper):
    fonts = subprocess.run(["pdffonts", str(paper.pdf)], capture_output=True, text=True, check=True).stdout
    assert "NimbusRomNo9L-ReguItal" in fonts, "math italic is not Times (mathptmx): it would not match FreeSerif"


def references_in_contents(toc: str) -> int:
    return len(re.findall(r"^\\contentsline \{section\}\{(?:\\numberline \{[^}]*\})?References\}", toc, re.M))


def test_contents_list_references_once(paper):
    assert references_in_contents(paper.toc) == 1, paper.toc


def test_no_code_cell_reaches_the_pdf(paper):
    assert "cell_input" not in paper.latex


# --- The checks, on planted defects ------------------------------------------------------------------------------

@pytest.mark.parametrize("line, caught", [
    ("Overfull \\hbox (5.8pt too wide) in paragraph at lines 10--12", True),
    ("Overfull \\hbox (4.9pt too wide) in paragraph at lines 10--12", False),
    ("Overfull \\vbox (394.76pt too high) has occurred while \\output is active []", True),
    ("LaTeX Warning: Float too large for page by 44.0pt on input line 6396.", True),
    ("LaTeX Warning: Reference `index:tbl-ledger' on page 1 undefined on input line 12.", True),
    ("LaTeX Warning: Hyper reference `chapters/cohort::doc' on page 1", True),
    ("Package hyperref Warning: Rerun to get /PageLabels entry.", False),
])
def test_log_check_catches_a_planted(line, caught):
    assert bool(log_problems("This is XeTeX\n" + line + "\n")) == caught


def test_contents_check_catches_a_second_references_line():
    # As the book's contents read before the fix: the page's heading and the bibliography's own.
    toc = ("\\contentsline {section}{\\numberline {13}References}{115}{section.13}%\n"
           "\\contentsline {section}{References}{115}{section.13}%\n")
    assert references_in_contents(toc) == 2


def test_hyphenation_check_catches_a_planted_split():
    assert hyphenated("verdict: re-\nproduced by the rule", VERDICT_WORDS) == ["reproduced"]
    assert hyphenated("reproduced\nnot reproduced", VERDICT_WORDS) == []


def test_a_code_cell_in_the_doctree_is_removed():
    document = new_document("page")
    cell = nodes.container(classes=["cell"])
    cell += nodes.container("", nodes.literal_block("", "x = 1"), classes=["cell_input"])
    cell += nodes.container("", nodes.paragraph("", "1"), classes=["cell_output"])
    document += cell
    assert latex_layout._remove_code_inputs(document) == 1
    assert "x = 1" not in document.astext() and "1" in document.astext()


# --- Column widths -----------------------------------------------------------------------------------------------

def ledger_like_rows():
    header = [[("Id", "sans")], [("Quantity", "sans")], [("Verdict", "sans")], [("Rule", "sans")]]
    row = [[("R5a", "serif")], [("SF-12 MCS at baseline, mean", "serif")], [("not reproduced", "serif")],
           [("published value inside the reproduced 95% CI, unless that CI holds both 0% and 100% " * 3, "serif")]]
    return [header, row, [[("R14", "serif")], *row[1:]]]


def test_every_column_is_as_wide_as_its_longest_word():
    rows = ledger_like_rows()
    setting, shares, fitted = latex_layout.choose_layout(rows)
    assert fitted and setting == latex_layout.DEFAULT
    for column, share in enumerate(shares):
        longest = max(widths.text_width(word, setting.font_pt, kind) for row in rows
                      for text, kind in row[column] for word in widths.words(text, identifiers=False))
        assert share - 2 * setting.tabcolsep_pt >= longest, (column, share, longest)


def test_a_table_too_wide_for_its_words_is_set_smaller_and_may_break_compounds():
    many = [[[(f"log-likelihood{i}", "serif")] for i in range(13)]] * 2
    setting, _, _ = latex_layout.choose_layout(many)
    assert setting != latex_layout.DEFAULT and setting.hyphens


def test_identifiers_break_only_after_underscores_dots_and_slashes():
    assert widths.break_points("pain_residual_autocorrelation") == ["pain_", "residual_", "autocorrelation"]
    assert widths.break_points("okapi.synthetic.cohort") == ["okapi.", "synthetic.", "cohort"]
    assert widths.break_points("reproduced") == ["reproduced"]
    assert widths.words("P\u00a0<\u00a0.001 and 95%\u00a0CI") == ["P\u00a0<\u00a0.001", "and", "95%\u00a0CI"]


def drawn_scales(pdf) -> list[float]:
    """The scale at which each page draws each form XObject (an included PDF figure): the current transformation
    matrix when `Do` is called, times the form's own /Matrix."""
    from pypdf import PdfReader
    from pypdf.generic import ContentStream

    scales = []
    reader = PdfReader(str(pdf))
    for page in reader.pages:
        xobjects = (page.get("/Resources") or {}).get("/XObject") or {}
        forms = {name: ref.get_object() for name, ref in xobjects.items()
                 if ref.get_object().get("/Subtype") == "/Form"}
        if not forms:
            continue
        stack, ctm = [], [1.0, 0.0, 0.0, 1.0, 0.0, 0.0]
        for operands, operator in ContentStream(page.get_contents(), reader).operations:
            if operator == b"q":
                stack.append(ctm)
            elif operator == b"Q":
                ctm = stack.pop() if stack else ctm
            elif operator == b"cm":
                a, b, c, d, e, f = (float(x) for x in operands)
                ctm = [a * ctm[0] + b * ctm[2], a * ctm[1] + b * ctm[3], c * ctm[0] + d * ctm[2],
                       c * ctm[1] + d * ctm[3], e * ctm[0] + f * ctm[2] + ctm[4], e * ctm[1] + f * ctm[3] + ctm[5]]
            elif operator == b"Do" and operands[0] in forms:
                matrix = [float(x) for x in forms[operands[0]].get("/Matrix", [1, 0, 0, 1, 0, 0])]
                scales.append((ctm[0] * ctm[3] - ctm[1] * ctm[2]) ** 0.5 * (matrix[0] * matrix[3]) ** 0.5)
    return scales


def font_sizes(pdf) -> list[float]:
    """The size in points of every text a PDF's first page draws (font size times text and transformation scales)."""
    from pypdf import PdfReader

    sizes = []

    def visit(text, cm, tm, font, size):
        if text.strip():
            sizes.append(size * abs(tm[0] * tm[3] - tm[1] * tm[2]) ** 0.5 * abs(cm[0] * cm[3] - cm[1] * cm[2]) ** 0.5)

    PdfReader(str(pdf)).pages[0].extract_text(visitor_text=visit)
    return sizes
