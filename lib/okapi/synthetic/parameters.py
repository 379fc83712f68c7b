"""Every parameter of the synthetic OKAPI cohort, with its value, unit and provenance.

The generator (okapi.synthetic.cohort*) reads its values from these records only, and the methods chapter renders the same
records, so the book cannot describe one cohort while the code generates another. Provenance is one of
"published" (a figure of the papers, ids from shared/paper/published-results.md), "derived" (arithmetic on published
figures, or a value solved numerically so that the cohort reproduces a published figure; see
okapi.synthetic.calibration_solver) and "assumed" (not published: a stated clinical guess with a plausible range that the
sensitivity chapter sweeps through `simulate_cohort(overrides={name: value})`).
"""

from dataclasses import dataclass, fields
from typing import Union

import pandas as pd

Value = Union[float, int, str, tuple]
PROVENANCES = ("published", "derived", "assumed")


@dataclass(frozen=True)
class Parameter:
    name: str
    value: Value
    unit: str
    provenance: str
    sources: str = ""
    derivation: str = ""
    reason: str = ""
    plausible_low: Value | None = None
    plausible_high: Value | None = None


def _published(name, value, unit, sources, note=""):
    return Parameter(name, value, unit, "published", sources, derivation=note)


def _derived(name, value, unit, sources, derivation):
    return Parameter(name, value, unit, "derived", sources, derivation=derivation)


def _assumed(name, value, unit, reason, low, high, sources=""):
    return Parameter(name, value, unit, "assumed", sources, reason=reason, plausible_low=low, plausible_high=high)


_SOLVED = "solved numerically (okapi.synthetic.calibration_solver: 30 cohorts of 20,000 patients, seed 20230519) so that "
_NOT_CAUSAL = (" Baseline depression is measured before the dose accrues, so it cannot mediate dose -> pain causally; "
               "the generator only reproduces the published associations.")

PARAMETERS: tuple[Parameter, ...] = (
    # --- design -------------------------------------------------------------------------------------------------
    _published("n_centres", 30, "centres", "D2"),
    _published("inclusion_first_date", "2016-07-07", "date", "D4", "inclusion dates drawn uniformly in the window"),
    _published("inclusion_last_date", "2017-09-21", "date", "D4"),
    _published("follow_up_months", 12, "months", "D7", "monthly calls at months 0-12"),
    _assumed("centre_size_concentration", 2.0, "Dirichlet concentration",
             "30 clinics of unequal activity: at N = 329 the largest includes about 30 patients, the smallest 1-2; "
             "each clinic includes at least one patient (D2)", 0.5, 20.0, sources="D2"),
    _assumed("centre_sd_baseline_pain", 0.3, "NPRS points",
             "small clinic effect on pain level (an ICC of about 0.03 of the baseline variance 1.8^2); ICCs of "
             "patient-reported pain across clinics are usually below 0.05", 0.0, 0.6),
    # --- demographics -------------------------------------------------------------------------------------------
    _published("age_mean", 51.4, "years", "R2"),
    _published("age_sd", 11.0, "years", "R2"),
    _published("age_min", 18, "years", "D3", "adults only; normal ages rounded to whole years and clipped"),
    _assumed("age_max", 90, "years", "upper clip for the normal age draw (3.5 SD above the mean, almost never hit)",
             85, 100),
    _derived("female_share", 249 / 329, "proportion", "R3", "249 / 329 = 0.757"),
    _assumed("pain_duration_median_years", 6.0, "years",
             "refractory chronic pain referred for ketamine is usually of several years' standing", 3.0, 12.0),
    _assumed("pain_duration_geometric_sd", 2.2, "ratio", "log-normal, long right tail; clipped to 0.5 years "
             "(D3: more than 6 months) and to age - 15", 1.5, 3.0, sources="D3"),
    # --- latent pain-trajectory classes (mild, moderate, severe) ------------------------------------------------
    _derived("class_share_mild", 16.0 / 97.0, "proportion", "C5",
             "16.0 / (16.0 + 35.3 + 45.7): the published shares sum to 97.0%, renormalised to 100%"),
    _derived("class_share_moderate", 35.3 / 97.0, "proportion", "C5", "35.3 / 97.0"),
    _derived("class_share_severe", 45.7 / 97.0, "proportion", "C5", "45.7 / 97.0"),
    _assumed("pain_type_given_mild", (0.70, 0.05, 0.15, 0.10), "proportions (neuropathic, fibromyalgia, crps, other)",
             "C5: the mild class is mostly neuropathic", None, None, sources="C5, D3"),
    _assumed("pain_type_given_moderate", (0.55, 0.20, 0.15, 0.10), "proportions (neuropathic, fibromyalgia, crps, "
             "other)", "intermediate between the mild and severe classes", None, None, sources="C5, D3"),
    _assumed("pain_type_given_severe", (0.25, 0.55, 0.10, 0.10), "proportions (neuropathic, fibromyalgia, crps, other)",
             "C5: the severe class is mostly fibromyalgia; marginal shares come out near 43% neuropathic, 34% "
             "fibromyalgia, 13% CRPS, 10% other", None, None, sources="C5, D3"),
    # --- baseline HADS ------------------------------------------------------------------------------------------
    _assumed("depressed_share", 0.52, "proportion with baseline HADS-D > 7",
             "not published; roughly half of patients in refractory chronic pain clinics score above 7. The overall "
             "HADS-D mean is solved from this share (class means 6.3, 7.3, 8.6; P(HADS-D > 7) 0.38, 0.48, 0.60)",
             0.35, 0.70, sources="R8"),
    _assumed("hads_d_class_offsets", (-1.3, -0.3, 1.0), "HADS-D points (mild, moderate, severe)",
             "C6: the severe class has more depression", None, None, sources="C6"),
    _assumed("hads_d_sd", 4.0, "HADS points",
             "within-class SD of the latent baseline score; the resulting scores have mean 7.8, SD 4.0",
             3.0, 5.0),
    _assumed("hads_a_mean", 9.5, "HADS points", "anxiety is usually a little higher than depression in chronic pain",
             7.0, 11.0),
    _assumed("hads_a_class_offsets", (-1.2, -0.3, 1.0), "HADS-A points (mild, moderate, severe)",
             "C6: the severe class has more anxiety", None, None, sources="C6"),
    _assumed("hads_a_sd", 4.0, "HADS points", "within-class SD of the latent baseline score", 3.0, 5.0),
    _assumed("hads_da_correlation", 0.6, "correlation", "the two HADS subscales correlate about 0.6", 0.4, 0.75),
    _assumed("hads_stability", 0.7, "correlation between occasions", "month-to-month stability of HADS scores "
             "beyond what pain explains", 0.5, 0.9),
    _assumed("hads_per_nprs_point", 0.5, "HADS points per NPRS point", "HADS follows the change in pain level", 0.0,
             1.0),
    # --- concomitant treatments and adverse effects --------------------------------------------------------------
    _assumed("opioid_share", 0.50, "proportion", "opioids are common in refractory chronic pain", 0.3, 0.7),
    _assumed("antidepressant_share_not_depressed", 0.35, "proportion", "antidepressants are prescribed for pain too",
             0.2, 0.5),
    _assumed("antidepressant_share_depressed", 0.55, "proportion", "more often with depressive symptoms", 0.4, 0.7),
    _assumed("antiepileptic_share_neuropathic", 0.65, "proportion", "gabapentinoids are first line for neuropathic "
             "pain", 0.4, 0.8),
    _assumed("antiepileptic_share_other", 0.35, "proportion", "also used in fibromyalgia", 0.2, 0.5),
    _assumed("anxiolytic_share", 0.30, "proportion", "benzodiazepines in about a third", 0.15, 0.45),
    _assumed("treatment_missing_share", 0.02, "proportion", "a few unrecorded treatment fields", 0.0, 0.1),
    _derived("ae_week1_share", 108 / 218, "proportion", "C7", "108 / 218 = 0.495"),
    _derived("ae_week1_missing_share", 38 / 256, "proportion", "C1, C7", "(256 - 218) / 256: of the 256 patients, 218 "
             "had a week-1 answer"),
    _assumed("ae_monthly_share_month1", 0.30, "proportion in a month without a stay", "R7/C7: adverse effects fall "
             "over follow-up; below the week-1 level; linear on the log-odds scale to month 12", 0.15, 0.45,
             sources="R7, C7"),
    _assumed("ae_monthly_share_month12", 0.08, "proportion in a month without a stay",
             "R7: 'in the normal range' by the end of the year",
             0.02, 0.2, sources="R7"),
    _assumed("ae_odds_ratio_infusion_month", 2.0, "odds ratio", "effects cluster in months with a hospital stay",
             1.0, 4.0),
    # --- ketamine administrations -------------------------------------------------------------------------------
    _assumed("extra_stays_mean", 2.0, "expected hospital stays after the inclusion stay in a year followed throughout",
             "IV ketamine is repeated in short hospital stays every few months (D1); one stay at inclusion, then at "
             "most one a month from month 2 while the patient is followed (okapi.synthetic.care), at a monthly rate "
             "of this / 11 times the patient's frailty", 1.0, 4.0, sources="D1, D6"),
    _assumed("retreatment_log_rate_per_nprs_point", 0.1, "log rate ratio per NPRS point",
             "re-treatment follows recent pain, modestly: each NPRS point above 6.8 at the last call multiplies "
             "the monthly chance of a stay by exp(0.1) = 1.11. Patients whose pain comes back are re-treated and then "
             "regress to their mean, so dose and pain change are associated without any effect of the dose; 0 = "
             "re-treatment by schedule alone. R9 bounds it (the sweep shows R9 against it)", 0.0, 0.5),
    _assumed("stays_frailty_shape", 2.0, "gamma shape", "patients differ in how often they are readmitted", 0.5, 10.0),
    _assumed("days_per_stay_probs", (0.30, 0.10, 0.20, 0.10, 0.30), "proportions for 1-5 days",
             "one infusion a day; single-day and 5-day protocols are both common in French pain clinics", None, None),
    _assumed("infusion_dose_median_mg", 80.0, "mg", "about 1 mg/kg for a 75-80 kg adult per daily infusion", 40.0,
             150.0),
    _assumed("infusion_dose_geometric_sd", 1.5, "ratio", "protocols range from 0.5 to 2 mg/kg", 1.2, 2.0),
    _assumed("infusion_dose_bounds_mg", (10.0, 300.0), "mg", "clinically usual range of one daily infusion", None,
             None),
    _assumed("infusion_dose_step_mg", 5.0, "mg", "doses recorded to the nearest 5 mg", 1.0, 10.0),
    _derived("stays_rate_ratio_depressed", 0.708208, "rate ratio", "R10",
             _SOLVED + "corr(cumulative dose, baseline HADS-D) = -0.06 (R10)." + _NOT_CAUSAL),
    # --- monthly pain (NPRS) -------------------------------------------------------------------------------------
    _derived("pain_baseline_level", 6.77145, "NPRS points", "C2",
             _SOLVED + "the mean observed NPRS at month 0 is 6.8 (C2)."),
    _assumed("pain_m0_class_offsets", (-2.85, 0.15, 0.95), "NPRS points (mild, moderate, severe)",
             "C5: classes named by pain level; the mild class sits well below the others at inclusion so that a "
             "growth mixture with a random intercept can tell it from a low random intercept", None, None,
             sources="C5"),
    _assumed("pain_change_class_shape", (-0.1, -2.0, -0.8), "NPRS points over 12 months (mild, moderate, severe)",
             "mild = low and stable, moderate = early responders, severe = high with slow partial relief; the classes "
             "converge rather than diverge because the published SD is the same (1.8) at month 0 and month 12 "
             "(C2, C3). Multiplied by pain_change_scale", None, None, sources="C2, C3, C5"),
    _derived("pain_change_scale", 0.835702, "multiplier", "R4",
             _SOLVED + "the complete-data standardised mean change (mean M12 - mean M0) / SD(M0) is -0.52 (R4)."),
    _assumed("pain_time_constant_months", (3.0, 2.5, 8.0), "months (mild, moderate, severe)",
             "relief after ketamine comes mostly in the first months for responders and slowly otherwise; shapes "
             "(1 - exp(-t/tau)) rescaled to reach the 12-month change", None, None),
    _derived("pain_random_intercept_sd", 0.581283, "NPRS points", "C2", _SOLVED + "the SD of observed NPRS at month 0 is "
             "1.8 (C2)."),
    _derived("pain_random_slope_sd", 0.0355353, "NPRS points per month", "C3", _SOLVED + "the SD of observed NPRS at "
             "month 12 is 1.8 (C3)."),
    _derived("dropout_centre_nprs", 6.8, "NPRS points", "C2", "the published baseline mean; centres the dropout "
             "model so that its intercept is the log-odds of dropping out at an average pain score"),
    _assumed("pain_residual_sd", 1.0, "NPRS points", "month-to-month variation of a patient's pain rating", 0.7, 1.3),
    _assumed("pain_residual_autocorrelation", 0.0, "lag-1 correlation",
             "0 keeps the generator inside the model class the book fits (conditional independence); real diaries "
             "often show 0.2-0.4", 0.0, 0.5),
    _derived("slope_shift_depressed", -0.032919, "NPRS points per month", "R8, R11",
             _SOLVED + "patients with baseline HADS-D > 7 decline faster than the others by the inverse-variance "
             "mean of the two published estimates of that difference, R8 (-0.04, SE 0.013 from its CI) and R11 "
             "(0.03, SE 0.008): both estimate it under the book's reading, and their symmetric CIs rule out that "
             "they are one printed value (okapi.verdicts.consistency)." + _NOT_CAUSAL),
    _assumed("depression_linear_share", 0.5, "share",
             "how depression acts on the slope: 0 = a step at the published split HADS-D > 7 alone, 1 = a straight "
             "line in the continuous baseline HADS-D alone, scaled so that the two groups differ by "
             "slope_shift_depressed whatever the share (okapi.synthetic.patients.depression_slope_term); symptoms "
             "rarely act as a threshold, and the paper reported only the split", 0.0, 1.0, sources="R8"),
    _assumed("slope_per_hads_a_point", 0.0, "NPRS points per month per HADS-A point",
             "anxiety at inclusion (centred within class) and the pain slope: the paper reported that anxiety did not "
             "mediate (R14); 0 by default, both directions swept (0.004 is about half the depression difference "
             "per SD of HADS-A)", -0.004, 0.004, sources="R14"),
    _assumed("pain_per_gram_received", 0.0, "NPRS points per gram received so far",
             "the causal effect of ketamine on pain, through the dose received before each call "
             "(okapi.synthetic.care): 0 by default because the paper found no dose-response (R9, R12); "
             "the sweep tries a benefit of 0.5 points per gram (about 0.35 points at the mean dose)", -0.5, 0.0,
             sources="R9, R12"),
    # --- missing data ---------------------------------------------------------------------------------------------
    _derived("baseline_nprs_missing_share", 16 / 256, "proportion", "C1, C2", "(256 - 240) / 256"),
    _assumed("intermittent_miss_share", 0.10, "proportion of calls", "missed calls of patients still in follow-up, "
             "missing completely at random", 0.03, 0.25),
    _derived("dropout_logit_intercept", -2.56429, "log-odds per month", "C2, C3",
             _SOLVED + "93 of 240 patients with a baseline score answer at month 12 (C2, C3)."),
    _derived("dropout_log_odds_per_nprs_point", 0.0978737, "log-odds per NPRS point", "C3, R4",
             _SOLVED + "the month-12 mean among those still answering is 5.7 (C3) while the complete-data mean "
             "implied by R4 is 6.8 - 0.52 x 1.8 = 5.86: dropout is missing at random given the last observed score, "
             "patients with more pain leaving more often."),
    _assumed("questionnaire_months", (0, 3, 6, 9, 12), "months", "HADS and SF-12 at inclusion, then quarterly (the "
             "schedule is not published; month 12 is needed for R5 and R6)", None, None, sources="D8"),
    _assumed("questionnaire_item_missing_share", 0.03, "proportion", "a questionnaire left blank on an answered call",
             0.0, 0.1),
    # --- SF-12 -----------------------------------------------------------------------------------------------------
    _derived("pcs_baseline_mean", 28.4953, "norm-based points", "R6", _SOLVED + "baseline PCS mean is 28.5 (R6)."),
    _assumed("pcs_per_nprs_point", -1.5, "PCS points per NPRS point", "physical health falls with pain level "
             "(baseline correlation PCS-NPRS about -0.25)", -3.0, 0.0),
    _assumed("pcs_occasion_sd", 4.0, "norm-based points", "test-retest noise of SF-12 summaries", 2.0, 6.0),
    _derived("pcs_person_sd", 6.44672, "norm-based points", "R6", _SOLVED + "baseline PCS SD is 7.9 (R6)."),
    _derived("pcs_change_mean", -0.645037, "norm-based points over 12 months", "R6",
             _SOLVED + "the month-12 PCS mean among respondents is 29.5 (R6)."),
    _derived("pcs_change_sd", 4.75461, "norm-based points over 12 months", "R6",
             _SOLVED + "the month-12 PCS SD among respondents is 9.2 (R6)."),
    _derived("mcs_baseline_mean", 39.7105, "norm-based points", "R5", _SOLVED + "baseline MCS mean is 39.7 (R5)."),
    _assumed("mcs_per_hads_d_point", -1.2, "MCS points per HADS-D point", "mental health falls with depression "
             "(baseline correlation MCS-HADS-D about -0.57)", -2.0, -0.5),
    _assumed("mcs_per_hads_a_point", -0.5, "MCS points per HADS-A point", "and with anxiety", -1.0, 0.0),
    _assumed("mcs_occasion_sd", 4.0, "norm-based points", "test-retest noise of SF-12 summaries", 2.0, 6.0),
    _derived("mcs_person_sd", 7.89194, "norm-based points", "R5", _SOLVED + "baseline MCS SD is 10.9 (R5)."),
    _derived("mcs_change_mean", 1.57636, "norm-based points over 12 months", "R5",
             _SOLVED + "the month-12 MCS mean among respondents is 42.2 (R5)."),
    _derived("mcs_change_sd", 2.27724, "norm-based points over 12 months", "R5",
             _SOLVED + "the month-12 MCS SD among respondents is 11.1 (R5)."),
)

_BY_NAME = {p.name: p for p in PARAMETERS}
if len(_BY_NAME) != len(PARAMETERS):
    raise RuntimeError("duplicate parameter names in okapi.synthetic.parameters")


def parameter(name: str) -> Parameter:
    return _BY_NAME[name]


def parameter_values(overrides: dict | None = None) -> dict[str, Value]:
    """{name: value} for the generator; overrides must name existing parameters (a typo would silently do nothing)."""
    values = {p.name: p.value for p in PARAMETERS}
    for name, value in (overrides or {}).items():
        if name not in values:
            raise KeyError(f"unknown cohort parameter {name!r}; "
                           "see okapi.synthetic.parameters.generating_parameter_table()")
        if isinstance(values[name], tuple) and len(tuple(value)) != len(values[name]):
            raise ValueError(f"parameter {name!r} needs {len(values[name])} values, got {value!r}")
        values[name] = tuple(value) if isinstance(values[name], tuple) else value
    return values


def _shown(value):
    if isinstance(value, tuple):
        return ", ".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in value)
    if isinstance(value, float):
        return f"{value:.6g}"
    return "" if value is None else str(value)


def generating_parameter_table() -> pd.DataFrame:
    """One row per parameter (values shown as text, tuples comma-separated), in generator order."""
    for p in PARAMETERS:
        if p.provenance not in PROVENANCES:
            raise ValueError(f"{p.name}: provenance {p.provenance!r} not in {PROVENANCES}")
    rows = [{f.name: (_shown(getattr(p, f.name)) if f.name in ("value", "plausible_low", "plausible_high")
                      else getattr(p, f.name)) for f in fields(Parameter)} for p in PARAMETERS]
    return pd.DataFrame(rows, columns=[f.name for f in fields(Parameter)])
