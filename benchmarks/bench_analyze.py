"""Wall time of `okapi analyze` on the committed cohort, step by step (the same registry the front page runs).

Run: .venv/bin/python benchmarks/bench_analyze.py
"""

import time

from okapi.chapters.registry import run_analyses
from okapi.data.loading import load_cohort


def main() -> None:
    start = time.perf_counter()
    cohort = load_cohort()
    loaded = time.perf_counter() - start
    run = run_analyses(cohort)
    total = time.perf_counter() - start
    print("| step | seconds |")
    print("|---|---|")
    print(f"| load and check the cohort | {loaded:.2f} |")
    for name, seconds in run.seconds.items():
        print(f"| {name} | {seconds:.2f} |")
    print(f"| total ({len(run.entries)} ledger entries) | {total:.2f} |")


if __name__ == "__main__":
    main()
