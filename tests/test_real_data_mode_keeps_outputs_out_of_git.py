# Guards against real-data results landing in git: with OKAPI_DATA_DIR set, the book must be executed and built in a
# git-ignored copy, never in the committed chapters/*.ipynb; the copy must hold every source the book needs.
import os
import subprocess
import sys

from okapi.book import notebooks
from okapi import paths

FIXTURE = paths.REPO_ROOT / "tests" / "fixtures" / "valid"


def test_book_dir_is_the_repository_for_the_committed_cohort(monkeypatch):
    monkeypatch.delenv(paths.DATA_DIR_ENV, raising=False)
    assert notebooks.book_dir() == paths.REPO_ROOT


def test_book_dir_is_a_git_ignored_copy_for_an_extract(monkeypatch):
    monkeypatch.setenv(paths.DATA_DIR_ENV, str(FIXTURE))
    assert notebooks.book_dir() == notebooks.EXTRACT_BOOK_DIR
    ignored = subprocess.run(["git", "check-ignore", "-q", str(notebooks.EXTRACT_BOOK_DIR / "index.ipynb")],
                             cwd=paths.REPO_ROOT)
    assert ignored.returncode == 0, "the extract book folder is not git-ignored"
    printed = subprocess.run([sys.executable, "-m", "okapi.book.notebooks", "book-dir"], capture_output=True, text=True,
                             check=True, env={**os.environ, paths.DATA_DIR_ENV: str(FIXTURE)})
    assert printed.stdout.strip() == str(notebooks.EXTRACT_BOOK_DIR)


def test_mirror_copies_every_source_and_drops_removed_chapters(tmp_path, monkeypatch):
    monkeypatch.setattr(notebooks, "EXTRACT_BOOK_DIR", tmp_path / "extract-book")
    stale = tmp_path / "extract-book" / "chapters" / "removed.ipynb"
    stale.parent.mkdir(parents=True)
    stale.write_text("{}")
    root = notebooks.mirror_book_sources()
    for name in notebooks.BOOK_FILES:
        assert (root / name).read_bytes() == (paths.REPO_ROOT / name).read_bytes()
    assert sorted(p.name for p in (root / "chapters").glob("*.md")) == \
        sorted(p.name for p in paths.CHAPTERS_DIR.glob("*.md"))
    assert not stale.exists()
