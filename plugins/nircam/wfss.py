"""NIRCam wide-field slitless spectroscopy (NRC_WFSS): the instrument's facts for the
core's WFSS steps (:mod:`spec2.steps.wfss`).

PUPIL is the grism (GRISMR disperses along rows, GRISMC along columns) and FILTER keys
the wavelengthrange; the WCS's dispersion is stdatamodels' NIRCam grism transform
(:func:`spec2_nircam.assign_wcs.wfss_dispersion`); a pixel's wavelength comes from the
trace parameter at its along-dispersion offset (the inverse offset model, as NIRCam's
forward dispersion finds it); the traces are not turned.
"""

from __future__ import annotations

from spec2.algorithms.grism import wavelength_at_pixels
from spec2.steps.wfss import WfssInstrument
from spec2_nircam.assign_wcs import wfss_dispersion


def pixel_wavelengths(order, x, y, x0, y0, *, axis, rotation):
    """NIRCam's forward dispersion at dispersed-image pixels (``rotation`` is always 0)."""
    return wavelength_at_pixels(order, x, y, x0, y0, axis=axis)


NRC_WFSS = WfssInstrument(
    exp_type="NRC_WFSS",
    grism_keyword="pupil",
    dispersion_axis={"GRISMR": 1, "GRISMC": 2},
    range_keyword="filter",
    dispersion=wfss_dispersion,
    pixel_wavelengths=pixel_wavelengths,
)
