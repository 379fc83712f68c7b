"""How the cost of `okapi analyze` grows with the number of patients: wall time and peak memory per cohort size, step
by step, with the fitted growth exponent (time ~ n^k), and the primary mixed-model fit by the book's vectorised REML
beside statsmodels' at each size, timed in the same run.

Each size runs in its own process, so that its peak resident memory is its own. Cohorts come from the book's
generator (okapi.synthetic.cohort.simulate_cohort) with the book's seed.

Run: .venv/bin/python benchmarks/bench_scale.py [SIZES ...]   (default 329 1000 3000 10000; prints two tables)
     .venv/bin/python benchmarks/bench_scale.py --primary-fit [SIZES ...]
         only the primary-fit table (no `okapi analyze`, whose 10,000-patient run takes many minutes): about 2 minutes
"""

import json
import resource
import subprocess
import sys
import time

import numpy as np

DEFAULT_SIZES = (329, 1000, 3000, 10000)


FAST_REPEATS = 3  # the vectorised fit is timed best of 3 (a tenth of a second on a shared machine); statsmodels once


def measure(n: int, analyze: bool = True) -> dict:
    """In this process: simulate a cohort of n, run every analysis step (unless not `analyze`), time the primary fit
    both ways."""
    import warnings

    from okapi.chapters.registry import run_analyses
    from okapi.data.derive import pain_long
    from okapi.models.lmm_batch import fit_random_slope_model
    from okapi.models.mixed_models import fit_pain_mixed_model
    from okapi.plan import LINEAR_TIME
    from okapi.simulation.study import as_cohort
    from okapi.synthetic.cohort import simulate_cohort

    start = time.perf_counter()
    cohort = as_cohort(simulate_cohort(n))
    simulated = time.perf_counter() - start
    row = {"n": n, "simulate": simulated}
    if analyze:
        start = time.perf_counter()
        run = run_analyses(cohort)
        row.update(analyze=time.perf_counter() - start, steps=run.seconds)
    long = pain_long(cohort)
    row["rows_fitted"] = int(long["nprs"].notna().sum())
    fits = {}
    for name, fit, repeats in (
            ("vectorised REML", lambda: fit_random_slope_model(long, LINEAR_TIME, warn=False), FAST_REPEATS),
            ("statsmodels", lambda: fit_pain_mixed_model(long, LINEAR_TIME), 1)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            seconds = []
            for _ in range(repeats):
                start = time.perf_counter()
                fit()
                seconds.append(time.perf_counter() - start)
            fits[name] = min(seconds)
    row["fits"] = fits
    row["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes
    return row


def growth_exponent(sizes, seconds) -> float:
    """Slope of log(seconds) on log(n): 1 is linear cost."""
    return float(np.polyfit(np.log(sizes), np.log(seconds), 1)[0])


def main(sizes, analyze: bool = True) -> None:
    rows = []
    for n in sizes:
        out = subprocess.run([sys.executable, __file__, "--one" if analyze else "--one-fit", str(n)],
                             capture_output=True, text=True, check=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    if analyze:
        print_analyze_table(rows)
        print()
    print_fit_table(rows)


def print_analyze_table(rows) -> None:
    steps = list(rows[0]["steps"])
    print("| patients | simulate (s) | " + " | ".join(f"{s} (s)" for s in steps) + " | analyze total (s) | peak memory (MB) |")
    print("|---" * (len(steps) + 4) + "|")
    for r in rows:
        print(f"| {r['n']:,} | {r['simulate']:.1f} | " + " | ".join(f"{r['steps'][s]:.1f}" for s in steps)
              + f" | {r['analyze']:.1f} | {r['peak_mb']:.0f} |")
    if len(rows) > 1:
        ns = [r["n"] for r in rows]
        exponents = {s: growth_exponent(ns, [max(r["steps"][s], 1e-3) for r in rows]) for s in steps}
        print("| growth exponent k (time ~ n^k) | | " + " | ".join(f"{exponents[s]:.2f}" for s in steps)
              + f" | {growth_exponent(ns, [r['analyze'] for r in rows]):.2f} | |")


def print_fit_table(rows) -> None:
    print(f"| patients | rows fitted | primary fit, vectorised REML (s, best of {FAST_REPEATS}) "
          "| primary fit, statsmodels (s) | statsmodels / vectorised |")
    print("|---|---|---|---|---|")
    for r in rows:
        fast, slow = r["fits"]["vectorised REML"], r["fits"]["statsmodels"]
        print(f"| {r['n']:,} | {r['rows_fitted']:,} | {fast:.3f} | {slow:.2f} | {slow / fast:.0f} |")
    if len(rows) > 1:
        ns = [r["n"] for r in rows]
        fast, slow = (growth_exponent(ns, [r["fits"][name] for r in rows])
                      for name in ("vectorised REML", "statsmodels"))
        print(f"| growth exponent k (time ~ n^k) | | {fast:.2f} | {slow:.2f} | |")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] in ("--one", "--one-fit"):
        print(json.dumps(measure(int(sys.argv[2]), analyze=sys.argv[1] == "--one")))
    elif sys.argv[1:2] == ["--primary-fit"]:
        main([int(a) for a in sys.argv[2:]] or list(DEFAULT_SIZES), analyze=False)
    else:
        main([int(a) for a in sys.argv[1:]] or list(DEFAULT_SIZES))
