"""Every analysis of the book in one registry, so the front page's ledger and `python -m okapi analyze` run exactly
the functions the chapters run.

Each step names a module with an `analyse_*` function taking a Cohort and a `ledger_entries(results)` function.
"""

import importlib
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from okapi.data.loading import Cohort, load_cohort
from okapi.verdicts.ledger import LedgerEntry, PublishedStatement

# (what the step is, module, analysis function); in the order of the book's chapters.
STEPS = (
    ("cohort description", "okapi.chapters.cohort", "describe_cohort"),
    ("pain over one year", "okapi.chapters.pain", "analyse_pain_course"),
    ("depression and pain", "okapi.chapters.depression", "analyse_depression_and_pain"),
    ("pain trajectories", "okapi.chapters.trajectories", "analyse_trajectories"),
    ("mediation", "okapi.chapters.mediation", "analyse_mediation"),
    ("adverse effects", "okapi.chapters.adverse_effects", "analyse_adverse_effects"),
)


@dataclass
class AnalysisRun:
    results: dict  # step name -> results object
    entries: list[LedgerEntry]
    statements: list[PublishedStatement]  # published findings without a number
    seconds: dict  # step name -> wall time


def run_analyses(cohort: Cohort, progress=None) -> AnalysisRun:
    """Run every step on the cohort; `progress(message)` is told when each step starts and ends."""
    results, entries, statements, seconds = {}, [], [], {}
    for number, (name, module_name, function_name) in enumerate(STEPS, 1):
        if progress:
            progress(f"[{number}/{len(STEPS)}] {name} ...")
        module = importlib.import_module(module_name)
        start = time.perf_counter()
        result = getattr(module, function_name)(cohort)
        seconds[name] = time.perf_counter() - start
        results[name] = result
        entries.extend(module.ledger_entries(result))
        if hasattr(module, "published_statements"):
            statements.extend(module.published_statements(result))
        if progress:
            progress(f"[{number}/{len(STEPS)}] {name}: done in {seconds[name]:.1f} s")
    return AnalysisRun(results, entries, statements, seconds)


def _rounded(value):
    # Six decimals: beyond any printed precision, and short of the digits where two correct runs of an iterative
    # fit may differ (the JSON is compared as text by the re-execution tests).
    return round(value, 6) if isinstance(value, float) else value


def ledger_json(cohort: Cohort, run: AnalysisRun) -> dict:
    """The machine-readable ledger: aggregate estimates only, never a patient-level value."""
    return {
        "data": {"mode": cohort.mode, "n_patients": cohort.n_patients, "sha256": cohort.data_checksum},
        "entries": [{key: _rounded(value) for key, value in item.as_dict().items()} for item in run.entries],
        "statements": [item.as_dict() for item in run.statements],
    }


def run_analyze_command(path: str, out: str) -> int:
    """`python -m okapi analyze PATH --out FILE.json`."""
    target = Path(out).resolve()
    folder = Path(path).resolve()
    if target.is_relative_to(folder):
        print(f"error: refusing to write {target} into the extract's folder (the input is never modified); "
              "choose another --out", file=sys.stderr)
        return 2
    try:
        cohort = load_cohort(folder)
    except Exception as error:  # the loader's messages name the file, column, line and rule
        print(f"error: {error}", file=sys.stderr)
        return 1
    run = run_analyses(cohort, progress=lambda message: print(message, file=sys.stderr, flush=True))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(ledger_json(cohort, run), indent=2) + "\n", encoding="utf-8")
    print(f"wrote {len(run.entries)} ledger entries and {len(run.statements)} published statements to {target}")
    return 0
