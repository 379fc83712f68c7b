"""Sensitivity section "Centres": the 30 clinics as a level of clustering, and whether it changes any conclusion.

Pain models: the primary mixed models (random intercept + slope on years per patient) refitted with a random centre
intercept, patients nested in centres (okapi.models.centre_model, checked against R lme4), for the one-year
decline (pain chapter), the time x depression interaction and its omnibus test (depression chapter). Mediation
(one row per patient, okapi.chapters.mediation): the same OLS paths with centre-clustered standard errors (CR1, t
with G - 1 df) and a bootstrap that resamples centres, and within centres (centre fixed effects).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm

from okapi.chapters import depression as depression_pain, pain as pain_course
from okapi.data.loading import Cohort
from okapi.data.derive import pain_long
from okapi.models.intervals import excludes_zero
from okapi.models.lmm_batch import fit_random_slope_model
from okapi.models.mediation import PATHS, bootstrap_mediation, mediation_paths
from okapi.chapters.mediation import mediation_dataset
from okapi.models.mixed_models import LinearCombination, MixedModelFit, WaldTest, linear_combination, wald_test
from okapi.data.privacy import shown_count
from okapi.book.report import fmt_estimate_ci, fmt_number, fmt_p_statement
from okapi.sensitivity.verdicts import CHECK, CONTRADICTED, DEPARTURE, SUPPORTED, Verdict, verdict_line
from okapi.models.centre_model import centre_icc, centre_variance_test, fit_centre_mixed_model
from okapi.data.targets import target_value
from okapi.plan import (CATEGORICAL_GROUP, LINEAR_GROUP, LINEAR_TIME, MEDIATION_BOOTSTRAP, MEDIATION_BOOTSTRAP_SEED,
                        PER_MONTH, SensitivitySettings)

CENTRE = "centre"
OLS_PATHS = ("a", "b", "c_prime", "c")
READINGS = {"primary": "Primary (no centre)", "clustered": "Centre-clustered SEs, centre bootstrap",
            "fixed_effects": "Centre fixed effects, centre bootstrap"}


# --- pain models ---------------------------------------------------------------------------------------------------
@dataclass
class PainModelPair:
    label: str
    primary: MixedModelFit                 # without centres (the primary model, by okapi.models.lmm_batch)
    with_centre: MixedModelFit             # + (1 | centre)
    without_centre_reml: MixedModelFit     # our REML with var(centre) = 0: the LRT's null on the same footing

    @property
    def icc(self) -> float:
        return centre_icc(self.with_centre)

    @property
    def centre_test(self) -> tuple[float, float]:
        return centre_variance_test(self.with_centre, self.without_centre_reml)


def depression_analysis_set(long_df: pd.DataFrame) -> pd.DataFrame:
    """The depression chapter's rows: patients with a baseline HADS-D, depressed as a plain boolean."""
    data = pain_course.canonical_order(long_df.loc[long_df["hads_d_baseline"].notna()])
    data["depressed"] = data["depressed"].astype(bool)
    return data


def fit_pain_pairs(long_df: pd.DataFrame) -> dict[str, PainModelPair]:
    pain = pain_course.canonical_order(long_df)
    depression = depression_analysis_set(long_df)
    specs = {"decline": ("Pain over time (pain chapter)", pain, LINEAR_TIME),
             "interaction": ("Time x depression, linear time", depression, LINEAR_GROUP),
             "omnibus": ("Time x depression, time as categories", depression, CATEGORICAL_GROUP)}
    return {key: PainModelPair(label, fit_random_slope_model(data, fixed), fit_centre_mixed_model(data, fixed),
                               fit_centre_mixed_model(data, fixed, with_centre=False))
            for key, (label, data, fixed) in specs.items()}


def slope_per_year(fit: MixedModelFit) -> LinearCombination:
    return linear_combination(fit, {"years": 1.0})


def interaction_per_month(fit: MixedModelFit) -> LinearCombination:
    return linear_combination(fit, {"years:depressed": PER_MONTH})


def omnibus(fit: MixedModelFit) -> WaldTest:
    return wald_test(fit, depression_pain.GROUP_INTERACTIONS)


# --- mediation -----------------------------------------------------------------------------------------------------
def clustered_ols_table(x, m, y, centre, fixed_effects: bool = False, level: float = 0.95) -> pd.DataFrame:
    """Paths a, b, c', c by OLS with CR1 centre-clustered SEs (statsmodels; t with G - 1 df); with `fixed_effects`,
    a dummy per centre in every model (within-centre paths)."""
    x, m, y = (np.asarray(v, dtype=float) for v in (x, m, y))
    codes = pd.factorize(np.asarray(centre), sort=True)[0]
    extra = pd.get_dummies(codes, drop_first=True).to_numpy(float) if fixed_effects else np.empty((x.size, 0))
    one = np.ones_like(x)
    models = {"a": (m, [one, x], 1), "b": (y, [one, x, m], 2), "c_prime": (y, [one, x, m], 1), "c": (y, [one, x], 1)}
    rows = {}
    for path, (target, columns, index) in models.items():
        fit = sm.OLS(target, np.column_stack([*columns, extra])).fit(cov_type="cluster", cov_kwds={"groups": codes},
                                                                      use_t=True)
        low, high = fit.conf_int(1 - level)[index]
        rows[path] = {"estimate": float(fit.params[index]), "se": float(fit.bse[index]), "p": float(fit.pvalues[index]),
                      "ci_low": float(low), "ci_high": float(high)}
    return pd.DataFrame.from_dict(rows, orient="index")


def within_centres(values: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Columns minus their centre means: OLS on these gives the slopes of OLS with a dummy per centre (Frisch-Waugh-
    Lovell), without building the dummies."""
    counts = np.bincount(labels)
    means = np.stack([np.bincount(labels, column) / counts for column in values.T], axis=1)
    return values - means[labels]


def fixed_effects_paths(x, m, y, labels) -> np.ndarray:
    """Within-centre path estimates (PATHS order); the proportion is a ratio of slopes, so it carries over."""
    within = within_centres(np.column_stack([x, m, y]).astype(float), np.asarray(labels))
    return mediation_paths(within[:, 0], within[:, 1], within[:, 2])


def centre_bootstrap_paths(x, m, y, centre, n_boot: int, seed: int, fixed_effects: bool = False) -> np.ndarray:
    """(n_boot, len(PATHS)) path estimates on resamples of whole centres (each drawn centre keeps all its patients;
    with `fixed_effects`, each draw is its own centre, so a centre drawn twice counts as two clusters). A resample
    whose mediator is constant gives a row of NaN."""
    x, m, y = (np.asarray(v, dtype=float) for v in (x, m, y))
    codes = pd.factorize(np.asarray(centre), sort=True)[0]
    members = [np.flatnonzero(codes == g) for g in range(codes.max() + 1)]
    draws = np.random.default_rng(seed).integers(0, len(members), size=(n_boot, len(members)))
    out = np.full((n_boot, len(PATHS)), np.nan)
    for row, drawn in enumerate(draws):
        index = np.concatenate([members[g] for g in drawn])
        try:
            if fixed_effects:
                labels = np.repeat(np.arange(drawn.size), [members[g].size for g in drawn])
                out[row] = fixed_effects_paths(x[index], m[index], y[index], labels)
            else:
                out[row] = mediation_paths(x[index], m[index], y[index])
        except (ValueError, np.linalg.LinAlgError):
            pass
    return out


@dataclass
class MediationReading:
    label: str
    ols: pd.DataFrame          # a, b, c_prime, c: estimate, se, p, ci_low, ci_high
    estimates: pd.Series       # PATHS: point estimates
    boot_ci: pd.DataFrame      # PATHS: perc_low, perc_high
    n_boot: int
    n_unusable: int            # resamples without an estimate (constant mediator)


def _percentile_table(replicates: np.ndarray, level: float = 0.95) -> pd.DataFrame:
    alpha = (1 - level) / 2
    rows = {}
    for j, path in enumerate(PATHS):
        values = replicates[:, j][np.isfinite(replicates[:, j])]
        low, high = np.quantile(values, [alpha, 1 - alpha])
        rows[path] = {"perc_low": float(low), "perc_high": float(high)}
    return pd.DataFrame.from_dict(rows, orient="index")


def mediation_readings(frame: pd.DataFrame, n_boot: int, seed: int) -> dict[str, MediationReading]:
    """The chapter's primary reading (its own patient bootstrap) and the two centre readings, on the analysed
    patients of okapi.chapters.mediation.mediation_dataset with their centre."""
    x, m, y, centre = frame["dose_g"], frame["depressed"], frame["diminution_per_month"], frame[CENTRE]
    primary = bootstrap_mediation(x, m, y, n_boot=MEDIATION_BOOTSTRAP, seed=MEDIATION_BOOTSTRAP_SEED)
    readings = {"primary": MediationReading(
        READINGS["primary"], primary.ols[["estimate", "se", "p", "ci_low", "ci_high"]],
        primary.estimates["estimate"], primary.estimates[["perc_low", "perc_high"]], primary.n_boot, 0)}
    labels = pd.factorize(centre, sort=True)[0]
    for key, fixed_effects in (("clustered", False), ("fixed_effects", True)):
        replicates = centre_bootstrap_paths(x, m, y, centre, n_boot, seed, fixed_effects)
        point = fixed_effects_paths(x, m, y, labels) if fixed_effects else mediation_paths(x, m, y)
        readings[key] = MediationReading(READINGS[key], clustered_ols_table(x, m, y, centre, fixed_effects),
                                         pd.Series(point, index=list(PATHS)), _percentile_table(replicates), n_boot,
                                         int(np.isnan(replicates).any(axis=1).sum()))
    return readings


# --- the section in one call ---------------------------------------------------------------------------------------
@dataclass
class CentreResults:
    n_centres: int
    centre_sizes: pd.Series            # patients per centre (all patients of patients.csv)
    pain: dict[str, PainModelPair]
    mediation: dict[str, MediationReading]
    n_mediation_patients: int
    n_mediation_centres: int
    mode: str


def run_centres_sensitivity(cohort: Cohort, settings: SensitivitySettings) -> CentreResults:
    """Everything of the section: the pain models with and without a random centre intercept, and the mediation
    paths with centre-clustered inference and within centres."""
    frame, _ = mediation_dataset(cohort)
    frame = frame.merge(cohort.patients[["patient_id", CENTRE]], on="patient_id", how="left", validate="one_to_one")
    analysed = frame[frame["analysed"]].reset_index(drop=True)
    sizes = cohort.patients[CENTRE].value_counts().sort_index()
    return CentreResults(
        n_centres=int(sizes.size), centre_sizes=sizes, pain=fit_pain_pairs(pain_long(cohort)),
        mediation=mediation_readings(analysed, settings.n_bootstrap, settings.seed),
        n_mediation_patients=len(analysed), n_mediation_centres=int(analysed[CENTRE].nunique()), mode=cohort.mode)


# --- verdicts, prose and tables --------------------------------------------------------------------------------------
PATH_LABELS = {"a": ("a: dose -> depression", 3), "b": ("b: depression -> diminution", 3),
               "c_prime": ("c\u2032: dose -> diminution, direct", 4), "c": ("c: dose -> diminution, total", 4),
               "indirect": ("a \u00d7 b: indirect", 4), "proportion_mediated": ("a \u00d7 b / c, %", 1)}


def _combo(combo: LinearCombination, digits: int) -> str:
    return fmt_estimate_ci(combo.estimate, combo.ci_low, combo.ci_high, digits)


def _path(reading: MediationReading, path: str) -> tuple[float, float, float]:
    """Estimate and 95% CI: the OLS interval for a, b, c', c; the bootstrap percentile one for a*b and the share."""
    if path in OLS_PATHS:
        row = reading.ols.loc[path]
        return float(row["estimate"]), float(row["ci_low"]), float(row["ci_high"])
    scale = 100.0 if path == "proportion_mediated" else 1.0
    ci = reading.boot_ci.loc[path]
    return scale * float(reading.estimates[path]), scale * float(ci["perc_low"]), scale * float(ci["perc_high"])


def _fmt_path(reading: MediationReading, path: str) -> str:
    return fmt_estimate_ci(*_path(reading, path), PATH_LABELS[path][1])


def mediation_holds(reading: MediationReading) -> bool:
    """"Depression mediated most of the association of dose with pain diminution" needs an association to mediate
    and most of it: the total effect c and the indirect effect a x b both with a 95% CI excluding 0, same sign, and
    a proportion mediated a x b / c above 50% (and at most 100%)."""
    indirect, total = _path(reading, "indirect"), _path(reading, "c")
    return (excludes_zero(*indirect[1:]) and excludes_zero(*total[1:])
            and np.sign(indirect[0]) == np.sign(total[0]) and 0.5 < indirect[0] / total[0] <= 1.0)


def _mediation_reason(reading: MediationReading) -> str:
    """Why mediation_holds fails, in words ('' when it holds)."""
    indirect, total = _path(reading, "indirect"), _path(reading, "c")
    reasons = []
    if not excludes_zero(*total[1:]):
        reasons.append("the CI of c includes 0, so there is no association of dose with diminution to mediate")
    if not excludes_zero(*indirect[1:]):
        reasons.append("the CI of a \u00d7 b includes 0")
    if not reasons and np.sign(indirect[0]) != np.sign(total[0]):
        reasons.append("a \u00d7 b and c have opposite signs")
    if not reasons and not 0.5 < indirect[0] / total[0] <= 1.0:
        reasons.append("a \u00d7 b is not most of c")
    return "; " + " and ".join(reasons) if reasons else ""


def verdicts(results: CentreResults) -> list[Verdict]:
    """pain_decline, depression_interaction (random centre intercept); depression_mediates and dose_not (each under
    centre-clustered inference and within centres)."""
    decline, interaction = results.pain["decline"], results.pain["interaction"]
    analysis = f"random centre intercept ({results.n_centres} centres)"
    slope, slope_primary = slope_per_year(decline.with_centre), slope_per_year(decline.primary)
    out = [Verdict("pain_decline", analysis, SUPPORTED if slope.ci_high < 0 else CONTRADICTED,
                   f"With a random centre intercept (ICC at inclusion {fmt_number(decline.icc, 3)}), pain changed by "
                   f"{_combo(slope, 2)} points per year, against {_combo(slope_primary, 2)} without it.")]
    inter, inter_primary = interaction_per_month(interaction.with_centre), interaction_per_month(interaction.primary)
    same_sign = np.sign(inter.estimate) == np.sign(target_value("R8"))
    test = omnibus(results.pain["omnibus"].with_centre)
    out.append(Verdict(
        "depression_interaction", analysis,
        SUPPORTED if same_sign and excludes_zero(inter.ci_low, inter.ci_high) else CONTRADICTED,
        f"With a random centre intercept, the time \u00d7 depression interaction is {_combo(inter, 3)} points per "
        "month "
        f"(omnibus test with time as categories {fmt_p_statement(test.p)}), against {_combo(inter_primary, 3)} "
        "without it.", null_result=not excludes_zero(inter.ci_low, inter.ci_high)))
    for key in ("clustered", "fixed_effects"):
        reading = results.mediation[key]
        what = ("centre-clustered SEs and a bootstrap of centres" if key == "clustered"
                else "centre fixed effects (within-centre paths) and a bootstrap of centres")
        kind = CHECK if key == "clustered" else DEPARTURE  # clustered: the same estimates, other SEs
        out.append(Verdict(
            "depression_mediates", what, SUPPORTED if mediation_holds(reading) else CONTRADICTED,
            f"With {what}, the depression path b is {_fmt_path(reading, 'b')}, the indirect effect a \u00d7 b "
            f"{_fmt_path(reading, 'indirect')} and the total effect c {_fmt_path(reading, 'c')} points per month; "
            f"a \u00d7 b / c is {fmt_number(100 * reading.estimates['proportion_mediated'], 1)}%"
            + _mediation_reason(reading) + ".", kind=kind, null_result=not mediation_holds(reading)))
        direct, total_ci = reading.ols.loc["c_prime"], reading.ols.loc["c"]
        dose_null = not excludes_zero(direct["ci_low"], direct["ci_high"]) and not excludes_zero(
            total_ci["ci_low"], total_ci["ci_high"])
        out.append(Verdict(
            "dose_not", what, SUPPORTED if dose_null else CONTRADICTED,
            f"With {what}, the dose's direct path c\u2032 is {_fmt_path(reading, 'c_prime')} and its total path c "
            f"{_fmt_path(reading, 'c')} points per month per gram.", kind=kind, null_result=dose_null))
    return out


VERDICT_NAMES = ("decline", "interaction", "mediates_clustered", "dose_clustered", "mediates_fixed", "dose_fixed")


def glued_text(results: CentreResults, finished: list[Verdict] | None = None) -> dict[str, str]:
    """Every number of the section's prose (names sens_centres_...)."""
    sizes, mode = results.centre_sizes, results.mode
    text = {"sens_centres_n_centres": str(results.n_centres),
            "sens_centres_size_median": fmt_number(float(sizes.median()), 0),
            "sens_centres_size_range": (f"{shown_count(int(sizes.min()), mode)} to "
                                        f"{shown_count(int(sizes.max()), mode)}"),
            "sens_centres_n_mediation": str(results.n_mediation_patients),
            "sens_centres_n_mediation_centres": str(results.n_mediation_centres),
            "sens_centres_n_boot": str(results.mediation["clustered"].n_boot),
            "sens_centres_n_boot_primary": str(results.mediation["primary"].n_boot),
            "sens_centres_n_unusable": str(max(r.n_unusable for r in results.mediation.values()))}
    for key, pair in results.pain.items():
        statistic, p = pair.centre_test
        var_centre = float(pair.with_centre.variance_components["var(centre)"])
        text.update({f"sens_centres_{key}_var_centre": fmt_number(var_centre, 3),
                     f"sens_centres_{key}_sd_centre": fmt_number(np.sqrt(var_centre), 2) + " points",
                     f"sens_centres_{key}_icc": fmt_number(pair.icc, 3),
                     f"sens_centres_{key}_lrt": f"{fmt_number(statistic, 2)} ({fmt_p_statement(p)})"})
    for label, fit in (("primary", "primary"), ("centre", "with_centre")):
        pairs = results.pain
        text[f"sens_centres_slope_{label}"] = _combo(slope_per_year(getattr(pairs["decline"], fit)), 2)
        text[f"sens_centres_interaction_{label}"] = _combo(interaction_per_month(getattr(pairs["interaction"], fit)), 3)
        test = omnibus(getattr(pairs["omnibus"], fit))
        text[f"sens_centres_omnibus_{label}"] = (f"chi-square {fmt_number(test.chi2, 1)}, {test.df} df, "
                                                 f"{fmt_p_statement(test.p)}")
    for key, reading in results.mediation.items():
        for path in ("b", "c_prime", "c", "indirect", "proportion_mediated"):
            text[f"sens_centres_{key}_{path}"] = _fmt_path(reading, path)
    for name, verdict in zip(VERDICT_NAMES, finished or verdicts(results)):
        text[f"sens_centres_verdict_{name}"] = verdict_line(verdict)
    return text


def pain_table(results: CentreResults) -> pd.DataFrame:
    """Key quantity and variance components of each pain model, without and with the centre level."""
    rows = []
    for key, pair in results.pain.items():
        if key == "decline":
            quantity = ("Change per year", [_combo(slope_per_year(f), 2) for f in (pair.primary, pair.with_centre)])
        elif key == "interaction":
            quantity = ("Difference in change per month",
                        [_combo(interaction_per_month(f), 3) for f in (pair.primary, pair.with_centre)])
        else:
            tests = [omnibus(f) for f in (pair.primary, pair.with_centre)]
            quantity = (f"Omnibus Wald test ({tests[0].df} df)",
                        [f"chi-square {fmt_number(t.chi2, 1)}, {fmt_p_statement(t.p)}" for t in tests])
        rows.append((pair.label, quantity[0], *quantity[1]))
        vc_primary, vc_centre = pair.primary.variance_components, pair.with_centre.variance_components
        statistic, p = pair.centre_test
        rows += [(pair.label, "Variance between centres", "-", fmt_number(vc_centre["var(centre)"], 3)),
                 (pair.label, "Variance of patient intercepts", fmt_number(vc_primary["var(Intercept)"], 3),
                  fmt_number(vc_centre["var(Intercept)"], 3)),
                 (pair.label, "ICC of centres at inclusion", "-", fmt_number(pair.icc, 3)),
                 (pair.label, "Likelihood-ratio test, centre variance = 0", "-",
                  f"{fmt_number(statistic, 2)}, {fmt_p_statement(p)}")]
    return pd.DataFrame(rows, columns=["Model", "Quantity", "Without centres (primary)",
                                       "With a random centre intercept"])


def mediation_table(results: CentreResults) -> pd.DataFrame:
    """Each path, estimate (95% CI), under the primary reading and the two centre readings."""
    table = pd.DataFrame({"Path": [PATH_LABELS[p][0] for p in PATHS]})
    for key, reading in results.mediation.items():
        table[reading.label] = [_fmt_path(reading, path) for path in PATHS]
    return table
