"""Drizzling slit spectra onto a rectified (spatial x wavelength) grid.

The flux-conserving kernel is the ``drizzle`` package's (the C implementation jwst and
stcal use), so our _s2d agrees with jwst's pixel by pixel. What we do differently is
bookkeeping: the pixel map is evaluated only inside the input's bounding box (outside
it the input WCS is undefined anyway), and everything for one input is done in one pass.

Weighting and variances follow the drizzle conventions of the JWST pipeline:

* weight per input pixel: 1/VAR_RNOISE ("ivm") or the exposure time ("exptime"),
  0 for pixels flagged DO_NOT_USE or NON_SCIENCE;
* each variance array is drizzled as its square root and squared; inputs are combined
  as sum(var_i w_i^2) / (sum w_i)^2 with w_i = 1/(resampled VAR_RNOISE of input i),
  times the pixel-scale ratio (spectra);
* ERR = sqrt(VAR_POISSON + VAR_RNOISE + VAR_FLAT), NaN where all three are NaN.
"""

from __future__ import annotations

import math

import numpy as np

from spec2.algorithms import dq as dqflags

VARIANCES = ("var_rnoise", "var_poisson", "var_flat")


def drizzle_weight(var_rnoise, dq, weight_type="ivm", exptime=1.0, bad_bits=dqflags.DO_NOT_USE | dqflags.NON_SCIENCE):
    """Per-pixel drizzle weight (float32); 0 where flagged."""
    good = (np.asarray(dq) & bad_bits) == 0 if dq is not None else np.ones(np.shape(var_rnoise), bool)
    if weight_type == "ivm":
        if var_rnoise is None:
            w = np.ones(good.shape)
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                w = 1.0 / np.asarray(var_rnoise)
            w[~np.isfinite(w)] = 0.0
    elif weight_type == "exptime":
        w = np.full(good.shape, float(np.float32(exptime)))
    else:
        raise ValueError(f"weight_type must be 'ivm' or 'exptime', not {weight_type!r}")
    return (w * good).astype(np.float32)


def drizzle_range(shape, bbox):
    """Inclusive (xmin, xmax, ymin, ymax) of input pixels inside the bounding box."""
    if bbox is None:
        return 0, shape[1] - 1, 0, shape[0] - 1
    (x1, x2), (y1, y2) = bbox
    xmin, ymin = max(0, int(x1 + 0.5)), max(0, int(y1 + 0.5))
    xmax = max(xmin, min(shape[1] - 1, int(x2 + 0.5)))
    ymax = max(ymin, min(shape[0] - 1, int(y2 + 0.5)))
    return xmin, xmax, ymin, ymax


def pixel_map(wcs_in, wcs_out, shape):
    """(ny, nx, 2) output pixel coordinates of every input pixel centre; NaN outside
    the input's bounding box. Only the box is evaluated."""
    pixmap = np.full((*shape, 2), np.nan)
    bbox = wcs_in.bounding_box
    if bbox is None:
        x0, x1, y0, y1 = 0, shape[1] - 1, 0, shape[0] - 1
    else:
        (bx0, bx1), (by0, by1) = (tuple(b) for b in bbox.bounding_box(order="F")) if hasattr(bbox, "bounding_box") else tuple(bbox)
        x0, x1 = max(0, math.ceil(bx0)), min(shape[1] - 1, math.floor(bx1))
        y0, y1 = max(0, math.ceil(by0)), min(shape[0] - 1, math.floor(by1))
    y, x = np.mgrid[y0 : y1 + 1, x0 : x1 + 1].astype(np.float64)
    world = wcs_in.forward_transform(x, y)
    out_x, out_y = wcs_out.backward_transform(*world)
    pixmap[y0 : y1 + 1, x0 : x1 + 1, 0] = out_x
    pixmap[y0 : y1 + 1, x0 : x1 + 1, 1] = out_y
    return pixmap


def drizzle_inputs(inputs, out_shape, pixfrac=1.0, kernel="square", weight_type="ivm", pixel_scale_ratio=1.0, fillval="NAN"):
    """Drizzle inputs onto one output grid.

    inputs -- sequence of dicts with data, dq, var_rnoise, var_poisson, var_flat (2-D,
              any may be None except data), pixmap, bbox (drizzle range source),
              exptime, iscale
    Returns dict with data, wht, con, err and the three variances (float32 arrays).
    """
    from drizzle.resample import Drizzle

    n = len(inputs)
    driz = Drizzle(kernel=kernel, fillval=fillval, out_shape=out_shape, begin_ctx_id=0, max_ctx_id=n - 1, disable_ctx=False)
    sums = {v: np.zeros(out_shape) for v in VARIANCES}
    wts = {v: np.zeros(out_shape) for v in VARIANCES}
    seen = set()
    for item in inputs:
        data = item["data"]
        weight = drizzle_weight(item.get("var_rnoise"), item.get("dq"), weight_type, item.get("exptime", 1.0))
        xmin, xmax, ymin, ymax = drizzle_range(data.shape, item.get("bbox"))
        common = dict(
            exptime=item.get("exptime", 1.0), pixmap=item["pixmap"], pixel_scale_ratio=pixel_scale_ratio,
            iscale=item.get("iscale", 1.0), weight_map=weight, wht_scale=1.0, pixfrac=pixfrac,
            in_units="cps", xmin=xmin, xmax=xmax, ymin=ymin, ymax=ymax,
        )
        driz.add_image(data, **common)
        resampled = {}
        for name in VARIANCES:
            var = item.get(name)
            if var is None or np.shape(var) != data.shape:
                continue
            one = Drizzle(kernel=kernel, fillval=np.nan, out_shape=out_shape, disable_ctx=True)
            one.add_image(np.sqrt(var), **common)
            resampled[name] = one.out_img**2
            seen.add(name)
        rn = resampled.get("var_rnoise")
        if weight_type == "ivm" and rn is not None:
            w = np.zeros(out_shape)
            ok = (rn > 0) & np.isfinite(rn)
            w[ok] = 1.0 / rn[ok]
        else:
            w = np.full(out_shape, float(item.get("exptime", 1.0)))
        for name, var in resampled.items():
            ok = (var >= 0) & np.isfinite(var) & (w > 0)
            sums[name][ok] += var[ok] * w[ok] ** 2
            wts[name][ok] += w[ok]
    out = {"data": driz.out_img, "wht": driz.out_wht, "con": driz.out_ctx}
    with np.errstate(invalid="ignore", divide="ignore"):
        for name in VARIANCES:
            if name in seen:
                out[name] = (sums[name] * pixel_scale_ratio / wts[name] / wts[name]).astype(np.float32)
    present = [out[v] for v in VARIANCES if v in out]
    if present:
        stack = np.array(present)
        err = np.sqrt(np.nansum(stack, axis=0))
        err[np.all(np.isnan(stack), axis=0)] = np.nan
        out["err"] = err.astype(np.float32)
    return out
