"""What the sensitivity analyses share: the paper's conclusions they put under pressure, and the verdict each analysis
gives on a conclusion, in one vocabulary.

- supported / contradicted / not assessable (okapi.verdicts.rules): a result that cannot tell the conclusion from its
  negation, because the analysis has too little power to see the effect the paper reports (or, for a conclusion of no
  effect, the effect worth seeing), is "not assessable", with that power beside it; it is not "contradicted";
- kind: a *departure* from one of the primary analysis's assumptions (another cut-off, MNAR dropout, centres, another
  reading) is a sensitivity analysis; a *check* re-estimates the primary quantity under the same assumptions (multiple
  imputation under MAR with the analysis model, centre-clustered SEs of the same estimates) and is reported apart,
  not counted as a further test;
- decided by the synthetic design: on the synthetic cohort, an answer that the generator's construction decides
  (the calibrated decline and depression effect, no anxiety effect, no dose effect, dropout at random, three groups,
  the generator's own parameters) is marked with the reason and not counted as evidence about the paper.

Each section module (okapi.sensitivity.missing, ...) exposes `run_...(cohort, settings) -> results` and
`verdicts(results) -> list[Verdict]`; okapi.sensitivity.registry finishes them (power, design marks) and the
chapter's closing table lists every verdict by conclusion.
"""

from dataclasses import dataclass, replace

import pandas as pd

from okapi.book.report import and_list
from okapi.plan import PUBLISHED_HADS_D_CUTOFF
from okapi.verdicts.rules import CONTRADICTED, NOT_ASSESSABLE, SUPPORTED

DEPARTURE, CHECK = "departure from an assumption", "check of the primary estimate"
MIN_POWER = 0.5  # below this, a null result cannot count for or against a conclusion


@dataclass(frozen=True)
class Conclusion:
    key: str
    statement: str  # the paper's conclusion in our words
    targets: tuple[str, ...]  # published-results ids it rests on
    claims_an_effect: bool  # False for "X did not ...": supported by a null result only where one could see an effect
    short: str  # a few words, for a list (the front page's abstract)


CONCLUSIONS = {c.key: c for c in (
    Conclusion("pain_decline", "Pain intensity fell over the year of repeated ketamine", ("R4", "C3a"), True,
               "the pain decline"),
    Conclusion("depression_interaction",
               f"Pain fell faster over the year in patients with depressive symptoms at inclusion "
               f"(HADS-D > {PUBLISHED_HADS_D_CUTOFF})", ("R8",), True, "the faster decline with depressive symptoms"),
    Conclusion("anxiety_not", "Anxiety at inclusion did not carry the association (depression did)", ("R14",),
               False, "no role of anxiety"),
    Conclusion("dose_not", "The cumulative ketamine dose was not associated with pain diminution", ("R9", "R12"),
               False, "no role of the dose"),
    Conclusion("depression_mediates",
               "Baseline depression mediated most of the association of ketamine with pain diminution",
               ("R11", "R13", "R14"), True, "mediation by depression"),
    Conclusion("three_trajectories", "Pain followed three trajectory groups: mild, moderate and severe", ("C5",),
               True, "three trajectory groups"),
)}

# On the synthetic cohort, what the generator's construction decides (okapi.synthetic), by conclusion; the
# assumptions sweep varies the generator itself, so every one of its verdicts is about the generator.
DECIDED_BY_DESIGN = {
    "pain_decline": "the generator's one-year change was calibrated to the published R4",
    "depression_interaction": "the generator's depression effect on the slope, half a step at the paper's cut-off and "
                              "half linear in HADS-D, was calibrated to the published R8 and R11",
    "anxiety_not": "the generator gives anxiety no effect on pain",
    "dose_not": "the generator gives the dose no effect on pain; the dose follows pain only through re-treatment "
                "and follow-up",
    "depression_mediates": "the generator's depression effect was calibrated to the published R8 and R11",
    "three_trajectories": "the generator draws three groups",
}
DROPOUT_AT_RANDOM = "the generator's dropout is at random given the recorded scores"
DESIGN_SECTIONS = {"missing": DROPOUT_AT_RANDOM, "dropout": DROPOUT_AT_RANDOM,
                   "assumptions": "the analysis varies the generator's own assumed parameters"}


@dataclass(frozen=True)
class Verdict:
    conclusion: str  # a key of CONCLUSIONS
    analysis: str  # the sensitivity analysis, short, e.g. "multiple imputation (20 imputations)"
    outcome: str  # SUPPORTED, CONTRADICTED or NOT_ASSESSABLE
    sentence: str  # one plain sentence with its numbers: what was found and under what
    kind: str = DEPARTURE
    null_result: bool = False  # the outcome rests on a 95% CI holding 0 (no effect seen)
    power: float | None = None  # the simulated power of the conclusion's primary analysis (okapi.simulation)
    decided_by_design: str = ""  # on the synthetic cohort: why its design decides this answer

    def __post_init__(self):
        if self.conclusion not in CONCLUSIONS:
            raise ValueError(f"unknown conclusion {self.conclusion!r}; known: {sorted(CONCLUSIONS)}")
        if self.outcome not in (SUPPORTED, CONTRADICTED, NOT_ASSESSABLE):
            raise ValueError(f"verdict outcome must be {SUPPORTED!r}, {CONTRADICTED!r} or {NOT_ASSESSABLE!r}")
        if self.kind not in (DEPARTURE, CHECK):
            raise ValueError(f"verdict kind must be {DEPARTURE!r} or {CHECK!r}")

    @property
    def counts_as_evidence(self) -> bool:
        return self.kind == DEPARTURE and not self.decided_by_design and self.outcome != NOT_ASSESSABLE


def with_power(verdict: Verdict, power: float | None) -> Verdict:
    """The power rule: a result resting on "no effect seen" says nothing where the analysis could not have seen the
    effect; it becomes not assessable (with the power beside it) when that power is under MIN_POWER."""
    verdict = replace(verdict, power=power)
    if verdict.null_result and verdict.outcome != NOT_ASSESSABLE and (power is None or power < MIN_POWER):
        return replace(verdict, outcome=NOT_ASSESSABLE)
    return verdict


def with_design_mark(verdict: Verdict, section: str, synthetic: bool) -> Verdict:
    if not synthetic:
        return verdict
    reason = DESIGN_SECTIONS.get(section) or DECIDED_BY_DESIGN.get(verdict.conclusion, "")
    return replace(verdict, decided_by_design=reason)


def verdict_line(verdict: Verdict) -> str:
    """A verdict as the chapter's prose shows it: outcome (with the power when that decided it), what was found,
    and, on the synthetic cohort, whether its design decides the answer."""
    power = f" (power {_power_text(verdict)})" if verdict.outcome == NOT_ASSESSABLE and verdict.power is not None \
        else ""
    check = " A check of the primary estimate, not a further test." if verdict.kind == CHECK else ""
    design = (f" Decided by the synthetic cohort's design ({verdict.decided_by_design}): not evidence about the paper."
              if verdict.decided_by_design else "")
    return f"{verdict.outcome.capitalize()}{power}: {verdict.sentence}{check}{design}"


def _power_text(verdict: Verdict) -> str:
    return "" if verdict.power is None else f"{100 * verdict.power:.0f}%"


def verdict_table(verdicts: list[Verdict]) -> pd.DataFrame:
    """One row per verdict, grouped by conclusion in the order of CONCLUSIONS."""
    order = {key: i for i, key in enumerate(CONCLUSIONS)}
    rows = sorted(enumerate(verdicts), key=lambda item: (order[item[1].conclusion], item[0]))
    columns = ["Conclusion of the paper", "Analysis (kind)", "Outcome", "Power", "Decided by the synthetic design",
               "What we found"]
    # The kind in brackets after the analysis: a column of its own pushed the table past the text column.
    return pd.DataFrame([{"Conclusion of the paper": CONCLUSIONS[v.conclusion].statement,
                          "Analysis (kind)": f"{v.analysis} ({'check' if v.kind == CHECK else 'departure'})",
                          "Outcome": v.outcome,
                          "Power": _power_text(v) if v.outcome == NOT_ASSESSABLE or v.null_result else "",
                          "Decided by the synthetic design": v.decided_by_design or "no",
                          "What we found": v.sentence} for _, v in rows], columns=columns)


def conclusion_summary(verdicts: list[Verdict]) -> dict[str, str]:
    """Per conclusion key, one sentence: how many departures support it, contradict it, or cannot assess it, with
    the checks and the answers decided by the synthetic design said apart."""
    summary = {}
    for key, conclusion in CONCLUSIONS.items():
        mine = [v for v in verdicts if v.conclusion == key]
        evidence = [v for v in mine if v.counts_as_evidence]
        contradicted = [v.analysis for v in evidence if v.outcome == CONTRADICTED]
        supported = sum(v.outcome == SUPPORTED for v in evidence)
        unassessable = [v for v in mine if v.kind == DEPARTURE and v.outcome == NOT_ASSESSABLE]
        design = [v for v in mine if v.kind == DEPARTURE and v.decided_by_design and v.outcome != NOT_ASSESSABLE]
        checks = [v for v in mine if v.kind == CHECK]
        parts = []
        if evidence:
            parts.append(f"supported by {supported} of {len(evidence)} "
                         f"{'analysis' if len(evidence) == 1 else 'analyses'} that test it"
                         + (f", contradicted by {len(contradicted)} ({'; '.join(contradicted)})" if contradicted
                            else ""))
        if unassessable:
            powers = sorted({_power_text(v) for v in unassessable if v.power is not None})
            parts.append(f"not assessable by {len(unassessable)}"
                         + (f" (power of the primary analysis {', '.join(powers)})" if powers else ""))
        if design:
            held = sum(v.outcome == SUPPORTED for v in design)
            parts.append(f"{len(design)} {'answer' if len(design) == 1 else 'answers'} decided by the synthetic "
                         f"cohort's design ({held} supportive), not evidence about the paper")
        if checks:
            held = sum(v.outcome == SUPPORTED for v in checks)
            parts.append(f"{held} of {len(checks)} checks of the primary estimate agree")
        summary[key] = f"{conclusion.statement}: " + ("; ".join(parts) if parts else "no analysis here tests it") + "."
    return summary


def conclusion_standing(verdicts: list[Verdict]) -> dict[str, str]:
    """Per conclusion key, where it stands over every analysis: CONTRADICTED when an analysis that counts as evidence
    contradicts it, SUPPORTED when some support it and none contradicts, else NOT_ASSESSABLE (no analysis counts as
    evidence: each lacked the power to see the effect, had its answer decided by the synthetic cohort's design, or
    was a check of the primary estimate)."""
    standing = {}
    for key in CONCLUSIONS:
        outcomes = {v.outcome for v in verdicts if v.conclusion == key and v.counts_as_evidence}
        standing[key] = (CONTRADICTED if CONTRADICTED in outcomes else SUPPORTED if SUPPORTED in outcomes
                         else NOT_ASSESSABLE)
    return standing


def _short_list(keys: list[str]) -> str:
    return and_list(CONCLUSIONS[key].short for key in keys)


def held_sentence(verdicts: list[Verdict]) -> str:
    """One sentence for the front page's abstract: how many of the paper's conclusions are supported, contradicted
    and not assessable over every analysis (conclusion_standing), which ones, and why the not-assessable are."""
    standing = conclusion_standing(verdicts)
    by_outcome = {outcome: [key for key, found in standing.items() if found == outcome]
                  for outcome in (SUPPORTED, CONTRADICTED, NOT_ASSESSABLE)}
    counts = [f"{len(keys)} {outcome}" + (f" ({_short_list(keys)})" if keys else "")
              for outcome, keys in by_outcome.items()]
    sentence = f"of the paper's {len(standing)} conclusions, {counts[0]}, {counts[1]} and {counts[2]}"
    unsettled = set(by_outcome[NOT_ASSESSABLE])
    if unsettled:
        departures = [v for v in verdicts if v.conclusion in unsettled and v.kind == DEPARTURE]
        design = sum(bool(v.decided_by_design) and v.outcome != NOT_ASSESSABLE for v in departures)
        weak = sum(v.outcome == NOT_ASSESSABLE for v in departures)
        reasons = ([f"{design} {'answer is' if design == 1 else 'answers are'} decided by the synthetic cohort's "
                    "design"] if design else []) + ([f"{weak} {'result comes' if weak == 1 else 'results come'} from "
                                                     "analyses without the power to see the effect"] if weak else [])
        sentence += ("; no analysis of the not assessable counts as evidence"
                     + (f": {' and '.join(reasons)}" if reasons else ""))
    return sentence


def conclusions_table() -> pd.DataFrame:
    return pd.DataFrame([{"Conclusion of the paper": c.statement, "Published figures": ", ".join(c.targets)}
                         for c in CONCLUSIONS.values()])
