"""Figures and tables of the mediation chapter: the path diagram with its estimates, the bootstrap cloud of the two
effects whose ratio is the proportion mediated, the table of paths and the table comparing the two routes."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from okapi.book.theme import book_theme, colours, figure_size, finish
from okapi.chapters.mediation import MediationResults
from okapi.book.report import fmt_ci, fmt_number, fmt_p, fmt_p_statement

BOX = {"boxstyle": "round,pad=0.6", "facecolor": "#f2f2f2", "edgecolor": "#333333", "linewidth": 1.0}
ARROW = {"arrowstyle": "-|>", "color": "#333333", "linewidth": 1.4, "shrinkA": 0, "shrinkB": 0,
         "mutation_scale": 14}


def _coefficient(results: MediationResults, path: str, digits: int) -> str:
    ols = results.bootstrap.ols.loc[path]
    return (f"{fmt_number(ols['estimate'], digits)}\n95% CI {fmt_ci(ols['ci_low'], ols['ci_high'], digits)}\n"
            f"{fmt_p_statement(ols['p'])}")


def _path_alt(results: MediationResults, path: str, digits: int) -> str:
    ols = results.bootstrap.ols.loc[path]
    return f"{fmt_number(ols['estimate'], digits)}, {fmt_p_statement(ols['p'])}"


def plot_path_diagram(results: MediationResults):
    """Boxes for dose (X), baseline depression (M) and pain diminution (Y); arrows carry the OLS estimates.
    A diagram, not a chart: matplotlib annotations under the book's theme."""
    estimate, low, high, *_ = results.proportion_percent
    boot = results.bootstrap.estimates
    with book_theme():
        fig, ax = plt.subplots(figsize=figure_size(3.5))
        ax.set_xlim(0, 10)
        ax.set_ylim(0, 5.6)
        ax.axis("off")
        positions = {"x": (1.5, 1.0), "m": (5.0, 5.0), "y": (8.5, 1.0)}
        labels = {"x": "Cumulative ketamine dose\nover 1 year (g)",
                  "m": "Depressive symptoms at inclusion (HADS-D > 7),\nmeasured before the dose accrues",
                  "y": "Pain diminution\n(NPRS points per month)"}
        for key, (px, py) in positions.items():
            ax.text(px, py, labels[key], ha="center", va="center", bbox=BOX, zorder=3)
        ax.annotate("", xy=(3.9, 4.35), xytext=(2.0, 1.75), arrowprops=ARROW)
        ax.annotate("", xy=(8.0, 1.75), xytext=(6.1, 4.35), arrowprops=ARROW)
        ax.annotate("", xy=(6.9, 1.0), xytext=(3.1, 1.0), arrowprops=ARROW)
        ax.text(1.5, 3.35, "a = " + _coefficient(results, "a", 3), ha="center", va="center")
        ax.text(8.5, 3.35, "b = " + _coefficient(results, "b", 3), ha="center", va="center")
        ax.text(5.0, 0.4, "c\u2032 = " + _coefficient(results, "c_prime", 4).replace("\n", "; "), ha="center",
                va="center")
        summary = (f"indirect a \u00d7 b = {fmt_number(boot.loc['indirect', 'estimate'], 4)}\n"
                   f"total c = {fmt_number(boot.loc['c', 'estimate'], 4)}\n"
                   f"a \u00d7 b / c = {fmt_number(estimate, 1)}%\n(bootstrap 95% CI {fmt_ci(low, high, 1)}%)")
        ax.text(5.0, 2.55, summary, ha="center", va="center", fontweight="bold")
        alt = ("Path diagram of the mediation model: arrows from the cumulative ketamine dose to depressive symptoms "
               f"at inclusion (a = {_path_alt(results, 'a', 3)}), from depressive symptoms to pain diminution "
               f"(b = {_path_alt(results, 'b', 3)}) and directly from dose to pain diminution "
               f"(c\u2032 = {_path_alt(results, 'c_prime', 4)}). The indirect effect a \u00d7 b is "
               f"{fmt_number(boot.loc['indirect', 'estimate'], 4)}, the total effect c "
               f"{fmt_number(boot.loc['c', 'estimate'], 4)}, and a \u00d7 b / c {fmt_number(estimate, 1)}% "
               f"(bootstrap 95% CI {fmt_ci(low, high, 1)}%).")
        return finish(fig, alt)


def plot_bootstrap_ratio(results: MediationResults, published_percent: float):
    """Indirect effect against total effect in each bootstrap resample; the proportion mediated is the slope of the
    line from the origin to each point, so a cloud that straddles c = 0 gives ratios of any size and sign."""
    replicates = results.bootstrap.replicates
    total, indirect = replicates[:, 3], replicates[:, 4]
    boot = results.bootstrap.estimates
    cloud_colour, line_colour = colours(4)[0], colours(4)[3]  # blue cloud, (vermillion) red line, as the caption
    span = np.quantile(np.abs(total), 0.995)
    grid = np.array([-span, span])
    with book_theme():
        fig, ax = plt.subplots(figsize=figure_size(3.8))
        ax.axvline(0, color="0.35", linewidth=0.8, linestyle="--")
        ax.axhline(0, color="0.35", linewidth=0.8)
        sns.scatterplot(x=total, y=indirect, s=4, alpha=0.3, color=cloud_colour, linewidth=0,
                        label="bootstrap resamples", ax=ax)
        sns.lineplot(x=grid, y=published_percent / 100 * grid, color=line_colour, linewidth=1.4,
                     label=f"a \u00d7 b / c = {fmt_number(published_percent, 1)}% (published)", ax=ax)
        sns.scatterplot(x=[boot.loc["c", "estimate"]], y=[boot.loc["indirect", "estimate"]], s=40, color="black",
                        zorder=3, label="estimate (all patients)", ax=ax)
        ax.set_xlim(-span, span)
        ax.set_xlabel("Total effect c (NPRS points per month per gram)")
        ax.set_ylabel("Indirect effect a \u00d7 b")
        legend = ax.legend(frameon=False, loc="best")
        legend.legend_handles[0].set_alpha(1)  # the cloud's points, legible in the key
        legend.legend_handles[0].set_sizes([16])
        below = float(np.mean(total < 0))
        straddles = 0.025 < below < 0.975
        alt = (f"Scatter plot of the indirect effect a \u00d7 b against the total effect c in {len(total):,} "
               f"bootstrap resamples, with the estimate from all patients "
               f"(c = {fmt_number(boot.loc['c', 'estimate'], 4)}, "
               f"a \u00d7 b = {fmt_number(boot.loc['indirect', 'estimate'], 4)}) and a line through the origin of "
               f"slope {fmt_number(published_percent, 1)}% (the published proportion mediated). "
               + (f"The cloud straddles c = 0 ({fmt_number(100 * below, 0)}% of resamples have c below 0), so the "
                  "ratio a \u00d7 b / c takes any size and sign." if straddles else
                  f"The cloud lies on one side of c = 0 ({fmt_number(100 * below, 0)}% of resamples have c below 0)."))
        return finish(fig, alt)


# --- tables -------------------------------------------------------------------------------------------
PATH_ROWS = (  # (path, what it is, digits)
    ("a", "Dose \u2192 HADS-D > 7 (a): change in the share of depressed patients per gram", 3),
    ("b", "HADS-D > 7 \u2192 pain diminution, dose held fixed (b)", 3),
    ("c_prime", "Dose \u2192 pain diminution, depression held fixed (c\u2032, direct)", 4),
    ("c", "Dose \u2192 pain diminution, crude (c, total)", 4),
    ("indirect", "a \u00d7 b (indirect)", 4),
)


def paths_table(results: MediationResults) -> pd.DataFrame:
    """One row per path: estimate, OLS 95% CI and P (for regression coefficients), bootstrap percentile and
    bias-corrected 95% CIs; the proportion mediated last, in %."""
    boot, ols = results.bootstrap.estimates, results.bootstrap.ols
    rows = []
    for path, label, digits in PATH_ROWS:
        has_ols = path in ols.index
        rows.append({
            "Path": label, "Estimate": fmt_number(boot.loc[path, "estimate"], digits),
            "95% CI (OLS)": fmt_ci(ols.loc[path, "ci_low"], ols.loc[path, "ci_high"], digits) if has_ols else "-",
            "P (OLS)": fmt_p(ols.loc[path, "p"]) if has_ols else "-",
            "95% CI (bootstrap, percentile)": fmt_ci(boot.loc[path, "perc_low"], boot.loc[path, "perc_high"], digits),
            "95% CI (bootstrap, bias-corrected)": fmt_ci(boot.loc[path, "bc_low"], boot.loc[path, "bc_high"], digits),
        })
    estimate, perc_low, perc_high, bc_low, bc_high = results.proportion_percent
    rows.append({"Path": "a \u00d7 b / c (proportion mediated), %", "Estimate": fmt_number(estimate, 1),
                 "95% CI (OLS)": "-", "P (OLS)": "-", "95% CI (bootstrap, percentile)": fmt_ci(perc_low, perc_high, 1),
                 "95% CI (bootstrap, bias-corrected)": fmt_ci(bc_low, bc_high, 1)})
    return pd.DataFrame(rows)


def routes_table(results: MediationResults) -> pd.DataFrame:
    """The product-of-coefficients bootstrap beside statsmodels' simulation and the shared-draw simulation of a*b."""
    boot, simulated = results.bootstrap.estimates, results.statsmodels_summary
    _, mc_low, mc_high = results.monte_carlo_indirect
    rows = []
    for path, label, digits, scale, sm_row in (
        ("indirect", "Indirect effect, a \u00d7 b", 4, 1, "ACME (average)"),
        ("c_prime", "Direct effect, c\u2032", 4, 1, "ADE (average)"),
        ("c", "Total effect, c", 4, 1, "Total effect"),
        ("proportion_mediated", "Proportion mediated, %", 1, 100, "Prop. mediated (average)"),
    ):
        sm = simulated.loc[sm_row]
        boot_width = boot.loc[path, "perc_high"] - boot.loc[path, "perc_low"]
        sm_width = sm["Upper CI bound"] - sm["Lower CI bound"]
        shared = (f"{fmt_number(boot.loc[path, 'estimate'], digits)} ({fmt_ci(mc_low, mc_high, digits)})"
                  if path == "indirect" else "-")
        rows.append({
            "Effect (per gram of ketamine)": label,
            "Bootstrap: estimate (95% CI)": f"{fmt_number(scale * boot.loc[path, 'estimate'], digits)} "
                                            f"({fmt_ci(scale * boot.loc[path, 'perc_low'], scale * boot.loc[path, 'perc_high'], digits)})",
            "statsmodels: estimate (95% CI)": f"{fmt_number(scale * sm['Estimate'], digits)} "
                                              f"({fmt_ci(scale * sm['Lower CI bound'], scale * sm['Upper CI bound'], digits)})",
            "Shared-draw simulation: estimate (95% CI)": shared,
            "Width ratio, statsmodels / bootstrap": fmt_number(sm_width / boot_width, 2),
        })
    return pd.DataFrame(rows)
