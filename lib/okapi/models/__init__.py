"""Estimators, each checked against R or a known truth in the tests. Imports `data` at most: a model takes arrays
or DataFrames, not a cohort's files.

- `mixed_models` (statsmodels REML with Wald tests and linear combinations), `lmm_batch` (the vectorised REML of
  the same random-slope model), `centre_model` (patients nested in centres), `imputation` (multiple imputation with
  delta adjustment and Rubin's rules);
- `effect_sizes`, `intervals`: standardised changes, paired comparisons, descriptive CIs;
- `mediation`: product of coefficients with a vectorised bootstrap, and the IKY sensitivity curve;
- `trajectories/`: group-based trajectory models (LCGA, growth mixture, censored normal) fitted by EM.
"""
