"""WFSS background: the reference background (WfssBkgModel) scaled to the exposure's
source-free pixels and subtracted, as jwst 3.0.0's bkg_subtract for WFSS.

The scale is an error-weighted least-squares fit of the reference to the data outside the
sources' dispersed boxes, refitted after clipping a percentile from both tails of the
residuals a few times. The arithmetic follows jwst's step for step (float32 terms, float64
sums with NaNs as zeros, nanpercentile limits), so the factor agrees to the last bit.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np

from spec2.algorithms.dq import DO_NOT_USE
from spec2.algorithms.subarray import window
from spec2.errors import InputError, ReferenceFileError, StepFailed

log = logging.getLogger("spec2")


def source_mask(shape, boxes) -> np.ndarray:
    """Boolean image of ``shape``, True on background: False inside every box.

    boxes -- objects with int ``xmin, xmax, ymin, ymax`` (0-based inclusive bounds, as
             :class:`spec2.steps.grism_objects.GrismBox`), clipped here to the image; a
             box wholly off it masks nothing. Over the last two axes of ``shape``.
    """
    mask = np.ones(shape, dtype=bool)
    ny, nx = shape[-2:]
    for b in boxes:
        x0, x1 = max(b.xmin, 0), min(b.xmax + 1, nx)
        y0, y1 = max(b.ymin, 0), min(b.ymax + 1, ny)
        if x0 < x1 and y0 < y1:
            mask[..., y0:y1, x0:x1] = False
    return mask


def enough_background(dq, mask, bkg, min_fraction=0.05) -> bool:
    """Whether more than ``int(min_fraction * dq.size)`` pixels are usable background:
    in ``mask`` (True = background), not flagged DO_NOT_USE in ``dq`` and with a non-zero
    reference ``bkg`` (jwst's rule; a NaN reference counts as non-zero)."""
    usable = np.asarray(mask, bool) & (bkg != 0) & ((dq & DO_NOT_USE) == 0)
    return int(np.count_nonzero(usable)) > int(min_fraction * dq.size)


def scaling_factor(sci, bkg, var, mask, *, outlier_percent=1.0, maxiter=5, rms_stop=0.0,
                   dispersion_axis=None):
    """The factor f minimising sum((sci - f*bkg)^2 / var) over background pixels, with
    iterative clipping of the residual tails. Inputs are not modified.

    mask            -- True where a pixel may be used (background); pixels with var == 0
                       are left out too, and a NaN term leaves out only itself (a NaN sci
                       keeps its pixel's bkg^2/var in the denominator, as jwst)
    outlier_percent -- each iteration rejects residuals below this percentile and above
                       100 minus it, among the pixels still used
    maxiter         -- number of rejection rounds; the factor is refitted after the last
    rms_stop        -- percent: stop early when the RMS of the residual profile along the
                       dispersion (median across it) improves by less than this; needs
                       ``dispersion_axis`` (1 rows, 2 columns) when > 0
    Returns (factor, rejected): the float64 factor (NaN when nothing is left) and a bool
    array, True outside ``mask`` or clipped (var == 0 pixels not marked, as jwst).
    """
    threshold = rms_stop / 100
    if threshold > 0 and dispersion_axis not in (1, 2):
        raise ValueError(f"rms_stop needs a dispersion axis of 1 or 2, not {dispersion_axis}")
    rejected = ~np.asarray(mask, bool)
    used = ~rejected & (var != 0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        num = sci * bkg / var
        den = bkg * bkg / var
    # each pixel's terms of the two sums in the data's dtype, zero where unused or NaN,
    # summed in float64 over the whole image: numpy's nansum, same pairwise order and bits
    num[~used | np.isnan(num)] = 0
    den[~used | np.isnan(den)] = 0
    idx = np.flatnonzero(used)  # the pixels still used, and their data
    s, b = np.ravel(sci)[idx], np.ravel(bkg)[idx]
    last_rms = np.inf
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # all-NaN profiles: NaN medians are skipped, as jwst
        warnings.filterwarnings("ignore", category=RuntimeWarning)
        for i in range(maxiter):
            factor = np.sum(num, dtype="f8") / np.sum(den, dtype="f8")
            values = s - factor * b
            if threshold > 0:
                residual = np.full(rejected.shape, np.nan, dtype=values.dtype)
                residual.flat[idx] = values
                profile = np.nanmedian(residual, axis=dispersion_axis - 1)
                rms = np.sqrt(np.nanmean(profile**2, dtype="f8"))
                if (last_rms - rms) / last_rms < threshold:
                    log.info("WFSS background: clipping stopped at iteration %d (RMS improved < %g %%)",
                             i, rms_stop)
                    break
                last_rms = rms
            if not values.size:
                break  # nothing left to clip (jwst goes on with NaN limits, to the same end)
            lo, hi = np.nanpercentile(values, (outlier_percent, 100 - outlier_percent))
            clipped = (values < lo) | (values > hi)
            out = idx[clipped]
            rejected.flat[out] = True
            num.flat[out] = 0
            den.flat[out] = 0
            keep = ~clipped
            idx, s, b = idx[keep], s[keep], b[keep]
        factor = np.sum(num, dtype="f8") / np.sum(den, dtype="f8")
    return factor, rejected


def reference_for_frame(model, bkg_ref):
    """The reference's (data, dq) on the exposure's pixels: as is when the shapes agree,
    else cut at the exposure's SUBSTRT/SUBSIZE from a reference that covers it."""
    shape = model.data.shape[-2:]
    data, dq = bkg_ref.data, bkg_ref.dq
    if data.shape == shape:
        return data, dq
    sub = model.meta.subarray
    rx = (bkg_ref.meta.subarray.xstart or 1) if bkg_ref.meta.hasattr("subarray") else 1
    ry = (bkg_ref.meta.subarray.ystart or 1) if bkg_ref.meta.hasattr("subarray") else 1
    cut = window((sub.xstart or 1, sub.ystart or 1), shape, (rx, ry), data.shape)
    if cut is None:
        raise ReferenceFileError(f"bkg reference ({data.shape[1]}x{data.shape[0]}) does not cover subarray "
                                 f"{sub.name} at ({sub.xstart}, {sub.ystart})")
    return data[cut], dq[cut]


def read_user_mask(path, shape) -> np.ndarray:
    """jwst's ``wfss_mask``: the MASK array of an image datamodel file, True (non-zero) on
    background, of the exposure's ``shape``."""
    from stdatamodels.jwst import datamodels

    try:
        with datamodels.ImageModel(path) as m:
            mask = None if not m.hasattr("mask") else np.asarray(m.mask).astype(bool)
    except (OSError, ValueError, TypeError) as exc:
        raise InputError(f"wfss_mask {path}: cannot be read as an image datamodel ({exc})") from None
    if mask is None:
        raise InputError(f"wfss_mask {path}: has no MASK array")
    if mask.shape != tuple(shape):
        raise InputError(f"wfss_mask {path}: shape {mask.shape} is not the exposure's {tuple(shape)}")
    return mask


def subtract_reference_background(model, bkg_ref, mask, *, outlier_percent=1.0, maxiter=5, rms_stop=0.0,
                                  user_mask=False):
    """Scale the reference background to ``model`` and subtract it, in place; return it.

    model     -- a WFSS ImageModel after assign_wcs (dispersion_direction set)
    bkg_ref   -- an open WfssBkgModel, full frame or the exposure's subarray
    mask      -- bool image, True on background (source boxes False), or None when there
                 is no source catalog: every pixel is background and no count is checked
    user_mask -- ``mask`` is the user's (wfss_mask): any usable pixel suffices
    rms_stop  -- percent (jwst's wfss_rms_stop); outlier_percent, maxiter as jwst's

    Sets MASK (uint32) and meta.background.scaling_factor, subtracts factor * reference
    from SCI and ORs the reference DQ in; ERR is left as is (jwst's choice). Raises
    StepFailed, with scaling_factor 0 and the data unchanged, when there are too few
    background pixels or the factor is not finite.
    """
    bkg, bkg_dq = reference_for_frame(model, bkg_ref)
    if mask is None:
        mask = np.ones(model.data.shape, dtype=bool)
    else:
        mask = np.asarray(mask, bool)
        enough = (enough_background(model.dq, mask, np.ones(mask.shape), min_fraction=0.0) if user_mask
                  else enough_background(model.dq, mask, bkg))
        if not enough:
            model.mask = mask.astype(np.uint32)
            model.meta.background.scaling_factor = 0.0
            raise StepFailed("not enough background pixels outside the sources")
    model.mask = mask.astype(np.uint32)
    factor, _ = scaling_factor(model.data, bkg, model.err**2, mask, outlier_percent=outlier_percent,
                               maxiter=maxiter, rms_stop=rms_stop,
                               dispersion_axis=model.meta.wcsinfo.dispersion_direction)
    if not np.isfinite(factor):
        model.meta.background.scaling_factor = 0.0
        raise StepFailed("no finite scaling factor between the reference background and the data")
    # float64 difference rounded once to the data's float32, as a datamodel assignment does
    model.data = (model.data - factor * bkg).astype(model.data.dtype)
    model.dq = model.dq | bkg_dq
    model.meta.background.scaling_factor = float(factor)
    log.info("WFSS background: scaling factor %.5e", factor)
    return model


def run_wfss_background(model, bkg_ref, params, boxes_mask):
    """bkg_subtract for a WFSS exposure with the step's parameters (jwst's names):
    ``wfss_mask`` (a file) replaces the source mask, else ``boxes_mask(mmag_extract)``
    (the mask of the catalog's traces, mmag_extract None for every source)."""
    mmag = params.get("wfss_mmag_extract", 999.0)
    user_path = params.get("wfss_mask") or ""
    if user_path:
        mask, user = read_user_mask(user_path, model.data.shape), True
    else:
        mask, user = boxes_mask(None if mmag is None or mmag >= 999 else float(mmag)), False
    return subtract_reference_background(
        model, bkg_ref, mask, outlier_percent=params.get("wfss_outlier_percent", 1.0),
        maxiter=params.get("wfss_maxiter", 5), rms_stop=params.get("wfss_rms_stop", 0.0), user_mask=user)
