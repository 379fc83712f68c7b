"""What each generator parameter is, in words: the label the book's tables show in place of the code name.

The code name stays beside the label (it is what `simulate_cohort(overrides=...)`, `--set overrides=...` and the
sweep use); a reader who does not program reads the label. Every parameter of okapi.synthetic.parameters has one
(a test fails otherwise).
"""

PARAMETER_LABELS: dict[str, str] = {
    # design
    "n_centres": "Number of centres",
    "inclusion_first_date": "First inclusion date",
    "inclusion_last_date": "Last inclusion date",
    "follow_up_months": "Months of follow-up",
    "centre_size_concentration": "Evenness of centre sizes",
    "centre_sd_baseline_pain": "Centre-to-centre SD of baseline pain",
    # patients
    "age_mean": "Mean age",
    "age_sd": "SD of age",
    "age_min": "Youngest age",
    "age_max": "Oldest age",
    "female_share": "Share of women",
    "pain_duration_median_years": "Median duration of pain",
    "pain_duration_geometric_sd": "Spread of pain duration (geometric SD)",
    "class_share_mild": "Share of the mild pain trajectory",
    "class_share_moderate": "Share of the moderate pain trajectory",
    "class_share_severe": "Share of the severe pain trajectory",
    "pain_type_given_mild": "Pain types in the mild trajectory",
    "pain_type_given_moderate": "Pain types in the moderate trajectory",
    "pain_type_given_severe": "Pain types in the severe trajectory",
    # depression and anxiety
    "depressed_share": "Share with depressive symptoms at inclusion",
    "hads_d_class_offsets": "HADS-D shift by pain trajectory",
    "hads_d_sd": "Within-trajectory SD of baseline HADS-D",
    "hads_a_mean": "Mean baseline HADS-A",
    "hads_a_class_offsets": "HADS-A shift by pain trajectory",
    "hads_a_sd": "Within-trajectory SD of baseline HADS-A",
    "hads_da_correlation": "Correlation of HADS-D and HADS-A",
    "hads_stability": "Month-to-month stability of HADS scores",
    "hads_per_nprs_point": "HADS change per point of pain",
    # treatments
    "opioid_share": "Share taking opioids",
    "antidepressant_share_not_depressed": "Share taking antidepressants, without depressive symptoms",
    "antidepressant_share_depressed": "Share taking antidepressants, with depressive symptoms",
    "antiepileptic_share_neuropathic": "Share taking antiepileptics, neuropathic pain",
    "antiepileptic_share_other": "Share taking antiepileptics, other pain",
    "anxiolytic_share": "Share taking anxiolytics",
    "treatment_missing_share": "Share of treatment fields unrecorded",
    # adverse effects
    "ae_week1_share": "Share with adverse effects in week 1",
    "ae_week1_missing_share": "Share without a week-1 answer",
    "ae_monthly_share_month1": "Share with adverse effects, month 1",
    "ae_monthly_share_month12": "Share with adverse effects, month 12",
    "ae_odds_ratio_infusion_month": "Odds ratio of adverse effects in a month with a stay",
    # ketamine stays and doses
    "extra_stays_mean": "Mean hospital stays after inclusion",
    "retreatment_log_rate_per_nprs_point": "Re-treatment rate per point of recent pain (log)",
    "stays_frailty_shape": "Between-patient variation in readmission (gamma shape)",
    "days_per_stay_probs": "Days of infusion per stay",
    "infusion_dose_median_mg": "Median daily infusion dose",
    "infusion_dose_geometric_sd": "Spread of the daily dose (geometric SD)",
    "infusion_dose_bounds_mg": "Range of the daily dose",
    "infusion_dose_step_mg": "Rounding of recorded doses",
    "stays_rate_ratio_depressed": "Stay rate ratio, with vs without depressive symptoms",
    # pain
    "pain_baseline_level": "Baseline pain level",
    "pain_m0_class_offsets": "Baseline pain shift by trajectory",
    "pain_change_class_shape": "Pain change over the year by trajectory",
    "pain_change_scale": "Scale of the pain change",
    "pain_time_constant_months": "Speed of relief by trajectory (time constant)",
    "pain_random_intercept_sd": "Between-patient SD of pain level",
    "pain_random_slope_sd": "Between-patient SD of pain slope",
    "dropout_centre_nprs": "Pain level the dropout model is centred on",
    "pain_residual_sd": "Month-to-month SD of pain ratings",
    "pain_residual_autocorrelation": "Correlation of successive pain ratings",
    "slope_shift_depressed": "Slope shift with depressive symptoms",
    "depression_linear_share": "Share of the depression effect that is linear in HADS-D",
    "slope_per_hads_a_point": "Pain slope per HADS-A point",
    "pain_per_gram_received": "Pain change per gram of ketamine received",
    # missing data
    "baseline_nprs_missing_share": "Share without a baseline pain score",
    "intermittent_miss_share": "Share of calls missed at random",
    "dropout_logit_intercept": "Monthly dropout (log-odds)",
    "dropout_log_odds_per_nprs_point": "Dropout per point of pain (log-odds)",
    # questionnaires
    "questionnaire_months": "Months with questionnaires",
    "questionnaire_item_missing_share": "Share of questionnaires left blank",
    "pcs_baseline_mean": "Mean baseline SF-12 physical score",
    "pcs_per_nprs_point": "Physical score per point of pain",
    "pcs_occasion_sd": "Occasion-to-occasion SD of the physical score",
    "pcs_person_sd": "Between-patient SD of the physical score",
    "pcs_change_mean": "Mean change of the physical score over the year",
    "pcs_change_sd": "SD of the change of the physical score",
    "mcs_baseline_mean": "Mean baseline SF-12 mental score",
    "mcs_per_hads_d_point": "Mental score per HADS-D point",
    "mcs_per_hads_a_point": "Mental score per HADS-A point",
    "mcs_occasion_sd": "Occasion-to-occasion SD of the mental score",
    "mcs_person_sd": "Between-patient SD of the mental score",
    "mcs_change_mean": "Mean change of the mental score over the year",
    "mcs_change_sd": "SD of the change of the mental score",
}


def parameter_label(name: str) -> str:
    """The label of a generator parameter; a KeyError names a parameter added without one."""
    try:
        return PARAMETER_LABELS[name]
    except KeyError:
        raise KeyError(f"generator parameter {name!r} has no label in okapi.synthetic.parameter_labels") from None
