"""The simulated NIRISS wide-field slitless channel (GR150C/GR150R with a blocking filter).

Analytic functions from which the simulator draws exposures and the reference writers
sample their files, so simulated data and references agree by construction and tests can
compute expected values by hand. Numbers follow the real instrument: 0.0656" pixels, a
first order of about 4.9 nm per pixel, F150W passing 1.33 - 1.67 micron, GR150C
dispersing along rows and GR150R along columns, the filter wheel a fraction of a degree
from the position the traces were calibrated at.
"""

from __future__ import annotations

import numpy as np

DETECTOR = "NIS"
FULL_SHAPE = (2048, 2048)
BLOCKING_FILTER = "F150W"  # PUPIL of a WFSS exposure; the grism is FILTER
GRISMS = ("GR150C", "GR150R")
DISPERSION_AXIS = {"GR150C": 1, "GR150R": 2}  # 1: along rows (x), 2: along columns (y)
PIXEL_SCALE = 0.0656  # arcsec per pixel
PIXAR_A2 = PIXEL_SCALE**2
PIXAR_SR = (PIXEL_SCALE / 206264.80624709636) ** 2
REF_POINT = (1024.5, 1024.5)  # 1-based full-frame reference pixel of the NIS_CEN aperture
V2_REF, V3_REF = -290.1, -697.5  # arcsec
V3_YANGLE = -0.57
VPARITY = -1
FILTER_OFFSET = {"GR150C": (0.52, -0.31), "GR150R": (-0.44, 0.27)}  # (column, row) per grism + F150W

FWCPOS_REF = {"GR150C": 0.10, "GR150R": 0.05}  # deg, in the specwcs
FWCPOS = {"GR150C": 0.34, "GR150R": -0.17}  # deg, the simulated exposures' filter-wheel position

# Dispersion (trace parameter t in [0, 1]); orders 0, 1 and 2 are on the detector.
#   lambda(t) = L0 + L1 t   (a straight Polynomial1D, with its inverse, as delivered)
#   along(t; x0, y0) = A0 + A1 t + A2 t^2,   across(t; x0, y0) = C0 + C1 t + C2 t^2
# with each coefficient a quadratic Polynomial2D of the field position about FIELD_ORIGIN.
# GR150C: along = dx, across = dy; GR150R: along = dy, across = dx.
LAMBDA = (0.60, 1.80)
FIELD_ORIGIN = (1024.0, 1024.0)
ALONG = {  # order -> per power of t: (constant, d/dx0, d/dy0, d2/dx0^2)
    0: ((-190.0, 1.0e-3, 0.0, 0.0), (14.0, 0.0, 0.0, 0.0), (0.0, 0.0, 0.0, 0.0)),
    1: ((-12.0, 2.0e-3, -1.0e-3, 1.0e-6), (370.0, 4.0e-3, 0.0, 0.0), (4.0, 0.0, 0.0, 0.0)),
    2: ((-30.0, 3.0e-3, 0.0, 0.0), (740.0, 8.0e-3, 0.0, 0.0), (8.0, 0.0, 0.0, 0.0)),
}
ACROSS = {
    0: ((-0.5, 0.0, 0.0, 0.0), (0.2, 0.0, 0.0, 0.0), (0.0, 0.0, 0.0, 0.0)),
    1: ((0.8, 0.0, 1.0e-4, 0.0), (1.5, 2.0e-4, 0.0, 0.0), (-0.5, 0.0, 0.0, 0.0)),
    2: ((1.6, 0.0, 2.0e-4, 0.0), (3.0, 4.0e-4, 0.0, 0.0), (-1.0, 0.0, 0.0, 0.0)),
}
ORDERS = (0, 1, 2)
EXTRACT_ORDERS = (1, 2)
WAVELENGTH_RANGE = (1.29, 1.71)  # micron, every order of F150W in the wavelengthrange file
BAND = (1.33, 1.67)  # F150W half-power points

PHOTMJSR = {0: 2.4, 1: 0.35, 2: 0.90}  # (MJy/sr) per (DN/s) x micron/pixel at relresponse 1


def throughput(wavelength):
    """Blocking filter x grism throughput shape: a smooth top hat over the F150W band
    with a gentle curvature, and 0.01 % leaking outside (a real blocking filter passes
    almost nothing out of band, where the next order of the grism falls)."""
    wl = np.asarray(wavelength, float)
    rise = 1.0 / (1.0 + np.exp(-(wl - BAND[0]) / 0.008))
    fall = 1.0 / (1.0 + np.exp((wl - BAND[1]) / 0.008))
    return 1e-4 + (1.0 - 1e-4) * rise * fall * (1.0 - 0.6 * (wl - 1.5) ** 2)


def relative_response(wavelength):
    """relresponse in the photom file: flux per count relative to the band centre."""
    return throughput(1.5) / throughput(wavelength)


def psf_sigma(wavelength):
    """Cross-dispersion Gaussian sigma (pixels) of a point source."""
    return 0.65 + 0.35 * (np.asarray(wavelength, float) - 1.3)


def flat_pattern(shape, seed=21):
    """A fixed pixel-to-pixel flat (1 % rms) with a gentle gradient."""
    rng = np.random.default_rng(seed)
    rows, cols = np.indices(shape, dtype=float)
    large = 1.0 - 0.015 * (cols / shape[1] - 0.5) + 0.01 * (rows / shape[0] - 0.5)
    return (large * (1.0 + 0.01 * rng.standard_normal(shape))).astype(np.float32)


def sky_pattern(shape, grism):
    """The shape of the dispersed sky in DN/s (the WFSSBKG reference, normalised to a
    median near 1): brighter in the middle, falling off towards the edges along the
    dispersion where the orders of the sky leave the detector, with faint ripples."""
    rows, cols = np.indices(shape, dtype=float)
    along = cols if DISPERSION_AXIS[grism] == 1 else rows
    across = rows if DISPERSION_AXIS[grism] == 1 else cols
    n = shape[1] if DISPERSION_AXIS[grism] == 1 else shape[0]
    edge = 1.0 / (1.0 + np.exp(-(along - 60.0) / 25.0)) * (1.0 / (1.0 + np.exp((along - (n - 220.0)) / 40.0)))
    ripple = 1.0 + 0.03 * np.sin(across / 97.0) + 0.02 * np.cos(along / 151.0)
    return (0.35 + 0.7 * edge * ripple).astype(np.float32)


def ideal_to_v2v3_matrix():
    """2x2 matrix from ideal-frame arcsec to (V2, V3) offsets (SIAF convention)."""
    a = np.deg2rad(V3_YANGLE)
    return np.array([[VPARITY * np.cos(a), np.sin(a)], [-VPARITY * np.sin(a), np.cos(a)]])
