"""NIRSpec wavecorr: the wavelength zero point of a point source off-centre in its slit.

A source displaced across a slit (along the dispersion) lands displaced on the detector,
so the slit-centred WCS reads wrong wavelengths for it. The wavecorr reference tabulates,
per aperture, the shift in pixels as a function of (wavelength, source x position). With
the column-mean wavelength lambda(x) and dispersion D(x) of the cut-out, the corrected
wavelength is lambda + shift(lambda, xpos) * D; a lookup lambda -> corrected lambda is
inserted into the slit's WCS as the ``wavecorr_frame`` right after ``slit_frame``, and
the slit's wavelength array is re-evaluated. Only point sources are corrected; a
correction that would not increase monotonically is not applied (jwst's rule).
Fixed slits read the reference aperture of their own name; MOS slitlets, whatever
their shutter, all read the aperture "MOS" with their source_xpos in the shutter.
"""

from __future__ import annotations

import logging

import numpy as np

from spec2.wcs.compiled import compile_model

log = logging.getLogger("spec2")


def _pixel_grid(wcs):
    from gwcs.wcstools import grid_from_bounding_box

    return grid_from_bounding_box(wcs.bounding_box, step=(1, 1))


def world_wavelength(wcs, x, y):
    """The wavelength (um) ``wcs(x, y)`` gives at points inside its bounding box: the
    chain evaluated to slit_frame and on to world through spec2.wcs.compiled (the same
    arithmetic, without astropy's per-node overhead)."""
    slit = compile_model(wcs.get_transform("detector", "slit_frame"))(x, y)
    return compile_model(wcs.get_transform("slit_frame", "world"))(*slit)[2]


def column_dispersion(wcs, x, y):
    """Wavelength step across each pixel (m): lambda(x + 1/2) - lambda(x - 1/2)."""
    right = world_wavelength(wcs, x + 0.5, y)
    left = world_wavelength(wcs, x - 0.5, y)
    return (right - left) * 10**-6


def correction_table(wavelength_m, dispersion_m, offset_model, source_xpos):
    """The Tabular1D lambda -> corrected lambda (m), or None if not monotonic.

    ``offset_model`` is the aperture's ``zero_point_offset`` (2-D lookup of pixel shift
    against wavelength and source x position), extrapolated beyond its table.
    """
    from astropy.modeling.models import Tabular1D

    offset_model = offset_model.copy()
    offset_model.bounds_error = False
    offset_model.fill_value = None
    lam_mean = np.nanmean(wavelength_m, axis=0)
    disp_mean = np.nanmean(dispersion_m, axis=0)
    keep = ~(np.isnan(lam_mean) | np.isnan(disp_mean))
    lam_mean, disp_mean = lam_mean[keep], disp_mean[keep]
    corrected = lam_mean + offset_model(lam_mean, source_xpos) * disp_mean
    if not np.all(np.diff(corrected) > 0):
        return None
    return Tabular1D(points=lam_mean, lookup_table=corrected, bounds_error=False, fill_value=None,
                     name="wave2wavecorr")


def _is_point(slit) -> bool:
    value = slit.source_type if slit.source_type is not None else slit.meta.target.source_type
    return value is not None and value.strip().upper() == "POINT"


def _aperture_offsets(wavecorr_model):
    return {ap.aperture_name: ap.zero_point_offset for ap in wavecorr_model.apertures}


#: The exposure types whose slits have a reference aperture of their own name; MSA
#: slitlets all use the aperture "MOS".
_NAMED_APERTURES = ("NRS_FIXEDSLIT", "NRS_BRIGHTOBJ")


def aperture_name(slit, exp_type=None):
    """The wavecorr aperture of a slit: its own name for a fixed slit (the slit's
    EXP_TYPE, else the exposure's ``exp_type``), else "MOS"."""
    kind = slit.meta.exposure.type or exp_type
    return slit.name if kind in _NAMED_APERTURES else "MOS"


def correct_slit(slit, offsets, exp_type=None) -> bool:
    """Insert the zero-point correction into one slit; True if it was applied."""
    from astropy import units as u
    from astropy.modeling.models import Identity
    from gwcs import coordinate_frames as cf

    name = aperture_name(slit, exp_type)
    table = offsets.get(name)
    if table is None:
        log.warning("no wavelength zero-point correction for slit %s (aperture %s)", slit.name, name)
        return False
    wcs = slit.meta.wcs
    x, y = _pixel_grid(wcs)
    lam = slit.wavelength.copy() * 1e-6
    tab = correction_table(lam, column_dispersion(wcs, x, y), table, slit.source_xpos)
    if tab is None:
        log.warning("wavelength correction for slit %s is not monotonic; not applied", slit.name)
        return False
    spatial = cf.Frame2D(name="slit_spatial", axes_order=(0, 1), unit=("", ""), axes_names=("x_slit", "y_slit"))
    spectral = cf.SpectralFrame(name="spectral", axes_order=(2,), unit=(u.micron,), axes_names=("wavelength",))
    wcs.insert_frame("slit_frame", Identity(2) & tab, cf.CompositeFrame([spatial, spectral], name="wavecorr_frame"))
    slit.wavelength = world_wavelength(wcs, x, y)
    return True


def apply_wavecorr(model, wavecorr_model):
    """Correct every point-source slit of a MultiSlitModel (or the BOTS SlitModel) in
    place; returns (model, whether any slit was corrected)."""
    offsets = _aperture_offsets(wavecorr_model)
    exp_type = model.meta.exposure.type
    if not hasattr(model, "slits"):
        return model, _is_point(model) and correct_slit(model, offsets, exp_type)
    corrected = False
    for slit in model.slits:
        done = _is_point(slit) and correct_slit(slit, offsets, exp_type)
        slit.wavelength_corrected = bool(done)
        corrected = corrected or done
    return model, corrected


# Uncorrected wavelengths of a corrected slit, computed once and shared by flat_field,
# pathloss and photom (jwst evaluates the WCS again in each of them). Datamodels are not
# hashable and a MultiSlitModel hands out a new slit object per access, so entries are
# keyed by the slit's wavelength array itself (the same ndarray for every access), and
# only the latest few are kept.
_UNCORRECTED: list = []
_CACHE_SIZE = 16


def uncorrected_wavelength(slit):
    """The slit's wavelengths (um) without the zero-point correction: the WCS skipping
    its wavecorr_frame, evaluated at every pixel (float64); the stored wavelength array
    when there is no correction."""
    wcs = getattr(slit.meta, "wcs", None)
    if wcs is None or "wavecorr_frame" not in wcs.available_frames:
        return slit.wavelength.copy()
    key = slit.wavelength
    for array, value in _UNCORRECTED:
        if array is key:
            return value.copy()
    y, x = np.indices(slit.data.shape[-2:], dtype=np.float64)
    skip = wcs.get_transform("detector", "slit_frame") | wcs.get_transform("wavecorr_frame", "world")
    value = skip(x, y)[2]
    _UNCORRECTED.append((key, value))
    del _UNCORRECTED[:-_CACHE_SIZE]
    return value.copy()
