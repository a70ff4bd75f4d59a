"""NIRISS wide-field slitless spectroscopy (NIS_WFSS): the steps' NIRISS-specific parts.

The WCS follows jwst 3.0.0's layout (stdatamodels' NIRISS grism transforms, the imaging
WCS of :mod:`spec2.wcs.grism_imaging`):

    grism_detector (x, y, x0, y0, order) --[NIRISS forward dispersion, velocity]-->
    detector (x0, y0, lambda, order) --> v2v3 --> v2v3vacorr --> world

What is NIRISS's: FILTER is the grism (GR150C disperses along rows, GR150R along
columns) and PUPIL the blocking filter, which keys the wavelengthrange; the traces are
turned by the filter wheel's offset from its calibrated position, theta = FWCPOS -
fwcpos_ref. jwst's forward dispersion turns them by +theta and its backward dispersion
(which places the cut-out boxes) by -theta; spec2 does the same so the products agree.
"""

from __future__ import annotations

import logging

import numpy as np

from spec2.errors import InputError

log = logging.getLogger("spec2")

WFSS = "NIS_WFSS"
DISPERSION_AXIS = {"GR150C": 1, "GR150R": 2}


def grism_name(model) -> str:
    name = str(model.meta.instrument.filter or "")
    if name not in DISPERSION_AXIS:
        raise InputError(f"NIS_WFSS needs FILTER GR150C or GR150R (the grism), not {name or 'none'}")
    return name


def wheel_angle(model, specwcs) -> float:
    """theta = FWCPOS - fwcpos_ref (degrees): how far the filter wheel turned the traces."""
    fwcpos = model.meta.instrument.filter_position
    if fwcpos is None:
        raise InputError("FWCPOS (the filter-wheel position) is missing; NIRISS grism traces depend on it")
    return float(fwcpos) - float(specwcs.fwcpos_ref)


def dispersion_transform(model, specwcs):
    """(x, y, x0, y0, order) -> (x0, y0, lambda, order) with its backward model, from an
    open NIRISSGrismModel; lambda corrected to the barycentre when VELOSYS is known."""
    from stdatamodels.jwst.transforms.models import (
        NIRISSBackwardGrismDispersion,
        NIRISSForwardColumnGrismDispersion,
        NIRISSForwardRowGrismDispersion,
    )

    from spec2.wcs.velocity import barycentric_dispersion

    def instance(attr):
        value = getattr(specwcs, attr)
        return getattr(value, "instance", value)

    theta = wheel_angle(model, specwcs)
    orders = instance("orders")
    forward = NIRISSForwardRowGrismDispersion if grism_name(model) == "GR150C" else NIRISSForwardColumnGrismDispersion
    det2det = forward(orders, lmodels=instance("displ"), xmodels=instance("dispx"), ymodels=instance("dispy"),
                      theta=theta)
    det2det.inverse = NIRISSBackwardGrismDispersion(
        orders, lmodels=instance("invdispl"), xmodels=instance("dispx"), ymodels=instance("dispy"), theta=-theta)
    return barycentric_dispersion(det2det, model.meta.wcsinfo.velosys)


def assign_wfss_wcs(model, specwcs, distortion, filteroffset, members):
    """Attach the WFSS WCS, the dispersion direction, the FITS approximation of the
    imaging WCS and the association's catalog, segmentation map and direct image names
    (as jwst records them), in place."""
    from spec2.steps.wfss_sources import record_members
    from spec2.wcs.fits_approximation import store_imaging_approximation
    from spec2.wcs.grism_imaging import imaging_pipeline, wfss_wcs

    if model.meta.exposure.type != WFSS:
        raise InputError(f"not a NIRISS WFSS exposure (EXP_TYPE {model.meta.exposure.type})")
    grism = grism_name(model)
    record_members(model, members)
    model.meta.wcsinfo.specsys = "BARYCENT"
    model.meta.wcsinfo.dispersion_direction = DISPERSION_AXIS[grism]
    model.meta.wcs = wfss_wcs(dispersion_transform(model, specwcs), imaging_pipeline(model, distortion, filteroffset))
    store_imaging_approximation(model, imaging_pipeline(model, distortion, filteroffset))
    log.info("NIS_WFSS %s: filter wheel %.4f deg from its reference position", grism, wheel_angle(model, specwcs))
    return model


def cutout_wavelengths(model, orders, theta):
    """The wavelengths callable for :func:`spec2.steps.grism_cutouts.cut_out`: NIRISS's
    forward dispersion (sampled, turned by +theta) on the cut-out grid, barycentric."""
    from spec2.algorithms.grism import wavelength_at_pixels_sampled
    from spec2.wcs.velocity import velocity_factor

    axis = "row" if model.meta.wcsinfo.dispersion_direction == 1 else "column"
    velosys = model.meta.wcsinfo.velosys

    def wavelengths(box, xmin, ymin, shape):
        ny, nx = shape
        y, x = np.mgrid[:ny, :nx].astype(float)
        wl = wavelength_at_pixels_sampled(orders[box.order], x + xmin, y + ymin, box.x0, box.y0, axis=axis,
                                          rotation=theta)
        return wl if velosys is None else wl * velocity_factor(velosys)

    return wavelengths


def extract_wfss(model, catalog_file, wavelengthrange, specwcs, *, extract_orders=None, half_height=5,
                 mmag_extract=None, nbright=1000, source_ids=None):
    """extract_2d: the MultiSlitModel of every selected source and order."""
    from spec2.steps.wfss_sources import extract_sources, wavelength_ranges
    from spec2.wcs.grism import specwcs_orders

    orders = specwcs_orders(specwcs)
    theta = wheel_angle(model, specwcs)
    ranges = wavelength_ranges(wavelengthrange, model.meta.instrument.pupil, extract_orders)
    return extract_sources(model, catalog_file, orders, ranges, cutout_wavelengths(model, orders, theta),
                           rotation=-theta, half_height=half_height, mmag_extract=mmag_extract, nbright=nbright,
                           source_ids=source_ids)


def background_mask(model, catalog_file, wavelengthrange, specwcs, mmag_extract=None):
    """bkg_subtract's mask (True: background): every source's box in every order the
    wavelengthrange extracts, as jwst masks them (no half-height, no brightness cap)."""
    from spec2.steps.wfss_background import source_mask
    from spec2.steps.wfss_sources import source_boxes, wavelength_ranges
    from spec2.wcs.grism import specwcs_orders

    orders = specwcs_orders(specwcs)
    ranges = wavelength_ranges(wavelengthrange, model.meta.instrument.pupil)
    boxes = source_boxes(model, catalog_file, orders, ranges, rotation=-wheel_angle(model, specwcs),
                         mmag_extract=mmag_extract)
    return source_mask(model.data.shape, boxes)
