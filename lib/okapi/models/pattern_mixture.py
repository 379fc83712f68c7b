"""Pattern-mixture estimate of a mean slope over dropout patterns (Little 1993; Hedeker and Gibbons 1997).

Patients are grouped by when they left follow-up (their dropout pattern). The mixed model gives each pattern (and, for
a contrast between groups, each pattern within each group) its own slope on time, so that a pattern's course after its
last score is extrapolated from its own scores: that is the identifying restriction, where the likelihood analysis
under MAR would borrow the course of the patients who stayed. A group's marginal slope is its patterns' slopes averaged
with the group's pattern shares; a contrast is a signed sum of group slopes.

Standard error by the delta method over both the slopes (the model's covariance) and the shares (multinomial within
each group, independent of the slopes):
    Var = w' V w + sum_g beta_g' (diag(pi_g) - pi_g pi_g') beta_g / n_g,
where w holds the shares times the coefficient rows of each cell's slope and beta_g the cells' slopes in group g.
"""

import numpy as np
import pandas as pd
from scipy import stats

from okapi.models.mixed_models import LinearCombination, MixedModelFit, fixed_design_matrix

Z_975 = stats.norm.ppf(0.975)


def pattern_of_last_month(last_month: pd.Series, edges: tuple[int, ...]) -> pd.Series:
    """Pattern index 0..len(edges) from each patient's last month with a score: pattern k holds the last months in
    (edges[k-1], edges[k]]; the last pattern holds everything after the last edge (those followed to the end)."""
    if list(edges) != sorted(set(edges)):
        raise ValueError(f"pattern edges must be increasing and distinct: {edges}")
    return pd.Series(np.searchsorted(np.asarray(edges), last_month.to_numpy(dtype=float), side="left"),
                     index=last_month.index, name="pattern")


def cell_slopes(fit: MixedModelFit, cells: pd.DataFrame, time: str) -> tuple[np.ndarray, np.ndarray]:
    """Each cell's slope on `time` (rows of `cells` hold the model's other covariates) as coefficient rows C (cells x
    terms, so that slopes = C beta) and the slopes themselves. The model must be linear in `time` within a cell."""
    at_one, at_zero = cells.assign(**{time: 1.0}), cells.assign(**{time: 0.0})
    rows = fixed_design_matrix(fit, at_one) - fixed_design_matrix(fit, at_zero)
    return rows, rows @ fit.fixed["estimate"].to_numpy()


def pattern_mixture_contrast(fit: MixedModelFit, cells: pd.DataFrame, time: str, group_signs: dict,
                             scale: float = 1.0) -> tuple[LinearCombination, pd.DataFrame]:
    """sum over groups g of sign_g * sum_p share_{p|g} slope_{p,g}, times `scale`, with its delta-method SE.

    cells: one row per (group, pattern) with columns "group" (a key of group_signs), "n_patients" and the covariates
    the model needs to code the cell. Returns the contrast and the cells with share (within group), slope and se.
    """
    unknown = set(cells["group"]) - set(group_signs)
    if unknown:
        raise ValueError(f"cells name groups without a sign: {sorted(unknown)}")
    rows, slopes = cell_slopes(fit, cells, time)
    rows, slopes = rows * scale, slopes * scale
    cov = fit.fixed_cov.to_numpy()
    n = cells["n_patients"].to_numpy(dtype=float)
    group_total = cells.groupby("group")["n_patients"].transform("sum").to_numpy(dtype=float)
    share = n / group_total
    sign = cells["group"].map(group_signs).to_numpy(dtype=float)
    weights = (sign * share) @ rows
    estimate = float((sign * share) @ slopes)
    share_variance = 0.0
    for group in cells["group"].unique():
        inside = (cells["group"] == group).to_numpy()
        pi, beta = share[inside], slopes[inside]
        share_variance += float(beta @ (np.diag(pi) - np.outer(pi, pi)) @ beta) / group_total[inside][0]
    se = float(np.sqrt(weights @ cov @ weights + share_variance))
    z = estimate / se
    out = cells.assign(share=share, slope=slopes, se=np.sqrt(np.einsum("ij,jk,ik->i", rows, cov, rows)))
    return LinearCombination(estimate, se, z, float(2 * stats.norm.sf(abs(z))), estimate - Z_975 * se,
                             estimate + Z_975 * se), out.reset_index(drop=True)
