"""The simulated MIRI LRS detector's bad pixels: a property of the detector (the same in
both nods), clear of the sources' extraction apertures, one hot pixel in the slit.

Before, each nod had a dead pixel placed under its own PSF core at dy = +8 (7.27 micron,
not the 10 micron its comment said); jwst and spec2 alike then lose 16 % of the flux at
7.26 micron with DQ 0 in both nods' _x1d."""

import numpy as np

from spec2_miri import instrument as ins
from spec2_miri.sim import lrs
from spec2_miri.sim.references import EXTRACT_WIDTH


def test_defects_clear_of_both_nod_apertures():
    ys, xs = lrs.detector_defects()
    x0, y0 = ins.FS_REF[0] - 1, ins.FS_REF[1] - 1
    dy = ys - y0
    for offset in lrs.NOD_OFFSETS:
        trace = x0 + ins.trace_shift(dy) + offset / ins.PIXEL_SCALE
        in_aperture = (np.abs(xs - trace) <= EXTRACT_WIDTH / 2 + 1) & (dy >= ins.DY_MIN) & (dy <= ins.DY_MAX)
        assert not in_aperture.any(), list(zip(ys[in_aperture], xs[in_aperture]))
    assert ys.size == 41


def test_hot_pixel_in_the_slit_at_10_micron():
    ys, xs = lrs.detector_defects()
    x0, y0 = ins.FS_REF[0] - 1, ins.FS_REF[1] - 1
    y, x = ys[-1], xs[-1]
    assert abs(ins.wavelength_at(y - y0) - lrs.HOT_PIXEL_WAVELENGTH) < 0.05
    assert abs(x - x0) <= 1  # the slit centre, between the nods (+-13.6 columns)


def test_both_nods_have_the_detector_defects(tmp_path):
    from stdatamodels.jwst import datamodels

    maps = []
    for i, offset in enumerate(lrs.NOD_OFFSETS):
        path = lrs.fixed_slit_exposure(tmp_path / f"nod{i}_rate.fits", offset, seed=i)
        with datamodels.open(path) as m:
            maps.append(m.dq.copy())
    np.testing.assert_array_equal(maps[0], maps[1])
    ys, xs = lrs.detector_defects()
    assert np.all(maps[0][ys, xs] & 1)
    assert np.count_nonzero(maps[0]) == ys.size
