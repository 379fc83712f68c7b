"""Every analysis of the book in one registry, so the front page's ledger, `python -m okapi analyze` and the
simulation of the verdict rules (okapi.simulation.operating) run exactly the functions the chapters run.

Each step names a module with an `analyse_*` function taking a Cohort, and the module holding its
`ledger_entries(results)` (and `published_statements(results)` where the paper stated findings without a number).
"""

import importlib
import inspect
import time
from dataclasses import dataclass

from okapi.data.loading import Cohort
from okapi.verdicts.ledger import LedgerEntry, PublishedStatement


@dataclass(frozen=True)
class Step:
    name: str
    module: str
    function: str
    verdicts_module: str = ""  # where ledger_entries / published_statements live, when not in `module`


STEPS = (
    Step("cohort description", "okapi.chapters.cohort", "describe_cohort"),
    Step("pain over one year", "okapi.chapters.pain", "analyse_pain_course"),
    Step("depression and pain", "okapi.chapters.depression", "analyse_depression_and_pain"),
    Step("pain trajectories", "okapi.chapters.trajectories", "analyse_trajectories",
         "okapi.chapters.trajectories_groups"),
    Step("mediation", "okapi.chapters.mediation", "analyse_mediation"),
    Step("adverse effects", "okapi.chapters.adverse_effects", "analyse_adverse_effects"),
)


@dataclass
class AnalysisRun:
    results: dict  # step name -> results object
    entries: list[LedgerEntry]
    statements: list[PublishedStatement]  # published findings without a number
    seconds: dict  # step name -> wall time


def run_analyses(cohort: Cohort, progress=None, statement_power: dict | None = None) -> AnalysisRun:
    """Run every step on the cohort; `progress(message)` is told when each step starts and ends. `statement_power`
    ({statement id: simulated power}) reaches the statements whose verdict needs it (C5's number of groups)."""
    results, entries, statements, seconds = {}, [], [], {}
    for number, step in enumerate(STEPS, 1):
        if progress:
            progress(f"[{number}/{len(STEPS)}] {step.name} ...")
        module = importlib.import_module(step.module)
        verdicts = importlib.import_module(step.verdicts_module or step.module)
        start = time.perf_counter()
        result = getattr(module, step.function)(cohort)
        seconds[step.name] = time.perf_counter() - start
        results[step.name] = result
        entries.extend(verdicts.ledger_entries(result))
        if hasattr(verdicts, "published_statements"):
            statements.extend(published_statements(verdicts, result, statement_power or {}))
        if progress:
            progress(f"[{number}/{len(STEPS)}] {step.name}: done in {seconds[step.name]:.1f} s")
    return AnalysisRun(results, entries, statements, seconds)


def published_statements(verdicts_module, result, statement_power: dict) -> list[PublishedStatement]:
    function = verdicts_module.published_statements
    if "k_power" in inspect.signature(function).parameters:
        return function(result, k_power=statement_power.get("C5"))
    return function(result)
