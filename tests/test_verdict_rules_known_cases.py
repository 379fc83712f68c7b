# Guards the verdict rules (okapi.verdicts.rules) against asymmetric or mis-coded rules: each rule is fed cases whose
# answer is known from its statement (inside / outside the threshold, a P claim's interval and direction), so a rule
# that says one thing and codes another fails here.
import math

import pytest

from okapi.verdicts import rules


def test_published_se_from_the_ci_or_from_the_rounding():
    se, source = rules.published_se("-0.52", "-0.62", "-0.41")
    assert source == "95% CI" and se == pytest.approx(0.21 / (2 * 1.959964), rel=1e-6)
    se, source = rules.published_se("6.8")
    assert source == "rounding" and se == pytest.approx(0.1 / math.sqrt(12))


def test_estimate_rule_uses_both_uncertainties():
    # difference 0.05, SEs 0.02 and 0.02: z = 0.05 / 0.0283 = 1.77 -> reproduced; with SE_rep 0.01: 2.24 -> not
    assert rules.judge_estimate(0.0, 0.02, 0.05, 0.02) == rules.REPRODUCED
    assert rules.judge_estimate(0.0, 0.02, 0.05, 0.01) == rules.NOT_REPRODUCED
    assert rules.judge_estimate(0.0, 0.02, math.nan, 0.01) == rules.NOT_ESTIMABLE


def test_p_claim_intervals_and_direction():
    low, high = rules.published_scores("<.001", -1.0)
    assert high == pytest.approx(-3.2905, abs=1e-3) and low == -math.inf
    low, high = rules.published_scores(".02", 1.0)
    assert (low, high) == pytest.approx((2.2414, 2.4324), abs=1e-3)
    # P < .001 with a negative estimate: a reproduced z of -1.0 is within 2.77 of -3.29; +1.0 (wrong sign) is not
    assert rules.judge_p_claim("<.001", -1.0, 0.3173, -1.0) == rules.REPRODUCED
    assert rules.judge_p_claim("<.001", -1.0, 0.3173, 1.0) == rules.NOT_REPRODUCED
    # a non-significant claim (P = .61) against a very significant reproduction
    assert rules.judge_p_claim(".61", 1.0, 1e-6, 1.0) == rules.NOT_REPRODUCED
    assert rules.judge_p_claim(".61", 1.0, 0.2, 1.0) == rules.REPRODUCED


def test_every_rule_is_stated_in_words():
    assert all(len(rule.text) > 40 for rule in rules.RULES.values())
