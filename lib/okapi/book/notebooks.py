"""Regenerate the executed notebooks from their Jupytext sources, and tell which ones are stale.

The book is built from the executed `.ipynb` with execution off, so what a reader sees is exactly what was stored.
Each stored notebook carries the SHA-256 of everything its numbers depend on (its source, the `okapi` library, the data
and the lock file). Any change to one of them makes the notebook stale: `make book` re-executes stale notebooks before
building, and the tests fail on a committed stale notebook, so no edit can leave an old number in the book.

On a real extract (OKAPI_DATA_DIR), the committed notebooks are never touched: the book's sources are mirrored into
`_build/extract-book/` (git-ignored) and executed and built there, so real-data results cannot end up in git.

A chapter with a cell tagged `parameters` (papermill's convention) can be rerun with other settings, without editing
it: `rerun SOURCE --set name=value ... --out FILE.ipynb` inserts a cell tagged `injected-parameters` after it (as
papermill does), executes, and writes FILE; the committed notebook is never the target.

Usage: python -m okapi.book.notebooks {status,regenerate,book-dir} [--all] [--jobs N] [SOURCE ...]
       python -m okapi.book.notebooks rerun SOURCE [--set NAME=VALUE ...] --out FILE.ipynb
"""

import argparse
import ast
import hashlib
import os
import re
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from okapi import paths
from okapi.data.loading import is_committed_cohort

STAMP_KEY = "okapi"
EXTRACT_BOOK_DIR = paths.REPO_ROOT / "_build" / "extract-book"
# What the book needs besides the chapters; mirrored for a real extract.
BOOK_FILES = ("index.md", "_config.yml", "_toc.yml", "references.bib", "jupytext.toml")
CELL_TIMEOUT_SECONDS = 900
# A parameters cell may hold a dict of this name: `--set NAME=VALUE` for a NAME that is not a variable of the cell
# goes into it (a chapter with many settings keeps their defaults in okapi.plan, not typed again in the cell).
SETTINGS_DICT = "rerun_settings"


class ChapterExecutionError(RuntimeError):
    """A chapter raised while executing: the message names the chapter, the cell and the error."""


def shown(path: Path) -> str:
    """A path as a reader of the repository knows it (relative to the repository root when inside it)."""
    path = Path(path)
    return str(path.relative_to(paths.REPO_ROOT)) if path.is_relative_to(paths.REPO_ROOT) else str(path)


def _digest_files(files) -> str:
    digest = hashlib.sha256()
    for path in files:
        # Paths enter the digest as shown (not absolute) so a clone elsewhere gets the same fingerprint.
        digest.update(shown(path).encode())
        digest.update(b"\0")
        digest.update(Path(path).read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def library_files() -> list[Path]:
    return sorted(p for p in paths.LIB_DIR.rglob("*") if p.is_file() and p.suffix in {".py", ".csv"})


def data_files() -> list[Path]:
    """What the chapters read: the cohort in use (committed or OKAPI_DATA_DIR) plus codebook, targets, manifest."""
    cohort = [paths.cohort_dir() / name for name in paths.COHORT_FILES]
    own = [p for p in sorted(paths.DATA_DIR.iterdir()) if p.is_file() and p.name not in paths.COHORT_FILES]
    return [p for p in cohort + own if p.exists()]


def input_fingerprint(source: Path) -> dict:
    return {
        "source_sha256": _digest_files([source]),
        "library_sha256": _digest_files(library_files()),
        "data_sha256": _digest_files(data_files()),
        "lock_sha256": _digest_files([paths.LOCK_FILE]),
    }


def executed_path(source: Path) -> Path:
    return Path(source).with_suffix(".ipynb")


@dataclass
class Staleness:
    source: Path
    reasons: list[str]

    @property
    def stale(self) -> bool:
        return bool(self.reasons)


_WHAT_CHANGED = {
    "source_sha256": "its source {source} was edited",
    "library_sha256": "the okapi library (lib/okapi) changed",
    "data_sha256": "the data in use changed",
    "lock_sha256": "the package lock (requirements.txt) changed",
}


def staleness(source: Path, fingerprint_without_source: dict | None = None) -> Staleness:
    source = Path(source)
    target = executed_path(source)
    rel = shown(source)
    if not target.exists():
        return Staleness(source, [f"{shown(target)} does not exist"])
    stored = nbformat.read(target, as_version=4).metadata.get(STAMP_KEY, {})
    current = dict(fingerprint_without_source or input_fingerprint(source))
    current["source_sha256"] = _digest_files([source])
    reasons = [_WHAT_CHANGED[key].format(source=rel) for key in _WHAT_CHANGED if stored.get(key) != current[key]]
    return Staleness(source, reasons)


def _code_cell_label(nb, index: int) -> str:
    code_number = sum(1 for cell in nb.cells[: index + 1] if cell.cell_type == "code")
    first_line = next((line for line in nb.cells[index].source.splitlines() if line.strip()), "")
    return f"code cell {code_number} (starting `{first_line[:60]}`)"


def _normalise(nb) -> None:
    """Make the stored notebook byte-identical across runs: fixed cell ids, no timings, no volatile metadata."""
    nb.metadata.pop("jupytext", None)
    nb.metadata.pop("widgets", None)
    for number, cell in enumerate(nb.cells):
        cell.id = f"cell-{number:03d}"
        cell.metadata.pop("execution", None)
        for output in cell.get("outputs", []):
            output.get("metadata", {}).pop("execution", None)


def parameter_assignments(settings: list[str]) -> dict:
    """NAME=VALUE pairs from the command line; VALUE is a Python literal (5, 0.5, (1, 2), None, 'text') or else a
    plain string (a path)."""
    values = {}
    for item in settings:
        name, sep, text = item.partition("=")
        if not sep or not name.strip().isidentifier():
            raise ValueError(f"--set {item!r}: expected NAME=VALUE with NAME a Python identifier")
        try:
            values[name.strip()] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            values[name.strip()] = text
    return values


def inject_parameters(nb, values: dict) -> None:
    """Insert a cell tagged `injected-parameters` right after the cell tagged `parameters` (papermill's layout)."""
    tagged = [i for i, cell in enumerate(nb.cells) if "parameters" in cell.metadata.get("tags", [])]
    if len(tagged) != 1:
        raise ValueError(f"expected exactly one cell tagged 'parameters', found {len(tagged)}")
    defined = set()
    for node in ast.walk(ast.parse(nb.cells[tagged[0]].source)):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            defined.add(node.id)
    variables = {name: value for name, value in values.items() if name in defined}
    settings = {name: value for name, value in values.items() if name not in defined}
    if settings and SETTINGS_DICT not in defined:
        raise ValueError(f"not parameters of this chapter: {sorted(settings)}; its parameters: {sorted(defined)}")
    lines = [f"{name} = {value!r}" for name, value in variables.items()]
    if settings:
        # Names that are not variables of the cell are settings: the chapter's Settings class (okapi.plan) reads
        # them from this dict and refuses a name it does not know.
        lines.append(f"{SETTINGS_DICT} = {{**{SETTINGS_DICT}, **{settings!r}}}")
    code = "\n".join(lines)
    cell = nbformat.v4.new_code_cell(code, metadata={"tags": ["injected-parameters", "remove-cell"]})
    nb.cells.insert(tagged[0] + 1, cell)


def execute_notebook(source: Path, parameters: dict | None = None, target: Path | None = None) -> Path:
    """Execute one Jupytext source in its own folder and write the executed .ipynb beside it (or to `target`,
    with `parameters` injected after its parameters cell)."""
    source = Path(source).resolve()
    rel = shown(source)
    nb = jupytext.read(source)
    if parameters:
        inject_parameters(nb, parameters)
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT_SECONDS,
        kernel_name="python3",
        resources={"metadata": {"path": str(source.parent)}},
        record_timing=False,
    )
    try:
        client.execute()
    except CellExecutionError as error:
        failed = next(
            (i for i, cell in enumerate(nb.cells)
             if any(out.get("output_type") == "error" for out in cell.get("outputs", []))),
            None,
        )
        where = _code_cell_label(nb, failed) if failed is not None else "a code cell"
        text = re.sub(r"\x1b\[[0-9;]*m", "", str(error)).strip()  # the kernel colours its traceback
        last_line = text.splitlines()[-1] if text else repr(error)
        raise ChapterExecutionError(f"{rel}: {where} raised {last_line}") from None
    _normalise(nb)
    nb.metadata[STAMP_KEY] = input_fingerprint(source)
    target = Path(target) if target is not None else executed_path(source)
    nbformat.write(nb, target)
    return target


def book_dir() -> Path:
    """Where the book is executed and built: the repository for the committed cohort, else a git-ignored mirror."""
    return paths.REPO_ROOT if is_committed_cohort(paths.cohort_dir()) else EXTRACT_BOOK_DIR


def mirror_book_sources() -> Path:
    """Copy the book's sources (not its executed notebooks) into EXTRACT_BOOK_DIR; return it."""
    chapters = EXTRACT_BOOK_DIR / "chapters"
    chapters.mkdir(parents=True, exist_ok=True)
    for name in BOOK_FILES:
        shutil.copyfile(paths.REPO_ROOT / name, EXTRACT_BOOK_DIR / name)
    wanted = {source.name for source in paths.CHAPTERS_DIR.glob("*.md")}
    for old in chapters.glob("*"):
        if old.suffix in (".md", ".ipynb") and old.with_suffix(".md").name not in wanted:
            old.unlink()
    for name in wanted:
        source, target = paths.CHAPTERS_DIR / name, chapters / name
        if not target.exists() or target.read_bytes() != source.read_bytes():
            shutil.copyfile(source, target)
    return EXTRACT_BOOK_DIR


def book_sources(root: Path) -> list[Path]:
    return [root / "index.md", *sorted((root / "chapters").glob("*.md"))]


def _execute_timed(source: Path) -> tuple[Path, float]:
    start = time.perf_counter()
    execute_notebook(source)
    return source, time.perf_counter() - start


def regenerate(sources, jobs: int = 1) -> list[tuple[Path, float]]:
    """Execute the given sources (in parallel processes when jobs > 1); return (source, seconds) per chapter."""
    sources = list(sources)
    if jobs <= 1 or len(sources) <= 1:
        return [_execute_timed(source) for source in sources]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(_execute_timed, sources))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m okapi.book.notebooks", description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["status", "regenerate", "book-dir", "rerun"])
    parser.add_argument("sources", nargs="*", help="Jupytext sources (default: every page of the book)")
    parser.add_argument("--all", action="store_true", help="regenerate even the notebooks that are up to date")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="rerun: a parameter of the chapter's parameters cell (repeatable)")
    parser.add_argument("--out", help="rerun: where to write the executed notebook")
    args = parser.parse_args(argv)
    if args.action == "rerun":
        return rerun(args.sources, args.set, args.out)

    root = book_dir()
    if args.action == "book-dir":
        print(root)
        return 0
    if root != paths.REPO_ROOT:
        mirror_book_sources()
        print(f"Real extract ({paths.cohort_dir()}): executing a copy of the book in {shown(root)}; the committed "
              "notebooks are left alone.", flush=True)
    sources = [Path(s).resolve() for s in args.sources] or book_sources(root)
    shared = input_fingerprint(sources[0])
    report = [staleness(source, shared) for source in sources]
    if args.action == "status":
        for item in report:
            print(f"{shown(item.source)}: " + ("stale: " + "; ".join(item.reasons) if item.stale else "up to date"))
        return 1 if any(item.stale for item in report) else 0

    todo = sources if args.all else [item.source for item in report if item.stale]
    if not todo:
        print("All executed notebooks are up to date.")
        return 0
    print(f"Executing {len(todo)} notebook(s) with {args.jobs} process(es) ...", flush=True)
    try:
        for source, seconds in regenerate(todo, jobs=args.jobs):
            print(f"  {shown(source)}: {seconds:.1f} s", flush=True)
    except ChapterExecutionError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


def rerun(sources: list[str], settings: list[str], out: str | None) -> int:
    """`rerun SOURCE --set ... --out FILE`: the chapter with other parameters, written to FILE only."""
    if len(sources) != 1 or not out:
        print("error: rerun needs one SOURCE and --out FILE.ipynb", file=sys.stderr)
        return 2
    source, target = Path(sources[0]).resolve(), Path(out).resolve()
    if target.suffix != ".ipynb" or target == executed_path(source) or target.parent == paths.CHAPTERS_DIR:
        print(f"error: --out {out}: write the rerun elsewhere than chapters/ (a .ipynb file); the committed "
              "notebooks hold the book's published outputs", file=sys.stderr)
        return 2
    try:
        values = parameter_assignments(settings)
        start = time.perf_counter()
        execute_notebook(source, values, target)
    except (ValueError, ChapterExecutionError) as error:
        print(f"error: {shown(source)}: {error}", file=sys.stderr)
        return 1
    print(f"{shown(source)} rerun with {values or 'its default parameters'} in {time.perf_counter() - start:.1f} s: "
          f"{target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
