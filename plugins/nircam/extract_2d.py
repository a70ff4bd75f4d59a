"""extract_2d for NIRCam grism time series: one SlitModel cut-out of every integration.

As jwst 3.0.0 does for NRC_TSGRISM: the cut-out spans every column (the NIRCam team
asks for the whole dispersion range) and ``tsgrism_extract_height`` rows (default 64, the
team's band, whatever the subarray: SUBGRISM128/256 and full frame keep their first 64
rows) placed so that the source lands on cut-out row 34; the WCS gets the cut-out origin
and the order prepended. The wavelength of every cut-out pixel comes from
the grism polynomials in one vectorised evaluation (row dispersion: it depends on the
column only), not from a WCS call per pixel.
"""

from __future__ import annotations

import copy
import logging

import numpy as np

from spec2.errors import InputError, ReferenceFileError
from spec2.models import new_model

log = logging.getLogger("spec2")

SOURCE_ROW = 34  # jwst puts the source on this cut-out row
DEFAULT_HEIGHT = 64  # jwst's extract2d default for tsgrism_extract_height (the NIRCam team's)


def extraction_order(wavelengthrange, filter_name, extract_orders=None):
    """(order, lambda_min, lambda_max) to extract; TSGRISM extracts one order."""
    if wavelengthrange.meta.instrument.name != "NIRCAM" or wavelengthrange.meta.exposure.type != "NRC_TSGRISM":
        raise ReferenceFileError("wavelengthrange reference is not for NIRCam NRC_TSGRISM")
    if extract_orders is None:
        from spec2.steps.wfss_sources import listed_orders

        extract_orders = listed_orders(wavelengthrange, filter_name)
    if len(extract_orders) != 1:
        raise InputError("extracting more than one order of a grism time series is not supported (jwst neither)")
    order = int(extract_orders[0])
    rows = [r for r in wavelengthrange.wavelengthrange if r[0] == order and r[2] == filter_name]
    if not rows:
        raise ReferenceFileError(f"wavelengthrange has no range for order {order} and filter {filter_name}")
    return order, float(rows[0][3]), float(rows[0][4])


def cutout_rows(height, ysize):
    """(first, last) 0-based rows of a cut-out ``height`` rows high, jwst's placement: it
    takes the source to be on row 34 (whatever YREF_SCI says) and keeps it there when the
    subarray allows."""
    centre = SOURCE_ROW
    half = int(height / 2)
    below = centre - half
    if below == SOURCE_ROW:
        first, last = 0, centre + half
    elif below < 0:
        first, last = 0, height - 1
    else:
        first, last = centre - SOURCE_ROW, centre + height - SOURCE_ROW - 1
    if first > last:
        raise InputError("tsgrism_extract_height gives an empty cut-out")
    return max(first, 0), min(last, ysize)


def source_column(model):
    """Direct-image column of the source: the aperture reference point moved by the
    dither offsets through the imaging distortion (jwst's compute_tso_offset_center)."""
    from spec2.wcs.pointing import ideal_to_v2v3

    w = model.meta.wcsinfo
    v2, v3 = ideal_to_v2v3(model.meta.dither.x_offset or 0.0, model.meta.dither.y_offset or 0.0,
                           w.v3yangle, w.v2_ref, w.v3_ref, w.vparity)
    to_direct = model.meta.wcs.get_transform("v2v3", "direct_image")
    xc, _, _, _ = to_direct(v2, v3, np.nan, 1)
    return float(xc)


def tso_wavelengths(model, grism_order, shape, velosys):
    """Wavelength of each pixel of a cut-out spanning every column (micron, float64,
    rows x columns): with row dispersion and one source it depends on the column only."""
    from spec2.algorithms.grism import wavelength_at_pixels
    from spec2.wcs.velocity import velocity_factor
    from spec2_nircam.assign_wcs import source_reference

    x0, y0 = source_reference(model)
    ny, nx = shape
    sub = model.meta.subarray
    x_full = np.arange(nx, dtype=float) + ((sub.xstart or 1) - 1)
    wl = wavelength_at_pixels(grism_order, x_full, None, x0, y0, axis="row")
    if velosys is not None:
        wl = wl * velocity_factor(velosys)
    return np.broadcast_to(wl, (ny, nx))


def _set_cutout_wcs(model, subwcs, ymin, order):
    from astropy.modeling.models import Const1D, Mapping, Shift

    order_model = Const1D(order)
    order_model.inverse = Const1D(order)
    tr = model.meta.wcs.get_transform("grism_detector", "direct_image")
    subwcs.set_transform("grism_detector", "direct_image",
                         Mapping((0, 1, 0)) | Shift(0) & Shift(ymin) & order_model | tr)


def extract_tso(model, wavelengthrange, grism_orders, extract_orders=None, extract_height=None):
    """The SlitModel cut-out of a TSGRISM CubeModel (or ImageModel). Its arrays are views
    of the input's: calibrating the cut-out in place changes the input's pixels too."""
    from stdatamodels.jwst import datamodels

    from spec2.algorithms.grism import dispersed_position
    from spec2.wcs.velocity import velocity_factor
    from spec2_nircam.assign_wcs import source_reference

    order, lmin, lmax = extraction_order(wavelengthrange, model.meta.instrument.filter, extract_orders)
    if order not in grism_orders:
        raise ReferenceFileError(f"specwcs has no dispersion model for order {order}")
    g = grism_orders[order]
    velosys = model.meta.wcsinfo.velosys
    ysize = model.meta.subarray.ysize or model.data.shape[-2]
    height = DEFAULT_HEIGHT if extract_height is None else int(extract_height)
    xc = source_column(model)
    first, last = cutout_rows(height, ysize)
    # the trace's extent is only reported: the cut-out keeps every column, as jwst's
    x0, y0 = source_reference(model)
    vel = 1.0 if velosys is None else velocity_factor(velosys)
    (xa, xb), _ = dispersed_position(g, x0, y0, np.array([lmin, lmax]) / vel)
    log.info("order %d trace spans columns %.0f -> %.0f; cut-out rows %d -> %d, every column",
             order, xa, xb, first, last)

    nx = model.data.shape[-1]
    rows = slice(first, last + 1)
    out = new_model(datamodels.SlitModel)
    out.update(model)
    # views, not copies: the cut-out usually spans the whole subarray, and the exposure
    # model is not used once it is cut (the runner saved it already if asked to)
    for name in ("data", "err", "dq", "var_poisson", "var_rnoise", "var_flat"):
        value = getattr(model, name, None)
        if value is not None and np.size(value):
            setattr(out, name, value[..., rows, :])
    shape = out.data.shape[-2:]
    subwcs = copy.deepcopy(model.meta.wcs)
    _set_cutout_wcs(model, subwcs, first, order)
    subwcs.bounding_box = ((-0.5, shape[-1] - 0.5), (-0.5, shape[-2] - 0.5))
    out.meta.wcs = subwcs
    out.wavelength = tso_wavelengths(model, g, shape, velosys).astype(np.float32)
    out.meta.wcsinfo.siaf_xref_sci = xc + 1
    out.meta.wcsinfo.siaf_yref_sci = SOURCE_ROW  # jwst's (0-based) value
    out.meta.wcsinfo.spectral_order = order
    out.meta.wcsinfo.dispersion_direction = model.meta.wcsinfo.dispersion_direction
    out.meta.instrument.name = "NIRCAM"
    out.name = "1"
    out.source_type = model.meta.target.source_type
    out.source_name = model.meta.target.catalog_name
    out.source_alias = model.meta.target.proposer_name
    out.xstart, out.xsize = 1, nx
    out.ystart, out.ysize = first + 1, shape[-2]
    out.source_xpos, out.source_ypos = xc, SOURCE_ROW
    out.source_id = 1
    out.meta.bunit_data, out.meta.bunit_err = model.meta.bunit_data, model.meta.bunit_err
    if getattr(model, "int_times", None) is not None:
        out.int_times = model.int_times.copy()
    return out
