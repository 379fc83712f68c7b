"""What the executed notebooks stored, read by name: glued texts, captioned tables, glued figures.

Every reader fails loudly (`MissingOutput`, naming the notebook and the name asked for, and the names it does have)
rather than return a blank: the manuscript is written against glue names and table labels that other work may
rename, and a renamed output must stop the build, not print an empty space.
"""

import base64
import difflib
import re
from ast import literal_eval
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import nbformat

from okapi import paths
from okapi.book.report import ALT_KEY

GLUE_PREFIX = "application/papermill.record/"
TABLE_BLOCK = re.compile(r"^:::\{table\}\s*(?P<caption>.*?)\n(?P<options>(?::[\w-]+:[^\n]*\n)*)\n(?P<body>.*?)\n:::",
                         re.S | re.M)
FIGURE_BLOCK = re.compile(r"^(?P<fence>`{3,}|:{3,})\{glue:figure\}\s*(?P<key>\S+)\s*\n(?P<options>(?::[\w-]+:[^\n]*\n)*)",
                          re.M)


class MissingOutput(LookupError):
    """A name the manuscript asks for that the stored notebook does not have (renamed, removed or misspelt)."""


def _missing(kind: str, name: str, notebook: str, known) -> MissingOutput:
    close = difflib.get_close_matches(name, list(known), n=3)
    hint = f"; close names: {', '.join(close)}" if close else ""
    return MissingOutput(f"{notebook} stores no {kind} named {name!r}{hint} ({len(list(known))} {kind}s stored)")


def notebook_path(name: str) -> Path:
    """A notebook named as the manuscript names it, relative to the repository ("chapters/pain.ipynb")."""
    path = paths.REPO_ROOT / name
    if path.suffix != ".ipynb" or not path.exists():
        raise MissingOutput(f"no stored notebook {name} (expected an executed .ipynb in the repository)")
    return path


@lru_cache(maxsize=32)
def _read(name: str):
    return nbformat.read(notebook_path(name), as_version=4)


def _outputs(name: str):
    for cell in _read(name).cells:
        yield from cell.get("outputs", [])


def _shown(text: str) -> str:
    """What MyST-NB shows for a stored glued text: the value of a Python literal ('1.60' is stored as "'1.60'")."""
    try:
        return str(literal_eval(text))
    except (SyntaxError, ValueError):
        return text


@lru_cache(maxsize=32)
def glued_texts(name: str) -> dict[str, str]:
    """{glue name: the text the book shows} for every text glued in a stored notebook."""
    texts = {}
    for output in _outputs(name):
        scrap = output.get("metadata", {}).get("scrapbook")
        data = output.get("data", {})
        if scrap and GLUE_PREFIX + "text/plain" in data and GLUE_PREFIX + "image/png" not in data:
            texts[scrap["name"]] = _shown(data[GLUE_PREFIX + "text/plain"])
    return texts


def glued_text(name: str, key: str) -> str:
    texts = glued_texts(name)
    if key not in texts:
        raise _missing("glued text", key, name, texts)
    if not texts[key].strip():
        raise MissingOutput(f"{name}: glued text {key!r} is empty")
    return texts[key]


@dataclass(frozen=True)
class StoredTable:
    label: str
    caption: str
    header: list[str]
    rows: list[list[str]]

    def column(self, prefix: str) -> int:
        """The index of the column whose header starts with `prefix` ("Overall" for "Overall (n = 329)")."""
        found = [i for i, title in enumerate(self.header) if title.startswith(prefix)]
        if len(found) != 1:
            raise MissingOutput(f"table {self.label}: {len(found)} columns start with {prefix!r} ({self.header})")
        return found[0]

    def row(self, first_cell: str) -> list[str]:
        found = [row for row in self.rows if row[0] == first_cell]
        if len(found) != 1:
            raise _missing("row", first_cell, f"table {self.label}", [row[0] for row in self.rows])
        return found[0]


# A cross-reference with an explicit title, as the front page links each ledger Id to its chapter: the manuscript
# shows the title (its rows are found by it), since the link's target is a page of the book, not of the manuscript.
TITLED_REF = re.compile(r"\{ref\}`(?P<title>[^`<]+?)\s*<[^<>`]+>`")


def _cells(line: str) -> list[str]:
    cells = re.split(r"(?<!\\)\|", line.strip().strip("|"))
    return [TITLED_REF.sub(r"\g<title>", cell.strip().replace("\\|", "|")) for cell in cells]


@lru_cache(maxsize=32)
def tables(name: str) -> dict[str, StoredTable]:
    """{label: table} for every captioned Markdown table a notebook's code cells displayed (okapi.book.report)."""
    found = {}
    for output in _outputs(name):
        markdown = output.get("data", {}).get("text/markdown", "")
        for block in TABLE_BLOCK.finditer(markdown):
            label = re.search(r"^:name:\s*(\S+)", block["options"], re.M)
            lines = [line for line in block["body"].splitlines() if line.strip()]
            if label is None or len(lines) < 2:
                continue
            found[label[1]] = StoredTable(label[1], block["caption"].strip(), _cells(lines[0]),
                                          [_cells(line) for line in lines[2:]])
    return found


def table(name: str, label: str) -> StoredTable:
    stored = tables(name)
    if label not in stored:
        raise _missing("table", label, name, stored)
    return stored[label]


@dataclass(frozen=True)
class StoredFigure:
    label: str
    glue_key: str
    pdf: bytes
    png: bytes
    alt: str


def figure(name: str, label: str) -> StoredFigure:
    """The figure a page shows under `label` (its {glue:figure} directive's :name:): the glued PDF and PNG."""
    notebook = _read(name)
    keys = {}
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for block in FIGURE_BLOCK.finditer(cell.source):
                named = re.search(r"^:name:\s*(\S+)", block["options"], re.M)
                if named:
                    keys[named[1]] = block["key"]
    if label not in keys:
        raise _missing("figure", label, name, keys)
    for output in _outputs(name):
        scrap = output.get("metadata", {}).get("scrapbook")
        data = output.get("data", {})
        if scrap and scrap.get("name") == keys[label] and GLUE_PREFIX + "application/pdf" in data:
            return StoredFigure(label, keys[label], base64.b64decode(data[GLUE_PREFIX + "application/pdf"]),
                                base64.b64decode(data[GLUE_PREFIX + "image/png"]),
                                output.get("metadata", {}).get(ALT_KEY, ""))
    raise MissingOutput(f"{name}: figure {label} glues {keys[label]!r}, which is not stored with a PDF rendering")
