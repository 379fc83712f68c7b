"""Who answered the monthly pain call: counts per month and the patterns of missed months."""

import numpy as np
import pandas as pd


def answered_matrix(visits: pd.DataFrame, n_months: int = 13) -> pd.DataFrame:
    """Patients x months, True where a pain score was recorded."""
    observed = visits.loc[visits["nprs"].notna(), ["patient_id", "month"]]
    matrix = pd.crosstab(observed["patient_id"], observed["month"]).reindex(columns=range(n_months), fill_value=0)
    every_patient = visits["patient_id"].drop_duplicates()
    return matrix.reindex(every_patient, fill_value=0).astype(bool)


def answers_by_month(visits: pd.DataFrame, groups: pd.Series | None = None, group_order=(),
                     n_months: int = 13) -> pd.DataFrame:
    """Number of patients with a pain score at each month, overall and per group (groups: patient_id -> label), one
    column per label in `group_order` (so the columns do not depend on which patient comes first)."""
    matrix = answered_matrix(visits, n_months)
    table = pd.DataFrame({"month": range(n_months), "Overall": matrix.sum(axis=0).to_numpy()})
    if groups is not None:
        labels = groups.reindex(matrix.index)
        for label in group_order:
            table[label] = matrix[labels == label].sum(axis=0).to_numpy()
    return table


PATTERN_KINDS = ("complete", "monotone dropout", "intermittent", "never answered")


def classify_pattern(answered: np.ndarray) -> str:
    """'complete', 'monotone dropout' (answered up to a month, never after), 'intermittent' or 'never answered'."""
    if answered.all():
        return "complete"
    if not answered.any():
        return "never answered"
    last = np.flatnonzero(answered).max()
    if answered[: last + 1].all():
        return "monotone dropout"
    return "intermittent"


def missing_data_patterns(visits: pd.DataFrame, n_months: int = 13, top: int = 15,
                          min_count: int = 1) -> pd.DataFrame:
    """The `top` most frequent answered/missed patterns with their patient counts; patterns of fewer than
    `min_count` patients, and those beyond `top`, are pooled into one 'other patterns' row (pattern 'x' * months)."""
    matrix = answered_matrix(visits, n_months).astype(int)
    keys = matrix.astype(str).agg("".join, axis=1)
    counts = keys.value_counts()
    counts = counts.sort_index(kind="stable").sort_values(ascending=False, kind="stable")
    kept = counts[counts >= min_count].head(top)
    rows = [{"pattern": key, "patients": int(n), "label": classify_pattern(np.array([c == "1" for c in key]))}
            for key, n in kept.items()]
    pooled = int(counts.sum() - kept.sum())
    if pooled:
        rows.append({"pattern": "x" * n_months, "patients": pooled, "label": "other patterns"})
    return pd.DataFrame(rows)


def pattern_summary(visits: pd.DataFrame, n_months: int = 13) -> pd.Series:
    """How many patients had each kind of pattern (PATTERN_KINDS)."""
    matrix = answered_matrix(visits, n_months).to_numpy()
    kinds = pd.Series([classify_pattern(row) for row in matrix])
    return kinds.value_counts().reindex(list(PATTERN_KINDS), fill_value=0)
