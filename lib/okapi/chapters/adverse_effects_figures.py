"""Figure of the adverse-effects chapter. It draws with seaborn under the book's theme and returns a matplotlib Figure
carrying its alt text (okapi.book.theme); the chapter glues it with a caption and label."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from okapi.book.theme import book_theme, colours, figure_size, finish
from okapi.chapters.adverse_effects import FOLLOW_UP_MONTHS, AdverseEffectsResults
from okapi.data.privacy import MIN_CELL

SERIES = (("_stay", "Months with a ketamine stay"), ("_no_stay", "Months without"))
ALL_ANSWERS = "All answers (95% CI)"


def plot_monthly_adverse_effects(results: AdverseEffectsResults):
    """Share of answering patients with an adverse effect each month: all answers with 95% Wilson CIs, and the shares
    in months with and without a ketamine stay; in real mode, points resting on 1-4 patients are not drawn."""
    monthly = results.monthly

    def shown(suffix):
        count = monthly[f"with_effect{suffix}"].to_numpy()
        hidden = results.real_mode & (count > 0) & (count < MIN_CELL)
        return 100 * np.where(hidden, np.nan, monthly[f"share{suffix}"].to_numpy(float))

    lines = pd.concat([pd.DataFrame({"month": monthly["month"], "share": shown(suffix), "series": label})
                       for suffix, label in SERIES], ignore_index=True)
    share = shown("")
    palette = dict(zip([label for _, label in SERIES], colours(2)))
    with book_theme():
        fig, ax = plt.subplots(figsize=figure_size(3.4))
        sns.lineplot(data=lines, x="month", y="share", hue="series", style="series", palette=palette,
                     markers={label: marker for (_, label), marker in zip(SERIES, ("s", "^"))},
                     dashes={label: dash for (_, label), dash in zip(SERIES, ((4, 2), (1, 1.5)))},
                     markersize=5, lw=1, alpha=0.85, errorbar=None, ax=ax)
        ax.errorbar(monthly["month"], share, yerr=[share - 100 * monthly["ci_low"], 100 * monthly["ci_high"] - share],
                    fmt="none", ecolor="black", elinewidth=1, capsize=2)
        sns.lineplot(x=monthly["month"], y=share, color="black", marker="o", markersize=5, lw=1.2, errorbar=None,
                     label=ALL_ANSWERS, ax=ax)
        ax.set_xticks(FOLLOW_UP_MONTHS)
        ax.set_xlabel("Month of follow-up (the call reports the month before it)")
        ax.set_ylabel("Patients with an adverse effect, %")
        ax.set_ylim(bottom=0)
        handles, labels = ax.get_legend_handles_labels()
        order = [labels.index(ALL_ANSWERS)] + [labels.index(label) for _, label in SERIES]
        ax.legend([handles[i] for i in order], [labels[i] for i in order], title=None, frameon=False,
                  loc="upper right")
        first, last = share[0], share[-1]
        alt = ("Line chart of the share (%) of answering patients who reported an adverse effect, by month of "
               f"follow-up, {FOLLOW_UP_MONTHS[0]} to {FOLLOW_UP_MONTHS[-1]}: all answers with 95% CIs, and the "
               "months with and without a ketamine stay"
               + ("" if np.isnan(first) or np.isnan(last) else
                  f"; the share of all answers goes from {first:.0f}% at month {monthly['month'].iloc[0]} to "
                  f"{last:.0f}% at month {monthly['month'].iloc[-1]}") + ".")
        return finish(fig, alt)
