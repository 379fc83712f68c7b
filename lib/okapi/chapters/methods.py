"""The synthetic cohort as the methods chapter shows it: its parameters with provenance, and where sampling noise
alone puts each calibrated figure in a cohort of the published size."""

import pandas as pd

from okapi.synthetic.calibration import sampling_noise_at_n
from okapi.synthetic.parameters import generating_parameter_table
from okapi.book.report import fmt_number
from okapi.data.targets import load_targets

PROVENANCE_ORDER = ("published", "derived", "assumed")


def _plain(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return "" if value is None else str(value)


def parameter_table() -> pd.DataFrame:
    """Every generating parameter: value, unit, provenance, source ids, and the derivation or the reason."""
    raw = generating_parameter_table()
    has_range = raw["plausible_low"].astype(str).str.len() > 0
    plausible = (raw["plausible_low"].map(_plain) + " to " + raw["plausible_high"].map(_plain)).where(has_range, "")
    basis = raw["derivation"].where(raw["derivation"].astype(str).str.len() > 0, raw["reason"])
    return pd.DataFrame({
        "Parameter": raw["name"].map(lambda name: f"`{name}`"),
        "Value": raw["value"].map(_plain),
        "Unit": raw["unit"],
        "Provenance": raw["provenance"],
        "Source": raw["sources"],
        "Basis": basis,
        "Plausible range": plausible,
    })


def provenance_counts() -> dict[str, str]:
    counts = generating_parameter_table()["provenance"].value_counts()
    glued = {f"n_parameters_{kind}": str(int(counts.get(kind, 0))) for kind in PROVENANCE_ORDER}
    glued["n_parameters"] = str(int(counts.sum()))
    return glued


def sampling_noise_table(n: int, n_replicates: int, seed: int) -> pd.DataFrame:
    """Per calibrated figure: published value, the value the generator aims at, and the 2.5-97.5% range of the same
    figure over `n_replicates` synthetic cohorts of `n` patients."""
    noise = sampling_noise_at_n(n=n, n_replicates=n_replicates, seed=seed)
    quantities = load_targets().set_index("id")["quantity"]
    rows = []
    for _, row in noise.iterrows():
        # Counts and whole-number figures (N, patients answering) without decimals; everything else with two.
        digits = 0 if float(row["target"]).is_integer() and abs(row["target"]) >= 10 else 2
        rows.append({
            "Id": row["id"],
            "Quantity": quantities.get(row["id"], ""),
            "Published": fmt_number(row["target"], digits),
            "Generator aims at": "not calibrated" if pd.isna(row["aim"]) else fmt_number(row["aim"], digits),
            f"Median over cohorts of {n}": fmt_number(row["p50"], digits),
            "2.5% to 97.5%": f"{fmt_number(row['p2.5'], digits)} to {fmt_number(row['p97.5'], digits)}",
            "Note": row["aim_note"],
        })
    return pd.DataFrame(rows)
