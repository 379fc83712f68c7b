"""Sphinx extension for the book (listed in _config.yml).

- `{{ build_commit }}` substitution: the commit the book was built from. It is filled at build time, not stored in a
  notebook output, because a stored commit would always be the previous one.
- Download menu: adds the chapter's Jupytext source (.md) beside the .ipynb, and a link to the paper PDF when
  `make pdf` has produced it.
- Machine-readable artifacts (the reproduction ledger) published by a notebook are written beside the HTML.
"""

import json
import shutil
from pathlib import Path

import nbformat

from okapi import paths
from okapi.buildinfo import git_commit
from okapi.report import ARTIFACT_KEY

PAPER_PDF_NAME = "okapi-paper.pdf"
LATEX_PDF = paths.REPO_ROOT / "_build" / "latex" / PAPER_PDF_NAME


def _add_build_substitutions(app, config):
    substitutions = dict(getattr(config, "myst_substitutions", {}) or {})
    substitutions["build_commit"] = git_commit()
    config.myst_substitutions = substitutions


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


def _write_artifacts(app, outdir: Path):
    """Write the JSON documents that executed notebooks published with okapi.report.publish_json."""
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


def setup(app):
    app.connect("config-inited", _add_build_substitutions)
    app.connect("html-page-context", _extend_download_menu, priority=600)
    app.connect("build-finished", _copy_downloads)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
