# Fails early, with the command to run, when the tests are started from a Python that lacks the project's set-up; and
# builds the book once per test session (one HTML build, one PDF build) for every test that checks what it shows.
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


@dataclass(frozen=True)
class Paper:
    pdf: Path
    text: str  # pdftotext in reading order; pages are separated by form feeds
    latex: str  # the LaTeX source xelatex typeset


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
    return Paper(pdf, text, (latex / "okapi-paper.tex").read_text(encoding="utf-8"))
