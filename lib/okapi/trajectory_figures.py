"""Figures of the pain-trajectories chapter; each function returns a matplotlib Figure (glued with a caption)."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from okapi import figures  # noqa: F401  (the book's shared rcParams)

MONTHS = np.arange(13)
MODEL_STYLES = ("o-", "s--", "^-.")


def plot_fit_criteria(fit_tables: dict[str, pd.DataFrame], chosen: dict[str, int], min_entropy: float):
    """Left: BIC (N = patients) by number of classes, per model, the rule-chosen K circled. Right: relative
    entropy with the admissibility threshold."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3.4))
    for (label, table), style in zip(fit_tables.items(), MODEL_STYLES):
        line, = left.plot(table["n_classes"], table["bic"], style, ms=4, label=label)
        at = table.loc[table["n_classes"] == chosen[label]]
        left.plot(at["n_classes"], at["bic"], "o", ms=11, mfc="none", color=line.get_color())
        several = table.loc[table["n_classes"] > 1]
        right.plot(several["n_classes"], several["relative_entropy"], style, ms=4, color=line.get_color())
    right.axhline(min_entropy, color="0.5", lw=1, ls=":")
    for ax in (left, right):
        ax.set_xticks(sorted(next(iter(fit_tables.values()))["n_classes"]))
        ax.set_xlabel("Number of classes K")
    left.set_ylabel("BIC (lower is better)")
    right.set_ylabel("Relative entropy")
    right.set_ylim(0, 1)
    left.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def plot_class_curves(panels: list[dict]):
    """One panel per model: each class's fitted mean curve (line) over the observed monthly mean of the patients
    assigned to it (markers, area proportional to the patients answering). Panels: dicts of title, labels
    ({class: label}), curves (trajectories.class_curve_table) and observed (class, month, n, mean)."""
    fig, axes = plt.subplots(1, len(panels), figsize=(3.6 * len(panels), 3.8), sharey=True, squeeze=False)
    for ax, panel in zip(axes[0], panels):
        largest = max(float(panel["observed"]["n"].max()), 1.0)
        for cls, curve in panel["curves"].groupby("trajectory_class", sort=True):
            colour = f"C{(cls - 1) % 10}"
            share = 100 * float(curve["class_share"].iloc[0])
            ax.plot(curve["month"], curve["predicted_nprs"], color=colour, lw=1.8,
                    label=f"{panel['labels'][cls]} ({share:.1f}%)")
            seen = panel["observed"].loc[panel["observed"]["trajectory_class"] == cls].dropna(subset=["mean"])
            ax.scatter(seen["month"], seen["mean"], s=6 + 40 * seen["n"] / largest, color=colour, alpha=0.6,
                       edgecolors="none")
        ax.set_title(panel["title"], fontsize=9)
        ax.set_xticks(MONTHS[::2])
        ax.set_xlim(-0.5, 12.5)
        ax.set_ylim(0, 10)
        ax.set_xlabel("Month since inclusion")
        ax.legend(frameon=False, fontsize=7, loc="lower left")
    axes[0][0].set_ylabel("Pain (NPRS, 0-10)")
    fig.tight_layout()
    return fig
