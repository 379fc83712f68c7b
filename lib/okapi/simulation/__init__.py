"""Many replicate analyses: simulated cohorts analysed by the chapters' own estimators. Imports everything up to
`chapters`; the workers they run on come from okapi.compute.

- `study`, `study_figures`: the simulation-study appendix (bias, coverage, power, class recovery).
"""
