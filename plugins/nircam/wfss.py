"""NIRCam wide-field slitless spectroscopy (NRC_WFSS): the steps' NIRCam-specific parts.

The generic machinery is in the core (source catalog, boxes, cut-outs, grism photom,
extraction); what is NIRCam's here: the WCS (``assign_wcs``), the dispersion direction
of each grism, the wavelengthrange lookup by FILTER, and the wavelengths of a cut-out.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from spec2.errors import InputError, ReferenceFileError

log = logging.getLogger("spec2")

WFSS = "NRC_WFSS"
DISPERSION_AXIS = {"GRISMR": 1, "GRISMC": 2}


def catalog_path(model, members) -> Path:
    """The source catalog: the association's ``sourcecat`` member, else SCATFILE
    (relative to the working folder, as jwst reads it). A WFSS exposure without one is
    an error."""
    listed = (members or {}).get("sourcecat") or []
    if listed:
        return Path(listed[0])
    name = model.meta.source_catalog
    if not name:
        raise InputError("a WFSS exposure needs a source catalog: give an association with a sourcecat "
                         "member (or set SCATFILE)")
    return Path(name)


def assign_wfss_wcs(model, specwcs, distortion, filteroffset, members):
    """Attach the WFSS WCS, the dispersion direction and the association's catalog,
    segmentation map and direct image names (as jwst records them) in place."""
    from spec2_nircam.assign_wcs import build_wfss_wcs

    path = catalog_path(model, members)
    if not path.is_file():
        raise InputError(f"source catalog {path} does not exist")
    for exptype, attr in (("sourcecat", "source_catalog"), ("segmap", "segmentation_map"),
                          ("direct_image", "direct_image")):
        listed = (members or {}).get(exptype) or []
        if listed:
            setattr(model.meta, attr, Path(listed[0]).name)
    from spec2.wcs.fits_approximation import store_imaging_approximation
    from spec2_nircam.assign_wcs import imaging_pipeline

    model.meta.wcsinfo.specsys = "BARYCENT"
    model.meta.wcsinfo.dispersion_direction = DISPERSION_AXIS[model.meta.instrument.pupil]
    model.meta.wcs = build_wfss_wcs(model, specwcs, distortion, filteroffset)
    store_imaging_approximation(model, imaging_pipeline(model, distortion, filteroffset))
    return model


def wavelength_ranges(wavelengthrange, filter_name, extract_orders=None):
    """{order: (lambda_min, lambda_max)} of the orders to extract (the reference's
    extract_orders for the filter unless given)."""
    if "WFSS" not in str(wavelengthrange.meta.exposure.type):
        raise ReferenceFileError("wavelengthrange reference is not for WFSS")
    if extract_orders is None:
        listed = [orders for name, orders in wavelengthrange.extract_orders if name == filter_name]
        if not listed:
            raise ReferenceFileError(f"wavelengthrange lists no orders to extract for filter {filter_name}")
        extract_orders = list(listed[-1])
    ranges = {}
    for order in extract_orders:
        rows = [(r[2], r[3]) for r in wavelengthrange.wavelengthrange if r[0] == order and r[1] == filter_name]
        if not rows:
            raise ReferenceFileError(f"wavelengthrange has no range for order {order} and filter {filter_name}")
        ranges[int(order)] = (float(rows[0][0]), float(rows[0][1]))
    return ranges


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
    from spec2.grism_catalog import read_catalog
    from spec2.steps.grism_cutouts import cut_out
    from spec2.steps.grism_objects import grism_boxes
    from spec2.wcs.velocity import velocity_factor

    ranges = wavelength_ranges(wavelengthrange, model.meta.instrument.filter, extract_orders)
    missing = [o for o in ranges if o not in orders]
    if missing:
        raise ReferenceFileError(f"specwcs has no dispersion model for order(s) {missing}")
    to_detector = model.meta.wcs.get_transform("world", "detector")
    velosys = model.meta.wcsinfo.velosys
    boxes = grism_boxes(
        read_catalog(catalog_file), lambda ra, dec: to_detector(ra, dec, 1, 1)[:2], orders, ranges,
        velocity_factor=1.0 if velosys is None else velocity_factor(velosys),
        dispaxis=model.meta.wcsinfo.dispersion_direction, shape=model.data.shape,
        mmag_extract=mmag_extract, source_ids=source_ids, half_height=half_height, nbright=nbright)
    if not boxes:
        raise InputError("no source of the catalog has a spectrum on the detector")
    return cut_out(model, boxes, cutout_wavelengths(model, orders))
