# Guards against disclosure from a real extract: a count of 1-4 patients (or its percentage) printed, a suppressed
# cell left uncounted in the note, or a per-patient table (patient_id column, one row per patient or per visit)
# displayed in "real" mode.

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from okapi.data.loading import load_cohort
from okapi.data.derive import pain_long, patient_summary
from okapi.data.privacy import MIN_CELL, PatientLevelOutputError, guard_patient_level, suppress_small_counts

VALID = Path(__file__).parent / "fixtures" / "valid"


@pytest.fixture(scope="module")
def real_cohort():
    cohort = load_cohort(VALID)
    assert cohort.mode == "real"
    return cohort


def counts_table() -> pd.DataFrame:
    return pd.DataFrame({
        "group": ["a", "b", "c", "d", "e", "f"],
        "n": [0, 1, 4, 5, 12, pd.NA],
        "pct": [0.0, 2.1, 8.3, 10.4, 25.0, None],
        "n_women": [3, 0, 4, 5, 9, 2],
    }).astype({"n": "Int64"})


def test_suppresses_counts_one_to_four_and_their_percentages():
    table = counts_table()
    result = suppress_small_counts(table, ["n", "n_women"], percent_columns={"pct": "n"})
    assert MIN_CELL == 5
    assert list(result.table["n"])[:5] == [0, "<5", "<5", 5, 12] and pd.isna(result.table["n"].iloc[5])
    assert list(result.table["pct"])[:5] == [0.0, "<5", "<5", 10.4, 25.0] and pd.isna(result.table["pct"].iloc[5])
    assert list(result.table["n_women"]) == ["<5", 0, "<5", 5, 9, "<5"]
    assert result.n_suppressed == 5
    assert "5 counts" in result.note and "<5" in result.note
    pd.testing.assert_frame_equal(table, counts_table())  # the input is not modified


def test_threshold_is_a_parameter():
    result = suppress_small_counts(counts_table(), ["n"], threshold=11)
    assert list(result.table["n"])[:5] == [0, "<11", "<11", "<11", 12]
    assert result.n_suppressed == 3


def test_no_small_counts_means_nothing_changes():
    table = pd.DataFrame({"n": [0, 5, 40]})
    result = suppress_small_counts(table, ["n"])
    assert result.n_suppressed == 0 and list(result.table["n"]) == [0, 5, 40]
    assert result.note.startswith("0 counts")


def test_rejects_unknown_columns():
    with pytest.raises(KeyError, match="nope"):
        suppress_small_counts(counts_table(), ["nope"])
    with pytest.raises(ValueError):
        suppress_small_counts(counts_table(), ["n"], percent_columns={"pct": "n_women"})


def test_guard_refuses_patient_level_tables_in_real_mode(real_cohort):
    with pytest.raises(PatientLevelOutputError):
        guard_patient_level(patient_summary(real_cohort), real_cohort)
    with pytest.raises(PatientLevelOutputError):
        guard_patient_level(pain_long(real_cohort), real_cohort)  # one row per visit
    with pytest.raises(PatientLevelOutputError):  # one row per patient, the id column dropped
        guard_patient_level(patient_summary(real_cohort).drop(columns="patient_id"), real_cohort)
    with pytest.raises(PatientLevelOutputError):  # a few rows, but keyed by patient
        guard_patient_level(real_cohort.patients.head(2).set_index("patient_id")[["age"]], real_cohort)


def test_guard_lets_aggregates_and_synthetic_data_through(real_cohort):
    aggregate = patient_summary(real_cohort).groupby("sex", as_index=False)["age"].mean()
    assert guard_patient_level(aggregate, real_cohort) is aggregate
    synthetic = dataclasses.replace(real_cohort, mode="synthetic")
    summary = patient_summary(synthetic)
    assert guard_patient_level(summary, synthetic) is summary


def test_guard_message_holds_no_values(real_cohort):
    with pytest.raises(PatientLevelOutputError) as raised:
        guard_patient_level(real_cohort.patients, real_cohort)
    assert "P01" not in str(raised.value) and "Centre-A" not in str(raised.value)


# --- the chapters' own tables, glued counts and figures in real mode (planted small groups) -----------------------
import re  # noqa: E402
from types import SimpleNamespace  # noqa: E402

import matplotlib  # noqa: E402
import numpy as np  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from okapi.chapters import (adverse_effects, cohort as cohort_description, cohort_figures,  # noqa: E402
                            mediation, pain_figures)
from okapi.chapters import trajectories_groups  # noqa: E402
from okapi.data.privacy import shown_count  # noqa: E402
from okapi.book.tables import Row, characteristics_table  # noqa: E402

SMALL_NUMBER = re.compile(r"(?<![\d.<])[1-4](?![\d.%])")  # a bare 1-4, not "<5", "1.5", "14" or "2%"


def planted_patients() -> pd.DataFrame:
    """40 patients: group 'a' of 37, group 'b' of 3; 'flag' true for 36 of 'a' (1 without), age missing for 2."""
    group = ["a"] * 37 + ["b"] * 3
    return pd.DataFrame({"group": group, "age": [float(20 + i) for i in range(38)] + [np.nan, np.nan],
                         "flag": [1] * 36 + [0] + [1, 0, 1], "dose": np.arange(40.0)})


def planted_table() -> pd.DataFrame:
    rows = [Row("Age", "age", "mean_sd"), Row("Flag", "flag", "count"), Row("Dose", "dose", "median_iqr")]
    return characteristics_table(planted_patients(), rows, by="group", group_labels={"a": "A", "b": "B"},
                                 min_cell=MIN_CELL)


def test_summary_cell_of_one_to_four_values_is_hidden():
    table = planted_table().set_index("Characteristic")
    small_group = next(c for c in table.columns if c.startswith("B"))
    assert table.loc["Age", small_group] == "<5"  # one patient's age (the other two are missing)
    assert table.loc["Dose", small_group] == "<5"  # a median of 3 values
    for value in table.to_numpy().ravel():
        assert not SMALL_NUMBER.search(str(value).split("(")[0]), value  # no count 1-4 before a bracket


def test_group_size_and_missing_count_of_one_to_four_are_hidden():
    table = planted_table()
    assert "B (n = <5)" in table.columns and "A (n = <5)" in table.columns  # A's size is Overall minus B's
    assert "Overall (n = 40)" in table.columns
    assert list(table["Missing"]) == ["<5", "0", "0"]


def test_complement_of_a_count_is_hidden():
    table = planted_table().set_index("Characteristic")
    column_a = next(c for c in table.columns if c.startswith("A"))
    assert table.loc["Flag", column_a] == "<5"  # 36 of 37 would tell that 1 patient is without the flag
    # B's cell is hidden, so Overall (which minus A would give it back) is hidden too
    assert table.loc["Flag", "Overall (n = 40)"] == "hidden"


def test_synthetic_mode_tables_are_untouched():
    rows = [Row("Age", "age", "mean_sd"), Row("Flag", "flag", "count")]
    table = characteristics_table(planted_patients(), rows, by="group", group_labels={"a": "A", "b": "B"})
    assert "B (n = 3)" in table.columns and list(table["Missing"]) == ["2", "0"]
    assert table.iloc[0, table.columns.get_loc("B (n = 3)")] != "<5"


def monthly_reports_planted() -> pd.DataFrame:
    """Month 1: 20 answers, 10 with an effect; 3 of them in a month with a stay (2 with an effect)."""
    effect = [1, 1, 0] + [1] * 8 + [0] * 9
    stay = [1, 1, 1] + [0] * 17
    rows = [{"patient_id": f"P{i:02d}", "month": 1, "adverse_effect": e, "stay": s}
            for i, (e, s) in enumerate(zip(effect, stay))]
    rows += [{"patient_id": f"P{i:02d}", "month": 2, "adverse_effect": int(i < 12), "stay": 0} for i in range(14)]
    return pd.DataFrame(rows)


def test_adverse_effect_cell_cannot_be_recovered_from_the_total():
    results = SimpleNamespace(monthly=adverse_effects.monthly_shares(monthly_reports_planted()), real_mode=True)
    table = adverse_effects.monthly_table(results).set_index("Month")
    month1, month2 = table.loc["1"], table.loc["2"]
    assert month1["All answers"].startswith("10 of 20")
    # with a stay: 2 of 3 (small); without would be 8 of 17 = all minus the hidden one, so hidden as well
    assert "hidden" in month1["Month with a ketamine stay"] and month1["Month without"] == "hidden"
    assert "hidden" in month2["All answers"]  # 12 of 14: two patients without an effect
    for value in table.drop(columns=[]).to_numpy().ravel():
        assert not SMALL_NUMBER.search(str(value).split("(")[0]), value
    synthetic = adverse_effects.monthly_table(SimpleNamespace(monthly=results.monthly, real_mode=False))
    assert synthetic.loc[0, "Month with a ketamine stay"].startswith("2 of 3")


def test_treatment_difference_hidden_when_a_complement_is_small():
    patients = pd.DataFrame({"depressed": [True] * 20 + [False] * 20,
                             "opioid": [1] * 18 + [0] * 2 + [1] * 10 + [0] * 10,
                             "antidepressant": [1] * 10 + [0] * 10 + [1] * 10 + [0] * 10,
                             "antiepileptic": [0] * 40, "anxiolytic": [1] * 5 + [0] * 35})
    table = adverse_effects.treatment_table(patients, MIN_CELL).set_index("Characteristic")
    difference = next(c for c in table.columns if c.startswith("Difference"))
    assert table.loc["Opioid", difference] == "-"  # 18 of 20: two without
    assert table.loc["Antidepressant", difference] != "-"


def planted_trajectory(real: bool):
    """Three classes of 30, 30 and 3 patients; the small class holds 2 neuropathic and 1 fibromyalgia patient."""
    n = [30, 30, 3]
    cls = np.repeat([1, 2, 3], n)
    ids = [f"P{i:03d}" for i in range(sum(n))]
    pain_type = ["neuropathic"] * 25 + ["fibromyalgia"] * 5 + ["fibromyalgia"] * 24 + ["neuropathic"] * 6 \
        + ["neuropathic", "neuropathic", "fibromyalgia"]
    rng = np.random.default_rng(3)
    patients = pd.DataFrame({"patient_id": ids, "pain_type": pain_type, "trajectory_class": cls,
                             "posterior_probability": 0.9, **{c: rng.normal(10, 2, sum(n)) for c in
                             ("hads_d_baseline", "hads_a_baseline", "sf12_pcs_baseline", "sf12_mcs_baseline")}})
    long = pd.DataFrame({"patient_id": np.repeat(ids, 2), "month": np.tile([0, 1], sum(n)),
                         "nprs": rng.integers(0, 11, 2 * sum(n)).astype(float)})
    results = SimpleNamespace(mode="real" if real else "synthetic", long=long, patients=patients)
    return results, SimpleNamespace(n_classes=3), patients


def test_c6_class_means_of_a_class_of_one_to_four_are_hidden(monkeypatch):
    results, fit, assigned = planted_trajectory(real=True)
    monkeypatch.setattr(trajectories_groups, "patients_by_class", lambda results, fit: assigned)
    table = trajectories_groups.c6_checks(results, fit)
    for values in table["Found"]:
        assert not re.search(r"(?<![\d.<])[1-4] patients", values)
    means = table.loc[table["Statement"].str.contains("more depression"), "Found"].iloc[0]
    assert means == "<5 patients in a group"  # the severe class has 3 patients
    shares = table.loc[table["Statement"].str.contains("Fibromyalgia"), "Found"].iloc[0]
    assert "<5 patients" in shares and "%" not in shares
    results.mode = "synthetic"
    assert "<5" not in trajectories_groups.c6_checks(results, fit).to_string()


def test_observed_class_means_of_one_to_four_patients_are_hidden(monkeypatch):
    results, fit, assigned = planted_trajectory(real=True)
    monkeypatch.setattr(trajectories_groups, "posterior_class_table", lambda fit: assigned)
    table = trajectories_groups.observed_class_means(results, fit)
    small = table["trajectory_class"] == 3
    assert table.loc[small, ["n", "mean"]].isna().all().all()
    assert table.loc[~small, "mean"].notna().all()


def test_glued_counts_go_through_shown_count(real_cohort):
    assert [shown_count(n, "real") for n in (0, 1, 4, 5)] == ["0", "<5", "<5", "5"]
    assert [shown_count(n, "synthetic") for n in (0, 1, 4, 5)] == ["0", "1", "4", "5"]
    glued = cohort_description.describe_cohort(real_cohort).glued  # six patients: a pattern count is small
    shown = [glued[key] for key in ("n_complete", "n_monotone", "n_intermittent")]
    assert "<5" in shown and not set(shown) & {"1", "2", "3", "4"}, shown
    _, flow = mediation.mediation_dataset(real_cohort)
    assert flow["n_missing_hads_among_y"] in ("0", "<5")


def bar_heights(fig) -> list[float]:
    """The drawn bars' heights (seaborn also keeps zero-height legend swatches among the axes' patches)."""
    heights = [p.get_height() for ax in fig.axes for p in ax.patches]
    plt.close(fig)
    return [h for h in heights if np.isfinite(h) and h != 0]


def test_figures_draw_no_count_of_one_to_four():
    answers = pd.DataFrame({"month": range(3), "Overall": [40, 3, 40], "A": [37, 3, 30], "B": [3, 0, 10]})
    heights = bar_heights(cohort_figures.plot_answers_by_month(answers, min_count=MIN_CELL))
    assert heights and not any(0 < h < MIN_CELL for h in heights)
    assert sorted(heights) == [10, 30]  # month 0: Overall minus A's 37 would give B back, so A goes too
    assert 3 in bar_heights(cohort_figures.plot_answers_by_month(answers))  # synthetic: everything drawn

    monthly = pd.DataFrame({"month": range(3), "n": [40, 3, 12], "mean": [6.0, np.nan, 5.0], "ci_low": [5.0, np.nan, 4.0],
                            "ci_high": [7.0, np.nan, 6.0], "model_mean": [6.0, 5.5, 5.0],
                            "model_ci_low": [5.0, 4.5, 4.0], "model_ci_high": [7.0, 6.5, 6.0]})
    curve = pd.DataFrame({"month": range(3), "predicted": [6.0, 5.5, 5.0], "ci_low": [5.0, 4.5, 4.0],
                          "ci_high": [7.0, 6.5, 6.0]})
    assert sorted(bar_heights(pain_figures.plot_pain_over_year(monthly, curve, min_count=MIN_CELL))) == [12, 40]


def test_pooled_missing_data_pattern_count_is_not_small(real_cohort):
    visits = real_cohort.visits
    fig = cohort_figures.plot_missing_data_patterns(visits, min_count=MIN_CELL)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    plt.close(fig)
    assert labels and not any(re.search(r"n = [1-4]\)", label) for label in labels)
    # planted: 7 patients of one pattern and 2 of others, so the pool (2) takes in the 7 and shows 9
    ids = [f"X{i}" for i in range(9)]
    planted = pd.DataFrame({"patient_id": np.repeat(ids, 13), "month": np.tile(range(13), 9),
                            "nprs": [5.0] * (13 * 7) + [np.nan if m % 2 else 5.0 for m in range(13)] * 2})
    fig = cohort_figures.plot_missing_data_patterns(planted, min_count=MIN_CELL)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    plt.close(fig)
    assert labels == ["other patterns (n = 9)"]
