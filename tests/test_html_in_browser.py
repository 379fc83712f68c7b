# Guards against an HTML book that builds cleanly but reads badly in a browser once its scripts ran: a Python
# traceback, stderr or warning shown in an output, an image that does not load, an unresolved cross-reference or
# citation, a glued number that renders blank or not at all, a formula left as raw TeX (MathJax asked of a CDN that an
# offline reader or a file:// page cannot reach), and any request that leaves the machine. Each check is shown to fail
# on a planted defect. The browser (tests/support/chromium.py) can resolve no host but 127.0.0.1.
import re
import struct

import pytest

from book_pages import glue_text_roles, toc_docnames
from okapi import paths
from support.chromium import WINDOW, Browser, planted_page, requests_elsewhere

SCREENSHOT = paths.REPO_ROOT / "_build" / "test-artifacts" / "front-page.png"  # _build/ is git-ignored
# Pages whose formulas must render (the check below also covers every other page that has any).
PAGES_WITH_FORMULAS = ("chapters/methods", "chapters/depression")

# Runs in the loaded page. The selectors are how Sphinx, MyST-NB and sphinxcontrib-bibtex render each defect (seen
# in a small book built with a failing cell, stderr, broken {numref}/{ref}/{doc}/{cite} and an empty glued text):
# an error output is div.output.traceback, stderr div.output.stderr; an unresolved reference keeps its "xref" class
# but has no link around it; a citation with an unknown key is an empty "[]" span; an empty glued text an empty
# span.pasted-text, and a glued number MyST-NB could not format (numpy scalar with a format spec) no span at all.
CHECK_PAGE = r"""
const findings = [];
const add = (kind, detail) => findings.push([kind, String(detail).replace(/\s+/g, ' ').trim().slice(0, 160)]);
for (const el of document.querySelectorAll('.output.traceback, .output.error, .output.stderr'))
  add('python error output', el.className + ': ' + el.textContent);
for (const el of document.querySelectorAll('.cell_output')) {
  const hit = el.textContent.match(/Traceback \(most recent call last\)|\b\w*(Error|Exception|Warning): /);
  if (hit) add('python error output', hit[0]);
}
for (const img of document.images)
  if (!img.complete || img.naturalWidth === 0) add('image not loaded', img.getAttribute('src'));
for (const el of document.querySelectorAll('.xref'))
  if (!el.closest('a')) add('unresolved reference', el.className + ': ' + el.textContent);
for (const el of document.querySelectorAll('.bibtex-citation'))
  if (!el.querySelector('a')) add('unresolved reference', 'citation ' + el.textContent);
const text = document.body.innerText;
for (const marker of ['??', '<no title>']) {
  const at = text.indexOf(marker);
  if (at >= 0) add('unresolved reference', text.slice(Math.max(0, at - 60), at + 20));
}
for (const el of document.querySelectorAll('.pasted-text, .pasted-inline'))
  if (!el.textContent.trim()) add('blank glued value', 'empty glued text in: ' + el.parentElement.textContent);
for (const el of document.querySelectorAll('span.math, div.math'))
  if (!el.querySelector('mjx-container')) add('formula not rendered', el.textContent);
for (const el of document.querySelectorAll('mjx-merror')) add('formula not rendered', 'TeX error: ' + el.textContent);
for (const font of document.fonts) if (font.status === 'error') add('font not loaded', font.family);
return {findings: findings, glued: document.querySelectorAll('.pasted-text').length,
        formulas: document.querySelectorAll('span.math, div.math').length,
        rendered: document.querySelectorAll('mjx-container').length};
"""



def checked_page(browser: Browser, url: str, glue_roles: int) -> tuple[list[tuple[str, str]], dict]:
    """What is wrong with one page as the browser shows it, [(kind, detail)], and the raw counts of CHECK_PAGE;
    `glue_roles` is the number of {glue:text} roles of its source, each of which must have become one span."""
    browser.requested_urls()  # empties the network log: what follows is this page's
    browser.open(url)
    error = browser.settle()
    result = browser.run(CHECK_PAGE)
    findings = [tuple(finding) for finding in result["findings"]]
    if error:
        findings.append(("formula not rendered", f"MathJax failed: {error}"))
    if result["glued"] != glue_roles:
        findings.append(("blank glued value", f"{result['glued']} glued texts shown, the source has {glue_roles}"))
    findings += [("request off this machine", url) for url in requests_elsewhere(browser.requested_urls())]
    return findings, result


def page_defects(browser: Browser, url: str, glue_roles: int) -> list[tuple[str, str]]:
    return checked_page(browser, url, glue_roles)[0]


def _glue_roles(name: str) -> int:
    return glue_text_roles(paths.REPO_ROOT / f"{name}.ipynb", "html")


@pytest.mark.parametrize("name", toc_docnames())
def test_page_shows_no_error_output_broken_image_unresolved_reference_or_blank_number(browser, book_url, name):
    defects = page_defects(browser, f"{book_url}/{name}.html", _glue_roles(name))
    assert not defects, f"{name}.html in Chromium: {defects}"


@pytest.mark.parametrize("name", PAGES_WITH_FORMULAS)
def test_formulas_render_offline_over_http_and_from_file(browser, book_url, html_book, name):
    # The per-page check above finds raw TeX on any page; here the pages known to hold formulas must have some, all
    # typeset, both as served and opened as a file (file:// cannot fetch from a CDN either).
    for url in (f"{book_url}/{name}.html", (html_book / f"{name}.html").as_uri()):
        defects, counts = checked_page(browser, url, _glue_roles(name))
        assert counts["formulas"] > 0, f"{url}: no formula found; has the page changed?"
        assert counts["rendered"] >= counts["formulas"], f"{url}: {counts}"
        assert not defects, f"{url}: {defects}"


def test_front_page_screenshot_is_saved_for_the_reviewer(browser, book_url, capsys):
    browser.open(f"{book_url}/index.html")
    png = browser.full_page_png()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    # The whole page, not only the first screen: the ledger table lies below the fold.
    assert width == WINDOW[0] and height > WINDOW[1], (width, height)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    SCREENSHOT.write_bytes(png)
    with capsys.disabled():
        print(f"\nfront-page screenshot ({width}x{height}): {SCREENSHOT}")


# The front page's ledger must fit the text column at the browser's width (1280 px): wider, its last columns are cut
# off or pushed into a horizontal scroll (as the verdicts once were). `plant` widens one cell first, to show the check
# can fail.
LEDGER_WIDTHS = r"""
const table = document.getElementById('tbl-ledger');
if (arguments[0]) table.querySelector('tbody td:last-child').textContent = 'x'.repeat(400);
const box = table.closest('.pst-scrollable-table-container') || table.parentElement;
return {table: table.scrollWidth, box: box.clientWidth,
        column: document.querySelector('article.bd-article').clientWidth};
"""


@pytest.mark.parametrize("plant", [False, True], ids=["as-built", "planted-wide-cell"])
def test_front_page_ledger_fits_the_text_column(browser, book_url, plant):
    browser.open(f"{book_url}/index.html")
    widths = browser.run(LEDGER_WIDTHS, plant)
    fits = widths["table"] <= widths["box"] <= widths["column"]
    assert fits != plant, f"ledger {widths['table']} px wide in a {widths['box']} px box ({widths['column']} px column)"


# How each defect looks in the HTML Sphinx and MyST-NB write (from the small book described above CHECK_PAGE).
TRACEBACK_OUTPUT = ('<div class="cell_output docutils container"><div class="output traceback highlight-ipythontb '
                    'notranslate"><div class="highlight"><pre><span></span>ValueError: boom</pre></div></div></div>')
STDERR_OUTPUT = ('<div class="cell_output docutils container"><div class="output stderr highlight-myst-ansi '
                 'notranslate"><div class="highlight"><pre><span></span>something on stderr</pre></div></div></div>')
WARNING_IN_STDOUT = ('<div class="cell_output docutils container"><div class="output stream highlight-myst-ansi '
                     'notranslate"><div class="highlight"><pre><span></span>/x.py:3: RuntimeWarning: invalid value '
                     'encountered in divide</pre></div></div></div>')
FIRST_PASTED_TEXT = r'<span class="pasted-text">[^<]+</span>'
FIRST_FIGURE_REFERENCE = (r'<a class="reference internal" href="#(fig-[^"]+)">'
                          r'<span class="std std-numref">[^<]*</span></a>')
FIRST_FIGURE_IMAGE = r'(<figure[^>]*>\s*<img [^>]*?src=")[^"]+'
ARTICLE = r'(<article class="bd-article">)'
LOCAL_MATHJAX = r'src="(\.\./)*_static/mathjax/tex-mml-chtml\.js"'
CDN_MATHJAX = 'src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"'

PLANTS = {  # kind of defect the checker must report: (pattern, replacement)
    "traceback": ("python error output", ARTICLE, r"\1" + TRACEBACK_OUTPUT),
    "stderr": ("python error output", ARTICLE, r"\1" + STDERR_OUTPUT),
    "warning printed in an output": ("python error output", ARTICLE, r"\1" + WARNING_IN_STDOUT),
    "image missing": ("image not loaded", FIRST_FIGURE_IMAGE, r"\1../_images/not-built.png"),
    "numref unresolved": ("unresolved reference", FIRST_FIGURE_REFERENCE,
                          r'<code class="xref std std-numref docutils literal notranslate"><span class="pre">\1'
                          r'</span></code>'),
    "ref unresolved": ("unresolved reference", ARTICLE, r'\1<p><span class="xref std std-ref">sec-gone</span></p>'),
    "citation unresolved": ("unresolved reference", ARTICLE, r'\1<p><span class="bibtex-citation">[]</span></p>'),
    "question marks": ("unresolved reference", FIRST_FIGURE_REFERENCE, "Figure ??"),
    "page without title": ("unresolved reference", ARTICLE,
                           r'\1<p><a class="reference internal" href="#"><span class="doc">&lt;no title&gt;</span>'
                           r'</a></p>'),
    "glued text empty": ("blank glued value", FIRST_PASTED_TEXT, '<span class="pasted-text"></span>'),
    "glued number dropped": ("blank glued value", FIRST_PASTED_TEXT, ""),
    "MathJax from a CDN": ("formula not rendered", LOCAL_MATHJAX, CDN_MATHJAX),
    "script from a CDN": ("request off this machine", LOCAL_MATHJAX, CDN_MATHJAX),
    "TeX error": ("formula not rendered", r'(<span class="math notranslate nohighlight">\\\()', r"\1{"),
}


def _page_to_plant_in(html_book) -> str:
    for name in toc_docnames():
        notebook = (paths.REPO_ROOT / f"{name}.ipynb").read_text(encoding="utf-8")
        page = (html_book / f"{name}.html").read_text(encoding="utf-8")
        # MathJax's script is on every page; a formula to break only on some.
        formulas = re.search(LOCAL_MATHJAX, page) and '<span class="math notranslate nohighlight">' in page
        if "{glue:figure}" in notebook and "{numref}`fig-" in notebook and _glue_roles(name) and formulas:
            return name
    pytest.fail("no page has a figure, a figure reference, a glued text and a formula to plant defects in")


@pytest.mark.parametrize("plant", PLANTS, ids=lambda plant: plant.replace(" ", "-"))
def test_checker_catches_a_planted(browser, book_url, html_book, plant):
    kind, pattern, replacement = PLANTS[plant]
    name = _page_to_plant_in(html_book)
    with planted_page(html_book, name, pattern, replacement, plant) as planted:
        before = page_defects(browser, f"{book_url}/{name}.html", _glue_roles(name))
        after = page_defects(browser, f"{book_url}/{planted}", _glue_roles(name))
    new = [finding for finding in after if finding not in before]
    assert any(found_kind == kind for found_kind, _ in new), f"{plant!r} not caught; found {after}"
