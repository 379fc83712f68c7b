"""The pain-trajectories chapter's results in one call: group-based trajectory models of monthly pain for K = 1..5,
the number of classes chosen by stated rules, who is in each class, and the companion paper's groups (C5, C6).

Three models (okapi.models.trajectories): plain latent class growth analysis (LCGA), its censored-normal variant (Nagin's
model for a bounded scale, the closest to the companion paper's method) and the growth mixture model with a random
intercept. Plain LCGA over-extracts when patients vary within a class, so all are fitted and reported. The chosen
solution is the normal-likelihood model (LCGA or growth mixture) whose rule-chosen K has the lower BIC; the censored
likelihood mixes probabilities and densities, so its BIC is not on their scale and it is a sensitivity analysis only.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from okapi.data.loading import REAL, Cohort
from okapi.data.derive import patient_summary, pain_long
from okapi.verdicts.ledger import NOT_REPRODUCED, REPRODUCED, LedgerEntry, PublishedStatement, entry
from okapi.data.privacy import MIN_CELL, is_small_count
from okapi.book.report import fmt_number
from okapi.book.tables import PAIN_TYPE_LABELS, Row, characteristics_table
from okapi.data.targets import load_targets
from okapi.models.trajectories import (TrajectoryData, TrajectoryFit, choose_number_of_classes, fit_trajectory_grid,
                                       fit_trajectory_model, posterior_class_table, prepare_trajectory_data)
from okapi.plan import (TRAJECTORY_BOOTSTRAP_FINAL, TRAJECTORY_BOOTSTRAP_SEED, TRAJECTORY_BOOTSTRAP_STARTS,
                        TRAJECTORY_DEGREE, TRAJECTORY_FINAL, TRAJECTORY_K_VALUES, TRAJECTORY_RESAMPLES,
                        TRAJECTORY_SEED, TRAJECTORY_STARTS)

CHAPTER = "chapters/trajectories"
GROUP_NAMES = ("mild", "moderate", "severe")   # the companion paper's groups, lowest pain first (C5)


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


def fit_models(long_df: pd.DataFrame) -> dict[str, ModelResults]:
    models = {}
    for key, spec in MODELS.items():
        table, fits = fit_trajectory_grid(long_df, k_values=TRAJECTORY_K_VALUES, degree=TRAJECTORY_DEGREE, n_starts=TRAJECTORY_STARTS,
                                          n_final=TRAJECTORY_FINAL, seed=TRAJECTORY_SEED, **spec.settings)
        chosen, reason = choose_number_of_classes(table)
        bic_only = int(table.loc[table["bic"].idxmin(), "n_classes"])
        models[key] = ModelResults(key, table, fits, chosen, reason, bic_only)
    return models


def choose_model(models: dict[str, ModelResults]) -> str:
    """The normal-likelihood model whose rule-chosen solution has the lower BIC (LCGA is the growth mixture model
    with a zero random-intercept variance, so their BICs compare like nested models')."""
    candidates = [key for key in models if MODELS[key].comparable_bic]
    bic = {key: float(models[key].fit_table.set_index("n_classes").loc[models[key].chosen_k, "bic"])
           for key in candidates}
    return min(candidates, key=lambda key: (bic[key], key))


def resample_patients(data: TrajectoryData, index: np.ndarray) -> TrajectoryData:
    """The sufficient statistics of a patient resample: patients are the independent units, so a patient drawn twice
    contributes twice, exactly as two copies of his visits would."""
    per_patient = [field.name for field in dataclasses.fields(data) if field.name != "degree"]
    return dataclasses.replace(data, **{name: getattr(data, name)[index] for name in per_patient})


def bootstrap_class_shares(long_df: pd.DataFrame, model: str, n_classes: int, n_resamples: int = TRAJECTORY_RESAMPLES,
                           seed: int = TRAJECTORY_BOOTSTRAP_SEED) -> ShareBootstrap:
    """Refit the K-class model on patient resamples; classes are matched across resamples by pain level (the fit's
    own ordering), which is also how they are matched to the published groups."""
    settings = MODELS[model].settings
    data = prepare_trajectory_data(long_df, TRAJECTORY_DEGREE)
    rng = np.random.default_rng(seed)
    shares, unusable = [], 0
    for _ in range(n_resamples):
        index = rng.integers(0, data.n_patients, size=data.n_patients)
        fit = fit_trajectory_model(resample_patients(data, index), n_classes, degree=TRAJECTORY_DEGREE, n_starts=TRAJECTORY_BOOTSTRAP_STARTS,
                                   n_final=TRAJECTORY_BOOTSTRAP_FINAL, seed=TRAJECTORY_SEED, **settings)
        if fit.degenerate or not fit.converged:
            unusable += 1
            continue
        shares.append(fit.class_probabilities)
    return ShareBootstrap(model, n_classes, np.array(shares), n_resamples, unusable)


def trajectory_analysis_from_data(long_df: pd.DataFrame, patients: pd.DataFrame, mode: str = "synthetic",
                                  n_resamples: int = TRAJECTORY_RESAMPLES) -> TrajectoryResults:
    """Everything of the chapter from derive.pain_long and derive.patient_summary."""
    models = fit_models(long_df)
    chosen = choose_model(models)
    published_k = len(published_shares())
    nprs = long_df["nprs"].dropna()
    return TrajectoryResults(
        n_patients=len(patients), n_observations=int(nprs.size),
        share_at_bounds=(float((nprs == 0).mean()), float((nprs == 10).mean())), models=models, chosen_model=chosen,
        published_k=published_k, bootstrap=bootstrap_class_shares(long_df, chosen, published_k, n_resamples),
        patients=patients, long=long_df, mode=mode)


def analyse_trajectories(cohort: Cohort) -> TrajectoryResults:
    """The chapter's whole analysis on a loaded Cohort."""
    return trajectory_analysis_from_data(pain_long(cohort), patient_summary(cohort), cohort.mode)


# --- classes and who is in them ----------------------------------------------------------------------------------
def class_labels(n_classes: int, published_k: int) -> dict[int, str]:
    """'Class 1: mild' ... when K is the published number of groups (matched by pain level), else 'Class 1'."""
    if n_classes == published_k == len(GROUP_NAMES):
        return {k + 1: f"Class {k + 1}: {GROUP_NAMES[k]}" for k in range(n_classes)}
    return {k + 1: f"Class {k + 1}" for k in range(n_classes)}


def patients_by_class(results: TrajectoryResults, fit: TrajectoryFit) -> pd.DataFrame:
    """patient_summary of the classified patients with their modal class and its posterior probability."""
    classes = posterior_class_table(fit)[["patient_id", "trajectory_class", "posterior_probability"]]
    return results.patients.merge(classes, on="patient_id", how="inner", validate="one_to_one")


def observed_class_means(results: TrajectoryResults, fit: TrajectoryFit) -> pd.DataFrame:
    """Observed mean NPRS per month among the patients assigned to each class (cells of fewer than MIN_CELL patients
    lose their mean in real-data mode)."""
    classes = posterior_class_table(fit)[["patient_id", "trajectory_class"]]
    long = results.long.merge(classes, on="patient_id", how="inner", validate="many_to_one")
    table = (long.groupby(["trajectory_class", "month"], sort=True)["nprs"].agg(n="size", mean="mean")
             .reset_index())
    if results.mode == REAL:
        small = table["n"].map(is_small_count).astype(bool)
        table["n"] = table["n"].astype(float)  # the figure sizes points by n: a small cell loses it too
        table.loc[small, ["n", "mean"]] = np.nan
    return table


CHARACTERISTIC_ROWS = [
    Row("Posterior probability of the assigned class", "posterior_probability", "mean_sd", digits=2),
    *[Row(label, "pain_type", f"level:{level}") for level, label in PAIN_TYPE_LABELS.items()],
    Row("Pain at inclusion (NPRS, 0-10)", "nprs_baseline", "mean_sd"),
    Row("Pain at month 12 (NPRS, 0-10)", "nprs_month12", "mean_sd"),
    Row("HADS depression (0-21)", "hads_d_baseline", "mean_sd"),
    Row("HADS-D above 7", "depressed", "count"),
    Row("HADS anxiety (0-21)", "hads_a_baseline", "mean_sd"),
    Row("SF-12 physical component", "sf12_pcs_baseline", "mean_sd"),
    Row("SF-12 mental component", "sf12_mcs_baseline", "mean_sd"),
    Row("Cumulative ketamine dose over 1 year, mg", "cumulative_dose_mg", "median_iqr", digits=0),
]


def class_characteristics(results: TrajectoryResults, fit: TrajectoryFit) -> pd.DataFrame:
    """Characteristics by modal class, with the model-estimated share of each class as the first row."""
    assigned = patients_by_class(results, fit)
    table = characteristics_table(assigned, CHARACTERISTIC_ROWS, by="trajectory_class",
                                  group_labels=class_labels(fit.n_classes, results.published_k),
                                  min_cell=MIN_CELL if results.mode == REAL else None)
    share = ["Model-estimated class share, %", "100.0",
             *[fmt_number(100 * p, 1) for p in fit.class_probabilities], ""]
    return pd.concat([pd.DataFrame([share], columns=table.columns), table], ignore_index=True)


def c6_checks(results: TrajectoryResults, fit: TrajectoryFit) -> pd.DataFrame:
    """The companion paper's qualitative statements (C5 'mostly', C6), each read as a comparison of class summaries
    of the lowest ('mild') and highest ('severe') class. In real-data mode a share resting on 1-4 patients is hidden
    (its verdict still counts)."""
    assigned = patients_by_class(results, fit)
    mild, severe, classes = 1, fit.n_classes, range(1, fit.n_classes + 1)
    typed = assigned.dropna(subset=["pain_type"])
    counts = pd.crosstab(typed["trajectory_class"], typed["pain_type"])
    counts = counts.reindex(index=classes, columns=sorted({*counts.columns, "neuropathic", "fibromyalgia"}),
                            fill_value=0)
    share = counts.div(counts.sum(axis=1).replace(0, np.nan), axis=0).fillna(0.0)

    def pct(pain_type: str, cls: int) -> str:
        count, total = counts.loc[cls, pain_type], counts.loc[cls].sum()
        if results.mode == REAL and (is_small_count(count) or is_small_count(total - count)):
            return f"<{MIN_CELL} patients"
        return fmt_number(100 * share.loc[cls, pain_type], 1) + "%"

    most_frequent = {cls: share.loc[cls].idxmax() if counts.loc[cls].sum() else None for cls in classes}
    neuro, fibro = share["neuropathic"], share["fibromyalgia"]
    rows = [
        ("Mild group mostly neuropathic pain (C5)", "neuropathic pain is the most frequent type in the mild class",
         f"neuropathic {pct('neuropathic', mild)}", most_frequent[mild] == "neuropathic"),
        ("Severe group mostly fibromyalgia (C5)", "fibromyalgia is the most frequent type in the severe class",
         f"fibromyalgia {pct('fibromyalgia', severe)}", most_frequent[severe] == "fibromyalgia"),
        ("Neuropathic pain and fibromyalgia on opposite courses (C6)",
         "neuropathic pain more frequent in the mild than the severe class, fibromyalgia the reverse",
         f"neuropathic {pct('neuropathic', mild)} vs {pct('neuropathic', severe)}; fibromyalgia "
         f"{pct('fibromyalgia', mild)} vs {pct('fibromyalgia', severe)}",
         neuro[mild] > neuro[severe] and fibro[severe] > fibro[mild]),
    ]
    for label, column, worse in (("more depression", "hads_d_baseline", "highest"),
                                 ("more anxiety", "hads_a_baseline", "highest"),
                                 ("poorer physical quality of life", "sf12_pcs_baseline", "lowest"),
                                 ("poorer mental quality of life", "sf12_mcs_baseline", "lowest")):
        means = assigned.groupby("trajectory_class")[column].mean().reindex(classes)
        observed = assigned.groupby("trajectory_class")[column].count().reindex(classes, fill_value=0)
        sign = 1.0 if worse == "highest" else -1.0
        holds = bool((sign * (means[severe] - means.drop(severe)) > 0).all())   # False when a mean is missing
        shown = ["-" if not np.isfinite(m) else f"<{MIN_CELL} patients"
                 if results.mode == REAL and is_small_count(n) else fmt_number(m, 1) for m, n in zip(means, observed)]
        rows.append((f"Severe group has {label} (C6)", f"the severe class has the {worse} mean at inclusion",
                     " / ".join(shown), holds))
    table = pd.DataFrame(rows, columns=["Statement", "Read here as", "Class values", "Holds"])
    table["Holds"] = ["not assessable (one class)" if fit.n_classes < 2 else ("yes" if h else "no")
                      for h in table["Holds"]]
    return table


def ledger_entries(results: TrajectoryResults) -> list[LedgerEntry]:
    """C5a-c: shares of the chosen model's published-K solution, matched to mild / moderate / severe by pain level.

    Reproduced when the rules choose the published number of classes and the published share is inside the
    patient-bootstrap 95% CI; a share inside its CI while the rules chose another K is still not reproduced.
    """
    fit, ci, chosen_k = results.published_k_fit, 100 * results.bootstrap.ci, results.chosen.chosen_k
    rule = (f"the stated rules choose {results.published_k} classes and the published share is inside the reproduced "
            "95% CI (patient bootstrap)")
    rows = []
    for cls, (target_id, published) in enumerate(published_shares().items()):
        share = 100 * fit.class_probabilities[cls]
        inside = bool(ci[cls, 0] <= published <= ci[cls, 1])
        verdict = REPRODUCED if inside and chosen_k == results.published_k else NOT_REPRODUCED
        note = (f"{results.chosen.label}, K = {chosen_k} chosen"
                + ("" if chosen_k == results.published_k else
                   f"; share from its {results.published_k}-class solution, published value "
                   + ("inside" if inside else "outside") + " its CI"))
        rows.append(entry(target_id, share, CHAPTER, (verdict, rule), ci=tuple(ci[cls]), note=note, digits=1))
    return rows


# --- what the chapter prints ---------------------------------------------------------------------------------------
def published_statements(results: TrajectoryResults) -> list[PublishedStatement]:
    """C6, read as class comparisons in the three-class solution (the companion paper's number of groups)."""
    checks = c6_checks(results, results.published_k_fit)
    c6 = checks[checks["Statement"].str.endswith("(C6)")]
    failed = c6.loc[c6["Holds"] != "yes", "Statement"].str.replace(" (C6)", "", regex=False).tolist()
    finding = (f"{len(c6) - len(failed)} of {len(c6)} comparisons hold in the 3-class solution"
               + (f"; not: {'; '.join(failed)}" if failed else ""))
    return [PublishedStatement("C6", "neuropathic pain and fibromyalgia had opposite courses; the severe group had more "
                               "anxiety and depression and a poorer quality of life", finding,
                               REPRODUCED if not failed else NOT_REPRODUCED, CHAPTER)]
