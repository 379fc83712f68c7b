"""The timing helper the benchmark scripts share (run them as `.venv/bin/python benchmarks/NAME.py`)."""

import statistics
import time


def median_seconds(task, repeats: int) -> float:
    """Median wall time of `repeats` calls of task(): the median resists one slow run on a busy machine."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        task()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
