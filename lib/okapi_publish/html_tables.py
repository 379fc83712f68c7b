"""Tables that fit the HTML text column (Sphinx extension, listed in _config.yml; the rules are _static/okapi-html.css).

A table is as wide as its longest unbreakable words. Most are words a reader needs whole (numbers, "Reproduced"); the
exceptions are code-like tokens: generator parameter names (`retreatment_log_rate_per_nprs_point`), module paths, file
checksums. Each such token in a table cell is wrapped in `<span class="okapi-token">`, which the stylesheet lets break
anywhere, so that it no longer sets the width of its column; ordinary words and numbers never break inside. A table
that still cannot fit scrolls inside its own box (the theme's `pst-scrollable-table-container`) with its caption kept
in view. HTML only: the PDF has its own breakable identifiers (okapi_publish.latex_layout).
"""

import re

from docutils import nodes

# A word holding an underscore or a dot followed by 14 more name characters, or a hexadecimal digest.
CODE_LIKE = re.compile(r"\S*[A-Za-z0-9][_.][A-Za-z0-9_.]{14,}\S*|\b[0-9a-f]{32,}\b")
TOKEN_CLASS = "okapi-token"


def split_code_like(text: str) -> list[tuple[str, bool]]:
    """[(piece, is code-like)] covering `text` in order."""
    pieces, at = [], 0
    for match in CODE_LIKE.finditer(text):
        if match.start() > at:
            pieces.append((text[at:match.start()], False))
        pieces.append((match.group(), True))
        at = match.end()
    if at < len(text):
        pieces.append((text[at:], False))
    return pieces


def _mark_tokens(app, doctree, docname):
    if app.builder.format != "html":
        return
    for entry in list(doctree.findall(nodes.entry)):
        for text in list(entry.findall(nodes.Text)):
            if isinstance(text.parent, (nodes.literal, nodes.raw)) or not CODE_LIKE.search(text.astext()):
                continue
            replacement = [nodes.inline(piece, piece, classes=[TOKEN_CLASS]) if code else nodes.Text(piece)
                           for piece, code in split_code_like(text.astext())]
            text.parent.replace(text, replacement)


def setup(app):
    app.connect("doctree-resolved", _mark_tokens)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
