"""Simulation study (appendix): the book's own estimators on cohorts drawn from the book's own generator.

Each replicate draws a cohort with okapi.synthetic.cohort.simulate_cohort and analyses it as the chapters do: the one-year
decline (pain chapter: LMM nprs ~ years), the time x depression interaction per month (depression chapter, R8), the
indirect effect a*b and the proportion mediated a*b/c (mediation chapter: product of coefficients, percentile
bootstrap), the dose-pain correlation over pairs of calls (R9 under the primary reading, Fisher interval) and the
trajectory classes (trajectory chapter: LCGA and growth mixture, K = 1..5, its rules and starts).

Each quantity has two truths. The generator value: the quantity computed from the latent per-patient values of a
large population (each patient's true linear slope, complete baseline HADS-D, dose), which is what the book means
to estimate. The pseudo-truth: the same estimator on a very large cohort, i.e. what it converges to once the things
the models leave out have acted (curved class courses, MAR dropout on a curved course, answers rounded and clipped to
0-10, slopes from a patient's observed calls only). Bias against the first is the reader's question; against the
second it isolates the small-sample behaviour of the estimator and its interval.
"""

import sys
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from okapi.chapters import trajectories as ta
from okapi.data.codebook import load_codebook
from okapi.synthetic.parameters import parameter_values
from okapi.data.loading import SYNTHETIC, Cohort
from okapi.chapters.depression import slopes_per_month
from okapi.data.derive import monthly_pairs, pain_long, pair_arrays
from okapi.models.lmm_batch import RANDOM as BATCH_RANDOM
from okapi.models.lmm_batch import fit_random_slope_model
from okapi.models.mediation import bootstrap_mediation
from okapi.chapters.mediation import mediation_dataset, pearson_correlation
from okapi.models.mixed_models import MixedModelFit, linear_combination
from okapi.chapters.pain import canonical_order
from okapi.compute.engine import ProgressBar, dask_scheduler, map_in_processes, task_seeds
from okapi.models.trajectories.agreement import adjusted_rand_index
from okapi.synthetic.cohort import simulate_cohort, simulate_population
from okapi.synthetic.patients import CLASS_LABELS, class_shares
from okapi.models.trajectories import choose_number_of_classes, fit_trajectory_grid
from okapi.plan import (CI_LEVEL, LINEAR_GROUP, LINEAR_TIME, RANDOM_PART,
                        SimulationStudySettings, TRAJECTORY_DEGREE, TRAJECTORY_FINAL, TRAJECTORY_K_VALUES,
                        TRAJECTORY_SEED, TRAJECTORY_STARTS)

QUANTITIES = {  # key: (label, unit)
    "time_effect": ("One-year change in pain (LMM, linear time)", "NPRS points per year"),
    "interaction": ("Time x depression interaction (R8)", "NPRS points per month"),
    "indirect": ("Indirect effect a*b", "NPRS points per month per gram"),
    "proportion": ("Proportion mediated a*b/c (R13)", "%"),
    "dose_pairs": ("Dose-pain correlation over pairs of calls (R9)", "r"),
}
TRUE_K = len(CLASS_LABELS)
if BATCH_RANDOM != RANDOM_PART:
    raise RuntimeError("okapi.models.lmm_batch fits another random part than the chapters' mixed models")
# spawn keys: replicates, pseudo-truth cohorts and population parts never share a random stream
REPLICATE_KEY, PSEUDO_TRUTH_KEY, POPULATION_KEY = 0, 1, 2


def _fit_pain_model(long_df: pd.DataFrame, fixed: str) -> MixedModelFit:
    """The one place the mixed-model engine is chosen: okapi.models.lmm_batch, the chapters' model (REML, random intercept
    and slope on years) without statsmodels' second per fit (tests/test_double_programming_lmm_batch.py checks it
    against statsmodels and lme4). A fit that did not converge is kept and flagged (MixedModelFit.converged), not
    allowed to stop the study with a warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return fit_random_slope_model(long_df, fixed)


def as_cohort(synthetic) -> Cohort:
    """A SyntheticCohort typed as load_cohort types an extract (required integers int64, not nullable Int64; dates
    in ns), so the chapters' code sees what it sees on an extract."""
    rules = load_codebook().files
    frames = {}
    for name, table in synthetic.tables().items():
        table = table.copy()
        for rule in rules[name]:
            if rule.type in ("integer", "binary") and rule.required:
                table[rule.name] = table[rule.name].astype("int64")
            elif rule.type == "date":
                table[rule.name] = table[rule.name].astype("datetime64[ns]")
        frames[name] = table
    return Cohort(frames["patients.csv"], frames["visits.csv"], frames["ketamine.csv"], folder=None, mode=SYNTHETIC,
                  data_checksum="")


# --- the chapters' estimators on one cohort ---------------------------------------------------------------------------
def time_effect_fit(long_df: pd.DataFrame) -> MixedModelFit:
    """The pain chapter's linear-time model (pain_course.pain_course_from_data)."""
    return _fit_pain_model(canonical_order(long_df), LINEAR_TIME)


def interaction_fit(long_df: pd.DataFrame) -> MixedModelFit:
    """The depression chapter's group model on its analysis set (depression_pain.depression_from_long)."""
    data = canonical_order(long_df.loc[long_df["hads_d_baseline"].notna()])
    data["depressed"] = data["depressed"].astype(bool)
    return _fit_pain_model(data, LINEAR_GROUP)


def mediation_arrays(cohort: Cohort) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The mediation chapter's analysed patients: dose (g), depressed (0/1), pain diminution per month."""
    frame, _ = mediation_dataset(cohort)
    analysed = frame[frame["analysed"]]
    return tuple(analysed[c].to_numpy(dtype=float) for c in ("dose_g", "depressed", "diminution_per_month"))


def trajectory_models(long_df: pd.DataFrame) -> dict[str, "ta.ModelResults"]:
    """The trajectory chapter's normal-likelihood models (its fit_models without the censored variant, which its
    choose_model never picks), with the chapter's K grid, curve degree, starts and seed."""
    models = {}
    for key, spec in ta.MODELS.items():
        if not spec.comparable_bic:
            continue
        table, fits = fit_trajectory_grid(long_df, k_values=TRAJECTORY_K_VALUES, degree=TRAJECTORY_DEGREE, n_starts=TRAJECTORY_STARTS,
                                          n_final=TRAJECTORY_FINAL, seed=TRAJECTORY_SEED, **spec.settings)
        chosen, reason = choose_number_of_classes(table)
        models[key] = ta.ModelResults(key, table, fits, chosen, reason, int(table.loc[table["bic"].idxmin(),
                                                                                      "n_classes"]))
    return models


def _ari(fit, true_class: pd.Series) -> float:
    return adjusted_rand_index(fit.posterior.argmax(axis=1), true_class.loc[fit.patient_ids].to_numpy())


def replicate_cohort(settings: SimulationStudySettings, index: int):
    """Replicate `index`'s synthetic cohort (with .truth) and its bootstrap seed."""
    cohort_seed, boot_seed = task_seeds(settings.seed, REPLICATE_KEY, index, 2)
    return simulate_cohort(settings.n_patients, cohort_seed, settings.generator_overrides), boot_seed


def analyse_replicate(task: tuple[SimulationStudySettings, int]) -> dict:
    """One simulated cohort through every estimator: a flat row of estimates, 95% CIs and class recovery."""
    settings, index = task
    synthetic, boot_seed = replicate_cohort(settings, index)
    cohort = as_cohort(synthetic)
    long_df = pain_long(cohort)
    row = {"replicate": index, "cohort_seed": synthetic.seed}

    linear, grouped = time_effect_fit(long_df), interaction_fit(long_df)
    slope = linear_combination(linear, {"years": 1.0})
    _, interaction = slopes_per_month(grouped, "depressed")
    for key, combo in (("time_effect", slope), ("interaction", interaction)):
        row.update({f"{key}_estimate": combo.estimate, f"{key}_low": combo.ci_low, f"{key}_high": combo.ci_high})
    row["lmm_converged"] = bool(linear.converged and grouped.converged)

    x, m, y = mediation_arrays(cohort)
    boot = bootstrap_mediation(x, m, y, n_boot=settings.n_boot, seed=boot_seed, level=CI_LEVEL).estimates
    for key, path, scale in (("indirect", "indirect", 1.0), ("proportion", "proportion_mediated", 100.0)):
        row.update({f"{key}_{column}": scale * boot.loc[path, name]
                    for column, name in (("estimate", "estimate"), ("low", "perc_low"), ("high", "perc_high"))})
    row["n_mediation"] = int(x.size)
    # R9 under the primary reading: pairs of calls, with the Fisher interval that treats them as independent
    pairs = monthly_pairs(cohort)
    r9 = pearson_correlation(pairs["dose_g"], pairs["diminution"])
    row.update({"dose_pairs_estimate": r9.r, "dose_pairs_low": r9.ci_low, "dose_pairs_high": r9.ci_high})

    models = trajectory_models(long_df)
    chosen = models[ta.choose_model(models)]
    true_class = synthetic.truth.set_index("patient_id")["latent_class"]
    three = chosen.fits[TRUE_K]
    row.update({"trajectory_model": chosen.key, "chosen_k": chosen.chosen_k,
                "ari_chosen": _ari(chosen.chosen, true_class), "ari_three_class": _ari(three, true_class),
                **{f"share_{label}": 100 * float(p) for label, p in zip(CLASS_LABELS, three.class_probabilities)}})
    return row


# --- the truths -------------------------------------------------------------------------------------------------------
def crossproducts(x, m, y) -> np.ndarray:
    """[1, x, m, y]'[1, x, m, y]: everything the OLS mediation paths need, and it adds up over patient sets."""
    data = np.column_stack([np.ones(len(x)), x, m, y])
    return data.T @ data


def paths_from_crossproducts(cross: np.ndarray) -> dict[str, float]:
    """Indirect effect a*b and proportion mediated a*b/c (in %) by OLS from summed cross-products of [1, x, m, y]:
    a from m ~ x, b from y ~ x + m, c from y ~ x (the normal equations of okapi.models.mediation.mediation_paths)."""
    a = np.linalg.solve(cross[:2, :2], cross[:2, 2])[1]
    b = np.linalg.solve(cross[:3, :3], cross[:3, 3])[2]
    c = np.linalg.solve(cross[:2, :2], cross[:2, 3])[1]
    return {"indirect": float(a * b), "proportion": float(100 * a * b / c)}


def pair_sums(dose, diminution) -> np.ndarray:
    """[n, sum x, sum y, sum xx, sum yy, sum xy] of the pairs of calls: a correlation from sums that add up."""
    x, y = np.asarray(dose, dtype=float), np.asarray(diminution, dtype=float)
    return np.array([x.size, x.sum(), y.sum(), x @ x, y @ y, x @ y])


def correlation_from_sums(sums: np.ndarray) -> float:
    n, sx, sy, sxx, syy, sxy = sums
    return float((n * sxy - sx * sy) / np.sqrt((n * sxx - sx ** 2) * (n * syy - sy ** 2)))


def _population_part(task: tuple[SimulationStudySettings, int, int]) -> dict:
    """Sums over one slice of the population's latent values (true slope, complete baseline depression, dose), and
    over its observed pairs of calls (R9's unit: no latent version of a pair exists)."""
    settings, index, n = task
    truth, follow_up = simulate_population(n, task_seeds(settings.seed, POPULATION_KEY, index)[0],
                                           settings.generator_overrides)
    _, _, pair_dose, pair_diminution = pair_arrays(follow_up["nprs"], follow_up["dose_month_g"])
    slope = truth["true_slope_per_month"].to_numpy()
    depressed = truth["depressed_baseline"].to_numpy(dtype=float)
    return {"n": float(n), "slope": float(slope.sum()), "n_depressed": float(depressed.sum()),
            "slope_depressed": float(slope @ depressed),
            "cross": crossproducts(truth["cumulative_dose_g"].to_numpy(), depressed, -slope),
            "pairs": pair_sums(pair_dose, pair_diminution)}


def _pseudo_truth_part(task: tuple[SimulationStudySettings, int, int]) -> dict:
    """The chapters' estimators on one large cohort (mediation: its cross-products, pooled over cohorts later)."""
    settings, index, n = task
    synthetic = simulate_cohort(n, task_seeds(settings.seed, PSEUDO_TRUTH_KEY, index)[0], settings.generator_overrides)
    cohort = as_cohort(synthetic)
    long_df = pain_long(cohort)
    linear, grouped = time_effect_fit(long_df), interaction_fit(long_df)
    return {"time_effect": linear_combination(linear, {"years": 1.0}).estimate,
            "interaction": slopes_per_month(grouped, "depressed")[1].estimate,
            "converged": bool(linear.converged and grouped.converged),
            "cross": crossproducts(*mediation_arrays(cohort)),
            "pairs": pair_sums(*(monthly_pairs(cohort)[c] for c in ("dose_g", "diminution")))}


def _generator_values(parts: list[dict]) -> dict[str, float]:
    total = {key: sum(p[key] for p in parts)
             for key in ("n", "slope", "n_depressed", "slope_depressed", "cross", "pairs")}
    not_depressed = (total["slope"] - total["slope_depressed"]) / (total["n"] - total["n_depressed"])
    return {"time_effect": 12 * total["slope"] / total["n"],
            "interaction": total["slope_depressed"] / total["n_depressed"] - not_depressed,
            **paths_from_crossproducts(total["cross"]), "dose_pairs": correlation_from_sums(total["pairs"])}


def _pseudo_truth_values(parts: list[dict]) -> dict[str, float]:
    """Mixed models: the mean over the cohorts; mediation: OLS on all their patients pooled."""
    return {"time_effect": float(np.mean([p["time_effect"] for p in parts])),
            "interaction": float(np.mean([p["interaction"] for p in parts])),
            **paths_from_crossproducts(sum(p["cross"] for p in parts)),
            "dose_pairs": correlation_from_sums(sum(p["pairs"] for p in parts))}


def _jackknife(parts: list, statistic) -> pd.DataFrame:
    """Value on all parts, and its delete-one-part jackknife SE (for a mean of parts: SD / sqrt(parts))."""
    full = statistic(parts)
    leave_out = pd.DataFrame([statistic(parts[:i] + parts[i + 1:]) for i in range(len(parts))])
    g = len(parts)
    se = np.sqrt((g - 1) / g * ((leave_out - leave_out.mean()) ** 2).sum()) if g > 1 else leave_out * np.nan
    return pd.DataFrame({"value": pd.Series(full), "mc_se": se})


def study_truths(settings: SimulationStudySettings, progress=None,
                 scheduler: str | None = None) -> tuple[pd.DataFrame, int]:
    """One row per quantity: generator value and pseudo-truth, each with its Monte Carlo SE; and the number of
    pseudo-truth cohorts whose mixed models did not all converge."""
    parts = settings.pseudo_truth_parts
    population = map_in_processes(_population_part, [(settings, i, settings.population_patients // parts)
                                                     for i in range(parts)], settings.n_workers, scheduler=scheduler)
    pseudo = map_in_processes(_pseudo_truth_part, [(settings, i, settings.pseudo_truth_patients // parts)
                                                   for i in range(parts)], settings.n_workers, progress, scheduler)
    generator, pseudo_truth = _jackknife(population, _generator_values), _jackknife(pseudo, _pseudo_truth_values)
    table = pd.DataFrame({"generator": generator["value"], "generator_se": generator["mc_se"],
                          "pseudo_truth": pseudo_truth["value"], "pseudo_truth_se": pseudo_truth["mc_se"]})
    return table.loc[list(QUANTITIES)], sum(not part["converged"] for part in pseudo)


# --- performance ------------------------------------------------------------------------------------------------------
def performance(estimate, low, high, truth: float, truth_se: float = 0.0) -> dict[str, float]:
    """Bias (MC SE, the truth's own MC error included), median bias, RMSE, coverage of the 95% CI (MC SE
    sqrt(p(1 - p) / R)), mean CI width and share of CIs excluding 0, over the replicates."""
    estimate, low, high = (np.asarray(v, dtype=float) for v in (estimate, low, high))
    r = estimate.size
    error = estimate - truth
    covered = (low <= truth) & (truth <= high)
    coverage = float(covered.mean())
    return {"n": r, "truth": truth, "mean_estimate": float(estimate.mean()), "bias": float(error.mean()),
            "bias_mc_se": float(np.sqrt(estimate.var(ddof=1) / r + truth_se ** 2)),
            "median_bias": float(np.median(error)), "empirical_se": float(estimate.std(ddof=1)),
            "rmse": float(np.sqrt(np.mean(error ** 2))), "coverage": coverage,
            "coverage_mc_se": float(np.sqrt(coverage * (1 - coverage) / r)),
            "mean_ci_width": float(np.mean(high - low)), "excludes_zero": float(np.mean((low > 0) | (high < 0)))}


def performance_table(replicates: pd.DataFrame, truths: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for key in QUANTITIES:
        for reference, column in (("generator value", "generator"), ("pseudo-truth", "pseudo_truth")):
            rows.append({"quantity": key, "reference": reference,
                         **performance(replicates[f"{key}_estimate"], replicates[f"{key}_low"],
                                       replicates[f"{key}_high"], truths.loc[key, column],
                                       truths.loc[key, f"{column}_se"])})
    return pd.DataFrame(rows)


def class_recovery(replicates: pd.DataFrame, settings: SimulationStudySettings) -> dict:
    """Share of cohorts choosing each K and each model, ARI summaries, bias of the 3-class shares."""
    true_shares = 100 * class_shares(parameter_values(settings.generator_overrides))
    return {"chosen_k": replicates["chosen_k"].value_counts().reindex(TRAJECTORY_K_VALUES, fill_value=0),
            "model": replicates["trajectory_model"].value_counts().reindex(
                [k for k, s in ta.MODELS.items() if s.comparable_bic], fill_value=0),
            "share_true_k": float((replicates["chosen_k"] == TRUE_K).mean()),
            "ari": {c: replicates[c].quantile([0.1, 0.25, 0.5, 0.75, 0.9]).to_numpy()
                    for c in ("ari_chosen", "ari_three_class")},
            "share_bias": {label: (float(true_shares[i]), float(replicates[f"share_{label}"].mean() - true_shares[i]))
                           for i, label in enumerate(CLASS_LABELS)}}


@dataclass
class SimulationStudyResults:
    settings: SimulationStudySettings
    replicates: pd.DataFrame
    truths: pd.DataFrame
    truth_cohorts_not_converged: int
    performance: pd.DataFrame
    recovery: dict = field(repr=False)


def run_simulation_study(settings: SimulationStudySettings | None = None, progress=None,
                         truth_progress=None, scheduler: str | None = None) -> SimulationStudyResults:
    """The whole appendix: replicates in parallel (one seed each), truths, performance and class recovery.
    `progress` and `truth_progress` (okapi.compute.engine.ProgressBar) are for the command line; the notebook passes None.
    `scheduler` ("tcp://HOST:PORT", else OKAPI_DASK_SCHEDULER, else this machine): where the tasks run; the results
    are the same wherever they run."""
    settings = settings or SimulationStudySettings()
    tasks = [(settings, i) for i in range(settings.n_replicates)]
    replicates = pd.DataFrame(map_in_processes(analyse_replicate, tasks, settings.n_workers, progress, scheduler))
    truths, not_converged = study_truths(settings, truth_progress, scheduler)
    return SimulationStudyResults(settings, replicates, truths, not_converged, performance_table(replicates, truths),
                                  class_recovery(replicates, settings))


def run_simulation_study_command(replicates: int, workers: int, out: str | None, scheduler: str | None = None) -> int:
    """`python -m okapi simulation-study`: progress on stderr, tables on stdout, CSVs in `out` if given; on a Dask
    cluster when `scheduler` (or OKAPI_DASK_SCHEDULER) names one."""
    if replicates < 2 or workers < 1:
        print("simulation-study: need --replicates >= 2 and --workers >= 1", file=sys.stderr)
        return 1
    settings = SimulationStudySettings(n_replicates=int(replicates), n_workers=int(workers))
    address = dask_scheduler(scheduler)
    try:
        results = run_simulation_study(settings, ProgressBar(settings.n_replicates, "replicate cohorts"),
                                       ProgressBar(settings.pseudo_truth_parts, "pseudo-truth cohorts"), address)
    except OSError as error:  # distributed raises OSError (TimeoutError among them) for an unreachable scheduler
        if address is None:
            raise
        print(f"\nsimulation-study: cannot use the Dask scheduler {address}: {error}", file=sys.stderr)
        return 1
    where = f"the Dask cluster at {address}" if address else f"{settings.n_workers} local worker(s)"
    print(f"Simulation study: {settings.n_replicates} cohorts of {settings.n_patients} patients, seed {settings.seed}, "
          f"run on {where}")
    print(results.performance.to_markdown(index=False, floatfmt=".4g"))
    print(f"\nTrue K = {TRUE_K} chosen in {100 * results.recovery['share_true_k']:.1f}% of cohorts")
    if out:
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        for name, table in (("replicates", results.replicates), ("performance", results.performance),
                            ("truths", results.truths.rename_axis("quantity").reset_index())):
            table.to_csv(folder / f"simulation_{name}.csv", index=False, lineterminator="\n")
        (folder / "simulation_settings.csv").write_text(
            pd.Series(asdict(settings)).rename_axis("setting").rename("value").to_csv(lineterminator="\n"))
        print(f"  wrote {folder}/simulation_{{replicates,performance,truths,settings}}.csv")
    return 0
