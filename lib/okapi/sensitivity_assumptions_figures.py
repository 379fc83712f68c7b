"""Tornado figures of the assumptions sweep: per statistic, the assumed parameters that shift it, sorted by swing,
each drawn as two bars from the default value to the value at the low and at the high end of its plausible range."""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from okapi.sensitivity_assumptions import DEFAULT, NEGLIGIBLE, AssumptionsResults, assumed_parameters
from okapi.sensitivity_assumptions_cohorts import MEDIATED_SHARE_BAND, STATISTICS
from okapi.sensitivity_assumptions_report import NOT_APPLICABLE, parameter_value

COLOURS = {"low": "#4477aa", "high": "#ee7733"}
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
    p = next(p for p in assumed_parameters() if p.name == name)
    return f"{name} ({parameter_value(p.plausible_low)} to {parameter_value(p.plausible_high)})"


def _panel(ax, results: AssumptionsResults, key: str, top: int) -> None:
    summary = results.summary
    rows = summary[summary["statistic"] == key]
    default = rows[rows["parameter"] == DEFAULT].iloc[0]
    shown = rows[(rows["parameter"] != DEFAULT) & (rows["swing"] > NEGLIGIBLE)]
    shown = shown.sort_values(["swing", "parameter"], ascending=[False, True]).head(top)
    scale = SCALE.get(key, 1.0)
    level = scale * default["level"]
    limits = (0.0, 100.0) if key == "three_trajectories" else (-np.inf, np.inf)
    ax.axvspan(*np.clip([scale * default["band_low"], scale * default["band_high"]], *limits), color="0.85", lw=0)
    ax.axvline(level, color="black", lw=1)
    for line in decision_lines(key, default):
        ax.axvline(scale * line, color="black", lw=1, ls="--")
    for position, (_, row) in enumerate(shown.iterrows()):
        hatch = "///" if results.streams.get(row["parameter"]) else None
        for offset, end in ((-0.2, "low"), (0.2, "high")):
            value = scale * row[f"{end}_value"]
            ax.barh(position + offset, value - level, left=level, height=0.38, color=COLOURS[end],
                    hatch=hatch, edgecolor="white", lw=0)
            half = scale * row[f"{end}_shift_half_width"]
            if np.isfinite(half) and half > 0 and key not in NO_WHISKERS:
                ax.errorbar(value, position + offset, xerr=half, color="black", lw=0.7, capsize=1.5)
            if row[f"{end}_moved"] or row[f"{end}_within_noise"]:
                ax.plot(value, position + offset, marker="X" if row[f"{end}_moved"] else "o",
                        mfc="black" if row[f"{end}_moved"] else "white", mec="black", ms=6, zorder=3)
    if key == "three_trajectories":
        ax.set_xlim(-3, 103)
    ax.set_yticks(range(len(shown)))
    ax.set_yticklabels([_range_label(name) for name in shown["parameter"]], fontsize=8)
    ax.set_ylim(len(shown) - 0.5 if len(shown) else 0.5, -0.5)
    ax.set_xlabel(STATISTICS[key].label.replace("Share of cohorts", "% of cohorts"), fontsize=9)
    ax.set_title(TITLES[key], fontsize=10, loc="left")
    if shown.empty:
        ax.text(0.5, 0.5, "no assumed parameter shifts this statistic", transform=ax.transAxes, ha="center",
                fontsize=9)


def tornado_figure(results: AssumptionsResults, keys: tuple[str, ...], top: int | None = None):
    """One panel per statistic in `keys`; `top` parameters per panel (default: settings.sweep_tornado_top)."""
    if not results.applicable:
        fig, ax = plt.subplots(figsize=(7, 1.2))
        ax.text(0.5, 0.5, NOT_APPLICABLE[0].upper() + NOT_APPLICABLE[1:], ha="center", va="center", wrap=True,
                fontsize=9)
        ax.set_axis_off()
        return fig
    top = results.settings.sweep_tornado_top if top is None else top
    summary = results.summary
    heights = [max(1, min(top, int(((summary["statistic"] == k) & (summary["parameter"] != DEFAULT)
                                    & (summary["swing"] > NEGLIGIBLE)).sum()))) for k in keys]
    fig, axes = plt.subplots(len(keys), 1, figsize=(7.5, 1.0 + sum(0.3 * h + 0.9 for h in heights)),
                             gridspec_kw={"height_ratios": [0.3 * h + 0.5 for h in heights]}, squeeze=False)
    for ax, key in zip(axes[:, 0], keys):
        _panel(ax, results, key, top)
    handles = [Patch(color=COLOURS["low"], label="low end"), Patch(color=COLOURS["high"], label="high end"),
               Patch(facecolor="0.6", hatch="///", edgecolor="white", label="random stream shifted"),
               Patch(color="0.85", label="noise band"), Line2D([], [], color="black", lw=1, label="default"),
               Line2D([], [], color="black", lw=1, ls="--", label="decision changes"),
               Line2D([], [], ls="", marker="X", color="black", label="moves the conclusion"),
               Line2D([], [], ls="", marker="o", mfc="white", mec="black", label="flips within noise")]
    fig.legend(handles=handles, loc="lower center", ncol=4, frameon=False, fontsize=8)
    fig.tight_layout(rect=(0, 0.6 / fig.get_figheight(), 1, 1))
    return fig
