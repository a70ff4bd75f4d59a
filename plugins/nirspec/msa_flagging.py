"""msa_flagging: flag MSA_FAILED_OPEN where light through failed-open shutters falls.

The ``msaoper`` reference (JSON) lists the shutters of the four quadrants with their
operability; a shutter whose ``state``, ``TA state`` or ``Internal state`` is ``open`` is
stuck open and lets sky light through whatever the configuration. Each becomes a
one-shutter slit (y from -0.5 to 0.5), its WCS is built as the exposure's slitlets' are,
and every pixel of its bounding box that the WCS maps to the sky is flagged, as jwst's
msaflagopen does (DO_NOT_USE is not set: the pixels may still hold a science spectrum).
"""

from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger("spec2")

FLAGGABLE_STATES = ("Internal state", "TA state", "state")
SHUTTERS_PER_ROW = 365


def failed_open_slits(msaoper: dict) -> list:
    """One Slit per failed-open shutter of an msaoper document, its slit id numbered from
    1 in the file's order; named after the shutter, so that the WCS build's log says
    which shutter misses the detector."""
    from stdatamodels.jwst.transforms.models import Slit

    shutters = [s for s in msaoper["msaoper"] if any(s.get(state) == "open" for state in FLAGGABLE_STATES)]
    return [Slit(f"failed-open shutter Q{s['Q']} row {s['x']} column {s['y']}", s["x"] + (s["y"] - 1) * SHUTTERS_PER_ROW,
                 0, s["x"], s["y"], -0.5, 0.5, s["Q"], 0, "x", slit_id=n) for n, s in enumerate(shutters, start=1)]


def box_indices(shape, box):
    """(xmin, xmax, ymin, ymax) array indices covering a bounding box, clipped to the
    array; the box edges are truncated, as jwst indexes them."""
    (x1, x2), (y1, y2) = box
    ny, nx = shape[-2:]
    return (max(int(min(x1, x2)), 0), min(int(max(x1, x2)) + 1, nx),
            max(int(min(y1, y2)), 0), min(int(max(y1, y2)) + 1, ny))


def flag_failed_open(model, msaoper: dict, wcs_refs: dict) -> int:
    """OR MSA_FAILED_OPEN into the model's DQ under every failed-open shutter's light;
    the number of pixels flagged."""
    from stdatamodels.jwst.datamodels.dqflags import pixel

    from spec2_nirspec.wcs_model import NoSlitOnDetector, build_slit_wcs

    slits = failed_open_slits(msaoper)
    log.info("%d failed-open shutters in the msaoper reference", len(slits))
    if not slits:
        return 0
    try:  # (the build records the band in WCSINFO again: the values assign_wcs wrote)
        wcs, slits = build_slit_wcs(model, wcs_refs, slits)
    except NoSlitOnDetector:
        return 0
    flagged = 0
    for slit in slits:
        box = wcs.bounding_box[slit.slit_id]  # a ModelBoundingBox: intervals by input (x, y)
        xmin, xmax, ymin, ymax = box_indices(model.dq.shape, (tuple(box[0]), tuple(box[1])))
        if xmin >= xmax or ymin >= ymax:
            continue
        y, x = np.mgrid[ymin:ymax, xmin:xmax]
        ra = wcs(x, y, slit.slit_id)[0]
        hit = ~np.isnan(ra)
        model.dq[..., ymin:ymax, xmin:xmax][..., hit] |= pixel["MSA_FAILED_OPEN"]
        flagged += int(hit.sum())
    return flagged
