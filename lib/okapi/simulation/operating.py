"""Operating characteristics of the verdict rules, measured by simulation: for every row of the ledger, how often its
rule says "reproduced" when the truth equals the published value, and how often it says "not reproduced" when the
truth is off by a stated deviation (its power).

Cohorts of the published size are drawn from the book's generator and each is analysed by the chapters' own functions
(okapi.chapters.registry's steps, with fewer bootstrap resamples and random starts: OperatingSettings), giving per row
and per cohort the estimate, its SE and its P. The rule is then applied with the truth moved to where it is asked to
be: each cohort's estimate is shifted by (published value - the estimates' mean), keeping its spread and its own SE,
so "truth = published" holds whether or not the generator hits the figure exactly; the power shifts it further by the
deviation of okapi.verdicts.rules.DEVIATIONS. A P claim is treated the same way on the scale of signed normal scores:
the truth is put at the printed P's score (the edge nearest 0 of an open interval such as "P < .001", the
hardest truth the claim allows) and the alternative at a score of 0 (no effect) for a claimed significant P, or at
an effect seen with 80% power for a claimed non-significant one.

The same cohorts give the number of trajectory groups BIC chooses when the generator has three (the power behind C5's
verdict) and the sampling spread of every figure at n = 329 under the book's own estimators (the methods chapter's
bands). Results are cached under _build/cache, keyed on everything they depend on (library, data, targets, lock,
settings), so the front page, the appendix and `okapi analyze` reuse one run and a change of any input reruns it.
"""

import fcntl
import hashlib
import json
import math
import os
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from okapi import paths
from okapi.chapters import adverse_effects, cohort as cohort_chapter, depression, mediation, pain, trajectories
from okapi.chapters import trajectories_groups
from okapi.data.derive import pain_long, patient_summary
from okapi.plan import OperatingSettings
from okapi.compute.engine import map_in_processes, task_seeds
from okapi.simulation.study import as_cohort
from okapi.synthetic.cohort import simulate_cohort
from okapi.verdicts import rules
from okapi.verdicts.ledger import EXACT_TARGETS, P_SUFFIX, printed_targets, with_p_claims

CACHE_DIR = paths.REPO_ROOT / "_build" / "cache"
REPLICATE_KEY = 7  # spawn key of these cohorts: never the simulation study's
INDIRECT = "_indirect"  # a row that is not a published figure: the mediation model's indirect effect a*b


def replicate_ledger(task: tuple[OperatingSettings, int]) -> dict:
    """One simulated cohort through every chapter's analysis: its ledger rows (with P claims) and chosen K. A
    boundary fit in a simulated cohort (a random-slope variance estimated at 0) is a legitimate draw, kept as it is:
    its warning, which stops a chapter, is not raised here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return _replicate_ledger(*task)


def _replicate_ledger(settings: OperatingSettings, index: int) -> dict:
    (seed,) = task_seeds(settings.seed, REPLICATE_KEY, index)
    cohort = as_cohort(simulate_cohort(settings.n_patients, seed))
    long_df, patients = pain_long(cohort), patient_summary(cohort)
    traj = trajectories.trajectory_analysis_from_data(
        long_df, patients, cohort.mode, n_resamples=settings.trajectory_resamples,
        keys=(trajectories.choose_model(trajectories.MODELS),), n_starts=settings.trajectory_starts,
        n_final=settings.trajectory_final, bootstrap_starts=(settings.trajectory_bootstrap_starts,
                                                             settings.trajectory_bootstrap_final), n_workers=1)
    med = mediation.analyse_mediation(cohort, n_boot=settings.mediation_boot, second_routes=False)
    entries = [
        *cohort_chapter.ledger_entries(cohort_chapter.describe_cohort(cohort, tables=False)),
        *pain.ledger_entries(pain.pain_course_from_data(long_df, cohort.visits, cohort.mode, cohort.n_patients,
                                                        smc_boot=settings.effect_size_boot, sf12_models=False)),
        *depression.ledger_entries(depression.depression_from_long(long_df, cohort.mode, scores=False)),
        *trajectories_groups.ledger_entries(traj),
        *mediation.ledger_entries(med),
        *adverse_effects.ledger_entries(adverse_effects.analyse_adverse_effects(cohort, trend=False)),
    ]
    rows = [{"replicate": index, "id": row.id, "estimate": row.estimate, "se": row.se, "p": row.p_value,
             "verdict": row.verdict} for row in with_p_claims(entries)]
    indirect = med.bootstrap.estimates.loc["indirect"]  # not a published figure: the power of the mediation claim
    rows.append({"replicate": index, "id": INDIRECT, "estimate": float(indirect["estimate"]),
                 "se": float(indirect["perc_high"] - indirect["perc_low"]) / (2 * rules.Z_975), "p": None,
                 "verdict": ""})
    return {"rows": rows, "chosen_k": traj.chosen.chosen_k, "published_k": traj.published_k}


@dataclass
class OperatingCharacteristics:
    settings: OperatingSettings
    replicates: pd.DataFrame  # replicate, id, estimate, se, p, verdict
    table: pd.DataFrame  # index id: p_reproduced_if_true, power, deviation, n_replicates
    chosen_k: list[int]
    published_k: int

    @property
    def statement_power(self) -> dict[str, float]:
        """{statement id: power}: C5, the share of cohorts from the 3-group generator in which BIC chose 3 groups."""
        return {"C5": float(np.mean(np.asarray(self.chosen_k) == self.published_k))}


def _estimate_row(target_id: str, found: pd.DataFrame) -> dict:
    """The rule's rates among the cohorts where the figure is estimable (its verdict is "not estimable" otherwise, a
    third outcome, neither "reproduced" nor "not reproduced"); `p_estimable` says how often that was."""
    target = printed_targets().loc[target_id]
    published = float(target["value"])
    se_pub, _ = rules.published_se(target["value"], target["ci_low"], target["ci_high"])
    size, why = rules.deviation(target_id, published)
    estimate, se = found["estimate"].to_numpy(float), found["se"].to_numpy(float)
    usable = (found["verdict"] != rules.NOT_ESTIMABLE).to_numpy() & np.isfinite(estimate) & np.isfinite(se)
    if usable.sum() < 2:
        return {"p_reproduced_if_true": math.nan, "power": math.nan, "p_estimable": float(np.mean(usable)),
                "deviation": why}
    estimate, se = estimate[usable], se[usable]
    centred = estimate - estimate.mean()
    limit = rules.Z_975 * np.sqrt(se_pub ** 2 + se ** 2)
    return {"p_reproduced_if_true": float(np.mean(np.abs(centred) < limit)),
            "power": float(np.mean(np.abs(centred + size) >= limit)) if math.isfinite(size) else math.nan,
            "p_estimable": float(np.mean(usable)), "deviation": why}


def _p_claim_row(target_id: str, found: pd.DataFrame, estimates: pd.DataFrame) -> dict:
    target = printed_targets().loc[target_id]
    published_sign = math.copysign(1.0, float(target["value"])) if float(target["value"]) else 1.0
    signs = estimates.set_index("replicate")["estimate"].reindex(found["replicate"]).to_numpy(float)
    usable = np.isfinite(found["p"].to_numpy(float)) & np.isfinite(signs)
    if usable.sum() < 2:
        return {"p_reproduced_if_true": math.nan, "power": math.nan, "deviation": ""}
    scores = np.array([rules.signed_score(p, s if s else 1.0)
                       for p, s in zip(found["p"].to_numpy(float)[usable], signs[usable])])
    low, high = rules.published_scores(target["p_reported"], published_sign)
    # an open interval ("P < .001"): its finite edge, the truth nearest 0 the claim allows; else its midpoint
    truth = (low if math.isfinite(low) else high) if math.isinf(low) or math.isinf(high) else (low + high) / 2
    alternative, why = rules.p_claim_alternative(target["p_reported"])

    def share_reproduced(centre: float) -> float:
        shifted = scores - scores.mean() + centre
        distance = np.where((shifted >= low) & (shifted <= high), 0.0,
                            np.minimum(np.abs(shifted - low), np.abs(shifted - high)))
        return float(np.mean(distance < rules.P_CLAIM_THRESHOLD))

    return {"p_reproduced_if_true": share_reproduced(truth),
            "power": 1.0 - share_reproduced(alternative * published_sign), "p_estimable": float(np.mean(usable)),
            "deviation": why}


def summarise(replicates: pd.DataFrame) -> pd.DataFrame:
    """Per ledger row: P(reproduced | truth = published), power against its deviation, and how many cohorts."""
    out = {}
    for row_id, found in replicates.groupby("id", sort=False):
        if row_id == INDIRECT:
            continue
        if row_id.endswith(P_SUFFIX):
            target_id = row_id.removesuffix(P_SUFFIX)
            measured = _p_claim_row(target_id, found, replicates[replicates["id"] == target_id])
        elif row_id in EXACT_TARGETS:
            measured = {"p_reproduced_if_true": float(np.mean(found["verdict"] == rules.REPRODUCED)),
                        "power": math.nan, "p_estimable": 1.0,
                        "deviation": "a design constant: no deviation to detect"}
        else:
            measured = _estimate_row(row_id, found)
        out[row_id] = {**measured, "n_replicates": int(len(found))}
    return pd.DataFrame.from_dict(out, orient="index")


# --- running, with a cache keyed on every input ------------------------------------------------------------------
def inputs_fingerprint(settings: OperatingSettings) -> str:
    digest = hashlib.sha256(repr(asdict(settings)).encode())
    files = sorted(p for p in paths.LIB_DIR.rglob("*.py"))
    files += [paths.DATA_DIR / name for name in (*paths.COHORT_FILES, "targets.csv", "codebook.csv")]
    files.append(paths.LOCK_FILE)
    for path in files:
        digest.update(str(path.relative_to(paths.REPO_ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def run_operating_characteristics(settings: OperatingSettings | None = None, progress=None) -> OperatingCharacteristics:
    """Simulate (no cache): settings.n_replicates cohorts on settings.n_workers workers."""
    settings = settings or OperatingSettings()
    done = map_in_processes(replicate_ledger, [(settings, i) for i in range(settings.n_replicates)],
                            settings.n_workers, progress)
    replicates = pd.DataFrame([row for replicate in done for row in replicate["rows"]])
    return OperatingCharacteristics(settings, replicates, summarise(replicates),
                                    [d["chosen_k"] for d in done], done[0]["published_k"])


def operating_characteristics(settings: OperatingSettings | None = None, progress=None) -> OperatingCharacteristics:
    """The measured characteristics, from the cache when its inputs are unchanged, else simulated and cached."""
    settings = settings or OperatingSettings()
    path = CACHE_DIR / f"operating-{inputs_fingerprint(settings)}.json"
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    # Chapters executed in parallel may all ask at once: the first computes, the others wait for its file.
    with open(CACHE_DIR / "operating.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.exists():
            stored = json.loads(path.read_text(encoding="utf-8"))
            replicates = pd.DataFrame(stored["replicates"])
            return OperatingCharacteristics(settings, replicates, summarise(replicates), stored["chosen_k"],
                                            stored["published_k"])
        result = run_operating_characteristics(settings, progress)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps({"replicates": result.replicates.to_dict(orient="records"),
                                         "chosen_k": result.chosen_k, "published_k": result.published_k}),
                             encoding="utf-8")
        temporary.replace(path)
        return result


def sampling_bands(oc: OperatingCharacteristics, level: float = 0.95) -> pd.DataFrame:
    """Per ledger row (P claims aside): the median and central `level` range of the book's own estimate over the
    simulated cohorts of the published size: what sampling noise alone does to each figure."""
    ids = oc.replicates["id"]
    estimates = oc.replicates[~ids.str.endswith(P_SUFFIX) & (ids != INDIRECT)]
    grouped = estimates.groupby("id", sort=False)["estimate"]
    return pd.DataFrame({"median": grouped.median(), "low": grouped.quantile((1 - level) / 2),
                         "high": grouped.quantile((1 + level) / 2), "n": grouped.count()})


def cached_path(settings: OperatingSettings | None = None) -> Path:
    return CACHE_DIR / f"operating-{inputs_fingerprint(settings or OperatingSettings())}.json"


def _power_to_exclude_zero(oc: OperatingCharacteristics, row_id: str, truth: float | None) -> float:
    """The share of cohorts whose 95% CI of `row_id` excludes 0 when its truth is `truth` (the estimates shifted
    there), or at the generator's own value when `truth` is None."""
    found = oc.replicates[oc.replicates["id"] == row_id]
    estimate, se = found["estimate"].to_numpy(float), found["se"].to_numpy(float)
    keep = np.isfinite(estimate) & np.isfinite(se) & (se > 0)
    estimate, se = estimate[keep], se[keep]
    if truth is not None:
        estimate = estimate - estimate.mean() + truth
    return float(np.mean(np.abs(estimate / se) > rules.Z_975)) if len(estimate) else math.nan


def conclusion_power(oc: OperatingCharacteristics) -> dict[str, float]:
    """For each conclusion of the paper, the simulated power of its primary analysis at the published effect: the
    share of cohorts in which that analysis sees the effect (its CI excludes 0), or, for a conclusion of no effect,
    in which it would see an effect of the size worth seeing. The sensitivity chapter puts it beside every result
    that rests on an effect not seen."""
    value = lambda target_id: float(printed_targets().loc[target_id, "value"])  # noqa: E731
    return {
        "pain_decline": _power_to_exclude_zero(oc, "R4", value("R4")),
        "depression_interaction": _power_to_exclude_zero(oc, "R8", value("R8")),
        # the generator carries the published mediation structure (64.6% mediated): power at its own value
        "depression_mediates": _power_to_exclude_zero(oc, INDIRECT, None),
        "dose_not": _power_to_exclude_zero(oc, "R12", rules.deviation("R12", value("R12"))[0]),
        # an anxiety path of the size of the published depression path, with that path's precision
        "anxiety_not": _power_to_exclude_zero(oc, "R11", value("R11")),
        "three_trajectories": oc.statement_power["C5"],
    }
