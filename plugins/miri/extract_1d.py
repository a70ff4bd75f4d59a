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

import copy
import logging

import numpy as np

from spec2.algorithms import extract1d as ex
from spec2.errors import InputError, ReferenceFileError
from spec2.steps.srctype import is_time_series

log = logging.getLogger("spec2")

SOURCE_POSITION_MODES = ("MIR_LRS-FIXEDSLIT",)
"""Exposure types whose source position is used by default (if a point source)."""
ANY = "ANY"

SB_UNITS = {True: ("Jy", "Jy^2", "MJy/sr", "MJy^2 / sr^2"), False: ("DN/s", "DN^2 / s^2", "DN/s", "DN^2 / s^2")}
TIME_COLUMNS = {
    "MJD-BEG": "int_start_MJD_UTC", "MJD-AVG": "int_mid_MJD_UTC", "MJD-END": "int_end_MJD_UTC",
    "TDB-BEG": "int_start_BJD_TDB", "TDB-MID": "int_mid_BJD_TDB", "TDB-END": "int_end_BJD_TDB",
}
SPEC_IDENTITY = ("slitlet_id", "source_id", "ta_xpos", "ta_ypos", "source_xpos", "source_ypos",
                 "source_ra", "source_dec", "shutter_state")
"""Slit attributes carried onto the spectrum whatever their value."""
SPEC_IF_SET = ("source_name", "source_alias", "source_type", "stellarity", "quadrant", "slit_xscale",
               "slit_yscale", "wavelength_corrected", "pathloss_correction_type", "barshadow_corrected")
"""Slit attributes carried onto the spectrum when they have a value."""


# -- parameters ---------------------------------------------------------------------------


def extraction_parameters(ref, name, shape, spectral_order, exp_type, *, use_source_posn=None,
                          subtract_background=None, bkg_fit=None, bkg_order=None,
                          smoothing_length=None, position_offset=0.0):
    """Extraction parameters for slit ``name`` of a ``shape`` (..., ny, nx) array.

    ``ref`` is the parsed extract1d JSON (None: the whole array, no background, no
    source position). Explicit arguments override the aperture's values. Raises
    ReferenceFileError when no aperture matches the name and spectral order."""
    ny, nx = shape[-2:]
    params = {"xstart": 0, "xstop": nx - 1, "ystart": 0, "ystop": ny - 1, "extract_width": None,
              "src_coeff": None, "bkg_coeff": None, "independent_var": "pixel",
              "subtract_background": False, "bkg_fit": None, "bkg_order": 0, "smoothing_length": 0,
              "use_source_posn": False, "position_offset": float(position_offset or 0.0)}
    if ref is None:
        return params
    match = None
    for aper in ref.get("apertures", []):
        ident = aper.get("id")
        if ident is None or ident == "dummy" or not (ident in (name, ANY) or name == ANY):
            continue
        if aper.get("region_type", "target") != "target":
            continue
        match = match or "partial"
        order = aper.get("spectral_order", spectral_order)
        if order == spectral_order or order == ANY:
            match = aper
            break
    if not isinstance(match, dict):
        what = "spectral order %s of " % spectral_order if match == "partial" else ""
        raise ReferenceFileError(f"extract1d reference has no aperture for {what}{name}")
    aper = copy.deepcopy(match)
    for key in ("xstart", "xstop", "ystart", "ystop", "extract_width", "src_coeff", "bkg_coeff"):
        if key in aper:
            params[key] = aper[key]
    params["independent_var"] = str(aper.get("independent_var", "pixel")).lower()
    if subtract_background is None:
        subtract_background = params["bkg_coeff"] is not None
    if subtract_background:
        params["subtract_background"] = True
        fit = bkg_fit if bkg_fit is not None else aper.get("bkg_fit", "poly")
        if fit == "mean":  # a mean is the order-0 polynomial
            fit, bkg_order = "poly", 0
        params["bkg_fit"] = fit
    params["bkg_order"] = aper.get("bkg_order", 0) if bkg_order is None else bkg_order
    if use_source_posn is None:
        use_source_posn = aper.get("use_source_posn")
        if use_source_posn is None:
            use_source_posn = exp_type in SOURCE_POSITION_MODES
    params["use_source_posn"] = bool(use_source_posn)
    length = aper.get("smoothing_length", 0) if smoothing_length is None else smoothing_length
    length = int(np.round(length or 0))
    if 0 < length < 3:
        log.warning("background smoothing length %d is too short; not smoothing", length)
        length = 0
    elif length and length % 2 == 0:
        length -= 1
        log.warning("background smoothing length must be odd; using %d", length)
    params["smoothing_length"] = length
    return params


def _shift(params, offset, trace=None):
    """Move the cross-dispersion start/stop and polynomial limits by ``offset`` pixels."""
    params["xstart"] += offset
    params["xstop"] += offset
    for key in ("src_coeff", "bkg_coeff"):
        if params[key] is not None:
            for coeffs in params[key]:
                coeffs[0] += offset
    return None if trace is None else trace + offset


# -- source location --------------------------------------------------------------------


def _bounding_box(wcs, shape):
    bb = wcs.bounding_box
    if bb is None:
        return ((-0.5, shape[-1] - 0.5), (-0.5, shape[-2] - 0.5))
    if hasattr(bb, "bounding_box"):  # astropy ModelBoundingBox -> ((x0, x1), (y0, y1))
        bb = bb.bounding_box(order="F")
    return tuple(tuple(float(v) for v in interval) for interval in bb)


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
    bb = _bounding_box(wcs, shape)
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


def _profile(shape, params, wavelength, trace=None, coeff_key="src_coeff", allow_partial=True):
    """Weights and (mean lower, mean upper) cross-dispersion limits of the aperture."""
    disp = ex.VERTICAL
    coeffs = params[coeff_key]
    if coeffs is not None:
        if params["independent_var"].startswith("wavelength"):
            independent = wavelength
        else:
            independent = np.mgrid[: shape[0], : shape[1]][0].astype(np.float32)
        regions = ex.polynomial_regions(coeffs, independent)
        profile = ex.limits_profile(shape, disp, regions, allow_partial)
        lows = [float(np.mean(lo)) for lo, _ in regions]
        highs = [float(np.mean(hi)) for _, hi in regions]
        limits = (min(lows), max(highs))
    elif params["extract_width"] is not None and trace is not None:
        width = params["extract_width"]
        lower = trace - (width - 1.0) / 2.0
        upper = lower + width - 1
        profile = ex.limits_profile(shape, disp, [(lower, upper)])
        limits = (float(np.nanmean(lower)), float(np.nanmean(upper)))
    elif params["extract_width"] is not None:
        width = params["extract_width"]
        lower = (params["xstart"] + params["xstop"]) / 2.0 - (width - 1.0) / 2.0
        upper = lower + width - 1
        profile = ex.limits_profile(shape, disp, [(lower, upper)])
        limits = (lower, upper)
    else:
        limits = (params["xstart"], params["xstop"])
        profile = ex.limits_profile(shape, disp, [limits])
    ex.restrict_dispersion(profile, disp, params["ystart"], params["ystop"])
    return profile, limits


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
            nominal, _ = _profile(shape, params, wavelength)
            centre = ex.cross_centre(nominal, ex.VERTICAL, element=middle)
            offset = location - centre
            log.info("target at column %.2f (row %d, %.2f um); nominal aperture centre %.2f: offset %.2f px",
                     location, middle, middle_wl, centre, offset)
            _shift(params, offset)
    if params["position_offset"]:
        log.info("applying the extra cross-dispersion offset %.2f px", params["position_offset"])
        trace = _shift(params, params["position_offset"], trace)
    profile, (lower, upper) = _profile(shape, params, wavelength, trace)
    profile[~np.isfinite(wavelength)] = 0.0
    first, last = ex.dispersion_range(profile, ex.VERTICAL)
    bkg_profile = None
    if params["subtract_background"] and params["bkg_coeff"] is not None:
        bkg_profile, _ = _profile(shape, params, wavelength, coeff_key="bkg_coeff",
                                  allow_partial=params["bkg_fit"] != "median")
    log.info("aperture columns %.2f -> %.2f, rows %s -> %s (inclusive)", lower, upper, first, last)
    return profile, bkg_profile, (lower, upper, first, last)


def wavelength_image(model, shape):
    """The model's wavelength array, or the WCS wavelengths when it has none (or only zeros)."""
    wl = getattr(model, "wavelength", None)
    if wl is not None and np.size(wl) and np.shape(wl)[-2:] == tuple(shape):
        wl = np.asarray(wl, dtype=float)
        if not (np.all(np.isnan(wl)) or (np.nanmin(wl) == 0.0 and np.nanmax(wl) == 0.0)):
            return wl
    yy, xx = np.indices(shape, dtype=np.float64)
    return np.asarray(model.meta.wcs(xx, yy)[2], dtype=float)


# -- aperture correction ------------------------------------------------------------------


def aperture_correction(apcorr, model, npixels, wavelength, location):
    """Correction factors at (NPIXELS, WAVELENGTH) for every element of every
    integration, from the MirLrsApcorrModel row whose SUBARRAY is the exposure's."""
    table = apcorr.apcorr_table
    subarray = model.meta.subarray.name
    rows = [i for i, name in enumerate(table["subarray"])
            if subarray is not None and str(name).strip().upper() == str(subarray).strip().upper()]
    if len(rows) != 1:
        raise ReferenceFileError(f"apcorr reference has {len(rows)} rows for SUBARRAY={subarray} (need 1)")
    row = table[rows[0]]
    nwl, nsize = int(row["nelem_wl"]), int(row["nelem_size"])
    sizes = np.asarray(row["size"][:nsize], dtype=float)
    unit = str(apcorr.sizeunit or "pixels").lower()
    if unit.startswith("arcsec"):
        sizes = sizes / (_cross_scale_deg(model.meta.wcs, *location) * 3600.0)
    f = ex.apcorr_interpolator(sizes, row["wavelength"][:nwl], np.asarray(row["apcorr"])[:nwl, :nsize])
    return f(npixels, np.broadcast_to(wavelength, np.shape(npixels)))


def _cross_scale_deg(wcs, ra, dec, wl):
    """Sky size (deg) of one cross-dispersion (x) pixel step at (ra, dec, wl)."""
    from astropy.coordinates import SkyCoord

    x, y = wcs.invert(ra, dec, wl, with_bounding_box=False)
    r, d, _ = wcs(np.array([x, x + 1.0]), np.array([y, y]), with_bounding_box=False)
    a, b = SkyCoord(r, d, unit="deg")
    return float(abs(a.separation(b).deg))


# -- products -----------------------------------------------------------------------------


def spectral_wcs(ra, dec, wavelength):
    """One-axis gwcs of an extracted spectrum: pixel -> (ra, dec, lambda um), constant
    sky position, tabulated wavelength (inverse set when lambda is monotonic)."""
    from astropy import coordinates as coord
    from astropy import units as u
    from astropy.modeling.models import Const1D, Mapping, Tabular1D
    from gwcs import coordinate_frames as cf
    from gwcs.wcs import WCS

    index = np.arange(len(wavelength), dtype=float)
    sky_and_wl = Const1D(ra) & Const1D(dec) & Tabular1D(
        points=index, lookup_table=wavelength, bounds_error=False, fill_value=None)
    forward = Mapping((0, 0, 0)) | sky_and_wl
    forward.name = "pixel_to_world"
    step = np.diff(wavelength)
    if np.all(step > 0) or np.all(step < 0):
        order = slice(None) if np.all(step > 0) else slice(None, None, -1)
        forward.inverse = Mapping((2,)) | Tabular1D(points=wavelength[order], lookup_table=index[order],
                                                    bounds_error=False)
    else:
        log.warning("wavelengths are not monotonic: the spectral WCS has no inverse")
    pixel = cf.CoordinateFrame(naxes=1, axes_type=("SPATIAL",), axes_order=(0,), unit=(u.pix,),
                               name="pixel_frame")
    world = cf.CompositeFrame(
        [cf.CelestialFrame(name="sky", axes_order=(0, 1), reference_frame=coord.ICRS()),
         cf.SpectralFrame(name="spectral", axes_order=(2,), unit=(u.micron,), axes_names=("wavelength",))],
        name="world")
    return WCS([(pixel, forward), (world, None)])


def _column_units(calibrated):
    flux, flux2, sb, sb2 = SB_UNITS[calibrated]
    units = {"WAVELENGTH": "um", "FLUX": flux, "FLUX_ERROR": flux, "SURF_BRIGHT": sb, "SB_ERROR": sb,
             "BACKGROUND": sb, "BKGD_ERROR": sb}
    for kind in ex.VARIANCE_KINDS:
        units[f"FLUX_VAR_{kind}"] = flux2
        units[f"SB_VAR_{kind}"] = sb2
        units[f"BKGD_VAR_{kind}"] = sb2
    return units


def _fill_spec_meta(spec, model, name, ra, dec, limits, spectral_order, source_type):
    lower, upper, first, last = limits
    spec.slit_ra, spec.slit_dec = ra, dec
    spec.spectral_order = spectral_order
    spec.dispersion_direction = ex.VERTICAL
    spec.detector = model.meta.instrument.detector
    spec.position_angle = model.meta.aperture.position_angle
    spec.extraction_xstart, spec.extraction_xstop = lower + 1, upper + 1
    spec.extraction_ystart, spec.extraction_ystop = first + 1, last + 1
    if name is not None and name != ANY:
        spec.name = name
    for key in SPEC_IDENTITY:
        value = getattr(model, key, None)
        if value is not None:
            setattr(spec, key, value)
    for key in SPEC_IF_SET:
        value = source_type if key == "source_type" else getattr(model, key, None)
        if value is not None:
            setattr(spec, key, value)


def _single_spec(cols, wavelength, units):
    from stdatamodels.jwst import datamodels

    spec = datamodels.SpecModel()
    table = np.zeros(wavelength.size, dtype=spec.get_dtype("spec_table"))
    table["WAVELENGTH"] = wavelength
    for key, values in cols.items():
        table[key] = values
    spec.spec_table = table
    for key, unit in units.items():
        spec.spec_table.columns[key].unit = unit
    return spec


def _tso_spec(cols, wavelength, units, segment):
    """One TSOSpecModel with a row (vector columns of the spectrum) per integration."""
    from stdatamodels.jwst import datamodels

    spec = datamodels.TSOSpecModel()
    nints, n = cols["FLUX"].shape
    vector = set(datamodels.SpecModel().get_dtype("spec_table").names)
    full = spec.get_dtype("spec_table")
    dtype = np.dtype([(c, full[c], (n,)) if c in vector else (c, full[c]) for c in full.names])
    table = np.zeros(nints, dtype=dtype)
    table["WAVELENGTH"] = wavelength
    for key, values in cols.items():
        table[key] = values
    table["N_ALONGDISP"] = n
    table["SEGMENT"] = segment if segment is not None else 1
    table["INT_NUM"] = np.arange(1, nints + 1)
    for key in TIME_COLUMNS:
        table[key] = np.nan
    spec.spec_table = table
    for key, unit in units.items():
        spec.spec_table.columns[key].unit = unit
    for key in TIME_COLUMNS:
        spec.spec_table.columns[key].unit = "d"
    return spec


def _integration_times(model, spec, nints):
    """Copy each integration's times from INT_TIMES into the table rows (when the table
    covers every integration of the data)."""
    times = getattr(model, "int_times", None)
    if times is None or len(times) == 0:
        log.warning("no INT_TIMES table: integration times not filled")
        return
    if nints > len(times):
        log.warning("INT_TIMES has fewer rows than integrations: times not filled")
        return
    start = (model.meta.exposure.integration_start or 1) - 1
    end = (model.meta.exposure.integration_end or model.meta.exposure.nints or nints) - 1
    numbers = np.asarray(times["integration_number"])
    first_row, last_row = int(numbers[0]) - 1, int(numbers[-1]) - 1
    offset = start - first_row
    if start < first_row or end > last_row or offset > last_row or offset + nints > len(times):
        log.warning("INT_TIMES does not cover every integration: times not filled")
        return
    rows = slice(offset, offset + nints)
    table = spec.spec_table
    table["INT_NUM"] = numbers[rows]
    for column, source in TIME_COLUMNS.items():
        table[column] = np.asarray(times[source])[rows]
    spec.time_scale = "UTC"


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
    from stdatamodels.jwst import datamodels

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
        ref, name, shape, spectral_order, exp_type, use_source_posn=use_source_posn,
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
    wavelength = ex.profile_wavelength(wl_image, profile, ex.VERTICAL)
    valid = np.isfinite(wavelength)
    if not valid.any():
        raise InputError("the extraction aperture holds no pixel with a wavelength")
    cy, cx = ex.profile_centroid(profile)
    coords = model.meta.wcs(cx, cy)
    ra, dec = (None, None) if np.any(np.isnan(coords)) else (float(coords[0]), float(coords[1]))

    def optional(attr):
        value = getattr(model, attr, None)
        return None if value is None or np.size(value) == 0 else value

    sums = ex.box_extract(
        model.data, [optional(a) for a in ("var_poisson", "var_rnoise", "var_flat")], profile, ex.VERTICAL,
        err=optional("err"), dq=optional("dq"), bkg_profile=bkg_profile,
        bkg_method=params["bkg_fit"] or "poly", bkg_order=params["bkg_order"],
        smoothing=params["smoothing_length"])
    cols = {k: v[..., valid] for k, v in ex.table_columns(sums, pixel_sr).items()}
    wavelength = wavelength[valid]

    if apply_apcorr and apcorr is not None and str(source_type or "").upper() == "POINT":
        factor = aperture_correction(apcorr, model, cols["NPIXELS"], wavelength,
                                     (ra, dec, float(np.min(wavelength))))
        ex.apply_correction(cols, factor)

    units = _column_units(calibrated)
    multi_int = len(shape) == 3
    out = datamodels.TSOMultiSpecModel() if multi_int else datamodels.MultiSpecModel()
    for table in ("int_times", "int_times_stripe"):
        value = getattr(model, table, None)
        if value is not None:
            setattr(out, table, value.copy())
    out.update(model, only="PRIMARY")
    if multi_int:
        spec = _tso_spec(cols, wavelength, units, model.meta.exposure.segment_number)
    else:
        spec = _single_spec(cols, wavelength, units)
    spec.meta.wcs = spectral_wcs(ra, dec, wavelength)
    _fill_spec_meta(spec, model, name, ra, dec, limits, spectral_order, source_type)
    out.spec.append(spec)
    if is_time_series(model):
        if multi_int:
            _integration_times(model, out.spec[0], shape[0])
    elif getattr(out, "int_times", None) is not None:
        del out.int_times
    out.meta.wcs = None
    out.meta.target.source_type = None
    return out
