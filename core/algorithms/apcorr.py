"""Aperture corrections: the factor that scales a finite aperture's flux to the total."""

from __future__ import annotations

import numpy as np


def size_wavelength_interpolator(sizes, wavelengths, table):
    """Bilinear interpolator of a correction tabulated as table[wavelength, size].

    Returns f(size, wavelength) -> correction, evaluated pointwise on arrays of any
    shape in one call (outside the table it extends the edge cells linearly).
    """
    from scipy.interpolate import RectBivariateSpline

    wl = np.asarray(wavelengths, float)
    order = np.argsort(wl)
    spline = RectBivariateSpline(
        np.asarray(sizes, float), wl[order], np.asarray(table, float)[order, :].T, kx=1, ky=1
    )

    def evaluate(size, wavelength):
        size = np.asarray(size, float)
        wavelength = np.asarray(wavelength, float)
        out = spline(size.ravel(), wavelength.ravel(), grid=False)
        return out.reshape(np.broadcast_shapes(size.shape, wavelength.shape))

    return evaluate
