"""Inverse probability of retention weights, for many resamples at once.

A complete-case analysis of the patients who stayed long enough estimates the effect among those who stay. If staying
depends on characteristics that also shape the outcome (here, pain), weighting each retained patient by the inverse of
their probability of being retained, given what was measured before they could leave, recovers the effect in the
whole eligible population, provided retention is at random given those characteristics and every patient had a
chance to be retained (positivity).

Stabilised weights: P(retained) / P(retained | covariates) for retained patients, 0 for the others. The logistic
model of retention is refitted in every bootstrap resample (rows of `counts`: how many times each patient is drawn),
so the interval carries the uncertainty of the weights too. Newton-Raphson on all resamples together: the
cross-products are (resamples x terms x terms), one linear solve per resample per iteration.
"""

import numpy as np
import pandas as pd

MAX_ITERATIONS = 50
TOLERANCE = 1e-10  # largest change of a coefficient at convergence
# Added to the information's diagonal: a resample may draw no patient with a rare indicator (a missing month-1 score,
# a small pain type), which leaves its column empty; the tiny ridge keeps that coefficient at 0 instead of making the
# system singular, and moves the other coefficients by less than the tolerance.
RIDGE = 1e-8


def predictor_matrix(frame: pd.DataFrame, numeric: tuple[str, ...], categorical: tuple[str, ...]) -> pd.DataFrame:
    """Intercept, numeric predictors (a missing value set to the mean of the observed ones, with a 0/1 column saying it
    was missing, so no patient is dropped from the retention model), and treatment-coded categorical predictors (the
    first level in sorted order is the reference)."""
    columns = {"intercept": np.ones(len(frame))}
    for name in numeric:
        values = pd.to_numeric(frame[name], errors="raise").astype(float)
        if values.isna().all():
            raise ValueError(f"retention predictor {name!r} has no observed value")
        if values.isna().any():
            columns[f"{name} missing"] = values.isna().to_numpy(dtype=float)
        columns[name] = values.fillna(values.mean()).to_numpy()
    for name in categorical:
        values = frame[name].astype("string")
        if values.isna().any():
            raise ValueError(f"retention predictor {name!r} has missing values")
        for level in sorted(values.unique())[1:]:
            columns[f"{name}: {level}"] = (values == level).to_numpy(dtype=float)
    return pd.DataFrame(columns, index=frame.index)


def logistic_fits(design: np.ndarray, outcome: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Maximum-likelihood logistic coefficients for each row of `counts` (resamples x patients, frequency weights):
    (resamples x terms) and whether each converged."""
    design, outcome, counts = (np.asarray(a, dtype=float) for a in (design, outcome, counts))
    n, p = design.shape
    outer = (design[:, :, None] * design[:, None, :]).reshape(n, p * p)
    beta = np.zeros((counts.shape[0], p))
    converged = np.zeros(counts.shape[0], dtype=bool)
    for _ in range(MAX_ITERATIONS):
        prob = 1.0 / (1.0 + np.exp(-(beta @ design.T)))
        information = ((counts * prob * (1 - prob)) @ outer).reshape(-1, p, p) + RIDGE * np.eye(p)
        score = (counts * (outcome - prob)) @ design
        step = np.linalg.solve(information, score[..., None])[..., 0]
        beta = beta + step
        converged = np.abs(step).max(axis=1) < TOLERANCE
        if converged.all():
            break
    return beta, converged


def stabilised_weights(design: np.ndarray, retained: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(resamples x patients) stabilised weights (0 for patients not retained) and whether each fit converged."""
    retained = np.asarray(retained, dtype=float)
    beta, converged = logistic_fits(design, retained, counts)
    prob = 1.0 / (1.0 + np.exp(-(beta @ np.asarray(design, dtype=float).T)))
    marginal = (counts @ retained) / counts.sum(axis=1)
    return retained * marginal[:, None] / prob, converged


def effective_sample_size(weights: np.ndarray) -> float:
    """Kish's effective number of patients of one set of weights."""
    w = np.asarray(weights, dtype=float)
    w = w[w > 0]
    return float(w.sum() ** 2 / (w ** 2).sum())


def standardised_differences(predictors: pd.DataFrame, retained: np.ndarray, weights: np.ndarray) -> pd.Series:
    """Per predictor (not the intercept): (weighted mean among the retained - mean among all eligible) / SD among all
    eligible. With weights of 1 it measures how the complete cases differ from the eligible; with retention weights,
    how much of that the weights remove."""
    retained = np.asarray(retained, dtype=bool)
    w = np.asarray(weights, dtype=float)[retained]
    out = {}
    for name in predictors.columns.drop("intercept"):
        values = predictors[name].to_numpy(dtype=float)
        sd = values.std(ddof=1)
        out[name] = 0.0 if sd == 0 else float((np.average(values[retained], weights=w) - values.mean()) / sd)
    return pd.Series(out, name="standardised difference")
