# Guards the forensic checks of the published figures (okapi.verdicts.consistency) against the two ways they mislead:
# calling a figure inconsistent that some value inside its printed rounding satisfies, and calling "consistent" a check
# that could not have failed (GRIM at n >= 10^decimals). Each check is fed cases whose answer is known by hand.
import pytest

from okapi.verdicts import consistency as c


def test_grim_fails_only_where_it_can():
    assert c.grim("5.72", 9).verdict == c.INCONSISTENT  # 51/9 = 5.667, 52/9 = 5.778: nothing prints as 5.72
    assert c.grim("5.78", 9).verdict == c.CONSISTENT  # 52/9
    assert c.grim("6.8", 240).verdict == c.UNINFORMATIVE  # n >= 10: every one-decimal mean is reachable


def test_grimmer_needs_an_integer_sum_of_squares():
    # five integer scores with sum 15 (mean 3.0) have a sum of squares of at least 45; an SD printing as 0.10 needs
    # S in [45.01, 45.09]: no integer.
    assert c.grimmer("3.0", "0.10", 5).verdict == c.INCONSISTENT
    assert c.grimmer("3.0", "0.71", 5).verdict in (c.CONSISTENT, c.UNINFORMATIVE)  # 1,3,3,3,5? no: 2,3,3,3,4 gives .71
    assert c.grimmer("6.8", "1.8", 240).verdict == c.UNINFORMATIVE


def test_percentage_of_a_count():
    assert c.percentage(249, 329, "75.7").verdict == c.CONSISTENT
    assert c.percentage(249, 329, "75.6").verdict == c.INCONSISTENT


def test_symmetric_ci_narrows_the_estimate_and_catches_a_shifted_one():
    inside = c.ci_estimate_interval("-0.04", "-0.06", "-0.01")
    assert (inside.low, inside.high) == pytest.approx((-0.04, -0.035))
    assert c.ci_symmetry("0.10", "0.01", "0.03").verdict == c.INCONSISTENT


def test_p_recomputed_from_the_ci():
    assert c.p_from_ci("-0.52", "-0.62", "-0.41", "<.001").verdict == c.CONSISTENT
    # 0.10 (0.00 to 0.20): z = 0.1 / 0.051 = 1.96, P = .05; a printed P < .001 cannot be
    assert c.p_from_ci("0.10", "0.00", "0.20", "<.001").verdict == c.INCONSISTENT


def test_n_implied_by_a_correlation_and_its_p():
    check, implied = c.n_from_r_and_p("-0.06", ".32", 329)
    assert check.verdict == c.CONSISTENT and implied.low < 329 < implied.high
    check, implied = c.n_from_r_and_p("0.01", ".61", 329)
    assert check.verdict == c.INCONSISTENT and implied.low > 1000  # monthly pairs, not patients


def test_two_figures_claimed_to_be_one_quantity():
    assert c.one_quantity(("A", "-0.04", "-0.06", "-0.01"), ("B", "0.03", "0.01", "0.04")).verdict == c.INCONSISTENT
    assert c.one_quantity(("A", "-0.04", "-0.06", "-0.01"), ("B", "0.04", "0.02", "0.06")).verdict == c.CONSISTENT
