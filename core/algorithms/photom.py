"""Photometric conversion: DN/s to MJy/sr (or MJy) per pixel."""

from __future__ import annotations

import numpy as np

from spec2.algorithms import dq as dqflags

MJSR_TO_UJA2 = 1e12 / 4.25451702961522e10  # MJy/sr -> uJy/arcsec^2
A2_TO_SR = (np.pi / (180.0 * 3600.0)) ** 2  # arcsec^2 -> sr


def _field(row, name):
    value = row[name]
    return value.decode() if isinstance(value, bytes) else value


def find_row(table, **match):
    """Index of the row whose columns equal ``match`` (case-insensitive strings), else None."""
    for i, row in enumerate(table):
        if all(str(_field(row, k)).strip().upper() == str(v).strip().upper() for k, v in match.items()):
            return i
    return None


def time_tables(photom, index, **match):
    """The time-coefficient rows (if any) of a photom reference matching its selected
    phot_table row: by the same columns, or by position when the tables align."""
    tables = {}
    for kind in ("linear", "exponential", "powerlaw"):
        name = f"timecoeff_{kind}"
        table = getattr(photom, name, None) if photom.hasattr(name) else None
        if table is not None and len(table):
            i = find_row(table, **match)
            if i is None and len(table) == len(photom.phot_table):
                i = index
            if i is not None:
                tables[kind] = table[i]
    return tables


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


def apply_where_defined(region, factor, data, err, dq, variances=(), no_factor=None):
    """Apply a per-pixel multiplicative calibration (photom, slit loss) in place.

    region -- (rows, cols) where the factor exists (see dq.finite_region; None: nowhere);
              outside it every array becomes NaN and DO_NOT_USE, as a missing factor
              leaves them
    factor -- the factor on that region (broadcast over integrations)
    no_factor -- optional mask (on the region) of pixels without a factor: DO_NOT_USE
    Inside, data and err are scaled, variances by the square, then NaNs and flags made
    consistent.
    """
    dqflags.blank_outside(region, data, dq, (err, *variances))
    if region is None:
        return
    inside = (Ellipsis, *region)
    views = [None if v is None or v.shape != data.shape else v[inside] for v in variances]
    sub_data, sub_err, sub_dq = data[inside], err[inside], dq[inside]
    apply_conversion(sub_data, sub_err, views, factor)
    if no_factor is not None:
        sub_dq[..., no_factor] |= dqflags.DO_NOT_USE
    dqflags.match_nans_and_flags(sub_data, sub_dq, (sub_err, *views))
