"""Drizzling one calibrated slit onto a given output grid: the part of resample_spec
every slit mode shares (MIRI LRS, NIRSpec fixed slits).

The instrument plugin builds the output WCS (its grid rules differ); this module cuts
the input to the pixels drizzle reads, makes invalid pixels consistent, weights,
drizzles data and variances with :class:`spec2.algorithms.resample.SpectralDrizzle`, and
builds the output SlitModel with jwst's metadata.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from spec2.models import new_model
from spec2.wcs.compiled import compile_model

# slit attributes jwst copies from the input to the resampled slit (not source_ra/dec)
SLIT_ATTRIBUTES = (
    "name", "xstart", "xsize", "ystart", "ysize", "slitlet_id", "source_id", "source_name",
    "source_alias", "stellarity", "source_type", "source_xpos", "source_ypos",
    "dispersion_direction", "shutter_state",
)
ARRAYS = ("data", "err", "var_rnoise", "var_poisson", "var_flat")


def _node(meta, name):
    """A metadata node, or None where the model's schema has no such node (the slits
    of a MultiSlitModel carry a smaller meta)."""
    try:
        return getattr(meta, name)
    except AttributeError:
        return None


def drizzle_slit(model, sample, wcs_out, shape, pixfrac=1.0, kernel="square", weight_type="ivm",
                 pixel_scale_ratio=1.0):
    """Drizzle one 2-D slit (not modified) onto ``wcs_out`` of ``shape``; returns the
    SpectralDrizzle result (data, wht, con, err, var_*). ``sample`` is the input WCS
    evaluated on its grid (spec2.algorithms.resample.sample_wcs)."""
    from spec2.algorithms import resample as rs

    # Drizzle reads only the pixels in the WCS bounding box (and the pixel map one
    # pixel around them), so the arrays are cut to that window plus a margin: the same
    # result as the full frame, without preparing pixels it never reads.
    box = rs.drizzle_range(model.data.shape, sample.bbox)
    win, (cx, cy) = window(box, model.data.shape, margin=4)
    arrays, dq = usable_arrays(model, win)
    data = arrays["data"]
    background = _node(model.meta, "background")
    level = None if background is None else background.level
    if level is not None and not background.subtracted:
        data = data - level
    shifted = replace(sample, x0=sample.x0 - cx, y0=sample.y0 - cy)
    pixmap = rs.pixel_map(shifted, wcs_out, data.shape)
    box = (box[0] - cx, box[1] - cx, box[2] - cy, box[3] - cy)

    exposure = model.meta.exposure
    time = exposure.measurement_time if exposure.measurement_time is not None else exposure.exposure_time
    weight = rs.drizzle_weight(dq, weight_type, arrays["var_rnoise"], time)
    driz = rs.SpectralDrizzle(shape, n_inputs=1, pixfrac=pixfrac, kernel=kernel, fillval="NAN",
                              weight_type=weight_type, pixel_scale_ratio=pixel_scale_ratio)
    driz.add(data, pixmap, weight, {name: arrays[name] for name in rs.VARIANCES},
             box=box, exptime=exposure.exposure_time or 1.0,
             time=time, iscale=intensity_scale(model, pixel_scale_ratio))
    return driz.finish()


def window(box, shape, margin):
    """Slices of the input around the drizzle range (xmin, xmax, ymin, ymax) widened by
    ``margin`` pixels, and the window's origin (x, y)."""
    xmin, xmax, ymin, ymax = box
    x0, y0 = max(0, xmin - margin), max(0, ymin - margin)
    x1, y1 = min(shape[1], xmax + margin + 1), min(shape[0], ymax + margin + 1)
    return (slice(y0, y1), slice(x0, x1)), (x0, y0)


def usable_arrays(model, window):
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


def intensity_scale(model, pixel_scale_ratio):
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


def output_model(model, result, wcs_out, dispaxis):
    """The resampled SlitModel: input meta, the drizzled arrays, ``wcs_out``, its
    wavelength at every pixel (it depends on the dispersion pixel only), and the slit
    attributes jwst carries over."""
    from stdatamodels.jwst import datamodels

    out = new_model(datamodels.SlitModel)
    out.update(model)
    out.meta.wcs = wcs_out
    out.data = result["data"]
    out.wht = result["wht"]
    out.con = result["con"]
    out.err = result["err"]
    for name in ("var_rnoise", "var_flat", "var_poisson"):
        setattr(out, name, result[name])
    ny, nx = np.shape(result["data"])
    # wavelength depends on the dispersion pixel only: evaluate one line, broadcast. The
    # line lies inside the output's bounding box, so the forward transform alone gives
    # what wcs_out(x, y) does; compiled, without astropy's per-node overhead.
    forward = compile_model(wcs_out.forward_transform)
    if dispaxis == 2:
        lam = forward(np.zeros(ny), np.arange(ny, dtype=float))[2]
        out.wavelength = np.broadcast_to(lam[:, None], (ny, nx)).astype(np.float32)
    else:
        lam = forward(np.arange(nx, dtype=float), np.zeros(nx))[2]
        out.wavelength = np.broadcast_to(lam[None, :], (ny, nx)).astype(np.float32)
    for attr in SLIT_ATTRIBUTES:
        value = getattr(model, attr, None)
        if value is not None:
            setattr(out, attr, value)
    return out


def put(node, name, value):
    """node.name = value; None removes the keyword (as a validated assignment of None
    leaves it unset)."""
    if value is not None:
        setattr(node, name, value)
    elif name in node.instance:
        delattr(node, name)


def set_metadata(out, model, pixfrac, kernel, weight_type, pixel_scale_ratio):
    meta = out.meta
    area = model.meta.photometry.pixelarea_steradians
    if area is None:
        put(meta.photometry, "pixelarea_steradians", None)
        put(meta.photometry, "pixelarea_arcsecsq", None)
    else:
        meta.photometry.pixelarea_steradians = area / pixel_scale_ratio
        meta.photometry.pixelarea_arcsecsq = area / pixel_scale_ratio * np.rad2deg(3600) ** 2
    r = meta.resample
    r.pointings, r.pixel_scale_ratio, r.pixfrac = 1, pixel_scale_ratio, pixfrac
    r.kernel, r.fillval = kernel, "NAN"
    put(r, "weight_type", weight_type)
    # exposure times: totals over the (one) input
    exp = model.meta.exposure
    exposure_time = exp.exposure_time if exp.exposure_time is not None else 0.0
    duration = exp.duration if exp.duration is not None else 0.0
    for name, value in (("exposure_time", exposure_time), ("effective_exposure_time", exposure_time),
                        ("start_time", exp.start_time), ("end_time", exp.end_time), ("duration", duration),
                        ("elapsed_exposure_time", duration), ("measurement_time", exp.measurement_time)):
        put(meta.exposure, name, value)
    background = _node(meta, "background")
    if background is not None:
        put(background, "level", None)
        put(background, "subtracted", None)
    meta.cal_step.resample = "COMPLETE"
