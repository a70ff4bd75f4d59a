"""Box extraction of slit spectra into the x1d layout: the extract_1d every slit mode
shares (MIRI LRS fixed slit and slitless, NIRSpec fixed slits and BOTS, NIRCam grism
time series).

``extract_slits`` is the one driver: every slit of a _s2d/_cal into an _x1d, or every
integration of a single-slit _calints into an _x1dints. What differs between modes is
an instrument's facts, handed in as a ``SlitMode``: the dispersion axis, how (and
whether) its source is located, which extract1d aperture a slit takes, whether photom
leaves point sources in MJy, and its aperture-correction lookup. Everything else (the
extract1d JSON aperture, the extraction profile for either dispersion direction, the
SpecModel / TSOSpecModel tables, their spectral WCS and metadata as jwst 3.0.0 makes
them) is here; the array arithmetic is in ``spec2.algorithms.extract1d``.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from spec2.algorithms import extract1d as ex
from spec2.errors import InputError, ReferenceFileError
from spec2.models import new_model

log = logging.getLogger("spec2")

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


def exposure_type(slit, model):
    """The aperture id of a mode with one slit per exposure: its EXP_TYPE."""
    return model.meta.exposure.type


def slit_name(slit, model):
    """The aperture id of a mode with named slits: the slit's name."""
    return slit.name


@dataclass(frozen=True)
class SlitMode:
    """An instrument's facts for ``extract_slits``.

    name            -- the mode in messages ("MIRI LRS fixed slit", ...)
    disp            -- the dispersion axis of its images (ex.HORIZONTAL or ex.VERTICAL);
                       an exposure stating another DISPAXIS is refused
    locate          -- ``locate(slit, image shape) -> SourceLocation or None`` (None: not
                       placed; the function says why), or None when the mode has no
                       source position: use_source_posn is then ignored with a warning.
                       A mode that can locate its source does so by default for point
                       sources, unless the aperture or the caller says otherwise.
    aperture_id     -- ``(slit, exposure) -> str``: the extract1d aperture ``id`` the slit
                       takes, also the spectrum's name
    point_sources_in_mjy -- photom leaves point sources in MJy per pixel (not MJy/sr)
    aperture_correction  -- ``(apcorr model, slit, exposure, NPIXELS, wavelength, (ra,
                       dec)) -> factor`` for point sources, or None (no correction)
    """

    name: str
    disp: int
    locate: Callable | None = None
    aperture_id: Callable = exposure_type
    point_sources_in_mjy: bool = False
    aperture_correction: Callable | None = None


# -- parameters ---------------------------------------------------------------------------


def extraction_options(params):
    """The extract_1d step parameters as keyword arguments of the extraction functions
    (None: as the extract1d reference says)."""
    keys = ("use_source_posn", "subtract_background", "bkg_fit", "bkg_order", "smoothing_length", "position_offset")
    return {k: params[k] for k in keys}


def _cross_keys(disp):
    """(start, stop) parameter names across and along the dispersion."""
    return (("xstart", "xstop"), ("ystart", "ystop")) if disp == ex.VERTICAL else (("ystart", "ystop"), ("xstart", "xstop"))


def extraction_parameters(ref, name, shape, spectral_order, source_position_default, *, use_source_posn=None,
                          subtract_background=None, bkg_fit=None, bkg_order=None,
                          smoothing_length=None, position_offset=0.0):
    """Extraction parameters for slit ``name`` of a ``shape`` (..., ny, nx) array.

    ``ref`` is the parsed extract1d JSON (None: the whole array, no background, no
    source position); ``source_position_default`` is the mode's use_source_posn when
    neither the call nor the aperture sets it. Explicit arguments override the
    aperture's values. Raises
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
        what = f"spectral order {spectral_order} of " if match == "partial" else ""
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
            use_source_posn = source_position_default
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


def shift_aperture(params, offset, disp, trace=None):
    """Move the cross-dispersion start/stop and polynomial limits by ``offset`` pixels."""
    lo, hi = _cross_keys(disp)[0]
    params[lo] += offset
    params[hi] += offset
    for key in ("src_coeff", "bkg_coeff"):
        if params[key] is not None:
            for coeffs in params[key]:
                coeffs[0] += offset
    return None if trace is None else trace + offset


# -- aperture -----------------------------------------------------------------------------


def bounding_box(wcs, shape):
    bb = wcs.bounding_box
    if bb is None:
        return ((-0.5, shape[-1] - 0.5), (-0.5, shape[-2] - 0.5))
    if hasattr(bb, "bounding_box"):  # astropy ModelBoundingBox -> ((x0, x1), (y0, y1))
        bb = bb.bounding_box(order="F")
    return tuple(tuple(float(v) for v in interval) for interval in bb)


def aperture_profile(shape, params, wavelength, disp, trace=None, coeff_key="src_coeff", allow_partial=True):
    """Weights and (mean lower, mean upper) cross-dispersion limits of the aperture."""
    (c0, c1), (d0, d1) = _cross_keys(disp)
    coeffs = params[coeff_key]
    if coeffs is not None:
        if params["independent_var"].startswith("wavelength"):
            independent = wavelength
        else:
            independent = np.mgrid[: shape[0], : shape[1]][0 if disp == ex.VERTICAL else 1].astype(np.float32)
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
        lower = (params[c0] + params[c1]) / 2.0 - (width - 1.0) / 2.0
        upper = lower + width - 1
        profile = ex.limits_profile(shape, disp, [(lower, upper)])
        limits = (lower, upper)
    else:
        limits = (params[c0], params[c1])
        profile = ex.limits_profile(shape, disp, [limits])
    ex.restrict_dispersion(profile, disp, params[d0], params[d1])
    return profile, limits


def define_aperture(slit, params, wavelength, shape, mode):
    """Source profile, background profile (or None) and (lower, upper, first, last)
    limits of a slit image of ``shape`` (ny, nx). With use_source_posn the aperture is
    first moved onto the source the mode locates; then by position_offset (``params``
    is updated with both)."""
    disp = mode.disp
    trace = None
    if params["use_source_posn"] and mode.locate is None:
        log.warning("use_source_posn is not supported for %s: aperture not moved", mode.name)
    elif params["use_source_posn"]:
        found = mode.locate(slit, shape)
        if found is not None:
            nominal, _ = aperture_profile(shape, params, wavelength, disp)
            offset = found.position - ex.cross_centre(nominal, disp, element=found.element)
            log.info("source at cross-dispersion pixel %.2f (element %d, %.3f um): aperture moved by %.2f px",
                     found.position, found.element, found.wavelength, offset)
            shift_aperture(params, offset, disp)
            trace = found.trace
    if params["position_offset"]:
        log.info("applying the extra cross-dispersion offset %.2f px", params["position_offset"])
        trace = shift_aperture(params, params["position_offset"], disp, trace)
    profile, (lower, upper) = aperture_profile(shape, params, wavelength, disp, trace)
    profile[~np.isfinite(wavelength)] = 0.0  # pixels without a wavelength are off the spectrum
    first, last = ex.dispersion_range(profile, disp)
    bkg_profile = None
    if params["subtract_background"] and params["bkg_coeff"] is not None:
        # a median takes whole pixels; a fit weighs the partial ones at the region edges
        bkg_profile, _ = aperture_profile(shape, params, wavelength, disp, coeff_key="bkg_coeff",
                                          allow_partial=params["bkg_fit"] != "median")
    log.info("aperture cross-dispersion %.2f -> %.2f, dispersion %s -> %s (inclusive pixels)",
             lower, upper, first, last)
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


def sum_aperture(model, profile, bkg_profile, params, wl_image, disp, what="the extraction aperture"):
    """Box-sum the aperture over every integration: (sums, wavelength per element with
    the elements lacking one dropped, mask of the kept elements, (ra, dec) at the
    profile's centroid or (None, None))."""
    from spec2.errors import InputError

    wavelength = ex.profile_wavelength(wl_image, profile, disp)
    valid = np.isfinite(wavelength)
    if not valid.any():
        raise InputError(f"{what} holds no pixel with a wavelength")
    cy, cx = ex.profile_centroid(profile)
    coords = model.meta.wcs(cx, cy)
    ra, dec = (None, None) if np.any(np.isnan(coords)) else (float(coords[0]), float(coords[1]))

    def optional(attr):
        value = getattr(model, attr, None)
        return None if value is None or np.size(value) == 0 else value

    sums = ex.box_extract(
        model.data, [optional(a) for a in ("var_poisson", "var_rnoise", "var_flat")], profile, disp,
        err=optional("err"), dq=optional("dq"), bkg_profile=bkg_profile,
        bkg_method=params["bkg_fit"] or "poly", bkg_order=params["bkg_order"],
        smoothing=params["smoothing_length"])
    return sums, wavelength[valid], valid, (ra, dec)


# -- source location ----------------------------------------------------------------------


@dataclass(frozen=True)
class SourceLocation:
    """Where a mode's ``locate`` put the source: at dispersion ``element`` (of
    ``wavelength`` um) it is at cross-dispersion pixel ``position``; ``trace`` is its
    cross-dispersion pixel at every dispersion element (NaN off the bounding box), or
    None. The aperture is moved by position - its centre at that element, and an
    aperture with an extract_width follows the trace."""

    element: int
    wavelength: float
    position: float
    trace: np.ndarray | None = None


def _bb_axes(disp):
    """(dispersion, cross-dispersion) index into an ((x0, x1), (y0, y1)) bounding box."""
    return (0, 1) if disp == ex.HORIZONTAL else (1, 0)


def place_source(wcs, shape, disp, cross_at, to_detector, wavelength_at):
    """The SourceLocation of a source in a slit image of ``shape`` with WCS ``wcs``, or
    None (with a warning) when it lands outside the bounding box. The instrument tells
    where its source is: ``cross_at(wl)`` is its cross-dispersion pixel at the
    wavelength ``wl`` (um), ``to_detector(wl)`` its detector (x, y) at an array of
    wavelengths in the units of ``wavelength_at(x, y)``, the wavelengths of pixels."""
    bb = bounding_box(wcs, shape)
    element, wavelength = _middle_element(wcs, bb, disp)
    position = float(cross_at(wavelength))
    lo, hi = bb[_bb_axes(disp)[1]]
    if np.isnan(position) or not (lo <= position <= hi):
        log.warning("the source position maps outside the bounding box (%.2f); aperture not moved", position)
        return None
    return SourceLocation(element, wavelength, position, _source_trace(shape, bb, disp, to_detector, wavelength_at))


def _middle_element(wcs, bb, disp):
    """The dispersion element in the middle of the bounding box and the mean wavelength
    of the pixels across the image there (NaN when none has one): where a source is
    placed before the aperture is moved onto it."""
    d, c = _bb_axes(disp)
    n = round(bb[c][1])
    middle = (bb[d][0] + bb[d][1]) / 2.0
    along, across = np.full(n, middle), np.arange(n, dtype=float)
    wl = np.asarray(wcs(*((along, across) if disp == ex.HORIZONTAL else (across, along)))[2], dtype=float)
    return int(np.round(middle)), (float(np.nanmean(wl)) if np.isfinite(wl).any() else np.nan)


def _source_trace(shape, bb, disp, to_detector, wavelength_at):
    """The source's cross-dispersion pixel at every dispersion element (NaN outside the
    bounding box): placed at one wavelength per element spread evenly over the range of
    the box's wavelengths, its positions interpolated (linearly, extrapolating) at the
    element indices from the box's first one on."""
    from gwcs.wcstools import grid_from_bounding_box
    from scipy.interpolate import interp1d

    d = _bb_axes(disp)[0]
    wl = wavelength_at(*grid_from_bounding_box(bb))
    n = int(bb[d][1] - bb[d][0])
    waves = np.linspace(np.nanmin(wl), np.nanmax(wl), n)
    x, y = to_detector(waves)
    along, across = (x, y) if disp == ex.HORIZONTAL else (y, x)
    trace = np.full(shape[-1] if disp == ex.HORIZONTAL else shape[-2], np.nan)
    first = int(np.ceil(bb[d][0]))
    trace[first : first + n] = interp1d(along, across, fill_value="extrapolate")(np.arange(n))
    return trace


def source_type_of(slit):
    """The slit's source type, or the exposure's when the slit has none."""
    return getattr(slit, "source_type", None) or slit.meta.target.source_type


# -- aperture correction --------------------------------------------------------------------


def apcorr_row(apcorr, **match):
    """The one row of an aperture-correction table whose columns equal ``match``
    (case-insensitive); ReferenceFileError unless exactly one matches."""
    table = apcorr.apcorr_table
    rows = [i for i in range(len(table))
            if all(str(table[k][i]).strip().upper() == str(v).strip().upper() for k, v in match.items())]
    if len(rows) != 1:
        what = " ".join(f"{k.upper()}={v}" for k, v in match.items())
        raise ReferenceFileError(f"apcorr reference has {len(rows)} rows for {what} (need 1)")
    return table[rows[0]]


def tabulated_apcorr(row, npixels, wavelength, size_per_pixel=None):
    """Correction factor at each (NPIXELS, WAVELENGTH) from a table row of corrections
    by aperture size and wavelength (jwst's ``ApCorr``); sizes are in pixels, or in
    units of which a pixel spans ``size_per_pixel``."""
    nwl, nsize = int(row["nelem_wl"]), int(row["nelem_size"])
    sizes = np.asarray(row["size"][:nsize], dtype=float)
    if size_per_pixel is not None:
        sizes = sizes / size_per_pixel
    f = ex.apcorr_interpolator(sizes, row["wavelength"][:nwl], np.asarray(row["apcorr"])[:nwl, :nsize])
    return f(npixels, np.broadcast_to(wavelength, np.shape(npixels)))


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


def column_units(calibrated):
    flux, flux2, sb, sb2 = SB_UNITS[calibrated]
    units = {"WAVELENGTH": "um", "FLUX": flux, "FLUX_ERROR": flux, "SURF_BRIGHT": sb, "SB_ERROR": sb,
             "BACKGROUND": sb, "BKGD_ERROR": sb}
    for kind in ex.VARIANCE_KINDS:
        units[f"FLUX_VAR_{kind}"] = flux2
        units[f"SB_VAR_{kind}"] = sb2
        units[f"BKGD_VAR_{kind}"] = sb2
    return units


def fill_spec_meta(spec, model, name, ra, dec, limits, spectral_order, source_type, disp, exposure=None):
    """The spectrum's identity from the slit ``model`` (its attributes) and the exposure
    (detector, position angle: ``exposure``, or the model itself when it is one)."""
    lower, upper, first, last = limits
    exposure = model if exposure is None else exposure
    spec.slit_ra, spec.slit_dec = ra, dec
    spec.spectral_order = spectral_order
    spec.dispersion_direction = disp
    spec.detector = exposure.meta.instrument.detector
    spec.position_angle = None
    for holder in (model, exposure):  # jwst reads the slit's own; a bare slit has none
        aperture = holder.meta.aperture if holder.meta.hasattr("aperture") else None
        if aperture is not None and aperture.hasattr("position_angle"):
            spec.position_angle = aperture.position_angle
            break
    if disp == ex.VERTICAL:
        spec.extraction_xstart, spec.extraction_xstop = lower + 1, upper + 1
        spec.extraction_ystart, spec.extraction_ystop = first + 1, last + 1
    else:
        spec.extraction_ystart, spec.extraction_ystop = lower + 1, upper + 1
        spec.extraction_xstart, spec.extraction_xstop = first + 1, last + 1
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


def single_spec(cols, wavelength, units):
    from stdatamodels.jwst import datamodels

    spec = new_model(datamodels.SpecModel)
    table = np.zeros(wavelength.size, dtype=spec.get_dtype("spec_table"))
    table["WAVELENGTH"] = wavelength
    for key, values in cols.items():
        table[key] = values
    spec.spec_table = table
    for key, unit in units.items():
        spec.spec_table.columns[key].unit = unit
    return spec


def tso_spec(cols, wavelength, units, segment):
    """One TSOSpecModel with a row (vector columns of the spectrum) per integration."""
    from stdatamodels.jwst import datamodels

    spec = new_model(datamodels.TSOSpecModel)
    nints, n = cols["FLUX"].shape
    vector = set(new_model(datamodels.SpecModel).get_dtype("spec_table").names)
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


def integration_times(model, spec, nints):
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


def photom_ran(model) -> bool:
    """Did photom complete on the exposure? Its status is the exposure's (a slit of a
    MultiSlitModel has no cal_step of its own), as jwst reads it."""
    cal_step = model.meta.cal_step if model.meta.hasattr("cal_step") else None
    status = getattr(cal_step, "photom", None) if cal_step is not None else None
    return (status or "").upper() == "COMPLETE"


def _slit_spectrum(slit, model, ref, apcorr, mode, options, multi_int):
    """The SpecModel (TSOSpecModel when ``multi_int``) of one slit image of ``model``."""
    shape = slit.data.shape
    if len(shape) not in (2, 3) or slit.data.size == 0:
        raise InputError(f"extract_1d needs a 2-D or 3-D spectral image, got shape {shape}")
    dispaxis = slit.meta.wcsinfo.dispersion_direction
    if dispaxis != mode.disp:
        along = "x" if mode.disp == ex.HORIZONTAL else "y"
        raise InputError(f"{mode.name} extraction expects dispersion along {along} (DISPAXIS={mode.disp}), "
                         f"got {dispaxis}")
    name = mode.aperture_id(slit, model)
    spectral_order = slit.meta.wcsinfo.spectral_order
    if spectral_order is None:
        spectral_order = 1
    source_type = source_type_of(slit)
    point = str(source_type or "").upper() == "POINT"
    use_source_posn = options["use_source_posn"]
    if not point and use_source_posn is None:
        use_source_posn = False  # only a point source is located unless asked
    params = extraction_parameters(
        ref, name, shape, spectral_order, mode.locate is not None, use_source_posn=use_source_posn,
        **{k: options[k] for k in ("subtract_background", "bkg_fit", "bkg_order", "smoothing_length",
                                   "position_offset")})

    calibrated = photom_ran(model)
    pixel_sr = None
    if calibrated:
        pixel_sr = slit.meta.photometry.pixelarea_steradians if slit.meta.hasattr("photometry") else None
        if pixel_sr is None:
            log.warning("PIXAR_SR is not set: FLUX will not be in Jy")
            pixel_sr = 1.0
    else:
        log.warning("photom has not run: FLUX is the summed count rate (DN/s)")

    image_shape = shape[-2:]
    wl_image = wavelength_image(slit, image_shape)
    profile, bkg_profile, limits = define_aperture(slit, params, wl_image, image_shape, mode)
    sums, wavelength, valid, (ra, dec) = sum_aperture(slit, profile, bkg_profile, params, wl_image, mode.disp,
                                                      what=f"slit {name}: the extraction aperture")
    if calibrated and point and mode.point_sources_in_mjy:
        cols = ex.point_source_columns(sums, pixel_sr)
    else:
        cols = ex.table_columns(sums, pixel_sr)
    cols = {k: v[..., valid] for k, v in cols.items()}
    if options["apply_apcorr"] and apcorr is not None and point and mode.aperture_correction is not None:
        factor = mode.aperture_correction(apcorr, slit, model, cols["NPIXELS"], wavelength, (ra, dec))
        ex.apply_correction(cols, factor)

    units = column_units(calibrated)
    if multi_int:
        spec = tso_spec(cols, wavelength, units, model.meta.exposure.segment_number)
    else:
        spec = single_spec(cols, wavelength, units)
    spec.meta.wcs = spectral_wcs(ra, dec, wavelength)
    fill_spec_meta(spec, slit, name, ra, dec, limits, spectral_order, source_type, mode.disp, exposure=model)
    return spec


def extract_slits(model, ref, apcorr, mode, *, apply_apcorr=True, use_source_posn=None, subtract_background=None,
                  bkg_fit=None, bkg_order=None, smoothing_length=None, position_offset=0.0):
    """The extract_1d product of a slit exposure: a MultiSpecModel with a SpecModel per
    slit (a MultiSlitModel, or a single 2-D slit image), or for a single slit with 3-D
    data a TSOMultiSpecModel with one TSOSpecModel, a table row per integration (all
    integrations extracted in the same array operations through one aperture).

    ``ref`` is the parsed extract1d JSON (None: the whole image), ``apcorr`` an open
    aperture-correction model or None (applied to point sources when ``apply_apcorr``),
    ``mode`` the instrument's SlitMode. The keyword arguments are jwst's step parameters
    of the same names (None: the reference's or the mode's default). FLUX is in Jy when
    photom has run, else DN/s. The INT_TIMES tables are carried over and, for a time
    series, each row's times filled, as jwst 3.0.0 does. The input is not modified.
    """
    from stdatamodels.jwst import datamodels

    from spec2.steps.srctype import is_time_series

    options = {"apply_apcorr": apply_apcorr, "use_source_posn": use_source_posn,
               "subtract_background": subtract_background, "bkg_fit": bkg_fit, "bkg_order": bkg_order,
               "smoothing_length": smoothing_length, "position_offset": position_offset}
    multi = hasattr(model, "slits")
    slits = list(model.slits) if multi else [model]
    multi_int = not multi and np.ndim(model.data) == 3
    out = new_model(datamodels.TSOMultiSpecModel if multi_int else datamodels.MultiSpecModel)
    for table in ("int_times", "int_times_stripe"):
        value = getattr(model, table, None)
        if value is not None:
            setattr(out, table, value.copy())
    out.update(model, only="PRIMARY")
    for slit in slits:
        out.spec.append(_slit_spectrum(slit, model, ref, apcorr, mode, options, multi_int))
    if is_time_series(model):
        if multi_int:
            integration_times(model, out.spec[0], model.data.shape[0])
    elif getattr(out, "int_times", None) is not None:
        del out.int_times  # jwst keeps INT_TIMES for time series only
    out.meta.wcs = None
    out.meta.target.source_type = None
    return out
