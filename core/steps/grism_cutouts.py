"""extract_2d for wide-field slitless exposures: one SlitModel per source and order.

Each :class:`spec2.steps.grism_objects.GrismBox` is clipped to the detector and cut
out of the exposure (SCI, ERR, DQ and the variances); the slit's WCS is the exposure's
with a ``grism_slit`` frame in front that adds the cut-out origin and fixes the source's
direct-image position and the order (jwst's layout); its wavelengths come from the
instrument plugin's dispersion polynomials on the cut-out grid. The slit WCSs share the
exposure's transforms (jwst 3.0.0 deep-copies the whole WCS for every slit).
"""

from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger("spec2")


def _clamp(value, low, high):
    return max(low, min(value, high))


def slit_wcs(wcs, xmin, ymin, x0, y0, order, shape):
    """The exposure WCS with the ``grism_slit`` frame inserted before ``grism_detector``."""
    import copy

    from astropy.modeling import bind_bounding_box
    from astropy.modeling.models import Const1D, Mapping, Shift
    from gwcs.wcs import WCS

    constants = []
    for value in (x0, y0, order):
        c = Const1D(value)
        c.inverse = Const1D(value)
        constants.append(c)
    to_detector = Mapping((0, 1, 0, 0, 0)) | (Shift(xmin) & Shift(ymin) & constants[0] & constants[1] & constants[2])
    ny, nx = shape
    bind_bounding_box(to_detector, ((-0.5, nx - 0.5), (-0.5, ny - 0.5)), order="F")
    grism_slit = copy.copy(wcs.input_frame)
    grism_slit.name = "grism_slit"
    steps = [(grism_slit, to_detector)] + [(step.frame, step.transform) for step in wcs.pipeline]
    return WCS(steps)


def cut_out(model, boxes, wavelengths):
    """A MultiSlitModel with one slit per box that has pixels on the detector.

    ``wavelengths(box, xmin, ymin, shape)`` returns the wavelength of every pixel of a
    cut-out whose lower-left pixel is (xmin, ymin) in the exposure."""
    from stdatamodels.jwst import datamodels

    out = datamodels.MultiSlitModel()
    out.update(model)
    sub = model.meta.subarray
    ysize = sub.ysize or model.data.shape[0]
    xsize = sub.xsize or model.data.shape[1]
    arrays = {name: getattr(model, name, None) for name in ("err", "dq", "var_poisson", "var_rnoise", "var_flat")}
    for box in boxes:
        ymin, ymax = _clamp(box.ymin, 0, ysize), _clamp(box.ymax, 0, ysize)
        xmin, xmax = _clamp(box.xmin, 0, xsize), _clamp(box.xmax, 0, xsize)
        if not (ymax - ymin > 0 and xmax - xmin > 0):
            continue
        cut = (slice(ymin, ymax + 1), slice(xmin, xmax + 1))
        data = model.data[cut].copy()
        slit = datamodels.SlitModel(data=data)
        for name, array in arrays.items():
            if array is not None and np.size(array):
                setattr(slit, name, array[cut].copy())
        w = slit.meta.wcsinfo
        w.spectral_order = box.order
        w.dispersion_direction = model.meta.wcsinfo.dispersion_direction
        w.specsys = model.meta.wcsinfo.specsys
        slit.meta.coordinates = model.meta.coordinates
        slit.meta.wcs = slit_wcs(model.meta.wcs, xmin, ymin, box.x0, box.y0, box.order, data.shape)
        slit.wavelength = np.asarray(wavelengths(box, xmin, ymin, data.shape), dtype=np.float32)
        slit.name = f"{box.label}"
        slit.is_extended = box.is_extended
        slit.xstart, slit.xsize = xmin + 1, data.shape[1]
        slit.ystart, slit.ysize = ymin + 1, data.shape[0]
        slit.source_xpos, slit.source_ypos = box.x0, box.y0
        slit.source_id = box.label
        slit.source_ra, slit.source_dec = box.ra, box.dec
        slit.meta.bunit_data, slit.meta.bunit_err = model.meta.bunit_data, model.meta.bunit_err
        out.slits.append(slit)
    if len(out.slits):
        out.slits[0].meta.wcsinfo.s_region = model.meta.wcsinfo.s_region
    log.info("%d cut-outs from %d boxes", len(out.slits), len(boxes))
    return out
