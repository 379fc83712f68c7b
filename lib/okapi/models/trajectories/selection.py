"""Fit statistics of trajectory models, the K = 1..5 grid, and a stated rule for choosing the number of classes.

BIC is on the -2 log L scale (lower is better). `bic` uses N = patients, the convention of Nagin's traj and of lcmm
(patients are the independent units); `bic_observations` uses N = visits, which is what R flexmix reports.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from okapi.plan import (TRAJECTORY_DEGREE, TRAJECTORY_FINAL, TRAJECTORY_K_VALUES, TRAJECTORY_MIN_AVERAGE_POSTERIOR,
                        TRAJECTORY_MIN_CLASS_SHARE, TRAJECTORY_MIN_OCC, TRAJECTORY_MIN_RELATIVE_ENTROPY,
                        TRAJECTORY_SEED, TRAJECTORY_STARTS)

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


def odds_of_correct_classification(posterior: np.ndarray) -> np.ndarray:
    """Nagin's OCC per class: the odds of the class's average posterior over the odds of its share (about 1 = no
    better than chance assignment; Nagin asks for at least 5)."""
    appa = average_posterior_probability(posterior)
    share = posterior.mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (appa / (1 - appa)) / (share / (1 - share))


def summarise_fit(fit: TrajectoryFit) -> dict:
    """One row of the fit table."""
    shares = fit.posterior.mean(axis=0)
    appa = average_posterior_probability(fit.posterior)
    occ = odds_of_correct_classification(fit.posterior) if fit.n_classes > 1 else np.array([np.inf])
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
        "min_odds_correct": float(np.min(occ)) if not np.isnan(occ).any() else float("nan"),
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


def estimation_problems(row) -> list[str]:
    """Why a solution cannot be used at all (these set it aside): EM did not converge, the solution is degenerate, or
    its best log-likelihood was found by one start only (it may not be the maximum)."""
    problems = []
    if row["n_classes"] > 1 and not row["best_replicated"]:
        problems.append("best log-likelihood found by only one start")
    if not row["converged"]:
        problems.append("EM did not converge within its iteration limit")
    if row["degenerate"]:
        problems.append("degenerate solution (empty class or zero variance)")
    return problems


def adequacy_problems(row) -> list[str]:
    """Nagin's adequacy diagnostics that a solution misses: reported beside it, never a veto on BIC's choice."""
    problems = []
    if not row["min_average_posterior"] >= TRAJECTORY_MIN_AVERAGE_POSTERIOR:
        problems.append(f"a group's average posterior probability {row['min_average_posterior']:.3f} < "
                        f"{TRAJECTORY_MIN_AVERAGE_POSTERIOR}")
    if row["n_classes"] > 1 and not row["min_odds_correct"] >= TRAJECTORY_MIN_OCC:
        problems.append(f"a group's odds of correct classification {row['min_odds_correct']:.1f} < "
                        f"{TRAJECTORY_MIN_OCC:g}")
    if not row["smallest_class_share"] >= TRAJECTORY_MIN_CLASS_SHARE:
        problems.append(f"smallest group {100 * row['smallest_class_share']:.1f}% < "
                        f"{100 * TRAJECTORY_MIN_CLASS_SHARE:.0f}%")
    if row["n_classes"] > 1 and not row["relative_entropy"] >= TRAJECTORY_MIN_RELATIVE_ENTROPY:
        problems.append(f"relative entropy {row['relative_entropy']:.3f} < {TRAJECTORY_MIN_RELATIVE_ENTROPY}")
    return problems


def choose_number_of_classes(fit_table: pd.DataFrame, criterion: str = "bic"):
    """Nagin's group-based rule: the K with the lowest BIC (N = patients) among the solutions that could be estimated
    (converged, not degenerate, best log-likelihood replicated); returns (K, plain-language reason). The adequacy
    diagnostics (adequacy_problems) are reported for the chosen K, not used to overrule BIC."""
    if fit_table.empty:
        raise ValueError("empty fit table")
    set_aside = {int(row["n_classes"]): estimation_problems(row) for _, row in fit_table.iterrows()}
    usable = fit_table[[not set_aside[int(k)] for k in fit_table["n_classes"]]]
    if usable.empty:
        best = int(fit_table.loc[fit_table[criterion].idxmin(), "n_classes"])
        return best, (f"No solution could be estimated cleanly; K = {best} has the lowest {criterion.upper()} and is "
                      "reported with that caveat.")
    chosen = int(usable.loc[usable[criterion].idxmin(), "n_classes"])
    reason = f"K = {chosen} has the lowest {criterion.upper()}"
    aside = [f"K = {k}: " + "; ".join(r) for k, r in set_aside.items() if r]
    if aside:
        reason += " among the solutions that could be estimated (set aside: " + " | ".join(aside) + ")"
    adequacy = adequacy_problems(fit_table.set_index("n_classes").loc[chosen].to_dict() | {"n_classes": chosen})
    reason += (". Its adequacy diagnostics: " + ("all met" if not adequacy else "; ".join(adequacy)))
    return chosen, reason + "."
