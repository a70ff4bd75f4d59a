"""The Python API (issue 13, item 11): ``spec2.process`` returns per-exposure results
with products, status, warnings and errors; ``spec2.api.call_step`` runs one step's hook
on a model in memory, as the runner does."""

import json
import subprocess
import sys

import numpy as np
import pytest

import spec2
from spec2.api import call_step
from spec2.plugins import get_plugin_manager

from .test_messages import installed_toy  # noqa: F401 (a fixture)
from .toy import ToyPlugin, flat_model, write_rate
from .warn_toy import FAIL_VALUE, PHOTOM, TYPE, WarnToy


@pytest.fixture
def rates(tmp_path):
    return [write_rate(tmp_path / f"jw0{i}_rate.fits", value=v) for i, v in enumerate([1.0, FAIL_VALUE])]


def warn_pm():
    return get_plugin_manager([WarnToy()], load_entrypoints=False)


def test_import_spec2_stays_light():
    code = "import sys, spec2; assert 'spec2.api' not in sys.modules and 'stdatamodels' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_process_returns_results_per_exposure(tmp_path, rates):
    out = tmp_path / "out"
    results = spec2.process(rates, output_dir=out, pm=warn_pm())
    assert [r.name for r in results] == ["jw00", "jw01"]
    ok, failed = results
    assert ok.status == "ok" and ok.error is None and ok.products == [out / "jw00_cal.fits"]
    assert ok.warnings[:2] == [PHOTOM, "2 source(s) centred off the detector dropped"]
    assert ok.warnings[2] == "UserWarning: INT_TIMES not filled in jw00_rate.fits"
    # one failure does not stop the others, and says why
    assert failed.status == "failed" and "toy failure on purpose" in failed.error and failed.products == []
    assert not results.ok and results.failed == [failed]
    assert results.report == out / "spec2_report.json"
    assert json.loads(results.report.read_text())["summary"]["failed"] == 1


@pytest.mark.parametrize("params", [{"toy_warn": {"sources": 5}}, {"toy_warn.sources": "5"}])
def test_params_by_step_or_dotted_name(tmp_path, rates, params):
    [result] = spec2.process(rates[0], output_dir=tmp_path / "out", params=params, pm=warn_pm())
    assert "5 source(s) centred off the detector dropped" in result.warnings


def test_skip_and_refs(tmp_path, rates):
    out = tmp_path / "out"
    [result] = spec2.process([rates[0]], output_dir=out, skip=["toy_scale"], refs={"FLAT": flat_model()},
                             pm=get_plugin_manager([ToyPlugin()], load_entrypoints=False))
    assert result.ok and [(s.name, s.status) for s in result.steps][-2:] == [("flat_field", "COMPLETE"),
                                                                             ("toy_scale", "SKIPPED")]
    from stdatamodels.jwst import datamodels

    with datamodels.open(out / "jw00_cal.fits") as cal:  # 1.0 / flat 2.0, not scaled
        assert np.allclose(cal.data, 0.5)


@pytest.mark.parametrize("kw, message", [
    ({"skip": ["no_such_step"]}, "skip: unknown step(s) 'no_such_step'"),
    ({"params": {"toy_warn": {"factor": 2}}}, "step toy_warn has no parameter 'factor'"),
    ({"params": {"nope.x": 1}}, "unknown step 'nope'"),
    ({"params": {"toy_warn": 3}}, "give {'toy_warn': {PARAM: VALUE}}"),
])
def test_bad_options_are_refused_before_any_work(tmp_path, rates, kw, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)").replace("{", r"\{")):
        spec2.process(rates, output_dir=tmp_path / "out", pm=warn_pm(), **kw)
    assert not (tmp_path / "out").exists()


def test_call_step_runs_one_hook_as_the_runner_does():
    from stdatamodels.jwst import datamodels

    pm = get_plugin_manager([ToyPlugin()], load_entrypoints=False)
    model = datamodels.ImageModel(np.full((8, 10), 3.0, dtype=np.float32))
    model.meta.exposure.type = TYPE
    out = call_step("toy_scale", model, params={"factor": "4"}, pm=pm)
    assert np.allclose(out.data, 12.0) and out.meta.cal_step.straylight == "COMPLETE"
    out = call_step("flat_field", out, refs={"flat": flat_model()}, pm=pm)
    assert np.allclose(out.data, 6.0) and out.meta.cal_step.flat_field == "COMPLETE"
    assert out.meta.ref_file.flat.name == "toy_flat.fits"
    with pytest.raises(ValueError, match="unknown step 'nope'"):
        call_step("nope", out, pm=pm)


@pytest.mark.slow  # worker processes take some 15 s to start
def test_process_with_workers(installed_toy, rates, tmp_path):  # noqa: F811 (the fixture)
    code = ("import spec2, sys; r = spec2.process(sys.argv[1:3], output_dir=sys.argv[3], jobs=2); "
            "print([(x.name, x.status, x.worker != 'local', x.warnings[0]) for x in r])")
    res = subprocess.run([sys.executable, "-c", code, *map(str, rates), str(tmp_path / "out")],
                         capture_output=True, text=True, env=installed_toy, check=True)
    assert res.stdout.strip() == str([("jw00", "ok", True, PHOTOM), ("jw01", "failed", True, PHOTOM)])
