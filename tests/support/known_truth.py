"""Small simulators with KNOWN parameters, for checking the model code (tests and benchmarks only).

These are not the synthetic cohort (that is `okapi.synthetic.cohort`): they are deliberately plain data-generating
processes whose true parameters are returned alongside the data, so that an estimator can be checked against truth.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

MONTHS = np.arange(13)


@dataclass(frozen=True)
class PanelTruth:
    """True parameters of `simulate_pain_panel` (time in years; depression = baseline HADS-D > 7)."""

    intercept: float
    slope_per_year: float
    depression_shift: float
    depression_slope_shift_per_year: float
    sd_intercept: float
    sd_slope: float
    corr_intercept_slope: float
    sd_residual: float

    @property
    def var_intercept(self) -> float:
        return self.sd_intercept**2

    @property
    def var_slope(self) -> float:
        return self.sd_slope**2

    @property
    def cov_intercept_slope(self) -> float:
        return self.corr_intercept_slope * self.sd_intercept * self.sd_slope


def simulate_pain_panel(
    n_patients: int = 329,
    seed: int = 20230519,
    truth: PanelTruth | None = None,
    depressed_share: float = 0.55,
    visit_missing: float = 0.12,
    monthly_dropout: float = 0.03,
    integer_scores: bool = False,
) -> tuple[pd.DataFrame, PanelTruth]:
    """Long data (one row per observed NPRS) from a random intercept + slope model with a depression interaction.

    Missingness is completely at random (sporadic visits plus monotone dropout after month 0), so complete-case
    summaries are unbiased for the population quantities in `truth`. `integer_scores` rounds and clips to 0-10,
    which makes the data look real but biases the linear model slightly, so truth checks use continuous scores.
    """
    truth = truth or PanelTruth(
        intercept=6.8,
        slope_per_year=-0.7,
        depression_shift=0.5,
        depression_slope_shift_per_year=-0.48,
        sd_intercept=1.3,
        sd_slope=0.9,
        corr_intercept_slope=-0.3,
        sd_residual=1.0,
    )
    rng = np.random.default_rng(seed)
    hads_d = rng.binomial(21, 0.4, size=n_patients)
    # Cut HADS-D so that the share with HADS-D > 7 is near depressed_share without changing the > 7 rule.
    hads_d = np.where(rng.random(n_patients) < depressed_share, np.maximum(hads_d, 8), np.minimum(hads_d, 7))
    depressed = (hads_d > 7).astype(int)

    cov = np.array(
        [
            [truth.var_intercept, truth.cov_intercept_slope],
            [truth.cov_intercept_slope, truth.var_slope],
        ]
    )
    random_effects = rng.multivariate_normal(np.zeros(2), cov, size=n_patients)
    years = MONTHS / 12.0
    mean = (
        truth.intercept
        + truth.depression_shift * depressed[:, None]
        + (truth.slope_per_year + truth.depression_slope_shift_per_year * depressed[:, None]) * years[None, :]
    )
    nprs = (
        mean
        + random_effects[:, [0]]
        + random_effects[:, [1]] * years[None, :]
        + rng.normal(0.0, truth.sd_residual, size=(n_patients, MONTHS.size))
    )
    if integer_scores:
        nprs = np.clip(np.rint(nprs), 0, 10)

    observed = rng.random((n_patients, MONTHS.size)) >= visit_missing
    observed[:, 0] = True
    dropout_month = rng.geometric(monthly_dropout, size=n_patients)  # first month not observed, >= 1
    observed &= MONTHS[None, :] < dropout_month[:, None]

    patient_ids = np.array([f"P{i:04d}" for i in range(n_patients)])
    rows = np.nonzero(observed)
    long_df = pd.DataFrame(
        {
            "patient_id": patient_ids[rows[0]],
            "month": MONTHS[rows[1]].astype(int),
            "years": years[rows[1]],
            "nprs": nprs[rows],
            "depressed": depressed[rows[0]],
            "hads_d": hads_d[rows[0]],
        }
    )
    return long_df, truth


@dataclass(frozen=True)
class MediationTruth:
    """True path coefficients of `simulate_mediation_data`; rho = corr(mediator error, outcome error)."""

    a: float
    b: float
    c_prime: float
    rho: float

    @property
    def indirect(self) -> float:
        return self.a * self.b

    @property
    def total(self) -> float:
        return self.c_prime + self.a * self.b


def simulate_mediation_data(
    n: int = 329,
    seed: int = 4121,
    a: float = 0.5,
    b: float = 0.4,
    c_prime: float = 0.15,
    rho: float = 0.0,
    n_covariates: int = 0,
    x_scale: float = 1.0,
) -> tuple[dict[str, np.ndarray], MediationTruth]:
    """x -> m -> y with linear models; rho != 0 violates sequential ignorability by a known amount.

    `x_scale` multiplies x (for example 1000 to mimic a dose in mg); the returned truth is per unit of the
    returned x, so a and c_prime are divided by x_scale. Covariates enter both equations with coefficient 0.3.
    """
    rng = np.random.default_rng(seed)
    x = rng.gamma(2.0, 1.0, size=n)
    covariates = rng.normal(size=(n, n_covariates))
    cov_effect = covariates.sum(axis=1) * 0.3
    errors = rng.multivariate_normal([0.0, 0.0], [[1.0, rho], [rho, 1.0]], size=n)
    m = a * x + cov_effect + errors[:, 0]
    y = c_prime * x + b * m + cov_effect + errors[:, 1]
    data = {"x": x * x_scale, "m": m, "y": y}
    if n_covariates:
        data["covariates"] = covariates
    return data, MediationTruth(a=a / x_scale, b=b, c_prime=c_prime / x_scale, rho=rho)
