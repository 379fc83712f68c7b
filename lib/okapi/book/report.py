"""Putting computed results into the book: glued text, captioned tables, captioned figures.

Numbers are formatted here, in Python, and glued as text: the prose never carries a typed number, and nothing depends
on how a numpy scalar renders (a numpy float glued with a format spec renders blank).

Every output passes the privacy guard (okapi.data.privacy.OUTPUT_GUARD) on its way out: on a real extract a small
count or a patient-level row is refused here, whichever chapter computed it.
"""

import base64
import io
import os
import re
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown
from myst_nb import glue

from okapi.book.theme import MIN_FONT_PT, TEXT_WIDTH_IN, alt_text, smallest_font_pt
from okapi.data.privacy import OUTPUT_GUARD


def glue_text(name: str, text: str, about_patients: bool = True) -> None:
    """Glue a preformatted text. It is stored as a Python string literal ('1.60'), which MyST-NB reads back with
    ast.literal_eval: a bare 1.60 would be read as the float 1.6 and lose its last digit. `about_patients=False`
    for numbers that count no patients (ledger rows, simulated cohorts, settings): the privacy guard then does not
    read a count in their names, though it still refuses identifiers and "n (x%)" counts in their text."""
    OUTPUT_GUARD.check_text(name, str(text), name_says_count=about_patients)
    glue(name, str(text), display=False)


def fmt_number(value, digits: int = 1) -> str:
    """Fixed decimals, a true minus sign, and no '-0.0'."""
    text = f"{float(value):.{digits}f}"
    if float(text) == 0:
        text = text.lstrip("-")
    return text.replace("-", "\u2212")


def fmt_p(p: float) -> str:
    """A P value as the journal prints it, for a column headed P: '< .001', '.002', '.02', '> .99'."""
    if p < 0.001:
        return "< .001"
    text = f"{p:.3f}" if p < 0.01 else f"{p:.2f}"
    return "> .99" if float(text) >= 1 else text.lstrip("0")


def fmt_p_statement(p: float) -> str:
    """'P = .02' or 'P < .001' for prose."""
    text = fmt_p(p)
    return f"P {text}" if text[0] in "<>" else f"P = {text}"


def fmt_ci(low: float, high: float, digits: int) -> str:
    return f"{fmt_number(low, digits)} to {fmt_number(high, digits)}"


def fmt_estimate_ci(estimate: float, low: float, high: float, digits: int = 2, label: str = "95% CI ") -> str:
    """'−0.45 (95% CI −0.54 to −0.37)'; label="" for a table column that already says 95% CI."""
    return f"{fmt_number(estimate, digits)} ({label}{fmt_ci(low, high, digits)})"


def and_list(items) -> str:
    """'0, 3 and 6'."""
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def fmt_count_percent(count: int, total: int, digits: int = 1) -> str:
    return f"{int(count)} ({fmt_number(100 * count / total, digits)}%)" if total else f"{int(count)} (-)"


def fmt_mean_sd(values: pd.Series, digits: int = 1) -> str:
    values = pd.Series(values, dtype="float64").dropna()
    return f"{fmt_number(values.mean(), digits)} ({fmt_number(values.std(ddof=1), digits)})"


def glue_numbers(values: dict[str, str], page: str | None = None, about_patients: bool = True) -> None:
    """Glue several preformatted texts at once ({name: text}).

    With `page` (the chapter's own source, e.g. "sensitivity.md", relative to the chapter's folder), a library's
    catalogue of texts is narrowed to the names the page cites as {glue:text}`name`, so that no glued value goes
    unshown; a name the page cites that the catalogue lacks is an error here, not a blank in the book."""
    if page is not None:
        cited = set(re.findall(r"\{glue:text\}`([^`]+)`", Path(page).read_text(encoding="utf-8")))
        prefix = os.path.commonprefix(list(values))  # the catalogue's own names, e.g. "sens_missing_"
        lacking = sorted(name for name in cited - set(values) if prefix and name.startswith(prefix))
        if lacking:
            raise KeyError(f"{page} cites glued texts that were not computed: {lacking}")
        values = {name: text for name, text in values.items() if name in cited}
    for name, text in values.items():
        glue_text(name, text, about_patients)


_TITLED_REFERENCE = re.compile(r"\{ref\}`(?P<title>[^`<]+?)\s*<[^<>`]+>`")


def markdown_table(table: pd.DataFrame, caption: str, label: str, index: bool = False, notes: str = "") -> Markdown:
    """A numbered, captioned table that is a real table in both HTML and PDF (a DataFrame prints as monospace text in
    LaTeX), with `notes` (Markdown paragraphs: footnotes, keys) under it. Column names must not contain '|', which
    would break the Markdown table."""
    frame = table.reset_index() if index else table
    OUTPUT_GUARD.check_table(frame, label)
    if notes:
        OUTPUT_GUARD.check_text(f"notes of {label}", notes, name_says_count=False)
    bad = [str(c) for c in frame.columns if "|" in str(c)]
    if bad:
        raise ValueError(f"table {label}: column names contain '|': {bad}")
    # A '|' inside a cell would end the cell early: escape it.
    cells = frame.astype(object).where(frame.notna(), "").map(lambda cell: str(cell).replace("|", "\\|"))
    body = cells.to_markdown(index=False, disable_numparse=True)
    # Relative column widths from the text they show (capped, so one long note does not squeeze the rest; a titled
    # cross-reference shows its title). Without widths, LaTeX sets a long table's columns unwrapped and a wide one
    # runs off the page.
    shown = cells.map(lambda cell: _TITLED_REFERENCE.sub(r"\g<title>", cell))
    widths = [min(max(len(str(column)), shown[column].str.len().max() if len(shown) else 0, 8), 40)
              for column in shown.columns]
    return Markdown(f":::{{table}} {caption}\n:name: {label}\n:align: center\n:widths: {' '.join(map(str, widths))}"
                    f"\n\n{body}\n:::\n" + (f"\n{notes}\n" if notes else ""))


class _FigureOutput:
    """A figure as the notebook stores it: PNG for the HTML, PDF (vector) for the LaTeX build, and its alt text as the
    plain-text form (the build puts it on the HTML image). Both renderings are made here, once."""

    def __init__(self, figure, alt: str):
        self.alt = alt
        self.png = self._render(figure, "png", {})
        # No creation date: the stored PDF depends on the figure alone.
        self.pdf = self._render(figure, "pdf", {"metadata": {"CreationDate": None}})

    @staticmethod
    def _render(figure, fmt: str, extra: dict) -> str:
        buffer = io.BytesIO()
        figure.savefig(buffer, format=fmt, bbox_inches="tight", **extra)
        return base64.b64encode(buffer.getvalue()).decode("ascii")

    def _repr_mimebundle_(self, include=None, exclude=None):
        return ({"image/png": self.png, "application/pdf": self.pdf, "text/plain": self.alt},
                {ALT_KEY: self.alt})


ALT_KEY = "okapi_alt"


def print_size_problems(figure) -> str:
    """Why a figure would print badly, or "": the PDF includes it at its own size when it is no wider than the text
    column, so its fonts are then their print sizes."""
    width = figure.get_size_inches()[0]
    if width > TEXT_WIDTH_IN + 1e-6:
        return f"{width:.2f} in wide, wider than the text column ({TEXT_WIDTH_IN} in): it would print scaled down"
    smallest = smallest_font_pt(figure)
    if smallest < MIN_FONT_PT:
        return f"a text of {smallest:g} pt, under the {MIN_FONT_PT:g} pt the printed book allows"
    return ""


def glue_figure(name: str, figure) -> None:
    """Glue a figure for a `{glue:figure}` directive (which carries its caption and label) and close it, so the
    notebook does not also show it at the end of the cell. The figure must carry alt text (okapi.book.theme.finish)."""
    alt = alt_text(figure)
    if alt is None:
        plt.close(figure)
        raise ValueError(f"figure {name!r} has no alt text: end its drawing function with okapi.book.theme.finish")
    problems = print_size_problems(figure)
    if problems:
        plt.close(figure)
        raise ValueError(f"figure {name!r}: {problems}")
    OUTPUT_GUARD.check_figure_texts([t.get_text() for t in figure.findobj(plt.Text) if t.get_visible()], name)
    glue(name, _FigureOutput(figure, alt), display=False)
    plt.close(figure)


ARTIFACT_KEY = "okapi_artifact"


def publish_json(file_name: str, payload: dict) -> None:
    """Store a JSON document in the notebook's outputs (tag the cell `remove-output`); the build writes it next to
    the HTML as `file_name`, so the published file is exactly what the re-execution tests compared."""
    from IPython.display import display

    OUTPUT_GUARD.check_text(file_name, str(payload))
    display({"application/json": payload, "text/plain": f"{file_name} ({len(payload)} keys)"}, raw=True,
            metadata={ARTIFACT_KEY: file_name})
