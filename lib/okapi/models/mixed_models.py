"""Linear mixed models for the monthly pain scores: patient random intercept + random slope, fitted by REML.

A thin, checked wrapper around statsmodels MixedLM (double-programmed against R lme4/lmerTest in
tests/test_double_programming_mixed_models.py). Inference on fixed effects uses the normal distribution (z, not
Satterthwaite t): with 329 patients lmerTest's denominator df exceed 260 and the difference is in the third decimal
of a P value at most.

Time units. The random slope is on `years` (= month / 12): in months the slope variance is below 0.01 and
statsmodels raises a false "MLE on the boundary" warning. The fixed part may use either unit and the fitted model is
the same up to a rescaling: with `years` a time coefficient is a change per year; put `month` in the fixed formula
(e.g. "nprs ~ month * depressed") to read the same coefficient per month, as the published R8 (-0.04 per month)
is most plausibly expressed. With time as a factor ("C(month)") each coefficient is a month-specific contrast.
"""

import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from scipy import stats

Z_975 = stats.norm.ppf(0.975)


@dataclass(frozen=True)
class MixedModelFit:
    """What the chapters need from one fit; `statsmodels_result` is kept for anything else."""

    formula: str
    random: str
    reml: bool
    fixed: pd.DataFrame  # index: term; columns estimate, se, z, p, ci_low, ci_high
    fixed_cov: pd.DataFrame  # covariance matrix of the fixed effects
    variance_components: pd.Series  # var(...), cov(..., ...), var(Residual)
    loglik: float  # REML criterion when reml=True, as R's logLik() on an lmer REML fit
    n_patients: int
    n_observations: int
    converged: bool
    warnings: tuple[str, ...]
    statsmodels_result: Any = field(repr=False, compare=False)
    # The fixed-effects design (patsy DesignInfo) of a fit made without statsmodels (okapi.models.lmm_batch), so that
    # predictions code new data exactly as the fit did.
    design_info: Any = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class WaldTest:
    chi2: float
    df: int
    p: float
    terms: tuple[str, ...]


@dataclass(frozen=True)
class LinearCombination:
    estimate: float
    se: float
    z: float
    p: float
    ci_low: float
    ci_high: float


def fit_pain_mixed_model(
    long_df: pd.DataFrame,
    fixed: str = "nprs ~ years",
    random: str = "~years",
    group: str = "patient_id",
    reml: bool = True,
) -> MixedModelFit:
    """Fit `fixed` with a per-`group` random effect for each term of `random` (unstructured covariance).

    Rows whose outcome is missing are dropped (the direct-likelihood analysis under MAR); boolean columns are used
    as 0/1 so that a coefficient is named "depressed", not "depressed[T.True]".
    """
    outcome = fixed.split("~", 1)[0].strip()
    data = booleans_as_int(long_df.loc[long_df[outcome].notna()])
    model = smf.mixedlm(fixed, data, groups=group, re_formula=random, missing="drop")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = model.fit(reml=reml)
    messages = tuple(dict.fromkeys(str(w.message) for w in caught))
    if messages or not result.converged:
        # Re-raised as one warning so that a chapter cannot report such a fit silently: the book build turns any
        # warning printed by a chapter into a build error.
        warnings.warn(f"mixed model {fixed} (random {random}): "
                      + ("did not converge; " if not result.converged else "") + "; ".join(messages),
                      RuntimeWarning, stacklevel=2)

    names = list(model.exog_names)
    estimate = np.asarray(result.fe_params, dtype=float)
    cov = gls_fixed_effects_covariance(result)
    se = np.sqrt(np.diag(cov))
    z = estimate / se
    table = pd.DataFrame(
        {
            "estimate": estimate,
            "se": se,
            "z": z,
            "p": 2 * stats.norm.sf(np.abs(z)),
            "ci_low": estimate - Z_975 * se,
            "ci_high": estimate + Z_975 * se,
        },
        index=pd.Index(names, name="term"),
    )
    return MixedModelFit(
        formula=fixed,
        random=random,
        reml=reml,
        fixed=table,
        fixed_cov=pd.DataFrame(cov, index=names, columns=names),
        variance_components=_variance_components(result, _random_effect_names(model, group)),
        loglik=float(result.llf),
        n_patients=len(model.group_labels),
        n_observations=int(model.nobs),
        converged=bool(result.converged),
        warnings=messages,
        statsmodels_result=result,
    )


def gls_fixed_effects_covariance(result) -> np.ndarray:
    """(X' V^-1 X)^-1 at the fitted variance components: the fixed-effect covariance of lme4, nlme and SAS.

    statsmodels' own cov_params() inverts the observed information of all parameters jointly and gave SEs up
    to 0.3% away from lme4's on simulated OKAPI-like data; this one agrees to about 1e-5. Per patient,
    V_i^-1 = (I - Z_i G (s2 I + Z_i'Z_i G)^-1 Z_i') / s2 (no inverse of G, so a singular G is fine).
    """
    model = result.model
    X, Z = np.asarray(model.exog, dtype=float), np.asarray(model.exog_re, dtype=float)
    G, s2 = np.asarray(result.cov_re, dtype=float), float(result.scale)
    codes = np.empty(X.shape[0], dtype=int)
    for code, label in enumerate(model.group_labels):
        codes[model.row_indices[label]] = code
    n_groups, p, q = len(model.group_labels), X.shape[1], Z.shape[1]
    xz = np.zeros((n_groups, p, q))
    zz = np.zeros((n_groups, q, q))
    np.add.at(xz, codes, X[:, :, None] * Z[:, None, :])
    np.add.at(zz, codes, Z[:, :, None] * Z[:, None, :])
    middle = G @ np.linalg.inv(s2 * np.eye(q) + zz @ G)
    information = (X.T @ X - np.einsum("gpq,gqr,gsr->ps", xz, middle, xz)) / s2
    return np.linalg.inv(information)


def _random_effect_names(model, group: str) -> list[str]:
    # statsmodels labels the random intercept with the grouping variable's name; lme4 calls it (Intercept).
    names = list(model.data.exog_re_names)
    return ["Intercept" if name == group else name for name in names]


def _variance_components(result, re_names: Sequence[str]) -> pd.Series:
    cov_re = np.asarray(result.cov_re, dtype=float)
    values: dict[str, float] = {}
    for i, name_i in enumerate(re_names):
        values[f"var({name_i})"] = cov_re[i, i]
    for i, name_i in enumerate(re_names):
        for j in range(i + 1, len(re_names)):
            values[f"cov({name_i}, {re_names[j]})"] = cov_re[i, j]
    values["var(Residual)"] = float(result.scale)
    return pd.Series(values, name="variance")


def select_terms(fit: MixedModelFit, terms: Sequence[str] | str) -> list[str]:
    """Terms listed by name, or every term whose name matches a regular expression."""
    if isinstance(terms, str):
        chosen = [name for name in fit.fixed.index if re.search(terms, name)]
    else:
        unknown = [name for name in terms if name not in fit.fixed.index]
        if unknown:
            raise KeyError(f"not fixed-effect terms of this model: {unknown}")
        chosen = list(terms)
    if not chosen:
        raise KeyError(f"no fixed-effect term matches {terms!r}")
    return chosen


def wald_test(fit: MixedModelFit, terms: Sequence[str] | str) -> WaldTest:
    """Omnibus Wald chi-square that all listed coefficients are zero (e.g. terms=r"C\\(month\\).*:depressed").

    Equals lmerTest's type III F for the same terms times its numerator df.
    """
    chosen = select_terms(fit, terms)
    beta = fit.fixed.loc[chosen, "estimate"].to_numpy()
    cov = fit.fixed_cov.loc[chosen, chosen].to_numpy()
    chi2 = float(beta @ np.linalg.solve(cov, beta))
    return WaldTest(chi2=chi2, df=len(chosen), p=float(stats.chi2.sf(chi2, len(chosen))), terms=tuple(chosen))


def linear_combination(fit: MixedModelFit, weights: Mapping[str, float]) -> LinearCombination:
    """sum(weight * coefficient) with its model-based SE, normal CI and P (e.g. {"years": 1} = 1-year change)."""
    chosen = select_terms(fit, list(weights))
    w = np.array([weights[name] for name in chosen], dtype=float)
    estimate = float(w @ fit.fixed.loc[chosen, "estimate"].to_numpy())
    se = float(np.sqrt(w @ fit.fixed_cov.loc[chosen, chosen].to_numpy() @ w))
    z = estimate / se
    return LinearCombination(
        estimate=estimate,
        se=se,
        z=z,
        p=float(2 * stats.norm.sf(abs(z))),
        ci_low=float(estimate - Z_975 * se),
        ci_high=float(estimate + Z_975 * se),
    )


def booleans_as_int(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with boolean columns as 0/1, the coding every fit and prediction uses."""
    frame = frame.copy()
    for column in frame.columns:
        if frame[column].dtype == bool:
            frame[column] = frame[column].astype(int)
    return frame


def fixed_design_matrix(fit: MixedModelFit, new_data: pd.DataFrame) -> np.ndarray:
    """The fixed-effects design matrix of `new_data` under the fitted formula (same coding as the fit)."""
    frame = booleans_as_int(new_data)
    if fit.statsmodels_result is None:
        import patsy

        (matrix,) = patsy.build_design_matrices([fit.design_info], frame, return_type="matrix")
        return np.asarray(matrix, dtype=float)
    spec = fit.statsmodels_result.model.data.model_spec
    if hasattr(spec, "get_model_matrix"):  # formulaic backend
        return np.asarray(spec.get_model_matrix(frame), dtype=float)
    import patsy  # statsmodels' default backend

    (matrix,) = patsy.build_design_matrices([spec], frame, return_type="matrix")
    return np.asarray(matrix, dtype=float)


def predicted_means(fit: MixedModelFit, new_data: pd.DataFrame) -> pd.DataFrame:
    """Population-average (random effects = 0) predictions with 95% CIs, for model-based curves by group."""
    design = fixed_design_matrix(fit, new_data)
    beta = fit.fixed["estimate"].to_numpy()
    cov = fit.fixed_cov.to_numpy()
    mean = design @ beta
    se = np.sqrt(np.einsum("ij,jk,ik->i", design, cov, design))
    out = new_data.reset_index(drop=True).copy()
    out["predicted"] = mean
    out["se"] = se
    out["ci_low"] = mean - Z_975 * se
    out["ci_high"] = mean + Z_975 * se
    return out
