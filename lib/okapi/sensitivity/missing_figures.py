"""Figures of the missing-data section: the tipping-point curve of the one-year decline and the map of the time x
depression interaction over separate shifts for dropouts with and without depression. Aggregates only. Each function
draws with seaborn under the book's theme and returns a Figure carrying its alt text (okapi.book.theme)."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from okapi.book.report import fmt_number
from okapi.book.theme import book_theme, colours, figure_size, finish


def plot_decline_tipping(results):
    """Pooled one-year change (95% CI) against the shift added to every post-dropout score."""
    table = results.common
    estimate_colour, tipping_colour = colours(2)
    with book_theme():
        fig, ax = plt.subplots(figsize=figure_size(4.0), layout="constrained")
        ax.fill_between(table["delta"], table["decline_ci_low"], table["decline_ci_high"], color=estimate_colour,
                        alpha=0.2, lw=0, label="95% CI (Rubin's rules)")
        sns.lineplot(x=table["delta"], y=table["decline_estimate"], color=estimate_colour, marker="o",
                     markersize=4, errorbar=None, label="Multiple imputation", ax=ax)
        ax.axhline(0, color="black", lw=0.8)
        ax.axhline(results.dl_decline.estimate, color="0.4", lw=1, ls=":", label="Direct likelihood (MAR)")
        tipped = np.isfinite(results.decline_tipping)
        if tipped:
            ax.axvline(results.decline_tipping, color=tipping_colour, lw=1.2, ls="--",
                       label="Tipping point: CI reaches 0")
        ax.axvline(results.benchmark, color="0.5", lw=1, ls="-.", label="Shift = size of the one-year decline")
        ax.set_xlabel("Shift added to every score after dropout (NPRS points)")
        ax.set_ylabel("Change in pain, points per year")
        handles, labels = ax.get_legend_handles_labels()
        ax.get_legend().remove()  # seaborn's, inside the axes, would cross the lines
        fig.legend(handles, labels, frameon=False, loc="outside lower center", ncol=2)
        first, last = table.iloc[0], table.iloc[-1]
        alt = (f"Line chart of the pooled one-year change in pain (NPRS points per year, multiple imputation, with "
               f"its 95% CI) against the shift added to every score after dropout, {first['delta']:g} to "
               f"{last['delta']:g} points: the change goes from {fmt_number(first['decline_estimate'], 2)} to "
               f"{fmt_number(last['decline_estimate'], 2)}, "
               + (f"and its CI reaches 0 at a shift of {results.decline_tipping:.2f} points (the tipping point), "
                  if tipped else "and its CI does not reach 0 in this range, ")
               + f"against a one-year decline of {results.benchmark:.2f} points.")
        return finish(fig, alt)


def _cell_position(values, deltas: np.ndarray) -> np.ndarray:
    """Shift(s) -> position on a seaborn heatmap whose cells are the sorted `deltas` (cell i spans i to i + 1)."""
    return np.interp(values, deltas, np.arange(deltas.size)) + 0.5


def plot_interaction_tipping_map(results):
    """The pooled interaction (per month) over (shift for dropouts without depression, shift for dropouts with
    depression), hatched where its 95% CI includes 0, with the tipping curve found by root-finding."""
    surface = results.surface
    deltas = np.sort(surface["delta_not_depressed"].unique())
    estimate = surface.pivot(index="delta_depressed", columns="delta_not_depressed", values="estimate")
    kept = surface.pivot(index="delta_depressed", columns="delta_not_depressed", values="margin")
    estimate, kept = estimate.loc[deltas, deltas], kept.loc[deltas, deltas]
    limit = float(np.nanmax(np.abs(estimate.to_numpy())))
    names = [f"{d:g}" for d in deltas]
    centres = np.arange(deltas.size) + 0.5
    curve = results.interaction_curve.dropna()
    with book_theme():
        fig, ax = plt.subplots(figsize=figure_size(4.6, 0.85), layout="constrained")
        sns.heatmap(pd.DataFrame(estimate.to_numpy(), index=names, columns=names), cmap="vlag", center=0,
                    vmin=-limit, vmax=limit, square=True, ax=ax,
                    cbar_kws={"label": "Time x depression, points per month", "shrink": 0.8})
        ax.invert_yaxis()  # shifts grow upwards
        with plt.rc_context({"hatch.color": "0.3", "hatch.linewidth": 0.6}):  # the colours stay readable under it
            ax.contourf(centres, centres, kept.to_numpy(), levels=[-np.inf, 0], colors="none", hatches=["///"])
        ax.contour(centres, centres, kept.to_numpy(), levels=[0], colors="black", linewidths=1)
        sns.scatterplot(x=_cell_position(curve["delta_not_depressed"], deltas),
                        y=_cell_position(curve["delta_depressed"], deltas), color="black", s=14, ax=ax)
        ax.plot([0, deltas.size], [0, deltas.size], color="0.3", lw=0.8, ls=":")
        ax.set_xlabel("Shift after dropout, patients without depression (points)")
        ax.set_ylabel("Shift after dropout, patients with\ndepression (points)")
        ax.tick_params(axis="y", rotation=0)
        fig.legend(handles=[Patch(facecolor="white", edgecolor="0.3", hatch="///", label="95% CI includes 0"),
                           Line2D([], [], color="black", marker="o", ms=4, ls="none",
                                  label="Tipping point: CI reaches 0"),
                           Line2D([], [], color="0.3", lw=0.8, ls=":", label="Same shift in both groups")],
                  frameon=False, loc="outside lower center", ncol=3)
        values = estimate.to_numpy()
        gap = curve["delta_depressed"] - curve["delta_not_depressed"]
        alt = (f"Heat map of the pooled time x depression interaction (NPRS points per month) over the shift after "
               f"dropout for patients without depression (across, {names[0]} to {names[-1]} points) and with "
               f"depression (up, the same range), from {fmt_number(np.nanmin(values), 3)} to "
               f"{fmt_number(np.nanmax(values), 3)}, hatched "
               f"where its 95% CI includes 0. "
               + (f"The CI reaches 0 along a curve where the shift for patients with depression minus the shift for "
                  f"the others is {fmt_number(gap.min(), 2)} to {fmt_number(gap.max(), 2)} points." if len(curve) else
                  "Its CI does not reach 0 anywhere on the grid."))
        return finish(fig, alt)
