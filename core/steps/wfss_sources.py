"""The sources of a wide-field slitless exposure: its catalog, the association members
jwst records, the orders' wavelength ranges and the trace boxes on the detector.

Shared by every WFSS plugin (NIRCam, NIRISS) and by two steps: extract_2d cuts the
boxes out, bkg_subtract masks them. What differs per instrument comes in as arguments:
the name the wavelengthrange file is keyed by (NIRCam: FILTER, NIRISS: PUPIL, the
blocking filter), the dispersion models and the angle the traces are turned by.
"""

from __future__ import annotations

from pathlib import Path

from spec2.errors import InputError, ReferenceFileError

# association member type -> the meta attribute jwst records its file name in
MEMBER_ATTRIBUTES = (("sourcecat", "source_catalog"), ("segmap", "segmentation_map"),
                     ("direct_image", "direct_image"))


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


def record_members(model, members) -> Path:
    """Check the catalog exists and record the catalog, segmentation map and direct
    image names in the exposure's metadata (as jwst's assign_wcs does); return the
    catalog's path."""
    path = catalog_path(model, members)
    if not path.is_file():
        raise InputError(f"source catalog {path} does not exist")
    for exptype, attr in MEMBER_ATTRIBUTES:
        listed = (members or {}).get(exptype) or []
        if listed:
            setattr(model.meta, attr, Path(listed[0]).name)
    return path


def listed_orders(wavelengthrange, filter_name) -> list:
    """The orders a wavelengthrange reference (WFSS or time-series form) extracts for
    ``filter_name`` (its last entry for that name, as jwst reads it)."""
    listed = [orders for name, orders in wavelengthrange.extract_orders if name == filter_name]
    if not listed:
        raise ReferenceFileError(f"wavelengthrange lists no orders to extract for filter {filter_name}")
    return list(listed[-1])


def wavelength_ranges(wavelengthrange, filter_name, extract_orders=None):
    """{order: (lambda_min, lambda_max)} of the orders to extract (the reference's
    extract_orders for ``filter_name`` unless given) from a WFSS wavelengthrange
    reference."""
    if "WFSS" not in str(wavelengthrange.meta.exposure.type):
        raise ReferenceFileError("wavelengthrange reference is not for WFSS")
    if extract_orders is None:
        extract_orders = listed_orders(wavelengthrange, filter_name)
    ranges = {}
    for order in extract_orders:
        rows = [(r[2], r[3]) for r in wavelengthrange.wavelengthrange if r[0] == order and r[1] == filter_name]
        if not rows:
            raise ReferenceFileError(f"wavelengthrange has no range for order {order} and filter {filter_name}")
        ranges[int(order)] = (float(rows[0][0]), float(rows[0][1]))
    return ranges


def source_boxes(model, catalog_file, orders, ranges, *, rotation=0.0, half_height=None,
                 mmag_extract=None, nbright=None, source_ids=None):
    """The GrismBoxes of the catalog's sources in an exposure with a WFSS WCS (world ->
    detector through its imaging part), for the orders of ``ranges``; ``rotation`` is
    the angle (degrees) the backward dispersion turns the traces by."""
    from spec2.grism_catalog import read_catalog
    from spec2.steps.grism_objects import grism_boxes
    from spec2.wcs.velocity import velocity_factor

    missing = [o for o in ranges if o not in orders]
    if missing:
        raise ReferenceFileError(f"specwcs has no dispersion model for order(s) {missing}")
    to_detector = model.meta.wcs.get_transform("world", "detector")
    velosys = model.meta.wcsinfo.velosys
    return grism_boxes(
        read_catalog(catalog_file), lambda ra, dec: to_detector(ra, dec, 1, 1)[:2], orders, ranges,
        velocity_factor=1.0 if velosys is None else velocity_factor(velosys),
        dispaxis=model.meta.wcsinfo.dispersion_direction, shape=model.data.shape,
        mmag_extract=mmag_extract, source_ids=source_ids, half_height=half_height, nbright=nbright,
        rotation=rotation)


def extract_sources(model, catalog_file, orders, ranges, wavelengths, *, rotation=0.0, half_height=5,
                    mmag_extract=None, nbright=1000, source_ids=None):
    """extract_2d: the MultiSlitModel of every selected source and order.
    ``wavelengths`` is the plugin's callable for
    :func:`spec2.steps.grism_cutouts.cut_out`."""
    from spec2.steps.grism_cutouts import cut_out

    boxes = source_boxes(model, catalog_file, orders, ranges, rotation=rotation, half_height=half_height,
                         mmag_extract=mmag_extract, nbright=nbright, source_ids=source_ids)
    if not boxes:
        raise InputError("no source of the catalog has a spectrum on the detector")
    return cut_out(model, boxes, wavelengths)
