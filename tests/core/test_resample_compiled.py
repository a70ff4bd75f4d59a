"""The per-slit WCS evaluations of resample_spec go through spec2.wcs.compiled: the
same values as calling the astropy models, without astropy's per-node call overhead
(on a 168-slitlet NIRSpec MOS exposure that overhead was ~0.02 s a slitlet)."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def rectified():
    from spec2.algorithms.resample import RectifiedGrid, rectified_wcs

    grid = RectifiedGrid(dispaxis=1, wavelengths=np.linspace(1.0, 2.0, 12), ra0=150.0, dec0=2.0,
                         x_slope=1e-5, x_intercept=-5e-5, y_slope=3e-5, y_intercept=-1.5e-4, n_spatial=10)
    return rectified_wcs(grid)


def test_pixel_map_equals_the_backward_transform_without_calling_astropy(rectified, monkeypatch):
    from spec2.algorithms.resample import WcsSample, pixel_map

    y, x = np.mgrid[0:10, 0:12].astype(float)
    ra, dec, lam = rectified(x + 0.25, y - 0.25)
    sample = WcsSample(((-0.5, 11.5), (-0.5, 9.5)), 0, 0, ra, dec, lam)
    want_x, want_y = rectified.backward_transform(ra, dec, lam)
    from astropy.modeling.core import CompoundModel

    monkeypatch.setattr(CompoundModel, "__call__", lambda *a, **k: pytest.fail("astropy model called"))
    pixmap = pixel_map(sample, rectified, (10, 12))
    np.testing.assert_array_equal(pixmap[..., 0], want_x)
    np.testing.assert_array_equal(pixmap[..., 1], want_y)


def test_output_wavelengths_equal_the_wcs_without_calling_astropy(rectified, monkeypatch):
    from spec2.steps.resample_slit import output_model

    want = rectified(np.arange(12.0), np.zeros(12))[2]
    from astropy.modeling.core import CompoundModel

    monkeypatch.setattr(CompoundModel, "__call__", lambda *a, **k: pytest.fail("astropy model called"))
    arrays = {name: np.ones((10, 12), np.float32) for name in
              ("data", "wht", "err", "var_rnoise", "var_flat", "var_poisson")}
    arrays["con"] = np.zeros((1, 10, 12), np.int32)
    from stdatamodels.jwst import datamodels

    out = output_model(datamodels.SlitModel(), arrays, rectified, dispaxis=1)
    np.testing.assert_array_equal(out.wavelength, np.broadcast_to(want.astype(np.float32), (10, 12)))
