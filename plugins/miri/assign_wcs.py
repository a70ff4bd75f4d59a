"""MIRI LRS world coordinates: detector -> alpha_beta -> v2v3 -> v2v3vacorr -> world.

The model follows the reference files' definitions:

* specwcs (MiriLRSSpecwcsModel): a table of the trace centre (x_center, y_center) and
  wavelength per row, relative to the aperture reference point (x_ref, y_ref for the
  slit; x_ref_slitless, y_ref_slitless for slitless, full-frame, 1-based), and the
  corners of the calibrated region;
* distortion (DistortionModel): the imager's full-frame pixel -> (V2, V3) map.

Wavelength is a smoothing spline (s=0.002) of the table's wavelength against row,
tabulated at the table rows; the trace's column shift is smoothed the same way. The
spatial coordinate alpha is the column offset from the trace times the pixel scale at
the reference point; beta is 0 (the slit is one spatial dimension). alpha maps back to
(V2, V3) through the distortion at the reference row. The frames and transform layout
are those jwst stores, so jwst's own tools read our products' WCS unchanged.
"""

from __future__ import annotations

import numpy as np

from spec2.models import new_model
from spec2.wcs.sregion import format_s_region
from spec2.wcs.velocity import velocity_correction

FIXEDSLIT = "MIR_LRS-FIXEDSLIT"
SLITLESS = "MIR_LRS-SLITLESS"
REFERENCE_COLUMNS = 4  # reference pixels on the left edge of the slitless subarray


def _subarray_shift(model):
    """Subarray (0-based) -> full-frame (0-based) shift model, or None for full frame."""
    from astropy.modeling import models

    xstart = model.meta.subarray.xstart or 1
    ystart = model.meta.subarray.ystart or 1
    if xstart == 1 and ystart == 1:
        return None
    return models.Shift(xstart - 1) & models.Shift(ystart - 1)


def reference_point(model, specwcs):
    """0-based (x, y) of the aperture reference point in the exposure's own pixel frame."""
    if model.meta.exposure.type == SLITLESS:
        x, y = specwcs.meta.x_ref_slitless, specwcs.meta.y_ref_slitless
        x -= (model.meta.subarray.xstart or 1) - 1
        y -= (model.meta.subarray.ystart or 1) - 1
    else:
        x, y = specwcs.meta.x_ref, specwcs.meta.y_ref
    if x is None or y is None:
        from spec2.errors import ReferenceFileError

        raise ReferenceFileError("specwcs reference lacks the aperture reference point (IMX/IMY)")
    return float(x) - 1.0, float(y) - 1.0


def _smoothed_table(rows, values):
    """Smoothing-spline fit of values(row), tabulated at ``rows`` (NaN outside)."""
    from astropy.modeling import models
    from scipy.interpolate import UnivariateSpline

    order = np.argsort(rows)
    spline = UnivariateSpline(rows[order], values[order], s=0.002)
    return models.Tabular1D(
        points=rows, lookup_table=spline(rows), bounds_error=False, fill_value=np.nan
    )


def detector_to_alpha_beta(model, distortion, specwcs):
    """(x, y) in the exposure's frame -> (alpha [arcsec], beta, lambda [micron])."""
    from astropy.modeling import bind_bounding_box, models

    x0, y0 = reference_point(model, specwcs)
    to_v2v3 = _frame_distortion(model, distortion)
    v2a, v3a = to_v2v3(x0, y0)
    v2b, v3b = to_v2v3(x0 + 1.0, y0)
    scale = float(np.hypot(v2a - v2b, v3a - v3b))  # arcsec per column at the reference point

    table = specwcs.wavetable
    rows = np.asarray(table["y_center"], float) + y0
    shift = _smoothed_table(rows, np.asarray(table["x_center"], float))
    wave = _smoothed_table(rows, np.asarray(table["wavelength"], float))
    velosys = model.meta.wcsinfo.velosys
    if velosys is not None:
        wave = wave | velocity_correction(velosys)

    # alpha = scale * (x - shift(y) - x0); beta = 0
    column_in_slit = models.Mapping((0,), n_inputs=2) - (models.Mapping((1,), n_inputs=2) | shift)
    alpha = column_in_slit | models.Shift(-x0) | models.Polynomial1D(1, c0=0, c1=scale)
    alpha_beta = models.Mapping((0, 1, 0, 1)) | alpha & (models.Mapping((0,), n_inputs=2) | models.Const1D(0))
    # A shift to the reference point and back: a no-op that records (x0, y0) in the WCS
    # (parameters offset_1/offset_2), where pathloss-type consumers look for it.
    anchor = (models.Shift(-x0) & models.Shift(-y0)) | (models.Shift(x0) & models.Shift(y0))
    forward = models.Mapping((0, 1, 0, 1)) | (anchor | alpha_beta) & (models.Mapping((1,), n_inputs=2) | wave)

    # inverse: (alpha, beta, lambda) -> (x, y)
    y_of_lambda = wave.inverse
    x_slit = models.Polynomial1D(1, c0=0, c1=1.0 / scale) | models.Shift(x0)
    x_det = models.Mapping((0, 2)) | x_slit & y_of_lambda | (
        models.Mapping((0,), n_inputs=2) + (models.Mapping((1,), n_inputs=2) | shift)
    )
    y_det = models.Mapping((2,), n_inputs=3) | y_of_lambda
    forward.inverse = models.Mapping((0, 1, 2, 0, 1, 2)) | x_det & y_det

    bind_bounding_box(forward, _bounding_box(model, table, x0, rows), order="F")
    return forward, scale


def _bounding_box(model, table, x0, rows):
    y_box = (float(rows.min()), float(rows.max()))
    if model.meta.exposure.type == SLITLESS:
        xstart = model.meta.subarray.xstart or 1
        xsize = model.meta.subarray.xsize or model.data.shape[-1]
        return ((xstart - 1 + REFERENCE_COLUMNS - 0.5, xsize - 1 + 0.5), y_box)
    x_lo = np.floor(np.min(table["x0"]) + x0) - 0.5
    x_hi = np.ceil(np.max(table["x1"]) + x0) + 0.5
    return ((float(x_lo), float(x_hi)), y_box)


def _frame_distortion(model, distortion):
    """The exposure's pixel frame -> (V2, V3) arcsec."""
    shift = _subarray_shift(model)
    return distortion.model if shift is None else shift | distortion.model


def alpha_beta_to_v2v3(model, distortion, specwcs, scale):
    """(alpha, beta, lambda) -> (V2, V3, lambda) through the imager distortion."""
    from astropy.modeling import models

    x0, y0 = reference_point(model, specwcs)
    to_v2v3 = _frame_distortion(model, distortion)
    to_pixels = (models.Polynomial1D(1, c0=0, c1=1.0 / scale) | models.Shift(x0)) & (
        models.Polynomial1D(1, c0=0, c1=1.0 / scale) | models.Shift(y0)
    )
    forward = models.Mapping((0, 1, 2)) | (to_pixels | to_v2v3) & models.Identity(1)
    to_alpha_beta = (models.Shift(-x0) | models.Polynomial1D(1, c0=0, c1=scale)) & (
        models.Shift(-y0) | models.Polynomial1D(1, c0=0, c1=scale)
    )
    forward.inverse = models.Mapping((0, 1, 2)) | (to_v2v3.inverse | to_alpha_beta) & models.Identity(1)
    return forward


def lrs_frames():
    from astropy import coordinates as coord
    from astropy import units as u
    from gwcs import coordinate_frames as cf

    spec = lambda name: cf.SpectralFrame(name=name, axes_order=(2,), unit=(u.micron,), axes_names=("lambda",))  # noqa: E731
    detector = cf.Frame2D(name="detector", axes_order=(0, 1), unit=(u.pix, u.pix))
    alpha_beta = cf.CompositeFrame(
        [cf.Frame2D(name="alpha_beta_spatial", axes_order=(0, 1), unit=(u.arcsec, u.arcsec), axes_names=("alpha", "beta")), spec("alpha_beta_spectral")],
        name="alpha_beta",
    )
    v2v3 = cf.CompositeFrame(
        [cf.Frame2D(name="v2v3_spatial", axes_order=(0, 1), unit=(u.arcsec, u.arcsec), axes_names=("v2", "v3")), spec("spec")],
        name="v2v3",
    )
    v2v3vacorr = cf.CompositeFrame(
        [cf.Frame2D(name="v2v3vacorr_spatial", axes_order=(0, 1), unit=(u.arcsec, u.arcsec), axes_names=("v2", "v3")), spec("spec")],
        name="v2v3vacorr",
    )
    icrs = cf.CelestialFrame(name="icrs", reference_frame=coord.ICRS(), axes_order=(0, 1), unit=(u.deg, u.deg), axes_names=("RA", "DEC"))
    world = cf.CompositeFrame([icrs, spec("spec")], name="world")
    return detector, alpha_beta, v2v3, v2v3vacorr, world


def build_lrs_wcs(model, distortion, specwcs):
    """The gwcs.WCS of an LRS exposure (fixed slit or slitless)."""
    from astropy.modeling import models
    from gwcs.wcs import WCS

    from spec2.wcs.pointing import v2v3_to_sky, velocity_aberration

    w = model.meta.wcsinfo
    for key in ("v2_ref", "v3_ref", "roll_ref", "ra_ref", "dec_ref"):
        if getattr(w, key) is None:
            from spec2.errors import InputError

            raise InputError(f"pointing keyword {key.upper()} is missing; cannot place the slit on the sky")
    det2ab, scale = detector_to_alpha_beta(model, distortion, specwcs)
    ab2v2v3 = alpha_beta_to_v2v3(model, distortion, specwcs, scale)
    dva = velocity_aberration(model.meta.velocity_aberration.scale_factor, w.v2_ref, w.v3_ref) & models.Identity(1)
    to_sky = v2v3_to_sky(w.v2_ref, w.v3_ref, w.roll_ref, w.ra_ref, w.dec_ref) & models.Identity(1)
    detector, alpha_beta, v2v3, v2v3vacorr, world = lrs_frames()
    return WCS([(detector, det2ab), (alpha_beta, ab2v2v3), (v2v3, dva), (v2v3vacorr, to_sky), (world, None)])


def wavelength_grid(wcs, shape):
    """Wavelength at every pixel of a (ny, nx) frame, NaN outside the bounding box
    (only the pixels inside it are evaluated)."""
    ny, nx = shape[-2:]
    out = np.full((ny, nx), np.nan)
    (x0, x1), (y0, y1) = wcs.bounding_box.bounding_box(order="F")
    cols = slice(max(0, int(np.ceil(x0))), min(nx, int(np.floor(x1)) + 1))
    rows = slice(max(0, int(np.ceil(y0))), min(ny, int(np.floor(y1)) + 1))
    y, x = np.mgrid[rows, cols].astype(float)
    if x.size:
        out[rows, cols] = wcs(x, y)[2]
    return out


def _slit_region(model, specwcs):
    """S_REGION of the slit: its V2/V3 corners from the specwcs file, on the sky."""
    m = specwcs.meta
    v2 = [getattr(m, f"v2_vert{i}", None) for i in range(1, 5)]
    v3 = [getattr(m, f"v3_vert{i}", None) for i in range(1, 5)]
    if any(v is None for v in v2 + v3):
        return None
    ra, dec, _ = model.meta.wcs.transform("v2v3", "world", v2, v3, 7.0)
    return format_s_region(np.column_stack([ra, dec]))


def _footprint_region(model):
    """S_REGION from the corners of the data's bounding box (slitless)."""
    (x0, x1), (y0, y1) = model.meta.wcs.bounding_box
    ra, dec, _ = model.meta.wcs([x0, x1, x1, x0], [y0, y0, y1, y1])
    return format_s_region(np.column_stack([ra, dec]))


def dithered_position(model):
    """Sky position of the dithered target: the dither offsets (ideal frame) on the sky."""
    from spec2.wcs.pointing import ideal_to_v2v3

    w = model.meta.wcsinfo
    v2, v3 = ideal_to_v2v3(
        model.meta.dither.x_offset or 0.0, model.meta.dither.y_offset or 0.0,
        w.v3yangle, w.v2_ref, w.v3_ref, w.vparity,
    )
    ra, dec, _ = model.meta.wcs.get_transform("v2v3", "world")(v2, v3, 0.0)
    return float(ra), float(dec)


def assign_lrs_wcs(model, distortion, specwcs):
    """Attach the LRS WCS to ``model`` (in place) and return it.

    Sets meta.wcs, meta.wcsinfo (dispersion direction 2, barycentric frame, S_REGION),
    the per-pixel ``wavelength`` array, and for the slit the dithered target position.
    """
    model.meta.wcs = build_lrs_wcs(model, distortion, specwcs)
    model.meta.wcsinfo.dispersion_direction = 2
    model.meta.wcsinfo.specsys = "BARYCENT"
    if model.meta.exposure.type == FIXEDSLIT:
        region = _slit_region(model, specwcs)
        ra, dec = dithered_position(model)
        model.meta.dither.dithered_ra, model.meta.dither.dithered_dec = ra, dec
    else:
        region = _footprint_region(model)
    if region:
        model.meta.wcsinfo.s_region = region
    model.wavelength = wavelength_grid(model.meta.wcs, model.data.shape)
    return model


def as_slit_model(model):
    """The exposure as a SlitModel (2-D or 3-D data), the product type of LRS _cal(ints)."""
    from stdatamodels.jwst import datamodels

    if isinstance(model, datamodels.SlitModel):
        return model
    # a new SlitModel given the metadata and arrays (constructing it from the model
    # itself re-validates the whole tree, as costly as the rest of the step)
    slit = new_model(datamodels.SlitModel)
    slit.update(model)
    slit.meta.wcs = model.meta.wcs
    for name in ("data", "dq", "err", "var_poisson", "var_rnoise", "var_flat", "wavelength", "int_times"):
        value = getattr(model, name, None) if model.hasattr(name) else None
        if value is not None:
            setattr(slit, name, value)
    for key in ("xstart", "ystart", "xsize", "ysize"):
        setattr(slit, key, getattr(model.meta.subarray, key))
    return slit
