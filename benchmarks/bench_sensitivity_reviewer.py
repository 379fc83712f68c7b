"""Seconds spent by the reviewer's sections of the sensitivity chapter (issue 13: dose exposure, confounding,
questionnaires over time, model adequacy, clinical relevance, dropout) on the committed cohort with the chapter's
default settings, each section as the chapter runs it; then the mixed-model fits two of them rest on, by the book's
vectorised REML (okapi.models.lmm_batch) and by statsmodels' MixedLM in the same run.
Run: .venv/bin/python benchmarks/bench_sensitivity_reviewer.py  (median of REPEATS; two tables)
"""

import warnings

import pandas as pd

from okapi.data.loading import load_cohort
from okapi.models.lmm_batch import fit_random_slope_model
from okapi.models.mixed_models import fit_pain_mixed_model
from okapi.plan import SensitivitySettings
from okapi.sensitivity import confounding, dropout
from okapi.sensitivity.registry import SECTIONS
from timing import median_seconds

REPEATS = 3
REVIEWER_SECTIONS = ("dose", "confounding", "questionnaires", "adequacy", "clinical", "dropout")


def statsmodels_fit(frame: pd.DataFrame, formula: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its convergence warnings: the tests judge them, the benchmark times them
        fit_pain_mixed_model(frame, formula)


def main() -> None:
    settings, cohort = SensitivitySettings(), load_cohort()
    sections = [(SECTIONS[key].title, median_seconds(lambda key=key: SECTIONS[key].run(cohort, settings), REPEATS))
                for key in REVIEWER_SECTIONS]
    sections.append(("all six, one after the other", sum(seconds for _, seconds in sections)))
    print(f"{cohort.n_patients} patients; median of {REPEATS} runs")
    print(pd.DataFrame(sections, columns=["section", "seconds"]).to_string(index=False,
                                                                            float_format=lambda x: f"{x:.2f}"))

    adjusted, _ = confounding.analysis_frame(cohort)
    patterns = dropout.pattern_frame(cohort)
    fits = [("confounding: adjusted interaction model", adjusted, confounding.adjusted_formula()),
            ("dropout: pattern x depression x time model", patterns, dropout.PATTERN_INTERACTION_MODEL)]
    rows = []
    for label, frame, formula in fits:
        ours = median_seconds(lambda: fit_random_slope_model(frame, formula, warn=False), REPEATS)
        theirs = median_seconds(lambda: statsmodels_fit(frame, formula), REPEATS)
        rows.append((label, ours, theirs, theirs / ours))
    print()
    print(pd.DataFrame(rows, columns=["fit", "lmm_batch s", "statsmodels s", "ratio"]).to_string(
        index=False, float_format=lambda x: f"{x:.3f}"))


if __name__ == "__main__":
    main()
