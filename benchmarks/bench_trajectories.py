"""Time the trajectory grid K = 1..5 in numpy and in R flexmix on the same simulated data, and print a table.

Usage: python benchmarks/bench_trajectories.py [--n-patients 329] [--starts 30] [--flexmix-starts 30]
       [--flexmix-ri-starts 1]
flexmix runs with its default EM control (tolerance 1e-6 relative, 200 iterations) and minprior = 0. Its
mixed-model mixture (FLXMRlmm) loops over patients in R and needs about 20-40 s per start at K >= 3 with 329
patients, so it gets one start by default (30 would take about an hour); the table gives time per start as well.
"""

from __future__ import annotations

import argparse
import sys
import time

import pandas as pd

from okapi.paths import REPO_ROOT
from okapi.models.trajectories import fit_trajectory_grid

# The R bridge and the known-truth simulators are test helpers (tests/support), shared with the benchmarks.
sys.path.insert(0, str(REPO_ROOT / "tests"))
from support.rbridge import r_unavailable_reason, run_r_script
from support.known_truth_trajectories import simulate_trajectory_cohort

FLEXMIX_SCRIPT = REPO_ROOT / "tests" / "r" / "flexmix_reference.R"
K_VALUES = (1, 2, 3, 4, 5)
DEGREE = 2
# numpy model settings -> the flexmix model that fits the same likelihood.
MODELS = {
    "LCGA, common variance": (dict(random_intercept=False, class_specific_variance=False), "lcga_common_variance"),
    "LCGA, variance per class": (dict(random_intercept=False, class_specific_variance=True), "lcga_class_variance"),
    "random intercept (GMM)": (dict(random_intercept=True, class_specific_variance=False), "random_intercept"),
}


def time_numpy(long_df, settings, n_starts):
    began = time.perf_counter()
    table, _ = fit_trajectory_grid(long_df, k_values=K_VALUES, degree=DEGREE, n_starts=n_starts, seed=1, **settings)
    return time.perf_counter() - began, table.set_index("n_classes")["log_likelihood"]


def time_flexmix(long_df, model, nrep):
    began = time.perf_counter()
    out = run_r_script(FLEXMIX_SCRIPT, {"long": long_df[["patient_id", "years", "nprs"]]}, timeout=3600,
                       extra_args=[model, str(DEGREE), ",".join(map(str, K_VALUES)), str(nrep), "1", "1e-6", "200"])
    wall = time.perf_counter() - began
    fits = out["fits"].set_index("k")
    return wall, fits["seconds"].sum(), fits["loglik"], fits["converged"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-patients", type=int, default=329)
    parser.add_argument("--starts", type=int, default=30)
    parser.add_argument("--flexmix-starts", type=int, default=30)
    parser.add_argument("--flexmix-ri-starts", type=int, default=1)
    args = parser.parse_args()
    long_df, _ = simulate_trajectory_cohort(args.n_patients, seed=20230517)
    r_missing = r_unavailable_reason(["flexmix", "mvtnorm"])
    print(f"{args.n_patients} simulated patients, {len(long_df)} visits, quadratic curves, K = 1..5; "
          f"numpy: {args.starts} short starts, best 5 to convergence")
    if r_missing:
        print(f"flexmix columns empty: {r_missing}")

    timing_rows, loglik_rows = [], []
    for label, (settings, flexmix_model) in MODELS.items():
        numpy_seconds, numpy_ll = time_numpy(long_df, settings, args.starts)
        row = {"model": label, "numpy starts": args.starts, "numpy s": round(numpy_seconds, 2)}
        if not r_missing:
            nrep = args.flexmix_ri_starts if flexmix_model == "random_intercept" else args.flexmix_starts
            wall, fitting, flexmix_ll, converged = time_flexmix(long_df, flexmix_model, nrep)
            row.update({"flexmix starts": nrep, "flexmix s (wall)": round(wall, 2),
                        "flexmix s (fitting)": round(fitting, 2),
                        "ratio flexmix/numpy": round(wall / numpy_seconds, 1),
                        "ratio per start": round((wall / nrep) / (numpy_seconds / args.starts), 1)})
            for k in K_VALUES:
                loglik_rows.append({"model": label, "K": k, "numpy log L": round(numpy_ll[k], 4),
                                    "flexmix log L": round(flexmix_ll[k], 4),
                                    "numpy - flexmix": round(numpy_ll[k] - flexmix_ll[k], 4),
                                    "flexmix converged": bool(converged[k])})
        timing_rows.append(row)
    print()
    print(pd.DataFrame(timing_rows).to_markdown(index=False, floatfmt=".2f"))
    if loglik_rows:
        print("\nBest log-likelihood per K (flexmix stops at a relative change of 1e-6 or 200 iterations):")
        print(pd.DataFrame(loglik_rows).to_markdown(index=False, floatfmt=".4f"))


if __name__ == "__main__":
    main()
