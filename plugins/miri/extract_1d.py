"""MIRI LRS extract_1d: the _s2d (fixed slit) or every integration of the _calints
(slitless) box-extracted into an _x1d / _x1dints product, as jwst 3.0.0's Extract1dStep
makes them for these modes.

Aperture parameters come from the extract1d JSON reference: the first ``target``
aperture whose ``id`` is the slit name (for LRS the EXP_TYPE) or "ANY" and whose
``spectral_order`` (if given) matches. With ``use_source_posn`` (by default on for a
fixed-slit point source) the aperture is moved to the dithered target position found
through the inverse WCS at the middle wavelength, and with ``extract_width`` it follows
the target's trace through the WCS. The same aperture then serves every integration:
all of them are extracted in one set of array operations (algorithms.extract1d), and
the aperture correction of a point source is interpolated once for every element of
every integration.
"""

from __future__ import annotations

import logging

import numpy as np

from spec2.algorithms import extract1d as ex
from spec2.errors import InputError
from spec2.steps.extract_slit import (
    apcorr_row,
    aperture_profile,
    bounding_box,
    column_units,
    extraction_parameters,
    shift_aperture,
    spectrum_product,
    sum_aperture,
    tabulated_apcorr,
    wavelength_image,
)

log = logging.getLogger("spec2")

SOURCE_POSITION_MODES = ("MIR_LRS-FIXEDSLIT",)
"""Exposure types whose source position is used by default (if a point source)."""

# -- parameters ---------------------------------------------------------------------------


# -- source location --------------------------------------------------------------------


def _middle(wcs, bb):
    """Middle row of the bounding box and the mean wavelength across that row."""
    (x0, x1), (y0, y1) = bb
    n = int(round(x1))
    middle = (y0 + y1) / 2.0
    _, _, wl = wcs(np.arange(n, dtype=float), np.full(n, middle))
    wl = np.asarray(wl, dtype=float)
    return middle, (float(np.nanmean(wl)) if np.isfinite(wl).any() else np.nan)


def source_location(model, shape):
    """(middle row, middle wavelength, target column at that row, target column per row)
    of the dithered target of a vertical-dispersion fixed-slit image, through the inverse
    WCS; all None when the target is unknown or outside the bounding box."""
    from gwcs.wcstools import grid_from_bounding_box
    from scipy.interpolate import interp1d

    wcs = model.meta.wcs
    bb = bounding_box(wcs, shape)
    middle, middle_wl = _middle(wcs, bb)
    middle = int(np.round(middle))
    ra, dec = model.meta.dither.dithered_ra, model.meta.dither.dithered_dec
    if ra is None or dec is None:
        log.warning("no dithered target position (meta.dither); aperture not moved")
        return None, None, None, None
    location, _ = wcs.backward_transform(ra, dec, middle_wl)
    location = float(location)
    if np.isnan(location) or not (bb[0][0] <= location <= bb[0][1]):
        log.warning("target position maps outside the bounding box (%.2f); aperture not moved", location)
        return None, None, None, None
    # trace: the target at wavelengths spanning the image, interpolated to every row
    gx, gy = grid_from_bounding_box(bb)
    _, _, wl = wcs(gx, gy)
    n_rows = int(bb[1][1] - bb[1][0])
    waves = np.linspace(np.nanmin(wl), np.nanmax(wl), n_rows)
    tx, ty = wcs.backward_transform(np.full(n_rows, ra), np.full(n_rows, dec), waves)
    trace = np.full(shape[-2], np.nan)
    first = int(np.ceil(bb[1][0]))
    trace[first : first + n_rows] = interp1d(ty, tx, fill_value="extrapolate")(np.arange(n_rows))
    return middle, middle_wl, location, trace


# -- aperture -----------------------------------------------------------------------------


def define_aperture(model, params, wavelength, shape):
    """Source profile, background profile (or None), (lower, upper, first, last) limits
    and the trace used, for a vertical-dispersion image; ``params`` is updated with the
    source-position and user offsets."""
    trace = None
    if params["use_source_posn"] and model.meta.exposure.type not in SOURCE_POSITION_MODES:
        log.warning("no source position for EXP_TYPE %s: aperture not moved", model.meta.exposure.type)
    elif params["use_source_posn"]:
        middle, middle_wl, location, trace = source_location(model, shape)
        if location is not None:
            nominal, _ = aperture_profile(shape, params, wavelength, ex.VERTICAL)
            centre = ex.cross_centre(nominal, ex.VERTICAL, element=middle)
            offset = location - centre
            log.info("target at column %.2f (row %d, %.2f um); nominal aperture centre %.2f: offset %.2f px",
                     location, middle, middle_wl, centre, offset)
            shift_aperture(params, offset, ex.VERTICAL)
    if params["position_offset"]:
        log.info("applying the extra cross-dispersion offset %.2f px", params["position_offset"])
        trace = shift_aperture(params, params["position_offset"], ex.VERTICAL, trace)
    profile, (lower, upper) = aperture_profile(shape, params, wavelength, ex.VERTICAL, trace)
    profile[~np.isfinite(wavelength)] = 0.0
    first, last = ex.dispersion_range(profile, ex.VERTICAL)
    bkg_profile = None
    if params["subtract_background"] and params["bkg_coeff"] is not None:
        bkg_profile, _ = aperture_profile(shape, params, wavelength, ex.VERTICAL, coeff_key="bkg_coeff",
                                  allow_partial=params["bkg_fit"] != "median")
    log.info("aperture columns %.2f -> %.2f, rows %s -> %s (inclusive)", lower, upper, first, last)
    return profile, bkg_profile, (lower, upper, first, last)


# -- aperture correction ------------------------------------------------------------------


def aperture_correction(apcorr, model, npixels, wavelength, location):
    """Correction factors at (NPIXELS, WAVELENGTH) for every element of every
    integration, from the MirLrsApcorrModel row whose SUBARRAY is the exposure's."""
    row = apcorr_row(apcorr, subarray=model.meta.subarray.name)
    size_per_pixel = None
    if str(apcorr.sizeunit or "pixels").lower().startswith("arcsec"):
        size_per_pixel = _cross_scale_deg(model.meta.wcs, *location) * 3600.0
    return tabulated_apcorr(row, npixels, wavelength, size_per_pixel)


def _cross_scale_deg(wcs, ra, dec, wl):
    """Sky size (deg) of one cross-dispersion (x) pixel step at (ra, dec, wl)."""
    from astropy.coordinates import SkyCoord

    x, y = wcs.invert(ra, dec, wl, with_bounding_box=False)
    r, d, _ = wcs(np.array([x, x + 1.0]), np.array([y, y]), with_bounding_box=False)
    a, b = SkyCoord(r, d, unit="deg")
    return float(abs(a.separation(b).deg))


# -- products -----------------------------------------------------------------------------


# -- the step -----------------------------------------------------------------------------


def extract_lrs(model, ref, apcorr, apply_apcorr=True, use_source_posn=None, *, subtract_background=None,
                bkg_fit=None, bkg_order=None, smoothing_length=None, position_offset=0.0):
    """Extract an LRS SlitModel into a new MultiSpecModel (2-D data: one spectrum) or
    TSOMultiSpecModel (3-D data: one TSOSpecModel, a table row per integration, with the
    INT_TIMES table and, for a time series, each row's times).

    ``ref`` is the parsed extract1d JSON (None: the whole array), ``apcorr`` an open
    MirLrsApcorrModel (or None), applied to point sources when ``apply_apcorr``.
    ``use_source_posn`` None keeps the reference's/jwst's default; the keyword-only
    arguments are jwst's step parameters of the same names (None: the reference's).
    FLUX is in Jy (from MJy/sr, x PIXAR_SR) when photom has run, else in DN/s.
    The input model is not modified.
    """

    shape = model.data.shape
    if len(shape) not in (2, 3) or model.data.size == 0:
        raise InputError(f"extract_1d needs a 2-D or 3-D spectral image, got shape {shape}")
    dispaxis = model.meta.wcsinfo.dispersion_direction
    if dispaxis != ex.VERTICAL:
        raise InputError(f"LRS extraction expects dispersion along y (DISPAXIS=2), got {dispaxis}")
    exp_type = model.meta.exposure.type
    name = exp_type
    spectral_order = model.meta.wcsinfo.spectral_order
    if spectral_order is None:
        spectral_order = 1
    source_type = getattr(model, "source_type", None) or model.meta.target.source_type
    if source_type != "POINT" and use_source_posn is None:
        use_source_posn = False
    params = extraction_parameters(
        ref, name, shape, spectral_order, exp_type in SOURCE_POSITION_MODES, use_source_posn=use_source_posn,
        subtract_background=subtract_background, bkg_fit=bkg_fit, bkg_order=bkg_order,
        smoothing_length=smoothing_length, position_offset=position_offset)

    calibrated = (model.meta.cal_step.photom or "").upper() == "COMPLETE"
    if not calibrated:
        log.warning("photom has not run: FLUX is the summed count rate (DN/s)")
    pixel_sr = None
    if calibrated:
        pixel_sr = model.meta.photometry.pixelarea_steradians
        if pixel_sr is None:
            log.warning("PIXAR_SR is not set: FLUX will not be in Jy")
            pixel_sr = 1.0

    image_shape = shape[-2:]
    wl_image = wavelength_image(model, image_shape)
    profile, bkg_profile, limits = define_aperture(model, params, wl_image, image_shape)
    sums, wavelength, valid, (ra, dec) = sum_aperture(model, profile, bkg_profile, params, wl_image, ex.VERTICAL)
    cols = {k: v[..., valid] for k, v in ex.table_columns(sums, pixel_sr).items()}

    if apply_apcorr and apcorr is not None and str(source_type or "").upper() == "POINT":
        factor = aperture_correction(apcorr, model, cols["NPIXELS"], wavelength,
                                     (ra, dec, float(np.min(wavelength))))
        ex.apply_correction(cols, factor)

    return spectrum_product(model, cols, wavelength, column_units(calibrated), name=name, ra=ra, dec=dec,
                            limits=limits, spectral_order=spectral_order, source_type=source_type,
                            disp=ex.VERTICAL)
