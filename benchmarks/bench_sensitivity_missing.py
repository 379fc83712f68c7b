"""Seconds spent by the missing-data sensitivity section (okapi.sensitivity.missing) on the committed cohort, part
by part, with the chapter's default settings; and what the completed-data fits would cost done iteratively instead
of in closed form. Run: .venv/bin/python benchmarks/bench_sensitivity_missing.py  (median of REPEATS; one table)
"""


import numpy as np
import pandas as pd

from okapi.models import lmm_batch
from okapi.data.loading import load_cohort
from okapi.data.derive import pain_long

from okapi.sensitivity.missing import run_missing_sensitivity
from okapi.models.imputation import MONTHS, YEARS, draw_imputations, pain_grid, pooled_over
from okapi.plan import IMPUTATION_MODEL, SensitivitySettings
from timing import median_seconds

REPEATS = 3



def main() -> None:
    settings = SensitivitySettings()
    cohort = load_cohort()
    long_df = pain_long(cohort)
    analysis = long_df.loc[long_df["hads_d_baseline"].notna()].copy()
    analysis["depressed"] = analysis["depressed"].astype(bool)
    grid = pain_grid(analysis)
    m, deltas = settings.n_imputations, np.array(settings.tipping_deltas)
    imputations = draw_imputations(grid, m, settings.seed)
    pairs = np.array([(a, b) for a in deltas for b in deltas])

    g = len(grid.patient_ids)
    frame = pd.DataFrame({"patient_id": np.repeat(np.arange(g), MONTHS.size), "years": np.tile(YEARS, g),
                          "depressed": np.repeat(grid.depressed, MONTHS.size)})
    design = lmm_batch.random_slope_design(frame, IMPUTATION_MODEL, require_complete=True)
    outcomes = imputations.completed.reshape(m, -1).T
    iterative_per_fit = median_seconds(lambda: lmm_batch.fit_outcome_arrays(design, outcomes), 1) / m

    rows = [
        (f"draw {m} imputations (bootstrap REML refits + draws)",
         median_seconds(lambda: draw_imputations(grid, m, settings.seed), REPEATS)),
        (f"common shift: {len(deltas)} shifts x {m} data sets x 2 models, closed form",
         median_seconds(lambda: pooled_over(imputations, grid, np.column_stack([deltas, deltas])), REPEATS)),
        (f"2-D grid: {len(pairs)} shift pairs x {m} data sets x 2 models, closed form",
         median_seconds(lambda: [pooled_over(imputations, grid, pairs[i:i + len(deltas)])
                                 for i in range(0, len(pairs), len(deltas))], REPEATS)),
        (f"the same 2-D grid with iterative REML fits (estimated: {len(pairs) * m} x one fit)",
         iterative_per_fit * len(pairs) * m),
        ("whole section: run_missing_sensitivity", median_seconds(lambda: run_missing_sensitivity(cohort, settings), REPEATS)),
    ]
    print(f"{g} patients x 13 months, {m} imputations, {len(deltas)} shifts; median of {REPEATS} runs")
    print(pd.DataFrame(rows, columns=["task", "seconds"]).to_string(index=False, float_format=lambda x: f"{x:.3f}"))


if __name__ == "__main__":
    main()
