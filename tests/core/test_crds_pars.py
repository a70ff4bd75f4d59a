"""CRDS parameter references (issue 13, item 10): spec2 looks up pars-<step class> and
pars-spec2pipeline for each exposure and applies them with jwst's precedence (command
line > parameter file > CRDS pars > defaults), unless turned off, and records them in
the run report."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from spec2.crds_pars import crds_settings, pars_reftypes
from spec2.errors import ReferenceFileError
from spec2.parameter_files import pars_reference_tree, write_parameter_file
from spec2.pipeline import RunOptions, step_params
from spec2.plugins import get_plugin_manager, step_definitions
from spec2.recipe import Step

from .toy import ToyPlugin

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def stepdefs():
    return step_definitions(get_plugin_manager([ToyPlugin()], load_entrypoints=False))


def resolver(files):
    """A resolver over {reftype: path or None}; other types are unknown to "CRDS"."""
    def resolve(reftype):
        if reftype not in files:
            raise ReferenceFileError(f"no {reftype} reference file in CRDS: Unknown reference type")
        return files[reftype]
    return resolve


def pars_file(tmp_path, step, params, **kw):
    path = tmp_path / f"{step or 'pipeline'}_pars.asdf"
    return str(write_parameter_file(path, pars_reference_tree(step, params, "NIRSPEC", "test", **kw)))


def test_reftypes_are_jwsts_per_step_then_the_pipelines():
    assert pars_reftypes(["assign_wcs", "toy_scale", "extract_1d"]) == [
        "pars-assignwcsstep", "pars-extract1dstep", "pars-spec2pipeline"]


def test_pipeline_pars_win_over_the_steps_and_user_settings_win_over_both(tmp_path, stepdefs):
    files = {
        "pars-flatfieldstep": pars_file(tmp_path, "flat_field", {"inverse": True, "skip": False}),
        "pars-spec2pipeline": pars_file(tmp_path, None, {"fail_on_exception": True},
                                        steps={"flat_field": {"inverse": False}, "bkg_subtract": {"sigma": 2.0}}),
        "pars-assignwcsstep": None,  # N/A
    }
    found = crds_settings(resolver(files), ["assign_wcs", "bkg_subtract", "flat_field", "toy_scale"], stepdefs)
    assert list(found.files) == ["pars-flatfieldstep", "pars-spec2pipeline"]
    assert found.settings == {"flat_field": {"inverse": False, "skip": False}, "bkg_subtract": {"sigma": 2.0}}
    assert found.problems == []
    # in the runner: defaults < recipe < CRDS < the user's settings
    options = RunOptions(tmp_path, settings={"bkg_subtract": {"sigma": 4.0}})
    assert step_params(stepdefs["bkg_subtract"], Step("bkg_subtract", params={"sigma": 1.0}), options,
                       found.settings)["sigma"] == 4.0
    assert step_params(stepdefs["bkg_subtract"], Step("bkg_subtract", params={"sigma": 1.0}), RunOptions(tmp_path),
                       found.settings)["sigma"] == 2.0
    record = found.record({"bkg_subtract": {"sigma": 4.0}})
    assert record["applied"] == {"flat_field.inverse": False, "flat_field.skip": False}
    assert record["overridden_by_user"] == ["bkg_subtract.sigma"]


def test_unreadable_or_wrong_pars_are_problems_not_failures(tmp_path, stepdefs):
    bad = tmp_path / "bad.asdf"
    bad.write_text("not asdf")
    files = {"pars-flatfieldstep": str(bad),
             "pars-backgroundstep": pars_file(tmp_path, "bkg_subtract", {"sigma": "three", "maxiters": 2}),
             "pars-spec2pipeline": pars_file(tmp_path, None, {}, steps={"flat_field": {"no_such": 1}})}
    found = crds_settings(resolver(files), ["bkg_subtract", "flat_field"], stepdefs)
    assert found.settings == {}
    assert len(found.problems) == 3
    assert found.problems[0].startswith("pars-backgroundstep: ") and "bkg_subtract.sigma: expected a number" in \
        found.problems[0]
    assert found.problems[1].startswith("pars-flatfieldstep: ") and "not an ASDF parameter file" in found.problems[1]
    assert found.problems[2] == "pars-spec2pipeline: spec2 has no parameter(s) flat_field.no_such"


# -- end to end: a local CRDS cache with parameter references, as the simulators write --

SCRIPT = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from stdatamodels.jwst import datamodels
    from spec2.batch import process
    from spec2.pipeline import RunOptions
    from spec2.plugins import get_plugin_manager
    from tests.core.toy import ToyPlugin, flat_model

    work = Path(sys.argv[1])
    out = {}
    for case, rate, kw in json.loads(sys.argv[2]):
        pm = get_plugin_manager([ToyPlugin()], load_entrypoints=False)
        options = RunOptions(work / case, overrides={"flat": flat_model()}, **kw)
        [result], report = process([rate], options, jobs=1, pm=pm)
        entry = json.loads(report.read_text())["exposures"][0]
        data = None
        if result.ok:
            with datamodels.open(result.products[0]) as m:
                data = float(m.data[0, 0])
        out[case] = {"error": result.error, "data": data, "crds_parameters": entry["crds_parameters"]}
    if len(sys.argv) > 3:  # what jwst takes from the same cache, for the same exposures
        from jwst.pipeline import Spec2Pipeline
        for rate in sys.argv[3:]:
            with datamodels.open(rate) as model:
                cfg = Spec2Pipeline.get_config_from_reference(model, disable=False)
            out[rate] = {"flat_field.inverse": cfg["steps"]["flat_field"].get("inverse")}
    print(json.dumps(out))
""")


def test_pars_from_a_local_crds_cache_applied_recorded_and_as_jwst_takes_them(tmp_path):
    from stdatamodels.jwst import datamodels

    from spec2.crds_cache import LocalCache, crds_environment

    from .toy import write_rate

    rates = {}
    for det in ("NRS1", "NRS2"):
        rates[det] = str(write_rate(tmp_path / f"jw_{det.lower()}_rate.fits"))
        with datamodels.open(rates[det]) as m:
            m.meta.instrument.detector = det
            m.meta.observation.date, m.meta.observation.time = "2024-01-01", "00:00:00"
            m.save(rates[det])
    cache = LocalCache(tmp_path / "crds")
    keys = ("META.INSTRUMENT.DETECTOR",)

    def write(path, step, params, steps=None):
        write_parameter_file(path, pars_reference_tree(step, params, "NIRSPEC", "test", steps=steps))

    cache.publish("nirspec", "pars-flatfieldstep", keys, ("NRS1|NRS2",), "toy_pars-flatfieldstep.asdf", write,
                  "flat_field", {"inverse": True})
    # on NRS2 the pipeline's parameters turn it back off: they win over the step's
    cache.publish("nirspec", "pars-spec2pipeline", keys, ("NRS2",), "toy_pars-spec2pipeline.asdf", write,
                  None, {}, {"flat_field": {"inverse": False}})
    cache.not_applicable("nirspec", "pars-spec2pipeline", keys, ("NRS1",))
    cache.finish()
    env = {**os.environ, **crds_environment(tmp_path / "crds")}
    env.pop("STPIPE_DISABLE_CRDS_STEPPARS")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / ".pkgs"), str(ROOT), env.get("PYTHONPATH", "")])
    cases = [
        ("applied", rates["NRS1"], {}),
        ("pipeline_wins", rates["NRS2"], {}),
        ("user_wins", rates["NRS1"], {"settings": {"flat_field": {"inverse": False}}}),
        ("disabled", rates["NRS1"], {"crds_steppars": False}),
    ]
    res = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path), json.dumps(cases), rates["NRS1"], rates["NRS2"]],
                         env=env, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout.strip().splitlines()[-1])
    # toy data 4, flat 2, toy_scale factor 2: inverse multiplies by the flat
    assert out["applied"]["data"] == 16.0
    assert out["applied"]["crds_parameters"] == {
        "files": {"pars-flatfieldstep": "crds://toy_pars-flatfieldstep.asdf"},
        "applied": {"flat_field.inverse": True}, "overridden_by_user": [], "problems": []}
    assert out["pipeline_wins"]["data"] == 4.0
    assert list(out["pipeline_wins"]["crds_parameters"]["files"]) == ["pars-flatfieldstep", "pars-spec2pipeline"]
    assert out["user_wins"]["data"] == 4.0
    assert out["user_wins"]["crds_parameters"]["overridden_by_user"] == ["flat_field.inverse"]
    assert out["disabled"]["data"] == 4.0 and out["disabled"]["crds_parameters"] == {"disabled": True}
    # jwst finds the same files in the cache and merges them the same way
    assert out[rates["NRS1"]] == {"flat_field.inverse": True}
    assert out[rates["NRS2"]] == {"flat_field.inverse": False}
