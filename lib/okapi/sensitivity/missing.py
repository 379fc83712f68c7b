"""Sensitivity section "Missing pain scores": complete cases, the likelihood-based analysis under MAR, multiple
imputation with Rubin's rules, and a delta-adjusted tipping-point analysis for dropout not at random.

Analysis set: the depression chapter's (patients with a pain score and a baseline HADS-D), so that the imputation
model can contain the time x depression interaction; the pain chapter's decline on every patient with a pain score
is shown beside it. Models: random intercept + slope on years per patient, REML (okapi.models.lmm_batch, the same model as
okapi.models.mixed_models). Imputation, delta adjustment and pooling: okapi.models.imputation.
"""

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from okapi.models import lmm_batch
from okapi.data.loading import REAL
from okapi.data.derive import pain_long
from okapi.verdicts.ledger import published_figure
from okapi.models.mixed_models import LinearCombination, linear_combination
from okapi.data.privacy import MIN_CELL, shown_count
from okapi.book.report import fmt_estimate_ci, fmt_number, fmt_p
from okapi.sensitivity.verdicts import CHECK, CONTRADICTED, SUPPORTED, Verdict, verdict_line
from okapi.models.imputation import (MONTHS, Pooled, common_shift_grid, draw_imputations, first_root,
                                     interaction_surface, interaction_tipping_curve, margin, pain_grid, pooled_over,
                                     scalar, share_above_scale)
from okapi.data.targets import target_value
from okapi.plan import IMPUTATION_MODEL, PER_MONTH, SensitivitySettings

DECLINE_MODEL = "nprs ~ years"


@dataclass(frozen=True)
class Estimate:
    estimate: float
    ci_low: float
    ci_high: float
    p: float

    @classmethod
    def of(cls, value) -> "Estimate":
        """From a LinearCombination or a scalar Pooled."""
        return cls(float(value.estimate), float(value.ci_low), float(value.ci_high), float(value.p))


@dataclass(frozen=True)
class AnalysisRow:
    label: str
    n_patients: int
    assumption: str
    decline: Estimate | None  # points per year
    interaction: Estimate | None  # points per month
    note: str = ""


@dataclass
class MissingDataResults:
    mode: str
    n_patients: int  # analysis set
    n_with_pain: int  # every patient with a pain score (the pain chapter's set)
    n_depressed: int
    n_dropouts: dict  # {False: not depressed, True: depressed}: last score before month 12
    cells: dict  # observed / intermittent / after_dropout: patient-months of the grid
    n_imputations: int
    n_boundary_fits: int
    rows: list  # AnalysisRow: direct likelihood, complete cases, multiple imputation
    dl_decline: Estimate  # nprs ~ years, analysis set
    dl_decline_from_imputation_model: Estimate  # years + share depressed x years:depressed
    dl_interaction: Estimate  # per month
    mi_decline: Pooled
    mi_interaction: Pooled
    deltas: np.ndarray  # sorted, starting at 0
    common: pd.DataFrame  # delta, decline_*, interaction_* (same delta for every dropout)
    surface: pd.DataFrame  # delta_not_depressed, delta_depressed, estimate, ci_low, ci_high, margin
    decline_tipping: float  # delta at which the decline's 95% CI first reaches 0 (NaN: beyond the grid)
    decline_zero: float  # delta at which the pooled decline itself reaches 0
    interaction_curve: pd.DataFrame  # delta_not_depressed, delta_depressed (tipping; NaN beyond the grid)
    depressed_shifted: bool  # the tipping shift is searched for the dropouts with depression (else without)
    interaction_tipping: float  # shift of that group's dropouts (the other group under MAR) where the CI reaches 0
    interaction_zero: float
    monthly_sd: float  # mean over months of the observed SD of NPRS
    benchmark: float  # |direct-likelihood one-year decline|: a shift that erases the whole average benefit
    above_10_at_tipping: float  # share of post-dropout imputed scores above 10 at the decline's tipping delta


def run_missing_sensitivity(cohort, settings: SensitivitySettings) -> MissingDataResults:
    """The whole section on a loaded Cohort."""
    long_df = pain_long(cohort)
    analysis = long_df.loc[long_df["hads_d_baseline"].notna()].copy()
    analysis["depressed"] = analysis["depressed"].astype(bool)
    return missing_data_from_long(analysis, settings, cohort.mode, everyone=long_df)


def missing_data_from_long(analysis: pd.DataFrame, settings: SensitivitySettings, mode: str = "synthetic",
                           everyone: pd.DataFrame | None = None) -> MissingDataResults:
    """From long data of the analysis set (patient_id, month, years, nprs, depressed: one row per observed score);
    `everyone`: the same for every patient with a pain score (for the pain chapter's decline), if available."""
    analysis = analysis.sort_values(["patient_id", "month"], kind="stable").reset_index(drop=True)
    grid = pain_grid(analysis)
    imputations = draw_imputations(grid, settings.n_imputations, settings.seed)
    dl_decline_fit = lmm_batch.fit_random_slope_model(analysis, DECLINE_MODEL)
    dl_full_fit = lmm_batch.fit_random_slope_model(analysis, IMPUTATION_MODEL)
    share_depressed = float(grid.depressed.mean())
    dl_decline = linear_combination(dl_decline_fit, {"years": 1.0})
    dl_interaction = linear_combination(dl_full_fit, {"years:depressed": PER_MONTH})
    directions = {"decline": np.sign(dl_decline.estimate), "interaction": np.sign(dl_interaction.estimate)}

    deltas = np.array(sorted({0.0, *(float(d) for d in settings.tipping_deltas)}))
    searched = deltas[deltas >= 0]
    common = common_shift_grid(imputations, grid, deltas, directions)
    mi_decline, mi_interaction = pooled_over(imputations, grid, [[0.0, 0.0]])
    mi_decline, mi_interaction = scalar(mi_decline), scalar(mi_interaction)

    def decline_at(delta: float, what: str = "margin") -> float:
        pooled = scalar(pooled_over(imputations, grid, [[delta, delta]])[0])
        return float(margin(pooled, directions["decline"]) if what == "margin"
                     else directions["decline"] * pooled.estimate)

    at_searched = common.set_index("delta").loc[searched]
    decline_tipping = first_root(searched, at_searched["decline_margin"].to_numpy(), decline_at)
    decline_zero = first_root(searched, directions["decline"] * at_searched["decline_estimate"].to_numpy(),
                              lambda d: decline_at(d, "estimate"))
    surface = interaction_surface(imputations, grid, deltas, directions["interaction"])
    curve, interaction_zero, depressed_shifted = interaction_tipping_curve(imputations, grid, surface, searched,
                                                                    directions["interaction"])
    fixed, shifted = ("delta_not_depressed", "delta_depressed") if depressed_shifted else \
        ("delta_depressed", "delta_not_depressed")
    at_zero = curve.loc[curve[fixed] == 0.0, shifted]

    observed = analysis.groupby("month")["nprs"].std(ddof=1)
    last = grid.last_observed
    return MissingDataResults(
        mode=mode, n_patients=len(grid.patient_ids),
        n_with_pain=int(everyone["patient_id"].nunique()) if everyone is not None else len(grid.patient_ids),
        n_depressed=int(grid.depressed.sum()),
        n_dropouts={group: int(((last < MONTHS[-1]) & (grid.depressed == int(group))).sum()) for group in (False, True)},
        cells={"observed": int(grid.observed.sum()), "intermittent": int(grid.intermittent.sum()),
               "after_dropout": int(grid.after_dropout.sum())},
        n_imputations=settings.n_imputations, n_boundary_fits=imputations.n_boundary_fits,
        rows=_analysis_rows(analysis, everyone, mode, dl_decline, dl_interaction, mi_decline, mi_interaction,
                            settings.n_imputations),
        dl_decline=Estimate.of(dl_decline),
        dl_decline_from_imputation_model=Estimate.of(linear_combination(
            dl_full_fit, {"years": 1.0, "years:depressed": share_depressed})),
        dl_interaction=Estimate.of(dl_interaction), mi_decline=mi_decline, mi_interaction=mi_interaction,
        deltas=deltas, common=common, surface=surface, decline_tipping=decline_tipping, decline_zero=decline_zero,
        interaction_curve=curve, depressed_shifted=depressed_shifted,
        interaction_tipping=float(at_zero.iloc[0]) if len(at_zero) else float("nan"),
        interaction_zero=interaction_zero, monthly_sd=float(observed.mean()), benchmark=abs(dl_decline.estimate),
        above_10_at_tipping=share_above_scale(imputations, grid, decline_tipping))


# --- complete cases and the direct-likelihood rows ---------------------------------------------------------------
def complete_case_sets(analysis: pd.DataFrame) -> dict[str, np.ndarray]:
    """Patient ids of the two complete-case definitions: every one of the 13 monthly scores, or the scores at
    month 0 and month 12 (the completers of a baseline-to-one-year comparison; all their scores are used)."""
    wide = analysis.pivot(index="patient_id", columns="month", values="nprs").reindex(columns=MONTHS)
    return {"all_months": wide.index[wide.notna().all(axis=1)].to_numpy(),
            "endpoints": wide.index[wide[[MONTHS[0], MONTHS[-1]]].notna().all(axis=1)].to_numpy()}


def _subset_fit(rows: pd.DataFrame, formula: str, mode: str) -> tuple[LinearCombination | None, str]:
    """A complete-case fit, or None with the reason. A boundary fit on a small subset is a result, reported in the
    table's note; the fit's own warning is therefore taken over here (message text is in fit.warnings)."""
    n = rows["patient_id"].nunique()
    if mode == REAL and n < MIN_CELL:
        return None, f"not shown (fewer than {MIN_CELL} patients)"
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="mixed model", category=RuntimeWarning)
            fit = lmm_batch.fit_random_slope_model(rows, formula)
    except (ValueError, np.linalg.LinAlgError) as error:
        return None, f"not estimable ({error})"
    if not fit.converged:
        return None, "not estimable (the fit did not converge)"
    term = {"nprs ~ years": {"years": 1.0}, IMPUTATION_MODEL: {"years:depressed": PER_MONTH}}[formula]
    return linear_combination(fit, term), ("boundary fit" if fit.warnings else "")


def _analysis_rows(analysis, everyone, mode, dl_decline, dl_interaction, mi_decline, mi_interaction, m):
    rows = []
    if everyone is not None:
        decline, note = _subset_fit(everyone, DECLINE_MODEL, mode)
        rows.append(AnalysisRow("Direct likelihood, every patient with a pain score (pain chapter)",
                                int(everyone["patient_id"].nunique()), "MAR", decline and Estimate.of(decline), None,
                                note))
    n = int(analysis["patient_id"].nunique())
    rows.append(AnalysisRow("Direct likelihood, analysis set (depression chapter)", n, "MAR",
                            Estimate.of(dl_decline), Estimate.of(dl_interaction)))
    labels = {"all_months": "Complete cases: all 13 monthly scores",
              "endpoints": "Completers: scores at month 0 and month 12 (all their scores)"}
    for key, ids in complete_case_sets(analysis).items():
        subset = analysis.loc[analysis["patient_id"].isin(ids)]
        decline, note_a = _subset_fit(subset, DECLINE_MODEL, mode)
        interaction, note_b = _subset_fit(subset, IMPUTATION_MODEL, mode)
        note = "; ".join(dict.fromkeys(x for x in (note_a, note_b) if x))
        rows.append(AnalysisRow(labels[key], len(ids), "MCAR", decline and Estimate.of(decline),
                                interaction and Estimate.of(interaction), note))
    rows.append(AnalysisRow(f"Multiple imputation ({m} imputations), Rubin's rules", n, "MAR",
                            Estimate.of(mi_decline), Estimate.of(mi_interaction)))
    return rows


# --- verdicts, text and tables -----------------------------------------------------------------------------------
def _ci(value: Estimate | Pooled, digits: int) -> str:
    return fmt_estimate_ci(float(value.estimate), float(value.ci_low), float(value.ci_high), digits)


def _points(delta: float, results: MissingDataResults) -> str:
    if np.isnan(delta):
        return f"more than {fmt_number(results.deltas.max(), 1)} points (beyond the largest shift tried)"
    if delta == 0:
        return "0 points (already under MAR)"
    return f"{fmt_number(delta, 2)} points"


def tipping_holds(tipping: float, benchmark: float) -> bool:
    """The verdict rule: a conclusion survives the tipping-point analysis if the shift that overturns it is larger
    than the one-year decline itself (dropouts would have to lose more than the whole average benefit), or lies
    beyond the grid of shifts tried."""
    return bool(np.isnan(tipping) or tipping > benchmark)


def _scale_of(delta: float, results: MissingDataResults) -> str:
    if np.isnan(delta) or delta == 0:
        return ""
    return (f" ({fmt_number(delta / results.monthly_sd, 2)} times the observed monthly SD of "
            f"{fmt_number(results.monthly_sd, 2)}, {fmt_number(delta / results.benchmark, 2)} times the one-year "
            f"decline of {fmt_number(results.benchmark, 2)} points)")


def _groups(results: MissingDataResults) -> tuple[str, str]:
    """(the group whose dropouts are shifted in the tipping search, the group left under MAR)."""
    with_, without = "with depressive symptoms", "without depressive symptoms"
    return (with_, without) if results.depressed_shifted else (without, with_)


def verdicts(results: MissingDataResults) -> list[Verdict]:
    m = results.n_imputations
    mi_label = f"multiple imputation under MAR ({m} imputations)"
    decline_ok = float(margin(results.mi_decline, np.sign(results.dl_decline.estimate))) > 0
    interaction_ok = float(margin(results.mi_interaction, np.sign(results.dl_interaction.estimate))) > 0
    common_ok = bool((results.common["interaction_margin"] > 0).all())
    already = "The {}'s 95% CI includes zero already under MAR: no shift after dropout is needed to overturn it."
    rule = (f" The rule: a conclusion is supported only if the overturning shift exceeds the one-year decline "
            f"({fmt_number(results.benchmark, 2)} points).")
    decline_tipping = (
        f"The decline's 95% CI reaches zero if pain after dropout is {_points(results.decline_tipping, results)}"
        f" higher than predicted under MAR{_scale_of(results.decline_tipping, results)}; the estimate itself "
        f"reaches zero at {_points(results.decline_zero, results)}." + rule) if decline_ok else already.format("decline")
    shifted, kept = _groups(results)
    interaction_tipping = (
        f"With the dropouts {kept} under MAR, the interaction's 95% CI reaches zero if the pain of the dropouts "
        f"{shifted} is {_points(results.interaction_tipping, results)} higher after dropout"
        f"{_scale_of(results.interaction_tipping, results)}; a shift common to both groups "
        + ("leaves it clear of zero over the whole grid." if common_ok else "also overturns it.") + rule
    ) if interaction_ok else already.format("interaction")
    return [
        Verdict("pain_decline", mi_label, SUPPORTED if decline_ok else CONTRADICTED,
                f"Under multiple imputation the one-year change in pain is {_ci(results.mi_decline, 2)} points per "
                f"year, beside {_ci(results.dl_decline, 2)} by direct likelihood on the same patients.", kind=CHECK),
        Verdict("pain_decline", "tipping point: the same shift in pain after dropout for every dropout",
                SUPPORTED if decline_ok and tipping_holds(results.decline_tipping, results.benchmark) else CONTRADICTED,
                decline_tipping),
        Verdict("depression_interaction", mi_label, SUPPORTED if interaction_ok else CONTRADICTED,
                f"Under multiple imputation the time x depression interaction is {_ci(results.mi_interaction, 3)} "
                f"points per month, beside {_ci(results.dl_interaction, 3)} by direct likelihood.", kind=CHECK,
                null_result=not interaction_ok),
        Verdict("depression_interaction", "tipping point: a larger shift after dropout in one depression group",
                SUPPORTED if interaction_ok and tipping_holds(results.interaction_tipping, results.benchmark)
                else CONTRADICTED, interaction_tipping),
    ]


def glued_text(results: MissingDataResults, finished: list[Verdict] | None = None) -> dict[str, str]:
    mode, cells = results.mode, results.cells
    n_cells = sum(cells.values())
    curve = results.interaction_curve.dropna()
    shifted, fixed = ("delta_depressed", "delta_not_depressed") if results.depressed_shifted else \
        ("delta_not_depressed", "delta_depressed")
    slope = np.polyfit(curve[fixed], curve[shifted], 1)[0] if len(curve) > 1 else np.nan
    complete = {row.label.split(":")[0]: row for row in results.rows}
    text = {
        "n_patients": str(results.n_patients), "n_with_pain": str(results.n_with_pain),
        "n_excluded": shown_count(results.n_with_pain - results.n_patients, mode),
        "n_depressed": str(results.n_depressed),
        "n_dropouts": shown_count(sum(results.n_dropouts.values()), mode),
        "n_dropouts_depressed": shown_count(results.n_dropouts[True], mode),
        "n_dropouts_not_depressed": shown_count(results.n_dropouts[False], mode),
        "n_complete_cases": shown_count(complete["Complete cases"].n_patients, mode),
        "n_completers": shown_count(complete["Completers"].n_patients, mode),
        "pct_after_dropout": f"{fmt_number(100 * cells['after_dropout'] / n_cells, 1)}%",
        "pct_intermittent": f"{fmt_number(100 * cells['intermittent'] / n_cells, 1)}%",
        "pct_observed": f"{fmt_number(100 * cells['observed'] / n_cells, 1)}%",
        "m": str(results.n_imputations),
        "n_boundary_fits": str(results.n_boundary_fits),
        "dl_decline": _ci(results.dl_decline, 2), "mi_decline": _ci(results.mi_decline, 2),
        "dl_decline_imputation_model": _ci(results.dl_decline_from_imputation_model, 2),
        "dl_interaction": _ci(results.dl_interaction, 3), "mi_interaction": _ci(results.mi_interaction, 3),
        "mi_decline_fmi": f"{fmt_number(100 * float(results.mi_decline.missing_information), 0)}%",
        "mi_interaction_fmi": f"{fmt_number(100 * float(results.mi_interaction.missing_information), 0)}%",
        "mi_decline_df": fmt_number(float(results.mi_decline.df), 0),
        "mi_interaction_df": fmt_number(float(results.mi_interaction.df), 0),
        "mi_decline_mcse": fmt_number(np.sqrt(float(results.mi_decline.between) / results.n_imputations), 3),
        "decline_tipping": _points(results.decline_tipping, results),
        "decline_zero": _points(results.decline_zero, results),
        "interaction_tipping": _points(results.interaction_tipping, results),
        "interaction_zero": _points(results.interaction_zero, results),
        "curve_slope": fmt_number(slope, 1),
        "shifted_group": _groups(results)[0], "mar_group": _groups(results)[1],
        "monthly_sd": f"{fmt_number(results.monthly_sd, 2)} points",
        "benchmark": f"{fmt_number(results.benchmark, 2)} points",
        "published_decline": f"{fmt_number(target_value('C2a') - target_value('C3a'), 1)} points",
        "above_10": (f"{fmt_number(100 * results.above_10_at_tipping, 1)}%" if np.isfinite(results.above_10_at_tipping)
                     else "not applicable"),
        "max_delta": f"{fmt_number(results.deltas.max(), 1)} points",
        "published_r8": published_figure("R8"),
        "mi_interaction_mcse": fmt_number(np.sqrt(float(results.mi_interaction.between) / results.n_imputations), 4),
        "common_interaction": _common_interaction_sentence(results),
    }
    for i, verdict in enumerate(finished or verdicts(results), start=1):
        text[f"verdict_{i}"] = verdict_line(verdict)
    return {f"sens_missing_{name}": value for name, value in text.items()}


def _common_interaction_sentence(results: MissingDataResults) -> str:
    common = results.common
    overturned = common.loc[(common["delta"] >= 0) & (common["interaction_margin"] <= 0), "delta"]
    if overturned.empty:
        return (f"A shift common to both groups leaves the interaction's 95% CI clear of zero up to "
                f"{fmt_number(results.deltas.max(), 1)} points")
    if overturned.min() == 0:
        return "The interaction's 95% CI includes zero already under MAR"
    return (f"A shift common to both groups brings the interaction's 95% CI to zero by "
            f"{fmt_number(overturned.min(), 1)} points")


def _cell(value: Estimate | None, digits: int) -> str:
    return "" if value is None else _ci(value, digits).replace("95% CI ", "")


def comparison_table(results: MissingDataResults) -> pd.DataFrame:
    return pd.DataFrame([{
        "Analysis": row.label, "Patients": shown_count(row.n_patients, results.mode),
        "Missing scores assumed": row.assumption,
        "One-year change, points per year (95% CI)": _cell(row.decline, 2),
        "Time x depression, points per month (95% CI)": _cell(row.interaction, 3), "Note": row.note}
        for row in results.rows])


def common_delta_table(results: MissingDataResults) -> pd.DataFrame:
    table = results.common
    return pd.DataFrame({
        "Shift after dropout (points)": [fmt_number(d, 1) for d in table["delta"]],
        "One-year change (95% CI)": [fmt_estimate_ci(*row, 2, label="") for row in
                                     table[["decline_estimate", "decline_ci_low", "decline_ci_high"]].to_numpy()],
        "P (change)": [fmt_p(p) for p in table["decline_p"]],
        "Time x depression per month (95% CI)": [
            fmt_estimate_ci(*row, 3, label="") for row in
            table[["interaction_estimate", "interaction_ci_low", "interaction_ci_high"]].to_numpy()],
        "P (interaction)": [fmt_p(p) for p in table["interaction_p"]]})
