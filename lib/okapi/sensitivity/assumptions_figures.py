"""Tornado figures of the assumptions sweep: per statistic, the assumed parameters that shift it, sorted by swing,
each drawn as two bars from the default value to the value at the low and at the high end of its plausible range.
Drawn with seaborn under the book's theme; each figure carries its alt text (okapi.book.theme)."""

import textwrap

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from okapi.book.report import and_list
from okapi.book.theme import MAX_FIGURE_HEIGHT_IN, book_theme, colours, figure_size, finish
from okapi.sensitivity.assumptions import DEFAULT, NEGLIGIBLE, AssumptionsResults, assumed_parameters
from okapi.sensitivity.assumptions_cohorts import MEDIATED_SHARE_BAND, STATISTICS
from okapi.sensitivity.assumptions_report import NOT_APPLICABLE, parameter_value
from okapi.synthetic.parameter_labels import parameter_label

ENDS = ("low", "high")  # the plausible range's ends: blue and orange, as the chapter's caption says
PAIN_COURSE = ("pain_decline", "depression_interaction", "three_trajectories")
MEDIATION = ("dose_not", "depression_mediates", "mediated_share", "anxiety_not")
SCALE = {"three_trajectories": 100.0}  # the K = 3 share is drawn as a percentage of cohorts
TITLES = {"pain_decline": "One-year change in pain", "depression_interaction": "Time x depression",
          "three_trajectories": "Three trajectory classes chosen", "dose_not": "Dose and pain diminution",
          "depression_mediates": "Depression path b", "mediated_share": "Proportion mediated (population)",
          "anxiety_not": "Anxiety path, given depression"}
# Whiskers need a paired interval: none for single population draws, and none for the 0/1 three-class indicator,
# whose t interval over a few cohorts spans the whole axis.
NO_WHISKERS = ("mediated_share", "three_trajectories")
# Figure height, in inches: per parameter, per panel (its axes' least height; its title and x axis), the legend.
# A bar's row is as tall as its panel's longest tick label: ROW_IN per line of 8 pt text, LABEL_CHARS per line.
ROW_IN, AXES_MIN_IN, PANEL_IN, LEGEND_IN = 0.13, 0.12, 0.55, 0.45
LABEL_CHARS = 40


def decision_lines(key: str, row) -> list[float]:
    """Values of the statistic at which a typical cohort's decision changes, at the default precision: where its
    expected 95% CI would touch 0, or the fixed thresholds of the share rules."""
    rule = STATISTICS[key].rule
    if rule == "below":
        return [row["level"] - row["default_ci_high"]]
    if rule == "above":
        return [row["level"] - row["default_ci_low"]]
    if rule == "includes_zero":
        return [row["level"] - row["default_ci_high"], row["level"] - row["default_ci_low"]]
    if rule == "at_least_half":
        return [0.5]
    return list(MEDIATED_SHARE_BAND)


def _range_label(name: str) -> str:
    """The parameter's label and plausible range, wrapped at LABEL_CHARS: long labels on one line would take half
    the figure's width from the bars."""
    p = next(p for p in assumed_parameters() if p.name == name)
    # No-break spaces inside the range: "(0.4 to 0.75)" stays on one line.
    plausible = f"({parameter_value(p.plausible_low)} to {parameter_value(p.plausible_high)})".replace(" ", "\u00a0")
    return textwrap.fill(f"{parameter_label(name)} {plausible}", LABEL_CHARS)


def _shown(results: AssumptionsResults, key: str, top: int) -> pd.DataFrame:
    """The parameters drawn in `key`'s panel: those that shift it beyond NEGLIGIBLE, largest swing first."""
    rows = results.summary[results.summary["statistic"] == key]
    shown = rows[(rows["parameter"] != DEFAULT) & (rows["swing"] > NEGLIGIBLE)]
    return shown.sort_values(["swing", "parameter"], ascending=[False, True]).head(top)


def _panel(ax, results: AssumptionsResults, key: str, top: int, palette: dict) -> None:
    summary = results.summary
    rows = summary[summary["statistic"] == key]
    default = rows[rows["parameter"] == DEFAULT].iloc[0]
    shown = _shown(results, key, top)
    scale = SCALE.get(key, 1.0)
    level = scale * default["level"]
    limits = (0.0, 100.0) if key == "three_trajectories" else (-np.inf, np.inf)
    ax.axvspan(*np.clip([scale * default["band_low"], scale * default["band_high"]], *limits), color="0.88", lw=0)
    ax.axvline(level, color="black", lw=1)
    for line in decision_lines(key, default):
        ax.axvline(scale * line, color="black", lw=1, ls="--")
    labels = [_range_label(name) for name in shown["parameter"]]
    if not shown.empty:
        bars = pd.DataFrame([{"parameter": label, "end": end, "shift": scale * row[f"{end}_value"] - level}
                             for label, (_, row) in zip(labels, shown.iterrows()) for end in ENDS])
        # Bars start at the default value (left=level), so their ends are the statistic at each end of the range.
        sns.barplot(data=bars, x="shift", y="parameter", hue="end", hue_order=list(ENDS), order=labels,
                    palette=palette, orient="y", width=0.8, saturation=1, left=level, edgecolor="white",
                    linewidth=0, errorbar=None, legend=False, ax=ax)
        for container in ax.containers[:len(ENDS)]:  # one per end, bars in the order of `labels`
            for bar, parameter in zip(container, shown["parameter"]):
                if results.streams.get(parameter):
                    bar.set_hatch("///")
        for position, (_, row) in enumerate(shown.iterrows()):
            for offset, end in ((-0.2, "low"), (0.2, "high")):
                value = scale * row[f"{end}_value"]
                half = scale * row[f"{end}_shift_half_width"]
                if np.isfinite(half) and half > 0 and key not in NO_WHISKERS:
                    ax.errorbar(value, position + offset, xerr=half, color="black", lw=0.7, capsize=1.5)
                if row[f"{end}_moved"] or row[f"{end}_within_noise"]:
                    moved = bool(row[f"{end}_moved"])
                    sns.scatterplot(x=[value], y=[position + offset], marker="X" if moved else "o",
                                    color="black" if moved else "white", edgecolor="black", linewidth=1, s=40,
                                    zorder=3, ax=ax)
    if key == "three_trajectories":
        ax.set_xlim(-3, 103)
    ax.set_yticks(range(len(shown)), labels)
    ax.set_ylim(len(shown) - 0.5 if len(shown) else 0.5, -0.5)
    ax.set_ylabel("")
    ax.set_xlabel(STATISTICS[key].label.replace("Share of cohorts", "% of cohorts"))
    ax.set_title(TITLES[key], loc="left")
    if shown.empty:
        ax.text(0.5, 0.5, "no assumed parameter shifts this statistic", transform=ax.transAxes, ha="center",
                va="center", bbox={"facecolor": "white", "edgecolor": "none"})


def _moved(results: AssumptionsResults, keys: tuple[str, ...], top: int) -> list[str]:
    """'parameter (statistic)' for each drawn end that moves the conclusion."""
    return [f"{parameter_label(row['parameter'])} ({TITLES[key].lower()})" for key in keys
            for _, row in _shown(results, key, top).iterrows() if row["low_moved"] or row["high_moved"]]


def _label_lines(results: AssumptionsResults, key: str, top: int) -> int:
    """Lines of the longest tick label of `key`'s panel (1 when the panel is empty)."""
    return max([_range_label(name).count("\n") + 1 for name in _shown(results, key, top)["parameter"]], default=1)


def tornado_figure(results: AssumptionsResults, keys: tuple[str, ...], top: int | None = None):
    """One panel per statistic in `keys`; `top` parameters per panel (default: settings.sweep_tornado_top)."""
    if not results.applicable:
        with book_theme():
            fig, ax = plt.subplots(figsize=figure_size(1.2))
            ax.text(0.5, 0.5, NOT_APPLICABLE[0].upper() + NOT_APPLICABLE[1:], ha="center", va="center", wrap=True)
            ax.set_axis_off()
            return finish(fig, "No figure: " + NOT_APPLICABLE + ".")
    top = results.settings.sweep_tornado_top if top is None else top
    # Fewer parameters per panel when all of them would make the figure taller than a page can hold.
    while True:
        heights = [max(1, len(_shown(results, k, top))) * _label_lines(results, k, top) for k in keys]
        total_in = LEGEND_IN + sum(ROW_IN * h + AXES_MIN_IN + PANEL_IN for h in heights)
        if total_in <= MAX_FIGURE_HEIGHT_IN or top == 1:
            break
        top -= 1
    palette = dict(zip(ENDS, colours(len(ENDS))))
    with book_theme():
        # Rows as tight as 8 pt labels allow: a figure taller than the PDF's text height would be shrunk to fit,
        # and its fonts with it.
        axes_in = [ROW_IN * h + AXES_MIN_IN for h in heights]
        fig, axes = plt.subplots(len(keys), 1, figsize=figure_size(LEGEND_IN + sum(a + PANEL_IN for a in axes_in)),
                                 gridspec_kw={"height_ratios": axes_in}, squeeze=False, layout="constrained")
        for ax, key in zip(axes[:, 0], keys):
            _panel(ax, results, key, top, palette)
        handles = [Patch(color=palette["low"], label="low end"), Patch(color=palette["high"], label="high end"),
                   Patch(facecolor="0.6", hatch="///", edgecolor="white", label="random stream shifted"),
                   Patch(color="0.88", label="noise band"), Line2D([], [], color="black", lw=1, label="default"),
                   Line2D([], [], color="black", lw=1, ls="--", label="decision changes"),
                   Line2D([], [], ls="", marker="X", color="black", label="moves the conclusion"),
                   Line2D([], [], ls="", marker="o", mfc="white", mec="black", label="flips within noise")]
        fig.legend(handles=handles, loc="outside lower center", ncol=4, frameon=False)
        moved = _moved(results, keys, top)
        alt = (f"Tornado charts, one panel per statistic ({and_list([TITLES[k] for k in keys])}): for each assumed "
               f"parameter of the synthetic cohort that shifts it, two horizontal bars from the value at the default "
               f"assumptions to the values at the low and the high end of the parameter's plausible range, largest "
               f"swing first, over the noise band and the lines where a decision changes. "
               + (f"Moving the conclusion: {and_list(moved)}." if moved else
                  "No parameter's plausible range moves a conclusion."))
        return finish(fig, alt)
