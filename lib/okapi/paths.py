"""Every path the project uses, in one place.

The committed synthetic cohort lives in `data/`. A researcher with a real extract points the book and the command
line at it with the environment variable OKAPI_DATA_DIR (a folder holding patients.csv, visits.csv and ketamine.csv
in the codebook's schema); `private/` at the repository root is git-ignored and is the suggested place for it.
"""

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = REPO_ROOT / "data"
CHAPTERS_DIR = REPO_ROOT / "chapters"
CODEBOOK = DATA_DIR / "codebook.csv"
TARGETS = DATA_DIR / "targets.csv"
MANIFEST = DATA_DIR / "SHA256SUMS"
PRIVATE_DIR = REPO_ROOT / "private"

COHORT_FILES = ("patients.csv", "visits.csv", "ketamine.csv")
DATA_DIR_ENV = "OKAPI_DATA_DIR"


def cohort_dir() -> Path:
    """The folder the book analyses: OKAPI_DATA_DIR if set, else the committed synthetic cohort."""
    chosen = os.environ.get(DATA_DIR_ENV, "").strip()
    return Path(chosen).expanduser().resolve() if chosen else DATA_DIR

LIB_DIR = REPO_ROOT / "lib" / "okapi"
FRONT_PAGE_SOURCE = REPO_ROOT / "index.md"
LOCK_FILE = REPO_ROOT / "requirements.txt"
# The browser-side packages pinned in tools/node/package-lock.json (MathJax, axe-core), installed by `make` with npm.
NODE_MODULES = REPO_ROOT / "_build" / "node" / "node_modules"


def notebook_sources() -> list[Path]:
    """The Jupytext sources of every executed page: the front page and each chapter (sorted, so order is stable)."""
    return [FRONT_PAGE_SOURCE, *sorted(CHAPTERS_DIR.glob("*.md"))]
