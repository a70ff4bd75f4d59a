"""MIRI LRS fixed-slit resample_spec: the _cal drizzled onto a rectified grid (_s2d).

The LRS-specific parts of jwst 3.0's ResampleSpecStep for one exposure; the grid, the
kernel and the variance propagation are the generic ones of spec2.algorithms.resample.
For LRS the wavelength runs along detector y (DISPAXIS = 2) and the output keeps the
detector's direction (wavelength decreasing with y); S_REGION is redrawn as a band of
the slit's width along the rectified slit; a source position (SRCXPOS/SRCYPOS), when
set, is moved into the output frame.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

LRS_FIXEDSLIT = "MIR_LRS-FIXEDSLIT"
# slit attributes jwst copies from the input to the resampled slit (not source_ra/dec)
SLIT_ATTRIBUTES = (
    "name", "xstart", "xsize", "ystart", "ysize", "slitlet_id", "source_id", "source_name",
    "source_alias", "stellarity", "source_type", "source_xpos", "source_ypos",
    "dispersion_direction", "shutter_state",
)
ARRAYS = ("data", "err", "var_rnoise", "var_poisson", "var_flat")


def resample_lrs(model, pixfrac=1.0, kernel="square", weight_type="ivm", pixel_scale_ratio=1.0):
    """Resample one MIRI LRS fixed-slit exposure onto a rectified grid: the ``_s2d``.

    model -- calibrated SlitModel (``_cal``): 2-D data in surface brightness (or flux
             density), dq, var_rnoise/var_poisson/var_flat, ``meta.wcs`` a gwcs
             detector -> (ra, dec, wavelength) with a bounding box; not modified
    pixfrac, kernel -- drizzle drop size and kernel ("square", "point", ...)
    weight_type -- "ivm" (1/VAR_RNOISE), "exptime" or None; pixels flagged DO_NOT_USE or
             NON_SCIENCE, or NaN in any array, get weight 0
    pixel_scale_ratio -- input / output spatial pixel scale

    Returns a new SlitModel as jwst 3.0's ResampleSpecStep makes it: meta and slit
    attributes of the input; data, wht, con (context), err, var_rnoise, var_flat,
    var_poisson on a grid with one column per spatial pixel and one row per input
    dispersion pixel (wavelength decreasing with y); ``meta.wcs`` the rectified
    detector -> world gwcs; ``wavelength`` from it; PIXAR_SR/PIXAR_A2 = input / ratio;
    meta.resample, exposure times, S_REGION and source position updated.
    """
    from spec2.algorithms import resample as rs

    if model.data.ndim != 2:
        raise TypeError(f"resample_lrs needs a 2-D SlitModel, got data of shape {model.data.shape}")
    dispaxis = model.meta.wcsinfo.dispersion_direction or 2
    wcs_in = model.meta.wcs
    sample = rs.sample_wcs(wcs_in, model.data.shape)
    grid = rs.rectified_grid([sample], dispaxis, descending=model.meta.exposure.type == LRS_FIXEDSLIT,
                             pixel_scale_ratio=pixel_scale_ratio)
    wcs_out = rs.rectified_wcs(grid)

    # Drizzle reads only the pixels in the WCS bounding box (and the pixel map one
    # pixel around them), so the arrays are cut to that window plus a margin: the same
    # result as the full frame, without preparing a million pixels it never reads.
    box = rs.drizzle_range(model.data.shape, sample.bbox)
    window, (cx, cy) = _window(box, model.data.shape, margin=4)
    arrays, dq = _usable_arrays(model, window)
    data = arrays["data"]
    level = model.meta.background.level
    if level is not None and not model.meta.background.subtracted:
        data = data - level
    shifted = replace(sample, x0=sample.x0 - cx, y0=sample.y0 - cy)
    pixmap = rs.pixel_map(shifted, wcs_out, data.shape)
    box = (box[0] - cx, box[1] - cx, box[2] - cy, box[3] - cy)

    exposure = model.meta.exposure
    time = exposure.measurement_time if exposure.measurement_time is not None else exposure.exposure_time
    weight = rs.drizzle_weight(dq, weight_type, arrays["var_rnoise"], time)
    driz = rs.SpectralDrizzle(grid.shape, n_inputs=1, pixfrac=pixfrac, kernel=kernel, fillval="NAN",
                              weight_type=weight_type, pixel_scale_ratio=pixel_scale_ratio)
    driz.add(data, pixmap, weight, {name: arrays[name] for name in rs.VARIANCES},
             box=box, exptime=exposure.exposure_time or 1.0,
             time=time, iscale=_intensity_scale(model, pixel_scale_ratio))
    result = driz.finish()

    out = _output_model(model, result, wcs_out, grid)
    _set_metadata(out, model, pixfrac, kernel, weight_type, pixel_scale_ratio)
    corners = rs.parse_s_region(model.meta.wcsinfo.s_region)
    if corners is not None:
        ny, nx = grid.shape
        ra, dec, _ = wcs_out([0.0, nx - 1.0], [0.0, ny - 1.0])
        band = rs.band_footprint(corners, (ra[0], dec[0]), (ra[1], dec[1]))
        _put(out.meta.wcsinfo, "s_region", rs.format_s_region(band))
    xpos, ypos = getattr(model, "source_xpos", None), getattr(model, "source_ypos", None)
    if xpos is not None and ypos is not None:  # detector -> output pixels
        ra, dec, lam = wcs_in(xpos, ypos)
        x, y = wcs_out.invert(ra, dec, lam)
        out.source_xpos, out.source_ypos = float(x), float(y)
    return out


def _window(box, shape, margin):
    """Slices of the input around the drizzle range (xmin, xmax, ymin, ymax) widened by
    ``margin`` pixels, and the window's origin (x, y)."""
    xmin, xmax, ymin, ymax = box
    x0, y0 = max(0, xmin - margin), max(0, ymin - margin)
    x1, y1 = min(shape[1], xmax + margin + 1), min(shape[0], ymax + margin + 1)
    return (slice(y0, y1), slice(x0, x1)), (x0, y0)


def _usable_arrays(model, window):
    """Copies (inside ``window``) of data, err and the variances (float32) and of the DQ,
    with every pixel that is NaN in one of them, or DO_NOT_USE, made NaN in all and
    DO_NOT_USE."""
    from spec2.algorithms import dq as dqflags
    from spec2.algorithms.resample import invalid_pixels

    shape = model.data.shape
    arrays = {}
    for name in ARRAYS:
        a = getattr(model, name, None)
        arrays[name] = np.array(a[window], dtype=np.float32) if a is not None and a.shape == shape else None
    dq = np.array(model.dq[window]) if model.dq is not None and model.dq.shape == shape else np.zeros(arrays["data"].shape, np.uint32)
    bad = invalid_pixels(list(arrays.values()), dq)
    if bad.any():
        dq[bad] |= dqflags.DO_NOT_USE
        for a in arrays.values():
            if a is not None:
                a[bad] = np.nan
    return arrays, dq


def _intensity_scale(model, pixel_scale_ratio):
    """1/ratio for flux-density data (only one spatial axis is resampled), else 1."""
    bunit = model.meta.bunit_data
    if not bunit or not model.meta.photometry.pixelarea_steradians:
        return 1.0
    if "SPECTRAL" not in model.meta.wcs.output_frame.axes_type:
        return 1.0
    from astropy import units as u

    try:
        flux_density = u.Unit(bunit).is_equivalent(u.Jy)
    except (ValueError, TypeError):
        flux_density = False
    return 1.0 / pixel_scale_ratio if flux_density else 1.0


def _output_model(model, result, wcs_out, grid):
    from stdatamodels.jwst import datamodels

    out = datamodels.SlitModel()
    out.update(model)
    out.meta.wcs = wcs_out
    out.data = result["data"]
    out.wht = result["wht"]
    out.con = result["con"]
    out.err = result["err"]
    for name in ("var_rnoise", "var_flat", "var_poisson"):
        setattr(out, name, result[name])
    ny, nx = grid.shape
    # wavelength depends on the dispersion pixel only: evaluate one line, broadcast
    if grid.dispaxis == 2:
        lam = wcs_out(np.zeros(ny), np.arange(ny, dtype=float))[2]
        out.wavelength = np.broadcast_to(lam[:, None], (ny, nx)).astype(np.float32)
    else:
        lam = wcs_out(np.arange(nx, dtype=float), np.zeros(nx))[2]
        out.wavelength = np.broadcast_to(lam[None, :], (ny, nx)).astype(np.float32)
    for attr in SLIT_ATTRIBUTES:
        value = getattr(model, attr, None)
        if value is not None:
            setattr(out, attr, value)
    return out


def _put(node, name, value):
    """node.name = value; None removes the keyword (as a validated assignment of None
    leaves it unset)."""
    if value is not None:
        setattr(node, name, value)
    elif name in node.instance:
        delattr(node, name)


def _set_metadata(out, model, pixfrac, kernel, weight_type, pixel_scale_ratio):
    meta = out.meta
    area = model.meta.photometry.pixelarea_steradians
    if area is None:
        _put(meta.photometry, "pixelarea_steradians", None)
        _put(meta.photometry, "pixelarea_arcsecsq", None)
    else:
        meta.photometry.pixelarea_steradians = area / pixel_scale_ratio
        meta.photometry.pixelarea_arcsecsq = area / pixel_scale_ratio * np.rad2deg(3600) ** 2
    r = meta.resample
    r.pointings, r.pixel_scale_ratio, r.pixfrac = 1, pixel_scale_ratio, pixfrac
    r.kernel, r.fillval = kernel, "NAN"
    _put(r, "weight_type", weight_type)
    # exposure times: totals over the (one) input
    exp = model.meta.exposure
    exposure_time = exp.exposure_time if exp.exposure_time is not None else 0.0
    duration = exp.duration if exp.duration is not None else 0.0
    for name, value in (("exposure_time", exposure_time), ("effective_exposure_time", exposure_time),
                        ("start_time", exp.start_time), ("end_time", exp.end_time), ("duration", duration),
                        ("elapsed_exposure_time", duration), ("measurement_time", exp.measurement_time)):
        _put(meta.exposure, name, value)
    _put(meta.background, "level", None)
    _put(meta.background, "subtracted", None)
    meta.cal_step.resample = "COMPLETE"
