"""What the verdict-rules appendix and the methods chapter print: the rules in words, their measured operating
characteristics per ledger row (table and figure), the number of trajectory groups the simulated cohorts gave, and the
consistency checks of the published figures."""

import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
import seaborn as sns

from okapi.book.report import fmt_number
from okapi.book.theme import book_theme, colours, figure_size, finish
from okapi.simulation.operating import OperatingCharacteristics
from okapi.verdicts import consistency, rules
from okapi.verdicts.ledger import LedgerEntry, printed_p_statement, printed_targets


def _pct(value) -> str:
    return "-" if value is None or (isinstance(value, float) and np.isnan(value)) else f"{100 * value:.0f}%"


def rule_texts(prefix: str) -> dict[str, str]:
    """Each rule's statement (okapi.verdicts.rules), glued where the methods chapter states it, so it is written once."""
    return {f"{prefix}_rule_{key.replace('-', '_')}": rule.text for key, rule in rules.RULES.items()}


def operating_table(entries: list[LedgerEntry]) -> pd.DataFrame:
    """One row per ledger row: its kind, rule, measured P(reproduced | truth = published), power and against what."""
    quantities = printed_targets()["quantity"]
    return pd.DataFrame([{
        "Id": row.id, "Quantity": ("P value: " if row.is_p_claim else "") + quantities[row.target_id],
        "Kind": row.kind, "Rule": rules.RULES[row.rule].name,
        "P(reproduced) if true": _pct(row.p_reproduced_if_true), "Power": _pct(row.power),
        "Against": row.deviation} for row in entries])


def plot_operating_characteristics(entries: list[LedgerEntry]):
    """Dots: each row's P(reproduced | truth = published) and its power, rows in ledger order."""
    frame = pd.DataFrame([{"Id": row.id, "Measure": measure, "Rate": 100 * value}
                          for row in entries
                          for measure, value in (("P(reproduced) if the truth is the published value",
                                                  row.p_reproduced_if_true),
                                                 ("Power against the stated deviation", row.power))
                          if value is not None and np.isfinite(value)])
    order = [row.id for row in entries]
    with book_theme():
        fig, ax = plt.subplots(figsize=figure_size(0.16 * len(order) + 1.2))
        sns.scatterplot(data=frame, x="Rate", y="Id", hue="Measure", style="Measure", palette=colours(2),
                        markers=["o", "s"], s=28, ax=ax)
        ax.set_yticks(range(len(order)), order)
        ax.axvline(90, color="black", lw=0.8, ls=":")
        ax.set_xlim(-3, 103)
        ax.set_xlabel("% of simulated cohorts")
        ax.set_ylabel("")
        ax.legend(frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.6 / (0.16 * len(order) + 1.2)), ncol=1)
        p_true = frame[frame["Measure"].str.startswith("P(")]["Rate"]
        alt = (f"Dot plot, one row per ledger row ({len(order)}), of the share of simulated cohorts in which its rule "
               f"says reproduced when the truth is the published value (from {p_true.min():.0f}% to "
               f"{p_true.max():.0f}%, all right of a dotted line at 90%) and of its power against the stated deviation.")
        return finish(fig, alt)


def chosen_k_table(oc: OperatingCharacteristics) -> pd.DataFrame:
    counts = pd.Series(oc.chosen_k).value_counts().sort_index()
    return pd.DataFrame({"Groups chosen by BIC": [str(k) for k in counts.index],
                         "Simulated cohorts": [str(int(n)) for n in counts.values],
                         "Share": [f"{fmt_number(100 * n / counts.sum(), 1)}%" for n in counts.values]})


def glued_text(oc: OperatingCharacteristics, entries: list[LedgerEntry], prefix: str = "vr") -> dict[str, str]:
    measured = [row for row in entries if row.p_reproduced_if_true is not None
                and np.isfinite(row.p_reproduced_if_true)]
    lowest = min(measured, key=lambda row: row.p_reproduced_if_true)
    powers = [row.power for row in measured if row.power is not None and np.isfinite(row.power)]
    weak = [row.id for row in measured if row.power is not None and np.isfinite(row.power) and row.power < 0.5]
    checks = consistency.published_checks()
    texts = {
        f"{prefix}_n_replicates": str(oc.settings.n_replicates), f"{prefix}_n_patients": str(oc.settings.n_patients),
        f"{prefix}_n_rows": str(len(entries)), f"{prefix}_lowest_p_true": _pct(lowest.p_reproduced_if_true),
        f"{prefix}_lowest_p_true_id": lowest.id, f"{prefix}_p_claim_power": rules.P_CLAIM_POWER_TEXT,
        f"{prefix}_median_power": _pct(float(np.median(powers))) if powers else "-",
        f"{prefix}_n_weak": str(len(weak)), f"{prefix}_weak": ", ".join(weak) if weak else "none",
        f"{prefix}_k3_share": _pct(oc.statement_power["C5"]),
        f"{prefix}_threshold_estimate": fmt_number(rules.Z_975, 2),
        f"{prefix}_threshold_p": fmt_number(rules.P_CLAIM_THRESHOLD, 2),
        f"{prefix}_n_checks": str(len(checks)),
        f"{prefix}_n_inconsistent": str(sum(c.verdict == consistency.INCONSISTENT for c in checks)),
        f"{prefix}_n_uninformative": str(sum(c.verdict == consistency.UNINFORMATIVE for c in checks)),
    }
    targets = printed_targets()
    example = consistency.rounding_interval(targets.loc["C2a", "value"])
    texts.update({f"{prefix}_example_value": targets.loc["C2a", "value"],
                  f"{prefix}_example_low": f"{example.low:.2f}", f"{prefix}_example_high": f"{example.high:.2f}",
                  f"{prefix}_n_c2c": targets.loc["C2c", "value"], f"{prefix}_n_c3c": targets.loc["C3c", "value"],
                  f"{prefix}_r8_p": printed_p_statement(targets.loc["R8", "p_reported"])})
    for check in checks:
        if check.check == "n implied by r and P":
            target = "r9" if "0.01" in check.figures else "r10"
            texts[f"{prefix}_n_{target}"] = check.found.replace("-", "\u2212")
        if check.check == "one quantity?":
            texts[f"{prefix}_one_quantity"] = check.found
    return texts
