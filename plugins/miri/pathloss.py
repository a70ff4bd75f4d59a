"""MIRI LRS fixed-slit pathloss: the slit loss of a point source at its position."""

from __future__ import annotations

import logging

import numpy as np

from spec2.algorithms import dq as dqflags
from spec2.algorithms.pathloss import bilinear_vector, grid_index, onto_wavelengths

log = logging.getLogger("spec2")


def aperture_reference(wcs):
    """(x, y) of the aperture reference point, recorded in the LRS WCS as the no-op
    shift pair at the head of the detector transform."""
    transform = wcs.get_transform("detector", "world")
    return -float(transform.offset_1.value), -float(transform.offset_2.value)


def source_offset(model):
    """The target's detector offset (dx, dy) in pixels from the aperture reference point:
    its RA/Dec (TARG_RA/TARG_DEC) through the inverse WCS at the reference wavelength."""
    wcs = model.meta.wcs
    x_ref, y_ref = aperture_reference(wcs)
    _, _, wave = wcs(x_ref, y_ref)
    x, y = wcs.invert(model.meta.target.ra, model.meta.target.dec, wave, with_bounding_box=False)
    return float(x) - x_ref, float(y) - y_ref


def lrs_correction(pathloss, dx, dy):
    """(ascending wavelengths, correction) for a source at (dx, dy) pixels; the slit centre
    when the source falls outside the table."""
    table = pathloss.pathloss_table
    cube = np.asarray(table["pathloss"], float)
    w = pathloss.meta.wcsinfo
    col = grid_index(dx, w.crpix1, w.crval1, w.cdelt1)
    row = grid_index(dy, w.crpix2, w.crval2, w.cdelt2)
    vector = bilinear_vector(cube, col, row)
    if vector is None:
        log.info("source outside the slit; using the correction at the slit centre")
        vector = bilinear_vector(cube, grid_index(0.0, w.crpix1, w.crval1, w.cdelt1), grid_index(0.0, w.crpix2, w.crval2, w.cdelt2))
    wl = np.asarray(table["wavelength"], float)
    order = np.argsort(wl)  # tables are stored with descending wavelength
    return wl[order], vector[order]


def apply_lrs_pathloss(model, pathloss):
    """Multiply the slit data by the point-source slit-loss correction; return the model.

    Only point sources are corrected (an extended source fills the slit the way the flat
    field assumes); others raise StepSkipped. Variances scale by the square.
    """
    from spec2.errors import StepSkipped

    if (model.meta.target.source_type or "").upper() != "POINT":
        raise StepSkipped("LRS pathloss applies to point sources only")
    dx, dy = source_offset(model)
    log.info("target at (%.3f, %.3f) px from the aperture reference point", dx, dy)
    wl, corr = lrs_correction(pathloss, dx, dy)
    # The correction exists where the wavelength does; outside that rectangle the
    # product is NaN and DO_NOT_USE, which is set directly.
    factor = np.full(model.wavelength.shape, np.nan, np.float32)
    variances = [getattr(model, n) for n in ("var_poisson", "var_rnoise", "var_flat")]
    variances = [v if v is not None and v.shape == model.data.shape else None for v in variances]
    region = dqflags.finite_region(model.wavelength)
    dqflags.blank_outside(region, model.data, model.dq, (model.err, *variances))
    if region is not None:
        inside = (Ellipsis, *region)
        f = onto_wavelengths(model.wavelength[region], wl, corr).astype(np.float32)
        factor[region] = f
        data, err, dq = model.data[inside], model.err[inside], model.dq[inside]
        data *= f
        err *= f
        for var in variances:
            if var is not None:
                var[inside] *= f * f
        dqflags.match_nans_and_flags(data, dq, (err, *[v[inside] for v in variances if v is not None]))
    model.pathloss_point = factor
    return model
