"""Multiple imputation of the monthly pain scores, delta adjustment after dropout, and Rubin's rules.

The grid: every patient of the analysis set x months 0..12. Imputation model: the depression chapter's analysis
model itself, nprs ~ years * depressed + (1 + years | patient) (congenial with both analysis models: it contains the
time x depression interaction, and the one-year decline model is nested in it). Proper imputation: for each data
set the model is refitted by REML on a bootstrap resample of patients (parameter uncertainty), then each patient's
random effects are drawn from their conditional distribution given the patient's own observed scores, and every
missing score from the model given those effects. Imputed scores stay continuous (not rounded or clipped to 0-10):
the analysis model is linear and Gaussian, rounding biases it, and clipping would cap the delta shifts at 10.

Delta adjustment (a pattern-mixture model): a missed month after a patient's last observed month (monotone dropout)
gets its MAR draw + delta; a missed month before it (an intermittent gap) keeps its MAR draw. The same draws serve
every delta, so the tipping curves are smooth in delta.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from scipy.optimize import brentq

from okapi.models import lmm_batch
from okapi.plan import IMPUTATION_MODEL, PER_MONTH

MONTHS = np.arange(13)
YEARS = MONTHS / 12
# Entropy added to the settings' seed so this section's draws differ from other sections using the same seed.
SECTION_KEY = 20240305


@dataclass(frozen=True)
class PainGrid:
    """The analysis set on the complete grid of patient-months (patients sorted by id)."""

    patient_ids: np.ndarray  # (g,)
    depressed: np.ndarray  # (g,) 0/1
    nprs: np.ndarray  # (g, 13) float, NaN where missed

    @property
    def observed(self) -> np.ndarray:
        return ~np.isnan(self.nprs)

    @property
    def last_observed(self) -> np.ndarray:
        return np.where(self.observed, MONTHS, -1).max(axis=1)

    @property
    def after_dropout(self) -> np.ndarray:
        """Missed months after the patient's last observed month: where delta applies."""
        return MONTHS[None, :] > self.last_observed[:, None]

    @property
    def intermittent(self) -> np.ndarray:
        return ~self.observed & ~self.after_dropout

    def long(self, months: str = "observed") -> pd.DataFrame:
        """Long rows, patient then month: the observed scores, or every cell of the grid (months="all")."""
        keep = self.observed if months == "observed" else np.ones_like(self.observed)
        rows, cols = np.nonzero(keep)
        return pd.DataFrame({"patient_id": self.patient_ids[rows], "month": MONTHS[cols], "years": YEARS[cols],
                             "depressed": self.depressed[rows], "nprs": self.nprs[rows, cols]})


def pain_grid(long_df: pd.DataFrame) -> PainGrid:
    """From long data (patient_id, month, nprs, depressed; one row per observed score, depressed known)."""
    observed = long_df.loc[long_df["nprs"].notna()]
    ids, codes = np.unique(observed["patient_id"].to_numpy(), return_inverse=True)
    nprs = np.full((len(ids), MONTHS.size), np.nan)
    nprs[codes, observed["month"].to_numpy(dtype=int)] = observed["nprs"].to_numpy(dtype=float)
    depressed = np.zeros(len(ids), dtype=int)
    depressed[codes] = observed["depressed"].astype(int).to_numpy()
    return PainGrid(ids, depressed, nprs)


def imputation_rngs(seed: int, n_imputations: int) -> list[np.random.Generator]:
    return [np.random.default_rng(s) for s in np.random.SeedSequence([seed, SECTION_KEY]).spawn(n_imputations)]


@dataclass(frozen=True)
class Imputations:
    completed: np.ndarray  # (m, g, 13) under MAR; observed scores as they are
    n_boundary_fits: int  # bootstrap refits of the imputation model with a random-effect variance at zero


def draw_imputations(grid: PainGrid, n_imputations: int, seed: int) -> Imputations:
    """m completed data sets under MAR, each from the imputation model refitted on a bootstrap resample."""
    observed_long = grid.long("observed")
    design = lmm_batch.random_slope_design(observed_long, IMPUTATION_MODEL)
    full = lmm_batch.random_slope_design(grid.long("all"), IMPUTATION_MODEL, require_complete=True)
    g = len(grid.patient_ids)
    if not np.array_equal(design.group_labels, grid.patient_ids):
        raise ValueError("every patient of the grid needs at least one observed score")
    x_full = full.X.reshape(g, MONTHS.size, -1)
    z_full = np.stack([np.ones(MONTHS.size), YEARS], axis=1)
    y = observed_long["nprs"].to_numpy(dtype=float)
    zy = lmm_batch._per_group(design.codes, design.Z * y[:, None], g)
    completed = np.repeat(grid.nprs[None], n_imputations, axis=0)
    # The replicates start from the fit to the data themselves: the same optimum is found in a third of the steps.
    start = lmm_batch.theta_of(lmm_batch.fit_outcome_arrays(design, y).components[0])
    n_boundary = 0
    for j, rng in enumerate(imputation_rngs(seed, n_imputations)):
        counts = rng.multinomial(g, np.full(g, 1.0 / g))  # bootstrap of patients: parameter uncertainty
        # A replicate whose REML optimum has a variance at zero is a legitimate parameter draw (the slope variance
        # is weakly identified); it is counted and reported. A fit that did not converge is refused.
        fit = lmm_batch.fit_outcome_arrays(design, y, counts, warn=False, start=start)
        if not fit.converged[0]:
            raise RuntimeError(f"imputation model, bootstrap replicate {j + 1}: " + "; ".join(fit.messages[0]))
        n_boundary += bool(fit.messages[0])
        beta, (v_int, v_slope, cov, sigma2) = fit.beta[0], fit.components[0]
        G = np.array([[v_int, cov], [cov, v_slope]])
        # b_i | y_i ~ N(S_i Z_i'(y_i - X_i beta) / sigma2, S_i),  S_i = (I + G Z_i'Z_i / sigma2)^-1 G
        posterior = np.linalg.solve(np.eye(2) + G @ design.zz / sigma2, np.broadcast_to(G, (g, 2, 2)))
        posterior = (posterior + posterior.transpose(0, 2, 1)) / 2
        mean = np.einsum("gab,gb->ga", posterior, zy - design.zx @ beta) / sigma2
        effects = mean + _draw_2x2(posterior, rng.standard_normal((g, 2)))
        draw = x_full @ beta + effects @ z_full.T + rng.normal(0.0, np.sqrt(sigma2), (g, MONTHS.size))
        completed[j] = np.where(grid.observed, grid.nprs, draw)
    return Imputations(completed, n_boundary)


def _draw_2x2(covariance: np.ndarray, normal: np.ndarray) -> np.ndarray:
    """L @ normal per patient, L the lower Cholesky factor of a 2x2 covariance (a singular one allowed)."""
    l11 = np.sqrt(np.maximum(covariance[:, 0, 0], 0.0))
    l21 = np.divide(covariance[:, 1, 0], l11, out=np.zeros_like(l11), where=l11 > 0)
    l22 = np.sqrt(np.maximum(covariance[:, 1, 1] - l21**2, 0.0))
    return np.column_stack([l11 * normal[:, 0], l21 * normal[:, 0] + l22 * normal[:, 1]])


def shifted(completed: np.ndarray, grid: PainGrid, delta_not_depressed: float, delta_depressed: float) -> np.ndarray:
    """The completed data with delta added to every month after dropout (per depression group)."""
    shift = np.where(grid.depressed == 1, delta_depressed, delta_not_depressed)[:, None] * grid.after_dropout
    return completed + shift


# --- complete-data analyses and Rubin's rules ------------------------------------------------------------------
@dataclass(frozen=True)
class Pooled:
    """Rubin's rules for one scalar (arrays broadcast over any leading axes)."""

    estimate: np.ndarray
    within: np.ndarray  # U-bar
    between: np.ndarray  # B
    total: np.ndarray  # T = U-bar + (1 + 1/m) B
    df: np.ndarray  # Barnard-Rubin
    ci_low: np.ndarray
    ci_high: np.ndarray
    p: np.ndarray
    m: int

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(self.total)

    @property
    def missing_information(self) -> np.ndarray:
        """lambda = (1 + 1/m) B / T: the share of the variance due to the missing data."""
        return (1 + 1 / self.m) * self.between / self.total


def pool(estimates: np.ndarray, variances: np.ndarray, complete_df: float) -> Pooled:
    """Rubin's rules over the last axis (the m imputations), with the Barnard-Rubin (1999) small-sample degrees of
    freedom; `complete_df` is the complete-data df (here patients minus patient-level covariates)."""
    estimates, variances = np.asarray(estimates, dtype=float), np.asarray(variances, dtype=float)
    m = estimates.shape[-1]
    if m < 2:
        raise ValueError("Rubin's rules need at least 2 imputations")
    q, u, b = estimates.mean(axis=-1), variances.mean(axis=-1), estimates.var(axis=-1, ddof=1)
    total = u + (1 + 1 / m) * b
    lam = (1 + 1 / m) * b / total
    with np.errstate(divide="ignore"):
        df_old = np.where(lam > 0, (m - 1) / lam**2, np.inf)
    df_observed = (complete_df + 1) / (complete_df + 3) * complete_df * (1 - lam)
    df = 1 / (1 / df_old + 1 / df_observed)
    half = stats.t.ppf(0.975, df) * np.sqrt(total)
    p = 2 * stats.t.sf(np.abs(q) / np.sqrt(total), df)
    return Pooled(q, u, b, total, df, q - half, q + half, p, m)


@dataclass(frozen=True)
class CompletedAnalyses:
    """Per completed data set: the one-year decline (nprs ~ years) and the time x depression interaction per month
    (nprs ~ years * depressed), each with its model-based variance; arrays over the leading axes of the data."""

    decline: np.ndarray
    decline_variance: np.ndarray
    interaction: np.ndarray
    interaction_variance: np.ndarray




def analyse_completed(completed: np.ndarray, depressed: np.ndarray) -> CompletedAnalyses:
    """Both analysis models (REML, random intercept + slope) on each completed data set of shape (..., g, 13)."""
    ones = np.ones((len(depressed), 1))
    decline, decline_variance = _slope_term(completed, ones, "nprs ~ years", "years")
    interaction, interaction_variance = _slope_term(completed, np.column_stack([ones, depressed]), IMPUTATION_MODEL,
                                                    "years:depressed")
    return CompletedAnalyses(decline, decline_variance, PER_MONTH * interaction, PER_MONTH**2 * interaction_variance)


def _slope_term(completed: np.ndarray, covariates: np.ndarray, formula: str, term: str):
    """Estimate and variance of the last covariate's term in the slope, by the closed-form REML of
    okapi.models.lmm_batch.fit_complete_grid; a data set whose optimum is on the boundary, where the closed form does not
    hold, is refitted iteratively (and that fit warns that it is on the boundary)."""
    fit = lmm_batch.fit_complete_grid(completed, YEARS, covariates)
    last = covariates.shape[1] - 1
    estimate, variance = fit.coefficients[..., last, 1].copy(), fit.variance(last, 1).copy()
    if not fit.interior.all():
        g = covariates.shape[0]
        frame = pd.DataFrame({"patient_id": np.repeat(np.arange(g), MONTHS.size), "years": np.tile(YEARS, g),
                              "depressed": np.repeat(covariates[:, -1], MONTHS.size)})
        design = lmm_batch.random_slope_design(frame, formula, require_complete=True)
        column = design.term_names.index(term)
        for index in map(tuple, np.argwhere(~fit.interior)):
            refit = lmm_batch.fit_outcome_arrays(design, completed[index].reshape(-1))
            estimate[index], variance[index] = refit.beta[0, column], refit.cov[0, column, column]
    return estimate, variance


# --- delta grids and tipping points ----------------------------------------------------------------------------
def pooled_over(imputations: Imputations, grid: PainGrid, pairs: np.ndarray) -> tuple[Pooled, Pooled]:
    """Rubin's rules for the decline and the interaction (per month) at each (delta_not_depressed, delta_depressed)
    row of `pairs`; complete-data df = patients minus patient-level covariates (1 and 2)."""
    pairs = np.atleast_2d(np.asarray(pairs, dtype=float))
    per_patient = np.where(grid.depressed[None, :] == 1, pairs[:, [1]], pairs[:, [0]])  # (n, g)
    completed = imputations.completed[None] + (per_patient[:, :, None] * grid.after_dropout)[:, None]
    analyses = analyse_completed(completed, grid.depressed)
    g = len(grid.patient_ids)
    return (pool(analyses.decline, analyses.decline_variance, g - 1),
            pool(analyses.interaction, analyses.interaction_variance, g - 2))


def margin(pooled: Pooled, direction: float) -> np.ndarray:
    """How far the 95% CI stays clear of zero on the side of the primary estimate (`direction` = its sign):
    positive while the conclusion holds, zero where the CI first touches zero."""
    return -pooled.ci_high if direction < 0 else pooled.ci_low


def first_root(deltas: np.ndarray, values: np.ndarray, evaluate) -> float:
    """The smallest delta >= 0 where `values` (evaluated on the sorted grid `deltas`, starting at 0) reach zero,
    refined by Brent's method on `evaluate`; 0 if already <= 0 at the start, NaN if never on the grid."""
    if values[0] <= 0:
        return float(deltas[0])
    for i in range(1, len(deltas)):
        if values[i] <= 0:
            return float(brentq(evaluate, deltas[i - 1], deltas[i], xtol=1e-6))
    return float("nan")


def scalar(pooled: Pooled) -> Pooled:
    return Pooled(*(np.asarray(getattr(pooled, f)).reshape(-1)[0] for f in
                    ("estimate", "within", "between", "total", "df", "ci_low", "ci_high", "p")), pooled.m)


def common_shift_grid(imputations: Imputations, grid: PainGrid, deltas: np.ndarray, directions: dict):
    decline, interaction = pooled_over(imputations, grid, np.column_stack([deltas, deltas]))
    table = pd.DataFrame({"delta": deltas})
    for name, pooled in (("decline", decline), ("interaction", interaction)):
        table[f"{name}_estimate"], table[f"{name}_ci_low"] = pooled.estimate, pooled.ci_low
        table[f"{name}_ci_high"], table[f"{name}_p"] = pooled.ci_high, pooled.p
        table[f"{name}_margin"] = margin(pooled, directions[name])
    return table


def interaction_surface(imputations, grid, deltas, direction) -> pd.DataFrame:
    """The interaction (per month) over the grid of (delta_not_depressed, delta_depressed), one row of the grid at a
    time (all of it at once would hold every imputed data set for every pair in memory)."""
    frames = []
    for delta_not in deltas:
        pairs = np.column_stack([np.full(len(deltas), delta_not), deltas])
        pooled = pooled_over(imputations, grid, pairs)[1]
        frames.append(pd.DataFrame({"delta_not_depressed": delta_not, "delta_depressed": deltas,
                                    "estimate": pooled.estimate, "ci_low": pooled.ci_low, "ci_high": pooled.ci_high,
                                    "margin": margin(pooled, direction)}))
    return pd.concat(frames, ignore_index=True)


def interaction_tipping_curve(imputations, grid, surface, searched, direction):
    """The tipping curve: for each shift of one group's dropouts, the shift of the other group's dropouts at which
    the interaction's CI reaches 0. The searched group is the one whose worse pain erodes the interaction: the
    dropouts with depression when the interaction is negative (their decline is steeper), else those without.
    Also, with the other group under MAR, the shift at which the estimate itself reaches 0."""
    shifted, fixed = ("delta_depressed", "delta_not_depressed") if direction < 0 else \
        ("delta_not_depressed", "delta_depressed")

    def pooled(fixed_delta: float, shifted_delta: float) -> Pooled:
        pair = {fixed: fixed_delta, shifted: shifted_delta}
        return scalar(pooled_over(imputations, grid, [[pair["delta_not_depressed"], pair["delta_depressed"]]])[1])

    rows = []
    for delta in searched:
        values = surface.loc[surface[fixed] == delta].set_index(shifted)
        tipping = first_root(searched, values.loc[searched, "margin"].to_numpy(),
                             lambda d, f=delta: float(margin(pooled(f, d), direction)))
        rows.append({fixed: float(delta), shifted: tipping})
    values = surface.loc[surface[fixed] == 0.0].set_index(shifted)
    zero = first_root(searched, direction * values.loc[searched, "estimate"].to_numpy(),
                      lambda d: float(direction * pooled(0.0, d).estimate))
    curve = pd.DataFrame(rows)[["delta_not_depressed", "delta_depressed"]]
    return curve, zero, shifted == "delta_depressed"


def share_above_scale(imputations: Imputations, grid: PainGrid, delta: float) -> float:
    if not np.isfinite(delta):
        return float("nan")
    after = imputations.completed[:, grid.after_dropout] + delta
    return float((after > 10).mean()) if after.size else 0.0
