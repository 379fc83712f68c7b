# Guards against a result typed into the prose by hand: a number in a page's text (not in a glue role, not computed in
# a code cell) that equals a value of the reproduction ledger, computed (the front page's stored ledger) or published
# (data/targets.csv). Such a number does not change when the analysis or the data change, so the page would silently
# contradict its own tables.
#
# What counts as prose: the Markdown cells of index.md and of every chapters/*.md, and the journal manuscript's
# sources, manuscript/*.md (globs, so new pages are covered without editing this file), including figure captions, admonitions, Markdown tables typed in a cell and $math$ (a
# number in an equation is read like any other), and the string literals of code cells (captions are typed there).
# What does not: the rest of code cells (their tables and glued values are computed), MyST roles (`{glue:text}`,
# `{numref}`, `{cite:p}`, ...: their content is a name, not a number), labels, directive options, comments, inline
# code and code blocks (commands and identifiers, whose numbers are inputs), URLs.
#
# When a prose number equals a ledger value ("to its printed precision"): the book prints every ledger value with a
# fixed number of decimals, p (a computed entry's `digits`; a published value's decimals as printed in targets.csv; a
# P value as fmt_p prints it). A prose number with d decimals matches a ledger value v when d >= p and |v| rounded to
# d decimals equals it. Reasons:
# - magnitudes, not signs, are compared, because prose states signed results unsigned ("pain fell by 0.47 points");
# - d >= p: a typed copy of a result carries at least the digits the book prints; a coarser rounding (0.5 for a
#   printed 0.47) cannot be told from an unrelated round number, and matching it makes the test noisy;
# - so an integer matches only values printed as integers (counts such as 329, 249, 256, 240, 93, 108, 218), never
#   the months, scale bounds and cut-offs (12, 0-10, 7) that are integers too;
# - a number followed by % matches only ledger values whose unit is % (shares, proportion mediated): "100%" is not
#   the rounded upper bound of a count's interval.
# Facts that are not results but coincide with a ledger value go in ALLOWED_FACTS, each with the phrase it is
# allowed in and the reason; the allowance covers that phrase only, so the same number elsewhere is still caught.
import ast
import re
from dataclasses import dataclass
from pathlib import Path

import jupytext
import nbformat
import pytest

from book_pages import toc_docnames
from okapi import paths
from okapi.verdicts.ledger import printed_targets
from okapi.book.report import ARTIFACT_KEY, fmt_number

LEDGER_FILE = "reproduction-ledger.json"


@dataclass(frozen=True)
class LedgerValue:
    value: float  # magnitude
    digits: int  # decimals the book prints it with
    percent: bool  # unit is %
    source: str  # e.g. "R4 estimate", "C2a published"


@dataclass(frozen=True)
class TypedNumber:
    text: str
    context: str
    matches: tuple[str, ...]


# (number as typed, regex of the phrase that must contain it for the allowance to apply, reason). Empty when no fact
# coincides with a ledger value; an entry that no longer equals a ledger value, or has no
# reason, fails test_allowed_facts_carry_a_reason_and_are_still_needed.
ALLOWED_FACTS: tuple[tuple[str, str, str], ...] = ()


# --- The ledger ----------------------------------------------------------------------------------------------------

def _decimals(printed: str) -> int:
    printed = printed.strip().lstrip("<>=").strip()
    return len(printed.split(".")[1]) if "." in printed else 0


def _printed_p_digits(p: float) -> tuple[float, int]:
    # As okapi.book.report.fmt_p prints it: "< .001" below .001, three decimals below .01, else two.
    if p < 0.001:
        return 0.001, 3
    return p, 3 if p < 0.01 else 2


def stored_ledger(front_page: Path = paths.REPO_ROOT / "index.ipynb") -> dict:
    """The machine-readable ledger the front page published in its stored outputs."""
    for cell in nbformat.read(front_page, as_version=4).cells:
        for output in cell.get("outputs", []):
            if output.get("metadata", {}).get(ARTIFACT_KEY) == LEDGER_FILE:
                return output["data"]["application/json"]
    raise AssertionError(f"{front_page.name} has no stored {LEDGER_FILE}: regenerate it")


def ledger_values(ledger: dict) -> list[LedgerValue]:
    """Every value the ledger prints: published value, CI and P (targets.csv, as printed), and the reproduced estimate,
    CI and P (the stored ledger, at the digits the book prints them with)."""
    targets = printed_targets()
    percent_ids = set(targets.index[targets["unit"] == "%"])
    values = []
    for target_id, row in targets.iterrows():
        for column in ("value", "ci_low", "ci_high", "p_reported"):
            if row[column]:
                printed = row[column].lstrip("<>= ")
                values.append(LedgerValue(abs(float(printed)), _decimals(printed),
                                          target_id in percent_ids and column != "p_reported",
                                          f"{target_id} published {column}"))
    for item in ledger["entries"]:
        percent = item["id"] in percent_ids
        for column in ("estimate", "ci_low", "ci_high"):
            if item[column] is not None:
                values.append(LedgerValue(abs(item[column]), item["digits"], percent, f"{item['id']} {column}"))
        if item["p_value"] is not None:
            p, digits = _printed_p_digits(item["p_value"])
            values.append(LedgerValue(p, digits, False, f"{item['id']} P"))
    return values


# --- The prose -----------------------------------------------------------------------------------------------------

FENCE = re.compile(r"^\s*(?P<fence>`{3,}|~{3,}|:{3,})\s*(?:\{(?P<directive>[\w:-]+)\})?\s*(?P<argument>.*)$")
# Directives whose argument is a name or a target, not words a reader sees as prose.
NAME_ARGUMENT_DIRECTIVES = {"glue:figure", "glue:table", "glue:math", "glue:any", "glue", "figure", "image", "include",
                            "only", "bibliography", "literalinclude"}
CODE_DIRECTIVES = {"code-block", "code", "code-cell", "sourcecode", "literalinclude", "raw", "eval-rst"}
OPTION = re.compile(r"^\s*:[\w-]+:")
ROLE = re.compile(r"\{[\w:-]+\}(`+)(?P<content>.*?)\1")
EXPLICIT_TITLE = re.compile(r"^(?P<title>.*?)\s*<[^<>]+>$", re.S)
INLINE_CODE = re.compile(r"(`+).*?\1")
SUBSTITUTION = re.compile(r"\{\{.*?\}\}")
LINK_TARGET = re.compile(r"\]\([^)]*\)|<https?://[^>]*>")
HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
LABEL = re.compile(r"^\s*\([\w.:-]+\)=\s*$")
# A number not glued to a word: not "R4", "C2a", "SF-12", "HADS-D", "log10", "x2"; thousands with commas allowed.
NUMBER = re.compile(r"(?<![\w.])(?<![A-Za-z]-)(?P<number>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
                    r"(?![\w])(?P<percent>\s?%)?")


def _role_text(match: re.Match) -> str:
    # A cross-reference with an explicit title ({ref}`the 329 patients <label>`) shows its title: keep that.
    titled = EXPLICIT_TITLE.match(match["content"])
    return f" {titled['title']} " if titled and not match.group(0).startswith("{glue") else " "


def markdown_prose(markdown: str) -> str:
    """The text of one Markdown cell as a reader sees it, without what cannot hold a typed result (see header)."""
    lines, fences, options_next = [], [], False  # fences: stack of (fence, is_code) for nested directives
    for line in HTML_COMMENT.sub(" ", markdown).splitlines():
        stripped = line.strip()
        if fences and stripped and set(stripped) == {fences[-1][0][0]} and len(stripped) >= len(fences[-1][0]):
            fences.pop()
            options_next = False
            continue
        if fences and fences[-1][1]:
            continue
        opened = FENCE.match(line)
        if opened:
            directive = opened["directive"]
            is_code = directive is None or directive in CODE_DIRECTIVES
            fences.append((opened["fence"], is_code))
            if directive and not is_code and directive not in NAME_ARGUMENT_DIRECTIVES:
                lines.append(opened["argument"])
            options_next = True
            continue
        if options_next and OPTION.match(line):
            continue
        options_next = False
        if LABEL.match(line) or line.lstrip().startswith("%"):
            continue
        lines.append(line)
    text = "\n".join(lines)
    text = ROLE.sub(_role_text, text)
    text = SUBSTITUTION.sub(" ", text)
    text = INLINE_CODE.sub(" ", text)
    return LINK_TARGET.sub("]", text)


def caption_strings(code: str) -> list[str]:
    """The string literals of a code cell: table captions are typed there and read as prose."""
    try:
        tree = ast.parse(code)
    except SyntaxError:  # IPython magics: nothing to read
        return []
    return [node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)]


def page_prose(source_text: str) -> str:
    """The prose of a Jupytext MyST page: its Markdown cells and the string literals (captions) of its code cells."""
    notebook = jupytext.reads(source_text, fmt="md:myst")
    parts = []
    for cell in notebook.cells:
        parts += [markdown_prose(cell.source)] if cell.cell_type == "markdown" else caption_strings(cell.source)
    return "\n".join(parts)


def _allowed(number: re.Match, prose: str, allowed) -> bool:
    """Whether an allowance's phrase, found around this number, contains it."""
    start, end = number.span("number")
    window_start = max(0, start - 200)
    return any(number["number"] == fact and any(
        window_start + phrase.start() <= start and end <= window_start + phrase.end()
        for phrase in re.finditer(pattern, prose[window_start:end + 200])) for fact, pattern, _ in allowed)


def allowance_problems(allowed, values: list[LedgerValue]) -> list[str]:
    """Allowances without a reason, or for a number that no longer equals any ledger value (so it can go)."""
    problems = []
    for number, _, reason in allowed:
        if len(reason.split()) < 4:
            problems.append(f"{number}: give the reason it is a fact and not a result")
        if not any(_decimals(number) >= v.digits and round(v.value, _decimals(number)) == float(number)
                   for v in values):
            problems.append(f"{number}: equals no ledger value any more; drop its allowance")
    return problems


def typed_ledger_numbers(prose: str, values: list[LedgerValue], allowed=ALLOWED_FACTS) -> list[TypedNumber]:
    found = []
    for match in NUMBER.finditer(prose):
        text, percent = match["number"], bool(match["percent"])
        number, decimals = float(text.replace(",", "")), _decimals(text)
        hits = tuple(v.source for v in values
                     if decimals >= v.digits and (v.percent or not percent)
                     and round(v.value, decimals) == number)
        context = prose[max(0, match.start() - 60):match.end() + 60].replace("\n", " ")
        if hits and not _allowed(match, prose, allowed):
            found.append(TypedNumber(text + ("%" if percent else ""), context, hits))
    return found


# --- The tests -----------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def values():
    return ledger_values(stored_ledger())


def test_the_ledger_is_read_in_full(values):
    # Without this, an empty ledger (a renamed artifact, a changed JSON layout) would make every page pass.
    targets = printed_targets()
    assert {v.source.split()[0] for v in values if "published" in v.source} == set(targets.index)
    assert {v.source.split()[0] for v in values if "estimate" in v.source} == set(
        item["id"] for item in stored_ledger()["entries"])
    assert len(stored_ledger()["entries"]) >= 30


MANUSCRIPT_SOURCES = sorted((paths.REPO_ROOT / "manuscript").glob("*.md"))
PAGES = [*paths.notebook_sources(), *MANUSCRIPT_SOURCES]


def test_every_page_of_the_book_is_scanned():
    scanned = {str(p.relative_to(paths.REPO_ROOT).with_suffix("")) for p in paths.notebook_sources()}
    assert set(toc_docnames()) <= scanned


def test_the_manuscript_is_scanned():
    assert [p.name for p in MANUSCRIPT_SOURCES] == ["manuscript.md"]


@pytest.mark.parametrize("source", PAGES, ids=lambda p: p.stem)
def test_prose_has_no_typed_ledger_number(source, values):
    typed = typed_ledger_numbers(page_prose(source.read_text(encoding="utf-8")), values)
    assert not typed, f"{source.name}: numbers typed in the prose equal ledger values; " \
        "glue them (okapi.book.report.glue_text) or read them from data/targets.csv:\n" + "\n".join(
            f"  {t.text} = {', '.join(t.matches)}  in '...{t.context}...'" for t in typed)


def _ledger_item(target_id: str) -> dict:
    return next(item for item in stored_ledger()["entries"] if item["id"] == target_id)


def test_a_planted_typed_number_is_caught_and_a_glued_one_is_not(values, tmp_path):
    source = (paths.CHAPTERS_DIR / "pain.md").read_text(encoding="utf-8")
    r4 = _ledger_item("R4")
    computed = fmt_number(r4["estimate"], r4["digits"])
    planted = (f"\n\nPain fell by {computed.lstrip(chr(0x2212))} SD over the year (published −0.52, 95% CI −0.62 to "
               "−0.41), in 329 patients; glued: {glue:text}`published_r4`, {glue:text}`es_model`.\n")
    heading = "## Effect size over one year\n"
    assert heading in source
    copy = source.replace(heading, heading + planted)
    before = [t.text for t in typed_ledger_numbers(page_prose(source), values)]
    after = [t.text for t in typed_ledger_numbers(page_prose(copy), values)]
    new = sorted(set(after) - set(before))
    assert new == sorted({computed.lstrip(chr(0x2212)), "0.52", "0.62", "0.41", "329"}), new
    # And the page test itself fails on the copy, naming the planted number.
    planted_page = tmp_path / "pain.md"
    planted_page.write_text(copy, encoding="utf-8")
    with pytest.raises(AssertionError, match="0.62 = R4 published ci_low"):
        test_prose_has_no_typed_ledger_number(planted_page, values)


def test_numbers_outside_the_prose_are_not_read():
    code_cell = ("```{code-cell} ipython3\n:tags: [remove-cell]\n\nx = 0.52\nreport.glue_text('a', n)\n"
                 "report.markdown_table(t, 'Caption: 2.4 points.', 'tbl-x')\n```\n")
    markdown = ("(tbl-0.52)=\n% a comment with 0.52\n\n```{glue:figure} fig_0_52\n:name: fig-0.52\n\nA caption "
                "with 6.8.\n```\n\n```bash\nokapi simulate --n 329\n```\n\n::::{admonition} Note 1.8\n:class: tip\n"
                "```python\nn = 93\n```\nText 5.7.\n::::\n\nRun `--n 329`; see {numref}`tbl-329` and "
                "{ref}`the 240 patients <sec-240>`; {glue:text}`r4_0.52`; [a link](https://example.org/329) "
                "and $x = 0.41$.\n")
    prose = page_prose(markdown + "\n" + code_cell)
    assert [m["number"] for m in NUMBER.finditer(prose)] == ["6.8", "1.8", "5.7", "240", "0.41", "2.4"], prose


# A hand-made ledger, so the rule is tested on its own and not on today's stored estimates.
RULE_VALUES = [
    LedgerValue(0.465361, 2, False, "R4 estimate"),   # printed 0.47
    LedgerValue(100.368816, 0, False, "R3c ci_high"),  # a count's CI bound, printed 100
    LedgerValue(75.7, 1, True, "R3b published value"),
    LedgerValue(0.002, 3, False, "R8 published p_reported"),
    LedgerValue(0.001, 3, False, "R4 published p_reported"),  # printed "<.001"
    LedgerValue(329.0, 0, False, "R1 published value"),
]


@pytest.mark.parametrize("prose, expected", [
    ("pain fell by 0.47 SD", ["0.47"]),             # unsigned copy of a signed value, at the printed digits
    ("an effect of \u22120.465", ["0.465"]),        # more digits than printed still copy the value
    ("0.5 is a round number", []),                  # coarser than printed: not counted
    ("over 12 months, 0-10 scale", []),             # integers match only values printed as integers
    ("all 329 patients, 329.0", ["329", "329.0"]),
    ("at least 100% of them; 100 draws", ["100"]),  # % matches only % values, not a count's CI bound
    ("a share of 75.7% and 75.7", ["75.7%", "75.7"]),
    ("P = .002 and P < .001", [".002", ".001"]),    # published P values, as printed
    ("R4 and SF-12 and C2a and HADS-D", []),        # ids and names are not numbers
    ("1,000 resamples", []),
])
def test_matching_rule(prose, expected):
    assert [t.text for t in typed_ledger_numbers(prose, RULE_VALUES)] == expected


def test_allowed_facts_carry_a_reason_and_are_still_needed(values):
    assert allowance_problems(ALLOWED_FACTS, values) == []


def test_an_allowance_covers_its_phrase_only_and_needs_a_reason():
    allowed = (("329", r"329 patients were enrolled", "the enrolment count is a design fact in this example"),)
    found = typed_ledger_numbers("329 patients were enrolled; later 329 answered.", RULE_VALUES, allowed)
    assert [t.context.split(";")[1].strip()[:12] for t in found] == ["later 329 an"]
    assert allowance_problems((("329", "x", "why"), ("3.14", "x", "the ratio of a circle to its diameter")),
                              RULE_VALUES) == ["329: give the reason it is a fact and not a result",
                                               "3.14: equals no ledger value any more; drop its allowance"]


# The manuscript is held to a stricter rule than the book: no number at all in its prose but these facts of the design
# and names, each allowed only in its phrase (a result, ledger value or not, is glued). A number typed anywhere else
# fails, whether or not it equals a ledger value today.
MANUSCRIPT_FACTS: tuple[tuple[str, str, str], ...] = (
    ("0", r"0-10 Numerical Pain Rating Scale", "the pain scale's range, a definition of the instrument"),
    ("10", r"0-10 Numerical Pain Rating Scale", "the pain scale's range, a definition of the instrument"),
    ("95%", r"95% (?:CI|confidence band)", "the intervals' level, okapi.plan.CI_LEVEL (checked below)"),
    ("12", r"at month 12", "the last monthly call of the design (D7), okapi.plan.FINAL_MONTH (checked below)"),
    ("1", r"week 1\b", "the week-1 call after the first ketamine stay, where the companion paper counted effects"),
    ("1", r"Supplement 1\b", "the supplement's name in the journal's form"),
)


def numbers_not_allowed(prose: str, allowed=MANUSCRIPT_FACTS) -> list[str]:
    return [m.group().strip() for m in NUMBER.finditer(prose)
            if not _allowed(m, prose, [(fact.rstrip("%"), pattern, why) for fact, pattern, why in allowed])]


def test_the_manuscript_types_no_number_but_design_facts():
    from okapi import plan

    assert (round(plan.CI_LEVEL * 100), plan.FINAL_MONTH) == (95, 12), "a fact below no longer matches the plan"
    for source in MANUSCRIPT_SOURCES:
        assert numbers_not_allowed(page_prose(source.read_text(encoding="utf-8"))) == [], source.name


def test_the_manuscript_rule_catches_a_planted_number():
    prose = page_prose("Pain fell by 0.85 points at month 12 on the 0-10 Numerical Pain Rating Scale (95% CI); "
                       "12 patients answered in week 1; see Supplement 1 and Supplement 2.")
    assert numbers_not_allowed(prose) == ["0.85", "12", "2"]
