"""Sensitivity section "Defining depression": do the depression findings depend on the split at HADS-D > 7, and does
anxiety carry them instead?

Each definition of the baseline mood score (HADS-D or HADS-A; above the paper's 7, above a stricter cut-off, or the
score itself, centred) is put through the two roles depression plays in the book: the time x mood interaction of the
depression chapter's mixed model (linear time, per month, with the 12-df omnibus Wald test with time as categories),
and the "mediator" of the mediation chapter's model (dose in g -> mood -> pain diminution per month). HADS-D and HADS-A
are correlated, so each coding is also fitted with both scales in one model (in the mediation model, the other scale
as a covariate of every regression).
"""

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from okapi.data.derive import patient_summary, pain_long
from okapi.models.intervals import excludes_zero
from okapi.verdicts.ledger import published_figure
from okapi.models.lmm_batch import fit_random_slope_model
from okapi.models.mediation import bootstrap_mediation
from okapi.chapters.mediation import mediation_dataset
from okapi.models.mixed_models import linear_combination, wald_test
from okapi.compute.engine import map_in_processes
from okapi.chapters.pain import canonical_order
from okapi.data.privacy import shown_count
from okapi.book.report import fmt_estimate_ci, fmt_number, fmt_p, fmt_p_statement
from okapi.sensitivity.verdicts import NOT_ASSESSABLE, CONTRADICTED, SUPPORTED, Verdict, verdict_line
from okapi.data.targets import target_value
from okapi.plan import HADS_D_CUTOFF, PER_MONTH, SensitivitySettings

SCALES = {"d": ("hads_d_baseline", "HADS-D", "depression"), "a": ("hads_a_baseline", "HADS-A", "anxiety")}
CODINGS = ("paper", "strict", "score")
ALONE, TOGETHER = "alone", "together"


@dataclass(frozen=True)
class Definition:
    scale: str  # a key of SCALES
    coding: str  # a member of CODINGS
    cutoff: int | None  # None for the score

    @property
    def column(self) -> str:
        return f"{self.scale}_{self.coding}"

    @property
    def label(self) -> str:
        name = SCALES[self.scale][1]
        return f"{name} score (per point)" if self.cutoff is None else f"{name} > {self.cutoff}"


def definitions(settings: SensitivitySettings) -> list[Definition]:
    cutoffs = {"paper": HADS_D_CUTOFF, "strict": int(settings.hads_strict_cutoff), "score": None}
    return [Definition(scale, coding, cutoffs[coding]) for scale in SCALES for coding in CODINGS]


def add_definition_columns(frame: pd.DataFrame, defs: list[Definition],
                           patient_means: dict[str, float]) -> pd.DataFrame:
    """0/1 above the cut-off, or the score minus the analysed patients' mean (so `years` stays an average course)."""
    frame = frame.copy()
    for d in defs:
        score = frame[SCALES[d.scale][0]].astype(float)
        frame[d.column] = score - patient_means[d.scale] if d.cutoff is None else (score > d.cutoff).astype(float)
    return frame


def _fit_pain_model(long_df: pd.DataFrame, fixed: str):
    """The one place the mixed models of this section are fitted (random intercept + slope on years, REML): the
    vectorised fit, checked against statsmodels and lme4 in tests/test_double_programming_lmm_batch.py."""
    return fit_random_slope_model(long_df, fixed)


@dataclass(frozen=True)
class _FitTask:
    long_df: pd.DataFrame
    columns: tuple[str, ...]  # mood columns in the model
    categorical: bool


def _run_fit_task(task: _FitTask) -> dict:
    """One model's interaction(s): a module-level function so that it can run in a worker process. Warnings are
    returned, not printed, so the parent can re-raise them where the chapter sees them."""
    terms = task.columns[0] if len(task.columns) == 1 else f"({' + '.join(task.columns)})"
    time = "C(month)" if task.categorical else "years"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = _fit_pain_model(task.long_df, f"nprs ~ {time} * {terms}")
    out = {"warnings": tuple(str(w.message) for w in caught), "n_observations": fit.n_observations,
           "n_patients": fit.n_patients}
    for column in task.columns:
        if task.categorical:
            out[column] = wald_test(fit, rf"^C\(month\)\[T\.\d+\]:{column}$")
        else:
            out[column] = linear_combination(fit, {f"years:{column}": PER_MONTH})
    return out


@dataclass
class DefinitionsResults:
    definitions: list[Definition]
    interactions: pd.DataFrame  # one row per (definition, model): estimate, se, ci, p per month, omnibus, n
    mediator_roles: pd.DataFrame  # one row per (definition, model): b, indirect, proportion with intervals
    n_patients: int  # mixed-model set: a pain score and both baseline HADS subscales
    n_observations: int
    n_mediation: int  # mediation set: a pain diminution and both baseline HADS subscales
    group_sizes: dict[str, int]  # patients above each cut-off (mixed-model set)
    hads_correlation: float  # Pearson r of baseline HADS-D and HADS-A (mixed-model set)
    n_bootstrap: int
    seed: int
    mode: str


def _mixed_model_rows(long_df: pd.DataFrame, defs: list[Definition], n_workers: int) -> pd.DataFrame:
    models = [((d.column,), ALONE) for d in defs]
    models += [((f"d_{coding}", f"a_{coding}"), TOGETHER) for coding in CODINGS]
    tasks = [_FitTask(long_df[["patient_id", "month", "years", "nprs", *columns]], columns, categorical)
             for columns, _ in models for categorical in (False, True)]
    fitted = map_in_processes(_run_fit_task, tasks, n_workers)
    _reraise(fitted)
    by_column = {d.column: d for d in defs}
    rows = []
    for k, (columns, model) in enumerate(models):
        linear, omnibus = fitted[2 * k], fitted[2 * k + 1]
        for column in columns:
            d, combo, wald = by_column[column], linear[column], omnibus[column]
            rows.append({"scale": d.scale, "coding": d.coding, "model": model, "label": d.label,
                         "n_patients": linear["n_patients"], "estimate": combo.estimate, "se": combo.se,
                         "ci_low": combo.ci_low, "ci_high": combo.ci_high, "p": combo.p,
                         "omnibus_chi2": wald.chi2, "omnibus_df": wald.df, "omnibus_p": wald.p})
    return pd.DataFrame(rows)


def _mediator_rows(frame: pd.DataFrame, defs: list[Definition], n_boot: int, seed: int) -> pd.DataFrame:
    rows = []
    for d in defs:
        other = f"{'a' if d.scale == 'd' else 'd'}_{d.coding}"
        for model, covariates in ((ALONE, None), (TOGETHER, frame[[other]].to_numpy())):
            boot = bootstrap_mediation(frame["dose_g"], frame[d.column], frame["diminution_per_month"],
                                       covariates=covariates, n_boot=n_boot, seed=seed)
            ols, est = boot.ols, boot.estimates
            row = {"scale": d.scale, "coding": d.coding, "model": model, "label": d.label, "n_patients": boot.n,
                   "b": ols.loc["b", "estimate"], "b_low": ols.loc["b", "ci_low"], "b_high": ols.loc["b", "ci_high"],
                   "b_p": ols.loc["b", "p"]}
            for path, name in (("indirect", "indirect"), ("proportion_mediated", "proportion")):
                scale = 100.0 if name == "proportion" else 1.0
                row.update({name: scale * est.loc[path, "estimate"], f"{name}_low": scale * est.loc[path, "perc_low"],
                            f"{name}_high": scale * est.loc[path, "perc_high"]})
            rows.append(row)
    return pd.DataFrame(rows)


def mediation_frame(cohort, defs: list[Definition]) -> pd.DataFrame:
    """The mediation chapter's analysis set (sorted by patient_id, so bootstrap draws do not depend on file order)
    restricted to patients with both baseline subscales, with one column per definition."""
    frame, _ = mediation_dataset(cohort)
    anxiety = patient_summary(cohort).set_index("patient_id")["hads_a_baseline"]
    frame["hads_a_baseline"] = frame["patient_id"].map(anxiety).to_numpy(dtype=float, na_value=np.nan)
    frame = frame.loc[frame["analysed"] & frame["hads_a_baseline"].notna()].reset_index(drop=True)
    return add_definition_columns(frame, defs, {scale: float(frame[column].mean())
                                                for scale, (column, *_) in SCALES.items()})


def _reraise(outputs: list[dict]) -> None:
    """Warnings caught in worker processes (e.g. a fit that did not converge), raised here where the chapter sees
    them: the book build turns any warning into an error."""
    for out in outputs:
        for message in out["warnings"]:
            warnings.warn(message, RuntimeWarning, stacklevel=3)


def run_definitions_sensitivity(cohort, settings: SensitivitySettings) -> DefinitionsResults:
    """The whole section: every definition in both roles, alone and beside the other subscale."""
    defs = definitions(settings)
    long_df = pain_long(cohort)
    long_df = canonical_order(long_df.loc[long_df["hads_d_baseline"].notna() & long_df["hads_a_baseline"].notna()])
    patients = long_df.drop_duplicates("patient_id")
    means = {scale: float(patients[column].astype(float).mean()) for scale, (column, *_) in SCALES.items()}
    long_df = add_definition_columns(long_df, defs, means)
    interactions = _mixed_model_rows(long_df, defs, settings.n_workers)

    frame = mediation_frame(cohort, defs)
    mediator_roles = _mediator_rows(frame, defs, settings.n_bootstrap, settings.seed)

    pairs = patients[["hads_d_baseline", "hads_a_baseline"]].astype(float)
    return DefinitionsResults(
        definitions=defs, interactions=interactions, mediator_roles=mediator_roles, n_patients=len(patients),
        n_observations=len(long_df), n_mediation=len(frame),
        group_sizes={d.column: int((patients[SCALES[d.scale][0]].astype(float) > d.cutoff).sum())
                     for d in defs if d.cutoff is not None},
        hads_correlation=float(np.corrcoef(pairs.to_numpy().T)[0, 1]), n_bootstrap=settings.n_bootstrap,
        seed=settings.seed, mode=cohort.mode)


# --- verdicts --------------------------------------------------------------------------------------------------------
def _row(table: pd.DataFrame, scale: str, coding: str, model: str) -> pd.Series:
    return table.loc[(table["scale"] == scale) & (table["coding"] == coding) & (table["model"] == model)].iloc[0]


def _in_direction(low: float, high: float, sign: float) -> bool:
    """The 95% CI lies wholly on the side of zero given by `sign`."""
    return (low > 0) if sign > 0 else (high < 0)


def _digits(coding: str) -> int:
    return 4 if coding == "score" else 3


def _interaction_text(row: pd.Series) -> str:
    return fmt_estimate_ci(row["estimate"], row["ci_low"], row["ci_high"], _digits(row["coding"]))


def _b_text(row: pd.Series) -> str:
    return fmt_estimate_ci(row["b"], row["b_low"], row["b_high"], _digits(row["coding"]))


def _coding_words(results: DefinitionsResults, coding: str) -> str:
    d = next(x for x in results.definitions if x.coding == coding)
    return "both scores as scores" if d.cutoff is None else f"both subscales split above {d.cutoff}"


def _separates(anxiety: tuple[float, float], depression: tuple[float, float]) -> str:
    """anxiety_not's rule for one role, both scales in one model: anxiety's 95% CI excluding zero overturns it;
    otherwise depression's excluding zero supports it; neither excluding zero means the two cannot be told apart."""
    if excludes_zero(*anxiety):
        return CONTRADICTED
    return SUPPORTED if excludes_zero(*depression) else NOT_ASSESSABLE


def keyed_verdicts(results: DefinitionsResults) -> dict[str, Verdict]:
    """depression_interaction, per coding: the depression x time interaction has the published sign (R8) with its
    95% CI excluding zero, both alone and with anxiety in the model. anxiety_not, per coding and role (mixed-model
    interaction; path b of the mediation model), both scales in one model: see _separates."""
    sign = np.sign(target_value("R8"))
    table, roles = results.interactions, results.mediator_roles
    out = {}
    for d in (x for x in results.definitions if x.scale == "d"):
        alone, together = _row(table, "d", d.coding, ALONE), _row(table, "d", d.coding, TOGETHER)
        kept = all(_in_direction(r["ci_low"], r["ci_high"], sign) for r in (alone, together))
        reversed_ = any(_in_direction(r["ci_low"], r["ci_high"], -sign) for r in (alone, together))
        unit = "per HADS-D point " if d.cutoff is None else ""
        out[f"depression_{d.coding}"] = Verdict(
            "depression_interaction", f"depression defined as {d.label}", SUPPORTED if kept else CONTRADICTED,
            f"With depression defined as {d.label}, the difference in monthly pain change {unit}is "
            f"{_interaction_text(alone)} (omnibus {fmt_p_statement(alone['omnibus_p'])}), and "
            f"{_interaction_text(together)} with anxiety in the same model (the rule: it must hold in both).",
            null_result=not kept and not reversed_)
    for coding in CODINGS:
        words = _coding_words(results, coding)
        dep, anx = _row(table, "d", coding, TOGETHER), _row(table, "a", coding, TOGETHER)
        out[f"anxiety_{coding}_interaction"] = Verdict(
            "anxiety_not", f"HADS-D and HADS-A in one mixed model ({words})",
            _separates((anx["ci_low"], anx["ci_high"]), (dep["ci_low"], dep["ci_high"])),
            f"With {words} in one mixed model, anxiety's time interaction is {_interaction_text(anx)} against "
            f"depression's {_interaction_text(dep)}.", null_result=not excludes_zero(anx["ci_low"], anx["ci_high"]))
        dep, anx = _row(roles, "d", coding, TOGETHER), _row(roles, "a", coding, TOGETHER)
        out[f"anxiety_{coding}_mediator"] = Verdict(
            "anxiety_not", f"HADS-D and HADS-A as mediators ({words})",
            _separates((anx["b_low"], anx["b_high"]), (dep["b_low"], dep["b_high"])),
            f"With {words} in the mediation model, each holding the other fixed, anxiety's path b to pain "
            f"diminution is {_b_text(anx)} against depression's {_b_text(dep)}.",
            null_result=not excludes_zero(anx["b_low"], anx["b_high"]))
    return out


def verdicts(results: DefinitionsResults) -> list[Verdict]:
    return list(keyed_verdicts(results).values())


# --- what the section prints -----------------------------------------------------------------------------------------
def glued_text(results: DefinitionsResults, finished: list[Verdict] | None = None) -> dict[str, str]:
    p = "sens_definitions_"
    texts = {f"{p}n_patients": str(results.n_patients), f"{p}n_observations": str(results.n_observations),
             f"{p}n_mediation": str(results.n_mediation), f"{p}n_bootstrap": str(results.n_bootstrap),
             f"{p}seed": str(results.seed), f"{p}hads_correlation": fmt_number(results.hads_correlation, 2),
             f"{p}paper_cutoff": str(HADS_D_CUTOFF), f"{p}published_r8": published_figure("R8"),
             f"{p}published_r11": published_figure("R11"),
             f"{p}strict_cutoff": str(next(d.cutoff for d in results.definitions if d.coding == "strict"))}
    for column, count in results.group_sizes.items():
        texts[f"{p}{column}_n"] = shown_count(count, results.mode)
    for _, row in results.interactions.iterrows():
        key = f"{p}{row['scale']}_{row['coding']}_{row['model']}"
        texts[f"{key}_interaction"] = _interaction_text(row)
        texts[f"{key}_p"] = fmt_p_statement(row["p"])
        texts[f"{key}_omnibus"] = (f"chi-square {fmt_number(row['omnibus_chi2'], 1)} on {int(row['omnibus_df'])} df, "
                                   f"{fmt_p_statement(row['omnibus_p'])}")
    for _, row in results.mediator_roles.iterrows():
        key = f"{p}{row['scale']}_{row['coding']}_{row['model']}"
        texts[f"{key}_b"] = _b_text(row)
        low, high = fmt_number(row["proportion_low"], 1), fmt_number(row["proportion_high"], 1)
        texts[f"{key}_proportion"] = f"{fmt_number(row['proportion'], 1)}% (95% CI {low} to {high}%)"
    for key, verdict in zip(keyed_verdicts(results), finished or verdicts(results)):
        texts[f"{p}verdict_{key}"] = verdict_line(verdict)
    return texts


def interaction_table(results: DefinitionsResults) -> pd.DataFrame:
    """The time x mood interaction per definition, alone and with the other subscale in the model."""
    rows = []
    for _, row in results.interactions.iterrows():
        model = "alone" if row["model"] == ALONE else "with the other subscale"
        rows.append({"Definition": row["label"], "Model": model,
                     "Difference in change per month (95% CI)": fmt_estimate_ci(
                         row["estimate"], row["ci_low"], row["ci_high"], _digits(row["coding"]), label=""),
                     "P": fmt_p(row["p"]),
                     "Omnibus chi-square (df)": f"{fmt_number(row['omnibus_chi2'], 1)} ({int(row['omnibus_df'])})",
                     "Omnibus P": fmt_p(row["omnibus_p"])})
    return pd.DataFrame(rows)


def mediator_table(results: DefinitionsResults) -> pd.DataFrame:
    """Each definition as the mediation model's "mediator": path b (OLS), indirect effect and proportion (bootstrap)."""
    rows = []
    for _, row in results.mediator_roles.iterrows():
        digits = _digits(row["coding"])
        model = "alone" if row["model"] == ALONE else "other subscale held fixed"
        rows.append({"Definition": row["label"], "Model": model,
                     "Path b (95% CI)": fmt_estimate_ci(row["b"], row["b_low"], row["b_high"], digits, label=""),
                     "Indirect effect (95% CI)": fmt_estimate_ci(row["indirect"], row["indirect_low"],
                                                                 row["indirect_high"], digits + 1, label=""),
                     "Proportion mediated, % (95% CI)": fmt_estimate_ci(row["proportion"], row["proportion_low"],
                                                                         row["proportion_high"], 1, label="")})
    return pd.DataFrame(rows)


def group_size_table(results: DefinitionsResults) -> pd.DataFrame:
    """Patients above each cut-off (mixed-model set); small counts hidden in real-data mode."""
    return pd.DataFrame([{"Definition": d.label, "Patients above the cut-off":
                          shown_count(results.group_sizes[d.column], results.mode),
                          "Of": str(results.n_patients)} for d in results.definitions if d.cutoff is not None])
