"""Model adequacy of the pain mixed model: is time linear, are the residuals and random effects roughly normal, and
what does serial correlation of the residuals change?

- Time: natural cubic regression splines (patsy's cr, ADEQUACY_SPLINE_DF degrees of freedom) against the linear term,
  both fitted by maximum likelihood (a likelihood-ratio test needs ML: REML likelihoods of different fixed effects are
  not comparable), each with the random intercept and slope of the primary model. The one-year change under the
  spline is the predicted mean at month 12 minus at month 0, with its delta-method CI; the depression difference in
  that change comes from the spline x depression model.
- Residuals: QQ plots of the within-patient residuals and of the predicted random intercepts and slopes, and the
  residuals against the fitted values.
- Serial correlation: a GEE with a first-order autoregressive working correlation over months (robust SEs), beside
  the lag-1 correlation of the mixed model's within-patient residuals.
"""

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import patsy
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import stats

from okapi.book.report import fmt_ci, fmt_number, fmt_p_statement
from okapi.data.derive import pain_long
from okapi.data.loading import Cohort
from okapi.models.mixed_models import fit_pain_mixed_model, gls_fixed_effects_covariance
from okapi.plan import ADEQUACY_SPLINE_DF, SensitivitySettings
from okapi.sensitivity.verdicts import Verdict, verdict_line
from okapi.verdicts.rules import CONTRADICTED, SUPPORTED, Z_975

SPLINE = f"cr(years, df={ADEQUACY_SPLINE_DF})"


@dataclass(frozen=True)
class Change:
    estimate: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class MlFit:
    result: object  # statsmodels MixedLMResults, fitted by ML on the design below
    design_info: object  # patsy DesignInfo of the fixed effects: codes new data as the fit did
    n_fixed: int


def _ml_fit(long: pd.DataFrame, fixed: str) -> MlFit:
    """ML fit of `fixed` with a random intercept and slope on years per patient (the primary model's random part),
    on a patsy design built here so that predictions use exactly the fit's coding of time."""
    y, x = patsy.dmatrices(fixed, long, return_type="dataframe")
    rows = x.index
    groups = long.loc[rows, "patient_id"].to_numpy()
    random = np.column_stack([np.ones(len(rows)), long.loc[rows, "years"].to_numpy(dtype=float)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = sm.MixedLM(y.iloc[:, 0].to_numpy(), x.to_numpy(), groups=groups, exog_re=random).fit(reml=False)
    return MlFit(result, x.design_info, x.shape[1])


def _weights(fit: MlFit, frame: pd.DataFrame) -> np.ndarray:
    return np.asarray(patsy.build_design_matrices([fit.design_info], frame)[0])


def _linear(fit: MlFit, weights: np.ndarray) -> Change:
    beta = np.asarray(fit.result.fe_params)
    cov = gls_fixed_effects_covariance(fit.result)  # lme4's fixed-effect covariance, as the chapters use
    estimate, se = float(weights @ beta), float(np.sqrt(weights @ cov @ weights))
    return Change(estimate, estimate - Z_975 * se, estimate + Z_975 * se)


@dataclass
class AdequacyResults:
    linear_loglik: float
    spline_loglik: float
    lr_df: int
    lr_p: float
    linear_change: Change
    spline_change: Change
    linear_interaction: Change
    spline_interaction: Change
    curves: pd.DataFrame  # month, linear, spline: predicted mean NPRS
    residuals: pd.DataFrame  # fitted, residual (within-patient), of the REML linear model
    random_effects: pd.DataFrame  # intercept, slope per patient
    residual_lag1: float
    gee_change: Change
    gee_autocorrelation: float
    n_patients: int


def _change_over_year(fit: MlFit, interaction: bool) -> Change:
    """The predicted mean at one year minus at inclusion; with interaction, its depressed - not depressed
    difference. Both are linear in the fixed effects, so their CI is exact given the fixed effects' covariance."""
    if not interaction:
        rows = _weights(fit, pd.DataFrame({"years": [1.0, 0.0]}))
        return _linear(fit, rows[0] - rows[1])
    rows = _weights(fit, pd.DataFrame({"years": [1.0, 0.0, 1.0, 0.0], "depressed": [1, 1, 0, 0]}))
    return _linear(fit, (rows[0] - rows[1]) - (rows[2] - rows[3]))


def _gee_ar1(long: pd.DataFrame) -> tuple[Change, float]:
    data = long.sort_values(["patient_id", "month"], kind="stable").reset_index(drop=True)
    model = smf.gee("nprs ~ years", groups="patient_id", data=data, time=data["month"].to_numpy(),
                    cov_struct=sm.cov_struct.Autoregressive(grid=True), family=sm.families.Gaussian())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = model.fit()
    estimate, se = float(fit.params["years"]), float(fit.bse["years"])
    return Change(estimate, estimate - Z_975 * se, estimate + Z_975 * se), float(model.cov_struct.dep_params)


def run_adequacy_sensitivity(cohort: Cohort, settings: SensitivitySettings) -> AdequacyResults:
    long = pain_long(cohort)
    grouped = long[long["hads_d_baseline"].notna()].assign(depressed=lambda f: f["depressed"].astype(int))
    linear, spline = _ml_fit(long, "nprs ~ years"), _ml_fit(long, f"nprs ~ {SPLINE}")
    linear_group, spline_group = _ml_fit(grouped, "nprs ~ years * depressed"), _ml_fit(grouped, f"nprs ~ {SPLINE} * depressed")
    lr = 2 * (spline.result.llf - linear.result.llf)
    df = spline.n_fixed - linear.n_fixed
    months = np.arange(13)
    grid = pd.DataFrame({"years": months / 12})
    curves = pd.DataFrame({"month": months,
                           "linear": _weights(linear, grid) @ np.asarray(linear.result.fe_params),
                           "spline": _weights(spline, grid) @ np.asarray(spline.result.fe_params)})
    reml = fit_pain_mixed_model(long, "nprs ~ years")
    result = reml.statsmodels_result
    effects = pd.DataFrame(result.random_effects).T
    effects.columns = ["intercept", "slope"]
    fitted = result.fittedvalues  # includes the patient's random effects
    residual = result.resid
    frame = long.loc[long["nprs"].notna(), ["patient_id", "month"]].assign(residual=residual.to_numpy())
    frame = frame.sort_values(["patient_id", "month"])
    previous = frame.groupby("patient_id")["residual"].shift()
    consecutive = frame["month"] - frame.groupby("patient_id")["month"].shift() == 1
    lag1 = float(np.corrcoef(frame.loc[consecutive, "residual"], previous[consecutive])[0, 1])
    gee, rho = _gee_ar1(long)
    return AdequacyResults(
        float(linear.result.llf), float(spline.result.llf), df, float(stats.chi2.sf(lr, df)), _change_over_year(linear, False),
        _change_over_year(spline, False), _change_over_year(linear_group, True),
        _change_over_year(spline_group, True), curves,
        pd.DataFrame({"fitted": fitted.to_numpy(), "residual": residual.to_numpy()}), effects, lag1, gee, rho,
        int(long["patient_id"].nunique()))


def _ci(change: Change, digits: int = 2) -> str:
    return f"{fmt_number(change.estimate, digits)} (95% CI {fmt_ci(change.ci_low, change.ci_high, digits)})"


def verdicts(results: AdequacyResults) -> list[Verdict]:
    """pain_decline without the linear-time assumption and under autoregressive residuals; depression_interaction
    without the linear-time assumption (the one-year difference between the groups)."""
    spline, gee, group = results.spline_change, results.gee_change, results.spline_interaction
    return [
        Verdict("pain_decline", f"time as a natural spline ({ADEQUACY_SPLINE_DF} df)",
                SUPPORTED if spline.ci_high < 0 else CONTRADICTED,
                f"With time as a spline, pain changed by {_ci(spline)} points from inclusion to one year.",
                null_result=spline.ci_low <= 0 <= spline.ci_high),
        Verdict("pain_decline", "autoregressive residuals (GEE, AR(1) working correlation)",
                SUPPORTED if gee.ci_high < 0 else CONTRADICTED,
                f"With AR(1) residuals (lag-1 correlation {fmt_number(results.gee_autocorrelation, 2)}), pain changed "
                f"by {_ci(gee)} points per year (robust SE).", null_result=gee.ci_low <= 0 <= gee.ci_high),
        Verdict("depression_interaction", f"time as a natural spline ({ADEQUACY_SPLINE_DF} df)",
                SUPPORTED if group.ci_high < 0 else CONTRADICTED,
                f"With time as a spline, the one-year change differed by {_ci(group)} points between patients with "
                "and without depressive symptoms.", null_result=group.ci_low <= 0 <= group.ci_high),
    ]


def glued_text(results: AdequacyResults, finished: list[Verdict] | None = None) -> dict[str, str]:
    text = {"sens_adequacy_spline_df": str(ADEQUACY_SPLINE_DF), "sens_adequacy_lr_df": str(results.lr_df),
            "sens_adequacy_lr": fmt_number(2 * (results.spline_loglik - results.linear_loglik), 1),
            "sens_adequacy_lr_p": fmt_p_statement(results.lr_p),
            "sens_adequacy_linear_change": _ci(results.linear_change),
            "sens_adequacy_spline_change": _ci(results.spline_change),
            "sens_adequacy_linear_interaction": _ci(results.linear_interaction),
            "sens_adequacy_spline_interaction": _ci(results.spline_interaction),
            "sens_adequacy_gee_change": _ci(results.gee_change),
            "sens_adequacy_gee_rho": fmt_number(results.gee_autocorrelation, 2),
            "sens_adequacy_lag1": fmt_number(results.residual_lag1, 2),
            "sens_adequacy_linear_judgement": (
                "fits worse than the spline" if results.lr_p < 0.05 else "is not worse than the spline")}
    names = {f"time as a natural spline ({ADEQUACY_SPLINE_DF} df)": "spline",
             "autoregressive residuals (GEE, AR(1) working correlation)": "gee"}
    for verdict in finished or []:
        text[f"sens_adequacy_verdict_{verdict.conclusion}_{names[verdict.analysis]}"] = verdict_line(verdict)
    return text


def plot_adequacy(results: AdequacyResults):
    """Four panels: mean pain by month under linear and spline time; QQ plot of the within-patient residuals; QQ
    plots of the standardised random intercepts and slopes; residuals against fitted values."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    from okapi.book.theme import book_theme, colours, figure_size, finish

    palette = colours(3)
    with book_theme():
        fig, axes = plt.subplots(2, 2, figsize=figure_size(5.4), layout="constrained")
        curves = results.curves.melt(id_vars="month", var_name="time", value_name="nprs")
        curves["time"] = curves["time"].map({"linear": "linear", "spline": f"spline ({ADEQUACY_SPLINE_DF} df)"})
        sns.lineplot(data=curves, x="month", y="nprs", hue="time", style="time", markers=True, dashes=True,
                     palette=palette[:2], ax=axes[0, 0])
        axes[0, 0].set(xlabel="Month", ylabel="Predicted mean NPRS", title="Time: linear or spline")
        axes[0, 0].legend(title=None, frameon=False)
        for ax, values, title in ((axes[0, 1], results.residuals["residual"], "Within-patient residuals"),):
            (theory, ordered), _ = stats.probplot(values, dist="norm")
            sns.scatterplot(x=theory, y=ordered / np.std(values, ddof=1), s=6, linewidth=0, color=palette[0], ax=ax)
            ax.axline((0, 0), slope=1, color="black", lw=1)
            ax.set(xlabel="Normal quantile", ylabel="Standardised residual", title=title)
        ax = axes[1, 0]
        for column, colour, marker in (("intercept", palette[0], "o"), ("slope", palette[1], "s")):
            values = results.random_effects[column]
            (theory, ordered), _ = stats.probplot(values, dist="norm")
            sns.scatterplot(x=theory, y=ordered / np.std(values, ddof=1), s=8, linewidth=0, color=colour,
                            marker=marker, label=f"random {column}", ax=ax)
        ax.axline((0, 0), slope=1, color="black", lw=1)
        ax.set(xlabel="Normal quantile", ylabel="Standardised prediction", title="Random effects")
        ax.legend(frameon=False)
        sns.scatterplot(data=results.residuals, x="fitted", y="residual", s=5, linewidth=0, alpha=0.5,
                        color=palette[0], ax=axes[1, 1])
        axes[1, 1].axhline(0, color="black", lw=1)
        axes[1, 1].set(xlabel="Fitted NPRS", ylabel="Residual", title="Residuals against fitted values")
    spline = results.curves["spline"].to_numpy()
    early, late = spline[0] - spline[6], spline[6] - spline[12]
    shape = ("falls more in the first half-year than in the second" if early > late
             else "falls no more in the first half-year than in the second")
    alt = (f"Four panels checking the pain mixed model. Top left: predicted mean pain by month with time linear and as "
           f"a natural spline; the spline {shape} (likelihood-ratio "
           f"{fmt_p_statement(results.lr_p)}). Top right and bottom left: normal QQ plots of the within-patient "
           f"residuals and of the predicted random intercepts and slopes. Bottom right: residuals against fitted "
           f"values, in bands because the scores are whole numbers from 0 to 10.")
    return finish(fig, alt)
