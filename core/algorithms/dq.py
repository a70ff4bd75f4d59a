"""Data-quality flags and the NaN/flag consistency rule.

The flag values are stdatamodels' (``stdatamodels.jwst.datamodels.dqflags.pixel``, the
table jwst uses), never written out by hand; the names below are the ones spec2's
calibration code sets or tests.
"""

from __future__ import annotations

import numpy as np
from stdatamodels.jwst.datamodels.dqflags import pixel

DO_NOT_USE = pixel["DO_NOT_USE"]
NON_SCIENCE = pixel["NON_SCIENCE"]
NO_FLAT_FIELD = pixel["NO_FLAT_FIELD"]
UNRELIABLE_FLAT = pixel["UNRELIABLE_FLAT"]


def match_nans_and_flags(data, dq, variances=()):
    """Make bad data consistent in place: a pixel that is NaN in data or any variance,
    or flagged DO_NOT_USE, becomes NaN everywhere and DO_NOT_USE.

    data    -- science array (any shape); err and variance arrays in ``variances``
    dq      -- matching integer flags, updated in place
    """
    bad = ~np.isfinite(data) | ((dq & DO_NOT_USE) != 0)
    for arr in variances:
        if arr is not None and np.shape(arr) == np.shape(data):
            bad |= ~np.isfinite(arr)
    if not bad.any():
        return bad
    data[bad] = np.nan
    for arr in variances:
        if arr is not None and np.shape(arr) == np.shape(data):
            arr[bad] = np.nan
    dq[bad] |= DO_NOT_USE
    return bad


def good_mask(dq, good_bits_off=DO_NOT_USE | NON_SCIENCE):
    """True where none of ``good_bits_off`` is set."""
    return (dq & good_bits_off) == 0


def finite_region(values):
    """(row slice, column slice) of the smallest rectangle holding every finite value of a
    2-D array, or None when there is none. Steps that depend on a per-pixel wavelength
    work inside it; outside, the wavelength is undefined everywhere."""
    finite = np.isfinite(values)
    rows = np.flatnonzero(finite.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(finite.any(axis=0))
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def _outside_slabs(region, shape):
    """The complement of a rectangle as at most four rectangular slices (fast to fill,
    unlike a boolean mask)."""
    ny, nx = shape
    if region is None:
        return [(slice(0, ny), slice(0, nx))]
    rows, cols = region
    slabs = [(slice(0, rows.start), slice(0, nx)), (slice(rows.stop, ny), slice(0, nx)),
             (rows, slice(0, cols.start)), (rows, slice(cols.stop, nx))]
    return [(r, c) for r, c in slabs if r.stop > r.start and c.stop > c.start]


def blank_outside(region, data, dq, arrays=()):
    """NaN and DO_NOT_USE everywhere outside ``region`` (last two axes), in place: what
    a calibration with no defined factor there leaves behind."""
    for rows, cols in _outside_slabs(region, data.shape[-2:]):
        data[..., rows, cols] = np.nan
        for arr in arrays:
            if arr is not None and np.shape(arr) == np.shape(data):
                arr[..., rows, cols] = np.nan
        dq[..., rows, cols] |= DO_NOT_USE
