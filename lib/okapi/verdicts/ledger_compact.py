"""The reproduction ledger as the front page shows it: narrow enough for the text column, not-reproduced rows first.

Each Id links to the comparison table of the chapter that computes it, the verdict is a symbol and a word, and the
rule is a one-letter key explained once in the footnotes under the table (with its measured operating
characteristics over its rows), instead of a column repeating the rule's name and two columns of rates in every row.
The wide ledger (okapi.verdicts.ledger.ledger_table) stays for the chapters' own comparison sections; the
machine-readable ledger (reproduction-ledger.json) is unchanged.
"""

import pandas as pd

from okapi.verdicts import rules
from okapi.verdicts.ledger import (CALIBRATION, LedgerEntry, printed_p_statement, printed_targets, published_text,
                                   reproduced_text)
from okapi.verdicts.rules import NOT_ESTIMABLE, NOT_REPRODUCED, REPRODUCED

# Symbols that print in the book's fonts (FreeSerif in the PDF) and read without colour.
VERDICT_SYMBOLS = {NOT_REPRODUCED: "\u2717", NOT_ESTIMABLE: "\u2013", REPRODUCED: "\u2713"}
VERDICT_ORDER = (NOT_REPRODUCED, NOT_ESTIMABLE, REPRODUCED)  # what a reader must see first comes first
RULE_KEYS = {rules.ESTIMATE.key: "a", rules.P_CLAIM.key: "b", rules.EXACT.key: "c"}
CALIBRATION_MARK = "\u2020"  # after the quantity of a calibration check (a dagger)
# Each results chapter's title (the start of its heading) and the table that sets its rows beside the published
# figures (tests/test_front_page.py checks both against the chapter's stored page).
CHAPTERS = {
    "chapters/cohort": ("The cohort", "tbl-cohort-vs-published"),
    "chapters/pain": ("Pain over one year", "tbl-pain-vs-published"),
    "chapters/depression": ("Depression and pain", "tbl-depression-vs-published"),
    "chapters/trajectories": ("Pain trajectories", "tbl-traj-vs-published"),
    "chapters/mediation": ("Mediation", "tbl-mediation-vs-published"),
    "chapters/adverse_effects": ("Adverse effects", "tbl-adverse-effects-vs-published"),
}
COLUMNS = ["Id", "Verdict", "Quantity", "Published", "Reproduced (95% CI)", "Rule"]  # the verdict seen first on a phone


def verdict_mark(verdict: str) -> str:
    """'✓ reproduced', '✗ not reproduced', '– not estimable' (the symbol kept with the word it marks)."""
    return f"{VERDICT_SYMBOLS[verdict]}\u00a0{verdict}"


def id_link(row: LedgerEntry) -> str:
    """The row's id as a link to its chapter's comparison table."""
    return f"{{ref}}`{row.id} <{CHAPTERS[row.chapter][1]}>`"


def ordered(entries: list[LedgerEntry]) -> list[LedgerEntry]:
    """Not reproduced first, then not estimable, then reproduced; the book's order (chapter by chapter, each figure
    followed by its P claim) within each."""
    return sorted(entries, key=lambda row: VERDICT_ORDER.index(row.verdict))


def compact_table(entries: list[LedgerEntry]) -> pd.DataFrame:
    """The front page's ledger: Id (a link), verdict (symbol and word), quantity (a dagger on a calibration check),
    published and reproduced values as printed, and the rule's key (footnotes_markdown explains each key)."""
    targets = printed_targets()
    rows = []
    for row in ordered(entries):
        target = targets.loc[row.target_id]
        rows.append({
            "Id": id_link(row),
            "Quantity": (f"P value of {row.target_id}" if row.is_p_claim else target["quantity"])
                        + (f"\u00a0{CALIBRATION_MARK}" if row.kind == CALIBRATION else ""),
            "Published": (printed_p_statement(target["p_reported"]) if row.is_p_claim
                          else published_text(target, with_p=False)),
            "Reproduced (95% CI)": NOT_ESTIMABLE if row.verdict == NOT_ESTIMABLE else reproduced_text(row),
            "Verdict": verdict_mark(row.verdict),
            "Rule": RULE_KEYS[row.rule],
        })
    return pd.DataFrame(rows, columns=COLUMNS)


def _percent_range(values: list[float]) -> str:
    low, high = f"{100 * min(values):.0f}%", f"{100 * max(values):.0f}%"
    return low if low == high else f"{low} to {high}"


def rule_footnotes(entries: list[LedgerEntry]) -> list[str]:
    """One footnote per rule the rows use: its key, its statement, how many rows it judges and, when measured, the
    range over those rows of P(reproduced | truth = published) and of its power against the stated deviation."""
    notes = []
    for key, letter in RULE_KEYS.items():
        mine = [row for row in entries if row.rule == key]
        if not mine:
            continue
        rule = rules.RULES[key]
        note = (f"{letter}: {rule.name} ({len(mine)} {'row' if len(mine) == 1 else 'rows'}). A figure is reproduced "
                f"when {rule.text}.")
        true_rates = [row.p_reproduced_if_true for row in mine if row.p_reproduced_if_true is not None]
        powers = [row.power for row in mine if row.power is not None]
        if true_rates:
            note += (f" Measured: it says reproduced {_percent_range(true_rates)} of the time when the truth is the "
                     "published value" + (f", and its power against the stated deviation is {_percent_range(powers)}"
                                          if powers else "") + ".")
        notes.append(note)
    return notes


def footnotes_markdown(entries: list[LedgerEntry]) -> str:
    """The lines under the table: what the symbols, kinds and links mean, then the rules by key."""
    symbols = ", ".join(verdict_mark(verdict) for verdict in VERDICT_ORDER)
    lines = [f"Verdict: {symbols}; rows not reproduced come first. Id: a link to the chapter's comparison with the "
             f"published figures. {CALIBRATION_MARK} Calibration check: a figure the synthetic cohort was tuned to "
             "hit, which checks the generator, not the analysis; the other rows are reproductions, figures an "
             "analysis of the paper estimates.",
             *[f"{row.id} not estimable: {row.not_estimable}." for row in entries
               if row.verdict == NOT_ESTIMABLE and row.not_estimable],
             *rule_footnotes(entries)]
    return "\n\n".join(lines)
