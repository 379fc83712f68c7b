# Fails early, with the command to run, when the tests are started from a Python that lacks the project's set-up; and
# builds the book once per test session (one HTML build, one PDF build, and the journal submission: manuscript PDF and
# Word file with the supplement) for every test that checks what it shows, with one headless Chromium for every test
# that looks at a page.
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

try:
    import okapi  # noqa: F401
except ModuleNotFoundError as missing:
    raise pytest.UsageError(
        f"{missing}: this Python does not have the project's packages. Run `make test` from the repository root: it "
        "creates .venv/ from the pinned lock and runs the tests with it."
    ) from None

from okapi import paths
from support import chromium

JUPYTER_BOOK = str(Path(sys.executable).with_name("jupyter-book"))
# The Makefile's flags: any warning (blank glued number, broken reference) fails the build.
STRICT = ["-W", "-n", "--keep-going"]


def build_book(builder: str, output: Path) -> subprocess.CompletedProcess:
    return subprocess.run([JUPYTER_BOOK, "build", str(paths.REPO_ROOT), "--path-output", str(output),
                           "--builder", builder, *STRICT], capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="session")
def html_book(tmp_path_factory) -> Path:
    """The HTML book built from the committed notebooks, as `make` builds it: the folder holding index.html."""
    output = tmp_path_factory.mktemp("book")
    result = build_book("html", output)
    assert result.returncode == 0, "HTML build failed or warned:\n" + (result.stdout + result.stderr)[-4000:]
    return output / "_build" / "html"


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    """Headless Chromium (tests/support/chromium.py) that can reach no host but 127.0.0.1."""
    missing = chromium.missing_tools()
    if missing:
        pytest.skip(f"not checked in a browser: {', '.join(missing)} not installed (`make test` installs chromium "
                    "and chromium-driver when run as root)")
    session = chromium.Browser(tmp_path_factory.mktemp("chromium"))
    yield session
    session.close()


@pytest.fixture(scope="session")
def book_url(html_book):
    """The built HTML book served over local HTTP, as a reader's browser gets it."""
    with chromium.served(html_book) as url:
        yield url


@dataclass(frozen=True)
class Paper:
    pdf: Path
    text: str  # pdftotext in reading order; pages are separated by form feeds
    latex: str  # the LaTeX source xelatex typeset
    log: str  # the log of xelatex's last pass
    toc: str  # the table of contents LaTeX wrote (.toc)


@pytest.fixture(scope="session")
def paper(tmp_path_factory) -> Paper:
    """The PDF built as `make pdf` builds it, with its extracted text and LaTeX source."""
    missing = [tool for tool in ("xelatex", "latexmk", "pdftotext", "pdfimages") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"PDF not checked: {', '.join(missing)} not installed (`make test` installs them when run as root)")
    output = tmp_path_factory.mktemp("paper")
    result = build_book("pdflatex", output)
    assert result.returncode == 0, "PDF build failed or warned:\n" + (result.stdout + result.stderr)[-4000:]
    latex = output / "_build" / "latex"
    pdf = latex / "okapi-paper.pdf"
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return Paper(pdf, text, (latex / "okapi-paper.tex").read_text(encoding="utf-8"),
                 (latex / "okapi-paper.log").read_text(encoding="utf-8", errors="replace"),
                 (latex / "okapi-paper.toc").read_text(encoding="utf-8", errors="replace"))


@dataclass(frozen=True)
class Submission:
    folder: Path  # holds okapi-manuscript.pdf/.docx, okapi-supplement.pdf, counts.json, glued.json
    returncode: int
    output: str  # what the build printed
    markdown: str  # the pandoc Markdown the PDF and the Word file were written from
    pdf_text: str  # the manuscript PDF's text without its line numbers (the left margin is not read)
    docx_text: str
    manuscript_log: str
    supplement_log: str


# The manuscript's text block starts 1 in from the page's left edge; its line numbers sit in the margin left of it.
TEXT_LEFT_PT = 70


@pytest.fixture(scope="session")
def submission(tmp_path_factory) -> Submission:
    """The manuscript, its Word file and the supplement, built as `make manuscript` builds them."""
    from okapi_publish import build, docx

    missing = [tool for tool in ("xelatex", "latexmk", "pandoc", "pdftotext") if shutil.which(tool) is None]
    missing += [] if build.CSL.exists() else [str(build.CSL)]
    if missing:
        pytest.skip(f"manuscript not built: {', '.join(missing)} missing (`make test` installs them when run as root)")
    folder = tmp_path_factory.mktemp("manuscript")
    result = subprocess.run([sys.executable, "-m", "okapi_publish.build", "--out", str(folder)], capture_output=True,
                            text=True, timeout=1200)
    output = result.stdout + result.stderr
    pdf = folder / f"{build.NAME}.pdf"
    assert pdf.exists(), "the manuscript build failed:\n" + output[-4000:]
    text = subprocess.run(["pdftotext", "-x", str(TEXT_LEFT_PT), "-y", "0", "-W", "1000", "-H", "1000", str(pdf), "-"],
                          capture_output=True, text=True, check=True).stdout
    # Each page ends with its number, then a form feed: page furniture, not text. Left in, it splits a sentence that
    # runs over a page break ("... (HADS-D > 7): 7 6 answers ...").
    text = re.sub(r"\n\s*\d+\s*\f", "\n", text)
    latex = folder / "latex"
    supplement_log = folder / "supplement" / "_build" / "latex" / "okapi-supplement.log"
    return Submission(folder, result.returncode, output,
                      (latex / f"{build.NAME}.md").read_text(encoding="utf-8"), text,
                      docx.docx_text(folder / f"{build.NAME}.docx"),
                      (latex / f"{build.NAME}.log").read_text(encoding="utf-8", errors="replace"),
                      supplement_log.read_text(encoding="utf-8", errors="replace"))


# Markers by what a test needs (pyproject.toml lists them; `make test-fast` deselects them all). The R checks mark
# themselves (support.rbridge.R_SOURCES); these are marked by file, or by the built book they use.
_FILE_MARKERS = {
    "test_html_in_browser.py": ("browser", "notebooks"),
    "test_no_accessibility_violations.py": ("browser", "notebooks"),
    "test_no_table_wider_than_the_text_column.py": ("notebooks",),
    "test_no_glued_value_without_its_origin.py": ("notebooks",),
    "test_binder_opens_chapters_as_notebooks.py": ("browser", "slow"),
    "test_pdf_text.py": ("pdf", "notebooks"),
    "test_book_builds.py": ("notebooks", "slow"),
    "test_nbval_catches_a_changed_number.py": ("notebooks",),
    "test_parameterised_rerun.py": ("notebooks", "slow"),
    "test_plan_cutoff_rerun.py": ("notebooks", "slow"),
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        path = Path(str(item.fspath))
        if path.suffix == ".ipynb":
            item.add_marker(pytest.mark.notebooks)
            item.add_marker(pytest.mark.slow)
        for name in _FILE_MARKERS.get(path.name, ()):
            item.add_marker(getattr(pytest.mark, name))
        if {"paper", "submission"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.pdf)
        if "submission" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _output_guard_disarmed_after_each_test():
    """Loading a "real" extract arms the privacy guard for the whole process (as it must in a real run); a test that
    does so must not leave it armed for the tests after it."""
    yield
    from okapi.data.privacy import OUTPUT_GUARD

    OUTPUT_GUARD.disarm()
