"""The planes of an IFU cube from the weighted sums (pure): SCI, ERR, DQ and WMAP.

SCI = sum(w flux) / sum(w); ERR = sqrt(sum((w err)^2)) / sum(w); WMAP = the number of
pixels that reached the voxel. DQ, as jwst 3.0.0 sets it without its field-of-view
flagging (``skip_dqflagging``): 0 where some pixel has weight in the voxel, else
NON_SCIENCE | DO_NOT_USE; SCI and ERR are NaN wherever DO_NOT_USE is set.
"""

from __future__ import annotations

import numpy as np

DO_NOT_USE = 1
NON_SCIENCE = 512


def cube_planes(sums, shape):
    """(sci, err, dq, wmap) arrays of ``shape`` (nwave, ny, nx) from
    :class:`spec2.algorithms.cube_weights.Sums`: float32, float32, uint32, float32."""
    weight = sums.weight
    good = sums.count > 0
    flux = np.zeros_like(weight)
    var = np.zeros_like(weight)
    flux[good] = sums.flux[good] / weight[good]
    var[good] = sums.var[good] / (weight[good] * weight[good])
    dq = np.where(weight > 0, 0, NON_SCIENCE | DO_NOT_USE).astype(np.uint32)
    bad = (dq & DO_NOT_USE) != 0
    flux[bad] = np.nan
    var[bad] = np.nan
    return (flux.reshape(shape).astype(np.float32), np.sqrt(var).reshape(shape).astype(np.float32),
            dq.reshape(shape), sums.count.reshape(shape).astype(np.float32))
