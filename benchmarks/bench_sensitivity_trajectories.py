"""Time the "Trajectories" sensitivity section on the committed cohort, part by part, and print a table.

Usage: python benchmarks/bench_sensitivity_trajectories.py [--workers 2] [--repeats 3]
One selection = both models (LCGA, growth mixture) for K = 1..5 with the chapter's start protocol, the rules and the
model choice; the section runs 6 specifications + the start seeds + one all-starts run + the patient resamples.
Seconds are wall-clock on this machine as it is (other jobs running make them longer: the load average is printed).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import pandas as pd

from okapi.chapters import trajectories as ta
from okapi.data.loading import load_cohort
from okapi.data.derive import pain_long

from okapi.sensitivity.trajectories import SelectionTask, fit_model_grid, run_selection, run_trajectories_sensitivity
from okapi.models.trajectories import prepare_trajectory_data
from okapi.plan import SensitivitySettings, TRAJECTORY_DEGREE, TRAJECTORY_FINAL, TRAJECTORY_SEED, TRAJECTORY_STARTS


def best_of(repeats: int, action) -> float:
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        action()
        times.append(time.perf_counter() - began)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    cohort = load_cohort()
    data = prepare_trajectory_data(pain_long(cohort), TRAJECTORY_DEGREE)
    settings = SensitivitySettings(n_workers=args.workers)
    rows = []
    for model, per_class in (("lcga", False), ("lcga", True), ("gmm", False), ("gmm", True)):
        seconds = best_of(args.repeats, lambda: fit_model_grid(data, model, per_class, TRAJECTORY_STARTS, TRAJECTORY_FINAL,
                                                                TRAJECTORY_SEED))
        rows.append((f"grid K = 1..5, {ta.MODELS[model].label}, variance {'per class' if per_class else 'common'}",
                     1, seconds))
    seconds = best_of(args.repeats, lambda: run_selection(
        SelectionTask("all_starts", data, False, TRAJECTORY_STARTS, TRAJECTORY_STARTS, TRAJECTORY_SEED)))
    rows.append((f"selection with all {TRAJECTORY_STARTS} starts run to convergence", 1, seconds))
    resample = [best_of(1, lambda s=s: run_selection(SelectionTask("resample", data, False, TRAJECTORY_STARTS, TRAJECTORY_FINAL,
                                                                   TRAJECTORY_SEED, s))) for s in range(5)]
    rows.append(("one patient resample (median of 5)", 1, float(np.median(resample))))
    load = os.getloadavg()[0]
    began = time.perf_counter()
    run_trajectories_sensitivity(cohort, settings)
    rows.append((f"whole section ({settings.trajectory_resamples} resamples, {settings.trajectory_start_seeds} "
                 f"seeds)", args.workers, time.perf_counter() - began))
    table = pd.DataFrame(rows, columns=["what", "workers", "seconds"])
    print(f"load average before the last row: {load:.1f} on {os.cpu_count()} cores")
    print(table.to_string(index=False, float_format=lambda x: f"{x:.2f}"))


if __name__ == "__main__":
    main()
