"""The numerics, kept apart from the hooks: pure functions on arrays."""

import numpy as np
from scipy.ndimage import median_filter

DO_NOT_USE = 1
OUTLIER = 16


def find_outliers(data, err, threshold=5.0, size=5):
    """Pixels deviating from a running median along each row by more than threshold*err.

    data, err -- 2-D arrays (NaN allowed); size -- median window along the row (odd).
    Returns a boolean mask, True at outliers.
    """
    filled = np.where(np.isfinite(data), data, 0.0)
    smooth = median_filter(filled, size=(1, size), mode="nearest")
    with np.errstate(invalid="ignore"):
        return np.isfinite(data) & (err > 0) & (np.abs(data - smooth) > threshold * err)
