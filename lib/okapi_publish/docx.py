"""The Word styles of the manuscript: pandoc's own reference document, changed for a submission.

pandoc takes paragraph styles and the page set-up (the last `w:sectPr`) from a reference .docx. Starting from the one
pandoc ships (so its style names are the ones it writes), this sets double spacing for the text, single spacing in
table cells (pandoc's "Compact" style), a 12 pt Times-like font, US Letter with 1-inch margins, and continuous line
numbers, as the journal's submission system asks.
"""

import re
import subprocess
import zipfile
from pathlib import Path

DOUBLE = 'w:line="480" w:lineRule="auto"'
SINGLE = 'w:line="240" w:lineRule="auto"'
PAGE = ('<w:sectPr><w:pgSz w:w="12240" w:h="15840" /><w:pgMar w:top="1440" w:right="1440" w:bottom="1440" '
        'w:left="1440" w:header="720" w:footer="720" w:gutter="0" />'
        '<w:lnNumType w:countBy="1" w:restart="continuous" /></w:sectPr>')
FONT = '<w:rFonts w:ascii="Times New Roman" w:hAnsi="Times New Roman" w:eastAsia="Times New Roman" w:cs="Times New Roman" />'


def _restyle(styles: str) -> str:
    styles, defaults = re.subn(r'(<w:pPrDefault>\s*<w:pPr>\s*<w:spacing )', rf"\1{DOUBLE} ", styles)
    styles, fonts = re.subn(r'<w:rFonts w:asciiTheme="minorHAnsi"[^>]*/>', FONT, styles, count=1)
    styles, compact = re.subn(r'(w:styleId="Compact">.*?<w:spacing )', rf"\1{SINGLE} ", styles, count=1, flags=re.S)
    if (defaults, fonts, compact) != (1, 1, 1):
        raise RuntimeError("pandoc's reference.docx changed: the double spacing, font or table spacing did not apply")
    return styles


def _page(document: str) -> str:
    document, pages = re.subn(r"<w:sectPr\s*/>|<w:sectPr>.*?</w:sectPr>", PAGE, document, flags=re.S)
    if pages != 1:
        raise RuntimeError("pandoc's reference.docx changed: its page set-up (w:sectPr) was not found")
    return document


def write_reference_docx(target: Path) -> Path:
    """pandoc's default reference.docx with the submission styles, written to `target`."""
    default = subprocess.run(["pandoc", "--print-default-data-file", "reference.docx"], capture_output=True,
                             check=True).stdout
    source = target.with_suffix(".pandoc-default.docx")
    source.write_bytes(default)
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as changed:
        for item in original.infolist():
            data = original.read(item.filename)
            if item.filename == "word/styles.xml":
                data = _restyle(data.decode("utf-8")).encode("utf-8")
            elif item.filename == "word/document.xml":
                data = _page(data.decode("utf-8")).encode("utf-8")
            changed.writestr(item, data)
    source.unlink()
    return target


def docx_text(path: Path) -> str:
    """The text of a .docx (its document.xml runs, paragraphs on their own lines), for checks."""
    with zipfile.ZipFile(path) as document:
        xml = document.read("word/document.xml").decode("utf-8")
    xml = re.sub(r"</w:p>", "\n", xml)
    xml = re.sub(r"<w:tab\s*/>", "\t", xml)
    text = re.sub(r"<[^>]+>", "", xml)
    return (text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'")
            .replace("&amp;", "&"))
