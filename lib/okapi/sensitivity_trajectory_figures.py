"""Figure of the "Trajectories" sensitivity section: the number of classes chosen on patient resamples."""

import matplotlib.pyplot as plt
import numpy as np

from okapi import figures  # noqa: F401  (the book's shared rcParams)
from okapi.sensitivity_trajectories import TrajectorySensitivityResults, bootstrap_k_counts
from okapi.trajectory_analysis import MODELS

BARS = (("lcga", MODELS["lcga"].label + ": its rules' K", "0.75"),
        ("gmm", MODELS["gmm"].label + ": its rules' K", "C0"),
        ("chosen", "The chapter's procedure (model and K)", "C3"))


def plot_bootstrap_k(results: TrajectorySensitivityResults):
    """Grouped bars: resamples choosing each K under LCGA's rules, the growth mixture's, and the whole procedure;
    the companion paper's K and the K chosen on the full data marked below the axis."""
    counts = bootstrap_k_counts(results)
    fig, ax = plt.subplots(figsize=(7, 3.4))
    width = 0.26
    for offset, (column, label, colour) in zip((-width, 0.0, width), BARS):
        ax.bar(counts["K"] + offset, counts[column], width, label=label, color=colour)
    ax.set_xticks(counts["K"], [f"K = {k}" + ("\n(published)" if k == results.published_k else "")
                                + ("\n(full data)" if k == results.primary.chosen_k else "")
                                for k in counts["K"]])
    ax.set_ylabel(f"Resamples (of {len(results.resamples)})")
    ax.set_ylim(0, max(1, int(np.max(counts[["lcga", "gmm", "chosen"]].to_numpy()))) * 1.15)
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig
