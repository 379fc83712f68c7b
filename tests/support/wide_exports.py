"""The committed cohort written out as a data holder would keep it (tests only): one WIDE file per format (a row per
patient, a column per variable and month) plus a long file of ketamine administrations, in French codes, and the
mapping that imports each back. Used by tests/test_import_round_trip_gives_the_same_extract.py.

Formats and what each exercises:
- Stata .dta: sex and pain type as numeric codes with French value labels (value_labels = true, then a recode),
  Stata dates (%td), visits of an all-empty month as the special missing .a, doses in grams (unit = "g");
- SPSS .sav: French text codes, dates as DD/MM/YYYY text, treatments coded -99 for missing and declared as SPSS
  user-missing values, SF-12 scores with -99 for missing not declared (the mapping lists it);
- SAS transport .xpt (version 5: names of 8 characters at most): sex coded 1/2 (recode), SAS dates (DATE9.);
- Excel .xlsx: two sheets, numbers as text with a decimal comma, dates as Excel dates and as DD/MM/YYYY text,
  "NA" for missing;
- CSV: ';'-delimited, cp1252-encoded (accented codes), decimal comma, DD/MM/YYYY dates, "." for missing.
"""

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from okapi import paths

MONTHS = range(13)
VISIT_VARIABLES = ("nprs", "hads_d", "hads_a", "sf12_pcs", "sf12_mcs", "adverse_effect")
TREATMENTS = ("opioid", "antidepressant", "antiepileptic", "anxiolytic")
SEX_FR = {"F": "femme", "M": "homme"}
PAIN_FR = {"neuropathic": "neuropathique", "fibromyalgia": "fibromyalgie", "crps": "SDRC", "other": "autre"}
FORMATS = ("stata", "spss", "sas_transport", "excel", "csv")
# The pain types' French labels back to the codebook's levels, as an inline TOML table.
PAIN_RECODE = "{ " + ", ".join(f'{french} = "{code}"' for code, french in PAIN_FR.items()) + " }"


def committed(n_patients: int | None = None) -> dict[str, pd.DataFrame]:
    """The committed cohort as text (every cell as written), or its first n_patients patients."""
    data = {name: pd.read_csv(paths.DATA_DIR / f"{name}.csv", dtype=str, keep_default_na=False)
            for name in ("patients", "visits", "ketamine")}
    if n_patients is not None:
        kept = set(data["patients"]["patient_id"].iloc[:n_patients])
        data = {name: frame[frame["patient_id"].isin(kept)].reset_index(drop=True) for name, frame in data.items()}
    return data


def _number(text: pd.Series) -> pd.Series:
    return pd.to_numeric(text.replace("", np.nan)).astype("float64")


def _iso_date(text: pd.Series) -> list:
    return [date.fromisoformat(t) for t in text]


def _french_date(text: pd.Series) -> list[str]:
    return [f"{t[8:10]}/{t[5:7]}/{t[0:4]}" if t else "" for t in text]


def _comma(text: pd.Series) -> list[str]:
    return [t.replace(".", ",") for t in text]


def wide_visits(visits: pd.DataFrame, name, convert) -> pd.DataFrame:
    """One row per patient (in the committed order), one column per variable and month: name(variable, month)."""
    order = pd.unique(visits["patient_id"])
    columns = {}
    for variable in VISIT_VARIABLES:
        table = visits.pivot(index="patient_id", columns="month", values=variable).reindex(order)
        for month in MONTHS:
            columns[name(variable, month)] = convert(variable, table[str(month)].reset_index(drop=True))
    return pd.DataFrame(columns)


def empty_months(visits: pd.DataFrame) -> pd.DataFrame:
    """Per patient x month: True when the whole visit row is empty (the patient gave no answer that month)."""
    values = visits[list(VISIT_VARIABLES)]
    empty = (values == "").all(axis=1)
    order = pd.unique(visits["patient_id"])
    return visits.assign(empty=empty).pivot(index="patient_id", columns="month", values="empty").reindex(order)


def write_stata(folder: Path) -> list[Path]:
    import pyreadstat

    data = committed()
    p, v, k = data["patients"], data["visits"], data["ketamine"]
    empty = empty_months(v)
    names = {"nprs": "NPRS", "hads_d": "HADS_D", "hads_a": "HADS_A", "sf12_pcs": "SF12_PCS", "sf12_mcs": "SF12_MCS",
             "adverse_effect": "EFFET_INDESIRABLE"}

    frame = pd.DataFrame({
        "NUM_PATIENT": p["patient_id"], "CENTRE": p["centre"], "DATE_INCLUSION": _iso_date(p["inclusion_date"]),
        "AGE": _number(p["age"]), "SEXE": p["sex"].map({"F": 1.0, "M": 2.0}),
        "TYPE_DOULEUR": p["pain_type"].map({code: float(i) for i, code in enumerate(PAIN_FR, 1)}),
        "DUREE_DOULEUR": _number(p["pain_duration_years"]),
        **{t.upper(): _number(p[t]) for t in TREATMENTS}, "EI_SEMAINE1": _number(p["ae_week1"]),
    })
    visits = wide_visits(v, lambda variable, month: f"{names[variable]}_M{month}",
                         lambda variable, column: _number(column).astype(object))
    special = {}
    for column in visits.columns:
        month = int(column.rsplit("_M", 1)[1])
        visits[column] = [("a" if empty[str(month)].iloc[i] else value) if pd.isna(value) else value
                          for i, value in enumerate(visits[column])]
        special[column] = ["a"]
    frame = pd.concat([frame, visits], axis=1)
    labels = {"SEXE": {1: "femme", 2: "homme"},
              "TYPE_DOULEUR": {i: PAIN_FR[code] for i, code in enumerate(PAIN_FR, 1)}}
    targets = [folder / "okapi.dta", folder / "okapi_ketamine.dta"]
    pyreadstat.write_dta(frame, targets[0], variable_value_labels=labels, missing_user_values=special,
                         variable_format={"DATE_INCLUSION": "%td"})
    ketamine = pd.DataFrame({"NUM_PATIENT": k["patient_id"], "DATE_ADMIN": _iso_date(k["date"]),
                             "DOSE_G": [float(x) / 1000 for x in k["dose_mg"]]})
    pyreadstat.write_dta(ketamine, targets[1], variable_format={"DATE_ADMIN": "%td"})
    return targets


STATA_MAPPING = """
[options]
missing = [".a"]
[patients]
source = "okapi.dta"
[patients.columns]
patient_id = "NUM_PATIENT"
centre = "CENTRE"
inclusion_date = "DATE_INCLUSION"
age = "AGE"
sex = { column = "SEXE", value_labels = true, recode = { femme = "F", homme = "M" } }
pain_type = { column = "TYPE_DOULEUR", value_labels = true, recode = PAIN_RECODE }
pain_duration_years = "DUREE_DOULEUR"
opioid = "OPIOID"
antidepressant = "ANTIDEPRESSANT"
antiepileptic = "ANTIEPILEPTIC"
anxiolytic = "ANXIOLYTIC"
ae_week1 = "EI_SEMAINE1"
[visits]
source = "okapi.dta"
layout = "wide"
[visits.columns]
patient_id = "NUM_PATIENT"
nprs = { wide = "NPRS_M{month}" }
hads_d = { wide = "HADS_D_M{month}" }
hads_a = { wide = "HADS_A_M{month}" }
sf12_pcs = { wide = "SF12_PCS_M{month}" }
sf12_mcs = { wide = "SF12_MCS_M{month}" }
adverse_effect = { wide = "EFFET_INDESIRABLE_M{month}" }
[ketamine]
source = "okapi_ketamine.dta"
[ketamine.columns]
patient_id = "NUM_PATIENT"
date = "DATE_ADMIN"
dose_mg = { column = "DOSE_G", unit = "g" }
""".replace("PAIN_RECODE", PAIN_RECODE)


def write_spss(folder: Path) -> list[Path]:
    import pyreadstat

    data = committed()
    p, v, k = data["patients"], data["visits"], data["ketamine"]

    def convert(variable, column):
        values = _number(column)
        return values.fillna(-99.0) if variable.startswith("sf12") else values

    frame = pd.DataFrame({
        "id": p["patient_id"], "centre": p["centre"], "date_inclusion": _french_date(p["inclusion_date"]),
        "age": _number(p["age"]), "sexe": p["sex"].map(SEX_FR), "douleur": p["pain_type"].map(PAIN_FR),
        "duree": _number(p["pain_duration_years"]),
        **{f"ttt_{t}": _number(p[t]).fillna(-99.0) for t in TREATMENTS}, "ei_s1": _number(p["ae_week1"]),
    })
    frame = pd.concat([frame, wide_visits(v, lambda variable, month: f"{variable}_m{month}", convert)], axis=1)
    targets = [folder / "okapi.sav", folder / "administrations.sav"]
    pyreadstat.write_sav(frame, targets[0], missing_ranges={f"ttt_{t}": [-99.0] for t in TREATMENTS})
    ketamine = pd.DataFrame({"id": k["patient_id"], "date": _iso_date(k["date"]), "dose": _number(k["dose_mg"])})
    pyreadstat.write_sav(ketamine, targets[1], variable_format={"date": "DATE11"})
    return targets


SPSS_MAPPING = """
[options]
date_format = "%d/%m/%Y"
[patients]
source = "okapi.sav"
[patients.columns]
patient_id = "id"
centre = "centre"
inclusion_date = "date_inclusion"
age = "age"
sex = { column = "sexe", recode = { femme = "F", homme = "M" } }
pain_type = { column = "douleur", recode = PAIN_RECODE }
pain_duration_years = "duree"
opioid = "ttt_opioid"
antidepressant = "ttt_antidepressant"
antiepileptic = "ttt_antiepileptic"
anxiolytic = "ttt_anxiolytic"
ae_week1 = "ei_s1"
[visits]
source = "okapi.sav"
layout = "wide"
[visits.columns]
patient_id = "id"
nprs = { wide = "nprs_m{month}" }
hads_d = { wide = "hads_d_m{month}" }
hads_a = { wide = "hads_a_m{month}" }
sf12_pcs = { wide = "sf12_pcs_m{month}", missing = [-99] }
sf12_mcs = { wide = "sf12_mcs_m{month}", missing = [-99] }
adverse_effect = { wide = "adverse_effect_m{month}" }
[ketamine]
source = "administrations.sav"
[ketamine.columns]
patient_id = "id"
date = "date"
dose_mg = "dose"
""".replace("PAIN_RECODE", PAIN_RECODE)


def write_sas_transport(folder: Path) -> list[Path]:
    import pyreadstat

    data = committed()
    p, v, k = data["patients"], data["visits"], data["ketamine"]
    short = {"nprs": "NPRS", "hads_d": "HADD", "hads_a": "HADA", "sf12_pcs": "PCS", "sf12_mcs": "MCS",
             "adverse_effect": "EI"}
    frame = pd.DataFrame({
        "ID": p["patient_id"], "CENTRE": p["centre"], "DATINCL": _iso_date(p["inclusion_date"]),
        "AGE": _number(p["age"]), "SEXE": p["sex"].map({"F": 1.0, "M": 2.0}), "DOULEUR": p["pain_type"].map(PAIN_FR),
        "DUREE": _number(p["pain_duration_years"]), "OPIOIDE": _number(p["opioid"]),
        "ANTIDEP": _number(p["antidepressant"]), "ANTIEPI": _number(p["antiepileptic"]),
        "ANXIO": _number(p["anxiolytic"]), "EIS1": _number(p["ae_week1"]),
    })
    frame = pd.concat([frame, wide_visits(v, lambda variable, month: f"{short[variable]}{month}",
                                          lambda variable, column: _number(column))], axis=1)
    targets = [folder / "okapi.xpt", folder / "ketamin.xpt"]
    pyreadstat.write_xport(frame, targets[0], file_format_version=5, table_name="OKAPI",
                           variable_format={"DATINCL": "DATE9"})
    ketamine = pd.DataFrame({"ID": k["patient_id"], "DATEADM": _iso_date(k["date"]), "DOSEMG": _number(k["dose_mg"])})
    pyreadstat.write_xport(ketamine, targets[1], file_format_version=5, table_name="KETAMIN",
                           variable_format={"DATEADM": "DATE9"})
    return targets


SAS_TRANSPORT_MAPPING = """
[patients]
source = "okapi.xpt"
[patients.columns]
patient_id = "ID"
centre = "CENTRE"
inclusion_date = "DATINCL"
age = "AGE"
sex = { column = "SEXE", recode = { 1 = "F", 2 = "M" } }
pain_type = { column = "DOULEUR", recode = PAIN_RECODE }
pain_duration_years = "DUREE"
opioid = "OPIOIDE"
antidepressant = "ANTIDEP"
antiepileptic = "ANTIEPI"
anxiolytic = "ANXIO"
ae_week1 = "EIS1"
[visits]
source = "okapi.xpt"
layout = "wide"
[visits.columns]
patient_id = "ID"
nprs = { wide = "NPRS{month}" }
hads_d = { wide = "HADD{month}" }
hads_a = { wide = "HADA{month}" }
sf12_pcs = { wide = "PCS{month}" }
sf12_mcs = { wide = "MCS{month}" }
adverse_effect = { wide = "EI{month}" }
[ketamine]
source = "ketamin.xpt"
[ketamine.columns]
patient_id = "ID"
date = "DATEADM"
dose_mg = "DOSEMG"
""".replace("PAIN_RECODE", PAIN_RECODE)


def _text_or(values: list[str], missing: str) -> list[str]:
    return [value if value else missing for value in values]


def write_excel(folder: Path) -> list[Path]:
    import openpyxl
    from datetime import datetime

    data = committed()
    p, v, k = data["patients"], data["visits"], data["ketamine"]
    frame = pd.DataFrame({
        "N° patient": p["patient_id"], "Centre": p["centre"],
        "Date d'inclusion": [datetime.fromisoformat(t) for t in p["inclusion_date"]],
        "Âge": [int(t) for t in p["age"]], "Sexe": p["sex"].map(SEX_FR),
        "Type de douleur": p["pain_type"].map(PAIN_FR),
        "Durée (ans)": _text_or(_comma(p["pain_duration_years"]), "NA"),
        **{t.capitalize(): _text_or(list(p[t]), "NA") for t in TREATMENTS}, "EI S1": _text_or(list(p["ae_week1"]), ""),
    })
    frame = pd.concat([frame, wide_visits(v, lambda variable, month: f"{variable.upper()} M{month}",
                                          lambda variable, column: _text_or(_comma(column), "NA"))], axis=1)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Patients"
    sheet.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        sheet.append([None if value == "" else value for value in row])
    admin = book.create_sheet("Kétamine")
    admin.append(["N° patient", "Date", "Dose (mg)"])
    for row in k.itertuples(index=False):
        admin.append([row.patient_id, _french_date([row.date])[0], row.dose_mg.replace(".", ",")])
    target = folder / "okapi.xlsx"
    book.save(target)
    return [target]


EXCEL_MAPPING = """
[options]
missing = ["NA"]
decimal = ","
[patients]
sheet = "Patients"
[patients.columns]
patient_id = "N° patient"
centre = "Centre"
inclusion_date = "Date d'inclusion"
age = "Âge"
sex = { column = "Sexe", recode = { femme = "F", homme = "M" } }
pain_type = { column = "Type de douleur", recode = PAIN_RECODE }
pain_duration_years = "Durée (ans)"
opioid = "Opioid"
antidepressant = "Antidepressant"
antiepileptic = "Antiepileptic"
anxiolytic = "Anxiolytic"
ae_week1 = "EI S1"
[visits]
sheet = "Patients"
layout = "wide"
[visits.columns]
patient_id = "N° patient"
nprs = { wide = "NPRS M{month}" }
hads_d = { wide = "HADS_D M{month}" }
hads_a = { wide = "HADS_A M{month}" }
sf12_pcs = { wide = "SF12_PCS M{month}" }
sf12_mcs = { wide = "SF12_MCS M{month}" }
adverse_effect = { wide = "ADVERSE_EFFECT M{month}" }
[ketamine]
sheet = "Kétamine"
date_format = "%d/%m/%Y"
[ketamine.columns]
patient_id = "N° patient"
date = "Date"
dose_mg = "Dose (mg)"
""".replace("PAIN_RECODE", PAIN_RECODE)


def write_csv(folder: Path, n_patients: int | None = None) -> list[Path]:
    data = committed(n_patients)
    p, v, k = data["patients"], data["visits"], data["ketamine"]
    sex = {"F": "féminin", "M": "masculin"}
    frame = pd.DataFrame({
        "patient": p["patient_id"], "centre": p["centre"], "inclusion": _french_date(p["inclusion_date"]),
        "age": p["age"], "sexe": p["sex"].map(sex), "douleur": p["pain_type"].map(PAIN_FR),
        "duree": _text_or(_comma(p["pain_duration_years"]), "."),
        **{t: _text_or(list(p[t]), ".") for t in TREATMENTS}, "ei_s1": _text_or(list(p["ae_week1"]), "."),
    })
    frame = pd.concat([frame, wide_visits(v, lambda variable, month: f"{variable}_{month}",
                                          lambda variable, column: _text_or(_comma(column), "."))], axis=1)
    targets = [folder / "okapi.csv", folder / "ketamine_admin.csv"]
    targets[0].write_bytes(frame.to_csv(sep=";", index=False, lineterminator="\r\n").encode("cp1252"))
    ketamine = pd.DataFrame({"patient": k["patient_id"], "date": _french_date(k["date"]), "dose": _comma(k["dose_mg"])})
    targets[1].write_bytes(ketamine.to_csv(sep=";", index=False, lineterminator="\r\n").encode("cp1252"))
    return targets


CSV_MAPPING = """
[options]
missing = ["."]
decimal = ","
date_format = "%d/%m/%Y"
[csv]
encoding = "cp1252"
[patients]
source = "okapi.csv"
[patients.columns]
patient_id = "patient"
centre = "centre"
inclusion_date = "inclusion"
age = "age"
sex = { column = "sexe", recode = { "féminin" = "F", masculin = "M" } }
pain_type = { column = "douleur", recode = PAIN_RECODE }
pain_duration_years = "duree"
opioid = "opioid"
antidepressant = "antidepressant"
antiepileptic = "antiepileptic"
anxiolytic = "anxiolytic"
ae_week1 = "ei_s1"
[visits]
source = "okapi.csv"
layout = "wide"
[visits.columns]
patient_id = "patient"
nprs = { wide = "nprs_{month}" }
hads_d = { wide = "hads_d_{month}" }
hads_a = { wide = "hads_a_{month}" }
sf12_pcs = { wide = "sf12_pcs_{month}" }
sf12_mcs = { wide = "sf12_mcs_{month}" }
adverse_effect = { wide = "adverse_effect_{month}" }
[ketamine]
source = "ketamine_admin.csv"
[ketamine.columns]
patient_id = "patient"
date = "date"
dose_mg = "dose"
""".replace("PAIN_RECODE", PAIN_RECODE)

WRITERS = {"stata": (write_stata, STATA_MAPPING), "spss": (write_spss, SPSS_MAPPING),
           "sas_transport": (write_sas_transport, SAS_TRANSPORT_MAPPING), "excel": (write_excel, EXCEL_MAPPING),
           "csv": (write_csv, CSV_MAPPING)}
