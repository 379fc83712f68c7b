"""Replicates per second of the simulation study on 1 and 2 local workers and on a 2-worker Dask LocalCluster.

Usage: .venv/bin/python benchmarks/bench_engine.py [--replicates 8] [--rounds 3]
Times the appendix's replicates (default SimulationStudySettings: 329 patients, the chapters' analyses, the mediation
bootstrap; not the truths) through okapi.compute.engine.map_in_processes, as run_simulation_study runs them: on
this process (1 worker), on 2 loky processes, and through the scheduler of a distributed.LocalCluster of 2 worker
processes with one thread each (the route of `--scheduler tcp://HOST:PORT`). Each engine first runs one trivial task
per worker, so process start-up and imports are not counted; connecting to the scheduler is (the study connects once
per batch). The engines take turns, batch by batch, and the median batch is shown. Checks that the three engines
return the same replicates. Wall-clock seconds on this machine (shared: note the load average printed with the
table; with other jobs on the cores, 2 workers gain little). About 1-2 minutes on 2 cores.
"""

import argparse
import dataclasses
import importlib
import os
import statistics
import time

import pandas as pd
from distributed import LocalCluster

from okapi.plan import SimulationStudySettings
from okapi.simulation import study
from okapi.compute.engine import map_in_processes


def _warm(_) -> int:
    importlib.import_module("okapi.simulation.study")  # the workers' imports, outside the timed batch
    return os.getpid()


def warm(n_workers: int, scheduler: str | None = None) -> None:
    map_in_processes(_warm, range(max(n_workers, 2)), n_workers, scheduler=scheduler)


def timed_batch(settings: SimulationStudySettings, n_workers: int, scheduler: str | None = None):
    tasks = [(settings, i) for i in range(settings.n_replicates)]
    start = time.perf_counter()
    rows = map_in_processes(study.analyse_replicate, tasks, n_workers, scheduler=scheduler)
    return time.perf_counter() - start, pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=8, help="replicates per batch")
    parser.add_argument("--rounds", type=int, default=3, help="batches per engine, the engines taking turns")
    args = parser.parse_args()
    settings = dataclasses.replace(SimulationStudySettings(), n_replicates=args.replicates)
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    start = time.perf_counter()
    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster:
        started = time.perf_counter() - start
        engines = {"this process": (1, None), "this machine (loky)": (2, None),
                   "Dask LocalCluster (tcp)": (2, cluster.scheduler_address)}
        for workers, scheduler in engines.values():
            warm(workers, scheduler)
        times, results = {engine: [] for engine in engines}, {}
        for _ in range(args.rounds):  # in turns, so that a burst of load from other jobs hits every engine alike
            for engine, (workers, scheduler) in engines.items():
                seconds, results[engine] = timed_batch(settings, workers, scheduler)
                times[engine].append(seconds)
    one = statistics.median(times["this process"])
    table = pd.DataFrame([{"engine": engine, "workers": engines[engine][0], "replicates": settings.n_replicates,
                           "median s": round(statistics.median(seconds), 1),
                           "replicates/s": round(settings.n_replicates / statistics.median(seconds), 2),
                           "speed-up vs 1": round(one / statistics.median(seconds), 2)}
                          for engine, seconds in times.items()])
    print(table.to_markdown(index=False))
    print("batches (s):", {engine: [round(t, 1) for t in seconds] for engine, seconds in times.items()})
    reference = results["this process"]
    same = all(frame.equals(reference) for frame in results.values())
    print(f"{args.rounds} batches per engine, median shown; LocalCluster start-up (not counted): {started:.1f} s; "
          f"replicates identical on all engines: {'yes' if same else 'NO'}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
