# Guards real-data mode against an output that slips past the chapters' own suppression: every table, glued text and
# figure leaves through okapi.book.report, which passes it to the one output guard (okapi.data.privacy.OUTPUT_GUARD).
# Planted leaks (a patient-level row, a count of 3 in a table, a glued count, "n = 3" on a figure) must each be
# refused with a message naming where; the same outputs pass on the synthetic cohort, and a suppressed "<5" passes.
import shutil

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from okapi import paths
from okapi.book import report, theme
from okapi.data.loading import load_cohort
from okapi.data.privacy import OUTPUT_GUARD, PatientLevelOutputError, SmallCountOutputError


@pytest.fixture()
def real_cohort(tmp_path):
    """The committed cohort copied elsewhere: loaded from there it is a "real" extract, which arms the guard."""
    folder = tmp_path / "extract"
    folder.mkdir()
    for name in paths.COHORT_FILES:
        shutil.copyfile(paths.DATA_DIR / name, folder / name)
    cohort = load_cohort(folder)
    assert cohort.mode == "real" and OUTPUT_GUARD.armed
    return cohort


def labelled_figure(label: str):
    with theme.book_theme():
        fig, ax = plt.subplots(figsize=theme.figure_size(2))
        ax.bar([0, 1], [10, 3])
        ax.set_xticks([0, 1], ["A (n = 10)", label])
        return theme.finish(fig, "Bar chart of two groups.")


def test_a_planted_patient_level_row_is_refused(real_cohort):
    one_patient = real_cohort.patients.head(1)[["patient_id", "age"]]
    with pytest.raises(PatientLevelOutputError, match="tbl-planted"):
        report.markdown_table(one_patient, "A listing", "tbl-planted")
    # The identifier alone, without a patient_id column, is refused too.
    listing = pd.DataFrame({"Who": [real_cohort.patients["patient_id"].iloc[0]], "Age": ["51"]})
    with pytest.raises(PatientLevelOutputError, match="column 'Who', row 1"):
        report.markdown_table(listing, "A listing", "tbl-planted-id")


def test_a_planted_small_count_is_refused_in_a_table_a_glued_text_and_a_figure(real_cohort):
    table = pd.DataFrame({"Group": ["A", "B"], "Patients": ["120", "3"]})
    with pytest.raises(SmallCountOutputError, match="column 'Patients', row 2"):
        report.markdown_table(table, "Counts", "tbl-small")
    with pytest.raises(SmallCountOutputError, match="row 1"):
        report.markdown_table(pd.DataFrame({"Item": ["women 3 (1.0%)"]}), "Share", "tbl-share")
    with pytest.raises(SmallCountOutputError, match="dep_n_excluded"):
        report.glue_numbers({"dep_n_excluded": "3"})
    with pytest.raises(SmallCountOutputError, match="figure 'fig_planted'"):
        report.glue_figure("fig_planted", labelled_figure("B (n = 3)"))


def test_suppressed_counts_and_non_counts_pass_the_armed_guard(real_cohort):
    OUTPUT_GUARD.check_table(pd.DataFrame({"Group": ["A", "B"], "Patients": ["120", "<5"], "Month": ["3", "4"]}),
                             "tbl-fine")
    OUTPUT_GUARD.check_text("dep_interaction_month", "3")  # not a count by its name
    OUTPUT_GUARD.check_text("dep_n_excluded", "<5")
    OUTPUT_GUARD.check_text("cut", "HADS-D > 7 (52.0%)")  # a cut-off, not a count


def test_the_synthetic_cohort_is_not_guarded():
    load_cohort()
    assert not OUTPUT_GUARD.armed
    OUTPUT_GUARD.check_table(pd.DataFrame({"Patients": ["3"]}), "tbl-synthetic")
    OUTPUT_GUARD.check_text("dep_n_excluded", "3")


def test_a_figure_without_alt_text_or_too_small_to_read_is_refused():
    fig, ax = plt.subplots(figsize=(4, 2))
    with pytest.raises(ValueError, match="no alt text"):
        report.glue_figure("fig_no_alt", fig)
    fig, ax = plt.subplots(figsize=(9, 2))
    with pytest.raises(ValueError, match="wider than the text column"):
        report.glue_figure("fig_wide", theme.finish(fig, "An empty chart."))
    fig, ax = plt.subplots(figsize=(4, 2))
    ax.set_title("tiny", fontsize=5)
    with pytest.raises(ValueError, match="5 pt"):
        report.glue_figure("fig_tiny", theme.finish(fig, "An empty chart."))
