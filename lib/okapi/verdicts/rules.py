"""How a published figure is judged against its reproduction. Each rule is stated once, here, in words (`Rule.text`,
which the methods chapter prints) and in code (the function beside it); okapi.simulation.operating measures how often
each says "reproduced" when the truth equals the published value, and its power against a stated deviation.

Both sides are uncertain, so both uncertainties enter:
- a published estimate's SE comes from its 95% CI (half-width / 1.96); without a CI, from its rounding: a value
  printed to d decimals is known to within a uniform error of width 10^-d, SD 10^-d / sqrt(12);
- the reproduction's SE is its own (from its 95% CI when the CI is the estimator's, else stated by the chapter).

Estimate rule: reproduced when |estimate - published| < 1.96 sqrt(SE_pub^2 + SE_rep^2). With the truth equal to the
published value this says "reproduced" at least 95% of the time whatever the two SEs (more when the published value is
not itself a noisy estimate of the truth the reproduction targets); the power against a stated deviation is measured.

P-value rule: a published P is a claim of its own (its test statistic and its direction). Both P values are turned into
signed normal scores, z = sign x Phi^-1(1 - P / 2) (an omnibus chi-square is unsigned); a printed P stands for an
interval of z ("P < .001": |z| > 3.29; "P = .02": |z| in [2.24, 2.43]). Each z is a draw with unit variance around its
expectation, so two studies of one design agree when |z_rep - z_pub| < 1.96 sqrt(2) for some z_pub in the interval.

Counts that are design constants (the number of patients analysed) are compared exactly.
"""

import math
from dataclasses import dataclass

from scipy import stats

from okapi.verdicts.consistency import p_interval, rounding_interval

Z_975 = stats.norm.ppf(0.975)
P_CLAIM_THRESHOLD = Z_975 * math.sqrt(2)
REPRODUCED, NOT_REPRODUCED, NOT_ESTIMABLE = "reproduced", "not reproduced", "not estimable"
# The vocabulary of a conclusion (a published statement, or a conclusion under a sensitivity analysis): "not
# assessable" is what a null result from an analysis without the power to see the effect says; it is not "contradicted".
SUPPORTED, NOT_ASSESSABLE, CONTRADICTED = "supported", "not assessable", "contradicted"


@dataclass(frozen=True)
class Rule:
    key: str
    name: str  # short, for a table
    text: str  # the rule in words


# Each rule's text completes "A figure is reproduced when ...".
ESTIMATE = Rule("estimate", "estimates compatible",
                "the difference between the reproduced and the published estimate is less than 1.96 times the square "
                "root of the sum of their squared standard errors (the published SE from its 95% CI, or from its "
                "rounding when no CI was printed)")
P_CLAIM = Rule("p-claim", "P values compatible",
               "the reproduced test statistic, as a signed normal score z = sign x Phi^-1(1 - P / 2), lies within "
               "1.96 x sqrt(2) of some score the printed P value stands for, in the published direction (each score "
               "is a draw with unit variance, so two studies of one design differ by less than that 95% of the time)")
EXACT = Rule("exact", "design constant equal",
             "it equals the published value; this applies to counts fixed by the design (the number of patients "
             "analysed), not estimated")
RULES = {rule.key: rule for rule in (ESTIMATE, P_CLAIM, EXACT)}


def published_se(value: str, ci_low: str = "", ci_high: str = "") -> tuple[float, str]:
    """The published estimate's SE and where it comes from: its 95% CI, or (no CI) its rounding."""
    if ci_low and ci_high:
        return (float(ci_high) - float(ci_low)) / (2 * Z_975), "95% CI"
    interval = rounding_interval(value)
    return (interval.high - interval.low) / math.sqrt(12), "rounding"


def estimate_z(published: float, se_published: float, estimate: float, se_reproduced: float) -> float:
    return (estimate - published) / math.sqrt(se_published ** 2 + se_reproduced ** 2)


def judge_estimate(published: float, se_published: float, estimate: float, se_reproduced: float) -> str:
    if not (math.isfinite(estimate) and math.isfinite(se_reproduced)):
        return NOT_ESTIMABLE
    z = estimate_z(published, se_published, estimate, se_reproduced)
    return REPRODUCED if abs(z) < Z_975 else NOT_REPRODUCED


def signed_score(p: float, sign: float = 1.0) -> float:
    """A two-sided P as a signed normal score; P = 1 is 0."""
    return math.copysign(stats.norm.isf(min(max(p, 1e-300), 1.0) / 2), sign) if p < 1 else 0.0


def published_scores(printed_p: str, sign: float) -> tuple[float, float]:
    """The signed scores a printed P stands for, as (low, high)."""
    interval = p_interval(printed_p)
    a, b = signed_score(interval.high, sign), signed_score(max(interval.low, 1e-300), sign)
    if interval.low == 0:
        b = math.copysign(math.inf, sign)
    return (min(a, b), max(a, b))


def p_claim_distance(printed_p: str, published_sign: float, reproduced_p: float, reproduced_sign: float) -> float:
    """How far the reproduced score is from the nearest score the printed P stands for."""
    low, high = published_scores(printed_p, published_sign)
    z = signed_score(reproduced_p, reproduced_sign)
    return 0.0 if low <= z <= high else min(abs(z - low), abs(z - high))


def judge_p_claim(printed_p: str, published_sign: float, reproduced_p: float, reproduced_sign: float) -> str:
    if reproduced_p is None or not math.isfinite(reproduced_p):
        return NOT_ESTIMABLE
    distance = p_claim_distance(printed_p, published_sign, reproduced_p, reproduced_sign)
    return REPRODUCED if distance < P_CLAIM_THRESHOLD else NOT_REPRODUCED


def judge_exact(published: float, estimate: float) -> str:
    return REPRODUCED if estimate == published else NOT_REPRODUCED


# --- The deviation each rule should detect (its power is measured against it) -----------------------------------------
@dataclass(frozen=True)
class Deviation:
    size: float  # in the figure's own unit, added to the truth
    reason: str


def _each(ids: str, size: float, reason: str) -> dict[str, Deviation]:
    return {target_id: Deviation(size, reason) for target_id in ids.split()}


DEVIATIONS: dict[str, Deviation] = {
    **_each("R2a", 3.0, "3 years of mean age: a different population"),
    **_each("R2b", 2.0, "2 years of age SD"),
    **_each("R3b R3d", 5.0, "5 percentage points of a share"),
    **_each("R3a R3c C2c C3c C7a C7b", 0.1, "10% of the published count"),
    **_each("R5a R5c R6a R6c", 3.0, "3 points of an SF-12 summary score, about its minimal important difference"),
    **_each("R5b R5d R6b R6d", 2.0, "2 points of an SF-12 SD"),
    **_each("C2a C3a", 0.5, "half an NPRS point, half the usual minimal important change"),
    **_each("C2b C3b", 0.3, "0.3 NPRS points of an SD"),
    **_each("R4 C4", 0.2, "a standardised change of 0.2, Cohen's small effect"),
    **_each("R8", 0.04, "an interaction of the published size (a truth of 0 when it is the published -0.04)"),
    **_each("R9 R10", 0.15, "a correlation 0.15 away"),
    **_each("R11", 0.03, "a path of the published size (a truth of 0)"),
    **_each("R12", 0.01, "0.01 NPRS points a month per gram, the published CI's half-width"),
    **_each("R13", 50.0, "50 percentage points of the share mediated"),
    **_each("C5a C5b C5c", 10.0, "10 percentage points of a group's share"),
}
RELATIVE = {"R3a", "R3c", "C2c", "C3c", "C7a", "C7b"}  # deviations given as a fraction of the published value
P_CLAIM_MISS_RATE = 0.2  # a claimed non-significant P is tested against an effect seen with 1 - this power
P_CLAIM_EFFECT = stats.norm.isf(0.025) + stats.norm.isf(P_CLAIM_MISS_RATE)  # that effect's score at two-sided 5%
P_CLAIM_POWER_TEXT = f"{1 - P_CLAIM_MISS_RATE:.0%}"


def deviation(target_id: str, published: float) -> tuple[float, str]:
    """The deviation (in the figure's unit) against which a rule's power is measured, and why that size."""
    found = DEVIATIONS.get(target_id)
    if found is None:
        return math.nan, ""
    size = found.size * abs(published) if target_id in RELATIVE else found.size
    return size, found.reason


def p_claim_alternative(printed_p: str) -> tuple[float, str]:
    """The expected signed score a P claim's power is measured against: no effect (score 0) for a claimed
    significant result, an effect seen with P_CLAIM_POWER_TEXT power for a claimed non-significant one."""
    if p_interval(printed_p).high <= 0.05:
        return 0.0, "no effect (a truth of 0)"
    return P_CLAIM_EFFECT, f"an effect a study of this size sees with {P_CLAIM_POWER_TEXT} power"
