"""`python -m okapi disclosure-scan BUILD_DIR [--ledger FILE.json] [--extract DIR] [--notebooks DIR] [--real-only]`:
the output check a secure research environment does before release, run on the built book of a real extract.

It reads what a reader receives: every HTML page of BUILD_DIR (the article: text, tables, figure alt texts), every JSON
document published beside it (the reproduction ledger) and any --ledger file (`okapi analyze`), and, with --notebooks,
the figures stored in the executed notebooks. The rules are in okapi.book.disclosure_rules. Patient identifiers are
those of the extract (--extract, by default OKAPI_DATA_DIR); the cohort's N is the ledger's `data.n_patients`.

This is the second, output-side check: the first is the runtime guard every output passes while the chapters run
(okapi.data.privacy.OUTPUT_GUARD). With --real-only (the Makefile's book target) it scans only when OKAPI_DATA_DIR
points at a real extract. Exit codes: 0 no finding (or not a real extract), 1 findings (each printed with file, place
and kind, never the value), 2 nothing to scan (no such folder, no HTML page, unreadable JSON).
"""

import csv
import json
import sys
from pathlib import Path

from okapi import paths
from okapi.book.disclosure_rules import (COUNT_HEADER, PER_PATIENT_FIGURE, Finding, TextRules, identifiers_in,
                                         is_small, searchable_identifiers, table_findings)
from okapi.data.loading import is_committed_cohort
from okapi.data.privacy import MIN_CELL
from okapi.data.targets import load_targets

SKIPPED_FOLDERS = {"_static", "_sources", "_images", "_sphinx_design_static"}
BLOCKS = ["p", "li", "dt", "dd", "figcaption", "caption", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "pre"]
MIN_MAX_KEYS = {"min", "max", "minimum", "maximum", "range"}
# Pages computed from simulated cohorts only, never from the extract: their counts are of simulated cohorts, not of
# patients. The exemption holds only while the page's source does not load the cohort (checked with --notebooks).
DATA_FREE_PAGES = {
    "chapters/simulation_study.html": "the simulation study fits simulated cohorts only (counts of replicates)",
}


def extract_identifiers(folder) -> frozenset:
    """The patient identifiers of an extract's patients.csv (empty when there is none)."""
    path = Path(folder) / "patients.csv"
    if not path.is_file():
        return frozenset()
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return searchable_identifiers(row.get("patient_id", "") for row in csv.DictReader(handle))


def _section(element) -> str:
    heading = element.find_previous(["h1", "h2", "h3", "h4"])
    return f"section {heading.get_text(' ', strip=True).rstrip('#').strip()[:50]!r}" if heading else "top of page"


def _table_label(table, number: int) -> str:
    caption = table.find("caption")
    label = caption.find(class_="caption-number") if caption else None
    return label.get_text(strip=True) if label else f"table {number} of the page"


def scan_html(path: Path, root: Path, rules: TextRules, n_patients, identifiers) -> list[Finding]:
    from bs4 import BeautifulSoup

    file = str(path.relative_to(root))
    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    article = soup.find("article") or soup.body or soup
    found = []
    for number, table in enumerate(article.find_all("table"), 1):
        head = table.find("thead")
        header_row = head.find("tr") if head else table.find("tr")
        headers = [cell.get_text(" ", strip=True) for cell in header_row.find_all(["th", "td"])] if header_row else []
        body = [tr for tr in table.find_all("tr") if tr is not header_row and tr.find_parent("thead") is None]
        rows = [[cell.get_text(" ", strip=True) for cell in tr.find_all(["td", "th"])] for tr in body]
        found += table_findings(headers, rows, rules, n_patients, identifiers, file, _table_label(table, number))
    seen = set()
    for block in article.find_all(BLOCKS):
        if block.find_parent("table") is not None or block.find_parent(BLOCKS) is not None:
            continue  # table cells are checked with their table; nested blocks once, with their parent
        text = block.get_text(" ", strip=True)
        where = f"{_section(block)}, text"
        for kind, message in rules.check(text):
            seen_key = (where, kind, message)
            if seen_key not in seen:
                seen.add(seen_key)
                found.append(Finding(file, where, kind, message))
        if identifiers_in(text, identifiers):
            found.append(Finding(file, where, "patient_identifier", "a patient identifier of the extract is shown"))
    for number, image in enumerate(article.find_all("img"), 1):
        figure = image.find_parent("figure")
        label = figure.find(class_="caption-number") if figure else None
        where = f"{label.get_text(strip=True) if label else f'image {number} of the page'} (alt text)"
        alt = (image.get("alt") or "").strip()
        if not alt:
            found.append(Finding(file, where, "unchecked_figure", "a figure without alt text: what it draws cannot "
                                                                  "be checked (glue it with okapi.book.report)"))
            continue
        found += [Finding(file, where, kind, message) for kind, message in rules.check(alt, figure_alt=True)]
        if identifiers_in(alt, identifiers):
            found.append(Finding(file, where, "patient_identifier", "a patient identifier of the extract is shown"))
    return found


def _count_ids() -> set[str]:
    """Ledger ids whose estimate is a number of patients (data/targets.csv, unit 'patients')."""
    targets = load_targets()
    return set(targets.loc[targets["unit"] == "patients", "id"])


def scan_json(path: Path, label: str, rules: TextRules, n_patients, identifiers) -> list[Finding]:
    payload = json.loads(path.read_text(encoding="utf-8"))
    found, count_ids = [], _count_ids()

    def walk(value, where: str):
        if isinstance(value, dict):
            entry = value.get("id") if isinstance(value.get("id"), str) else None
            for key, item in value.items():
                place = f"entry {entry}, {key}" if entry else f"{where}.{key}".lstrip(".")
                if str(key).lower() in MIN_MAX_KEYS:
                    found.append(Finding(label, place, "min_max", "a minimum, maximum or range"))
                if entry in count_ids and key == "estimate" and isinstance(item, (int, float)):
                    for kind, message in rules.check_count(int(round(item)), "a ledger count"):
                        found.append(Finding(label, place, kind, message))
                walk(item, place)
        elif isinstance(value, list):
            if n_patients and len(value) >= n_patients:
                found.append(Finding(label, where, "patient_level_table", f"a list of {len(value)} items, as many "
                                                                          "as patients or more"))
            for number, item in enumerate(value, 1):
                walk(item, f"{where}[{number}]")
        elif isinstance(value, str):
            found.extend(Finding(label, where, kind, message) for kind, message in rules.check(value))
            if identifiers_in(value, identifiers):
                found.append(Finding(label, where, "patient_identifier", "a patient identifier of the extract"))
        elif isinstance(value, int) and not isinstance(value, bool) and COUNT_HEADER.search(where.rsplit(".", 1)[-1]):
            found.extend(Finding(label, where, kind, message) for kind, message in rules.check_count(value, "count"))

    walk(payload, "")
    return found


def scan_notebook_figures(folder: Path) -> list[Finding]:
    """Figures stored in executed notebooks: each must carry its alt text (okapi.book.report.glue_figure), and none may
    say it draws patients one by one."""
    import nbformat

    from okapi.book.report import ALT_KEY

    found = []
    for notebook in sorted(folder.glob("*.ipynb")) + sorted(folder.glob("chapters/*.ipynb")):
        cells = nbformat.read(notebook, as_version=4).cells
        for number, cell in enumerate((c for c in cells if c.cell_type == "code"), 1):
            for output in cell.get("outputs", []):
                if not any(key.startswith("image/") for key in output.get("data", {})):
                    continue
                alt = output.get("metadata", {}).get(ALT_KEY, "")
                where = f"code cell {number}, figure output"
                if not alt:
                    found.append(Finding(notebook.name, where, "unchecked_figure", "a figure stored without alt text "
                                         "(not glued with okapi.book.report): what it draws cannot be checked"))
                elif PER_PATIENT_FIGURE.search(alt):
                    found.append(Finding(notebook.name, where, "patient_level_figure", "the figure draws patients one "
                                         "by one (its alt text says so)"))
    return found


def _n_patients(ledgers: list[Path]) -> int | None:
    for ledger in ledgers:
        try:
            data = json.loads(ledger.read_text(encoding="utf-8")).get("data", {})
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(data, dict) and isinstance(data.get("n_patients"), int):
            return data["n_patients"]
    return None


def _loads_cohort(page: str, notebooks) -> bool:
    """Whether the page's source (in the book folder --notebooks) reads the extract; unknown without the folder."""
    if not notebooks:
        return False
    source = Path(notebooks) / Path(page).with_suffix(".md")
    return not source.is_file() or "load_cohort" in source.read_text(encoding="utf-8")


def scan_book(build_dir, ledger=None, extract=None, notebooks=None) -> list[Finding]:
    """Every finding in a built HTML book (and the given ledger, extract's identifiers, notebooks' figures)."""
    root = Path(build_dir)
    pages = [p for p in sorted(root.rglob("*.html")) if not SKIPPED_FOLDERS & set(p.relative_to(root).parts)]
    if not pages:
        raise FileNotFoundError(f"{root}: no HTML page to scan (build the book first)")
    ledgers = [p for p in sorted(root.rglob("*.json")) if not SKIPPED_FOLDERS & set(p.relative_to(root).parts)]
    ledgers += [Path(ledger)] if ledger else []
    n_patients = _n_patients(ledgers)
    identifiers = extract_identifiers(extract) if extract else frozenset()
    rules = TextRules({n_patients} if n_patients else set())
    found = []
    exempt = {page for page in DATA_FREE_PAGES if not _loads_cohort(page, notebooks)}
    pages = [page for page in pages if str(page.relative_to(root)) not in exempt]
    if n_patients is not None and is_small(n_patients):
        found.append(Finding("ledger", "data.n_patients", "small_count", f"the cohort has fewer than {MIN_CELL} "
                                                                         "patients"))
    for page in pages:
        found += scan_html(page, root, rules, n_patients, identifiers)
    for path in ledgers:
        label = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
        found += scan_json(path, label, rules, n_patients, identifiers)
    if notebooks:
        found += scan_notebook_figures(Path(notebooks))
    return found


def run_disclosure_scan_command(build_dir, ledger=None, extract=None, notebooks=None, real_only=False) -> int:
    if real_only:
        if is_committed_cohort(paths.cohort_dir()):
            print("disclosure-scan: the committed synthetic cohort is in use: nothing to check")
            return 0
        extract = extract or paths.cohort_dir()
    try:
        found = scan_book(build_dir, ledger, extract, notebooks)
    except (OSError, ValueError) as error:
        print(f"disclosure-scan: {error}", file=sys.stderr)
        return 2
    if not found:
        print(f"disclosure-scan: {build_dir}: no finding (counts below {MIN_CELL}, recoverable differences, minima "
              "and maxima, patient-level rows and figures were looked for)")
        return 0
    print(f"disclosure-scan: {build_dir}: {len(found)} finding(s); this output must not be released as it is "
          "(values are not repeated here):", file=sys.stderr)
    for finding in found:
        print(f"  - {finding.describe()}", file=sys.stderr)
    return 1
