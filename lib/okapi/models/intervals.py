"""Plain 95% confidence intervals for descriptive figures (a mean, an SD, a proportion)."""

import numpy as np
from scipy import stats


def excludes_zero(low: float, high: float) -> bool:
    """The interval [low, high] lies wholly on one side of zero (a missing limit never excludes it)."""
    return low > 0 or high < 0


def mean_ci(values, level: float = 0.95) -> tuple[float, float, float]:
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    mean, se = values.mean(), values.std(ddof=1) / np.sqrt(len(values))
    half = stats.t.ppf(0.5 + level / 2, len(values) - 1) * se
    return float(mean), float(mean - half), float(mean + half)


def sd_ci(values, level: float = 0.95) -> tuple[float, float, float]:
    """SD with the chi-square interval (exact for normal data)."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    df = len(values) - 1
    sd = values.std(ddof=1)
    low = sd * np.sqrt(df / stats.chi2.ppf(0.5 + level / 2, df))
    high = sd * np.sqrt(df / stats.chi2.ppf(0.5 - level / 2, df))
    return float(sd), float(low), float(high)


def proportion_ci(count: int, total: int, level: float = 0.95) -> tuple[float, float, float]:
    """Wilson score interval (good coverage for proportions far from 0 and 1 and for small counts alike)."""
    z = stats.norm.ppf(0.5 + level / 2)
    p = count / total
    centre = (p + z**2 / (2 * total)) / (1 + z**2 / total)
    half = z * np.sqrt(p * (1 - p) / total + z**2 / (4 * total**2)) / (1 + z**2 / total)
    return float(p), float(centre - half), float(centre + half)


def newcombe_difference(count1: int, total1: int, count2: int, total2: int, level: float = 0.95
                        ) -> tuple[float, float, float]:
    """p1 - p2 with Newcombe's hybrid score interval, built from the two Wilson intervals."""
    p1, l1, u1 = proportion_ci(count1, total1, level)
    p2, l2, u2 = proportion_ci(count2, total2, level)
    difference = p1 - p2
    return (difference, difference - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
            difference + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2))
