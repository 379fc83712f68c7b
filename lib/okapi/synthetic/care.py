"""The year of care, month by month: pain, who is still followed, and who is re-treated.

Three things depend on each other over the year, so they are drawn together, one month at a time:
- pain at call t is the patient's latent course (okapi.synthetic.patients) plus the effect of the ketamine received
  before the call (`pain_per_gram_received`, NPRS points per gram) plus a residual;
- follow-up: the baseline call is missed completely at random; then the monthly hazard of dropping out rises with
  the last answered score (missing at random), and a patient still followed misses a call now and then (completely
  at random);
- ketamine: a stay at inclusion, then at most one stay a month from month 2, only while the patient is still
  followed, with a monthly probability 1 - exp(-rate x exp(b (pain at the last call - centre))). The rate is the
  patient's readmission frailty (and the depression rate ratio); b = `retreatment_log_rate_per_nprs_point` makes
  re-treatment follow recent pain.
So the cumulative dose carries the biases a real extract has: patients followed longer receive more, and patients
whose pain comes back are re-treated, then regress to their mean. Infusions never happen after dropout.
All uniforms are drawn up front in fixed shapes (common random numbers).
"""

import numpy as np
from scipy.special import expit

from okapi.data.codebook import DAYS_PER_MONTH
from okapi.synthetic.patients import MONTHS, class_mean_curves

FIRST_RETREATMENT_MONTH = 2  # the inclusion stay covers month 1


def _residuals(n, v, rng):
    """Month-to-month residuals, AR(1) with the assumed lag-1 correlation (0 = independent)."""
    z = rng.normal(size=(n, MONTHS.size))
    rho, sd = v["pain_residual_autocorrelation"], v["pain_residual_sd"]
    eps = np.empty_like(z)
    eps[:, 0] = z[:, 0]
    for t in MONTHS[1:]:
        eps[:, t] = rho * eps[:, t - 1] + np.sqrt(1 - rho ** 2) * z[:, t]
    return sd * eps


def course_without_ketamine(p: dict, v: dict) -> np.ndarray:
    """Latent mean NPRS by month before any dose effect (patients x 13): class curve, clinic, intercept, slope."""
    return (class_mean_curves(v)[p["latent_class"]] + (p["centre_effect"] + p["random_intercept"])[:, None]
            + p["slope_deviation"][:, None] * MONTHS)


def _stay_dose_g(p: dict, slot: int, happens: np.ndarray) -> np.ndarray:
    return np.where(happens, p["possible_stay_lengths"][:, slot] * p["infusion_dose_mg"] / 1000.0, 0.0)


def draw_year_of_care(p: dict, v: dict, pain_rng: np.random.Generator, missing_rng: np.random.Generator,
                      stays_rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Matrices (patients x 13) of the latent mean, complete and observed pain, answered calls, stays and dose by
    month (month t = between call t - 1 and call t; month 1 holds the inclusion stay), plus the dropout month
    (first month no longer followed, -1 = followed to month 12)."""
    n = p["cohort"].size
    residuals = _residuals(n, v, pain_rng)
    u_baseline, u_dropout, u_missed = missing_rng.random(n), missing_rng.random((n, 12)), missing_rng.random((n, 12))
    u_stay = stays_rng.random((n, 12))

    base = course_without_ketamine(p, v)
    latent_mean = np.empty_like(base)
    nprs_complete = np.empty_like(base)
    answered = np.zeros(base.shape, dtype=bool)
    stay = np.zeros(base.shape, dtype=bool)
    dose_g = np.zeros(base.shape)
    followed = np.ones(n, dtype=bool)
    dropout_month = np.full(n, -1)
    received_g = np.zeros(n)

    stay[:, 1] = True  # the inclusion stay, before call 1
    dose_g[:, 1] = _stay_dose_g(p, 0, stay[:, 1])
    centre = v["dropout_centre_nprs"]
    for t in MONTHS:
        received_g = received_g + dose_g[:, t]
        latent_mean[:, t] = base[:, t] + v["pain_per_gram_received"] * received_g
        nprs_complete[:, t] = np.clip(np.round(latent_mean[:, t] + residuals[:, t]), 0, 10)
        if t == 0:
            answered[:, 0] = u_baseline >= v["baseline_nprs_missing_share"]
            last_score = np.where(answered[:, 0], nprs_complete[:, 0], centre)
        else:
            hazard = expit(v["dropout_logit_intercept"] + v["dropout_log_odds_per_nprs_point"] * (last_score - centre))
            leaves = followed & (u_dropout[:, t - 1] < hazard)
            dropout_month[leaves] = t
            followed &= ~leaves
            answered[:, t] = followed & (u_missed[:, t - 1] >= v["intermittent_miss_share"])
            last_score = np.where(answered[:, t], nprs_complete[:, t], last_score)
        following = t + 1
        if FIRST_RETREATMENT_MONTH <= following <= MONTHS[-1]:
            rate = p["stay_rate"] * np.exp(v["retreatment_log_rate_per_nprs_point"] * (nprs_complete[:, t] - centre))
            stay[:, following] = followed & (u_stay[:, following - 1] < -np.expm1(-rate))
            dose_g[:, following] = _stay_dose_g(p, following - 1, stay[:, following])
    return {"latent_mean": latent_mean, "nprs_complete": nprs_complete, "answered": answered,
            "nprs": np.where(answered, nprs_complete, np.nan), "dropout_month": dropout_month,
            "stay": stay, "dose_month_g": dose_g}


def expand_administrations(p: dict, care: dict, stays_rng: np.random.Generator) -> dict[str, np.ndarray]:
    """One record per daily infusion: (patient index, day since inclusion, dose in mg), sorted by patient and day.

    The inclusion stay starts on the inclusion day; a stay of month t (t >= 2) starts at a random day of that month's
    window, late enough to end inside it, so stays never overlap and every infusion falls in its month."""
    stay = care["stay"]
    jitter = stays_rng.random(stay.shape)
    stay_patient, stay_month = np.nonzero(stay)  # row-major: by patient, then month
    slot = np.where(stay_month == 1, 0, stay_month - 1)
    length = p["possible_stay_lengths"][stay_patient, slot]
    window_start = np.where(stay_month == 1, 0.0, (stay_month - 1) * DAYS_PER_MONTH)
    room = np.where(stay_month == 1, 0.0, np.floor(DAYS_PER_MONTH) - length)
    start = np.ceil(window_start + np.floor(jitter[stay_patient, stay_month] * (room + 1)))
    infusion_stay = np.repeat(np.arange(stay_patient.size), length)
    day_in_stay = np.arange(infusion_stay.size) - np.repeat(np.cumsum(length) - length, length)
    patient = stay_patient[infusion_stay]
    return {"patient": patient, "day": (start[infusion_stay] + day_in_stay).astype(np.int64),
            "dose_mg": p["infusion_dose_mg"][patient]}
