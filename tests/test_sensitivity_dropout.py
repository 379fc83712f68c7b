# Guards against a dropout section that averages the dropout patterns wrongly, understates the SE by ignoring the
# uncertainty of the pattern shares, or weights the retained patients by the wrong probabilities: known-truth
# simulations for both estimators, statsmodels as a second route for the pattern slopes and the retention model.
import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from okapi.data.loading import load_cohort
from okapi.models import retention_weights as rw
from okapi.models.lmm_batch import fit_random_slope_model
from okapi.models.mixed_models import fit_pain_mixed_model, linear_combination
from okapi.models.pattern_mixture import cell_slopes, pattern_mixture_contrast, pattern_of_last_month
from okapi.plan import RETENTION_CATEGORICAL, RETENTION_NUMERIC, SensitivitySettings
from okapi.sensitivity import dropout
from okapi.sensitivity.mediation import resample_counts, weighted_mediation_paths

PATTERN_SLOPES = (-3.0, -1.0, 0.0)  # points per year, patterns leaving after months 3, 8 and at 12
LAST_MONTHS = (3, 8, 12)


@pytest.fixture(scope="module")
def results():
    return dropout.run_dropout_sensitivity(load_cohort(), SensitivitySettings())


def simulate_patterns(n_patients: int, seed: int, random_patterns: bool = False, noise: float = 1.0) -> pd.DataFrame:
    """Each pattern its own straight line until its last month; random intercept and slope per patient. Patterns in
    equal thirds, or (random_patterns) drawn per patient so that their shares vary between cohorts."""
    rng = np.random.default_rng(seed)
    patterns = (rng.integers(0, len(PATTERN_SLOPES), n_patients) if random_patterns
                else np.arange(n_patients) % len(PATTERN_SLOPES))
    rows = []
    for i, pattern in enumerate(patterns):
        months = np.arange(LAST_MONTHS[pattern] + 1)
        level, own = rng.normal(6.5, 1.0), rng.normal(PATTERN_SLOPES[pattern], 0.3)
        rows.append(pd.DataFrame({"patient_id": i, "month": months, "years": months / 12,
                                  "nprs": level + own * months / 12 + rng.normal(0, noise, months.size),
                                  "pattern": pattern}))
    return pd.concat(rows, ignore_index=True)


def pmm_decline(long: pd.DataFrame):
    fit = fit_random_slope_model(long, dropout.PATTERN_DECLINE_MODEL, warn=False)
    cells = long.groupby("pattern")["patient_id"].nunique().rename("n_patients").reset_index().assign(group="all")
    return pattern_mixture_contrast(fit, cells, "years", {"all": 1.0})[0]


def test_patterns_split_the_last_months_at_the_plan_edges():
    last = pd.Series([0, 5, 6, 11, 12], index=list("abcde"))
    assert pattern_of_last_month(last, (5, 11)).tolist() == [0, 0, 1, 1, 2]
    with pytest.raises(ValueError, match="increasing"):
        pattern_of_last_month(last, (11, 5))


def test_pattern_mixture_recovers_the_mixture_of_pattern_slopes_that_mar_misses():
    # Equal shares: the truth is the plain mean of the pattern slopes. Under MAR the mixed model pools the slopes by
    # how much each patient tells about it, so the completers (flat) dominate and the decline is underestimated.
    long = simulate_patterns(600, seed=11)
    truth = float(np.mean(PATTERN_SLOPES))
    pmm = pmm_decline(long)
    mar = linear_combination(fit_random_slope_model(long, "nprs ~ years", warn=False), {"years": 1.0})
    assert abs(pmm.estimate - truth) < 3 * pmm.se
    assert abs(mar.estimate - truth) > 5 * mar.se


def test_a_single_pattern_gives_the_ordinary_mixed_model_slope():
    long = simulate_patterns(180, seed=3)
    long["pattern"] = 0
    fit = fit_random_slope_model(long, "nprs ~ years", warn=False)
    pmm, _ = pattern_mixture_contrast(fit, pd.DataFrame({"group": ["all"], "n_patients": [180], "pattern": [0]}),
                                      "years", {"all": 1.0})
    plain = linear_combination(fit, {"years": 1.0})
    assert pmm.estimate == pytest.approx(plain.estimate, abs=1e-12)
    assert pmm.se == pytest.approx(plain.se, abs=1e-12)  # one pattern: the share has no variance


@pytest.mark.slow
def test_delta_method_se_matches_the_spread_over_simulated_cohorts():
    # 200 cohorts: the SD of the estimates has a Monte Carlo relative error of about 5%, so the mean SE must lie within
    # 15% of it. Patterns are drawn at random per patient, so their shares vary between cohorts; with little noise
    # within patients the shares' variance is most of the total, so an SE from the slopes' covariance alone (checked
    # below to fall short) would fail.
    estimates, ses, slopes_only = [], [], []
    for seed in range(200):
        long = simulate_patterns(120, seed, random_patterns=True, noise=0.3)
        fit = fit_random_slope_model(long, dropout.PATTERN_DECLINE_MODEL, warn=False)
        cells = long.groupby("pattern")["patient_id"].nunique().rename("n_patients").reset_index().assign(group="all")
        estimate, table = pattern_mixture_contrast(fit, cells, "years", {"all": 1.0})
        w = table["share"].to_numpy() @ cell_slopes(fit, cells, "years")[0]
        estimates.append(estimate.estimate)
        ses.append(estimate.se)
        slopes_only.append(np.sqrt(w @ fit.fixed_cov.to_numpy() @ w))
    spread = np.std(estimates, ddof=1)
    assert np.mean(ses) / spread == pytest.approx(1.0, abs=0.15)
    assert np.mean(slopes_only) / spread < 0.85


def test_double_programming_pattern_slopes_match_statsmodels(results):
    # statsmodels' MixedLM (REML) on the same frame and formula: the cell slopes and the interaction contrast agree to
    # 2e-3 points per year and their SEs to 2%.
    long = dropout.pattern_frame(load_cohort())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = fit_pain_mixed_model(long, dropout.PATTERN_INTERACTION_MODEL)
    cells = dropout._cells(long, by_depression=True)
    ours = fit_random_slope_model(long, dropout.PATTERN_INTERACTION_MODEL, warn=False)
    assert ours.loglik >= theirs.loglik - 1e-6
    np.testing.assert_allclose(cell_slopes(ours, cells, "years")[1], cell_slopes(theirs, cells, "years")[1],
                               atol=2e-3)
    contrast, _ = pattern_mixture_contrast(theirs, cells, "years", {1.0: 1.0, 0.0: -1.0}, scale=1 / 12)
    assert results.pmm_interaction.estimate == pytest.approx(contrast.estimate, abs=2e-3 / 12)
    assert results.pmm_interaction.se == pytest.approx(contrast.se, rel=0.02)


def test_double_programming_retention_model_matches_statsmodels_logistic():
    frame = dropout.retention_frame(load_cohort())
    predictors = rw.predictor_matrix(frame, RETENTION_NUMERIC, RETENTION_CATEGORICAL)
    retained = frame["analysed"].to_numpy(dtype=float)
    counts = resample_counts(len(frame), 3, 5)
    ours, converged = rw.logistic_fits(predictors.to_numpy(), retained, counts)
    assert converged.all()
    for b in range(3):
        theirs = sm.GLM(retained, predictors.to_numpy(), family=sm.families.Binomial(),
                        freq_weights=counts[b]).fit(tol=1e-12)
        np.testing.assert_allclose(ours[b], theirs.params, atol=1e-6)


def test_retention_weights_recover_the_effect_in_every_eligible_patient():
    # The dose slope of y grows with z, and patients with a high z stay: the complete cases overstate the slope; the
    # weights on z bring back the whole population's, 0.5.
    rng = np.random.default_rng(7)
    n = 6000
    z, x = rng.normal(size=n), rng.normal(size=n)
    y = 1 + (0.5 + 0.5 * z) * x + rng.normal(size=n)
    retained = rng.random(n) < 1 / (1 + np.exp(-(-0.3 + 1.5 * z)))
    design = np.column_stack([np.ones(n), z])
    weights, converged = rw.stabilised_weights(design, retained, np.ones((1, n)))
    assert converged.all()
    base, kept = np.ones((retained.sum(), 1)), retained
    m = rng.normal(size=n)  # a mediator unrelated to both: the total path is the slope of y on x
    complete = weighted_mediation_paths(base, x[kept], m[kept], y[kept], np.ones((1, kept.sum())))[0, 3]
    weighted = weighted_mediation_paths(base, x[kept], m[kept], y[kept], weights[:, kept])[0, 3]
    assert complete - 0.5 > 0.15
    assert abs(weighted - 0.5) < 0.06


def test_weights_balance_the_retention_predictors(results):
    before, after = results.balance["unweighted"].abs(), results.balance["weighted"].abs()
    assert after.max() < 0.1
    assert after.max() < before.max()
    assert results.n_not_converged < 0.01 * results.n_bootstrap


def test_verdicts_answer_the_four_conclusions_and_the_chapter_cites_every_glue(results):
    found = dropout.verdicts(results)
    assert [v.conclusion for v in found] == ["pain_decline", "depression_interaction", "depression_mediates",
                                              "dose_not"]
    glued = dropout.glued_text(results, found)
    page = open("chapters/sensitivity.md", encoding="utf-8").read()
    cited = set(pd.Series(page.split("`")).loc[lambda s: s.str.startswith("sens_dropout_")])
    assert cited <= set(glued)


def test_a_small_dropout_cell_cannot_be_read_from_its_share_its_slope_or_by_difference(results):
    # Plant a pattern with 3 patients among those with depressive symptoms in a real-mode copy of the results: its
    # count, share and slope must all be hidden, and so must enough other cells that no total gives it back.
    patterns = results.patterns.copy()
    planted = patterns.index[(patterns["depressed"] == 1.0) & (patterns["pattern"] == 0)][0]
    partner = patterns.index[(patterns["depressed"] == 0.0) & (patterns["pattern"] == 0)][0]
    overall = patterns.index[patterns["depressed"].isna() & (patterns["pattern"] == 0)][0]
    patterns.loc[planted, "n_patients"] = 3
    patterns.loc[overall, "n_patients"] = 3 + patterns.loc[partner, "n_patients"]
    real = dataclasses.replace(results, patterns=patterns, mode="real")
    shown = dropout.pattern_table(real)
    assert shown.loc[planted, "n"] == "<5"
    assert shown.loc[planted, "Share of the group"] == "–" and shown.loc[planted, "Slope, points per year (95% CI)"] == "–"
    hidden = shown["n"].isin(["<5", "hidden"])
    group = patterns["depressed"].fillna(-1)
    for linked in (*patterns.groupby(group).groups.values(), *patterns.groupby("pattern").groups.values()):
        assert hidden[linked].sum() != 1, "a lone hidden cell is the total minus the others"
    assert not shown.loc[hidden, "Share of the group"].ne("–").any()
    # the synthetic run prints every cell
    assert dropout.pattern_table(results)["n"].str.isdigit().all()
