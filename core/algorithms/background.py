"""Combining background exposures (nods, dedicated backgrounds) into one frame."""

from __future__ import annotations

import numpy as np


def sigma_clipped_mean(stack, sigma=3.0, maxiters=None, axis=0):
    """Mean along ``axis`` after iterative sigma clipping about the median
    (NaN-aware). Returns (mean, number of values kept)."""
    from astropy.stats import sigma_clip

    # NaNs are masked up front: same result as letting sigma_clip drop them, without its
    # warning (and without a process-wide warnings filter, unsafe next to the writer thread)
    clipped = sigma_clip(np.ma.masked_invalid(stack), sigma=sigma, maxiters=maxiters, axis=axis, masked=True)
    mean = np.ma.mean(clipped, axis=axis)
    kept = np.ma.count(clipped, axis=axis)
    return np.ma.filled(mean.astype(np.float32), np.nan), kept


def combine_backgrounds(images, errors, dqs, sigma=3.0, maxiters=None):
    """Average N background frames pixel by pixel with sigma clipping across frames.

    images/errors/dqs -- sequences of equally shaped 2-D arrays (3-D frames are first
    averaged over integrations by the caller). Returns (background, error, dq):
    error = sqrt(sum err^2) / N_kept, dq = OR of the inputs.
    """
    # averaged in double precision, as jwst does, then stored as float32
    stack = np.stack([np.asarray(i, np.float64) for i in images])
    dq = np.bitwise_or.reduce(np.stack([np.asarray(d, np.uint32) for d in dqs]), axis=0)
    if len(images) == 1:
        return stack[0].astype(np.float32), np.asarray(errors[0], np.float32).copy(), dq
    mean, kept = sigma_clipped_mean(stack, sigma=sigma, maxiters=maxiters)
    err_stack = np.stack([np.asarray(e, np.float32) for e in errors])
    with np.errstate(invalid="ignore", divide="ignore"):
        err = np.sqrt(np.nansum(err_stack**2, axis=0)) / kept
    return mean, err.astype(np.float32), dq
