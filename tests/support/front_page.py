"""The reproduction ledger the front page publishes, read from the stored index notebook (for tests that compare
another route's ledger with it)."""

import nbformat

from okapi import paths
from okapi.book.report import ARTIFACT_KEY


def front_page_ledger() -> dict:
    return next(output["data"]["application/json"]
                for cell in nbformat.read(paths.REPO_ROOT / "index.ipynb", as_version=4).cells
                for output in cell.get("outputs", [])
                if output.get("metadata", {}).get(ARTIFACT_KEY) == "reproduction-ledger.json")
