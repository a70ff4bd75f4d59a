"""The shared slit extraction (spec2.steps.extract_slit) on hand-made multi-slit models."""

from __future__ import annotations

import numpy as np
import pytest

from spec2.algorithms import extract1d as ex
from spec2.steps.extract_slit import SlitMode, extract_slits, slit_name

NY, NX = 5, 12
MODE = SlitMode("hand-made slits", ex.HORIZONTAL, aperture_id=slit_name)


def _wcs():
    """pixel (x, y) -> (ra, dec, wavelength um): constant sky, 1 + 0.01 x um."""
    from astropy.modeling import models
    from gwcs.wcs import WCS

    forward = models.Mapping((0, 1, 0)) | (models.Const1D(10.0) & models.Const1D(20.0)
                                           & (models.Scale(0.01) | models.Shift(1.0)))
    return WCS(forward_transform=forward, input_frame="detector", output_frame="world")


def _multislit(photom=None):
    """Two slits of constant 2 DN/s (MJy/sr once 'calibrated'); EXP_TYPE NRS_MSASPEC."""
    from stdatamodels.jwst import datamodels

    model = datamodels.MultiSlitModel()
    model.meta.exposure.type = "NRS_MSASPEC"
    model.meta.instrument.name, model.meta.instrument.detector = "NIRSPEC", "NRS1"
    if photom is not None:
        model.meta.cal_step.photom = photom
    for name in ("1", "2"):
        slit = datamodels.SlitModel(data=np.full((NY, NX), 2.0, np.float32))
        slit.name, slit.source_type = name, "EXTENDED"
        slit.wavelength = np.broadcast_to(1.0 + 0.01 * np.arange(NX), (NY, NX)).copy()
        slit.meta.wcs = _wcs()
        slit.meta.wcsinfo.dispersion_direction = 1
        slit.meta.photometry.pixelarea_steradians = 1e-12
        model.slits.append(slit)
    return model


@pytest.mark.parametrize("photom", [None, "SKIPPED"])
def test_slits_where_photom_never_ran_are_summed_in_dn(photom):
    """A slit of a MultiSlitModel has no cal_step: photom's status is the exposure's (it
    crashed on such slits before); without photom FLUX is the summed count rate."""
    x1d = extract_slits(_multislit(photom), None, None, MODE)
    assert [s.name for s in x1d.spec] == ["1", "2"]
    for spec in x1d.spec:
        assert spec.spec_table.columns["FLUX"].unit == "DN/s"
        np.testing.assert_allclose(spec.spec_table["FLUX"], 2.0 * NY)


def test_photom_status_of_the_exposure_makes_calibrated_columns():
    x1d = extract_slits(_multislit("COMPLETE"), None, None, MODE)
    spec = x1d.spec[0]
    assert spec.spec_table.columns["FLUX"].unit == "Jy"
    # MJy/sr x sr per pixel x 1e6 Jy/MJy, summed over the rows
    np.testing.assert_allclose(spec.spec_table["FLUX"], 2.0 * NY * 1e-12 * 1e6, rtol=1e-6)
    np.testing.assert_allclose(spec.spec_table["SURF_BRIGHT"], 2.0, rtol=1e-6)
