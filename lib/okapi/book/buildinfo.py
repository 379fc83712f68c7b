"""What a reader needs to rerun the book: commands, package versions, data checksum, commit."""

import importlib.metadata
import platform
import subprocess

import pandas as pd

from okapi import paths
from okapi.data.manifest import combined_digest, sha256_of

# The packages a reader will recognise; the full pinned set is requirements.txt.
KEY_PACKAGES = (
    "numpy", "pandas", "scipy", "statsmodels", "matplotlib", "seaborn",
    "jupyter-book", "myst-nb", "jupytext", "nbval", "sphinx",
)


def git_commit() -> str:
    """The commit the book is built from, with a warning mark when the work tree differs from it."""
    def git(*args):
        return subprocess.run(["git", *args], cwd=paths.REPO_ROOT, capture_output=True, text=True, check=False)

    head = git("rev-parse", "HEAD")
    if head.returncode != 0:
        return "unknown (not a git checkout)"
    commit = head.stdout.strip()
    dirty = git("status", "--porcelain", "--untracked-files=no").stdout.strip()
    return f"{commit} (with uncommitted changes)" if dirty else commit


def package_versions(names=KEY_PACKAGES) -> pd.DataFrame:
    rows = [{"package": name, "version": importlib.metadata.version(name)} for name in names]
    rows.append({"package": "Python", "version": platform.python_version()})
    return pd.DataFrame(rows)


def locked_package_count() -> int:
    lines = paths.LOCK_FILE.read_text(encoding="utf-8").splitlines()
    return sum(1 for line in lines if line.strip() and not line.startswith("#"))


def data_checksums(folder=None) -> tuple[pd.DataFrame, str]:
    """SHA-256 of each cohort file in use and one combined checksum over them."""
    folder = folder or paths.cohort_dir()
    entries = {name: sha256_of(folder / name) for name in paths.COHORT_FILES}
    table = pd.DataFrame({"file": list(entries), "sha256": list(entries.values())})
    return table, combined_digest(entries)
