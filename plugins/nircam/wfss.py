"""NIRCam wide-field slitless spectroscopy (NRC_WFSS): the steps' NIRCam-specific parts.

The generic machinery is in the core (source catalog, boxes, cut-outs, grism photom,
extraction); what is NIRCam's here: the WCS (``assign_wcs``), the dispersion direction
of each grism, the wavelengthrange lookup by FILTER, and the wavelengths of a cut-out.
"""

from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger("spec2")

WFSS = "NRC_WFSS"
DISPERSION_AXIS = {"GRISMR": 1, "GRISMC": 2}


def assign_wfss_wcs(model, specwcs, distortion, filteroffset, members):
    """Attach the WFSS WCS, the dispersion direction and the association's catalog,
    segmentation map and direct image names (as jwst records them) in place."""
    from spec2.steps.wfss_sources import record_members
    from spec2.wcs.fits_approximation import store_imaging_approximation
    from spec2.wcs.grism_imaging import imaging_pipeline
    from spec2_nircam.assign_wcs import build_wfss_wcs

    record_members(model, members)
    model.meta.wcsinfo.specsys = "BARYCENT"
    model.meta.wcsinfo.dispersion_direction = DISPERSION_AXIS[model.meta.instrument.pupil]
    model.meta.wcs = build_wfss_wcs(model, specwcs, distortion, filteroffset)
    store_imaging_approximation(model, imaging_pipeline(model, distortion, filteroffset))
    return model


def cutout_wavelengths(model, orders):
    """The wavelengths callable for :func:`spec2.steps.grism_cutouts.cut_out`: the
    NIRCam forward dispersion on the cut-out grid, barycentric."""
    from spec2.algorithms.grism import wavelength_at_pixels
    from spec2.wcs.velocity import velocity_factor

    axis = "row" if model.meta.wcsinfo.dispersion_direction == 1 else "column"
    velosys = model.meta.wcsinfo.velosys

    def wavelengths(box, xmin, ymin, shape):
        ny, nx = shape
        y, x = np.mgrid[:ny, :nx].astype(float)
        wl = wavelength_at_pixels(orders[box.order], x + xmin, y + ymin, box.x0, box.y0, axis=axis)
        wl = np.broadcast_to(wl, shape)
        return wl if velosys is None else wl * velocity_factor(velosys)

    return wavelengths


def extract_wfss(model, catalog_file, wavelengthrange, orders, *, extract_orders=None, half_height=5,
                 mmag_extract=None, nbright=1000, source_ids=None):
    """The MultiSlitModel of every selected source and order."""
    from spec2.steps.wfss_sources import extract_sources, wavelength_ranges

    ranges = wavelength_ranges(wavelengthrange, model.meta.instrument.filter, extract_orders)
    return extract_sources(model, catalog_file, orders, ranges, cutout_wavelengths(model, orders),
                           half_height=half_height, mmag_extract=mmag_extract, nbright=nbright,
                           source_ids=source_ids)


def background_mask(model, catalog_file, wavelengthrange, orders, mmag_extract=None):
    """bkg_subtract's mask (True: background): every source's box in every order the
    wavelengthrange extracts, as jwst masks them (no half-height, no brightness cap)."""
    from spec2.steps.wfss_background import source_mask
    from spec2.steps.wfss_sources import source_boxes, wavelength_ranges

    ranges = wavelength_ranges(wavelengthrange, model.meta.instrument.filter)
    return source_mask(model.data.shape, source_boxes(model, catalog_file, orders, ranges, mmag_extract=mmag_extract))
