"""What the assumptions sweep says in words and tables: one verdict per statistic, glued text (names prefixed
`sens_assumptions_`) and the tables of the section. Every function also accepts the not-applicable results of a real
extract and then says so, so the section's prose and tables exist in both modes."""

import numpy as np
import pandas as pd

from okapi.synthetic.parameter_labels import parameter_label
from okapi.synthetic.parameters import PARAMETERS
from okapi.book.report import and_list, fmt_ci, fmt_number
from okapi.sensitivity.verdicts import CONCLUSIONS, NOT_ASSESSABLE, CONTRADICTED, SUPPORTED, Verdict
from okapi.sensitivity.assumptions import (DEFAULT, ENDS, NEGLIGIBLE, AssumptionsResults, assumed_parameters,
                                           sweepable)
from okapi.sensitivity.assumptions_cohorts import INPUT_LABELS, STATISTICS
from okapi.plan import TRAJECTORY_BOOTSTRAP_FINAL, TRAJECTORY_BOOTSTRAP_STARTS


PREFIX = "sens_assumptions_"
NOT_APPLICABLE = ("not applicable: a real extract was analysed, and this analysis varies the assumptions of the "
                  "synthetic generator")
NOT_COMPUTED = "not computed (real extract)"
SHORT = {"pain_decline": "one-year change", "depression_interaction": "time x depression",
         "dose_not": "dose-diminution r", "depression_mediates": "depression path b",
         "mediated_share": "proportion mediated", "anxiety_not": "anxiety path", "three_trajectories": "K = 3"}


def parameter_value(value) -> str:
    return f"{value:g}".replace("-", "\u2212") if isinstance(value, (int, float)) else str(value)


def fmt_value(key: str, value: float) -> str:
    """A statistic's value as prose shows it (the K = 3 share as a percentage of cohorts)."""
    if key == "three_trajectories":
        return f"{fmt_number(100 * value, 0)}%"
    statistic = STATISTICS[key]
    return fmt_number(value, statistic.digits) + ("%" if statistic.unit == "%" else "")


def describe(key: str, value: float, low: float, high: float, n: int) -> str:
    """The statistic at one setting, in words: '-0.92 points per year, 95% CI -1.08 to -0.75'."""
    statistic = STATISTICS[key]
    if key == "three_trajectories":
        return f"three classes chosen in {fmt_value(key, value)} of simulated cohorts of {n}"
    if statistic.population:
        return f"{fmt_value(key, value)} in the simulated population"
    unit = f" {statistic.unit}" if statistic.unit else ""
    prefix = "r = " if key == "dose_not" else ""
    return f"{prefix}{fmt_number(value, statistic.digits)}{unit}, 95% CI {fmt_ci(low, high, statistic.digits)}"


def listed(items) -> str:
    items = list(items)
    return and_list(items) if items else "none"


def _end_label(name: str, end: str) -> str:
    p = next(p for p in assumed_parameters() if p.name == name)
    value = p.plausible_low if end == "low" else p.plausible_high
    return f"{parameter_label(name)} = {parameter_value(value)} ({end} end)"


def _flips(rows: pd.DataFrame, column: str) -> list[tuple[str, str, pd.Series]]:
    return [(row["parameter"], end, row) for _, row in rows.iterrows() for end in ENDS if row[f"{end}_{column}"]]


def verdicts(results: AssumptionsResults) -> list[Verdict]:
    """One verdict per statistic: supported (no assumed parameter, at either end of its plausible range, moves the
    decision by more than noise), contradicted (naming those that do), or not assessable (real extract, or the
    conclusion does not hold at the defaults in a typical simulated cohort)."""
    out = []
    n_swept = len(results.swept)
    for key, statistic in STATISTICS.items():
        analysis = (f"assumed generator parameters at both ends of their plausible ranges ({n_swept} parameters"
                    + ("; population proportion mediated)" if statistic.population else ")"))
        if not results.applicable:
            out.append(Verdict(statistic.conclusion, "assumed generator parameters", NOT_ASSESSABLE,
                               NOT_APPLICABLE[0].upper() + NOT_APPLICABLE[1:] + "."))
            continue
        outcome, sentence = _judge(results, key)
        if key == "depression_mediates" and outcome == SUPPORTED:
            # Path b is necessary for mediation, not sufficient: it cannot show that depression mediates "most".
            outcome = NOT_ASSESSABLE
            sentence = ("Path b alone (R11) cannot show mediation, only that depression goes with pain diminution; "
                        "the proportion mediated is judged on its own. " + sentence)
        out.append(Verdict(statistic.conclusion, analysis + (", path b" if key == "depression_mediates" else ""),
                           outcome, sentence))
    return out


def _judge(results: AssumptionsResults, key: str) -> tuple[str, str]:
    summary = results.summary
    rows = summary[summary["statistic"] == key]
    default = rows[rows["parameter"] == DEFAULT].iloc[0]
    swept = rows[rows["parameter"] != DEFAULT]
    n = results.settings.sweep_n_patients
    at_default = describe(key, default["level"], default["default_ci_low"], default["default_ci_high"], n)
    rule = STATISTICS[key].rule_text
    where = "" if STATISTICS[key].population else f" in a typical simulated cohort of {n}"

    def at_ends(flips):
        return "; ".join(f"{_end_label(name, end)}: "
                         f"{describe(key, row[f'{end}_value'], row[f'{end}_ci_low'], row[f'{end}_ci_high'], n)}"
                         for name, end, row in flips)

    moved, noisy = _flips(swept, "moved"), _flips(swept, "within_noise")
    noisy_names = sorted({name for name, _, _ in noisy})
    noise_note = (f" {len(noisy)} parameter end(s) of {len(noisy_names)} parameter(s) flip the decision by shifts "
                  f"that cannot be told from noise ({listed(noisy_names)})." if noisy else "")
    if not default["default_holds"]:
        appears = f" It would hold at {at_ends(moved)}." if moved else ""
        return NOT_ASSESSABLE, (f"At the default values the conclusion does not hold{where} ({at_default}; it "
                                f"holds when {rule}), so the sweep cannot tell whether our guesses carry it."
                                + appears + noise_note)
    if moved:
        return CONTRADICTED, (f"At the default values {rule}{where} ({at_default}), but not at {at_ends(moved)}."
                              + noise_note)
    values = np.r_[default["level"], swept["low_value"], swept["high_value"]]
    if noisy:
        # With a few cohorts per end, a flip within noise is neither a move nor its absence: the sweep cannot confirm.
        return NOT_ASSESSABLE, (f"At the default values {rule}{where} ({at_default}) and at every end's mean "
                                f"(values from {fmt_value(key, values.min())} to {fmt_value(key, values.max())}), "
                                "but the sweep cannot confirm it:" + noise_note)
    return SUPPORTED, (f"At the default values {rule}{where} ({at_default}), and it still does at both ends of "
                      f"every assumed parameter's plausible range (values from {fmt_value(key, values.min())} to "
                      f"{fmt_value(key, values.max())})." + noise_note)


def moved_parameters(results: AssumptionsResults, column: str = "moved") -> dict[str, list[str]]:
    """Per parameter that moves some conclusion by more than noise, the statistics it moves."""
    moved: dict[str, list[str]] = {}
    if results.applicable:
        for _, row in results.summary[results.summary[column]].iterrows():
            moved.setdefault(row["parameter"], []).append(row["statistic"])
    return moved


def within_noise_parameters(results: AssumptionsResults) -> dict[str, list[str]]:
    """Per parameter with an end that flips a decision by a shift that cannot be told from noise, the statistics."""
    return moved_parameters(results, "within_noise")


def glued_text(results: AssumptionsResults, finished: list[Verdict] | None = None) -> dict[str, str]:
    """Every number and judgement of the section's prose, formatted; the same names in real-data mode."""
    settings = results.settings
    assumed = assumed_parameters()
    swept = [p for p in assumed if sweepable(p)]
    text = {"n_parameters": str(len(PARAMETERS)), "n_assumed": str(len(assumed)), "n_swept": str(len(swept)), "n_unswept": str(len(assumed) - len(swept)),
            "n_patients": str(settings.sweep_n_patients), "replicates": str(settings.sweep_replicates),
            "default_cohorts": str(settings.sweep_default_cohorts),
            "trajectory_protocol": (f"{settings.sweep_trajectory_starts} random starts, the best "
                                    f"{settings.sweep_trajectory_final} run to convergence"
                                    + (", the trajectory chapter's bootstrap protocol"
                                       if (settings.sweep_trajectory_starts, settings.sweep_trajectory_final)
                                       == (TRAJECTORY_BOOTSTRAP_STARTS, TRAJECTORY_BOOTSTRAP_FINAL) else "")),
            "population_patients": f"{settings.sweep_population_patients:,} patients",
            "population_draws": str(settings.sweep_population_default_draws)}
    text["applies"] = ("The committed synthetic cohort is analysed, so this section applies." if results.applicable
                       else f"This section is {NOT_APPLICABLE}; its numbers are not computed.")
    verdict_list = finished or verdicts(results)
    for statistic_key, verdict in zip(STATISTICS, verdict_list):
        text[f"verdict_{statistic_key}"] = verdict.sentence
        text[f"outcome_{statistic_key}"] = verdict.outcome + (" (decided by the generator's assumptions)"
                                                              if verdict.decided_by_design else "")
    if not results.applicable:
        for name in ("n_cohorts", "n_analysed", "n_reaching", "n_reaching_none", "shifted_streams", "fits",
                     "protocol_agreement", "moved_parameters", "n_moved_parameters", "within_noise_parameters",
                     "k_at_default", "k_first", "first_seed"):
            text[name] = NOT_COMPUTED
        for key in STATISTICS:
            text[f"default_{key}"] = text[f"noise_{key}"] = NOT_COMPUTED
        return {PREFIX + name: value for name, value in text.items()}

    summary, n = results.summary, settings.sweep_n_patients
    shifting = set(summary.loc[summary["swing"] > NEGLIGIBLE, "parameter"]) - {DEFAULT}
    shifted = sorted(name for name, streams in results.streams.items() if streams)
    moved = moved_parameters(results)
    agree, checked = results.protocol_agreement
    text.update({
        "n_cohorts": str(results.n_cohorts), "n_analysed": str(results.n_analysed),
        "n_reaching": str(len(shifting)), "n_reaching_none": str(len(swept) - len(shifting)),
        "shifted_streams": listed(f"{parameter_label(name)} ({', '.join(results.streams[name])})"
                                  for name in shifted),
        "fits": (f"all {results.n_fits} fits converged" if not results.n_fits_failed else
                 f"{results.n_fits_failed} of {results.n_fits} fits did not converge or hit a boundary"),
        "protocol_agreement": f"{agree} of {checked}",
        "n_moved_parameters": str(len(moved)),
        "moved_parameters": listed(f"{parameter_label(name)} ({', '.join(SHORT[s] for s in stats)})"
                                   for name, stats in moved.items()),
        "within_noise_parameters": listed(f"{parameter_label(name)} ({', '.join(SHORT[s] for s in stats)})"
                                          for name, stats in within_noise_parameters(results).items()),
        "k_at_default": k_distribution(results),
        "k_first": f"K = {int(_default_k(results).iloc[0])}",
        "first_seed": str(settings.seed),
    })
    for key in STATISTICS:
        row = summary[(summary["statistic"] == key) & (summary["parameter"] == DEFAULT)].iloc[0]
        text[f"default_{key}"] = describe(key, row["level"], row["default_ci_low"], row["default_ci_high"], n)
        # "SD" in front: a bare "0.10" would be glued back as the float 0.1 and lose its digit.
        unit = "" if key == "three_trajectories" or not STATISTICS[key].unit or STATISTICS[key].unit == "%" \
            else f" {STATISTICS[key].unit}"
        text[f"noise_{key}"] = f"SD {fmt_value(key, row['noise_sd'])}{unit}"
    return {PREFIX + name: value for name, value in text.items()}


def k_distribution(results: AssumptionsResults) -> str:
    """How often the rules chose each K in the cohorts simulated at the default values: 'K = 1 in 4, K = 2 in 15
    and K = 3 in 1 of 20 cohorts'."""
    chosen = _default_k(results)
    counts = chosen.value_counts().sort_index()
    return and_list([f"K = {k} in {c}" for k, c in counts.items()]) + f" of {len(chosen)} cohorts"


def _default_k(results: AssumptionsResults) -> pd.Series:
    """K chosen in each default cohort, in replicate (seed) order."""
    return results.chosen_k.loc[results.chosen_k["parameter"] == DEFAULT, "chosen_k"].reset_index(drop=True)


def _not_applicable_table(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame([[NOT_APPLICABLE] + [""] * (len(columns) - 1)], columns=columns)


STATISTICS_COLUMNS = ["Conclusion of the paper", "Statistic", "Holds when", "At the default values",
                      "Seed-to-seed SD", "Range over all ends", "Moved by (more than noise)", "Flipped within noise"]


def statistics_table(results: AssumptionsResults) -> pd.DataFrame:
    """Per statistic: the rule, its value at the defaults, the seed-to-seed noise and what moved it."""
    if not results.applicable:
        return _not_applicable_table(STATISTICS_COLUMNS)
    summary, n, rows = results.summary, results.settings.sweep_n_patients, []
    for key, statistic in STATISTICS.items():
        mine = summary[summary["statistic"] == key]
        default = mine[mine["parameter"] == DEFAULT].iloc[0]
        swept = mine[mine["parameter"] != DEFAULT]
        values = np.r_[default["level"], swept["low_value"], swept["high_value"]]
        rows.append([CONCLUSIONS[statistic.conclusion].statement, statistic.label, statistic.rule_text,
                     describe(key, default["level"], default["default_ci_low"], default["default_ci_high"], n)
                     + ("" if default["default_holds"] else " (does not hold)"),
                     fmt_value(key, default["noise_sd"]),
                     f"{fmt_value(key, values.min())} to {fmt_value(key, values.max())}",
                     listed(_end_label(p, e) for p, e, _ in _flips(swept, "moved")),
                     listed(_end_label(p, e) for p, e, _ in _flips(swept, "within_noise"))])
    return pd.DataFrame(rows, columns=STATISTICS_COLUMNS)


def _labelled(name: str) -> str:
    """The label a reader reads, then the code name that overrides it (simulate_cohort(overrides=...))."""
    return f"{parameter_label(name)} (`{name}`)"


PARAMETER_COLUMNS = ["Parameter", "Default", "Plausible range", "Analysed data it changes", "Random numbers",
                     "Conclusions it moves"]


def parameter_table(results: AssumptionsResults) -> pd.DataFrame:
    """Every assumed parameter: its range, which analysed arrays of the simulated cohorts it changes at all (and the
    simulated population, for the proportion mediated), whether the sweep kept common random numbers for it, and
    which conclusions it moves (more than noise) or flips within noise."""
    if not results.applicable:
        return _not_applicable_table(PARAMETER_COLUMNS)
    summary, rows = results.summary, []
    for p in assumed_parameters():
        default = ", ".join(parameter_value(v) for v in p.value) if isinstance(p.value, tuple) else \
            parameter_value(p.value)
        if not sweepable(p) or p.name not in results.swept:
            reason = "no plausible range stated" if not sweepable(p) else "not in this run"
            rows.append([_labelled(p.name), default, reason, "not swept", "", ""])
            continue
        mine = summary[summary["parameter"] == p.name]
        changed = [INPUT_LABELS[name] for name in results.reaches.get(p.name, ())]
        if (mine.loc[mine["statistic"] == "mediated_share", "swing"] > NEGLIGIBLE).any():
            changed.append("population")
        moves = [SHORT[s] for s in mine.loc[mine["moved"], "statistic"]]
        noisy = [f"{SHORT[s]} (within noise)" for s in mine.loc[mine["within_noise"], "statistic"]]
        streams = results.streams.get(p.name, ())
        rows.append([_labelled(p.name), default, f"{parameter_value(p.plausible_low)} to {parameter_value(p.plausible_high)}",
                     ", ".join(changed) or "nothing", f"shifted: {', '.join(streams)}" if streams else "common",
                     ", ".join(moves + noisy) or "none"])
    return pd.DataFrame(rows, columns=PARAMETER_COLUMNS)
