"""What the simulation-study appendix prints: every replicate's 95% CI against the two truths, the number of
trajectory classes chosen and the class agreement (figures), the truths, the performance table and class recovery
(tables), and the numbers and data-dependent phrases of its prose (glued text)."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.ticker import MaxNLocator

from okapi.book.theme import book_theme, colours, figure_size, finish
from okapi.chapters import trajectories as ta
from okapi.synthetic.parameters import parameter_values
from okapi.verdicts.ledger import published_figure
from okapi.book.report import and_list, fmt_number
from okapi.simulation.study import QUANTITIES, TRUE_K, SimulationStudyResults
from okapi.synthetic.patients import CLASS_LABELS
from okapi.plan import TRAJECTORY_FINAL, TRAJECTORY_K_VALUES, TRAJECTORY_STARTS

DIGITS = {"time_effect": 3, "interaction": 4, "indirect": 5, "proportion": 1, "dose_pairs": 3}
# The proportion mediated has intervals thousands of points wide; its panel shows this window (in %).
PROPORTION_WINDOW = (-200.0, 300.0)
_PALETTE = colours(10)  # 0 blue, 1 orange, 2 green, 3 vermillion, 4 reddish purple, ..., 9 sky blue
COLOURS = {"covers": "0.6", "misses": _PALETTE[3], "generator": "black", "pseudo": _PALETTE[0]}  # no green beside red


def plot_interval_coverage(results: SimulationStudyResults):
    """One panel per quantity: each replicate's 95% CI (a horizontal line, replicates sorted by estimate, vermillion
    when it misses the generator value), the generator value (solid) and the estimator's pseudo-truth (dashed)."""
    reps, truths = results.replicates, results.truths
    coverage = results.performance.set_index(["quantity", "reference"])["coverage"]
    with book_theme():
        rows = -(-len(QUANTITIES) // 2)
        fig, axes = plt.subplots(rows, 2, figsize=figure_size(2.6 * rows), layout="constrained")
        for ax in axes.ravel()[len(QUANTITIES):]:
            ax.set_visible(False)
        for ax, key in zip(axes.ravel(), QUANTITIES):
            order = np.argsort(reps[f"{key}_estimate"].to_numpy(), kind="stable")
            low, high = reps[f"{key}_low"].to_numpy()[order], reps[f"{key}_high"].to_numpy()[order]
            estimate = reps[f"{key}_estimate"].to_numpy()[order]
            truth = truths.loc[key, "generator"]
            covers = (low <= truth) & (truth <= high)
            rank = np.arange(order.size)
            for mask, colour in ((covers, COLOURS["covers"]), (~covers, COLOURS["misses"])):
                ax.hlines(rank[mask], low[mask], high[mask], color=colour, lw=0.8)
            sns.scatterplot(x=estimate, y=rank, color="black", s=3, linewidth=0, ax=ax)
            ax.axvline(truth, color=COLOURS["generator"], lw=1.2, label="generator value")
            ax.axvline(truths.loc[key, "pseudo_truth"], color=COLOURS["pseudo"], lw=1.2, ls="--",
                       label="pseudo-truth")
            if key == "proportion":
                ax.set_xlim(*PROPORTION_WINDOW)
            ax.set_title(QUANTITIES[key][0])
            ax.set_xlabel(QUANTITIES[key][1])
            ax.set_yticks([])
            ax.set_ylabel("Replicates, by estimate" if ax in axes[:, 0] else "")
        handles, labels = axes[0, 0].get_legend_handles_labels()
        handles += [plt.Line2D([], [], color=COLOURS["covers"], lw=1.5), plt.Line2D([], [], color=COLOURS["misses"],
                                                                                    lw=1.5)]
        labels += ["95% CI covering the generator value", "95% CI missing it"]
        fig.legend(handles, labels, loc="outside lower center", ncol=2, frameon=False)
        covered = [f"{fmt_number(100 * coverage[(key, 'generator value')], 1)}% ({QUANTITIES[key][0]})"
                   for key in QUANTITIES]
        alt = (f"{len(QUANTITIES)} panels, one per quantity, each showing the 95% CIs of the {len(reps)} simulated cohorts as "
               f"horizontal lines sorted by estimate, with the generator value and the estimator's pseudo-truth as "
               f"vertical lines. The intervals cover the generator value in {and_list(covered)} of cohorts.")
        return finish(fig, alt)


def plot_class_recovery(results: SimulationStudyResults):
    """Left: how often each K was chosen, by the model chosen. Right: the adjusted Rand index between the true
    classes and the chosen solution, and the three-class solution of the chosen model."""
    reps = results.replicates
    models = list(results.recovery["model"].index)
    model_names = [ta.MODELS[key].label for key in models]
    chosen = reps.assign(model=reps["trajectory_model"].map(lambda key: ta.MODELS[key].label))
    solutions = {"ari_chosen": "chosen solution", "ari_three_class": f"{TRUE_K}-class solution"}
    ari = reps.melt(value_vars=list(solutions), var_name="solution", value_name="ari")
    ari["solution"] = ari["solution"].map(solutions)
    totals = chosen["chosen_k"].value_counts().reindex(TRAJECTORY_K_VALUES, fill_value=0)
    with book_theme():
        fig, (left, right) = plt.subplots(1, 2, figsize=figure_size(3.2))
        sns.histplot(data=chosen, x="chosen_k", hue="model", hue_order=model_names, multiple="stack", discrete=True,
                     shrink=0.8, palette=colours(len(models)), alpha=1, linewidth=0, ax=left)
        left.bar([TRUE_K], [totals[TRUE_K]], width=0.8, fill=False, edgecolor="black", lw=1.5)
        left.set_xticks(TRAJECTORY_K_VALUES)
        left.set_xlim(min(TRAJECTORY_K_VALUES) - 0.6, max(TRAJECTORY_K_VALUES) + 0.6)
        left.set_xlabel("Number of classes chosen (true: outlined)")
        left.set_ylabel("Replicates")
        left.set_ylim(0, 1.35 * max(totals.max(), 1))  # room for the legend above the bars
        sns.move_legend(left, "upper right", title=None, frameon=False)
        sns.histplot(data=ari, x="ari", hue="solution", hue_order=list(solutions.values()),
                     bins=np.linspace(-0.1, 1.0, 23), palette=[_PALETTE[4], _PALETTE[9]],
                     alpha=0.6, ax=right)
        right.set_xlabel("Adjusted Rand index with the true classes")
        right.set_ylabel("Replicates")
        right.set_ylim(0, 1.35 * right.get_ylim()[1])  # room for the legend above the bars
        sns.move_legend(right, "upper left", title=None, frameon=False)
        for ax in (left, right):
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        q = results.recovery["ari"]
        alt = (f"Left, a stacked bar chart of the number of classes chosen in the {len(reps)} simulated cohorts, by "
               f"model; the true K = {TRUE_K} was chosen in {fmt_number(100 * results.recovery['share_true_k'], 1)}% "
               f"of them. Right, histograms of the adjusted Rand index between the true classes and the chosen "
               f"solution (median {fmt_number(q['ari_chosen'][2], 2)}) and the {TRUE_K}-class solution (median "
               f"{fmt_number(q['ari_three_class'][2], 2)}).")
        return finish(fig, alt)


def _value_se(value: float, se: float, digits: int) -> str:
    return f"{fmt_number(value, digits)} ({fmt_number(se, digits + 1)})"


def truths_table(results: SimulationStudyResults) -> pd.DataFrame:
    t = results.truths
    return pd.DataFrame([{"Quantity": QUANTITIES[key][0], "Unit": QUANTITIES[key][1],
                          "Generator value (MC SE)": _value_se(t.loc[key, "generator"], t.loc[key, "generator_se"],
                                                               DIGITS[key]),
                          "Pseudo-truth of the estimator (MC SE)": _value_se(
                              t.loc[key, "pseudo_truth"], t.loc[key, "pseudo_truth_se"], DIGITS[key])}
                         for key in QUANTITIES])


def _performance_rows(results: SimulationStudyResults, cells) -> pd.DataFrame:
    """One row per quantity and truth: its name, the truth it is judged against, then cells(row, digits)."""
    return pd.DataFrame([{"Quantity": QUANTITIES[row["quantity"]][0], "Against": row["reference"],
                          **cells(row, DIGITS[row["quantity"]])} for _, row in results.performance.iterrows()])


def performance_display(results: SimulationStudyResults) -> pd.DataFrame:
    """The point estimates' performance per quantity and truth; the intervals' is interval_display (one table of
    both did not fit the text column)."""
    return _performance_rows(results, lambda row, d: {
        "True value": fmt_number(row["truth"], d), "Mean estimate": fmt_number(row["mean_estimate"], d),
        "Bias (MC SE)": _value_se(row["bias"], row["bias_mc_se"], d), "Median bias": fmt_number(row["median_bias"], d),
        "Empirical SE": fmt_number(row["empirical_se"], d), "RMSE": fmt_number(row["rmse"], d)})


def interval_display(results: SimulationStudyResults) -> pd.DataFrame:
    """The 95% CIs' performance per quantity and truth: coverage, width, and how often they exclude zero."""
    return _performance_rows(results, lambda row, d: {
        "Coverage, % (MC SE)": _value_se(100 * row["coverage"], 100 * row["coverage_mc_se"], 1),
        "Mean CI width": fmt_number(row["mean_ci_width"], d),
        "CI excludes 0, %": fmt_number(100 * row["excludes_zero"], 1)})


def recovery_table(results: SimulationStudyResults) -> pd.DataFrame:
    """Class recovery in rows of (what, value)."""
    recovery, n = results.recovery, len(results.replicates)
    rows = [(f"K = {k} chosen" + (" (true K)" if k == TRUE_K else ""), f"{c} ({fmt_number(100 * c / n, 1)}%)")
            for k, c in recovery["chosen_k"].items()]
    rows += [(f"Model chosen: {ta.MODELS[k].label}", f"{c} ({fmt_number(100 * c / n, 1)}%)")
             for k, c in recovery["model"].items()]
    for column, label in (("ari_chosen", "chosen solution"), ("ari_three_class", f"{TRUE_K}-class solution")):
        q = recovery["ari"][column]
        rows.append((f"Adjusted Rand index, {label}: median (10th, 25th, 75th, 90th percentiles)",
                     f"{fmt_number(q[2], 2)} ({', '.join(fmt_number(v, 2) for v in (q[0], q[1], q[3], q[4]))})"))
    for label in CLASS_LABELS:
        true, bias = recovery["share_bias"][label]
        rows.append((f"Share of the {label} class in the {TRUE_K}-class solution: true %, mean bias",
                     f"{fmt_number(true, 1)}, {fmt_number(bias, 1)}"))
    return pd.DataFrame(rows, columns=["Class recovery", "Value"])


# --- glued text -------------------------------------------------------------------------------------------------------
REFERENCES = {"generator value": "gen", "pseudo-truth": "pseudo"}
NOMINAL = 0.95


def _with_unit(key: str, value: float) -> str:
    unit = QUANTITIES[key][1]
    if unit == "r":
        return f"r = {fmt_number(value, DIGITS[key])}"
    return fmt_number(value, DIGITS[key]) + ("%" if unit == "%" else f" {unit}")


def coverage_judgement(coverage: float, n_replicates: int) -> str:
    """Against the nominal 95%, with two Monte Carlo SEs of a 95% coverage as the margin."""
    margin = 2 * np.sqrt(NOMINAL * (1 - NOMINAL) / n_replicates)
    if coverage < NOMINAL - margin:
        return "below the nominal 95%"
    return "above the nominal 95%" if coverage > NOMINAL + margin else "consistent with the nominal 95%"


def bias_judgement(bias: float, mc_se: float) -> str:
    return "a bias beyond Monte Carlo error" if abs(bias) > 2 * mc_se else "no bias beyond Monte Carlo error"


def power_judgement(share_excluding_zero: float) -> str:
    """What a reproduction whose CI includes zero means, given how often cohorts of this size exclude zero."""
    if share_excluding_zero < 0.8:
        return "so a reproduction whose interval includes zero is not, by itself, evidence against it"
    return "so a reproduction whose interval includes zero would be unusual"


def k_judgement(share_true_k: float) -> str:
    if share_true_k < 0.8:
        return "so a reproduction choosing another number does not, by itself, contradict three groups"
    return "so a reproduction choosing another number would be unusual"


def _count(n: int) -> str:
    return f"{n:,}"


def glued_text(results: SimulationStudyResults) -> dict[str, str]:
    """Every number of the appendix's prose, formatted (names prefixed sim_). Counts of thousands carry a unit:
    myst-nb would read a bare '5,000' as a tuple."""
    s, reps, truths, recovery = results.settings, results.replicates, results.truths, results.recovery
    n = len(reps)
    values = parameter_values(s.generator_overrides)
    offsets, per_cohort = values["pain_m0_class_offsets"], s.pseudo_truth_patients // s.pseudo_truth_parts
    text = {"sim_n_replicates": str(n), "sim_seed": str(s.seed), "sim_n_patients": str(s.n_patients),
            "sim_n_boot": f"{_count(s.n_boot)} resamples",
            "sim_pseudo_patients": f"{_count(s.pseudo_truth_patients)} patients",
            "sim_pseudo_parts": f"{s.pseudo_truth_parts} cohorts of {_count(per_cohort)} patients",
            "sim_population": f"{_count(s.population_patients)} patients",
            "sim_traj_starts": str(TRAJECTORY_STARTS), "sim_traj_final": str(TRAJECTORY_FINAL), "sim_true_k": str(TRUE_K),
            "sim_slope_shift": _with_unit("interaction", values["slope_shift_depressed"]),
            "sim_lmm_not_converged": f"{int((~reps['lmm_converged'].astype(bool)).sum())} of {n}",
            "sim_truth_not_converged": f"{results.truth_cohorts_not_converged} of {s.pseudo_truth_parts}",
            "sim_moderate_severe_gap": f"{fmt_number(offsets[2] - offsets[1], 2)} points",
            "sim_pub_r8": published_figure("R8"), "sim_pub_r13": published_figure("R13") + "%",
            "sim_coverage_margin": fmt_number(200 * np.sqrt(NOMINAL * (1 - NOMINAL) / n), 1) + " points"}
    for key in QUANTITIES:
        text[f"sim_{key}_gen"] = _with_unit(key, truths.loc[key, "generator"])
        text[f"sim_{key}_pseudo"] = _with_unit(key, truths.loc[key, "pseudo_truth"])
        for reference, short in REFERENCES.items():
            row = results.performance.set_index(["quantity", "reference"]).loc[(key, reference)]
            text[f"sim_{key}_{short}_bias"] = (f"{fmt_number(row['bias'], DIGITS[key])} (MC SE "
                                               f"{fmt_number(row['bias_mc_se'], DIGITS[key])})")
            text[f"sim_{key}_{short}_coverage"] = (f"{fmt_number(100 * row['coverage'], 1)}% (MC SE "
                                                   f"{fmt_number(100 * row['coverage_mc_se'], 1)})")
            text[f"sim_{key}_{short}_coverage_judgement"] = coverage_judgement(row["coverage"], n)
            text[f"sim_{key}_{short}_bias_judgement"] = bias_judgement(row["bias"], row["bias_mc_se"])
        # The prose sets the RMSE beside the generator value, so it is the generator-value row's, read by name.
        generator_row = results.performance.set_index(["quantity", "reference"]).loc[(key, "generator value")]
        text[f"sim_{key}_excludes_zero"] = fmt_number(100 * generator_row["excludes_zero"], 1) + "%"
        text[f"sim_{key}_rmse"] = _with_unit(key, generator_row["rmse"])
    proportion = reps["proportion_estimate"]
    text["sim_prop_ci_0_100"] = fmt_number(100 * np.mean((reps["proportion_low"] <= 0)
                                                         & (reps["proportion_high"] >= 100)), 1) + "%"
    text["sim_prop_outside"] = fmt_number(100 * np.mean((proportion < 0) | (proportion > 100)), 1) + "%"
    text["sim_prop_median"] = fmt_number(float(proportion.median()), 1) + "%"
    text["sim_share_true_k"] = fmt_number(100 * recovery["share_true_k"], 1) + "%"
    for column, name in (("ari_chosen", "chosen"), ("ari_three_class", "three")):
        q10, q25, q50, q75, q90 = recovery["ari"][column]
        text[f"sim_ari_{name}"] = (f"{fmt_number(q50, 2)} (interquartile range {fmt_number(q25, 2)} to "
                                   f"{fmt_number(q75, 2)})")
    models = recovery["model"].sort_values(ascending=False, kind="stable")
    text["sim_model_shares"] = ", the ".join(f"{ta.MODELS[k].prose} in {fmt_number(100 * c / n, 1)}%"
                                             for k, c in models.items())
    table = results.performance.set_index(["quantity", "reference"])
    text["sim_interaction_power_judgement"] = power_judgement(table.loc[("interaction", "generator value"),
                                                                       "excludes_zero"])
    text["sim_k_judgement"] = k_judgement(recovery["share_true_k"])
    return text
