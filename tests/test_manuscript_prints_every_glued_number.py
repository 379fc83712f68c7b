# Guards against a manuscript that does not say what the analyses computed: a glued number or phrase, or a number of a
# displayed table, missing from the PDF or the Word file (dropped, left blank or mangled by pandoc or LaTeX), a glue
# name, table or figure the stored notebooks no longer have (renamed by other work: the build must stop, not print a
# blank), a supplement label the built supplement lacks, and a display the text never cites.
import json
import re
import unicodedata

import pytest

from okapi_publish import build, source, stored
from test_pdf_text import normalised, phrase, printed_numbers


def missing_phrases(values: list[str], text: str) -> list[str]:
    """The values not found in the text, each read as a phrase (line breaks and hyphenation tolerated)."""
    text = normalised(text)
    return [value for value in values if not re.search(phrase(value), text)]


def table_numbers(markdown_source: str) -> list[str]:
    """Every number printed in the cells of the manuscript's tables, as the stored tables hold them."""
    parsed = source.parse(markdown_source)
    found = []
    for display in parsed.displays:
        if display.kind == "Table":
            table = source.display_table(display)
            found += [cell for row in [table.header, *table.rows] for cell in row]
    return list(printed_numbers(" ".join(found)).elements())


@pytest.fixture(scope="module")
def glued(submission) -> list[str]:
    values = json.loads((submission.folder / "glued.json").read_text(encoding="utf-8"))
    assert len(values) > 50, "the manuscript glues almost nothing: was glued.json written?"
    return values


@pytest.mark.parametrize("output", ["pdf_text", "docx_text"])
def test_every_glued_text_is_printed(submission, glued, output):
    assert missing_phrases(glued, getattr(submission, output)) == []


@pytest.mark.parametrize("output", ["pdf_text", "docx_text"])
def test_every_number_of_the_tables_is_printed(submission, output):
    numbers = table_numbers(build.SOURCE.read_text(encoding="utf-8"))
    assert numbers
    lacking = printed_numbers(" ".join(numbers)) - printed_numbers(getattr(submission, output))
    assert dict(lacking) == {}


def test_the_check_catches_a_planted_missing_value(submission, glued):
    value = max(glued, key=len)
    text = normalised(submission.pdf_text)
    planted = re.sub(phrase(value), " ", text)
    assert missing_phrases(glued, planted) == [value]


# Failing loudly, without building anything.

def stub(role_line: str) -> str:
    return role_line + "\n\nSee {numref}`tbl-x`.\n\n```{glue:table} chapters/cohort.ipynb::tbl-cohort-characteristics\n" \
        ":name: tbl-x\n\nCaption.\n```\n"


@pytest.mark.parametrize("line, error", [
    ("{glue:text}`chapters/pain.ipynb::pain_slope_renamed`", stored.MissingOutput),
    ("{glue:text}`chapters/no_such_chapter.ipynb::pain_slope_year`", stored.MissingOutput),
    ("{glue:cell}`chapters/cohort.ipynb::tbl-cohort-characteristics::Height, cm::Overall`", stored.MissingOutput),
    ("{supp}`tbl-no-such-table`", source.SourceError),
    ("{glue:txt}`chapters/pain.ipynb::pain_slope_year`", source.SourceError),
])
def test_a_name_the_stored_outputs_lack_stops_the_build(tmp_path, line, error):
    with pytest.raises(error):
        build.resolve(stub(line), {"tbl-ledger": "eTable 1"}, tmp_path)


def test_an_uncited_display_stops_the_build(tmp_path):
    with pytest.raises(source.SourceError, match="never cited"):
        build.resolve(stub("No citation here.").replace("See {numref}`tbl-x`.", ""), {}, tmp_path)


def test_the_stored_names_resolve(tmp_path):
    body, parsed, glued, _ = build.resolve(stub("{glue:text}`chapters/pain.ipynb::pain_slope_year`"), {}, tmp_path)
    assert glued == [stored.glued_text("chapters/pain.ipynb", "pain_slope_year")] and "Table 1" in body
    assert unicodedata.normalize("NFKC", glued[0]) in unicodedata.normalize("NFKC", body.replace("\\", ""))


def test_supplement_numbers_are_read_from_latex(tmp_path):
    aux = "\n".join([
        r"\newlabel{index:tbl-ledger}{{1}{2}{Reproduction ledger\strut }{table.1}{}}",
        r"\newlabel{chapters/cohort:fig-answers-by-month}{{1}{17}{Patients\strut }{figure.caption.9}{}}",
        r"\newlabel{chapters/sensitivity:sec-sensitivity}{{9}{42}{Sensitivity analyses}{section.9}{}}",
        r"\newlabel{chapters/sensitivity:sec-sensitivity-missing}{{9}{42}{Missing pain scores}{subsection*.43}{}}",
        r"\newlabel{chapters/cohort::doc}{{3}{16}{The cohort}{section.3}{}}"])
    assert build.supplement_numbers(aux) == {"tbl-ledger": "eTable 1", "fig-answers-by-month": "eFigure 1",
                                             "sec-sensitivity": "eAppendix 9", "sec-sensitivity-missing": "eAppendix 9"}
