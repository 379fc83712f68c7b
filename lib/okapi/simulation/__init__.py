"""Many replicate analyses: simulated cohorts analysed by the chapters' own estimators. Imports everything up to
`chapters`.

- `engine`: independent tasks on several workers, results in task order and independent of the worker count;
- `study`, `study_figures`: the simulation-study appendix (bias, coverage, power, class recovery).
"""
