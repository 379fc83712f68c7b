"""Which reading of the published mediation model do the published figures themselves favour?

The paper did not publish how "pain diminution" was defined, which variable played which role, or on which unit
(patients, monthly scores, pairs of calls) the correlations R9 and R10 were computed. Each Reading below is one
plausible answer; for each, the book computes on the cohort the quantities the published figures constrain, and
checks the published figures against them:

- unit of R9 / R10: a published r with its P implies a sample size (okapi.verdicts.consistency.n_from_r_and_p); the
  reading's n for that correlation must lie inside it;
- precision of R11: the SE the rounded published 95% CI allows must lie within a factor READING_SE_FACTOR of the SE
  the reading achieves here (the cohort's variances are calibrated, the real ones are not known exactly). R12's
  precision is reported but not judged: the paper did not publish the dose unit, and the SE of a per-unit
  coefficient scales with it;
- R13 arithmetic: with a = R10 x SD(M) / SD(X) and b = R11, can a share of 64.6% come out? Where R9 is computed on
  the mediation model's own unit it is the total effect c (c = R9 x SD(Y) / SD(X)) and the share is a b / c; otherwise
  c = a b + c' with c' = R12. Every published number may take any value that prints as it;
- R8 = R11: where the reading makes them one quantity (the same split, the same diminution per month), the published
  check of okapi.verdicts.consistency.one_quantity applies.

The joint fit of a reading is the share of its applicable checks that hold. The primary reading (okapi.plan) is the
one with the highest fit; a test keeps the plan and the search in agreement on the committed cohort.
"""

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from okapi.data.derive import dose_by_month, monthly_pairs, pain_long, patient_summary
from okapi.data.loading import Cohort
from okapi.chapters.mediation import mediation_dataset, pearson_correlation
from okapi.verdicts.consistency import CONSISTENT, Interval, n_from_r_and_p, one_quantity, rounding_interval
from okapi.verdicts.ledger import printed_targets
from okapi.verdicts.rules import REPRODUCED, Z_975, judge_p_claim
from okapi.models.lmm_batch import fit_random_slope_model
from okapi.models.mixed_models import linear_combination
from okapi.plan import HADS_D_CUTOFF, PER_MONTH, READING_SE_FACTOR

MET, NOT_MET, NOT_APPLICABLE = "met", "not met", "not applicable"
CHECKS = ("R9 unit", "R10 unit", "R11 precision", "R12 precision", "R13 arithmetic", "R8 = R11")


@dataclass(frozen=True)
class Reading:
    key: str
    label: str
    exposure: str  # X, "ketamine dose"
    mediator: str  # M, "depression"
    outcome: str  # Y, "pain diminution"
    r9_unit: str  # what R9 and R10 are computed over
    r9_is_total: bool  # R9 is computed on the mediation model's own unit (then it is the total effect c)
    r8_is_r11: bool  # R8 and R11 are one quantity under this reading


READINGS = (
    Reading("A", "patient slopes", "one-year cumulative dose (g)", "HADS-D > 7 at inclusion",
            "minus the patient's NPRS slope per month", "patients", True, True),
    Reading("F", "patient slopes, R9 on pairs of calls", "one-year cumulative dose (g)", "HADS-D > 7 at inclusion",
            "minus the patient's NPRS slope per month", "R9: pairs of consecutive answered calls; R10: patients",
            False, True),
    Reading("C", "pairs of calls throughout", "dose received between two calls (g)", "HADS-D > 7 at inclusion",
            "NPRS drop between two consecutive calls", "pairs of consecutive answered calls", True, False),
    Reading("B", "monthly scores, multilevel", "dose received to date (g)", "HADS-D > 7 at that month (HADS-A "
            "beside it)", "minus the monthly NPRS, adjusted for month", "monthly scores", True, False),
    Reading("D", "change in HADS-D as mediator", "one-year cumulative dose (g)", "change in HADS-D, inclusion to "
            "last questionnaire (points)", "minus the patient's NPRS slope per month", "patients", True, False),
)


@dataclass(frozen=True)
class ReadingFigures:
    """What a reading gives on this cohort: n of R9 and R10, SEs of b (R11) and c' (R12), and the SDs that turn
    correlations into slopes."""
    reading: Reading
    n_r9: int
    n_r10: int
    b: float
    se_b: float
    c_prime: float
    se_c_prime: float
    sd_x: float
    sd_m: float
    sd_y: float


def _ols(y: np.ndarray, columns: list[np.ndarray], cluster: np.ndarray | None = None):
    """OLS coefficients and SEs (classical, or cluster-robust by patient with the usual small-sample factor)."""
    x = np.column_stack([np.ones_like(y)] + columns)
    xtx_inv = np.linalg.inv(x.T @ x)
    beta = xtx_inv @ x.T @ y
    residual = y - x @ beta
    n, k = x.shape
    if cluster is None:
        covariance = xtx_inv * (residual @ residual / (n - k))
    else:
        codes, groups = np.unique(cluster, return_inverse=True)
        scores = np.zeros((codes.size, k))
        np.add.at(scores, groups, x * residual[:, None])
        g = codes.size
        covariance = xtx_inv @ (scores.T @ scores) @ xtx_inv * (g / (g - 1)) * ((n - 1) / (n - k))
    return beta, np.sqrt(np.diag(covariance))


def _patient_level(cohort: Cohort, reading: Reading, frame: pd.DataFrame, mediator: np.ndarray) -> ReadingFigures:
    used = frame["diminution_per_month"].notna().to_numpy() & ~np.isnan(mediator)
    x, m, y = frame["dose_g"].to_numpy()[used], mediator[used], frame["diminution_per_month"].to_numpy()[used]
    beta, se = _ols(y, [x, m])
    n_r10 = pearson_correlation(frame["dose_g"], mediator).n
    if reading.r9_is_total:
        n_r9 = pearson_correlation(frame["dose_g"], frame["diminution_per_month"]).n
    else:
        pairs = monthly_pairs(cohort)
        n_r9 = pearson_correlation(pairs["dose_g"], pairs["diminution"]).n
    return ReadingFigures(reading, n_r9, n_r10, beta[2], se[2], beta[1], se[1], x.std(ddof=1), m.std(ddof=1),
                          y.std(ddof=1))


def _hads_change(cohort: Cohort, patient_ids: pd.Series) -> np.ndarray:
    """HADS-D at the last questionnaire after inclusion minus HADS-D at inclusion (NaN without both)."""
    hads = cohort.visits.loc[cohort.visits["hads_d"].notna(), ["patient_id", "month", "hads_d"]]
    hads = hads.sort_values(["patient_id", "month"])
    baseline = hads[hads["month"] == 0].set_index("patient_id")["hads_d"]
    last = hads[hads["month"] > 0].groupby("patient_id")["hads_d"].last()
    change = (last - baseline).astype(float)
    return patient_ids.map(change).to_numpy(dtype=float)


def _pairs(cohort: Cohort, reading: Reading) -> ReadingFigures:
    pairs = monthly_pairs(cohort)
    summary = patient_summary(cohort).set_index("patient_id")
    hads = pairs["patient_id"].map(summary["hads_d_baseline"]).to_numpy(dtype=float)
    depressed = np.where(np.isnan(hads), np.nan, (hads > HADS_D_CUTOFF).astype(float))
    used = ~np.isnan(depressed)
    x, m, y = pairs["dose_g"].to_numpy()[used], depressed[used], pairs["diminution"].to_numpy(dtype=float)[used]
    beta, se = _ols(y, [x, m], cluster=pairs["patient_id"].to_numpy()[used])
    return ReadingFigures(reading, pearson_correlation(pairs["dose_g"], pairs["diminution"]).n,
                          pearson_correlation(pairs["dose_g"], hads).n, beta[2], se[2], beta[1], se[1],
                          x.std(ddof=1), m.std(ddof=1), y.std(ddof=1))


def _monthly_scores(cohort: Cohort, reading: Reading) -> ReadingFigures:
    ids = cohort.patients["patient_id"].to_numpy()
    to_date = pd.DataFrame(np.cumsum(dose_by_month(cohort), axis=1), index=ids).stack()
    visits = cohort.visits.set_index(["patient_id", "month"])
    dose = to_date.reindex(visits.index).to_numpy(dtype=float)
    nprs, hads_d, hads_a = (visits[c].to_numpy(dtype=float, na_value=np.nan) for c in ("nprs", "hads_d", "hads_a"))
    month = visits.index.get_level_values("month").to_numpy(dtype=float)
    patient = visits.index.get_level_values("patient_id").to_numpy()
    used = ~(np.isnan(nprs) | np.isnan(hads_d) | np.isnan(hads_a))
    depressed, anxious = (hads_d > HADS_D_CUTOFF).astype(float), (hads_a > HADS_D_CUTOFF).astype(float)
    beta, se = _ols(-nprs[used], [dose[used], depressed[used], anxious[used], month[used]], cluster=patient[used])
    return ReadingFigures(reading, pearson_correlation(dose, -nprs).n, pearson_correlation(dose, hads_d).n,
                          beta[2], se[2], beta[1], se[1], dose[used].std(ddof=1), depressed[used].std(ddof=1),
                          nprs[used].std(ddof=1))


def reading_figures(cohort: Cohort) -> list[ReadingFigures]:
    frame, _ = mediation_dataset(cohort)
    depressed = frame["depressed"].to_numpy(dtype=float)
    found = []
    for reading in READINGS:
        if reading.key in ("A", "F"):
            found.append(_patient_level(cohort, reading, frame, depressed))
        elif reading.key == "D":
            found.append(_patient_level(cohort, reading, frame, _hads_change(cohort, frame["patient_id"])))
        elif reading.key == "C":
            found.append(_pairs(cohort, reading))
        else:
            found.append(_monthly_scores(cohort, reading))
    return found


# --- the checks -----------------------------------------------------------------------------------------------------
def published_se_range(target_id: str) -> Interval:
    """The SEs a printed 95% CI allows: each limit may be anywhere that prints as it."""
    row = printed_targets().loc[target_id]
    low, high = rounding_interval(row["ci_low"]), rounding_interval(row["ci_high"])
    return Interval((high.low - low.high) / (2 * Z_975), (high.high - low.low) / (2 * Z_975))


@lru_cache(maxsize=None)
def implied_n(target_id: str) -> Interval:
    """The sample sizes a printed r with its printed P allows (the same for every reading: computed once)."""
    row = printed_targets().loc[target_id]
    return n_from_r_and_p(row["value"], row["p_reported"], 0)[1]


def _unit_check(target_id: str, n: int) -> tuple[str, str]:
    implied = implied_n(target_id)
    holds = implied.low <= n <= implied.high
    return (MET if holds else NOT_MET), f"n = {n:,} ({'inside' if holds else 'outside'} {implied.low:,.0f} to " \
                                        f"{implied.high:,.0f})"


def _precision_check(target_id: str, se: float) -> tuple[str, str]:
    allowed = published_se_range(target_id)
    holds = allowed.overlaps(Interval(se / READING_SE_FACTOR, se * READING_SE_FACTOR))
    return (MET if holds else NOT_MET), f"SE {se:.4f} here; published CI allows {allowed.low:.4f} to {allowed.high:.4f}"


def _corners(*intervals: Interval) -> np.ndarray:
    grids = np.meshgrid(*[np.array([i.low, i.high]) for i in intervals], indexing="ij")
    return np.stack([g.ravel() for g in grids])


def share_range(figures: ReadingFigures) -> Interval:
    """The proportions mediated (%) the printed R9-R12 allow under the reading, as an interval of what is reachable:
    a b / c with c from R9 where R9 is the total effect; else the c' that 64.6% needs, compared with R12."""
    t = printed_targets()
    r9, r10, b = (rounding_interval(t.loc[k, "value"]) for k in ("R9", "R10", "R11"))
    if figures.reading.r9_is_total:
        r9_c, r10_c, b_c = _corners(r9, r10, b)
        shares = 100 * r10_c * b_c * figures.sd_m / (r9_c * figures.sd_y)
        return Interval(float(shares.min()), float(shares.max()))
    c_prime = rounding_interval(t.loc["R12", "value"])
    r10_c, b_c = _corners(r10, b)
    ab = r10_c * b_c * figures.sd_m / figures.sd_x
    # a b / (a b + c') over c' in its printed interval: unbounded when a b + c' can be 0, else monotone in c'
    totals = np.concatenate([ab + c_prime.low, ab + c_prime.high])
    if totals.min() <= 0 <= totals.max():
        return Interval(-np.inf, np.inf)
    shares = 100 * np.concatenate([ab, ab]) / totals
    return Interval(float(shares.min()), float(shares.max()))


def _share_check(figures: ReadingFigures) -> tuple[str, str]:
    published = rounding_interval(printed_targets().loc["R13", "value"])
    reachable = share_range(figures)
    holds = reachable.overlaps(published)
    shown = ("any share" if not np.isfinite(reachable.low) else
             f"shares from {reachable.low:.1f}% to {reachable.high:.1f}%")
    return (MET if holds else NOT_MET), shown + " reachable"


def _one_quantity_check(reading: Reading) -> tuple[str, str]:
    if not reading.r8_is_r11:
        return NOT_APPLICABLE, "R8 and R11 are different quantities here"
    t = printed_targets()
    check = one_quantity(("R8", *t.loc["R8", ["value", "ci_low", "ci_high"]]),
                         ("R11", *t.loc["R11", ["value", "ci_low", "ci_high"]]))
    return (MET if check.verdict == CONSISTENT else NOT_MET), check.found


def judge(figures: ReadingFigures) -> dict[str, tuple[str, str]]:
    """{check: (outcome, what was found)} for one reading, in CHECKS order."""
    return {"R9 unit": _unit_check("R9", figures.n_r9), "R10 unit": _unit_check("R10", figures.n_r10),
            "R11 precision": _precision_check("R11", figures.se_b),
            "R12 precision": (NOT_APPLICABLE, f"SE {figures.se_c_prime:.4f} per gram here; the paper did not publish "
                                              "the dose unit, and the SE scales with it"),
            "R13 arithmetic": _share_check(figures), "R8 = R11": _one_quantity_check(figures.reading)}


@dataclass(frozen=True)
class ReadingsSearch:
    figures: list[ReadingFigures]
    outcomes: pd.DataFrame  # index reading key, columns CHECKS: MET / NOT_MET / NOT_APPLICABLE
    found: pd.DataFrame  # same shape: what each check found
    fit: pd.Series  # share of applicable checks met, by reading key

    @property
    def best(self) -> str:
        """The reading with the highest joint fit (ties: the first in READINGS order)."""
        return str(self.fit.idxmax())


def search_readings(cohort: Cohort) -> ReadingsSearch:
    figures = reading_figures(cohort)
    judged = {f.reading.key: judge(f) for f in figures}
    outcomes = pd.DataFrame({k: {c: v[0] for c, v in checks.items()} for k, checks in judged.items()}).T[list(CHECKS)]
    found = pd.DataFrame({k: {c: v[1] for c, v in checks.items()} for k, checks in judged.items()}).T[list(CHECKS)]
    applicable = outcomes != NOT_APPLICABLE
    fit = (outcomes == MET).sum(axis=1) / applicable.sum(axis=1)
    return ReadingsSearch(figures, outcomes, found, fit)



# --- R8: which time unit and which split? ---------------------------------------------------------------------------
R8_SPLITS = (("HADS-D > 7", "split", 7), ("HADS-D > 10", "split", 10), ("HADS-D per point", "points", None))
R8_TIME_UNITS = (("per month", PER_MONTH), ("per year", 1.0))


def r8_codings(cohort: Cohort) -> pd.DataFrame:
    """The time x depression coefficient of the pain mixed model (nprs ~ years * depression, random intercept and
    slope) under each time unit and each coding of depression, with its SE, the precision check against the SE R8's
    printed CI allows, and its Wald P judged against R8's printed P by the book's P rule (the paper's P is an omnibus
    test over months; the single interaction is its closest analogue). The estimate is not judged: the size of the
    >7 per-month coefficient is what the generator was calibrated to, and the others follow from it. The P of a
    coefficient does not depend on the time unit; its SE does."""
    long = pain_long(cohort)
    long = long[long["hads_d_baseline"].notna()].copy()
    hads = long["hads_d_baseline"].to_numpy(dtype=float)
    allowed = published_se_range("R8")
    printed_p = printed_targets().loc["R8", "p_reported"]
    rows = []
    for split_label, kind, cutoff in R8_SPLITS:
        long["depression"] = (hads > cutoff).astype(float) if kind == "split" else hads
        fit = fit_random_slope_model(long, "nprs ~ years * depression", warn=False)
        for unit_label, per_year in R8_TIME_UNITS:
            combination = linear_combination(fit, {"years:depression": per_year})
            holds = allowed.overlaps(Interval(combination.se / READING_SE_FACTOR, combination.se * READING_SE_FACTOR))
            p_claim = judge_p_claim(printed_p, -1.0, combination.p, np.sign(combination.estimate))
            rows.append({"depression": split_label, "time unit": unit_label, "estimate": combination.estimate,
                         "se": combination.se, "published_se_low": allowed.low, "published_se_high": allowed.high,
                         "precision": MET if holds else NOT_MET, "p": combination.p,
                         "p_claim": MET if p_claim == REPRODUCED else NOT_MET})
    return pd.DataFrame(rows)
