# Guards against a book that some readers cannot use: a control without a name, text with too little contrast, ARIA
# roles that contradict the page's structure, a figure without alt text or whose alt text is its file path (what a
# screen reader would then read out). axe-core, pinned in tools/node and installed by `make test`, runs in headless
# Chromium on every page of the built book; a serious or critical violation fails. Each check is shown to catch a plant.
import json
import re

import pytest

from book_pages import toc_docnames
from okapi import paths
from support.chromium import planted_page

AXE = paths.NODE_MODULES / "axe-core" / "axe.min.js"
PINNED_AXE = json.loads((paths.REPO_ROOT / "tools" / "node" / "package.json").read_text())["dependencies"]["axe-core"]
FAILING_IMPACTS = ("serious", "critical")
# The fewest words an alt text needs to say what a figure shows (the book's run to a sentence or more).
MIN_ALT_WORDS = 4

RUN_AXE = r"""
const done = arguments[arguments.length - 1];
axe.run(document, {resultTypes: ['violations']}).then(
  (result) => done({version: axe.version, violations: result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, where: v.nodes.slice(0, 3).map((n) => n.target.join(' '))}))}),
  (error) => done({version: axe.version, error: String(error)}));
"""
# The images of the page's own content (the theme's logos and buttons are checked by axe alone).
CONTENT_IMAGES = ("return [...document.querySelectorAll('article.bd-article img')]"
                  ".map((img) => [img.getAttribute('src'), img.getAttribute('alt')]);")
# A file name or path: one "word" holding a slash or an image extension, or a bare digest (MyST-NB's image names).
PATH_LIKE = re.compile(r"^\S*([/\\]|\.(png|jpe?g|svg|gif|pdf|webp))\S*$|^[0-9a-f]{32,}$", re.I)


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        pytest.fail(f"axe-core is not installed ({AXE} is missing): run `make test`, which installs the pinned npm "
                    "packages of tools/node into _build/node")
    return AXE.read_text(encoding="utf-8")


def axe_violations(browser, axe_source: str, url: str) -> list[dict]:
    """axe-core's serious and critical violations on one page, after MathJax has typeset it."""
    browser.open(url)
    browser.settle()
    browser.run(axe_source)
    result = browser.run_async(RUN_AXE)
    assert result["version"] == PINNED_AXE, f"axe-core {result['version']} ran, tools/node pins {PINNED_AXE}"
    assert "error" not in result, f"axe-core failed on {url}: {result['error']}"
    return [v for v in result["violations"] if v["impact"] in FAILING_IMPACTS]


def alt_text_problems(browser, url: str) -> list[str]:
    """Each content image whose alt text is missing, a file path or too short to say what it shows."""
    browser.open(url)
    problems = []
    for src, alt in browser.run(CONTENT_IMAGES):
        text = (alt or "").strip()
        if not text:
            problems.append(f"{src}: no alt text")
        elif PATH_LIKE.search(text) or text == src.rsplit("/", 1)[-1]:
            problems.append(f"{src}: alt text is a file path ({text!r})")
        elif len(text.split()) < MIN_ALT_WORDS:
            problems.append(f"{src}: alt text too short to say what it shows ({text!r})")
    return problems


@pytest.mark.parametrize("name", toc_docnames())
def test_page_has_no_serious_or_critical_accessibility_violation(browser, book_url, axe_source, name):
    violations = axe_violations(browser, axe_source, f"{book_url}/{name}.html")
    assert not violations, f"{name}.html: " + json.dumps(violations, indent=1, ensure_ascii=False)


@pytest.mark.parametrize("name", toc_docnames())
def test_every_figure_has_alt_text_that_is_not_a_file_path(browser, book_url, name):
    assert alt_text_problems(browser, f"{book_url}/{name}.html") == []


def _page_with_a_figure(html_book) -> str:
    for name in toc_docnames():
        if re.search(r"<figure[^>]*>\s*<img ", (html_book / f"{name}.html").read_text(encoding="utf-8")):
            return name
    pytest.fail("no page of the book has a figure to plant defects in")


ARTICLE = r'(<article class="bd-article">)'
FIRST_FIGURE_ALT = r'(<figure[^>]*>\s*<img )alt="[^"]*"'
AXE_PLANTS = {  # what is planted -> (axe rule that must report it, pattern, replacement)
    "button without a name": ("button-name", ARTICLE, r"\1<button></button>"),
    "pale text": ("color-contrast", ARTICLE, r'\1<p style="color:#d0d0d0;background:#ffffff">Faint text</p>'),
    "figure image without alt": ("image-alt", FIRST_FIGURE_ALT, r"\1"),
}
ALT_PLANTS = {  # what is planted -> (words of the problem reported, replacement of the first figure's alt)
    "alt text removed": ("no alt text", r"\1"),
    "file path as alt text": ("file path", r'\1alt="../_images/0a1b2c3d4e5f.png"'),
    "alt text of one word": ("too short", r'\1alt="Figure"'),
}


@pytest.mark.parametrize("plant", AXE_PLANTS)
def test_axe_catches_a_planted(browser, book_url, html_book, axe_source, plant):
    rule, pattern, replacement = AXE_PLANTS[plant]
    name = _page_with_a_figure(html_book)
    with planted_page(html_book, name, pattern, replacement, plant) as planted:
        found = axe_violations(browser, axe_source, f"{book_url}/{planted}")
    assert rule in {v["id"] for v in found}, f"{plant!r} not caught; found {found}"


@pytest.mark.parametrize("plant", ALT_PLANTS)
def test_alt_text_check_catches_a_planted(browser, book_url, html_book, plant):
    words, replacement = ALT_PLANTS[plant]
    name = _page_with_a_figure(html_book)
    with planted_page(html_book, name, FIRST_FIGURE_ALT, replacement, plant) as planted:
        problems = alt_text_problems(browser, f"{book_url}/{planted}")
    assert any(words in problem for problem in problems), f"{plant!r} not caught; found {problems}"
