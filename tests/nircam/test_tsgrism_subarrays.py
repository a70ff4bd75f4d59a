"""NIRCam grism time series on a subarray taller than the cut-out (SUBGRISM128): jwst
3.0.0 cuts the team's 64-row band around the source, not the whole subarray, and attaches
the subarray's pixel-area map (AREA); spec2 must give the same ``_calints`` and
``_x1dints``."""

from __future__ import annotations

import numpy as np
import pytest

from tests.nircam.conftest import NINTS_128, STEPS, same_tsgrism_product, same_x1dints


@pytest.mark.slow
def test_subgrism128_cuts_64_rows_and_carries_the_area(tsgrism128_sim, tsgrism128_spec2):
    """The cut-out is rows 1-64 of the 128 (the source on row 34); AREA is the map over
    the whole subarray (as jwst attaches it), PIXAR_SR from the area file."""
    from stdatamodels.jwst import datamodels

    from spec2_nircam import instrument as ins

    with datamodels.open(tsgrism128_spec2 / f"{tsgrism128_sim['stem']}_calints.fits") as cal:
        assert cal.meta.subarray.name == "SUBGRISM128" and cal.meta.subarray.ysize == 128
        assert cal.data.shape == (NINTS_128, 64, 2048)
        assert (cal.ystart, cal.ysize, cal.source_ypos) == (1, 64, 34)
        np.testing.assert_array_equal(cal.area, ins.pixel_area(ins.FULL_SHAPE)[:128])
        assert cal.meta.photometry.pixelarea_steradians == pytest.approx(ins.PIXAR_SR, rel=1e-12)
        assert cal.meta.ref_file.area.name == "crds://spec2sim_nircam_tsgrism_area.fits"


@pytest.mark.parity
@pytest.mark.slow
@pytest.mark.parametrize("step", [*STEPS, "calints"])
def test_subgrism128_each_step_matches_jwst(step, tsgrism128_sim, tsgrism128_jwst, tsgrism128_spec2):
    """Every array bit for bit, AREA included, after each step and in the ``_calints``."""
    from stdatamodels.jwst import datamodels

    name = f"{tsgrism128_sim['stem']}_{step}.fits"
    with datamodels.open(tsgrism128_spec2 / name) as a, datamodels.open(tsgrism128_jwst / name) as b:
        same_tsgrism_product(a, b, step)


@pytest.mark.parity
@pytest.mark.slow
def test_subgrism128_x1dints_matches_jwst(tsgrism128_sim, tsgrism128_jwst, tsgrism128_spec2):
    from stdatamodels.jwst import datamodels

    name = f"{tsgrism128_sim['stem']}_x1dints.fits"
    with datamodels.open(tsgrism128_spec2 / name) as a, datamodels.open(tsgrism128_jwst / name) as b:
        same_x1dints(a, b, NINTS_128)
