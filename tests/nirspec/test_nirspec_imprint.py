"""NIRSpec imprint: matching, subtraction (SCI, DQ; ERR untouched), parity with jwst
3.0.0's ImprintStep on the same hand-made models, and an association run in which the
imprint is subtracted from the science and from the background members before
bkg_subtract uses them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from spec2 import hookimpl
from spec2.errors import InputError, StepSkipped
from spec2.recipe import Claim, Recipe, Step
from spec2_nirspec.imprint import (
    Pointing,
    choose_imprint,
    imprint_exposure_and_backgrounds,
)

SHAPE = (6, 7)


def rate(value, exp_type="NRS_MSASPEC", position=1, observation="001", bkgdtarg=False, dq_bit=0, name="x.fits"):
    from stdatamodels.jwst import datamodels

    model = datamodels.ImageModel(np.full(SHAPE, value, np.float32))
    model.err = np.full(SHAPE, 0.5, np.float32)
    model.dq = np.zeros(SHAPE, np.uint32)
    if dq_bit:
        model.dq[2, 3] = dq_bit
    model.meta.exposure.type = exp_type
    model.meta.instrument.name = "NIRSPEC"
    model.meta.instrument.detector = "NRS1"
    model.meta.dither.position_number = position
    model.meta.observation.observation_number = observation
    model.meta.observation.bkgdtarg = bkgdtarg
    model.meta.filename = name
    return model


# -- matching ---------------------------------------------------------------------------


def test_one_imprint_is_used_whatever_its_pointing():
    assert choose_imprint(Pointing(False, "001", 1), [Pointing(True, "009", 4)]) == 0


def test_several_imprints_match_background_flag_observation_and_position():
    imprints = [Pointing(False, "001", 1), Pointing(False, "001", 2), Pointing(True, "001", 2)]
    assert choose_imprint(Pointing(False, "001", 2), imprints) == 1
    assert choose_imprint(Pointing(True, "001", 3), imprints) == 2  # the only background-target imprint
    assert choose_imprint(Pointing(False, "001", 3), imprints) is None  # two candidates, neither matches
    assert choose_imprint(Pointing(False, "002", 1), imprints) is None  # another observation


# -- subtraction ------------------------------------------------------------------------


def test_subtraction_takes_sci_and_dq_and_leaves_err():
    sci, imp = rate(10.0), rate(1.5, dq_bit=4, name="imp.fits")
    imp.data[0, 0] = np.nan
    assert imprint_exposure_and_backgrounds(sci, {"imprint": [imp]})
    assert sci.data[1, 1] == 8.5 and np.isnan(sci.data[0, 0])
    assert sci.dq[2, 3] == 4 and sci.dq.sum() == 4
    np.testing.assert_array_equal(sci.err, 0.5)


def test_backgrounds_are_replaced_by_imprint_subtracted_copies():
    sci = rate(10.0, position=1)
    imps = [rate(1.0, exp_type="NRS_IFU", position=1, name="i1.fits"),
            rate(2.0, exp_type="NRS_IFU", position=2, name="i2.fits")]
    sci.meta.exposure.type = "NRS_IFU"
    bkg = rate(5.0, exp_type="NRS_IFU", position=2, name="b.fits")
    members = {"imprint": imps, "background": [bkg]}
    assert imprint_exposure_and_backgrounds(sci, members)
    assert sci.data[0, 0] == 9.0  # position 1's imprint
    assert members["background"][0].data[0, 0] == 3.0  # position 2's imprint
    assert bkg.data[0, 0] == 5.0  # the model handed in is not changed


def test_mos_with_several_imprints_uses_the_first():
    sci = rate(10.0, position=2)
    imps = [rate(1.0, position=1, name="i1.fits"), rate(2.0, position=2, name="i2.fits")]
    assert imprint_exposure_and_backgrounds(sci, {"imprint": imps})
    assert sci.data[0, 0] == 9.0


def test_no_imprint_member_skips_and_no_match_reports_false():
    with pytest.raises(StepSkipped):
        imprint_exposure_and_backgrounds(rate(1.0), {})
    sci = rate(10.0, exp_type="NRS_IFU", position=3)
    imps = [rate(1.0, exp_type="NRS_IFU", position=1), rate(2.0, exp_type="NRS_IFU", position=2)]
    assert not imprint_exposure_and_backgrounds(sci, {"imprint": imps})
    assert sci.data[0, 0] == 10.0


def test_bad_imprint_members_are_input_errors(tmp_path):
    (tmp_path / "junk_rate.fits").write_text("not fits")
    with pytest.raises(InputError, match="imprint member"):
        imprint_exposure_and_backgrounds(rate(1.0), {"imprint": [tmp_path / "junk_rate.fits"]})
    from stdatamodels.jwst import datamodels

    small = rate(1.0)
    small.data = np.ones((3, 3), np.float32)
    small.dq = np.zeros((3, 3), np.uint32)
    with pytest.raises(InputError, match="shape"):
        imprint_exposure_and_backgrounds(rate(1.0), {"imprint": [small]})
    assert datamodels  # imported for the models above


def test_call_step_records_s_imprnt():
    from spec2.api import call_step

    sci = rate(10.0)
    out = call_step("imprint_subtract", sci, members={"imprint": [rate(1.0)]})
    assert out.meta.cal_step.imprint == "COMPLETE" and out.data[0, 0] == 9.0
    out = call_step("imprint_subtract", rate(10.0))
    assert out.meta.cal_step.imprint == "SKIPPED"


# -- parity with jwst 3.0.0 ---------------------------------------------------------------


def _jwst_imprint(sci, imprint_paths):
    from jwst.imprint import ImprintStep

    return ImprintStep().run(sci, imprint_paths)


@pytest.mark.parity
@pytest.mark.parametrize("case", ["one", "ifu_match", "ifu_only_candidate", "ifu_none"])
def test_imprint_parity_with_jwst(tmp_path, case):
    exp = "NRS_IFU" if case.startswith("ifu") else "NRS_MSASPEC"
    rng = np.random.default_rng(3)
    paths = []
    specs = {"one": [(1, False)], "ifu_match": [(1, False), (2, False), (2, True)],
             "ifu_only_candidate": [(1, False), (2, True)], "ifu_none": [(1, False), (2, False)]}[case]
    for i, (pos, bkg) in enumerate(specs):
        imp = rate(0.0, exp_type=exp, position=pos, bkgdtarg=bkg, dq_bit=2**i, name=f"imp{i}.fits")
        imp.data = rng.normal(0, 1, SHAPE).astype(np.float32)
        imp.save(str(tmp_path / f"imp{i}.fits"))
        paths.append(str(tmp_path / f"imp{i}.fits"))
    sci = rate(0.0, exp_type=exp, position=2 if case != "ifu_none" else 3, dq_bit=8, name="sci.fits")
    sci.data = rng.normal(5, 1, SHAPE).astype(np.float32)
    theirs = _jwst_imprint(sci.copy(), paths)
    mine = sci.copy()
    done = imprint_exposure_and_backgrounds(mine, {"imprint": paths})
    assert done == (theirs.meta.cal_step.imprint == "COMPLETE")
    np.testing.assert_array_equal(theirs.data, mine.data)
    np.testing.assert_array_equal(theirs.dq, mine.dq)
    np.testing.assert_array_equal(theirs.err, mine.err)


@pytest.mark.parity
def test_jwst_fails_mos_with_several_imprints_where_spec2_uses_the_first(tmp_path):
    """calwebb_spec2 3.0.0 keeps ``imprint[0]`` for MOS with several imprint members but
    hands ImprintStep that bare file name, whose characters it then opens as files: the
    exposure fails there. spec2 does what jwst means (docs/modes/nirspec-mos.md)."""
    paths = []
    for i in (1, 2):
        rate(float(i), position=i, name=f"imp{i}.fits").save(str(tmp_path / f"imp{i}.fits"))
        paths.append(str(tmp_path / f"imp{i}.fits"))
    with pytest.raises(ValueError, match="extension"):
        _jwst_imprint(rate(10.0, position=2), paths[0])  # what calwebb_spec2 passes
    expected = _jwst_imprint(rate(10.0, position=2), paths[:1])
    mine = rate(10.0, position=2)
    assert imprint_exposure_and_backgrounds(mine, {"imprint": paths})
    np.testing.assert_array_equal(mine.data, expected.data)


# -- through the runner: an association with imprint and background members ------------


class ImprintRecipePlugin:
    """A recipe for NRS_IFU that runs the NIRSpec plugin's imprint step between a no-op
    assign_wcs and the core's association background subtraction (the MOS recipe names
    imprint the same way)."""

    __version__ = "1.0"

    @hookimpl
    def spec2_claims(self):
        return [Claim(("NRS_IFU",), {"assign_wcs": (), "bkg_subtract": ()})]

    @hookimpl
    def spec2_recipe(self, exp_type, multi_int):
        return Recipe((Step("assign_wcs", required=True), "imprint_subtract", Step("bkg_subtract", product="cal")))

    @hookimpl
    def assign_wcs(self, model):
        return model

    @hookimpl
    def background(self, model, params, members):
        from spec2.steps.background import subtract_association_backgrounds

        return subtract_association_backgrounds(model, params, members)


def _association(tmp_path, members):
    doc = {"asn_type": "spec2", "asn_rule": "test", "products": [
        {"name": "jw_sci", "members": [{"expname": n, "exptype": t} for n, t in members]}]}
    path = tmp_path / "ifu_asn.json"
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize("skip_imprint", [False, True])
def test_association_imprint_reaches_backgrounds(tmp_path, skip_imprint):
    """Science at dither 1 and two backgrounds at dither 2, each with its own imprint:
    bkg_subtract must see the backgrounds with their (dither 2) imprint removed."""
    from stdatamodels.jwst import datamodels

    import spec2
    from spec2.plugins import get_plugin_manager
    from spec2_nirspec import hooks

    ifu = {"exp_type": "NRS_IFU"}
    rate(10.0, position=1, **ifu).save(str(tmp_path / "sci_rate.fits"))
    rate(3.0, position=2, dq_bit=16, **ifu).save(str(tmp_path / "bkg1_rate.fits"))
    rate(5.0, position=2, **ifu).save(str(tmp_path / "bkg2_rate.fits"))
    rate(1.0, position=1, dq_bit=4, **ifu).save(str(tmp_path / "imp1_rate.fits"))
    rate(2.0, position=2, dq_bit=32, **ifu).save(str(tmp_path / "imp2_rate.fits"))
    asn = _association(tmp_path, [("sci_rate.fits", "science"), ("bkg1_rate.fits", "background"),
                                  ("bkg2_rate.fits", "background"), ("imp1_rate.fits", "imprint"),
                                  ("imp2_rate.fits", "imprint")])
    pm = get_plugin_manager([ImprintRecipePlugin(), hooks], load_entrypoints=False)
    results = spec2.process(asn, tmp_path / "out", pm=pm, skip=["imprint_subtract"] if skip_imprint else ())
    assert results.ok, [r.error for r in results]
    with datamodels.open(tmp_path / "out" / "jw_sci_cal.fits") as cal:
        assert cal.meta.cal_step.bkg_subtract == "COMPLETE"
        if skip_imprint:  # 10 - mean(3, 5)
            assert cal.meta.cal_step.imprint == "SKIPPED"
            np.testing.assert_allclose(cal.data, 6.0)
            assert cal.dq[2, 3] == 16
        else:  # (10 - 1) - mean(3 - 2, 5 - 2)
            assert cal.meta.cal_step.imprint == "COMPLETE"
            np.testing.assert_allclose(cal.data, 7.0)
            assert cal.dq[2, 3] == 16 | 4 | 32


def test_a_bad_imprint_member_fails_its_exposure_only(tmp_path):
    import spec2
    from spec2.plugins import get_plugin_manager
    from spec2_nirspec import hooks

    ifu = {"exp_type": "NRS_IFU"}
    rate(10.0, **ifu).save(str(tmp_path / "a_rate.fits"))
    rate(10.0, **ifu).save(str(tmp_path / "b_rate.fits"))
    rate(1.0, **ifu).save(str(tmp_path / "imp_rate.fits"))
    (tmp_path / "broken_rate.fits").write_bytes(b"SIMPLE  = T" + b" " * 100)
    doc = {"asn_type": "spec2", "asn_rule": "test", "products": [
        {"name": "jw_a", "members": [{"expname": "a_rate.fits", "exptype": "science"},
                                     {"expname": "broken_rate.fits", "exptype": "imprint"}]},
        {"name": "jw_b", "members": [{"expname": "b_rate.fits", "exptype": "science"},
                                     {"expname": "imp_rate.fits", "exptype": "imprint"}]}]}
    (tmp_path / "two_asn.json").write_text(json.dumps(doc))
    pm = get_plugin_manager([ImprintRecipePlugin(), hooks], load_entrypoints=False)
    results = spec2.process(tmp_path / "two_asn.json", tmp_path / "out", pm=pm)
    by_name = {r.name: r for r in results}
    assert by_name["jw_b"].ok and (tmp_path / "out" / "jw_b_cal.fits").is_file()
    error = by_name["jw_a"].error
    assert "imprint member" in error and "broken_rate.fits" in error and "\n" not in error
    assert not (tmp_path / "out" / "jw_a_cal.fits").exists()
