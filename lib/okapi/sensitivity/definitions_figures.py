"""Figure of the "Defining depression" section: the time x mood interaction per month under each definition. It draws
with seaborn under the book's theme and returns a Figure carrying its alt text (okapi.book.theme)."""

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from okapi.book.report import and_list
from okapi.book.theme import book_theme, colours, figure_size, finish
from okapi.sensitivity.definitions import ALONE, DefinitionsResults
from okapi.data.targets import load_targets

SCALES = {"d": "HADS-D", "a": "HADS-A"}
OTHER = {"d": "HADS-A", "a": "HADS-D"}
MARKERS = {True: "o", False: "s"}  # alone (filled), with the other subscale (open)
ORDER = {"paper": 0, "strict": 1, "score": 2, "d": 0, "a": 1, "alone": 0, "together": 1}  # rows, top to bottom


def _row_label(row) -> str:
    name = row["label"].replace(" (per point)", "")
    return name if row["model"] == ALONE else f"{name} (with {OTHER[row['scale']]})"


def plot_interaction_forest(results: DefinitionsResults):
    """Forest plot: one row per definition and model (alone, or with the other subscale), estimate and 95% CI of the
    difference in monthly pain change; splits on the left (per group), scores on the right (per point), the
    published R8 as a band on the left (it is for HADS-D > 7)."""
    table = results.interactions
    panels = (("Splits: above vs at or below the cut-off", table[table["coding"] != "score"]),
              ("Scores: per point", table[table["coding"] == "score"]))
    heights = [len(rows) for _, rows in panels]
    vermillion, blue = colours(4)[3], colours(4)[0]
    palette = {"d": vermillion, "a": blue}  # as the caption says: depression red, anxiety blue
    r8 = load_targets().set_index("id").loc["R8"]
    with book_theme():
        fig, axes = plt.subplots(2, 1, figsize=figure_size(0.26 * sum(heights) + 2.2), layout="constrained",
                                 gridspec_kw={"height_ratios": heights})
        for ax, (title, rows) in zip(axes, panels):
            rows = rows.sort_values(["coding", "scale", "model"], key=lambda column: column.map(ORDER), kind="stable")
            rows = rows.assign(y=np.arange(len(rows))[::-1], alone=rows["model"] == ALONE)
            for scale, colour in palette.items():
                on = rows[rows["scale"] == scale]
                ax.errorbar(on["estimate"], on["y"], fmt="none", ecolor=colour, elinewidth=1, capsize=2,
                            xerr=[on["estimate"] - on["ci_low"], on["ci_high"] - on["estimate"]])
            for (scale, alone), on in rows.groupby(["scale", "alone"]):
                sns.scatterplot(data=on, x="estimate", y="y", marker=MARKERS[alone], s=30, linewidth=1, zorder=3,
                                facecolor=palette[scale] if alone else "white", edgecolor=palette[scale], ax=ax)
            ax.set_yticks(rows["y"], [_row_label(row) for _, row in rows.iterrows()])
            ax.axvline(0, color="0.4", lw=0.8, ls="--")
            ax.set_title(title, loc="left")
            ax.set_ylim(-0.6, len(rows) - 0.4)
            ax.set_ylabel("")
            ax.set_xlabel("Difference in pain change per month (NPRS points)")
        axes[0].axvspan(r8["ci_low"], r8["ci_high"], color="0.88", zorder=0)
        axes[0].axvline(r8["value"], color="0.55", lw=1, zorder=0)
        handles = ([Line2D([], [], color=colour, marker="o", ls="none", ms=5, label=SCALES[scale])
                    for scale, colour in palette.items()]
                   + [Line2D([], [], color="0.3", marker=MARKERS[alone], mfc="0.3" if alone else "white", ls="none",
                             ms=5, label=label)
                      for alone, label in ((True, "alone"), (False, "with the other subscale"))]
                   + [Patch(color="0.88", label="published R8 (HADS-D > 7), 95% CI")])
        fig.legend(handles=handles, frameon=False, loc="outside lower center", ncol=3)
        excluding = table[(table["ci_low"] > 0) | (table["ci_high"] < 0)]
        alt = (f"Forest plot of the difference in the monthly change in pain (NPRS points) by depression or anxiety, "
               f"for splits above vs at or below a HADS cut-off (top, beside the published R8 band) and per HADS "
               f"point (bottom), estimates with 95% CIs for HADS-D and HADS-A, each alone and with the other "
               f"subscale. {len(excluding)} of the {len(table)} intervals exclude 0"
               + (": " + and_list([_row_label(row) for _, row in excluding.iterrows()]) if len(excluding) else "")
               + ".")
        return finish(fig, alt)
