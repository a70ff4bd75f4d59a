"""Detector frames: where one array's pixels sit inside another's."""

from __future__ import annotations


def window(origin, shape, source_origin=(1, 1), source_shape=None):
    """Slices (rows, cols) of a source array covering a target frame, or None when the
    source does not cover it.

    origin, source_origin -- 1-based detector (x, y) of each array's first pixel
                             (SUBSTRT1/2; full frame is (1, 1))
    shape, source_shape   -- (ny, nx) of the target and the source
    """
    x0, y0 = origin[0] - source_origin[0], origin[1] - source_origin[1]
    ny, nx = shape[-2:]
    if x0 < 0 or y0 < 0 or y0 + ny > source_shape[-2] or x0 + nx > source_shape[-1]:
        return None
    return slice(y0, y0 + ny), slice(x0, x0 + nx)
