"""photom for slitless grism spectra (NIRCam and NIRISS WFSS, NIRCam grism time series).

jwst 3.0.0 calibrates the 2-D cut-outs: the factor at a pixel is PHOTMJSR (in
MJy micron s / (DN sr), converted from the file's ``phot_unit`` when it gives one),
divided by the time dependence, times relresponse(lambda) and divided by the dispersion
|d lambda / d pixel| along the dispersion axis, so that each pixel holds MJy/sr. Pixels
whose wavelength is outside the response table get no factor: NaN and DO_NOT_USE.
"""

from __future__ import annotations

import numpy as np

from spec2.algorithms import dq as dqflags
from spec2.algorithms.blocks import integration_blocks
from spec2.algorithms.grism import dispersion_per_pixel
from spec2.algorithms.photom import (
    MJSR_TO_UJA2,
    apply_conversion,
    find_row,
    sorted_response,
    time_dependence,
    time_tables,
)
from spec2.algorithms.subarray import window
from spec2.errors import ReferenceFileError

EXPECTED_UNIT = "MJy micron s / (DN sr)"


def grism_conversion(scalar, wavelength, wl_table, response_table, dispaxis):
    """(factor, no_cal) on a 2-D wavelength image: scalar x relresponse / |dispersion|.

    As jwst: undefined wavelengths count as -1 micron (outside any table) also when the
    dispersion is differenced; no_cal marks pixels without a response (factor 0)."""
    wl = np.where(np.isfinite(wavelength), wavelength, -1.0)
    rel = np.interp(wl, wl_table, response_table, left=np.nan, right=np.nan)
    rel = rel / np.abs(dispersion_per_pixel(wl, axis=-1 if dispaxis == 1 else -2))
    no_cal = np.isnan(rel)
    return scalar * np.where(no_cal, 0.0, rel), no_cal


def unit_factor(phot_unit):
    """Factor from the file's PHOTMJSR unit to MJy micron s / (DN sr) (1 if unstated)."""
    if not phot_unit:
        return 1.0
    from astropy import units as u

    return float(u.Unit(phot_unit).to(u.Unit(EXPECTED_UNIT)))


def select_row(photom, **match):
    index = find_row(photom.phot_table, **match)
    if index is None:
        what = " ".join(f"{k.upper()}={v}" for k, v in match.items())
        raise ReferenceFileError(f"photom reference has no row for {what}")
    return index


def apply_grism_photom(slit, photom, model_meta, *, filter_name, pupil, order, dispaxis):
    """Calibrate one grism cut-out (a SlitModel, 2-D or 3-D data) in place to MJy/sr.

    ``photom`` is an open NrcWfssPhotomModel / NisWfssPhotomModel; ``model_meta`` the
    exposure's meta (mid time for the time dependence). Returns the scalar PHOTMJSR used.
    """
    index = select_row(photom, filter=filter_name, pupil=pupil, order=order)
    row = photom.phot_table[index]
    # kept in the table's precision (float32) as jwst keeps it: PHOTUJA2 then matches
    scalar = row["photmjsr"]
    tables = time_tables(photom, index, filter=filter_name, pupil=pupil, order=order)
    if tables and model_meta.exposure.mid_time is not None:
        scalar = scalar / np.float64(time_dependence(model_meta.exposure.mid_time, **tables))
    phot_unit = getattr(photom, "phot_unit", None)
    if phot_unit:
        scalar = scalar * unit_factor(phot_unit)
    nelem = int(row["nelem"]) if "nelem" in photom.phot_table.dtype.names else None
    wl_tab, rr_tab = sorted_response(row["wavelength"], row["relresponse"], nelem or None)
    factor, no_cal = grism_conversion(scalar, np.asarray(slit.wavelength, float), wl_tab, rr_tab, dispaxis)
    if no_cal.any():
        slit.dq[..., no_cal] |= dqflags.DO_NOT_USE
    variances = [v if v is not None and np.shape(v) == slit.data.shape else None
                 for v in (slit.var_poisson, slit.var_rnoise, slit.var_flat)]
    for b in integration_blocks(slit.data.shape):
        part = [None if v is None else v[b] for v in variances]
        apply_conversion(slit.data[b], slit.err[b], part, factor)
        dqflags.match_nans_and_flags(slit.data[b], slit.dq[b], (slit.err[b], *part))
    return scalar


def subarray_area(area, subarray):
    """The pixel-area map (a full-frame PixelAreaModel's data) cut to the exposure's
    subarray (SUBSTRT/SUBSIZE), as jwst attaches it: the subarray's window, whatever
    cut-out the model holds. A ReferenceFileError when the map does not cover it."""
    origin = (subarray.xstart or 1, subarray.ystart or 1)
    shape = (subarray.ysize or area.data.shape[-2], subarray.xsize or area.data.shape[-1])
    cut = window(origin, shape, source_shape=area.data.shape)
    if cut is None:
        raise ReferenceFileError(f"area reference ({area.data.shape[-2]} x {area.data.shape[-1]}) does not cover "
                                 f"subarray {subarray.name} ({shape[0]} x {shape[1]} at {origin})")
    return np.array(area.data[cut], np.float32)


def set_photometry_keywords(meta, scalar, photom, area=None):
    """PHOTMJSR, PHOTUJA2 and the nominal pixel area (PIXAR_SR/A2: the area file's header
    when there is one, else the photom file's), MJy/sr units."""
    meta.photometry.conversion_megajanskys = float(scalar)
    meta.photometry.conversion_microjanskys = float(scalar * MJSR_TO_UJA2)
    sr, a2 = photom.meta.photometry.pixelarea_steradians, photom.meta.photometry.pixelarea_arcsecsq
    if area is not None:
        # jwst takes them from the area file alone; a file without them would leave the
        # product unable to give Jy, so the photom file's stand in
        sr = area.meta.photometry.pixelarea_steradians or sr
        a2 = area.meta.photometry.pixelarea_arcsecsq or a2
    if sr is not None:
        meta.photometry.pixelarea_steradians = float(sr)
    if a2 is not None:
        meta.photometry.pixelarea_arcsecsq = float(a2)
    meta.bunit_data = meta.bunit_err = "MJy/sr"


def calibrate_slits(model, photom):
    """photom for a WFSS MultiSlitModel: each cut-out by the row of its order (FILTER,
    PUPIL, order), in place, with its own PHOTMJSR, pixel area and units."""
    m = model.meta.instrument
    for slit in model.slits:
        scalar = apply_grism_photom(slit, photom, model.meta, filter_name=m.filter, pupil=m.pupil,
                                    order=slit.meta.wcsinfo.spectral_order,
                                    dispaxis=slit.meta.wcsinfo.dispersion_direction)
        set_photometry_keywords(slit.meta, scalar, photom)
    model.meta.bunit_data = model.meta.bunit_err = None  # each slit carries its unit
    return model
