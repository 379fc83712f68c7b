"""Effect sizes for the one-year change in pain, and paired baseline vs month-12 comparisons (SF-12).

The companion paper's effect size 0.61 = (6.8 - 5.7) / 1.8 is a standardised mean change: the difference between
the month-12 mean and the baseline mean, over the baseline SD, each mean taken over the patients observed at that
month (240 and 93 patients there). Here it is signed as (month 12 - baseline) / SD baseline, so a fall in pain is
negative as in the primary paper's -0.52; the companion paper printed the absolute value. With dropout that depends
on pain, these observed-case means are biased; the model-based version uses the mixed model's direct likelihood.
"""

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from okapi.models.mixed_models import MixedModelFit, linear_combination
from okapi.plan import BASELINE_MONTH, CI_LEVEL, EFFECT_SIZE_BOOTSTRAP, EFFECT_SIZE_BOOTSTRAP_SEED, FINAL_MONTH



@dataclass(frozen=True)
class StandardisedMeanChange:
    effect_size: float
    ci_low: float  # percentile bootstrap over patients
    ci_high: float
    mean_baseline: float
    sd_baseline: float
    n_baseline: int
    mean_final: float
    sd_final: float
    n_final: int
    n_both: int
    n_boot: int


@dataclass(frozen=True)
class ModelBasedEffectSize:
    effect_size: float
    ci_low: float
    ci_high: float
    change: float
    change_se: float
    sd_baseline: float
    n_baseline: int


@dataclass(frozen=True)
class PairedChange:
    n: int
    mean_baseline: float
    sd_baseline: float
    mean_final: float
    sd_final: float
    mean_difference: float  # final - baseline
    ci_low: float
    ci_high: float
    t: float
    df: int
    p: float


def outcome_by_patient(
    long_df: pd.DataFrame,
    outcome: str,
    months: tuple[int, int],
    group: str = "patient_id",
    time: str = "month",
) -> pd.DataFrame:
    """One row per patient seen in `long_df`, one column per month in `months` (NaN where not observed)."""
    rows = long_df.loc[long_df[time].isin(months) & long_df[outcome].notna(), [group, time, outcome]]
    if rows.duplicated([group, time]).any():
        raise ValueError(f"more than one {outcome} value for a patient and month")
    wide = rows.pivot(index=group, columns=time, values=outcome)
    wide = wide.reindex(index=pd.Index(long_df[group].unique(), name=group), columns=list(months))
    return wide.astype(float)


def _weighted_mean_sd(values: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and SD (n - 1 divisor) of the resampled observations; weights are bootstrap counts (B x patients)."""
    observed = ~np.isnan(values)
    v = np.where(observed, values, 0.0)
    w = weights * observed
    count = w.sum(axis=1)
    total = w @ v
    mean = total / count
    sum_sq = w @ (v * v)
    sd = np.sqrt((sum_sq - count * mean**2) / (count - 1))
    return mean, sd


def standardised_mean_change(
    long_df: pd.DataFrame,
    outcome: str = "nprs",
    baseline_month: int = BASELINE_MONTH,
    final_month: int = FINAL_MONTH,
    n_boot: int = EFFECT_SIZE_BOOTSTRAP,
    seed: int = EFFECT_SIZE_BOOTSTRAP_SEED,
    level: float = CI_LEVEL,
) -> StandardisedMeanChange:
    """(mean at final_month - mean at baseline_month) / SD at baseline_month, observed cases at each month.

    CI: percentile bootstrap resampling patients (so the correlation between a patient's two values and the
    varying numbers observed at each month are carried into the interval); coverage is checked by simulation in
    tests/test_effect_sizes.py.
    """
    wide = outcome_by_patient(long_df, outcome, (baseline_month, final_month))
    base, final = wide[baseline_month].to_numpy(), wide[final_month].to_numpy()
    if np.sum(~np.isnan(base)) < 2 or np.sum(~np.isnan(final)) < 2:
        raise ValueError("need at least two observed values at each month")
    n = base.size
    ones = np.ones((1, n))
    (m0,), (s0,) = _weighted_mean_sd(base, ones)
    (m1,), (s1,) = _weighted_mean_sd(final, ones)

    rng = np.random.default_rng(seed)
    counts = rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot).astype(float)
    bm0, bs0 = _weighted_mean_sd(base, counts)
    bm1, _ = _weighted_mean_sd(final, counts)
    boot = (bm1 - bm0) / bs0
    boot = boot[np.isfinite(boot)]  # a resample with < 2 observations at a month has no SD
    alpha = 1 - level
    low, high = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
    return StandardisedMeanChange(
        effect_size=float((m1 - m0) / s0),
        ci_low=float(low),
        ci_high=float(high),
        mean_baseline=float(m0),
        sd_baseline=float(s0),
        n_baseline=int(np.sum(~np.isnan(base))),
        mean_final=float(m1),
        sd_final=float(s1),
        n_final=int(np.sum(~np.isnan(final))),
        n_both=int(np.sum(~np.isnan(base) & ~np.isnan(final))),
        n_boot=int(boot.size),
    )


def model_based_effect_size(
    fit: MixedModelFit,
    long_df: pd.DataFrame,
    weights: Mapping[str, float] | None = None,
    outcome: str = "nprs",
    baseline_month: int = 0,
    time: str = "month",
) -> ModelBasedEffectSize:
    """Mixed-model one-year change (a linear combination of coefficients) over the observed baseline SD.

    Default weights {"years": 1.0} give the 1-year change of "nprs ~ years"; with time in months use
    {"month": 12.0}. CI = (change +/- 1.96 SE) / SD: the baseline SD is treated as known, which understates the
    width slightly (its relative SE is about 1 / sqrt(2 n), 4% at n = 329).
    """
    combo = linear_combination(fit, weights or {"years": 1.0})
    baseline = long_df.loc[(long_df[time] == baseline_month) & long_df[outcome].notna(), outcome].astype(float)
    sd = float(baseline.std(ddof=1))
    return ModelBasedEffectSize(
        effect_size=combo.estimate / sd,
        ci_low=float(combo.ci_low / sd),
        ci_high=float(combo.ci_high / sd),
        change=combo.estimate,
        change_se=combo.se,
        sd_baseline=sd,
        n_baseline=int(baseline.size),
    )


def paired_change(
    long_df: pd.DataFrame,
    outcome: str,
    baseline_month: int = 0,
    final_month: int = 12,
    level: float = 0.95,
) -> PairedChange:
    """Mean (SD) at both months among patients observed at both, mean difference with t CI, paired t test."""
    wide = outcome_by_patient(long_df, outcome, (baseline_month, final_month)).dropna()
    base, final = wide[baseline_month].to_numpy(), wide[final_month].to_numpy()
    n = base.size
    if n < 2:
        raise ValueError(f"fewer than two patients observed at months {baseline_month} and {final_month}")
    diff = final - base
    mean_diff = float(diff.mean())
    se = float(diff.std(ddof=1) / np.sqrt(n))
    df = n - 1
    t = mean_diff / se
    half_width = stats.t.ppf(0.5 + level / 2, df) * se
    return PairedChange(
        n=n,
        mean_baseline=float(base.mean()),
        sd_baseline=float(base.std(ddof=1)),
        mean_final=float(final.mean()),
        sd_final=float(final.std(ddof=1)),
        mean_difference=mean_diff,
        ci_low=float(mean_diff - half_width),
        ci_high=float(mean_diff + half_width),
        t=float(t),
        df=df,
        p=float(2 * stats.t.sf(abs(t), df)),
    )
