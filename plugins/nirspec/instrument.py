"""The simulated NIRSpec: the numbers shared by the instrument-model reference files, the
calibration reference files and the exposure simulator.

A simplified but physical spectrograph. Light from the sky passes the telescope (OTE) and
the fore optics (FORE) to the micro-shutter plane (MSA, where the fixed slits sit), the
collimator turns MSA positions into beam directions, the grating wheel (GWA) disperses
them, and the camera images the directions onto the two 2048x2048 detectors NRS1/NRS2
(18 um pixels, 0.1"/pixel). Dispersion runs along detector x, the slit length along y.

Grating groove densities follow from NIRSpec's published nominal dispersions per pixel
(JWST user documentation) and this model's camera focal length, so each band spreads over
the detectors as it does on the sky; the filter/grating wavelength ranges are NIRSpec's.
Lengths are metres and wavelengths metres inside the optical model, as in CRDS.
"""

from __future__ import annotations

import numpy as np

PIXEL_PITCH = 18e-6  # m
DETECTOR_SHAPE = (2048, 2048)
DETECTORS = ("NRS1", "NRS2")
# FPA: the two detectors side by side along the dispersion, with a 2.9 mm gap; each
# detector's pixel (0, 0) position in the focal plane (m) and its rotation (deg).
FPA_GAP = 2.9e-3
FPA_ORIGIN = {
    "NRS1": (-(FPA_GAP / 2 + 2048 * PIXEL_PITCH), -1024 * PIXEL_PITCH),
    # NRS2 is read out rotated by 180 degrees: its (0, 0) is the far corner
    "NRS2": (FPA_GAP / 2 + 2048 * PIXEL_PITCH, 1024 * PIXEL_PITCH),
}
FPA_ROTATION = {"NRS1": 0.02, "NRS2": -0.015}  # deg: small mounting rotations

CAMERA_FOCAL = 0.170  # m: FPA position -> beam direction (tangent) after the grating
COLLIMATOR_FOCAL = 0.400  # m: MSA position -> beam direction before the grating
# Smooth (quadratic) field distortion of camera and collimator, relative terms
CAMERA_DISTORTION = (1.5e-3, -0.8e-3)
COLLIMATOR_DISTORTION = (-1.0e-3, 0.6e-3)

# Telescope + fore optics: MSA metres -> OTE image-plane angle -> V2/V3. The plate scale
# at the MSA: 0.1" per detector pixel is CAMERA/COLLIMATOR magnification times this.
MSA_SCALE = PIXEL_PITCH * COLLIMATOR_FOCAL / CAMERA_FOCAL / 0.1  # m per arcsec at the MSA
V2_CENTRE, V3_CENTRE = 378.6, -428.6  # arcsec: V2/V3 of the MSA centre
OTE_ROTATION = 138.5  # deg: MSA axes relative to V2/V3 (V3IdlYAngle of the apertures)
FORE_CHROMATIC = 2.0e-4  # relative image-scale change per micron (lateral colour)

GWA_TILT_ZERO = 0.3597  # GWA_XTIL/GWA_YTIL sensor readings the disperser angles are for
GWA_TILT_SLOPE = -9182.9  # arcsec of grating tilt per unit of sensor reading
GWA_TEMPERATURE = 39.6  # K

# disperser: (groove density [1/m], dispersion [m/pixel] it was derived from)
NOMINAL_DISPERSION = {
    "G140M": 6.36e-10, "G140H": 2.35e-10, "G235M": 1.06e-9, "G235H": 3.96e-10,
    "G395M": 1.79e-9, "G395H": 6.65e-10,
}
GRATINGS = tuple(NOMINAL_DISPERSION)
DISPERSERS = GRATINGS + ("PRISM",)

# The double-pass CaF2 prism: Sellmeier coefficients (Malitson 1963; C in um^2), the
# internal angle, and the glass reference temperature (the GWA's: no thermal term).
PRISM_SELLMEIER_B = (0.5675888, 0.4710914, 3.8484723)
PRISM_SELLMEIER_C = (0.050263605**2, 0.1003909**2, 34.649040**2)
PRISM_ANGLE = 18.0  # deg
PRISM_CENTRAL_WAVELENGTH = 1.4e-6  # m: put at the centre of NRS1 for the MSA centre

# (filter, grating): (lambda_min, lambda_max) in m, and the central wavelength put at the
# centre of the focal plane for the MSA centre.
WAVELENGTH_RANGES = {
    ("F070LP", "G140M"): (0.70e-6, 1.27e-6), ("F070LP", "G140H"): (0.70e-6, 1.27e-6),
    ("F100LP", "G140M"): (0.97e-6, 1.89e-6), ("F100LP", "G140H"): (0.97e-6, 1.89e-6),
    ("F170LP", "G235M"): (1.66e-6, 3.17e-6), ("F170LP", "G235H"): (1.66e-6, 3.17e-6),
    ("F290LP", "G395M"): (2.87e-6, 5.27e-6), ("F290LP", "G395H"): (2.87e-6, 5.27e-6),
    ("CLEAR", "PRISM"): (0.60e-6, 5.30e-6),
}
FILTER_FOR = {g: f for (f, g) in WAVELENGTH_RANGES}
FILTER_FOR.update({"G140M": "F100LP", "G140H": "F100LP", "PRISM": "CLEAR"})

# Fixed slits: name -> (index in the MSA quadrant-5 table, centre x, y on the MSA [m],
# open width x length [arcsec]). The slits sit in the MSA's central bar, offset along
# the dispersion so their spectra fall side by side.
FIXED_SLITS = {
    "S200A1": (0, -2.0e-3, 3.0e-3, (0.2, 3.2)),
    "S200A2": (1, -0.8e-3, 0.0, (0.2, 3.2)),
    "S400A1": (2, -1.4e-3, 1.5e-3, (0.4, 3.65)),
    "S1600A1": (3, -0.2e-3, -1.5e-3, (1.6, 1.6)),
    "S200B1": (4, 1.2e-3, -3.0e-3, (0.2, 3.2)),
}
SLIT_NAMES = tuple(FIXED_SLITS)
# jwst's slit ids for the fixed slits (nrs_fs_slit_id): -100 - index - 1
SLIT_IDS = {name: -101 - idx for name, (idx, *_rest) in FIXED_SLITS.items()}
# FS subarrays: name -> (xstart, ystart, xsize, ysize) in full-frame pixels (1-based)
SUBARRAYS = {
    "FULL": (1, 1, 2048, 2048),
    "SUBS200A1": (1, 923, 2048, 64),
    "SUBS200A2": (1, 995, 2048, 64),
    "SUBS400A1": (1, 959, 2048, 64),
    "SUBS200B1": (1, 1067, 2048, 64),
    "SUB2048": (1, 1047, 2048, 32),
}
SUBARRAY_SLIT = {
    "SUBS200A1": "S200A1", "SUBS200A2": "S200A2", "SUBS400A1": "S400A1",
    "SUBS200B1": "S200B1", "SUB2048": "S1600A1",
}


def slit_size_m(name: str) -> tuple[float, float]:
    """Open width (x, dispersion) and length (y) of a fixed slit on the MSA, in metres."""
    width, length = FIXED_SLITS[name][3]
    return width * MSA_SCALE, length * MSA_SCALE


def groove_density(grating: str) -> float:
    """Grooves per metre giving the nominal dispersion at the band centre in first order."""
    # d(lambda)/dx = cos(beta) * pitch / (G * f_cam); beta is small at the band centre
    return PIXEL_PITCH / (CAMERA_FOCAL * NOMINAL_DISPERSION[grating])


def central_wavelength(filt: str, grating: str) -> float:
    lo, hi = WAVELENGTH_RANGES[(filt, grating)]
    return 0.5 * (lo + hi)


def pixel_area_sr() -> float:
    return (0.1 / 206264.80624709636) ** 2


def sky_angle(x_msa: np.ndarray) -> np.ndarray:
    """MSA metres -> arcsec on the sky (the fore optics' nominal scale)."""
    return np.asarray(x_msa) / MSA_SCALE


def psf_sigma_arcsec(wavelength_um):
    """Cross-dispersion Gaussian width of a point source's image (diffraction + jitter)."""
    return 0.035 + 0.021 * np.asarray(wavelength_um)
