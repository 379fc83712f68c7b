"""One source cell to one codebook cell as `okapi import` writes it: missing codes, value labels, recodes, dates, units.

The written text is exactly what `okapi simulate` writes for the same value (integers without '.0', numbers with at
least one decimal and no binary noise, ISO dates, an empty cell for missing), so that an extract imported from any
format is byte-identical to the same data written by the generator. Numbers go through `decimal.Decimal` from their
shortest text (a Stata float through its single-precision text), so a unit conversion is exact: 0.055 g is 55.0 mg.

`convert` returns (text, outcome) or raises CellError with the kind of problem (an exit code of okapi.data.mapping)
and a message that never holds the cell's value.
"""

import math
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

import numpy as np

from okapi.data.codebook import ColumnRule
from okapi.data.mapping import UNITS, VariableSpec
from okapi.data.readers import DeclaredMissing

# Day (SPSS: second) numbers that a date stored without its date format holds.
DAY_ZERO = {"stata": date(1960, 1, 1), "sas": date(1960, 1, 1), "excel": date(1899, 12, 30)}
SPSS_ZERO = datetime(1582, 10, 14)


class CellError(Exception):
    def __init__(self, kind: str, message: str):
        self.kind = kind
        super().__init__(message)


def canonical(value, float32: bool = False) -> str | None:
    """The text a recode key or missing code is compared with: 1.0 -> "1", " femme " -> "femme", dates in ISO."""
    if value is None:
        return None
    if isinstance(value, DeclaredMissing):
        return value.code
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if math.isnan(value):
            return None
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return np.format_float_positional(np.float32(value), unique=True) if float32 else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _decimal_text(number: Decimal) -> str:
    """At least one decimal, no trailing zeros beyond it, no exponent, no negative zero: 55 -> "55.0"."""
    if number == 0:
        return "0.0"
    text = format(number.normalize(), "f")
    return text if "." in text else text + ".0"


def _as_decimal(value, key: str, spec: VariableSpec) -> Decimal:
    text = key
    if isinstance(value, str):
        text = value.strip().replace(" ", "")
        if spec.decimal == ",":
            text = text.replace(",", ".")
        elif "," in text:
            raise CellError("wrong_type", "a number written with a decimal comma: add decimal = \",\" to the mapping")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise CellError("wrong_type", "not a number") from None
    if not number.is_finite():
        raise CellError("wrong_type", "not a finite number")
    return number


def _date(value, key: str, spec: VariableSpec) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    fmt = spec.date_format
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        if fmt == "spss":
            return (SPSS_ZERO + timedelta(seconds=float(value))).date()
        if fmt in DAY_ZERO and float(value).is_integer():
            return DAY_ZERO[fmt] + timedelta(days=int(value))
        raise CellError("bad_date", "a number where a date is expected: the source stores dates as day numbers; set "
                                    "date_format = \"stata\", \"sas\", \"excel\" or \"spss\" for this variable")
    if fmt in DAY_ZERO or fmt == "spss":
        raise CellError("bad_date", f"a text where a {fmt} day number is expected")
    try:
        return datetime.strptime(key, fmt).date()
    except ValueError:
        raise CellError("bad_date", f"does not parse as a date with date_format {fmt!r}") from None


def convert(value, rule: ColumnRule, spec: VariableSpec, labels: dict | None, float32: bool) -> tuple[str, str]:
    """(text to write, outcome) with outcome one of: "copied", "recoded", "set_missing", "declared_missing", "empty".

    A unit conversion is reported by the caller (it applies to every value of the column)."""
    if value is None:
        return "", "empty"
    if isinstance(value, DeclaredMissing):
        return "", "declared_missing"
    key = canonical(value, float32)
    if key is None or key == "":
        return "", "empty"
    if key in spec.missing:
        return "", "set_missing"
    outcome = "copied"
    if spec.value_labels and labels:
        label = labels.get(value)  # label keys are int (Stata) or float (SPSS): 1 == 1.0 finds either
        if label is not None:
            value, key, outcome = str(label), str(label).strip(), "recoded"
            if key in spec.missing:
                return "", "set_missing"
    if spec.recode:
        if key not in spec.recode:
            raise CellError("missing_recode", "this value has no recode in the mapping (add it to recode)")
        value = key = spec.recode[key]
        outcome = "recoded"
    return _typed_text(value, key, rule, spec), outcome


def _typed_text(value, key: str, rule: ColumnRule, spec: VariableSpec) -> str:
    if rule.type in ("category", "binary"):
        if key not in rule.levels:
            raise CellError("missing_recode", f"not a codebook level ({', '.join(rule.levels)}) and the mapping has no "
                                              "recode for it")
        return key
    if rule.type == "string":
        return key
    if rule.type == "date":
        return _date(value, key, spec).isoformat()
    if isinstance(value, (date, datetime)):
        raise CellError("wrong_type", f"a date where the codebook wants a {rule.type}")
    number = _as_decimal(value, key, spec)
    if spec.unit:
        number *= Decimal(UNITS[rule.unit][spec.unit])
    if rule.type == "integer":
        if number != number.to_integral_value():
            raise CellError("wrong_type", "not a whole number")
        return str(int(number))
    return _decimal_text(number)
