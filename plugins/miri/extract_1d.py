"""MIRI LRS extract_1d: box extraction of the _s2d (fixed slit) or of every integration
of the _calints (slitless) into _x1d / _x1dints, with the aperture correction.

The aperture comes from the extract1d JSON reference (the first aperture whose id is the
exposure type or "ANY"): xstart/xstop across the trace, ystart/ystop along it,
extract_width centred on the start/stop middle, optional bkg_coeff background regions.
For a fixed-slit point source (``use_source_posn`` by default) the aperture is centred
on the dithered target position, following its trace through the WCS. Every
integration is extracted in one array operation with the same aperture; a NaN pixel
drops out of its own integration's sum. The aperture correction is interpolated once
for all elements of all integrations.
"""

from __future__ import annotations

import logging

import numpy as np

from spec2.algorithms import dq as dqflags
from spec2.algorithms import extract1d as ex
from spec2.errors import InputError, ReferenceFileError

log = logging.getLogger("spec2")

SOURCE_POSITION_DEFAULT = ("MIR_LRS-FIXEDSLIT",)
FLUX_COLUMNS = ("FLUX", "FLUX_ERROR", "SURF_BRIGHT", "SB_ERROR")
VAR_COLUMNS = ("FLUX_VAR_POISSON", "FLUX_VAR_RNOISE", "FLUX_VAR_FLAT", "SB_VAR_POISSON", "SB_VAR_RNOISE", "SB_VAR_FLAT")


# -- aperture ---------------------------------------------------------------------------


def select_aperture(ref, name, shape):
    """Extraction parameters for ``name`` from the JSON reference (or the whole array)."""
    ny, nx = shape
    params = {"xstart": 0, "xstop": nx - 1, "ystart": 0, "ystop": ny - 1, "extract_width": None,
              "bkg_coeff": None, "bkg_fit": "poly", "bkg_order": 0, "use_source_posn": None}
    if ref is None:
        return params
    for aper in ref.get("apertures", []):
        if aper.get("id") in (name, "ANY") and aper.get("region_type", "target") == "target":
            for key in params:
                if key in aper:
                    params[key] = aper[key]
            return params
    raise ReferenceFileError(f"extract1d reference has no aperture for {name}")


def _wcs_middle(wcs, dispaxis):
    """Middle dispersion pixel of the WCS bounding box and the mean wavelength there."""
    (x0, x1), (y0, y1) = wcs.bounding_box
    if dispaxis == ex.VERTICAL:
        n = int(round(x1))
        middle = (y0 + y1) / 2.0
        _, _, wl = wcs(np.arange(n, dtype=float), np.full(n, middle))
    else:
        n = int(round(y1))
        middle = (x0 + x1) / 2.0
        _, _, wl = wcs(np.full(n, middle), np.arange(n, dtype=float))
    return middle, (float(np.nanmean(wl)) if np.isfinite(wl).any() else np.nan)


def source_trace(model, ra, dec):
    """(location at the middle row, trace per row) of a sky position on a vertical
    dispersion image, through the inverse WCS; None when it is off the image."""
    from scipy.interpolate import interp1d

    wcs = model.meta.wcs
    middle, middle_wl = _wcs_middle(wcs, ex.VERTICAL)
    location, _ = wcs.backward_transform(ra, dec, middle_wl)
    (x0, x1), (y0, y1) = wcs.bounding_box
    if not np.isfinite(location) or location < x0 or location > x1:
        return None, None, None
    ny_box = int(y1 - y0)
    gy, gx = np.mgrid[int(np.ceil(y0)) : int(np.floor(y1)) + 1, int(np.ceil(x0)) : int(np.floor(x1)) + 1]
    _, _, wl = wcs(gx.astype(float), gy.astype(float))
    waves = np.linspace(np.nanmin(wl), np.nanmax(wl), ny_box)
    tx, ty = wcs.backward_transform(np.full(ny_box, ra), np.full(ny_box, dec), waves)
    trace = np.full(model.data.shape[-2], np.nan)
    first = int(np.ceil(y0))
    trace[first : first + ny_box] = interp1d(ty, tx, fill_value="extrapolate")(np.arange(ny_box))
    return int(round(middle)), float(location), trace


def build_aperture(model, params, wavelength, use_source_posn):
    """Profile weights and limits for a vertical-dispersion LRS image."""
    shape = model.data.shape[-2:]
    xstart, xstop = float(params["xstart"]), float(params["xstop"])
    width = params["extract_width"]
    trace = None
    if use_source_posn:
        ra, dec = model.meta.dither.dithered_ra, model.meta.dither.dithered_dec
        middle, location, trace_rows = (None, None, None) if ra is None else source_trace(model, ra, dec)
        if location is not None:
            nominal = _nominal_profile(shape, params, xstart, xstop, width)
            row = nominal[middle] if nominal[middle].sum() > 0 else np.ones(shape[1])
            centre = float(np.average(np.arange(shape[1]), weights=row))
            offset = location - centre
            log.info("source at column %.2f, aperture centre %.2f: shifting by %.2f px", location, centre, offset)
            xstart, xstop = xstart + offset, xstop + offset
            trace = trace_rows
    if width is not None and trace is not None:
        lower = trace - (width - 1.0) / 2.0
        upper = lower + width - 1.0
        limits = (float(np.nanmean(lower)), float(np.nanmean(upper)))
    elif width is not None:
        lower = (xstart + xstop) / 2.0 - (width - 1.0) / 2.0
        upper = lower + width - 1.0
        limits = (lower, upper)
    else:
        lower, upper = xstart, xstop
        limits = (lower, upper)
    profile = ex.box_profile(shape, ex.VERTICAL, lower, upper, params["ystart"], params["ystop"])
    profile[~np.isfinite(wavelength)] = 0.0
    bkg_profile = None
    if params["bkg_coeff"]:
        bkg_profile = _coeff_profile(shape, params["bkg_coeff"], xstart - float(params["xstart"]), params)
    return profile, bkg_profile, limits


def _nominal_profile(shape, params, xstart, xstop, width):
    if width is not None:
        lower = (xstart + xstop) / 2.0 - (width - 1.0) / 2.0
        upper = lower + width - 1.0
    else:
        lower, upper = xstart, xstop
    return ex.box_profile(shape, ex.VERTICAL, lower, upper, params["ystart"], params["ystop"])


def _coeff_profile(shape, coeffs, shift, params):
    """Background regions: alternating lower/upper polynomial limits in the row index
    (values are pixel edges: a region [a, b] covers centres a+0.5 .. b-0.5)."""
    if len(coeffs) % 2:
        raise ReferenceFileError("extract1d bkg_coeff needs pairs of lower/upper limits")
    rows = np.arange(shape[0], dtype=float)
    profile = np.zeros(shape)
    for lo, hi in zip(coeffs[::2], coeffs[1::2]):
        lower = np.polynomial.polynomial.polyval(rows, lo) + shift + 0.5
        upper = np.polynomial.polynomial.polyval(rows, hi) + shift - 0.5
        region = ex.box_profile(shape, ex.VERTICAL, lower, upper, params["ystart"], params["ystop"])
        profile = np.maximum(profile, region)
    return profile


# -- extraction -------------------------------------------------------------------------


def extract_arrays(model, profile, bkg_profile, params, pixel_sr):
    """Flux table columns (each (nints, ny) or (ny,)) for the model's data."""
    data = np.asarray(model.data, float)
    variances = [getattr(model, n) for n in ("var_poisson", "var_rnoise", "var_flat")]
    variances = [None if v is None or v.size == 0 else np.asarray(v, float) for v in variances]
    bad = ~np.isfinite(data)
    for v in variances:
        if v is not None:
            bad |= ~np.isfinite(v)
    if model.dq is not None and model.dq.shape == data.shape:
        bad |= (model.dq & dqflags.DO_NOT_USE) != 0
    data = np.where(bad, np.nan, data)
    if bkg_profile is not None:
        bkg_img, bkg_level_vars = ex.fit_background(
            data, variances, bkg_profile, ex.VERTICAL, order=int(params["bkg_order"]), method=params["bkg_fit"] or "poly"
        )
        data = data - bkg_img
    flux, var_sums, npix = ex.box_sum(data, variances, profile, ex.VERTICAL)
    cols = {}
    npix_safe = np.where(npix > 0, npix, 1.0)
    if bkg_profile is not None:
        bsum, _, _ = ex.box_sum(bkg_img + 0 * data, [], profile, ex.VERTICAL)
        cols["BACKGROUND"] = np.nan_to_num(bsum) / npix_safe
        bvars = [lv * npix**2 for lv in bkg_level_vars]
        var_sums = [v + b for v, b in zip(var_sums, bvars)]
        for key, lv in zip(("BKGD_VAR_POISSON", "BKGD_VAR_RNOISE", "BKGD_VAR_FLAT"), bkg_level_vars):
            cols[key] = lv
    else:
        cols["BACKGROUND"] = np.zeros_like(flux)
        for key in ("BKGD_VAR_POISSON", "BKGD_VAR_RNOISE", "BKGD_VAR_FLAT"):
            cols[key] = np.zeros_like(flux)
    cols["SURF_BRIGHT"] = flux / npix_safe
    for kind, v in zip(("POISSON", "RNOISE", "FLAT"), var_sums):
        cols[f"SB_VAR_{kind}"] = v / npix_safe**2
        cols[f"FLUX_VAR_{kind}"] = v * pixel_sr**2 * 1e12
    cols["FLUX"] = flux * pixel_sr * 1e6
    cols["FLUX_ERROR"] = np.sqrt(cols["FLUX_VAR_POISSON"] + cols["FLUX_VAR_RNOISE"] + cols["FLUX_VAR_FLAT"])
    cols["SB_ERROR"] = np.sqrt(cols["SB_VAR_POISSON"] + cols["SB_VAR_RNOISE"] + cols["SB_VAR_FLAT"])
    cols["BKGD_ERROR"] = np.sqrt(cols["BKGD_VAR_POISSON"] + cols["BKGD_VAR_RNOISE"] + cols["BKGD_VAR_FLAT"])
    cols["NPIXELS"] = npix
    cols["DQ"] = np.where(np.isnan(cols["FLUX"]), dqflags.DO_NOT_USE, 0).astype(np.uint32)
    return cols


def apply_aperture_correction(cols, wavelength, apcorr, subarray):
    """Scale flux-like columns by the correction at (NPIXELS, WAVELENGTH) in place."""
    from spec2.algorithms.apcorr import size_wavelength_interpolator
    from spec2_miri.photom import find_row

    table = apcorr.apcorr_table
    i = find_row(table, subarray=subarray)
    if i is None:
        raise ReferenceFileError(f"apcorr reference has no row for SUBARRAY={subarray}")
    row = table[i]
    nwl, nsize = int(row["nelem_wl"]), int(row["nelem_size"])
    sizes = np.asarray(row["size"][:nsize], float)
    if str(apcorr.sizeunit or "pixels").lower().startswith("arcsec"):
        raise ReferenceFileError("apcorr sizes in arcsec are not supported for LRS (expected pixels)")
    f = size_wavelength_interpolator(sizes, row["wavelength"][:nwl], np.asarray(row["apcorr"])[:nwl, :nsize])
    corr = f(cols["NPIXELS"], np.broadcast_to(wavelength, cols["NPIXELS"].shape))
    for key in FLUX_COLUMNS:
        cols[key] = cols[key] * corr
    for key in VAR_COLUMNS:
        cols[key] = cols[key] * corr**2
    return corr


# -- products ---------------------------------------------------------------------------


def spectral_wcs(ra, dec, wavelength):
    """pixel -> (ra, dec, lambda) of one spectrum: constant position, tabulated lambda."""
    from astropy import coordinates as coord
    from astropy import units as u
    from astropy.modeling.models import Const1D, Mapping, Tabular1D
    from gwcs import coordinate_frames as cf
    from gwcs.wcs import WCS

    pixel = np.arange(len(wavelength), dtype=float)
    forward = Mapping((0, 0, 0)) | Const1D(ra) & Const1D(dec) & Tabular1D(
        points=pixel, lookup_table=wavelength, bounds_error=False, fill_value=None
    )
    forward.name = "pixel_to_world"
    diff = np.diff(wavelength)
    if np.all(diff > 0):
        forward.inverse = Mapping((2,)) | Tabular1D(points=wavelength, lookup_table=pixel, bounds_error=False)
    elif np.all(diff < 0):
        forward.inverse = Mapping((2,)) | Tabular1D(points=wavelength[::-1], lookup_table=pixel[::-1], bounds_error=False)
    spec = cf.SpectralFrame(name="spectral", axes_order=(2,), unit=(u.micron,), axes_names=("wavelength",))
    sky = cf.CelestialFrame(name="sky", axes_order=(0, 1), reference_frame=coord.ICRS())
    world = cf.CompositeFrame([sky, spec], name="world")
    pixel_frame = cf.CoordinateFrame(naxes=1, axes_type=("SPATIAL",), axes_order=(0,), unit=(u.pix,), name="pixel_frame")
    return WCS([(pixel_frame, forward), (world, None)])


UNITS = {
    "WAVELENGTH": "um", "FLUX": "Jy", "FLUX_ERROR": "Jy", "FLUX_VAR_POISSON": "Jy^2",
    "FLUX_VAR_RNOISE": "Jy^2", "FLUX_VAR_FLAT": "Jy^2", "SURF_BRIGHT": "MJy/sr", "SB_ERROR": "MJy/sr",
    "SB_VAR_POISSON": "MJy^2 / sr^2", "SB_VAR_RNOISE": "MJy^2 / sr^2", "SB_VAR_FLAT": "MJy^2 / sr^2",
    "BACKGROUND": "MJy/sr", "BKGD_ERROR": "MJy/sr", "BKGD_VAR_POISSON": "MJy^2 / sr^2",
    "BKGD_VAR_RNOISE": "MJy^2 / sr^2", "BKGD_VAR_FLAT": "MJy^2 / sr^2",
}
TIME_COLUMNS = {"MJD-BEG": "int_start_MJD_UTC", "MJD-AVG": "int_mid_MJD_UTC", "MJD-END": "int_end_MJD_UTC",
                "TDB-BEG": "int_start_BJD_TDB", "TDB-MID": "int_mid_BJD_TDB", "TDB-END": "int_end_BJD_TDB"}


def _set_units(spec, names):
    for name in names:
        if name in UNITS:
            spec.spec_table.columns[name].unit = UNITS[name]


def _spec_meta(spec, model, name, ra, dec, limits, left_right):
    spec.name = name
    spec.slit_ra, spec.slit_dec = ra, dec
    spec.spectral_order = model.meta.wcsinfo.spectral_order or 1
    spec.dispersion_direction = ex.VERTICAL
    spec.detector = model.meta.instrument.detector
    spec.position_angle = model.meta.aperture.position_angle
    spec.source_type = getattr(model, "source_type", None) or model.meta.target.source_type
    lower, upper = limits
    left, right = left_right
    spec.extraction_xstart, spec.extraction_xstop = lower + 1, upper + 1
    spec.extraction_ystart = None if left is None else left + 1
    spec.extraction_ystop = None if right is None else right + 1


def _is_time_series(model):
    nints = model.meta.exposure.nints or 1
    return bool(model.meta.visit.tsovisit) or (model.meta.exposure.type or "").endswith("SLITLESS") and nints > 1


def extract_lrs(model, ref, apcorr, apply_apcorr=True, use_source_posn=None):
    """Extract the LRS spectrum (every integration of a 3-D model) into a new
    MultiSpecModel (2-D input) or TSOMultiSpecModel (3-D input, one row per integration,
    with the INT_TIMES table and per-row times). Requires photom to have run (FLUX in
    Jy from MJy/sr); ``ref`` is the parsed extract1d JSON (None: the whole array);
    ``apcorr`` a MirLrsApcorrModel or None."""
    from stdatamodels.jwst import datamodels

    if model.meta.wcsinfo.dispersion_direction != ex.VERTICAL:
        raise InputError("LRS extraction expects dispersion along y (DISPAXIS=2)")
    if (model.meta.cal_step.photom or "").upper() != "COMPLETE":
        raise InputError("extract_1d needs photom-calibrated data (S_PHOTOM=COMPLETE)")
    exp_type = model.meta.exposure.type
    shape = model.data.shape[-2:]
    params = select_aperture(ref, exp_type, shape)
    source_type = (getattr(model, "source_type", None) or model.meta.target.source_type or "").upper()
    if use_source_posn is None:
        use_source_posn = params["use_source_posn"]
    if use_source_posn is None:
        use_source_posn = exp_type in SOURCE_POSITION_DEFAULT and source_type == "POINT"
    if source_type != "POINT":
        use_source_posn = False

    wavelength_2d = np.asarray(model.wavelength, float) if model.wavelength is not None and model.wavelength.size else None
    if wavelength_2d is None or wavelength_2d.shape != shape:
        y, x = np.indices(shape, dtype=float)
        wavelength_2d = np.asarray(model.meta.wcs(x, y)[2], float)
    profile, bkg_profile, limits = build_aperture(model, params, wavelength_2d, use_source_posn)
    wavelength = ex.weighted_wavelength(wavelength_2d, profile, ex.VERTICAL)
    valid = np.isfinite(wavelength)
    if not valid.any():
        raise InputError("the extraction aperture holds no pixel with a wavelength")
    rows = np.nonzero(profile.sum(axis=1) > 0)[0]
    left_right = (int(rows[0]), int(rows[-1])) if rows.size else (None, None)
    cy, cx = ex.profile_centre(profile)
    ra, dec, _ = model.meta.wcs(cx, cy)
    ra, dec = (None, None) if not (np.isfinite(ra) and np.isfinite(dec)) else (float(ra), float(dec))

    pixel_sr = model.meta.photometry.pixelarea_steradians or 1.0
    cols = extract_arrays(model, profile, bkg_profile, params, pixel_sr)
    wl = wavelength[valid]
    cols = {k: v[..., valid] for k, v in cols.items()}
    if apply_apcorr and apcorr is not None and source_type == "POINT":
        apply_aperture_correction(cols, wl, apcorr, model.meta.subarray.name)

    multi_int = model.data.ndim == 3
    out = datamodels.TSOMultiSpecModel() if multi_int else datamodels.MultiSpecModel()
    out.update(model, only="PRIMARY")
    if multi_int:
        spec = _tso_spec(out, cols, wl, model)
    else:
        spec = datamodels.SpecModel()
        table = np.zeros(wl.size, dtype=spec.get_dtype("spec_table"))
        table["WAVELENGTH"] = wl
        for key, values in cols.items():
            table[key] = values
        spec.spec_table = table
        _set_units(spec, table.dtype.names)
    spec.meta.wcs = spectral_wcs(ra, dec, wl)
    _spec_meta(spec, model, exp_type, ra, dec, limits, left_right)
    out.spec.append(spec)
    out.meta.wcs = None
    out.meta.target.source_type = None
    return out


def _tso_spec(out, cols, wl, model):
    """One TSOSpecModel with a row per integration and the INT_TIMES timing per row."""
    from stdatamodels.jwst import datamodels

    nints, n = cols["FLUX"].shape
    spec = datamodels.TSOSpecModel()
    table = np.zeros(nints, dtype=_tso_dtype(spec, n))
    table["WAVELENGTH"] = np.broadcast_to(wl, (nints, n))
    for key, values in cols.items():
        table[key] = values
    table["N_ALONGDISP"] = n
    table["SEGMENT"] = model.meta.exposure.segment_number or 1
    table["INT_NUM"] = np.arange(1, nints + 1)
    for key in TIME_COLUMNS:
        table[key] = np.nan
    times = getattr(model, "int_times", None)
    if times is not None and len(times):
        out.int_times = times.copy()
        if _is_time_series(model):
            start = (model.meta.exposure.integration_start or 1) - 1
            numbers = np.asarray(times["integration_number"])
            offset = start - (int(numbers[0]) - 1)
            if offset >= 0 and offset + nints <= len(times):
                sel = slice(offset, offset + nints)
                table["INT_NUM"] = numbers[sel]
                for key, source in TIME_COLUMNS.items():
                    table[key] = np.asarray(times[source])[sel]
                spec.time_scale = "UTC"
    spec.spec_table = table
    _set_units(spec, table.dtype.names)
    for key in TIME_COLUMNS:
        spec.spec_table.columns[key].unit = "d"
    return spec


def _tso_dtype(spec, n):
    """The TSO table's dtype with the per-element columns as vectors of length n."""
    from stdatamodels.jwst import datamodels

    tso = spec.get_dtype("spec_table")
    vector = set(datamodels.SpecModel().get_dtype("spec_table").names)
    return np.dtype([(name, tso[name], (n,)) if name in vector else (name, tso[name]) for name in tso.names])
