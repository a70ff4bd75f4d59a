"""NIRSpec fixed-slit and BOTS photom: DN/s to MJy (point sources) or MJy/sr (extended).

The NrsFsPhotomModel has one row per (filter, grating, slit): PHOTMJ in MJy per DN/s and
a relative response against wavelength. The slit-area reference (NirspecSlitAreaModel)
gives each slit's nominal pixel solid angle, stored as PIXAR_A2/PIXAR_SR on the slit.
Extended sources divide the factor by that area. A fixed-slit point source also gets the
uniform-source factor (at its uncorrected wavelengths) stored as photom_uniform, and the
point factor as photom_point, for spec3's master background.

MOS (apply_mos_photom): one NrsMosPhotomModel row per (filter, grating) serves every
slitlet; each slitlet's pixel area is the NirspecMosAreaModel row of its shutter
(quadrant, xcen, ycen). No photom_point/photom_uniform are stored for MOS (jwst stores
none). ``inverse`` divides by the conversion instead and leaves DN/s units.
"""

from __future__ import annotations

import logging

import numpy as np

from spec2.algorithms import dq as dqflags
from spec2.algorithms.photom import (
    A2_TO_SR,
    MJSR_TO_UJA2,
    apply_conversion,
    find_row,
    sorted_response,
    spectral_conversion,
    time_dependence,
    time_tables,
)

log = logging.getLogger("spec2")


def slit_pixel_area(area_model, slit_name):
    """(arcsec^2, sr) of one fixed slit's pixels; (1, 1) when the table lacks it."""
    table = area_model.area_table
    for slit_id, pixarea in zip(table["slit_id"], table["pixarea"]):
        name = slit_id.decode() if isinstance(slit_id, bytes) else slit_id
        if name == slit_name:
            a2 = float(pixarea)
            return a2, a2 * A2_TO_SR
    log.warning("%s not found in the pixel area table", slit_name)
    return 1.0, 1.0


def _divide(data, err, variances, conversion):
    square = conversion * conversion
    data /= conversion
    err /= conversion
    for var in variances:
        if var is not None and var.size:
            var /= square


def _conversion_2d(scalar, wavelength, wl_tab, rr_tab):
    return spectral_conversion(scalar, np.asarray(wavelength, dtype=np.float64), wl_tab, rr_tab)


def _apply(target, conversion, no_cal, unit, inverse=False):
    """Multiply by the conversion (``inverse``: divide; the units are then left for the
    caller to set), flag pixels without one, make NaNs and flags agree."""
    variances = (target.var_poisson, target.var_rnoise, target.var_flat)
    if inverse:
        _divide(target.data, target.err, variances, conversion)
    else:
        apply_conversion(target.data, target.err, variances, conversion)
    if no_cal is not None:
        target.dq[..., no_cal] |= dqflags.DO_NOT_USE
    if not inverse:
        target.meta.bunit_data = target.meta.bunit_err = unit
    dqflags.match_nans_and_flags(target.data, target.dq,
                                 (target.err, target.var_poisson, target.var_rnoise, target.var_flat))


def _row(photom, filt, grating, slit_name):
    index = find_row(photom.phot_table, filter=filt, grating=grating, slit=slit_name)
    if index is None:
        log.warning("photom reference has no row for %s/%s slit %s", filt, grating, slit_name)
        return None, None, None
    row = photom.phot_table[index]
    # kept in the table's float32: the scalar factor is rounded there, as jwst's is
    scalar = row["photmj"]
    return index, row, scalar


def calibrate_slit(slit, photom, filt, grating, point, mid_time, uncorrected_wavelength=None):
    """Convert one slit in place. ``point``: MJy (else MJy/sr). For a fixed-slit point
    source, ``uncorrected_wavelength`` gives the uniform factor's wavelengths."""
    index, row, scalar = _row(photom, filt, grating, slit.name)
    if row is None:
        return False
    sr = slit.meta.photometry.pixelarea_steradians
    uniform_scalar = None
    if point:
        uniform_scalar = scalar / sr
    else:
        scalar /= sr
    tables = time_tables(photom, index, filter=filt, grating=grating, slit=slit.name)
    if tables and mid_time is not None:
        correction = time_dependence(mid_time, **tables)
        if correction != 1.0:
            scalar /= correction
    slit.meta.photometry.conversion_megajanskys = scalar
    slit.meta.photometry.conversion_microjanskys = scalar * MJSR_TO_UJA2
    wl_tab, rr_tab = sorted_response(row["wavelength"], row["relresponse"], int(row["nelem"]) or None)
    if point and uncorrected_wavelength is not None:
        slit.photom_uniform, _ = _conversion_2d(uniform_scalar, uncorrected_wavelength, wl_tab, rr_tab)
        conversion, no_cal = _conversion_2d(scalar, slit.wavelength, wl_tab, rr_tab)
        slit.photom_point = conversion
    else:
        conversion, no_cal = _conversion_2d(scalar, slit.wavelength, wl_tab, rr_tab)
    _apply(slit, conversion, no_cal, "MJy" if point else "MJy/sr")
    return True


def apply_fs_photom(model, photom, area, uncorrected_wavelength):
    """Calibrate every slit of a fixed-slit MultiSlitModel in place."""
    filt, grating = model.meta.instrument.filter, model.meta.instrument.grating
    for slit in model.slits:
        a2, sr = slit_pixel_area(area, slit.name)
        slit.meta.photometry.pixelarea_arcsecsq, slit.meta.photometry.pixelarea_steradians = a2, sr
    for slit in model.slits:
        point = str(slit.source_type).upper() == "POINT"
        calibrate_slit(slit, photom, filt, grating, point, model.meta.exposure.mid_time,
                       uncorrected_wavelength(slit) if point else None)
    model.meta.bunit_data = model.meta.bunit_err = None
    return model


def apply_bots_photom(model, photom, area):
    """Calibrate the S1600A1 SlitModel of a time series in place (every integration)."""
    filt, grating = model.meta.instrument.filter, model.meta.instrument.grating
    a2, sr = slit_pixel_area(area, model.name)
    model.meta.photometry.pixelarea_arcsecsq, model.meta.photometry.pixelarea_steradians = a2, sr
    point = str(model.meta.target.source_type).upper() == "POINT"
    calibrate_slit(model, photom, filt, grating, point, model.meta.exposure.mid_time)
    return model


def mos_pixel_area(area_model, quadrant, xcen, ycen):
    """(arcsec^2, sr) of the pixels of the MSA shutter (quadrant, xcen, ycen); (1, 1)
    unless exactly one row of the area table matches it."""
    table = area_model.area_table
    match = (table["quadrant"] == quadrant) & (table["shutter_x"] == xcen) & (table["shutter_y"] == ycen)
    if match.sum() != 1:
        return None
    a2 = float(table["pixarea"][match].item())
    return a2, a2 * A2_TO_SR


def apply_mos_photom(model, photom, area, inverse=False, source_type=None):
    """Calibrate (``inverse``: uncalibrate) every slitlet of a MOS MultiSlitModel in
    place: MJy for point sources (``source_type`` forces one type on all), MJy/sr
    otherwise. Returns whether a photom row matched the filter and grating."""
    filt, grating = model.meta.instrument.filter, model.meta.instrument.grating
    missing = 0
    for slit in model.slits:
        area_values = mos_pixel_area(area, slit.quadrant, slit.xcen, slit.ycen)
        missing += area_values is None
        a2, sr = area_values or (1.0, 1.0)
        slit.meta.photometry.pixelarea_arcsecsq, slit.meta.photometry.pixelarea_steradians = a2, sr
    if missing:
        log.warning("%d of %d slitlets have no pixel area in the area reference", missing, len(model.slits))
    index = find_row(photom.phot_table, filter=filt, grating=grating)
    if index is None:
        log.warning("photom reference has no row for %s/%s", filt, grating)
        return False
    row = photom.phot_table[index]
    tables = time_tables(photom, index, filter=filt, grating=grating)
    mid_time = model.meta.exposure.mid_time
    time_factor = time_dependence(mid_time, **tables) if tables and mid_time is not None else 1.0
    wl_tab, rr_tab = sorted_response(row["wavelength"], row["relresponse"], int(row["nelem"]) or None)
    for slit in model.slits:
        kind = source_type or slit.source_type
        point = kind is not None and kind.upper() == "POINT"
        scalar = row["photmj"]  # the table's float32, rounded there as jwst's is
        if not point:
            scalar /= slit.meta.photometry.pixelarea_steradians
        if time_factor != 1.0:
            scalar /= time_factor
        slit.meta.photometry.conversion_megajanskys = scalar
        slit.meta.photometry.conversion_microjanskys = scalar * MJSR_TO_UJA2
        conversion, no_cal = _conversion_2d(scalar, slit.wavelength, wl_tab, rr_tab)
        _apply(slit, conversion, no_cal, "MJy" if point else "MJy/sr", inverse)
    if inverse:
        model.meta.bunit_data = model.meta.bunit_err = "DN/s"
    else:
        model.meta.bunit_data = model.meta.bunit_err = None
    return True
