# Guards the "Centres" sensitivity section against a nested mixed model that runs but answers wrongly (a wrong REML
# criterion, patients not nested in their centre, SEs from the wrong matrix), against clustered SEs or centre fixed
# effects that are not what they claim, a centre bootstrap that depends on row order, and a verdict that calls
# "mediation" what has no total effect to mediate. Second routes: R lme4, okapi.models.mixed_models (statsmodels), a
# hand-written sandwich, dummies vs within-centre slopes, and simulated centres with a known variance.
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

from okapi.data.loading import load_cohort
from okapi.data.derive import pain_long
from okapi.models.mediation import PATHS
from okapi.models.mixed_models import fit_pain_mixed_model
from okapi.paths import REPO_ROOT
from support.rbridge import R_SOURCES, r_reference
from okapi.sensitivity.centres import (MediationReading, centre_bootstrap_paths, clustered_ols_table,
                                       depression_analysis_set, fixed_effects_paths, mediation_holds)
from okapi.models.centre_model import centre_icc, fit_centre_mixed_model
from support.known_truth import simulate_pain_panel

LME4_SCRIPT = REPO_ROOT / "tests" / "r" / "lmm_centre_reference.R"
MODELS = {"linear": "nprs ~ years", "depression": "nprs ~ years * depressed"}
# Same maximum of the same REML criterion: both optimisers stop within ~1e-6 of it.
LOGLIK_TOLERANCE = 1e-4
FIXED_TOLERANCE = 1e-4        # relative to max(|estimate|, SE)
SE_TOLERANCE = 1e-3           # relative
# The likelihood is flat in the variance components: two optimisers agreeing to 1e-6 in log-likelihood differ by up
# to ~5e-4 relative in a variance (measured 3.7e-4 for the committed cohort's centre variance).
VARIANCE_TOLERANCE = 2e-3


def with_centres(n_patients=400, n_centres=40, centre_sd=0.8, seed=5):
    """simulate_pain_panel plus a known centre intercept: patients assigned to centres of unequal size."""
    long_df, truth = simulate_pain_panel(n_patients=n_patients, seed=seed)
    rng = np.random.default_rng(seed + 1)
    patients = long_df["patient_id"].unique()
    centre_of = dict(zip(patients, rng.choice(n_centres, size=patients.size, p=rng.dirichlet(np.full(n_centres, 3.0)))))
    effect = rng.normal(0.0, centre_sd, n_centres)
    long_df["centre"] = [f"K{centre_of[p]:02d}" for p in long_df["patient_id"]]
    long_df["nprs"] = long_df["nprs"] + effect[[centre_of[p] for p in long_df["patient_id"]]]
    return long_df, truth


def committed_depression_set():
    data = depression_analysis_set(pain_long(load_cohort()))
    return data.assign(depressed=data["depressed"].astype(int))[["patient_id", "centre", "years", "nprs", "depressed"]]


@pytest.fixture(scope="module", params=R_SOURCES)
def lme4_fits(request):
    simulated, _ = with_centres()
    datasets = {"committed": committed_depression_set(),
                "simulated": simulated[["patient_id", "centre", "years", "nprs", "depressed"]]}
    spec = pd.DataFrame({"model_id": list(MODELS), "fixed": list(MODELS.values()), "repeats": 1})

    def run(name):
        return name, r_reference(LME4_SCRIPT, {"data": datasets[name], "models": spec}, request.param,
                                 f"centre_model_{name}", packages=["lme4"], timeout=240)

    with ThreadPoolExecutor(max_workers=2) as pool:
        return datasets, dict(pool.map(run, datasets))


@pytest.mark.parametrize("dataset", ["committed", "simulated"])
@pytest.mark.parametrize("model_id", sorted(MODELS))
def test_double_programming_centre_model_matches_lme4(lme4_fits, dataset, model_id):
    datasets, outputs = lme4_fits
    out = outputs[dataset]
    fit = fit_centre_mixed_model(datasets[dataset], MODELS[model_id])
    reference = out["fit"].set_index("model_id").loc[model_id]
    assert (fit.n_observations, fit.n_patients) == (reference["n_obs"], reference["n_patients"])
    assert fit.loglik == pytest.approx(reference["loglik"], abs=LOGLIK_TOLERANCE)
    assert fit.loglik >= reference["loglik"] - 1e-6, "lme4 found a higher REML maximum"
    fixed = out["fixed"].query("model_id == @model_id").set_index("term")
    fixed.index = fixed.index.str.replace("(Intercept)", "Intercept", regex=False)
    assert list(fixed.index) == list(fit.fixed.index)
    scale = np.maximum(fixed["estimate"].abs(), fixed["se"])
    assert ((fit.fixed["estimate"] - fixed["estimate"]).abs() <= FIXED_TOLERANCE * scale).all()
    np.testing.assert_allclose(fit.fixed["se"], fixed["se"], rtol=SE_TOLERANCE)
    components = out["varcomp"].query("model_id == @model_id").set_index("component")["value"]
    for name, value in components.items():
        assert fit.variance_components[name] == pytest.approx(value, rel=VARIANCE_TOLERANCE, abs=1e-5), name


def test_double_programming_without_centre_is_the_primary_model():
    # With var(centre) fixed at 0 the nested REML must be okapi.models.mixed_models' model (statsmodels), not a cousin.
    data = committed_depression_set()
    ours = fit_centre_mixed_model(data, "nprs ~ years * depressed", with_centre=False)
    primary = fit_pain_mixed_model(data, "nprs ~ years * depressed", "~years")
    assert ours.loglik == pytest.approx(primary.loglik, abs=LOGLIK_TOLERANCE)
    scale = np.maximum(primary.fixed["estimate"].abs(), primary.fixed["se"])
    assert ((ours.fixed["estimate"] - primary.fixed["estimate"]).abs() <= FIXED_TOLERANCE * scale).all()
    np.testing.assert_allclose(ours.fixed["se"], primary.fixed["se"], rtol=SE_TOLERANCE)
    for name, value in primary.variance_components.items():
        # statsmodels stops ~1e-3 (relative) short in the variances (its log-likelihood is 2e-6 below ours).
        assert ours.variance_components[name] == pytest.approx(value, rel=5e-3), name


def test_known_truth_centre_variance_is_recovered_and_the_slope_untouched():
    long_df, truth = with_centres(n_patients=1200, n_centres=60, centre_sd=0.8, seed=11)
    fit = fit_centre_mixed_model(long_df, "nprs ~ years * depressed")
    # SE of a variance estimated from 60 centres is about var * sqrt(2 / 60) = 18%: 50% is ~3 SE.
    assert fit.variance_components["var(centre)"] == pytest.approx(0.64, rel=0.5)
    assert fit.fixed.loc["years", "ci_low"] < truth.slope_per_year < fit.fixed.loc["years", "ci_high"]
    assert 0 < centre_icc(fit) < 1


def test_rejects_patients_split_across_centres():
    long_df, _ = with_centres(n_patients=60, n_centres=5)
    first = long_df["patient_id"].iloc[0]
    long_df.loc[long_df.index[long_df["patient_id"] == first][-1], "centre"] = "elsewhere"
    with pytest.raises(ValueError, match="not a nested design"):
        fit_centre_mixed_model(long_df)


def clustered_data(n_clusters=100, seed=3):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 12, n_clusters)
    centre = np.repeat(np.arange(n_clusters), sizes)
    shared = rng.normal(0, 1, n_clusters)[centre]
    x = rng.gamma(2.0, 0.3, centre.size) + 0.3 * shared
    m = (rng.normal(0, 1, centre.size) - 0.4 * x + 0.5 * shared > 0).astype(float)
    y = 0.05 * m + 0.01 * x + 0.03 * shared + rng.normal(0, 0.05, centre.size)
    return x, m, y, np.array([f"C{c:03d}" for c in centre])


def test_double_programming_clustered_ses_are_cr1_sandwiches():
    x, m, y, centre = clustered_data()
    table = clustered_ols_table(x, m, y, centre)
    codes = pd.factorize(centre)[0]
    design = np.column_stack([np.ones_like(x), x, m])
    beta, *_ = np.linalg.lstsq(design, y, rcond=None)
    bread = np.linalg.inv(design.T @ design)
    scores = np.zeros((codes.max() + 1, 3))
    np.add.at(scores, codes, design * (y - design @ beta)[:, None])
    n, k, g = design.shape[0], 3, codes.max() + 1
    cov = bread @ scores.T @ scores @ bread * g / (g - 1) * (n - 1) / (n - k)
    assert table.loc["b", "estimate"] == pytest.approx(beta[2], rel=1e-10)
    assert table.loc["b", "se"] == pytest.approx(np.sqrt(cov[2, 2]), rel=1e-8)
    assert table.loc["c_prime", "se"] == pytest.approx(np.sqrt(cov[1, 1]), rel=1e-8)


def test_double_programming_fixed_effects_are_dummy_regressions():
    x, m, y, centre = clustered_data(n_clusters=30)
    dummies = pd.get_dummies(centre, drop_first=True).to_numpy(float)
    design = np.column_stack([np.ones_like(x), x, m, dummies])
    beta, *_ = np.linalg.lstsq(design, y, rcond=None)
    within = fixed_effects_paths(x, m, y, pd.factorize(centre)[0])
    table = clustered_ols_table(x, m, y, centre, fixed_effects=True)
    assert within[PATHS.index("b")] == pytest.approx(beta[2], rel=1e-9)
    assert within[PATHS.index("c_prime")] == pytest.approx(beta[1], rel=1e-9)
    assert table.loc["b", "estimate"] == pytest.approx(beta[2], rel=1e-9)


def test_centre_bootstrap_approaches_the_sandwich_and_ignores_row_order():
    x, m, y, centre = clustered_data()
    replicates = centre_bootstrap_paths(x, m, y, centre, n_boot=1000, seed=1)
    table = clustered_ols_table(x, m, y, centre)
    # 100 clusters, 1000 resamples: the bootstrap SD of b is within ~10% of the CR1 SE (Monte Carlo error ~2%).
    assert np.nanstd(replicates[:, PATHS.index("b")], ddof=1) == pytest.approx(table.loc["b", "se"], rel=0.15)
    order = np.random.default_rng(0).permutation(x.size)
    shuffled = centre_bootstrap_paths(x[order], m[order], y[order], centre[order], n_boot=50, seed=1)
    np.testing.assert_allclose(shuffled, replicates[:50], rtol=1e-9, atol=1e-12)


def reading(indirect_ci, c_ci):
    ols = pd.DataFrame({"estimate": [0.0, 0.05, 0.0, c_ci[0]], "se": 0.01, "p": 0.5,
                        "ci_low": [-1, 0.01, -1, c_ci[1]], "ci_high": [1, 0.09, 1, c_ci[2]]},
                       index=["a", "b", "c_prime", "c"])
    estimates = pd.Series([0.0, 0.05, 0.0, c_ci[0], indirect_ci[0], indirect_ci[0] / c_ci[0]], index=list(PATHS))
    boot = pd.DataFrame({"perc_low": [-1, 0, -1, c_ci[1], indirect_ci[1], -9], "perc_high": [1, 1, 1, c_ci[2],
                                                                                              indirect_ci[2], 9]},
                        index=list(PATHS))
    return MediationReading("test", ols, estimates, boot, 10, 0)


def test_rejects_mediation_without_a_total_effect():
    assert mediation_holds(reading((-0.015, -0.025, -0.005), (-0.02, -0.03, -0.01)))
    assert not mediation_holds(reading((-0.004, -0.011, -0.0001), (-0.02, -0.03, -0.01))), "20% is not most"
    assert not mediation_holds(reading((-0.004, -0.011, -0.0001), (-0.001, -0.02, 0.02))), "c includes 0"
    assert not mediation_holds(reading((-0.004, -0.011, 0.001), (-0.02, -0.03, -0.01))), "a x b includes 0"
    assert not mediation_holds(reading((0.004, 0.001, 0.011), (-0.02, -0.03, -0.01))), "opposite signs"
