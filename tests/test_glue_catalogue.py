# Guards report.glue_numbers(values, page=...): a library's catalogue of formatted texts is narrowed to what the page
# cites, so no glued value goes unshown (the build tests require every glued value on its page), and a page citing a
# text the catalogue lacks fails at execution with the name, instead of showing a blank in the book.
import pytest

from okapi.book import report


@pytest.fixture()
def glued(monkeypatch):
    calls = {}
    monkeypatch.setattr(report, "glue_text", lambda name, text, about_patients=True: calls.__setitem__(name, text))
    return calls


def test_only_the_cited_texts_are_glued(tmp_path, glued):
    page = tmp_path / "page.md"
    page.write_text("Shown: {glue:text}`cat_a` and {glue:text}`other_x` from elsewhere.\n")
    report.glue_numbers({"cat_a": "1.0", "cat_b": "2.0"}, page=str(page))
    assert glued == {"cat_a": "1.0"}


def test_rejects_a_cited_text_the_catalogue_lacks(tmp_path, glued):
    page = tmp_path / "page.md"
    page.write_text("{glue:text}`cat_a` and the misspelt {glue:text}`cat_c`\n")
    with pytest.raises(KeyError, match="cat_c"):
        report.glue_numbers({"cat_a": "1.0", "cat_b": "2.0"}, page=str(page))


def test_without_a_page_everything_is_glued(glued):
    report.glue_numbers({"cat_a": "1.0", "cat_b": "2.0"})
    assert glued == {"cat_a": "1.0", "cat_b": "2.0"}
