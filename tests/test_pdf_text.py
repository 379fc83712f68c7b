# Guards against a paper PDF that builds but does not say what the book computed: a reproduction-ledger number
# (published or reproduced) missing from the front page's tables, an unresolved reference ("??"), and a figure lost,
# renumbered, left without its caption or without its image. Each check runs on the text pdftotext extracts from the
# PDF itself, and each is shown to fail on a planted defect.
import re
import unicodedata
from collections import Counter

import pytest

from book_pages import figure_captions, page_title, stored_ledger, table_captions, toc_notebooks
from okapi.book.report import fmt_p
from okapi.verdicts.ledger import printed_targets

ASCII_PUNCTUATION = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2212": "-"})
# A number as printed: an optional minus, digits with decimals, or a bare decimal as in "P < .001".
NUMBER = re.compile(r"(?<![\w.])-?(?:\d+(?:\.\d+)?|\.\d+)(?!\d)")
MARKUP = re.compile(r"[{`$*_\[]")  # where a caption's MyST markup starts; the text before it is matched literally
LINE_START = r"(?:^|(?<=\n)|(?<=\f))"  # pdftotext separates pages with a form feed, not a newline
CAPTION = re.compile(LINE_START + r"Figure (\d+): ")


def normalised(text: str) -> str:
    """Ligatures expanded, the true minus and typographic quotes made ASCII."""
    return unicodedata.normalize("NFKC", text).translate(ASCII_PUNCTUATION)


def phrase(text: str) -> str:
    """A regex for `text` that tolerates line breaks and hyphenation anywhere in it."""
    letters = [char for char in normalised(text) if not char.isspace() and char != "-"]
    return r"[\s\-]*".join(map(re.escape, letters))


def printed_numbers(text: str) -> Counter:
    """Every number in the text, "-0.00" counted as "0.00" (the book never prints a negative zero)."""
    return Counter(token.lstrip("-") if float(token) == 0 else token for token in NUMBER.findall(normalised(text)))


def ledger_numbers(ledger: dict) -> dict[str, Counter]:
    """{ledger id: the numbers its row prints}: the published value, CI and P as printed (data/targets.csv), and the
    reproduced estimate and CI at the row's digits. The JSON keeps six decimals, far past any printed digit."""
    targets = printed_targets()
    rows = {}
    for entry in ledger["entries"]:
        target = targets.loc[entry["id"].removesuffix("-P")]
        if entry["id"].endswith("-P"):  # a P claim's row: the printed P beside the reproduced one
            rows[entry["id"]] = printed_numbers(target["p_reported"] + " " + fmt_p(entry["estimate"]))
            continue
        published = " ".join([target["value"], target["ci_low"], target["ci_high"]])
        reproduced = [] if entry["verdict"] == "not estimable" else (
            [entry["estimate"]] + ([entry["ci_low"], entry["ci_high"]] if entry["ci_low"] is not None else []))
        rows[entry["id"]] = printed_numbers(published + " " + " ".join(f"{v:.{entry['digits']}f}" for v in reproduced))
    return rows


def front_page_text(text: str) -> str:
    """The PDF's text from the ledger table's caption to the heading of the book's second page."""
    text = normalised(text)
    start = re.search(phrase(table_captions(toc_notebooks()[0])["tbl-ledger"][:60]), text)
    assert start, "the ledger table's caption is not in the PDF"
    end = re.compile(LINE_START + r"\d+[ \t]+" + phrase(page_title(toc_notebooks()[1])) + r"[ \t]*\n").search(
        text, start.end())
    assert end, "the heading after the front page is not in the PDF"
    return text[start.start():end.start()]


def missing_ledger_numbers(front_text: str, ledger: dict) -> dict[str, list[str]]:
    """{ledger id: numbers of its row not found}; a number printed twice (published and reproduced) must be found
    twice, and each row's id must be there."""
    found = printed_numbers(front_text)

    def shows_id(row_id: str) -> bool:  # pdftotext may run the narrow Id column into the next one ("R2bage, SD")
        # and break a P claim's id at its hyphen, even dropping it ("R10-" / "P", or "R10P value: ...")
        pattern = r"-?\s*".join(re.escape(part) for part in row_id.split("-"))
        return re.search(rf"(?<![A-Za-z0-9]){pattern}(?!\d)", front_text) is not None

    missing = {}
    for row_id, numbers in ledger_numbers(ledger).items():
        lacking = sorted((numbers - found).elements()) + ([] if shows_id(row_id) else [row_id])
        found -= numbers
        if lacking:
            missing[row_id] = lacking
    for statement in ledger["statements"]:
        if not shows_id(statement["id"]):
            missing[statement["id"]] = [statement["id"]]
    return missing


def figure_problems(text: str, captions: list[str], images_per_page: Counter) -> list[str]:
    """What is wrong with the PDF's figures, given the book's figure captions in order and the images on each page:
    figure k must be captioned "Figure k: <its caption>", there must be no other figure, and a page must hold at
    least as many figure graphics as figure captions."""
    text = normalised(text)
    problems = []
    for number, caption in enumerate(captions, start=1):
        literal = MARKUP.split(caption)[0][:60]
        if not re.search(phrase(f"Figure {number}: {literal}"), text):
            problems.append(f"Figure {number} ({literal!r}...) not captioned in the PDF")
    numbered = sorted(int(n) for n in CAPTION.findall(text))
    if numbered != list(range(1, len(captions) + 1)):
        problems.append(f"the PDF captions figures {numbered}, the book has {len(captions)}")
    for page, page_text in enumerate(text.split("\f"), start=1):
        captioned = len(CAPTION.findall(page_text))
        if images_per_page[page] < captioned:
            problems.append(f"page {page}: {captioned} figure captions but {images_per_page[page]} images")
    return problems


def unresolved_markers(text: str) -> list[str]:
    """LaTeX's marks of a reference ("??") or citation ("[?]") it could not resolve, and Sphinx's "<no title>"."""
    return [marker for marker in ("??", "[?]", "<no title>") if marker in text]


def images_per_page(pdf) -> Counter:
    """How many figure graphics each page draws: raster images, and the vector figures LaTeX includes as form
    XObjects (the book's figures are PDFs, which `pdfimages` does not list)."""
    from pypdf import PdfReader

    counts = Counter()
    for number, page in enumerate(PdfReader(str(pdf)).pages, start=1):
        resources = page.get("/Resources") or {}
        xobjects = resources.get("/XObject") or {}
        for reference in xobjects.values():
            subtype = reference.get_object().get("/Subtype")
            counts[number] += subtype in ("/Image", "/Form")
    return counts


def book_figure_captions() -> list[str]:
    return [caption for notebook in toc_notebooks() for caption in figure_captions(notebook, "latex")]


def test_pdf_front_page_prints_every_ledger_number(paper):
    missing = missing_ledger_numbers(front_page_text(paper.text), stored_ledger())
    assert not missing, f"ledger numbers missing from the PDF's front page: {missing}"


def test_pdf_has_no_unresolved_reference_or_citation(paper):
    assert not unresolved_markers(paper.text)


def test_pdf_has_every_figure_of_the_book_with_its_caption_and_image(paper):
    captions = book_figure_captions()
    assert captions, "the book has no figures: the figure directives were not found"
    problems = figure_problems(paper.text, captions, images_per_page(paper.pdf))
    assert not problems, problems


# The checks above on the real PDF's text with one defect planted, to show that each can fail.

@pytest.mark.parametrize("defect", ["number dropped", "number changed", "id dropped"])
def test_ledger_check_catches_a_planted(paper, defect):
    ledger = stored_ledger()
    front = front_page_text(paper.text)
    entry = ledger["entries"][0]
    row_id = entry["id"]
    planted = front
    if defect == "number dropped":  # every occurrence, so the row's count cannot be made up elsewhere
        number = f"{entry['estimate']:.{entry['digits']}f}"
        planted = NUMBER.sub(lambda m: "" if m.group() == number else m.group(), front)
    elif defect == "number changed":  # the computed value moves to one the PDF does not show
        shown = printed_numbers(front)
        while f"{entry['estimate']:.{entry['digits']}f}" in shown:
            entry["estimate"] += 10 ** -entry["digits"]
    else:
        planted = re.sub(rf"\b{row_id}\b", "", front)
    assert row_id in missing_ledger_numbers(planted, ledger)


@pytest.mark.parametrize("defect", ["caption lost", "figures renumbered", "extra figure", "image lost"])
def test_figure_check_catches_a_planted(paper, defect):
    captions, images = book_figure_captions(), images_per_page(paper.pdf)
    text = normalised(paper.text)
    if defect == "caption lost":
        text = re.sub(LINE_START + r"Figure 1: .*", "", text)
    elif defect == "figures renumbered":
        text = re.sub(LINE_START + r"Figure 1: ", "Figure 2: ", text)
    elif defect == "extra figure":
        text += "\nFigure 999: A figure the book does not have.\n"
    else:
        first_page = next(page for page, page_text in enumerate(text.split("\f"), 1)
                          if "1" in CAPTION.findall(page_text))
        images[first_page] = 0
    assert figure_problems(text, captions, images)


@pytest.mark.parametrize("marker", ["Figure ??", "[?]", "<no title>"])
def test_unresolved_marker_check_catches_a_planted(paper, marker):
    assert unresolved_markers(paper.text + marker)
