"""Disclosure control for "real" mode: small counts hidden, patient-level tables refused.

`suppress_small_counts` is primary suppression only: a hidden cell may still be recoverable from a printed total
or from the other cells of its row. Chapters that print totals next to suppressed cells must hide those too.
"""

import re
from typing import Mapping, NamedTuple, Sequence

import numpy as np
import pandas as pd

MIN_CELL = 5
PATIENT_KEY = "patient_id"
REAL_MODE = "real"  # okapi.data.loading.REAL; repeated here so that this module imports nothing of the package


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


def suppression_masks(counts: Sequence[int], linked_sets: Sequence[Sequence[int]],
                      threshold: int = MIN_CELL) -> tuple[np.ndarray, np.ndarray]:
    """Primary and secondary suppression of cells whose counts add up to printed or known totals.

    Primary: every count from 1 to threshold-1. Secondary: each linked set (cells that sum to a total the reader
    has, e.g. the patterns of one group, or a pattern's two groups and its 'all' row) with exactly one hidden cell
    gets its smallest visible non-zero cell hidden too, repeated until no set has a lone hidden cell; otherwise the
    hidden count is the total minus the others. Returns (primary, secondary) boolean masks over `counts`.
    """
    counts = np.asarray(counts)
    primary = np.array([is_small_count(int(n), threshold) for n in counts], dtype=bool)
    hidden = primary.copy()
    changed = True
    while changed:
        changed = False
        for cells in linked_sets:
            cells = list(cells)
            visible = [i for i in cells if not hidden[i] and counts[i] > 0]
            if hidden[cells].sum() == 1 and visible:
                hidden[min(visible, key=lambda i: (counts[i], i))] = True
                changed = True
    return primary, hidden & ~primary


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


# --- The one output guard ---------------------------------------------------------------------------------------------
# Every output of the book passes here (okapi.book.report: glued texts, tables, figures' texts, published JSON). It is
# armed when a real extract is loaded (okapi.data.loading.load_cohort) and stays armed for the process, so an output
# computed from real data can never skip it. Armed, it refuses (SmallCountOutputError, PatientLevelOutputError):
# - any output holding a patient identifier of the loaded extract (a patient-level row, a listing);
# - a table with a patient_id column, or with as many rows as there are patients;
# - a count from 1 to MIN_CELL - 1: a cell of a count column (headed n, N, patients, count, answers, ...), any "n (x%)"
#   cell, a glued text whose name says it is a count (n_..., ..._n_..., ..._count), or "n = 3" in a figure.
# It checks the text the reader would see, after formatting, so a suppressed count ("<5") passes.

class SmallCountOutputError(RuntimeError):
    """A count of 1 to MIN_CELL - 1 patients was about to be shown from a real extract."""


_COUNT_HEADER = re.compile(r"^(n|N|patients?|count|answers?|responders?|events?|cases?)\b|\bn \(%\)|\(n\)$|^Patients",
                           re.IGNORECASE)
# "n (x%)" is a count with its share, unless the number names a class or a cut-off ("Class 1 (19.0%)", "> 7 (52%)").
_COUNT_PERCENT = re.compile(r"(?<![\d.,<])(?<![<>\u2264\u2265=] )(?<!Class )(?<!Group )(?<!K = )(\d+) "
                            r"\((\d+(?:\.\d+)?)%\)")
_BARE_COUNT = re.compile(r"^\s*(\d+)\s*$")
_N_EQUALS = re.compile(r"\bn = (\d+)\b")
_COUNT_NAME = re.compile(r"(^|_)n(_|$)|_count$|^count_")


class OutputGuard:
    def __init__(self):
        self.armed = False
        self.patient_ids: frozenset[str] = frozenset()
        self.n_patients = 0

    def arm(self, patient_ids) -> None:
        """Switch the guard on for this process. Identifiers that a number in an output could equal by chance
        (short, or all digits under 6 long) are not searched for; the patient-level row count still is."""
        self.armed = True
        ids = [str(i) for i in patient_ids]
        self.n_patients = max(self.n_patients, len(ids))
        searchable = {i for i in ids if (re.search(r"[A-Za-z]", i) and len(i) >= 3) or (i.isdigit() and len(i) >= 6)}
        self.patient_ids = self.patient_ids | frozenset(searchable)

    def disarm(self) -> None:
        """Tests only: a real run never disarms."""
        self.armed, self.patient_ids, self.n_patients = False, frozenset(), 0

    def _refuse_small(self, count: int, where: str) -> None:
        if is_small_count(count):
            raise SmallCountOutputError(f"{where}: a count of {count} (below {MIN_CELL}) would be shown from a real "
                                        f"extract; suppress it (privacy.shown_count, suppress_small_counts)")

    def _refuse_ids(self, text: str, where: str) -> None:
        words = set(re.findall(r"[\w-]+", text))
        found = words & self.patient_ids
        if found:
            raise PatientLevelOutputError(f"{where}: a patient identifier would be shown from a real extract "
                                          f"({len(found)} identifier(s)); show an aggregate instead")

    def _check_free_text(self, text: str, where: str) -> None:
        self._refuse_ids(text, where)
        for match in _COUNT_PERCENT.finditer(text):
            self._refuse_small(int(match.group(1)), where)
        for match in _N_EQUALS.finditer(text):
            self._refuse_small(int(match.group(1)), where)

    def check_text(self, name: str, text: str, name_says_count: bool = True) -> None:
        """A glued text (`name` is its glue name; with name_says_count, a name such as n_... marks a count of
        patients, so a bare small integer is refused)."""
        if not self.armed:
            return
        where = f"glued text {name!r}"
        self._check_free_text(str(text), where)
        bare = _BARE_COUNT.match(str(text))
        if bare and name_says_count and _COUNT_NAME.search(name):
            self._refuse_small(int(bare.group(1)), where)

    def check_table(self, table: pd.DataFrame, label: str) -> None:
        """A table about to be shown (`label` names it in the message)."""
        if not self.armed:
            return
        where = f"table {label!r}"
        if PATIENT_KEY in map(str, table.columns) or (self.n_patients and len(table) >= self.n_patients):
            raise PatientLevelOutputError(f"{where}: a patient-level table ({len(table)} rows) would be shown from a "
                                          "real extract; show an aggregate instead")
        for column in table.columns:
            counts = bool(_COUNT_HEADER.search(str(column)))
            for row, cell in enumerate(table[column].astype(str)):
                cell_where = f"{where}, column {column!r}, row {row + 1}"
                self._check_free_text(cell, cell_where)
                bare = _BARE_COUNT.match(cell)
                if counts and bare:
                    self._refuse_small(int(bare.group(1)), cell_where)

    def check_figure_texts(self, texts: list[str], name: str) -> None:
        """The visible texts of a figure (ticks, labels, annotations)."""
        if not self.armed:
            return
        for text in texts:
            self._check_free_text(text, f"figure {name!r}")


OUTPUT_GUARD = OutputGuard()
