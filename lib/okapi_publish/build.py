"""`make manuscript`: the journal submission built from the stored outputs the book shows.

Writes to _build/manuscript/:
- okapi-supplement.pdf: the book's pages typeset as Supplement 1 (Jupyter Book's LaTeX build with
  okapi_publish.supplement), built first so that the manuscript can cite its eTable/eFigure/eAppendix numbers;
- okapi-manuscript.pdf: manuscript/manuscript.md resolved into pandoc Markdown (okapi_publish.source), written as
  LaTeX by pandoc with manuscript/template.tex (AMA references by citeproc) and typeset by latexmk/xelatex;
- okapi-manuscript.docx: the same Markdown written by pandoc as Word, with real tables and embedded figures;
- counts.json (the journal's counts), glued.json (every glued text the manuscript shows), the LaTeX sources and logs.

Prints the counts; exits non-zero, after writing every file, when a journal limit or form rule is broken (1), or
at once when the source names a glued text, table or figure the stored notebooks do not have (2).
Usage: python -m okapi_publish.build [--out DIR] [--skip-supplement]
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

from okapi import paths
from okapi_publish import counts, docx, source, stored, supplement, widths

MANUSCRIPT_DIR = paths.REPO_ROOT / "manuscript"
SOURCE = MANUSCRIPT_DIR / "manuscript.md"
TEMPLATE = MANUSCRIPT_DIR / "template.tex"
OUT = paths.REPO_ROOT / "_build" / "manuscript"
NAME = "okapi-manuscript"
CSL = Path("/usr/share/citation-style-language/styles/american-medical-association.csl")
BIBLIOGRAPHY = paths.REPO_ROOT / "references.bib"
# The manuscript's tables: 10 pt FreeSerif on a 6.5 in text block, 6 pt gutters (template.tex, LaTeX defaults).
TABLE_FONT_PT, TEXT_WIDTH_PT, PADDING_PT = 10.0, 6.5 * 72.27, 12.0
PAGE_BREAK = ('```{=latex}\n\\clearpage\n```\n\n'
              '```{=openxml}\n<w:p><w:r><w:br w:type="page"/></w:r></w:p>\n```\n')
MARKDOWN_SPECIALS = re.compile(r"([\\`*_\[\]{}<>#|$^~])")
SUPPLEMENT_PREFIX = {"table": "eTable", "figure": "eFigure"}


def run(command: list[str], cwd: Path | None = None, what: str = "") -> subprocess.CompletedProcess:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{what or command[0]} failed:\n{(result.stdout + result.stderr)[-4000:]}")
    return result


def escape(text: str) -> str:
    """A stored text as literal Markdown (a glued "a*b" or "1.8^2" must not become emphasis or a superscript)."""
    return MARKDOWN_SPECIALS.sub(r"\\\1", text)


# --- The supplement --------------------------------------------------------------------------------------------------

def build_supplement(out: Path) -> Path:
    """Build the supplement PDF with Jupyter Book; returns its .aux (LaTeX's numbers for every label)."""
    config = yaml.safe_load((paths.REPO_ROOT / "_config.yml").read_text(encoding="utf-8"))
    config_file = out / "supplement" / "_config.yml"
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text(yaml.safe_dump(supplement.supplement_config(config), sort_keys=False), encoding="utf-8")
    build_dir = out / "supplement"
    shutil.rmtree(build_dir / "_build" / "latex", ignore_errors=True)
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    run([str(jupyter_book), "build", str(paths.REPO_ROOT), "--config", str(config_file),
         "--toc", str(paths.REPO_ROOT / "_toc.yml"), "--builder", "pdflatex", "--path-output", str(build_dir),
         "-W", "-n", "--keep-going"], what="the supplement's build (Jupyter Book, LaTeX)")
    latex = build_dir / "_build" / "latex"
    shutil.copyfile(latex / f"{supplement.SUPPLEMENT_NAME}.pdf", out / f"{supplement.SUPPLEMENT_NAME}.pdf")
    return latex / f"{supplement.SUPPLEMENT_NAME}.aux"


NEWLABEL = re.compile(r"^\\newlabel\{(?P<doc>[^{}:]+):(?P<label>[^{}:]+)\}\{\{(?P<number>[^{}]*)\}\{[^{}]*\}"
                      r".*\{(?P<anchor>[a-z]+)\*?\.[^{}]*\}\{[^{}]*\}\}\s*$", re.M)


def supplement_numbers(aux: str) -> dict[str, str]:
    """{book label: "eTable 3"} for every table, figure and section label of the supplement, as LaTeX numbered it."""
    numbers = {}
    for match in NEWLABEL.finditer(aux):
        number = match["number"].strip()
        if not number:
            continue
        prefix = SUPPLEMENT_PREFIX.get(match["anchor"], "eAppendix")
        numbers[match["label"]] = f"{prefix} {number}"
    return numbers


# --- The manuscript's Markdown ---------------------------------------------------------------------------------------

def front_matter(text: str) -> tuple[dict, str]:
    match = re.match(r"^---\n(.*?)\n---\n", text, re.S)
    if not match:
        raise source.SourceError("manuscript.md must start with a YAML front matter (title, short-title)")
    return yaml.safe_load(match[1]), text[match.end():]


def pipe_table(table: stored.StoredTable, caption: str) -> str:
    """A pandoc pipe table whose relative column widths (dashes) give every column its longest word."""
    grid = [table.header] + table.rows
    columns = [widths.measure_column([[(row[i], "serif")] for row in grid], TABLE_FONT_PT)
               for i in range(len(table.header))]
    inner = [share - PADDING_PT for share in widths.share_widths(columns, TEXT_WIDTH_PT, PADDING_PT)]
    dashes = [max(3, round(400 * width / sum(inner))) for width in inner]
    lines = ["| " + " | ".join(escape(cell) for cell in row) + " |" for row in grid]
    lines.insert(1, "|" + "|".join("-" * count for count in dashes) + "|")
    return "\n".join(lines) + f"\n\n: {caption}\n"


def display_markdown(display: source.Display, caption: str, figures: Path) -> str:
    if display.kind == "Table":
        return pipe_table(source.display_table(display), f"{display.title}. {caption}")
    figure = stored.figure(display.notebook, display.book_label)
    figures.mkdir(parents=True, exist_ok=True)
    (figures / f"{display.name}.pdf").write_bytes(figure.pdf)
    (figures / f"{display.name}.png").write_bytes(figure.png)
    # No extension: pandoc adds .pdf (vector) for LaTeX and .png for Word (--default-image-extension).
    return f"![{display.title}. {caption}](figures/{display.name})\n"


def resolve(text: str, numbers: dict[str, str], figures: Path) -> tuple[str, source.Source, list[str], list[str]]:
    """(pandoc Markdown body, parsed source, glued texts in order, displays' Markdown)."""
    parsed = source.parse(text)
    glued: list[str] = []

    def resolved(part: str) -> str:
        out = source.ROLE.sub(lambda m: _escaped_role(m, parsed, numbers, glued), part)
        leftover = source.LEFTOVER_ROLE.search(out)
        if leftover:
            raise source.SourceError(f"unknown role near {out[leftover.start():leftover.start() + 60]!r}")
        return out

    body = re.sub(r"<!--.*?-->\n*", "", parsed.text, flags=re.S)
    body = re.sub(r"\n*<<display:[^>]*>>\n*", "\n\n", resolved(body))
    displays = [display_markdown(d, resolved(d.caption), figures) for d in parsed.displays]
    return body.strip() + "\n", parsed, glued, displays


def _escaped_role(match: re.Match, parsed: source.Source, numbers: dict[str, str], found: list[str]) -> str:
    value = source.resolve_role(match, parsed, numbers, found)
    return value if match["role"] in ("cite:p", "cite") else escape(value)


def cited_keys(markdown: str) -> list[str]:
    return list(dict.fromkeys(re.findall(r"@([\w-]+)", " ".join(re.findall(r"\[@[^\]]*\]", markdown)))))


def title_page(meta: dict, tally: counts.Counts, numbers: dict[str, str]) -> str:
    def highest(prefix: str) -> int:
        values = [int(n.split()[1].split(".")[0]) for n in numbers.values() if n.split()[0] == prefix]
        return max(values, default=0)

    limits = counts.LIMITS
    lines = ["```{=latex}", "{\\setlength{\\parindent}{0pt}", "```", "",
             f"Short title: {meta['short-title']}", "",
             "Authors: [author names, highest academic degrees and affiliations to be completed by the authors]", "",
             "Corresponding author: [name, postal address, telephone and email to be completed by the authors]", "",
             f"Word count: main text {tally.main_text_words} words (limit {limits['main_text_words']}); abstract "
             f"{tally.abstract_words} words (limit {limits['abstract_words']}); Key Points {tally.key_points_words} "
             f"words (limit {limits['key_points_words']})", "",
             f"Tables and figures: {tally.tables} tables and {tally.figures} figures (limit "
             f"{limits['display_items']}); references: {tally.references}", "",
             f"Supplement 1 ({supplement.SUPPLEMENT_NAME}.pdf): eAppendixes 1 to {highest('eAppendix')}, eTables 1 to "
             f"{highest('eTable')} and eFigures 1 to {highest('eFigure')}", "", "```{=latex}", "\\par}", "```", ""]
    return "\n".join(lines) + "\n" + PAGE_BREAK


def assemble(meta: dict, body: str, displays: list[str], tally: counts.Counts, numbers: dict[str, str]) -> str:
    parts = [title_page(meta, tally, numbers), body, "# References\n\n::: {#refs}\n:::\n"]
    parts += [PAGE_BREAK + display for display in displays]
    return "\n".join(parts)


def pandoc(markdown: Path, target: Path, extension: str, extra: list[str]) -> None:
    run(["pandoc", str(markdown), "--from", "markdown", "--citeproc", "--csl", str(CSL), "--bibliography",
         str(BIBLIOGRAPHY), "--metadata", "link-citations=true", "--default-image-extension", extension,
         "--resource-path", str(markdown.parent), "-o", str(target), *extra], cwd=markdown.parent,
        what=f"pandoc ({target.name})")


def typeset(tex: Path) -> Path:
    run(["latexmk", "-xelatex", "-interaction=nonstopmode", "-halt-on-error", "-f", tex.name], cwd=tex.parent,
        what=f"latexmk {tex.name}")
    return tex.with_suffix(".pdf")


def build(out: Path = OUT, skip_supplement: bool = False) -> int:
    started = time.perf_counter()
    if os.environ.get(paths.DATA_DIR_ENV, "").strip():
        raise SystemExit(f"{paths.DATA_DIR_ENV} is set: the manuscript is built from the committed notebooks only; "
                         "a real extract's book is built in _build/extract-book (see README)")
    out.mkdir(parents=True, exist_ok=True)
    for tool in ("pandoc", "latexmk", "xelatex"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed: run `tools/system-deps.sh --required tex pandoc` (as root)")
    if not CSL.exists():
        raise SystemExit(f"{CSL} missing: run `tools/system-deps.sh --required pandoc` (as root)")
    # A failed build must not leave the previous build's files looking current.
    for stale in (f"{NAME}.pdf", f"{NAME}.docx", "counts.json", "glued.json"):
        (out / stale).unlink(missing_ok=True)
    aux = out / "supplement" / "_build" / "latex" / f"{supplement.SUPPLEMENT_NAME}.aux"
    if not skip_supplement or not aux.exists():
        (out / f"{supplement.SUPPLEMENT_NAME}.pdf").unlink(missing_ok=True)
        aux = build_supplement(out)
    numbers = supplement_numbers(aux.read_text(encoding="utf-8"))
    meta, text = front_matter(SOURCE.read_text(encoding="utf-8"))
    work = out / "latex"
    shutil.rmtree(work, ignore_errors=True)
    body, parsed, glued, displays = resolve(text, numbers, work / "figures")
    tables = sum(d.kind == "Table" for d in parsed.displays)
    tally = counts.count(body, tables, len(parsed.displays) - tables, len(cited_keys(body)))
    markdown = work / f"{NAME}.md"
    markdown.write_text(assemble(meta, body, displays, tally, numbers), encoding="utf-8")
    title = ["--metadata", f"title={meta['title']}", "--metadata", f"subtitle={meta['article-type']}"]
    pandoc(markdown, work / f"{NAME}.tex", "pdf", ["--template", str(TEMPLATE), *title])
    shutil.copyfile(typeset(work / f"{NAME}.tex"), out / f"{NAME}.pdf")
    reference = docx.write_reference_docx(work / "reference.docx")
    pandoc(markdown, out / f"{NAME}.docx", "png", ["--reference-doc", str(reference), *title])
    (out / "counts.json").write_text(json.dumps(tally.as_dict(), indent=2) + "\n", encoding="utf-8")
    (out / "glued.json").write_text(json.dumps(list(dict.fromkeys(glued)), indent=2, ensure_ascii=False) + "\n",
                                    encoding="utf-8")
    print(f"Manuscript: {out / (NAME + '.pdf')}, {out / (NAME + '.docx')}; "
          f"supplement: {out / (supplement.SUPPLEMENT_NAME + '.pdf')} ({time.perf_counter() - started:.0f} s)")
    for name, value in tally.as_dict().items():
        limit = counts.LIMITS.get(name)
        print(f"  {name.replace('_', ' ')}: {value}" + (f" (limit {limit})" if limit else ""))
    problems = counts.form_problems(body, tally)
    for problem in problems:
        print(f"  OVER THE JOURNAL'S LIMIT OR FORM: {problem}", file=sys.stderr)
    return 1 if problems else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"output folder (default {OUT})")
    parser.add_argument("--skip-supplement", action="store_true",
                        help="reuse the supplement already built (when only the manuscript's source changed)")
    args = parser.parse_args(argv)
    try:
        return build(args.out.resolve(), args.skip_supplement)
    except (source.SourceError, stored.MissingOutput) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
