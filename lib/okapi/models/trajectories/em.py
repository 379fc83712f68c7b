"""EM estimator for group-based trajectory models of monthly pain (latent class growth analysis, LCGA).

Model: each patient belongs to one of K latent classes; given class k, y_ij = x(t_ij)' beta_k (+ b_i) + e_ij with
x(t) a polynomial in years. Plain LCGA has no b_i (errors independent, variance common or per class). The
random-intercept variant (a growth mixture model) adds b_i ~ N(0, tau2) shared by all classes, integrated out
analytically: given the class, y_i is multivariate normal with compound-symmetric covariance sigma2 I + tau2 J
(sigma2 common by default, or one per class with tau2 still common).

Everything works on per-patient sufficient statistics (X'X, X'y, y'y, X'1, 1'y, n), so a missing visit simply
has no row, and a whole batch of random starts is iterated at once with numpy broadcasting (no loop over patients).
Arrays per start, class and patient are laid out (S, K, N), patients last: the sums over the few classes (log-sum-exp
of the E-step) then run across contiguous rows, which is 20 to 50 times faster in numpy than reducing a short last
axis of (S, N, K), and the fit's cost stays proportional to the number of patients with a small constant.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

LOG_2PI = np.log(2.0 * np.pi)
VARIANCE_FLOOR = 1e-6          # NPRS^2 units; a class-specific variance pinned here is a degenerate solution
REPLICATION_TOLERANCE = 1e-3   # two runs "find the same maximum" when their log-likelihoods differ by less


@dataclass(frozen=True)
class TrajectoryData:
    """Per-patient sufficient statistics of a polynomial growth curve (patients in sorted patient_id order)."""

    patient_ids: np.ndarray
    degree: int
    n_obs: np.ndarray     # (N,)
    xtx: np.ndarray       # (N, p, p)
    xty: np.ndarray       # (N, p)
    yty: np.ndarray       # (N,)
    x_sum: np.ndarray     # (N, p)  X'1, needed by the random intercept
    y_sum: np.ndarray     # (N,)

    @property
    def n_patients(self) -> int:
        return int(self.n_obs.size)

    @property
    def n_observations(self) -> int:
        return int(self.n_obs.sum())


def polynomial_design(years, degree: int) -> np.ndarray:
    """Columns 1, t, t^2, ... t^degree with t in years (0-1 over follow-up keeps the cubic well conditioned)."""
    years = np.asarray(years, dtype=float)
    return years[:, None] ** np.arange(degree + 1)[None, :]


def prepare_trajectory_data(long_df: pd.DataFrame, degree: int = 2, outcome: str = "nprs",
                            time: str = "years") -> TrajectoryData:
    """Collapse a long table (one row per observed visit) into per-patient sufficient statistics."""
    if degree not in (1, 2, 3):
        raise ValueError("degree must be 1, 2 or 3")
    missing_columns = {"patient_id", outcome, time} - set(long_df.columns)
    if missing_columns:
        raise ValueError(f"long_df lacks columns {sorted(missing_columns)}")
    rows = long_df.loc[long_df[outcome].notna(), ["patient_id", time, outcome]]
    if rows.empty:
        raise ValueError("no observed outcome")
    codes, patient_ids = pd.factorize(rows["patient_id"], sort=True)
    order = np.argsort(codes, kind="stable")
    codes = codes[order]
    x = polynomial_design(rows[time].to_numpy(float)[order], degree)
    y = rows[outcome].to_numpy(float)[order]
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    p = degree + 1
    outer = (x[:, :, None] * x[:, None, :]).reshape(-1, p * p)
    return TrajectoryData(
        patient_ids=np.asarray(patient_ids),
        degree=degree,
        n_obs=np.diff(np.r_[starts, codes.size]).astype(float),
        xtx=np.add.reduceat(outer, starts, axis=0).reshape(-1, p, p),
        xty=np.add.reduceat(x * y[:, None], starts, axis=0),
        yty=np.add.reduceat(y * y, starts),
        x_sum=np.add.reduceat(x, starts, axis=0),
        y_sum=np.add.reduceat(y, starts),
    )


@dataclass
class Parameters:
    """A batch of S parameter sets: beta (S,K,p), log_pi (S,K), sigma2 (S,K), tau2 (S,) (zeros without b_i)."""

    beta: np.ndarray
    log_pi: np.ndarray
    sigma2: np.ndarray
    tau2: np.ndarray

    def take(self, index) -> "Parameters":
        return Parameters(self.beta[index], self.log_pi[index], self.sigma2[index], self.tau2[index])

    def copy(self) -> "Parameters":
        return Parameters(self.beta.copy(), self.log_pi.copy(), self.sigma2.copy(), self.tau2.copy())


def quadratic_form(beta: np.ndarray, xtx: np.ndarray) -> np.ndarray:
    """beta_k' (X'X)_i beta_k for every start, class and patient, (S, K, N), from flattened X'X (N, p*p)."""
    s, k, p = beta.shape
    return (beta[:, :, :, None] * beta[:, :, None, :]).reshape(s, k, p * p) @ xtx.T


def _residual_statistics(data: TrajectoryData, beta: np.ndarray):
    """Per start, class and patient: residual sum of squares r'r and residual sum 1'r, each (S, K, N).

    Written as matrix products over flattened X'X (N, p*p) so that BLAS, not einsum, does the work.
    """
    p = beta.shape[2]
    rss = data.yty[None, None, :] - 2.0 * (beta @ data.xty.T) + quadratic_form(beta, data.xtx.reshape(-1, p * p))
    resid_sum = data.y_sum[None, None, :] - beta @ data.x_sum.T
    return np.maximum(rss, 0.0), resid_sum


def component_log_density(data: TrajectoryData, params: Parameters, random_intercept: bool):
    """log f_k(y_i) for every start, class and patient, (S, K, N), plus the residual statistics reused by EM."""
    rss, resid_sum = _residual_statistics(data, params.beta)
    n = data.n_obs[None, None, :]
    sigma2 = params.sigma2[:, :, None]
    if not random_intercept:
        return -0.5 * (n * (LOG_2PI + np.log(sigma2)) + rss / sigma2), rss, resid_sum
    tau2 = params.tau2[:, None, None]
    # Compound symmetry V = s2 I + t2 J: det V = s2^(n-1) (s2 + n t2); r'V^-1 r = (r'r - t2 (1'r)^2 / (s2 + n t2)) / s2.
    denom = sigma2 + n * tau2
    quad = (rss - tau2 * resid_sum ** 2 / denom) / sigma2
    log_det = (n - 1.0) * np.log(sigma2) + np.log(denom)
    return -0.5 * (n * LOG_2PI + log_det + quad), rss, resid_sum


def e_step(data: TrajectoryData, params: Parameters, random_intercept: bool):
    """Log-likelihood per start (S,), posterior class probabilities (S, K, N), residual statistics."""
    log_f, rss, resid_sum = component_log_density(data, params, random_intercept)
    joint = params.log_pi[:, :, None] + log_f
    top = joint.max(axis=1, keepdims=True)
    log_marginal = top[:, 0, :] + np.log(np.exp(joint - top).sum(axis=1))
    posterior = np.exp(joint - log_marginal[:, None, :])
    return log_marginal.sum(axis=1), posterior, rss, resid_sum


def _solve_class_curves(data: TrajectoryData, posterior: np.ndarray, b_mean: np.ndarray | None) -> np.ndarray:
    """Weighted least squares per class from sufficient statistics, with y shifted by E[b_i] when there is a b_i.

    A tiny ridge keeps an empty class solvable (such a start is flagged degenerate later).
    """
    p = data.xty.shape[1]
    lhs = (posterior @ data.xtx.reshape(-1, p * p)).reshape(*posterior.shape[:2], p, p)
    rhs = posterior @ data.xty
    if b_mean is not None:
        rhs = rhs - (posterior * b_mean) @ data.x_sum
    ridge = 1e-10 * np.trace(lhs, axis1=2, axis2=3)[..., None, None] + 1e-300
    return np.linalg.solve(lhs + ridge * np.eye(p), rhs[..., None])[..., 0]


def m_step(data: TrajectoryData, params: Parameters, posterior: np.ndarray, resid_sum: np.ndarray,
           random_intercept: bool, class_specific_variance: bool) -> Parameters:
    """One EM update. With a random intercept, b_i is a second missing variable (its posterior is normal, given the
    class); its variance tau2 is common to all classes, the residual variance common or per class."""
    class_weight = posterior.sum(axis=2)                                           # (S, K)
    log_pi = np.log(np.maximum(class_weight, 1e-300)) - np.log(data.n_patients)
    n = data.n_obs[None, None, :]
    if not random_intercept:
        beta = _solve_class_curves(data, posterior, None)
        rss, _ = _residual_statistics(data, beta)
        weighted_rss = (posterior * rss).sum(axis=2)                               # (S, K)
        if class_specific_variance:
            sigma2 = weighted_rss / np.maximum((posterior * n).sum(axis=2), 1e-300)
        else:
            sigma2 = np.repeat(weighted_rss.sum(axis=1, keepdims=True) / data.n_observations, beta.shape[1], axis=1)
        return Parameters(beta, log_pi, np.maximum(sigma2, VARIANCE_FLOOR), np.zeros_like(params.tau2))
    # E[b_i | y_i, class k] = m_ik and Var = v_i, at the current parameters.
    sigma2, tau2 = params.sigma2[:, :, None], params.tau2[:, None, None]
    denom = sigma2 + n * tau2
    b_mean = tau2 * resid_sum / denom
    b_var = sigma2 * tau2 / denom
    b_second_moment = b_mean ** 2 + b_var
    beta = _solve_class_curves(data, posterior, b_mean)
    rss, resid_sum_new = _residual_statistics(data, beta)
    expected_sq = rss - 2.0 * b_mean * resid_sum_new + n * b_second_moment      # E||y - X beta - b 1||^2
    tau2_new = (posterior * b_second_moment).sum(axis=(1, 2)) / data.n_patients
    if class_specific_variance:
        # The class curve does not depend on sigma2_k, so updating it first and sigma2_k after is still exact EM.
        sigma2_by_class = (posterior * expected_sq).sum(axis=2) / np.maximum((posterior * n).sum(axis=2), 1e-300)
        return Parameters(beta, log_pi, np.maximum(sigma2_by_class, VARIANCE_FLOOR), np.maximum(tau2_new, 0.0))
    sigma2_new = (posterior * expected_sq).sum(axis=(1, 2)) / data.n_observations
    k = beta.shape[1]
    return Parameters(beta, log_pi, np.repeat(np.maximum(sigma2_new, VARIANCE_FLOOR)[:, None], k, axis=1),
                      np.maximum(tau2_new, 0.0))


def _em_map(data, params, posterior, resid_sum, random_intercept, class_specific_variance):
    """One EM update followed by the E-step at the new parameters."""
    params = m_step(data, params, posterior, resid_sum, random_intercept, class_specific_variance)
    loglik, posterior, _, resid_sum = e_step(data, params, random_intercept)
    return params, loglik, posterior, resid_sum


def _to_vector(params: Parameters) -> np.ndarray:
    """Unconstrained coordinates for extrapolation: coefficients, log proportions, log variances."""
    return np.concatenate([params.beta.reshape(params.beta.shape[0], -1), params.log_pi,
                           np.log(params.sigma2), np.log(np.maximum(params.tau2, 1e-12))[:, None]], axis=1)


def _from_vector(vector: np.ndarray, template: Parameters, random_intercept: bool) -> Parameters:
    s, k, p = template.beta.shape
    beta = vector[:, :k * p].reshape(s, k, p)
    log_pi = vector[:, k * p:k * p + k]
    top = log_pi.max(axis=1, keepdims=True)
    log_pi = log_pi - top - np.log(np.exp(log_pi - top).sum(axis=1, keepdims=True))
    sigma2 = np.maximum(np.exp(vector[:, k * p + k:k * p + 2 * k]), VARIANCE_FLOOR)
    tau2 = np.exp(vector[:, -1]) if random_intercept else np.zeros(s)
    return Parameters(beta, log_pi, sigma2, tau2)


def _pick(mask, first, second):
    """Per start, `first` where mask else `second` (any array with the start axis first)."""
    return np.where(mask.reshape((-1,) + (1,) * (first.ndim - 1)), first, second)


def _squarem_cycle(data, params, posterior, resid_sum, step_max, args):
    """One SQUAREM cycle (Varadhan & Roland 2008) on a batch; never returns a lower log-likelihood than 2 EM updates."""
    p1, _, post1, rs1 = _em_map(data, params, posterior, resid_sum, *args)
    p2, ll2, post2, rs2 = _em_map(data, p1, post1, rs1, *args)
    v0, v1, v2 = _to_vector(params), _to_vector(p1), _to_vector(p2)
    r, v = v1 - v0, v2 - 2.0 * v1 + v0
    r_norm, v_norm = np.linalg.norm(r, axis=1), np.linalg.norm(v, axis=1)
    alpha = np.where(v_norm > 0, -r_norm / np.where(v_norm > 0, v_norm, 1.0), -1.0)
    alpha = np.clip(alpha, -step_max, -1.0)
    step_max = np.where(alpha <= -step_max, 4.0 * step_max, step_max)
    extrapolated = _from_vector(v0 - 2.0 * alpha[:, None] * r + (alpha ** 2)[:, None] * v, params, args[0])
    with np.errstate(all="ignore"):
        _, post_x, _, rs_x = e_step(data, extrapolated, args[0])
        p3, ll3, post3, rs3 = _em_map(data, extrapolated, post_x, rs_x, *args)
    accept = np.isfinite(ll3) & (ll3 >= ll2)
    params = Parameters(*(_pick(accept, a, b) for a, b in zip(
        (p3.beta, p3.log_pi, p3.sigma2, p3.tau2), (p2.beta, p2.log_pi, p2.sigma2, p2.tau2))))
    return params, _pick(accept, ll3, ll2), _pick(accept, post3, post2), _pick(accept, rs3, rs2), step_max


def run_em(data: TrajectoryData, params: Parameters, random_intercept: bool, class_specific_variance: bool,
           max_iterations: int, tolerance: float = 1e-7, keep_history: bool = False, accelerate: bool = True):
    """Iterate EM on a batch of starts until each start's log-likelihood gain is below `tolerance` (absolute).

    With `accelerate`, each cycle is a SQUAREM step: two EM updates, an extrapolation along their direction, one
    EM update from there, kept only if it beats the plain double update; so the log-likelihood still never
    decreases, and the thousand-iteration crawl on flat mixture likelihoods shrinks. A start that has converged
    stops iterating. `max_iterations` counts EM updates per start. Returns (params, loglik (S,), posterior (S, K, N),
    EM updates used (S,), converged (S,), history (cycles+1, S) or None; a stopped start repeats its last value).
    """
    args = (random_intercept, class_specific_variance)
    loglik, posterior, _, resid_sum = e_step(data, params, random_intercept)
    params = params.copy()
    history = [loglik.copy()] if keep_history else None
    converged = np.zeros(loglik.shape, bool)
    step_max = np.ones(loglik.shape)
    updates = np.zeros(loglik.shape, int)
    while updates.max() < max_iterations and not converged.all():
        active = np.flatnonzero(~converged)
        state = (params.take(active), posterior[active], resid_sum[active])
        if accelerate:
            new_params, new_loglik, new_post, new_rs, step_max[active] = _squarem_cycle(
                data, *state, step_max[active], args)
            updates[active] += 3
        else:
            new_params, new_loglik, new_post, new_rs = _em_map(data, *state, *args)
            updates[active] += 1
        for name in ("beta", "log_pi", "sigma2", "tau2"):
            getattr(params, name)[active] = getattr(new_params, name)
        posterior[active], resid_sum[active] = new_post, new_rs
        converged[active] = np.abs(new_loglik - loglik[active]) < tolerance
        loglik[active] = new_loglik
        if keep_history:
            history.append(loglik.copy())
    return params, loglik, posterior, updates, converged, (np.array(history) if keep_history else None)


def log_likelihood_at(data: TrajectoryData, coefficients, class_probabilities, residual_variance,
                      random_intercept_variance: float = 0.0):
    """Log-likelihood and posterior (N, K) at given parameters: the yardstick to evaluate another program's fit."""
    beta = np.asarray(coefficients, float)[None]
    k = beta.shape[1]
    sigma2 = np.broadcast_to(np.asarray(residual_variance, float), (k,))[None].copy()
    params = Parameters(beta, np.log(np.asarray(class_probabilities, float))[None], sigma2,
                        np.array([float(random_intercept_variance)]))
    loglik, posterior, _, _ = e_step(data, params, random_intercept_variance > 0)
    return float(loglik[0]), posterior[0].T
