# Guards the engine's promise that the same command runs on a laptop or a cluster with the same numbers: results that
# change when the tasks run on Dask's distributed workers (seeds drawn per worker or in completion order, results
# gathered out of task order, a BLAS summing in another order), a --scheduler option or OKAPI_DASK_SCHEDULER that the
# simulation study or the assumptions sweep ignores (silently running on this machine), workers that import another
# copy of okapi than the one under test, and an unreachable scheduler reported as a traceback.
import functools

import dask
import pandas as pd
import pytest
from distributed import Client, LocalCluster

import okapi
from okapi import cli
from okapi.plan import SensitivitySettings, SimulationStudySettings
from okapi.sensitivity import assumptions as sweep
from okapi.simulation import study
from okapi.compute.engine import SCHEDULER_ENV, map_in_processes

SMALL_STUDY = functools.partial(SimulationStudySettings, n_boot=200, pseudo_truth_patients=2000, pseudo_truth_parts=2,
                                population_patients=20_000)
SMALL_SWEEP = SensitivitySettings(sweep_replicates=2, sweep_default_cohorts=3, sweep_trajectory_starts=4,
                                  sweep_trajectory_final=2, sweep_population_patients=20_000,
                                  sweep_population_default_draws=2)
SWEPT = ["pain_per_gram_received"]


class _Synthetic:
    mode = "synthetic"


@pytest.fixture(scope="module")
def cluster(request):
    """Two worker processes of one thread each on this machine, as a cluster's scheduler would hand them out."""
    local = LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None)
    request.addfinalizer(local.close)
    return local


@pytest.fixture(scope="module")
def client(cluster, request):
    """A client of the cluster, to ask its scheduler how much work it has been given."""
    connected = Client(cluster.scheduler_address)
    request.addfinalizer(connected.close)
    return connected


def transitions(client) -> int:
    """Task state changes on the scheduler so far: it grows only when the cluster is given work."""
    return client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.transition_counter)


@pytest.fixture(autouse=True)
def no_scheduler_from_the_environment(monkeypatch):
    """Local runs must be local even when whoever runs the tests has OKAPI_DASK_SCHEDULER set."""
    monkeypatch.delenv(SCHEDULER_ENV, raising=False)


@pytest.mark.slow
def test_the_cluster_workers_run_the_okapi_under_test(cluster):
    # Otherwise the comparisons below could compare this copy of okapi with another installed one.
    found = map_in_processes(lambda _: __import__("okapi").__file__, range(4), scheduler=cluster.scheduler_address)
    assert found == [okapi.__file__] * 4


@pytest.mark.slow
def test_a_dask_cluster_gives_the_same_replicates_as_this_machine(cluster, client):
    settings = SMALL_STUDY(n_replicates=4)
    local = {workers: study.run_simulation_study(SMALL_STUDY(n_replicates=4, n_workers=workers)) for workers in (1, 2)}
    before = transitions(client)
    on_cluster = study.run_simulation_study(settings, scheduler=cluster.scheduler_address)
    assert transitions(client) > before, "the tasks did not run on the cluster"
    for run in (local[2], on_cluster):
        pd.testing.assert_frame_equal(run.replicates, local[1].replicates, check_exact=True)
        pd.testing.assert_frame_equal(run.truths, local[1].truths, check_exact=True)
        pd.testing.assert_frame_equal(run.performance, local[1].performance, check_exact=True)
    assert list(on_cluster.replicates["replicate"]) == [0, 1, 2, 3]


@pytest.mark.slow
def test_the_environment_variable_sends_the_assumptions_sweep_to_the_cluster(cluster, client, monkeypatch):
    local = sweep.run_assumptions_sensitivity(_Synthetic(), SMALL_SWEEP, parameters=SWEPT)
    monkeypatch.setenv(SCHEDULER_ENV, cluster.scheduler_address)
    before = transitions(client)
    on_cluster = sweep.run_assumptions_sensitivity(_Synthetic(), SMALL_SWEEP, parameters=SWEPT)
    assert transitions(client) > before, "OKAPI_DASK_SCHEDULER was ignored: the sweep ran on this machine"
    pd.testing.assert_frame_equal(on_cluster.raw, local.raw, check_exact=True)
    pd.testing.assert_frame_equal(on_cluster.chosen_k, local.chosen_k, check_exact=True)


@pytest.mark.slow
def test_the_command_runs_on_the_scheduler_it_is_given_with_the_same_numbers(cluster, client, monkeypatch, tmp_path,
                                                                             capsys):
    # The command line end to end (argparse, the command, the CSVs it writes), with the appendix's truths shrunk as in
    # test_simulation_study so that it runs in seconds: locally, with --scheduler, and with OKAPI_DASK_SCHEDULER.
    monkeypatch.setattr(study, "SimulationStudySettings", SMALL_STUDY)
    address = cluster.scheduler_address
    assert cli.main(["simulation-study", "--replicates", "2", "--workers", "1", "--out", str(tmp_path / "local")]) == 0
    before = transitions(client)
    assert cli.main(["simulation-study", "--replicates", "2", "--scheduler", address,
                     "--out", str(tmp_path / "option")]) == 0
    after_option = transitions(client)
    monkeypatch.setenv(SCHEDULER_ENV, address)
    assert cli.main(["simulation-study", "--replicates", "2", "--out", str(tmp_path / "variable")]) == 0
    assert before < after_option < transitions(client), "a run did not reach the cluster"
    assert f"run on the Dask cluster at {address}" in capsys.readouterr().out
    for table in ("replicates", "performance", "truths"):
        expected = (tmp_path / "local" / f"simulation_{table}.csv").read_bytes()
        for run in ("option", "variable"):
            assert (tmp_path / run / f"simulation_{table}.csv").read_bytes() == expected, (run, table)


def test_the_help_says_where_the_work_can_run_and_that_results_do_not_depend_on_it(capsys):
    with pytest.raises(SystemExit):
        cli.main(["simulation-study", "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    assert "--scheduler tcp://HOST:PORT" in shown and SCHEDULER_ENV in shown
    assert "do not depend on the number of workers, on the scheduler" in shown


def test_an_unreachable_scheduler_is_reported_not_a_traceback(monkeypatch, capsys):
    monkeypatch.setattr(study, "SimulationStudySettings", SMALL_STUDY)
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        assert cli.main(["simulation-study", "--replicates", "2", "--scheduler", "tcp://127.0.0.1:1"]) == 1
    assert "cannot use the Dask scheduler tcp://127.0.0.1:1" in capsys.readouterr().err
