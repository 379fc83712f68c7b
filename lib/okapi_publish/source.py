"""The manuscript's source (manuscript/manuscript.md): MyST-like roles and blocks, resolved into pandoc Markdown.

The source is Markdown with the book's own notation, so that a reader of the chapters can read it:

- `{glue:text}`chapters/pain.ipynb::pain_slope_year`` - a text glued in a stored notebook (MyST-NB's cross-page glue
  syntax; the path is relative to the repository root);
- `{glue:cell}`chapters/cohort.ipynb::tbl-cohort-characteristics::Age, years::Overall`` - one cell of a stored
  table: its label, the row's first cell, and the column whose header starts so;
- `{numref}`tbl-characteristics`` - "Table 1": the manuscript's own tables and figures, numbered in order of first
  citation (a display never cited is an error);
- `{supp}`tbl-strobe-checklist`` - "eTable 26": a table, figure or section of the supplement, by the book's label,
  numbered as the built supplement numbers it;
- `{cite:p}`voute2023,corriger2022`` - numbered references (pandoc's citeproc, AMA style);
- a fenced `{glue:table}` or `{glue:figure}` block naming a stored table or figure by notebook and book label, with
  `:name:` (the manuscript's label), optional `:rows:` and `:drop-columns:` (";"-separated), and a caption.

Every name is looked up in what the notebooks stored (okapi_publish.stored) and a missing one stops the build.
"""

import re
from dataclasses import dataclass, field

from okapi_publish import stored

ROLE = re.compile(r"\{(?P<role>glue:text|glue:cell|numref|supp|cite:p|cite)\}`(?P<content>[^`]+)`")
BLOCK = re.compile(r"^(?P<fence>`{3,})\{(?P<kind>glue:table|glue:figure)\}[ \t]*(?P<target>\S+)[ \t]*\n"
                   r"(?P<options>(?:[ \t]*:[\w-]+:[^\n]*\n)*)(?P<caption>.*?)^(?P=fence)[ \t]*$", re.M | re.S)
OPTION = re.compile(r"^[ \t]*:(?P<name>[\w-]+):[ \t]*(?P<value>.*)$", re.M)
KIND_NAMES = {"glue:table": "Table", "glue:figure": "Figure"}
LEFTOVER_ROLE = re.compile(r"\{[\w:-]+\}`")


class SourceError(ValueError):
    """The manuscript source names something it cannot have (an uncited display, an unknown label, a bad option)."""


@dataclass
class Display:
    kind: str  # "Table" or "Figure"
    notebook: str
    book_label: str
    name: str  # the manuscript's own label
    caption: str
    options: dict
    number: int = 0

    @property
    def title(self) -> str:
        return f"{self.kind} {self.number}"


@dataclass
class Source:
    text: str  # the source with each display block replaced by a placeholder line
    displays: list[Display] = field(default_factory=list)

    def display(self, name: str) -> Display:
        found = [d for d in self.displays if d.name == name]
        if not found:
            raise SourceError(f"{{numref}}`{name}`: no table or figure of the manuscript has :name: {name}")
        return found[0]


PLACEHOLDER = "<<display:{name}>>"


def _split_target(target: str) -> tuple[str, str]:
    notebook, sep, label = target.partition("::")
    if not sep:
        raise SourceError(f"{target}: name a display as NOTEBOOK::LABEL")
    return notebook, label


def parse(text: str) -> Source:
    """Find the display blocks, and number tables and figures separately in order of first citation."""
    displays = []

    def take(match: re.Match) -> str:
        options = {m["name"]: m["value"].strip() for m in OPTION.finditer(match["options"])}
        if "name" not in options:
            raise SourceError(f"{match['kind']} {match['target']}: give it a :name:")
        notebook, label = _split_target(match["target"])
        displays.append(Display(KIND_NAMES[match["kind"]], notebook, label, options.pop("name"),
                                " ".join(match["caption"].split()), options))
        return PLACEHOLDER.format(name=displays[-1].name)

    body = BLOCK.sub(take, text)
    source = Source(body, displays)
    cited = [m["content"] for m in ROLE.finditer(body) if m["role"] == "numref"]
    for display in displays:
        if display.name not in cited:
            raise SourceError(f"{display.kind.lower()} {display.name} is never cited with {{numref}}")
    counters = {"Table": 0, "Figure": 0}
    for name in dict.fromkeys(cited):
        display = source.display(name)
        counters[display.kind] += 1
        display.number = counters[display.kind]
    source.displays.sort(key=lambda d: (d.kind != "Table", d.number))
    return source


def book_labels(text: str) -> dict[str, str]:
    """{book label: "Table 1"} for the stored displays the manuscript shows in full (the supplement leaves them out;
    a table the manuscript shows in part, with :rows: or :drop-columns:, stays whole in the supplement)."""
    return {display.book_label: display.title for display in parse(text).displays if not display.options}


# --- Resolution ------------------------------------------------------------------------------------------------------

def _glue_cell(content: str) -> str:
    parts = content.split("::")
    if len(parts) != 4:
        raise SourceError(f"{{glue:cell}}`{content}`: expected NOTEBOOK::TABLE::ROW::COLUMN")
    notebook, label, row, column = parts
    table = stored.table(notebook, label)
    return table.row(row)[table.column(column)]


def resolve_role(match: re.Match, source: Source, supplement: dict[str, str], glued: list) -> str:
    role, content = match["role"], match["content"]
    if role == "glue:text":
        notebook, key = _split_target(content)
        value = stored.glued_text(notebook, key)
        glued.append(value)
        return value
    if role == "glue:cell":
        value = _glue_cell(content)
        glued.append(value)
        return value
    if role == "numref":
        return source.display(content).title
    if role == "supp":
        if content not in supplement:
            raise SourceError(f"{{supp}}`{content}`: the built supplement has no such table, figure or section")
        return supplement[content]
    keys = [key.strip() for key in content.split(",") if key.strip()]
    return "[" + "; ".join(f"@{key}" for key in keys) + "]"


def resolve_text(text: str, source: Source, supplement: dict[str, str], glued: list) -> str:
    resolved = ROLE.sub(lambda m: resolve_role(m, source, supplement, glued), text)
    leftover = LEFTOVER_ROLE.search(resolved)
    if leftover:
        raise SourceError(f"unknown role {leftover.group()!r} near {resolved[leftover.start():leftover.start() + 60]!r}")
    return resolved


def display_table(display: Display) -> stored.StoredTable:
    """The stored table a manuscript table shows, with its :rows: and :drop-columns: applied."""
    table = stored.table(display.notebook, display.book_label)
    options = dict(display.options)
    keep = list(range(len(table.header)))
    for prefix in filter(None, (p.strip() for p in options.pop("drop-columns", "").split(";"))):
        keep.remove(table.column(prefix))
    rows = table.rows
    wanted = [r.strip() for r in options.pop("rows", "").split(";") if r.strip()]
    if wanted:
        rows = [table.row(first) for first in wanted]
    if options:
        raise SourceError(f"table {display.name}: unknown options {sorted(options)}")
    picked = stored.StoredTable(table.label, table.caption, [table.header[i] for i in keep],
                                [[row[i] for i in keep] for row in rows])
    for cell in picked.header + [cell for row in picked.rows for cell in row]:
        if LEFTOVER_ROLE.search(cell):
            raise SourceError(f"table {display.name}: cell {cell!r} holds MyST markup; drop its column")
    return picked
