"""Linear mixed model with patients nested in centres: a random centre intercept on top of the primary pain model's
correlated random intercept and slope (on `years`) per patient, fitted by REML. In lme4 notation:
`nprs ~ <fixed> + (1 | centre) + (years | patient_id)`.

statsmodels can nest effects only through variance components (groups = centre, vc_formula per patient), which makes
the patient intercept and slope uncorrelated: not the primary model plus a centre. So this is a small REML of our
own, in lme4's formulation (Bates et al. 2015): V = s2 (I + Z Lambda Lambda' Z'), with the relative covariance factor
Lambda = blockdiag(theta_c, L, ..., L) per centre (L the 2 x 2 lower-triangular factor of the patient covariance over
s2), s2 and the fixed effects profiled out, and the 4 parameters of theta found by bounded optimisation.

Checked against R lme4 (tests/test_sensitivity_centres.py): REML log-likelihood, fixed effects, their SEs and the
variance components; with the centre variance fixed at zero it is the primary model (checked against
okapi.models.mixed_models).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from scipy import optimize, stats

from okapi.models.mixed_models import Z_975, MixedModelFit

RANDOM_PART = "(1 | centre) + (years | patient_id)"
THETA_START = np.array([0.2, 1.0, 0.0, 0.5])   # theta_c, L11, L21, L22 (in residual SD units)
BOUNDS = [(0.0, None), (0.0, None), (None, None), (0.0, None)]   # lme4's: SD-like entries are non-negative


class NestedDesign:
    """Per-patient cross-products of the random-effects design Z_i = [1, t] with [X y], and the centre of each patient.

    For one centre, A = Lambda' Z'Z Lambda + I is an arrow matrix: a 2 x 2 block B_i per patient, bordered by the
    centre-intercept row. Eliminating the blocks (a Schur complement S per centre) gives log|A| and
    [X y]' H^-1 [X y] with 2 x 2 inverses only, for all patients at once.
    """

    def __init__(self, long_df: pd.DataFrame, fixed: str, centre: str, group: str, time: str):
        outcome = fixed.split("~", 1)[0].strip()
        data = long_df.loc[long_df[outcome].notna()].copy()
        for column in data.columns:
            if data[column].dtype == bool:
                data[column] = data[column].astype(int)   # a coefficient named "depressed", as in mixed_models
        # statsmodels' formula machinery, so that terms are named exactly as in okapi.models.mixed_models' fits.
        ols = smf.ols(fixed, data)
        self.names = list(ols.exog_names)
        xy = np.column_stack([np.asarray(ols.exog, dtype=float), np.asarray(ols.endog, dtype=float)])
        t = data[time].to_numpy(dtype=float)
        patient_code, patients = pd.factorize(data[group], sort=True)
        centre_code, self.centres = pd.factorize(data[centre], sort=True)
        per_patient = pd.Series(centre_code).groupby(patient_code)
        if (per_patient.nunique() > 1).any():
            raise ValueError(f"patients in more than one {centre}: not a nested design")
        self.patient_centre = per_patient.first().to_numpy()
        z = np.column_stack([np.ones_like(t), t])
        n_patients, k = patients.size, xy.shape[1]
        self.ztz = np.zeros((n_patients, 2, 2))
        self.ztxy = np.zeros((n_patients, 2, k))
        np.add.at(self.ztz, patient_code, z[:, :, None] * z[:, None, :])
        np.add.at(self.ztxy, patient_code, z[:, :, None] * xy[:, None, :])
        self.centre_size = np.bincount(centre_code).astype(float)
        self.xyxy = xy.T @ xy
        self.n, self.p = xy.shape[0], k - 1
        self.n_patients, self.n_centres = int(n_patients), int(self.centres.size)

    def _by_centre(self, values: np.ndarray) -> np.ndarray:
        out = np.zeros((self.n_centres, *values.shape[1:]))
        np.add.at(out, self.patient_centre, values)
        return out

    def profiled(self, theta: np.ndarray) -> dict:
        """REML deviance at theta with beta and s2 profiled out, plus what the fit reports."""
        theta_c = theta[0]
        lam = np.array([[theta[1], 0.0], [theta[2], theta[3]]])
        b = lam.T @ self.ztz @ lam + np.eye(2)                                # (N, 2, 2)
        det_b = b[:, 0, 0] * b[:, 1, 1] - b[:, 0, 1] * b[:, 1, 0]
        b_inv = np.stack([np.stack([b[:, 1, 1], -b[:, 0, 1]], -1), np.stack([-b[:, 1, 0], b[:, 0, 0]], -1)], 1)
        b_inv /= det_b[:, None, None]
        r = lam.T @ self.ztxy                                                  # (N, 2, p+1): Lambda_i' Z_i'[X y]
        g = theta_c * (self.ztz[:, 0, :] @ lam)                                # (N, 2): border of A, patient i
        b_inv_r = b_inv @ r
        b_inv_g = np.einsum("nij,nj->ni", b_inv, g)
        schur = theta_c ** 2 * self.centre_size + 1.0 - self._by_centre(np.einsum("ni,ni->n", g, b_inv_g))
        border = theta_c * self._by_centre(self.ztxy[:, 0, :]) - self._by_centre(np.einsum("ni,nik->nk", b_inv_g, r))
        quad = (np.einsum("nik,nil->kl", r, b_inv_r)
                + np.einsum("ck,cl->kl", border / schur[:, None], border))
        m = self.xyxy - quad                                                   # [X y]' H^-1 [X y]
        log_det_a = np.log(det_b).sum() + np.log(schur).sum()
        p = self.p
        xhx, xhy, yhy = m[:p, :p], m[:p, p], m[p, p]
        beta = np.linalg.solve(xhx, xhy)
        dof = self.n - p
        s2 = (yhy - beta @ xhy) / dof
        _, log_det_xhx = np.linalg.slogdet(xhx)
        deviance = log_det_a + log_det_xhx + dof * (1.0 + np.log(2.0 * np.pi * s2))
        return {"deviance": float(deviance), "beta": beta, "s2": float(s2), "xhx": xhx}


def _variance_components(theta: np.ndarray, s2: float, with_centre: bool) -> pd.Series:
    l11, l21, l22 = theta[1:]
    values = {"var(centre)": s2 * theta[0] ** 2} if with_centre else {}
    values.update({"var(Intercept)": s2 * l11 ** 2, "var(years)": s2 * (l21 ** 2 + l22 ** 2),
                   "cov(Intercept, years)": s2 * l11 * l21, "var(Residual)": s2})
    return pd.Series(values, name="variance")


def fit_centre_mixed_model(long_df: pd.DataFrame, fixed: str = "nprs ~ years", centre: str = "centre",
                           group: str = "patient_id", time: str = "years", with_centre: bool = True) -> MixedModelFit:
    """REML fit of `fixed` + (1 | centre) + (years | patient_id); `with_centre=False` fixes the centre variance at 0
    (the primary model, for a likelihood-ratio test on the same footing). Returns okapi.models.mixed_models.MixedModelFit
    (statsmodels_result None), so linear_combination and wald_test apply."""
    design = NestedDesign(long_df, fixed, centre, group, time)
    free = slice(0, 4) if with_centre else slice(1, 4)

    def deviance(params):
        theta = np.r_[0.0, params] if not with_centre else params
        return design.profiled(theta)["deviance"]

    # Quasi-Newton with finite differences gets within ~1e-6 of the REML maximum; Powell's derivative-free search
    # from there closes the gap (lme4's bobyqa stops ~1e-8 from it).
    rough = optimize.minimize(deviance, THETA_START[free], method="L-BFGS-B", bounds=BOUNDS[free],
                              options={"ftol": 1e-13, "gtol": 1e-8, "maxiter": 500})
    result = optimize.minimize(deviance, rough.x, method="Powell", bounds=BOUNDS[free],
                               options={"xtol": 1e-10, "ftol": 1e-13, "maxfev": 20000})
    theta = np.r_[0.0, result.x] if not with_centre else result.x
    at = design.profiled(theta)
    cov = at["s2"] * np.linalg.inv(at["xhx"])
    messages = () if result.success else (f"optimizer: {result.message}",)
    if messages:
        # Raised as a warning, as okapi.models.mixed_models does: the book build turns it into an error.
        warnings.warn(f"centre mixed model {fixed}: did not converge; " + "; ".join(messages), RuntimeWarning,
                      stacklevel=2)
    se = np.sqrt(np.diag(cov))
    z = at["beta"] / se
    table = pd.DataFrame({"estimate": at["beta"], "se": se, "z": z, "p": 2 * stats.norm.sf(np.abs(z)),
                          "ci_low": at["beta"] - Z_975 * se, "ci_high": at["beta"] + Z_975 * se},
                         index=pd.Index(design.names, name="term"))
    return MixedModelFit(
        formula=fixed, random=RANDOM_PART if with_centre else "(years | patient_id)", reml=True, fixed=table,
        fixed_cov=pd.DataFrame(cov, index=design.names, columns=design.names),
        variance_components=_variance_components(theta, at["s2"], with_centre),
        loglik=-0.5 * at["deviance"], n_patients=design.n_patients, n_observations=design.n,
        converged=bool(result.success), warnings=messages, statsmodels_result=None)


def centre_icc(fit: MixedModelFit) -> float:
    """Share of the variance of a score at inclusion (years = 0) that lies between centres."""
    vc = fit.variance_components
    return float(vc["var(centre)"] / (vc["var(centre)"] + vc["var(Intercept)"] + vc["var(Residual)"]))


def centre_variance_test(with_centre: MixedModelFit, without_centre: MixedModelFit) -> tuple[float, float]:
    """REML likelihood-ratio statistic for var(centre) = 0 (same fixed effects) and its P from the 50:50 mixture of
    chi-square 0 and 1 (the variance sits on the boundary under the null)."""
    statistic = max(0.0, 2.0 * (with_centre.loglik - without_centre.loglik))
    return statistic, float(0.5 * stats.chi2.sf(statistic, 1)) if statistic > 0 else 1.0
