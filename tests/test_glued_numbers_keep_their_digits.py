# Guards against a glued number that silently loses digits: MyST-NB reads glued text back with ast.literal_eval, so a
# number glued as a bare value (1.60) is shown as 1.6, and "5, 7, 10" as a tuple. Every glued text must therefore be
# stored as a string literal, which okapi.book.report.glue_text does.
import pytest
from IPython.core.formatters import PlainTextFormatter
from myst_nb.core.variables import format_plain_text

from book_pages import executed_notebooks, glued_raw_texts


@pytest.mark.parametrize("text", ["1.60", "0.50 (0.40 to 0.80)", "5, 7, 10", "−0.04", "'quoted'", "329"])
def test_glue_text_round_trips_exactly(text):
    stored = PlainTextFormatter()(text)  # what glue() stores for a str
    assert format_plain_text(stored, "") == text


@pytest.mark.parametrize("notebook", executed_notebooks(), ids=lambda p: p.stem)
def test_every_glued_text_is_stored_as_a_string(notebook):
    not_strings = [name for name, raw in glued_raw_texts(notebook).items() if raw[:1] not in ("'", '"')]
    assert not not_strings, f"{notebook.name}: glued without okapi.book.report.glue_text: {not_strings}"
