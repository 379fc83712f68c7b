"""Simulated monthly pain with KNOWN trajectory classes, to check the trajectory estimators.

This is a test bench, not the synthetic cohort of the book (that is okapi.synthetic.cohort): it draws NPRS from a
3-class growth mixture with a subject random intercept, so that both the class count and each patient's class
are known. The default curves echo the companion paper's mild / moderate / severe groups (C5); they are assumptions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

MONTHS = np.arange(13)

# Quadratic curves in years (intercept, linear, quadratic): the mild group improves, the severe one stays high.
DEFAULT_CLASS_CURVES = (
    (4.5, -3.5, 1.5),   # mild: 4.5 at inclusion, 2.5 at month 12
    (6.5, -1.5, 0.5),   # moderate: 6.5 -> 5.5
    (8.0, 0.3, -0.3),   # severe: flat around 8
)
# C5 published 16.0 / 35.3 / 45.7 %; they sum to 97 %, so they are rescaled to 1 here.
DEFAULT_CLASS_SHARES = (0.160, 0.353, 0.457)


@dataclass(frozen=True)
class TrajectorySimulationSettings:
    """Knobs of the simulator; defaults give about 25-35 % missing visits with monotone-ish attrition."""

    class_curves: tuple = DEFAULT_CLASS_CURVES
    class_shares: tuple = DEFAULT_CLASS_SHARES
    random_intercept_sd: float = 0.8
    residual_sd: float = 1.0
    monthly_dropout_hazard: float = 0.06
    intermittent_missing_probability: float = 0.10
    integer_scale: bool = True   # round and clip to 0-10 like a real NPRS answer


def simulate_trajectory_cohort(n_patients: int, seed: int,
                               settings: TrajectorySimulationSettings | None = None):
    """Return (long_df, true_class): one row per observed NPRS, and the true class (0, 1, 2, ...) per patient_id."""
    settings = settings or TrajectorySimulationSettings()
    rng = np.random.default_rng(seed)
    curves = np.asarray(settings.class_curves, dtype=float)
    shares = np.asarray(settings.class_shares, dtype=float)
    shares = shares / shares.sum()

    true_class = rng.choice(len(shares), size=n_patients, p=shares)
    intercept = rng.normal(0.0, settings.random_intercept_sd, size=n_patients)
    years = MONTHS / 12.0
    powers = years[None, :] ** np.arange(curves.shape[1])[:, None]          # (degree+1, 13)
    mean = curves[true_class] @ powers + intercept[:, None]                 # (n, 13)
    nprs = mean + rng.normal(0.0, settings.residual_sd, size=mean.shape)
    if settings.integer_scale:
        nprs = np.clip(np.rint(nprs), 0, 10)

    # Dropout: the first month after inclusion with no answer ends follow-up; inclusion itself is always observed.
    dropped = rng.random((n_patients, 12)) < settings.monthly_dropout_hazard
    still_followed = np.concatenate([np.ones((n_patients, 1), bool), np.cumprod(~dropped, axis=1).astype(bool)], axis=1)
    answered = rng.random(mean.shape) >= settings.intermittent_missing_probability
    answered[:, 0] = True
    observed = still_followed & answered

    ids = np.array([f"SIM{i + 1:05d}" for i in range(n_patients)])
    rows, cols = np.nonzero(observed)
    long_df = pd.DataFrame({
        "patient_id": ids[rows],
        "month": MONTHS[cols].astype(int),
        "years": years[cols],
        "nprs": nprs[rows, cols],
    })
    return long_df, pd.Series(true_class, index=pd.Index(ids, name="patient_id"), name="true_class")
