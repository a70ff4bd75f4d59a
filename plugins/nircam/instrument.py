"""The simulated NIRCam long-wavelength grism channel (F444W with GRISMR or GRISMC, in
module A or B; time series: module A, GRISMR).

Analytic functions from which the simulator draws exposures and the reference writers
sample their files, so simulated data and references agree by construction and tests can
compute expected values by hand. Numbers follow the real instrument: 0.063" pixels,
about 1 nm per pixel in first order, F444W passing 3.9 - 5.0 micron, the SUBGRISM64/128/256
time-series subarrays (full width, from the detector's first row) with their reference point
at (887, 35).
"""

from __future__ import annotations

import numpy as np

DETECTOR = "NRCALONG"
MODULE = "A"
FILTER = "F444W"
PUPIL = "GRISMR"
FULL_SHAPE = (2048, 2048)
PIXEL_SCALE = 0.0629  # arcsec per pixel
PIXAR_A2 = PIXEL_SCALE**2
PIXAR_SR = (PIXEL_SCALE / 206264.80624709636) ** 2

# Time-series subarrays (they start at the detector's first row and span every column, so
# one aperture reference point, XREF_SCI/YREF_SCI 1-based, serves them all) and the
# aperture each is read through.
TSO_SUBARRAYS = {rows: {"name": f"SUBGRISM{rows}", "xstart": 1, "ystart": 1, "xsize": 2048, "ysize": rows}
                 for rows in (64, 128, 256)}
TSO_SUBARRAY = TSO_SUBARRAYS[64]
TSO_APERTURE = "NRCA5_GRISM{rows}_F444W"
TSO_REF = (887.0, 35.0)
V2_REF, V3_REF = 95.043034, -556.150466  # arcsec, V2/V3 of the reference point
V3_YANGLE = -0.5536
VPARITY = -1
FILTER_OFFSET = (0.35, -0.25)  # column, row offset of F444W+GRISMR in the filteroffset file

# Per module: detector, aperture V2/V3 and angle, the sign of the dispersion along the
# rows (GRISMR) or columns (GRISMC) -- module B's grisms disperse the other way -- and
# the filteroffset per grism. Module A's values are the ones above.
MODULES = {
    "A": dict(detector="NRCALONG", v2_ref=V2_REF, v3_ref=V3_REF, v3_yangle=V3_YANGLE, along_sign=1.0,
              filter_offset={"GRISMR": FILTER_OFFSET, "GRISMC": (0.18, 0.42)}),
    "B": dict(detector="NRCBLONG", v2_ref=-89.2613, v3_ref=-556.7452, v3_yangle=-0.2496, along_sign=-1.0,
              filter_offset={"GRISMR": (-0.29, 0.21), "GRISMC": (-0.15, -0.37)}),
}
GRISMS = ("GRISMR", "GRISMC")
DISPERSION_AXIS = {"GRISMR": 1, "GRISMC": 2}

# Dispersion, order 1 (trace parameter t in [0, 1]):
#   lambda(t; x0, y0) = C0 + C1 t + C2 t^2, coefficients linear in the field position;
#   dx(t) = DX0 + DX1 t (a straight legacy polynomial with its inverse);
#   dy(t) = a gentle field-dependent tilt and curvature.
LAMBDA_COEFFS = (  # per power of t: (constant, d/dx0, d/dy0)
    (3.600, 1.2e-5, -4.0e-6),
    (1.600, -6.0e-6, 0.0),
    (0.012, 0.0, 0.0),
)
FIELD_ORIGIN = (1024.0, 1024.0)  # the field terms are written about this point
DX1 = (-750.0, 1600.0)
DY1 = (  # per power of t: (constant, d/dx0, d/dy0)
    (-0.40, 0.0, 1.0e-4),
    (1.10, 2.0e-4, 0.0),
    (-0.60, 0.0, 0.0),
)
# Order 2: legacy straight polynomials (as ground-calibrated orders are delivered).
LAMBDA2 = (2.400, 1.000)
DX2 = (1400.0, 1300.0)
DY2 = (2.0, 1.0)

WAVELENGTH_RANGE = {1: (3.70, 5.10), 2: (2.40, 3.40)}  # micron, the wavelengthrange file
BAND = (3.88, 4.98)  # F444W half-power points

PHOTMJSR = 0.42  # (MJy/sr) per (DN/s) x micron/pixel at relresponse 1


def throughput(wavelength):
    """Filter x grism throughput shape: a smooth top hat over the F444W band, a gentle
    curvature on top, and 2 % leaking outside."""
    wl = np.asarray(wavelength, float)
    rise = 1.0 / (1.0 + np.exp(-(wl - BAND[0]) / 0.02))
    fall = 1.0 / (1.0 + np.exp((wl - BAND[1]) / 0.02))
    return 0.02 + 0.98 * rise * fall * (1.0 - 0.15 * (wl - 4.4) ** 2)


def relative_response(wavelength):
    """relresponse in the photom file: flux per count relative to the band centre, the
    inverse of the throughput (large outside the band, where few photons are counted)."""
    return throughput(4.4) / throughput(wavelength)


def psf_sigma(wavelength):
    """Cross-dispersion Gaussian sigma (pixels) of a point source."""
    return 0.55 + 0.18 * (np.asarray(wavelength, float) - 4.0)


def pixel_area(shape):
    """Relative pixel area (the AREA reference's map): a smooth distortion pattern of a
    few per cent about the detector centre."""
    rows, cols = np.indices(shape, dtype=float)
    u, v = (cols - FIELD_ORIGIN[0]) / FIELD_ORIGIN[0], (rows - FIELD_ORIGIN[1]) / FIELD_ORIGIN[1]
    return (1.0 + 0.012 * u - 0.008 * v + 0.01 * (u * u + v * v)).astype(np.float32)


def flat_pattern(shape, seed=11):
    """A fixed pixel-to-pixel flat (1.5 % rms) with a gentle column gradient."""
    rng = np.random.default_rng(seed)
    rows, cols = np.indices(shape, dtype=float)
    large = 1.0 + 0.02 * (cols / shape[1] - 0.5) - 0.01 * (rows / shape[0] - 0.5)
    return (large * (1.0 + 0.015 * rng.standard_normal(shape))).astype(np.float32)


def sky_pattern(shape, pupil="GRISMR", module="A"):
    """The shape of the dispersed sky in DN/s (normalised to a median near 1): the
    F444W band's zodiacal light dispersed along the grism's axis, fading where the first
    order of the sky leaves the detector's trailing edge, with gentle ripples."""
    rows, cols = np.indices(shape, dtype=float)
    along, across = (cols, rows) if DISPERSION_AXIS[pupil] == 1 else (rows, cols)
    n = shape[1] if DISPERSION_AXIS[pupil] == 1 else shape[0]
    if MODULES[module]["along_sign"] < 0:
        along = n - 1 - along
    edge = 1.0 / (1.0 + np.exp(-(along - 90.0) / 35.0))
    ripple = 1.0 + 0.02 * np.sin(across / 131.0) + 0.03 * np.cos(along / 173.0)
    return (0.3 + 0.75 * edge * ripple).astype(np.float32)


def ideal_to_v2v3_matrix(v3_yangle=V3_YANGLE):
    """2x2 matrix from ideal-frame arcsec to (V2, V3) offsets (SIAF convention)."""
    a = np.deg2rad(v3_yangle)
    return np.array([[VPARITY * np.cos(a), np.sin(a)], [-VPARITY * np.sin(a), np.cos(a)]])
