"""`make review`: rerun every chapter from scratch and show, output by output, what matches the published book.

The repository is copied to a scratch folder (without its executed notebooks, its virtual environment, `_build/` or
`private/`), every page is executed there by `okapi.book.notebooks.execute_notebook` with the scratch copy's own
library, and each fresh notebook is compared with the committed one (okapi.book.review_outputs). The committed
notebooks are only read. The report goes to `_build/review/`: `index.html` (differences first, the two images side by
side for each figure that changed) and `review.json`. Exit status 1 when any text differs, a figure differs beyond
rendering noise, or a chapter fails to run.

Usage: python -m okapi.book.review run [--jobs N] [--out DIR] [--keep-scratch] [SOURCE ...]
       python -m okapi.book.review compare PUBLISHED_DIR RERUN_DIR [--out DIR]
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from okapi import paths
from okapi.book.review_html import write_html
from okapi.book.review_outputs import TEXT_KINDS, PageReview, changed_pixels_png, compare_page, sanitize_rules

REVIEW_DIR = paths.REPO_ROOT / "_build" / "review"
# Not copied to the scratch folder: the outputs under review, what the rerun must rebuild, and real data.
NOT_COPIED = (".git", ".venv", "_build", "private", "*.ipynb", "__pycache__", ".ipynb_checkpoints", ".pytest_cache",
              "*.egg-info", "node_modules", ".lock-venv")
TIMINGS_FILE = "review-timings.json"


def scratch_copy(target: Path) -> Path:
    shutil.copytree(paths.REPO_ROOT, target, ignore=shutil.ignore_patterns(*NOT_COPIED), symlinks=True)
    return target


def pages(root: Path) -> list[str]:
    """The book's pages, as paths without suffix relative to `root` ("index", "chapters/pain")."""
    sources = [root / "index.md", *sorted((root / "chapters").glob("*.md"))]
    return [source.relative_to(root).with_suffix("").as_posix() for source in sources if source.exists()]


def stored_pages(root: Path) -> list[str]:
    """The pages of which `root` holds an executed notebook (index.ipynb, chapters/*.ipynb)."""
    notebooks = [root / "index.ipynb", *sorted((root / "chapters").glob("*.ipynb"))]
    return [notebook.relative_to(root).with_suffix("").as_posix() for notebook in notebooks if notebook.exists()]


def _execute_one(source: str) -> tuple[str, float, str]:
    from okapi.book.notebooks import ChapterExecutionError, execute_notebook

    start = time.perf_counter()
    try:
        execute_notebook(Path(source))
        error = ""
    except ChapterExecutionError as failure:
        error = str(failure)
    return source, time.perf_counter() - start, error


def execute_here(sources: list[str], jobs: int) -> int:
    """`execute`: run in the scratch copy (its own okapi): execute every source, go on past a failing one, and write
    {page: {seconds, error}} to TIMINGS_FILE."""
    if Path(paths.REPO_ROOT / TIMINGS_FILE).exists():
        (paths.REPO_ROOT / TIMINGS_FILE).unlink()
    timings = {}
    with ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
        for source, seconds, error in pool.map(_execute_one, sources):
            page = Path(source).resolve().relative_to(paths.REPO_ROOT).with_suffix("").as_posix()
            timings[page] = {"seconds": round(seconds, 1), "error": error}
            print(f"  {page}: {seconds:.1f} s" + (f"  FAILED: {error}" if error else ""), flush=True)
    (paths.REPO_ROOT / TIMINGS_FILE).write_text(json.dumps(timings, indent=1) + "\n", encoding="utf-8")
    return 0


def rerun_in_scratch(scratch: Path, sources: list[str], jobs: int) -> dict:
    """Execute `sources` (relative to the repository) in the scratch copy, in a Python that imports the scratch
    copy's library; returns {page: {seconds, error}}."""
    env = {key: value for key, value in os.environ.items() if key != paths.DATA_DIR_ENV}
    env["PYTHONPATH"] = os.pathsep.join([str(scratch / "lib"), *filter(None, [env.get("PYTHONPATH")])])
    probe = subprocess.run([sys.executable, "-c", "from okapi import paths; print(paths.REPO_ROOT)"], env=env,
                           cwd=scratch, capture_output=True, text=True, check=True)
    if Path(probe.stdout.strip()).resolve() != scratch.resolve():
        raise RuntimeError(f"the rerun would import okapi from {probe.stdout.strip()}, not from the scratch copy")
    command = [sys.executable, "-m", "okapi.book.review", "execute", "--jobs", str(jobs), *sources]
    subprocess.run(command, env=env, cwd=scratch, check=True)
    return json.loads((scratch / TIMINGS_FILE).read_text(encoding="utf-8"))


def compare_trees(published_root: Path, rerun_root: Path, names: list[str], timings: dict | None = None):
    rules = sanitize_rules()
    reviews = []
    for page in names:
        review = compare_page(page, published_root / f"{page}.ipynb", rerun_root / f"{page}.ipynb", rules)
        timing = (timings or {}).get(page, {})
        review.seconds, review.error = timing.get("seconds"), timing.get("error", "")
        if not review.error and not (rerun_root / f"{page}.ipynb").exists():
            review.error = "the rerun wrote no notebook"
        reviews.append(review)
    return reviews


def verdict(reviews: list[PageReview]) -> tuple[bool, str]:
    texts = [item for review in reviews for item in review.texts]
    different = [item for item in texts if item.status != "equal"]
    figures = [item for review in reviews for item in review.figures]
    status = {word: sum(item.status == word for item in figures) for word in ("equal", "close", "different")}
    failed = [review.page for review in reviews if review.error]
    figure_words = (f"{len(figures)} figures: {status['equal']} identical, {status['close']} within rendering noise, "
                    f"{status['different']} different")
    if not different and not status["different"] and not failed:
        return True, (f"Reproduced: all {len(texts)} texts of {len(reviews)} pages (glued values, table cells, printed "
                      f"results) are identical to the published ones; {figure_words}.")
    by_kind = [f"{n} {kind}{'s' if n > 1 else ''}" for kind in TEXT_KINDS
               if (n := sum(item.kind == kind for item in different))]
    parts = [f"{len(different)} of {len(texts)} texts differ ({', '.join(by_kind)})" if different else
             f"all {len(texts)} texts are identical"]
    parts.append(figure_words)
    if failed:
        parts.append(f"{len(failed)} page(s) failed to run: {', '.join(failed)}")
    return False, "Not reproduced: " + "; ".join(parts) + "."


def _write_figures(reviews: list[PageReview], out: Path) -> dict[tuple[str, str], dict]:
    """The two images (and the changed pixels) of each figure that is not identical; {(page, key): file names}."""
    folder = out / "figures"
    shutil.rmtree(folder, ignore_errors=True)
    files = {}
    for review in reviews:
        for number, item in enumerate(review.figures, start=1):
            if item.status == "equal":
                continue
            folder.mkdir(parents=True, exist_ok=True)
            stem = f"{review.page.replace('/', '-')}-{number:02d}"
            names = {}
            for side, data in (("published", item.published), ("rerun", item.rerun)):
                if data is not None:
                    (folder / f"{stem}-{side}.png").write_bytes(data)
                    names[side] = f"figures/{stem}-{side}.png"
            mask = changed_pixels_png(item.published, item.rerun) if item.published and item.rerun else None
            if mask is not None:
                (folder / f"{stem}-changed.png").write_bytes(mask)
                names["changed"] = f"figures/{stem}-changed.png"
            files[(review.page, item.key)] = names
    return files


def write_report(reviews: list[PageReview], out: Path, context: dict) -> tuple[bool, str]:
    """review.json and index.html in `out`; returns (reproduced, one-line verdict)."""
    out.mkdir(parents=True, exist_ok=True)
    reproduced, line = verdict(reviews)
    images = _write_figures(reviews, out)
    document = {
        "verdict": line,
        "reproduced": reproduced,
        **context,
        "pages": [{
            "page": review.page,
            "reproduced": review.reproduced,
            "seconds": review.seconds,
            "error": review.error,
            "texts": [{"kind": item.kind, "key": item.key, "status": item.status, "published": item.published,
                       "rerun": item.rerun} for item in review.texts],
            "figures": [{**item.summary(), "images": images.get((review.page, item.key), {})}
                        for item in review.figures],
        } for review in reviews],
    }
    (out / "review.json").write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    write_html(document, out / "index.html")
    return reproduced, line


def _shown(path: Path) -> str:
    path = Path(path).resolve()
    return str(path.relative_to(paths.REPO_ROOT)) if path.is_relative_to(paths.REPO_ROOT) else str(path)


def run(sources: list[str], jobs: int, out: Path, keep_scratch: bool) -> int:
    if os.environ.get(paths.DATA_DIR_ENV, "").strip():
        print(f"error: {paths.DATA_DIR_ENV} is set: the committed notebooks hold the synthetic cohort's outputs, so a "
              f"rerun on an extract cannot be compared with them. Unset it to review the book.", file=sys.stderr)
        return 2
    names = [Path(source).resolve().relative_to(paths.REPO_ROOT).with_suffix("").as_posix() for source in sources]
    names = names or pages(paths.REPO_ROOT)
    scratch_root = Path(tempfile.mkdtemp(prefix="okapi-review-"))
    scratch = scratch_copy(scratch_root / "book")
    start = time.perf_counter()
    try:
        print(f"Rerunning {len(names)} page(s) from scratch in {scratch} with {jobs} process(es) ...", flush=True)
        timings = rerun_in_scratch(scratch, [f"{name}.md" for name in names], jobs)
        reviews = compare_trees(paths.REPO_ROOT, scratch, names, timings)
        context = {"commit": _commit(), "rerun_seconds": round(time.perf_counter() - start, 1), "jobs": jobs}
        reproduced, line = write_report(reviews, out, context)
    finally:
        if keep_scratch:
            print(f"Scratch copy kept: {scratch}")
        else:
            shutil.rmtree(scratch_root, ignore_errors=True)
    print(f"{line}\nReport: {_shown(out / 'index.html')} (and review.json)")
    return 0 if reproduced else 1


def _commit() -> str:
    from okapi.book.buildinfo import git_commit

    return git_commit()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m okapi.book.review", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="rerun the book in a scratch copy and compare it with the published")
    run_parser.add_argument("sources", nargs="*", help="Jupytext sources to rerun (default: every page)")
    run_parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    run_parser.add_argument("--out", type=Path, default=REVIEW_DIR)
    run_parser.add_argument("--keep-scratch", action="store_true", help="keep the scratch copy and its notebooks")
    compare_parser = commands.add_parser("compare", help="compare the notebooks of two folders (no execution)")
    compare_parser.add_argument("published", type=Path, help="folder of the published notebooks (the repository)")
    compare_parser.add_argument("rerun", type=Path, help="folder holding the rerun notebooks at the same paths")
    compare_parser.add_argument("--out", type=Path, default=REVIEW_DIR)
    execute_parser = commands.add_parser("execute", help=argparse.SUPPRESS)  # what `run` starts in the scratch copy
    execute_parser.add_argument("sources", nargs="+")
    execute_parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args(argv)

    if args.command == "execute":
        return execute_here(args.sources, args.jobs)
    if args.command == "run":
        return run(args.sources, args.jobs, args.out, args.keep_scratch)
    names = sorted(set(stored_pages(args.published)) | set(stored_pages(args.rerun)))
    reviews = compare_trees(args.published, args.rerun, names)
    reproduced, line = write_report(reviews, args.out, {"published": str(args.published), "rerun": str(args.rerun)})
    print(f"{line}\nReport: {args.out / 'index.html'} (and review.json)")
    return 0 if reproduced else 1


if __name__ == "__main__":
    sys.exit(main())
