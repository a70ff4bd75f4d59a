"""--resume across several runs into one output folder: the report keeps every completed
exposure's record, so re-running one exposure does not make the next --resume of the
whole batch recalculate the others."""

import json

import pytest

from spec2.batch import process
from spec2.pipeline import RunOptions
from spec2.plugins import get_plugin_manager
from spec2.report import carry_earlier

from .toy import ToyPlugin, flat_model, write_rate


@pytest.fixture
def rates(tmp_path):
    return [write_rate(tmp_path / f"jw0{i}_rate.fits", value=float(i + 1)) for i in range(3)]


def run(tmp_path, inputs, resume=False):
    toy = ToyPlugin()
    pm = get_plugin_manager([toy], load_entrypoints=False)
    opts = RunOptions(tmp_path / "out", overrides={"flat": flat_model()})
    results, report = process(inputs, opts, jobs=1, pm=pm, resume=resume)
    return toy, results, json.loads(report.read_text())


def test_rerunning_one_exposure_keeps_the_others_resumable(tmp_path, rates):
    run(tmp_path, rates)
    # the user re-runs one exposure into the same folder (with or without --resume)
    _, _, report = run(tmp_path, rates[1:2])
    assert [e["name"] for e in report["exposures"]] == ["jw01"]
    assert sorted(e["name"] for e in report["earlier_exposures"]) == ["jw00", "jw02"]
    assert all(e["run_started"] for e in report["earlier_exposures"])
    assert report["summary"]["total"] == 1  # the summary is this run's
    # the whole batch again with --resume: nothing is recalculated
    toy, results, report = run(tmp_path, rates, resume=True)
    assert [r.resumed for r in results] == [True, True, True]
    assert toy.calls == []
    assert report["earlier_exposures"] == []
    assert [e["status"] for e in report["exposures"]] == ["resumed"] * 3


def test_a_record_survives_several_runs_and_this_run_wins(tmp_path, rates):
    run(tmp_path, rates[:1])
    run(tmp_path, rates[1:2])
    _, _, report = run(tmp_path, rates[2:3])
    assert sorted(e["name"] for e in report["earlier_exposures"]) == ["jw00", "jw01"]
    toy, results, _ = run(tmp_path, rates, resume=True)
    assert all(r.resumed for r in results) and toy.calls == []


def test_carry_earlier_keeps_only_completed_records_not_in_this_run():
    previous = {"started": "2026-01-01T00:00:00", "exposures": [
        {"name": "a", "status": "ok"}, {"name": "b", "status": "failed"}, {"name": "c", "status": "ok"}],
        "earlier_exposures": [{"name": "d", "status": "resumed", "run_started": "2025-12-31T00:00:00"},
                              {"name": "a", "status": "ok", "run_started": "2025-12-30T00:00:00"}]}
    report = carry_earlier({"exposures": [{"name": "c", "status": "failed"}]}, previous)
    carried = {e["name"]: e["run_started"] for e in report["earlier_exposures"]}
    assert carried == {"a": "2026-01-01T00:00:00", "d": "2025-12-31T00:00:00"}
    assert carry_earlier({"exposures": []}, None)["earlier_exposures"] == []

