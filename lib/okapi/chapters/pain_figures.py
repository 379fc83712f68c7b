"""Figures of the pain and depression chapters. Each function draws with seaborn under the book's theme and returns a
matplotlib Figure carrying its alt text (okapi.book.theme); the chapter glues it with a caption and label."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from okapi.book.report import and_list
from okapi.book.theme import book_theme, colours, figure_size, finish, ordered_colours
from okapi.data.privacy import is_small_count

MONTHS = np.arange(13)
NPRS_LABEL = "Mean pain (NPRS, 0-10)"
BAND = "0.85"  # the linear model's 95% band (single-course figure)
LINE = "0.35"  # the linear model's course


def _month_axis(ax) -> None:
    ax.set_xticks(MONTHS)
    ax.set_xlim(-0.5, 12.5)


def _error_bars(ax, x, mean, low, high, colour) -> None:
    """Given 95% CIs (seaborn computes its own from raw data, and these come from models)."""
    ax.errorbar(x, mean, yerr=[mean - low, high - mean], fmt="none", ecolor=colour, elinewidth=1, capsize=2)


def _at(table: pd.DataFrame, month: float, column: str = "predicted") -> float:
    return float(table.loc[np.isclose(table["month"], month), column].iloc[0])


def plot_pain_over_year(monthly: pd.DataFrame, curve: pd.DataFrame, min_count: int = 1):
    """Top: observed mean NPRS per month with its 95% CI, the model-based monthly means (time as categories), and
    the linear model's course with its 95% band. Bottom: patients answering each month."""
    # Real-data mode (min_count=privacy.MIN_CELL): a month answered by 1-4 patients gets no bar.
    answering = monthly["n"].astype(float).mask(monthly["n"].map(lambda n: is_small_count(n, min_count)).astype(bool))
    shown = monthly.dropna(subset=["mean"])
    observed_colour, model_colour = "black", colours(2)[1]
    with book_theme():
        fig, (top, bottom) = plt.subplots(2, 1, figsize=figure_size(4.6), sharex=True,
                                          gridspec_kw={"height_ratios": [3, 1]})
        top.fill_between(curve["month"], curve["ci_low"], curve["ci_high"], color=BAND, lw=0)
        sns.lineplot(x=curve["month"], y=curve["predicted"], color=LINE, lw=1.5, errorbar=None, ax=top)
        _error_bars(top, shown["month"] - 0.12, shown["mean"], shown["ci_low"], shown["ci_high"], observed_colour)
        sns.scatterplot(x=shown["month"] - 0.12, y=shown["mean"], color=observed_colour, marker="o", s=18,
                        edgecolor="none", ax=top)
        _error_bars(top, monthly["month"] + 0.12, monthly["model_mean"], monthly["model_ci_low"],
                    monthly["model_ci_high"], model_colour)
        sns.scatterplot(x=monthly["month"] + 0.12, y=monthly["model_mean"], marker="s", s=16, facecolor="white",
                        edgecolor=model_colour, linewidth=1, ax=top)
        top.legend(handles=[
            Line2D([], [], color=observed_colour, marker="o", ms=4, label="Observed mean (95% CI)"),
            Line2D([], [], color=model_colour, marker="s", mfc="white", ms=4,
                   label="Mixed model, time as categories (95% CI)"),
            (Patch(color=BAND), Line2D([], [], color=LINE, lw=1.5)),
        ], labels=["Observed mean (95% CI)", "Mixed model, time as categories (95% CI)",
                   "Mixed model, linear time (95% band)"], frameon=False, loc="upper right")
        top.set_ylabel(NPRS_LABEL)
        sns.barplot(x=monthly["month"], y=answering, color="0.6", width=0.7, native_scale=True, ax=bottom)
        bottom.set_ylabel("Answering")
        bottom.set_xlabel("Month since inclusion")
        _month_axis(bottom)
        alt = ("Line chart of mean pain (NPRS 0-10) by month since inclusion, 0 to 12: observed means and the mixed "
               "models' monthly means with 95% CIs, and the linear model's course with its 95% band"
               + _course(shown, "mean", " (observed means from {first:.1f} at inclusion to {last:.1f} at month 12)")
               + ". Below, bars of the patients answering each month"
               + _course(pd.DataFrame({"month": monthly["month"], "n": answering}).dropna(), "n",
                         ", {first:.0f} at inclusion and {last:.0f} at month 12") + ".")
        return finish(fig, alt)


def _course(table: pd.DataFrame, column: str, template: str) -> str:
    """`template` filled with the values at month 0 and month 12, or "" when either is not drawn."""
    months = set(table["month"])
    if not {0, 12} <= months:
        return ""
    return template.format(first=_at(table, 0, column), last=_at(table, 12, column))


def plot_pain_by_group(observed: pd.DataFrame, linear: pd.DataFrame, categorical: pd.DataFrame,
                       labels: dict):
    """Observed means (95% CI) per month and group, with the linear model's course (line and band) and the
    categorical-time model's monthly means (dashed) per group. `labels`: group value -> legend text."""
    palette = dict(zip(labels.values(), colours(len(labels))))
    with book_theme():
        fig, ax = plt.subplots(figsize=figure_size(4.0))
        for offset, (group, label) in zip((-0.12, 0.12), labels.items()):
            colour = palette[label]
            course = linear[linear["group"] == group]
            ax.fill_between(course["month"], course["ci_low"], course["ci_high"], color=colour, alpha=0.15, lw=0)
            sns.lineplot(x=course["month"], y=course["predicted"], color=colour, lw=1.6, errorbar=None, ax=ax)
            means = categorical[categorical["group"] == group]
            sns.lineplot(x=means["month"], y=means["predicted"], color=colour, lw=1, ls="--", errorbar=None, ax=ax)
            seen = observed[observed["group"] == group].dropna(subset=["mean"])
            _error_bars(ax, seen["month"] + offset, seen["mean"], seen["ci_low"], seen["ci_high"], colour)
            sns.scatterplot(x=seen["month"] + offset, y=seen["mean"], color=colour, s=16, edgecolor="none", ax=ax)
        ax.set_ylabel(NPRS_LABEL)
        ax.set_xlabel("Month since inclusion")
        _month_axis(ax)
        handles = [Patch(color=colour, label=label) for label, colour in palette.items()] + [
            Line2D([], [], color="0.3", marker="o", ms=4, ls="none", label="Observed mean (95% CI)"),
            Line2D([], [], color="0.3", lw=1.6, label="Linear model (95% band)"),
            Line2D([], [], color="0.3", lw=1, ls="--", label="Time as categories")]
        # Below the axes: entries inside would hide the month-0 points.
        ax.legend(handles=handles, frameon=False, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.16))
        courses = " and ".join(
            f"from {_at(linear[linear['group'] == group], 0):.1f} to {_at(linear[linear['group'] == group], 12):.1f} "
            f"for {label}" for group, label in labels.items())
        alt = (f"Line chart of mean pain (NPRS 0-10) by month since inclusion, 0 to 12, in two groups "
               f"({' and '.join(labels.values())}): observed means with 95% CIs, the linear mixed model's course "
               f"with its 95% band and the time-as-categories model's monthly means. From month 0 to month 12 "
               f"the linear course runs {courses}.")
        return finish(fig, alt)


def plot_pain_by_score(curves: pd.DataFrame, value_label: str):
    """The linear model's course (line and 95% band) at a few values of a continuous baseline score
    (`curves`: value, month, predicted, ci_low, ci_high)."""
    values = sorted(curves["value"].unique())
    names = {value: f"{value_label} = {value:g}" for value in values}
    palette = dict(zip(names.values(), ordered_colours(len(values))))
    table = curves.assign(score=curves["value"].map(names))
    with book_theme():
        fig, ax = plt.subplots(figsize=figure_size(3.4))
        for value, course in table.groupby("value", sort=True):
            ax.fill_between(course["month"], course["ci_low"], course["ci_high"], color=palette[names[value]],
                            alpha=0.15, lw=0)
        sns.lineplot(data=table, x="month", y="predicted", hue="score", hue_order=list(names.values()),
                     palette=palette, lw=1.6, errorbar=None, ax=ax)
        ax.set_ylabel(NPRS_LABEL)
        ax.set_xlabel("Month since inclusion")
        _month_axis(ax)
        ax.legend(title=None, frameon=False, loc="upper right")
        ends = and_list([f"{_at(course, 0):.1f} to {_at(course, 12):.1f} at {value_label} {value:g}"
                         for value, course in curves.groupby("value", sort=True)])
        alt = (f"Line chart of the mixed model's mean pain (NPRS 0-10) by month since inclusion, 0 to 12, at "
               f"{value_label} scores of {and_list([f'{v:g}' for v in values])} at inclusion, each with its 95% "
               f"band; from month 0 to month 12 mean pain goes from {ends}.")
        return finish(fig, alt)
