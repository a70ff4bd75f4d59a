"""The DQ plane of an IFU cube: which spaxels the instrument's field of view covers at
each wavelength, and what jwst 3.0.0 calls a hole (pure functions).

jwst flags the field of view first (before looking at the weights), then: voxels with
weight are good (0); voxels outside the field are NON_SCIENCE | DO_NOT_USE; voxels
inside it without weight are holes (DO_NOT_USE), unless they sit on the cube's edge or
next to a NON_SCIENCE voxel.

The field of view of a slicer whose slices are lines on the sky (NIRSpec) is drawn slice
by slice: at each wavelength plane, the pixels within ``roiw`` of it give each slice's
smallest and largest tangent-plane coordinates, and the spaxels on the line between those
two corners are in the field. jwst 3.0.0 draws that line with a Bresenham walk whose
endpoint swap for steep lines keeps the rows only, so a steep slice is drawn as the
diagonal from (row0, row0) to (row1, row1); spaxels match jwst's only if we draw it the
same way, so we do (``steep_as_jwst``).
"""

from __future__ import annotations

import numpy as np

from spec2.algorithms.cube_weights import _expand

DO_NOT_USE = 1
PARTIAL = 4  # jwst's intermediate "in the field of view" flag
NON_SCIENCE = 512


def slice_extents(zc, roiw, x, y, wave, slice_no):
    """Per (plane, slice) whose pixels within ``roiw`` (strictly) of the plane span a
    non-zero range in both coordinates: (plane, xmin, ymin, xmax, ymax) arrays."""
    order = np.argsort(wave, kind="stable")
    ws = wave[order]
    lo = np.searchsorted(ws, zc - roiw, "right")
    hi = np.searchsorted(ws, zc + roiw, "left")
    counts = np.maximum(hi - lo, 0)
    plane = np.repeat(np.arange(len(zc)), counts)
    starts = np.cumsum(counts) - counts
    point = order[lo[plane] + np.arange(plane.size) - starts[plane]]
    # |zc - wave| < roiw exactly as jwst tests it (the searchsorted bounds are the same
    # up to rounding of zc +- roiw)
    keep = np.abs(zc[plane] - wave[point]) < roiw
    plane, point = plane[keep], point[keep]
    nslice = int(slice_no.max()) + 1 if slice_no.size else 1
    key = plane * nslice + slice_no[point].astype(np.int64)
    srt = np.argsort(key, kind="stable")
    key, point = key[srt], point[srt]
    if not key.size:
        empty = np.zeros(0)
        return np.zeros(0, np.int64), empty, empty, empty, empty
    first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    xs, ys = x[point], y[point]
    xmin, xmax = np.minimum.reduceat(xs, first), np.maximum.reduceat(xs, first)
    ymin, ymax = np.minimum.reduceat(ys, first), np.maximum.reduceat(ys, first)
    ok = (xmin != xmax) & (ymin != ymax)
    return (key[first] // nslice)[ok], xmin[ok], ymin[ok], xmax[ok], ymax[ok]


def line_cells(x1, y1, x2, y2):
    """Cells of jwst 3.0.0's Bresenham lines from (x1, y1) to (x2, y2) (integer arrays, one
    line per element, x1 <= x2 and y1 <= y2 as slice extents give them): (line index,
    column, row) of every cell. A steep line (|dy| > |dx|) is the diagonal from
    (y1, y1) to (y2, y2), as jwst's endpoint swap leaves it."""
    steep = np.abs(y2 - y1) > np.abs(x2 - x1)
    x1, x2 = np.where(steep, y1, x1), np.where(steep, y2, x2)
    dx, ady = x2 - x1, np.abs(y2 - y1)
    line, k = _expand(dx + 1)
    # after k steps the walk (error starting at dx // 2, minus |dy| a step, plus dx at
    # each move) has moved max(0, ceil((k |dy| - dx // 2) / dx)) times
    d = dx[line]
    with np.errstate(divide="ignore"):
        moves = np.where(d > 0, np.maximum(0, -((d // 2 - k * ady[line]) // np.maximum(d, 1))), 0)
    ystep = np.where(y1 < y2, 1, -1)[line]
    xs, ys = x1[line] + k, y1[line] + ystep * moves
    s = steep[line]
    return line, np.where(s, ys, xs), np.where(s, xs, ys)


def field_of_view(grid, x, y, wave, slice_no, roiw):
    """Flat boolean array (nwave * ny * nx) of the voxels jwst flags as in the field of
    view of a line-slicer exposure (pixel centres x, y on the tangent plane, arcsec)."""
    nz, ny, nx = grid.shape
    flags = np.zeros(nz * ny * nx, bool)
    plane, xmin, ymin, xmax, ymax = slice_extents(grid.zcoord, roiw, x, y, wave, np.asarray(slice_no, np.int64))
    if not plane.size:
        return flags
    # jwst keeps the extents and the first centres in single precision
    f32 = lambda v: np.asarray(v, np.float32).astype(float)
    x0, y0 = f32(grid.xcoord[0]), f32(grid.ycoord[0])
    cell = lambda v, start, step: np.trunc((f32(v) - start) / step).astype(np.int64)
    ix1, iy1 = cell(xmin, x0, grid.cdelt1), cell(ymin, y0, grid.cdelt2)
    ix2, iy2 = cell(xmax, x0, grid.cdelt1), cell(ymax, y0, grid.cdelt2)
    line, cx, cy = line_cells(ix1, iy1, ix2, iy2)
    index = cy * nx + cx
    inside = (index >= 0) & (index < nx * ny)
    flags[plane[line[inside]] * (nx * ny) + index[inside]] = True
    return flags


def final_dq(weight, fov, shape):
    """jwst 3.0.0's final DQ plane (uint32, ``shape``) from the voxel weights and the
    field-of-view flags (None: no field of view, as jwst's ``skip_dqflagging``)."""
    _nz, ny, nx = shape
    dq = np.where(fov, PARTIAL, 0) if fov is not None else np.zeros(weight.size, np.int64)
    dq = np.where(weight > 0, PARTIAL, dq)
    dq = np.where(dq == 0, NON_SCIENCE | DO_NOT_USE, dq)
    dq = np.where(dq == PARTIAL, 0, dq)
    dq = np.where((dq == 0) & (weight == 0), DO_NOT_USE, dq).astype(np.uint32)
    # jwst visits the holes in index order and updates the plane as it goes: a hole on the
    # cube's edge, or next to a NON_SCIENCE voxel (neighbours on the edge row or column
    # excepted, as jwst's test excludes them), becomes NON_SCIENCE | DO_NOT_USE, and so
    # counts as NON_SCIENCE for the holes after it
    nxy = nx * ny
    for index in np.flatnonzero(dq == DO_NOT_USE):
        rem = index % nxy
        yr, xr = divmod(rem, nx)
        if yr in (0, ny - 1) or xr in (0, nx - 1):
            dq[index] = NON_SCIENCE | DO_NOT_USE
            continue
        base = index - rem
        for xc, yc in ((xr - 1, yr), (xr + 1, yr), (xr, yr - 1), (xr, yr + 1)):
            if 0 < xc < nx and 0 < yc < ny and dq[base + yc * nx + xc] & NON_SCIENCE:
                dq[index] = NON_SCIENCE | DO_NOT_USE
                break
    return dq.reshape(shape)
