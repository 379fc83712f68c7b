"""Who is in each trajectory group, and the companion paper's statements about the groups judged as stated.

- C5 (number of groups): the primary model's BIC-chosen K against the published 3. Where the simulation of the book's
  own generator (3 groups) shows that the design recovers 3 groups less often than not, a different K is "not
  assessable", not a contradiction: the power is passed in by okapi.simulation.operating.
- C5a-c (shares): the three-group solution's shares, each by the estimate rule of okapi.verdicts.rules with the
  patient-bootstrap SE, whatever K was chosen.
- C5 "mostly" statements and C6: comparisons of the mild (lowest pain) and severe (highest) groups of the three-group
  solution, as the chapter states them, each with a patient-bootstrap 95% CI of the difference severe - mild (modal
  assignment held fixed): it holds when the CI lies on the stated side of 0, does not hold when it lies on the other
  side, and is undecided when it includes 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from okapi.book.report import fmt_ci, fmt_number
from okapi.book.tables import PAIN_TYPE_LABELS, Row, characteristics_table
from okapi.chapters.trajectories import (CHAPTER, GROUP_NAMES, TrajectoryResults, published_shares)
from okapi.data.loading import REAL
from okapi.data.privacy import MIN_CELL, is_small_count
from okapi.models.trajectories import TrajectoryFit, posterior_class_table
from okapi.plan import CI_LEVEL, HADS_D_CUTOFF, TRAJECTORY_COMPARISON_BOOTSTRAP, TRAJECTORY_COMPARISON_SEED
from okapi.verdicts.ledger import LedgerEntry, PublishedStatement, entry
from okapi.verdicts.rules import CONTRADICTED, NOT_ASSESSABLE, SUPPORTED

HOLDS, DOES_NOT_HOLD, UNDECIDED = "holds", "does not hold", "undecided (95% CI includes 0)"
MAJORITY = 0.5  # below this simulated power, a K other than 3 cannot count against the published 3 groups


def class_labels(n_classes: int, published_k: int) -> dict[int, str]:
    """'Class 1: mild' ... when K is the published number of groups (matched by pain level), else 'Class 1'."""
    if n_classes == published_k == len(GROUP_NAMES):
        return {k + 1: f"Class {k + 1}: {GROUP_NAMES[k]}" for k in range(n_classes)}
    return {k + 1: f"Class {k + 1}" for k in range(n_classes)}


def patients_by_class(results: TrajectoryResults, fit: TrajectoryFit) -> pd.DataFrame:
    """patient_summary of the classified patients with their modal class and its posterior probability."""
    classes = posterior_class_table(fit)[["patient_id", "trajectory_class", "posterior_probability"]]
    return results.patients.merge(classes, on="patient_id", how="inner", validate="one_to_one")


def observed_class_means(results: TrajectoryResults, fit: TrajectoryFit) -> pd.DataFrame:
    """Observed mean NPRS per month among the patients assigned to each class (cells of fewer than MIN_CELL patients
    lose their mean in real-data mode)."""
    classes = posterior_class_table(fit)[["patient_id", "trajectory_class"]]
    long = results.long.merge(classes, on="patient_id", how="inner", validate="many_to_one")
    table = (long.groupby(["trajectory_class", "month"], sort=True)["nprs"].agg(n="size", mean="mean")
             .reset_index())
    if results.mode == REAL:
        small = table["n"].map(is_small_count).astype(bool)
        table["n"] = table["n"].astype(float)  # the figure sizes points by n: a small cell loses it too
        table.loc[small, ["n", "mean"]] = np.nan
    return table


CHARACTERISTIC_ROWS = [
    Row("Posterior probability of the assigned class", "posterior_probability", "mean_sd", digits=2),
    *[Row(label, "pain_type", f"level:{level}") for level, label in PAIN_TYPE_LABELS.items()],
    Row("Pain at inclusion (NPRS, 0-10)", "nprs_baseline", "mean_sd"),
    Row("Pain at month 12 (NPRS, 0-10)", "nprs_month12", "mean_sd"),
    Row("HADS depression (0-21)", "hads_d_baseline", "mean_sd"),
    Row(f"HADS-D above {HADS_D_CUTOFF}", "depressed", "count"),
    Row("HADS anxiety (0-21)", "hads_a_baseline", "mean_sd"),
    Row("SF-12 physical component", "sf12_pcs_baseline", "mean_sd"),
    Row("SF-12 mental component", "sf12_mcs_baseline", "mean_sd"),
    Row("Cumulative ketamine dose over 1 year, mg", "cumulative_dose_mg", "median_iqr", digits=0),
]


def class_characteristics(results: TrajectoryResults, fit: TrajectoryFit) -> pd.DataFrame:
    """Characteristics by modal class, with the model-estimated share of each class as the first row."""
    assigned = patients_by_class(results, fit)
    table = characteristics_table(assigned, CHARACTERISTIC_ROWS, by="trajectory_class",
                                  group_labels=class_labels(fit.n_classes, results.published_k),
                                  min_cell=MIN_CELL if results.mode == REAL else None)
    share = ["Model-estimated class share, %", "100.0",
             *[fmt_number(100 * p, 1) for p in fit.class_probabilities], ""]
    return pd.concat([pd.DataFrame([share], columns=table.columns), table], ignore_index=True)


# --- the statements, as stated ------------------------------------------------------------------------------------
# (statement, how it is read, what is compared, the sign severe - mild must have). A pain type compares shares.
COMPARISONS = (
    ("Neuropathic pain less frequent in the severe group (C6, opposite courses)",
     "share with neuropathic pain, severe minus mild, below 0", "type:neuropathic", -1),
    ("Fibromyalgia more frequent in the severe group (C6, opposite courses)",
     "share with fibromyalgia, severe minus mild, above 0", "type:fibromyalgia", +1),
    ("Severe group has more depression (C6)", "mean HADS-D at inclusion, severe minus mild, above 0",
     "hads_d_baseline", +1),
    ("Severe group has more anxiety (C6)", "mean HADS-A at inclusion, severe minus mild, above 0",
     "hads_a_baseline", +1),
    ("Severe group has poorer physical quality of life (C6)", "mean SF-12 PCS at inclusion, severe minus mild, below 0",
     "sf12_pcs_baseline", -1),
    ("Severe group has poorer mental quality of life (C6)", "mean SF-12 MCS at inclusion, severe minus mild, below 0",
     "sf12_mcs_baseline", -1),
)


def _values(assigned: pd.DataFrame, what: str) -> np.ndarray:
    if what.startswith("type:"):
        typed = assigned["pain_type"]
        return np.where(typed.isna(), np.nan, (typed == what.split(":", 1)[1]).astype(float))
    return assigned[what].astype(float).to_numpy()


def class_comparisons(results: TrajectoryResults, fit: TrajectoryFit,
                      n_boot: int = TRAJECTORY_COMPARISON_BOOTSTRAP,
                      seed: int = TRAJECTORY_COMPARISON_SEED) -> pd.DataFrame:
    """Each statement's difference severe - mild with its patient-bootstrap percentile 95% CI, and whether it holds."""
    assigned = patients_by_class(results, fit)
    groups = assigned["trajectory_class"].to_numpy()
    mild, severe = 1, fit.n_classes
    rows_of = {cls: np.flatnonzero(groups == cls) for cls in (mild, severe)}
    rng = np.random.default_rng(seed)
    draws = {cls: rng.integers(0, len(rows), size=(n_boot, len(rows))) for cls, rows in rows_of.items()}
    out = []
    for statement, reading, what, sign in COMPARISONS:
        values = _values(assigned, what)
        per_class = {cls: values[rows] for cls, rows in rows_of.items()}
        counts = {cls: int(np.isfinite(v).sum()) for cls, v in per_class.items()}
        # A share of a pain type rests on the count with that type and the count without it, a mean on the count.
        shown_counts = list(counts.values()) + ([int(np.nansum(v)) for v in per_class.values()]
                                                + [counts[c] - int(np.nansum(v)) for c, v in per_class.items()]
                                                if what.startswith("type:") else [])
        hidden = results.mode == REAL and any(is_small_count(n) for n in shown_counts)
        if fit.n_classes < 2 or min(counts.values()) < 2:
            out.append((statement, reading, "-", NOT_ASSESSABLE))
            continue
        difference = np.nanmean(per_class[severe]) - np.nanmean(per_class[mild])
        boot = (np.nanmean(per_class[severe][draws[severe]], axis=1)
                - np.nanmean(per_class[mild][draws[mild]], axis=1))
        low, high = np.nanquantile(boot, [(1 - CI_LEVEL) / 2, (1 + CI_LEVEL) / 2])
        verdict = (HOLDS if sign * low > 0 and sign * high > 0 else
                   DOES_NOT_HOLD if sign * low < 0 and sign * high < 0 else UNDECIDED)
        scale, digits = (100.0, 1) if what.startswith("type:") else (1.0, 1)
        shown = (f"<{MIN_CELL} patients in a group" if hidden else
                 f"{fmt_number(scale * difference, digits)} ({fmt_ci(scale * low, scale * high, digits)})")
        out.append((statement, reading, shown, verdict))
    return pd.DataFrame(out, columns=["Statement", "Read here as", "Severe minus mild (95% CI)", "Verdict"])


def mostly_checks(results: TrajectoryResults, fit: TrajectoryFit) -> pd.DataFrame:
    """C5's 'mostly' statements: the most frequent pain type of the mild and of the severe group."""
    assigned = patients_by_class(results, fit).dropna(subset=["pain_type"])
    rows = []
    for statement, cls, expected in (("Mild group mostly neuropathic pain (C5)", 1, "neuropathic"),
                                     ("Severe group mostly fibromyalgia (C5)", fit.n_classes, "fibromyalgia")):
        types = assigned.loc[assigned["trajectory_class"] == cls, "pain_type"]
        share = float((types == expected).mean()) if len(types) else float("nan")
        top = types.value_counts().idxmax() if len(types) else None
        small = results.mode == REAL and is_small_count(int((types == expected).sum()))
        shown = f"<{MIN_CELL} patients" if small else f"{fmt_number(100 * share, 1)}% {expected}"
        rows.append((statement, f"{expected} is the most frequent type in the group", shown,
                     HOLDS if top == expected else DOES_NOT_HOLD))
    return pd.DataFrame(rows, columns=["Statement", "Read here as", "Severe minus mild (95% CI)", "Verdict"])


def c6_checks(results: TrajectoryResults, fit: TrajectoryFit) -> pd.DataFrame:
    """The C5 'mostly' statements and the C6 comparisons of one solution (the three-group one in the chapter)."""
    table = pd.concat([mostly_checks(results, fit), class_comparisons(results, fit)], ignore_index=True)
    return table.rename(columns={"Severe minus mild (95% CI)": "Found"})


# --- the ledger and the statements -----------------------------------------------------------------------------
def ledger_entries(results: TrajectoryResults) -> list[LedgerEntry]:
    """C5a-c: the three-group solution's shares (primary model), matched to mild / moderate / severe by pain level,
    each by the estimate rule with its patient-bootstrap SE. The number of groups is judged apart (statements)."""
    fit, boot = results.published_k_fit, results.bootstrap
    rows = []
    for cls, target_id in enumerate(published_shares()):
        note = (f"{results.chosen.label}, {results.published_k}-group solution; BIC chose K = "
                f"{results.chosen.chosen_k}")
        rows.append(entry(target_id, 100 * fit.class_probabilities[cls], CHAPTER, ci=tuple(100 * boot.ci[cls]),
                          se=100 * boot.se[cls], note=note, digits=1))
    return rows


def groups_verdict(chosen_k: int, published_k: int, power: float | None) -> str:
    """The number of groups: supported when BIC chose the published K; otherwise contradicted only where the design
    recovers the published K in most simulated cohorts (power), else not assessable."""
    if chosen_k == published_k:
        return SUPPORTED
    return CONTRADICTED if power is not None and power >= MAJORITY else NOT_ASSESSABLE


def published_statements(results: TrajectoryResults, k_power: float | None = None) -> list[PublishedStatement]:
    """C5 (three groups) and C6 (the groups' characteristics), as stated; `k_power` is the simulated share of cohorts
    from the book's 3-group generator in which BIC chose 3 (okapi.simulation.operating), when known."""
    chosen_k, published_k = results.chosen.chosen_k, results.published_k
    power_text = "power not measured" if k_power is None else f"3 groups recovered in {100 * k_power:.0f}% of " \
                                                               "simulated cohorts with 3 groups"
    groups = PublishedStatement(
        "C5", f"pain followed {published_k} trajectory groups (mild, moderate, severe)",
        f"BIC chose K = {chosen_k} ({results.chosen.label}); {power_text}",
        groups_verdict(chosen_k, published_k, k_power), CHAPTER)
    checks = c6_checks(results, results.published_k_fit)
    c6 = checks[checks["Statement"].str.contains(r"\(C6")]
    held = int((c6["Verdict"] == HOLDS).sum())
    failed = int((c6["Verdict"] == DOES_NOT_HOLD).sum())
    verdict = CONTRADICTED if failed else (SUPPORTED if held == len(c6) else NOT_ASSESSABLE)
    finding = (f"in the {published_k}-group solution, {held} of {len(c6)} comparisons hold (95% CI of severe minus "
               f"mild on the stated side of 0), {failed} go the other way, {len(c6) - held - failed} undecided")
    return [groups, PublishedStatement("C6", "neuropathic pain and fibromyalgia had opposite courses; the severe group "
                                       "had more anxiety and depression and a poorer quality of life", finding,
                                       verdict, CHAPTER)]
