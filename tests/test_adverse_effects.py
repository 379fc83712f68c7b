# Guards against adverse-effect figures computed over the wrong patients, months or intervals: administrations put in
# the wrong follow-up month, unanswered calls counted as "no effect", a trend model whose coefficients do not mean
# what the chapter says (checked against the generator's known odds), interval formulas that differ from the
# reference ones, verdicts that do not follow their rule, small counts shown from a real extract, and glued numbers
# that myst-nb would mangle.
import re

import numpy as np
import pytest
from scipy.special import logit
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from book_pages import texts_myst_would_change
from okapi.chapters import adverse_effects as ae
from okapi.synthetic.parameters import parameter_values
from okapi.data.loading import load_cohort
from okapi.verdicts.ledger import NOT_REPRODUCED, REPRODUCED
from okapi.data.privacy import MIN_CELL
from okapi.synthetic.cohort import simulate_arrays, simulate_cohort, write_cohort
from okapi.data.targets import target_value


def _loaded(tmp_path_factory, n, seed):
    folder = tmp_path_factory.mktemp(f"ae_cohort_{n}_{seed}")
    write_cohort(simulate_cohort(n, seed=seed), folder)
    return load_cohort(folder)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return _loaded(tmp_path_factory, 329, 5)


@pytest.fixture(scope="module")
def small_results(small):
    return ae.analyse_adverse_effects(small)


def test_double_programming_wilson_interval_matches_statsmodels(small_results):
    p = small_results.week1
    low, high = proportion_confint(p.count, p.total, alpha=0.05, method="wilson")
    assert (p.ci_low, p.ci_high) == pytest.approx((low, high), rel=1e-10)


@pytest.mark.parametrize("counts", [(62, 138, 56, 138), (3, 40, 12, 35), (88, 157, 59, 158)])
def test_double_programming_newcombe_difference_matches_statsmodels(counts):
    difference, low, high = ae.newcombe_difference(*counts)
    reference = confint_proportions_2indep(*counts, method="newcomb", compare="diff")
    assert difference == pytest.approx(counts[0] / counts[1] - counts[2] / counts[3])
    assert (low, high) == pytest.approx(reference, rel=1e-9)


def test_administration_months_match_the_generator(small):
    # The generator marks month floor(day / (365.25/12)) + 1 (capped at 12); the chapter recovers it from dates.
    _, _, follow_up = simulate_arrays(329, 5)
    expected = {(patient, month) for patient, month in zip(*np.nonzero(follow_up["infusion_month"]))}
    position = {pid: i for i, pid in enumerate(small.patients["patient_id"])}
    months = ae.administration_months(small)
    found = {(position[pid], month) for pid, month in zip(months["patient_id"], months["month"])}
    assert found == expected


def test_monthly_shares_count_only_answered_calls(small, small_results):
    monthly = small_results.monthly
    visits = small.visits
    for _, row in monthly.iterrows():
        at_month = visits.loc[visits["month"] == row["month"], "adverse_effect"]
        assert row["answered"] == at_month.notna().sum()
        assert row["with_effect"] == (at_month == 1).sum()
        assert row["answered_stay"] + row["answered_no_stay"] == row["answered"]
        assert row["with_effect_stay"] + row["with_effect_no_stay"] == row["with_effect"]
    assert small_results.n_reports == monthly["answered"].sum()


def test_trend_recovers_the_generators_odds(tmp_path_factory):
    # The generator's log-odds fall linearly from month 1 to month 12 and rise by log(OR) in a month with a stay,
    # with no patient effect: the marginal model's coefficients are then exactly these. Tolerance: 4 robust SEs.
    cohort = _loaded(tmp_path_factory, 3000, 13)
    values = parameter_values()
    slope = (logit(values["ae_monthly_share_month12"]) - logit(values["ae_monthly_share_month1"])) / 11
    fitted = ae.fit_trend(ae.monthly_reports(cohort), adjust_for_stay=True)
    for name, truth in (("month", slope), ("stay", np.log(values["ae_odds_ratio_infusion_month"]))):
        estimate = fitted[name]
        se = (np.log(estimate.ci_high) - np.log(estimate.ci_low)) / (2 * 1.959964)
        assert abs(np.log(estimate.odds_ratio) - truth) < 4 * se, name


def test_treatment_groups_add_up_to_the_overall_count(small, small_results):
    table = small_results.treatments.set_index("Characteristic")
    columns = [c for c in table.columns if c.startswith(("Overall", "HADS"))]
    patients = small.patients
    for column, label in ae.TREATMENTS.items():
        overall, *groups = (int(re.match(r"(\d+)", table.loc[label, c]).group(1)) for c in columns)
        assert overall == int((patients[column] == 1).sum())
        assert sum(groups) <= overall


def test_ledger_verdicts_follow_their_rule(small_results):
    entries = {item.id: item for item in ae.ledger_entries(small_results)}
    for target_id, p in (("C7a", small_results.week1), ("C7b", small_results.week1_assessed)):
        published_share = target_value(target_id) / target_value("C7b" if target_id == "C7a" else "C1")
        inside = p.ci_low <= published_share <= p.ci_high
        assert entries[target_id].verdict == (REPRODUCED if inside else NOT_REPRODUCED)
        assert entries[target_id].ci_low <= entries[target_id].estimate <= entries[target_id].ci_high


def test_real_extract_hides_counts_below_the_minimum_cell(small_results):
    assert small_results.real_mode  # a folder other than data/ is treated as real
    for cell in ae.monthly_table(small_results).drop(columns="Month").to_numpy().ravel():
        match = re.match(r"(\d+) of", cell)
        assert match is None or not 0 < int(match.group(1)) < MIN_CELL, cell


def test_glued_texts_survive_myst_literal_eval(small_results):
    changed = texts_myst_would_change(ae.glued_texts(small_results))
    assert not changed, f"would be shown otherwise: {changed}"


def test_results_do_not_depend_on_row_order(small, small_results):
    rng = np.random.default_rng(4)
    shuffled = type(small)(small.patients, small.visits.sample(frac=1, random_state=rng).reset_index(drop=True),
                           small.ketamine.sample(frac=1, random_state=rng).reset_index(drop=True), small.folder,
                           small.mode, small.data_checksum)
    assert ae.glued_texts(ae.analyse_adverse_effects(shuffled)) == ae.glued_texts(small_results)
