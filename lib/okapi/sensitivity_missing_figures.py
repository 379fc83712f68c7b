"""Figures of the missing-data section: the tipping-point curve of the one-year decline and the map of the time x
depression interaction over separate shifts for dropouts with and without depression. Aggregates only."""

import matplotlib.pyplot as plt
import numpy as np

from okapi import figures  # noqa: F401  (the book's shared rcParams)


def plot_decline_tipping(results):
    """Pooled one-year change (95% CI) against the shift added to every post-dropout score."""
    table = results.common
    fig, ax = plt.subplots(figsize=(6.5, 4))
    ax.fill_between(table["delta"], table["decline_ci_low"], table["decline_ci_high"], color="C0", alpha=0.2, lw=0,
                    label="95% CI (Rubin's rules)")
    ax.plot(table["delta"], table["decline_estimate"], "o-", color="C0", ms=3.5, label="Multiple imputation")
    ax.axhline(0, color="black", lw=0.8)
    ax.axhline(results.dl_decline.estimate, color="0.4", lw=1, ls=":", label="Direct likelihood (MAR)")
    if np.isfinite(results.decline_tipping):
        ax.axvline(results.decline_tipping, color="C3", lw=1.2, ls="--", label="Tipping point: CI reaches 0")
    ax.axvline(results.benchmark, color="0.5", lw=1, ls="-.", label="Shift = size of the one-year decline")
    ax.set_xlabel("Shift added to every score after dropout (NPRS points)")
    ax.set_ylabel("Change in pain, points per year")
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def plot_interaction_tipping_map(results):
    """The pooled interaction (per month) over (shift for dropouts without depression, shift for dropouts with
    depression), hatched where its 95% CI includes 0, with the tipping curve found by root-finding."""
    surface = results.surface
    deltas = np.sort(surface["delta_not_depressed"].unique())
    estimate = surface.pivot(index="delta_depressed", columns="delta_not_depressed", values="estimate")
    kept = surface.pivot(index="delta_depressed", columns="delta_not_depressed", values="margin")
    estimate, kept = estimate.loc[deltas, deltas], kept.loc[deltas, deltas]
    limit = float(np.nanmax(np.abs(estimate.to_numpy())))
    fig, ax = plt.subplots(figsize=(6.2, 5))
    mesh = ax.pcolormesh(deltas, deltas, estimate.to_numpy(), cmap="RdBu_r", vmin=-limit, vmax=limit,
                         shading="nearest")
    fig.colorbar(mesh, ax=ax, label="Time x depression, points per month")
    ax.contourf(deltas, deltas, kept.to_numpy(), levels=[-np.inf, 0], colors="none", hatches=["///"])
    ax.contour(deltas, deltas, kept.to_numpy(), levels=[0], colors="black", linewidths=1)
    curve = results.interaction_curve.dropna()
    ax.plot(curve["delta_not_depressed"], curve["delta_depressed"], "o", color="black", ms=3,
            label="Tipping point: CI reaches 0")
    ax.plot(deltas, deltas, color="0.4", lw=0.8, ls=":", label="Same shift in both groups")
    ax.set_xlabel("Shift after dropout, patients without depression (points)")
    ax.set_ylabel("Shift after dropout, patients with depression (points)")
    ax.set_xlim(deltas[0] - 0.25, deltas[-1] + 0.25)
    ax.set_ylim(deltas[0] - 0.25, deltas[-1] + 0.25)
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig
