# Guards against a simulation study that measures the wrong thing: bias, coverage or their Monte Carlo SEs computed
# wrongly, truths in the wrong unit, sign or scale, replicates that change with the number of workers or the number
# of replicates, and replicate cohorts analysed differently from the chapters that the study is meant to check.
import dataclasses
import functools

import numpy as np
import pandas as pd
import pytest

from okapi.chapters import depression, pain as pain_course
from okapi.simulation import study
from okapi.compute.engine import task_seeds
from okapi.simulation import study_figures as sf
from okapi.chapters import trajectories as ta
from okapi.synthetic.calibration import analogue_values, arrays_from_simulation
from okapi.synthetic.parameters import parameter_values
from okapi.data.loading import load_cohort
from okapi.data.derive import pain_long
from okapi.models.mediation import mediation_paths
from okapi.chapters.mediation import mediation_dataset
from okapi.synthetic.cohort import simulate_arrays
from okapi.synthetic.patients import class_linear_slopes, class_shares, hads_d_class_means
from okapi.plan import SimulationStudySettings

# A generator inside the models' assumptions: straight class courses (time constants of a million months), dropout
# unrelated to pain, no dose effect on the slope, and levels away from the 0 and 10 bounds. The chapters' models are
# then correctly specified for the mean slope, so every estimator should centre on the generator value.
WELL_SPECIFIED = (("pain_time_constant_months", (1e6, 1e6, 1e6)), ("dropout_log_odds_per_nprs_point", 0.0),
                  ("pain_per_gram_received", 0.0), ("pain_baseline_level", 5.0), ("pain_m0_class_offsets", (-1.0, 0.0, 0.5)))
TINY = SimulationStudySettings(n_replicates=4, n_boot=500, pseudo_truth_patients=6000, pseudo_truth_parts=2,
                           population_patients=200_000, overrides=WELL_SPECIFIED)


@pytest.fixture(scope="module")
def tiny_runs():
    """The same tiny study on one process and on two."""
    return {workers: study.run_simulation_study(dataclasses.replace(TINY, n_workers=workers)) for workers in (1, 2)}


def test_performance_measures_on_a_constructed_case():
    estimate = np.array([1.0, 2.0, 3.0, 1.8])
    low, high = np.array([0.5, 1.5, 2.9, 1.5]), np.array([1.5, 2.5, 3.1, 2.0])
    truth = 2.0  # inside intervals 2 and 4 (4 at its upper end: an end point counts as covered)
    result = study.performance(estimate, low, high, truth, truth_se=0.1)
    error = estimate - truth
    assert result["coverage"] == 0.5
    assert result["coverage_mc_se"] == pytest.approx(np.sqrt(0.5 * 0.5 / 4))
    assert result["bias"] == pytest.approx(error.mean())
    assert result["bias_mc_se"] == pytest.approx(np.sqrt(estimate.var(ddof=1) / 4 + 0.1 ** 2))
    assert result["rmse"] == pytest.approx(np.sqrt((error ** 2).mean()))
    assert result["median_bias"] == pytest.approx(np.median(error))
    assert result["mean_ci_width"] == pytest.approx(np.mean(high - low))
    assert result["excludes_zero"] == 1.0
    assert study.performance(estimate, low - 2, high, truth)["excludes_zero"] == 0.25  # only [0.9, 3.1] stays > 0


def test_coverage_is_judged_with_two_monte_carlo_ses():
    # at 200 replicates two MC SEs of a 95% coverage are 3.08 points
    assert sf.coverage_judgement(0.92, 200) == "consistent with the nominal 95%"
    assert sf.coverage_judgement(0.915, 200) == "below the nominal 95%"
    assert sf.coverage_judgement(0.985, 200) == "above the nominal 95%"


@pytest.mark.slow
def test_results_do_not_depend_on_the_number_of_workers(tiny_runs):
    one, two = tiny_runs[1], tiny_runs[2]
    pd.testing.assert_frame_equal(one.replicates, two.replicates, check_exact=True)
    pd.testing.assert_frame_equal(one.truths, two.truths, check_exact=True)


def test_replicate_cohorts_do_not_depend_on_the_number_of_replicates():
    first, _ = study.replicate_cohort(TINY, 2)
    again, _ = study.replicate_cohort(dataclasses.replace(TINY, n_replicates=200), 2)
    other, _ = study.replicate_cohort(TINY, 3)
    pd.testing.assert_frame_equal(first.visits, again.visits)
    assert first.seed != other.seed


def test_replicate_cohorts_are_typed_like_a_loaded_extract():
    loaded = load_cohort()
    replicate = study.as_cohort(study.replicate_cohort(TINY, 0)[0])
    for name in ("patients", "visits", "ketamine"):
        pd.testing.assert_series_equal(getattr(replicate, name).dtypes, getattr(loaded, name).dtypes)


@pytest.mark.slow
def test_generator_values_match_the_closed_form(tiny_runs):
    # Without a dose term, the mean true slope is the class-share-weighted linear slope of the class curves; the
    # depressed - not depressed difference adds the within-class shift to the class mix. Tolerance: 4 MC SEs.
    values = parameter_values(dict(WELL_SPECIFIED))
    shares, slopes, shift = class_shares(values), class_linear_slopes(values), values["slope_shift_depressed"]
    _, p_depressed = hads_d_class_means(values)
    given_depressed = shares * p_depressed / (shares @ p_depressed)
    given_not = shares * (1 - p_depressed) / (shares @ (1 - p_depressed))
    interaction = (given_depressed @ (slopes + shift * (1 - p_depressed))
                   - given_not @ (slopes - shift * p_depressed))
    truths = tiny_runs[1].truths
    for key, expected in (("time_effect", 12 * shares @ slopes), ("interaction", interaction)):
        assert truths.loc[key, "generator"] == pytest.approx(expected, abs=4 * truths.loc[key, "generator_se"])


def test_generator_values_agree_with_the_calibrations_analogues():
    # Second route: okapi.synthetic.calibration computes the same population quantities (R8, R12, R13 analogues) from the same
    # latent values with its own grouped regressions. Equal to rounding error on the same 20,000 patients.
    settings = SimulationStudySettings()
    n = 20_000
    mine = study._generator_values([study._population_part((settings, 0, n))])
    seed = task_seeds(settings.seed, study.POPULATION_KEY, 0)[0]
    patients, _, follow_up = simulate_arrays(n, seed)
    theirs = {key: float(value[0]) for key, value in analogue_values(arrays_from_simulation(patients,
                                                                                            follow_up)).items()}
    share = theirs["R13"] / 100  # a*b / (a*b + c'), so a*b = c' * share / (1 - share)
    assert mine["interaction"] == pytest.approx(theirs["R8"], rel=1e-9)
    assert mine["proportion"] == pytest.approx(theirs["R13"], rel=1e-9)
    assert mine["indirect"] == pytest.approx(theirs["R12"] * share / (1 - share), rel=1e-9)


@pytest.mark.slow
def test_recovers_the_truth_when_the_models_are_right(tiny_runs):
    # A unit slip (per month vs per year, points vs %) or a sign slip moves these by many Monte Carlo SEs.
    results = tiny_runs[1]
    table = results.performance.set_index(["quantity", "reference"])
    for key in ("time_effect", "interaction", "indirect"):
        row = table.loc[(key, "generator value")]
        assert abs(row["bias"]) < 4 * row["bias_mc_se"], key
        pseudo, generator = results.truths.loc[key, ["pseudo_truth", "generator"]]
        margin = 4 * np.hypot(*results.truths.loc[key, ["pseudo_truth_se", "generator_se"]]) + 4 * row["empirical_se"] \
            * np.sqrt(TINY.n_patients / TINY.pseudo_truth_patients)
        assert abs(pseudo - generator) < margin, key
    assert results.replicates["lmm_converged"].all()


def test_replicates_are_analysed_with_the_chapters_functions():
    # The chapters fit with the same REML engine as the study (okapi.models.lmm_batch), so the chapters' own entry
    # points must give the replicate's numbers exactly: any difference is in data preparation, formula or unit.
    settings = dataclasses.replace(TINY, overrides=())
    synthetic, _ = study.replicate_cohort(settings, 0)
    row = study.analyse_replicate((settings, 0))
    cohort = study.as_cohort(synthetic)
    long_df = pain_long(cohort)
    pain = pain_course.pain_course_from_data(long_df, cohort.visits)
    assert row["time_effect_estimate"] == pain.slope_per_year.estimate
    chapter = depression.depression_from_long(long_df).interaction_per_month
    assert (row["interaction_estimate"], row["interaction_low"]) == (chapter.estimate, chapter.ci_low)
    frame, _ = mediation_dataset(cohort)
    analysed = frame[frame["analysed"]]
    paths = mediation_paths(analysed["dose_g"], analysed["depressed"], analysed["diminution_per_month"])
    assert row["indirect_estimate"] == pytest.approx(paths[4], rel=1e-12)
    assert row["proportion_estimate"] == pytest.approx(100 * paths[5], rel=1e-12)


def test_pooled_mediation_paths_agree_with_the_chapters_function():
    # The truths pool patients through summed cross-products; mediation_paths (the chapter's) works on the rows.
    x, m, y = study.mediation_arrays(study.as_cohort(study.replicate_cohort(TINY, 1)[0]))
    halves = study.crossproducts(x[::2], m[::2], y[::2]) + study.crossproducts(x[1::2], m[1::2], y[1::2])
    pooled = study.paths_from_crossproducts(halves)
    paths = mediation_paths(x, m, y)
    assert pooled["indirect"] == pytest.approx(paths[4], rel=1e-9)
    assert pooled["proportion"] == pytest.approx(100 * paths[5], rel=1e-9)


def test_the_censored_model_left_out_could_never_be_chosen():
    # The study fits the trajectory chapter's models without the censored variant; that is the chapter's choice only
    # while choose_model ignores models whose BIC is not comparable, even one with a far lower BIC.
    def model(key, bic):
        table = pd.DataFrame({"n_classes": [1, 2], "bic": [bic, bic + 1]})
        return ta.ModelResults(key, table, {}, 1, "", 1)

    models = {"lcga": model("lcga", 100.0), "gmm": model("gmm", 90.0)}
    assert ta.choose_model({**models, "lcga_censored": model("lcga_censored", -1e9)}) == ta.choose_model(models)
    assert [k for k, spec in ta.MODELS.items() if not spec.comparable_bic] == ["lcga_censored"]


def test_command_writes_its_tables_and_keeps_progress_off_stdout(monkeypatch, tmp_path, capsys):
    small = functools.partial(SimulationStudySettings, n_boot=200, pseudo_truth_patients=2000, pseudo_truth_parts=2,
                              population_patients=20_000)
    monkeypatch.setattr(study, "SimulationStudySettings", small)
    assert study.run_simulation_study_command(2, 1, str(tmp_path / "out")) == 0
    printed = capsys.readouterr()
    assert "2/2" in printed.err and "2/2" not in printed.out  # the bar goes to stderr, tables to stdout
    written = pd.read_csv(tmp_path / "out" / "simulation_replicates.csv")
    assert list(written["replicate"]) == [0, 1]
    assert set(pd.read_csv(tmp_path / "out" / "simulation_performance.csv")["quantity"]) == set(study.QUANTITIES)
    assert study.run_simulation_study_command(1, 1, None) == 1


def test_pair_correlation_from_summed_parts_equals_numpy_on_all_pairs():
    # The generator value of R9 is pooled from population slices by sums; a slip in the sums would bias it silently.
    rng = np.random.default_rng(11)
    x, y = rng.gamma(2.0, 0.1, 500), rng.normal(size=500)
    y = y + 0.3 * x
    parts = [study.pair_sums(x[i:i + 100], y[i:i + 100]) for i in range(0, 500, 100)]
    assert study.correlation_from_sums(sum(parts)) == pytest.approx(np.corrcoef(x, y)[0, 1], rel=1e-12)
