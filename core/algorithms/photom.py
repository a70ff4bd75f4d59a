"""Photometric conversion: DN/s to MJy/sr (or MJy) per pixel."""

from __future__ import annotations

import numpy as np


def sorted_response(wavelength, relresponse, nelem=None):
    """The response table trimmed to ``nelem`` and sorted by wavelength, in micron
    (tables stored in metres are converted)."""
    wl = np.asarray(wavelength, float)
    rr = np.asarray(relresponse, float)
    if nelem:
        wl, rr = wl[:nelem], rr[:nelem]
    if not np.all(np.diff(wl) > 0):
        order = np.argsort(wl)
        wl, rr = wl[order], rr[order]
    if 0 < wl.max() < 1e-4:  # metres
        wl = wl * 1e6
    return wl, rr


def spectral_conversion(scalar, wavelength_2d, wl_table, response_table):
    """Per-pixel conversion factor scalar * relresponse(lambda).

    Returns (conversion, no_cal): no_cal marks pixels whose wavelength is undefined or
    outside the table; their factor is 0.
    """
    wl = np.where(np.isfinite(wavelength_2d), wavelength_2d, -1.0)
    rel = np.interp(wl, wl_table, response_table, left=np.nan, right=np.nan)
    no_cal = np.isnan(rel)
    conversion = scalar * np.where(no_cal, 0.0, rel)
    return conversion, no_cal


def time_dependence(midtime, linear=None, exponential=None, powerlaw=None):
    """Throughput now relative to t0 from the optional time-coefficient tables (one row
    each, as dicts or records); the conversion factor is divided by it."""
    corr = 1.0
    if linear is not None:
        corr *= 1.0 - linear["lossperyear"] * (midtime - linear["t0"]) / 365.0
    if exponential is not None:
        corr *= exponential["amplitude"] * np.exp(-(midtime - exponential["t0"]) / exponential["tau"]) + exponential["const"]
    if powerlaw is not None:
        norm = (365.0 + powerlaw["tsoft"]) ** powerlaw["alpha"] / powerlaw["year1value"]
        corr *= (midtime - powerlaw["t0"] + powerlaw["tsoft"]) ** powerlaw["alpha"] / norm
    return float(corr)


def apply_conversion(data, err, variances, conversion):
    """Multiply data and err by the factor and each variance by its square, in place
    (the factor broadcasts over leading integration axes; products keep their float32
    type, computed in the factor's precision). Returns the same arrays."""
    square = conversion * conversion
    data *= conversion
    err *= conversion
    for var in variances:
        if var is not None and var.size:
            var *= square
    return [data, err, *variances]
