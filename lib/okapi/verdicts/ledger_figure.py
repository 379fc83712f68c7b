"""The front page's figure: every published figure beside its reproduction, on one scale.

The figures are on different scales (years, points, correlations, shares), so each row shows the estimate rule's own
quantity (okapi.verdicts.rules): the difference between the reproduced and the published value in units of their
combined SE, sqrt(SE_pub^2 + SE_rep^2). On that scale the published value is 0, its 95% interval is
+/- 1.96 SE_pub / SE, the reproduction's 95% CI is the statistic +/- 1.96 SE_rep / SE, and the rule says "reproduced"
exactly when the statistic lies inside +/- 1.96 (the shaded band). A figure compared exactly (a design constant) sits at
0 when equal; one not estimable has no point and says so. P claims are judged in the table, not drawn.
"""

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from okapi.book.report import and_list
from okapi.book.theme import MAX_FIGURE_HEIGHT_IN, book_theme, colours, figure_size, finish
from okapi.verdicts import rules
from okapi.verdicts.ledger import CALIBRATION, REPRODUCTION, LedgerEntry, printed_targets
from okapi.verdicts.ledger_compact import CHAPTERS, VERDICT_SYMBOLS
from okapi.verdicts.rules import NOT_ESTIMABLE, NOT_REPRODUCED

LIMIT = 6.0  # the axis runs to at least +/- 4; a point or interval beyond +/- LIMIT is drawn at the edge, with an arrow
ROW_IN = 0.155  # inches per row: 8-pt labels one above the other
LABEL_CHARS = 42  # a quantity longer than this is cut at a word (the table gives it whole)
KIND_MARKERS = {CALIBRATION: "s", REPRODUCTION: "o"}
KIND_LABELS = {CALIBRATION: "Calibration check (square)", REPRODUCTION: "Reproduction (circle)"}


def short_quantity(quantity: str, limit: int = LABEL_CHARS) -> str:
    """The quantity without its parenthesised detail, cut at a word with an ellipsis when still too long."""
    words, out = [], ""
    text = " ".join(part.split(")")[-1] for part in quantity.split("("))
    text = " ".join(text.split()).replace(" ,", ",").replace("->", "\u2192")
    for word in text.split(" "):
        if len(out) + len(word) + 1 > limit - 1:
            return out.rstrip(",") + "\u2026"
        words.append(word)
        out = " ".join(words)
    return out


def figure_rows(entries: list[LedgerEntry]) -> pd.DataFrame:
    """One row per published figure judged (P claims left out), in the book's order, with the standardised
    difference `z`, the reproduction's interval (`low`, `high`) and the published value's (`pub_low`, `pub_high`)
    on that scale; NaN where not estimable."""
    quantities = printed_targets()["quantity"]
    rows = []
    for row in entries:
        if row.is_p_claim:
            continue
        z = low = high = pub_low = pub_high = math.nan
        if row.verdict != NOT_ESTIMABLE:
            if row.rule == rules.EXACT.key:
                published = float(printed_targets().loc[row.id, "value"])
                z = low = high = pub_low = pub_high = 0.0 if row.estimate == published else math.copysign(
                    math.inf, row.estimate - published)
            else:
                scale = math.hypot(row.published_se, row.se)
                z = row.statistic
                low, high = z - rules.Z_975 * row.se / scale, z + rules.Z_975 * row.se / scale
                pub_low, pub_high = -rules.Z_975 * row.published_se / scale, rules.Z_975 * row.published_se / scale
        rows.append({"id": row.id, "chapter": row.chapter, "kind": row.kind, "verdict": row.verdict,
                     "rule": row.rule, "label": f"{row.id}  {short_quantity(quantities[row.id])}",
                     "z": z, "low": low, "high": high, "pub_low": pub_low, "pub_high": pub_high})
    return pd.DataFrame(rows)


def _layout(rows: pd.DataFrame) -> tuple[pd.DataFrame, list[tuple[float, str]]]:
    """A y position per row, chapter by chapter in the book's order, with a heading line above each chapter."""
    rows = rows.copy()
    headings, y, positions = [], 0.0, {}
    for chapter in dict.fromkeys(rows["chapter"]):
        headings.append((y, CHAPTERS[chapter][0]))
        y += 1
        for index in rows.index[rows["chapter"] == chapter]:
            positions[index] = y
            y += 1
    rows["y"] = pd.Series(positions)
    return rows, headings


def plot_published_vs_reproduced(entries: list[LedgerEntry]):
    """Dot plot, one row per published figure grouped by chapter: the reproduction's standardised difference from
    the published value with its 95% CI, the published value (0) with its own 95% interval, the band where the rule
    says reproduced, calibration checks as squares and reproductions as circles, the verdict's symbol at the right."""
    rows, headings = _layout(figure_rows(entries))
    palette = dict(zip((CALIBRATION, REPRODUCTION), colours(2)))
    finite = rows[["low", "high", "z"]].to_numpy(float)
    finite = finite[np.isfinite(finite)]
    reach = max(4.0, min(LIMIT, math.ceil(np.abs(finite).max() + 0.5) if finite.size else 4.0))
    n_lines = len(rows) + len(headings)
    with book_theme():
        fig, ax = plt.subplots(figsize=figure_size(min(MAX_FIGURE_HEIGHT_IN, ROW_IN * n_lines + 1.5)))
        ax.axvspan(-rules.Z_975, rules.Z_975, color="0.92", lw=0, zorder=0)
        ax.axvline(0, color="black", lw=0.8, zorder=1)
        clip = lambda values: np.clip(values, -reach, reach)  # noqa: E731
        ax.hlines(rows["y"], clip(rows["pub_low"]), clip(rows["pub_high"]), color="0.55", lw=3.5, zorder=2)
        for kind, colour in palette.items():
            mine = rows[rows["kind"] == kind]
            ax.hlines(mine["y"], clip(mine["low"]), clip(mine["high"]), color=colour, lw=1.2, zorder=3)
        drawn = rows[rows["verdict"] != NOT_ESTIMABLE].assign(x=lambda frame: clip(frame["z"]))
        sns.scatterplot(data=drawn, x="x", y="y", hue="kind", style="kind", palette=palette, markers=KIND_MARKERS,
                        s=26, edgecolor="black", linewidth=0.4, legend=False, zorder=4, ax=ax)
        missed = drawn[drawn["verdict"] == NOT_REPRODUCED]
        ax.scatter(missed["x"], missed["y"], s=90, facecolor="none", edgecolor="black", linewidth=1.0, zorder=5)
        for side, beyond in ((1, rows[rows["high"] > reach]), (-1, rows[rows["low"] < -reach])):  # past the axis
            ax.scatter([side * reach] * len(beyond), beyond["y"], marker=">" if side > 0 else "<", s=14,
                       color="0.2", zorder=5, clip_on=False)
        for _, row in rows[rows["verdict"] == NOT_ESTIMABLE].iterrows():
            ax.text(0.15, row["y"], "not estimable", va="center", ha="left", fontsize=7.5, style="italic")
        ticks = [(y, label, False) for y, label in zip(rows["y"], rows["label"])] + \
                [(y, title, True) for y, title in headings]
        ticks.sort()
        ax.set_yticks([y for y, _, _ in ticks], [label for _, label, _ in ticks])
        for tick, (_, _, heading) in zip(ax.get_yticklabels(), ticks):
            if heading:
                tick.set_fontweight("bold")
        ax.tick_params(axis="y", length=0)
        ax.set_ylim(n_lines - 0.4, -0.6)
        verdicts = ax.twinx()  # each row's verdict symbol at the right, as tick labels (so the layout makes room)
        verdicts.set_ylim(ax.get_ylim())
        verdicts.set_yticks(rows["y"], [VERDICT_SYMBOLS[verdict] for verdict in rows["verdict"]])
        verdicts.tick_params(axis="y", length=0)
        verdicts.spines[["top", "right", "left", "bottom"]].set_visible(False)
        ax.set_xlim(-reach, reach)
        ax.set_ylabel("")
        ax.set_xlabel("Reproduced minus published value,\nin units of their combined SE")
        handles = [Line2D([], [], marker=KIND_MARKERS[kind], color=palette[kind], mec="black", mew=0.4, ls="-",
                          lw=1.2, ms=5, label=f"{KIND_LABELS[kind]}, 95% CI") for kind in palette]
        handles += [Line2D([], [], color="0.55", lw=3.5, label="Published value (0), its 95% interval"),
                    Line2D([], [], marker="o", mfc="none", mec="black", ls="none", ms=8, label="Not reproduced"),
                    Patch(color="0.92", label="Rule says reproduced (within \u00b11.96)")]
        # Under the axes, right-aligned with them: centred, it ran past the figure's right edge.
        ax.legend(handles=handles, frameon=False, ncol=2, loc="upper right", fontsize=7.5,
                  bbox_to_anchor=(1.0, -0.7 / fig.get_size_inches()[1]))
        return finish(fig, _alt_text(rows, headings))


def _alt_text(rows: pd.DataFrame, headings: list[tuple[float, str]]) -> str:
    def ids(verdict: str) -> str:
        found = list(rows.loc[rows["verdict"] == verdict, "id"])
        return and_list(found) if found else "none"

    kinds = rows["kind"].value_counts()
    return (f"Dot plot of the {len(rows)} published figures, one row each, grouped by chapter "
            f"({and_list([title for _, title in headings])}). Each row shows the reproduced value minus the published "
            "one in units of their combined standard error, with the reproduction's 95% CI, against the published "
            "value at 0 with its own 95% interval and a shaded band from -1.96 to 1.96 where the rule says "
            f"reproduced. {kinds.get(CALIBRATION, 0)} calibration checks are squares, {kinds.get(REPRODUCTION, 0)} "
            f"reproductions circles. Not reproduced (circled, outside the band): {ids(NOT_REPRODUCED)}; not "
            f"estimable: {ids(NOT_ESTIMABLE)}; every other figure lies inside the band.")
