"""Descriptive tables: Table 1 overall and by baseline depression, and the published-vs-reproduced comparison rows.

Every cell is formatted here, so a chapter only calls a function and displays the result.
"""

from dataclasses import dataclass

import pandas as pd

from okapi.data.privacy import is_small_count
from okapi.book.report import fmt_count_percent, fmt_mean_sd, fmt_number

PAIN_TYPE_LABELS = {"neuropathic": "Neuropathic pain", "fibromyalgia": "Fibromyalgia",
                    "crps": "Complex regional pain syndrome", "other": "Other"}


@dataclass(frozen=True)
class Row:
    label: str
    column: str
    summary: str  # "mean_sd", "median_iqr", "count" (a 0/1 or boolean column), or "level:<value>"
    digits: int = 1


def _median_iqr(values: pd.Series, digits: int) -> str:
    values = pd.Series(values, dtype="float64").dropna()
    q1, q2, q3 = values.quantile([0.25, 0.5, 0.75])
    return f"{fmt_number(q2, digits)} ({fmt_number(q1, digits)} to {fmt_number(q3, digits)})"


def _cell(patients: pd.DataFrame, row: Row, min_cell: int | None) -> str:
    values, digits = patients[row.column], row.digits
    observed = values.dropna()
    if observed.empty:
        return "-"
    if row.summary in ("mean_sd", "median_iqr"):
        # A summary of 1-4 values is near enough those patients' own values (n = 1 is one patient's value).
        if min_cell and is_small_count(len(observed), min_cell):
            return f"<{min_cell}"
        return fmt_mean_sd(observed, digits) if row.summary == "mean_sd" else _median_iqr(observed, digits)
    if row.summary == "count" or row.summary.startswith("level:"):
        hits = observed.astype(bool) if row.summary == "count" else observed == row.summary.split(":", 1)[1]
        count = int(hits.sum())
        # The complement too: "12 (85.7%)" of 14 answers tells that 2 patients are without.
        if min_cell and (is_small_count(count, min_cell) or is_small_count(len(observed) - count, min_cell)):
            return f"<{min_cell}"
        return fmt_count_percent(count, len(observed))
    raise ValueError(f"unknown summary {row.summary!r} for {row.column}")


def _missing(patients: pd.DataFrame, row: Row) -> int:
    return int(patients[row.column].isna().sum())


def characteristics_table(patients: pd.DataFrame, rows: list[Row], by: str | None = None,
                          group_labels: dict | None = None, min_cell: int | None = None) -> pd.DataFrame:
    """One row per characteristic; columns Overall and one per level of `by`; counts below `min_cell` suppressed.

    With `min_cell` (real-data mode) also hidden: summaries of fewer than `min_cell` values, group sizes and missing
    counts of 1 to min_cell - 1 (all group sizes when one is small, since the others and the total would give it
    back), and the Overall cell of a row with a hidden group cell (Overall minus the other groups would give it)."""
    groups = [("Overall", patients)]
    if by is not None:
        for level, label in (group_labels or {}).items():
            groups.append((label, patients[patients[by] == level]))
    cells = {label: [_cell(subset, row, min_cell) for row in rows] for label, subset in groups}
    hide_sizes = bool(min_cell) and any(is_small_count(len(subset), min_cell) for _, subset in groups[1:])
    if min_cell and by is not None:
        marker = f"<{min_cell}"
        cells["Overall"] = ["hidden" if any(cells[label][i] == marker for label, _ in groups[1:]) else cell
                            for i, cell in enumerate(cells["Overall"])]
    table = {"Characteristic": [row.label for row in rows]}
    for label, subset in groups:
        size = f"<{min_cell}" if hide_sizes and label != "Overall" else str(len(subset))
        table[f"{label} (n = {size})"] = cells[label]
    missing = [_missing(patients, row) for row in rows]
    table["Missing"] = [f"<{min_cell}" if min_cell and (is_small_count(m, min_cell)
                                                        or is_small_count(len(patients) - m, min_cell)) else str(m)
                        for m in missing]
    return pd.DataFrame(table)


def comparison_table(rows: list[dict]) -> pd.DataFrame:
    """Published figure beside its reproduced counterpart: rows of {id, quantity, published, reproduced}."""
    return pd.DataFrame(rows, columns=["id", "quantity", "published", "reproduced"]).rename(
        columns={"id": "Id", "quantity": "Quantity", "published": "Published", "reproduced": "This cohort"})
