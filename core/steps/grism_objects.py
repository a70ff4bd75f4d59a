"""Which sources of a WFSS catalog to cut out, and where: one box per source and order.

As jwst 3.0.0's ``create_grism_bbox``: sources brighter than ``mmag_extract`` (and among
``source_ids`` when given) are placed in the exposure's direct-image frame through the
imaging WCS; each order's box spans the source's sky bounding box dispersed at both ends
of the order's wavelength range (point sources: +- ``half_height`` about the trace
centre across the dispersion); boxes with no part on the detector are dropped, sources
with no box left too; the ``nbright`` brightest remain, brightest first. All sources are
dispersed in a few array operations (their centroids placed one by one, for slit WCS
constants identical to jwst's).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from spec2.algorithms.grism import GrismOrder, order_boxes
from spec2.grism_catalog import SourceCatalog

log = logging.getLogger("spec2")


@dataclass(frozen=True)
class GrismBox:
    """One source's trace of one order on the detector (0-based inclusive pixel bounds,
    not yet clipped to the detector)."""

    label: int
    order: int
    xmin: int
    xmax: int
    ymin: int
    ymax: int
    partial: bool
    x0: float  # the source's direct-image position
    y0: float
    ra: float
    dec: float
    is_extended: bool
    abmag: float
    wavelength_range: tuple[float, float]


def grism_boxes(catalog: SourceCatalog, sky_to_detector, orders: dict[int, GrismOrder],
                wavelength_ranges: dict[int, tuple[float, float]], *, velocity_factor=1.0, dispaxis,
                shape, mmag_extract=None, source_ids=None, half_height=None, nbright=None, rotation=0.0):
    """Boxes of every selected source and order, brightest source first, orders in the
    order of ``wavelength_ranges``.

    sky_to_detector -- callable (ra, dec) arrays -> direct-image (x, y), vectorised
    wavelength_ranges -- {order: (lambda_min, lambda_max)} in microns (barycentric, as
                       the wavelengthrange file gives them); ``velocity_factor`` is
                       lambda_bary / lambda_observed of the exposure
    rotation          -- degrees the traces are turned by (NIRISS's backward dispersion)
    """
    limit = 999.0 if mmag_extract is None else float(mmag_extract)
    with np.errstate(invalid="ignore"):
        keep = ~(catalog.abmag >= limit)
    if source_ids is not None:
        keep &= np.isin(catalog.label, np.atleast_1d(source_ids))
    cat = catalog.select(keep)
    if not len(cat):
        return []
    # centroids one source at a time, as jwst: numpy rounds array and scalar trigonometry
    # differently (1e-12 px), and these positions become constants of each slit's WCS
    x0, y0 = np.empty(len(cat)), np.empty(len(cat))
    for i, (ra, dec) in enumerate(zip(cat.ra, cat.dec)):
        x0[i], y0[i] = (float(v) for v in sky_to_detector(ra, dec))
    cx, cy = sky_to_detector(cat.corner_ra.ravel(), cat.corner_dec.ravel())
    cx, cy = np.reshape(cx, cat.corner_ra.shape), np.reshape(cy, cat.corner_ra.shape)
    per_order = {}
    for order, (lmin, lmax) in wavelength_ranges.items():
        per_order[order] = order_boxes(
            orders[order], cx, cy, np.asarray(x0, float), np.asarray(y0, float),
            (lmin / velocity_factor, lmax / velocity_factor), dispaxis=dispaxis, shape=shape,
            half_height=half_height, is_extended=cat.is_extended, rotation=rotation)
    has_box = np.zeros(len(cat), bool)
    for *_, kept, _partial in per_order.values():
        has_box |= kept
    # a centroid off the imaging WCS's domain (a catalog source beyond the detector edge
    # whose bounding box reaches onto it) has no trace model to cut or wavelengths to
    # give: dropped (jwst 3.0.0 keeps it and then fails evaluating its NIRISS wavelengths)
    unplaced = has_box & ~(np.isfinite(x0) & np.isfinite(y0))
    if unplaced.any():
        log.warning("%d source(s) centred off the detector dropped: %s", unplaced.sum(),
                    ", ".join(str(v) for v in cat.label[unplaced]))
        has_box &= ~unplaced
    if source_ids is not None:
        for order, (*_, kept, _p) in per_order.items():
            for label in cat.label[~kept]:
                log.warning("requested source %s, order %d, is off the detector", label, order)
    objects = np.nonzero(has_box)[0]
    ranked = objects[np.argsort(cat.abmag[objects])]
    if nbright is not None:
        ranked = ranked[:nbright]
    boxes = []
    for i in ranked:
        for order, (xmin, xmax, ymin, ymax, kept, partial) in per_order.items():
            if kept[i]:
                boxes.append(GrismBox(
                    label=int(cat.label[i]), order=int(order), xmin=int(xmin[i]), xmax=int(xmax[i]),
                    ymin=int(ymin[i]), ymax=int(ymax[i]), partial=bool(partial[i]), x0=float(x0[i]),
                    y0=float(y0[i]), ra=float(cat.ra[i]), dec=float(cat.dec[i]),
                    is_extended=bool(cat.is_extended[i]), abmag=float(cat.abmag[i]),
                    wavelength_range=tuple(map(float, wavelength_ranges[order]))))
    log.info("%d sources with %d boxes on the detector (of %d in the catalog)", len(ranked), len(boxes), len(catalog))
    return boxes
