"""NIRSpec fixed-slit pathloss and FS/BOTS photom against jwst 3.0.0, each step fed the
same input (jwst's own wavecorr output), with test-made reference files."""

from __future__ import annotations

import numpy as np
import pytest

from spec2_nirspec import hooks
from tests.nirspec.stepdata import jwst_overrides, spec2_refs

ARRAYS = ("data", "err", "dq", "var_poisson", "var_rnoise", "wavelength")


def _wavecorr_output(step_data, case):
    from jwst.assign_wcs import AssignWcsStep
    from jwst.extract_2d import Extract2dStep
    from jwst.srctype import SourceTypeStep
    from jwst.wavecorr import WavecorrStep

    path, grating, filt = step_data[case]
    ov = jwst_overrides(step_data["paths"], grating, filt)
    model = AssignWcsStep.call(str(path), **ov)
    model = Extract2dStep.call(model, override_wavelengthrange=ov["override_wavelengthrange"])
    model = SourceTypeStep.call(model)
    return WavecorrStep.call(model, override_wavecorr=str(step_data["paths"]["wavecorr"]))


def _slits(model):
    return list(model.slits) if hasattr(model, "slits") else [model]


def _compare(theirs, mine, extra=()):
    for a, b in zip(_slits(theirs), _slits(mine), strict=True):
        for k in (*ARRAYS, "var_flat", *extra):
            x, y = getattr(a, k, None), getattr(b, k, None)
            if x is None and y is None:
                continue
            np.testing.assert_array_equal(x, y, err_msg=f"{a.name} {k}")
        assert a.meta.bunit_data == b.meta.bunit_data
        for k in ("pixelarea_steradians", "pixelarea_arcsecsq", "conversion_megajanskys", "conversion_microjanskys"):
            assert getattr(a.meta.photometry, k) == getattr(b.meta.photometry, k), (a.name, k)


@pytest.mark.parity
def test_pathloss_parity(step_data):
    from jwst.pathloss import PathLossStep

    base = _wavecorr_output(step_data, "fs")
    theirs = PathLossStep.call(base.copy(), override_pathloss=str(step_data["paths"]["pathloss"]))
    refs = spec2_refs(step_data["paths"], "G235H", "F170LP")
    mine = hooks.pathloss(base.copy(), refs, {"inverse": False})
    _compare(theirs, mine, extra=("pathloss_point", "pathloss_uniform"))
    types = {s.name: s.pathloss_correction_type for s in mine.slits}
    assert types == {s.name: s.pathloss_correction_type for s in theirs.slits}
    assert types["S200A2"] == "POINT" and types["S200A1"] == "UNIFORM"


@pytest.mark.parity
@pytest.mark.parametrize("case", ["fs", "bots"])
def test_photom_parity(step_data, case):
    from jwst.photom import PhotomStep

    base = _wavecorr_output(step_data, case)
    paths = step_data["paths"]
    theirs = PhotomStep.call(base.copy(), override_photom=str(paths["photom"]), override_area=str(paths["area"]))
    grating, filt = step_data[case][1:]
    mine = hooks.photom(base.copy(), spec2_refs(paths, grating, filt), {"inverse": False})
    _compare(theirs, mine, extra=("photom_point", "photom_uniform") if case == "fs" else ())
    assert theirs.meta.bunit_data == mine.meta.bunit_data


@pytest.mark.parity
@pytest.mark.parametrize("case", ["fs", "bots"])
def test_flat_field_parity(step_data, case):
    """The flat built per pixel from fflat/sflat/dflat at each pixel's wavelength,
    applied to SCI/ERR/VAR_*/DQ, identical to jwst's (point-source slits twice: with and
    without the wavelength zero point)."""
    from jwst.flatfield import FlatFieldStep

    base = _wavecorr_output(step_data, case)
    paths = step_data["paths"]
    theirs = FlatFieldStep.call(base.copy(), override_fflat=str(paths["fflat"]), override_sflat=str(paths["sflat"]),
                                override_dflat=str(paths["dflat"]), override_flat="N/A")
    grating, filt = step_data[case][1:]
    mine = hooks.flat(base.copy(), spec2_refs(paths, grating, filt), {"inverse": False})
    _compare(theirs, mine, extra=("flatfield_point", "flatfield_uniform") if case == "fs" else ())
    flagged = sum(int(((s.dq & 1) != 0).sum()) for s in _slits(mine))
    assert flagged > 0  # the bad flat pixels reached the data
