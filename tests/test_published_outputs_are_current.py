# Guards against a book that shows stale numbers: a chapter source, the okapi library, the data or the package lock
# changed after the stored outputs were generated; or a page exists on one side only (a source without executed
# outputs, a table-of-contents entry without a page). Also checks that the staleness detector itself notices each kind
# of change, and that a chapter that raises is reported by name and cell.
import shutil

import pytest

from book_pages import docname, executed_notebooks, toc_docnames
from okapi.book import notebooks
from okapi import paths


@pytest.mark.parametrize("source", paths.notebook_sources(), ids=lambda p: p.name)
def test_stored_outputs_match_current_inputs(source):
    state = notebooks.staleness(source)
    assert not state.stale, (
        f"{notebooks.shown(source)}: stored outputs are stale ({'; '.join(state.reasons)}). "
        "Run `make outputs` and commit the regenerated notebooks."
    )


def test_table_of_contents_lists_exactly_the_executed_pages():
    pages = {docname(notebook) for notebook in executed_notebooks()}
    assert set(toc_docnames()) == pages
    orphans = [p.name for p in paths.CHAPTERS_DIR.glob("*.ipynb") if not p.with_suffix(".md").exists()]
    assert not orphans, f"executed notebooks without a Jupytext source: {orphans}"


@pytest.fixture
def scratch_chapter(tmp_path, monkeypatch):
    """A one-cell chapter in a scratch folder, with its own stand-ins for the library and data files."""
    library = tmp_path / "library.py"
    library.write_text("ANSWER = 42\n")
    data = tmp_path / "cohort.csv"
    data.write_text("patient_id\nP1\n")
    monkeypatch.setattr(notebooks, "library_files", lambda: [library])
    monkeypatch.setattr(notebooks, "data_files", lambda: [data])
    source = tmp_path / "scratch.md"
    shutil.copyfile(paths.CHAPTERS_DIR / "bibliography.md", source)
    with open(source, "a", encoding="utf-8") as handle:
        handle.write("\n```{code-cell} ipython3\nprint(6 * 7)\n```\n")
    notebooks.execute_notebook(source)
    return source, library, data


def test_fresh_outputs_are_not_stale(scratch_chapter):
    source, _, _ = scratch_chapter
    assert not notebooks.staleness(source).stale


@pytest.mark.parametrize("edited, reason", [
    ("source", "was edited"),
    ("library", "okapi library"),
    ("data", "data in use changed"),
])
def test_any_input_change_makes_outputs_stale(scratch_chapter, edited, reason):
    source, library, data = scratch_chapter
    target = {"source": source, "library": library, "data": data}[edited]
    with open(target, "a", encoding="utf-8") as handle:
        handle.write("\n")
    state = notebooks.staleness(source)
    assert state.stale and any(reason in text for text in state.reasons), state.reasons


def test_a_raising_chapter_is_reported_by_file_and_cell(scratch_chapter):
    source, _, _ = scratch_chapter
    with open(source, "a", encoding="utf-8") as handle:
        handle.write("\n```{code-cell} ipython3\ntotal = 1 / 0\n```\n")
    with pytest.raises(notebooks.ChapterExecutionError) as failure:
        notebooks.execute_notebook(source)
    message = str(failure.value)
    assert "scratch.md" in message and "code cell 2" in message and "ZeroDivisionError" in message
