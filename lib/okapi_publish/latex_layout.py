"""Sphinx extension: the LaTeX layout of the book's PDF (and of the supplement, which is built the same way).

Listed in _config.yml after okapi.book.sphinx_ext. It acts on LaTeX builds only; the HTML book is untouched.

- Page: A4 with a text block wide enough for every stored figure at its own size (the figures are drawn 6.3 in wide
  and their tight bounding boxes reach 6.42 in), so LaTeX includes their PDF vectors unscaled and a font drawn at
  8 pt prints at 8 pt; the text block is tall enough for the tallest figure with its caption.
- Tables: set in 9 pt, ragged right, never hyphenated; each table's column widths are computed here from the text it
  holds (okapi_publish.widths), replacing the widths stored with the notebook, so a column is at least as wide as its
  longest word ("R5a", "reproduced"); identifiers may break after "_", "." and "/". A table whose longest words do
  not fit so may also break compounds after their hyphens, and then is set in 8 pt with narrower gutters. A table too
  tall for a page is set as a longtable, which breaks across pages.
- Statistics stay on one line: "P < .001", "95% CI", "n = 5" are tied with no-break spaces in tables.
- Display math: an unnumbered equation wider than the text block is scaled down to fit it (the stored chapters
  cannot be edited without re-executing them; the scale is logged, and an equation needing more than
  MAX_MATH_SHRINK is left to overflow so that the log test catches it).
- No code cells: the input of a code cell never reaches the PDF (the book shows results, the HTML links the sources).
"""

import re
from dataclasses import dataclass

from docutils import nodes
from sphinx.util import logging

from okapi_publish import widths

LOGGER = logging.getLogger(__name__)

A4_IN = (8.2677, 11.6929)
TEXT_WIDTH_IN = 6.45
TOP_MARGIN_IN, BOTTOM_MARGIN_IN = 0.8, 1.0
TEX_PT_PER_IN = 72.27


@dataclass(frozen=True)
class TableSetting:
    font_pt: float
    line_pt: float
    tabcolsep_pt: float
    hyphens: bool  # whether compounds may break after their hyphens


# Tried in order; the first whose longest words fit is used. The first is the preamble's default.
TABLE_SETTINGS = (TableSetting(9.0, 11.0, 4.0, False), TableSetting(9.0, 11.0, 4.0, True),
                  TableSetting(8.0, 9.5, 3.0, True))
DEFAULT = TABLE_SETTINGS[0]
ROW_GAP_PT = 3.0
MAX_MATH_SHRINK = 0.9
# A table estimated taller than this share of the text block is set as a longtable (a tabular cannot break).
LONGTABLE_SHARE = 0.45

TEXT_WIDTH_PT = TEXT_WIDTH_IN * TEX_PT_PER_IN
TEXT_HEIGHT_PT = (A4_IN[1] - TOP_MARGIN_IN - BOTTOM_MARGIN_IN) * TEX_PT_PER_IN

TABLE_PREAMBLE = rf"""
%% okapi_publish.latex_layout: tables in {DEFAULT.font_pt:g} pt, ragged right and never hyphenated; the column widths
%% (Sphinx's \X{{w}}{{total}}) are computed from each table's text so that its longest word fits.
\setlength{{\tabcolsep}}{{{DEFAULT.tabcolsep_pt:g}pt}}
\makeatletter
\expandafter\let\csname NC@find@\string\X\endcsname\relax %% redefined below, without array's warning
\def\okapitablesize{{\fontsize{{{DEFAULT.font_pt:g}}}{{{DEFAULT.line_pt:g}}}\selectfont}}
\newcolumntype{{\X}}[2]{{>{{\raggedright\arraybackslash\hyphenpenalty=10000}}p{{\dimexpr
      (\linewidth-\spx@arrayrulewidth)*#1/#2-\tw@\tabcolsep-\spx@arrayrulewidth\relax}}}}
\g@addto@macro\sphinxattablestart{{\okapitablesize}}
\g@addto@macro\sphinxatlongtablestart{{\okapitablesize}}
%% An unnumbered display equation wider than the line is scaled to the line (down to {MAX_MATH_SHRINK:g} of its size).
\newsavebox\okapi@mathbox
\newcommand\okapifitmath[1]{{\sbox\okapi@mathbox{{$\displaystyle #1$}}%
  \ifdim\wd\okapi@mathbox>\linewidth
    \ifdim{MAX_MATH_SHRINK:g}\wd\okapi@mathbox>\linewidth \usebox\okapi@mathbox
    \else \typeout{{okapi: display equation scaled to the line width}}\resizebox{{\linewidth}}{{!}}{{\usebox\okapi@mathbox}}\fi
  \else \usebox\okapi@mathbox \fi}}
\makeatother
"""


def page_setup() -> str:
    """Sphinx's `sphinxsetup` margins for the text block above."""
    side = (A4_IN[0] - TEXT_WIDTH_IN) / 2
    return f"hmargin={{{side:.4f}in,{side:.4f}in}}, vmargin={{{TOP_MARGIN_IN}in,{BOTTOM_MARGIN_IN}in}}"


def _configure(app, config):
    elements = dict(config.latex_elements or {})
    setup = elements.get("sphinxsetup", "")
    elements["sphinxsetup"] = ", ".join(part for part in (page_setup(), setup) if part)
    elements["preamble"] = elements.get("preamble", "") + TABLE_PREAMBLE
    config.latex_elements = elements


# --- Tables ----------------------------------------------------------------------------------------------------------

def _segments(entry: nodes.Element, header: bool) -> widths.Cell:
    """A cell's text as (text, font kind) segments, in the fonts LaTeX sets them in."""
    found = []
    for text in entry.findall(nodes.Text):
        literal = any(isinstance(parent, nodes.literal) for parent in _ancestors(text))
        found.append((str(text), "mono" if literal else "sans" if header else "serif"))
    return found


def _ancestors(node):
    while node.parent is not None:
        node = node.parent
        yield node


def _grid(table: nodes.table):
    """(colspecs, rows of cells as segment lists), or None for a table with spanning cells (left as it is)."""
    tgroup = next(iter(table.findall(nodes.tgroup)), None)
    if tgroup is None:
        return None
    colspecs = [child for child in tgroup.children if isinstance(child, nodes.colspec)]
    rows = []
    for part in tgroup.children:
        if not isinstance(part, (nodes.thead, nodes.tbody)):
            continue
        for row in part.children:
            entries = [entry for entry in row.children if isinstance(entry, nodes.entry)]
            if any(entry.get("morecols") or entry.get("morerows") for entry in entries) or len(entries) != len(colspecs):
                return None
            rows.append([_segments(entry, isinstance(part, nodes.thead)) for entry in entries])
    return colspecs, rows


def choose_layout(rows: list[list[widths.Cell]]) -> tuple[TableSetting, list[float], bool]:
    """The first setting whose longest words fit, its column widths (points, gutters included), and whether they fit
    (False: even the last setting overflows)."""
    for setting in TABLE_SETTINGS:
        padding = 2 * setting.tabcolsep_pt
        columns = [widths.measure_column([row[i] for row in rows], setting.font_pt, setting.hyphens)
                   for i in range(len(rows[0]))]
        shares = widths.share_widths(columns, TEXT_WIDTH_PT, padding)
        if widths.fits(columns, shares, padding):
            return setting, shares, True
    return setting, shares, False


TIES = ((re.compile(r"\b([A-Za-z]{1,2}) ([<=>≤≥]) "), "\\1\u00a0\\2\u00a0"), (re.compile(r"% CI\b"), "%\u00a0CI"))


def _tie_statistics(table: nodes.table) -> None:
    """No line break inside "P < .001", "95% CI" or "n = 5": no-break spaces, which LaTeX sets as ~."""
    for text in list(table.findall(nodes.Text)):
        tied = str(text)
        for pattern, replacement in TIES:
            tied = pattern.sub(replacement, tied)
        if tied != str(text):
            text.parent.replace(text, nodes.Text(tied))


def lay_out_table(table: nodes.table) -> None:
    _tie_statistics(table)
    grid = _grid(table)
    if grid is None or not grid[1]:
        return
    colspecs, rows = grid
    setting, shares, fitted = choose_layout(rows)
    if not fitted:
        LOGGER.warning("table %s: its longest words do not fit the text width; it will overflow",
                       (table.get("names") or ["(unnamed)"])[0], location=table)
    for colspec, width in zip(colspecs, widths.integer_widths(shares)):
        colspec["colwidth"] = width
    if "colwidths-given" not in table["classes"]:
        table["classes"].append("colwidths-given")
    height = widths.estimated_height(rows, shares, 2 * setting.tabcolsep_pt, setting.font_pt, setting.line_pt,
                                     ROW_GAP_PT)
    if height > LONGTABLE_SHARE * TEXT_HEIGHT_PT and "longtable" not in table["classes"]:
        table["classes"].append("longtable")
    _insert_break_points(table)
    if setting != DEFAULT:
        _wrap_in_setting(table, setting)


def _wrap_in_setting(table: nodes.table, setting: TableSetting) -> None:
    """Set this table (and only it) in another size and gutter: a TeX group around it."""
    start = (rf"\begingroup\def\okapitablesize{{\fontsize{{{setting.font_pt:g}}}{{{setting.line_pt:g}}}\selectfont}}"
             rf"\setlength{{\tabcolsep}}{{{setting.tabcolsep_pt:g}pt}}")
    parent = table.parent
    index = parent.index(table)
    parent.insert(index + 1, nodes.raw("", r"\endgroup", format="latex"))
    parent.insert(index, nodes.raw("", start, format="latex"))


def _insert_break_points(table: nodes.table) -> None:
    """Let LaTeX break long identifiers after "_", "." and "/" (where the width measure allowed it)."""
    for text in list(table.findall(nodes.Text)):
        pieces = [widths.break_points(token) for token in str(text).split(" ")]
        if all(len(parts) == 1 for parts in pieces):
            continue
        replacement = []
        for index, parts in enumerate(pieces):
            if index:
                replacement.append(nodes.Text(" "))
            for number, part in enumerate(parts):
                if number:
                    replacement.append(nodes.raw("", r"\allowbreak{}", format="latex"))
                replacement.append(nodes.Text(part))
        text.parent.replace(text, replacement)


# --- Display math --------------------------------------------------------------------------------------------------

def _fit_display_math(doctree) -> None:
    """An unnumbered display equation as `aligned` inside \\okapifitmath (same alignment as Sphinx's `split`)."""
    for block in list(doctree.findall(nodes.math_block)):
        parts = [part for part in block.astext().split("\n\n") if part.strip()]
        if block.get("label") or block.get("nowrap") or len(parts) != 1:
            continue
        latex = "\\begin{equation*}\\okapifitmath{\\begin{aligned}%s\\end{aligned}}\\end{equation*}" % parts[0]
        block.parent.replace(block, nodes.raw("", latex, format="latex"))


# --- Code cells ------------------------------------------------------------------------------------------------------

def _remove_code_inputs(doctree) -> int:
    inputs = [node for node in doctree.findall(nodes.container) if "cell_input" in node.get("classes", [])]
    for node in inputs:
        node.parent.remove(node)
    return len(inputs)


def _lay_out(app, doctree, docname):
    if app.builder.format != "latex":
        return
    _remove_code_inputs(doctree)
    _fit_display_math(doctree)
    for table in list(doctree.findall(nodes.table)):
        lay_out_table(table)


def setup(app):
    app.connect("config-inited", _configure)
    app.connect("doctree-resolved", _lay_out)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
