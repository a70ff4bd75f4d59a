"""jwst parameter files (issue 13, item 9): spec2 reads what ``strun --save-parameters``
writes, and jwst reads what ``spec2 process --save-parameters`` writes. jwst is the
oracle here: imported in tests only."""

import asdf
import pytest

from spec2 import jwst_steps
from spec2.errors import InputError
from spec2.parameter_files import (
    parameter_tree,
    read_parameter_file,
    translate,
    values_of_tree,
    write_parameter_file,
)
from spec2.plugins import get_plugin_manager, parameter_origins, step_definitions


@pytest.fixture(scope="module")
def builtin():
    pm = get_plugin_manager()
    stepdefs = step_definitions(pm)
    core = {k for k, origin in parameter_origins(pm).items() if origin == "the core"}
    return stepdefs, core


def test_jwst_step_table_is_jwsts():
    from jwst.pipeline import Spec2Pipeline

    jwst = {alias: f"{cls.__module__}.{cls.__name__}" for alias, cls in Spec2Pipeline.step_defs.items()}
    assert jwst_steps.STEP_CLASSES == jwst
    assert f"{Spec2Pipeline.__module__}.{Spec2Pipeline.__name__}" == jwst_steps.PIPELINE_CLASS
    for alias, cls in Spec2Pipeline.step_defs.items():
        assert jwst_steps.pars_reftype(alias) == cls.get_config_reftype()
    assert jwst_steps.PIPELINE_PARS_REFTYPE == Spec2Pipeline.get_config_reftype()


def test_spec2_reads_the_file_strun_writes(tmp_path, builtin):
    from jwst.pipeline import Spec2Pipeline

    stepdefs, _ = builtin
    pipe = Spec2Pipeline()
    pipe.extract_1d.smoothing_length = 7
    pipe.resample_spec.pixfrac = 0.5
    pipe.pathloss.skip = True
    pipe.bkg_subtract.wfss_maxiter = 2
    path = tmp_path / "jwst_pars.asdf"
    pipe.export_config(path, include_metadata=True)  # what strun --save-parameters does

    values = read_parameter_file(path)
    result = translate(values, stepdefs)
    assert result.settings["extract_1d"]["smoothing_length"] == 7
    assert result.settings["resample_spec"]["pixfrac"] == 0.5
    assert result.settings["pathloss"]["skip"] is True
    assert result.settings["bkg_subtract"]["wfss_maxiter"] == 2
    # every spec2 parameter of a jwst step is given, at jwst's value
    for step, stepdef in stepdefs.items():
        if step in jwst_steps.STEP_CLASSES:
            assert set(result.settings[step]) == {p.name for p in stepdef.params}, step
    # jwst's steps spec2 lacks and that the file runs, and jwst parameters spec2 lacks:
    # named (stpipe's own file-handling parameters are not)
    assert "straylight" in result.not_run and "pixel_replace" not in result.not_run  # skipped in jwst
    assert "extract_1d.soss_atoca" in result.unsupported
    assert not [u for u in result.unsupported if u.split(".")[1] in jwst_steps.STPIPE_IO_PARAMETERS]
    notes = result.notes("jwst_pars.asdf")
    assert notes[0].startswith("jwst_pars.asdf: jwst step(s) spec2 does not implement, not run: ")
    assert "straylight" in notes[0] and "msa_flagging" not in notes[0]  # spec2 has msa_flagging
    assert "ignored" in notes[1] and "extract_1d: " in notes[1] and "soss_atoca" in notes[1]


def test_jwst_reads_the_file_spec2_writes(tmp_path, builtin):
    from jwst.pipeline import Spec2Pipeline

    stepdefs, core = builtin
    settings = {"extract_1d": {"smoothing_length": 5, "bkg_fit": "poly"}, "pathloss": {"skip": True},
                "extract_2d": {"extract_orders": [1, 2]}}
    path = write_parameter_file(tmp_path / "spec2_pars.asdf",
                                parameter_tree(settings, stepdefs, core, skipped_elsewhere=("pixel_replace",)))
    pipe = Spec2Pipeline.from_config_file(str(path))
    assert pipe.extract_1d.smoothing_length == 5 and pipe.extract_1d.bkg_fit == "poly"
    assert pipe.pathloss.skip is True and pipe.pixel_replace.skip is True
    assert list(pipe.extract_2d.extract_orders) == [1, 2]
    assert pipe.resample_spec.pixfrac == 1.0
    # and spec2 reads it back to the same settings
    again = translate(read_parameter_file(path), stepdefs)
    for step, params in settings.items():
        for name, value in params.items():
            assert again.settings[step][name] == value


def test_plugin_parameters_travel_in_the_spec2_section(tmp_path):
    from tests.core.toy import ToyPlugin

    pm = get_plugin_manager([ToyPlugin()], load_entrypoints=False)
    stepdefs = step_definitions(pm)
    core = {k for k, origin in parameter_origins(pm).items() if origin == "the core"}
    path = write_parameter_file(tmp_path / "p.asdf", parameter_tree({"toy_scale": {"factor": 4.0}}, stepdefs, core))
    with asdf.open(path) as af:
        assert "toy_scale" not in [s["name"] for s in af.tree["steps"]]  # jwst would refuse it
        assert af.tree["spec2"]["steps"]["toy_scale"]["factor"] == 4.0
    assert translate(read_parameter_file(path), stepdefs).settings["toy_scale"]["factor"] == 4.0


def test_one_step_and_older_layouts(builtin):
    stepdefs, _ = builtin
    one = values_of_tree({"class": "jwst.extract_1d.Extract1dStep", "name": "Extract1dStep",
                          "parameters": {"apply_apcorr": False}}, "one.asdf")
    assert translate(one, stepdefs).settings == {"extract_1d": {"apply_apcorr": False}}
    legacy = values_of_tree({"parameters": {"class": jwst_steps.PIPELINE_CLASS, "name": "Spec2Pipeline",
                                            "steps": {"photom": {"class": "x", "skip": True}}}}, "old.asdf")
    assert translate(legacy, stepdefs).settings == {"photom": {"skip": True}}


@pytest.mark.parametrize("tree, message", [
    ({"class": "jwst.pipeline.Detector1Pipeline", "name": "Detector1Pipeline", "parameters": {}},
     "parameters of jwst.pipeline.Detector1Pipeline"),
    ({"name": "x"}, "no 'parameters' mapping"),
    ({"class": jwst_steps.PIPELINE_CLASS, "parameters": {}, "steps": [{"name": "photom"}]}, "a 'steps' entry"),
])
def test_files_that_are_not_spec2_parameters(tree, message):
    with pytest.raises(InputError, match=message):
        values_of_tree(tree, "f.asdf")


@pytest.mark.parametrize("step, name, value, message", [
    ("extract_1d", "apply_apcorr", "yes", "expected true or false"),
    ("extract_1d", "bkg_order", True, "expected int or None, got True"),
    ("extract_1d", "bkg_fit", "spline", "expected one of poly, mean, median"),
    ("resample_spec", "pixfrac", [1, 2], "expected one value"),
])
def test_a_value_of_the_wrong_type_names_file_step_and_parameter(builtin, step, name, value, message):
    stepdefs, _ = builtin
    values = values_of_tree({"class": jwst_steps.PIPELINE_CLASS, "parameters": {},
                             "steps": [{"class": "c", "name": step, "parameters": {name: value}}]}, "f.asdf")
    with pytest.raises(InputError, match=f"f.asdf: {step}.{name}: {message}"):
        translate(values, stepdefs)
