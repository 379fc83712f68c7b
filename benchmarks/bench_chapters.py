"""Wall time of re-executing chapters one at a time (nothing else running), as a reviewer's rerun does.

Run: .venv/bin/python benchmarks/bench_chapters.py [chapters/NAME.md ...]   (default: the sensitivity chapter and the
simulation-study appendix). Executes into a scratch folder, so the committed notebooks are not touched.
"""

import os
import sys
import tempfile
import time
from pathlib import Path

from okapi import paths
from okapi.book.notebooks import execute_notebook

DEFAULT = ("chapters/sensitivity.md", "chapters/simulation_study.md")


def main(argv: list[str]) -> None:
    sources = [paths.REPO_ROOT / name for name in (argv or DEFAULT)]
    print(f"{os.cpu_count()} cores; one chapter at a time")
    print("| chapter | wall time (s) |\n|---|---|")
    with tempfile.TemporaryDirectory() as scratch:
        for source in sources:
            start = time.perf_counter()
            execute_notebook(source, target=Path(scratch) / source.with_suffix(".ipynb").name)
            print(f"| {source.relative_to(paths.REPO_ROOT)} | {time.perf_counter() - start:.1f} |", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
