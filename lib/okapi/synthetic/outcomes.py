"""Follow-up stage of the synthetic cohort: the year of care (okapi.synthetic.care: pain, calls, re-treatment),
then HADS, SF-12 and adverse effects.

Works on the arrays of okapi.synthetic.patients (any number of patients or replicate cohorts). All random numbers of a
stage are drawn up front in fixed shapes, so a parameter change moves outcomes, never the stream (common random
numbers).
"""

import numpy as np
from scipy.special import expit, logit

from okapi.data.derive import month_of_day
from okapi.synthetic.care import draw_year_of_care, expand_administrations
from okapi.synthetic.patients import MONTHS, class_shares, hads_d_class_means


def draw_follow_up(p: dict, v: dict, streams: dict) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(administrations, follow-up): one record per infusion, and matrices (patients x 13 months) of complete and
    observed outcomes (NaN = not observed). Adds to `p` what only the year of care decides: the patient's true
    linear slope (least squares over months 0-12 of the latent mean, dose effect included), stays, infusions and
    cumulative dose."""
    out = draw_year_of_care(p, v, streams["pain"], streams["missing"], streams["stays"])
    administrations = expand_administrations(p, out, streams["stays"])
    centred = MONTHS - MONTHS.mean()
    p["true_slope_per_month"] = out["latent_mean"] @ centred / (centred @ centred)
    p["n_stays"] = out["stay"].sum(axis=1)
    p["n_infusions"] = np.bincount(administrations["patient"], minlength=p["cohort"].size)
    p["cumulative_dose_g"] = out["dose_month_g"].sum(axis=1)
    out.update(_questionnaires(p, out["latent_mean"], out["answered"], v, streams["questionnaires"]))
    out.update(_adverse_effects(p, administrations, out["answered"], v, streams["adverse"]))
    return administrations, out


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
    infusion_month[administrations["patient"], month_of_day(administrations["day"])] = True
    first, last = logit(v["ae_monthly_share_month1"]), logit(v["ae_monthly_share_month12"])
    log_odds = first + (MONTHS[1:] - 1) / 11 * (last - first) + np.log(v["ae_odds_ratio_infusion_month"]) * \
        infusion_month[:, 1:]
    monthly = np.full((n, MONTHS.size), np.nan)
    monthly[:, 1:] = np.where(answered[:, 1:], (u_monthly < expit(log_odds)).astype(float), np.nan)
    return {"ae_week1": week1, "adverse_effect": monthly, "infusion_month": infusion_month}
