"""Slit-loss (pathloss) tables: the correction at a source position, on a pixel grid."""

from __future__ import annotations

import numpy as np


def grid_index(value, crpix, crval, cdelt):
    """0-based fractional index of ``value`` on a FITS-style linear axis."""
    return crpix + (value - crval) / cdelt - 1.0


def bilinear_vector(cube, col, row):
    """cube[:, row, col] interpolated bilinearly at fractional (col, row).

    Returns None when the point is outside the grid's interior cells (the source is
    outside the aperture the table describes).
    """
    _, nrows, ncols = cube.shape
    if not (0 <= col < ncols - 1 and 0 <= row < nrows - 1):
        return None
    j, i = int(col), int(row)
    fx, fy = col - j, row - i
    return (
        (1 - fx) * (1 - fy) * cube[:, i, j]
        + (1 - fx) * fy * cube[:, i + 1, j]
        + fx * (1 - fy) * cube[:, i, j + 1]
        + fx * fy * cube[:, i + 1, j + 1]
    )


def onto_wavelengths(wavelength_2d, wl_vector, values):
    """Interpolate a correction sampled at ascending ``wl_vector`` onto every pixel's
    wavelength; NaN where the wavelength is undefined or outside the table."""
    return np.interp(wavelength_2d, wl_vector, values, left=np.nan, right=np.nan)
