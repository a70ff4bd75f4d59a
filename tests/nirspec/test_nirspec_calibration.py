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
    for a, b in zip(a_slits, b_slits, strict=True):
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
                for a, b in zip(_slits(theirs), _slits(mine), strict=True):
                    assert a.meta.bunit_data == b.meta.bunit_data
                    assert a.meta.photometry.pixelarea_steradians == b.meta.photometry.pixelarea_steradians


def test_cal_products_open_in_jwst_with_a_usable_wcs(nrs_sim, spec2_products):
    """jwst's own tools evaluate the WCS spec2 stored in the _cal slits."""
    from gwcs.wcstools import grid_from_bounding_box

    root = stem(exposures(nrs_sim)["fs_nrs1"])
    with dm.open(spec2_products / f"{root}_cal.fits") as cal:
        assert "S200A1" in [slit.name for slit in cal.slits]  # the primary slit at least
        for slit in cal.slits:
            x, y = grid_from_bounding_box(slit.meta.wcs.bounding_box)
            lam = slit.meta.wcs(x, y)[2]
            np.testing.assert_allclose(lam, slit.wavelength, rtol=1e-6, equal_nan=True)


S2D_ARRAYS = ("data", "wht", "con", "err", "var_poisson", "var_rnoise", "var_flat", "wavelength")


@pytest.mark.parity
@pytest.mark.parametrize("name", ["fs_nrs1", "fs_h_nrs2", "fs_sub"])
def test_s2d_identical_to_jwst(nrs_sim, jwst_products, spec2_products, name):
    """The resampled slits: same grid, WCS (at every output pixel), arrays, S_REGION."""
    from gwcs.wcstools import grid_from_bounding_box

    root = stem(exposures(nrs_sim)[name])
    with dm.open(jwst_products / f"{root}_s2d.fits") as theirs, dm.open(spec2_products / f"{root}_s2d.fits") as mine:
        assert [s.name for s in theirs.slits] == [s.name for s in mine.slits]
        for a, b in zip(theirs.slits, mine.slits, strict=True):
            for k in S2D_ARRAYS:
                np.testing.assert_array_equal(getattr(a, k), getattr(b, k), err_msg=f"{name} {a.name} {k}")
            grid = grid_from_bounding_box(a.meta.wcs.bounding_box)
            for p, q in zip(a.meta.wcs(*grid), b.meta.wcs(*grid), strict=True):
                np.testing.assert_array_equal(p, q)
            assert a.meta.wcsinfo.s_region == b.meta.wcsinfo.s_region
            assert a.meta.photometry.pixelarea_steradians == b.meta.photometry.pixelarea_steradians
            for k in ("source_id", "source_type", "source_xpos", "source_ypos", "xstart", "ystart"):
                assert getattr(a, k) == getattr(b, k), (a.name, k)


@pytest.mark.parity
@pytest.mark.parametrize("name", ["fs_nrs1", "fs_h_nrs2", "fs_sub", "bots"])
def test_x1d_matches_jwst(nrs_sim, jwst_products, spec2_products, name):
    """Every column of every spectrum to double-precision rounding (sums taken in another
    order), the extraction box and the spectrum's identity."""
    root = stem(exposures(nrs_sim)[name])
    suffix = "x1dints" if name == "bots" else "x1d"
    with dm.open(jwst_products / f"{root}_{suffix}.fits") as theirs, dm.open(spec2_products / f"{root}_{suffix}.fits") as mine:
        assert type(theirs) is type(mine)
        assert [s.name for s in theirs.spec] == [s.name for s in mine.spec]
        for a, b in zip(theirs.spec, mine.spec, strict=True):
            for column in a.spec_table.columns.names:
                x, y = np.asarray(a.spec_table[column]), np.asarray(b.spec_table[column])
                if x.dtype.kind == "f":
                    np.testing.assert_allclose(y, x, rtol=1e-12, atol=0, equal_nan=True, err_msg=f"{a.name} {column}")
                else:
                    np.testing.assert_array_equal(y, x, err_msg=f"{a.name} {column}")
            for k in ("source_type", "extraction_xstart", "extraction_xstop", "extraction_ystart", "extraction_ystop",
                      "slit_ra", "slit_dec", "spectral_order", "dispersion_direction", "source_id"):
                assert getattr(a, k) == getattr(b, k), (a.name, k)
        if name == "bots":
            np.testing.assert_array_equal(theirs.int_times, mine.int_times)


@pytest.mark.parity
def test_nod_association_identical_to_jwst(nrs_sim, jwst_products, spec2_products):
    """A two-point nod on S200A1 as one association, each nod the other's background:
    the background-subtracted image, the _cal and _s2d identical, the _x1d to 1e-12."""
    for rate in nrs_sim["nod_rates"]:
        root = stem(rate)
        for step in ("bsub", "cal", "s2d"):
            with dm.open(jwst_products / f"{root}_{step}.fits") as theirs, \
                    dm.open(spec2_products / f"{root}_{step}.fits") as mine:
                if step == "s2d":
                    for a, b in zip(theirs.slits, mine.slits, strict=True):
                        for k in S2D_ARRAYS:
                            np.testing.assert_array_equal(getattr(a, k), getattr(b, k), err_msg=f"{root} {k}")
                else:
                    _assert_same(theirs, mine, f"{root} {step}")
        with dm.open(jwst_products / f"{root}_x1d.fits") as theirs, dm.open(spec2_products / f"{root}_x1d.fits") as mine:
            for a, b in zip(theirs.spec, mine.spec, strict=True):
                for column in ("FLUX", "FLUX_ERROR", "SURF_BRIGHT", "BACKGROUND", "WAVELENGTH"):
                    np.testing.assert_allclose(b.spec_table[column], a.spec_table[column], rtol=1e-12, equal_nan=True)
        with dm.open(spec2_products / f"{root}_cal.fits") as cal:
            assert cal.meta.cal_step.bkg_subtract == "COMPLETE"
