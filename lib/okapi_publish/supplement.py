"""Sphinx extension for the supplement: the book's pages typeset as the manuscript's Supplement 1.

The supplement is built from the same stored notebooks and _toc.yml as the book, with the book's configuration plus
what this module adds (`supplement_config`, written by okapi_publish.build before the build):

- eAppendix, eTable and eFigure numbering (the journal's form), in the headings, captions and cross-references;
- the tables and figures the manuscript shows are not repeated: each is replaced by a line naming it ("Table 1 of
  the manuscript"), and so are the page's cross-references to it;
- the References page unnumbered, after the last eAppendix.

The manuscript cites the supplement's numbers as LaTeX assigned them (okapi_publish.build reads its .aux file).
"""

import copy
from pathlib import Path

from docutils import nodes
from sphinx import addnodes

from okapi import paths
from okapi_publish import source

SUPPLEMENT_NAME = "okapi-supplement"
TITLE_PREFIX = "Supplement 1. "
PREAMBLE = r"""
% okapi_publish.supplement: sections are eAppendixes (numbered, subsections not), in the headings and the contents.
\setcounter{secnumdepth}{1}
\addto\captionsenglish{\renewcommand{\contentsname}{Contents}}
\makeatletter
\titleformat{\section}{\Large\py@HeaderFamily}{\py@TitleColor eAppendix~\thesection.}{0.5em}{\py@TitleColor}
\makeatother
\usepackage{titletoc}
\titlecontents{section}[6.2em]{\addvspace{3pt}}{\contentslabel[eAppendix~\thecontentslabel.]{6.2em}}{\hspace*{-6.2em}}
  {\titlerule*[0.8pc]{.}\contentspage}
"""
NUMFIG_FORMAT = {"figure": "eFigure %s", "table": "eTable %s", "code-block": "eListing %s", "section": "eAppendix %s"}


def supplement_config(book_config: dict) -> dict:
    """The book's _config.yml changed into the supplement's."""
    config = copy.deepcopy(book_config)
    config["title"] = TITLE_PREFIX + config["title"]
    config["latex"]["latex_documents"]["targetname"] = f"{SUPPLEMENT_NAME}.tex"
    sphinx = config["sphinx"]
    sphinx["extra_extensions"] = [*sphinx["extra_extensions"], "okapi_publish.supplement"]
    settings = sphinx["config"]
    settings["numfig_format"] = dict(NUMFIG_FORMAT)
    settings["okapi_manuscript_source"] = str(paths.REPO_ROOT / "manuscript" / "manuscript.md")
    settings["latex_elements"]["preamble"] = settings["latex_elements"].get("preamble", "") + PREAMBLE
    return config


def _shown_in_manuscript(app) -> dict[str, str]:
    path = Path(app.config.okapi_manuscript_source)
    return source.book_labels(path.read_text(encoding="utf-8")) if path.exists() else {}


def _leave_out_manuscript_displays(app, doctree):
    """Replace each table or figure the manuscript shows, and the page's references to it, by its manuscript name."""
    shown = _shown_in_manuscript(app)
    for node in list(doctree.findall(lambda n: isinstance(n, (nodes.table, nodes.figure)))):
        label = next((name for name in node.get("names", []) if name in shown), None)
        if label is None:
            continue
        note = nodes.paragraph("", "", nodes.emphasis("", f"This {shown[label].split()[0].lower()} is shown as "
                                                          f"{shown[label]} of the manuscript."))
        node.replace_self(note)  # only the display: MyST-NB's output containers around it stay
    for reference in list(doctree.findall(addnodes.pending_xref)):
        if reference.get("reftype") == "numref" and reference.get("reftarget") in shown:
            reference.replace_self(nodes.Text(f"{shown[reference['reftarget']]} of the manuscript"))


def _unnumbered_references(app, doctree, docname):
    """The References page after the last eAppendix, without a number of its own."""
    if app.builder.format != "latex":
        return
    for start in doctree.findall(addnodes.start_of_file):
        if start.get("docname") == "chapters/bibliography":
            start.insert(0, nodes.raw("", r"\setcounter{secnumdepth}{0}", format="latex"))


def setup(app):
    app.add_config_value("okapi_manuscript_source", "", "env")
    app.connect("doctree-read", _leave_out_manuscript_displays)
    app.connect("doctree-resolved", _unnumbered_references)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
