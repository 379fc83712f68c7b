"""The judged ledger: every analysis of the book (okapi.chapters.registry), each row with its P claim and the measured
operating characteristics of its rule (okapi.simulation.operating). The front page shows it, the build publishes it as
`reproduction-ledger.json`, and `python -m okapi analyze PATH --out FILE.json` writes the same JSON for any extract.
"""

import json
import sys
from dataclasses import dataclass
from pathlib import Path

from okapi.chapters import registry
from okapi.data.loading import Cohort, load_cohort
from okapi.simulation.operating import OperatingCharacteristics, operating_characteristics
from okapi.verdicts.ledger import (LedgerEntry, PublishedStatement, verdict_counts, with_operating_characteristics,
                                   with_p_claims)


@dataclass
class JudgedLedger:
    run: registry.AnalysisRun
    entries: list[LedgerEntry]  # with P claims and operating characteristics
    statements: list[PublishedStatement]
    operating: OperatingCharacteristics

    @property
    def counts(self) -> dict[str, dict[str, int]]:
        return verdict_counts(self.entries)


def judged_ledger(cohort: Cohort, progress=None, operating: OperatingCharacteristics | None = None) -> JudgedLedger:
    """Run every analysis on the cohort and judge every published figure; the operating characteristics come from
    the cache (okapi.simulation.operating) unless given."""
    operating = operating or operating_characteristics()
    run = registry.run_analyses(cohort, progress, statement_power=operating.statement_power)
    entries = with_operating_characteristics(with_p_claims(run.entries), operating.table)
    return JudgedLedger(run, entries, run.statements, operating)


def _rounded(value):
    # Six decimals: beyond any printed precision, and short of the digits where two correct runs of an iterative
    # fit may differ (the JSON is compared as text by the re-execution tests).
    return round(value, 6) if isinstance(value, float) else value


def ledger_json(cohort: Cohort, judged: JudgedLedger) -> dict:
    """The machine-readable ledger: aggregate estimates and the rules' measured characteristics, never a
    patient-level value."""
    return {
        "data": {"mode": cohort.mode, "n_patients": cohort.n_patients, "sha256": cohort.data_checksum},
        "counts": judged.counts,
        "operating_characteristics": {"n_replicates": judged.operating.settings.n_replicates,
                                      "n_patients": judged.operating.settings.n_patients},
        "entries": [{key: _rounded(value) for key, value in item.as_dict().items()} for item in judged.entries],
        "statements": [item.as_dict() for item in judged.statements],
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
    say = lambda message: print(message, file=sys.stderr, flush=True)  # noqa: E731
    say("operating characteristics of the verdict rules (cached after the first run) ...")
    judged = judged_ledger(cohort, progress=say)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(ledger_json(cohort, judged), indent=2) + "\n", encoding="utf-8")
    print(f"wrote {len(judged.entries)} ledger entries and {len(judged.statements)} published statements to {target}")
    return 0
