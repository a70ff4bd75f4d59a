"""NIRSpec extract_2d, srctype and wavecorr against jwst 3.0.0 on a simulated exposure
(fixed slits on full frame, and a BOTS series), each step fed the same input."""

from __future__ import annotations

import numpy as np
import pytest

from spec2_nirspec import hooks
from tests.nirspec.stepdata import WAVECORR_SHIFT, jwst_overrides, spec2_refs

ARRAYS = ("data", "err", "dq", "var_poisson", "var_rnoise", "wavelength")
ATTRS = ("name", "xstart", "xsize", "ystart", "ysize", "source_id", "source_xpos", "source_ypos", "source_type",
         "slit_ymin", "slit_ymax", "shutter_id")


def _assert_slits_equal(theirs, mine):
    for k in ARRAYS:
        np.testing.assert_array_equal(getattr(theirs, k), getattr(mine, k), err_msg=f"{theirs.name} {k}")
    for k in ATTRS:
        assert getattr(theirs, k) == getattr(mine, k), (theirs.name, k)
    assert theirs.meta.wcsinfo.s_region == mine.meta.wcsinfo.s_region


@pytest.mark.parity
@pytest.mark.parametrize("case", ["fs", "bots"])
def test_extract_2d_srctype_wavecorr_parity(step_data, case):
    from gwcs.wcstools import grid_from_bounding_box
    from jwst.assign_wcs import AssignWcsStep
    from jwst.extract_2d import Extract2dStep
    from jwst.srctype import SourceTypeStep
    from jwst.wavecorr import WavecorrStep
    from stdatamodels.jwst import datamodels as dm

    path, grating, filt = step_data[case]
    ov = jwst_overrides(step_data["paths"], grating, filt)
    theirs = SourceTypeStep.call(Extract2dStep.call(AssignWcsStep.call(str(path), **ov),
                                                    override_wavelengthrange=ov["override_wavelengthrange"]))
    refs = spec2_refs(step_data["paths"], grating, filt)
    mine = hooks.srctype(hooks.extract_2d(hooks.assign_wcs(dm.open(path), refs, path.parent)), {"source_type": ""})
    assert type(theirs) is type(mine)
    pairs = list(zip(theirs.slits, mine.slits, strict=True)) if case == "fs" else [(theirs, mine)]
    assert len(pairs) == (5 if case == "fs" else 1)
    for a, b in pairs:
        _assert_slits_equal(a, b)

    theirs = WavecorrStep.call(theirs, override_wavecorr=str(step_data["paths"]["wavecorr"]))
    mine = hooks.wavecorr(mine, refs)
    pairs = list(zip(theirs.slits, mine.slits, strict=True)) if case == "fs" else [(theirs, mine)]
    corrected = 0
    for a, b in pairs:
        _assert_slits_equal(a, b)
        if case == "fs":
            assert a.wavelength_corrected == b.wavelength_corrected
        if "wavecorr_frame" in a.meta.wcs.available_frames:
            corrected += 1
            assert "wavecorr_frame" in b.meta.wcs.available_frames
            x, y = grid_from_bounding_box(a.meta.wcs.bounding_box)
            for p, q in zip(a.meta.wcs(x, y), b.meta.wcs(x, y), strict=True):
                np.testing.assert_array_equal(p, q)
    assert corrected == 1  # the point source in the primary slit only


def test_wavecorr_moves_wavelengths_by_the_offset(step_data):
    """An off-centre source's wavelengths move by offset(lambda, xpos) pixels of
    dispersion, computed here by hand from the table."""
    from stdatamodels.jwst import datamodels as dm

    path, grating, filt = step_data["fs"]
    refs = spec2_refs(step_data["paths"], grating, filt)
    model = hooks.srctype(hooks.extract_2d(hooks.assign_wcs(dm.open(path), refs, path.parent)), {"source_type": ""})
    before = {s.name: s.wavelength.copy() for s in model.slits}
    model = hooks.wavecorr(model, refs)
    primary = next(s for s in model.slits if s.name == "S200A2")
    lam0 = before["S200A2"].astype(float)
    row = lam0.shape[0] // 2
    disp = np.gradient(lam0[row])
    xpos = primary.source_xpos
    expected_shift = WAVECORR_SHIFT * xpos * (1 + 0.02 * (lam0[row] - 3))
    got = (primary.wavelength[row] - lam0[row]) / disp
    ok = np.isfinite(got)
    np.testing.assert_allclose(got[ok][5:-5], expected_shift[ok][5:-5], atol=0.02)
    for s in model.slits:  # extended-source slits are untouched
        if s.name != "S200A2":
            np.testing.assert_array_equal(s.wavelength, before[s.name])
