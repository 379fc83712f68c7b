"""Sphinx extension for the book (listed in _config.yml).

- `{{ build_commit }}` substitution: the commit the book was built from. It is filled at build time, not stored in a
  notebook output, because a stored commit would always be the previous one.
- Download menu: adds the chapter's Jupytext source (.md) beside the .ipynb, and a link to the paper PDF when
  `make pdf` has produced it.
- Machine-readable artifacts (the reproduction ledger) published by a notebook are written beside the HTML.
- Alt text: each glued figure's alt text (stored with it, okapi.book.report.glue_figure) is put on its image. MyST-NB
  names a figure's image file by the SHA-256 of its bytes, so the stored outputs give the image -> alt text map.
- MathJax is served from the book itself (`_static/mathjax/`, where _config.yml's `mathjax_path` points), copied from
  the npm package `make` installs: formulas render offline, from file://, and no page asks a CDN for anything.
- Accessibility fixes the browser test's axe-core gate asked for: two theme components overridden from `templates/`
  (each file says what it changes), and bibliography entries given the ARIA role their list requires.
"""

import base64
import hashlib
import json
import shutil
from functools import lru_cache
from pathlib import Path

import nbformat
from docutils import nodes
from sphinx.errors import ExtensionError

from okapi import paths
from okapi.book.buildinfo import git_commit
from okapi.book.report import ALT_KEY, ARTIFACT_KEY

MATHJAX_DIR = paths.NODE_MODULES / "mathjax"
MATHJAX_STATIC = "mathjax"  # under _static; _config.yml's mathjax_path is mathjax/tex-mml-chtml.js
# What tex-mml-chtml.js loads from its own folder: TeX extensions on demand, its fonts, the menu, and the
# accessibility explorer (with its speech rules) that a reader can switch on from the menu. The other builds of the
# package (SVG output, "full" bundles) are not copied.
MATHJAX_PARTS = ("es5/tex-mml-chtml.js", "es5/input/tex/extensions", "es5/output/chtml", "es5/ui", "es5/a11y",
                 "es5/sre", "LICENSE")
TEMPLATES_DIR = Path(__file__).with_name("templates")
PAPER_PDF_NAME = "okapi-paper.pdf"
LATEX_PDF = paths.REPO_ROOT / "_build" / "latex" / PAPER_PDF_NAME


def _add_build_substitutions(app, config):
    substitutions = dict(getattr(config, "myst_substitutions", {}) or {})
    substitutions["build_commit"] = git_commit()
    config.myst_substitutions = substitutions


def _use_own_templates(app, config):
    """The book's templates first, before the themes' components (which the themes append to templates_path)."""
    config.templates_path = [str(TEMPLATES_DIR), *config.templates_path]


def _fix_bibliography_roles(app, pagename, templatename, context, doctree):
    """docutils gives each citation the role doc-biblioentry inside a div with role list; ARIA 1.3 deprecates that
    role, so the list has no list items (axe-core: aria-required-children, critical). Each entry becomes a listitem."""
    if "body" in context:
        context["body"] = context["body"].replace('role="doc-biblioentry"', 'role="listitem"')


def _paired_source(app, pagename):
    source = Path(app.srcdir) / f"{pagename}.md"
    return source if source.exists() and (Path(app.srcdir) / f"{pagename}.ipynb").exists() else None


def _extend_download_menu(app, pagename, templatename, context, doctree):
    group = next((b for b in context.get("header_buttons", []) if b.get("label") == "download-buttons"), None)
    if group is None:
        return
    pathto = context["pathto"]
    buttons = group["buttons"]
    if _paired_source(app, pagename) is not None:
        buttons.insert(1, {
            "type": "link",
            "url": f"{pathto('_sources', 1)}/{pagename}.md",
            "text": ".md",
            "tooltip": "Download the Jupytext source (opens as a notebook with Jupytext)",
            "icon": "fas fa-file-lines",
            "label": "download-jupytext-button",
        })
    if LATEX_PDF.exists():
        buttons.append({
            "type": "link",
            "url": pathto(PAPER_PDF_NAME, 1),
            "text": ".pdf (paper)",
            "tooltip": "Download the typeset paper (LaTeX build)",
            "icon": "fas fa-file-pdf",
            "label": "download-paper-pdf-button",
        })


def _copy_downloads(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    for docname in app.env.found_docs:
        source = _paired_source(app, docname)
        if source is not None:
            target = outdir / "_sources" / f"{docname}.md"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    if LATEX_PDF.exists():
        shutil.copyfile(LATEX_PDF, outdir / PAPER_PDF_NAME)
    _write_artifacts(app, outdir)
    _copy_mathjax(outdir)


def _require_mathjax(app):
    if app.builder.format == "html" and not (MATHJAX_DIR / MATHJAX_PARTS[0]).exists():
        raise ExtensionError(f"MathJax is not installed ({MATHJAX_DIR / MATHJAX_PARTS[0]} is missing): run `make`, "
                             "which installs the pinned npm packages of tools/node into _build/node")
    mathjax_path = str(app.config.mathjax_path)
    if app.builder.format == "html" and not mathjax_path.startswith(MATHJAX_STATIC + "/"):
        raise ExtensionError(f"mathjax_path is {mathjax_path!r}: set it to {MATHJAX_STATIC}/tex-mml-chtml.js in "
                             "_config.yml, so the book serves its own MathJax instead of asking a CDN")


def _copy_mathjax(outdir: Path):
    """The MathJax files the pages load, into _static/mathjax/ (the folder layout of the package's es5/)."""
    target = outdir / "_static" / MATHJAX_STATIC
    for part in MATHJAX_PARTS:
        source = MATHJAX_DIR / part
        destination = target / Path(part).relative_to("es5") if part.startswith("es5/") else target / part
        if source.is_dir():
            shutil.copytree(source, destination, dirs_exist_ok=True)
        else:
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, destination)


def _write_artifacts(app, outdir: Path):
    """Write the JSON documents that executed notebooks published with okapi.book.report.publish_json."""
    for docname in sorted(app.env.found_docs):
        notebook = Path(app.srcdir) / f"{docname}.ipynb"
        if not notebook.exists():
            continue
        for cell in nbformat.read(notebook, as_version=4).cells:
            for output in cell.get("outputs", []):
                name = output.get("metadata", {}).get(ARTIFACT_KEY)
                if name:
                    payload = output["data"]["application/json"]
                    (outdir / name).write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")


@lru_cache(maxsize=4)
def _alt_texts(srcdir: str) -> dict[str, str]:
    """{sha256 of an image's bytes: alt text} over every stored notebook of the book."""
    texts = {}
    for notebook in sorted(Path(srcdir).glob("*.ipynb")) + sorted(Path(srcdir).glob("chapters/*.ipynb")):
        for cell in nbformat.read(notebook, as_version=4).cells:
            for output in cell.get("outputs", []):
                alt = output.get("metadata", {}).get(ALT_KEY)
                if not alt:
                    continue
                for key, value in output.get("data", {}).items():
                    if key.endswith(("image/png", "application/pdf")):
                        texts[hashlib.sha256(base64.b64decode(value)).hexdigest()] = alt
    return texts


def _set_alt_texts(app, doctree, docname):
    texts = _alt_texts(str(app.srcdir))
    for image in doctree.findall(nodes.image):
        digest = Path(image.get("uri", "")).stem
        if digest in texts and not image.get("alt"):
            image["alt"] = texts[digest]


def setup(app):
    app.connect("doctree-resolved", _set_alt_texts)
    app.connect("config-inited", _add_build_substitutions)
    app.connect("config-inited", _use_own_templates)
    app.connect("html-page-context", _fix_bibliography_roles)
    app.connect("builder-inited", _require_mathjax)
    app.connect("html-page-context", _extend_download_menu, priority=600)
    app.connect("build-finished", _copy_downloads)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
