"""Censored-normal LCGA: Nagin's group-based model for a bounded scale (NPRS answers pile up at 0 and 10).

Given class k a latent pain y* ~ N(x'beta_k, sigma2_k) is recorded as 0 when y* <= 0 and as 10 when y* >= 10
(the "cnorm" model of Nagin's traj). A recorded 0 or 10 therefore contributes a normal tail probability, not a
density. EM treats both the class and the censored y* as missing: the E-step needs the first two moments of a
truncated normal, and the M-step stays weighted least squares. No random intercept in this variant.
Unlike the normal models it works visit by visit (a tail probability has no per-patient sufficient statistics).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import log_ndtr

from .em import (LOG_2PI, REPLICATION_TOLERANCE, VARIANCE_FLOOR, Parameters, polynomial_design,
                 prepare_trajectory_data)
from .fit import TrajectoryFit, initial_partitions, order_classes, parameters_from_partition


@dataclass(frozen=True)
class CensoredData:
    """Visits sorted by patient, with their design rows and which bound, if any, each answer sits on."""

    patient_ids: np.ndarray
    degree: int
    x: np.ndarray          # (n_obs, p)
    y: np.ndarray          # (n_obs,)
    codes: np.ndarray      # (n_obs,) patient index
    starts: np.ndarray     # first visit of each patient
    at_lower: np.ndarray   # (n_obs,) bool
    at_upper: np.ndarray
    bounds: tuple


def prepare_censored_data(long_df: pd.DataFrame, degree: int = 2, bounds=(0.0, 10.0)) -> CensoredData:
    rows = long_df.loc[long_df["nprs"].notna(), ["patient_id", "years", "nprs"]]
    codes, patient_ids = pd.factorize(rows["patient_id"], sort=True)
    order = np.argsort(codes, kind="stable")
    codes, y = codes[order], rows["nprs"].to_numpy(float)[order]
    if (y < bounds[0]).any() or (y > bounds[1]).any():
        raise ValueError(f"outcome outside the censoring bounds {bounds}")
    x = polynomial_design(rows["years"].to_numpy(float)[order], degree)
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    return CensoredData(np.asarray(patient_ids), degree, x, y, codes, starts, y <= bounds[0], y >= bounds[1],
                        tuple(bounds))


def _visit_terms(data: CensoredData, params: Parameters):
    """Per visit and class (S, n_obs, K): log contribution, E[y*] and E[y*^2] given the recorded answer."""
    mu = data.x @ params.beta.transpose(0, 2, 1)
    sigma = np.sqrt(params.sigma2)[:, None, :]
    y = data.y[None, :, None]
    log_f = -0.5 * (LOG_2PI + 2.0 * np.log(sigma) + ((y - mu) / sigma) ** 2)
    first, second = np.broadcast_to(y, mu.shape).copy(), np.broadcast_to(y * y, mu.shape).copy()
    low, high = data.at_lower, data.at_upper
    a = (data.bounds[0] - mu[:, low, :]) / sigma                      # y* <= lower: Z <= a
    log_tail = log_ndtr(a)
    hazard = np.exp(-0.5 * (LOG_2PI + a * a) - log_tail)               # phi(a) / Phi(a)
    log_f[:, low, :] = log_tail
    first[:, low, :] = mu[:, low, :] - sigma * hazard
    second[:, low, :] = mu[:, low, :] ** 2 - 2 * mu[:, low, :] * sigma * hazard + sigma ** 2 * (1 - a * hazard)
    b = (data.bounds[1] - mu[:, high, :]) / sigma                     # y* >= upper: Z >= b
    log_tail = log_ndtr(-b)
    hazard = np.exp(-0.5 * (LOG_2PI + b * b) - log_tail)               # phi(b) / (1 - Phi(b))
    log_f[:, high, :] = log_tail
    first[:, high, :] = mu[:, high, :] + sigma * hazard
    second[:, high, :] = mu[:, high, :] ** 2 + 2 * mu[:, high, :] * sigma * hazard + sigma ** 2 * (1 + b * hazard)
    return log_f, first, second, mu


def censored_e_step(data: CensoredData, params: Parameters):
    log_f, first, second, mu = _visit_terms(data, params)
    joint = params.log_pi[:, None, :] + np.add.reduceat(log_f, data.starts, axis=1)
    top = joint.max(axis=2, keepdims=True)
    log_marginal = top[..., 0] + np.log(np.exp(joint - top).sum(axis=2))
    return log_marginal.sum(axis=1), np.exp(joint - log_marginal[..., None]), first, second


def censored_m_step(data: CensoredData, posterior, first, second, class_specific_variance: bool) -> Parameters:
    weight = posterior[:, data.codes, :]                                               # (S, n_obs, K)
    p = data.x.shape[1]
    outer = (data.x[:, :, None] * data.x[:, None, :]).reshape(-1, p * p)
    lhs = (weight.transpose(0, 2, 1) @ outer).reshape(*weight.shape[::2], p, p)
    rhs = np.einsum("sok,op->skp", weight * first, data.x)
    lhs = lhs + (1e-10 * np.trace(lhs, axis1=2, axis2=3)[..., None, None] + 1e-300) * np.eye(p)
    beta = np.linalg.solve(lhs, rhs[..., None])[..., 0]
    mu = data.x @ beta.transpose(0, 2, 1)
    squares = (weight * (second - 2.0 * mu * first + mu * mu)).sum(axis=1)            # (S, K)
    if class_specific_variance:
        sigma2 = squares / np.maximum(weight.sum(axis=1), 1e-300)
    else:
        sigma2 = np.repeat(squares.sum(axis=1, keepdims=True) / data.y.size, beta.shape[1], axis=1)
    class_weight = posterior.sum(axis=1)
    log_pi = np.log(np.maximum(class_weight, 1e-300)) - np.log(posterior.shape[1])
    return Parameters(beta, log_pi, np.maximum(sigma2, VARIANCE_FLOOR), np.zeros(beta.shape[0]))


def run_censored_em(data: CensoredData, params: Parameters, class_specific_variance: bool, max_iterations: int,
                    tolerance: float = 1e-7, keep_history: bool = False):
    """Plain EM on a batch of starts (monotone); returns like trajectories_em.run_em."""
    loglik, posterior, first, second = censored_e_step(data, params)
    history = [loglik] if keep_history else None
    converged = np.zeros(loglik.shape, bool)
    iterations = np.zeros(loglik.shape, int)
    for _ in range(max_iterations):
        params = censored_m_step(data, posterior, first, second, class_specific_variance)
        new_loglik, posterior, first, second = censored_e_step(data, params)
        iterations += ~converged
        converged = converged | (np.abs(new_loglik - loglik) < tolerance)
        loglik = new_loglik
        if keep_history:
            history.append(loglik)
        if converged.all():
            break
    return params, loglik, posterior, iterations, converged, (np.array(history) if keep_history else None)


def censored_log_likelihood_at(data: CensoredData, coefficients, class_probabilities, residual_variance):
    k = len(class_probabilities)
    params = Parameters(np.asarray(coefficients, float)[None], np.log(np.asarray(class_probabilities, float))[None],
                        np.broadcast_to(np.asarray(residual_variance, float), (k,))[None].copy(), np.zeros(1))
    loglik, posterior, _, _ = censored_e_step(data, params)
    return float(loglik[0]), posterior[0]


def fit_censored_trajectory_model(long_df: pd.DataFrame, n_classes: int, degree: int = 2,
                                  class_specific_variance: bool = False, bounds=(0.0, 10.0), n_starts: int = 30,
                                  n_final: int = 5, short_iterations: int = 20, max_iterations: int = 2000,
                                  tolerance: float = 1e-7, seed: int = 0) -> TrajectoryFit:
    """Censored-normal LCGA with the same start protocol as fit_trajectory_model (starts from normal-LCGA curves)."""
    data = prepare_censored_data(long_df, degree, bounds)
    rng = np.random.default_rng([seed, n_classes])
    normal_stats = prepare_trajectory_data(long_df, degree)
    labels = initial_partitions(normal_stats, n_classes, n_starts, rng)
    start = parameters_from_partition(normal_stats, labels, n_classes, False, class_specific_variance, rng)
    short, short_ll, *_ = run_censored_em(data, start, class_specific_variance, short_iterations, tolerance)
    chosen = np.argsort(-np.where(np.isfinite(short_ll), short_ll, -np.inf), kind="stable")[:n_final]
    final, loglik, posterior, iterations, converged, history = run_censored_em(
        data, short.take(chosen), class_specific_variance, max_iterations, tolerance, keep_history=True)
    empty = (np.exp(final.log_pi) * data.starts.size < 1.0).any(axis=1)
    usable = np.where(empty | ~np.isfinite(loglik), -np.inf, loglik)
    best = int(np.argmax(usable))
    best_params = final.take([best])
    order = order_classes(best_params, degree)
    return TrajectoryFit(
        n_classes=n_classes, degree=degree, random_intercept=False, class_specific_variance=class_specific_variance,
        patient_ids=data.patient_ids, coefficients=best_params.beta[0][order],
        class_probabilities=np.exp(best_params.log_pi[0][order]), residual_variance=best_params.sigma2[0][order],
        random_intercept_variance=0.0, log_likelihood=float(loglik[best]), posterior=posterior[best][:, order],
        n_observations=int(data.y.size), final_run_log_likelihoods=np.sort(loglik[np.isfinite(usable)])[::-1],
        n_starts=n_starts, n_replications=int((np.abs(usable - usable[best]) < REPLICATION_TOLERANCE).sum()),
        converged=bool(converged[best]), iterations=int(iterations[best]), degenerate=bool(empty[best]),
        log_likelihood_history=history[:, best], censoring_bounds=tuple(bounds))
