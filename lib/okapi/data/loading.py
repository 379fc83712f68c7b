"""Load the cohort every chapter and command analyses: `load_cohort()`.

The folder is `paths.cohort_dir()` unless given: OKAPI_DATA_DIR if set, else the committed synthetic cohort in
`data/`. Mode is "synthetic" only when the folder *is* the committed `data/` (after resolving links); any other
folder, even a copy of `data/`, is treated as "real" patient data. The rule is deliberately conservative: the
privacy guards (okapi.data.privacy) switch on in "real" mode, and a wrongly "real" run only hides tables.

The committed cohort must match data/SHA256SUMS (okapi.data.manifest); every folder is validated against the codebook
(okapi.data.validation) and the frames are built from exactly the bytes that were validated and hashed. Nothing is
written.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from okapi import paths
from okapi.data.codebook import Codebook, load_codebook
from okapi.data.privacy import OUTPUT_GUARD
from okapi.data.manifest import ManifestError, combined_digest, verify_manifest
from okapi.data.validation import ValidationReport, format_report, inspect_extract
from okapi.data.validation_rules import ParsedFile

SYNTHETIC, REAL = "synthetic", "real"


class ExtractInvalidError(ValueError):
    """The extract breaks codebook rules; the message lists them (files, columns, lines, rules: no values)."""

    def __init__(self, report: ValidationReport):
        self.report = report
        super().__init__("the extract does not pass `okapi validate`:\n" + format_report(report))


@dataclass(eq=False)
class Cohort:
    patients: pd.DataFrame
    visits: pd.DataFrame
    ketamine: pd.DataFrame
    folder: Path
    mode: str
    data_checksum: str

    @property
    def n_patients(self) -> int:
        return len(self.patients)


def _column(values: list, column_type: str, required: bool) -> pd.Series | np.ndarray:
    """One codebook column as a typed array: ints (nullable Int64 where missing is allowed), floats, dates, strings."""
    if column_type in ("integer", "binary"):
        numbers = [None if value is None else int(value) for value in values]
        return np.array(numbers, dtype="int64") if required else pd.array(numbers, dtype="Int64")
    if column_type == "number":
        return np.array([np.nan if value is None else float(value) for value in values], dtype="float64")
    if column_type == "date":
        return pd.to_datetime(pd.Series(values, dtype="object")).astype("datetime64[ns]").to_numpy()
    return pd.array(values, dtype="str")


def _frame(parsed: ParsedFile, codebook: Codebook) -> pd.DataFrame:
    columns = {
        rule.name: _column(parsed.typed[rule.name], rule.type, rule.required) for rule in codebook.files[parsed.name]
    }
    return pd.DataFrame(columns)


def is_committed_cohort(folder: Path) -> bool:
    return Path(folder).resolve() == paths.DATA_DIR.resolve()


def load_cohort(folder=None) -> Cohort:
    """Read, check and type the three cohort files. Raises ManifestError or ExtractInvalidError, never guesses."""
    folder = Path(folder).expanduser() if folder is not None else paths.cohort_dir()
    if folder.is_file():
        raise NotADirectoryError(f"{folder}: load_cohort needs the folder holding {', '.join(paths.COHORT_FILES)}")
    mode = SYNTHETIC if is_committed_cohort(folder) else REAL
    if mode == SYNTHETIC:
        recorded = verify_manifest(folder)
        unlisted = [name for name in paths.COHORT_FILES if name not in recorded]
        if unlisted:
            raise ManifestError(f"{folder / 'SHA256SUMS'} does not list {', '.join(unlisted)}")
    codebook = load_codebook()
    checked = inspect_extract(folder, codebook)
    if not checked.report.valid:
        raise ExtractInvalidError(checked.report)
    digests = {name: checked.files[name].sha256 for name in paths.COHORT_FILES}
    if mode == SYNTHETIC:
        changed = [name for name in paths.COHORT_FILES if digests[name] != recorded[name]]
        if changed:
            raise ManifestError(f"{', '.join(changed)} changed while being loaded; load again")
    frames = {name: _frame(checked.files[name], codebook) for name in paths.COHORT_FILES}
    if mode == REAL:
        OUTPUT_GUARD.arm(frames["patients.csv"]["patient_id"])  # from here on every output of the book is checked
    return Cohort(
        patients=frames["patients.csv"],
        visits=frames["visits.csv"],
        ketamine=frames["ketamine.csv"],
        folder=folder.resolve(),
        mode=mode,
        data_checksum=combined_digest(digests),
    )
