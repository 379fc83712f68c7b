# Guards the reader against a generator parameter shown by its code name alone (a parameter added without a label, or
# a table that drops the label), and against two parameters that read the same.
import re

from okapi.chapters.methods import parameter_table
from okapi.synthetic.parameter_labels import PARAMETER_LABELS, parameter_label
from okapi.synthetic.parameters import PARAMETERS

import pytest


def test_every_generator_parameter_has_its_own_label():
    names = [p.name for p in PARAMETERS]
    assert set(PARAMETER_LABELS) == set(names), "labels missing or left over for renamed parameters"
    assert len(set(PARAMETER_LABELS.values())) == len(PARAMETER_LABELS), "two parameters with the same label"
    assert not [label for label in PARAMETER_LABELS.values() if re.search(r"\w_\w", label)], "a code name as label"


def test_a_parameter_without_a_label_is_named_in_the_error():
    with pytest.raises(KeyError, match="new_parameter"):
        parameter_label("new_parameter")


def test_the_methods_table_shows_the_label_then_the_code_name():
    shown = parameter_table()["Parameter"]
    assert list(shown) == [f"{PARAMETER_LABELS[p.name]} (`{p.name}`)" for p in PARAMETERS]
