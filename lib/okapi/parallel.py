"""Independent refits (simulated cohorts, resamples, sweep ends) on several processes, results in task order.

Each task carries its own seed, so the results do not depend on the number of workers or on which worker ran what;
with n_workers = 1 everything runs in this process (the reference the tests compare with).
"""

import multiprocessing
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor

# One BLAS thread per worker (for libraries that start their threads after the fork): two workers each starting
# two BLAS threads on a 2-core laptop run slower than one.
_SINGLE_THREADED = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}


def _single_threaded_worker():
    os.environ.update(_SINGLE_THREADED)


class ProgressBar:
    """A plain-text progress bar on stderr, for the command line only: `progress=None` (the default everywhere)
    prints nothing, so a notebook's outputs stay the same run to run."""

    def __init__(self, total: int, label: str, stream=None, width: int = 30):
        self.total, self.label, self.width, self.done = total, label, width, 0
        self.stream = stream or sys.stderr

    def __call__(self, done: int) -> None:
        self.done = done
        filled = int(self.width * done / max(self.total, 1))
        self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (self.width - filled)}] {done}/{self.total}")
        if done >= self.total:
            self.stream.write("\n")
        self.stream.flush()


def map_in_processes(function: Callable, tasks: Sequence, n_workers: int = 2,
                     progress: Callable[[int], None] | None = None) -> list:
    """[function(task) for task in tasks], on `n_workers` processes; `function` must be a module-level function.
    `progress(done)` is called after each finished task."""
    tasks = list(tasks)
    n_workers = max(1, min(int(n_workers), len(tasks) or 1))
    if n_workers == 1:
        return list(_serially(function, tasks, progress))
    # fork keeps the parent's imports (a spawn would re-import pandas and statsmodels in every worker).
    context = multiprocessing.get_context("fork")
    results = [None] * len(tasks)
    with ProcessPoolExecutor(n_workers, mp_context=context, initializer=_single_threaded_worker) as pool:
        futures = {pool.submit(function, task): index for index, task in enumerate(tasks)}
        from concurrent.futures import as_completed
        for done, future in enumerate(as_completed(futures), start=1):
            results[futures[future]] = future.result()
            if progress:
                progress(done)
    return results


def _serially(function: Callable, tasks: Iterable, progress) -> Iterable:
    for done, task in enumerate(tasks, start=1):
        yield function(task)
        if progress:
            progress(done)
