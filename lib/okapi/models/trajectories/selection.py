"""Fit statistics of trajectory models, the K = 1..5 grid, and a stated rule for choosing the number of classes.

BIC is on the -2 log L scale (lower is better). `bic` uses N = patients, the convention of Nagin's traj and of lcmm
(patients are the independent units); `bic_observations` uses N = visits, which is what R flexmix reports.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from okapi.plan import (TRAJECTORY_DEGREE, TRAJECTORY_FINAL, TRAJECTORY_K_VALUES, TRAJECTORY_MIN_AVERAGE_POSTERIOR,
                        TRAJECTORY_MIN_CLASS_SHARE, TRAJECTORY_MIN_RELATIVE_ENTROPY, TRAJECTORY_SEED,
                        TRAJECTORY_STARTS)

from .censored import fit_censored_trajectory_model
from .em import prepare_trajectory_data
from .fit import TrajectoryFit, fit_trajectory_model



def relative_entropy(posterior: np.ndarray) -> float:
    """1 - sum(-p log p) / (N log K): 1 = every patient certainly classified, 0 = no information. NaN for K = 1."""
    n, k = posterior.shape
    if k == 1:
        return float("nan")
    p = np.clip(posterior, 1e-300, 1.0)
    return float(1.0 - (-(posterior * np.log(p)).sum()) / (n * np.log(k)))


def average_posterior_probability(posterior: np.ndarray) -> np.ndarray:
    """Per class, the mean posterior probability of the patients assigned to it (NaN if nobody is assigned)."""
    modal = posterior.argmax(axis=1)
    k = posterior.shape[1]
    out = np.full(k, np.nan)
    for cls in range(k):   # loop over classes (at most 5), not over patients
        members = modal == cls
        if members.any():
            out[cls] = posterior[members, cls].mean()
    return out


def summarise_fit(fit: TrajectoryFit) -> dict:
    """One row of the fit table."""
    shares = fit.posterior.mean(axis=0)
    appa = average_posterior_probability(fit.posterior)
    minus_2ll = -2.0 * fit.log_likelihood
    return {
        "n_classes": fit.n_classes,
        "log_likelihood": fit.log_likelihood,
        "n_parameters": fit.n_parameters,
        "bic": minus_2ll + fit.n_parameters * np.log(fit.n_patients),
        "bic_observations": minus_2ll + fit.n_parameters * np.log(fit.n_observations),
        "aic": minus_2ll + 2.0 * fit.n_parameters,
        "relative_entropy": relative_entropy(fit.posterior),
        "min_average_posterior": float(np.min(appa)) if not np.isnan(appa).any() else float("nan"),
        "average_posterior_by_class": " / ".join(f"{a:.3f}" for a in appa),
        "class_shares": " / ".join(f"{s:.3f}" for s in shares),
        "smallest_class_share": float(shares.min()),
        "n_patients": fit.n_patients,
        "n_observations": fit.n_observations,
        "n_starts": fit.n_starts,
        "n_replications": fit.n_replications,
        "best_replicated": fit.best_replicated,
        "converged": fit.converged,
        "degenerate": fit.degenerate,
        "random_intercept_variance": fit.random_intercept_variance,
    }


def fit_trajectory_grid(long_df: pd.DataFrame, k_values=TRAJECTORY_K_VALUES, degree: int = TRAJECTORY_DEGREE,
                        random_intercept: bool = False, class_specific_variance: bool = False,
                        n_starts: int = TRAJECTORY_STARTS, n_final: int = TRAJECTORY_FINAL, seed: int = TRAJECTORY_SEED,
                        censored: bool = False):
    """Fit K = each of k_values; return (fit table with one row per K, {K: TrajectoryFit}).

    `censored=True` fits the censored-normal LCGA (answers of 0 and 10 as censored), without random intercept.
    """
    if censored:
        if random_intercept:
            raise ValueError("the censored-normal variant has no random intercept")
        fits = {int(k): fit_censored_trajectory_model(long_df, int(k), degree=degree,
                                                      class_specific_variance=class_specific_variance,
                                                      n_starts=n_starts, n_final=min(n_final, n_starts), seed=seed)
                for k in k_values}
        return pd.DataFrame([summarise_fit(fit) for fit in fits.values()]), fits
    data = prepare_trajectory_data(long_df, degree)
    fits = {int(k): fit_trajectory_model(data, int(k), degree=degree, random_intercept=random_intercept,
                                         class_specific_variance=class_specific_variance, n_starts=n_starts,
                                         n_final=min(n_final, n_starts), seed=seed)
            for k in k_values}
    table = pd.DataFrame([summarise_fit(fit) for fit in fits.values()])
    return table, fits


def failed_rules(row) -> list[str]:
    failed = []
    if row["n_classes"] > 1 and not row["relative_entropy"] > TRAJECTORY_MIN_RELATIVE_ENTROPY:
        failed.append(f"relative entropy {row['relative_entropy']:.3f} <= {TRAJECTORY_MIN_RELATIVE_ENTROPY}")
    if not row["min_average_posterior"] > TRAJECTORY_MIN_AVERAGE_POSTERIOR:
        failed.append(f"a class has average posterior probability {row['min_average_posterior']:.3f}"
                      f" <= {TRAJECTORY_MIN_AVERAGE_POSTERIOR}")
    if not row["smallest_class_share"] >= TRAJECTORY_MIN_CLASS_SHARE:
        failed.append(f"smallest class {100 * row['smallest_class_share']:.1f}% < {100 * TRAJECTORY_MIN_CLASS_SHARE:.0f}%")
    if row["n_classes"] > 1 and not row["best_replicated"]:
        failed.append("best log-likelihood found by only one start")
    if not row["converged"]:
        failed.append("EM did not converge within its iteration limit")
    if row["degenerate"]:
        failed.append("degenerate solution (empty class or zero variance)")
    return failed


def choose_number_of_classes(fit_table: pd.DataFrame, criterion: str = "bic"):
    """Lowest BIC among admissible solutions; returns (K, plain-language reason).

    Admissible: relative entropy > 0.7 (K > 1), average posterior probability > 0.7 in every class, smallest
    class >= 5 %, best log-likelihood replicated by at least two starts (K > 1), EM converged, not degenerate.
    """
    if fit_table.empty:
        raise ValueError("empty fit table")
    rejected = {int(row["n_classes"]): failed_rules(row) for _, row in fit_table.iterrows()}
    admissible = fit_table[[not rejected[int(k)] for k in fit_table["n_classes"]]]
    best_overall = int(fit_table.loc[fit_table[criterion].idxmin(), "n_classes"])
    if admissible.empty:
        return best_overall, (f"No solution met every rule; K = {best_overall} has the lowest {criterion.upper()} "
                              "and is reported with that caveat.")
    chosen = int(admissible.loc[admissible[criterion].idxmin(), "n_classes"])
    reason = f"K = {chosen} has the lowest {criterion.upper()} among the solutions that meet every rule"
    if chosen != best_overall:
        reason += (f"; K = {best_overall} had a lower {criterion.upper()} but was set aside: "
                   + "; ".join(rejected[best_overall]))
    others = [f"K = {k}: " + "; ".join(r) for k, r in rejected.items() if r and k != best_overall]
    if others:
        reason += ". Also set aside: " + " | ".join(others)
    return chosen, reason + "."
