"""The reproduction ledger: each published figure beside its reproduced value, with the verdict of a stated rule.

Every analysis module returns its own `LedgerEntry` rows (built with `entry`, which applies the rule of
okapi.verdicts.rules); the front page, the chapters and `okapi analyze` show or write the same rows, so the verdict a
reader sees and the JSON a script reads cannot disagree.

Three kinds of row, counted apart:
- calibration checks: descriptive figures the synthetic generator was tuned to hit (okapi.synthetic.calibration).
  Their agreement checks the generator, not the analysis and not the paper;
- reproductions: figures an analysis of the paper estimates (mixed models, mediation, trajectories) run on the cohort.
  On the synthetic cohort they check that the book's analysis recovers, at n = 329, what the generator was built
  around: the analysis code and its precision, not the paper's data;
- not estimable: the reproduced quantity has no finite estimate or interval (a ratio whose denominator's CI holds 0).
A published P value is a claim of its own: it gets its own row ("R8-P"), judged by the P-value rule.
"""

import math
from dataclasses import asdict, dataclass, replace
from functools import lru_cache

import pandas as pd

from okapi import paths
from okapi.book.report import fmt_number, fmt_p
from okapi.data.targets import load_targets
from okapi.verdicts import rules
from okapi.verdicts.rules import NOT_ESTIMABLE, NOT_REPRODUCED, REPRODUCED

NOT_COMPARABLE = "not comparable"  # published statements without a number that no analysis here can judge
CALIBRATION, REPRODUCTION = "calibration check", "reproduction"
# Figures the synthetic cohort's design decides (okapi.synthetic.calibration): descriptive figures it was tuned to hit
# as the very same statistic, model figures its solver aims at (R4, R8, R10), R11 (one quantity with R8 under the
# primary reading, aimed at with it) and the class shares C5 (the generator's own latent shares). On the synthetic
# cohort their agreement checks the generator, never the analysis; a test keeps this set and the generator's aims
# in step.
CALIBRATION_TARGETS = frozenset({"R1", "R2a", "R2b", "R3a", "R3b", "R3c", "R3d", "R4", "R5a", "R5b", "R5c", "R5d",
                                 "R6a", "R6b", "R6c", "R6d", "R8", "R10", "R11", "C1", "C2a", "C2b", "C2c", "C3a",
                                 "C3b", "C3c", "C4", "C5a", "C5b", "C5c", "C7a", "C7b"})
EXACT_TARGETS = frozenset({"R1"})  # design constants: the number of patients analysed
P_SUFFIX = "-P"


@dataclass(frozen=True)
class LedgerEntry:
    id: str  # a target id of data/targets.csv (R8, C2a, ...), or its P claim (R8-P)
    estimate: float  # the reproduced value (for a P claim: the reproduced P)
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    verdict: str  # REPRODUCED, NOT_REPRODUCED or NOT_ESTIMABLE
    rule: str  # a key of okapi.verdicts.rules.RULES
    chapter: str  # docname of the chapter that computes it, e.g. "chapters/pain"
    note: str = ""
    digits: int = 2  # decimals when the book prints the estimate and its CI
    kind: str = REPRODUCTION
    se: float | None = None  # the reproduction's SE used by the rule
    published_se: float | None = None  # the published figure's SE (from its CI or its rounding)
    statistic: float | None = None  # the rule's statistic: standardised difference, or distance of the P scores
    not_estimable: str = ""  # why, when verdict is NOT_ESTIMABLE
    # Operating characteristics of the rule for this row (okapi.simulation.operating), when measured:
    p_reproduced_if_true: float | None = None
    power: float | None = None
    deviation: str = ""  # the deviation the power is against, in words

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def target_id(self) -> str:
        return self.id.removesuffix(P_SUFFIX)

    @property
    def is_p_claim(self) -> bool:
        return self.id.endswith(P_SUFFIX)


@dataclass(frozen=True)
class PublishedStatement:
    """A published finding without a number (R7, R14, C5's number of groups, C6): what the paper said, what this book
    finds, and a verdict in the sensitivity vocabulary where one applies."""
    id: str
    published: str  # the paper's statement, in this book's words
    finding: str
    verdict: str
    chapter: str

    def as_dict(self) -> dict:
        return asdict(self)


@lru_cache(maxsize=1)
def printed_targets() -> pd.DataFrame:
    """data/targets.csv as text, so each published figure keeps the digits the paper printed."""
    return pd.read_csv(paths.TARGETS, dtype=str, keep_default_na=False).set_index("id")


def kind_of(target_id: str) -> str:
    return CALIBRATION if target_id in CALIBRATION_TARGETS else REPRODUCTION


def entry(target_id: str, estimate: float, chapter: str, ci: tuple[float, float] | None = None,
          se: float | None = None, p_value: float | None = None, note: str = "", digits: int = 2,
          not_estimable: str = "") -> LedgerEntry:
    """A ledger row judged by its rule: exact for design constants, else the estimate rule with both SEs. The
    reproduction's SE is `se`, or the half-width of its 95% CI over 1.96. `not_estimable` (a reason) overrides."""
    target = printed_targets().loc[target_id]
    low, high = (None, None) if ci is None else (float(ci[0]), float(ci[1]))
    published = float(target["value"])
    se_pub, _ = rules.published_se(target["value"], target["ci_low"], target["ci_high"])
    if se is None and low is not None:
        se = (high - low) / (2 * rules.Z_975)
    estimate = float(estimate)
    if not_estimable:
        verdict, rule, statistic = NOT_ESTIMABLE, rules.ESTIMATE.key, None
    elif target_id in EXACT_TARGETS:
        verdict, rule, statistic = rules.judge_exact(published, estimate), rules.EXACT.key, None
    else:
        if se is None:
            raise ValueError(f"{target_id}: the estimate rule needs the reproduction's SE or 95% CI")
        verdict = rules.judge_estimate(published, se_pub, estimate, se)
        statistic = rules.estimate_z(published, se_pub, estimate, se) if math.isfinite(estimate) else None
        rule = rules.ESTIMATE.key
    return LedgerEntry(target_id, estimate, low, high, None if p_value is None else float(p_value), verdict, rule,
                       chapter, note, digits, kind_of(target_id), None if se is None else float(se), se_pub,
                       statistic, not_estimable)


def p_claim(row: LedgerEntry) -> LedgerEntry | None:
    """The published P of a row's target as a claim of its own, judged by the P-value rule; None when the paper
    printed no P or the analysis gives none."""
    target = printed_targets().loc[row.id]
    if not target["p_reported"] or row.p_value is None:
        return None
    published_sign = math.copysign(1.0, float(target["value"])) if float(target["value"]) else 1.0
    reproduced_sign = math.copysign(1.0, row.estimate) if row.estimate else 1.0
    if row.verdict == NOT_ESTIMABLE or not math.isfinite(row.p_value):
        verdict, distance = NOT_ESTIMABLE, None
    else:
        verdict = rules.judge_p_claim(target["p_reported"], published_sign, row.p_value, reproduced_sign)
        distance = rules.p_claim_distance(target["p_reported"], published_sign, row.p_value, reproduced_sign)
    return LedgerEntry(row.id + P_SUFFIX, row.p_value, None, None, row.p_value, verdict, rules.P_CLAIM.key,
                       row.chapter, row.note, 3, row.kind, statistic=distance)


def with_p_claims(entries: list[LedgerEntry]) -> list[LedgerEntry]:
    """Each row followed by its P claim, where the paper printed a P."""
    out = []
    for row in entries:
        out.append(row)
        claim = None if row.is_p_claim else p_claim(row)
        if claim is not None:
            out.append(claim)
    return out


def with_operating_characteristics(entries: list[LedgerEntry], table: pd.DataFrame) -> list[LedgerEntry]:
    """Attach each row's measured P(reproduced | truth = published) and power (a table indexed by row id)."""
    out = []
    for row in entries:
        if row.id in table.index:
            found = table.loc[row.id]
            row = replace(row, p_reproduced_if_true=_float_or_none(found["p_reproduced_if_true"]),
                          power=_float_or_none(found["power"]), deviation=str(found["deviation"]))
        out.append(row)
    return out


def _float_or_none(value) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


# --- how rows are shown -----------------------------------------------------------------------------------------------
def published_value(target_id: str) -> str:
    """The published value alone, as printed."""
    return printed_targets().loc[target_id, "value"].replace("-", "\u2212")


def printed_p_statement(p_reported: str) -> str:
    """A published P value as prose: 'P = .02' or 'P < .001'."""
    return f"P {p_reported[0]} {p_reported[1:]}" if p_reported[0] in "<>" else f"P = {p_reported}"


def published_text(target: pd.Series, with_p: bool = True) -> str:
    """A published figure as the paper printed it: value, (CI), P."""
    text = target["value"]
    if target["ci_low"]:
        text += f" ({target['ci_low']} to {target['ci_high']})"
    if with_p and target["p_reported"]:
        text += "; " + printed_p_statement(target["p_reported"])
    return text.replace("-", "\u2212")


def published_figure(target_id: str) -> str:
    """A published figure as the paper printed it (value, CI, P)."""
    return published_text(printed_targets().loc[target_id])


def reproduced_text(row: LedgerEntry) -> str:
    if row.verdict == NOT_ESTIMABLE and row.not_estimable:
        return f"not estimable: {row.not_estimable}"
    if row.is_p_claim:
        return "P " + fmt_p(row.estimate) if fmt_p(row.estimate)[0] in "<>" else "P = " + fmt_p(row.estimate)
    text = fmt_number(row.estimate, row.digits)
    if row.ci_low is not None:
        text += f" ({fmt_number(row.ci_low, row.digits)} to {fmt_number(row.ci_high, row.digits)})"
    return text


def _percent(value: float | None) -> str:
    return "" if value is None else f"{100 * value:.0f}%"


def ledger_table(entries: list[LedgerEntry], with_chapter: bool = True) -> pd.DataFrame:
    """The ledger as the book prints it: id, quantity, published (as printed), reproduced, verdict, the rule, the
    kind of row and, when measured, the rule's operating characteristics."""
    targets = printed_targets()
    rows = []
    for row in entries:
        target = targets.loc[row.target_id]
        published = (printed_p_statement(target["p_reported"]) if row.is_p_claim
                     else published_text(target, with_p=False))
        quantity = f"P value: {target['quantity']}" if row.is_p_claim else target["quantity"]
        shown = {"Id": row.id, "Quantity": quantity, "Kind": row.kind, "Published": published,
                 "Reproduced": reproduced_text(row), "Verdict": row.verdict, "Rule": rules.RULES[row.rule].name,
                 "P(reproduced) if true": _percent(row.p_reproduced_if_true), "Power": _percent(row.power)}
        if with_chapter:
            shown["Chapter"] = f"{{doc}}`{row.chapter}`"
        rows.append(shown)
    table = pd.DataFrame(rows)
    if all(row.p_reproduced_if_true is None for row in entries):  # a chapter's own rows: not measured there
        table = table.drop(columns=["P(reproduced) if true", "Power"])
    return table


def chapter_comparison_table(entries: list[LedgerEntry]) -> pd.DataFrame:
    """A chapter's own ledger rows (with their P claims) for its comparison section."""
    return ledger_table(with_p_claims(entries), with_chapter=False)


def statements_table(statements: list[PublishedStatement]) -> pd.DataFrame:
    return pd.DataFrame([{"Id": s.id, "Published statement": s.published, "This book finds": s.finding,
                          "Verdict": s.verdict, "Chapter": f"{{doc}}`{s.chapter}`"} for s in statements])


def verdict_summary(entries: list[LedgerEntry], prefix: str) -> dict[str, str]:
    """'<prefix>_n_reproduced' ('15 of 16', P claims included) and '<prefix>_misses' (ids not reproduced, or 'none')
    for the prose."""
    rows = with_p_claims(entries)
    misses = [row.id for row in rows if row.verdict != REPRODUCED]
    return {f"{prefix}_n_reproduced": f"{len(rows) - len(misses)} of {len(rows)}",
            f"{prefix}_misses": ", ".join(misses) if misses else "none"}


def verdict_counts(entries: list[LedgerEntry]) -> dict[str, dict[str, int]]:
    """Per kind of row (calibration checks apart from reproductions), how many rows got each verdict."""
    return {kind: {verdict: sum(row.kind == kind and row.verdict == verdict for row in entries)
                   for verdict in (REPRODUCED, NOT_REPRODUCED, NOT_ESTIMABLE)}
            for kind in (CALIBRATION, REPRODUCTION)}


def target_ids_without_rows(entries: list[LedgerEntry]) -> list[str]:
    """Published figures of data/targets.csv that no analysis judges (should be empty, or explained)."""
    judged = {row.target_id for row in entries}
    return [t for t in load_targets()["id"] if t not in judged]


def summary_texts(entries: list[LedgerEntry], prefix: str) -> dict[str, str]:
    """Counts for the prose, calibration checks apart from reproductions and P claims apart from estimates:
    '<prefix>_<kind>_n' ('25'), '<prefix>_<kind>_reproduced' ('24'), '..._not_reproduced', '..._not_estimable',
    and the lowest measured P(reproduced | truth = published) of any rule ('<prefix>_lowest_p_true', '91%')."""
    groups = {"calibration": [e for e in entries if e.kind == CALIBRATION and not e.is_p_claim],
              "reproduction": [e for e in entries if e.kind == REPRODUCTION and not e.is_p_claim],
              "p_claims": [e for e in entries if e.is_p_claim]}
    texts = {}
    for key, rows in groups.items():
        texts[f"{prefix}_{key}_n"] = str(len(rows))
        for verdict, name in ((REPRODUCED, "reproduced"), (NOT_REPRODUCED, "not_reproduced"),
                              (NOT_ESTIMABLE, "not_estimable")):
            texts[f"{prefix}_{key}_{name}"] = str(sum(row.verdict == verdict for row in rows))
        misses = [row.id for row in rows if row.verdict != REPRODUCED]
        texts[f"{prefix}_{key}_misses"] = ", ".join(misses) if misses else "none"
    measured = [row.p_reproduced_if_true for row in entries if row.p_reproduced_if_true is not None]
    texts[f"{prefix}_lowest_p_true"] = f"{100 * min(measured):.0f}%" if measured else "not measured"
    return texts
