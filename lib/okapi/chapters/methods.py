"""The synthetic cohort as the methods chapter shows it: its parameters with provenance, and where sampling noise
alone puts the book's own estimate of each published figure in a cohort of the published size."""

import pandas as pd

from okapi.synthetic.calibration import AIMS, NOT_CALIBRATED
from okapi.synthetic.parameter_labels import parameter_label
from okapi.synthetic.parameters import generating_parameter_table
from okapi.book.report import fmt_number
from okapi.data.targets import load_targets

PROVENANCE_ORDER = ("published", "derived", "assumed")


def _plain(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return "" if value is None else str(value)


def parameter_table() -> pd.DataFrame:
    """Every generating parameter: value, unit, provenance with its source ids, and the derivation or the reason."""
    raw = generating_parameter_table()
    has_range = raw["plausible_low"].astype(str).str.len() > 0
    plausible = (raw["plausible_low"].map(_plain) + " to " + raw["plausible_high"].map(_plain)).where(has_range, "")
    basis = raw["derivation"].where(raw["derivation"].astype(str).str.len() > 0, raw["reason"])
    return pd.DataFrame({
        # The label a reader reads, then the code name that overrides it (simulate_cohort(overrides=...)).
        "Parameter": raw["name"].map(lambda name: f"{parameter_label(name)} (`{name}`)"),
        "Value": raw["value"].map(_plain),
        "Unit": raw["unit"],
        # The source ids in brackets after the provenance: one column less, so the table fits the text column.
        "Provenance (source)": [f"{kind} ({ids})" if str(ids) else kind
                                for kind, ids in zip(raw["provenance"], raw["sources"])],
        "Basis": basis,
        "Plausible range": plausible,
    })


def provenance_counts() -> dict[str, str]:
    counts = generating_parameter_table()["provenance"].value_counts()
    glued = {f"n_parameters_{kind}": str(int(counts.get(kind, 0))) for kind in PROVENANCE_ORDER}
    glued["n_parameters"] = str(int(counts.sum()))
    return glued


def sampling_noise_table(bands: pd.DataFrame, n: int) -> pd.DataFrame:
    """Per published figure: published value, the value the generator aims at, and the median and 2.5-97.5% range of
    the book's own estimate of it over synthetic cohorts of `n` patients (`bands`: okapi.simulation.operating.
    sampling_bands, the same cohorts that measure the verdict rules)."""
    quantities = load_targets().set_index("id")
    rows = []
    for target_id, row in bands.iterrows():
        published = float(quantities.loc[target_id, "value"])
        aim, note = AIMS.get(target_id, (published, ""))
        if target_id in NOT_CALIBRATED:
            note = NOT_CALIBRATED[target_id]
        # Counts and whole-number figures (N, patients answering) without decimals; everything else with two.
        digits = 0 if published.is_integer() and abs(published) >= 10 else 2
        rows.append({
            "Id": target_id,
            "Quantity": quantities.loc[target_id, "quantity"],
            "Published": fmt_number(published, digits),
            "Generator aims at": "not aimed at" if target_id in NOT_CALIBRATED else fmt_number(aim, digits),
            f"Median over cohorts of {n}": fmt_number(row["median"], digits),
            "2.5% to 97.5%": f"{fmt_number(row['low'], digits)} to {fmt_number(row['high'], digits)}",
            "Note": note,
        })
    return pd.DataFrame(rows)
