"""Time of the two sensitivity sections "Defining depression" and "Mediation, honestly" on the committed cohort.

Prints one table: each section's whole run (the call its chapter makes) with the settings' defaults, the
definitions section with its okapi.models.lmm_batch fits on 1 and 2 worker processes, and once with statsmodels' fit put in
place of the section's one wrapper, to show what the vectorised fit buys.
Wall-clock seconds, one run each (the machine is shared, so expect noise). Run:
.venv/bin/python benchmarks/bench_sensitivity_mediation.py
"""

import dataclasses

from okapi.sensitivity import definitions as sensitivity_definitions, mediation
from okapi.data.loading import load_cohort
from okapi.models.mixed_models import fit_pain_mixed_model
from okapi.plan import SensitivitySettings

from timing import median_seconds


def main() -> None:
    cohort = load_cohort()
    settings = SensitivitySettings()
    rows = [("Mediation, honestly: 4 readings x "
             f"{settings.n_bootstrap} resamples + IKY curves",
             median_seconds(lambda: mediation.run_mediation_sensitivity(cohort, settings), 1))]
    for workers in (1, 2):
        one = dataclasses.replace(settings, n_workers=workers)
        rows.append((f"Defining depression: 18 okapi.models.lmm_batch fits on {workers} process(es) + 12 bootstraps",
                     median_seconds(lambda: sensitivity_definitions.run_definitions_sensitivity(cohort, one), 1)))
    original = sensitivity_definitions._fit_pain_model
    sensitivity_definitions._fit_pain_model = lambda long_df, fixed: fit_pain_mixed_model(long_df, fixed, "~years")
    try:
        for workers in (1, 2):
            one = dataclasses.replace(settings, n_workers=workers)
            rows.append((f"Defining depression: 18 statsmodels fits on {workers} process(es) + 12 bootstraps",
                         median_seconds(lambda: sensitivity_definitions.run_definitions_sensitivity(cohort, one), 1)))
    finally:
        sensitivity_definitions._fit_pain_model = original
    width = max(len(label) for label, _ in rows)
    print(f"{'Task':<{width}}  Seconds")
    for label, value in rows:
        print(f"{label:<{width}}  {value:7.2f}")


if __name__ == "__main__":
    main()
