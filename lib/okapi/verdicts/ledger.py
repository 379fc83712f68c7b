"""The reproduction ledger: each published figure beside its reproduced value, with a verdict and the rule behind it.

Every analysis module returns its own `LedgerEntry` rows; the front page, the chapters and `okapi analyze` show or
write the same rows, so the verdict a reader sees and the JSON a script reads cannot disagree.
"""

from dataclasses import asdict, dataclass

import pandas as pd

from functools import lru_cache

from okapi import paths
from okapi.book.report import fmt_number, fmt_p
from okapi.data.targets import load_targets

REPRODUCED, NOT_REPRODUCED, NOT_COMPARABLE = "reproduced", "not reproduced", "not comparable"


@dataclass(frozen=True)
class LedgerEntry:
    id: str  # a target id of data/targets.csv (R8, C2a, ...)
    estimate: float
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    verdict: str
    rule: str  # the rule in words, e.g. "published value inside the reproduced 95% CI"
    chapter: str  # docname of the chapter that computes it, e.g. "chapters/pain"
    note: str = ""
    digits: int = 2  # decimals when the book prints the estimate and its CI

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class PublishedStatement:
    """A published finding without a number (R7, R14, C6): what the paper said, what this book finds, a verdict."""
    id: str
    published: str  # the paper's statement, in this book's words
    finding: str
    verdict: str
    chapter: str

    def as_dict(self) -> dict:
        return asdict(self)


def statements_table(statements: list[PublishedStatement]) -> pd.DataFrame:
    return pd.DataFrame([{"Id": s.id, "Published statement": s.published, "This book finds": s.finding,
                          "Verdict": s.verdict, "Chapter": f"{{doc}}`{s.chapter}`"} for s in statements])


def verdict_inside_ci(published: float, ci_low: float, ci_high: float) -> tuple[str, str]:
    inside = ci_low <= published <= ci_high
    return (REPRODUCED if inside else NOT_REPRODUCED), "published value inside the reproduced 95% CI"


def verdict_equal(published: float, estimate: float) -> tuple[str, str]:
    return (REPRODUCED if estimate == published else NOT_REPRODUCED), "equal to the published value"


def entry(target_id: str, estimate: float, chapter: str, verdict_and_rule: tuple[str, str],
          ci: tuple[float, float] | None = None, p_value: float | None = None, note: str = "",
          digits: int = 2) -> LedgerEntry:
    verdict, rule = verdict_and_rule
    low, high = (None, None) if ci is None else (float(ci[0]), float(ci[1]))
    return LedgerEntry(target_id, float(estimate), low, high, None if p_value is None else float(p_value), verdict,
                       rule, chapter, note, digits)


def verdict_inside_published_ci(target_id: str, estimate: float) -> tuple[str, str]:
    """For figures published with a 95% CI: is the reproduced estimate inside it?"""
    row = load_targets().set_index("id").loc[target_id]
    inside = row["ci_low"] <= estimate <= row["ci_high"]
    return (REPRODUCED if inside else NOT_REPRODUCED), "reproduced estimate inside the published 95% CI"


@lru_cache(maxsize=1)
def printed_targets() -> pd.DataFrame:
    """data/targets.csv as text, so each published figure keeps the digits the paper printed."""
    return pd.read_csv(paths.TARGETS, dtype=str, keep_default_na=False).set_index("id")


def published_figure(target_id: str) -> str:
    """A published figure as the paper printed it (value, CI, P)."""
    return published_text(printed_targets().loc[target_id])


def published_value(target_id: str) -> str:
    """The published value alone, as printed."""
    return printed_targets().loc[target_id, "value"].replace("-", "\u2212")


def printed_p_statement(p_reported: str) -> str:
    """A published P value as prose: 'P = .02' or 'P < .001'."""
    return f"P {p_reported[0]} {p_reported[1:]}" if p_reported[0] in "<>" else f"P = {p_reported}"


def published_text(target: pd.Series) -> str:
    """A published figure as the paper printed it: value, (CI), P."""
    text = target["value"]
    if target["ci_low"]:
        text += f" ({target['ci_low']} to {target['ci_high']})"
    if target["p_reported"]:
        text += "; " + printed_p_statement(target["p_reported"])
    return text.replace("-", "\u2212")


def ledger_table(entries: list[LedgerEntry]) -> pd.DataFrame:
    """The ledger as the book prints it: id, quantity, published (with CI and P as printed), reproduced, verdict."""
    targets = printed_targets()
    rows = []
    for item in entries:
        target = targets.loc[item.id]
        published = published_text(target)
        digits = item.digits
        reproduced = fmt_number(item.estimate, digits)
        if item.ci_low is not None:
            reproduced += f" ({fmt_number(item.ci_low, digits)} to {fmt_number(item.ci_high, digits)})"
        rows.append({"Id": item.id, "Quantity": target["quantity"], "Published": published,
                     "Reproduced (95% CI)": reproduced, "Verdict": item.verdict, "Rule": item.rule,
                     "Chapter": f"{{doc}}`{item.chapter}`"})
    return pd.DataFrame(rows)


def chapter_comparison_table(entries: list[LedgerEntry]) -> pd.DataFrame:
    """A chapter's own ledger rows for its comparison section: no Chapter column, and the reproduced P beside the
    published one."""
    table = ledger_table(entries).drop(columns=["Chapter"])
    table.insert(table.columns.get_loc("Verdict"), "P (reproduced)",
                 ["" if item.p_value is None else fmt_p(item.p_value) for item in entries])
    return table


def verdict_summary(entries: list[LedgerEntry], prefix: str) -> dict[str, str]:
    """'<prefix>_n_reproduced' ('15 of 16') and '<prefix>_misses' (ids not reproduced, or 'none') for the prose."""
    misses = [item.id for item in entries if item.verdict != REPRODUCED]
    return {f"{prefix}_n_reproduced": f"{len(entries) - len(misses)} of {len(entries)}",
            f"{prefix}_misses": ", ".join(misses) if misses else "none"}


def verdict_counts(entries: list[LedgerEntry]) -> dict[str, int]:
    return {verdict: sum(item.verdict == verdict for item in entries)
            for verdict in (REPRODUCED, NOT_REPRODUCED, NOT_COMPARABLE)}
