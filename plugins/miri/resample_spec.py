"""MIRI LRS fixed-slit resample_spec: the _cal drizzled onto a rectified grid (_s2d)."""

from __future__ import annotations

import numpy as np

from spec2.algorithms import dq as dqflags

# slit attributes carried from the input to the resampled product
SLIT_ATTRIBUTES = (
    "name", "xstart", "xsize", "ystart", "ysize", "slitlet_id", "source_id", "source_name",
    "source_alias", "stellarity", "source_type", "source_xpos", "source_ypos", "source_ra",
    "source_dec", "shutter_state", "dispersion_direction",
)


def resample_lrs(model, pixfrac=1.0, kernel="square", weight_type="ivm", pixel_scale_ratio=1.0):
    """Return a new SlitModel: ``model`` (an LRS fixed-slit SlitModel with its WCS)
    drizzled onto a rectified grid, spatial along x and wavelength along y (decreasing,
    as on the detector), with WHT, CON, the variances and ERR, the output WCS and the
    per-pixel wavelength. The input is not modified."""
    from stdatamodels.jwst import datamodels

    from spec2.algorithms.resample import drizzle_inputs, pixel_map
    from spec2.wcs.rectified import rectified_slit_wcs

    data = np.array(model.data, dtype=np.float32)
    dq = np.array(model.dq)
    variances = {n: np.array(getattr(model, n), dtype=np.float32) for n in ("var_rnoise", "var_poisson", "var_flat")
                 if getattr(model, n) is not None and getattr(model, n).shape == data.shape}
    dqflags.match_nans_and_flags(data, dq, tuple(variances.values()))

    wcs_in = model.meta.wcs
    wcs_out, shape = rectified_slit_wcs(
        [wcs_in], model.meta.wcsinfo.dispersion_direction,
        flip_wavelength=model.meta.exposure.type == "MIR_LRS-FIXEDSLIT",
        pixel_scale_ratio=pixel_scale_ratio,
    )
    bbox = wcs_in.bounding_box
    bbox = bbox.bounding_box(order="F") if hasattr(bbox, "bounding_box") else bbox
    item = {"data": data, "dq": dq, "pixmap": pixel_map(wcs_in, wcs_out, data.shape), "bbox": bbox,
            "exptime": model.meta.exposure.exposure_time or 1.0, "iscale": 1.0, **variances}
    result = drizzle_inputs([item], shape, pixfrac=pixfrac, kernel=kernel, weight_type=weight_type,
                            pixel_scale_ratio=pixel_scale_ratio)

    out = datamodels.SlitModel(data=result["data"].astype(np.float32))
    out.update(model)
    out.wht = result["wht"].astype(np.float32)
    out.con = result["con"]
    for name in ("var_rnoise", "var_poisson", "var_flat", "err"):
        if name in result:
            setattr(out, name, result[name])
    for attr in SLIT_ATTRIBUTES:
        value = getattr(model, attr, None)
        if value is not None:
            setattr(out, attr, value)
    out.meta.wcs = wcs_out
    y, x = np.indices(shape, dtype=float)
    out.wavelength = np.asarray(wcs_out(x, y)[2], dtype=np.float32)

    area = model.meta.photometry.pixelarea_steradians
    if area is not None:
        out.meta.photometry.pixelarea_steradians = area / pixel_scale_ratio
        out.meta.photometry.pixelarea_arcsecsq = area / pixel_scale_ratio * np.rad2deg(3600) ** 2
    r = out.meta.resample
    r.pointings, r.pixel_scale_ratio, r.pixfrac = 1, pixel_scale_ratio, pixfrac
    r.kernel, r.fillval, r.weight_type = kernel, "NAN", weight_type
    out.meta.wcsinfo.s_region = model.meta.wcsinfo.s_region
    return out
