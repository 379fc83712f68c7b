# Guards against a table that overflows the text column (issue 15, item 2): at 1280 px every table's box (the table,
# or the box it scrolls in) must fit the article's text column, and a table wider than the column must scroll inside
# its own box, not be clipped or spill into the margin, with its caption held in view. Code-like tokens (parameter
# names, checksums) may break anywhere (okapi_publish.html_tables, _static/okapi-html.css); numbers and words never.
import pytest

from book_pages import toc_docnames
from okapi_publish.html_tables import split_code_like
from support.chromium import WINDOW, planted_page

TABLE_BOXES = r"""
const article = document.querySelector('article.bd-article');
const style = getComputedStyle(article);
const column = article.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
return {column: column, window: window.innerWidth, tables: [...article.querySelectorAll('table')].map((table) => {
  let box = table;
  for (let el = table.parentElement; el && el !== article; el = el.parentElement)
    if (getComputedStyle(el).overflowX !== 'visible') { box = el; break; }
  const caption = table.querySelector('caption');
  return {id: table.id || table.className, table: table.getBoundingClientRect().width,
          caption: caption ? caption.getBoundingClientRect().width : 0,
          box: box.getBoundingClientRect().width,
          scrolls: ['auto', 'scroll'].includes(getComputedStyle(box).overflowX)};
})};
"""


def overflowing_tables(browser, url: str) -> tuple[list[str], int]:
    """Each table whose box is wider than the text column or which is clipped, and how many scroll in their box."""
    browser.open(url)
    found = browser.run(TABLE_BOXES)
    assert found["window"] == WINDOW[0]
    column, problems, scrolling = found["column"], [], 0
    for table in found["tables"]:
        if table["box"] > column + 1:
            problems.append(f"{table['id']}: {table['box']:.0f} px in a {column:.0f} px column")
        elif table["table"] > table["box"] + 1:
            scrolling += 1
            if not table["scrolls"]:
                problems.append(f"{table['id']}: {table['table']:.0f} px clipped to {table['box']:.0f} px")
            if table["caption"] > table["box"] + 1:
                problems.append(f"{table['id']}: caption {table['caption']:.0f} px scrolls out of its box")
    return problems, scrolling


@pytest.mark.browser
@pytest.mark.parametrize("name", toc_docnames())
def test_no_table_is_wider_than_the_text_column(browser, book_url, name, capsys):
    problems, scrolling = overflowing_tables(browser, f"{book_url}/{name}.html")
    assert problems == [], f"{name}.html at {WINDOW[0]} px: {problems}"
    if scrolling:
        with capsys.disabled():
            print(f"\n{name}: {scrolling} table(s) wider than the column scroll inside their own box")


ARTICLE = r'(<article class="bd-article">)'
TABLE_PLANTS = {  # what is planted -> replacement
    "table wider than the column": r'\1<table><tr><td style="min-width:2000px">wide</td></tr></table>',
    "table clipped by its box": r'\1<div style="overflow:hidden"><table><tr><td style="min-width:2000px">wide</td>'
                                r'</tr></table></div>',
}


@pytest.mark.browser
@pytest.mark.parametrize("plant", TABLE_PLANTS)
def test_table_width_check_catches_a_planted(browser, book_url, html_book, plant):
    with planted_page(html_book, "chapters/cohort", ARTICLE, TABLE_PLANTS[plant], plant) as planted:
        problems, _ = overflowing_tables(browser, f"{book_url}/{planted}")
    assert problems, f"{plant!r} not caught"


def test_only_code_like_tokens_are_made_breakable():
    pieces = split_code_like("retreatment_log_rate_per_nprs_point shifted by −0.0355353 (okapi.synthetic.care), "
                             "Reproduced; 5540e5dfaeed8443c5603004790dc8bd0473d191c499b1db393d950ee75ca4c5")
    assert [piece for piece, code in pieces if code] == [
        "retreatment_log_rate_per_nprs_point", "(okapi.synthetic.care),",
        "5540e5dfaeed8443c5603004790dc8bd0473d191c499b1db393d950ee75ca4c5"]
    text = "".join(piece for piece, _ in pieces)
    assert text.startswith("retreatment_log_rate_per_nprs_point shifted by −0.0355353")
