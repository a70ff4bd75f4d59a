"""NIRSpec MOS wavecorr, flat_field, pathloss, barshadow and photom against jwst 3.0.0,
forward and inverse, on MOS-like slits.

There is no simulated MSA exposure here: the fixed-slit exposure of the step tests is
cut out by jwst (real NIRSpec slit WCSs), then each slit is given what jwst's MOS
branches read -- EXP_TYPE NRS_MSASPEC, quadrant/xcen/ycen (quadrant F-flat, pixel
area), shutter_state (pathloss aperture, bar shadow joins), source position and type,
slit_yscale -- in a spread of configurations: a lone shutter with an off-centre point
source, a 1x3 extended slitlet, a two-shutter slitlet with the source at its bottom,
a slitlet with a closed shutter in it, and a quadrant-5 slit as jwst's MOS step sees it.
jwst runs the chain once (module fixture); each spec2 step gets jwst's input to that
step, so a difference is that step's own.
"""

from __future__ import annotations

import numpy as np
import pytest

from spec2_nirspec import hooks
from tests.nirspec.stepdata import Refs, jwst_overrides

pytestmark = [pytest.mark.slow, pytest.mark.parity]

MOS_SLITS = {
    # name: quadrant, xcen, ycen, shutter_state, source_type, source_xpos, source_ypos, slit_yscale
    "S200A1": (1, 100, 50, "x", "POINT", 0.2, -0.1, 1.15),
    "S200A2": (2, 200, 120, "1x1", "EXTENDED", 0.0, 0.0, None),
    "S400A1": (3, 30, 10, "x1", "POINT", -0.15, 0.2, 1.2),
    "S1600A1": (4, 300, 160, "10x1", "EXTENDED", 0.0, 0.0, 1.1),
    "S200B1": (5, 0, 0, "x", "EXTENDED", 0.0, 0.0, None),
}
STEPS = ("wavecorr", "flat_field", "pathloss", "barshadow", "photom")
INVERTIBLE = ("flat_field", "pathloss", "barshadow", "photom")
ARRAYS = ("data", "err", "dq", "var_poisson", "var_rnoise", "var_flat", "wavelength")
EXTRA = {"pathloss": ("pathloss_point", "pathloss_uniform"), "barshadow": ("barshadow",)}


def mos_like(model):
    """The cut-outs of a fixed-slit MultiSlitModel turned into MOS slitlets, in place."""
    model.meta.exposure.type = "NRS_MSASPEC"
    for k, slit in enumerate(model.slits):
        q, x, y, state, kind, xpos, ypos, yscale = MOS_SLITS[slit.name]
        slit.meta.exposure.type = "NRS_MSASPEC"
        slit.quadrant, slit.xcen, slit.ycen, slit.shutter_state = q, x, y, state
        slit.slitlet_id, slit.source_type = k + 1, kind
        slit.source_xpos, slit.source_ypos = xpos, ypos
        if yscale is not None:
            slit.slit_yscale = yscale
    return model


def _reference_files(root):
    from spec2_nirspec.sim import references_cal as rc

    return {
        "fflat": rc.write_quad_fflat(root / "fflat.fits", "ANY", "ANY"),
        "pathloss": rc.write_mos_pathloss(root / "pathloss.fits"),
        "barshadow": rc.write_barshadow(root / "barshadow.fits"),
        "photom": rc.write_mos_photom(root / "photom.fits"),
        "area": rc.write_mos_area(root / "area.fits"),
        "wavecorr": rc.write_mos_wavecorr(root / "wavecorr.asdf"),
    }


def _jwst_step(name):
    from jwst.barshadow import BarShadowStep
    from jwst.flatfield import FlatFieldStep
    from jwst.pathloss import PathLossStep
    from jwst.photom import PhotomStep
    from jwst.wavecorr import WavecorrStep

    return {"wavecorr": WavecorrStep, "flat_field": FlatFieldStep, "pathloss": PathLossStep,
            "barshadow": BarShadowStep, "photom": PhotomStep}[name]


def _overrides(name, files):
    keys = {"wavecorr": ("wavecorr",), "flat_field": ("fflat", "sflat", "dflat"), "pathloss": ("pathloss",),
            "barshadow": ("barshadow",), "photom": ("photom", "area")}[name]
    extra = {"override_flat": "N/A"} if name == "flat_field" else {}
    return {**{f"override_{k}": str(files[k]) for k in keys}, **extra}


@pytest.fixture(scope="module")
def mos_runs(step_data, tmp_path_factory):
    """jwst's chain on the MOS-like slits: {step: (input, output, inverse of output)}
    and the reference files."""
    from jwst.assign_wcs import AssignWcsStep
    from jwst.extract_2d import Extract2dStep

    path, grating, filt = step_data["fs"]
    ov = jwst_overrides(step_data["paths"], grating, filt)
    cutouts = Extract2dStep.call(AssignWcsStep.call(str(path), **ov),
                                 override_wavelengthrange=ov["override_wavelengthrange"])
    assert set(MOS_SLITS) <= {s.name for s in cutouts.slits}
    files = {**_reference_files(tmp_path_factory.mktemp("mos_refs")),
             "sflat": step_data["paths"]["sflat"], "dflat": step_data["paths"]["dflat"]}
    runs = {}
    model = mos_like(cutouts)
    for name in STEPS:
        step, kw = _jwst_step(name), _overrides(name, files)
        output = step.call(model.copy(), **kw)
        inverse = step.call(output.copy(), inverse=True, **kw) if name in INVERTIBLE else None
        runs[name] = (model, output, inverse)
        model = output
    return runs, files


def _refs(files):
    from stdatamodels.jwst import datamodels as dm

    kinds = {"fflat": dm.NirspecQuadFlatModel, "sflat": dm.NirspecFlatModel, "dflat": dm.NirspecFlatModel,
             "pathloss": dm.PathlossModel, "barshadow": dm.BarshadowModel, "photom": dm.NrsMosPhotomModel,
             "area": dm.NirspecMosAreaModel, "wavecorr": dm.WaveCorrModel}
    return Refs({k: kind(str(files[k])) for k, kind in kinds.items()})


def _run_mine(name, model, refs, inverse=False):
    hook = {"wavecorr": hooks.wavecorr, "flat_field": hooks.flat, "pathloss": hooks.pathloss,
            "barshadow": hooks.barshadow, "photom": hooks.photom}[name]
    params = {"inverse": inverse, "source_type": None}
    return hook(model, refs, params) if name != "wavecorr" else hook(model, refs)


def _compare(theirs, mine, name):
    for a, b in zip(theirs.slits, mine.slits, strict=True):
        for k in (*ARRAYS, *EXTRA.get(name, ())):
            x, y = getattr(a, k, None), getattr(b, k, None)
            if x is None and y is None:
                continue
            np.testing.assert_array_equal(x, y, err_msg=f"{name}: {a.name} {k}")
        for k in ("pathloss_correction_type", "barshadow_corrected", "wavelength_corrected"):
            assert getattr(a, k, None) == getattr(b, k, None), (name, a.name, k)
        assert a.meta.bunit_data == b.meta.bunit_data, (name, a.name)
        for k in ("pixelarea_steradians", "pixelarea_arcsecsq", "conversion_megajanskys", "conversion_microjanskys"):
            assert getattr(a.meta.photometry, k) == getattr(b.meta.photometry, k), (name, a.name, k)
    assert theirs.meta.bunit_data == mine.meta.bunit_data


@pytest.mark.parametrize("name", STEPS)
def test_mos_step_parity(mos_runs, name):
    runs, files = mos_runs
    before, theirs, _ = runs[name]
    mine = _run_mine(name, before.copy(), _refs(files))
    _compare(theirs, mine, name)
    changed = {a.name: not np.array_equal(a.data, b.data, equal_nan=True) for a, b in zip(before.slits, mine.slits)}
    if name in ("flat_field", "pathloss", "photom"):
        assert all(changed.values()), changed
    if name == "pathloss":
        assert [s.pathloss_correction_type for s in mine.slits] == [
            "POINT" if s[4] == "POINT" else "UNIFORM" for s in MOS_SLITS.values()]
    if name == "wavecorr":  # the two point sources, each in its shutter
        assert [s.wavelength_corrected for s in mine.slits] == [s[4] == "POINT" for s in MOS_SLITS.values()]
    if name == "barshadow":
        corrected = {s.name: bool(s.barshadow_corrected) for s in mine.slits}
        assert corrected == {n: s[4] == "EXTENDED" for n, s in MOS_SLITS.items()}
        assert changed == corrected


@pytest.mark.parametrize("name", INVERTIBLE)
def test_mos_inverse_parity(mos_runs, name):
    """inverse=True on the step's own output: as jwst's, and back to the step's input."""
    runs, files = mos_runs
    before, theirs, theirs_inverse = runs[name]
    mine = _run_mine(name, theirs.copy(), _refs(files), inverse=True)
    _compare(theirs_inverse, mine, name)
    for a, b in zip(before.slits, mine.slits, strict=True):
        good = np.isfinite(a.data) & np.isfinite(b.data)
        assert good.mean() > 0.5
        np.testing.assert_array_max_ulp(a.data[good], b.data[good], maxulp=4)


@pytest.mark.parametrize("name", ("pathloss", "barshadow", "photom"))
def test_mos_forced_extended_parity(mos_runs, name):
    """source_type=EXTENDED, as master background runs them on its 2-D background:
    point-source slitlets calibrated as uniform, as jwst's steps do."""
    runs, files = mos_runs
    before, _, _ = runs[name]
    theirs = _jwst_step(name).call(before.copy(), source_type="EXTENDED", **_overrides(name, files))
    hook = {"pathloss": hooks.pathloss, "barshadow": hooks.barshadow, "photom": hooks.photom}[name]
    mine = hook(before.copy(), _refs(files), {"inverse": False, "source_type": "EXTENDED"})
    _compare(theirs, mine, name)
    point = [s for s in mine.slits if s.source_type == "POINT"]
    assert point
    for slit in point:
        if name == "pathloss":
            assert slit.pathloss_correction_type == "UNIFORM"
        if name == "barshadow":
            assert slit.barshadow_corrected
        if name == "photom":
            assert slit.meta.bunit_data == "MJy/sr"
