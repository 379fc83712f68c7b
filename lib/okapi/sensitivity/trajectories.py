"""Sensitivity section "Trajectories": does the number of pain-trajectory groups (three in the companion paper, C5)
depend on how the models are specified and fitted?

- Specification: polynomial degree 1, 2 or 3 x residual variance common or per class x plain LCGA or the growth
  mixture model (random intercept). Each grid K = 1..5 uses the chapter's start protocol; K is chosen by the chapter's
  rules (okapi.models.trajectories.selection) and the model by its rule (okapi.chapters.trajectories.choose_model).
- Random starts: the chapter's specification (degree 2, common variance) with other start seeds, and once with every
  start run to convergence: how often is the best log-likelihood reached, and does the chosen K move?
- Patient bootstrap: the whole selection (both models, K = 1..5, rules, model choice) on resamples of patients.
Every refit is an independent task with its own seed (okapi.compute.engine.map_in_processes).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from okapi.chapters import trajectories as ta
from okapi.data.loading import Cohort
from okapi.data.derive import pain_long
from okapi.compute.engine import map_in_processes
from okapi.book.report import and_list, fmt_number
from okapi.sensitivity.verdicts import CHECK, CONTRADICTED, SUPPORTED, Verdict, verdict_line
from okapi.models.trajectories import (TrajectoryData, choose_number_of_classes, fit_trajectory_model,
                                       prepare_trajectory_data, summarise_fit)
from okapi.models.trajectories.em import REPLICATION_TOLERANCE
from okapi.models.trajectories.selection import adequacy_problems
from okapi.plan import (SensitivitySettings, TRAJECTORY_DEGREE, TRAJECTORY_FINAL, TRAJECTORY_K_VALUES,
                        TRAJECTORY_MIN_AVERAGE_POSTERIOR, TRAJECTORY_MIN_CLASS_SHARE,
                        TRAJECTORY_MIN_RELATIVE_ENTROPY, TRAJECTORY_SEED)

MODEL_KEYS = ("lcga", "gmm")        # the two normal-likelihood models the chapter chooses between
DEGREES = (1, 2, 3)
VARIANCES = {False: "common", True: "per class"}
MAJORITY = 0.5                      # a conclusion survives an analysis when more than half its refits choose 3


def fit_model_grid(data: TrajectoryData, model: str, class_specific_variance: bool, n_starts: int, n_final: int,
                   seed: int) -> ta.ModelResults:
    """K = 1..5 of one model, K chosen by the chapter's rules (as okapi.models.trajectories.fit_trajectory_grid, on
    sufficient statistics, so that a patient resample needs no long table)."""
    fits = {k: fit_trajectory_model(data, k, degree=data.degree, random_intercept=model == "gmm",
                                    class_specific_variance=class_specific_variance, n_starts=n_starts,
                                    n_final=min(n_final, n_starts), seed=seed) for k in TRAJECTORY_K_VALUES}
    table = pd.DataFrame([summarise_fit(fit) for fit in fits.values()])
    chosen, reason = choose_number_of_classes(table)
    bic_only = int(table.loc[table["bic"].idxmin(), "n_classes"])
    return ta.ModelResults(model, table, fits, chosen, reason, bic_only)


@dataclass(frozen=True)
class SelectionTask:
    kind: str                        # "specification", "seed", "all_starts" or "resample"
    data: TrajectoryData
    class_specific_variance: bool
    n_starts: int
    n_final: int
    start_seed: int
    resample_seed: int | None = None


@dataclass
class Selection:
    """The chapter's selection on one data set: both models' grids and the model its rule picks."""
    task: SelectionTask
    models: dict[str, ta.ModelResults]
    chosen_model: str

    @property
    def chosen_k(self) -> int:
        return self.models[self.chosen_model].chosen_k

    @property
    def admissible(self) -> bool:
        """Whether the chosen solution meets every one of Nagin's adequacy diagnostics (reported, not a veto)."""
        model = self.models[self.chosen_model]
        row = model.fit_table.set_index("n_classes").loc[model.chosen_k].copy()
        row["n_classes"] = model.chosen_k
        return not adequacy_problems(row)


def run_selection(task: SelectionTask) -> Selection:
    """One task (module level, for worker processes); a resample draws patients with its own seed."""
    data = task.data
    if task.resample_seed is not None:
        index = np.random.default_rng(task.resample_seed).integers(0, data.n_patients, size=data.n_patients)
        data = ta.resample_patients(data, index)
    models = {key: fit_model_grid(data, key, task.class_specific_variance, task.n_starts, task.n_final,
                                  task.start_seed) for key in MODEL_KEYS}
    return Selection(task, models, ta.choose_model(models))


def run_resample(task: SelectionTask) -> dict:
    """A bootstrap resample's selection, kept small: rule-chosen K per model, the model chosen, its K."""
    selection = run_selection(task)
    return {"seed": task.resample_seed, "lcga_k": selection.models["lcga"].chosen_k,
            "gmm_k": selection.models["gmm"].chosen_k, "chosen_model": selection.chosen_model,
            "chosen_k": selection.chosen_k, "admissible": selection.admissible}


def _run_task(task: SelectionTask):
    return run_resample(task) if task.kind == "resample" else run_selection(task)


def _seeds(base: int, stream: int, n: int) -> list[int]:
    """n task seeds of one purpose (stream), from the settings' seed."""
    return [int(s) for s in np.random.default_rng([base, stream]).integers(0, 2 ** 31 - 1, size=n)]


@dataclass
class TrajectorySensitivityResults:
    n_patients: int                    # classified (with at least one score)
    specifications: list[Selection]    # one per degree x variance, in DEGREES x VARIANCES order
    seeds: list[Selection]             # the chapter's specification, one per start seed (the chapter's seed first)
    all_starts: Selection              # the chapter's specification, every start run to convergence
    resamples: pd.DataFrame            # one row per patient resample (run_resample)
    n_starts: int
    n_final: int
    published_k: int
    mode: str

    @property
    def primary(self) -> Selection:
        """The chapter's own specification (degree 2, common variance, its start seed)."""
        return next(s for s in self.specifications
                    if s.task.data.degree == TRAJECTORY_DEGREE and not s.task.class_specific_variance)


def run_trajectories_sensitivity(cohort: Cohort, settings: SensitivitySettings) -> TrajectorySensitivityResults:
    """Every refit of the section, on settings.n_workers processes."""
    long_df = pain_long(cohort)
    data = {degree: prepare_trajectory_data(long_df, degree) for degree in DEGREES}
    n_starts, n_final = settings.trajectory_starts, min(TRAJECTORY_FINAL, settings.trajectory_starts)
    primary_data = data[TRAJECTORY_DEGREE]
    start_seeds = [TRAJECTORY_SEED, *_seeds(settings.seed, 1, settings.trajectory_start_seeds - 1)]
    # The slowest task (every start to convergence) first, so that it does not finish last on its own.
    tasks = [SelectionTask("all_starts", primary_data, False, n_starts, n_starts, TRAJECTORY_SEED)]
    tasks += [SelectionTask("specification", data[d], v, n_starts, n_final, TRAJECTORY_SEED)
              for d in DEGREES for v in VARIANCES]
    tasks += [SelectionTask("seed", primary_data, False, n_starts, n_final, s) for s in start_seeds]
    tasks += [SelectionTask("resample", primary_data, False, n_starts, n_final, TRAJECTORY_SEED, s)
              for s in _seeds(settings.seed, 2, settings.trajectory_resamples)]
    done = map_in_processes(_run_task, tasks, settings.n_workers)
    by_kind = {kind: [r for t, r in zip(tasks, done) if t.kind == kind]
               for kind in ("all_starts", "specification", "seed", "resample")}
    return TrajectorySensitivityResults(
        n_patients=primary_data.n_patients, specifications=by_kind["specification"], seeds=by_kind["seed"],
        all_starts=by_kind["all_starts"][0], resamples=pd.DataFrame(by_kind["resample"]), n_starts=n_starts,
        n_final=n_final, published_k=len(ta.published_shares()), mode=cohort.mode)


# --- summaries -----------------------------------------------------------------------------------------------------
def _shares(model: ta.ModelResults, k: int) -> str:
    return " / ".join(fmt_number(100 * p, 1) for p in model.fits[k].class_probabilities)


def specification_table(results: TrajectorySensitivityResults) -> pd.DataFrame:
    """One row per degree x variance x model: K by the rules and by BIC alone, shares, and the published-K solution."""
    rows = []
    k3 = results.published_k
    for selection in results.specifications:
        for key in MODEL_KEYS:
            model = selection.models[key]
            at_k3 = model.fit_table.set_index("n_classes").loc[k3]
            rows.append({
                "Degree": str(selection.task.data.degree),
                "Residual variance": VARIANCES[selection.task.class_specific_variance],
                "Model": ta.MODELS[key].label,
                "K (BIC)": str(model.chosen_k),
                "Class shares at that K, %": _shares(model, model.chosen_k),
                f"K = {k3}: class shares, %": _shares(model, k3),
                f"K = {k3}: relative entropy": fmt_number(at_k3["relative_entropy"], 3),
                f"K = {k3}: adequacy diagnostics met": "all" if not adequacy_problems(at_k3.to_dict() | {"n_classes": k3})
                else "not all",
                "Chosen model": "yes" if key == selection.chosen_model else ""})
    return pd.DataFrame(rows)


def start_table(results: TrajectorySensitivityResults) -> pd.DataFrame:
    """Per model and K: the best log-likelihood found anywhere, how many seeds reached it, how many of the starts run
    to convergence reached it, and the K each seed's rules chose."""
    rows = []
    n_seeds = len(results.seeds)
    for key in MODEL_KEYS:
        for k in TRAJECTORY_K_VALUES:
            by_seed = np.array([s.models[key].fits[k].log_likelihood for s in results.seeds])
            every = results.all_starts.models[key].fits[k]
            best = max(by_seed.max(), every.log_likelihood)
            reached = every.final_run_log_likelihoods
            rows.append({
                "Model": ta.MODELS[key].label, "K": str(k), "Best log-likelihood": fmt_number(best, 2),
                "Seeds reaching it": f"{int((best - by_seed < REPLICATION_TOLERANCE).sum())} of {n_seeds}",
                "Starts reaching it (all run to convergence)":
                    f"{int((best - reached < REPLICATION_TOLERANCE).sum())} of {results.all_starts.task.n_starts}",
                "Seeds whose rules chose this K": str(sum(s.models[key].chosen_k == k for s in results.seeds))})
    return pd.DataFrame(rows)


def bootstrap_k_counts(results: TrajectorySensitivityResults) -> pd.DataFrame:
    """Resamples choosing each K: by LCGA's rules, the growth mixture's, and the chapter's whole procedure."""
    frame = results.resamples
    return pd.DataFrame({"K": list(TRAJECTORY_K_VALUES),
                         "lcga": [int((frame["lcga_k"] == k).sum()) for k in TRAJECTORY_K_VALUES],
                         "gmm": [int((frame["gmm_k"] == k).sum()) for k in TRAJECTORY_K_VALUES],
                         "chosen": [int((frame["chosen_k"] == k).sum()) for k in TRAJECTORY_K_VALUES]})


def _count_phrase(values, total: int, noun: str) -> str:
    """'K = 2 in 6 of 6 specifications' or 'K = 2 in 4, K = 3 in 2 of 6 specifications'."""
    counts = sorted(Counter(int(v) for v in values).items(), key=lambda item: (-item[1], item[0]))
    return and_list([f"K = {k} in {n}" for k, n in counts]) + f" of {total} {noun}"


def _outcome(chosen_ks, published_k: int) -> str:
    chosen_ks = list(chosen_ks)
    return SUPPORTED if sum(k == published_k for k in chosen_ks) > MAJORITY * len(chosen_ks) else CONTRADICTED


def _published_k_entropy(results: TrajectorySensitivityResults) -> tuple[float, float]:
    """Range over specifications of the growth mixture's relative entropy at the published K."""
    values = [s.models["gmm"].fit_table.set_index("n_classes").loc[results.published_k, "relative_entropy"]
              for s in results.specifications]
    return float(min(values)), float(max(values))


def verdicts(results: TrajectorySensitivityResults) -> list[Verdict]:
    """Three verdicts on three_trajectories: supported when more than half the refits of an analysis choose the
    companion paper's number of groups; otherwise the groups were not found, which the registry weighs by how often
    the design finds three groups when there are three."""
    k3, specs, seeds, boot = results.published_k, results.specifications, results.seeds, results.resamples
    n_specs, spec_ks = len(specs), [s.chosen_k for s in specs]
    gmm_bic_k3 = sum(s.models["gmm"].bic_only_k == k3 for s in specs)
    gmm_k3 = [s.models["gmm"].fits[k3].log_likelihood for s in seeds]
    best = max(max(gmm_k3), results.all_starts.models["gmm"].fits[k3].log_likelihood)
    boot_ks = list(boot["chosen_k"])
    return [
        Verdict("three_trajectories",
                "model specification (polynomial degree 1-3, common or per-class residual variance, LCGA or growth "
                "mixture)", _outcome(spec_ks, k3),
                f"BIC chose {_count_phrase(spec_ks, n_specs, 'specifications')} of the primary model (LCGA); the "
                f"growth mixture's BIC chose {k3} classes in {gmm_bic_k3} of {n_specs}.",
                null_result=_outcome(spec_ks, k3) != SUPPORTED),
        Verdict("three_trajectories", f"random starts ({len(seeds)} start seeds of {results.n_starts} starts each)",
                _outcome([s.chosen_k for s in seeds], k3),
                f"BIC chose {_count_phrase([s.chosen_k for s in seeds], len(seeds), 'start seeds')}; the "
                f"best log-likelihood of the {k3}-class growth mixture was reached by "
                f"{sum(best - v < REPLICATION_TOLERANCE for v in gmm_k3)} of {len(seeds)} seeds"
                + (": the choice is stable across starts, so where it is not "
                   f"{k3}, the data, not the optimiser, decide it." if len(set(s.chosen_k for s in seeds)) == 1
                   else "."),
                kind=CHECK),
        Verdict("three_trajectories", f"patient bootstrap ({len(boot)} resamples)", _outcome(boot_ks, k3),
                "On resamples of patients BIC chose "
                f"{_count_phrase(boot_ks, len(boot), 'resamples')}"
                f" ({fmt_number(100 * float(np.mean(np.asarray(boot_ks) == k3)), 0)}% chose {k3}; more than half "
                "needed). A resample repeats some patients exactly, which tends to favour more classes than the "
                "data themselves support.", null_result=_outcome(boot_ks, k3) != SUPPORTED),
    ]


VERDICT_NAMES = ("specification", "starts", "bootstrap")


def glued_text(results: TrajectorySensitivityResults, finished: list[Verdict] | None = None) -> dict[str, str]:
    """Every number of the section's prose (names sens_trajectories_...)."""
    primary, boot, k3 = results.primary, results.resamples, results.published_k
    published = list(ta.published_shares().values())
    every = {key: results.all_starts.models[key] for key in MODEL_KEYS}
    low, high = _published_k_entropy(results)

    def reached(key: str, k: int) -> str:
        fit = every[key].fits[k]
        runs = fit.final_run_log_likelihoods
        return f"{int((runs.max() - runs < REPLICATION_TOLERANCE).sum())} of {results.all_starts.task.n_starts}"

    text = {"sens_trajectories_n_patients": str(results.n_patients),
            "sens_trajectories_n_starts": str(results.n_starts), "sens_trajectories_n_final": str(results.n_final),
            "sens_trajectories_n_seeds": str(len(results.seeds)),
            "sens_trajectories_n_resamples": str(len(boot)),
            "sens_trajectories_n_specifications": str(len(results.specifications)),
            "sens_trajectories_k_range": f"{min(TRAJECTORY_K_VALUES)} to {max(TRAJECTORY_K_VALUES)}",
            "sens_trajectories_published_k": str(k3),
            "sens_trajectories_published_shares": " / ".join(fmt_number(p, 1) for p in published) + "%",
            "sens_trajectories_primary_model": ta.MODELS[primary.chosen_model].prose,
            "sens_trajectories_primary_k": str(primary.chosen_k),
            "sens_trajectories_min_entropy": fmt_number(TRAJECTORY_MIN_RELATIVE_ENTROPY, 1),
            "sens_trajectories_min_appa": fmt_number(TRAJECTORY_MIN_AVERAGE_POSTERIOR, 1),
            "sens_trajectories_min_share": f"{fmt_number(100 * TRAJECTORY_MIN_CLASS_SHARE, 0)}%",
            "sens_trajectories_max_k": str(max(TRAJECTORY_K_VALUES)),
            "sens_trajectories_chapter_degree": str(TRAJECTORY_DEGREE),
            "sens_trajectories_degrees": and_list([str(d) for d in DEGREES]),
            "sens_trajectories_replication_tolerance": f"{REPLICATION_TOLERANCE:g}",
            "sens_trajectories_gmm_k3_entropy": f"{fmt_number(low, 3)} to {fmt_number(high, 3)}",
            "sens_trajectories_gmm_bic_k3": f"{sum(s.models['gmm'].bic_only_k == k3 for s in results.specifications)}"
                                            f" of {len(results.specifications)}",
            "sens_trajectories_lcga_k": _count_phrase([s.models["lcga"].chosen_k for s in results.specifications],
                                                      len(results.specifications), "specifications"),
            "sens_trajectories_spec_k": _count_phrase([s.chosen_k for s in results.specifications],
                                                      len(results.specifications), "specifications"),
            "sens_trajectories_spec_gmm": f"{sum(s.chosen_model == 'gmm' for s in results.specifications)} of "
                                          f"{len(results.specifications)}",
            "sens_trajectories_seed_k": _count_phrase([s.chosen_k for s in results.seeds], len(results.seeds),
                                                      "start seeds"),
            "sens_trajectories_gmm_primary_k_reached": reached("gmm", primary.chosen_k),
            "sens_trajectories_gmm_k3_reached": reached("gmm", k3),
            "sens_trajectories_boot_k": _count_phrase(boot["chosen_k"], len(boot), "resamples"),
            "sens_trajectories_boot_k3": f"{int((boot['chosen_k'] == k3).sum())} of {len(boot)}",
            "sens_trajectories_boot_lcga_k5": f"{int((boot['lcga_k'] == max(TRAJECTORY_K_VALUES)).sum())} of {len(boot)}",
            "sens_trajectories_boot_not_admissible": f"{int((~boot['admissible'].astype(bool)).sum())} of {len(boot)}",
            "sens_trajectories_boot_gmm": f"{int((boot['chosen_model'] == 'gmm').sum())} of {len(boot)}"}
    for name, verdict in zip(VERDICT_NAMES, finished or verdicts(results)):
        text[f"sens_trajectories_verdict_{name}"] = verdict_line(verdict)
    return text
