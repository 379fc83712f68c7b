"""Seconds per REML fit of the pain model: statsmodels (okapi.models.mixed_models) against the vectorised fit
(okapi.models.lmm_batch), on the committed cohort's depression analysis set, plus a batch of imputed outcome vectors on the
complete grid of patient-months (iterative fits, and the closed form that applies to complete grids).

Run: .venv/bin/python benchmarks/bench_lmm_batch.py   (median of REPEATS runs; prints one table)
"""


import numpy as np
import pandas as pd

from okapi.models import lmm_batch
from okapi.data.loading import load_cohort
from okapi.data.derive import pain_long
from okapi.models.mixed_models import fit_pain_mixed_model
from okapi.chapters.pain import canonical_order
from timing import median_seconds

REPEATS = 5
N_IMPUTATIONS = 20
FORMULAS = ("nprs ~ years", "nprs ~ years * depressed", "nprs ~ C(month) * depressed")



def main() -> None:
    long_df = pain_long(load_cohort())
    data = canonical_order(long_df.loc[long_df["hads_d_baseline"].notna()])
    data["depressed"] = data["depressed"].astype(bool)
    rows = []
    for formula in FORMULAS:
        rows.append({"task": f"one fit, {formula}",
                     "statsmodels s": median_seconds(lambda: fit_pain_mixed_model(data, formula, "~years"), 3),
                     "lmm_batch s": median_seconds(lambda: lmm_batch.fit_random_slope_model(data, formula), REPEATS)})

    # A complete grid with m outcome vectors (as after multiple imputation), drawn from the fitted model.
    patients = data.drop_duplicates("patient_id")[["patient_id", "depressed"]]
    grid = patients.merge(pd.DataFrame({"month": np.arange(13)}), how="cross")
    grid["years"] = grid["month"] / 12
    rng = np.random.default_rng(1)
    g, years = len(patients), grid["years"].to_numpy()
    effects = rng.multivariate_normal([0, 0], [[2.4, -0.1], [-0.1, 0.27]], size=(N_IMPUTATIONS, g))
    outcomes = (6 - 0.8 * years[:, None] + np.repeat(effects[:, :, 0].T, 13, axis=0)
                + np.repeat(effects[:, :, 1].T, 13, axis=0) * years[:, None]
                + rng.normal(0, 1.05, (len(grid), N_IMPUTATIONS)))
    formula = "nprs ~ years * depressed"
    rows.append({"task": f"{N_IMPUTATIONS} fits on a complete grid, {formula}",
                 "statsmodels s": np.nan,
                 "lmm_batch s": median_seconds(lambda: lmm_batch.fit_random_slope_models(grid, formula, outcomes), 3)})
    cube = outcomes.T.reshape(N_IMPUTATIONS, len(patients), 13)
    covariates = np.column_stack([np.ones(len(patients)), patients["depressed"].to_numpy(float)])
    rows.append({"task": f"{N_IMPUTATIONS} fits on a complete grid, closed form", "statsmodels s": np.nan,
                 "lmm_batch s": median_seconds(lambda: lmm_batch.fit_complete_grid(cube, np.arange(13) / 12,
                                                                                   covariates), REPEATS)})
    table = pd.DataFrame(rows)
    table["speed-up"] = table["statsmodels s"] / table["lmm_batch s"]
    print(f"{len(patients)} patients, {len(data)} observed scores; median of {REPEATS} runs (statsmodels: 3)")
    print(table.to_string(index=False, float_format=lambda x: f"{x:.4f}"))


if __name__ == "__main__":
    main()
