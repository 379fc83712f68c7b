# Guards the bookkeeping of the sensitivity chapter: a verdict about a conclusion the paper did not draw, or with an
# outcome outside the three allowed, must be refused; a misspelt setting in the parameters cell must be an error, not
# silently ignored; and the per-conclusion summary must count overturning analyses, not just list them.
import pytest

from okapi.sensitivity.verdicts import (CONCLUSIONS, NOT_ASSESSABLE, NOT_SURVIVED, SURVIVED, Verdict,
                                        conclusion_summary, verdict_table)
from okapi.plan import SensitivitySettings


def test_rejects_a_verdict_on_an_unknown_conclusion_or_outcome():
    with pytest.raises(ValueError, match="unknown conclusion"):
        Verdict("pain_went_up", "x", SURVIVED, "x")
    with pytest.raises(ValueError, match="outcome"):
        Verdict("pain_decline", "x", "mostly", "x")


def test_rejects_a_misspelt_setting():
    with pytest.raises(ValueError, match="n_imputation"):
        SensitivitySettings.from_parameters({"n_imputation": 5})
    settings = SensitivitySettings.from_parameters({"n_imputations": 5, "tipping_deltas": [0.0, 1.0]})
    assert settings.n_imputations == 5 and settings.tipping_deltas == (0.0, 1.0)


def test_summary_counts_the_analyses_that_overturn_a_conclusion():
    verdicts = [Verdict("pain_decline", "a", SURVIVED, "s"), Verdict("pain_decline", "b", NOT_SURVIVED, "s"),
                Verdict("pain_decline", "c", NOT_ASSESSABLE, "s"), Verdict("dose_not", "d", SURVIVED, "s")]
    summary = conclusion_summary(verdicts)
    assert "did not survive 1 of 2" in summary["pain_decline"] and "(b)" in summary["pain_decline"]
    assert "survived the one sensitivity analysis" in summary["dose_not"]
    assert "not assessable" in summary["three_trajectories"]
    table = verdict_table(list(reversed(verdicts)))
    assert list(table["Analysis"]) == ["c", "b", "a", "d"]  # grouped by conclusion, in CONCLUSIONS order
    assert set(summary) == set(CONCLUSIONS)
