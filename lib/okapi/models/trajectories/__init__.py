"""Group-based trajectory modelling of monthly pain (NPRS 0-10, months 0-12): the functions chapters call.

Two models, both fitted by EM in numpy (see trajectories_em for the likelihoods):
- plain latent class growth analysis (LCGA, Nagin's group-based model with normal errors): within a class, all
  patients share one polynomial curve and visits are independent;
- the random-intercept variant (a growth mixture model): a patient-level random intercept on top of the class curve;
- optionally the censored-normal LCGA (Nagin's model for a bounded scale), when answers pile up at 0 or 10.
Plain LCGA tends to add classes to soak up between-patient spread within a class (over-extraction), so the book fits
and reports both. Default curve: quadratic in years, enough for an early fall then a plateau; a cubic is allowed,
but with heavy attrition late in follow-up its end bends are fitted to few patients.

Input: a long DataFrame with one row per observed visit and columns patient_id, month, years (= month / 12), nprs.
"""

from .censored import censored_log_likelihood_at, fit_censored_trajectory_model
from .em import TrajectoryData, log_likelihood_at, polynomial_design, prepare_trajectory_data
from .fit import TrajectoryFit, class_curve_table, fit_trajectory_model, posterior_class_table
from .selection import (average_posterior_probability, choose_number_of_classes,
                        fit_trajectory_grid, relative_entropy, summarise_fit)

__all__ = [
    "TrajectoryData", "TrajectoryFit", "average_posterior_probability", "censored_log_likelihood_at",
    "choose_number_of_classes", "class_curve_table", "fit_censored_trajectory_model", "fit_trajectory_grid",
    "fit_trajectory_model", "log_likelihood_at", "polynomial_design", "posterior_class_table",
    "prepare_trajectory_data", "relative_entropy", "summarise_fit",
]
