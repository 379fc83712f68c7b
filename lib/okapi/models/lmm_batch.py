"""A fast REML fit of the pain model: random intercept + random slope on `years` per patient (unstructured 2x2
covariance), Gaussian residual; the model of okapi.models.mixed_models.fit_pain_mixed_model(long_df, fixed, "~years").

Why a second implementation: statsmodels spends about a second per fit in per-patient Python work, and multiple
imputation with a tipping-point grid needs thousands of fits. Here everything the likelihood needs is reduced once
to per-patient sufficient statistics (Z'Z, Z'X, Z'y with Z = [1, years]), so one evaluation is a few 2x2 solves per
patient, vectorised. beta and the residual variance are profiled out; the optimiser sees the three entries of the
lower Cholesky factor L of the relative covariance G / sigma^2 (lme4's parametrisation), with the analytic gradient
(Newton steps; see _newton).

Profiled REML deviance (-2 log-likelihood, the scale of lme4's logLik and statsmodels' llf), n rows, p fixed effects:
    d(L) = sum_i log|I + L'Z_i'Z_i L| + log|X'V^-1 X| + (n - p) (1 + log(2 pi r'V^-1 r / (n - p)))
with V = I + Z L L' Z' (relative), r = y - X beta_hat. Checked against statsmodels in
tests/test_double_programming_lmm_batch.py.
"""

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import patsy
from scipy import stats

from okapi.models.mixed_models import Z_975, MixedModelFit, booleans_as_int

RANDOM = "~years"
TIME = "years"
COMPONENT_NAMES = ("var(Intercept)", "var(years)", "cov(Intercept, years)", "var(Residual)")
# lme4's isSingular() rule: a diagonal entry of the relative Cholesky factor below 1e-4 is a boundary (singular) fit.
SINGULAR_TOLERANCE = 1e-4
BOUNDARY_MESSAGE = "boundary (singular) fit: a random-effect variance is estimated at or near zero"
# Largest |gradient| of the deviance accepted as converged, per patient: the deviance and its curvature in theta both
# grow with the number of patients, so a fixed tolerance per patient (about 1e-3 for the cohort's 329) leaves the
# estimates within ~1e-6 of the optimum at any size, where an absolute one flagged good fits of 5,000 patients.
GRADIENT_TOLERANCE_PER_PATIENT = 3e-6
START = np.array([1.0, 0.0, 1.0])
NEWTON_TOLERANCE = 1e-7  # the optimiser's own stopping rule (largest |gradient|), well inside the above
HESSIAN_STEP = 1e-6
DECREMENT_TOLERANCE = 1e-10  # expected decrease ending the search; the deviance's rounding if larger (big cohorts)
DEVIANCE_NOISE = 1e-10  # relative change of the deviance within its evaluation noise (~3e-12 at 30,000 patients)
MAX_ITERATIONS = 100


@dataclass(frozen=True)
class RandomSlopeDesign:
    """The fixed design and the per-patient statistics that do not depend on the outcome."""

    formula: str
    group: str
    X: np.ndarray  # (n, p)
    Z: np.ndarray  # (n, 2): 1, years
    codes: np.ndarray  # (n,) patient index into group_labels
    group_labels: np.ndarray
    term_names: tuple[str, ...]
    design_info: object  # patsy DesignInfo: codes new data as the fit did (predictions)
    rows: pd.Index  # the long_df index labels of the rows used
    zz: np.ndarray  # (g, 2, 2) Z_i'Z_i
    zx: np.ndarray  # (g, 2, p) Z_i'X_i
    n_rows: np.ndarray  # (g,) rows per patient


@dataclass(frozen=True)
class BatchEstimates:
    """m fits of one design, as arrays (row j = outcome column j)."""

    term_names: tuple[str, ...]
    beta: np.ndarray  # (m, p)
    cov: np.ndarray  # (m, p, p) GLS covariance at the REML estimates
    components: np.ndarray  # (m, 4) in the order of COMPONENT_NAMES
    loglik: np.ndarray  # (m,) REML log-likelihood
    converged: np.ndarray  # (m,) bool
    messages: tuple[tuple[str, ...], ...]  # per fit: why it is not trustworthy (empty when fine)


def random_slope_design(long_df: pd.DataFrame, fixed: str, group: str = "patient_id",
                        require_complete: bool = False) -> RandomSlopeDesign:
    """Design of `fixed` (patsy formula; its left side names the outcome column) on the rows of `long_df` whose
    outcome, covariates and group are all present. With require_complete (outcomes supplied separately, e.g.
    imputed), the outcome column is not used and a missing covariate, time or group is an error instead."""
    outcome, rhs = (part.strip() for part in fixed.split("~", 1))
    frame = booleans_as_int(long_df)
    needed = frame[group].notna() & frame[TIME].notna()
    if not require_complete:
        needed &= frame[outcome].notna()
    if require_complete and not needed.all():
        raise ValueError(f"{int((~needed).sum())} rows lack the outcome, {TIME} or {group}")
    frame = frame.loc[needed]
    X_frame = patsy.dmatrix(rhs, frame, NA_action="raise" if require_complete else "drop", return_type="dataframe")
    frame = frame.loc[X_frame.index]
    X = X_frame.to_numpy(dtype=float)
    if X.shape[0] == 0:
        raise ValueError(f"no usable rows for {fixed}")
    # Rank from the column-scaled cross-product (an SVD of X itself costs a third of a second with 26 columns).
    norms = np.sqrt(np.einsum("np,np->p", X, X))
    scaled = (X.T @ X) / np.outer(norms, norms)
    if norms.min() == 0 or np.linalg.eigvalsh(scaled)[0] < 1e-10:
        raise ValueError(f"the fixed-effects design of {fixed} is rank deficient")
    labels, codes = np.unique(frame[group].to_numpy(), return_inverse=True)
    Z = np.column_stack([np.ones(len(frame)), frame[TIME].to_numpy(dtype=float)])
    n_groups = len(labels)
    return RandomSlopeDesign(
        formula=fixed, group=group, X=X, Z=Z, codes=codes, group_labels=labels,
        term_names=tuple(X_frame.columns), design_info=X_frame.design_info, rows=X_frame.index,
        zz=_per_group(codes, Z[:, :, None] * Z[:, None, :], n_groups),
        zx=_per_group(codes, Z[:, :, None] * X[:, None, :], n_groups),
        n_rows=np.bincount(codes, minlength=n_groups).astype(float))


def _per_group(codes: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    # Rows sorted by patient, then summed per patient in one reduceat (np.add.at is an order of magnitude slower).
    order = np.argsort(codes, kind="stable")
    starts = np.searchsorted(codes[order], np.arange(n_groups))
    return np.add.reduceat(values[order], starts, axis=0)


@dataclass(frozen=True)
class _Statistics:
    """Outcome-dependent sums for one fit, with patient weights (1, or bootstrap counts) folded in."""

    w: np.ndarray  # (g,)
    zz: np.ndarray
    zx: np.ndarray
    zy: np.ndarray  # (g, 2)
    xtx: np.ndarray  # (p, p)
    xty: np.ndarray  # (p,)
    yty: float
    n: float
    p: int


def _statistics(design: RandomSlopeDesign, y: np.ndarray, weights: np.ndarray) -> _Statistics:
    n_groups = len(design.group_labels)
    zy = _per_group(design.codes, design.Z * y[:, None], n_groups)
    row_w = weights[design.codes]
    return _Statistics(
        w=weights, zz=design.zz, zx=design.zx, zy=zy,
        xtx=(design.X * row_w[:, None]).T @ design.X, xty=design.X.T @ (row_w * y),
        yty=float(row_w @ (y * y)), n=float(weights @ design.n_rows), p=design.X.shape[1])


def _cholesky(theta: np.ndarray) -> np.ndarray:
    return np.array([[theta[0], 0.0], [theta[1], theta[2]]])


def _inverse_2x2(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    det = m[:, 0, 0] * m[:, 1, 1] - m[:, 0, 1] * m[:, 1, 0]
    inv = np.empty_like(m)
    inv[:, 0, 0], inv[:, 1, 1] = m[:, 1, 1] / det, m[:, 0, 0] / det
    inv[:, 0, 1], inv[:, 1, 0] = -m[:, 0, 1] / det, -m[:, 1, 0] / det
    return inv, det


def _profiled(theta: np.ndarray, s: _Statistics, gradient: bool = True):
    """Deviance, its gradient in theta, and (beta, sigma^2, (X'V^-1X)^-1 relative) at theta."""
    L = _cholesky(theta)
    m_inv, det_m = _inverse_2x2(np.eye(2) + L.T @ s.zz @ L)
    K = L @ m_inv @ L.T  # Z_i'V_i^-1 Z_i = Z_i'Z_i - Z_i'Z_i K_i Z_i'Z_i, and so on (Woodbury)
    wk = s.w[:, None, None] * K
    wkzx, wkzy = wk @ s.zx, (wk @ s.zy[:, :, None])[:, :, 0]
    # Sums over patients as tensordots over (patient, random effect): BLAS calls, not Python-level loops.
    xtvx = s.xtx - np.tensordot(s.zx, wkzx, axes=([0, 1], [0, 1]))
    xtvy = s.xty - np.tensordot(wkzx, s.zy, axes=([0, 1], [0, 1]))
    ytvy = s.yty - float(np.sum(s.zy * wkzy))
    chol = np.linalg.cholesky(xtvx)
    xtvx_inv = np.linalg.inv(xtvx)
    beta = xtvx_inv @ xtvy
    rss = ytvy - beta @ xtvy
    dof = s.n - s.p
    deviance = (s.w @ np.log(det_m) + 2 * np.log(np.diag(chol)).sum()
                + dof * (1.0 + np.log(2 * np.pi * rss / dof)))
    extras = (beta, rss / dof, xtvx_inv)
    if not gradient:
        return deviance, None, extras
    # d deviance / d theta_k = tr(Q dD/dtheta_k) with D = L L' and
    # Q = sum_i [Z'PZ]_ii - (n - p)/r'Pr sum_i u_i u_i',  u_i = Z_i'V_i^-1 r_i, P the REML projection
    W = np.eye(2) - s.zz @ K
    A = W @ s.zx  # Z_i'V_i^-1 X_i
    wA = s.w[:, None, None] * A
    u = (W @ s.zy[:, :, None])[:, :, 0] - A @ beta
    Q = (np.tensordot(s.w, W @ s.zz, axes=1) - np.tensordot(wA @ xtvx_inv, A, axes=([0, 2], [0, 2]))
         - dof / rss * ((s.w[:, None] * u).T @ u))
    QL = Q @ L
    return deviance, 2 * np.array([QL[0, 0], QL[1, 0], QL[1, 1]]), extras


def _fit_statistics(s: _Statistics, start: np.ndarray = START):
    """Minimise the profiled deviance; returns theta, deviance, extras, converged, messages."""
    theta, deviance, grad, note = _newton(s, start)
    # The deviance is even in each diagonal entry of L (D depends on its square), so an entry at zero is always
    # stationary in its own direction: a fit ending there is re-run from away from zero, so that a saddle is not
    # reported as a boundary fit. A genuine boundary optimum comes back to zero.
    for entry in (0, 2):
        if abs(theta[entry]) < SINGULAR_TOLERANCE:
            restart = theta.copy()
            restart[entry] = START[entry]
            retry = _newton(s, restart)
            if retry[1] < deviance:
                theta, deviance, grad, note = retry
    # D = L L' does not change when a column of L changes sign: report the factor with a non-negative diagonal.
    if theta[0] < 0:
        theta[:2] = -theta[:2]
    theta[2] = abs(theta[2])
    deviance, grad, extras = _profiled(theta, s)
    messages = []
    tolerance = GRADIENT_TOLERANCE_PER_PATIENT * float(np.sum(s.w))
    converged = bool(np.all(np.isfinite(grad)) and np.max(np.abs(grad)) < tolerance)
    if not converged:
        messages.append(f"REML optimiser did not converge (largest gradient {np.max(np.abs(grad)):.2g}{note})")
    if min(theta[0], theta[2]) < SINGULAR_TOLERANCE:
        messages.append(BOUNDARY_MESSAGE)
    return theta, deviance, extras, converged, tuple(messages)


def _newton(s: _Statistics, start: np.ndarray, max_iterations: int = MAX_ITERATIONS):
    """Newton's method on the unconstrained Cholesky entries (their signs do not matter), with the analytic gradient,
    a Hessian from forward differences of it, curvatures made positive so that every step goes downhill, and
    step halving (a step is judged on the deviance, or within its noise on the gradient). scipy's L-BFGS-B needed
    as many evaluations and ran 2-14x slower in wall time here (its compiled core's BLAS calls wake OpenBLAS threads
    that compete with numpy's on a 2-core machine)."""
    theta = np.asarray(start, dtype=float).copy()
    value, grad, _ = _profiled(theta, s)
    for _ in range(max_iterations):
        if np.max(np.abs(grad)) < NEWTON_TOLERANCE:
            return theta, value, grad, ""
        hessian = np.empty((3, 3))
        for k in range(3):
            shifted = theta.copy()
            shifted[k] += HESSIAN_STEP
            hessian[:, k] = (_profiled(shifted, s)[1] - grad) / HESSIAN_STEP
        curvature, vectors = np.linalg.eigh((hessian + hessian.T) / 2)
        floor = 1e-8 * max(1.0, np.abs(curvature).max())
        step = -vectors @ ((vectors.T @ grad) / np.maximum(np.abs(curvature), floor))
        expected = grad @ step  # < 0
        # The rounding grows with the deviance, i.e. with the number of patients: against 1e-10 alone the search
        # crept by rounding-sized steps to the iteration limit from 3,000 patients on (3,106 evaluations at 10,000).
        rounding = 64 * np.finfo(float).eps * abs(value)
        if -expected < max(DECREMENT_TOLERANCE, rounding):
            # Inside the quadratic region the remaining decrease is below the rounding of the deviance, where a
            # line search cannot tell better from worse: take the Newton step and stop.
            theta = theta + step
            value, grad, _ = _profiled(theta, s)
            return theta, value, grad, ""
        length = 1.0
        while True:
            trial = theta + length * step
            trial_value, trial_grad, _ = _profiled(trial, s)
            if np.isfinite(trial_value) and trial_value <= value + 1e-4 * length * expected + rounding:
                break
            if (np.isfinite(trial_value) and trial_value <= value + DEVIANCE_NOISE * abs(value)
                    and 0.9 * expected <= trial_grad @ step <= -0.8 * expected):
                # Hager and Zhang's approximate Wolfe condition: within the deviance's evaluation noise (~1e-6 at
                # 30,000 patients, above `rounding`) the accurate analytic gradient decides, else a step to the optimum
                # is refused for noise and the search creeps as above.
                break
            length /= 2
            if length < 1e-10:
                return theta, value, grad, ", step halving exhausted"
        theta, value, grad = trial, trial_value, trial_grad
    return theta, value, grad, f", {max_iterations} Newton steps"


def theta_of(components: np.ndarray) -> np.ndarray:
    """(l11, l21, l22) of the relative covariance from variance components in COMPONENT_NAMES order."""
    v_int, v_slope, cov, sigma2 = components
    factor = np.linalg.cholesky(np.array([[v_int, cov], [cov, v_slope]]) / sigma2 + 1e-12 * np.eye(2))
    return np.array([factor[0, 0], factor[1, 0], factor[1, 1]])


def _components(theta: np.ndarray, sigma2: float) -> np.ndarray:
    L = _cholesky(theta)
    G = sigma2 * (L @ L.T)
    return np.array([G[0, 0], G[1, 1], G[0, 1], sigma2])


def fit_outcome_arrays(design: RandomSlopeDesign, outcomes: np.ndarray, weights: np.ndarray | None = None,
                       warn: bool = True, start: np.ndarray | None = None) -> BatchEstimates:
    """REML fits of every column of `outcomes` (n rows of the design x m) on the same design; `weights` are
    per-patient frequency weights (bootstrap counts), in the order of design.group_labels. With warn=False the
    caller takes over: a failed or boundary fit is then only in `converged` and `messages` (e.g. bootstrap
    replicates, where a boundary estimate is a legitimate draw but a failed fit must still be refused). `start`:
    relative Cholesky entries (l11, l21, l22) to start from, e.g. theta_of(estimates.components[0]) of a fit to
    similar data."""
    outcomes = np.asarray(outcomes, dtype=float)
    outcomes = outcomes[:, None] if outcomes.ndim == 1 else outcomes
    if outcomes.shape[0] != design.X.shape[0]:
        raise ValueError(f"outcomes have {outcomes.shape[0]} rows, the design {design.X.shape[0]}")
    if not np.all(np.isfinite(outcomes)):
        raise ValueError("outcomes must be complete (impute, or build the design from the observed rows)")
    w = np.ones(len(design.group_labels)) if weights is None else np.asarray(weights, dtype=float)
    m, p = outcomes.shape[1], design.X.shape[1]
    beta, cov = np.empty((m, p)), np.empty((m, p, p))
    components, loglik, converged, messages = np.empty((m, 4)), np.empty(m), np.empty(m, dtype=bool), []
    for j in range(m):
        theta, deviance, (b, sigma2, xtvx_inv), ok, why = _fit_statistics(
            _statistics(design, outcomes[:, j], w), START if start is None else np.asarray(start, dtype=float))
        beta[j], cov[j] = b, sigma2 * xtvx_inv
        components[j], loglik[j], converged[j] = _components(theta, sigma2), -0.5 * deviance, ok
        messages.append(why)
        if why and warn:
            warnings.warn(f"mixed model {design.formula} (random {RANDOM}, fast REML): " + "; ".join(why),
                          RuntimeWarning, stacklevel=3)
    return BatchEstimates(design.term_names, beta, cov, components, loglik, converged, tuple(messages))


def _as_fit(design: RandomSlopeDesign, estimates: BatchEstimates, j: int, n_patients: int) -> MixedModelFit:
    names = list(design.term_names)
    estimate, cov = estimates.beta[j], estimates.cov[j]
    se = np.sqrt(np.diag(cov))
    z = estimate / se
    table = pd.DataFrame({"estimate": estimate, "se": se, "z": z, "p": 2 * stats.norm.sf(np.abs(z)),
                          "ci_low": estimate - Z_975 * se, "ci_high": estimate + Z_975 * se},
                         index=pd.Index(names, name="term"))
    return MixedModelFit(
        formula=design.formula, random=RANDOM, reml=True, fixed=table,
        fixed_cov=pd.DataFrame(cov, index=names, columns=names),
        variance_components=pd.Series(dict(zip(COMPONENT_NAMES, estimates.components[j])), name="variance"),
        loglik=float(estimates.loglik[j]), n_patients=n_patients, n_observations=int(design.X.shape[0]),
        converged=bool(estimates.converged[j]), warnings=estimates.messages[j], statsmodels_result=None,
        design_info=design.design_info)


def fit_random_slope_model(long_df: pd.DataFrame, fixed: str, group: str = "patient_id",
                           warn: bool = True) -> MixedModelFit:
    """REML fit of `fixed` + (1 + years | group); rows with a missing outcome or covariate are dropped (the
    direct-likelihood analysis under MAR). A non-converged or boundary fit is reported with a RuntimeWarning (with
    warn=False only in the fit's `converged` and `warnings`, for the caller to judge)."""
    design = random_slope_design(long_df, fixed, group)
    outcome = fixed.split("~", 1)[0].strip()
    y = long_df.loc[design.rows, outcome].to_numpy(dtype=float)
    return _as_fit(design, fit_outcome_arrays(design, y, warn=warn), 0, len(design.group_labels))


def fit_random_slope_models(long_df: pd.DataFrame, fixed: str, outcomes: np.ndarray,
                            group: str = "patient_id") -> list[MixedModelFit]:
    """One fit per column of `outcomes` (shape (len(long_df), m), row-aligned with long_df), e.g. m imputed data
    sets on one complete grid of patient-months. Every row is used: a missing covariate or outcome is an error."""
    design = random_slope_design(long_df, fixed, group, require_complete=True)
    estimates = fit_outcome_arrays(design, outcomes)
    return [_as_fit(design, estimates, j, len(design.group_labels)) for j in range(estimates.beta.shape[0])]


# --- complete balanced grids: the REML fit in closed form ---------------------------------------------------------
@dataclass(frozen=True)
class CompleteGridEstimates:
    """REML fits of `y ~ years * (patient covariates)` + (1 + years | patient) on complete grids (every patient
    observed at the same times), batched over the leading axes of the outcomes.

    coefficients[..., c, 0] is covariate c's term in the intercept, [..., c, 1] its term in the slope per year: with
    covariates [1, depressed] these are Intercept, depressed (column 0) and years, years:depressed (column 1).
    """

    coefficients: np.ndarray  # (..., k, 2)
    omega: np.ndarray  # (..., 2, 2): covariance of one patient's own least-squares intercept and slope
    covariate_inverse: np.ndarray  # (k, k): (A'A)^-1 of the patient-level covariates
    components: np.ndarray  # (..., 4) in the order of COMPONENT_NAMES
    interior: np.ndarray  # (...,) bool: the REML optimum is inside the parameter space (else not the REML fit)

    def variance(self, covariate: int, effect: int) -> np.ndarray:
        return self.covariate_inverse[covariate, covariate] * self.omega[..., effect, effect]


def fit_complete_grid(outcomes: np.ndarray, years: np.ndarray, covariates: np.ndarray) -> CompleteGridEstimates:
    """Closed-form REML for a complete balanced grid; outcomes (..., g patients, T times), covariates (g, k).

    Why it is exact: when every patient has the same times and the fixed effects are patient covariates x (1, years),
    each patient's own least-squares line c_i = (Z'Z)^-1 Z'y_i is sufficient, c_i ~ N(A_i beta, Omega) with
    Omega = G + sigma^2 (Z'Z)^-1, independent of the within-patient residuals (sigma^2 chi^2, g(T - 2) df). GLS then
    equals OLS of c_i on the covariates, the REML Omega is the residual cross-product over (g - k), and G follows,
    unless it comes out singular or indefinite (`interior` False: use the iterative fit for those).
    """
    y = np.asarray(outcomes, dtype=float)
    A = np.asarray(covariates, dtype=float)
    g, k = A.shape
    if y.shape[-2:] != (g, len(years)) or not np.all(np.isfinite(y)):
        raise ValueError("outcomes must be complete, shaped (..., patients, times) to match covariates and years")
    Z = np.column_stack([np.ones(len(years)), np.asarray(years, dtype=float)])
    ztz_inv = np.linalg.inv(Z.T @ Z)
    own = y @ (ztz_inv @ Z.T).T  # (..., g, 2)
    within = y - own @ Z.T
    sigma2 = np.einsum("...gt,...gt->...", within, within) / (g * (len(years) - 2))
    covariate_inverse = np.linalg.inv(A.T @ A)
    coefficients = np.einsum("kh,hg,...gr->...kr", covariate_inverse, A.T, own)
    residual = own - np.einsum("gk,...kr->...gr", A, coefficients)
    omega = np.einsum("...ga,...gb->...ab", residual, residual) / (g - k)
    G = omega - sigma2[..., None, None] * ztz_inv
    # Interior in lme4's sense: both diagonal entries of the relative Cholesky factor above SINGULAR_TOLERANCE.
    det = G[..., 0, 0] * G[..., 1, 1] - G[..., 0, 1] ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        interior = ((G[..., 0, 0] > 0) & (det > 0)
                    & (np.sqrt(G[..., 0, 0] / sigma2) > SINGULAR_TOLERANCE)
                    & (np.sqrt(det / G[..., 0, 0] / sigma2) > SINGULAR_TOLERANCE))
    components = np.stack([G[..., 0, 0], G[..., 1, 1], G[..., 0, 1], sigma2], axis=-1)
    return CompleteGridEstimates(coefficients, omega, covariate_inverse, components, interior)
