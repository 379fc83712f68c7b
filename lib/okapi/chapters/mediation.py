"""The mediation chapter in one call: the published dose -> baseline depression -> pain diminution model (R9-R13).

Primary reading (okapi.plan.PRIMARY_READING, chosen by okapi.chapters.readings; the synthetic cohort is calibrated
under it, okapi.synthetic.calibration):
- X, exposure: cumulative ketamine dose over the year, in grams (ketamine.csv summed per patient);
- M, "mediator": depressive symptoms at inclusion, baseline HADS-D > 7 (0/1);
- Y, outcome: pain diminution, minus the patient's least-squares slope of monthly NPRS on month, in NPRS points per
  month (positive = pain falls); defined for patients with at least MEDIATION_MIN_SCORES scores spanning MEDIATION_MIN_SPAN_MONTHS (okapi.plan).
- R9, the dose-diminution correlation, over pairs of consecutive answered calls: the ketamine received between the two
  calls against the fall in NPRS over them (the unit R9's published n implies); R10 over patients.
Paths by OLS, product of coefficients, nonparametric bootstrap over patients (okapi.models.mediation). Baseline depression
is measured before the dose accrues, so a*b/c is read as the share of the crude dose-diminution slope removed by
adjusting for depression (arithmetically the same as confounding), not as a causal pathway.
"""

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from okapi.data.loading import Cohort
from okapi.data.derive import monthly_pairs, patient_summary
from okapi.models.intervals import excludes_zero
from okapi.verdicts.ledger import (NOT_COMPARABLE, LedgerEntry, PublishedStatement, entry, printed_targets,
                                   published_figure)
from okapi.verdicts.consistency import n_from_r_and_p
from okapi.verdicts.rules import NOT_ESTIMABLE, REPRODUCED
from okapi.models.mediation import MediationBootstrap, bootstrap_mediation, statsmodels_mediation
from okapi.data.privacy import shown_count
from okapi.book.report import fmt_ci, fmt_number, fmt_p_statement
from okapi.plan import (CI_LEVEL, HADS_D_CUTOFF, MEDIATION_BOOTSTRAP, MEDIATION_BOOTSTRAP_SEED, MEDIATION_MIN_SCORES,
                        MEDIATION_MIN_SPAN_MONTHS, MEDIATION_MONTE_CARLO, MEDIATION_MONTE_CARLO_SEED,
                        MEDIATION_SIMULATIONS, MEDIATION_SIMULATION_SEED)

CHAPTER = "chapters/mediation"
MG_PER_G = 1000.0


def pain_diminution(visits: pd.DataFrame, min_scores: int = MEDIATION_MIN_SCORES,
                    min_span_months: int = MEDIATION_MIN_SPAN_MONTHS) -> pd.DataFrame:
    """Per patient (index patient_id, patients with at least one NPRS): n_scores, span_months and
    diminution_per_month = minus the OLS slope of NPRS on month, NaN unless n_scores >= min_scores and
    span_months >= min_span_months."""
    scores = visits.loc[visits["nprs"].notna(), ["patient_id", "month", "nprs"]]
    month = scores["month"].to_numpy(dtype=float)
    nprs = scores["nprs"].to_numpy(dtype=float)
    by_patient = scores["patient_id"].to_numpy()
    grouped = pd.DataFrame({"patient_id": by_patient, "t": month, "y": nprs}).groupby("patient_id", sort=False)
    centred_t = month - grouped["t"].transform("mean").to_numpy()
    centred_y = nprs - grouped["y"].transform("mean").to_numpy()
    sums = pd.DataFrame({"patient_id": by_patient, "sxx": centred_t ** 2, "sxy": centred_t * centred_y}).groupby(
        "patient_id", sort=False).sum()
    result = pd.DataFrame({"n_scores": grouped.size(), "span_months": grouped["t"].max() - grouped["t"].min()})
    eligible = (result["n_scores"] >= min_scores) & (result["span_months"] >= min_span_months)
    slope = sums["sxy"] / sums["sxx"].where(sums["sxx"] > 0)
    result["diminution_per_month"] = (-slope).where(eligible)
    return result


def mediation_dataset(cohort: Cohort) -> tuple[pd.DataFrame, dict[str, int]]:
    """One row per patient, sorted by patient_id: dose_g, hads_d_baseline, depressed (0/1, NaN when no baseline
    HADS-D), diminution_per_month, analysed; and the patient flow counts. The bootstrap draws patients by position,
    so a fixed order keeps its intervals independent of the order of the rows in the files."""
    summary = patient_summary(cohort)
    diminution = pain_diminution(cohort.visits)["diminution_per_month"]
    frame = pd.DataFrame({
        "patient_id": summary["patient_id"],
        "dose_g": summary["cumulative_dose_mg"].to_numpy(dtype=float) / MG_PER_G,
        "hads_d_baseline": summary["hads_d_baseline"].to_numpy(dtype=float, na_value=np.nan),
        "diminution_per_month": summary["patient_id"].map(diminution).to_numpy(dtype=float),
    })
    frame = frame.sort_values("patient_id", kind="stable").reset_index(drop=True)
    frame["depressed"] = np.where(frame["hads_d_baseline"].isna(), np.nan,
                                  (frame["hads_d_baseline"] > HADS_D_CUTOFF).astype(float))
    has_y = frame["diminution_per_month"].notna()
    has_m = frame["depressed"].notna()
    frame["analysed"] = has_y & has_m
    flow = {"n_patients": len(frame), "n_with_diminution": int(has_y.sum()), "n_without_diminution": int((~has_y).sum()),
            "n_with_hads": int(has_m.sum()),
            "n_missing_hads_among_y": shown_count(int((has_y & ~has_m).sum()), cohort.mode),  # printed as is
            "n_analysed": int(frame["analysed"].sum())}
    return frame, flow


@dataclass(frozen=True)
class Correlation:
    r: float
    ci_low: float  # Fisher z interval
    ci_high: float
    p: float  # t test with n - 2 df
    n: int


def pearson_correlation(x, y, level: float = CI_LEVEL) -> Correlation:
    """Pearson r over the pairs where both values are present."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    both = ~(np.isnan(x) | np.isnan(y))
    x, y = x[both], y[both]
    n = x.size
    r = float(np.corrcoef(x, y)[0, 1])
    half = stats.norm.ppf(0.5 + level / 2) / np.sqrt(n - 3)
    t = r * np.sqrt((n - 2) / (1 - r ** 2))
    return Correlation(r, float(np.tanh(np.arctanh(r) - half)), float(np.tanh(np.arctanh(r) + half)),
                       float(2 * stats.t.sf(abs(t), n - 2)), int(n))


@functools.lru_cache(maxsize=None)
def implied_sample_size_range(target_id: str) -> tuple[float, float]:
    """Smallest and largest n consistent with a published (r, P) pair once both are allowed their rounding. It reads
    the published figures only, never the cohort, so it is computed once per process: the verdict-rule simulation
    analyses hundreds of cohorts, and this search over n took 2 of each cohort's 3.5 seconds."""
    row = printed_targets().loc[target_id]
    implied = n_from_r_and_p(row["value"], row["p_reported"], 0)[1]
    return implied.low, implied.high


def monte_carlo_indirect(ols: pd.DataFrame, n_draws: int = MEDIATION_MONTE_CARLO, seed: int = MEDIATION_MONTE_CARLO_SEED,
                         level: float = CI_LEVEL) -> tuple[float, float, float]:
    """SD and percentile interval of a*b with a and b drawn from their (independent) normal sampling distributions:
    the quasi-Bayesian simulation when both potential mediators share one error draw."""
    rng = np.random.default_rng(seed)
    a = rng.normal(ols.loc["a", "estimate"], ols.loc["a", "se"], n_draws)
    b = rng.normal(ols.loc["b", "estimate"], ols.loc["b", "se"], n_draws)
    product = a * b
    low, high = np.quantile(product, [(1 - level) / 2, (1 + level) / 2])
    return float(product.std(ddof=1)), float(low), float(high)


def predicted_statsmodels_width_ratio(ols: pd.DataFrame, mediator_residual_var: float, n: int) -> float:
    """SD ratio statsmodels / shared-draw simulation for the indirect effect. statsmodels draws M(1) and M(0) with
    independent errors, so each draw's mean effect carries b^2 * 2 sigma_M^2 / n of extra variance."""
    a, se_a = ols.loc["a", "estimate"], ols.loc["a", "se"]
    b, se_b = ols.loc["b", "estimate"], ols.loc["b", "se"]
    shared = a ** 2 * se_b ** 2 + b ** 2 * se_a ** 2 + se_a ** 2 * se_b ** 2
    extra = (b ** 2 + se_b ** 2) * 2 * mediator_residual_var / n
    return float(np.sqrt((shared + extra) / shared))


@dataclass
class MediationResults:
    flow: dict[str, int]
    dose_vs_diminution: Correlation  # R9, over pairs of consecutive answered calls (primary reading)
    dose_vs_diminution_patients: Correlation  # R9 under the patient-level reading: one-year dose vs Y
    n_pair_patients: int  # patients contributing at least one pair
    dose_vs_depression: Correlation  # R10, continuous baseline HADS-D
    bootstrap: MediationBootstrap
    statsmodels_summary: pd.DataFrame
    monte_carlo_indirect: tuple[float, float, float]  # SD, CI
    predicted_width_ratio: float
    observed_width_ratio: float  # statsmodels CI width / shared-draw CI width, indirect effect
    implied_n: dict[str, tuple[float, float]]
    n_observed_scores: int
    dose_summary: tuple[float, float, float]  # median, quartiles, grams
    robust_se: dict[str, float]  # HC3 standard errors of a, b, c', c: what the bootstrap SE should approach

    @property
    def proportion_percent(self) -> tuple[float, float, float, float, float]:
        """Estimate, percentile CI, bias-corrected CI, in %."""
        row = self.bootstrap.estimates.loc["proportion_mediated"]
        return tuple(100 * float(row[k]) for k in ("estimate", "perc_low", "perc_high", "bc_low", "bc_high"))

    @property
    def total_flips_sign(self) -> float:
        """Share of bootstrap resamples whose total effect c has the opposite sign to the full-data c."""
        c = self.bootstrap.replicates[:, 3]
        return float(np.mean(np.sign(c) != np.sign(self.bootstrap.estimates.loc["c", "estimate"])))


def analyse_mediation(cohort: Cohort, n_boot: int = MEDIATION_BOOTSTRAP,
                      second_routes: bool = True) -> MediationResults:
    """The chapter's analysis. okapi.simulation.operating reruns it on many cohorts with fewer resamples and without
    the second routes (statsmodels' Mediation, the Monte Carlo interval, HC3 SEs), which the ledger does not use."""
    frame, flow = mediation_dataset(cohort)
    analysed = frame[frame["analysed"]]
    x, m, y = analysed["dose_g"], analysed["depressed"], analysed["diminution_per_month"]
    boot = bootstrap_mediation(x, m, y, n_boot=n_boot, seed=MEDIATION_BOOTSTRAP_SEED, level=CI_LEVEL)
    quartiles = frame["dose_g"].quantile([0.5, 0.25, 0.75])
    pairs = monthly_pairs(cohort)
    shared = dict(
        flow=flow,
        dose_vs_diminution=pearson_correlation(pairs["dose_g"], pairs["diminution"]),
        dose_vs_diminution_patients=pearson_correlation(frame["dose_g"], frame["diminution_per_month"]),
        n_pair_patients=int(pairs["patient_id"].nunique()),
        dose_vs_depression=pearson_correlation(frame["dose_g"], frame["hads_d_baseline"]),
        bootstrap=boot, implied_n={target_id: implied_sample_size_range(target_id) for target_id in ("R9", "R10")},
        n_observed_scores=int(cohort.visits["nprs"].notna().sum()),
        dose_summary=tuple(float(q) for q in quartiles))
    if not second_routes:
        return MediationResults(**shared, statsmodels_summary=None, monte_carlo_indirect=None,
                                predicted_width_ratio=float("nan"), observed_width_ratio=float("nan"),
                                robust_se=None)
    simulated = statsmodels_mediation(x * MG_PER_G, m, y, exposure_unit=MG_PER_G, n_rep=MEDIATION_SIMULATIONS,
                                      seed=MEDIATION_SIMULATION_SEED)
    mc = monte_carlo_indirect(boot.ols)
    slope_a = boot.ols.loc["a", "estimate"]
    mediator_residual = m - m.mean() - slope_a * (x - x.mean())
    residual_var = float(mediator_residual @ mediator_residual / (len(m) - 2))  # statsmodels' scale
    acme = simulated.loc["ACME (average)"]
    return MediationResults(
        **shared, statsmodels_summary=simulated, monte_carlo_indirect=mc,
        predicted_width_ratio=predicted_statsmodels_width_ratio(boot.ols, residual_var, len(m)),
        observed_width_ratio=float((acme["Upper CI bound"] - acme["Lower CI bound"]) / (mc[2] - mc[1])),
        robust_se=heteroscedasticity_robust_se(x, m, y))


def heteroscedasticity_robust_se(x, m, y) -> dict[str, float]:
    """HC3 standard errors of the paths: a bootstrap over patients estimates these, not the normal-theory ones, when
    the residual variance differs between patients."""
    import statsmodels.api as sm

    x, m, y = (np.asarray(v, dtype=float) for v in (x, m, y))
    one = np.ones_like(x)
    mediator = sm.OLS(m, np.column_stack([one, x])).fit(cov_type="HC3")
    outcome = sm.OLS(y, np.column_stack([one, x, m])).fit(cov_type="HC3")
    total = sm.OLS(y, np.column_stack([one, x])).fit(cov_type="HC3")
    return {"a": float(mediator.bse[1]), "b": float(outcome.bse[2]), "c_prime": float(outcome.bse[1]),
            "c": float(total.bse[1])}


def ledger_entries(results: MediationResults) -> list[LedgerEntry]:
    """R9-R13 by the estimate rule (okapi.verdicts.rules): r with the SE of its Fisher interval, the paths with their
    OLS SE, the proportion mediated with its percentile-bootstrap interval. R13 is not estimable when the total
    effect's 95% CI holds 0: a*b/c then has no bounded interval (it can be any size and sign)."""
    units = {"R9": f"n = {results.dose_vs_diminution.n} pairs of consecutive answered calls from "
                   f"{results.n_pair_patients} patients; the Fisher interval treats pairs as independent",
             "R10": f"n = {results.dose_vs_depression.n} patients"}
    rows = []
    for target_id, corr in (("R9", results.dose_vs_diminution), ("R10", results.dose_vs_depression)):
        rows.append(entry(target_id, corr.r, CHAPTER, ci=(corr.ci_low, corr.ci_high), p_value=corr.p,
                          note=units[target_id], digits=2))
    ols = results.bootstrap.ols
    for target_id, path, digits in (("R11", "b", 3), ("R12", "c_prime", 3)):
        low, high = ols.loc[path, "ci_low"], ols.loc[path, "ci_high"]
        rows.append(entry(target_id, ols.loc[path, "estimate"], CHAPTER, ci=(low, high), se=ols.loc[path, "se"],
                          p_value=ols.loc[path, "p"], digits=digits,
                          note=f"OLS, n = {results.bootstrap.n}; per patient with HADS-D > 7 (R11) or per gram (R12), "
                               "in NPRS points per month"))
    estimate, low, high, *_ = results.proportion_percent
    total = ols.loc["c"]
    unbounded = "" if excludes_zero(total["ci_low"], total["ci_high"]) else (
        "the total effect's 95% CI holds 0, so the share a*b/c has no bounded interval")
    rows.append(entry("R13", estimate, CHAPTER, ci=(low, high), digits=1, not_estimable=unbounded,
                      note=f"a*b/c, percentile bootstrap, {results.bootstrap.n_boot} resamples"))
    return rows


# --- what the chapter's prose shows -------------------------------------------------------------------------------
def glued_texts(results: MediationResults) -> dict[str, str]:
    """Every number the chapter's prose shows, formatted. myst-nb literal_evals glued text, so a bare "0.30" would
    show as 0.3 and "5,000" as a tuple: numbers carry their symbol or unit, P values their "P", counts no commas."""
    boot, ols = results.bootstrap.estimates, results.bootstrap.ols
    estimate, perc_low, perc_high, bc_low, bc_high = results.proportion_percent
    texts = {f"pub_{t.lower()}": published_figure(t) for t in ("R9", "R10", "R11", "R12", "R13")}
    texts.update({key: str(value) for key, value in results.flow.items()})
    texts.update({"min_scores": str(MEDIATION_MIN_SCORES), "min_span": str(MEDIATION_MIN_SPAN_MONTHS), "n_boot": str(MEDIATION_BOOTSTRAP),
                  "boot_seed": str(MEDIATION_BOOTSTRAP_SEED), "n_sim": str(MEDIATION_SIMULATIONS), "n_mc": str(MEDIATION_MONTE_CARLO),
                  "n_observed_scores": str(results.n_observed_scores),
                  "dose_median": f"{fmt_number(results.dose_summary[0], 2)} g",
                  "dose_iqr": f"{fmt_ci(*results.dose_summary[1:], 2)} g"})
    for key, corr in (("r9", results.dose_vs_diminution), ("r10", results.dose_vs_depression)):
        texts.update({f"{key}_r": f"r = {fmt_number(corr.r, 2)}", f"{key}_ci": fmt_ci(corr.ci_low, corr.ci_high, 2),
                      f"{key}_p": fmt_p_statement(corr.p), f"{key}_n": str(corr.n)})
        low, high = results.implied_n[key.upper()]
        texts.update({f"{key}_implied_low": str(int(round(low, -1))), f"{key}_implied_high": str(int(round(high, -1)))})
    patients = results.dose_vs_diminution_patients
    texts.update({"r9_patients_r": f"r = {fmt_number(patients.r, 2)}",
                  "r9_patients_ci": fmt_ci(patients.ci_low, patients.ci_high, 2),
                  "r9_patients_n": str(patients.n), "n_pair_patients": str(results.n_pair_patients)})
    for path, symbol, digits in (("a", "a", 3), ("b", "b", 3), ("c_prime", "c\u2032", 4), ("c", "c", 4),
                                 ("indirect", "a \u00d7 b", 4)):
        key = path.replace("_", "")
        texts[key] = f"{symbol} = {fmt_number(boot.loc[path, 'estimate'], digits)}"
        texts[f"{key}_perc_ci"] = fmt_ci(boot.loc[path, "perc_low"], boot.loc[path, "perc_high"], digits)
        if path in ols.index:
            texts[f"{key}_ci"] = fmt_ci(ols.loc[path, "ci_low"], ols.loc[path, "ci_high"], digits)
            texts[f"{key}_p"] = fmt_p_statement(ols.loc[path, "p"])
    # The direction is stated as a finding only when the 95% CI of path a excludes 0.
    a_sign = "lower" if boot.loc["a", "estimate"] < 0 else "higher"
    a_clear = not (ols.loc["a", "ci_low"] <= 0 <= ols.loc["a", "ci_high"])
    texts["a_direction"] = a_sign if a_clear else f"not clearly related to the dose (the point estimate is {a_sign})"
    texts["a_percent_per_g"] = (f"{fmt_number(100 * abs(boot.loc['a', 'estimate']), 1)} percentage points "
                                f"{'fewer' if a_sign == 'lower' else 'more'}")
    texts["b_per_year"] = f"{fmt_number(12 * boot.loc['b', 'estimate'], 2)} points"
    texts.update({"prop": f"{fmt_number(estimate, 1)}%", "prop_perc_ci": f"{fmt_ci(perc_low, perc_high, 1)}%",
                  "prop_bc_ci": f"{fmt_ci(bc_low, bc_high, 1)}%",
                  "prop_inside_own_ci": "inside" if perc_low <= estimate <= perc_high else "outside",
                  "prop_abs_over_100": f"{fmt_number(100 * np.mean(np.abs(results.bootstrap.replicates[:, 5]) > 1), 1)}%"})
    simulated = results.statsmodels_summary
    acme = simulated.loc["ACME (average)"]
    _, mc_low, mc_high = results.monte_carlo_indirect
    texts.update({"sm_acme": f"{fmt_number(acme['Estimate'], 4)} (95% CI "
                             f"{fmt_ci(acme['Lower CI bound'], acme['Upper CI bound'], 4)})",
                  "sm_prop": f"{fmt_number(100 * simulated.loc['Prop. mediated (average)', 'Estimate'], 1)}%",
                  "mc_ci": fmt_ci(mc_low, mc_high, 4),
                  "width_observed": f"{fmt_number(results.observed_width_ratio, 2)} times",
                  "width_predicted": f"{fmt_number(results.predicted_width_ratio, 2)} times"})
    texts.update(_judgements(results))
    published_b = printed_targets().loc["R11"]
    texts["b_ci_width_ratio"] = fmt_number((ols.loc["b", "ci_high"] - ols.loc["b", "ci_low"])
                                           / (float(published_b["ci_high"]) - float(published_b["ci_low"])), 1) + " times"
    for path, key in (("c_prime", "cprime"), ("c", "c")):
        texts[f"{key}_se_compared"] = (f"{fmt_number(ols.loc[path, 'se'], 4)} from OLS, "
                                       f"{fmt_number(boot.loc[path, 'boot_se'], 4)} from the bootstrap and "
                                       f"{fmt_number(results.robust_se[path], 4)} from the heteroscedasticity-robust "
                                       "(HC3) formula")
    return texts


def _zero(low: float, high: float) -> str:
    return "includes" if low <= 0 <= high else "excludes"


def _judgements(results: MediationResults) -> dict[str, str]:
    """The data-dependent sentences of the chapter, so the prose cannot contradict the numbers it shows."""
    ols = results.bootstrap.ols
    flips = fmt_number(100 * results.total_flips_sign, 1)
    if ols.loc["c", "ci_low"] <= 0 <= ols.loc["c", "ci_high"]:
        ratio = (f"These intervals are reported as computed, and they are meaningless as intervals: the denominator c "
                 f"is a near-zero total effect whose 95% CI includes zero, and it changes sign in {flips}% of the "
                 "bootstrap resamples. A ratio whose denominator cannot be told from zero has no finite confidence "
                 "interval (Fieller's argument), so neither the published figure nor the one here says how much is "
                 "\u201cmediated\u201d.")
    else:
        ratio = (f"The denominator c has a 95% CI that excludes zero, yet it changes sign in {flips}% of the bootstrap "
                 "resamples, so the interval of the ratio is fragile and should be read with the figure below.")
    ledger = {item.id: item for item in ledger_entries(results)}
    if ledger["R13"].verdict == NOT_ESTIMABLE:
        r13 = ("The proportion mediated is therefore not estimable here, and the ledger says so instead of printing "
               "an interval: no value of it, the published one included, can be confirmed or refuted by these data.")
    else:
        r13 = (f"The published proportion mediated is {'compatible' if ledger['R13'].verdict == REPRODUCED else 'not compatible'}"
               " with the one here, by the book's rule for estimates.")
    return {"ratio_judgement": ratio, "r13_judgement": r13,
            "c_ci_zero": _zero(ols.loc["c", "ci_low"], ols.loc["c", "ci_high"]),
            "b_ci_zero": _zero(ols.loc["b", "ci_low"], ols.loc["b", "ci_high"]),
            "cprime_ci_zero": _zero(ols.loc["c_prime", "ci_low"], ols.loc["c_prime", "ci_high"])}


def published_statements(results: MediationResults) -> list[PublishedStatement]:
    """R14, the paper's conclusion, checked path by path; it cannot be reproduced as a causal claim."""
    ols = results.bootstrap.ols

    def excludes(path: str) -> str:
        return "excludes" if excludes_zero(ols.loc[path, "ci_low"], ols.loc[path, "ci_high"]) else "includes"

    finding = (f"depression path b: 95% CI {excludes('b')} 0; dose's direct path "
               f"c': 95% CI {excludes('c_prime')} 0; anxiety not analysed here; "
               "baseline depression precedes the dose, so it cannot mediate it causally")
    return [PublishedStatement("R14", "depression, not ketamine dose or anxiety, mediated the association of ketamine "
                               "with pain diminution", finding, NOT_COMPARABLE, CHAPTER)]
