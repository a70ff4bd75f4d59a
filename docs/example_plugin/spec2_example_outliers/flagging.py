"""The numerics, kept apart from the hooks: pure functions on arrays."""

import numpy as np
from scipy.ndimage import median_filter

DO_NOT_USE = 1
OUTLIER = 16


def find_outliers(data, err, threshold=5.0, size=5, dispaxis=2):
    """Pixels deviating from a running median along the dispersion by more than
    threshold*err.

    A spectrum changes slowly along the dispersion but sharply across it (a point
    source is a few pixels wide), so the window runs along the dispersion: a cosmic ray
    stands out, the core of the trace does not.
    data, err -- 2-D arrays (NaN allowed); size -- window length (odd);
    dispaxis -- 1: dispersion along x (rows), 2: along y (columns).
    Returns a boolean mask, True at outliers.
    """
    filled = np.where(np.isfinite(data), data, 0.0)
    window = (1, size) if dispaxis == 1 else (size, 1)
    smooth = median_filter(filled, size=window, mode="nearest")
    with np.errstate(invalid="ignore"):
        return np.isfinite(data) & (err > 0) & (np.abs(data - smooth) > threshold * err)
