"""The pixel-area map (AREA) and nominal pixel area that grism photom attaches, worked on
small arrays by hand."""

from __future__ import annotations

import numpy as np
import pytest
from stdatamodels.jwst.datamodels import PixelAreaModel, SlitModel

from spec2.errors import ReferenceFileError
from spec2.steps.grism_photom import set_photometry_keywords, subarray_area


def _area(shape=(40, 30), sr=2.0e-13, a2=8.0e-3):
    m = PixelAreaModel(data=np.arange(np.prod(shape), dtype=np.float32).reshape(shape))
    m.meta.photometry.pixelarea_steradians, m.meta.photometry.pixelarea_arcsecsq = sr, a2
    return m


def _cutout(ystart=1, ysize=16, xstart=1, xsize=30, rows=8):
    """A SlitModel cut-out of ``rows`` rows from a subarray (SUBSTRT/SUBSIZE as given)."""
    s = SlitModel(data=np.zeros((2, rows, xsize), np.float32))
    sub = s.meta.subarray
    sub.name, sub.xstart, sub.ystart, sub.xsize, sub.ysize = "SUBGRISM64", xstart, ystart, xsize, ysize
    return s


def test_area_is_the_subarray_window_not_the_cutout():
    """As jwst: the map cut to SUBSTRT/SUBSIZE (16 rows from detector row 5), whatever
    rows the cut-out (8 here) holds."""
    area = _area()
    cut = subarray_area(area, _cutout(ystart=5, ysize=16, xstart=3, xsize=20).meta.subarray)
    assert cut.shape == (16, 20) and cut.dtype == np.float32
    np.testing.assert_array_equal(cut, area.data[4:20, 2:22])
    assert cut[0, 0] == 4 * 30 + 2


def test_area_not_covering_the_subarray_is_a_clear_error():
    with pytest.raises(ReferenceFileError, match="does not cover subarray SUBGRISM64"):
        subarray_area(_area(), _cutout(ystart=30, ysize=16).meta.subarray)


class _Photom:
    def __init__(self, sr, a2):
        self.meta = PixelAreaModel().meta
        self.meta.photometry.pixelarea_steradians, self.meta.photometry.pixelarea_arcsecsq = sr, a2


@pytest.mark.parametrize(("area", "expected"), [
    (None, (1.0e-13, 4.0e-3)),                     # no area file: the photom header's
    (_area(), (2.0e-13, 8.0e-3)),                  # the area file's header wins (jwst)
    (_area(sr=None, a2=None), (1.0e-13, 4.0e-3)),  # an area file without them: photom's
])
def test_nominal_pixel_area_source(area, expected):
    s = _cutout()
    set_photometry_keywords(s.meta, np.float32(0.5), _Photom(1.0e-13, 4.0e-3), area)
    p = s.meta.photometry
    assert (p.pixelarea_steradians, p.pixelarea_arcsecsq) == expected
    assert p.conversion_megajanskys == 0.5 and s.meta.bunit_data == "MJy/sr"
