"""`spec2 process` the way jwst users run strun (issue 13, items 8 and 9): --steps.STEP.PARAM,
skip as a parameter of every step, jwst steps spec2 does not implement named in a skip,
parameter files (--params, --save-parameters), and --ref checked before any work.

The runs use the in-memory toy plugin (tests/core/toy.py) through the real command, in
this process (click's CliRunner), so they need no simulated instrument."""

import json

import click
import pytest
from click.testing import CliRunner

from spec2 import cli
from spec2.plugins import get_plugin_manager, step_definitions
from tests.core.toy import ToyPlugin, flat_model, write_rate


@pytest.fixture
def toy(tmp_path, monkeypatch):
    """A rate file and a flat on disk, and `spec2 process` loading only the toy plugin."""
    plugin = ToyPlugin()
    pm = get_plugin_manager([plugin], load_entrypoints=False)
    monkeypatch.setattr(cli, "_plugin_manager", lambda: pm)
    monkeypatch.delenv("STPIPE_DISABLE_CRDS_STEPPARS", raising=False)
    for name in ("CRDS_PATH", "CRDS_SERVER_URL", "CRDS_CONTEXT"):
        monkeypatch.delenv(name, raising=False)
    flat = tmp_path / "toy_flat.fits"
    flat_model().save(str(flat))
    return {"rate": write_rate(tmp_path / "jw01_rate.fits"), "flat": flat, "out": tmp_path / "out",
            "plugin": plugin, "pm": pm}


def process(toy, *args):
    base = ["process", str(toy["rate"]), "-o", str(toy["out"]), "-q", "-j", "1", "--ref", f"flat={toy['flat']}"]
    return CliRunner().invoke(cli.main, [*base, *map(str, args)], catch_exceptions=False)


def report(toy):
    [entry] = json.loads((toy["out"] / "spec2_report.json").read_text())["exposures"]
    return entry


def statuses(toy):
    return {s["step"]: s["status"] for s in report(toy)["steps"]}


def cal_data(toy):
    from stdatamodels.jwst import datamodels

    with datamodels.open(toy["out"] / "jw01_cal.fits") as m:
        return float(m.data[0, 0])


# -- item 9: --steps, skip, jwst steps spec2 does not implement -------------------------


def test_steps_option_sets_a_parameter_like_set(toy):
    # toy data 4, flat 2, toy_scale factor: 4 / 2 * factor
    res = process(toy, "--steps.toy_scale.factor=5")
    assert res.exit_code == 0, res.output
    assert cal_data(toy) == 10.0
    res = process(toy, "--steps.toy_scale.factor", "3")  # strun's space-separated form
    assert res.exit_code == 0, res.output
    assert cal_data(toy) == 6.0


def test_skip_is_a_parameter_of_every_step():
    stepdefs = step_definitions(get_plugin_manager())
    for name in stepdefs:
        for form in ("set", "steps"):
            kw = {"set_": (f"{name}.skip=true",)} if form == "set" else {"steps": (f"{name}.skip=true",)}
            choices = cli.build_options(".", (), (), kw.pop("set_", ()), False, stepdefs, **kw)
            assert choices.options.settings == {name: {"skip": True}}, (name, form)


def test_steps_skip_true_records_skipped(toy):
    res = process(toy, "--steps.toy_scale.skip=true", "--set", "bkg_subtract.skip=true")
    assert res.exit_code == 0, res.output
    assert statuses(toy)["toy_scale"] == "SKIPPED" and statuses(toy)["bkg_subtract"] == "SKIPPED"
    assert statuses(toy)["flat_field"] == "COMPLETE"
    assert cal_data(toy) == 2.0  # divided by the flat, not scaled


def test_skipping_a_jwst_step_spec2_lacks_warns_and_the_run_goes_on(toy):
    res = process(toy, "--skip", "pixel_replace", "--steps.clean_flicker_noise.skip=true")
    assert res.exit_code == 0, res.output
    assert "--skip pixel_replace: spec2 does not implement jwst step pixel_replace; nothing to skip" in res.stderr
    assert "--steps.clean_flicker_noise.skip: spec2 does not implement jwst step clean_flicker_noise" in res.stderr
    assert report(toy)["status"] == "ok"


@pytest.mark.parametrize("args, message", [
    (("--steps.pixel_replace.algorithm=fit",), "spec2 does not implement jwst step 'pixel_replace'"),
    (("--steps.pixel_replace.skip=false",), "spec2 does not implement jwst step 'pixel_replace'"),
    (("--skip", "no_such_step"), "unknown step 'no_such_step'"),
    (("--steps.toy_scale.nope=1",), "step toy_scale has no parameter 'nope'"),
    (("--steps.toy_scale.factor=big",), "toy_scale.factor: expected a number, got 'big'"),
    (("--steps.toy_scale.factor",), "--steps.toy_scale.factor needs a value"),
    (("--bogus",), "no such option: --bogus"),
])
def test_other_uses_of_unknown_steps_are_usage_errors(toy, args, message):
    res = process(toy, *args)
    assert res.exit_code == 2
    assert message in res.stderr
    assert not toy["out"].exists()


# -- item 8: --ref checked before any work ----------------------------------------------


@pytest.mark.parametrize("ref, message", [
    ("flatt={flat}", ("--ref flatt={flat}: no step of this run's modes (NRS_FIXEDSLIT) uses reference type "
                     "'flatt'; did you mean flat")),
    # a step of other modes: the toy mode's recipe has no cube_build
    ("cubepar={flat}", ("--ref cubepar={flat}: no step of this run's modes (NRS_FIXEDSLIT) uses reference type "
                       "'cubepar'")),
    ("flat={missing}", "--ref flat={missing}: no such file"),
    ("flat={folder}", "--ref flat={folder}: not a file"),
])
def test_ref_that_no_step_of_the_run_uses_or_that_is_missing_is_a_usage_error(toy, tmp_path, ref, message):
    fill = {"flat": toy["flat"], "missing": tmp_path / "no_such.fits", "folder": tmp_path}
    res = process(toy, "--ref", ref.format(**fill))
    assert res.exit_code == 2, res.output
    assert message.format(**fill) in res.stderr
    assert not toy["out"].exists()
    assert toy["plugin"].calls == []  # no work was done


def test_ref_whose_steps_are_skipped_is_a_usage_error(toy):
    res = process(toy, "--steps.flat_field.skip=true")
    assert res.exit_code == 2
    assert f"--ref flat={toy['flat']}: the step(s) using it (flat_field) are skipped" in res.stderr
    assert toy["plugin"].calls == []


def test_ref_of_another_modes_reference_type_with_the_builtin_plugins(tmp_path, monkeypatch):
    monkeypatch.delenv("CRDS_PATH", raising=False)
    rate = write_rate(tmp_path / "jw_lrs_rate.fits", exp_type="MIR_LRS-FIXEDSLIT")
    flat = tmp_path / "flat.fits"
    flat_model().save(str(flat))
    res = CliRunner().invoke(cli.main, ["process", str(rate), "-o", str(tmp_path / "out"), "--ref", f"sflat={flat}"])
    assert res.exit_code == 2
    assert f"--ref sflat={flat}: no step of this run's modes (MIR_LRS-FIXEDSLIT) uses reference type 'sflat'" \
        in res.stderr
    # with no input of a calibrated mode, the check is against every mode's steps, and the
    # run says what is wrong with the input
    image = write_rate(tmp_path / "jw_image_rate.fits", exp_type="MIR_IMAGE")
    res = CliRunner().invoke(cli.main, ["process", str(image), "-o", str(tmp_path / "out"), "-q", "-j", "1",
                                        "--ref", f"sflat={flat}"])
    assert res.exit_code == 1
    assert "MIR_IMAGE is not a spectroscopic exposure" in res.stderr


def test_ref_na_and_pars_references_are_accepted(toy, tmp_path):
    stepdefs = step_definitions(toy["pm"])
    choices = cli.build_options(".", ("wavelengthrange=N/A", f"pars-flatfieldstep={toy['flat']}"), (), (), False,
                                stepdefs)
    assert choices.options.overrides["wavelengthrange"] == "N/A"


def test_steps_override_is_jwsts_ref(toy):
    stepdefs = step_definitions(toy["pm"])
    choices = cli.build_options(".", (), (), (), False, stepdefs, steps=(f"flat_field.override_flat={toy['flat']}",))
    assert choices.options.overrides == {"flat": str(toy["flat"])}
    with pytest.raises(click.UsageError, match="no such file"):
        cli.build_options(".", (), (), (), False, stepdefs, steps=("flat_field.override_flat=/no/such.fits",))


# -- item 9: parameter files ------------------------------------------------------------


def test_save_parameters_then_params_reproduces_the_settings(toy, tmp_path):
    saved = tmp_path / "toy_pars.asdf"
    res = CliRunner().invoke(cli.main, ["process", "--save-parameters", str(saved), "--set", "toy_scale.factor=7",
                                        "--skip", "bkg_subtract", "--skip", "pixel_replace"])
    assert res.exit_code == 0, res.output
    assert saved.is_file() and not toy["out"].exists()  # no INPUTS: only the file
    res = process(toy, "--params", saved)
    assert res.exit_code == 0, res.output
    assert cal_data(toy) == 14.0
    assert statuses(toy)["bkg_subtract"] == "SKIPPED"


def test_command_line_wins_over_the_parameter_file(toy, tmp_path):
    saved = tmp_path / "toy_pars.asdf"
    CliRunner().invoke(cli.main, ["process", "--save-parameters", str(saved), "--set", "toy_scale.factor=7"])
    res = process(toy, "--params", saved, "--steps.toy_scale.factor=3")
    assert res.exit_code == 0, res.output
    assert cal_data(toy) == 6.0


@pytest.mark.parametrize("content, message", [
    (None, "no such parameter file"),
    ("not asdf at all\n", "not an ASDF parameter file"),
])
def test_bad_parameter_file_is_a_usage_error(toy, tmp_path, content, message):
    path = tmp_path / "pars.asdf"
    if content is not None:
        path.write_text(content)
    res = process(toy, "--params", path)
    assert res.exit_code == 2 and message in res.stderr
    assert not toy["out"].exists()


def test_disable_crds_steppars_flag_and_environment(toy, monkeypatch):
    stepdefs = step_definitions(toy["pm"])
    assert cli.build_options(".", (), (), (), False, stepdefs).options.crds_steppars is True
    res = process(toy, "--disable-crds-steppars")
    assert res.exit_code == 0, res.output
    assert report(toy)["crds_parameters"] == {"disabled": True}
    monkeypatch.setenv("STPIPE_DISABLE_CRDS_STEPPARS", "true")  # jwst's variable, as strun reads it
    res = process(toy)
    assert report(toy)["crds_parameters"] == {"disabled": True}
