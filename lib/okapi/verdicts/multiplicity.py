"""Multiplicity: the published P values in families of the analysis plan, with Holm's correction within each family.

The paper tested several hypotheses without a stated plan for multiplicity. The book states one (okapi.plan.
MULTIPLICITY_FAMILIES: primary, secondary, exploratory) and asks which P values would survive Holm's step-down
correction within their family, for the published P values (each at the largest value its print allows: "<.001" is
taken as .001, ".02" as .025, so the published side is never flattered) and for the reproduced ones.
"""

import numpy as np
import pandas as pd

from okapi.plan import MULTIPLICITY_ALPHA, MULTIPLICITY_FAMILIES
from okapi.verdicts.consistency import p_interval


def holm(p_values) -> np.ndarray:
    """Holm-adjusted P values (step-down, monotone, capped at 1), in the order given."""
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p, kind="stable")
    m = p.size
    adjusted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adjusted
    return out


def family_table(printed: pd.DataFrame, reproduced_p: dict[str, float]) -> pd.DataFrame:
    """One row per published P value in a family: its family, id, quantity, printed P, Holm-adjusted (from the
    largest printed value), whether it survives at MULTIPLICITY_ALPHA, and the same for the reproduced P.
    `printed`: okapi.verdicts.ledger.printed_targets(); `reproduced_p`: target id -> reproduced P."""
    rows = []
    for family, ids in MULTIPLICITY_FAMILIES.items():
        published = np.array([p_interval(printed.loc[t, "p_reported"]).high for t in ids])
        ours = np.array([reproduced_p.get(t, np.nan) for t in ids])
        adjusted_published = holm(published)
        adjusted_ours = holm(ours) if np.isfinite(ours).all() else np.full(len(ids), np.nan)
        for k, target_id in enumerate(ids):
            rows.append({"family": family, "id": target_id, "quantity": printed.loc[target_id, "quantity"],
                         "n_tests": len(ids), "published_p": printed.loc[target_id, "p_reported"],
                         "published_holm": adjusted_published[k],
                         "published_survives": bool(adjusted_published[k] < MULTIPLICITY_ALPHA),
                         "reproduced_p": ours[k], "reproduced_holm": adjusted_ours[k],
                         "reproduced_survives": bool(adjusted_ours[k] < MULTIPLICITY_ALPHA)})
    return pd.DataFrame(rows)


def reproduced_p_values(entries) -> dict[str, float]:
    """target id -> the reproduction's own P, from the ledger's rows (okapi.verdicts.ledger.LedgerEntry)."""
    return {e.id: float(e.p_value) for e in entries if not e.is_p_claim and e.p_value is not None}


def display_table(table: pd.DataFrame) -> pd.DataFrame:
    from okapi.book.report import fmt_p

    def after_holm(flag: bool, adjusted: float) -> str:
        # The adjusted P and whether it survives, in one cell: two columns each would not fit the text column.
        if not np.isfinite(adjusted):
            return "\u2013"
        return f"{fmt_p(adjusted)}, " + ("\u2713 survives" if flag else "\u2717 does not")

    return pd.DataFrame({
        "Family": [f"{f} ({n} tests)" for f, n in zip(table["family"], table["n_tests"])],
        "Id": table["id"], "Quantity": table["quantity"], "Published P": table["published_p"],
        "Published, Holm-adjusted": [after_holm(f, v) for f, v in zip(table["published_survives"],
                                                                      table["published_holm"])],
        "Reproduced P": [fmt_p(v) if np.isfinite(v) else "\u2013" for v in table["reproduced_p"]],
        "Reproduced, Holm-adjusted": [after_holm(f, v) for f, v in zip(table["reproduced_survives"],
                                                                       table["reproduced_holm"])]})


def glued_text(table: pd.DataFrame) -> dict[str, str]:
    def ids(frame) -> str:
        return ", ".join(frame["id"]) or "none"

    return {"mult_n_tests": str(len(table)), "mult_n_families": str(table["family"].nunique()),
            "mult_alpha": f"{MULTIPLICITY_ALPHA:g}".lstrip("0"),
            "mult_published_survive": ids(table[table["published_survives"]]),
            "mult_published_fall": ids(table[~table["published_survives"]]),
            "mult_reproduced_survive": ids(table[table["reproduced_survives"]])}
