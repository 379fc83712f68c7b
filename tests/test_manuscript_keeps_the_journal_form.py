# Guards against a submission that builds but breaks JAMA Network Open's form: the abstract over 350 words or without
# its seven headings, Key Points over 100 words or without Question/Findings/Meaning, the main text over 3,000 words,
# more than 5 tables and figures, a table that is not a real Word table or a figure not embedded, and a layout defect
# in the LaTeX log of the manuscript or of the supplement (overfull box over 5 pt, float too large, undefined ref).
import json
import re
import zipfile

import pytest

from okapi_publish import counts
from okapi_publish.build import NAME
from support.latex_log import log_problems


def test_the_build_reports_no_broken_limit_or_form(submission):
    assert submission.returncode == 0, submission.output[-3000:]
    tally = json.loads((submission.folder / "counts.json").read_text(encoding="utf-8"))
    over = {name: tally[name] for name, limit in counts.LIMITS.items() if tally[name] > limit}
    assert over == {}
    assert tally["main_text_words"] > 1000 and tally["abstract_words"] > 150, "the counts read almost nothing"


def test_the_counts_printed_are_the_counts_of_the_text(submission):
    tally = json.loads((submission.folder / "counts.json").read_text(encoding="utf-8"))
    body = submission.markdown.split("# Key Points", 1)[1]
    recount = counts.count("# Key Points" + body, tally["tables"], tally["figures"], tally["references"])
    assert recount.as_dict() == tally
    for name in ("main_text_words", "abstract_words", "key_points_words"):
        assert re.search(rf"{name.replace('_', ' ')}: {tally[name]}\b", submission.output)


def test_abstract_and_key_points_carry_their_headings_in_order(submission):
    parts = counts.sections(submission.markdown)
    assert tuple(counts.paragraph_labels(parts["Abstract"])) == counts.ABSTRACT_HEADINGS
    assert tuple(counts.paragraph_labels(parts["Key Points"])) == counts.KEY_POINTS_HEADINGS
    for text in (submission.pdf_text, submission.docx_text):
        text = " ".join(text.split())
        abstract = text[text.index("Abstract"):text.index("Introduction")]
        positions = [abstract.find(heading + ".") for heading in counts.ABSTRACT_HEADINGS]
        assert -1 not in positions and positions == sorted(positions), positions


def test_word_tables_are_real_tables_and_figures_are_embedded(submission):
    tally = json.loads((submission.folder / "counts.json").read_text(encoding="utf-8"))
    with zipfile.ZipFile(submission.folder / f"{NAME}.docx") as document:
        xml = document.read("word/document.xml").decode("utf-8")
        media = [name for name in document.namelist() if name.startswith("word/media/")]
    assert xml.count("<w:tbl>") == tally["tables"]
    assert len(media) == tally["figures"] and xml.count("<w:drawing>") == tally["figures"]
    assert '<w:lnNumType' in xml, "no line numbers in the Word file"


@pytest.mark.parametrize("which", ["manuscript", "supplement"])
def test_latex_log_has_no_overfull_box_float_too_large_or_undefined_reference(submission, which):
    assert log_problems(getattr(submission, f"{which}_log")) == []


# The form check on planted defects, without building anything.

def planted_manuscript(abstract_words: int = 50, headings=counts.ABSTRACT_HEADINGS) -> str:
    abstract = "\n\n".join(f"**{heading}.** " + "word " * (abstract_words // len(headings)) for heading in headings)
    key_points = "\n\n".join(f"**{heading}.** a point" for heading in counts.KEY_POINTS_HEADINGS)
    main = "\n\n".join(f"# {name}\n\nSome text." for name in counts.MAIN_TEXT_SECTIONS)
    return f"# Key Points\n\n{key_points}\n\n# Abstract\n\n{abstract}\n\n{main}\n"


@pytest.mark.parametrize("defect, expected", [
    ("none", []),
    ("abstract too long", ["abstract words"]),
    ("a heading missing", ["Abstract headings"]),
    ("headings out of order", ["Abstract headings"]),
    ("too many displays", ["display items"]),
])
def test_form_check_catches_a_planted(defect, expected):
    headings = list(counts.ABSTRACT_HEADINGS)
    if defect == "a heading missing":
        headings.remove("Exposures")
    if defect == "headings out of order":
        headings[0], headings[1] = headings[1], headings[0]
    markdown = planted_manuscript(abstract_words=400 if defect == "abstract too long" else 70, headings=headings)
    tally = counts.count(markdown, 3, 3 if defect == "too many displays" else 2, 5)
    found = counts.form_problems(markdown, tally)
    assert [problem.split(":")[0] for problem in found] == expected, found
