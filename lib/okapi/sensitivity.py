"""What the sensitivity analyses share: the paper's conclusions they put under pressure, the settings of a rerun
(the sensitivity chapter's parameters cell) and the one-sentence verdict each analysis gives on a conclusion.

Each sensitivity module (okapi.sensitivity_*) exposes `run_...(cohort, settings) -> results` and
`verdicts(results) -> list[Verdict]`; the chapter's closing table lists every verdict by conclusion.
"""

from dataclasses import dataclass, fields

DEFAULT_SEED = 20230519


@dataclass(frozen=True)
class Conclusion:
    key: str
    statement: str  # the paper's conclusion in our words
    targets: tuple[str, ...]  # published-results ids it rests on


CONCLUSIONS = {c.key: c for c in (
    Conclusion("pain_decline", "Pain intensity fell over the year of repeated ketamine", ("R4", "C3a")),
    Conclusion("depression_interaction",
               "Pain fell faster over the year in patients with depressive symptoms at inclusion (HADS-D > 7)",
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


@dataclass(frozen=True)
class SensitivitySettings:
    """Everything a rerun may change; the chapter's parameters cell sets these by name."""

    seed: int = DEFAULT_SEED  # the seed every random draw of the chapter derives from
    n_workers: int = 2  # processes for independent refits (cohorts, resamples)
    n_imputations: int = 20  # multiple imputation
    tipping_deltas: tuple[float, ...] = tuple(x / 2 for x in range(0, 13))  # NPRS points added after dropout
    n_bootstrap: int = 2000  # mediation bootstrap resamples per reading
    trajectory_starts: int = 30  # random starts per trajectory fit (stability across starts)
    trajectory_resamples: int = 50  # patient bootstrap resamples for the stability of K
    trajectory_start_seeds: int = 10  # seeds of the whole random-start protocol (does the chosen K change?)
    sweep_n_patients: int = 329  # patients per simulated cohort in the assumptions sweep
    sweep_replicates: int = 3  # cohorts per sweep end, averaged, so a bar is not one cohort's noise
    sweep_default_cohorts: int = 20  # cohorts at the default values: the level and the seed-to-seed noise band
    sweep_trajectory_starts: int = 10  # random starts per trajectory fit in the sweep (the chapter's bootstrap: 10)
    sweep_trajectory_final: int = 3  # of which run to convergence (the chapter's bootstrap: 3)
    sweep_population_patients: int = 200_000  # patients per simulated population (proportion mediated)
    sweep_population_default_draws: int = 5  # populations at the default values (level and noise band)
    sweep_tornado_top: int = 12  # parameters shown per panel of the tornado figures
    hads_strict_cutoff: int = 10  # HADS > this = the stricter "probable case" split, beside the paper's > 7
    hads_change_month: int = 3  # questionnaire month ending the early window (dose, change in HADS-D) of mediation

    @classmethod
    def from_parameters(cls, parameters: dict) -> "SensitivitySettings":
        """From the parameters cell's variables; unknown names are an error, not silently ignored."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(parameters) - known)
        if unknown:
            raise ValueError(f"unknown sensitivity setting(s) {unknown}; known: {sorted(known)}")
        # A list from the parameters cell becomes a tuple: settings are frozen and hashable, as the defaults are.
        values = {name: tuple(value) if isinstance(value, list) else value for name, value in parameters.items()}
        return cls(**values)


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
