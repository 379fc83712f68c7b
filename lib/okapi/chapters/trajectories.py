"""The pain-trajectories chapter's results in one call: group-based trajectory models of monthly pain for K = 1..5,
the number of groups chosen as the companion paper chose it, and the bootstrap of the three-group shares (C5).
Who is in each group and the companion paper's statements about them (C5, C6) are in trajectories_groups.

The primary model is group-based trajectory modelling in Nagin's sense (latent class growth analysis, LCGA), the
companion paper's method: BIC (N = patients) chooses K among the solutions that could be estimated, and Nagin's adequacy
diagnostics (average posterior probability, odds of correct classification, group shares, relative entropy) are
reported, not used to overrule BIC. Two sensitivity models sit beside it: the growth mixture model with a random
intercept (plain LCGA over-extracts groups when patients vary within a group) and the censored-normal LCGA (Nagin's
model for a bounded scale; its likelihood mixes probabilities and densities, so its BIC is not on the others' scale).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from okapi.compute.engine import map_in_processes
from okapi.data.loading import Cohort
from okapi.data.derive import patient_summary, pain_long
from okapi.data.targets import load_targets
from okapi.models.trajectories import (TrajectoryData, TrajectoryFit, choose_number_of_classes, fit_trajectory_grid,
                                       fit_trajectory_model, prepare_trajectory_data)
from okapi.plan import (TRAJECTORY_BOOTSTRAP_FINAL, TRAJECTORY_BOOTSTRAP_SEED, TRAJECTORY_BOOTSTRAP_STARTS,
                        TRAJECTORY_DEGREE, TRAJECTORY_FINAL, TRAJECTORY_K_VALUES, TRAJECTORY_RESAMPLES,
                        TRAJECTORY_PRIMARY_MODEL, TRAJECTORY_SEED, TRAJECTORY_STARTS)

CHAPTER = "chapters/trajectories"
GROUP_NAMES = ("mild", "moderate", "severe")   # the companion paper's groups, lowest pain first (C5)
# The share bootstrap's resamples are independent refits: they run on this many processes, in chunks of this many
# resamples. The indices are drawn here in one stream and each refit has a fixed seed, so the shares do not depend on
# either number (a test compares 1 and 2 workers).
BOOTSTRAP_WORKERS = 2
RESAMPLES_PER_TASK = 25


@dataclass(frozen=True)
class ModelSpec:
    label: str             # in tables and figures
    prose: str             # in a sentence
    settings: dict
    comparable_bic: bool   # normal likelihood: BIC on the same scale as the other normal model's


MODELS = {
    "lcga": ModelSpec("LCGA", "plain LCGA", dict(random_intercept=False), True),
    "lcga_censored": ModelSpec("LCGA, censored normal", "censored-normal LCGA", dict(censored=True), False),
    "gmm": ModelSpec("Growth mixture (random intercept)", "growth mixture model (random intercept)",
                     dict(random_intercept=True), True),
}


@dataclass
class ModelResults:
    key: str
    fit_table: pd.DataFrame          # okapi.models.trajectories.summarise_fit rows, one per K
    fits: dict[int, TrajectoryFit]
    chosen_k: int
    reason: str                      # the selection rules' verdict in words
    bic_only_k: int                  # K with the lowest BIC, rules aside

    @property
    def label(self) -> str:
        return MODELS[self.key].label

    @property
    def chosen(self) -> TrajectoryFit:
        return self.fits[self.chosen_k]


@dataclass
class ShareBootstrap:
    """Class shares (ordered by pain level) of a K-class fit refitted on patient resamples; percentile 95% CIs."""
    model: str
    n_classes: int
    shares: np.ndarray               # (usable resamples, K)
    n_resamples: int
    n_unusable: int                  # resamples whose best fit did not converge or had an empty class

    @property
    def se(self) -> np.ndarray:
        """Bootstrap SE of each share (the verdict rule's SE for C5a-c)."""
        if len(self.shares) < 2:
            return np.full(self.n_classes, np.nan)
        return self.shares.std(axis=0, ddof=1)

    @property
    def ci(self) -> np.ndarray:
        if not len(self.shares):
            return np.full((self.n_classes, 2), np.nan)
        return np.percentile(self.shares, [2.5, 97.5], axis=0).T


@dataclass
class TrajectoryResults:
    n_patients: int
    n_observations: int
    share_at_bounds: tuple[float, float]    # answers of 0 and of 10, among all recorded answers
    models: dict[str, ModelResults]
    chosen_model: str
    published_k: int
    bootstrap: ShareBootstrap               # of the chosen model's published-K solution
    patients: pd.DataFrame                  # derive.patient_summary
    long: pd.DataFrame                      # derive.pain_long
    mode: str

    @property
    def chosen(self) -> ModelResults:
        return self.models[self.chosen_model]

    @property
    def published_k_fit(self) -> TrajectoryFit:
        return self.chosen.fits[self.published_k]

    @property
    def n_classified(self) -> int:
        return self.chosen.chosen.n_patients


def published_shares() -> dict[str, float]:
    """The companion paper's group shares, % ({target id: value}, mild first: C5a, C5b, C5c)."""
    targets = load_targets().set_index("id")
    return {i: float(targets.loc[i, "value"]) for i in sorted(targets.index[targets["parent_id"] == "C5"])}


def fit_models(long_df: pd.DataFrame, keys=tuple(MODELS), n_starts: int = TRAJECTORY_STARTS,
               n_final: int = TRAJECTORY_FINAL) -> dict[str, ModelResults]:
    """The K grid of each model in `keys` (default: all three), with the plan's curve degree, starts and seed."""
    models = {}
    for key in keys:
        table, fits = fit_trajectory_grid(long_df, k_values=TRAJECTORY_K_VALUES, degree=TRAJECTORY_DEGREE,
                                          n_starts=n_starts, n_final=n_final, seed=TRAJECTORY_SEED,
                                          **MODELS[key].settings)
        chosen, reason = choose_number_of_classes(table)
        bic_only = int(table.loc[table["bic"].idxmin(), "n_classes"])
        models[key] = ModelResults(key, table, fits, chosen, reason, bic_only)
    return models


def choose_model(models: dict[str, ModelResults]) -> str:
    """The primary model of the analysis plan: group-based trajectory modelling (LCGA, Nagin's method, the companion
    paper's); the growth mixture and the censored-normal LCGA are sensitivity analyses beside it. Where the primary
    model was not fitted (a sensitivity refit of one model), the one fitted model."""
    return TRAJECTORY_PRIMARY_MODEL if TRAJECTORY_PRIMARY_MODEL in models else next(iter(models))


def resample_patients(data: TrajectoryData, index: np.ndarray) -> TrajectoryData:
    """The sufficient statistics of a patient resample: patients are the independent units, so a patient drawn twice
    contributes twice, exactly as two copies of his visits would."""
    per_patient = [field.name for field in dataclasses.fields(data) if field.name != "degree"]
    return dataclasses.replace(data, **{name: getattr(data, name)[index] for name in per_patient})


def _refit_resamples(task) -> list:
    """One chunk of the share bootstrap (a worker's task): the class shares of each resample, None if unusable."""
    data, indices, n_classes, settings, n_starts, n_final = task
    shares = []
    for index in indices:
        fit = fit_trajectory_model(resample_patients(data, index), n_classes, degree=TRAJECTORY_DEGREE,
                                   n_starts=n_starts, n_final=n_final, seed=TRAJECTORY_SEED, **settings)
        shares.append(None if fit.degenerate or not fit.converged else fit.class_probabilities)
    return shares


def bootstrap_class_shares(long_df: pd.DataFrame, model: str, n_classes: int,
                           n_resamples: int = TRAJECTORY_RESAMPLES, seed: int = TRAJECTORY_BOOTSTRAP_SEED,
                           n_starts: int = TRAJECTORY_BOOTSTRAP_STARTS,
                           n_final: int = TRAJECTORY_BOOTSTRAP_FINAL,
                           n_workers: int = BOOTSTRAP_WORKERS) -> ShareBootstrap:
    """Refit the K-class model on patient resamples; classes are matched across resamples by pain level (the fit's
    own ordering), which is also how they are matched to the published groups."""
    settings = MODELS[model].settings
    data = prepare_trajectory_data(long_df, TRAJECTORY_DEGREE)
    rng = np.random.default_rng(seed)
    indices = [rng.integers(0, data.n_patients, size=data.n_patients) for _ in range(n_resamples)]
    tasks = [(data, indices[first:first + RESAMPLES_PER_TASK], n_classes, settings, n_starts, n_final)
             for first in range(0, n_resamples, RESAMPLES_PER_TASK)]
    refits = [shares for chunk in map_in_processes(_refit_resamples, tasks, n_workers) for shares in chunk]
    usable = [shares for shares in refits if shares is not None]
    return ShareBootstrap(model, n_classes, np.array(usable), n_resamples, len(refits) - len(usable))


def trajectory_analysis_from_data(long_df: pd.DataFrame, patients: pd.DataFrame, mode: str = "synthetic",
                                  n_resamples: int = TRAJECTORY_RESAMPLES, keys=tuple(MODELS),
                                  n_starts: int = TRAJECTORY_STARTS, n_final: int = TRAJECTORY_FINAL,
                                  bootstrap_starts: tuple[int, int] = (TRAJECTORY_BOOTSTRAP_STARTS,
                                                                       TRAJECTORY_BOOTSTRAP_FINAL),
                                  n_workers: int = BOOTSTRAP_WORKERS) -> TrajectoryResults:
    """Everything of the chapter from derive.pain_long and derive.patient_summary. The defaults are the chapter's;
    okapi.simulation.operating reruns it on many cohorts with fewer starts and resamples, the primary model only,
    with n_workers=1 (its cohorts already run on all the workers)."""
    models = fit_models(long_df, keys, n_starts, n_final)
    chosen = choose_model(models)
    published_k = len(published_shares())
    nprs = long_df["nprs"].dropna()
    return TrajectoryResults(
        n_patients=len(patients), n_observations=int(nprs.size),
        share_at_bounds=(float((nprs == 0).mean()), float((nprs == 10).mean())), models=models, chosen_model=chosen,
        published_k=published_k,
        bootstrap=bootstrap_class_shares(long_df, chosen, published_k, n_resamples, n_starts=bootstrap_starts[0],
                                         n_final=bootstrap_starts[1], n_workers=n_workers),
        patients=patients, long=long_df, mode=mode)


def analyse_trajectories(cohort: Cohort) -> TrajectoryResults:
    """The chapter's whole analysis on a loaded Cohort."""
    return trajectory_analysis_from_data(pain_long(cohort), patient_summary(cohort), cohort.mode)
