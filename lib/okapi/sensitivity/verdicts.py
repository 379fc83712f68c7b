"""What the sensitivity analyses share: the paper's conclusions they put under pressure, and the one-sentence verdict each analysis gives on a conclusion.

Each section module (okapi.sensitivity.missing, ...) exposes `run_...(cohort, settings) -> results` and
`verdicts(results) -> list[Verdict]`; the chapter's closing table lists every verdict by conclusion.
"""

from dataclasses import dataclass

from okapi.plan import PUBLISHED_HADS_D_CUTOFF


@dataclass(frozen=True)
class Conclusion:
    key: str
    statement: str  # the paper's conclusion in our words
    targets: tuple[str, ...]  # published-results ids it rests on


CONCLUSIONS = {c.key: c for c in (
    Conclusion("pain_decline", "Pain intensity fell over the year of repeated ketamine", ("R4", "C3a")),
    Conclusion("depression_interaction",
               f"Pain fell faster over the year in patients with depressive symptoms at inclusion "
               f"(HADS-D > {PUBLISHED_HADS_D_CUTOFF})",
               ("R8",)),
    Conclusion("anxiety_not", "Anxiety at inclusion did not carry the association (depression did)", ("R14",)),
    Conclusion("dose_not", "The cumulative ketamine dose was not associated with pain diminution", ("R9", "R12")),
    Conclusion("depression_mediates",
               "Baseline depression mediated most of the association of ketamine with pain diminution",
               ("R11", "R13", "R14")),
    Conclusion("three_trajectories", "Pain followed three trajectory groups: mild, moderate and severe", ("C5",)),
)}

SURVIVED, NOT_SURVIVED, NOT_ASSESSABLE = "survived", "did not survive", "not assessable"


@dataclass(frozen=True)
class Verdict:
    conclusion: str  # a key of CONCLUSIONS
    analysis: str  # the sensitivity analysis, short, e.g. "multiple imputation (20 imputations)"
    outcome: str  # SURVIVED, NOT_SURVIVED or NOT_ASSESSABLE
    sentence: str  # one plain sentence with its numbers: what was found and under what

    def __post_init__(self):
        if self.conclusion not in CONCLUSIONS:
            raise ValueError(f"unknown conclusion {self.conclusion!r}; known: {sorted(CONCLUSIONS)}")
        if self.outcome not in (SURVIVED, NOT_SURVIVED, NOT_ASSESSABLE):
            raise ValueError(f"verdict outcome must be {SURVIVED!r}, {NOT_SURVIVED!r} or {NOT_ASSESSABLE!r}")


def verdict_table(verdicts: list[Verdict]) -> "pd.DataFrame":
    """One row per verdict, grouped by conclusion in the order of CONCLUSIONS."""
    import pandas as pd

    order = {key: i for i, key in enumerate(CONCLUSIONS)}
    rows = sorted(enumerate(verdicts), key=lambda item: (order[item[1].conclusion], item[0]))
    return pd.DataFrame([{"Conclusion of the paper": CONCLUSIONS[v.conclusion].statement, "Analysis": v.analysis,
                          "Outcome": v.outcome, "What we found": v.sentence} for _, v in rows],
                        columns=["Conclusion of the paper", "Analysis", "Outcome", "What we found"])


def conclusion_summary(verdicts: list[Verdict]) -> dict[str, str]:
    """Per conclusion key, one sentence: survived every analysis that could test it, or which ones overturned it."""
    summary = {}
    for key, conclusion in CONCLUSIONS.items():
        mine = [v for v in verdicts if v.conclusion == key]
        tested = [v for v in mine if v.outcome != NOT_ASSESSABLE]
        failed = [v.analysis for v in tested if v.outcome == NOT_SURVIVED]
        if not tested:
            summary[key] = f"{conclusion.statement}: not assessable by these analyses."
        elif not failed:
            which = "the one sensitivity analysis" if len(tested) == 1 else f"all {len(tested)} sensitivity analyses"
            summary[key] = f"{conclusion.statement}: survived {which} that could test it."
        else:
            summary[key] = (f"{conclusion.statement}: did not survive {len(failed)} of {len(tested)} sensitivity "
                            f"analyses ({'; '.join(failed)}).")
    return summary


def conclusions_table() -> "pd.DataFrame":
    import pandas as pd

    return pd.DataFrame([{"Conclusion of the paper": c.statement, "Published figures": ", ".join(c.targets)}
                         for c in CONCLUSIONS.values()])
