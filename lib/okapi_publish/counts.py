"""The journal's form and limits (JAMA Network Open, Original Investigation), and the counts the build checks.

Counts are taken on the resolved manuscript (every glued number in place), section by section: the abstract and the
Key Points with their headings, the main text from the Introduction to the Conclusions without headings, citations,
tables or figure legends (which is how the journal counts). A word is a run of non-space characters holding a letter
or a digit, as a word processor counts it ("95%", "−0.85" and "HADS-D" are one word each).
"""

import re
from dataclasses import asdict, dataclass

ABSTRACT_HEADINGS = ("Importance", "Objective", "Design, Setting, and Participants", "Exposures",
                     "Main Outcomes and Measures", "Results", "Conclusions and Relevance")
KEY_POINTS_HEADINGS = ("Question", "Findings", "Meaning")
MAIN_TEXT_SECTIONS = ("Introduction", "Methods", "Results", "Discussion", "Conclusions")
LIMITS = {"abstract_words": 350, "key_points_words": 100, "main_text_words": 3000, "display_items": 5}

SECTION = re.compile(r"^# (?P<title>.+?)\s*$", re.M)
CITATION = re.compile(r"\[@[^\]]*\]")
PLACEHOLDER = re.compile(r"<<display:[^>]*>>")
WORD = re.compile(r"\S*[^\W_]\S*")
LABEL = re.compile(r"^\*\*(?P<label>[^*]+?)\.?\*\*", re.M)


def sections(markdown: str) -> dict[str, str]:
    """{level-1 heading: its text} of a Markdown document (text before the first heading is dropped)."""
    found = list(SECTION.finditer(markdown))
    return {m["title"]: markdown[m.end():(found[i + 1].start() if i + 1 < len(found) else len(markdown))]
            for i, m in enumerate(found)}


def count_words(text: str, headings: bool = True) -> int:
    text = PLACEHOLDER.sub(" ", CITATION.sub(" ", text))
    if not headings:
        text = re.sub(r"^#+ .*$", " ", text, flags=re.M)
    text = re.sub(r"[*_`]", "", text)
    return len(WORD.findall(text))


def paragraph_labels(text: str) -> list[str]:
    """The bold labels that open the paragraphs of a section ("**Importance.** ...")."""
    return [m["label"].strip() for m in LABEL.finditer(text)]


@dataclass(frozen=True)
class Counts:
    abstract_words: int
    key_points_words: int
    main_text_words: int
    tables: int
    figures: int
    references: int

    @property
    def display_items(self) -> int:
        return self.tables + self.figures

    def as_dict(self) -> dict:
        return {**asdict(self), "display_items": self.display_items}


def count(markdown: str, tables: int, figures: int, references: int) -> Counts:
    parts = sections(markdown)
    missing = [name for name in ("Key Points", "Abstract", *MAIN_TEXT_SECTIONS) if name not in parts]
    if missing:
        raise ValueError(f"the manuscript lacks the sections {missing}")
    main = sum(count_words(parts[name], headings=False) for name in MAIN_TEXT_SECTIONS)
    return Counts(count_words(parts["Abstract"]), count_words(parts["Key Points"]), main, tables, figures,
                  references)


def form_problems(markdown: str, counts: Counts) -> list[str]:
    """What breaks the journal's form: a limit exceeded, or the abstract's or Key Points' headings not as required."""
    problems = [f"{name.replace('_', ' ')}: {value} over the limit of {LIMITS[name]}"
                for name, value in counts.as_dict().items() if name in LIMITS and value > LIMITS[name]]
    parts = sections(markdown)
    for name, required in (("Abstract", ABSTRACT_HEADINGS), ("Key Points", KEY_POINTS_HEADINGS)):
        labels = paragraph_labels(parts.get(name, ""))
        if tuple(labels) != required:
            problems.append(f"{name} headings: {labels}, not {list(required)}")
    return problems
