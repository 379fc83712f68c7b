"""Censored-normal LCGA: Nagin's group-based model for a bounded scale (NPRS answers pile up at 0 and 10).

Given class k a latent pain y* ~ N(x'beta_k, sigma2_k) is recorded as 0 when y* <= 0 and as 10 when y* >= 10
(the "cnorm" model of Nagin's traj). A recorded 0 or 10 therefore contributes a normal tail probability, not a
density. EM treats both the class and the censored y* as missing: the E-step needs the first two moments of a
truncated normal, and the M-step stays weighted least squares. No random intercept in this variant.
An answer inside the bounds enters through per-patient sums, as in the normal models; an answer on a bound is
handled visit by visit (a tail probability has no per-patient sufficient statistics). Arrays are laid out (S, K, N)
or (S, K, answers on a bound), as the normal models' are, for the same speed reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import log_ndtr

from .em import (LOG_2PI, REPLICATION_TOLERANCE, VARIANCE_FLOOR, Parameters, polynomial_design,
                 prepare_trajectory_data, quadratic_form)
from .fit import TrajectoryFit, initial_partitions, order_classes, parameters_from_partition


@dataclass(frozen=True)
class CensoredData:
    """Visits sorted by patient, split by whether the answer sits on a bound.

    An answer strictly inside the bounds is an ordinary normal observation: its terms of the likelihood and of the
    M-step depend on the parameters only through per-patient sums (X'X, X'y, y'y, counts), computed once here. Only
    the answers on a bound (a minority) are handled visit by visit: their tail probabilities and truncated moments.
    """

    patient_ids: np.ndarray
    degree: int
    x: np.ndarray          # (n_obs, p)
    y: np.ndarray          # (n_obs,)
    codes: np.ndarray      # (n_obs,) patient index
    starts: np.ndarray     # first visit of each patient
    at_lower: np.ndarray   # (n_obs,) bool
    at_upper: np.ndarray
    bounds: tuple
    n_obs: np.ndarray      # (N,) visits per patient
    xtx: np.ndarray        # (N, p*p) over all visits
    open_n: np.ndarray     # (N,) answers inside the bounds
    open_xtx: np.ndarray   # (N, p*p), and the sums below, over the answers inside the bounds
    open_xty: np.ndarray   # (N, p)
    open_yty: np.ndarray   # (N,)
    bound_x: np.ndarray        # (C, p) design rows of the answers on a bound
    bound_value: np.ndarray    # (C,) the bound each sits on
    bound_sign: np.ndarray     # (C,) +1 at the lower bound (y* <= bound), -1 at the upper (y* >= bound)
    bound_patient: np.ndarray  # (C,) patient index
    bound_starts: np.ndarray   # first answer on a bound of each patient who has one
    bound_patients: np.ndarray # those patients' indices

    @property
    def n_patients(self) -> int:
        return int(self.starts.size)


def _patient_sums(values: np.ndarray, codes: np.ndarray, n_patients: int) -> np.ndarray:
    """Sum of `values` (rows) within each patient, zeros for a patient without rows."""
    out = np.zeros((n_patients, *values.shape[1:]))
    if codes.size:
        first = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
        out[codes[first]] = np.add.reduceat(values, first, axis=0)
    return out


def prepare_censored_data(long_df: pd.DataFrame, degree: int = 2, bounds=(0.0, 10.0)) -> CensoredData:
    rows = long_df.loc[long_df["nprs"].notna(), ["patient_id", "years", "nprs"]]
    codes, patient_ids = pd.factorize(rows["patient_id"], sort=True)
    order = np.argsort(codes, kind="stable")
    codes, y = codes[order], rows["nprs"].to_numpy(float)[order]
    if (y < bounds[0]).any() or (y > bounds[1]).any():
        raise ValueError(f"outcome outside the censoring bounds {bounds}")
    x = polynomial_design(rows["years"].to_numpy(float)[order], degree)
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    n_patients, p = starts.size, degree + 1
    at_lower, at_upper = y <= bounds[0], y >= bounds[1]
    on_bound = at_lower | at_upper
    inside = ~on_bound
    outer = (x[:, :, None] * x[:, None, :]).reshape(-1, p * p)
    bound_patient = codes[on_bound]
    bound_starts = np.flatnonzero(np.r_[True, bound_patient[1:] != bound_patient[:-1]]) if bound_patient.size \
        else np.zeros(0, int)
    return CensoredData(
        np.asarray(patient_ids), degree, x, y, codes, starts, at_lower, at_upper, tuple(bounds),
        n_obs=np.diff(np.r_[starts, codes.size]).astype(float),
        xtx=np.add.reduceat(outer, starts, axis=0),
        open_n=_patient_sums(np.ones(inside.sum()), codes[inside], n_patients),
        open_xtx=_patient_sums(outer[inside], codes[inside], n_patients),
        open_xty=_patient_sums(x[inside] * y[inside, None], codes[inside], n_patients),
        open_yty=_patient_sums(y[inside] ** 2, codes[inside], n_patients),
        bound_x=x[on_bound], bound_value=np.where(at_lower, bounds[0], bounds[1])[on_bound],
        bound_sign=np.where(at_lower, 1.0, -1.0)[on_bound], bound_patient=bound_patient,
        bound_starts=bound_starts, bound_patients=bound_patient[bound_starts] if bound_patient.size else bound_starts)


def _bound_terms(data: CensoredData, params: Parameters):
    """Per start, class and answer on a bound (S, K, C): log tail probability, E[y*] and E[y*^2] given the answer.

    With t = sign (bound - mu) / sigma the answer has probability Phi(t) (sign +1: y* <= lower; -1: y* >= upper),
    and with the inverse Mills ratio h = phi(t) / Phi(t): E[y*] = mu - sign sigma h, E[y*^2] = mu^2 - 2 sign mu sigma
    h + sigma^2 (1 - t h)."""
    mu = params.beta @ data.bound_x.T
    sigma = np.sqrt(params.sigma2)[:, :, None]
    sign = data.bound_sign[None, None, :]
    t = sign * (data.bound_value[None, None, :] - mu) / sigma
    log_tail = log_ndtr(t)
    hazard = np.exp(-0.5 * (LOG_2PI + t * t) - log_tail)
    first = mu - sign * sigma * hazard
    second = mu * mu - 2.0 * sign * mu * sigma * hazard + sigma * sigma * (1.0 - t * hazard)
    return log_tail, first, second


def censored_e_step(data: CensoredData, params: Parameters):
    """Log-likelihood per start (S,), posterior (S, K, N), and E[y*], E[y*^2] of the answers on a bound (S, K, C)."""
    sigma2 = params.sigma2[:, :, None]
    open_rss = np.maximum(data.open_yty[None, None, :] - 2.0 * (params.beta @ data.open_xty.T)
                          + quadratic_form(params.beta, data.open_xtx), 0.0)
    log_f = -0.5 * (data.open_n[None, None, :] * (LOG_2PI + np.log(sigma2)) + open_rss / sigma2)
    log_tail, first, second = _bound_terms(data, params)
    if data.bound_patients.size:
        log_f[:, :, data.bound_patients] += np.add.reduceat(log_tail, data.bound_starts, axis=2)
    joint = params.log_pi[:, :, None] + log_f
    top = joint.max(axis=1, keepdims=True)
    log_marginal = top[:, 0, :] + np.log(np.exp(joint - top).sum(axis=1))
    return log_marginal.sum(axis=1), np.exp(joint - log_marginal[:, None, :]), first, second


def censored_m_step(data: CensoredData, posterior, first, second, class_specific_variance: bool) -> Parameters:
    """Weighted least squares on E[y*], weights the class posteriors: the answers inside the bounds through their
    per-patient sums, those on a bound one by one (with their patient's posterior)."""
    p = data.x.shape[1]
    bound_weight = posterior[:, :, data.bound_patient]                                    # (S, K, C)
    lhs = (posterior @ data.xtx).reshape(*posterior.shape[:2], p, p)
    rhs = posterior @ data.open_xty + (bound_weight * first) @ data.bound_x
    lhs = lhs + (1e-10 * np.trace(lhs, axis1=2, axis2=3)[..., None, None] + 1e-300) * np.eye(p)
    beta = np.linalg.solve(lhs, rhs[..., None])[..., 0]
    # sum over visits of E[(y* - mu)^2] = y'y - 2 beta'X'y inside the bounds, E[y*^2] - 2 mu E[y*] on them, and
    # beta'X'X beta over all visits.
    bound_mu = beta @ data.bound_x.T
    squares = ((posterior * (data.open_yty[None, None, :] - 2.0 * (beta @ data.open_xty.T)
                             + quadratic_form(beta, data.xtx))).sum(axis=2)
               + (bound_weight * (second - 2.0 * bound_mu * first)).sum(axis=2))               # (S, K)
    if class_specific_variance:
        sigma2 = squares / np.maximum(posterior @ data.n_obs, 1e-300)
    else:
        sigma2 = np.repeat(squares.sum(axis=1, keepdims=True) / data.y.size, beta.shape[1], axis=1)
    class_weight = posterior.sum(axis=2)
    log_pi = np.log(np.maximum(class_weight, 1e-300)) - np.log(posterior.shape[2])
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
    return float(loglik[0]), posterior[0].T


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
        random_intercept_variance=0.0, log_likelihood=float(loglik[best]),
        posterior=np.ascontiguousarray(posterior[best][order].T),
        n_observations=int(data.y.size), final_run_log_likelihoods=np.sort(loglik[np.isfinite(usable)])[::-1],
        n_starts=n_starts, n_replications=int((np.abs(usable - usable[best]) < REPLICATION_TOLERANCE).sum()),
        converged=bool(converged[best]), iterations=int(iterations[best]), degenerate=bool(empty[best]),
        log_likelihood_history=history[:, best], censoring_bounds=tuple(bounds))
