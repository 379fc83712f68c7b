"""Column widths for a table from the text it holds, so that LaTeX neither clips nor hyphenates a word.

A column is never narrower than its longest unbreakable word (an id such as "R5a", a verdict such as "reproduced"),
measured with the font the table is set in; the space left is shared as a browser shares it for an automatic table
layout (CSS 2.1): each column gets its minimum plus a share of what its longest cell would need to sit on one line.
Identifiers (`pain_residual_autocorrelation`, `okapi.synthetic.cohort`) may break after "_", "." and "/": the
LaTeX layout inserts those break points (see `break_points`) and the measure counts the pieces, not the whole.

Text is measured with the glyph advances of the very font files xelatex uses (FreeFont, Debian's fonts-freefont-otf);
where they are missing, an average character width stands in (a conservative 0.55 em).
"""

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

FONT_DIR = Path("/usr/share/fonts/opentype/freefont")
FONT_FILES = {"serif": "FreeSerif.otf", "sans": "FreeSans.otf", "mono": "FreeMono.otf", "bold": "FreeSerifBold.otf"}
FALLBACK_EM = 0.55
# A break is allowed after these characters inside a long token (an identifier, a dotted module path, a file path);
# after a hyphen ("Log-likelihood") only when a table cannot fit otherwise (`hyphens=True`).
BREAK_AFTER = "_./"
LONG_TOKEN = 12  # shorter tokens are left whole
SLACK_PT = 1.5  # rounding of glyph advances, kerning and the ragged-right setting


@lru_cache(maxsize=8)
def _font(kind: str):
    path = FONT_DIR / FONT_FILES[kind]
    if not path.exists():
        return None
    from matplotlib.ft2font import FT2Font

    return FT2Font(str(path))


@lru_cache(maxsize=50_000)
def text_width(text: str, size_pt: float, kind: str = "serif") -> float:
    """The advance width of `text` in points, set in FreeFont `kind` at `size_pt`."""
    font = _font(kind)
    if font is None:
        return len(text) * FALLBACK_EM * size_pt
    font.set_size(size_pt, 72)
    total = 0.0
    for char in text:
        try:
            total += font.load_char(ord(char)).linearHoriAdvance / 65536
        except (RuntimeError, ValueError):  # a glyph the font lacks: xelatex takes it from elsewhere
            total += FALLBACK_EM * size_pt
    return total


def break_points(token: str) -> list[str]:
    """A long token cut after each "_", "." or "/" (where the layout allows a line break); short tokens whole."""
    if len(token) < LONG_TOKEN or not any(char in token for char in BREAK_AFTER):
        return [token]
    return [piece for piece in re.split(rf"(?<=[{re.escape(BREAK_AFTER)}])", token) if piece]


SPACES = re.compile(r"[ \t\r\n]+")  # a no-break space (U+00A0) joins, as it does in LaTeX


def words(text: str, identifiers: bool = True, hyphens: bool = False) -> list[str]:
    """The pieces LaTeX cannot break: words split at spaces; with `identifiers`, long tokens at their break points;
    with `hyphens`, compounds after their hyphens (TeX may break after an explicit hyphen; it never hyphenates a word
    here)."""
    pieces = [token for token in SPACES.split(text) if token]
    if identifiers:
        pieces = [piece for token in pieces for piece in break_points(token)]
    if hyphens:
        pieces = [part for piece in pieces for part in re.split(r"(?<=[^\s-]-)(?=[^\s-])", piece) if part]
    return pieces


Cell = list[tuple[str, str]]  # a cell's text as (text, font kind) segments: a code literal is set in "mono"


def cell_line_width(cell: Cell, size_pt: float) -> float:
    return sum(text_width(" ".join(SPACES.split(text)), size_pt, kind) for text, kind in cell)


@dataclass(frozen=True)
class ColumnText:
    """What a column holds, measured in points: its widest piece that cannot break at all, its widest whole word
    (identifiers and compounds unbroken), and its widest cell set on one line."""
    longest_piece: float
    longest_word: float
    longest_line: float


def _widest(cells: list[Cell], size_pt: float, **split) -> float:
    return max((text_width(piece, size_pt, kind) for cell in cells for text, kind in cell
                for piece in words(text, **split)), default=0.0)


def measure_column(cells: list[Cell], size_pt: float, hyphens: bool = False) -> ColumnText:
    """cells: the cells of one column, its header included. With `hyphens`, compounds may break after a hyphen."""
    piece = _widest(cells, size_pt, identifiers=True, hyphens=hyphens)
    word = max(piece, _widest(cells, size_pt, identifiers=False, hyphens=False))
    line = max(word, max((cell_line_width(cell, size_pt) for cell in cells), default=0.0))
    return ColumnText(piece + SLACK_PT, word + SLACK_PT, line + SLACK_PT)


def _interpolate(low: list[float], high: list[float], total: float) -> list[float]:
    """low + f * (high - low) summing to total (0 <= f <= 1, low <= high)."""
    spread = sum(high) - sum(low)
    fraction = 0.0 if spread <= 0 else min(1.0, (total - sum(low)) / spread)
    return [lo + fraction * (hi - lo) for lo, hi in zip(low, high)]


def share_widths(columns: list[ColumnText], available_pt: float, padding_pt: float) -> list[float]:
    """Each column's width in points, padding included, summing to `available_pt`.

    Three tiers, each column raised from one to the next by the same fraction (the CSS 2.1 automatic table layout,
    with a middle tier): first its widest unbreakable piece, then its widest whole word (so an identifier is cut
    only when the table cannot hold it whole), then its widest cell on one line; what is left over is shared in
    proportion. If even the pieces do not fit, in proportion to them (the table will overflow; the layout logs it)."""
    least = [c.longest_piece + padding_pt for c in columns]
    whole = [c.longest_word + padding_pt for c in columns]
    most = [c.longest_line + padding_pt for c in columns]
    if sum(least) > available_pt:
        return [w * available_pt / sum(least) for w in least]
    if sum(whole) > available_pt:
        return _interpolate(least, whole, available_pt)
    if sum(most) > available_pt:
        return _interpolate(whole, most, available_pt)
    return [w * available_pt / sum(most) for w in most]


def fits(columns: list[ColumnText], widths_pt: list[float], padding_pt: float) -> bool:
    """Whether every column's widest unbreakable piece fits its width."""
    return all(c.longest_piece <= w - padding_pt + 1e-6 for c, w in zip(columns, widths_pt))


def estimated_height(rows: list[list[Cell]], widths_pt: list[float], padding_pt: float, size_pt: float,
                     line_pt: float, row_gap_pt: float) -> float:
    """A table's height in points, each cell's text wrapped into its column (a slight overestimate: words are not
    packed tightly), the tallest cell of a row deciding the row."""
    height = 0.0
    for row in rows:
        lines = 1
        for cell, width in zip(row, widths_pt):
            inner = max(width - padding_pt, 1.0)
            line_count, used = 1, 0.0
            for piece, kind in ((piece, kind) for text, kind in cell for piece in words(text)):
                piece_width = text_width(piece + " ", size_pt, kind)
                if used and used + piece_width > inner:
                    line_count, used = line_count + 1, 0.0
                used += piece_width
            lines = max(lines, line_count)
        height += lines * line_pt + row_gap_pt
    return height


def integer_widths(widths_pt: list[float]) -> list[int]:
    """Widths as integers (tenths of a point) for Sphinx's \\X{w}{total} column type, which takes integers."""
    return [max(1, math.floor(w * 10)) for w in widths_pt]
