"""Follow-up stage of the synthetic cohort: monthly pain, who answers each call, HADS, SF-12 and adverse effects.

Works on the arrays of okapi.synthetic.patients (any number of patients or replicate cohorts). All random numbers of a
stage are drawn up front in fixed shapes, so a parameter change moves outcomes, never the stream (common random
numbers).
"""

import numpy as np
from scipy.special import expit, logit

from okapi.data.codebook import DAYS_PER_MONTH
from okapi.synthetic.patients import MONTHS, class_mean_curves, class_shares, hads_d_class_means


def draw_follow_up(p: dict, administrations: dict, v: dict, streams: dict) -> dict[str, np.ndarray]:
    """Matrices (patients x 13 months) of complete and observed outcomes; NaN = not observed."""
    out = {}
    latent_mean = (class_mean_curves(v)[p["latent_class"]] + (p["centre_effect"] + p["random_intercept"])[:, None]
                   + p["slope_deviation"][:, None] * MONTHS)
    out["latent_mean"] = latent_mean
    out["nprs_complete"] = np.clip(np.round(latent_mean + _residuals(p, v, streams["pain"])), 0, 10)
    answered, out["dropout_month"] = _answered_calls(out["nprs_complete"], v, streams["missing"])
    out["answered"] = answered
    out["nprs"] = np.where(answered, out["nprs_complete"], np.nan)
    out.update(_questionnaires(p, latent_mean, answered, v, streams["questionnaires"]))
    out.update(_adverse_effects(p, administrations, answered, v, streams["adverse"]))
    return out


def _residuals(p, v, rng):
    """Month-to-month residuals, AR(1) with the assumed lag-1 correlation (0 = independent)."""
    z = rng.normal(size=(p["cohort"].size, MONTHS.size))
    rho, sd = v["pain_residual_autocorrelation"], v["pain_residual_sd"]
    eps = np.empty_like(z)
    eps[:, 0] = z[:, 0]
    for t in MONTHS[1:]:
        eps[:, t] = rho * eps[:, t - 1] + np.sqrt(1 - rho ** 2) * z[:, t]
    return sd * eps


def _answered_calls(nprs_complete, v, rng):
    """Baseline missing completely at random; then monotone dropout whose monthly hazard rises with the last answered
    pain score (missing at random), and intermittent missed calls (completely at random) while still followed."""
    n = nprs_complete.shape[0]
    u_baseline, u_dropout, u_missed = rng.random(n), rng.random((n, 12)), rng.random((n, 12))
    answered = np.zeros(nprs_complete.shape, dtype=bool)
    answered[:, 0] = u_baseline >= v["baseline_nprs_missing_share"]
    last_score = np.where(answered[:, 0], nprs_complete[:, 0], v["dropout_centre_nprs"])
    followed = np.ones(n, dtype=bool)
    dropout_month = np.full(n, -1)
    for t in MONTHS[1:]:
        hazard = expit(v["dropout_logit_intercept"]
                       + v["dropout_log_odds_per_nprs_point"] * (last_score - v["dropout_centre_nprs"]))
        leaves = followed & (u_dropout[:, t - 1] < hazard)
        dropout_month[leaves] = t
        followed &= ~leaves
        answered[:, t] = followed & (u_missed[:, t - 1] >= v["intermittent_miss_share"])
        last_score = np.where(answered[:, t], nprs_complete[:, t], last_score)
    return answered, dropout_month


def _questionnaires(p, latent_mean, answered, v, rng):
    """HADS and SF-12 at the questionnaire months; NaN elsewhere and when the call or the booklet is missing."""
    n = p["cohort"].size
    months = np.asarray(v["questionnaire_months"], dtype=int)
    z_d, z_a2, z_pcs, z_mcs = (rng.normal(size=(n, months.size)) for _ in range(4))
    u_item = rng.random((n, months.size))
    person_pcs, person_mcs, change_pcs, change_mcs = (rng.normal(size=n) for _ in range(4))

    shares = class_shares(v)
    d_means, _ = hads_d_class_means(v)
    a_means = v["hads_a_mean"] + np.asarray(v["hads_a_class_offsets"], float)
    k, phi, r = p["latent_class"], v["hads_stability"], v["hads_da_correlation"]
    pain_change = latent_mean[:, months] - latent_mean[:, [0]]
    z_a = r * z_d + np.sqrt(1 - r ** 2) * z_a2
    innovation = np.sqrt(1 - phi ** 2) * (months > 0)
    hads_d = (d_means[k][:, None] + phi ** (months > 0) * (p["hads_d0_latent"] - d_means[k])[:, None]
              + v["hads_per_nprs_point"] * pain_change + v["hads_d_sd"] * innovation * z_d)
    hads_a = (a_means[k][:, None] + phi ** (months > 0) * (p["hads_a0_latent"] - a_means[k])[:, None]
              + v["hads_per_nprs_point"] * pain_change + v["hads_a_sd"] * innovation * z_a)

    fraction_of_year = months / 12.0
    pcs = (v["pcs_baseline_mean"] + v["pcs_per_nprs_point"] * (latent_mean[:, months] - v["dropout_centre_nprs"])
           + v["pcs_person_sd"] * person_pcs[:, None]
           + (v["pcs_change_mean"] + v["pcs_change_sd"] * change_pcs)[:, None] * fraction_of_year
           + v["pcs_occasion_sd"] * z_pcs)
    mcs = (v["mcs_baseline_mean"] + v["mcs_per_hads_d_point"] * (hads_d - shares @ d_means)
           + v["mcs_per_hads_a_point"] * (hads_a - shares @ a_means)
           + v["mcs_person_sd"] * person_mcs[:, None]
           + (v["mcs_change_mean"] + v["mcs_change_sd"] * change_mcs)[:, None] * fraction_of_year
           + v["mcs_occasion_sd"] * z_mcs)

    filled = (answered[:, months] | (months == 0)) & (u_item >= v["questionnaire_item_missing_share"])
    result = {}
    for name, values, decimals, top in (("hads_d", hads_d, 0, 21), ("hads_a", hads_a, 0, 21),
                                        ("sf12_pcs", pcs, 1, 100), ("sf12_mcs", mcs, 1, 100)):
        full = np.full((n, MONTHS.size), np.nan)
        full[:, months] = np.where(filled, np.clip(np.round(values, decimals), 0, top), np.nan)
        result[name] = full
    return result


def _adverse_effects(p, administrations, answered, v, rng):
    """Week-1 effect, then monthly effects whose odds fall linearly (logit scale) from month 1 to month 12 and are
    higher in a month with a hospital stay. Month 0 (inclusion) has no preceding month of ketamine: left empty."""
    n = p["cohort"].size
    u_week1, u_week1_missing, u_monthly = rng.random(n), rng.random(n), rng.random((n, 12))
    week1 = (u_week1 < v["ae_week1_share"]).astype(float)
    week1[u_week1_missing < v["ae_week1_missing_share"]] = np.nan

    infusion_month = np.zeros((n, MONTHS.size), dtype=bool)
    month_of_day = np.minimum(administrations["day"] // DAYS_PER_MONTH + 1, 12).astype(int)
    infusion_month[administrations["patient"], month_of_day] = True
    first, last = logit(v["ae_monthly_share_month1"]), logit(v["ae_monthly_share_month12"])
    log_odds = first + (MONTHS[1:] - 1) / 11 * (last - first) + np.log(v["ae_odds_ratio_infusion_month"]) * \
        infusion_month[:, 1:]
    monthly = np.full((n, MONTHS.size), np.nan)
    monthly[:, 1:] = np.where(answered[:, 1:], (u_monthly < expit(log_odds)).astype(float), np.nan)
    return {"ae_week1": week1, "adverse_effect": monthly, "infusion_month": infusion_month}
