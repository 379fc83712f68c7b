"""Mediation for continuous exposure x, mediator m and outcome y (one value per patient), linear models.

Paths: a from m ~ x; b and c' (direct) from y ~ m + x; c (total) from y ~ x; indirect = a * b; proportion
mediated = indirect / c. With the same covariates in every model, OLS gives c = c' + a * b exactly. The
proportion is unstable when c is near 0 (the published dose -> pain total effect is r = 0.01): report it with its
interval, never alone.

Which variable may play the mediator is a design question, not a computation: a baseline score measured before
the exposure accrues cannot be changed by it. The functions take x, m, y as given; the chapters say what each
reading means.

Routes: (1) product of coefficients with a vectorised nonparametric bootstrap over patients (percentile and
bias-corrected intervals), checked against R boot in tests/test_double_programming_mediation.py; (2) statsmodels'
simulation-based `Mediation` (Imai et al.), whose intervals came out about 1.5 times wider than R mediation's;
(3) the Imai-Keele-Yamamoto sensitivity of the indirect effect to a mediator-outcome error correlation rho.
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from okapi.plan import (CI_LEVEL, MEDIATION_BOOTSTRAP, MEDIATION_BOOTSTRAP_SEED, MEDIATION_SIMULATION_SEED,
                        MEDIATION_SIMULATIONS)

PATHS = ("a", "b", "c_prime", "c", "indirect", "proportion_mediated")


@dataclass(frozen=True)
class MediationBootstrap:
    """estimates: one row per path (PATHS) with estimate, boot_se, perc_low/high, bc_low/high.
    ols: classical (normal-theory) inference for a, b, c_prime, c: estimate, se, t, p, ci_low, ci_high."""

    estimates: pd.DataFrame
    ols: pd.DataFrame
    n: int
    n_boot: int
    seed: int
    level: float
    replicates: np.ndarray = field(repr=False)  # n_boot x len(PATHS)


@dataclass(frozen=True)
class SensitivityCurve:
    """Indirect effect as a function of rho = corr(mediator error, outcome error); zero at rho = rho_at_zero."""

    rho: np.ndarray
    indirect: np.ndarray
    rho_at_zero: float
    a: float
    sigma_total: float  # residual SD of y ~ x (+ covariates)
    sigma_mediator: float  # residual SD of m ~ x (+ covariates)

    def at(self, rho: float) -> float:
        return indirect_effect_at_rho(self.a, self.sigma_total, self.sigma_mediator, self.rho_at_zero, rho)


def _columns(x, m, y, covariates) -> np.ndarray:
    """[1, covariates..., x, m, y] as a float matrix; x, m, y are the last three columns."""
    x, m, y = (np.asarray(v, dtype=float).ravel() for v in (x, m, y))
    if not (x.size == m.size == y.size):
        raise ValueError("x, m and y must have one value per patient")
    cov = np.empty((x.size, 0)) if covariates is None else np.asarray(covariates, dtype=float).reshape(x.size, -1)
    data = np.column_stack([np.ones(x.size), cov, x, m, y])
    if not np.isfinite(data).all():
        raise ValueError("missing or non-finite values: drop incomplete patients first (complete-case analysis)")
    return data


def _paths_from_crossproducts(cross: np.ndarray, n_cov: int) -> np.ndarray:
    """a, b, c', c, a*b, proportion from (..., q, q) cross-product matrices of standardised [1, cov, x, m, y]."""
    ix = 1 + n_cov
    im, iy = ix + 1, ix + 2
    mediator_design = list(range(ix + 1))  # 1, cov, x
    outcome_design = list(range(im + 1))  # 1, cov, x, m

    def regress(design, target):
        lhs = cross[..., design, :][..., :, design]
        rhs = cross[..., design, target][..., None]
        return np.linalg.solve(lhs, rhs)[..., 0]

    a = regress(mediator_design, im)[..., ix]
    outcome = regress(outcome_design, iy)
    c_prime, b = outcome[..., ix], outcome[..., im]
    c = regress(mediator_design, iy)[..., ix]
    indirect = a * b
    with np.errstate(divide="ignore", invalid="ignore"):
        proportion = indirect / c
    return np.stack([a, b, c_prime, c, indirect, proportion], axis=-1)


def _standardise(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Centring and scaling keeps the normal equations well conditioned when x is a dose in mg (thousands).
    scale = np.ones(data.shape[1])
    z = data.copy()
    z[:, 1:] -= data[:, 1:].mean(axis=0)
    scale[1:] = z[:, 1:].std(axis=0)
    if np.any(scale == 0):
        raise ValueError("a variable is constant")
    return z / scale, scale


def _unscale(paths: np.ndarray, scale: np.ndarray) -> np.ndarray:
    sx, sm, sy = scale[-3], scale[-2], scale[-1]
    out = paths.copy()
    out[..., 0] *= sm / sx  # a
    out[..., 1] *= sy / sm  # b
    out[..., 2] *= sy / sx  # c'
    out[..., 3] *= sy / sx  # c
    out[..., 4] *= sy / sx  # a*b; the proportion is unit-free
    return out


def bootstrap_indices(n: int, n_boot: int, seed: int) -> np.ndarray:
    """Resampled patient indices (n_boot x n), the same ones `bootstrap_mediation` uses for this seed."""
    return np.random.default_rng(seed).integers(0, n, size=(n_boot, n))


def mediation_paths(x, m, y, covariates=None, indices: np.ndarray | None = None) -> np.ndarray:
    """Path estimates (columns in PATHS order) on the full data, or one row per resample when indices is given."""
    data = _columns(x, m, y, covariates)
    z, scale = _standardise(data)
    outer = (z[:, :, None] * z[:, None, :]).reshape(z.shape[0], -1)
    q = z.shape[1]
    if indices is None:
        weights = np.ones((1, z.shape[0]))
    else:
        n_boot, n = indices.shape
        flat = (indices + n * np.arange(n_boot)[:, None]).ravel()
        weights = np.bincount(flat, minlength=n_boot * n).reshape(n_boot, n).astype(float)
    cross = (weights @ outer).reshape(-1, q, q)
    paths = _unscale(_paths_from_crossproducts(cross, q - 4), scale)
    return paths[0] if indices is None else paths


def _ols_table(data: np.ndarray, level: float) -> pd.DataFrame:
    n_cov = data.shape[1] - 4
    ix, im, iy = 1 + n_cov, 2 + n_cov, 3 + n_cov
    rows = {}
    for name, design, target, coef in (
        ("a", list(range(ix + 1)), im, ix),
        ("b", list(range(im + 1)), iy, im),
        ("c_prime", list(range(im + 1)), iy, ix),
        ("c", list(range(ix + 1)), iy, ix),
    ):
        X, target_values = data[:, design], data[:, target]
        beta, *_ = np.linalg.lstsq(X, target_values, rcond=None)
        resid = target_values - X @ beta
        df = X.shape[0] - X.shape[1]
        cov = resid @ resid / df * np.linalg.inv(X.T @ X)
        se = np.sqrt(cov[coef, coef])
        t = beta[coef] / se
        half = stats.t.ppf(0.5 + level / 2, df) * se
        rows[name] = {
            "estimate": beta[coef],
            "se": se,
            "t": t,
            "p": 2 * stats.t.sf(abs(t), df),
            "ci_low": beta[coef] - half,
            "ci_high": beta[coef] + half,
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def bootstrap_mediation(
    x, m, y, covariates=None, n_boot: int = MEDIATION_BOOTSTRAP, seed: int = MEDIATION_BOOTSTRAP_SEED,
    level: float = CI_LEVEL
) -> MediationBootstrap:
    """Product-of-coefficients mediation with a nonparametric bootstrap over patients.

    Percentile interval: quantiles of the bootstrap distribution. Bias-corrected (BC, no acceleration): quantiles
    at Phi(2 z0 +/- z), z0 = Phi^-1(share of resamples below the estimate).
    """
    data = _columns(x, m, y, covariates)
    point = mediation_paths(x, m, y, covariates)
    replicates = mediation_paths(x, m, y, covariates, indices=bootstrap_indices(data.shape[0], n_boot, seed))
    alpha = 1 - level
    rows = {}
    for j, name in enumerate(PATHS):
        boot = replicates[:, j][np.isfinite(replicates[:, j])]
        share_below = (np.sum(boot < point[j]) + 0.5 * np.sum(boot == point[j])) / boot.size
        z0 = stats.norm.ppf(share_below)
        bc_probs = stats.norm.cdf(2 * z0 + stats.norm.ppf([alpha / 2, 1 - alpha / 2]))
        perc = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
        bc = np.quantile(boot, bc_probs)
        rows[name] = {
            "estimate": point[j],
            "boot_se": boot.std(ddof=1),
            "perc_low": perc[0],
            "perc_high": perc[1],
            "bc_low": bc[0],
            "bc_high": bc[1],
        }
    return MediationBootstrap(
        estimates=pd.DataFrame.from_dict(rows, orient="index"),
        ols=_ols_table(data, level),
        n=data.shape[0],
        n_boot=n_boot,
        seed=seed,
        level=level,
        replicates=replicates,
    )


def statsmodels_mediation(
    x, m, y, covariates=None, exposure_unit: float = 1.0, n_rep: int = MEDIATION_SIMULATIONS,
    seed: int = MEDIATION_SIMULATION_SEED
) -> pd.DataFrame:
    """statsmodels `Mediation` (quasi-Bayesian simulation) on arrays; effects are per `exposure_unit` of x.

    Its exposure contrast is fixed at x = 0 -> 1, so x is divided by `exposure_unit` first (e.g. 1000 for a dose in
    mg gives effects per gram). Point estimates match a * b * exposure_unit; its intervals are wider than R
    mediation's because it draws the two potential mediators with independent noise.
    """
    import statsmodels.api as sm
    from statsmodels.stats.mediation import Mediation

    data = _columns(np.asarray(x, dtype=float) / exposure_unit, m, y, covariates)
    n_cov = data.shape[1] - 4
    ix, im, iy = 1 + n_cov, 2 + n_cov, 3 + n_cov
    outcome_model = sm.OLS(data[:, iy], data[:, : im + 1])
    mediator_model = sm.OLS(data[:, im], data[:, : ix + 1])
    fitted = Mediation(outcome_model, mediator_model, exposure=(ix, ix), mediator=im).fit(
        method="parametric", n_rep=n_rep, rng=np.random.default_rng(seed)
    )
    return fitted.summary()


def indirect_effect_at_rho(a: float, sigma_total: float, sigma_mediator: float, rho_tilde: float, rho):
    """IKY (2010) closed form for linear models: a * s1/s2 * (rho~ - rho * sqrt((1 - rho~^2) / (1 - rho^2)))."""
    rho = np.asarray(rho, dtype=float)
    return a * sigma_total / sigma_mediator * (rho_tilde - rho * np.sqrt((1 - rho_tilde**2) / (1 - rho**2)))


def indirect_effect_sensitivity(
    x, m, y, covariates=None, rho: np.ndarray | None = None
) -> SensitivityCurve:
    """Imai-Keele-Yamamoto sensitivity of the indirect effect to sequential ignorability, linear models.

    rho is the correlation between the errors of m ~ x and y ~ m + x (0 under sequential ignorability, where the
    curve equals a * b). rho~ = corr of the residuals of m ~ x and y ~ x is identified from the data, and the
    indirect effect is zero exactly at rho = rho~.
    """
    data = _columns(x, m, y, covariates)
    n_cov = data.shape[1] - 4
    ix, im, iy = 1 + n_cov, 2 + n_cov, 3 + n_cov
    design = data[:, : ix + 1]
    coef, *_ = np.linalg.lstsq(design, data[:, [im, iy]], rcond=None)
    resid = data[:, [im, iy]] - design @ coef
    sigma_mediator, sigma_total = resid.std(axis=0)  # same divisor for both: only their ratio matters
    rho_tilde = float(np.corrcoef(resid.T)[0, 1])
    grid = np.linspace(-0.9, 0.9, 181) if rho is None else np.asarray(rho, dtype=float)
    a = float(coef[ix, 0])
    return SensitivityCurve(
        rho=grid,
        indirect=indirect_effect_at_rho(a, sigma_total, sigma_mediator, rho_tilde, grid),
        rho_at_zero=rho_tilde,
        a=a,
        sigma_total=float(sigma_total),
        sigma_mediator=float(sigma_mediator),
    )
