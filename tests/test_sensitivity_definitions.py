# Guards the "Defining depression" sensitivity section against mistakes that leave plausible numbers: a cut-off coded
# as >= instead of >, an interaction per year printed as per month, a joint model that does not separate depression
# from anxiety (checked against R lme4 on the cohort), a split that no longer reproduces the depression chapter,
# verdicts that do not follow their stated rules, warnings lost in worker processes, and row-order dependence.
import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest

from okapi.chapters import depression as depression_pain
from okapi.sensitivity import definitions as sd
from okapi.data.loading import load_cohort
from okapi.data.derive import pain_long
from okapi.models.mixed_models import fit_pain_mixed_model
from okapi.chapters.pain import canonical_order
from okapi.paths import REPO_ROOT
from support.rbridge import R_SOURCES, r_reference
from okapi.sensitivity.verdicts import NOT_ASSESSABLE, CONTRADICTED, SUPPORTED
from okapi.plan import LINEAR_GROUP, RANDOM_PART, SensitivitySettings

LMM_SCRIPT = REPO_ROOT / "tests" / "r" / "lmm_reference.R"
SETTINGS = SensitivitySettings(n_bootstrap=200, n_workers=2)


@pytest.fixture(scope="module")
def cohort():
    return load_cohort()


@pytest.fixture(scope="module")
def results(cohort):
    return sd.run_definitions_sensitivity(cohort, SETTINGS)


def test_cutoffs_mean_strictly_above_and_scores_are_centred():
    defs = sd.definitions(SensitivitySettings(hads_strict_cutoff=10))
    frame = pd.DataFrame({"hads_d_baseline": [7.0, 8.0, 10.0, 11.0], "hads_a_baseline": [0.0, 21.0, 7.0, 8.0]})
    coded = sd.add_definition_columns(frame, defs, {"d": 9.0, "a": 9.0})
    assert list(coded["d_paper"]) == [0, 1, 1, 1]  # the paper's split: HADS-D > 7, so 7 is not depressed
    assert list(coded["d_strict"]) == [0, 0, 0, 1]
    assert list(coded["a_paper"]) == [0, 1, 0, 1]
    assert list(coded["d_score"]) == [-2.0, -1.0, 1.0, 2.0]
    assert [d.label for d in defs if d.scale == "a"] == ["HADS-A > 7", "HADS-A > 10", "HADS-A score (per point)"]


def test_paper_split_reproduces_the_depression_chapter(cohort, results):
    # Same model, same patients (every patient with a HADS-D also has a HADS-A in this cohort): same numbers.
    long_df = pain_long(cohort)
    data = canonical_order(long_df.loc[long_df["hads_d_baseline"].notna()])
    data["depressed"] = data["depressed"].astype(bool)
    assert data["patient_id"].nunique() == results.n_patients
    fit = fit_pain_mixed_model(data, LINEAR_GROUP, RANDOM_PART)
    _, chapter = depression_pain.slopes_per_month(fit, "depressed")
    row = sd._row(results.interactions, "d", "paper", sd.ALONE)
    # The chapter fits with statsmodels, this section with okapi.models.lmm_batch: statsmodels' REML optimum stops slightly
    # short (measured 1.6e-6 apart here, about 1e-4 of an SE), so agreement is asked to 1e-3 of an SE.
    tolerance = 1e-3 * (chapter.ci_high - chapter.ci_low) / (2 * 1.96)
    assert row["estimate"] == pytest.approx(chapter.estimate, abs=tolerance)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((chapter.ci_low, chapter.ci_high), abs=tolerance)


@pytest.mark.parametrize("r_source", R_SOURCES)
def test_double_programming_joint_model_matches_lme4_per_month(cohort, results, r_source):
    defs = sd.definitions(SETTINGS)
    long_df = pain_long(cohort)
    long_df = canonical_order(long_df.loc[long_df["hads_d_baseline"].notna() & long_df["hads_a_baseline"].notna()])
    patients = long_df.drop_duplicates("patient_id")
    means = {s: float(patients[c].astype(float).mean()) for s, (c, *_) in sd.SCALES.items()}
    data = sd.add_definition_columns(long_df, defs, means)[["patient_id", "month", "years", "nprs", "d_paper",
                                                             "a_paper", "d_score", "a_score"]]
    spec = pd.DataFrame([
        {"model_id": "paper", "formula": "nprs ~ years * (d_paper + a_paper) + (years | patient_id)",
         "wald_pattern": "", "anova_term": "", "repeats": 1},
        {"model_id": "score", "formula": "nprs ~ years * (d_score + a_score) + (years | patient_id)",
         "wald_pattern": "", "anova_term": "", "repeats": 1},
        {"model_id": "omnibus", "formula": "nprs ~ factor(month) * (d_paper + a_paper) + (years | patient_id)",
         "wald_pattern": "^factor\\(month\\)[0-9]+:a_paper$", "anova_term": "factor(month):a_paper", "repeats": 1}])
    r_out = r_reference(LMM_SCRIPT, {"data": data, "models": spec}, r_source, "definitions_joint_model",
                        packages=["lme4", "lmerTest"], timeout=240)
    fixed = r_out["fixed"].set_index(["model_id", "term"])
    for coding in ("paper", "score"):
        for scale in ("d", "a"):
            ours = sd._row(results.interactions, scale, coding, sd.TOGETHER)
            r_estimate = fixed.loc[(coding, f"years:{scale}_{coding}"), "estimate"] / 12  # lme4 per year
            r_se = fixed.loc[(coding, f"years:{scale}_{coding}"), "se"] / 12
            # What this guards is the coding (a per-year slip is off by a factor 12, a wrong column by far more), so
            # 1e-4 of max(|estimate|, SE): about 1e-5 measured with okapi.models.lmm_batch (statsmodels, whose REML
            # optimum stops 4e-6 log-likelihood units below lme4's on this flat surface, was 1.4e-4 away).
            assert abs(ours["estimate"] - r_estimate) < 1e-4 * max(abs(r_estimate), r_se)
            assert ours["se"] == pytest.approx(r_se, rel=1e-4)
    omnibus = sd._row(results.interactions, "a", "paper", sd.TOGETHER)
    assert omnibus["omnibus_df"] == 12
    assert omnibus["omnibus_chi2"] == pytest.approx(r_out["wald"].set_index("model_id").loc["omnibus", "chi2"],
                                                    rel=5e-3)


def test_joint_models_put_both_scales_in_one_fit(results):
    table = results.interactions
    together = table[table["model"] == sd.TOGETHER]
    assert len(together) == 6 and len(table) == 12
    # Within a coding, the two rows of a joint model come from one fit: same patients, and the estimates differ
    # from the single-scale fits (the scales are correlated).
    for coding in sd.CODINGS:
        alone = sd._row(table, "a", coding, sd.ALONE)["estimate"]
        joint = sd._row(table, "a", coding, sd.TOGETHER)["estimate"]
        assert alone != pytest.approx(joint, rel=1e-3)
    assert 0.3 < results.hads_correlation < 0.95


def _with_interaction(results, scale, coding, model, low, high):
    table = results.interactions.copy()
    where = (table["scale"] == scale) & (table["coding"] == coding) & (table["model"] == model)
    table.loc[where, ["ci_low", "ci_high", "estimate"]] = [low, high, (low + high) / 2]
    return dataclasses.replace(results, interactions=table)


def _with_b(results, scale, coding, low, high):
    roles = results.mediator_roles.copy()
    where = (roles["scale"] == scale) & (roles["coding"] == coding) & (roles["model"] == sd.TOGETHER)
    roles.loc[where, ["b_low", "b_high", "b"]] = [low, high, (low + high) / 2]
    return dataclasses.replace(results, mediator_roles=roles)


def test_verdicts_follow_their_stated_rules(results):
    # R8 is negative: the interaction must exclude zero on the negative side, alone AND with anxiety in the model.
    base = _with_interaction(results, "d", "paper", sd.ALONE, -0.07, -0.02)
    base = _with_interaction(base, "d", "paper", sd.TOGETHER, -0.08, -0.01)
    assert sd.keyed_verdicts(base)["depression_paper"].outcome == SUPPORTED
    wrong_sign = _with_interaction(base, "d", "paper", sd.ALONE, 0.01, 0.05)
    assert sd.keyed_verdicts(wrong_sign)["depression_paper"].outcome == CONTRADICTED
    lost_with_anxiety = _with_interaction(base, "d", "paper", sd.TOGETHER, -0.08, 0.01)
    assert sd.keyed_verdicts(lost_with_anxiety)["depression_paper"].outcome == CONTRADICTED

    anxious = _with_interaction(base, "a", "paper", sd.TOGETHER, 0.005, 0.04)  # either sign overturns
    assert sd.keyed_verdicts(anxious)["anxiety_paper_interaction"].outcome == CONTRADICTED
    quiet = _with_interaction(base, "a", "paper", sd.TOGETHER, -0.03, 0.03)
    assert sd.keyed_verdicts(quiet)["anxiety_paper_interaction"].outcome == SUPPORTED
    neither = _with_interaction(quiet, "d", "paper", sd.TOGETHER, -0.06, 0.01)
    assert sd.keyed_verdicts(neither)["anxiety_paper_interaction"].outcome == NOT_ASSESSABLE

    role = _with_b(_with_b(results, "d", "score", 0.001, 0.01), "a", "score", -0.004, 0.006)
    assert sd.keyed_verdicts(role)["anxiety_score_mediator"].outcome == SUPPORTED
    role = _with_b(role, "a", "score", 0.0005, 0.006)
    assert sd.keyed_verdicts(role)["anxiety_score_mediator"].outcome == CONTRADICTED


def test_every_verdict_sentence_carries_the_numbers_of_its_table(results):
    texts = sd.glued_text(results)
    table = sd.interaction_table(results)
    for key, verdict in sd.keyed_verdicts(results).items():
        assert verdict.sentence in texts[f"sens_definitions_verdict_{key}"]
        assert texts[f"sens_definitions_verdict_{key}"].startswith(verdict.outcome.capitalize())
    paper = table[(table["Definition"] == "HADS-D > 7") & (table["Model"] == "alone")].iloc[0]
    assert paper["Difference in change per month (95% CI)"].split(" (")[0] in texts[
        "sens_definitions_verdict_depression_paper"]
    assert all(name.startswith("sens_definitions_") for name in texts)
    assert all(isinstance(text, str) and text for text in texts.values())


def test_mediator_role_does_not_depend_on_row_order(cohort):
    defs = sd.definitions(SETTINGS)
    rng = np.random.default_rng(5)
    shuffled = dataclasses.replace(cohort, **{name: getattr(cohort, name).sample(frac=1, random_state=rng)
                                              for name in ("patients", "visits", "ketamine")})
    first = sd._mediator_rows(sd.mediation_frame(cohort, defs), defs, 200, 3)
    second = sd._mediator_rows(sd.mediation_frame(shuffled, defs), defs, 200, 3)
    pd.testing.assert_frame_equal(first, second, rtol=1e-10)


def test_worker_warnings_reach_the_chapter(monkeypatch):
    # A fit that does not converge in a worker process must still warn in the notebook (which fails the build).
    caught_fit = sd._fit_pain_model

    def warning_fit(long_df, fixed):
        warnings.warn("mixed model did not converge", RuntimeWarning)
        return caught_fit(long_df, fixed)

    monkeypatch.setattr(sd, "_fit_pain_model", warning_fit)
    rng = np.random.default_rng(1)
    n = 80
    long_df = pd.DataFrame({"patient_id": np.repeat([f"p{i:02d}" for i in range(n)], 5),
                            "month": np.tile([0, 3, 6, 9, 12], n)})
    long_df["years"] = long_df["month"] / 12
    long_df["d_paper"] = np.repeat(rng.integers(0, 2, n), 5).astype(float)
    intercepts, slopes = np.repeat(rng.normal(0, 1.5, n), 5), np.repeat(rng.normal(0, 0.8, n), 5)
    long_df["nprs"] = 6 + intercepts + (slopes - 1) * long_df["years"] + rng.normal(0, 1, 5 * n)
    out = sd._run_fit_task(sd._FitTask(long_df, ("d_paper",), categorical=False))
    assert out["warnings"] == ("mixed model did not converge",)
    with pytest.warns(RuntimeWarning, match="did not converge"):
        sd._reraise([out])
