"""Are the published figures consistent with each other? The standard checks of forensic statistics, on the printed
numbers alone (data/targets.csv), each returning what it found and whether it could have found anything.

Every printed number stands for an interval: "6.8" is any value in [6.75, 6.85). The checks ask whether some values
inside the printed intervals satisfy the arithmetic the figure implies:
- GRIM (Brown & Heathers 2017): a mean of n integer scores is a multiple of 1/n; it can fail only when n < 10^decimals.
- GRIMMER (Anaya 2016): with the mean, the SD of integer scores needs an integer sum of squares of the sum's parity.
- percentages of a known count; P values recomputed from an estimate and its 95% CI (z from the CI's half-width, as
  statcheck recomputes P from a test statistic); the n implied by a correlation and its P;
- a 95% CI printed as estimate (low to high) is symmetric under Wald/t: the estimate must sit within the printed
  rounding of the CI's midpoint, which narrows the interval the estimate can be in; two figures claimed to be one
  quantity must then share some value.
"""

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

Z_975 = stats.norm.ppf(0.975)
CONSISTENT, INCONSISTENT, UNINFORMATIVE = "consistent", "inconsistent", "cannot fail here"


@dataclass(frozen=True)
class Interval:
    low: float
    high: float

    def overlaps(self, other: "Interval") -> bool:
        return self.low <= other.high and other.low <= self.high

    def intersect(self, other: "Interval") -> "Interval | None":
        low, high = max(self.low, other.low), min(self.high, other.high)
        return Interval(low, high) if low <= high else None


def decimals(printed: str) -> int:
    printed = printed.strip().lstrip("<>=").strip()
    return len(printed.split(".")[1]) if "." in printed else 0


def rounding_interval(printed: str) -> Interval:
    """The values that print as `printed` (half a unit of its last digit either side)."""
    value, half = float(printed.lstrip("<>= ").replace("\u2212", "-")), 0.5 * 10.0 ** -decimals(printed)
    return Interval(value - half, value + half)


def p_interval(printed: str) -> Interval:
    """The P values a printed P stands for: "<.001" -> [0, .001], ".02" -> [.015, .025]."""
    text = printed.strip()
    if text.startswith("<"):
        return Interval(0.0, float(text.lstrip("< ")))
    if text.startswith(">"):
        return Interval(float(text.lstrip("> ")), 1.0)
    return rounding_interval(text)


@dataclass(frozen=True)
class Check:
    check: str  # e.g. "GRIM"
    figures: str  # the published figures it reads, as printed
    found: str  # what the arithmetic gives, in words with numbers
    verdict: str  # CONSISTENT, INCONSISTENT or UNINFORMATIVE


def grim(mean: str, n: int) -> Check:
    """Can a mean of n integer scores print as `mean`?"""
    d = decimals(mean)
    interval = rounding_interval(mean)
    totals = range(math.ceil(interval.low * n - 1e-9), math.floor(interval.high * n + 1e-9) + 1)
    possible = [t for t in totals if interval.low <= t / n < interval.high]
    informative = n < 10 ** d
    found = (f"{len(possible)} integer total(s) over n = {n} give a mean printing as {mean}"
             + ("" if informative else f"; with n >= 10^{d} every printed mean is reachable"))
    verdict = UNINFORMATIVE if not informative else (CONSISTENT if possible else INCONSISTENT)
    return Check("GRIM", f"mean {mean}, n = {n}", found, verdict)


def grimmer(mean: str, sd: str, n: int) -> Check:
    """Can n integer scores have a mean printing as `mean` and an SD printing as `sd`? (sum T, sum of squares S:
    SD^2 = (S - T^2 / n) / (n - 1), and S has the parity of T.)"""
    mean_i, sd_i = rounding_interval(mean), rounding_interval(sd)
    totals = [t for t in range(math.ceil(mean_i.low * n - 1e-9), math.floor(mean_i.high * n + 1e-9) + 1)
              if mean_i.low <= t / n < mean_i.high]
    reachable, free = 0, True
    for total in totals:
        low = (n - 1) * max(sd_i.low, 0.0) ** 2 + total ** 2 / n
        high = (n - 1) * sd_i.high ** 2 + total ** 2 / n
        squares = [s for s in range(math.ceil(low - 1e-9), math.floor(high + 1e-9) + 1) if s % 2 == total % 2]
        squares = [s for s in squares if sd_i.low <= math.sqrt(max(s - total ** 2 / n, 0) / (n - 1)) < sd_i.high]
        reachable += bool(squares)
        free &= len(squares) >= 2  # more than one admissible S for every T: the check cannot bite
    verdict = INCONSISTENT if totals and not reachable else (UNINFORMATIVE if free or not totals else CONSISTENT)
    if not totals:
        verdict = INCONSISTENT
    found = f"{reachable} of {len(totals)} possible totals admit an integer sum of squares giving SD {sd}"
    return Check("GRIMMER", f"mean {mean}, SD {sd}, n = {n}", found, verdict)


def percentage(count: int, n: int, printed: str) -> Check:
    exact = 100.0 * count / n
    verdict = CONSISTENT if rounding_interval(printed).low <= exact < rounding_interval(printed).high else INCONSISTENT
    return Check("percentage of a count", f"{count} of {n} = {printed}%", f"{count} / {n} = {exact:.3f}%", verdict)


def ci_estimate_interval(estimate: str, low: str, high: str) -> Interval | None:
    """The values the estimate can take if its printed 95% CI is symmetric around it (Wald or t): within both its own
    rounding and the rounding of the CI's midpoint. None when no value satisfies both."""
    mid_low = (rounding_interval(low).low + rounding_interval(high).low) / 2
    mid_high = (rounding_interval(low).high + rounding_interval(high).high) / 2
    return rounding_interval(estimate).intersect(Interval(mid_low, mid_high))


def ci_symmetry(estimate: str, low: str, high: str) -> Check:
    inside = ci_estimate_interval(estimate, low, high)
    found = ("no value is both the printed estimate and the midpoint of the printed CI" if inside is None else
             f"the estimate lies in [{inside.low:.4g}, {inside.high:.4g}]")
    return Check("symmetric 95% CI", f"{estimate} ({low} to {high})", found,
                 INCONSISTENT if inside is None else CONSISTENT)


def p_from_ci(estimate: str, low: str, high: str, printed_p: str) -> Check:
    """P recomputed from the estimate and the SE its CI implies (SE = half-width / 1.96), over the printed roundings."""
    e, lo, hi = rounding_interval(estimate), rounding_interval(low), rounding_interval(high)
    se = Interval(max((hi.low - lo.high) / (2 * Z_975), 1e-12), (hi.high - lo.low) / (2 * Z_975))
    abs_e = Interval(0.0 if e.low <= 0 <= e.high else min(abs(e.low), abs(e.high)), max(abs(e.low), abs(e.high)))
    z = Interval(abs_e.low / se.high, abs_e.high / se.low)
    p = Interval(2 * stats.norm.sf(z.high), 2 * stats.norm.sf(z.low))
    verdict = CONSISTENT if p.overlaps(p_interval(printed_p)) else INCONSISTENT
    return Check("P from estimate and CI", f"{estimate} ({low} to {high}), P {printed_p}",
                 f"z from {z.low:.2f} to {z.high:.2f}: P from {p.low:.2g} to {p.high:.2g}", verdict)


def n_from_r_and_p(r: str, printed_p: str, n_patients: int) -> tuple[Check, Interval]:
    """The sample sizes at which a correlation printing as `r` has a two-sided P printing as `printed_p` (t test of
    r), and whether the patient count is among them."""
    r_i, p_i = rounding_interval(r), p_interval(printed_p)
    r_abs = Interval(max(min(abs(r_i.low), abs(r_i.high)), 1e-9), max(abs(r_i.low), abs(r_i.high)))
    ns = np.arange(4, 200_001)
    ok = np.zeros(ns.size, dtype=bool)
    for r_value in np.linspace(r_abs.low, r_abs.high, 21):
        t = r_value * np.sqrt((ns - 2) / (1 - r_value ** 2))
        p = 2 * stats.t.sf(t, ns - 2)
        ok |= (p >= p_i.low) & (p <= p_i.high)
    implied = Interval(float(ns[ok].min()), float(ns[ok].max())) if ok.any() else Interval(np.nan, np.nan)
    holds = bool(ok.any()) and implied.low <= n_patients <= implied.high
    found = (f"n from {implied.low:,.0f} to {implied.high:,.0f}" if ok.any() else "no n")
    check = Check("n implied by r and P", f"r = {r}, P = {printed_p}", found + f"; {n_patients} patients "
                  + ("inside" if holds else "outside"), CONSISTENT if holds else INCONSISTENT)
    return check, implied


def one_quantity(first: tuple[str, str, str, str], second: tuple[str, str, str, str]) -> Check:
    """Two figures (label, estimate, CI low, CI high) claimed to be one quantity (up to sign): with symmetric CIs, do
    their possible values share any magnitude?"""
    intervals = []
    for _, estimate, low, high in (first, second):
        inside = ci_estimate_interval(estimate, low, high)
        intervals.append(None if inside is None else Interval(min(abs(inside.low), abs(inside.high)),
                                                              max(abs(inside.low), abs(inside.high))))
    a, b = intervals
    shared = a is not None and b is not None and a.overlaps(b)
    found = (f"|{first[0]}| in [{a.low:.4g}, {a.high:.4g}], |{second[0]}| in [{b.low:.4g}, {b.high:.4g}]"
             if a and b else "a CI is not symmetric around its estimate")
    return Check("one quantity?", f"{first[0]} {first[1]} ({first[2]} to {first[3]}) and {second[0]} {second[1]} "
                 f"({second[2]} to {second[3]})", found, CONSISTENT if shared else INCONSISTENT)


def published_checks() -> list[Check]:
    """Every check above that the printed figures allow (data/targets.csv), in the order of the papers' figures."""
    from okapi.verdicts.ledger import printed_targets  # the printed text of each figure

    t = printed_targets()

    def v(target_id: str) -> str:
        return t.loc[target_id, "value"]

    def ci(target_id: str) -> tuple[str, str, str]:
        return v(target_id), t.loc[target_id, "ci_low"], t.loc[target_id, "ci_high"]

    n_patients = int(v("R1"))
    checks = [percentage(int(v("R3a")), n_patients, v("R3b")), percentage(int(v("R3c")), n_patients, v("R3d"))]
    for target_id in ("R4", "R8", "R11", "R12", "C4"):
        checks.append(ci_symmetry(*ci(target_id)))
    for target_id in ("R4", "R8", "R11", "R12"):
        checks.append(p_from_ci(*ci(target_id), t.loc[target_id, "p_reported"]))
    for mean_id, sd_id, n_id in (("C2a", "C2b", "C2c"), ("C3a", "C3b", "C3c")):
        checks += [grim(v(mean_id), int(v(n_id))), grimmer(v(mean_id), v(sd_id), int(v(n_id)))]
    for target_id in ("R9", "R10"):
        checks.append(n_from_r_and_p(v(target_id), t.loc[target_id, "p_reported"], n_patients)[0])
    checks.append(one_quantity(("R8", *ci("R8")), ("R11", *ci("R11"))))
    return checks


def checks_table(checks: list[Check]) -> "pd.DataFrame":
    import pandas as pd

    return pd.DataFrame([{"Check": c.check, "Published figures": c.figures.replace("-", "\u2212"),
                          "What the arithmetic gives": c.found.replace("-", "\u2212"), "Verdict": c.verdict}
                         for c in checks])
