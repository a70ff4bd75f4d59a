"""bkg_subtract from association members: nods or dedicated background exposures."""

from __future__ import annotations

import numpy as np

from spec2.algorithms.background import combine_backgrounds, sigma_clipped_mean


def _frame_arrays(background, science, sigma, maxiters):
    """A background exposure's (sci, err, dq) on the science frame: cut to the science
    subarray, and averaged over integrations (sigma-clipped) if it has several."""
    sci, err, dq = background.data, background.err, background.dq
    if sci.ndim == 3:
        sci, _ = sigma_clipped_mean(sci, sigma=sigma, maxiters=maxiters)
        var, _ = sigma_clipped_mean(err.astype(np.float64) ** 2, sigma=sigma, maxiters=maxiters)
        err = np.sqrt(var).astype(np.float32)
        dq = np.bitwise_or.reduce(dq, axis=0)
    shape = science.data.shape[-2:]
    if sci.shape != shape:
        s, b = science.meta.subarray, background.meta.subarray
        x0, y0 = (s.xstart or 1) - (b.xstart or 1), (s.ystart or 1) - (b.ystart or 1)
        if x0 < 0 or y0 < 0 or y0 + shape[0] > sci.shape[0] or x0 + shape[1] > sci.shape[1]:
            from spec2.errors import InputError

            raise InputError(
                f"background {background.meta.filename} does not cover the science subarray"
            )
        cut = np.s_[y0 : y0 + shape[0], x0 : x0 + shape[1]]
        sci, err, dq = sci[cut], err[cut], dq[cut]
    return sci, err, dq


def subtract_background(model, backgrounds, sigma=3.0, maxiters=None):
    """Subtract the sigma-clipped mean of the background exposures in place.

    SCI -= B and DQ |= OR of the backgrounds' DQ; ERR and the variances are left as they
    are (the background's noise is not propagated, as in jwst). Where no background
    value survives (bad in every member) nothing is subtracted; the member's DO_NOT_USE
    flag, OR-ed in, marks the pixel, and the next step's NaN/flag rule blanks it.
    """
    frames = [_frame_arrays(b, model, sigma, maxiters) for b in backgrounds]
    bkg, _err, bdq = combine_backgrounds(*zip(*frames), sigma=sigma, maxiters=maxiters)
    model.data = (model.data - np.nan_to_num(bkg, nan=0.0)).astype(np.float32)
    model.dq = model.dq | bdq
    return model
