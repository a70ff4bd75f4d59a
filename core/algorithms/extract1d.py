"""Box extraction of 1-D spectra from 2-D spectral images and from stacks of integrations.

Instrument-agnostic numerical kernels of the extract_1d step (model I/O, reference-file
parsing and the mode's source location live in the instrument plugins).

Conventions shared by every function here:

* Images are ``(..., ny, nx)`` arrays; any leading axes (integrations) are extracted
  independently but in the same array operations, never in a Python loop.
* ``dispaxis`` is 1 when wavelength runs along x (the dispersion element is the column)
  and 2 when it runs along y (the element is the row). The other axis is the
  cross-dispersion axis.
* Aperture limits are *inclusive pixel indices* on the cross-dispersion axis: a pixel
  ``i`` with ``lower <= i <= upper`` has weight 1; the pixel just below ``lower`` gets
  ``i - lower + 1`` and the one just above ``upper`` gets ``upper - i + 1`` when that
  number lies strictly between 0 and 1. A pair (l, u) thus weighs u - l + 1 pixels
  (2.3..5.6 gives 0.7, 1, 1, 1, 0.6 on pixels 2..6). Several regions in one profile
  combine by taking the largest weight of each pixel.
* Polynomial limits (``src_coeff``/``bkg_coeff`` style) put 0 at a pixel *centre*; they
  are converted to the inclusive convention by ``lower + 0.5`` / ``upper - 0.5``.
* A pixel is "invalid" when its data, error or any variance is NaN or its DQ has the
  DO_NOT_USE bit; invalid pixels drop out of the sums of their own integration only.
"""

from __future__ import annotations

import numpy as np

from spec2.algorithms.blocks import integration_blocks
from spec2.algorithms.dq import DO_NOT_USE

HORIZONTAL = 1
VERTICAL = 2

FLUX_COLUMNS = ("FLUX", "FLUX_ERROR", "SURF_BRIGHT", "SB_ERROR")
"""Table columns an aperture correction multiplies by the factor."""
VARIANCE_COLUMNS = (
    "FLUX_VAR_POISSON", "FLUX_VAR_RNOISE", "FLUX_VAR_FLAT",
    "SB_VAR_POISSON", "SB_VAR_RNOISE", "SB_VAR_FLAT",
)
"""Table columns an aperture correction multiplies by the factor squared."""
VARIANCE_KINDS = ("POISSON", "RNOISE", "FLAT")


# -- orientation helpers ------------------------------------------------------------------


def _disp_cross(array, dispaxis):
    """View of ``array`` with its last two axes ordered (dispersion, cross-dispersion)."""
    return array if dispaxis == VERTICAL else np.swapaxes(array, -1, -2)


def _index_grids(shape, dispaxis):
    """(dispersion index, cross-dispersion index) images of ``shape`` (ny, nx)."""
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return (yy, xx) if dispaxis == VERTICAL else (xx, yy)


# -- aperture profiles -------------------------------------------------------------------


def edge_weights(index, lower, upper, allow_partial=True):
    """Weights of pixels at cross-dispersion ``index`` for the inclusive limits
    [lower, upper] (all three broadcast together), with fractional edge pixels when
    ``allow_partial``. NaN limits give zero weight."""
    index = np.asarray(index, dtype=float)
    inside = (index >= lower) & (index <= upper)
    weight = inside.astype(float)
    if allow_partial:
        for part in (index - lower + 1.0, upper - index + 1.0):
            part = np.broadcast_to(part, weight.shape)
            take = (part > 0.0) & (part < 1.0) & (weight < part)
            weight = np.where(take, part, weight)
    return weight


def limits_profile(shape, dispaxis, regions, allow_partial=True):
    """Aperture weights (ny, nx) of one or more cross-dispersion regions.

    ``regions`` is a sequence of (lower, upper) inclusive limits; each limit is a scalar,
    a 1-D array with one value per dispersion element (e.g. a trace +/- half width) or a
    full (ny, nx) image. Overlapping regions keep the largest weight of a pixel.
    """
    _, cross = _index_grids(shape, dispaxis)
    profile = np.zeros(shape, dtype=float)
    for lower, upper in regions:
        lower, upper = (_per_element(v, dispaxis) for v in (lower, upper))
        profile = np.maximum(profile, edge_weights(cross, lower, upper, allow_partial))
    return profile


def _per_element(value, dispaxis):
    """Broadcast a per-dispersion-element vector to the image; scalars and images pass."""
    value = np.asarray(value, dtype=float)
    if value.ndim != 1:
        return value
    return value[:, None] if dispaxis == VERTICAL else value[None, :]


def restrict_dispersion(profile, dispaxis, start, stop):
    """Zero ``profile`` (in place, and returned) outside dispersion elements
    ceil(start) .. floor(stop) inclusive."""
    view = _disp_cross(profile, dispaxis)
    view[: max(int(np.ceil(start)), 0)] = 0.0
    view[int(np.floor(stop)) + 1 :] = 0.0
    return profile


def polynomial_regions(coefficients, independent):
    """Inclusive (lower, upper) limit images from alternating lower/upper polynomial
    coefficient lists (constant term first) evaluated on ``independent`` (an image of
    the dispersion pixel index or of the wavelength); the centre-zero polynomial limits
    become ``lower + 0.5`` and ``upper - 0.5``. Raises ValueError for an odd count."""
    if len(coefficients) % 2:
        raise ValueError("polynomial limits need alternating lower and upper coefficient lists")
    regions = []
    for lo, hi in zip(coefficients[::2], coefficients[1::2]):
        regions.append((_horner(lo, independent) + 0.5, _horner(hi, independent) - 0.5))
    return regions


def _horner(coefficients, x):
    """Polynomial (constant term first) evaluated in float64 by Horner's rule."""
    x = np.asarray(x)
    coefficients = [float(c) for c in coefficients]
    if not coefficients:
        return np.zeros(x.shape)
    result = np.full(x.shape, coefficients[-1])
    for c in coefficients[-2::-1]:
        result = c + result * x
    return result


def cross_centre(profile, dispaxis, element=None):
    """Weighted mean cross-dispersion index of ``profile`` over the whole image, or in
    the single dispersion ``element``; uniform weights when the weights sum to zero."""
    view = _disp_cross(np.clip(profile, 0.0, None), dispaxis)
    cross = np.arange(view.shape[-1], dtype=float)
    weights = view if element is None else view[element]
    if weights.sum() == 0:
        weights = np.ones_like(weights)
    idx = np.broadcast_to(cross, weights.shape)
    return float((idx * weights).sum() / weights.sum())


def profile_centroid(profile):
    """Weighted centroid (y, x) of a 2-D profile (uniform when it is empty)."""
    weights = np.clip(profile, 0.0, None)
    if weights.sum() == 0:
        weights = np.ones_like(weights)
    yy, xx = np.mgrid[: profile.shape[0], : profile.shape[1]]
    total = weights.sum()
    return float((yy * weights).sum() / total), float((xx * weights).sum() / total)


def profile_wavelength(wavelength, profile, dispaxis):
    """Profile-weighted mean wavelength of each dispersion element, NaN where no pixel
    with a finite wavelength has a positive weight."""
    wl = _disp_cross(wavelength, dispaxis)
    w = _disp_cross(profile, dispaxis)
    use = np.isfinite(wl) & (w > 0)
    weights = np.where(use, w, 0.0)
    total = weights.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (np.where(use, wl, 0.0) * weights).sum(axis=-1) / total
    return np.where(total > 0, mean, np.nan)


def dispersion_range(profile, dispaxis):
    """(first, last) dispersion element with any weight, or (None, None)."""
    used = np.nonzero(_disp_cross(profile, dispaxis).sum(axis=-1) > 0)[0]
    return (int(used[0]), int(used[-1])) if used.size else (None, None)


# -- background ----------------------------------------------------------------------------


def smooth_along_dispersion(image, length):
    """Running mean of odd ``length`` along the dispersion (second-to-last) axis of a
    (..., n_disp, n_cross) array. Edges repeat the end values; NaN pixels are left out
    of each window's mean (a window of only NaNs stays NaN). Each window is accumulated
    in order in float64 as sum(x/L) / sum(1/L) over its non-NaN pixels, and a floating
    input's dtype is kept (float32 data are rounded back), as astropy's convolve does
    with a normalised boxcar. ``length`` <= 1: the input unchanged."""
    if length is None or length <= 1:
        return image
    if length % 2 != 1:
        raise ValueError("the background smoothing length must be an odd integer")
    image = np.asarray(image)
    n_disp = image.shape[-2]
    half = length // 2
    pad = [(0, 0)] * image.ndim
    pad[-2] = (half, half)
    padded = np.pad(image.astype(float), pad, mode="edge")
    k = 1.0 / length
    top = np.zeros(image.shape)
    bot = np.zeros(image.shape)
    for j in range(length):  # the window offsets (a handful), not the data
        window = padded[..., j : j + n_disp, :]
        ok = ~np.isnan(window)
        top += np.where(ok, window * k, 0.0)
        bot += np.where(ok, k, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        smooth = np.where(bot != 0, top / bot, np.nan)
    return smooth.astype(image.dtype) if image.dtype.kind == "f" else smooth


def fit_background(image, variances, bkg_profile, src_profile, cross_coord, method="poly",
                   order=0, smoothing=0):
    """Background of every dispersion element of every integration, and its variance in
    the aperture sum. Arrays are in (..., n_disp, n_cross) orientation.

    image       -- (..., nd, nc) data, invalid pixels NaN
    variances   -- list of arrays shaped like ``image`` (NaN where invalid)
    bkg_profile -- (nd, nc) background-region weights; only ``!= 0`` matters
    src_profile -- (nd, nc) source aperture weights (for the variance of the background
                   summed over the aperture)
    cross_coord -- (nc,) independent variable of the polynomial (the full
                   cross-dispersion axis mapped to -1..1, cropped like the arrays)
    method      -- "poly": least squares of a polynomial of ``order`` in cross_coord over
                   the background pixels with finite data and variance; an element whose
                   normal matrix has condition number >= 1e10 (e.g. no pixel) gets 0.
                   "median": the median of the background pixels (NaN when none); its
                   variance is that of the mean of the valid background pixels x 1.2^2.
    smoothing   -- odd running-mean length along the dispersion applied to the image
                   before fitting (0 or 1: none)

    Returns (background image (..., nd, nc), [variance of the aperture-summed background,
    shaped (..., nd), one per input variance]).
    """
    data = smooth_along_dispersion(image, smoothing)
    var_total = sum(variances) if variances else np.zeros(image.shape)
    usable = np.isfinite(image) & np.isfinite(var_total)
    in_bkg = bkg_profile != 0
    if method == "median":
        level = _nanmedian_last(np.where(in_bkg, data, np.nan))
        background = np.broadcast_to(level[..., None], image.shape)
        npix_src = src_profile.sum(axis=-1)
        weights = (usable & in_bkg).astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            pixel_weight = weights / weights.sum(axis=-1, keepdims=True)
        scale = 1.2**2 * npix_src**2
        level_vars = [scale * np.nansum(v * pixel_weight**2, axis=-1) for v in variances]
        return background, level_vars
    if method != "poly" or order < 0 or order != int(order):
        raise ValueError("background fit must be 'median' or 'poly' with an integer order >= 0")
    order = int(order)
    powers = np.ones((cross_coord.size, order + 1))
    for k in range(1, order + 1):
        powers[:, k] = powers[:, k - 1] * cross_coord
    used = in_bkg & np.isfinite(data) & usable
    design = used[..., None] * powers  # (..., nd, nc, P)
    target = np.where(used, data, 0.0)
    normal = np.einsum("...cp,...cq->...pq", design, design)
    rhs = np.einsum("...cp,...c->...p", design, target)
    cov = np.zeros_like(normal)
    if order == 0:
        # a 1x1 normal matrix: condition number 1 unless it is 0, inverse 1/n (what the
        # general path computes, without an SVD per element)
        good = normal[..., 0, 0] != 0
        cov[good, 0, 0] = 1.0 / normal[good, 0, 0]
    else:
        with np.errstate(invalid="ignore", divide="ignore"):
            good = np.linalg.cond(normal) < 1e10
        if good.any():
            cov[good] = np.linalg.inv(normal[good])
    coefs = np.einsum("...jk,...j->...k", cov, rhs)
    background = np.einsum("...k,ck->...c", coefs, powers)
    # linear weight of each background pixel in the background summed over the aperture
    aperture_powers = np.broadcast_to(np.einsum("dc,ck->dk", src_profile, powers), coefs.shape)
    pixel_coef = np.einsum("...cj,...jk->...ck", design, cov)  # (..., nd, nc, P)
    pixel_weight = np.einsum("...ck,...k->...c", pixel_coef, aperture_powers)
    level_vars = [np.nansum(np.where(pixel_weight != 0, v, 0.0) * pixel_weight**2, axis=-1)
                  for v in variances]
    return background, level_vars


def _nanmedian_last(values):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(values, axis=-1)


# -- extraction ----------------------------------------------------------------------------

def box_extract(data, variances, profile, dispaxis, *, err=None, dq=None, bkg_profile=None,
                bkg_method="poly", bkg_order=0, smoothing=0):
    """Box-extract every integration of ``data`` through one aperture.

    data        -- (..., ny, nx) image(s); leading axes are integrations
    variances   -- [poisson, rnoise, flat] arrays shaped like data, or None for zeros
    profile     -- (ny, nx) aperture weights in [0, 1]
    err, dq     -- optional arrays shaped like data; NaN error or DO_NOT_USE marks a pixel
                   invalid (as do NaN data and NaN variances)
    bkg_profile -- (ny, nx) background-region weights, or None for no background;
                   then ``bkg_method``/``bkg_order``/``smoothing`` as in fit_background

    Returns a dict of arrays shaped (..., n_disp):
      flux       sum(w * (D - B)) over valid pixels (NaN where npixels is 0)
      npixels    sum(w) over valid pixels
      var        [sum(w^2 V_k) over valid pixels + background variance_k]
      background sum(w * B) over valid pixels (0 where not finite)
      bkg_var    [variance_k of the aperture-summed background] (zeros without background)
    Only the cross-dispersion lines holding aperture or background weight are read, and
    integrations are taken a block at a time (the arithmetic per element is unchanged).
    """
    data = np.asarray(data)

    def part(array, block):
        return array[block] if array is not None and np.shape(array) == data.shape else array

    blocks = [_box_extract(data[block], [part(v, block) for v in variances], profile, dispaxis,
                           err=part(err, block), dq=part(dq, block), bkg_profile=bkg_profile,
                           bkg_method=bkg_method, bkg_order=bkg_order, smoothing=smoothing)
              for block in integration_blocks(data.shape)]
    if len(blocks) == 1:
        return blocks[0]
    out = {}
    for key, value in blocks[0].items():
        if isinstance(value, list):
            out[key] = [np.concatenate([b[key][k] for b in blocks]) for k in range(len(value))]
        else:
            out[key] = np.concatenate([b[key] for b in blocks])
    return out


def _box_extract(data, variances, profile, dispaxis, *, err=None, dq=None, bkg_profile=None,
                 bkg_method="poly", bkg_order=0, smoothing=0):
    profile = np.asarray(profile, dtype=float)
    src = _disp_cross(profile, dispaxis)
    support = src != 0
    bkg = None
    if bkg_profile is not None:
        bkg = _disp_cross(np.asarray(bkg_profile, dtype=float), dispaxis)
        support = support | (bkg != 0)
    crop = np.nonzero(support.any(axis=0))[0]
    if not crop.size:
        crop = np.array([0])
    n_cross = src.shape[-1]

    d = np.asarray(_disp_cross(data, dispaxis)[..., crop])
    invalid = np.isnan(d)
    given = []
    for v in variances:
        if v is None or np.shape(v) != np.shape(data):
            given.append(None)
        else:
            given.append(np.asarray(_disp_cross(v, dispaxis)[..., crop]))
            invalid |= np.isnan(given[-1])
    if err is not None and np.shape(err) == np.shape(data):
        invalid |= np.isnan(_disp_cross(err, dispaxis)[..., crop])
    if dq is not None and np.shape(dq) == np.shape(data):
        invalid |= (_disp_cross(dq, dispaxis)[..., crop] & DO_NOT_USE) != 0
    if invalid.any():
        d = np.where(invalid, np.nan, d)
        given = [None if v is None else np.where(invalid, np.nan, v) for v in given]
    var = [np.zeros(d.shape) if v is None else v for v in given]

    w = src[:, crop]
    lead = d.shape[:-2]
    n_disp = d.shape[-2]
    if bkg is not None:
        cross_coord = np.linspace(-1.0, 1.0, n_cross)[crop]
        bkg_img, bkg_var = fit_background(d, var, bkg[:, crop], w, cross_coord, method=bkg_method,
                                          order=bkg_order, smoothing=smoothing)
        d = d - bkg_img
    else:
        bkg_img = None
        bkg_var = [np.zeros(lead + (n_disp,)) for _ in var]

    valid = np.isfinite(d)
    flux = np.einsum("...dc,dc->...d", np.where(valid, d, 0.0), w)
    npixels = np.einsum("...dc,dc->...d", valid.astype(float), w)
    w2 = w * w
    var_sums = []
    for v, vb in zip(var, bkg_var):
        vk = np.where(valid & ~np.isnan(v) & (w2 != 0), v, 0.0)
        var_sums.append(np.einsum("...dc,dc->...d", vk, w2) + vb)
    if bkg_img is not None:
        background = np.einsum("...dc,dc->...d", np.where(valid, bkg_img, 0.0), w)
        background = np.where(np.isfinite(background), background, 0.0)
    else:
        background = np.zeros(lead + (n_disp,))
    flux = np.where(np.isclose(npixels, 0.0), np.nan, flux)
    return {"flux": flux, "npixels": npixels, "var": var_sums, "background": background,
            "bkg_var": bkg_var}


def table_columns(sums, pixel_solid_angle=None):
    """Spectral-table columns from box_extract sums.

    With ``pixel_solid_angle`` (sr; surface-brightness data in MJy/sr) FLUX is in Jy:
    sum * solid angle * 1e6, flux variances x (solid angle^2 * 1e12); without it (data not
    flux calibrated) FLUX is the plain sum. SURF_BRIGHT, BACKGROUND and their variances
    are per pixel (divided by NPIXELS, or by 1 where NPIXELS is 0); the flux variances
    include the background's. Errors are the root sums of the three variances; DQ is
    DO_NOT_USE where FLUX is NaN. Returns a dict of column name -> array.
    """
    npixels = sums["npixels"]
    denom = np.where(npixels > 0.0, npixels, 1.0)
    denom2 = denom**2
    cols = {"SURF_BRIGHT": sums["flux"] / denom, "BACKGROUND": sums["background"] / denom}
    for kind, v, vb in zip(VARIANCE_KINDS, sums["var"], sums["bkg_var"]):
        cols[f"SB_VAR_{kind}"] = v / denom2
        cols[f"BKGD_VAR_{kind}"] = vb / denom2
        cols[f"FLUX_VAR_{kind}"] = v if pixel_solid_angle is None else v * (pixel_solid_angle**2 * 1.0e12)
    if pixel_solid_angle is None:
        cols["FLUX"] = sums["flux"]
    else:
        cols["FLUX"] = sums["flux"] * pixel_solid_angle * 1.0e6
    _root_sum_errors(cols)
    cols["DQ"] = np.where(np.isnan(cols["FLUX"]), DO_NOT_USE, 0).astype(np.uint32)
    cols["NPIXELS"] = npixels
    return cols


def _root_sum_errors(cols):
    """Each error column (in place) as the root sum of its three variance columns."""
    for prefix, name in (("FLUX_VAR", "FLUX_ERROR"), ("SB_VAR", "SB_ERROR"), ("BKGD_VAR", "BKGD_ERROR")):
        cols[name] = np.sqrt(cols[f"{prefix}_POISSON"] + cols[f"{prefix}_RNOISE"] + cols[f"{prefix}_FLAT"])


def point_source_columns(sums, pixel_solid_angle):
    """Spectral-table columns from box_extract sums of data in MJy per pixel (a point
    source that photom calibrated as a flux density, as NIRSpec's does): FLUX in Jy
    (sum x 1e6), no surface brightness (SURF_BRIGHT and its variances 0), and the
    background per pixel turned into MJy/sr by the pixel solid angle (sr)."""
    cols = table_columns(sums, None)
    cols["FLUX"] = cols["FLUX"] * 1.0e6
    for kind in VARIANCE_KINDS:
        cols[f"FLUX_VAR_{kind}"] = cols[f"FLUX_VAR_{kind}"] * 1.0e12
        cols[f"SB_VAR_{kind}"] = np.zeros_like(cols[f"SB_VAR_{kind}"])
        cols[f"BKGD_VAR_{kind}"] = cols[f"BKGD_VAR_{kind}"] / pixel_solid_angle**2
    cols["SURF_BRIGHT"] = np.zeros_like(cols["SURF_BRIGHT"])
    cols["BACKGROUND"] = cols["BACKGROUND"] / pixel_solid_angle
    _root_sum_errors(cols)
    return cols


# -- aperture correction ------------------------------------------------------------------


def apcorr_interpolator(sizes, wavelengths, table):
    """Bilinear interpolator of an aperture correction tabulated as
    ``table[wavelength, size]`` (wavelengths in any order, sizes increasing).

    Returns ``f(size, wavelength)`` evaluating arrays of any (broadcastable) shape in one
    call; points outside the table take the value at the nearest table edge. At a node it
    returns the tabulated value exactly.
    """
    from scipy.interpolate import RectBivariateSpline

    wl = np.asarray(wavelengths, dtype=float)
    order = np.argsort(wl)
    spline = RectBivariateSpline(np.asarray(sizes, dtype=float), wl[order],
                                 np.asarray(table, dtype=float)[order, :].T, kx=1, ky=1)

    def evaluate(size, wavelength):
        size, wavelength = np.broadcast_arrays(np.asarray(size, dtype=float),
                                               np.asarray(wavelength, dtype=float))
        return spline(size.ravel(), wavelength.ravel(), grid=False).reshape(size.shape)

    return evaluate


def apply_correction(columns, factor):
    """Multiply the flux-like columns by ``factor`` and the variance columns by its
    square, in place (``factor`` broadcasts against the columns); returns ``columns``."""
    for name in FLUX_COLUMNS:
        columns[name] = columns[name] * factor
    for name in VARIANCE_COLUMNS:
        columns[name] = columns[name] * (factor * factor)
    return columns
