"""The planes of an IFU cube from the weighted sums (pure): SCI, ERR, DQ and WMAP.

SCI = sum(w flux) / sum(w); ERR = sqrt(sum((w err)^2)) / sum(w); WMAP = the number of
pixels that reached the voxel. DQ as jwst 3.0.0 sets it (:func:`spec2.algorithms.cube_dq.final_dq`):
0 where some pixel has weight, DO_NOT_USE for holes in the field of view,
NON_SCIENCE | DO_NOT_USE elsewhere; SCI and ERR are NaN wherever DO_NOT_USE is set.
"""

from __future__ import annotations

import numpy as np

from spec2.algorithms.cube_dq import DO_NOT_USE, final_dq


def cube_planes(sums, shape, fov=None):
    """(sci, err, dq, wmap) arrays of ``shape`` (nwave, ny, nx) from
    :class:`spec2.algorithms.cube_weights.Sums`: float32, float32, uint32, float32.
    ``fov``: the voxels in the field of view (:mod:`spec2.algorithms.cube_dq`), None for
    none (jwst's ``skip_dqflagging``)."""
    weight = sums.weight
    good = sums.count > 0
    flux = np.zeros_like(weight)
    var = np.zeros_like(weight)
    flux[good] = sums.flux[good] / weight[good]
    var[good] = sums.var[good] / (weight[good] * weight[good])
    dq = final_dq(weight, fov, shape).ravel()
    bad = (dq & DO_NOT_USE) != 0
    flux[bad] = np.nan
    var[bad] = np.nan
    return (flux.reshape(shape).astype(np.float32), np.sqrt(var).reshape(shape).astype(np.float32),
            dq.reshape(shape), sums.count.reshape(shape).astype(np.float32))
