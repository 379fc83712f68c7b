"""Figures of the pain-trajectories chapter. Each function draws with seaborn under the book's theme and returns a
matplotlib Figure carrying its alt text (okapi.book.theme); the chapter glues it with a caption and label."""

import textwrap

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from okapi.book.theme import book_theme, colours, figure_size, finish, ordered_colours

MONTHS = np.arange(13)
MODEL_MARKERS = ("o", "s", "^")
MODEL_DASHES = ("", (4, 2), (1, 1.5))


def plot_fit_criteria(fit_tables: dict[str, pd.DataFrame], chosen: dict[str, int], min_entropy: float):
    """Left: BIC (N = patients) by number of classes, per model, the rule-chosen K circled. Right: relative
    entropy with the admissibility threshold."""
    models = list(fit_tables)
    table = pd.concat([t.assign(model=label) for label, t in fit_tables.items()], ignore_index=True)
    palette = dict(zip(models, colours(len(models))))
    styles = {"hue": "model", "style": "model", "hue_order": models, "style_order": models, "palette": palette,
              "markers": dict(zip(models, MODEL_MARKERS)), "dashes": dict(zip(models, MODEL_DASHES)),
              "markersize": 5, "errorbar": None}
    k_values = sorted(table["n_classes"].unique())
    with book_theme():
        fig, (left, right) = plt.subplots(1, 2, figsize=figure_size(3.6), layout="constrained")
        sns.lineplot(data=table, x="n_classes", y="bic", ax=left, **styles)
        at = pd.concat([t.loc[t["n_classes"] == chosen[label]].assign(model=label)
                        for label, t in fit_tables.items()])
        left.scatter(at["n_classes"], at["bic"], s=130, facecolors="none", linewidths=1.2,
                     edgecolors=[palette[m] for m in at["model"]], zorder=3)
        several = table.loc[table["n_classes"] > 1]
        sns.lineplot(data=several, x="n_classes", y="relative_entropy", ax=right, legend=False, **styles)
        right.axhline(min_entropy, color="0.5", lw=1, ls=":")
        right.annotate(f"threshold {min_entropy:g}", (k_values[0], min_entropy), xytext=(0, -3),
                       textcoords="offset points", ha="left", va="top", color="0.35")
        for ax in (left, right):
            ax.set_xticks(k_values)
            ax.set_xlabel("Number of classes K")
        left.set_ylabel("BIC (lower is better)")
        right.set_ylabel("Relative entropy")
        right.set_ylim(0, 1)
        handles, labels = left.get_legend_handles_labels()
        left.get_legend().remove()
        fig.legend(handles, labels, loc="outside lower center", ncol=len(models), frameon=False)
        entropy = several["relative_entropy"]
        alt = (f"Two line charts by number of classes K ({k_values[0]} to {k_values[-1]}), one line per model "
               f"({'; '.join(models)}): the BIC, with the chosen K circled "
               f"({'; '.join(f'{label}: K = {chosen[label]}' for label in models)}), and the relative entropy, which "
               f"ranges from {entropy.min():.2f} to {entropy.max():.2f} against a threshold of {min_entropy:g}.")
        return finish(fig, alt)


def plot_class_curves(panels: list[dict]):
    """One panel per model: each class's fitted mean curve (line) over the observed monthly mean of the patients
    assigned to it (markers, area proportional to the patients answering). Panels: dicts of title, labels
    ({class: label}), curves (trajectories.class_curve_table) and observed (class, month, n, mean)."""
    n_columns = min(len(panels), 3)
    n_rows = -(-len(panels) // n_columns)
    largest_k = max(len(panel["labels"]) for panel in panels)
    with book_theme():
        fig, axes = plt.subplots(n_rows, n_columns, figsize=figure_size(n_rows * (2.45 + 0.16 * largest_k)),
                                 sharey=True, squeeze=False)
        for ax in axes.ravel()[len(panels):]:
            ax.set_axis_off()
        summaries = []
        for ax, panel in zip(axes.ravel(), panels):
            classes = sorted(panel["labels"])
            # Classes are numbered by pain level (1 = lowest), so an ordered palette: light = mild, dark = severe.
            palette = dict(zip(classes, ordered_colours(len(classes))))
            curves = panel["curves"]
            shares = curves.groupby("trajectory_class")["class_share"].first()
            names = {cls: f"{panel['labels'][cls]} ({100 * float(shares[cls]):.1f}%)" for cls in classes}
            largest = max(float(panel["observed"]["n"].max()), 1.0)
            seen = panel["observed"].dropna(subset=["mean"])
            sns.scatterplot(data=seen, x="month", y="mean", hue="trajectory_class", palette=palette,
                            hue_order=classes, size="n", sizes=(6, 46), size_norm=(0, largest), alpha=0.6,
                            edgecolor="none", legend=False, ax=ax)
            sns.lineplot(data=curves.assign(label=curves["trajectory_class"].map(names)), x="month",
                         y="predicted_nprs", hue="label", hue_order=[names[c] for c in classes],
                         palette={names[c]: palette[c] for c in classes}, lw=1.8, errorbar=None, ax=ax)
            title = panel["title"].replace("K = ", "K\u00a0=\u00a0")  # wrapped, never inside "K = 3"
            ax.set_title(textwrap.fill(title, 24) if n_columns > 1 else title)
            ax.set_xticks(MONTHS[::3])
            ax.set_xlim(-0.5, 12.5)
            ax.set_ylim(0, 10)
            ax.set_yticks(range(0, 11, 2))
            ax.set_xlabel("Month since inclusion")
            ax.set_ylabel("Pain (NPRS, 0-10)" if ax in axes[:, 0] else "")
            # Below the panel, clear of its tick labels and axis label (the pad is in font sizes, not axes units).
            ax.legend(title=None, frameon=False, loc="upper center", bbox_to_anchor=(0.5, 0), borderaxespad=3.3,
                      ncol=1, handlelength=1.5)
            start = curves.loc[curves["month"] == curves["month"].min(), "predicted_nprs"]
            end = curves.loc[curves["month"] == curves["month"].max(), "predicted_nprs"]
            summaries.append(f"{panel['title']}: classes from between {start.min():.1f} and {start.max():.1f} at "
                             f"inclusion to between {end.min():.1f} and {end.max():.1f} at month 12")
        alt = (f"Line charts, one panel per model, of each trajectory class's fitted mean pain (NPRS 0-10) by month "
               f"since inclusion, 0 to 12, over dots for the observed monthly means of its patients (larger dots for "
               f"more patients answering); lighter lines are classes with less pain. {'; '.join(summaries)}.")
        return finish(fig, alt)
