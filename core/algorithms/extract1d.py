"""Box extraction of spectra from 2-D images and stacks of integrations.

Conventions: arrays are (..., ny, nx) with any number of leading integration axes.
``dispaxis`` is 1 when wavelength runs along x (columns) and 2 when it runs along y
(rows); the cross-dispersion index is then y or x. Weights come from the aperture
limits with partial pixels at the edges: a pixel whose index lies inside
[lower, upper] counts fully; the pixel just outside the lower limit counts
``idx - lower + 1`` and the one just outside the upper limit ``upper - idx + 1`` (when
between 0 and 1), so a limit pair (l, u) spans u - l + 1 pixels.
"""

from __future__ import annotations

import numpy as np

HORIZONTAL = 1
VERTICAL = 2


def aperture_weights(index, lower, upper):
    """Weights for pixels at cross-dispersion ``index`` (broadcastable against the
    limits) inside [lower, upper] inclusive, with partial edge pixels."""
    index = np.asarray(index, float)
    full = ((index >= lower) & (index <= upper)).astype(float)
    low_part = index - lower + 1.0
    high_part = upper - index + 1.0
    w = full
    for part in (low_part, high_part):
        part = np.broadcast_to(part, w.shape)
        take = (part > 0) & (part < 1) & (w < part)
        w = np.where(take, part, w)
    return w


def box_profile(shape, dispaxis, lower, upper, disp_start=None, disp_stop=None):
    """2-D weights (ny, nx) for a box from ``lower`` to ``upper`` across the dispersion
    (scalars, or one value per dispersion element for an aperture following a trace),
    zeroed outside [disp_start, disp_stop] along the dispersion."""
    ny, nx = shape
    if dispaxis == HORIZONTAL:
        cross = np.arange(ny, dtype=float)[:, None]
        lo = np.asarray(lower, float)[None, ...] if np.ndim(lower) else lower
        hi = np.asarray(upper, float)[None, ...] if np.ndim(upper) else upper
        w = aperture_weights(cross, lo, hi) * np.ones((1, nx))
        along = np.arange(nx)
    else:
        cross = np.arange(nx, dtype=float)[None, :]
        lo = np.asarray(lower, float)[:, None] if np.ndim(lower) else lower
        hi = np.asarray(upper, float)[:, None] if np.ndim(upper) else upper
        w = aperture_weights(cross, lo, hi) * np.ones((ny, 1))
        along = np.arange(ny)
    keep = np.ones(along.size, bool)
    if disp_start is not None:
        keep &= along >= int(np.ceil(disp_start))
    if disp_stop is not None:
        keep &= along <= int(np.floor(disp_stop))
    if dispaxis == HORIZONTAL:
        w[:, ~keep] = 0.0
    else:
        w[~keep, :] = 0.0
    w[~np.isfinite(w)] = 0.0
    return w


def weighted_wavelength(wavelength, profile, dispaxis):
    """Profile-weighted mean wavelength per dispersion element (NaN where no weight)."""
    axis = 0 if dispaxis == HORIZONTAL else 1
    ok = np.isfinite(wavelength) & (profile > 0)
    w = np.where(ok, profile, 0.0)
    total = w.sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(ok, wavelength, 0.0).__mul__(w).sum(axis=axis) / total
    return np.where(total > 0, mean, np.nan)


def profile_centre(profile):
    """Weighted centroid (y, x) of a 2-D profile (the whole array when it is empty)."""
    w = profile if profile.sum() > 0 else np.ones_like(profile)
    y, x = np.indices(profile.shape)
    return float(np.average(y, weights=w)), float(np.average(x, weights=w))


def box_sum(data, variances, profile, dispaxis):
    """Sum the aperture for every integration at once.

    data      -- (..., ny, nx) surface brightness or rate; NaN pixels are left out of the
                 aperture of their own integration
    variances -- sequence of arrays shaped like data (or None for zeros)
    profile   -- (ny, nx) weights
    Returns (flux, [variance sums], npixels), each (..., n_dispersion): flux = sum(w D),
    var_k = sum(w^2 var_k), npixels = sum(w); flux is NaN where npixels is 0.
    """
    axis = -2 if dispaxis == HORIZONTAL else -1
    finite = np.isfinite(data)
    w = np.where(finite, profile, 0.0)
    clean = np.where(finite & (w != 0), data, 0.0)
    flux = (clean * w).sum(axis=axis)
    npix = w.sum(axis=axis)
    w2 = w * w
    var_sums = []
    for var in variances:
        if var is None or np.shape(var) != np.shape(data):
            var_sums.append(np.zeros_like(flux))
        else:
            var_sums.append(np.nansum(var * w2, axis=axis))
    flux = np.where(np.isclose(npix, 0), np.nan, flux)
    return flux, var_sums, npix


def fit_background(data, variances, bkg_profile, dispaxis, order=0, method="poly"):
    """Background per dispersion element from the pixels of ``bkg_profile``.

    method "poly": weighted least-squares polynomial of ``order`` in the cross-dispersion
    index (order 0: the weighted mean); "median": the median of the background pixels.
    Returns (background image shaped like data, [variance of the background level per
    dispersion element, one per input variance]). The level's variance is that of the
    weighted mean of the background pixels, sum(w^2 var)/sum(w)^2 (x 1.2^2 for the
    median's lower efficiency), for every order.
    """
    work = data if dispaxis == HORIZONTAL else np.swapaxes(data, -1, -2)  # (..., cross, disp)
    prof = bkg_profile if dispaxis == HORIZONTAL else bkg_profile.T
    cross = np.arange(prof.shape[0], dtype=float)
    finite = np.isfinite(work)
    w = np.where(finite, prof, 0.0)
    vals = np.where(finite & (w > 0), work, 0.0)
    wsum = w.sum(axis=-2)
    if method == "median":
        level = np.nanmedian(np.where(w > 0, work, np.nan), axis=-2)
        bkg = np.broadcast_to(level[..., None, :], work.shape)
        inflate = 1.2**2
    else:
        powers = np.vander(cross, order + 1, increasing=True)  # (ncross, order+1)
        ata = np.einsum("...cd,ci,cj->...dij", w, powers, powers)
        atb = np.einsum("...cd,ci,...cd->...di", w, powers, vals)
        singular = np.abs(np.linalg.det(ata)) < 1e-30
        ata = np.where(singular[..., None, None], np.eye(order + 1), ata)
        coef = np.linalg.solve(ata, atb[..., None])[..., 0]  # (..., disp, order+1)
        coef = np.where(singular[..., None], np.nan, coef)
        bkg = np.einsum("...di,ci->...cd", coef, powers)
        inflate = 1.0
    level_vars = []
    for var in variances:
        if var is None or np.shape(var) != np.shape(data):
            level_vars.append(np.zeros(wsum.shape))
            continue
        v = var if dispaxis == HORIZONTAL else np.swapaxes(var, -1, -2)
        num = np.nansum(np.where(w > 0, v, 0.0) * w * w, axis=-2)
        with np.errstate(invalid="ignore", divide="ignore"):
            level_vars.append(np.where(wsum > 0, inflate * num / wsum**2, 0.0))
    bkg = bkg if dispaxis == HORIZONTAL else np.swapaxes(bkg, -1, -2)
    return np.ascontiguousarray(bkg), level_vars
