# Guards against the command line and the book drifting apart: `okapi analyze` must write the very ledger the front
# page publishes (same functions, same data), must refuse to write into the extract it reads, and must stop with the
# validator's message on an invalid extract.
import json
import math
import subprocess
import sys

import pytest

from okapi import paths
from support.front_page import front_page_ledger

FIXTURES = paths.REPO_ROOT / "tests" / "fixtures"


def _analyze(*args):
    return subprocess.run([sys.executable, "-m", "okapi", "analyze", *map(str, args)], capture_output=True, text=True,
                          timeout=600)


@pytest.mark.slow
def test_analyze_writes_the_ledger_the_front_page_publishes(tmp_path):
    out = tmp_path / "ledger.json"
    result = _analyze(paths.DATA_DIR, "--out", out)
    assert result.returncode == 0, result.stderr
    assert json.loads(out.read_text(encoding="utf-8")) == front_page_ledger()
    assert "done in" in result.stderr  # progress is shown on the long steps


def test_analyze_refuses_to_write_into_the_extract(tmp_path):
    result = _analyze(FIXTURES / "valid", "--out", FIXTURES / "valid" / "ledger.json")
    assert result.returncode == 2 and "refusing" in result.stderr
    assert not (FIXTURES / "valid" / "ledger.json").exists()


def test_analyze_stops_on_an_invalid_extract(tmp_path):
    result = _analyze(FIXTURES / "bad" / "out_of_range_age", "--out", tmp_path / "ledger.json")
    assert result.returncode == 1 and "patients.csv" in result.stderr and "age" in result.stderr
    assert not (tmp_path / "ledger.json").exists()


@pytest.mark.slow
def test_analyze_runs_on_another_simulated_extract(tmp_path):
    extract, out = tmp_path / "extract", tmp_path / "ledger.json"
    simulated = subprocess.run([sys.executable, "-m", "okapi", "simulate", "--seed", "11", "--out", str(extract)],
                               capture_output=True, text=True, timeout=120)
    assert simulated.returncode == 0, simulated.stderr
    result = _analyze(extract, "--out", out)
    assert result.returncode == 0, result.stderr
    written = json.loads(out.read_text(encoding="utf-8"))
    assert written["data"]["mode"] == "real" and written["data"]["n_patients"] == 329
    # Another cohort, the same analyses: every ledger id comes back, each with a finite estimate.
    assert [entry["id"] for entry in written["entries"]] == [entry["id"] for entry in front_page_ledger()["entries"]]
    assert all(math.isfinite(entry["estimate"]) for entry in written["entries"])
