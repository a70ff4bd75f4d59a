"""Numerical parts of WFSS contamination modelling (jwst 3.0.0's wfss_contam, default path).

Every pixel of every source in the direct image's segmentation map is a 1 x 1 pixel
square of flat F_nu spectrum (its direct-image value, MJy/sr) that the grism WCS moves to
one position per wavelength; each position's square is shared between the detector
pixels it overlaps, and the light it deposits there is

    counts (DN/s) = F_nu * overlap area * dlambda / sensitivity(lambda)

with sensitivity = PHOTMJSR x relresponse (MJy micron s / (DN sr)). The functions keep
jwst's arithmetic and summation order so the simulated images agree bit for bit.
"""

from __future__ import annotations

import numpy as np

# Truncation of C's (int) cast outside this range is undefined; jwst's clipper never keeps
# such positions, neither do we.
_INT_LIMIT = 2.0**31 - 2


def clipped_unit_pixels(xc, yc, nx, ny):
    """Split 1 x 1 squares centred on (xc, yc) over the pixels of an nx x ny image.

    Pixel (i, j) covers [i, i+1] x [j, j+1]; a square covers at most 2 x 2 of them. Parts
    outside [0, nx] x [0, ny] are dropped, as are non-finite centres.

    Returns (x, y, area, index): integer pixel columns and rows, the area of the square
    inside each, and the index of the square in the flattened input. Squares come in input
    order; within one: (left, bottom), (left, top), (right, bottom), (right, top), each
    only if distinct and non-empty (jwst's winclip order, which fixes the order sums are
    made in later).
    """
    xc = np.ravel(np.asarray(xc, dtype=float))
    yc = np.ravel(np.asarray(yc, dtype=float))
    ok = np.isfinite(xc) & np.isfinite(yc) & (np.abs(xc) < _INT_LIMIT) & (np.abs(yc) < _INT_LIMIT)
    xs, ys = np.where(ok, xc, -10.0), np.where(ok, yc, -10.0)
    # the padding window (truncated centre +- 1) clamped to the image, as the C clipper does
    ix, iy = np.trunc(xs).astype(np.int64), np.trunc(ys).astype(np.int64)
    ok &= (ix - 1 <= nx - 1) & (ix + 1 >= 0) & (iy - 1 <= ny - 1) & (iy + 1 >= 0)
    left, right = np.maximum(ix - 1, 0), np.minimum(ix + 1, nx - 1)
    bottom, top = np.maximum(iy - 1, 0), np.minimum(iy + 1, ny - 1)

    def axis(c, lo, hi):
        c1 = c - 0.5
        c2 = c1 + 1.0
        imin = np.floor(c1).astype(np.int64)
        imax = np.ceil(c2 - 1.0).astype(np.int64)
        low = imin < lo
        imin = np.where(low, lo, imin)
        c1 = np.where(low, lo.astype(float), c1)
        high = imax > hi
        imax = np.where(high, hi, imax)
        c2 = np.where(high, (imax + 1).astype(float), c2)
        first = np.where(c2 > imin + 1, (imin + 1) - c1, c2 - c1)
        return imin, imax, first, c2 - imax, c1 < c2

    imin, imax, wx1, wx2, okx = axis(xs, left, right)
    jmin, jmax, wy1, wy2, oky = axis(ys, bottom, top)
    ok &= okx & oky
    two_x, two_y = imax > imin, jmax > jmin
    x = np.stack([imin, imin, imax, imax], axis=1)
    y = np.stack([jmin, jmax, jmin, jmax], axis=1)
    area = np.stack([wx1 * wy1, wx1 * wy2, wx2 * wy1, wx2 * wy2], axis=1)
    keep = np.stack([ok, ok & two_y, ok & two_x, ok & two_x & two_y], axis=1)
    index = np.broadcast_to(np.arange(xc.size)[:, None], keep.shape)
    return x[keep], y[keep], area[keep], index[keep]


def wavelength_grid(start, end, wmin, wmax, oversample=2):
    """Wavelengths at which one chunk of pixels is dispersed (jwst's rule).

    ``start`` and ``end`` are the grism-image (x, y) of one pixel at ``wmin`` and
    ``wmax``. The step is (wmax - wmin) / |dy - dx| / oversample, where (dx, dy) is the
    trace's extent (jwst's expression: for a trace along one axis |dy - dx| is its length
    in pixels); at least 3 points, evenly spaced from wmin to wmax inclusive.
    """
    dx, dy = end[0] - start[0], end[1] - start[1]
    dw = np.abs((wmax - wmin) / (dy - dx))
    dlam = np.median(dw / oversample)
    npts = max(int(np.ceil((wmax - wmin) / dlam)), 3)
    return np.linspace(wmin, wmax, npts)


def response_curve(wavelength, relresponse, photmjsr, unit_factor=1.0, nelem=None):
    """(wavelengths, sensitivity) of one photom row for the dispersion: the table trimmed
    to ``nelem``, scaled by ``unit_factor * photmjsr`` in the table's own precision (as
    jwst multiplies them), sorted by wavelength when it is not increasing."""
    waves = wavelength[:nelem] if nelem else wavelength
    sens = unit_factor * photmjsr * (relresponse[:nelem] if nelem else relresponse)
    if not np.all(np.diff(waves) > 0):
        order = np.argsort(waves)
        waves, sens = waves[order].copy(), sens[order].copy()
    return waves, sens


def dispersed_counts(flux, area, wavelength, dlam, sens_waves, sens):
    """DN/s deposited by each clipped square: flux x area x dlam / sensitivity(lambda),
    0 where the response table does not reach or is 0."""
    s = np.interp(wavelength, sens_waves, sens, left=np.nan, right=np.nan)
    s[np.isnan(s)] = 0
    no_cal = s == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        counts = flux * area * dlam / s
    counts[no_cal] = 0.0
    return counts


def source_images(x, y, values, ids):
    """{source id: (bounds, image)} of the deposits of each source.

    bounds = [xmin, xmax, ymin, ymax] (0-based, inclusive) of every pixel the source
    touches (zero deposits included); image is float64 with shape (ymax-ymin+1,
    xmax-xmin+1). Deposits are grouped by id with numpy's default argsort and summed in
    that order (jwst's order, so sums agree bit for bit)."""
    order = np.argsort(ids)
    ids, x, y, values = ids[order], x[order], y[order], values[order]
    unique, starts = np.unique(ids, return_index=True)
    ends = np.append(starts[1:], ids.size)
    out = {}
    for sid, a, b in zip(unique, starts, ends):
        xs, ys = x[a:b], y[a:b]
        x0, x1, y0, y1 = int(xs.min()), int(xs.max()), int(ys.min()), int(ys.max())
        ncol = x1 - x0 + 1
        flat = np.bincount((ys - y0) * ncol + (xs - x0), weights=values[a:b], minlength=(y1 - y0 + 1) * ncol)
        out[int(sid)] = ([x0, x1, y0, y1], flat.reshape(y1 - y0 + 1, ncol))
    return out


def merge_source_image(current, bounds, image):
    """Add one chunk's (bounds, image) of a source to ``current`` (None or the same
    form): the union box, each part placed and the two added (jwst's chunk merge)."""
    if current is None:
        return bounds, image
    old_b, old = current
    b = [min(old_b[0], bounds[0]), max(old_b[1], bounds[1]), min(old_b[2], bounds[2]), max(old_b[3], bounds[3])]
    shape = (b[3] - b[2] + 1, b[1] - b[0] + 1)

    def place(arr, ab):
        out = np.zeros(shape)
        y0, x0 = ab[2] - b[2], ab[0] - b[0]
        out[y0 : y0 + arr.shape[0], x0 : x0 + arr.shape[1]] = arr
        return out

    return b, place(old, old_b) + place(image, bounds)


def add_to_frame(frame, xstart, ystart, image):
    """frame[ystart:, xstart:] += image (0-based corner), clipped to the frame."""
    ny, nx = frame.shape
    x1, y1 = min(xstart + image.shape[1], nx), min(ystart + image.shape[0], ny)
    frame[ystart:y1, xstart:x1] += image[: y1 - ystart, : x1 - xstart]
    return frame


def cut_frame(frame, xstart, ystart, xsize, ysize):
    """The (ysize, xsize) part of ``frame`` at the 0-based corner, zero beyond its
    right and top edges."""
    ny, nx = frame.shape
    xf, yf = xstart + xsize, ystart + ysize
    if xf > nx:
        frame = np.pad(frame, ((0, 0), (0, xf - nx)))
    if yf > ny:
        frame = np.pad(frame, ((0, yf - ny), (0, 0)))
    return frame[ystart:yf, xstart:xf]


def onto_cutout(shape, dtype, dx, dy, image):
    """A model ``image`` whose corner is (dx, dy) pixels from a cut-out's, resampled onto
    the cut-out's grid of ``shape`` (zeros elsewhere, in the cut-out's dtype); None when
    they do not overlap.

    As jwst, the rows and columns kept are also capped at the image's own size counted
    from the cut-out's corner (a model starting inside the cut-out loses its far end
    where it is longer than the cut-out's remaining extent, and beyond its own size)."""
    ny, nx = shape
    i0, i1 = max(dy, 0), min(dy + image.shape[0], ny, image.shape[0])
    j0, j1 = max(dx, 0), min(dx + image.shape[1], nx, image.shape[1])
    if i0 >= i1 or j0 >= j1:
        return None
    out = np.zeros(shape, dtype)
    out[i0:i1, j0:j1] = image[i0 - dy : i1 - dy, j0 - dx : j1 - dx]
    return out


def min_response(waves, sens):
    """Smallest positive sensitivity at a positive, finite wavelength."""
    good = (waves > 0) & (sens > 0) & np.isfinite(waves)
    return np.nanmin(sens[good])


def order_magnitude_limit(order, limit, min_sens_order, min_sens_order1):
    """The AB magnitude limit for one order: ``limit`` for orders 0 and 1, brighter for
    others by 2.5 log10 of their weakest response over order 1's (jwst's scaling)."""
    if order in (0, 1):
        return limit
    return limit + 2.5 * np.log10(min_sens_order1 / min_sens_order)
