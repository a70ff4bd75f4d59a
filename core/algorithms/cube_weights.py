"""Weights of detector pixels in the voxels of an IFU cube, and their sums (pure numpy).

Three weightings, as jwst 3.0.0 defines them:

* ``drizzle``: weight = (area of the pixel's footprint inside the spaxel, arcsec^2) x
  (length of the pixel's wavelength range inside the plane, micron);
* ``emsm``: weight = exp(-(dx^2 + dy^2 + dz^2) / (scalerad / cdelt1)) with dx, dy in
  spaxels and dz in planes, for voxels whose centre is within ``rois`` (radius, arcsec) and
  ``roiw`` (micron) of the pixel;
* ``msm``: weight = 1 / max(r^power, softrad), r = sqrt(dx^2 + dy^2 + dz^2), same ROI.

Every function works on pixels already projected to the cube's tangent plane and returns
:class:`Sums`, the four running sums a cube is made of. Pixels are processed in chunks so
that memory stays bounded on a full detector; every pair (pixel, voxel) is formed
explicitly (no Python loop over pixels).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CHUNK = 100_000  # pixels per chunk: ~4 spaxels x 2 planes each keeps a chunk near 150 MB


@dataclass
class Sums:
    """Per voxel (flattened, plane-major): sum of w*flux, of w, of (w*err)^2 and the
    number of pixels that contributed (jwst's WMAP)."""

    flux: np.ndarray
    weight: np.ndarray
    var: np.ndarray
    count: np.ndarray

    @classmethod
    def zeros(cls, n):
        return cls(np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n))

    def add(self, index, w, flux, err):
        """Add the pairs (voxel ``index``, weight ``w``) of pixels with ``flux``/``err``."""
        n = self.flux.size
        self.flux += np.bincount(index, w * flux, minlength=n)
        self.weight += np.bincount(index, w, minlength=n)
        self.var += np.bincount(index, (err * w) ** 2, minlength=n)
        self.count += np.bincount(index, minlength=n)

    def __iadd__(self, other):
        self.flux += other.flux
        self.weight += other.weight
        self.var += other.var
        self.count += other.count
        return self


def _expand(counts):
    """For ``counts[i]`` items per row i: (row of each item, rank of the item in its row)."""
    counts = np.asarray(counts, np.int64)
    rows = np.repeat(np.arange(counts.size), counts)
    starts = np.cumsum(counts) - counts
    return rows, np.arange(rows.size) - starts[rows]


# ---------------------------------------------------------------------------------------
# Spatial overlap of a quadrilateral with an axis-aligned rectangle
#
# The area of a polygon P inside the rectangle [-hx, hx] x [-hy, hy] is, edge by edge,
# the signed integral over the edge's x range (clipped to [-hx, hx]) of
# clamp(y(x), -hy, hy) + hy: on every vertical line the edges crossing it add and remove
# the part of the line inside P, so the sum is exact for any simple polygon, and it needs
# no clipping of polygons: every pixel-spaxel pair is a few elementwise operations (a
# Sutherland-Hodgman clipping in numpy, tried first, was 8x slower).
# ---------------------------------------------------------------------------------------

def _clamp(y, lo, hi):
    """min(max(y, lo), hi): np.clip's arithmetic without its dispatch overhead."""
    return np.minimum(np.maximum(y, lo), hi)


def _mean_clamped(yu, yv, hy):
    """Mean over a straight segment running from height yu to yv of clamp(y, -hy, hy) + hy
    (hy a scalar).

    The segment is cut where it crosses -hy and hy (as fractions of its length, clipped to
    [0, 1]): constant outside, linear inside. No difference of large numbers is divided by
    a small one, so nearly flat edges keep full precision. A flat segment gets infinite
    (or NaN, exactly on a side) fractions, which fmin/fmax and the clamp turn into the
    right constant."""
    dy = yv - yu
    inv = 1.0 / dy
    t1 = (-hy - yu) * inv
    t2 = (hy - yu) * inv
    ta = _clamp(np.fmin(t1, t2), 0.0, 1.0)
    tb = _clamp(np.fmax(t1, t2), 0.0, 1.0)
    g_in = _clamp(yu + ta * dy, -hy, hy) + _clamp(yu + tb * dy, -hy, hy) + 2 * hy
    return ta * (_clamp(yu, -hy, hy) + hy) + (tb - ta) * 0.5 * g_in + (1.0 - tb) * (_clamp(yv, -hy, hy) + hy)


def quad_square_overlap(qx, qy, cx, cy, half_x, half_y):
    """Area of each quadrilateral (qx, qy: (m, 4) corners in order around it, either
    sense) inside the rectangle centred on (cx, cy) with half sizes (half_x, half_y:
    scalars). Coordinates are taken relative to the rectangle's centre so that small
    overlaps keep their precision."""
    px = np.asarray(qx, float) - np.asarray(cx, float)[:, None]
    py = np.asarray(qy, float) - np.asarray(cy, float)[:, None]
    hx, hy = float(half_x), float(half_y)
    total = np.zeros(px.shape[0])
    # vertical edges (xa == xb) and flat ones give inf/NaN on the way; a vertical edge's
    # x range is empty and np.where drops it
    with np.errstate(divide="ignore", invalid="ignore"):
        for i in range(4):
            xa, ya, xb, yb = px[:, i], py[:, i], px[:, (i + 1) % 4], py[:, (i + 1) % 4]
            u = _clamp(np.minimum(xa, xb), -hx, hx)
            v = _clamp(np.maximum(xa, xb), -hx, hx)
            slope = (yb - ya) / (xb - xa)
            part = (v - u) * _mean_clamped(ya + slope * (u - xa), ya + slope * (v - xa), hy)
            part = np.where(v > u, part, 0.0)
            total += np.where(xb > xa, part, -part)
    area = np.abs(total)
    # a polygon that only touches the rectangle sums to rounding noise, not to zero: drop
    # overlaps below 1e-10 of the rectangle (jwst's clipping gives none there)
    return np.where(area > 4e-10 * hx * hy, area, 0.0)


# ---------------------------------------------------------------------------------------
# drizzle
# ---------------------------------------------------------------------------------------

def spectral_overlap(wave, dwave, zc, zwidth):
    """Length of [wave - dwave/2, wave + dwave/2] inside [zc - zwidth/2, zc + zwidth/2],
    computed with jwst's three clipped differences (same rounding)."""
    ptmin, ptmax = wave - dwave / 2, wave + dwave / 2
    spxmin, spxmax = zc - zwidth / 2, zc + zwidth / 2
    z1 = np.maximum(spxmax - ptmin, 0.0)
    z2 = np.maximum(spxmax - ptmax, 0.0)
    z3 = np.maximum(spxmin - ptmin, 0.0)
    return np.maximum(z1 - z2 - z3, 0.0)


def _axis_range(lo, hi, first_centre, step, n):
    """Indices [i0, i1] (inclusive, clipped) of the cells of an axis of ``n`` cells of width
    ``step`` whose span meets [lo, hi] (a cell merely touching it at an end may be included:
    its overlap is zero and it is dropped)."""
    edge = first_centre - step / 2.0
    i0 = np.floor((lo - edge) / step).astype(np.int64)
    i1 = np.floor((hi - edge) / step).astype(np.int64)
    return np.clip(i0, 0, n - 1), np.clip(i1, -1, n - 1)


def drizzle_sums(grid, xi, eta, wave, dwave, flux, err, chunk=CHUNK):
    """Drizzle pixels onto ``grid`` (:class:`spec2.algorithms.cube_grid.CubeGrid`).

    xi, eta -- (n, 4) corners on the tangent plane (arcsec); wave, dwave (micron); flux,
    err (n,). Pixels whose flux or err is NaN add nothing. Returns :class:`Sums`.
    """
    sums = Sums.zeros(int(np.prod(grid.shape)))
    widths = grid.cdelt3_normal
    for arrays in _finite_chunks(chunk, flux, err, xi, eta, wave, dwave):
        _drizzle_chunk(grid, widths, *arrays, sums)
    return sums


def _finite_chunks(chunk, flux, err, *others):
    """(flux, err, *others) cut into chunks of ``chunk`` pixels, each without the pixels
    whose flux or err is NaN (they add nothing, as in jwst)."""
    for start in range(0, len(flux), chunk):
        part = slice(start, start + chunk)
        good = np.isfinite(flux[part]) & np.isfinite(err[part])
        yield tuple(a[part][good] for a in (flux, err, *others))


def _pair_up(p, q, npix):
    """Every spatial pair (pixel ``p``) with every spectral pair (pixel ``q``, sorted) of
    the same pixel: (index into the spatial pairs, index into the spectral pairs)."""
    nw = np.bincount(q, minlength=npix)
    wstart = np.cumsum(nw) - nw
    j, k = _expand(nw[p])
    return j, wstart[p[j]] + k


def _drizzle_chunk(grid, widths, flux, err, xi, eta, wave, dwave, sums):
    nz, ny, nx = grid.shape
    c1, c2 = grid.cdelt1, grid.cdelt2
    xmin, xmax, ymin, ymax = xi.min(1), xi.max(1), eta.min(1), eta.max(1)
    ix0, ix1 = _axis_range(xmin, xmax, grid.xcoord[0], c1, nx)
    iy0, iy1 = _axis_range(ymin, ymax, grid.ycoord[0], c2, ny)
    wx, wy = np.maximum(ix1 - ix0 + 1, 0), np.maximum(iy1 - iy0 + 1, 0)
    # spatial pairs (pixel, spaxel) with a non-zero overlap
    p, r = _expand(wx * wy)
    ix = ix0[p] + r % wx[p]
    iy = iy0[p] + r // wx[p]
    # jwst's test first: the spaxel and the footprint's box overlap strictly
    xl, yb = grid.xcoord[ix] - c1 / 2, grid.ycoord[iy] - c2 / 2
    meet = (xl < xmax[p]) & (xl + c1 > xmin[p]) & (yb < ymax[p]) & (yb + c2 > ymin[p])
    p, ix, iy = p[meet], ix[meet], iy[meet]
    area = quad_square_overlap(xi[p], eta[p], grid.xcoord[ix], grid.ycoord[iy], c1 / 2, c2 / 2)
    hit = area > 0
    p, spaxel, area = p[hit], (iy * nx + ix)[hit], area[hit]
    # spectral pairs (pixel, plane) with a non-zero overlap
    iw0, iw1 = _axis_range(wave - dwave / 2, wave + dwave / 2, grid.zcoord[0], grid.cdelt3, nz)
    q, rw = _expand(np.maximum(iw1 - iw0 + 1, 0))
    iw = iw0[q] + rw
    zover = spectral_overlap(wave[q], dwave[q], grid.zcoord[iw], widths[iw])
    hit = zover > 0
    q, iw, zover = q[hit], iw[hit], zover[hit]
    j, w_idx = _pair_up(p, q, len(wave))
    weight = area[j] * zover[w_idx]
    voxel = iw[w_idx] * (nx * ny) + spaxel[j]
    pix = p[j]
    sums.add(voxel, weight, flux[pix], err[pix])


# ---------------------------------------------------------------------------------------
# emsm and msm (modified Shepard methods)
# ---------------------------------------------------------------------------------------

def shepard_weights(dx, dy, dz, weighting, scalerad=None, power=None, softrad=None):
    """Weights of pixel-voxel pairs at distances dx, dy (spaxels) and dz (planes)."""
    r2 = dx * dx + dy * dy + dz * dz
    if weighting == "emsm":
        return np.exp(-r2 / scalerad)
    wn = np.sqrt(r2) ** power
    return 1.0 / np.maximum(wn, softrad)


def shepard_sums(grid, x, y, wave, flux, err, weighting, rois, roiw, scalerad=0.0, power=2.0, softrad=0.0,
                 chunk=CHUNK):
    """Point-cloud weighting (``emsm`` or ``msm``) of pixel centres (x, y: arcsec on the
    tangent plane) onto ``grid``: every voxel whose centre lies within ``rois`` (radius) and
    ``roiw`` of the pixel gets its weight. ``scalerad`` is in arcsec (jwst's cubepar
    SCALERAD), used divided by the spaxel size. Returns :class:`Sums`."""
    nz, ny, nx = grid.shape
    sums = Sums.zeros(nz * ny * nx)
    zw = grid.cdelt3_normal
    for pf, pe, px, py, pw in _finite_chunks(chunk, flux, err, x, y, wave):
        # candidate spaxels: centres within rois along x and along y, then within the radius
        ix0 = np.searchsorted(grid.xcoord, px - rois, "left")
        ix1 = np.searchsorted(grid.xcoord, px + rois, "right")
        iy0 = np.searchsorted(grid.ycoord, py - rois, "left")
        iy1 = np.searchsorted(grid.ycoord, py + rois, "right")
        wx, wy = np.maximum(ix1 - ix0, 0), np.maximum(iy1 - iy0, 0)
        p, r = _expand(wx * wy)
        ix, iy = ix0[p] + r % wx[p], iy0[p] + r // wx[p]
        xd, yd = np.abs(grid.xcoord[ix] - px[p]), np.abs(grid.ycoord[iy] - py[p])
        near = np.sqrt(xd * xd + yd * yd) <= rois
        # exact comparisons jwst makes (|centre - x| <= rois) at the ends of the ranges
        near &= (xd <= rois) & (yd <= rois)
        p, ix, iy, xd, yd = p[near], ix[near], iy[near], xd[near], yd[near]
        iw0 = np.searchsorted(grid.zcoord, pw - roiw, "left")
        iw1 = np.searchsorted(grid.zcoord, pw + roiw, "right")
        q, rw = _expand(np.maximum(iw1 - iw0, 0))
        iw = iw0[q] + rw
        ok = np.abs(grid.zcoord[iw] - pw[q]) <= roiw
        q, iw = q[ok], iw[ok]
        j, w_idx = _pair_up(p, q, len(pw))
        pix, plane = p[j], iw[w_idx]
        dz = (pw[pix] - grid.zcoord[plane]) / zw[plane]
        w = shepard_weights(xd[j] / grid.cdelt1, yd[j] / grid.cdelt2, dz, weighting,
                            scalerad / grid.cdelt1 if weighting == "emsm" else None, power, softrad)
        sums.add(plane * (nx * ny) + iy[j] * nx + ix[j], w, pf[pix], pe[pix])
    return sums
