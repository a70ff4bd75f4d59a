"""MIRI LRS fixed-slit pathloss: the slit loss of a point source at its position."""

from __future__ import annotations

import logging

import numpy as np

from spec2.algorithms import dq as dqflags
from spec2.algorithms.pathloss import bilinear_vector, grid_index, onto_wavelengths
from spec2.algorithms.photom import apply_where_defined

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
    region = dqflags.finite_region(model.wavelength)
    if region is not None:
        factor[region] = onto_wavelengths(model.wavelength[region], wl, corr)
    apply_where_defined(region, None if region is None else factor[region], model.data, model.err, model.dq,
                        (model.var_poisson, model.var_rnoise, model.var_flat))
    model.pathloss_point = factor
    return model
