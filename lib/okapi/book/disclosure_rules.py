"""What the output check of a real-data book looks for, as text rules a reviewer would apply (okapi.book.disclosure_scan
walks the built HTML, the notebooks' figures and the ledger JSON and applies them).

Kinds of finding: `small_count` (a count of 1 to MIN_CELL - 1 patients), `recoverable_count` (a count that another
shown count recovers: the cohort total minus a subgroup, a group total minus the groups under it, a denominator implied
by "n (x%)"), `min_max` (a minimum, maximum or range of a variable), `patient_identifier`, `patient_level_table` (a
patient-identifier column, or as many rows as patients), `patient_level_figure` (a figure whose alt text says it draws
patients one by one), `unchecked_figure` (a figure without alt text, which cannot be checked). Messages say what and
where, never the value shown (a finding is itself about real data).

Counts are recognised in context, as a reviewer reads them: a cell of a count column (headed n, N, patients, count,
missing, ...), "n (x%)", "n = x", "x patients" (women, men, participants, cases, ...), "x of y patients", "the x with".
Differencing is checked against totals the output itself shows (the cohort's N from the ledger, "(n = x)" headers),
not between any two numbers, which would flag every pair of monthly counts.
"""

import re
from dataclasses import dataclass

from okapi.data.privacy import MIN_CELL

NUMBER = r"(\d{1,3}(?:,\d{3})+|\d+)"
COUNT_PERCENT = re.compile(r"(?<![\d.,<>≤≥=−-])(?<![<>≤≥=] )" + NUMBER + r" \((\d+(?:\.\d+)?) ?%\)")
N_EQUALS = re.compile(r"(?<![A-Za-z])[nN] ?= ?" + NUMBER + r"(?![\d.])")
# Not "Figure 1 Patients ..." nor "month 3 patients": a number after a caption or time label is not a count.
COUNT_WORDS = re.compile(r"(?<![\d.,<>≤≥=−-])(?<![<>≤≥=] )(?<!figure )(?<!table )(?<!month )(?<!months )\b"
                         + NUMBER + r" (?:patients?|participants?|subjects?|persons?|"
                         r"people|women|men|cases?|responders?|non-responders?|deaths?)\b", re.IGNORECASE)
X_OF_Y = re.compile(r"(?<![\d.,<>≤≥=−-])\b" + NUMBER + r" of (?:the )?" + NUMBER +
                    r"(?= (?:patients?|participants?|with|who|answer))", re.IGNORECASE)
OF_THE_X = re.compile(r"\bof the " + NUMBER + r" (?:with|who)\b", re.IGNORECASE)
COUNT_HEADER = re.compile(r"^(n|N|no\.?|number|patients?|count|answers?|answered|responders?|events?|cases?|missing|"
                          r"without)\b|\bn \(%\)|\(n\)$", re.IGNORECASE)
BARE_COUNT = re.compile(r"^\s*" + NUMBER + r"\s*$")
MIN_MAX_TEXT = re.compile(
    r"\b(?:min(?:imum)?|max(?:imum)?)\b\s*(?:[=:,]|of|was|is|at)?\s*[−-]?\d"
    r"|(?<!interquartile )(?<!plausible )\brange\b\s*[,:=(]?\s*[−-]?\d[\d.]*\s*(?:to|-|–|,)\s*[−-]?\d"
    r"|\bmin(?:imum)?\s*(?:-|–|to|/)\s*max(?:imum)?\b|\b(?:youngest|oldest)\b", re.IGNORECASE)
MIN_MAX_HEADER = re.compile(r"^(?:min(?:imum)?|max(?:imum)?|range|min\s*[-–/]\s*max)$"
                            r"|\((?:min(?:imum)?\s*(?:[-–,/]|to)\s*max(?:imum)?|range)\)", re.IGNORECASE)
# A bare "Id" heads the ledger's result ids (R1, C2): only a header naming a patient marks a listing (the extract's
# identifiers themselves are searched for in every cell).
PATIENT_HEADER = re.compile(r"^(?:(?:n°|no\.?|numéro|num)?\s*patient(?:[ _]?id)?|subject(?:[ _]?id)?|"
                            r"participant(?:[ _]?id)?|pseudonym)$", re.IGNORECASE)
PER_PATIENT_FIGURE = re.compile(
    r"\b(?:one|a|each)\s+(?:line|curve|trajectory|trace|dot|point|marker|bar|row|profile)\s+"
    r"(?:per|for each|for every|for one)\s+(?:patient|participant|subject|person)\b"
    r"|\b(?:each|every) patient['’]s\b|\bindividual (?:patients?|trajector(?:y|ies)|curves?|profiles?|courses?|"
    r"scores|responses)\b|\bspaghetti\b|\bper-patient\b|\bpatient-level\b", re.IGNORECASE)


@dataclass(frozen=True)
class Finding:
    file: str
    where: str
    kind: str
    message: str

    def describe(self) -> str:
        return f"{self.file}: {self.where}: {self.message} [{self.kind}]"


def count_of(text: str) -> int:
    return int(text.replace(",", ""))


def is_small(count: int) -> bool:
    return 0 < count < MIN_CELL


def implied_denominators(count: int, percent: str) -> list[int]:
    """Every whole denominator D for which count / D rounds to the printed percentage."""
    value = float(percent)
    if value <= 0 or count <= 0:
        return []
    half = 0.5 * 10 ** -(len(percent.split(".")[1]) if "." in percent else 0)
    low, high = 100 * count / (value + half), 100 * count / max(value - half, 1e-9)
    return [d for d in range(max(count, int(low)), int(high) + 2) if abs(100 * count / d - value) <= half + 1e-9]


class TextRules:
    """Applies the rules to one piece of shown text; `totals` are the group totals the output shows (the cohort N)."""

    def __init__(self, totals: set[int]):
        self.totals = {t for t in totals if t >= MIN_CELL}

    def counts(self, text: str) -> list[tuple[int, str]]:
        """(count, how it was recognised) for every count in the text."""
        found = [(count_of(m.group(1)), "n (x%)") for m in COUNT_PERCENT.finditer(text)]
        found += [(count_of(m.group(1)), "n = x") for m in N_EQUALS.finditer(text)]
        found += [(count_of(m.group(1)), "'x patients'") for m in COUNT_WORDS.finditer(text)]
        found += [(count_of(m.group(1)), "'x of y'") for m in X_OF_Y.finditer(text)]
        found += [(count_of(m.group(1)), "'of the x with'") for m in OF_THE_X.finditer(text)]
        return found

    def check_count(self, count: int, how: str) -> list[tuple[str, str]]:
        if is_small(count):
            return [("small_count", f"a count below {MIN_CELL} is shown ({how})")]
        recovered = [total for total in self.totals if is_small(total - count)]
        if recovered:
            return [("recoverable_count", f"a count ({how}) is within {MIN_CELL - 1} of a total the output shows: "
                                          "their difference, a group below the threshold, can be recovered")]
        return []

    def check(self, text: str, figure_alt: bool = False) -> list[tuple[str, str]]:
        problems = []
        for count, how in self.counts(text):
            problems += self.check_count(count, how)
        for match in COUNT_PERCENT.finditer(text):
            count, denominators = count_of(match.group(1)), implied_denominators(count_of(match.group(1)),
                                                                              match.group(2))
            if denominators and all(is_small(d - count) for d in denominators):
                problems.append(("recoverable_count", "a count and its percentage imply the rest of its group, "
                                                      f"fewer than {MIN_CELL} patients"))
            elif denominators and self.totals and all(any(is_small(t - d) for t in self.totals)
                                                      for d in denominators):
                problems.append(("recoverable_count", "the denominator implied by a count and its percentage is "
                                                      f"within {MIN_CELL - 1} of a total the output shows"))
        for match in X_OF_Y.finditer(text):
            if is_small(count_of(match.group(2)) - count_of(match.group(1))):
                problems.append(("recoverable_count", f"'x of y': the y - x others are fewer than {MIN_CELL}"))
        if MIN_MAX_TEXT.search(text):
            problems.append(("min_max", "a minimum, maximum or range is shown"))
        if figure_alt and PER_PATIENT_FIGURE.search(text):
            problems.append(("patient_level_figure", "the figure draws patients one by one (its alt text says so); "
                                                     "show an aggregate (mean and band, shares) instead"))
        return problems


def identifiers_in(text: str, identifiers: frozenset) -> bool:
    return bool(identifiers) and bool(set(re.findall(r"[\w-]+", text)) & identifiers)


def searchable_identifiers(values) -> frozenset:
    """Identifiers a number could not equal by chance (as the runtime guard: letters and 3+ characters, or 6+
    digits)."""
    ids = {str(v).strip() for v in values}
    return frozenset(i for i in ids if (re.search(r"[A-Za-z]", i) and len(i) >= 3) or (i.isdigit() and len(i) >= 6))


def table_findings(headers: list[str], rows: list[list[str]], rules: TextRules, n_patients: int | None,
                   identifiers: frozenset, file: str, label: str) -> list[Finding]:
    """A shown table: its header counts, count columns, min/max columns, size and cells."""
    found = []

    def add(where, kind, message):
        found.append(Finding(file, f"{label}{', ' + where if where else ''}", kind, message))

    if n_patients and len(rows) >= n_patients:
        add("", "patient_level_table", f"as many rows ({len(rows)}) as patients or more: a listing, not an aggregate")
    header_counts = []
    for column, header in enumerate(headers):
        where = f"column {header[:40]!r}"
        if PATIENT_HEADER.match(header.strip()):
            add(where, "patient_level_table", "a patient identifier column")
        if MIN_MAX_HEADER.search(header.strip()):
            add(where, "min_max", "a column of minima, maxima or ranges")
        for kind, message in rules.check(header):
            add(where + " (header)", kind, message)
        header_counts += [count_of(m.group(1)) for m in N_EQUALS.finditer(header)]
    if len(header_counts) >= 2:
        total, *groups = sorted(header_counts, reverse=True)
        if is_small(total - sum(groups)) or (len(groups) == 1 and is_small(total - groups[0])):
            add("header", "recoverable_count", f"the header's total minus its groups leaves fewer than {MIN_CELL} "
                                               "patients (a group that is not shown can be recovered)")
    # A column headed "Group (n = 72)" is a total of its own: its cells' denominators are checked against it too.
    column_rules = [TextRules(rules.totals | {count_of(m.group(1)) for m in N_EQUALS.finditer(header)})
                    for header in headers]
    for number, row in enumerate(rows, 1):
        for column, cell in enumerate(row):
            header = headers[column] if column < len(headers) else ""
            rules = column_rules[column] if column < len(headers) else rules
            where = f"column {header[:40]!r}, row {number}"
            if identifiers_in(cell, identifiers):
                add(where, "patient_identifier", "a patient identifier of the extract is shown")
            bare = BARE_COUNT.match(cell)
            if bare and COUNT_HEADER.search(header.strip()):
                for kind, message in rules.check_count(count_of(bare.group(1)), "count column"):
                    add(where, kind, message)
            for kind, message in rules.check(cell):
                add(where, kind, message)
    return found
