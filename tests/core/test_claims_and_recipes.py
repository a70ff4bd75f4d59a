"""The plugin contract: claims validated at load, recipes as data (products, steps after
extract_1d, slit groups), typed step parameters added by plugins, steps calling others
in inverse mode, tracing. In-memory plugins only (tests/core/toy.py)."""

import logging

import numpy as np
import pytest
from stdatamodels.jwst import datamodels

from spec2 import hookimpl
from spec2.association import Exposure
from spec2.errors import PluginError, UnsupportedModeError
from spec2.pipeline import RunOptions, run_all
from spec2.plugins import get_plugin_manager, step_caller, step_definitions
from spec2.recipe import Claim, Param, Recipe, SlitGroup, SlitGroups, Step, StepDef

from .toy import TOY_TYPE, ToyPlugin, flat_model, write_rate


def run(pm, tmp_path, **kw):
    tmp_path.mkdir(parents=True, exist_ok=True)
    rate = write_rate(tmp_path / "jw01_rate.fits")
    kw.setdefault("overrides", {"flat": flat_model()})
    [res] = run_all(pm, [Exposure("jw01", rate)], RunOptions(tmp_path / "out", **kw))
    return res


# -- claims ------------------------------------------------------------------------------


class Rival:
    """A second plugin claiming the toy's flat_field."""

    def __init__(self, override=False, name="rival"):
        self.override = override
        self.__name__ = name  # pluggy's name for an in-memory plugin

    @hookimpl
    def spec2_claims(self):
        return [Claim((TOY_TYPE,), {"flat_field": ()}, recipe=False, override=self.override)]

    @hookimpl
    def flat(self, model):
        model.data = model.data * 0 + 7
        return model


def test_two_plugins_claiming_one_step_is_an_error_naming_both():
    toy = ToyPlugin()
    toy.__name__ = "toy"
    with pytest.raises(PluginError) as err:
        get_plugin_manager([toy, Rival()], load_entrypoints=False)
    assert "plugins toy and rival both claim step flat_field for NRS_FIXEDSLIT" in str(err.value)
    assert "override=True" in str(err.value)


def test_two_overrides_of_one_step_are_an_error():
    with pytest.raises(PluginError, match="plugins rival and rival2 both claim step flat_field"):
        get_plugin_manager([ToyPlugin(), Rival(override=True), Rival(override=True, name="rival2")],
                           load_entrypoints=False)


def test_two_plugins_claiming_one_recipe_is_an_error():
    class Twin:
        @hookimpl
        def spec2_claims(self):
            return [Claim((TOY_TYPE,))]

        @hookimpl
        def spec2_recipe(self):
            return Recipe(("assign_wcs",))

    with pytest.raises(PluginError, match="both claim the recipe of NRS_FIXEDSLIT"):
        get_plugin_manager([ToyPlugin(), Twin()], load_entrypoints=False)


def test_override_routes_the_step_to_the_overriding_plugin(tmp_path):
    toy = ToyPlugin()
    pm = get_plugin_manager([Rival(override=True), toy], load_entrypoints=False)  # order does not matter
    res = run(pm, tmp_path)
    with datamodels.open(res.products[0]) as cal:
        np.testing.assert_allclose(cal.data, 14.0)
    assert "flat_field" not in toy.calls


def test_misnamed_hook_is_an_error_at_load():
    class Misnamed:
        @hookimpl
        def flat_field(self, model):  # the step's name, not the hook's (flat)
            return model

    with pytest.raises(PluginError, match="implements unknown hook 'flat_field'; did you mean flat"):
        get_plugin_manager([ToyPlugin(), Misnamed()], load_entrypoints=False)


def test_claim_of_a_step_whose_hook_is_missing_is_an_error():
    class Empty:
        @hookimpl
        def spec2_claims(self):
            return [Claim(("MIR_LRS-FIXEDSLIT",), {"photom": ()})]

    with pytest.raises(PluginError, match="claims step photom but implements no photom hook"):
        get_plugin_manager([Empty()], load_entrypoints=False)


def test_unclaimed_step_in_a_recipe_is_a_clear_error(tmp_path):
    class Gappy(ToyPlugin):
        @hookimpl
        def spec2_recipe(self, exp_type, multi_int):
            return Recipe(("assign_wcs", "pathloss"))

    res = run(get_plugin_manager([Gappy()], load_entrypoints=False), tmp_path)
    assert "no plugin implements step pathloss for EXP_TYPE=NRS_FIXEDSLIT" in res.error


def test_builtin_plugins_validate_and_own_their_modes():
    from spec2.plugins import claims_of

    pm = get_plugin_manager()
    claims = claims_of(pm)
    assert claims.owner("MIR_LRS-FIXEDSLIT", "pathloss") == "miri"
    assert claims.owner("NRS_FIXEDSLIT", "wavecorr") == "nirspec"
    assert claims.owner("NIS_WFSS", "extract_2d") == "niriss"
    assert claims.owner("NRC_TSGRISM", "photom") == "nircam"
    assert claims.reftypes[("MIR_LRS-FIXEDSLIT", "assign_wcs")] == ("distortion", "specwcs")


def test_trace_logs_the_hook_and_its_plugin(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("SPEC2_TRACE", "1")
    toy = ToyPlugin()
    pm = get_plugin_manager([toy], load_entrypoints=False)
    with caplog.at_level(logging.INFO, logger="spec2.trace"):
        res = run(pm, tmp_path)
    assert res.ok, res.error
    lines = [r.getMessage() for r in caplog.records if r.name == "spec2.trace"]
    assert any(line.startswith("trace: toy_scale(") and line.endswith(f"[{pm.get_name(toy)}]") for line in lines)
    assert any(line.startswith("trace: flat returned ImageModel in") for line in lines)


# -- step definitions and parameters ----------------------------------------------------


def test_plugin_adds_a_parameter_to_a_core_step(tmp_path):
    seen = {}

    class Adds(ToyPlugin):
        @hookimpl
        def spec2_step_parameters(self):
            return {"flat_field": [Param("floor", "float", None, "smallest flat value used")]}

        @hookimpl
        def flat(self, model, refs, params):
            seen.update(params)
            return model

    pm = get_plugin_manager([Adds()], load_entrypoints=False)
    param = step_definitions(pm)["flat_field"].param("floor")
    assert param.parse("0.25") == 0.25 and param.parse("none") is None
    res = run(pm, tmp_path, settings={"flat_field": {"floor": 0.5}})
    assert res.ok, res.error
    assert seen["floor"] == 0.5 and seen["inverse"] is False


def test_parameter_added_twice_is_an_error_naming_both():
    class AddsInverse(ToyPlugin):
        @hookimpl
        def spec2_step_parameters(self):
            return {"flat_field": [Param("inverse", "bool", True)]}

    with pytest.raises(PluginError, match="adds parameter flat_field.inverse, already defined by the core"):
        get_plugin_manager([AddsInverse()], load_entrypoints=False)


def test_step_defined_twice_is_an_error():
    class Redefines(ToyPlugin):
        @hookimpl
        def spec2_step_definitions(self):
            return [StepDef("photom", "photom", "photom", (), "mine")]

    with pytest.raises(PluginError, match="defines step photom, already defined by the core"):
        get_plugin_manager([Redefines()], load_entrypoints=False)


@pytest.mark.parametrize(
    "param, text, value",
    [
        (Param("a", "bool", None), "none", None),
        (Param("a", "bool", False), "yes", True),
        (Param("a", "int", None), "7", 7),
        (Param("a", "ints", None), "1, 2 3", [1, 2, 3]),
        (Param("a", "floats", None), "0.5,1", [0.5, 1.0]),
        (Param("a", "str", "square", choices=("square", "point")), "point", "point"),
    ],
)
def test_parameter_parsing(param, text, value):
    assert param.parse(text) == value


@pytest.mark.parametrize(
    "param, text, message",
    [
        (Param("a", "bool", False), "maybe", "expected true or false"),
        (Param("a", "int", 3), "none", "expected an integer"),
        (Param("a", "ints", None), "1,x", "expected integers"),
        (Param("a", "str", "square", choices=("square", "point")), "round", "expected one of square, point"),
    ],
)
def test_parameter_parsing_errors(param, text, message):
    with pytest.raises(ValueError, match=message):
        param.parse(text)


def test_user_guide_step_table_is_generated_from_the_definitions():
    """docs/user-guide.md holds the output of `spec2 steps --markdown` between its markers:
    regenerate it with that command when a step or parameter changes."""
    from pathlib import Path

    from spec2.step_help import markdown_table

    guide = (Path(__file__).resolve().parents[2] / "docs" / "user-guide.md").read_text()
    begin, end = "<!-- spec2 steps --markdown: begin -->\n", "<!-- spec2 steps --markdown: end -->"
    assert begin in guide and end in guide
    table = guide.split(begin)[1].split(end)[0]
    assert table == markdown_table(step_definitions(get_plugin_manager()))


# -- recipes -----------------------------------------------------------------------------


class Spectra(ToyPlugin):
    """A toy mode that extracts a 'spectrum' and then calibrates it (photom after
    extract_1d, as SOSS in jwst 3.0.0)."""

    @hookimpl
    def spec2_claims(self):
        return [Claim((TOY_TYPE,), {"assign_wcs": (), "bkg_subtract": (), "flat_field": ("flat",),
                                    "toy_scale": (), "extract_1d": (), "photom": ()})]

    @hookimpl
    def spec2_recipe(self, exp_type, multi_int):
        return Recipe((Step("assign_wcs", required=True), Step("flat_field", product="cal"),
                       Step("extract_1d", product="x1d"), Step("photom", product="x1d")))

    @hookimpl
    def extract(self, model):
        self._record("extract_1d")
        spec = datamodels.ImageModel(model.data.sum(axis=0, keepdims=True))
        spec.update(model)
        return spec

    @hookimpl
    def photom(self, model):
        self._record("photom")
        model.data = model.data * 10
        return model


def test_step_after_extract_1d_calibrates_the_spectra(tmp_path):
    toy = Spectra()
    res = run(get_plugin_manager([toy], load_entrypoints=False), tmp_path)
    assert res.ok, res.error
    assert toy.calls == ["assign_wcs", "flat_field", "extract_1d", "photom"]
    assert [p.name for p in res.products] == ["jw01_cal.fits", "jw01_x1d.fits"]
    with datamodels.open(res.products[0]) as cal, datamodels.open(res.products[1]) as x1d:
        np.testing.assert_allclose(cal.data, 2.0)  # the _cal before extraction, not photom'd
        assert cal.meta.cal_step.photom is None
        np.testing.assert_allclose(x1d.data, 8 * 2.0 * 10)
        assert x1d.meta.cal_step.photom == "COMPLETE" and x1d.meta.cal_step.extract_1d == "COMPLETE"


def test_step_after_a_marked_product_works_on_a_copy(tmp_path):
    """An in-place step after the _cal mark (pixel_replace before resampling) leaves the
    _cal as it stood at its mark."""

    class AfterCal(ToyPlugin):
        @hookimpl
        def spec2_recipe(self, exp_type, multi_int):
            return Recipe(("assign_wcs", Step("flat_field", product="cal"), Step("toy_scale", product="scaled")))

    res = run(get_plugin_manager([AfterCal()], load_entrypoints=False), tmp_path)
    assert [p.name for p in res.products] == ["jw01_cal.fits", "jw01_scaled.fits"]
    with datamodels.open(res.products[0]) as cal, datamodels.open(res.products[1]) as scaled:
        np.testing.assert_allclose(cal.data, 2.0)
        np.testing.assert_allclose(scaled.data, 4.0)


def test_skipped_product_step_writes_no_product(tmp_path):
    res = run(get_plugin_manager([Spectra()], load_entrypoints=False), tmp_path,
              skip=frozenset({"extract_1d"}))
    assert res.ok, res.error
    assert [p.name for p in res.products] == ["jw01_cal.fits"]  # photom ran on the _cal: no _x1d


def test_required_step_that_does_not_complete_fails_the_exposure(tmp_path):
    from spec2.errors import StepSkipped

    class NoWcs(ToyPlugin):
        @hookimpl
        def assign_wcs(self, model):
            raise StepSkipped("no WCS for this one")

    res = run(get_plugin_manager([NoWcs()], load_entrypoints=False), tmp_path)
    assert "assign_wcs did not complete; cannot calibrate" in res.error
    assert not (tmp_path / "out" / "jw01_cal.fits").exists()


def test_undeclared_extra_product_is_an_error_and_declared_one_is_written(tmp_path):
    class Extras(ToyPlugin):
        def __init__(self, declared):
            super().__init__()
            self.declared = declared

        @hookimpl
        def spec2_step_definitions(self):
            return [StepDef("toy_scale", "toy_scale", "straylight", (Param("factor", "float", 2.0),), "scale",
                            extra_products=self.declared)]

        @hookimpl
        def toy_scale(self, model, extra_products):
            extra_products["toymodel"] = model.copy()
            return model

    res = run(get_plugin_manager([Extras(("toymodel",))], load_entrypoints=False), tmp_path / "a")
    assert [p.name for p in res.products] == ["jw01_toymodel.fits", "jw01_cal.fits"]
    res = run(get_plugin_manager([Extras(())], load_entrypoints=False), tmp_path / "b")
    assert "handed back product 'toymodel', which its StepDef does not declare" in res.error


def test_recipe_editing_helpers():
    base = Recipe(("assign_wcs", "flat_field", Step("photom", product="cal")))
    assert base.insert_after("flat_field", "toy_scale").steps == ("assign_wcs", "flat_field", "toy_scale", "photom")
    assert base.insert_before("assign_wcs", "toy_scale").steps[0] == "toy_scale"
    assert base.without("flat_field").steps == ("assign_wcs", "photom")
    assert base.with_params("photom", inverse=True).step("photom").params == {"inverse": True}
    assert base.products() == ("cal",)
    with pytest.raises(KeyError):
        base.insert_after("pathloss", "toy_scale")


# -- slit groups -------------------------------------------------------------------------


def is_fixed_slit(slit):
    return slit.name.startswith("S")


def is_slitlet(slit):
    return not is_fixed_slit(slit)


class Slits(ToyPlugin):
    """Cuts four 'slits' (two slitlets, two fixed slits) and runs each group's own steps."""

    @hookimpl
    def spec2_claims(self):
        return [Claim((TOY_TYPE,), {"assign_wcs": (), "extract_2d": (), "flat_field": ("flat",),
                                    "toy_scale": (), "pathloss": (), "photom": ()})]

    @hookimpl
    def spec2_recipe(self, exp_type, multi_int):
        groups = SlitGroups((
            SlitGroup("msa", is_slitlet, (Step("flat_field"), Step("pathloss", params={"inverse": False}))),
            SlitGroup("fixed_slit", is_fixed_slit, (Step("toy_scale"),)),
        ))
        return Recipe(("assign_wcs", "extract_2d", groups, Step("photom", product="cal")))

    @hookimpl
    def extract_2d(self, model):
        out = datamodels.MultiSlitModel()
        out.update(model)
        for name in ("S200A1", "12", "S400A1", "13"):  # mixed order: the merge puts slitlets first
            slit = datamodels.SlitModel(model.data[:2, :3].copy())
            slit.name = name
            out.slits.append(slit)
        return out

    @hookimpl
    def flat(self, model, refs, params):
        self._record(f"flat_field:{','.join(s.name for s in model.slits)}")
        for slit in model.slits:
            slit.data = slit.data / 2
        return model

    @hookimpl
    def pathloss(self, model):
        from spec2.errors import StepSkipped

        raise StepSkipped("extended")

    @hookimpl
    def toy_scale(self, model, params):
        self._record(f"toy_scale:{','.join(s.name for s in model.slits)}")
        for slit in model.slits:
            slit.data = slit.data * params["factor"]
        return model

    @hookimpl
    def photom(self, model):
        self._record(f"photom:{','.join(s.name for s in model.slits)}")
        return model


def test_slit_groups_run_their_own_steps_and_merge_in_group_order(tmp_path):
    toy = Slits()
    res = run(get_plugin_manager([toy], load_entrypoints=False), tmp_path)
    assert res.ok, res.error
    assert toy.calls == ["assign_wcs", "flat_field:12,13", "toy_scale:S200A1,S400A1", "photom:12,13,S200A1,S400A1"]
    assert [s.name for s in res.steps] == ["assign_wcs", "extract_2d", "flat_field[msa]", "pathloss[msa]",
                                           "toy_scale[fixed_slit]", "photom"]
    with datamodels.open(res.products[0]) as cal:
        assert [s.name for s in cal.slits] == ["12", "13", "S200A1", "S400A1"]
        np.testing.assert_allclose([s.data.mean() for s in cal.slits], [2.0, 2.0, 8.0, 8.0])
        # a step of one group only: COMPLETE where it ran
        assert cal.meta.cal_step.flat_field == "COMPLETE"
        assert cal.meta.cal_step.straylight == "COMPLETE"
        assert cal.meta.cal_step.pathloss == "SKIPPED"


def test_slit_group_with_no_slits_is_not_run(tmp_path):
    class OnlySlitlets(Slits):
        @hookimpl
        def extract_2d(self, model):
            out = datamodels.MultiSlitModel()
            out.update(model)
            slit = datamodels.SlitModel(model.data[:2, :3].copy())
            slit.name = "12"
            out.slits.append(slit)
            return out

    toy = OnlySlitlets()
    res = run(get_plugin_manager([toy], load_entrypoints=False), tmp_path)
    assert res.ok, res.error
    assert not any(c.startswith("toy_scale") for c in toy.calls)


def test_slit_group_may_not_make_a_product(tmp_path):
    class Bad(Spectra):
        @hookimpl
        def spec2_recipe(self, exp_type, multi_int):
            return Recipe(("assign_wcs", SlitGroups((SlitGroup("all", is_slitlet, (Step("extract_1d"),)),))))

    res = run(get_plugin_manager([Bad()], load_entrypoints=False), tmp_path)
    assert "slit group all runs extract_1d, which makes a new product" in res.error


# -- steps that invert -------------------------------------------------------------------


def test_inverse_round_trip_through_the_plugin_manager():
    """A step calling another (as master background does) through the manager: the core
    flat forward then inverse gives the input back, variances included."""
    from spec2.refs import RefResolver
    from spec2.steps.call import call_step

    class Flat(ToyPlugin):
        @hookimpl
        def flat(self, model, refs, params):
            from spec2.steps.flat_field import apply_flat

            return apply_flat(model, refs.open("flat"), inverse=params["inverse"])

    pm = get_plugin_manager([Flat()], load_entrypoints=False)
    rng = np.random.default_rng(3)
    model = datamodels.ImageModel((6, 7))
    model.meta.exposure.type = TOY_TYPE
    model.data[:] = rng.uniform(1, 2, (6, 7))
    model.var_poisson = np.full((6, 7), 0.04, np.float32)
    model.var_rnoise = np.full((6, 7), 0.01, np.float32)
    model.dq = np.zeros((6, 7), np.uint32)
    before = model.copy()
    flat = flat_model((6, 7))
    flat.data[:] = rng.uniform(0.5, 1.5, (6, 7))
    refs = RefResolver(model, {"flat": flat})

    forward = call_step(pm, "flat_field", model, refs)
    np.testing.assert_allclose(forward.data, before.data / flat.data, rtol=1e-6)
    back = call_step(pm, "flat_field", forward, refs, params={"inverse": True})
    np.testing.assert_allclose(back.data, before.data, rtol=1e-6)
    np.testing.assert_allclose(back.var_poisson, before.var_poisson, rtol=1e-6)
    np.testing.assert_allclose(back.err, np.sqrt(0.05), rtol=1e-6)
    assert not back.var_flat.any()


def test_call_step_routes_by_the_models_exposure_type():
    from spec2.steps.call import call_step

    pm = get_plugin_manager([ToyPlugin()], load_entrypoints=False)
    model = datamodels.ImageModel((2, 2))
    model.meta.exposure.type = "MIR_LRS-FIXEDSLIT"  # not the toy's
    with pytest.raises(UnsupportedModeError, match="no plugin implements step flat_field for EXP_TYPE=MIR_LRS"):
        call_step(pm, "flat_field", model, refs=None)


def test_builtin_step_that_cannot_invert_says_so():
    from spec2.steps.call import call_step

    pm = get_plugin_manager()
    model = datamodels.SlitModel(np.ones((2, 2), np.float32))
    model.meta.exposure.type = "MIR_LRS-FIXEDSLIT"
    with pytest.raises(UnsupportedModeError, match="MIRI LRS photom cannot be undone"):
        call_step(pm, "photom", model, refs=None, params={"inverse": True})


def test_step_caller_is_the_owners_hook():
    toy = ToyPlugin()
    pm = get_plugin_manager([toy], load_entrypoints=False)
    model = datamodels.ImageModel(np.full((2, 2), 3.0, np.float32))
    out = step_caller(pm, "toy_scale", TOY_TYPE)(model=model, params={"factor": 5.0})
    np.testing.assert_allclose(out.data, 15.0)
    with pytest.raises(UnsupportedModeError):
        step_caller(pm, "toy_scale", "MIR_LRS-FIXEDSLIT")


def test_opening_an_undeclared_reference_type_is_caught(tmp_path, monkeypatch):
    class Sloppy(ToyPlugin):
        @hookimpl
        def spec2_claims(self):
            return [Claim((TOY_TYPE,), {"assign_wcs": (), "bkg_subtract": (), "flat_field": (), "toy_scale": ()})]

    monkeypatch.setenv("SPEC2_STRICT_CLAIMS", "1")
    res = run(get_plugin_manager([Sloppy()], load_entrypoints=False), tmp_path / "strict")
    assert "step flat_field opened reference type(s) flat that the claim of" in res.error
    monkeypatch.setenv("SPEC2_STRICT_CLAIMS", "0")
    res = run(get_plugin_manager([Sloppy()], load_entrypoints=False), tmp_path / "lenient")
    assert res.ok, res.error
