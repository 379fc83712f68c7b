"""The book's one figure theme, and the alt text every figure carries.

Figures are drawn with seaborn under `book_theme()`, a context manager each figure function enters explicitly: nothing
changes matplotlib's or seaborn's global style on import, so a reader's own plots in the same kernel keep theirs.

- Size: figures are drawn at the width of the PDF's text column (TEXT_WIDTH_IN), so LaTeX includes them unscaled and
  the font sizes below are the sizes on paper (no text under 7 pt); the HTML shows the same figure.
- Colour: seaborn's "colorblind" palette (Okabe-Ito-like hues that stay distinct under the common colour-vision
  deficiencies); ordered categories (mild < moderate < severe) use a sequential palette that also differs in lightness,
  so they survive greyscale printing. Never red beside green.
- Alt text: every figure function ends with `finish(fig, alt)`, a sentence saying what the figure shows (its kind, its
  axes and the pattern a sighted reader sees); `okapi.book.report.glue_figure` refuses a figure without one, and the
  build puts it on the HTML image.
"""

from contextlib import contextmanager
from weakref import WeakKeyDictionary

import matplotlib.pyplot as plt
import seaborn as sns

TEXT_WIDTH_IN = 6.3  # A4, 11 pt, the LaTeX layout's text width (~160 mm)
# The A4 text block is 9.9 in tall; a figure of at most this height leaves room for a caption of about six lines and
# the float's spacing (taller, LaTeX cannot place it: "Float too large").
MAX_FIGURE_HEIGHT_IN = 8.5
MIN_FONT_PT = 7.0
FONT_SIZES = {"font.size": 9.0, "axes.titlesize": 9.0, "axes.labelsize": 9.0, "xtick.labelsize": 8.0,
              "ytick.labelsize": 8.0, "legend.fontsize": 8.0, "legend.title_fontsize": 8.0}
PALETTE = "colorblind"
RC = {**FONT_SIZES, "figure.dpi": 110, "savefig.dpi": 150, "axes.spines.top": False, "axes.spines.right": False,
      "pdf.fonttype": 42, "svg.fonttype": "none", "figure.constrained_layout.use": False}

_ALT_TEXT: "WeakKeyDictionary[plt.Figure, str]" = WeakKeyDictionary()


@contextmanager
def book_theme():
    """Draw inside this: seaborn's ticks style, the book's fonts and the colour-blind-safe palette; every setting is
    restored on leaving (rc_context), so nothing leaks into a reader's own plots."""
    with plt.rc_context(), sns.axes_style("ticks"), sns.plotting_context("paper", rc=FONT_SIZES):
        sns.set_palette(PALETTE)
        plt.rcParams.update(RC)
        yield


def colours(n: int) -> list:
    """n distinct colours of the book's palette (categories without an order)."""
    return sns.color_palette(PALETTE, n)


def ordered_colours(n: int) -> list:
    """n colours for ordered categories (e.g. mild < moderate < severe): colour-blind safe and ordered in lightness."""
    return sns.color_palette("crest", n)


def figure_size(height_in: float, width_fraction: float = 1.0) -> tuple[float, float]:
    """A figure as wide as the text column (or a fraction of it), `height_in` inches tall."""
    return (TEXT_WIDTH_IN * width_fraction, height_in)


def finish(fig, alt: str):
    """Register the figure's alt text (what it shows, in one or two sentences) and tidy its layout; returns fig."""
    if not alt or not alt.strip():
        raise ValueError("a figure needs alt text that says what it shows")
    _ALT_TEXT[fig] = " ".join(alt.split())
    if not fig.get_constrained_layout():
        fig.tight_layout()
    return fig


def alt_text(fig) -> str | None:
    return _ALT_TEXT.get(fig)


def smallest_font_pt(fig) -> float:
    """The smallest font of any visible text in the figure, in points at the figure's own size (its print size)."""
    sizes = [text.get_fontsize() for text in fig.findobj(plt.Text) if text.get_visible() and text.get_text().strip()]
    return min(sizes) if sizes else float("inf")
