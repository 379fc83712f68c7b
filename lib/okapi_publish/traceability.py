"""Every glued number of the HTML book traceable in one click (Sphinx extension, listed in _config.yml).

MyST-NB pastes a `{glue:text}` value as a bare `<span class="pasted-text">`: the glue name and the cell that computed
it are gone by then. This extension wraps MyST-NB's text role so that each pasted value remembers its name and the
page that glued it (a `traced_glue` node around MyST-NB's own node, which is left as it is, so the cross-page glue
MyST-NB resolves later still lands inside it). In the HTML each value then becomes a link whose title says where it
comes from, e.g. "sens_dropout_pmm_decline: computed in chapters/sensitivity.md, code cell 14 (line 402)", and whose
target is that code cell.

Where the link lands: every cell that glues is hidden from the page (`remove-cell`), so there is no cell on the page
to point at, and a GitHub URL needs the network and a pushed commit. The build therefore writes, for each chapter, a
page of its reviewed source (`_code/chapters/NAME.html`: the Jupytext `.md` with line numbers, each code cell an
anchor `#code-cell-N` listing the names it glues); it works offline and from file://. The glue names are not mapped to
ledger rows: a ledger row (reproduction-ledger.json) names a chapter and a statistic, not a glue, and the front
page's counts summarise the ledger rather than copy one row of it.

Other builders (LaTeX for the PDF and the supplement) get MyST-NB's node unchanged.
"""

import html
import posixpath
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import nbformat
from docutils import nodes
from myst_nb.ext.glue.roles import PasteTextRole
from myst_nb.ext.glue.utils import PendingGlueReference
from sphinx.errors import ExtensionError

CODE_DIR = "_code"  # beside the HTML pages: _code/chapters/sensitivity.html
CODE_CELL_FENCE = re.compile(r"^```\{code-cell\}")
CLOSING_FENCE = "```"


class traced_glue(nodes.Inline, nodes.Element):  # noqa: N801 (docutils names node classes in lower case)
    """A pasted glue value with its name (`key`) and the page whose notebook glued it (`refdoc`)."""


class TracedPasteTextRole(PasteTextRole):
    """MyST-NB's {glue:text}, its result wrapped in a traced_glue node."""

    def run(self):
        pasted, messages = super().run()
        if len(pasted) != 1:
            return pasted, messages
        node = pasted[0]
        if isinstance(node, PendingGlueReference):
            key, refdoc = node.key, node.refdoc
        else:
            # MyST-NB's own parse: "key" or "key:format" (a key of another page is a pending reference above)
            key, refdoc = self.text.rsplit(":", 1)[0], self.document.settings.env.docname
        traced = traced_glue("", node, key=key, refdoc=refdoc)
        self.set_source_info(traced)
        return [traced], messages


@dataclass(frozen=True)
class Origin:
    source: str  # chapters/sensitivity.md
    cell: int  # 1-based among the notebook's code cells
    line: int  # line of the cell's fence in the source


@dataclass(frozen=True)
class CodeCell:
    number: int
    first: int  # line of the opening fence, 1-based
    last: int  # line of the closing fence
    glues: tuple[str, ...]


def code_cells(markdown: str, notebook) -> list[CodeCell]:
    """The code cells of a Jupytext MyST source, with their lines, paired in order with the executed notebook's code
    cells (whose outputs say which names each glued)."""
    lines = markdown.splitlines()
    spans, start = [], None
    for number, line in enumerate(lines, 1):
        if start is None and CODE_CELL_FENCE.match(line):
            start = number
        elif start is not None and line.rstrip() == CLOSING_FENCE:
            spans.append((start, number))
            start = None
    executed = [cell for cell in notebook.cells if cell.cell_type == "code"]
    if len(spans) != len(executed):
        raise ExtensionError(f"the source has {len(spans)} code cells, its notebook {len(executed)}: regenerate it")
    cells = []
    for number, ((first, last), cell) in enumerate(zip(spans, executed), 1):
        glues = tuple(output["metadata"]["scrapbook"]["name"] for output in cell.get("outputs", [])
                      if "scrapbook" in output.get("metadata", {}))
        cells.append(CodeCell(number, first, last, glues))
    return cells


def _paired(srcdir: str, docname: str) -> tuple[Path, Path] | None:
    source, notebook = Path(srcdir) / f"{docname}.md", Path(srcdir) / f"{docname}.ipynb"
    return (source, notebook) if source.exists() and notebook.exists() else None


@lru_cache(maxsize=32)
def _cells(srcdir: str, docname: str) -> tuple[CodeCell, ...]:
    pair = _paired(srcdir, docname)
    if pair is None:
        return ()
    return tuple(code_cells(pair[0].read_text(encoding="utf-8"), nbformat.read(pair[1], as_version=4)))


def origins(srcdir: str, docname: str) -> dict[str, Origin]:
    """{glue name: where it was computed} for one page's notebook."""
    return {name: Origin(f"{docname}.md", cell.number, cell.first)
            for cell in _cells(srcdir, docname) for name in cell.glues}


def code_page(docname: str) -> str:
    return f"{CODE_DIR}/{docname}.html"


def hover_title(key: str, origin: Origin | None) -> str:
    if origin is None:
        return f"{key}: glued value"
    return (f"{key}: computed in {origin.source}, code cell {origin.cell} (line {origin.line}); "
            "click to see the code")


def _trace(app, doctree, docname):
    html_output = app.builder.format == "html"
    for node in list(doctree.findall(traced_glue)):
        if not html_output:
            node.replace_self(node.children)
            continue
        origin = origins(str(app.srcdir), node["refdoc"]).get(node["key"])
        node["title"] = hover_title(node["key"], origin)
        inside_link = any(isinstance(parent, nodes.reference) for parent in _ancestors(node))
        if origin is not None and not inside_link:
            target = f"{code_page(node['refdoc'])}#code-cell-{origin.cell}"
            node["href"] = posixpath.relpath(target, posixpath.dirname(docname) or ".")


def _ancestors(node):
    while node.parent is not None:
        node = node.parent
        yield node


def visit_traced_glue(translator, node):
    title = html.escape(node.get("title", ""), quote=True)
    if node.get("href"):
        translator.body.append(f'<a class="okapi-trace" href="{html.escape(node["href"], quote=True)}" '
                               f'title="{title}">')
    else:
        translator.body.append(f'<span class="okapi-trace" title="{title}">')


def depart_traced_glue(translator, node):
    translator.body.append("</a>" if node.get("href") else "</span>")


def _pass(translator, node):
    pass


def render_code_page(docname: str, markdown: str, cells: list[CodeCell], page_title: str) -> str:
    """The source of one page with numbered lines, each code cell an anchor #code-cell-N naming what it glues."""
    lines = markdown.splitlines()
    depth = docname.count("/") + 1  # _code/chapters/x.html -> ../../
    back = "../" * depth + f"{docname}.html"
    starts = {cell.first: cell for cell in cells}
    ends = {cell.last for cell in cells}
    body, open_block = [], None  # open_block: None, "prose" or "cell"
    for number, line in enumerate(lines, 1):
        cell = starts.get(number)
        if cell is not None:
            body.append({"prose": "</pre>", "cell": "</pre></section>", None: ""}[open_block])
            names = ", ".join(cell.glues) if cell.glues else "nothing"
            body.append(f'<section class="cell" id="code-cell-{cell.number}" aria-labelledby="h-{cell.number}">'
                        f'<h2 id="h-{cell.number}">Code cell {cell.number}, lines {cell.first} to {cell.last}; '
                        f'glues: <span class="names">{html.escape(names)}</span></h2><pre>')
            open_block = "cell"
        elif open_block is None:
            body.append('<pre class="prose">')
            open_block = "prose"
        body.append(f'<span class="ln" aria-hidden="true">{number:>5}</span> {html.escape(line)}\n')
        if number in ends and open_block == "cell":
            body.append("</pre></section>")
            open_block = None
    body.append({"prose": "</pre>", "cell": "</pre></section>", None: ""}[open_block])
    return CODE_PAGE.format(title=html.escape(page_title), source=html.escape(f"{docname}.md"),
                            back=html.escape(back), body="".join(body))


CODE_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Source of {title}: {source}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 0 auto; max-width: 72rem; padding: 1rem; color: #1a1a1a; }}
pre {{ margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; font-size: 0.85rem; line-height: 1.35; }}
pre.prose {{ color: #444; }}
.ln {{ color: #595959; user-select: none; }}
section.cell {{ border: 1px solid #c8c8c8; border-radius: 4px; margin: 0.5rem 0; background: #f6f8fa; }}
section.cell h2 {{ font-size: 0.9rem; margin: 0; padding: 0.3rem 0.5rem; background: #e8ecf0; }}
section.cell:target {{ border: 3px solid #0b5cad; background: #fffbe6; }}
section.cell .names {{ font-family: monospace; font-weight: normal; overflow-wrap: anywhere; }}
</style></head>
<body><header><p><a href="{back}">Back to the page</a></p>
<h1>{source}</h1>
<p>The reviewed source of <em>{title}</em>. Each glued value of the page was computed by one of these code cells when
the notebook was executed (the book shows the stored outputs); the highlighted cell is the one the link came from.</p>
</header><main>{body}</main></body></html>
"""


def _write_code_pages(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    for docname in sorted(app.env.found_docs):
        pair = _paired(str(app.srcdir), docname)
        if pair is None:
            continue
        title = app.env.titles[docname].astext() if docname in app.env.titles else docname
        page = render_code_page(docname, pair[0].read_text(encoding="utf-8"), list(_cells(str(app.srcdir), docname)),
                                title)
        target = Path(app.outdir) / code_page(docname)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(page, encoding="utf-8")


def setup(app):
    app.setup_extension("myst_nb")
    app.add_role_to_domain("glue", "text", TracedPasteTextRole(), override=True)
    app.add_node(traced_glue, html=(visit_traced_glue, depart_traced_glue), latex=(_pass, _pass),
                 text=(_pass, _pass), man=(_pass, _pass), texinfo=(_pass, _pass))
    app.connect("doctree-resolved", _trace)
    app.connect("build-finished", _write_code_pages)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
