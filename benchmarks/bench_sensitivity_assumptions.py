"""Cost of the assumptions sweep (okapi.sensitivity.assumptions) with the default SensitivitySettings.

Counts the tasks the sweep runs (identical cohorts analysed once), times a sample of each kind in this process with
CPU time (robust to other jobs on a shared machine), projects the total, then times one whole run on the wall clock
with settings.n_workers processes. Usage: .venv/bin/python benchmarks/bench_sensitivity_assumptions.py [--no-full]
"""

import sys
import time

import numpy as np

from okapi.sensitivity import assumptions as sweep

from okapi.sensitivity.assumptions_cohorts import (ANALYSIS_INPUTS, analyse_depression, analyse_mediation,
                                                   analyse_pain, fingerprint, population_mediated_share,
                                                   simulate_inputs)
from okapi.plan import SensitivitySettings, TRAJECTORY_FINAL, TRAJECTORY_STARTS


SAMPLE = 5


class _Synthetic:
    mode = "synthetic"


def cpu_seconds(function, *args) -> float:
    start = time.process_time()
    function(*args)
    return time.process_time() - start


def main(full: bool = True) -> None:
    settings = SensitivitySettings()
    parameters = [p for p in sweep.assumed_parameters() if sweep.sweepable(p)]
    runs = sweep._runs(settings, parameters)
    start = time.process_time()
    distinct = {analysis: set() for analysis in ANALYSIS_INPUTS}
    inputs = []
    for _, _, overrides, replicate in runs:
        cohort = simulate_inputs(settings.sweep_n_patients, settings.seed + replicate, overrides)
        inputs.append(cohort)
        for analysis in ANALYSIS_INPUTS:
            distinct[analysis].add(fingerprint(cohort, analysis))
    simulate_cpu = time.process_time() - start
    n_population = len(sweep._population_runs(settings, parameters))
    sample = inputs[:SAMPLE]
    per_task = {
        "pain (mixed model + trajectory grid, sweep protocol)": (
            np.mean([cpu_seconds(analyse_pain, c, settings.sweep_trajectory_starts, settings.sweep_trajectory_final)
                     for c in sample]), len(distinct["pain"])),
        "pain, chapter's trajectory protocol (check)": (
            np.mean([cpu_seconds(analyse_pain, c, TRAJECTORY_STARTS, TRAJECTORY_FINAL) for c in sample[:2]]), settings.sweep_replicates),
        "depression (mixed model)": (np.mean([cpu_seconds(analyse_depression, c) for c in sample]),
                                     len(distinct["depression"])),
        "mediation (OLS, correlation)": (np.mean([cpu_seconds(analyse_mediation, c) for c in sample]),
                                         len(distinct["mediation"])),
        "population (proportion mediated)": (
            np.mean([cpu_seconds(population_mediated_share, settings.sweep_population_patients, settings.seed + r)
                     for r in range(2)]), n_population),
    }
    print(f"{len(runs)} simulated cohorts of {settings.sweep_n_patients} ({len(parameters)} parameters x 2 ends x "
          f"{settings.sweep_replicates} + {settings.sweep_default_cohorts} at the defaults): "
          f"{simulate_cpu:.1f} s CPU to simulate and fingerprint")
    print(f"{'task':55s} {'CPU s/task':>10s} {'tasks':>6s} {'CPU s':>7s}")
    total = simulate_cpu
    for label, (seconds, count) in per_task.items():
        total += seconds * count
        print(f"{label:55s} {seconds:10.3f} {count:6d} {seconds * count:7.1f}")
    print(f"{'projected CPU total':55s} {'':10s} {'':6s} {total:7.1f}")
    print(f"projected wall clock on {settings.n_workers} idle cores: {total / settings.n_workers:.0f} s")
    if full:
        start = time.perf_counter()
        results = sweep.run_assumptions_sensitivity(_Synthetic(), settings)
        print(f"measured wall clock, one whole run ({settings.n_workers} workers): "
              f"{time.perf_counter() - start:.1f} s; {results.n_fits} mixed-model fits, "
              f"{results.n_fits_failed} failed")


if __name__ == "__main__":
    main(full="--no-full" not in sys.argv)
