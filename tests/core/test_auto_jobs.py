"""The default number of worker processes: never slower than one process. Workers cost
seconds each to start (benchmarks/scaling.py measures it), so a handful of exposures runs
in this process and only a batch that gives every worker its share uses them."""

import json

import pytest

from spec2.batch import EXPOSURES_PER_WORKER, auto_jobs, process
from spec2.pipeline import RunOptions
from spec2.plugins import get_plugin_manager

from .toy import ToyPlugin, flat_model, write_rate

K = EXPOSURES_PER_WORKER


@pytest.mark.parametrize("n, cores, expected", [
    (2, 2, 1),  # the case where one worker per core was 1.7-2x slower than -j 1
    (10, 2, 1),  # the demo's ten exposures
    (2 * K - 1, 2, 1),
    (2 * K, 2, 2),
    (1000, 2, 2),  # never more than the cores
    (3 * K, 8, 3),
    (1000, 8, 8),
    (1000, 1, 1),
    (0, 4, 1),
])
def test_auto_jobs(n, cores, expected):
    assert auto_jobs(n, cores) == expected


def test_auto_jobs_never_gives_a_worker_fewer_than_its_share():
    for cores in range(1, 17):
        for n in range(20 * K):
            w = auto_jobs(n, cores)
            assert 1 <= w <= max(cores, 1)
            assert w == 1 or n >= w * K


def test_default_run_of_a_few_exposures_stays_in_this_process(tmp_path):
    rates = [write_rate(tmp_path / f"jw0{i}_rate.fits") for i in range(3)]
    pm = get_plugin_manager([ToyPlugin()], load_entrypoints=False)
    results, report = process(rates, RunOptions(tmp_path / "out", overrides={"flat": flat_model()}), pm=pm)
    assert all(r.ok for r in results)
    assert json.loads(report.read_text())["engine"] == "this process"
    assert {r.worker for r in results} == {"local"}
