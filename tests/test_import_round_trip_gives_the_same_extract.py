# Guards against an import that changes the data on the way in: the committed cohort, written out wide as a data
# holder keeps it (Stata, SPSS, SAS transport, Excel, CSV; French codes, decimal commas, DD/MM/YYYY dates, special and
# user-missing codes, doses in grams), must come back through `okapi import` and a mapping as byte-identical CSVs
# with the same manifest, leave its sources untouched, rerun identically, and give the same ledger in `okapi analyze`.
import hashlib
import json
import subprocess
import sys

import pytest

from okapi import cli, paths
from support.front_page import front_page_ledger

from support.wide_exports import FORMATS, WRITERS


def export(fmt: str, folder):
    """Write the cohort in `fmt` under folder/source and its mapping beside it; return (sources, mapping)."""
    source = folder / "source"
    source.mkdir()
    write, mapping_text = WRITERS[fmt]
    sources = write(source)
    mapping = folder / "mapping.toml"
    mapping.write_text(mapping_text, encoding="utf-8")
    return sources, mapping


def fingerprint(files) -> dict:
    return {path.name: (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns) for path in files}


def run_import(sources, mapping, out, *extra) -> int:
    return cli.main(["import", *map(str, sources), "--mapping", str(mapping), "--out", str(out), *extra])


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_wide_export_comes_back_byte_identical(fmt, tmp_path, capsys):
    sources, mapping = export(fmt, tmp_path)
    before = fingerprint(sources)
    out = tmp_path / "extract"
    assert run_import(sources, mapping, out) == 0, capsys.readouterr().err
    for name in (*paths.COHORT_FILES, "SHA256SUMS"):
        assert (out / name).read_bytes() == (paths.DATA_DIR / name).read_bytes(), f"{fmt}: {name} differs"
    assert fingerprint(sources) == before, "the import modified a source file"
    assert sorted(p.name for p in sources[0].parent.iterdir()) == sorted(p.name for p in sources)
    printed = capsys.readouterr().out
    assert "4277 rows out (329" in printed and "VALID" in printed  # the reconciliation: rows in and out


def test_a_rerun_with_force_writes_the_same_bytes(tmp_path, capsys):
    sources, mapping = export("excel", tmp_path)
    out = tmp_path / "extract"
    assert run_import(sources, mapping, out) == 0
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    assert run_import(sources, mapping, out, "--force") == 0
    assert {p.name: p.read_bytes() for p in out.iterdir()} == first


def test_the_reconciliation_counts_recodes_and_missing_codes_per_variable(tmp_path, capsys):
    sources, mapping = export("spss", tmp_path)
    assert run_import(sources, mapping, tmp_path / "extract") == 0
    lines = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines() if line.startswith("    ")}
    # values, copied, recoded, set missing, declared (by the source), were empty: the last six fields.
    assert lines["sex"][-6:] == ["329", "0", "329", "0", "0", "0"]
    assert lines["opioid"][-6:] == ["329", "324", "0", "0", "5", "0"]  # SPSS user-missing -99
    assert lines["sf12_pcs"][-6:] == ["4277", "1006", "0", "3271", "0", "0"]  # -99 listed in the mapping


@pytest.mark.slow
def test_the_imported_extract_gives_the_same_ledger(tmp_path):
    # The ledger of data/ is the one the front page publishes (test_analyze_command checks that `okapi analyze` on
    # data/ writes exactly it); byte-identical CSVs from every format make one analyze run enough.
    sources, mapping = export("stata", tmp_path)
    out, ledger = tmp_path / "extract", tmp_path / "ledger.json"
    imported = subprocess.run([sys.executable, "-m", "okapi", "import", *map(str, sources), "--mapping", str(mapping),
                               "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert imported.returncode == 0, imported.stderr
    analyzed = subprocess.run([sys.executable, "-m", "okapi", "analyze", str(out), "--out", str(ledger)],
                              capture_output=True, text=True, timeout=600)
    assert analyzed.returncode == 0, analyzed.stderr
    written, published = json.loads(ledger.read_text(encoding="utf-8")), front_page_ledger()
    # Only the mode differs: a folder other than data/ is treated as real patient data.
    assert (written["data"].pop("mode"), published["data"].pop("mode")) == ("real", "synthetic")
    assert written == published
