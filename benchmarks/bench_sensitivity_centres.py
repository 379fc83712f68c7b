"""Time the nested mixed model of the "Centres" sensitivity section against R lme4 and statsmodels, and the whole
section, on the committed cohort; print a table.

Usage: python benchmarks/bench_sensitivity_centres.py [--repeats 3] [--skip-statsmodels-vc]
statsmodels can nest patients in centres only with variance components, which makes the patient intercept and
slope uncorrelated: a different model (its slope is printed to show it), timed for comparison only.
lme4 times are R's own system.time of lmer() (median of the repeats), without the R start-up.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

import pandas as pd
import statsmodels.formula.api as smf

from okapi.data.loading import load_cohort
from okapi.data.derive import pain_long
from okapi.models.mixed_models import fit_pain_mixed_model
from okapi.paths import REPO_ROOT

from okapi.sensitivity.centres import depression_analysis_set, run_centres_sensitivity
from okapi.models.centre_model import fit_centre_mixed_model
from okapi.plan import SensitivitySettings

# The R bridge and the known-truth simulators are test helpers (tests/support), shared with the benchmarks.
sys.path.insert(0, str(REPO_ROOT / "tests"))
from support.rbridge import r_unavailable_reason, run_r_script

# model -> (fixed part, the coefficient printed beside the time, in okapi and in lme4 naming)
MODELS = {"linear time": ("nprs ~ years", "years", "years"),
          "time x depression": ("nprs ~ years * depressed", "years:depressed", "years:depressed"),
          "time (categories) x depression": ("nprs ~ C(month) * depressed", "C(month)[T.12]:depressed",
                                             "factor(month)12:depressed")}


def best_of(repeats: int, action):
    times, result = [], None
    for _ in range(repeats):
        began = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - began)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-statsmodels-vc", action="store_true")
    args = parser.parse_args()
    cohort = load_cohort()
    data = depression_analysis_set(pain_long(cohort))
    rows = []
    for label, (fixed, term, _) in MODELS.items():
        seconds, fit = best_of(args.repeats, lambda: fit_centre_mixed_model(data, fixed))
        rows.append((f"{label}: ours, + (1 | centre)", seconds, fit.fixed.loc[term, "estimate"]))
        seconds, fit = best_of(args.repeats, lambda: fit_pain_mixed_model(data, fixed, "~years"))
        rows.append((f"{label}: statsmodels, no centre (primary)", seconds, fit.fixed.loc[term, "estimate"]))
    reason = r_unavailable_reason(["lme4"])
    if reason is None:
        r_data = data.assign(depressed=data["depressed"].astype(int))[["patient_id", "centre", "years", "month",
                                                                      "nprs", "depressed"]]
        spec = pd.DataFrame({"model_id": list(MODELS), "fixed": [f.replace("C(month)", "factor(month)")
                                                                 for f, _, _ in MODELS.values()], "repeats": 5})
        out = run_r_script(REPO_ROOT / "tests" / "r" / "lmm_centre_reference.R", {"data": r_data, "models": spec})
        fixed = out["fixed"].set_index(["model_id", "term"])["estimate"]
        for _, row in out["fit"].iterrows():
            rows.append((f"{row['model_id']}: R lme4, + (1 | centre)", row["fit_seconds_median"],
                         fixed[(row["model_id"], MODELS[row["model_id"]][2])]))
    else:
        print(f"lme4 rows left out: {reason}")
    if not args.skip_statsmodels_vc:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            began = time.perf_counter()
            result = smf.mixedlm("nprs ~ years", data, groups="centre", re_formula="1",
                                 vc_formula={"patient": "0 + C(patient_id)",
                                             "patient_slope": "0 + C(patient_id):years"}).fit(reml=True)
            rows.append(("linear time: statsmodels variance components (uncorrelated patient effects)",
                         time.perf_counter() - began, float(result.fe_params["years"])))
    load = os.getloadavg()[0]
    began = time.perf_counter()
    run_centres_sensitivity(cohort, SensitivitySettings())
    rows.append(("whole section (3 primary + 6 nested fits, 2 x 2000 centre resamples)", time.perf_counter() - began,
                 float("nan")))
    print(f"{data['patient_id'].nunique()} patients, {len(data)} scores, {data['centre'].nunique()} centres; "
          f"load average {load:.1f} on {os.cpu_count()} cores")
    table = pd.DataFrame(rows, columns=["fit", "seconds", "time coefficient"])
    print(table.to_string(index=False, float_format=lambda x: f"{x:.4f}"))


if __name__ == "__main__":
    main()
