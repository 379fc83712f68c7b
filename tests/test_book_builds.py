# Guards against a book that builds but shows something other than what was computed: a warning (blank glued number,
# broken reference) that did not fail the build, a glued number missing from its page, a page left out of the
# sidebar, a reproduction page whose commit or data checksum is not the real one, and a PDF with "??" or without the
# numbers the notebooks computed. The HTML and PDF builds are shared with the other book tests (tests/conftest.py).
import html
import re

import pytest

from book_pages import docname, executed_notebooks, glued_texts, toc_docnames
from okapi.book import buildinfo
from okapi import paths


def _visible_text(page: str) -> str:
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


SMART_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def _squeeze(text: str) -> str:
    """Whitespace removed and typographic quotes made straight (Sphinx curls the quotes of glued prose)."""
    return re.sub(r"\s+", "", text).translate(SMART_QUOTES)


def test_front_page_is_the_book_with_every_chapter_in_the_sidebar(html_book):
    front = (html_book / "index.html").read_text(encoding="utf-8")
    assert "reproducible re-analysis" in _visible_text(front)
    for name in toc_docnames():
        assert (html_book / f"{name}.html").exists(), f"{name}.html was not built"
        if name != "index":
            assert f'href="{name}.html"' in front, f"{name} is missing from the sidebar"
    assert "okapi-reproducible/okapi-ketamine-book" in front, "no repository link"


@pytest.mark.parametrize("notebook", executed_notebooks(), ids=lambda p: p.stem)
def test_every_glued_value_appears_on_its_page(html_book, notebook):
    text = _squeeze(_visible_text((html_book / f"{docname(notebook)}.html").read_text(encoding="utf-8")))
    missing = [name for name, value in glued_texts(notebook).items() if _squeeze(value) not in text]
    assert not missing, f"glued values not shown on {docname(notebook)}: {missing}"


def test_reproduction_page_states_the_real_commit_and_data_checksum(html_book):
    text = _visible_text((html_book / "chapters" / "reproducing.html").read_text(encoding="utf-8"))
    commit = buildinfo.git_commit().split()[0]
    assert commit in text
    assert buildinfo.data_checksums()[1] in text
    assert "make test" in text and "Table" in text


def test_chapters_offer_notebook_source_and_pdf_downloads(html_book):
    page = (html_book / "chapters" / "cohort.html").read_text(encoding="utf-8")
    assert "_sources/chapters/cohort.ipynb" in page and "_sources/chapters/cohort.md" in page
    assert (html_book / "_sources" / "chapters" / "cohort.md").exists()
    assert "download-pdf-button" in page


def test_bibliography_lists_both_papers(html_book):
    # The bibliography style sets titles in sentence case.
    text = _visible_text((html_book / "chapters" / "bibliography.html").read_text(encoding="utf-8")).lower()
    assert "assessment of initial depressive state" in text and "1-year follow-up study" in text


@pytest.fixture(scope="module")
def pdf_build(paper):
    """(extracted text, LaTeX source) of the session's one PDF build (tests/conftest.py)."""
    return paper.text, paper.latex


def _latex_text(source: str) -> str:
    """The LaTeX source with the escapes Sphinx adds undone, to find glued text in it."""
    source = re.sub(r"\\([%&#_{}$])", r"\1", source)
    for escaped, plain in (("\\textasciitilde{}", "~"), ("\\sphinxhyphen{}", "-"), ("\\textbar{}", "|"),
                           ("\\textasciicircum{}", "^"), ("\\textbackslash{}", "\\"), ("{[}", "["), ("{]}", "]")):
        source = source.replace(escaped, plain)
    return source


def test_pdf_has_no_unresolved_references(pdf_build):
    assert "??" not in pdf_build[0]


def test_pdf_typesets_every_glued_value(pdf_build):
    # Table cells wrap across lines, so extracted PDF text cannot be searched reliably for every value; the LaTeX
    # source xelatex typeset can. A blank glued value would be missing from it.
    latex = _squeeze(_latex_text(pdf_build[1]))
    missing = {docname(nb): [n for n, v in glued_texts(nb).items() if _squeeze(v) not in latex]
               for nb in executed_notebooks()}
    missing = {page: names for page, names in missing.items() if names}
    assert not missing, f"glued values missing from the PDF's LaTeX source: {missing}"


def test_pdf_shows_the_front_page_figures_and_has_figures_tables_and_bibliography(pdf_build):
    text = _squeeze(pdf_build[0])
    front = glued_texts(paths.REPO_ROOT / "index.ipynb")
    assert all(_squeeze(value) in text for value in front.values()), "front-page numbers missing from the PDF"
    assert re.search(r"Table\d+", text) and re.search(r"Figure\d+", text)
    assert "assessmentofinitialdepressivestate" in text.lower()
