"""How much of the reproduction rests on our guesses: every assumed parameter of the synthetic cohort
(okapi.synthetic.parameters, provenance "assumed") set to the low and to the high end of its plausible range, everything
else at its default, and each of the paper's conclusions re-decided (statistics:
okapi.sensitivity.assumptions_cohorts; verdicts, text and tables: okapi.sensitivity.assumptions_report).

Noise control. One cohort of 329 is noisy, so
- common random numbers: the ends and the default use the same seeds, and the generator draws every random number
  in a fixed shape whatever the parameter values (okapi.synthetic.patients), so a paired difference holds the
  parameter's effect and little noise; where a parameter changes how many draws a stream consumes
  (`shifted_streams`), the difference carries independent-cohort noise and the tables say so;
- the value at an end = mean over `sweep_default_cohorts` default cohorts + mean paired shift over the
  `sweep_replicates` cohorts of that end (a control-variate estimate); its expected 95% CI has the end's own mean
  half-widths: the interval a typical cohort of that size would show;
- the noise band = default value +/- 1.96 SD(seed to seed) / sqrt(paired replicates): what averaging that many
  independent cohorts would leave by chance alone.
A conclusion *moves* when its decision at an end (rules in STATISTICS) differs from its decision at the defaults and
the paired shift is more than noise (its paired-t 95% interval over the replicates excludes 0; for single draws, it
leaves the noise band); a flip by a smaller shift is reported as "within noise".
Cohorts whose analysed arrays are identical are analysed once (a parameter the analyses never see moves nothing).

Where the analyses run: on settings.n_workers processes of this machine, or on a Dask cluster when `scheduler` or the
environment variable OKAPI_DASK_SCHEDULER names one (the chapter's kernel inherits it: `OKAPI_DASK_SCHEDULER=tcp://
HOST:PORT` before building or rerunning the book). Each task carries its seed, so the results are the same either way.
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from okapi.synthetic.parameters import PARAMETERS, Parameter
from okapi.data.loading import REAL
from okapi.compute.engine import map_in_processes
from okapi.models.mixed_models import Z_975

from okapi.sensitivity.assumptions_cohorts import (ANALYSIS_INPUTS, ANALYSIS_STATISTICS, INPUT_LABELS,
                                                   MEDIATED_SHARE_BAND, STATISTICS, analyse_depression,
                                                   analyse_mediation, analyse_pain, changed_inputs, fingerprint,
                                                   population_mediated_share, population_share_parameters,
                                                   shifted_streams, simulate_inputs)
from okapi.plan import SensitivitySettings, TRAJECTORY_FINAL, TRAJECTORY_STARTS


DEFAULT, ENDS = "default", ("low", "high")
# A paired shift this small is floating-point noise (identical draws, different order of operations).
NEGLIGIBLE = 1e-9
COLUMNS = ["statistic", "parameter", "end", "replicate", "estimate", "ci_low", "ci_high"]


def assumed_parameters() -> list[Parameter]:
    return [p for p in PARAMETERS if p.provenance == "assumed"]


def sweepable(p: Parameter) -> bool:
    """Scalars with a stated plausible range; tuple-valued guesses (shapes, mixes) have none and are not swept."""
    return p.plausible_low is not None and p.plausible_high is not None


def end_value(p: Parameter, end: str):
    return {"low": p.plausible_low, "high": p.plausible_high}[end]


@dataclass
class AssumptionsResults:
    applicable: bool
    mode: str
    settings: SensitivitySettings
    swept: tuple[str, ...] = ()
    raw: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=COLUMNS))  # one row per statistic & run
    chosen_k: pd.DataFrame = field(default_factory=pd.DataFrame)  # parameter, end, replicate, chosen_k
    reaches: dict = field(default_factory=dict)  # parameter -> analysed arrays it changed (INPUT_LABELS keys)
    streams: dict = field(default_factory=dict)  # parameter -> random streams it shifts
    n_cohorts: int = 0  # simulated cohorts
    n_analysed: int = 0  # distinct cohorts actually analysed (identical inputs analysed once)
    n_fits: int = 0
    n_fits_failed: int = 0
    protocol_agreement: tuple[int, int] = (0, 0)  # default cohorts where the sweep's trajectory protocol chose the
    # same K as the chapter's, out of those checked

    @classmethod
    def not_applicable(cls, settings: SensitivitySettings, mode: str) -> "AssumptionsResults":
        return cls(False, mode, settings)

    @property
    def summary(self) -> pd.DataFrame:
        return summarise(self)


# --- the sweep --------------------------------------------------------------------------------------------------------
def _analyse(task):
    kind, payload, options = task
    if kind == "pain":
        return analyse_pain(payload, *options)
    if kind == "depression":
        return analyse_depression(payload)
    if kind == "mediation":
        return analyse_mediation(payload)
    if kind == "population":
        return population_mediated_share(*payload)
    raise ValueError(f"unknown task kind {kind!r}")


def _runs(settings: SensitivitySettings, parameters: list[Parameter]):
    """(parameter name or DEFAULT, end, overrides, replicate); replicate r uses seed settings.seed + r, so the
    default replicate 0 at 329 patients is the committed cohort."""
    runs = [(DEFAULT, DEFAULT, {}, r) for r in range(max(settings.sweep_default_cohorts, settings.sweep_replicates))]
    for p in parameters:
        runs += [(p.name, end, {p.name: end_value(p, end)}, r)
                 for end in ENDS for r in range(settings.sweep_replicates)]
    return runs


def run_assumptions_sensitivity(cohort, settings: SensitivitySettings, parameters: list[str] | None = None,
                                progress=None, scheduler: str | None = None) -> AssumptionsResults:
    """The whole section. `parameters` restricts the sweep to those names (tests); None = every sweepable one.
    `scheduler`: a Dask scheduler's address (default: OKAPI_DASK_SCHEDULER, else this machine)."""
    if cohort.mode == REAL:
        return AssumptionsResults.not_applicable(settings, cohort.mode)
    chosen = [p for p in assumed_parameters() if sweepable(p) and (parameters is None or p.name in parameters)]
    n, trajectory_protocol = settings.sweep_n_patients, (settings.sweep_trajectory_starts,
                                                         settings.sweep_trajectory_final)
    runs = _runs(settings, chosen)
    tasks, keys, reference, reaches = {}, [], {}, {p.name: set() for p in chosen}
    for name, end, overrides, replicate in runs:
        inputs = simulate_inputs(n, settings.seed + replicate, overrides)
        if name == DEFAULT:
            reference[replicate] = inputs
        else:
            reaches[name] |= changed_inputs(inputs, reference[replicate])
        run_keys = {}
        for analysis in ANALYSIS_INPUTS:
            key = (analysis, fingerprint(inputs, analysis))
            options = trajectory_protocol if analysis == "pain" else ()
            tasks.setdefault(key, (analysis, inputs, options))
            run_keys[analysis] = key
        keys.append(run_keys)
    # The chapter's own trajectory protocol on the paired default cohorts, to check the sweep's cheaper one.
    book = [("pain", keys[r]["pain"][1], "book") for r in range(settings.sweep_replicates)]
    for key in book:
        tasks.setdefault(key, ("pain", tasks[key[:2]][1], (TRAJECTORY_STARTS, TRAJECTORY_FINAL)))
    population = _population_runs(settings, chosen)
    for index, (_, _, overrides, seed) in enumerate(population):
        tasks[("population", index)] = ("population", (settings.sweep_population_patients, seed, overrides), ())

    order = list(tasks)
    done = dict(zip(order, map_in_processes(_analyse, [tasks[key] for key in order], settings.n_workers, progress,
                                                  scheduler)))
    cohort_rows = [(name, end, replicate, {analysis: done[key] for analysis, key in run_keys.items()})
                   for (name, end, _, replicate), run_keys in zip(runs, keys)]
    raw, chosen_k = _raw_table(cohort_rows, population, done)
    analysed = [key for key in order if key[0] in ("pain", "depression") and len(key) == 2]
    fits = [done[key] for key in analysed]
    agreement = sum(done[key]["chosen_k"] == done[key[:2]]["chosen_k"] for key in book)
    return AssumptionsResults(
        True, cohort.mode, settings, tuple(p.name for p in chosen), raw, chosen_k,
        reaches={name: tuple(k for k in INPUT_LABELS if k in changed) for name, changed in reaches.items()},
        streams={p.name: shifted_streams(p.name, (p.plausible_low, p.plausible_high), n, settings.seed)
                 for p in chosen},
        n_cohorts=len(runs), n_analysed=len({key[1] for key in analysed if key[0] == "pain"}),
        n_fits=sum(f["fits"] for f in fits), n_fits_failed=sum(f["fits"] - f["fits_ok"] for f in fits),
        protocol_agreement=(int(agreement), len(book)))


def _population_runs(settings, chosen):
    """Default populations on seeds seed + 0.., each end on seed + 0 (paired with the first default population); a
    parameter neither the patient stage nor the year of care reads cannot move the population and is not drawn."""
    read = population_share_parameters()
    runs = [(DEFAULT, DEFAULT, {}, settings.seed + r) for r in range(settings.sweep_population_default_draws)]
    return runs + [(p.name, end, {p.name: end_value(p, end)}, settings.seed) for p in chosen if p.name in read
                   for end in ENDS]


def _raw_table(cohort_rows, population, done):
    rows, ks = [], []
    for name, end, replicate, by_analysis in cohort_rows:
        for analysis, statistics in ANALYSIS_STATISTICS.items():
            for key in statistics:
                rows.append((key, name, end, replicate, *by_analysis[analysis][key]))
        ks.append((name, end, replicate, by_analysis["pain"]["chosen_k"]))
    for index, (name, end, _, seed) in enumerate(population):
        replicate = seed - population[0][3]
        rows.append(("mediated_share", name, end, replicate, done[("population", index)], np.nan, np.nan))
    raw = pd.DataFrame(rows, columns=COLUMNS)
    return raw, pd.DataFrame(ks, columns=["parameter", "end", "replicate", "chosen_k"])


# --- decisions --------------------------------------------------------------------------------------------------------
def holds(rule: str, value: float, ci_low: float, ci_high: float) -> bool:
    """Whether the conclusion holds for a statistic at `value` whose expected 95% CI is (ci_low, ci_high)."""
    if rule == "below":
        return bool(ci_high < 0)
    if rule == "above":
        return bool(ci_low > 0)
    if rule == "includes_zero":
        return bool(ci_low <= 0 <= ci_high)
    if rule == "at_least_half":
        return bool(value >= 0.5)
    if rule == "inside_band":
        return bool(MEDIATED_SHARE_BAND[0] < value <= MEDIATED_SHARE_BAND[1])
    raise ValueError(f"unknown rule {rule!r}")


def _paired_count(results: AssumptionsResults, key: str) -> int:
    return 1 if STATISTICS[key].population else results.settings.sweep_replicates


def shift_is_real(diffs: np.ndarray, band_half_width: float) -> tuple[bool, float]:
    """Whether a mean paired shift is more than noise, and the half-width of its 95% interval: a paired t interval
    over the replicates when there are two or more, else the noise band of independent draws (conservative)."""
    diffs = np.asarray(diffs, dtype=float)
    shift = float(diffs.mean())
    if diffs.size < 2:
        return abs(shift) > band_half_width, band_half_width
    half_width = float(stats.t.ppf(0.975, diffs.size - 1) * diffs.std(ddof=1) / np.sqrt(diffs.size))
    return abs(shift) > half_width and abs(shift) > NEGLIGIBLE, half_width


def summarise(results: AssumptionsResults) -> pd.DataFrame:
    """One row per statistic and parameter (DEFAULT first): value, expected CI and decision at each end, the shift's
    95% half-width, swing, noise band, and whether the decision moved (flipped by a shift larger than noise) or
    flipped within noise."""
    rows = []
    if not results.applicable:
        return pd.DataFrame(rows)
    for key, statistic in STATISTICS.items():
        mine = results.raw[results.raw["statistic"] == key]
        default = mine[mine["parameter"] == DEFAULT].set_index("replicate")
        level, spread = default["estimate"].mean(), default["estimate"].std(ddof=1)
        band = Z_975 * spread / np.sqrt(_paired_count(results, key))
        at_default = _at(statistic, level, default)
        base = {"statistic": key, "level": level, "noise_sd": spread, "band_low": level - band,
                "band_high": level + band, "default_ci_low": at_default["ci_low"],
                "default_ci_high": at_default["ci_high"], "default_holds": at_default["holds"]}
        rows.append({**base, "parameter": DEFAULT, "swing": 0.0, "moved": False, "within_noise": False})
        for name, ends in mine[mine["parameter"] != DEFAULT].groupby("parameter", sort=False):
            row = {**base, "parameter": name}
            for end in ENDS:
                at_end = ends[ends["end"] == end].set_index("replicate")
                diffs = (at_end["estimate"] - default["estimate"].reindex(at_end.index)).to_numpy()
                real, half_width = shift_is_real(diffs, band)
                found = _at(statistic, level + diffs.mean(), at_end)
                flipped = found["holds"] != at_default["holds"]
                row.update({f"{end}_{k}": v for k, v in found.items()})
                row.update({f"{end}_shift_half_width": half_width, f"{end}_moved": flipped and real,
                            f"{end}_within_noise": flipped and not real})
            values = [level, row["low_value"], row["high_value"]]
            row["swing"] = max(values) - min(values)
            row["moved"] = row["low_moved"] or row["high_moved"]
            row["within_noise"] = row["low_within_noise"] or row["high_within_noise"]
            rows.append(row)
    return pd.DataFrame(rows)


def _at(statistic, value, replicates: pd.DataFrame) -> dict:
    if statistic.rule == "at_least_half":
        value = float(np.clip(value, 0.0, 1.0))
    low = value - (replicates["estimate"] - replicates["ci_low"]).mean()
    high = value + (replicates["ci_high"] - replicates["estimate"]).mean()
    return {"value": value, "ci_low": low, "ci_high": high, "holds": holds(statistic.rule, value, low, high)}
