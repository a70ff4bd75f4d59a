"""NIRSpec fixed slit and BOTS, whole pipeline: jwst 3.0.0's calwebb_spec2 and spec2 on
the same simulated exposures from the same local CRDS cache, every step's product
compared array by array."""

from __future__ import annotations

import numpy as np
import pytest
from stdatamodels.jwst import datamodels as dm

from tests.nirspec.conftest import BOTS_STEPS, FS_STEPS, exposures, stem

ARRAYS = ("data", "err", "dq", "var_poisson", "var_rnoise", "var_flat", "wavelength")
SLIT_ATTRS = ("name", "xstart", "xsize", "ystart", "ysize", "source_id", "source_type", "source_xpos", "source_ypos")


def _slits(model):
    return list(model.slits) if hasattr(model, "slits") else [model]


def _assert_same(theirs, mine, label):
    assert type(theirs) is type(mine), label
    a_slits, b_slits = _slits(theirs), _slits(mine)
    assert [getattr(s, "name", None) for s in a_slits] == [getattr(s, "name", None) for s in b_slits], label
    for a, b in zip(a_slits, b_slits):
        where = getattr(a, "name", "")
        for k in ARRAYS:
            x, y = getattr(a, k, None), getattr(b, k, None)
            if x is None or y is None or np.size(x) == 0:
                assert (x is None or np.size(x) == 0) == (y is None or np.size(y) == 0), (label, where, k)
                continue
            np.testing.assert_array_equal(x, y, err_msg=f"{label} {where} {k}")
        if not isinstance(a, dm.SlitModel):
            continue
        for k in SLIT_ATTRS:
            assert getattr(a, k) == getattr(b, k), (label, where, k)


@pytest.mark.parity
@pytest.mark.parametrize("name", ["fs_nrs1", "fs_h_nrs2", "fs_sub", "bots"])
def test_every_step_identical_to_jwst(nrs_sim, jwst_products, spec2_products, name):
    root = stem(exposures(nrs_sim)[name])
    steps = BOTS_STEPS if name == "bots" else FS_STEPS
    final = "calints" if name == "bots" else "cal"
    for step in (*steps, final):
        with dm.open(jwst_products / f"{root}_{step}.fits") as theirs, dm.open(spec2_products / f"{root}_{step}.fits") as mine:
            _assert_same(theirs, mine, f"{name} {step}")
            if step == final:
                for k in ("assign_wcs", "bkg_subtract", "extract_2d", "srctype", "wavecorr", "flat_field", "pathloss",
                          "photom"):
                    assert getattr(theirs.meta.cal_step, k) == getattr(mine.meta.cal_step, k), k
                for a, b in zip(_slits(theirs), _slits(mine)):
                    assert a.meta.bunit_data == b.meta.bunit_data
                    assert a.meta.photometry.pixelarea_steradians == b.meta.photometry.pixelarea_steradians


def test_cal_products_open_in_jwst_with_a_usable_wcs(nrs_sim, spec2_products):
    """jwst's own tools evaluate the WCS spec2 stored in the _cal slits."""
    from gwcs.wcstools import grid_from_bounding_box

    root = stem(exposures(nrs_sim)["fs_nrs1"])
    with dm.open(spec2_products / f"{root}_cal.fits") as cal:
        for slit in cal.slits:
            x, y = grid_from_bounding_box(slit.meta.wcs.bounding_box)
            lam = slit.meta.wcs(x, y)[2]
            np.testing.assert_allclose(lam, slit.wavelength, rtol=1e-6, equal_nan=True)
