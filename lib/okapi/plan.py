"""The analysis plan: every choice a reviewer would ask about, defined once, each with a one-line reason.

Library modules import these names and chapters glue them, so changing a choice is one line here and the book says so
on the next build. The methods chapter prints the whole plan (`plan_table()`); tests/test_plan_is_the_one_place.py
fails when a module or a chapter's prose types one of these values again.

Two kinds of value live here and are kept apart on purpose:
- published design facts (`PUBLISHED_*`): what the paper did, e.g. its HADS-D split. The synthetic generator, its
  calibration and the published targets use these: they describe the cohort that was published, whatever this book's
  analysis chooses;
- analysis choices: what this book's analyses do. Their defaults follow the paper where it said what it did, and a
  chapter's parameters cell can change them for a rerun (the published facts stay as they are).

A chapter whose settings a reviewer may change reads them through `Settings.from_parameters`, which refuses a name it
does not know instead of ignoring it.
"""

from dataclasses import dataclass, field, fields, replace

import pandas as pd


@dataclass(frozen=True)
class Choice:
    name: str
    value: object
    reason: str
    kind: str  # "published design" or "analysis"


CHOICES: dict[str, Choice] = {}


def _published(name: str, value, reason: str):
    CHOICES[name] = Choice(name, value, reason, "published design")
    return value


def _choose(name: str, value, reason: str):
    CHOICES[name] = Choice(name, value, reason, "analysis")
    return value


# --- Published design facts (the paper's own choices; the generator and the targets use these) -----------------------
PUBLISHED_HADS_D_CUTOFF = _published(
    "PUBLISHED_HADS_D_CUTOFF", 7, "the paper split depressive symptoms at inclusion as HADS-D <= 7 vs > 7 (R8)")
PUBLISHED_N_PATIENTS = _published("PUBLISHED_N_PATIENTS", 329, "patients enrolled (R1); the synthetic cohort's size")

# --- Time ---------------------------------------------------------------------------------------------------------
BASELINE_MONTH = _choose("BASELINE_MONTH", 0, "the inclusion call (month 0, D7)")
FINAL_MONTH = _choose("FINAL_MONTH", 12, "the one-year call, the end of follow-up (D7)")
PER_MONTH = _choose("PER_MONTH", 1 / 12, "models are fitted in years (no boundary warnings, faster fits) and slopes "
                                         "reported per month, the unit under which R8's size is plausible")

# --- Depression and anxiety at inclusion ----------------------------------------------------------------------------
HADS_D_CUTOFF = _choose("HADS_D_CUTOFF", PUBLISHED_HADS_D_CUTOFF,
                        "depressive symptoms = HADS-D above this; the paper's split by default, so that R8 compares")
HADS_STRICT_CUTOFF = _choose("HADS_STRICT_CUTOFF", 10, "the HADS's 'probable case' threshold (above 10), a stricter "
                                                       "split for the sensitivity analyses")

# --- Mixed models of the monthly pain scores -------------------------------------------------------------------------
RANDOM_PART = _choose("RANDOM_PART", "~years", "random intercept and slope per patient, unstructured covariance: "
                                               "patients start and change at their own levels")
LINEAR_TIME = _choose("LINEAR_TIME", "nprs ~ years", "one-year change as a straight line, the paper's summary (R4)")
CATEGORICAL_TIME = _choose("CATEGORICAL_TIME", "nprs ~ C(month)", "a mean per month, free of any shape")
LINEAR_GROUP = _choose("LINEAR_GROUP", "nprs ~ years * depressed",
                       "the time x depression interaction as one coefficient (R8's estimate)")
CATEGORICAL_GROUP = _choose("CATEGORICAL_GROUP", "nprs ~ C(month) * depressed",
                            "the omnibus 12-df test of time x depression (R8's P)")
IMPUTATION_MODEL = _choose("IMPUTATION_MODEL", "nprs ~ years * depressed",
                           "the imputation model holds the analysis model's terms, so MI does not bias them to 0")
CI_LEVEL = _choose("CI_LEVEL", 0.95, "the papers' interval level")
EFFECT_SIZE_BOOTSTRAP = _choose("EFFECT_SIZE_BOOTSTRAP", 2000, "patient bootstrap of the observed-case standardised "
                                                               "mean change (C4's interval)")
EFFECT_SIZE_BOOTSTRAP_SEED = _choose("EFFECT_SIZE_BOOTSTRAP_SEED", 20230519, "fixed: a rerun gives the same interval")

# --- Mediation ------------------------------------------------------------------------------------------------------
MEDIATION_MIN_SCORES = _choose("MEDIATION_MIN_SCORES", 3, "a pain slope from two calls is mostly noise (SD about "
                                                          "1.4 points a month for two adjacent months)")
MEDIATION_MIN_SPAN_MONTHS = _choose("MEDIATION_MIN_SPAN_MONTHS", 6, "followed for at least half the year: shorter "
                                                                    "spans barely inform a one-year slope")
READING_SE_FACTOR = _choose("READING_SE_FACTOR", 2.0, "a reading fits a published CI's precision when the SE it "
                                                  "achieves is within this factor of the SE the rounded CI allows: "
                                                  "the cohort's variances are calibrated, the real ones not known")
PRIMARY_READING = _choose("PRIMARY_READING", "F", "the reading of the mediation model with the highest joint fit to "
                                                 "the published figures (okapi.chapters.readings; a test keeps them "
                                                 "in agreement)")
DOSE_LANDMARK_MONTH = _choose("DOSE_LANDMARK_MONTH", 3, "landmark of the dose-exposure analysis: the inclusion stay and "
                                                         "the first re-treatments fall before it, most of the year after")
DOSE_EFFECT_FOR_POWER = _choose("DOSE_EFFECT_FOR_POWER", -0.5, "NPRS points per gram received at which the dose "
                                                               "analyses' power is measured: the end of the sweep's "
                                                               "range of pain_per_gram_received")
MULTIPLICITY_FAMILIES = _choose("MULTIPLICITY_FAMILIES", {
    "primary": ("R4", "C3a"), "secondary": ("R5c", "R6c", "R8"), "exploratory": ("R9", "R10", "R11", "R12")},
    "families of the published P values: the pain course (the primary outcome), then quality of life and the "
    "depression interaction (secondary), then the mediation model (exploratory)")
MULTIPLICITY_ALPHA = _choose("MULTIPLICITY_ALPHA", 0.05, "familywise error rate of Holm's correction within a family")
RESPONDER_PERCENT = _choose("RESPONDER_PERCENT", 30, "a fall of at least 30% in NPRS from inclusion: IMMPACT's "
                                                     "moderately important change in chronic pain (Dworkin 2008)")
RESPONDER_POINTS = _choose("RESPONDER_POINTS", 2.0, "a fall of at least 2 NPRS points, the absolute counterpart "
                                                   "(Farrar 2001)")
RESPONDER_MONTHS = _choose("RESPONDER_MONTHS", (3, 6, 12), "early, mid-year and the end of follow-up")
PAIN_MCID_POINTS = _choose("PAIN_MCID_POINTS", 2.0, "the usual minimal clinically important fall of chronic pain on "
                                                   "the 0-10 NPRS (Farrar 2001)")
ADEQUACY_SPLINE_DF = _choose("ADEQUACY_SPLINE_DF", 4, "natural cubic spline of time in the adequacy check: enough "
                                                      "for an early fall then a plateau, few enough for 13 months")
CONFOUNDERS = _choose("CONFOUNDERS", ("age", "sex", "pain_type", "nprs_baseline", "pain_duration_years", "opioid",
                                      "antidepressant", "antiepileptic", "anxiolytic", "centre"),
                      "inclusion characteristics that could differ by depression and shape the pain course "
                      "(patients.csv and pain at inclusion), and the clinic")
DROPOUT_PATTERN_EDGES = _choose("DROPOUT_PATTERN_EDGES", (5, 11),
                                 "dropout patterns by the last month with a pain score: by month 5, months 6 to 11, "
                                 "and month 12 (followed to the end); three patterns of about 100 patients each, "
                                 "enough for a slope per pattern and depression group")
RETENTION_NUMERIC = _choose("RETENTION_NUMERIC", ("nprs_baseline", "nprs_month_1", "hads_d_baseline", "hads_a_baseline",
                                                  "age"),
                            "what the retention model of the mediation subset may use: measured by the first "
                            "monthly call, before a patient could leave; the month-1 pain score carries the "
                            "pain-related part of retention")
RETENTION_CATEGORICAL = _choose("RETENTION_CATEGORICAL", ("sex", "pain_type"),
                                "inclusion characteristics of the retention model that are categories")
MEDIATION_BOOTSTRAP = _choose("MEDIATION_BOOTSTRAP", 5000, "percentile limits stable to the printed digits")
MEDIATION_BOOTSTRAP_SEED = _choose("MEDIATION_BOOTSTRAP_SEED", 20230519, "fixed: a rerun gives the same interval")
MEDIATION_SIMULATIONS = _choose("MEDIATION_SIMULATIONS", 2000, "draws of statsmodels' Mediation, the second route")
MEDIATION_SIMULATION_SEED = _choose("MEDIATION_SIMULATION_SEED", 20230520, "fixed, and apart from the bootstrap's")
MEDIATION_MONTE_CARLO = _choose("MEDIATION_MONTE_CARLO", 200_000, "draws of the Monte Carlo interval of a*b")
MEDIATION_MONTE_CARLO_SEED = _choose("MEDIATION_MONTE_CARLO_SEED", 20230521, "fixed, and apart from the others")

# --- Trajectories ---------------------------------------------------------------------------------------------------
TRAJECTORY_K_VALUES = _choose("TRAJECTORY_K_VALUES", (1, 2, 3, 4, 5), "the companion paper's 3 groups, and 2 "
                                                                      "either side")
TRAJECTORY_DEGREE = _choose("TRAJECTORY_DEGREE", 2, "quadratic in years: an early fall then a plateau")
TRAJECTORY_STARTS = _choose("TRAJECTORY_STARTS", 30, "random starts per fit (mixture likelihoods have local maxima)")
TRAJECTORY_FINAL = _choose("TRAJECTORY_FINAL", 5, "of the starts, the best run to convergence")
TRAJECTORY_SEED = _choose("TRAJECTORY_SEED", 20230517, "fixed: a rerun finds the same maxima")
TRAJECTORY_RESAMPLES = _choose("TRAJECTORY_RESAMPLES", 200, "patient bootstrap of the class shares")
TRAJECTORY_BOOTSTRAP_STARTS = _choose("TRAJECTORY_BOOTSTRAP_STARTS", 10, "fewer starts per resample keep hundreds of "
                                                                         "refits within seconds")
TRAJECTORY_BOOTSTRAP_FINAL = _choose("TRAJECTORY_BOOTSTRAP_FINAL", 3, "of which run to convergence, per resample")
TRAJECTORY_BOOTSTRAP_SEED = _choose("TRAJECTORY_BOOTSTRAP_SEED", 20230518, "fixed, and apart from the grid's")
TRAJECTORY_PRIMARY_MODEL = _choose("TRAJECTORY_PRIMARY_MODEL", "lcga", "group-based trajectory modelling (Nagin), "
                                                                      "the companion paper's method (D9); the growth "
                                                                      "mixture and censored normal are sensitivity "
                                                                      "analyses")
TRAJECTORY_COMPARISON_BOOTSTRAP = _choose("TRAJECTORY_COMPARISON_BOOTSTRAP", 2000, "patient bootstrap of the "
                                                                              "severe-minus-mild comparisons (C6)")
TRAJECTORY_COMPARISON_SEED = _choose("TRAJECTORY_COMPARISON_SEED", 20230522, "fixed, and apart from the others")
TRAJECTORY_MIN_RELATIVE_ENTROPY = _choose("TRAJECTORY_MIN_RELATIVE_ENTROPY", 0.7, "classification quality usually "
                                                                                   "called adequate: a diagnostic "
                                                                                   "reported, not a veto (BIC chooses K)")
TRAJECTORY_MIN_AVERAGE_POSTERIOR = _choose("TRAJECTORY_MIN_AVERAGE_POSTERIOR", 0.7, "Nagin's adequacy diagnostic: "
                                                                                     "each group's mean posterior")
TRAJECTORY_MIN_OCC = _choose("TRAJECTORY_MIN_OCC", 5.0, "Nagin's adequacy diagnostic: odds of correct "
                                                       "classification of each group")
TRAJECTORY_MIN_CLASS_SHARE = _choose("TRAJECTORY_MIN_CLASS_SHARE", 0.05, "Nagin's adequacy diagnostic: a group of "
                                                                         "under 5% of patients is hard to describe")

# --- Synthetic cohort (how the default cohort is drawn, and how its sampling noise is shown) -------------------------
SYNTHETIC_SEED = _choose("SYNTHETIC_SEED", 20230519, "publication date of the primary paper: any fixed number would do")
CALIBRATION_SEED = _choose("CALIBRATION_SEED", 20230519, "the calibration solver's cohorts (okapi.synthetic."
                                                         "calibration_solver): fixed, so its solution reruns exactly")


def glued_choices(prefix: str) -> dict[str, str]:
    """The choices a chapter's prose names, as texts to glue under its own prefix (glue names are per page)."""
    return {f"{prefix}_hads_split": f"HADS-D > {HADS_D_CUTOFF}", f"{prefix}_hads_cutoff": str(HADS_D_CUTOFF),
            f"{prefix}_hads_strict_cutoff": str(HADS_STRICT_CUTOFF),
            f"{prefix}_published_hads_split": f"HADS-D > {PUBLISHED_HADS_D_CUTOFF}"}


def plan_table(kind: str | None = None) -> pd.DataFrame:
    """The plan as the methods chapter prints it: name, value, reason (optionally one kind only)."""
    rows = [c for c in CHOICES.values() if kind is None or c.kind == kind]
    # Names in code font: they are what a reader edits in okapi/plan.py, not prose.
    return pd.DataFrame([{"Choice": f"`{c.name}`", "Value": _shown(c.value), "Kind": c.kind, "Why": c.reason}
                         for c in rows])


def _shown(value) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{key}: {_shown(item)}" for key, item in value.items())
    if isinstance(value, tuple):
        return ", ".join(map(str, value))
    if isinstance(value, float) and not value.is_integer():
        unit_fraction = 0 < value < 1 and abs(1 / value - round(1 / value)) < 1e-9
        return f"1/{round(1 / value)}" if unit_fraction else f"{value:g}"
    return str(value)


# --- Chapter settings: what a reviewer's rerun may change ------------------------------------------------------------
def setting(default, reason: str):
    """A settings field with its reason (shown in the chapter's settings table)."""
    return field(default=default, metadata={"reason": reason})


@dataclass(frozen=True)
class Settings:
    """Base of a chapter's rerun settings: defaults and reasons in one place, unknown names refused."""

    @classmethod
    def from_parameters(cls, parameters: dict | None = None):
        """From a parameters cell's overrides ({name: value}); an unknown name is an error, not silently ignored."""
        parameters = dict(parameters or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(parameters) - known)
        if unknown:
            raise ValueError(f"unknown {cls.__name__} setting(s) {unknown}; known: {sorted(known)}")
        # A list from the parameters cell becomes a tuple: settings are frozen and hashable, as the defaults are.
        values = {name: tuple(value) if isinstance(value, list) else value for name, value in parameters.items()}
        return replace(cls(), **values)

    def table(self) -> pd.DataFrame:
        """Name, value in this run, default, and reason: what the chapter shows instead of its parameters code."""
        default = type(self)()
        # Names in code font: they are what a reviewer passes to `--set name=value`, not prose.
        return pd.DataFrame([{"Setting": f"`{f.name}`", "Value": _shown(getattr(self, f.name)),
                              "Default": _shown(getattr(default, f.name)), "Why": f.metadata.get("reason", "")}
                             for f in fields(self)])


@dataclass(frozen=True)
class SensitivitySettings(Settings):
    """The sensitivity chapter's settings."""

    seed: int = setting(20230519, "every random draw of the chapter derives from it")
    n_workers: int = setting(2, "processes for independent refits; results do not depend on it")
    n_imputations: int = setting(20, "multiple imputation: Monte Carlo error well below the printed digits")
    tipping_deltas: tuple[float, ...] = setting(tuple(x / 2 for x in range(0, 13)),
                                                "NPRS points added to the scores after dropout (tipping point)")
    n_bootstrap: int = setting(2000, "mediation bootstrap resamples per reading")
    trajectory_starts: int = setting(30, "random starts per trajectory fit, as in the trajectory chapter")
    trajectory_resamples: int = setting(50, "patient bootstrap resamples for the stability of K")
    trajectory_start_seeds: int = setting(10, "seeds of the whole random-start protocol: does the chosen K change?")
    sweep_n_patients: int = setting(PUBLISHED_N_PATIENTS, "patients per simulated cohort: the published size")
    sweep_replicates: int = setting(3, "cohorts per sweep end, averaged, so a bar is not one cohort's noise")
    sweep_default_cohorts: int = setting(20, "cohorts at the default values: the level and the noise band")
    sweep_trajectory_starts: int = setting(10, "random starts per trajectory fit in the sweep (as the bootstrap)")
    sweep_trajectory_final: int = setting(3, "of which run to convergence (as the bootstrap)")
    sweep_population_patients: int = setting(200_000, "patients per simulated population (proportion mediated)")
    sweep_population_default_draws: int = setting(5, "populations at the default values (level and noise band)")
    sweep_tornado_top: int = setting(12, "parameters shown per panel of the tornado figures")
    hads_strict_cutoff: int = setting(HADS_STRICT_CUTOFF, "the stricter split beside the analysis one")
    hads_change_month: int = setting(3, "questionnaire month ending the early window of the change-in-HADS-D reading")
    dose_cohorts: int = setting(40, "synthetic cohorts per truth in the dose-exposure bias check (MC SE of a 5% "
                                    "false-positive rate about 3.4 points)")


@dataclass(frozen=True)
class SimulationStudySettings(Settings):
    """The simulation-study appendix's settings."""

    n_replicates: int = setting(200, "cohorts: Monte Carlo SE of a 95% coverage about 1.5 points")
    seed: int = setting(SYNTHETIC_SEED, "replicate i's seed derives from it (and i) alone")
    n_patients: int = setting(PUBLISHED_N_PATIENTS, "patients per cohort: the published size")
    n_boot: int = setting(MEDIATION_BOOTSTRAP, "mediation bootstrap resamples per replicate, as in the chapter")
    # 2,500 patients per cohort: the fast REML flagged 6 of 40 fits of 5,000 patients as not converged (its gradient
    # tolerance is absolute; the estimates agreed with statsmodels to 1e-5), none of 40 at 2,500 in a trial run.
    pseudo_truth_patients: int = setting(200_000, "patients simulated for each estimator's pseudo-truth")
    pseudo_truth_parts: int = setting(80, "cohorts the pseudo-truth is split into (their spread gives its MC SE)")
    population_patients: int = setting(2_000_000, "latent patients for the generator values (same number of parts)")
    n_workers: int = setting(2, "processes; results do not depend on it")
    overrides: tuple = setting((), "generator parameters changed, as (name, value) pairs")

    @property
    def generator_overrides(self) -> dict:
        return dict(self.overrides)


@dataclass(frozen=True)
class OperatingSettings(Settings):
    """How the verdict rules' error rates and power are measured (okapi.simulation.operating): cohorts drawn from the
    book's generator, each analysed by the chapters' own functions, with fewer resamples where a chapter bootstraps."""

    n_replicates: int = setting(200, "cohorts: Monte Carlo SE of a rate near 95% about 1.5 points")
    seed: int = setting(20230601, "replicate i's cohort derives from it (and i) alone")
    n_patients: int = setting(PUBLISHED_N_PATIENTS, "patients per cohort: the published size")
    n_workers: int = setting(2, "processes; results do not depend on it")
    mediation_boot: int = setting(1000, "mediation bootstrap resamples per cohort (the chapter: 5,000)")
    effect_size_boot: int = setting(200, "resamples of the observed-case effect size C4 (the chapter: 2,000)")
    trajectory_resamples: int = setting(40, "resamples of the 3-group shares per cohort (the chapter: 200)")
    trajectory_starts: int = setting(10, "random starts per trajectory fit (the chapter: 30)")
    trajectory_final: int = setting(3, "of which run to convergence (the chapter: 5)")
    trajectory_bootstrap_starts: int = setting(5, "random starts per share resample (the chapter: 10)")
    trajectory_bootstrap_final: int = setting(2, "of which run to convergence (the chapter: 3)")
