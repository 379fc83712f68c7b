"""Disclosure control for "real" mode: small counts hidden, patient-level tables refused.

`suppress_small_counts` is primary suppression only: a hidden cell may still be recoverable from a printed total
or from the other cells of its row. Chapters that print totals next to suppressed cells must hide those too.
"""

from typing import Mapping, NamedTuple, Sequence

import numpy as np
import pandas as pd

MIN_CELL = 5
PATIENT_KEY = "patient_id"
REAL_MODE = "real"  # okapi.data.REAL; repeated here so that this module imports nothing of the package


def is_small_count(n, threshold: int = MIN_CELL) -> bool:
    """The one rule: a count of 1..threshold-1 patients (zero discloses nobody) must not be printed."""
    return 0 < n < threshold


def shown_count(n: int, mode: str) -> str:
    """A count as the book prints it: '<5' for 1-4 in real mode, the number otherwise."""
    return f"<{MIN_CELL}" if mode == REAL_MODE and is_small_count(n) else str(n)


class PatientLevelOutputError(RuntimeError):
    """A per-patient table was about to be displayed from a real extract."""


class SuppressedTable(NamedTuple):
    table: pd.DataFrame
    note: str
    n_suppressed: int


def suppress_small_counts(
    table: pd.DataFrame,
    count_columns: Sequence[str],
    threshold: int = MIN_CELL,
    percent_columns: Mapping[str, str] | None = None,
) -> SuppressedTable:
    """Replace counts 1..threshold-1 (and the percentages computed from them) by '<threshold'.

    percent_columns maps a percentage column to the count column it was computed from. Zero counts stay: an empty
    cell discloses nobody. Returns a copy; the affected columns become text.
    """
    percent_columns = dict(percent_columns or {})
    unknown = [c for c in [*count_columns, *percent_columns, *percent_columns.values()] if c not in table.columns]
    if unknown:
        raise KeyError(f"not columns of the table: {', '.join(unknown)}")
    if any(source not in count_columns for source in percent_columns.values()):
        raise ValueError("every percentage column must come from one of count_columns")
    marker = f"<{threshold}"
    result = table.copy()
    small = {column: np.array([pd.notna(n) and is_small_count(n, threshold) for n in table[column]], dtype=bool)
             for column in count_columns}
    n_suppressed = 0
    for column in count_columns:
        result[column] = result[column].astype(object)
        result.loc[small[column], column] = marker
        n_suppressed += int(small[column].sum())
    for percent, source in percent_columns.items():
        result[percent] = result[percent].astype(object)
        result.loc[small[source], percent] = marker
    note = (f"{n_suppressed} count{'s' if n_suppressed != 1 else ''} between 1 and {threshold - 1} "
            f"{'were' if n_suppressed != 1 else 'was'} replaced by '{marker}' (with the percentages computed "
            "from them) so that no small group of patients can be identified.")
    return SuppressedTable(result, note, n_suppressed)


def is_patient_level(df: pd.DataFrame, n_patients: int) -> bool:
    """A patient_id column or index level, or at least as many rows as patients (one row per patient or visit)."""
    names = [*map(str, df.columns), *(str(name) for name in df.index.names if name is not None)]
    return PATIENT_KEY in names or (n_patients > 0 and len(df) >= n_patients)


def guard_patient_level(df: pd.DataFrame, cohort) -> pd.DataFrame:
    """Return df unchanged, unless the cohort is real and df is patient-level: then raise PatientLevelOutputError."""
    if cohort.mode == "real" and is_patient_level(df, cohort.n_patients):
        raise PatientLevelOutputError(
            f"refusing to display a patient-level table ({len(df)} rows for {cohort.n_patients} patients"
            f"{', with a patient_id column' if PATIENT_KEY in map(str, df.columns) else ''}) from a real extract: "
            "show an aggregate (counts, means) instead"
        )
    return df


def min_shown_count(mode: str) -> int:
    """The smallest count a figure may draw: MIN_CELL in real mode, 1 (everything) on the synthetic cohort."""
    return MIN_CELL if mode == "real" else 1
