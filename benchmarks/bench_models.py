"""Speed of the model code against R on one OKAPI-sized simulated data set (329 patients x 13 months).

Prints one table: a mixed-model fit (statsmodels via okapi.models.mixed_models, the book's vectorised REML
okapi.models.lmm_batch, and lme4 via lmerTest), 5,000 bootstrap
resamples of the indirect effect (vectorised numpy vs R boot), and statsmodels' Mediation for scale. R times are
given inside R (system.time around lme4::lmer, median of 5, or boot::boot) and as the wall time of a whole
Rscript call (start-up, package loading and CSV exchange included; the LMM script's extra lmerTest refit
removed). Run: .venv/bin/python benchmarks/bench_models.py
"""

import sys
import time

import numpy as np
import pandas as pd

from okapi.models.mediation import bootstrap_mediation, statsmodels_mediation
from okapi.models.lmm_batch import fit_random_slope_model
from okapi.models.mixed_models import fit_pain_mixed_model
from okapi.paths import REPO_ROOT
from timing import median_seconds

# The R bridge and the known-truth simulators are test helpers (tests/support), shared with the benchmarks.
sys.path.insert(0, str(REPO_ROOT / "tests"))
from support.rbridge import r_unavailable_reason, run_r_script
from support.known_truth import simulate_mediation_data, simulate_pain_panel

R_DIR = REPO_ROOT / "tests" / "r"
REPEATS = 5
MODELS = {
    "LMM fit, nprs ~ years": ("nprs ~ years", "nprs ~ years + (years | patient_id)"),
    "LMM fit, nprs ~ C(month) * depressed": (
        "nprs ~ C(month) * depressed",
        "nprs ~ factor(month) * depressed + (years | patient_id)",
    ),
}



def wall_seconds(task) -> tuple[float, object]:
    start = time.perf_counter()
    out = task()
    return time.perf_counter() - start, out


def r_lmm_times(long_df: pd.DataFrame, r_formula: str) -> tuple[float, float]:
    def spec(repeats):
        row = {"model_id": "m", "formula": r_formula, "wald_pattern": "", "anova_term": "", "repeats": repeats}
        return pd.DataFrame([row])

    inside = run_r_script(R_DIR / "lmm_reference.R", {"data": long_df, "models": spec(REPEATS)})
    wall, once = wall_seconds(lambda: run_r_script(R_DIR / "lmm_reference.R", {"data": long_df, "models": spec(1)}))
    # The script also refits with lmerTest for its outputs; that refit is not part of "one lme4 fit + start-up".
    return float(inside["fit"]["fit_seconds_median"].iloc[0]), wall - float(once["fit"]["lmertest_seconds"].iloc[0])


def r_boot_times(data: dict, n_boot: int) -> tuple[float, float]:
    frame = pd.DataFrame({"x": data["x"], "m": data["m"], "y": data["y"]})
    settings = pd.DataFrame({"n_boot": [n_boot], "seed": [1], "level": [0.95]})
    inputs = {"data": frame, "settings": settings}
    wall, out = wall_seconds(lambda: run_r_script(R_DIR / "mediation_reference.R", inputs))
    return float(out["boot"]["boot_seconds"].iloc[0]), wall


def main() -> None:
    long_df, _ = simulate_pain_panel(n_patients=329, seed=1, integer_scores=True)
    mediation_data, _ = simulate_mediation_data(n=329, seed=2, x_scale=1000.0)
    reason = r_unavailable_reason(["lme4", "lmerTest", "boot"])
    rows = []
    for label, (py_formula, r_formula) in MODELS.items():
        python = median_seconds(lambda: fit_pain_mixed_model(long_df, fixed=py_formula), repeats=3)
        vectorised = median_seconds(lambda: fit_random_slope_model(long_df, py_formula, warn=False), REPEATS)
        r_inside, r_wall = r_lmm_times(long_df, r_formula) if reason is None else (np.nan, np.nan)
        rows.append((label, python, r_inside, r_wall, vectorised))

    x, m, y = mediation_data["x"], mediation_data["m"], mediation_data["y"]
    python = median_seconds(lambda: bootstrap_mediation(x, m, y, n_boot=5000, seed=3), REPEATS)
    r_inside, r_wall = r_boot_times(mediation_data, 5000) if reason is None else (np.nan, np.nan)
    rows.append(("bootstrap a*b, 5,000 resamples", python, r_inside, r_wall, np.nan))

    sm_seconds, sm_table = wall_seconds(lambda: statsmodels_mediation(x, m, y, exposure_unit=1000.0, n_rep=1000))
    rows.append(("statsmodels Mediation, 1,000 sims", sm_seconds, np.nan, np.nan, np.nan))

    table = pd.DataFrame(rows, columns=["task", "python_s", "r_inside_s", "r_call_with_startup_s", "lmm_batch_s"])
    table["r_inside / python"] = table["r_inside_s"] / table["python_s"]
    table["r_call / python"] = table["r_call_with_startup_s"] / table["python_s"]
    # The book's primary fits use the vectorised REML (the same model; tests/test_double_programming_lmm_batch.py):
    table["r_inside / lmm_batch"] = table["r_inside_s"] / table["lmm_batch_s"]
    print(f"329 patients, {len(long_df)} observed NPRS; medians of {REPEATS} runs (3 for statsmodels fits)")
    if reason is not None:
        print(f"R columns empty: {reason}")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))

    boot = bootstrap_mediation(x, m, y, n_boot=5000, seed=3).estimates.loc["indirect"]
    acme = sm_table.loc["ACME (average)"]
    width_ratio = (acme["Upper CI bound"] - acme["Lower CI bound"]) / ((boot["perc_high"] - boot["perc_low"]) * 1000)
    print(f"indirect effect per g: bootstrap {boot['estimate'] * 1000:.4f} "
          f"[{boot['perc_low'] * 1000:.4f}, {boot['perc_high'] * 1000:.4f}]; statsmodels {acme['Estimate']:.4f} "
          f"[{acme['Lower CI bound']:.4f}, {acme['Upper CI bound']:.4f}]; CI width ratio {width_ratio:.2f}")


if __name__ == "__main__":
    main()
