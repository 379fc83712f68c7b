# Guards the bookkeeping of the sensitivity chapter: a verdict about a conclusion the paper did not draw, or with an
# outcome outside the three allowed, must be refused; a misspelt setting in the parameters cell must be an error, not
# silently ignored; and the per-conclusion summary must count overturning analyses, not just list them.
import pytest

from okapi.sensitivity.verdicts import (CHECK, CONCLUSIONS, NOT_ASSESSABLE, CONTRADICTED, SUPPORTED, Verdict,
                                        conclusion_standing, conclusion_summary, held_sentence, verdict_table,
                                        with_design_mark, with_power)
from okapi.plan import SensitivitySettings


def test_rejects_a_verdict_on_an_unknown_conclusion_or_outcome():
    with pytest.raises(ValueError, match="unknown conclusion"):
        Verdict("pain_went_up", "x", SUPPORTED, "x")
    with pytest.raises(ValueError, match="outcome"):
        Verdict("pain_decline", "x", "mostly", "x")


def test_rejects_a_misspelt_setting():
    with pytest.raises(ValueError, match="n_imputation"):
        SensitivitySettings.from_parameters({"n_imputation": 5})
    settings = SensitivitySettings.from_parameters({"n_imputations": 5, "tipping_deltas": [0.0, 1.0]})
    assert settings.n_imputations == 5 and settings.tipping_deltas == (0.0, 1.0)


def test_summary_counts_the_analyses_that_overturn_a_conclusion():
    verdicts = [Verdict("pain_decline", "a", SUPPORTED, "s"), Verdict("pain_decline", "b", CONTRADICTED, "s"),
                Verdict("pain_decline", "c", NOT_ASSESSABLE, "s"), Verdict("dose_not", "d", SUPPORTED, "s")]
    summary = conclusion_summary(verdicts)
    assert "supported by 1 of 2" in summary["pain_decline"] and "contradicted by 1 (b)" in summary["pain_decline"]
    assert "not assessable by 1" in summary["pain_decline"]
    assert "supported by 1 of 1 analysis" in summary["dose_not"]
    assert "no analysis here tests it" in summary["three_trajectories"]
    table = verdict_table(list(reversed(verdicts)))
    # grouped by conclusion, in CONCLUSIONS order
    assert list(table["Analysis (kind)"]) == ["c (departure)", "b (departure)", "a (departure)", "d (departure)"]
    assert set(summary) == set(CONCLUSIONS)


def test_a_null_result_without_power_is_not_assessable_not_contradicted():
    null = Verdict("depression_interaction", "x", CONTRADICTED, "no effect seen", null_result=True)
    assert with_power(null, 0.2).outcome == NOT_ASSESSABLE
    assert with_power(null, None).outcome == NOT_ASSESSABLE
    assert with_power(null, 0.8).outcome == CONTRADICTED
    supported_by_a_null = Verdict("dose_not", "x", SUPPORTED, "no dose effect seen", null_result=True)
    assert with_power(supported_by_a_null, 0.1).outcome == NOT_ASSESSABLE
    effect_seen = Verdict("pain_decline", "x", SUPPORTED, "decline seen")
    assert with_power(effect_seen, 0.1).outcome == SUPPORTED


def test_checks_and_answers_decided_by_the_synthetic_design_are_not_counted_as_evidence():
    check = Verdict("pain_decline", "multiple imputation", SUPPORTED, "s", kind=CHECK)
    decided = with_design_mark(Verdict("dose_not", "x", SUPPORTED, "s"), "mediation", synthetic=True)
    assert decided.decided_by_design and not decided.counts_as_evidence
    assert not with_design_mark(Verdict("dose_not", "x", SUPPORTED, "s"), "mediation", synthetic=False).decided_by_design
    summary = conclusion_summary([check, decided])
    assert "1 of 1 checks of the primary estimate agree" in summary["pain_decline"]
    assert "decided by the synthetic cohort's design" in summary["dose_not"]


def test_one_contradiction_outweighs_any_support_and_design_answers_assess_nothing():
    # The front page's abstract counts conclusions supported, contradicted and not assessable: a conclusion with one
    # contradicting analysis among supporting ones is contradicted, and answers the synthetic design decides (or
    # analyses without the power to see the effect, or checks) leave a conclusion not assessable, not supported.
    verdicts = [Verdict("pain_decline", "a", SUPPORTED, "s"), Verdict("pain_decline", "b", CONTRADICTED, "s"),
                Verdict("dose_not", "c", SUPPORTED, "s"),
                with_design_mark(Verdict("anxiety_not", "d", SUPPORTED, "s"), "mediation", synthetic=True),
                Verdict("depression_mediates", "e", NOT_ASSESSABLE, "s"),
                Verdict("three_trajectories", "f", SUPPORTED, "s", kind=CHECK)]
    standing = conclusion_standing(verdicts)
    assert standing == {"pain_decline": CONTRADICTED, "dose_not": SUPPORTED, "anxiety_not": NOT_ASSESSABLE,
                        "depression_interaction": NOT_ASSESSABLE, "depression_mediates": NOT_ASSESSABLE,
                        "three_trajectories": NOT_ASSESSABLE}
    sentence = held_sentence(verdicts)
    assert sentence.startswith(f"of the paper's {len(CONCLUSIONS)} conclusions, 1 supported (no role of the dose), "
                               "1 contradicted (the pain decline) and 4 not assessable")
    assert "1 answer is decided by the synthetic cohort's design" in sentence
    assert "1 result comes from analyses without the power" in sentence
    assert all(conclusion.short for conclusion in CONCLUSIONS.values())
