"""The pain-trajectories chapter's tables and prose values, built from okapi.chapters.trajectories results."""

from __future__ import annotations

import numpy as np
import pandas as pd

from okapi.verdicts.ledger import ledger_table
from okapi.data.privacy import shown_count
from okapi.book.report import fmt_number
from okapi.data.targets import target_value
from okapi.models.trajectories import average_posterior_probability, class_curve_table
from okapi.models.trajectories.selection import adequacy_problems, estimation_problems
from okapi.chapters.trajectories import GROUP_NAMES, MODELS, TrajectoryResults, published_shares
from okapi.chapters.trajectories_groups import (HOLDS, c6_checks, class_labels, groups_verdict, ledger_entries,
                                                observed_class_means)
from okapi.verdicts.rules import CONTRADICTED, NOT_ASSESSABLE, SUPPORTED, Z_975
from okapi.plan import (TRAJECTORY_BOOTSTRAP_FINAL, TRAJECTORY_BOOTSTRAP_STARTS, TRAJECTORY_COMPARISON_BOOTSTRAP,
                        TRAJECTORY_FINAL, TRAJECTORY_K_VALUES, TRAJECTORY_MIN_AVERAGE_POSTERIOR,
                        TRAJECTORY_MIN_CLASS_SHARE, TRAJECTORY_MIN_OCC, TRAJECTORY_MIN_RELATIVE_ENTROPY,
                        TRAJECTORY_STARTS)


def c6_table(results: TrajectoryResults) -> pd.DataFrame:
    """The companion paper's statements about the groups, judged in the three-group solution of the primary model."""
    return c6_checks(results, results.published_k_fit)


def fit_table(results: TrajectoryResults) -> pd.DataFrame:
    """One row per model and K, formatted."""
    rows = []
    for model in results.models.values():
        for _, row in model.fit_table.iterrows():
            k = int(row["n_classes"])
            rows.append({
                # The chosen K marked in its own cell (a column of its own pushed the table past the text column).
                "Model": model.label, "K": f"{k} (chosen)" if k == model.chosen_k else str(k),
                # How many final runs reached the best log-likelihood, beside the BIC it gives (one column less).
                "BIC (replicated)": f"{fmt_number(row['bic'], 1)} ({int(row['n_replications'])} of {TRAJECTORY_FINAL})",
                # Three decimals: an entropy of 0.697 must not print as 0.70 beside a 0.7 threshold.
                "Entropy": "-" if k == 1 else fmt_number(row["relative_entropy"], 3),
                "Average posterior": " / ".join(
                    fmt_number(a, 2) for a in average_posterior_probability(model.fits[k].posterior)),
                "OCC, lowest": "-" if k == 1 else fmt_number(row["min_odds_correct"], 1),
                "Shares, %": " / ".join(fmt_number(100 * p, 1) for p in model.fits[k].class_probabilities),
                "Adequacy": ("not usable" if estimation_problems(row) else "all met" if not adequacy_problems(row)
                             else f"{4 - len(adequacy_problems(row))} of 4"),
            })
    return pd.DataFrame(rows)


def published_k_share_table(results: TrajectoryResults) -> pd.DataFrame:
    """The companion paper's group shares beside each model's published-K solution (the chosen model's with its
    bootstrap CI)."""
    published = list(published_shares().values())
    table = pd.DataFrame({"Group": list(GROUP_NAMES[:results.published_k]),
                          "Published, %": [fmt_number(p, 1) for p in published],
                          "Published, rescaled to 100%": [fmt_number(100 * p / sum(published), 1) for p in published]})
    ci = 100 * results.bootstrap.ci
    for key, model in results.models.items():
        shares = 100 * model.fits[results.published_k].class_probabilities
        cells = [fmt_number(s, 1) for s in shares]
        if key == results.chosen_model:
            cells = [f"{c} ({fmt_number(low, 1)} to {fmt_number(high, 1)})" for c, (low, high) in zip(cells, ci)]
        table[model.label + (", % (95% CI)" if key == results.chosen_model else ", %")] = cells
    return table


def comparison_table(results: TrajectoryResults) -> pd.DataFrame:
    """The chapter's ledger rows as its comparison section prints them."""
    entries = ledger_entries(results)
    table = ledger_table(entries).drop(columns=["Chapter"])
    table["Note"] = [item.note for item in entries]
    return table


def curve_panels(results: TrajectoryResults, n_classes: int | None = None) -> list[dict]:
    """Per model, its chosen solution (or its `n_classes` solution): fitted curves and observed class means."""
    panels = []
    for model in results.models.values():
        fit = model.chosen if n_classes is None else model.fits[n_classes]
        panels.append({"title": f"{model.label}, K = {fit.n_classes}",
                       "labels": class_labels(fit.n_classes, results.published_k),
                       "curves": class_curve_table(fit), "observed": observed_class_means(results, fit)})
    return panels


def glued_text(results: TrajectoryResults, k_power: float | None = None) -> dict[str, str]:
    """Every number and every data-dependent statement of the chapter's prose; `k_power`: the simulated share of
    cohorts of the book's 3-group generator in which BIC chose 3 (okapi.simulation.operating)."""
    published = list(published_shares().values())
    chosen, boot = results.chosen, results.bootstrap
    bic = lambda m: fmt_number(m.fit_table.set_index("n_classes").loc[m.chosen_k, "bic"], 1)  # noqa: E731
    k3 = results.published_k
    text = {
        "traj_n_patients": str(results.n_patients), "traj_n_classified": str(results.n_classified),
        "traj_n_unclassified": shown_count(results.n_patients - results.n_classified, results.mode),
        "traj_n_observations": str(results.n_observations),
        "traj_k_range": f"{min(TRAJECTORY_K_VALUES)} to {max(TRAJECTORY_K_VALUES)}", "traj_n_starts": str(TRAJECTORY_STARTS),
        "traj_n_final": str(TRAJECTORY_FINAL), "traj_min_entropy": fmt_number(TRAJECTORY_MIN_RELATIVE_ENTROPY, 1),
        "traj_min_appa": fmt_number(TRAJECTORY_MIN_AVERAGE_POSTERIOR, 1),
        "traj_min_occ": fmt_number(TRAJECTORY_MIN_OCC, 0),
        "traj_min_share": fmt_number(100 * TRAJECTORY_MIN_CLASS_SHARE, 0),
        "traj_comparison_boot": str(TRAJECTORY_COMPARISON_BOOTSTRAP),
        "traj_chosen_model": MODELS[chosen.key].prose, "traj_chosen_k": str(chosen.chosen_k),
        "traj_chosen_bic": bic(chosen),
        "traj_published_k": str(k3), "traj_published_c1": fmt_number(target_value("C1"), 0),
        "traj_chosen_vs_published": (f"has {k3} classes, as the companion paper's solution"
                                     if chosen.chosen_k == k3 else
                                     f"has {chosen.chosen_k}, not {k3}, classes; the companion paper's groups are "
                                     f"therefore compared with the {k3}-class solution of the same model"),
        "traj_published_shares": " / ".join(fmt_number(p, 1) for p in published) + "%",
        "traj_published_sum": fmt_number(sum(published), 1) + "%",
        "traj_published_rescaled": " / ".join(fmt_number(100 * p / sum(published), 1) for p in published) + "%",
        "traj_boot_resamples": str(boot.n_resamples), "traj_boot_usable": str(boot.n_resamples - boot.n_unusable),
        "traj_boot_starts": str(TRAJECTORY_BOOTSTRAP_STARTS), "traj_boot_final": str(TRAJECTORY_BOOTSTRAP_FINAL),
        "traj_share_at_0": fmt_number(100 * results.share_at_bounds[0], 1) + "%",
        "traj_share_at_10": fmt_number(100 * results.share_at_bounds[1], 1) + "%",
    }
    verdicts = c6_checks(results, results.published_k_fit)["Verdict"]
    text["traj_c6_three"] = f"{int((verdicts == HOLDS).sum())} of {len(verdicts)}"
    lcga, gmm = results.models["lcga"], results.models["gmm"]
    text["traj_overextraction"] = (
        f"Plain LCGA chose more classes than the growth mixture model ({lcga.chosen_k} against {gmm.chosen_k})"
        if lcga.chosen_k > gmm.chosen_k else
        f"Plain LCGA did not choose more classes than the growth mixture model here ({lcga.chosen_k} against "
        f"{gmm.chosen_k})")
    statement = groups_verdict(chosen.chosen_k, k3, k_power)
    text["traj_k_power"] = "-" if k_power is None else f"{fmt_number(100 * k_power, 0)}%"
    text["traj_k_verdict"] = {
        SUPPORTED: f"The companion paper's {k3} groups are therefore supported.",
        CONTRADICTED: f"Since this design finds {k3} groups in most such cohorts, finding {chosen.chosen_k} here "
                      f"contradicts the companion paper's {k3}.",
        NOT_ASSESSABLE: f"Since this design finds {k3} groups in fewer than half of such cohorts, finding "
                        f"{chosen.chosen_k} here does not contradict the companion paper's {k3}: with this design "
                        "the number of groups is not assessable."}[statement]
    text["traj_chosen_title"] = f"{chosen.label}, K = {chosen.chosen_k}"
    text["traj_three_title"] = f"{chosen.label}, K = {k3}"
    for key, model in results.models.items():
        text[f"traj_{key}_reason"] = model.reason
    return text


# --- which model and K fit the companion paper's figures best? -----------------------------------------------------
def _shares_close(fit, n_patients: int) -> bool:
    """Every published share within its 95% multinomial sampling band at the cohort's size (class membership taken
    as known, which makes the band narrower than it is)."""
    published = np.array(list(published_shares().values())) / 100
    estimated = np.asarray(fit.class_probabilities)
    band = Z_975 * np.sqrt(published * (1 - published) / n_patients)
    return bool(np.all(np.abs(estimated - published) <= band))


def published_fit_table(results: TrajectoryResults) -> pd.DataFrame:
    """One row per model and K (K >= 2), best joint fit first: does BIC choose this K, is it the published number of
    groups, are the published shares (C5a-c) within sampling error of its shares (K = 3 only), how many of the
    companion paper's statements on the groups (C5 'mostly', C6) hold. Joint fit: checks met of those open."""
    rows = []
    for key, model in results.models.items():
        for k, fit in sorted(model.fits.items()):
            if k < 2:
                continue
            statements = c6_checks(results, fit)["Verdict"]
            held = int((statements == HOLDS).sum())
            checks = [k == model.bic_only_k, k == results.published_k,
                      _shares_close(fit, results.n_patients) if k == results.published_k else None,
                      held == len(statements)]
            open_checks = [c for c in checks if c is not None]
            rows.append({"Model": MODELS[key].label, "K": str(k),
                         "BIC chooses it": "\u2713" if checks[0] else "\u2717",
                         "Published K": "\u2713" if checks[1] else "\u2717",
                         "Shares within sampling error": "\u2013" if checks[2] is None else
                         ("\u2713" if checks[2] else "\u2717"),
                         "Statements holding": f"{held} of {len(statements)}",
                         "Joint fit": f"{sum(open_checks)} of {len(open_checks)}",
                         "_score": sum(open_checks) / len(open_checks)})
    table = pd.DataFrame(rows).sort_values("_score", ascending=False, kind="stable")
    return table.drop(columns="_score").reset_index(drop=True)


def published_fit_glue(table: pd.DataFrame) -> dict[str, str]:
    best = table.iloc[0]
    tied = table[table["Joint fit"] == best["Joint fit"]]
    return {"traj_fit_best": f"{best['Model'].lower()} with K = {best['K']}", "traj_fit_best_score": best["Joint fit"],
            "traj_fit_n_tied": str(len(tied) - 1), "traj_fit_n_rows": str(len(table))}
