"""The synthetic OKAPI cohort: simulate it, and write it in the codebook's schema.

The generative model is in okapi.synthetic.patients (inclusion, latent class, dose, latent slope) and
okapi.synthetic.outcomes (monthly pain, missing calls, questionnaires, adverse effects); its parameters, with their
provenance, are the records of okapi.synthetic.parameters. This module turns the arrays into the three tables of
data/codebook.csv, plus `.truth`: the latent quantities a real extract never has, for simulation studies.
"""

import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from okapi import paths
from okapi.synthetic.parameters import parameter_values
from okapi.data.manifest import write_manifest
from okapi.synthetic.outcomes import draw_follow_up
from okapi.synthetic.patients import CLASS_LABELS, MONTHS, PAIN_TYPES, draw_patients, make_streams
from okapi.plan import PUBLISHED_N_PATIENTS, SYNTHETIC_SEED

DECIMALS = {"pain_duration_years": 1, "sf12_pcs": 1, "sf12_mcs": 1, "dose_mg": 1}  # as generated and as written
MANIFEST_NAME = paths.MANIFEST.name


@dataclass
class SyntheticCohort:
    """The three codebook tables plus `truth`, one row per patient (never written to disk): latent_class (mild,
    moderate, severe), centre_effect, random_intercept, random_slope, true_slope_per_month (the linear part of the
    patient's latent NPRS course), pain_diminution_per_month (minus it), complete baseline HADS-D/HADS-A and
    depressed_baseline (HADS-D > 7), n_stays, n_infusions, cumulative_dose_g, nprs_m0_complete / nprs_m12_complete
    (the score the patient would have given had the call been answered), dropout_month (first month no longer
    followed; NA = followed to month 12) and n_answered_calls."""
    patients: pd.DataFrame
    visits: pd.DataFrame
    ketamine: pd.DataFrame
    truth: pd.DataFrame
    seed: int
    overrides: dict = field(default_factory=dict)

    def tables(self) -> dict[str, pd.DataFrame]:
        return {"patients.csv": self.patients, "visits.csv": self.visits, "ketamine.csv": self.ketamine}


def codebook_columns() -> dict[str, list[tuple[str, str]]]:
    """{file: [(variable, type), ...]} in codebook order."""
    codebook = pd.read_csv(paths.CODEBOOK, dtype=str, keep_default_na=False)
    return {name: list(zip(rows["variable"], rows["type"])) for name, rows in codebook.groupby("file", sort=False)}


def simulate_arrays(n: int, seed: int, overrides: dict | None = None, n_cohorts: int = 1):
    """The generator's raw arrays for n_cohorts independent cohorts of n patients: (patients, administrations,
    follow-up). Each replicate cohort has its own centre sizes and centre effects."""
    values = parameter_values(overrides)
    streams = make_streams(seed)
    patients = draw_patients(n, n_cohorts, values, streams)
    administrations, follow_up = draw_follow_up(patients, values, streams)
    return patients, administrations, follow_up


def simulate_patient_truth(n: int, seed: int = SYNTHETIC_SEED, overrides: dict | None = None) -> pd.DataFrame:
    """Patient-level latent quantities only (no tables): for large populations. The dose depends on the year of care,
    so the follow-up is drawn too. Same seed and n give the same patients as simulate_cohort."""
    return simulate_population(n, seed, overrides)[0]


def simulate_population(n: int, seed: int = SYNTHETIC_SEED, overrides: dict | None = None
                        ) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """simulate_patient_truth's table and the follow-up arrays (okapi.synthetic.outcomes.draw_follow_up) beside it."""
    patients, _, follow_up = simulate_arrays(n, seed, overrides)
    return _patient_truth(patients), follow_up


def simulate_cohort(n: int = PUBLISHED_N_PATIENTS, seed: int = SYNTHETIC_SEED, overrides: dict | None = None) -> SyntheticCohort:
    if n < 1:
        raise ValueError(f"n must be a positive number of patients, got {n}")
    values = parameter_values(overrides)
    p, administrations, f = simulate_arrays(n, seed, overrides)
    ids = pd.array([f"P{i:0{max(4, len(str(n)))}d}" for i in range(1, n + 1)], dtype="str")
    first_day = np.datetime64(values["inclusion_first_date"], "D")
    inclusion = first_day + p["inclusion_day"].astype("timedelta64[D]")
    columns = codebook_columns()

    patients = pd.DataFrame({
        "patient_id": ids,
        "centre": pd.array([f"C{c + 1:02d}" for c in p["centre"]], dtype="str"),
        "inclusion_date": pd.to_datetime(inclusion),
        "age": _int(p["age"]),
        "sex": pd.array(np.where(p["female"], "F", "M"), dtype="str"),
        "pain_type": pd.array(np.asarray(PAIN_TYPES)[p["pain_type"]], dtype="str"),
        "pain_duration_years": p["pain_duration_years"],
        **{name: _int(p[name]) for name in ("opioid", "antidepressant", "antiepileptic", "anxiolytic")},
        "ae_week1": _int(f["ae_week1"]),
    })
    visits = pd.DataFrame({
        "patient_id": ids.repeat(MONTHS.size),
        "month": _int(np.tile(MONTHS, n)),
        **{name: (_int(f[name].ravel()) if name in ("nprs", "hads_d", "hads_a", "adverse_effect")
                  else f[name].ravel()) for name in ("nprs", "hads_d", "hads_a", "sf12_pcs", "sf12_mcs",
                                                     "adverse_effect")},
    })
    ketamine = pd.DataFrame({
        "patient_id": ids[administrations["patient"]],
        "date": pd.to_datetime(inclusion[administrations["patient"]]
                               + administrations["day"].astype("timedelta64[D]")),
        "dose_mg": administrations["dose_mg"].astype(float),
    })
    truth = _patient_truth(p).assign(patient_id=ids)
    truth["nprs_m0_complete"] = _int(f["nprs_complete"][:, 0])
    truth["nprs_m12_complete"] = _int(f["nprs_complete"][:, 12])
    truth["dropout_month"] = pd.array(np.where(f["dropout_month"] > 0, f["dropout_month"], np.nan), dtype="Int64")
    truth["n_answered_calls"] = f["answered"].sum(axis=1)
    truth = truth[["patient_id"] + [c for c in truth.columns if c != "patient_id"]]

    tables = {"patients.csv": patients, "visits.csv": visits, "ketamine.csv": ketamine}
    for name, table in tables.items():
        expected = [variable for variable, _ in columns[name]]
        if list(table.columns) != expected:
            raise RuntimeError(f"{name}: generator columns {list(table.columns)} differ from the codebook {expected}")
    return SyntheticCohort(patients, visits, ketamine, truth, seed, dict(overrides or {}))


def _int(values) -> pd.arrays.IntegerArray:
    values = np.asarray(values, dtype=float)
    return pd.array(np.where(np.isnan(values), np.nan, values), dtype="Int64")


def _patient_truth(p: dict) -> pd.DataFrame:
    return pd.DataFrame({
        "latent_class": pd.array(np.asarray(CLASS_LABELS)[p["latent_class"]], dtype="str"),
        "centre_effect": p["centre_effect"],
        "random_intercept": p["random_intercept"],
        "random_slope": p["random_slope"],
        "true_slope_per_month": p["true_slope_per_month"],
        "pain_diminution_per_month": -p["true_slope_per_month"],
        "hads_d_baseline": p["hads_d0"].astype(int),
        "hads_a_baseline": p["hads_a0"].astype(int),
        "depressed_baseline": p["depressed"],
        "n_stays": p["n_stays"],
        "n_infusions": p["n_infusions"],
        "cumulative_dose_g": p["cumulative_dose_g"],
    })


def format_table(table: pd.DataFrame, file_name: str) -> str:
    """CSV text with one fixed rendering per codebook type: integers without '.0', fixed decimals, ISO dates,
    empty cell for missing, '\\n' line ends."""
    rendered = {}
    for variable, kind in codebook_columns()[file_name]:
        column = table[variable]
        missing = column.isna().to_numpy()
        if kind == "date":
            text = column.dt.strftime("%Y-%m-%d").to_numpy(dtype=object)
        elif kind in ("integer", "binary"):
            text = column.astype("Int64").astype(str).to_numpy(dtype=object)
        elif kind == "number":
            decimals = DECIMALS[variable]
            text = np.array([f"{x:.{decimals}f}" for x in column.to_numpy(dtype=float, na_value=np.nan)], dtype=object)
        else:
            text = column.astype(str).to_numpy(dtype=object)
        text[missing] = ""
        rendered[variable] = text
    return pd.DataFrame(rendered).to_csv(index=False, lineterminator="\n")


def write_cohort(cohort: SyntheticCohort, out, force: bool = False) -> list[Path]:
    """Write patients.csv, visits.csv, ketamine.csv and a SHA256SUMS listing exactly those three files.

    Refuses to overwrite any of them unless force=True, before writing anything; other files in `out` (the codebook,
    the targets) are never touched.
    """
    out = Path(out)
    owned = list(paths.COHORT_FILES) + [MANIFEST_NAME]
    existing = [name for name in owned if (out / name).exists()]
    if existing and not force:
        raise FileExistsError(f"{out} already holds {', '.join(existing)}; pass force=True (--force) to overwrite")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, table in cohort.tables().items():
        target = out / name
        target.write_bytes(format_table(table, name).encode("utf-8"))
        written.append(target)
    written.append(write_manifest(out, paths.COHORT_FILES, MANIFEST_NAME))
    return written


def run_simulate_command(seed=None, n=None, out=None, force=False) -> int:
    seed = SYNTHETIC_SEED if seed is None else int(seed)
    n = PUBLISHED_N_PATIENTS if n is None else int(n)
    if out is None:
        print("simulate: --out is required", file=sys.stderr)
        return 1
    cohort = simulate_cohort(n=n, seed=seed)
    try:
        written = write_cohort(cohort, out, force=force)
    except FileExistsError as error:
        print(f"simulate: refused: {error}", file=sys.stderr)
        return 1
    print(f"Synthetic OKAPI cohort: {n} patients, seed {seed}")
    for path in written:
        print(f"  wrote {path}")
    return 0
