"""NIRSpec extract_1d: each resampled fixed slit (_s2d) box-extracted into the _x1d,
and every integration of a BOTS _calints into the _x1dints, as jwst 3.0.0 does.

Dispersion runs along x. A point source's aperture is moved to where the source's slit
position (source_xpos, source_ypos, at the middle wavelength) lands through the slit's
WCS, and follows that trace when the aperture has an extract_width. Point sources are
in MJy (photom), so FLUX = sum x 1e6 Jy and SURF_BRIGHT is 0; extended ones are in
MJy/sr. The aperture correction (NrsFsApcorrModel) is taken at pixel phase 0.5,
interpolated in wavelength and aperture size at every element; for a time series it is
computed once and applies to every integration.
"""

from __future__ import annotations

import logging

import numpy as np

from spec2.algorithms import extract1d as ex
from spec2.errors import InputError
from spec2.models import new_model
from spec2.steps.extract_slit import (
    aperture_profile,
    bounding_box,
    column_units,
    extraction_parameters,
    fill_spec_meta,
    integration_times,
    shift_aperture,
    single_spec,
    spectral_wcs,
    sum_aperture,
    tso_spec,
    wavelength_image,
)

log = logging.getLogger("spec2")
DISP = ex.HORIZONTAL


# -- source location ----------------------------------------------------------------------


def middle_of(wcs, bb):
    """(middle dispersion pixel, mean wavelength of the column there)."""
    width = round(bb[1][1])
    middle = (bb[0][0] + bb[0][1]) / 2.0
    wl = np.asarray(wcs(np.full(width, middle), np.arange(width, dtype=np.float64))[2], dtype=float)
    return middle, (float(np.nanmean(wl)) if np.isfinite(wl).any() else np.nan)


def source_location(model, shape):
    """(middle column, middle wavelength, source row there, source row per column) from
    the slit position of the source; all None when it cannot be placed."""
    from gwcs.wcstools import grid_from_bounding_box
    from scipy.interpolate import interp1d

    wcs = model.meta.wcs
    bb = bounding_box(wcs, shape)
    middle, middle_wl = middle_of(wcs, bb)
    middle = int(np.round(middle))
    xpos, ypos = model.source_xpos, model.source_ypos
    if xpos is None or ypos is None:
        return None, None, None, None
    slit2det = wcs.get_transform("slit_frame", "detector")
    scale = 1e-6 if "gwa" in wcs.available_frames else 1.0  # metres inside the instrument model
    _, location = slit2det(xpos, ypos, middle_wl * scale)
    location = float(location)
    if np.isnan(location) or not (bb[1][0] <= location <= bb[1][1]):
        log.warning("source position maps outside the bounding box; aperture not moved")
        return None, None, None, None
    x, y = grid_from_bounding_box(bb)
    nx = int(bb[0][1] - bb[0][0])
    slit_wl = wcs.get_transform("detector", "slit_frame")(x, y)[2]
    waves = np.linspace(np.nanmin(slit_wl), np.nanmax(slit_wl), nx)
    tx, ty = slit2det(np.full(nx, xpos), np.full(nx, ypos), waves)
    trace = np.full(shape[1], np.nan)
    first = int(np.ceil(bb[0][0]))
    trace[first : first + nx] = interp1d(tx, ty, fill_value="extrapolate")(np.arange(nx))
    return middle, middle_wl, location, trace


def define_aperture(model, params, wavelength, shape, point):
    """Source profile, background profile (or None) and (lower, upper, first, last)."""
    trace = None
    if params["use_source_posn"] and point:
        middle, middle_wl, location, trace = source_location(model, shape)
        if location is not None:
            nominal, _ = aperture_profile(shape, params, wavelength, DISP)
            offset = location - ex.cross_centre(nominal, DISP, element=middle)
            log.info("source at row %.2f (column %d, %.3f um): aperture moved by %.2f px",
                     location, middle, middle_wl, offset)
            shift_aperture(params, offset, DISP)
    if params["position_offset"]:
        trace = shift_aperture(params, params["position_offset"], DISP, trace)
    profile, (lower, upper) = aperture_profile(shape, params, wavelength, DISP, trace)
    profile[~np.isfinite(wavelength)] = 0.0
    first, last = ex.dispersion_range(profile, DISP)
    bkg_profile = None
    if params["subtract_background"] and params["bkg_coeff"] is not None:
        bkg_profile, _ = aperture_profile(shape, params, wavelength, DISP, coeff_key="bkg_coeff",
                                          allow_partial=params["bkg_fit"] != "median")
    return profile, bkg_profile, (lower, upper, first, last)


# -- aperture correction ------------------------------------------------------------------


def aperture_correction(apcorr, filt, grating, slit_name, wavelength, npixels, phase=0.5):
    """Correction per element (1 where the table does not reach), from the row of this
    filter, grating and slit: the table interpolated to the pixel phase, its aperture
    sizes to the element's wavelength, then bilinearly in (wavelength, size)."""
    from scipy.interpolate import RectBivariateSpline, interp1d

    table = apcorr.apcorr_table

    def col(name):
        return np.char.upper(np.char.strip(np.asarray(table[name]).astype(str)))

    rows = np.flatnonzero((col("filter") == filt.upper()) & (col("grating") == grating.upper())
                          & (col("slit") == slit_name.upper()))
    if len(rows) != 1:
        raise InputError(f"apcorr reference has {len(rows)} rows for {filt}/{grating}/{slit_name} (need 1)")
    row = table[rows[0]]
    by_phase = interp1d(row["pixphase"], row["apcorr"])(phase)
    size_of = interp1d(row["wavelength"], row["size"])
    order = np.argsort(row["wavelength"])
    by_phase = by_phase[:, order]
    wl_ref = row["wavelength"][order]
    out = np.ones(len(wavelength))
    for i, (wl, n) in enumerate(zip(wavelength, npixels)):
        try:
            spline = RectBivariateSpline(wl_ref, size_of(wl), by_phase.T, ky=1, kx=1)
            value = spline(wl, n).T
        except ValueError:
            continue
        if value:
            out[i] = value.item()
    return out


# -- the step -----------------------------------------------------------------------------


def _extract_one(slit, ref, apcorr, filt, grating, name, options):
    """(columns, wavelength, (ra, dec), limits, source_type) of one slit image (2-D or
    3-D: every integration at once)."""
    shape = slit.data.shape
    image_shape = shape[-2:]
    source_type = str(getattr(slit, "source_type", None) or slit.meta.target.source_type or "").upper()
    point = source_type == "POINT"
    use_source_posn = options["use_source_posn"]
    if not point and use_source_posn is None:
        use_source_posn = False
    spectral_order = slit.meta.wcsinfo.spectral_order
    params = extraction_parameters(ref, name, shape, 1 if spectral_order is None else spectral_order, True,
                                   use_source_posn=use_source_posn,
                                   **{k: options[k] for k in ("subtract_background", "bkg_fit", "bkg_order",
                                                              "smoothing_length", "position_offset")})
    calibrated = (slit.meta.cal_step.photom or "").upper() == "COMPLETE"
    pixel_sr = slit.meta.photometry.pixelarea_steradians if calibrated else None
    if calibrated and pixel_sr is None:
        pixel_sr = 1.0
    wl_image = wavelength_image(slit, image_shape)
    profile, bkg_profile, limits = define_aperture(slit, params, wl_image, image_shape, point)
    sums, wavelength, valid, (ra, dec) = sum_aperture(slit, profile, bkg_profile, params, wl_image, DISP,
                                                      what=f"slit {name}: the extraction aperture")
    if calibrated and point:
        cols = ex.point_source_columns(sums, pixel_sr)
    else:
        cols = ex.table_columns(sums, pixel_sr)
    cols = {k: v[..., valid] for k, v in cols.items()}
    if options["apply_apcorr"] and apcorr is not None and point:
        npix = cols["NPIXELS"][0] if cols["NPIXELS"].ndim == 2 else cols["NPIXELS"]
        factor = aperture_correction(apcorr, filt, grating, name, wavelength, npix)
        ex.apply_correction(cols, factor)
    return cols, wavelength, (ra, dec), limits, source_type, calibrated, spectral_order


def extract_nirspec(model, ref, apcorr, *, apply_apcorr=True, use_source_posn=None, subtract_background=None,
                    bkg_fit=None, bkg_order=None, smoothing_length=None, position_offset=0.0):
    """The _x1d of a fixed-slit _s2d (one spectrum per slit) or the _x1dints of a BOTS
    _calints (one spectrum, a table row per integration). The input is not modified."""
    from stdatamodels.jwst import datamodels

    from spec2.steps.srctype import is_time_series

    options = {"apply_apcorr": apply_apcorr, "use_source_posn": use_source_posn,
               "subtract_background": subtract_background, "bkg_fit": bkg_fit, "bkg_order": bkg_order,
               "smoothing_length": smoothing_length, "position_offset": position_offset}
    filt, grating = model.meta.instrument.filter, model.meta.instrument.grating
    multi = hasattr(model, "slits")
    slits = list(model.slits) if multi else [model]
    multi_int = not multi and model.data.ndim == 3
    out = new_model(datamodels.TSOMultiSpecModel if multi_int else datamodels.MultiSpecModel)
    if multi_int and getattr(model, "int_times", None) is not None:
        out.int_times = model.int_times.copy()
    out.update(model, only="PRIMARY")
    for slit in slits:
        name = slit.name
        cols, wavelength, (ra, dec), limits, source_type, calibrated, order = _extract_one(
            slit, ref, apcorr, filt, grating, name, options)
        units = column_units(calibrated)
        if calibrated and source_type == "POINT":
            units = {**units, "SURF_BRIGHT": "MJy/sr", "SB_ERROR": "MJy/sr"}
        if multi_int:
            spec = tso_spec(cols, wavelength, units, model.meta.exposure.segment_number)
        else:
            spec = single_spec(cols, wavelength, units)
        spec.meta.wcs = spectral_wcs(ra, dec, wavelength)
        fill_spec_meta(spec, slit, name, ra, dec, limits, 1 if order is None else order, source_type, DISP)
        out.spec.append(spec)
    if multi_int and is_time_series(model):
        integration_times(model, out.spec[0], model.data.shape[0])
    out.meta.wcs = None
    out.meta.target.source_type = None
    return out
