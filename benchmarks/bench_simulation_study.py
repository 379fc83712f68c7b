"""Time the simulation-study appendix: one replicate by step, the truths, and whole studies on 1 and 2 workers.

Usage: .venv/bin/python benchmarks/bench_simulation_study.py [--replicates 40] [--full]
--full also times the appendix's default run (200 replicates and its truths, 2 workers): about 2-3 minutes.
Wall-clock seconds on this machine (shared: note the load average printed with the table).
"""

import argparse
import dataclasses
import os
import time

import pandas as pd

from okapi.simulation import study
from okapi.data.derive import pain_long
from okapi.models.mediation import bootstrap_mediation

from okapi.models.mixed_models import linear_combination
from okapi.plan import CI_LEVEL, SimulationStudySettings


def seconds(task, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        task()
        best = min(best, time.perf_counter() - start)
    return best


def replicate_steps(settings: SimulationStudySettings) -> list[dict]:
    synthetic, boot_seed = study.replicate_cohort(settings, 0)
    cohort = study.as_cohort(synthetic)
    long_df = pain_long(cohort)
    x, m, y = study.mediation_arrays(cohort)
    steps = {
        "simulate one cohort (329 patients)": lambda: study.replicate_cohort(settings, 0),
        "LMM nprs ~ years (fast REML)": lambda: linear_combination(study.time_effect_fit(long_df), {"years": 1.0}),
        "LMM nprs ~ years * depressed (fast REML)": lambda: study.interaction_fit(long_df),
        f"mediation dataset + bootstrap ({settings.n_boot} resamples)":
            lambda: (study.mediation_arrays(cohort), bootstrap_mediation(x, m, y, n_boot=settings.n_boot,
                                                                        seed=boot_seed, level=CI_LEVEL)),
        "trajectories: LCGA + growth mixture, K = 1..5": lambda: study.trajectory_models(long_df),
        "whole replicate": lambda: study.analyse_replicate((settings, 0)),
    }
    return [{"step": name, "seconds": round(seconds(task), 3)} for name, task in steps.items()]


def whole_study(settings: SimulationStudySettings) -> dict:
    start = time.perf_counter()
    truths, _ = study.study_truths(settings)
    truths_seconds = time.perf_counter() - start
    start = time.perf_counter()
    study.run_simulation_study(settings)
    return {"replicates": settings.n_replicates, "workers": settings.n_workers,
            "truths s": round(truths_seconds, 1), "whole study s": round(time.perf_counter() - start, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=40)
    parser.add_argument("--full", action="store_true")
    args = parser.parse_args()
    settings = SimulationStudySettings()
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    print(pd.DataFrame(replicate_steps(settings)).to_markdown(index=False, floatfmt=".3f"))
    runs = [dataclasses.replace(settings, n_replicates=args.replicates, n_workers=w) for w in (1, 2)]
    if args.full:
        runs.append(settings)
    print()
    print(pd.DataFrame([whole_study(run) for run in runs]).to_markdown(index=False))
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
