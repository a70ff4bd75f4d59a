"""The simulated MIRI LRS: the smooth, physical-looking instrument the simulator observes
through and from which it writes the reference files.

Every quantity is an analytic function, so the simulator (forward) and the reference
files (tables sampled from the same functions) are consistent by construction, and
tests can compute expected values by hand. Numbers are close to the real LRS: 0.11"
pixels, P750L prism from about 5 to 14 micron, a 4.7" x 0.51" slit.
"""

from __future__ import annotations

import numpy as np
from scipy.special import erf

# Detector and apertures (1-based full-frame pixel coordinates, as in the specwcs file).
FULL_SHAPE = (1024, 1032)  # rows, columns
PIXEL_SCALE = 0.11  # arcsec per pixel
FS_REF = (326.13, 300.70)  # x_ref, y_ref: LRS slit centre
SLITLESS_REF = (38.5, 829.0)  # x_ref_slitless, y_ref_slitless
SLITLESS_SUBARRAY = dict(name="SLITLESSPRISM", xstart=1, ystart=529, xsize=72, ysize=416)
SLIT_HALF_LENGTH = 2.35  # arcsec, along detector x
SLIT_HALF_WIDTH = 0.255  # arcsec, along the dispersion

# Telescope geometry: detector (x, y) -> ideal frame -> (V2, V3).
V2_CENTRE, V3_CENTRE = -378.63, -344.26  # arcsec, V2/V3 of the slit centre
V3_YANGLE = 4.45  # degrees
VPARITY = -1

# Trace geometry relative to the reference point: rows run from dy = +80 (short
# wavelengths) down to dy = -160 (long wavelengths).
DY_MIN, DY_MAX = -160.0, 80.0


def wavelength_at(dy):
    """Wavelength (micron) of row offset dy = y - y_ref, monotonic over the trace."""
    dy = np.asarray(dy, float)
    return 7.5 - 0.030 * dy + 0.00012 * dy**2


def trace_shift(dy):
    """Column offset of the trace centre from x_ref at row offset dy (a slight tilt)."""
    return 0.004 * np.asarray(dy, float)


def psf_sigma(wavelength):
    """Cross-dispersion Gaussian sigma (pixels) of a point source: diffraction grows with lambda."""
    return 0.45 + 0.075 * np.asarray(wavelength, float)


def enclosed_fraction(width, wavelength, offset=0.0):
    """Fraction of a point source's light inside a box of ``width`` pixels centred ``offset``
    pixels from the source (the truth behind the aperture correction)."""
    s = np.sqrt(2.0) * psf_sigma(wavelength)
    half = np.asarray(width, float) / 2.0
    return 0.5 * (erf((half - offset) / s) + erf((half + offset) / s))


def slit_throughput(wavelength, y_offset_pix=0.0):
    """Fraction of a point source transmitted by the 0.51" slit (the inverse of the LRS
    pathloss correction); lower at long wavelengths where the PSF is wider than the slit."""
    wl = np.asarray(wavelength, float)
    width = 0.51 / PIXEL_SCALE  # slit width in pixels along the dispersion
    s = np.sqrt(2.0) * (0.2 + 0.09 * wl)
    half = width / 2.0
    y = np.asarray(y_offset_pix, float)
    return 0.5 * (erf((half - y) / s) + erf((half + y) / s))


def relative_response(wavelength):
    """Spectral shape of the system response (relresponse in the photom file)."""
    wl = np.asarray(wavelength, float)
    return 0.6 + 0.4 * np.exp(-(((wl - 8.0) / 3.5) ** 2))


PHOTMJSR = 0.0425  # (MJy/sr) / (DN/s) at relresponse 1
PIXAR_SR = (PIXEL_SCALE / 206264.80624709636) ** 2
PIXAR_A2 = PIXEL_SCALE**2


def flat_pattern(shape, seed=7):
    """A fixed pixel-to-pixel flat (about 2 % rms) with a gentle large-scale gradient."""
    rng = np.random.default_rng(seed)
    rows, cols = np.indices(shape, dtype=float)
    large = 1.0 + 0.03 * (cols / shape[1] - 0.5) - 0.02 * (rows / shape[0] - 0.5)
    return (large * (1.0 + 0.02 * rng.standard_normal(shape))).astype(np.float32)


def ideal_to_v2v3_matrix():
    """2x2 matrix from ideal-frame arcsec to (V2, V3) offsets (SIAF convention)."""
    a = np.deg2rad(V3_YANGLE)
    return np.array(
        [[VPARITY * np.cos(a), np.sin(a)], [-VPARITY * np.sin(a), np.cos(a)]]
    )
