"""What the tests need to know about the book's pages: the stored notebooks and the values glued in them."""

from ast import literal_eval
from pathlib import Path

import nbformat
import yaml

from okapi import paths

GLUE_PREFIX = "application/papermill.record/"


def executed_notebooks() -> list[Path]:
    return [source.with_suffix(".ipynb") for source in paths.notebook_sources()]


def docname(notebook: Path) -> str:
    return str(notebook.relative_to(paths.REPO_ROOT).with_suffix(""))


def glued_texts(notebook: Path) -> dict[str, str]:
    """{glue name: the text the book shows for it} for every text value glued in a stored notebook."""
    values = {}
    for cell in nbformat.read(notebook, as_version=4).cells:
        for output in cell.get("outputs", []):
            scrap = output.get("metadata", {}).get("scrapbook")
            text = output.get("data", {}).get(GLUE_PREFIX + "text/plain")
            if scrap and text is not None and GLUE_PREFIX + "image/png" not in output.get("data", {}):
                # MyST-NB shows str(literal_eval(text)) when the stored text is a Python literal.
                try:
                    values[scrap["name"]] = str(literal_eval(text))
                except (SyntaxError, ValueError):
                    values[scrap["name"]] = text
    return values


def toc_docnames() -> list[str]:
    toc = yaml.safe_load((paths.REPO_ROOT / "_toc.yml").read_text(encoding="utf-8"))
    names = [toc["root"]]
    for part in toc.get("parts", []):
        names += [entry["file"] for entry in part.get("chapters", [])]
    return names



def glued_raw_texts(notebook: Path) -> dict[str, str]:
    """{glue name: text/plain exactly as stored} for the text values glued in a stored notebook."""
    raw = {}
    for cell in nbformat.read(notebook, as_version=4).cells:
        for output in cell.get("outputs", []):
            scrap = output.get("metadata", {}).get("scrapbook")
            data = output.get("data", {})
            if scrap and GLUE_PREFIX + "text/plain" in data and GLUE_PREFIX + "image/png" not in data:
                raw[scrap["name"]] = data[GLUE_PREFIX + "text/plain"]
    return raw
