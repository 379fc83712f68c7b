"""Figures. Each function returns a matplotlib Figure; chapters glue it with a caption and label."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from okapi.attrition import missing_data_patterns
from okapi.privacy import is_small_count

MONTHS = np.arange(13)
plt.rcParams.update({"figure.dpi": 110, "savefig.dpi": 110, "font.size": 10, "axes.spines.top": False,
                     "axes.spines.right": False})


def plot_answers_by_month(answers: pd.DataFrame, min_count: int = 1):
    """Bars: patients answering the pain question each month, per group; `answers` from attrition.answers_by_month.
    Counts from 1 to min_count - 1 are not drawn (real-data mode: min_count=privacy.MIN_CELL), nor the other groups'
    bars of that month, which the all-patients line would turn back into the hidden one."""
    groups = [c for c in answers.columns if c not in ("month", "Overall")]
    answers = _mask_small_counts(answers, ["Overall", *groups], groups, min_count)
    fig, ax = plt.subplots(figsize=(7, 3.6))
    width = 0.8 / max(len(groups), 1)
    for position, group in enumerate(groups):
        ax.bar(answers["month"] + (position - (len(groups) - 1) / 2) * width, answers[group], width, label=group)
    ax.plot(answers["month"], answers["Overall"], "k.-", label="All patients")
    ax.set_xticks(MONTHS)
    ax.set_xlabel("Month since inclusion")
    ax.set_ylabel("Patients with a pain score")
    ax.legend(frameon=False, fontsize=9)
    fig.tight_layout()
    return fig


def plot_missing_data_patterns(visits: pd.DataFrame, n_months: int = 13, top: int = 15, min_count: int = 1):
    """Tiles: the most frequent patterns of answered (dark) and missed (light) months, with how many patients had
    each; the pooled remainder is mid-grey. Patterns of fewer than `min_count` patients are pooled, so in real-data
    mode no single patient is drawn."""
    patterns = _pool_a_small_remainder(missing_data_patterns(visits, n_months=n_months, top=top,
                                                              min_count=min_count), min_count)
    shade = {"1": 1.0, "0": 0.0, "x": 0.5}  # answered, missed, pooled patterns (mixed)
    grid = np.array([[shade[c] for c in pattern] for pattern in patterns["pattern"]])
    fig, ax = plt.subplots(figsize=(7, 0.28 * len(patterns) + 1.2))
    ax.imshow(grid, aspect="auto", cmap="Greys", vmin=-0.4, vmax=1.2, interpolation="nearest")
    ax.set_xticks(range(n_months))
    ax.set_xlabel("Month since inclusion")
    ax.set_yticks(range(len(patterns)))
    ax.set_yticklabels([f"{label} (n = {count})" for label, count in zip(patterns["label"], patterns["patients"])],
                       fontsize=8)
    ax.spines[["left", "bottom"]].set_visible(False)
    ax.tick_params(length=0)
    fig.tight_layout()
    return fig


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
