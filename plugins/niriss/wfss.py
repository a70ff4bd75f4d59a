"""NIRISS wide-field slitless spectroscopy (NIS_WFSS): the instrument's facts for the
core's WFSS steps (:mod:`spec2.steps.wfss`).

FILTER is the grism (GR150C disperses along rows, GR150R along columns) and PUPIL the
blocking filter, which keys the wavelengthrange; the WCS's dispersion is stdatamodels'
NIRISS grism transform (:func:`spec2_niriss.assign_wcs.wfss_dispersion`); the traces are
turned by the filter-wheel angle (:func:`spec2_niriss.assign_wcs.wheel_angle`), and a
pixel's wavelength comes from the turned trace sampled and interpolated, as NIRISS's
forward dispersion finds it.
"""

from __future__ import annotations

from spec2.algorithms.grism import wavelength_at_pixels_sampled
from spec2.steps.wfss import WfssInstrument
from spec2_niriss.assign_wcs import wfss_dispersion, wheel_angle

NIS_WFSS = WfssInstrument(
    exp_type="NIS_WFSS",
    grism_keyword="filter",
    dispersion_axis={"GR150C": 1, "GR150R": 2},
    range_keyword="pupil",
    dispersion=wfss_dispersion,
    pixel_wavelengths=wavelength_at_pixels_sampled,
    trace_angle=wheel_angle,
)
