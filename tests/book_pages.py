"""What the tests need to know about the book's pages: the stored notebooks and the values glued in them."""

import re
from ast import literal_eval
from dataclasses import dataclass
from pathlib import Path

import nbformat
import yaml

from okapi import paths

GLUE_PREFIX = "application/papermill.record/"


def executed_notebooks() -> list[Path]:
    return [source.with_suffix(".ipynb") for source in paths.notebook_sources()]


def docname(notebook: Path) -> str:
    return str(notebook.relative_to(paths.REPO_ROOT).with_suffix(""))


def shown_by_myst(text: str) -> str:
    """What MyST-NB shows for a stored glued text: str(literal_eval(text)) when it is a Python literal."""
    try:
        return str(literal_eval(text))
    except (SyntaxError, ValueError):
        return text


def texts_myst_would_change(texts: dict[str, str]) -> dict[str, str]:
    """{name: what would be shown} for the texts MyST-NB would not show as written ("1.60" as 1.6, "5, 7" as a
    tuple), were they stored bare."""
    return {name: shown_by_myst(text) for name, text in texts.items() if shown_by_myst(text) != text}


def glued_texts(notebook: Path) -> dict[str, str]:
    """{glue name: the text the book shows for it} for every text value glued in a stored notebook."""
    values = {}
    for cell in nbformat.read(notebook, as_version=4).cells:
        for output in cell.get("outputs", []):
            scrap = output.get("metadata", {}).get("scrapbook")
            text = output.get("data", {}).get(GLUE_PREFIX + "text/plain")
            if scrap and text is not None and GLUE_PREFIX + "image/png" not in output.get("data", {}):
                values[scrap["name"]] = shown_by_myst(text)
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


def stored_ledger() -> dict:
    """The reproduction ledger the front page published (reproduction-ledger.json), from the stored index.ipynb."""
    from okapi.book.report import ARTIFACT_KEY

    for cell in nbformat.read(paths.REPO_ROOT / "index.ipynb", as_version=4).cells:
        for output in cell.get("outputs", []):
            if output.get("metadata", {}).get(ARTIFACT_KEY) == "reproduction-ledger.json":
                return output["data"]["application/json"]
    raise LookupError("index.ipynb publishes no reproduction-ledger.json: regenerate the front page")


def toc_notebooks() -> list[Path]:
    """The stored notebook of every page, in the order of the book (which is the order figures are numbered in)."""
    return [paths.REPO_ROOT / f"{name}.ipynb" for name in toc_docnames()]


# A fence line: the fence, then a directive name in braces with its argument, or a plain code block's language.
FENCE = re.compile(r"^\s*(`{3,}|~{3,}|:{3,})\s*(?:\{([^}]+)\}\s*(.*)|(.*))$")
FIGURE_DIRECTIVES = {"figure", "glue:figure"}


@dataclass(frozen=True)
class Directive:
    name: str
    argument: str
    body: list[str]
    inside: tuple[tuple[str, str], ...]  # (name, argument) of each enclosing directive, outermost first


def _directives(markdown: str) -> list[Directive]:
    """Every fenced MyST directive of a Markdown text, with its enclosing directives; plain code fences are skipped."""
    found, stack = [], []  # stack: (fence, name, argument, body lines)
    for line in markdown.splitlines():
        match = FENCE.match(line)
        top = stack[-1] if stack else None
        literal = top is not None and top[1] is None
        if match and top and not match.group(2) and not match.group(4).strip() \
                and match.group(1)[0] == top[0][0] and len(match.group(1)) >= len(top[0]):
            fence, name, argument, body = stack.pop()
            if name is not None:
                found.append(Directive(name, argument, body, tuple((s[1], s[2]) for s in stack if s[1])))
            continue
        for open_directive in stack:  # an enclosing directive's body holds its nested directives' lines too
            open_directive[3].append(line)
        if match and not literal:
            stack.append((match.group(1), match.group(2), (match.group(3) or "").strip(), []))
    return found


def _only_includes(expression: str, builder: str) -> bool:
    """Sphinx's {only} tag expression (names, and, or, not, parentheses) evaluated for one builder."""
    as_python = re.sub(r"[A-Za-z_]\w*", lambda m: m.group() if m.group() in ("and", "or", "not")
                       else str(m.group() == builder), expression)
    return bool(eval(as_python, {"__builtins__": {}}))  # noqa: S307 - only True/False/and/or/not/() remain


def _shown_in(enclosing: tuple[tuple[str, str], ...], builder: str) -> bool:
    return all(_only_includes(argument, builder) for name, argument in enclosing if name == "only")


def _markdown(notebook: Path) -> str:
    """The Markdown the page renders: its Markdown cells and the Markdown outputs of its code cells."""
    parts = []
    for cell in nbformat.read(notebook, as_version=4).cells:
        if cell.cell_type == "markdown":
            parts.append(cell.source)
        for output in cell.get("outputs", []):
            parts.append(output.get("data", {}).get("text/markdown", ""))
    return "\n\n".join(parts)


def figure_captions(notebook: Path, builder: str) -> list[str]:
    """The caption (first paragraph, MyST source) of each numbered figure a page shows in `builder`, in order."""
    captions = []
    for directive in _directives(_markdown(notebook)):
        if directive.name not in FIGURE_DIRECTIVES or not _shown_in(directive.inside, builder):
            continue
        body = list(directive.body)
        if body and body[0].strip() == "---":  # options as a YAML block
            body = body[body[1:].index("---") + 2:] if "---" in body[1:] else []
        while body and (body[0].startswith(":") or not body[0].strip()):
            body.pop(0)
        paragraph = []
        for line in body:
            if not line.strip():
                break
            paragraph.append(line.strip())
        captions.append(" ".join(paragraph))
    return captions


def glue_text_roles(notebook: Path, builder: str) -> int:
    """How many {glue:text} roles a page shows in `builder` (each renders as one span.pasted-text in HTML)."""
    markdown = _markdown(notebook)
    # The outermost {only} blocks that hide their content from this builder.
    hidden = [d for d in _directives(markdown) if d.name == "only" and not _only_includes(d.argument, builder)
              and _shown_in(d.inside, builder)]
    count = len(re.findall(r"\{glue:text\}`", markdown))
    return count - sum(len(re.findall(r"\{glue:text\}`", "\n".join(d.body))) for d in hidden)


def table_captions(notebook: Path) -> dict[str, str]:
    """{label: caption} of every labelled {table} directive of a page (Markdown cells and Markdown outputs)."""
    captions = {}
    for directive in _directives(_markdown(notebook)):
        label = next((line.split(":", 2)[2].strip() for line in directive.body if line.startswith(":name:")), None)
        if directive.name == "table" and label:
            captions[label] = directive.argument
    return captions


def page_title(notebook: Path) -> str:
    """The page's first-level heading (its chapter title in the PDF)."""
    for cell in nbformat.read(notebook, as_version=4).cells:
        if cell.cell_type == "markdown":
            heading = re.search(r"(?m)^# (.+)$", cell.source)
            if heading:
                return heading.group(1).strip()
    raise LookupError(f"{notebook.name} has no '# ' heading")
