"""What `make review` compares, output by output: a stored notebook's outputs beside those of its fresh rerun.

Text is compared exactly, after the same sanitising as the re-execution tests (tests/nbval_sanitize.cfg: memory
addresses, timings): a glued value by its name, a Markdown table cell by cell (its caption and layout as one text),
a published JSON file leaf by leaf, anything else printed as one text. Figures are compared as images: identical
pixels, "close" (rendering noise: a few anti-aliased pixels, or a size a pixel or two off with the same perceptual
hash), or different. A figure's PDF twin is not compared (its bytes change with a 1e-12 change of a plotted value); its
alt text is, as text.
"""

import base64
import configparser
import io
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat
import numpy as np
from PIL import Image

from okapi import paths

GLUE_PREFIX = "application/papermill.record/"
SANITIZE_RULES = paths.REPO_ROOT / "tests" / "nbval_sanitize.cfg"
# A pixel counts as changed when one of its channels moves by more than this (of 255): below it is invisible.
PIXEL_TOLERANCE = 8
# Up to this share of changed pixels, two renderings of the same figure are "close" (anti-aliasing, a font hinting
# difference); a changed bar, point or line moves more.
CLOSE_PIXEL_SHARE = 0.01
# Images whose sizes differ by a pixel or two (a tight bounding box around a different font) cannot be compared pixel
# by pixel; they are "close" when no side differs by more than this share and their 64-bit difference hashes (dHash)
# differ in at most CLOSE_HASH_BITS bits.
CLOSE_SIZE_SHARE = 0.02
CLOSE_HASH_BITS = 4

TEXT_KINDS = ("glued value", "table cell", "table caption and layout", "printed result", "published file",
              "figure alt text")


@dataclass
class TextItem:
    kind: str  # one of TEXT_KINDS
    key: str  # what it is, unique within its page ("glue pain_change", "table tbl-x: row 3, column 'P'")
    published: str | None  # None: the output exists on the other side only
    rerun: str | None

    @property
    def status(self) -> str:
        return "equal" if self.published == self.rerun else "different"


@dataclass
class FigureItem:
    key: str
    published: bytes | None = field(repr=False)
    rerun: bytes | None = field(repr=False)
    status: str = ""  # equal, close or different
    changed_pixels: float | None = None  # share of pixels that changed (same size only)
    hash_distance: int | None = None  # dHash bits that differ

    def summary(self) -> dict:
        return {key: value for key, value in asdict(self).items() if key not in ("published", "rerun")}


def sanitize_rules(path: Path = SANITIZE_RULES) -> list[tuple[re.Pattern, str]]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(path, encoding="utf-8")
    return [(re.compile(parser[section]["regex"], re.M), parser[section]["replace"]) for section in parser.sections()]


def sanitized(text: str, rules) -> str:
    for pattern, replacement in rules:
        text = pattern.sub(replacement, text)
    return text


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _json_leaves(value, prefix: str = "") -> dict[str, str]:
    """{path: JSON text} of every leaf of a JSON document ("rows[3].verdict": '"reproduced"')."""
    if isinstance(value, dict):
        leaves = {}
        for key, child in value.items():
            leaves.update(_json_leaves(child, f"{prefix}.{key}" if prefix else str(key)))
        return leaves
    if isinstance(value, list):
        leaves = {}
        for index, child in enumerate(value):
            leaves.update(_json_leaves(child, f"{prefix}[{index}]"))
        return leaves or {prefix: "[]"}
    return {prefix: json.dumps(value, ensure_ascii=False, sort_keys=True)}


def _table_cells(line: str) -> list[str]:
    cells = re.split(r"(?<!\\)\|", line.strip())[1:-1]
    return [cell.strip().replace("\\|", "|") for cell in cells]


def markdown_items(markdown: str, where: str) -> list[tuple[str, str, str]]:
    """(kind, key, text) of a Markdown output: a table cell by cell (rows keyed by number, columns by header), the rest
    of a table (caption, label, widths) as one text; Markdown without a table as one printed result."""
    lines = markdown.splitlines()
    rows = [line for line in lines if line.lstrip().startswith("|")]
    if len(rows) < 2:
        return [("printed result", where, markdown)]
    label = next((line.split(":", 2)[2].strip() for line in lines if line.startswith(":name:")), where)
    header = _table_cells(rows[0])
    body = [row for row in rows[1:] if not re.fullmatch(r"\|[\s:|-]+\|", row.strip())]
    items = [("table caption and layout", f"table {label}: caption and layout",
              "\n".join(line for line in lines if not line.lstrip().startswith("|")))]
    items.append(("table cell", f"table {label}: header", " | ".join(header)))
    for number, row in enumerate(body, start=1):
        cells = _table_cells(row)
        for column, cell in enumerate(cells):
            name = header[column] if column < len(header) else f"#{column + 1}"
            items.append(("table cell", f"table {label}: row {number}, column '{name}'", cell))
    return items


def notebook_outputs(notebook: Path, rules) -> tuple[dict[str, tuple[str, str]], dict[str, bytes]]:
    """({key: (kind, sanitised text)}, {key: PNG bytes}) of every output of a stored notebook."""
    texts, figures = {}, {}

    def add_text(kind, key, text):
        unique, copy = key, 2
        while unique in texts:  # the same key twice in one page: number the repeats
            unique, copy = f"{key} ({copy})", copy + 1
        texts[unique] = (kind, sanitized(text, rules))

    code_cell = 0
    for cell in nbformat.read(notebook, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        code_cell += 1
        for number, output in enumerate(cell.get("outputs", []), start=1):
            where = f"code cell {code_cell}, output {number}"
            data, metadata = output.get("data", {}), output.get("metadata", {})
            glue_name = metadata.get("scrapbook", {}).get("name")
            if output.get("output_type") == "stream":
                add_text("printed result", f"{where} ({output.get('name', 'stream')})", _text(output.get("text", "")))
            elif output.get("output_type") == "error":
                add_text("printed result", f"{where} (error)", f"{output.get('ename')}: {output.get('evalue')}")
            elif glue_name and GLUE_PREFIX + "image/png" in data:
                figures[f"figure {glue_name}"] = base64.b64decode(data[GLUE_PREFIX + "image/png"])
                alt = _text(data.get(GLUE_PREFIX + "text/plain", ""))
                add_text("figure alt text", f"figure {glue_name}: alt text", alt)
            elif glue_name:
                add_text("glued value", f"glue {glue_name}", _text(data.get(GLUE_PREFIX + "text/plain", "")))
            elif "application/json" in data:
                name = metadata.get("okapi_artifact", where)
                for path, text in _json_leaves(data["application/json"]).items():
                    add_text("published file", f"{name}: {path}", text)
            elif "image/png" in data:
                figures[f"{where} (image)"] = base64.b64decode(_text(data["image/png"]))
            elif "text/markdown" in data:
                for kind, key, text in markdown_items(_text(data["text/markdown"]), where):
                    add_text(kind, key, text)
            elif "text/html" in data or "text/plain" in data:
                add_text("printed result", where, _text(data.get("text/html", data.get("text/plain"))))
    return texts, figures


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"), dtype=np.int16)


def difference_hash(png: bytes) -> int:
    """64-bit dHash: is each pixel of a 9x8 grey thumbnail brighter than its right neighbour."""
    grey = np.asarray(Image.open(io.BytesIO(png)).convert("L").resize((9, 8), Image.Resampling.LANCZOS), dtype=int)
    bits = (grey[:, 1:] > grey[:, :-1]).flatten()
    return int("".join("1" if bit else "0" for bit in bits), 2)


def compare_figure(key: str, published: bytes | None, rerun: bytes | None) -> FigureItem:
    item = FigureItem(key, published, rerun)
    if published is None or rerun is None:
        item.status = "different"
        return item
    a, b = _pixels(published), _pixels(rerun)
    item.hash_distance = bin(difference_hash(published) ^ difference_hash(rerun)).count("1")
    if a.shape == b.shape:
        item.changed_pixels = float((np.abs(a - b) > PIXEL_TOLERANCE).any(axis=-1).mean())
        if np.array_equal(a, b):
            item.status = "equal"
        elif item.changed_pixels <= CLOSE_PIXEL_SHARE:
            item.status = "close"
        else:
            item.status = "different"
        return item
    size_change = max(abs(x - y) / x for x, y in zip(a.shape[:2], b.shape[:2]))
    item.status = "close" if size_change <= CLOSE_SIZE_SHARE and item.hash_distance <= CLOSE_HASH_BITS else "different"
    return item


def changed_pixels_png(published: bytes, rerun: bytes) -> bytes | None:
    """The published figure greyed, with the pixels that changed in red; None when the sizes differ."""
    a, b = _pixels(published), _pixels(rerun)
    if a.shape != b.shape:
        return None
    grey = np.asarray(Image.open(io.BytesIO(published)).convert("L").convert("RGB"), dtype=np.uint8)
    picture = (255 - (255 - grey) // 3).astype(np.uint8)  # faded, so the red stands out
    picture[(np.abs(a - b) > PIXEL_TOLERANCE).any(axis=-1)] = (220, 0, 0)
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, format="PNG")
    return buffer.getvalue()


@dataclass
class PageReview:
    page: str  # "chapters/pain"
    texts: list[TextItem]
    figures: list[FigureItem]
    seconds: float | None = None  # how long its rerun took
    error: str = ""  # why the rerun failed, if it did

    @property
    def texts_different(self) -> list[TextItem]:
        return [item for item in self.texts if item.status != "equal"]

    @property
    def figures_different(self) -> list[FigureItem]:
        return [item for item in self.figures if item.status == "different"]

    @property
    def reproduced(self) -> bool:
        return not self.error and not self.texts_different and not self.figures_different


def compare_page(page: str, published: Path, rerun: Path, rules=None) -> PageReview:
    """Every output of the stored notebook `published` beside the same output of `rerun`."""
    rules = sanitize_rules() if rules is None else rules
    old_texts, old_figures = notebook_outputs(published, rules) if published.exists() else ({}, {})
    new_texts, new_figures = notebook_outputs(rerun, rules) if rerun.exists() else ({}, {})
    texts = []
    for key in list(old_texts) + [key for key in new_texts if key not in old_texts]:
        kind = (old_texts.get(key) or new_texts[key])[0]
        texts.append(TextItem(kind, key, old_texts.get(key, (None, None))[1], new_texts.get(key, (None, None))[1]))
    figures = [compare_figure(key, old_figures.get(key), new_figures.get(key))
               for key in list(old_figures) + [key for key in new_figures if key not in old_figures]]
    return PageReview(page, texts, figures)
