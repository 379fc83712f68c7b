"""Putting computed results into the book: glued text, captioned tables, captioned figures.

Numbers are formatted here, in Python, and glued as text: the prose never carries a typed number, and nothing depends
on how a numpy scalar renders (a numpy float glued with a format spec renders blank).
"""

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown
from myst_nb import glue


class GluedText:
    """A value whose plain-text form is exactly `text` (a str would be shown with quotes)."""

    def __init__(self, text: str):
        self.text = str(text)

    def __repr__(self) -> str:
        return self.text


def glue_text(name: str, text: str) -> None:
    glue(name, GluedText(text), display=False)


def fmt_number(value, digits: int = 1) -> str:
    """Fixed decimals, a true minus sign, and no '-0.0'."""
    text = f"{float(value):.{digits}f}"
    if float(text) == 0:
        text = text.lstrip("-")
    return text.replace("-", "\u2212")


def fmt_count_percent(count: int, total: int, digits: int = 1) -> str:
    return f"{int(count)} ({fmt_number(100 * count / total, digits)}%)" if total else f"{int(count)} (-)"


def fmt_mean_sd(values: pd.Series, digits: int = 1) -> str:
    values = pd.Series(values, dtype="float64").dropna()
    return f"{fmt_number(values.mean(), digits)} ({fmt_number(values.std(ddof=1), digits)})"


def glue_numbers(values: dict[str, str]) -> None:
    """Glue several preformatted texts at once ({name: text})."""
    for name, text in values.items():
        glue_text(name, text)


def markdown_table(table: pd.DataFrame, caption: str, label: str, index: bool = False) -> Markdown:
    """A numbered, captioned table that is a real table in both HTML and PDF (a DataFrame prints as monospace text in
    LaTeX). Column names must not contain '|', which would break the Markdown table."""
    frame = table.reset_index() if index else table
    bad = [str(c) for c in frame.columns if "|" in str(c)]
    if bad:
        raise ValueError(f"table {label}: column names contain '|': {bad}")
    cells = frame.astype(object).where(frame.notna(), "")
    body = cells.to_markdown(index=False, disable_numparse=True)
    return Markdown(f":::{{table}} {caption}\n:name: {label}\n:align: center\n\n{body}\n:::\n")


def glue_figure(name: str, figure) -> None:
    """Glue a figure for a `{glue:figure}` directive (which carries its caption and label) and close it, so the
    notebook does not also show it at the end of the cell."""
    glue(name, figure, display=False)
    plt.close(figure)
