# Guards against a glued number a reader cannot trace (issue 15, item 4): a value shown without the hover title naming
# its glue name, page and code cell, a link to a cell that does not glue that name or to a source page the build did
# not write, and a link that lands nowhere in the browser. okapi_publish.traceability makes the links; every cell that
# glues is hidden from its page, so each link goes to the page's source (_code/<page>.html#code-cell-N).
import re
from html.parser import HTMLParser

import nbformat
import pytest

from book_pages import toc_docnames
from okapi import paths
from okapi_publish.traceability import code_cells
from support.chromium import planted_page

SAMPLE_PAGE = "chapters/sensitivity"
TITLE = re.compile(r"^(?P<key>\S+): computed in (?P<source>\S+)\.md, code cell (?P<cell>\d+) \(line (?P<line>\d+)\); ")
HREF = re.compile(r"^(?P<path>[^#]*_code/(?P<doc>[^#]+)\.html)#code-cell-(?P<cell>\d+)$")


class GluedValues(HTMLParser):
    """(href, title, text) of each pasted glue value: the okapi-trace link around it, or (None, None, text)."""

    def __init__(self):
        super().__init__()
        self.found, self._link, self._pasted = [], None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if tag == "a" and "okapi-trace" in classes:
            self._link = (attrs.get("href"), attrs.get("title"))
        elif tag == "span" and "pasted-text" in classes:
            self._pasted = ""

    def handle_data(self, data):
        if self._pasted is not None:
            self._pasted += data

    def handle_endtag(self, tag):
        if tag == "span" and self._pasted is not None:
            self.found.append((*(self._link or (None, None)), self._pasted))
            self._pasted = None
        elif tag == "a":
            self._link = None


def untraced_values(html_book, name: str) -> list[str]:
    parser = GluedValues()
    parser.feed((html_book / f"{name}.html").read_text(encoding="utf-8"))
    problems = []
    for href, title, text in parser.found:
        title_match, href_match = TITLE.match(title or ""), HREF.match(href or "")
        if not (title_match and href_match):
            problems.append(f"{text!r}: title {title!r}, link {href!r}")
            continue
        doc, cell = href_match["doc"], int(href_match["cell"])
        source = (html_book / name).parent / href_match["path"]
        if not source.exists() or f'id="code-cell-{cell}"' not in source.read_text(encoding="utf-8"):
            problems.append(f"{text!r}: {href} does not exist")
            continue
        notebook = nbformat.read(paths.REPO_ROOT / f"{doc}.ipynb", as_version=4)
        markdown = (paths.REPO_ROOT / f"{doc}.md").read_text(encoding="utf-8")
        computed = code_cells(markdown, notebook)[cell - 1]
        if title_match["key"] not in computed.glues or title_match["source"] != doc \
                or int(title_match["cell"]) != cell or int(title_match["line"]) != computed.first:
            problems.append(f"{text!r}: {title!r} but {doc}.md code cell {cell} (line {computed.first}) glues "
                            f"{computed.glues}")
    return problems


@pytest.mark.parametrize("name", toc_docnames())
def test_every_glued_value_names_and_links_the_cell_that_computed_it(html_book, name):
    assert untraced_values(html_book, name) == []


def test_the_sample_page_has_glued_values_to_trace(html_book):
    parser = GluedValues()
    parser.feed((html_book / f"{SAMPLE_PAGE}.html").read_text(encoding="utf-8"))
    assert len(parser.found) > 100, "the sensitivity page has lost its glued values? the checks above saw none"


FIRST_TRACE_LINK = r'<a class="okapi-trace" href="[^"]*" title="[^"]*">(<span class="pasted-text">[^<]+</span>)</a>'
PLANTS = {  # what is planted -> replacement of the first traced value
    "link removed": r"\1",
    "wrong cell": r'<a class="okapi-trace" href="../_code/chapters/sensitivity.html#code-cell-1" '
                  r'title="sens_data_kind: computed in chapters/sensitivity.md, code cell 1 (line 1); x">\1</a>',
}


@pytest.mark.parametrize("plant", PLANTS)
def test_untraced_value_check_catches_a_planted(html_book, plant):
    with planted_page(html_book, SAMPLE_PAGE, FIRST_TRACE_LINK, PLANTS[plant], plant) as planted:
        assert untraced_values(html_book, planted.removesuffix(".html")) != []


# In the browser: hovering shows the title, and a click lands on the cell that glued the value, highlighted.
HOVER_DATA = r"""
const values = [...document.querySelectorAll('article.bd-article .pasted-text')];
return values.map((span) => { const link = span.closest('a.okapi-trace');
  return link ? [span.textContent, link.title, link.href] : [span.textContent, '', '']; });
"""
LANDED = r"""
const target = document.querySelector(':target');
return target ? [location.hash, target.querySelector('h2').textContent,
                 getComputedStyle(target).borderTopWidth] : [location.hash, '', ''];
"""


@pytest.mark.browser
def test_every_glued_value_of_the_sample_page_has_hover_text_and_lands_on_its_cell(browser, book_url):
    browser.open(f"{book_url}/{SAMPLE_PAGE}.html")
    values = browser.run(HOVER_DATA)
    assert values and all(title and href for _, title, href in values), [v for v in values if not v[1]][:5]
    for text, title, href in (values[0], values[len(values) // 2], values[-1]):
        browser.open(href)
        hash_, heading, border = browser.run(LANDED)
        assert hash_.startswith("#code-cell-") and title.split(":")[0] in heading, (text, title, heading)
        assert border == "3px", f"the cell {hash_} is not highlighted as the link's target"
