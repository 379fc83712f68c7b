"""Figures of the pain and depression chapters; each function returns a matplotlib Figure (glued with a caption)."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from okapi import figures  # noqa: F401  (the book's shared rcParams)
from okapi.privacy import is_small_count

MONTHS = np.arange(13)
GROUP_COLOURS = ("C0", "C3")  # not depressed, depressed


def _month_axis(ax) -> None:
    ax.set_xticks(MONTHS)
    ax.set_xlim(-0.5, 12.5)


def plot_pain_over_year(monthly: pd.DataFrame, curve: pd.DataFrame, min_count: int = 1):
    """Top: observed mean NPRS per month with its 95% CI, the model-based monthly means (time as categories), and
    the linear model's course with its 95% band. Bottom: patients answering each month."""
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 5.2), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    top.fill_between(curve["month"], curve["ci_low"], curve["ci_high"], color="0.85", label="_band")
    top.plot(curve["month"], curve["predicted"], color="0.35", lw=1.5, label="Mixed model, linear time")
    shown = monthly.dropna(subset=["mean"])
    top.errorbar(shown["month"] - 0.12, shown["mean"],
                 yerr=[shown["mean"] - shown["ci_low"], shown["ci_high"] - shown["mean"]],
                 fmt="o", color="black", ms=4, capsize=2, label="Observed mean (95% CI)")
    model = monthly["model_mean"]
    top.errorbar(monthly["month"] + 0.12, model,
                 yerr=[model - monthly["model_ci_low"], monthly["model_ci_high"] - model],
                 fmt="s", color="C1", mfc="white", ms=4, capsize=2, label="Mixed model, time as categories (95% CI)")
    top.set_ylabel("Mean pain (NPRS, 0-10)")
    top.legend(frameon=False, fontsize=8, loc="upper right")
    # Real-data mode (min_count=privacy.MIN_CELL): a month answered by 1-4 patients gets no bar.
    answering = monthly["n"].astype(float).mask(monthly["n"].map(lambda n: is_small_count(n, min_count)).astype(bool))
    bottom.bar(monthly["month"], answering, color="0.6", width=0.7)
    bottom.set_ylabel("Answering")
    bottom.set_xlabel("Month since inclusion")
    _month_axis(bottom)
    fig.tight_layout()
    return fig


def plot_pain_by_group(observed: pd.DataFrame, linear: pd.DataFrame, categorical: pd.DataFrame,
                       labels: dict):
    """Observed means (95% CI) per month and group, with the linear model's course (line and band) and the
    categorical-time model's monthly means (dashed) per group. `labels`: group value -> legend text."""
    fig, ax = plt.subplots(figsize=(7, 4.8))
    for offset, (colour, (group, label)) in zip((-0.12, 0.12), zip(GROUP_COLOURS, labels.items())):
        course = linear[linear["group"] == group]
        ax.fill_between(course["month"], course["ci_low"], course["ci_high"], color=colour, alpha=0.12, lw=0)
        ax.plot(course["month"], course["predicted"], color=colour, lw=1.6, label=f"{label}: linear model")
        means = categorical[categorical["group"] == group]
        ax.plot(means["month"], means["predicted"], color=colour, lw=1, ls="--",
                label=f"{label}: time as categories")
        seen = observed[(observed["group"] == group)].dropna(subset=["mean"])
        ax.errorbar(seen["month"] + offset, seen["mean"],
                    yerr=[seen["mean"] - seen["ci_low"], seen["ci_high"] - seen["mean"]],
                    fmt="o", color=colour, ms=3.5, capsize=2, label=f"{label}: observed (95% CI)")
    ax.set_ylabel("Mean pain (NPRS, 0-10)")
    ax.set_xlabel("Month since inclusion")
    _month_axis(ax)
    # Below the axes: six entries inside would hide the month-0 points.
    ax.legend(frameon=False, fontsize=8, ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.14))
    fig.tight_layout()
    return fig


def plot_pain_by_score(curves: pd.DataFrame, value_label: str):
    """The linear model's course (line and 95% band) at a few values of a continuous baseline score
    (`curves`: value, month, predicted, ci_low, ci_high)."""
    fig, ax = plt.subplots(figsize=(7, 3.8))
    colours = plt.get_cmap("viridis")(np.linspace(0.1, 0.8, curves["value"].nunique()))
    for colour, (value, course) in zip(colours, curves.groupby("value", sort=True)):
        ax.fill_between(course["month"], course["ci_low"], course["ci_high"], color=colour, alpha=0.15, lw=0)
        ax.plot(course["month"], course["predicted"], color=colour, lw=1.6, label=f"{value_label} = {value:g}")
    ax.set_ylabel("Mean pain (NPRS, 0-10)")
    ax.set_xlabel("Month since inclusion")
    _month_axis(ax)
    ax.legend(frameon=False, fontsize=8, loc="upper right")
    fig.tight_layout()
    return fig
