"""NIRCam grism time-series extract_1d: every integration of the ``_calints`` cut-out
box-extracted into one ``_x1dints`` table, as jwst 3.0.0's Extract1dStep does for
NRC_TSGRISM (dispersion along rows, the aperture from the extract1d JSON, no source
position tracking, the INT_TIMES of each integration carried into its row).

All integrations are summed in one set of array operations (``spec2.algorithms
.extract1d``), the profile built once.
"""

from __future__ import annotations

import logging

import numpy as np

from spec2.algorithms import extract1d as ex
from spec2.errors import InputError
from spec2.steps.extract_slit import (
    aperture_profile,
    column_units,
    extraction_parameters,
    shift_aperture,
    spectrum_product,
    sum_aperture,
    wavelength_image,
)

log = logging.getLogger("spec2")


def define_aperture(params, wavelength, shape):
    """(source profile, background profile or None, (lower, upper, first, last)) for a
    row-dispersed image."""
    if params["use_source_posn"]:
        log.warning("use_source_posn is not supported for grism time series: aperture not moved")
    if params["position_offset"]:
        log.info("applying the extra cross-dispersion offset %.2f px", params["position_offset"])
        shift_aperture(params, params["position_offset"], ex.HORIZONTAL)
    profile, (lower, upper) = aperture_profile(shape, params, wavelength, ex.HORIZONTAL)
    profile[~np.isfinite(wavelength)] = 0.0
    first, last = ex.dispersion_range(profile, ex.HORIZONTAL)
    bkg_profile = None
    if params["subtract_background"] and params["bkg_coeff"] is not None:
        bkg_profile, _ = aperture_profile(shape, params, wavelength, ex.HORIZONTAL, coeff_key="bkg_coeff",
                                          allow_partial=params["bkg_fit"] != "median")
    log.info("aperture rows %.2f -> %.2f, columns %s -> %s (inclusive)", lower, upper, first, last)
    return profile, bkg_profile, (lower, upper, first, last)


def extract_tsgrism(model, ref, *, subtract_background=None, bkg_fit=None, bkg_order=None,
                    smoothing_length=None, position_offset=0.0, use_source_posn=None):
    """Extract a TSGRISM SlitModel into a new TSOMultiSpecModel (3-D data; 2-D data gives
    a MultiSpecModel). ``ref`` is the parsed extract1d JSON (None: the whole cut-out).
    FLUX is in Jy when photom has run (MJy/sr x PIXAR_SR), else DN/s. The input model is
    not modified."""

    shape = model.data.shape
    if len(shape) not in (2, 3) or model.data.size == 0:
        raise InputError(f"extract_1d needs a 2-D or 3-D spectral image, got shape {shape}")
    dispaxis = model.meta.wcsinfo.dispersion_direction
    if dispaxis != ex.HORIZONTAL:
        raise InputError(f"grism time series extraction expects dispersion along x (DISPAXIS=1), got {dispaxis}")
    exp_type = model.meta.exposure.type
    spectral_order = model.meta.wcsinfo.spectral_order or 1
    source_type = getattr(model, "source_type", None) or model.meta.target.source_type
    if source_type != "POINT" and use_source_posn is None:
        use_source_posn = False
    params = extraction_parameters(
        ref, exp_type, shape, spectral_order, False, use_source_posn=use_source_posn,
        subtract_background=subtract_background, bkg_fit=bkg_fit, bkg_order=bkg_order,
        smoothing_length=smoothing_length, position_offset=position_offset)

    calibrated = (model.meta.cal_step.photom or "").upper() == "COMPLETE"
    pixel_sr = None
    if calibrated:
        pixel_sr = model.meta.photometry.pixelarea_steradians
        if pixel_sr is None:
            log.warning("PIXAR_SR is not set: FLUX will not be in Jy")
            pixel_sr = 1.0
    else:
        log.warning("photom has not run: FLUX is the summed count rate (DN/s)")

    image_shape = shape[-2:]
    wl_image = wavelength_image(model, image_shape)
    profile, bkg_profile, limits = define_aperture(params, wl_image, image_shape)
    sums, wavelength, valid, (ra, dec) = sum_aperture(model, profile, bkg_profile, params, wl_image, ex.HORIZONTAL)
    cols = {k: v[..., valid] for k, v in ex.table_columns(sums, pixel_sr).items()}

    return spectrum_product(model, cols, wavelength, column_units(calibrated), name=exp_type, ra=ra, dec=dec,
                            limits=limits, spectral_order=spectral_order, source_type=source_type,
                            disp=ex.HORIZONTAL)
