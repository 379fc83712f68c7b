"""The published figures the book reproduces, in machine-readable form (data/targets.csv).

One row per published number: composite results are split (R5 -> R5a..R5d, with `parent_id` = R5 and the split
named in `note`). Results without a number (R7 "in the normal range", R14 the conclusion) and design items (D*) have
no row. P values are kept as printed ("<.001", ".02"), as text.
"""

from pathlib import Path

import pandas as pd

from okapi import paths

COLUMNS = ("id", "parent_id", "quantity", "value", "ci_low", "ci_high", "p_reported", "unit", "source", "note")
_TEXT = ("id", "parent_id", "quantity", "p_reported", "unit", "source", "note")


def load_targets(path: Path | None = None) -> pd.DataFrame:
    path = paths.TARGETS if path is None else Path(path)
    table = pd.read_csv(path, dtype={name: "str" for name in _TEXT}, keep_default_na=False, na_values=[""])
    if tuple(table.columns) != COLUMNS:
        raise ValueError(f"{path}: columns {list(table.columns)}, expected {list(COLUMNS)}")
    duplicated = table["id"][table["id"].duplicated()].tolist()
    if duplicated:
        raise ValueError(f"{path}: duplicated ids {duplicated}")
    if table["value"].isna().any():
        raise ValueError(f"{path}: rows without a value: {table['id'][table['value'].isna()].tolist()}")
    return table


def target_value(target_id: str, targets: pd.DataFrame | None = None) -> float:
    targets = load_targets() if targets is None else targets
    return float(targets.set_index("id").loc[target_id, "value"])
