"""Patient-level stage of the synthetic cohort: everything fixed at inclusion, the latent pain slope, and what
re-treatment needs (readmission frailty, stay lengths, dose per infusion).

Arrays, not DataFrames: the same code draws one cohort, many replicate cohorts at once (`n_cohorts`, for sampling-noise
bands) or millions of patients (for population values), all from the records in okapi.synthetic.parameters.
Each concern draws from its own random stream, so changing one parameter leaves every other draw unchanged (common
random numbers: sensitivity sweeps and the calibration solver compare like with like).
"""

import numpy as np
from okapi.plan import PUBLISHED_HADS_D_CUTOFF
from scipy import optimize, stats

MONTHS = np.arange(13)
STREAMS = ("centres", "inclusion", "demographics", "classes", "hads", "treatments", "dose", "slopes", "stays",
           "pain", "missing", "questionnaires", "adverse")
PAIN_TYPES = ("neuropathic", "fibromyalgia", "crps", "other")
CLASS_LABELS = ("mild", "moderate", "severe")


def make_streams(seed: int) -> dict[str, np.random.Generator]:
    children = np.random.SeedSequence(seed).spawn(len(STREAMS))
    return {name: np.random.default_rng(child) for name, child in zip(STREAMS, children)}


def class_shares(v) -> np.ndarray:
    shares = np.array([v["class_share_mild"], v["class_share_moderate"], v["class_share_severe"]], dtype=float)
    return shares / shares.sum()


def hads_d_class_means(v) -> tuple[np.ndarray, np.ndarray]:
    """Latent baseline HADS-D mean per class, solved so that the share scoring > 7 is `depressed_share`.

    A rounded score is > 7 exactly when the latent value is >= 7.5. Returns (class means, P(HADS-D > 7 | class)).
    """
    shares, offsets, sd = class_shares(v), np.asarray(v["hads_d_class_offsets"], float), v["hads_d_sd"]

    def share_depressed(mean):
        return shares @ stats.norm.sf((PUBLISHED_HADS_D_CUTOFF + 0.5 - mean - offsets) / sd) - v["depressed_share"]

    mean = optimize.brentq(share_depressed, -30.0, 50.0, xtol=1e-12)
    return mean + offsets, stats.norm.sf((PUBLISHED_HADS_D_CUTOFF + 0.5 - mean - offsets) / sd)


def class_curve_shapes(v) -> np.ndarray:
    """g_k(t): 0 at month 0, 1 at month 12, concave (1 - exp(-t/tau)) in between; shape (3, 13)."""
    tau = np.asarray(v["pain_time_constant_months"], float)[:, None]
    return (1 - np.exp(-MONTHS / tau)) / (1 - np.exp(-12 / tau))


def class_mean_curves(v) -> np.ndarray:
    """Latent class-mean NPRS by month before rounding, shape (3, 13)."""
    level = v["pain_baseline_level"] + np.asarray(v["pain_m0_class_offsets"], float)
    change = v["pain_change_scale"] * np.asarray(v["pain_change_class_shape"], float)
    return level[:, None] + change[:, None] * class_curve_shapes(v)


def class_linear_slopes(v) -> np.ndarray:
    """Least-squares slope (per month) of each class-mean curve over months 0-12: its linear part."""
    centred = MONTHS - MONTHS.mean()
    return class_mean_curves(v) @ centred / (centred @ centred)


def _categorical(rng, table, rows):
    """One draw per entry of `rows`, from the probabilities in table[rows] (table: (m, k), rows sum to 1)."""
    m, k = table.shape
    cumulative = np.cumsum(table, axis=1)
    cumulative[:, -1] = 1.0
    # offset each row by its index so that one sorted array serves every row
    flat = (cumulative + np.arange(m)[:, None]).ravel()
    position = np.searchsorted(flat, rng.random(rows.size) + rows, side="right")
    return np.minimum(position - rows * k, k - 1)


def _binary_with_missing(rng, p, missing_share):
    values = (rng.random(p.shape) < p).astype(float)
    values[rng.random(p.shape) < missing_share] = np.nan
    return values


def draw_patients(n: int, n_cohorts: int, v: dict, streams: dict) -> dict[str, np.ndarray]:
    """Baseline characteristics, latent class, re-treatment inputs and latent slope for n_cohorts x n patients
    (cohort-major)."""
    total = n * n_cohorts
    cohort = np.repeat(np.arange(n_cohorts), n)
    out = {"cohort": cohort}

    rng = streams["centres"]
    n_centres = int(v["n_centres"])
    weights = rng.dirichlet(np.full(n_centres, v["centre_size_concentration"]), size=n_cohorts)
    centre_effects = rng.normal(0.0, v["centre_sd_baseline_pain"], size=(n_cohorts, n_centres))
    out["centre"] = _categorical(rng, weights, cohort)
    if n >= n_centres:  # every clinic included at least one patient (D2): the first 30 of each cohort, one per clinic
        one_each = np.argsort(rng.random((n_cohorts, n_centres)), axis=1)
        first = (np.arange(n_cohorts)[:, None] * n + np.arange(n_centres)[None, :]).ravel()
        out["centre"][first] = one_each.ravel()
    out["centre_effect"] = centre_effects[cohort, out["centre"]]

    first = np.datetime64(v["inclusion_first_date"], "D")
    window = int((np.datetime64(v["inclusion_last_date"], "D") - first).astype(int))
    out["inclusion_day"] = streams["inclusion"].integers(0, window + 1, size=total)

    rng = streams["demographics"]
    out["age"] = np.clip(np.round(rng.normal(v["age_mean"], v["age_sd"], total)), v["age_min"], v["age_max"])
    out["female"] = rng.random(total) < v["female_share"]

    rng = streams["classes"]
    out["latent_class"] = _categorical(rng, class_shares(v)[None, :], np.zeros(total, dtype=int))
    type_given_class = np.array([v["pain_type_given_mild"], v["pain_type_given_moderate"],
                                 v["pain_type_given_severe"]], dtype=float)
    type_given_class /= type_given_class.sum(axis=1, keepdims=True)
    out["pain_type"] = _categorical(rng, type_given_class, out["latent_class"])
    log_spread = np.log(v["pain_duration_geometric_sd"])
    duration = v["pain_duration_median_years"] * np.exp(log_spread * rng.normal(size=total))
    out["pain_duration_years"] = np.round(np.clip(duration, 0.5, np.maximum(out["age"] - 15, 0.5)), 1)

    _draw_hads(out, v, streams["hads"])
    _draw_treatments(out, v, streams["treatments"])
    _draw_dose(out, v, streams["dose"])
    _draw_slope(out, v, streams["slopes"])
    return out


def _draw_hads(out, v, rng):
    total = out["cohort"].size
    d_means, _ = hads_d_class_means(v)
    a_means = v["hads_a_mean"] + np.asarray(v["hads_a_class_offsets"], float)
    z_d = rng.normal(size=total)
    z_a = v["hads_da_correlation"] * z_d + np.sqrt(1 - v["hads_da_correlation"] ** 2) * rng.normal(size=total)
    out["hads_d0_latent"] = d_means[out["latent_class"]] + v["hads_d_sd"] * z_d
    out["hads_a0_latent"] = a_means[out["latent_class"]] + v["hads_a_sd"] * z_a
    out["hads_d0"] = np.clip(np.round(out["hads_d0_latent"]), 0, 21)
    out["hads_a0"] = np.clip(np.round(out["hads_a0_latent"]), 0, 21)
    out["depressed"] = out["hads_d0"] > PUBLISHED_HADS_D_CUTOFF


def _draw_treatments(out, v, rng):
    miss = v["treatment_missing_share"]
    neuropathic = out["pain_type"] == PAIN_TYPES.index("neuropathic")
    out["opioid"] = _binary_with_missing(rng, np.full(out["cohort"].size, v["opioid_share"]), miss)
    out["antidepressant"] = _binary_with_missing(
        rng, np.where(out["depressed"], v["antidepressant_share_depressed"], v["antidepressant_share_not_depressed"]),
        miss)
    out["antiepileptic"] = _binary_with_missing(
        rng, np.where(neuropathic, v["antiepileptic_share_neuropathic"], v["antiepileptic_share_other"]), miss)
    out["anxiolytic"] = _binary_with_missing(rng, np.full(out["cohort"].size, v["anxiolytic_share"]), miss)


def split_gap(mean, sd, cut):
    """E[X | X >= cut] - E[X | X < cut] for X ~ N(mean, sd): how far apart the two sides of a split lie, so that a
    linear effect of X scaled by it moves the two groups' means apart by exactly 1."""
    z = (cut - np.asarray(mean, float)) / sd
    return sd * stats.norm.pdf(z) * (1 / stats.norm.sf(z) + 1 / stats.norm.cdf(z))


def _draw_dose(out, v, rng):
    """What re-treatment needs at inclusion: a readmission frailty, the length of every possible stay (the inclusion
    stay and one a month from month 2) and the dose of one daily infusion. Whether a later stay happens is decided
    month by month during follow-up (okapi.synthetic.care), while the patient is in care.

    Every uniform is drawn in a fixed shape before use, so a parameter change never shifts the stream."""
    total = out["cohort"].size
    shape = v["stays_frailty_shape"]
    frailty = rng.gamma(shape, 1 / shape, total)
    u_length = rng.random((total, MONTHS.size - 1), dtype=np.float32)  # inclusion stay + months 2-12
    z_dose = rng.normal(size=total)
    out["stay_rate"] = (v["extra_stays_mean"] / (MONTHS.size - 2) * frailty
                        * np.where(out["depressed"], v["stays_rate_ratio_depressed"], 1.0))
    probs = np.asarray(v["days_per_stay_probs"], float)
    cumulative = np.cumsum(probs / probs.sum())
    cumulative[-1] = 1.0
    out["possible_stay_lengths"] = 1 + np.searchsorted(cumulative, u_length, side="right")
    low, high = v["infusion_dose_bounds_mg"]
    step = v["infusion_dose_step_mg"]
    dose = v["infusion_dose_median_mg"] * np.exp(np.log(v["infusion_dose_geometric_sd"]) * z_dose)
    out["infusion_dose_mg"] = np.clip(np.round(dose / step) * step, low, high)


def depression_slope_term(hads_d0_latent, depressed, latent_class, v) -> np.ndarray:
    """How baseline depression changes a patient's slope, in units of the group difference: a step at the published
    split (HADS-D > 7) and a linear effect of the continuous score, mixed by `depression_linear_share` (0 = the step
    alone, the split as a special case; 1 = the continuous score alone). Each part is centred within class and scaled
    so that, within every class, the depressed and the others differ by exactly 1: `slope_shift_depressed` is the
    group difference whatever the mix, and each class keeps its stated mean curve."""
    d_means, p_depressed = hads_d_class_means(v)
    mean = d_means[latent_class]
    step = depressed - p_depressed[latent_class]
    linear = (hads_d0_latent - mean) / split_gap(mean, v["hads_d_sd"], PUBLISHED_HADS_D_CUTOFF + 0.5)
    share = v["depression_linear_share"]
    return (1 - share) * step + share * linear


def _draw_slope(out, v, rng):
    """Random intercept and the patient's linear slope: class slope + depression + anxiety + random slope.

    Depression and anxiety terms are centred within class, so each class keeps its stated mean curve. The dose acts
    later, month by month, through the dose received so far (okapi.synthetic.care)."""
    total = out["cohort"].size
    k = out["latent_class"]
    a_means = v["hads_a_mean"] + np.asarray(v["hads_a_class_offsets"], float)
    out["random_intercept"] = rng.normal(0.0, v["pain_random_intercept_sd"], total)
    out["random_slope"] = rng.normal(0.0, v["pain_random_slope_sd"], total)
    out["slope_deviation"] = (v["slope_shift_depressed"] * depression_slope_term(out["hads_d0_latent"],
                                                                                  out["depressed"], k, v)
                              + v["slope_per_hads_a_point"] * (out["hads_a0_latent"] - a_means[k])
                              + out["random_slope"])
