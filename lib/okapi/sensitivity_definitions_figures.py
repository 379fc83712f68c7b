"""Figure of the "Defining depression" section: the time x mood interaction per month under each definition."""

import matplotlib.pyplot as plt
import numpy as np

from okapi import figures  # noqa: F401  (the book's shared rcParams)
from okapi.sensitivity_definitions import ALONE, DefinitionsResults
from okapi.targets import load_targets

SCALE_COLOURS = {"d": "C3", "a": "C0"}
OTHER = {"d": "HADS-A", "a": "HADS-D"}
ORDER = {"paper": 0, "strict": 1, "score": 2, "d": 0, "a": 1, "alone": 0, "together": 1}  # rows, top to bottom


def plot_interaction_forest(results: DefinitionsResults):
    """Forest plot: one row per definition and model (alone, or with the other subscale), estimate and 95% CI of the
    difference in monthly pain change; splits on the left (per group), scores on the right (per point), the
    published R8 as a band on the left (it is for HADS-D > 7)."""
    table = results.interactions
    panels = (("Splits: above vs at or below the cut-off", table[table["coding"] != "score"]),
              ("Scores: per point", table[table["coding"] == "score"]))
    heights = [len(rows) for _, rows in panels]
    fig, axes = plt.subplots(2, 1, figsize=(7.5, 0.42 * sum(heights) + 2.4), gridspec_kw={"height_ratios": heights})
    r8 = load_targets().set_index("id").loc["R8"]
    for ax, (title, rows) in zip(axes, panels):
        rows = rows.sort_values(["coding", "scale", "model"], key=lambda column: column.map(ORDER), kind="stable")
        y = np.arange(len(rows))[::-1]
        for yi, (_, row) in zip(y, rows.iterrows()):
            alone = row["model"] == ALONE
            xerr = [[row["estimate"] - row["ci_low"]], [row["ci_high"] - row["estimate"]]]
            ax.errorbar(row["estimate"], yi, xerr=xerr,
                        fmt="o" if alone else "s", color=SCALE_COLOURS[row["scale"]], mfc=None if alone else "white",
                        ms=5, capsize=2)
        names = rows["label"].str.replace(" (per point)", "", regex=False)
        labels = [name if row["model"] == ALONE else f"{name} (with {OTHER[row['scale']]})"
                  for name, (_, row) in zip(names, rows.iterrows())]
        ax.set_yticks(y, labels, fontsize=8)
        ax.axvline(0, color="0.4", lw=0.8, ls="--")
        ax.set_title(title, fontsize=9)
        ax.set_ylim(-0.6, len(rows) - 0.4)
        ax.set_xlabel("Difference in pain change per month (NPRS points)", fontsize=8.5)
    axes[0].axvspan(r8["ci_low"], r8["ci_high"], color="0.85", zorder=0, label="published R8 (HADS-D > 7), 95% CI")
    axes[0].axvline(r8["value"], color="0.55", lw=1, zorder=0)
    axes[0].legend(frameon=False, fontsize=7.5, loc="upper right")
    fig.tight_layout()
    return fig

