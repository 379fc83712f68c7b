"""Random starts and the fitting protocol for one trajectory model with K classes.

EM finds a local maximum, and mixture likelihoods have many. The protocol (like Mplus STARTS = 30 5): many short
runs from random partitions, the best few continued to convergence, and a check that the best log-likelihood was
reached by more than one start. All starts of a phase are iterated together as one numpy batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .em import (REPLICATION_TOLERANCE, VARIANCE_FLOOR, Parameters, TrajectoryData, m_step,
                 polynomial_design, prepare_trajectory_data, run_em)

PROFILE_MONTHS = np.array([0.0, 6.0, 12.0])


@dataclass
class TrajectoryFit:
    """One fitted model; classes are ordered by mean predicted pain over months 0-12 (class 0 = lowest)."""

    n_classes: int
    degree: int
    random_intercept: bool
    class_specific_variance: bool
    patient_ids: np.ndarray
    coefficients: np.ndarray            # (K, degree+1), polynomial in years
    class_probabilities: np.ndarray     # (K,) mixing proportions
    residual_variance: np.ndarray       # (K,) (all equal when the variance is common)
    random_intercept_variance: float    # 0 for plain LCGA
    log_likelihood: float
    posterior: np.ndarray               # (N, K)
    n_observations: int
    final_run_log_likelihoods: np.ndarray   # every start continued to convergence, best first
    n_starts: int
    n_replications: int                 # final runs within REPLICATION_TOLERANCE of the best
    converged: bool
    iterations: int                     # EM updates of the best run after its short phase
    degenerate: bool                    # an empty class or a variance on the floor
    log_likelihood_history: np.ndarray  # of the best run, one value per EM cycle
    censoring_bounds: tuple | None = None   # (0, 10) for the censored-normal variant

    @property
    def n_patients(self) -> int:
        return int(self.patient_ids.size)

    @property
    def n_parameters(self) -> int:
        k, p = self.coefficients.shape
        variances = k if self.class_specific_variance else 1
        return k * p + (k - 1) + variances + int(self.random_intercept)

    @property
    def best_replicated(self) -> bool:
        return self.n_replications >= 2


def _subject_profiles(data: TrajectoryData) -> np.ndarray:
    """Each patient's own curve at months 0, 6, 12, shrunk towards the overall curve (few visits -> near average)."""
    p = data.degree + 1
    overall = np.linalg.solve(data.xtx.sum(0), data.xty.sum(0))
    penalty = np.diag(np.r_[0.0, np.ones(p - 1)])
    lhs = data.xtx + penalty[None] + 1e-8 * np.eye(p)[None]
    own = np.linalg.solve(lhs, (data.xty + penalty @ overall)[..., None])[..., 0]
    return own @ polynomial_design(PROFILE_MONTHS / 12.0, data.degree).T


def initial_partitions(data: TrajectoryData, n_classes: int, n_starts: int, rng: np.random.Generator) -> np.ndarray:
    """(S, N) class labels: even starts k-means++-seeded on patient profiles, odd starts uniformly random."""
    profiles = _subject_profiles(data)
    n = data.n_patients
    labels = np.empty((n_starts, n), dtype=int)
    for start in range(n_starts):
        if start % 2 == 1 or n_classes == 1:
            labels[start] = rng.integers(0, n_classes, size=n)
            continue
        seeds = [int(rng.integers(n))]
        for _ in range(1, n_classes):
            distance = ((profiles[:, None, :] - profiles[seeds][None]) ** 2).sum(-1).min(1)
            total = distance.sum()
            seeds.append(int(rng.integers(n)) if total <= 0 else int(rng.choice(n, p=distance / total)))
        labels[start] = ((profiles[:, None, :] - profiles[seeds][None]) ** 2).sum(-1).argmin(1)
    return labels


def parameters_from_partition(data: TrajectoryData, labels: np.ndarray, n_classes: int, random_intercept: bool,
                              class_specific_variance: bool, rng: np.random.Generator) -> Parameters:
    """Class curves fitted to a hard partition; with a random intercept, a random split of the residual variance."""
    n_starts = labels.shape[0]
    posterior = np.zeros((n_starts, n_classes, data.n_patients))
    np.put_along_axis(posterior, labels[:, None, :], 1.0, axis=1)
    blank = Parameters(np.zeros((n_starts, n_classes, data.degree + 1)), np.zeros((n_starts, n_classes)),
                       np.ones((n_starts, n_classes)), np.zeros(n_starts))
    params = m_step(data, blank, posterior, np.zeros_like(posterior), random_intercept=False,
                    class_specific_variance=class_specific_variance and not random_intercept)
    pi = np.maximum(np.exp(params.log_pi), 0.5 / data.n_patients)
    params.log_pi = np.log(pi / pi.sum(1, keepdims=True))
    if random_intercept:
        share = rng.uniform(0.3, 0.7, size=n_starts)
        params.tau2 = share * params.sigma2[:, 0]
        params.sigma2 = params.sigma2 * (1.0 - share)[:, None]
    return params


def _is_degenerate(data: TrajectoryData, params: Parameters, class_specific_variance: bool) -> np.ndarray:
    empty_class = (np.exp(params.log_pi) * data.n_patients < 1.0).any(axis=1)
    if not class_specific_variance:
        return empty_class
    return empty_class | (params.sigma2 <= VARIANCE_FLOOR * (1 + 1e-9)).any(axis=1)


def order_classes(params: Parameters, degree: int) -> np.ndarray:
    """Class order by mean predicted pain over months 0-12, for the first parameter set of the batch."""
    months = polynomial_design(np.arange(13) / 12.0, degree)
    return np.argsort((params.beta[0] @ months.T).mean(axis=1), kind="stable")


def fit_trajectory_model(long_df, n_classes: int, degree: int = 2, random_intercept: bool = False,
                         class_specific_variance: bool = False, n_starts: int = 30, n_final: int = 5,
                         short_iterations: int = 20, max_iterations: int = 2000, tolerance: float = 1e-7,
                         seed: int = 0) -> TrajectoryFit:
    """Fit one K-class trajectory model by EM from `n_starts` random starts; `long_df` may be TrajectoryData.

    The random stream depends on (seed, n_classes) only, so a K fits the same whatever else is in the grid.
    With a random intercept, `class_specific_variance` gives each class its own residual variance (the random-
    intercept variance stays common); its starts are those of the common-variance model.
    `max_iterations` (EM updates per start) bounds the crawl of over-extracted solutions along flat ridges of the
    likelihood (a class of 1 % slowly shrinking); such a fit is reported as not converged.
    """
    if n_classes < 1 or n_starts < 1 or not 1 <= n_final <= n_starts:
        raise ValueError("need n_classes >= 1 and 1 <= n_final <= n_starts")
    data = long_df if isinstance(long_df, TrajectoryData) else prepare_trajectory_data(long_df, degree)
    rng = np.random.default_rng([seed, n_classes])
    labels = initial_partitions(data, n_classes, n_starts, rng)
    start = parameters_from_partition(data, labels, n_classes, random_intercept, class_specific_variance, rng)

    short, short_loglik, *_ = run_em(data, start, random_intercept, class_specific_variance,
                                     max_iterations=short_iterations, tolerance=tolerance)
    ranking = np.where(_is_degenerate(data, short, class_specific_variance) | ~np.isfinite(short_loglik),
                       -np.inf, short_loglik)
    chosen = np.argsort(-ranking, kind="stable")[:n_final]
    final, loglik, posterior, iterations, converged, history = run_em(
        data, short.take(chosen), random_intercept, class_specific_variance,
        max_iterations=max_iterations, tolerance=tolerance, keep_history=True)

    degenerate = _is_degenerate(data, final, class_specific_variance)
    usable = np.where(degenerate | ~np.isfinite(loglik), -np.inf, loglik)
    best = int(np.argmax(usable)) if np.isfinite(usable).any() else int(np.nanargmax(loglik))
    order = order_classes(final.take([best]), data.degree)
    best_params = final.take([best])
    return TrajectoryFit(
        n_classes=n_classes, degree=data.degree, random_intercept=random_intercept,
        class_specific_variance=class_specific_variance, patient_ids=data.patient_ids,
        coefficients=best_params.beta[0][order], class_probabilities=np.exp(best_params.log_pi[0][order]),
        residual_variance=best_params.sigma2[0][order], random_intercept_variance=float(best_params.tau2[0]),
        log_likelihood=float(loglik[best]), posterior=np.ascontiguousarray(posterior[best][order].T),
        n_observations=data.n_observations,
        final_run_log_likelihoods=np.sort(loglik[np.isfinite(usable)])[::-1], n_starts=n_starts,
        n_replications=int((np.abs(usable - usable[best]) < REPLICATION_TOLERANCE).sum()),
        converged=bool(converged[best]), iterations=int(iterations[best]), degenerate=bool(degenerate[best]),
        log_likelihood_history=history[:, best],
    )


def posterior_class_table(fit: TrajectoryFit) -> pd.DataFrame:
    """Per patient: modal class (1 = lowest pain), its posterior probability, and every class probability."""
    table = pd.DataFrame(fit.posterior, columns=[f"p_class_{k + 1}" for k in range(fit.n_classes)])
    table.insert(0, "patient_id", fit.patient_ids)
    table.insert(1, "trajectory_class", fit.posterior.argmax(axis=1) + 1)
    table.insert(2, "posterior_probability", fit.posterior.max(axis=1))
    return table


def class_curve_table(fit: TrajectoryFit, months=range(13)) -> pd.DataFrame:
    """Predicted mean NPRS by month and class (long format; class 1 = lowest pain)."""
    months = np.asarray(list(months), dtype=float)
    predicted = fit.coefficients @ polynomial_design(months / 12.0, fit.degree).T     # (K, months)
    return pd.DataFrame({
        "trajectory_class": np.repeat(np.arange(1, fit.n_classes + 1), months.size),
        "class_share": np.repeat(fit.posterior.mean(axis=0), months.size),
        "month": np.tile(months.astype(int), fit.n_classes),
        "predicted_nprs": predicted.ravel(),
    })
