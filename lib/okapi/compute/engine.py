"""Independent refits (simulated cohorts, resamples, sweep ends) on several workers, results in task order.

Each task carries its own seed, so the results do not depend on the number of workers, on which worker ran what, or
on where the workers are: with n_workers = 1 everything runs in this process (the reference the tests compare with);
otherwise joblib's loky processes run the tasks on this machine, or, when a Dask scheduler is given
(`scheduler="tcp://HOST:PORT"`, or the environment variable OKAPI_DASK_SCHEDULER), Dask's distributed workers run
them on a cluster, through the same joblib call.

Each task runs with its BLAS limited to one thread (threadpoolctl), in a worker or in this process: two workers each
starting two BLAS threads on a 2-core machine run slower than one, and a single thread sums in one fixed order, so the
last digits do not depend on the number of workers either.
"""

import os
import sys
from collections.abc import Callable, Sequence

import numpy as np
from joblib import Parallel, delayed, parallel_config
from threadpoolctl import threadpool_limits

SCHEDULER_ENV = "OKAPI_DASK_SCHEDULER"


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


def task_seeds(seed: int, key: int, index: int, count: int = 1) -> list[int]:
    """Integer seeds of one task, fixed by (seed, key, index) alone: task i draws the same numbers whatever the
    number of tasks or workers. `key` keeps the streams of different kinds of task apart."""
    return [int(s) for s in np.random.SeedSequence(seed, spawn_key=(key, index)).generate_state(count)]


def _single_threaded(function: Callable, task):
    with threadpool_limits(limits=1):
        return function(task)


def dask_scheduler(scheduler: str | None = None) -> str | None:
    """The Dask scheduler to use: the argument, else OKAPI_DASK_SCHEDULER, else None (this machine)."""
    return scheduler or os.environ.get(SCHEDULER_ENV, "").strip() or None


def map_in_processes(function: Callable, tasks: Sequence, n_workers: int = 2,
                     progress: Callable[[int], None] | None = None, scheduler: str | None = None) -> list:
    """[function(task) for task in tasks] on `n_workers` workers (or a Dask cluster); `function` must be a
    module-level function. `progress(done)` is called after each task, in task order."""
    tasks = list(tasks)
    address = dask_scheduler(scheduler)
    n_workers = max(1, min(int(n_workers), len(tasks) or 1))
    if n_workers == 1 and address is None:
        # One BLAS thread here too: a multithreaded BLAS sums in another order, and the last digits would then
        # depend on the number of workers.
        return list(_report((_single_threaded(function, task) for task in tasks), progress))
    jobs = (delayed(_single_threaded)(function, task) for task in tasks)
    if address is None:
        with parallel_config(backend="loky", n_jobs=n_workers, inner_max_num_threads=1):
            return list(_report(Parallel(return_as="generator")(jobs), progress))
    from dask.distributed import Client  # only when a cluster is asked for

    with Client(address), parallel_config(backend="dask"):
        return list(_report(Parallel(n_jobs=-1, return_as="generator")(jobs), progress))


def _report(results, progress):
    for done, result in enumerate(results, start=1):
        yield result
        if progress:
            progress(done)
