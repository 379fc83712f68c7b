"""Figures of the cohort chapter. Each function draws with seaborn under the book's theme and returns a matplotlib
Figure carrying its alt text (okapi.book.theme); the chapter glues it with a caption and label."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from okapi.book.theme import book_theme, colours, figure_size, finish
from okapi.data.attrition import missing_data_patterns
from okapi.data.privacy import is_small_count

MONTHS = np.arange(13)


def plot_answers_by_month(answers: pd.DataFrame, min_count: int = 1):
    """Bars: patients answering the pain question each month, per group; `answers` from attrition.answers_by_month.
    Counts from 1 to min_count - 1 are not drawn (real-data mode: min_count=privacy.MIN_CELL), nor the other groups'
    bars of that month, which the all-patients line would turn back into the hidden one."""
    groups = [c for c in answers.columns if c not in ("month", "Overall")]
    answers = _mask_small_counts(answers, ["Overall", *groups], groups, min_count)
    bars = answers.melt(id_vars="month", value_vars=groups, var_name="Group", value_name="patients")
    with book_theme():
        fig, ax = plt.subplots(figsize=figure_size(3.4))
        sns.barplot(data=bars, x="month", y="patients", hue="Group", hue_order=groups, palette=colours(len(groups)),
                    order=list(MONTHS), ax=ax, width=0.8)
        # barplot puts months at positions 0..12, which are the months themselves.
        sns.lineplot(x=answers["month"], y=answers["Overall"], color="black", marker="o", markersize=4,
                     label="All patients", ax=ax)
        ax.set_xlabel("Month since inclusion")
        ax.set_ylabel("Patients with a pain score")
        ax.legend(frameon=False)
        first, last = answers["Overall"].iloc[0], answers["Overall"].iloc[-1]
        alt = (f"Bar chart of the number of patients who gave a pain score at each monthly call, months 0 to 12, "
               f"by group ({', '.join(groups)}), with a line for all patients"
               + ("" if pd.isna(first) or pd.isna(last) else f", falling from {first:.0f} at inclusion to "
                                                            f"{last:.0f} at month 12") + ".")
        return finish(fig, alt)


def plot_missing_data_patterns(visits: pd.DataFrame, n_months: int = 13, top: int = 15, min_count: int = 1):
    """Tiles: the most frequent patterns of answered (dark) and missed (light) months, with how many patients had
    each; the pooled remainder is mid-grey. Patterns of fewer than `min_count` patients are pooled, so in real-data
    mode no single patient is drawn."""
    patterns = _pool_a_small_remainder(missing_data_patterns(visits, n_months=n_months, top=top,
                                                              min_count=min_count), min_count)
    shade = {"1": 1.0, "0": 0.0, "x": 0.5}  # answered, missed, pooled patterns (mixed)
    grid = pd.DataFrame([[shade[c] for c in pattern] for pattern in patterns["pattern"]],
                        index=[f"{label} (n = {count})" for label, count in zip(patterns["label"], patterns["patients"])],
                        columns=range(n_months))
    with book_theme():
        fig, ax = plt.subplots(figsize=figure_size(0.24 * len(patterns) + 1.1))
        sns.heatmap(grid, cmap="Greys", vmin=-0.4, vmax=1.2, cbar=False, linewidths=0.5, linecolor="white", ax=ax)
        ax.set_xlabel("Month since inclusion")
        ax.set_ylabel("")
        ax.tick_params(length=0)
        alt = (f"Tile chart of the {len(patterns)} most frequent patterns of answered (dark) and missed (light) "
               f"monthly calls, one row per pattern with its number of patients, months 0 to 12 across.")
        return finish(fig, alt)


def _mask_small_counts(table: pd.DataFrame, columns: list[str], linked: list[str], min_count: int) -> pd.DataFrame:
    """NaN (not drawn) for counts 1..min_count-1; a month with one hidden `linked` column hides them all."""
    table = table.copy()
    small = table[columns].apply(lambda column: column.map(lambda n: is_small_count(n, min_count))).astype(bool)
    if linked:
        small.loc[small[linked].any(axis=1), linked] = True
    for column in columns:
        table[column] = table[column].astype(float).mask(small[column])
    return table


def _pool_a_small_remainder(patterns: pd.DataFrame, min_count: int) -> pd.DataFrame:
    """A pooled 'other patterns' row of 1..min_count-1 patients takes in the least frequent shown pattern, so that
    no small count is drawn (nor one that the total minus the drawn counts gives back)."""
    pooled = patterns["label"] == "other patterns"
    if not (pooled.any() and is_small_count(int(patterns.loc[pooled, "patients"].sum()), min_count)
            and (~pooled).any()):
        return patterns
    kept = patterns[~pooled]
    merged = {"pattern": patterns.loc[pooled, "pattern"].iloc[0], "label": "other patterns",
              "patients": int(patterns.loc[pooled, "patients"].sum()) + int(kept["patients"].iloc[-1])}
    return pd.concat([kept.iloc[:-1], pd.DataFrame([merged])], ignore_index=True)[patterns.columns]
