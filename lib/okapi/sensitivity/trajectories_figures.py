"""Figure of the "Trajectories" sensitivity section: the number of classes chosen on patient resamples. It draws with
seaborn under the book's theme and returns a Figure carrying its alt text (okapi.book.theme)."""

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from okapi.book.report import and_list
from okapi.book.theme import book_theme, colours, figure_size, finish
from okapi.sensitivity.trajectories import TrajectorySensitivityResults, bootstrap_k_counts
from okapi.chapters.trajectories import MODELS

BARS = (("lcga", MODELS["lcga"].label + ": its rules' K"),
        ("gmm", MODELS["gmm"].label + ": its rules' K"),
        ("chosen", "The chapter's procedure (model and K)"))
# As the caption says: grey, blue and (vermillion) red; the palette's blue and vermillion, with no green beside them.
BAR_COLOURS = ("0.65", colours(4)[0], colours(4)[3])


def plot_bootstrap_k(results: TrajectorySensitivityResults):
    """Grouped bars: resamples choosing each K under LCGA's rules, the growth mixture's, and the whole procedure;
    the companion paper's K and the K chosen on the full data marked below the axis."""
    counts = bootstrap_k_counts(results)
    names = dict(BARS)
    bars = counts.melt(id_vars="K", value_vars=list(names), var_name="rule", value_name="resamples")
    bars["rule"] = bars["rule"].map(names)
    k_values = list(counts["K"])
    n_resamples = len(results.resamples)
    with book_theme():
        fig, ax = plt.subplots(figsize=figure_size(3.2))
        sns.barplot(data=bars, x="K", y="resamples", hue="rule", hue_order=list(names.values()), order=k_values,
                    palette=list(BAR_COLOURS), saturation=1, width=0.8, ax=ax)
        ax.set_xticks(range(len(k_values)), [f"K = {k}" + ("\n(published)" if k == results.published_k else "")
                                             + ("\n(full data)" if k == results.primary.chosen_k else "")
                                             for k in k_values])
        ax.set_xlabel("")
        ax.set_ylabel(f"Resamples (of {n_resamples})")
        ax.set_ylim(0, max(1, int(np.max(counts[list(names)].to_numpy()))) * 1.15)
        ax.legend(title=None, frameon=False, loc="best")
        chosen = counts.set_index("K")["chosen"]
        top = [f"K = {k}" for k in chosen.index[chosen == chosen.max()]]
        alt = (f"Grouped bar chart of how many of the {n_resamples} patient resamples chose each number of classes "
               f"(K = {k_values[0]} to {k_values[-1]}) under the LCGA's rules, the growth mixture's rules and the "
               f"chapter's whole procedure. The procedure chose {and_list(top)} most often ({int(chosen.max())} "
               f"resamples); the companion paper had K = {results.published_k}, and the full data give "
               f"K = {results.primary.chosen_k}.")
        return finish(fig, alt)
