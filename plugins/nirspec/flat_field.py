"""NIRSpec spectroscopic flat field, built for each pixel at its own wavelength.

NIRSpec has no flat image to divide by: the flat of a slit pixel is the product of
three parts, each evaluated at the pixel's wavelength lambda,

* F (fore optics): a 1-D "fast variation" table (per slit name for fixed slits);
* S (spectrograph): a full-frame image (or cube in wavelength) times its own table;
* D (detector): a full-frame cube interpolated linearly in wavelength per pixel, times
  its table.

A table enters as the 3-point Gauss-Legendre average over the pixel's wavelength width
(offsets 0, +-sqrt(0.6)/2 pixel with weights 8/18, 5/18). The flat's error is the
quadrature sum of the parts' relative errors; its DQ the OR of theirs. Pixels without a
flat value are flagged NO_FLAT_FIELD | DO_NOT_USE and get 1 (or NaN, for a bad fore-optics
table value). The arithmetic follows jwst 3.0.0 operation by operation, including the
float32 accumulation of the table average, so the result is identical; only the
per-column loops are vectorised.
"""

from __future__ import annotations

import math

import numpy as np

from spec2.algorithms import dq as dqflags

BADFLAT = dqflags.NO_FLAT_FIELD | dqflags.DO_NOT_USE | dqflags.UNRELIABLE_FLAT
_BAD = dqflags.DO_NOT_USE | dqflags.NO_FLAT_FIELD


# ---------------------------------------------------------------------------------------
# Reading the reference models' arrays
# ---------------------------------------------------------------------------------------


def flat_table(flat_model, slit_name=None):
    """(wavelength, flat, error) of a flat's FAST_VARIATION table: the row of this slit
    (or "ANY") when the table has slit names, trimmed to NELEM and to finite, positive
    entries."""
    data = flat_model.flat_table
    names = data.dtype.names
    slit_col = data["slit_name"] if "slit_name" in names else None
    nelem_col = data["nelem"] if "nelem" in names else None
    wl_col, flat_col, err_col = data["wavelength"], data["data"], data["error"]
    row = None
    if slit_col is not None and slit_name is not None:
        wanted = slit_name.lower()
        for i, value in enumerate(slit_col):
            text = (value.decode() if isinstance(value, bytes) else value).lower().strip()
            if text in ("any", wanted):
                row = i
                break
        if row is None:
            from spec2.errors import ReferenceFileError

            raise ReferenceFileError(f"flat-field table has no row for slit {slit_name} (nor ANY)")
    if row is None and len(wl_col.shape) <= 1:
        tab_wl, tab_flat, tab_err = wl_col.copy(), flat_col.copy(), err_col.copy()
    else:
        row = 0 if row is None else row
        tab_wl, tab_flat, tab_err = wl_col[row].copy(), flat_col[row].copy(), err_col[row].copy()
    nelem = None if nelem_col is None else nelem_col[row if row is not None else 0]
    if nelem is not None and len(tab_wl) >= nelem:
        tab_wl, tab_flat, tab_err = tab_wl[:nelem], tab_flat[:nelem], tab_err[:nelem]
    keep = ~np.isnan(tab_wl) & ~np.isnan(tab_flat)
    if not keep.all():
        tab_wl, tab_flat, tab_err = tab_wl[keep], tab_flat[keep], tab_err[keep]
    keep = (tab_wl > 0.0) & (tab_flat != 0.0)
    if not keep.all():
        tab_wl, tab_flat, tab_err = tab_wl[keep], tab_flat[keep], tab_err[keep]
    return tab_wl, tab_flat, tab_err


def image_wavelengths(flat_model):
    """Wavelength of each plane of a flat cube (NaN and non-positive entries dropped)."""
    wavelength = flat_model.wavelength["wavelength"]
    if wavelength.ndim > 1:
        wavelength = wavelength.reshape((wavelength.shape[-1],))
    wavelength = wavelength[~np.isnan(wavelength)]
    return wavelength[wavelength > 0.0]


# ---------------------------------------------------------------------------------------
# Numerics
# ---------------------------------------------------------------------------------------


def clean_wavelengths(wl):
    """Wavelengths along dispersion (axis 1) with every gap filled: non-positive values
    become the mean of their column, and columns before the first (after the last)
    column with data copy that column — so the pixel width is defined everywhere."""
    wl_c = wl.copy()
    wl_c[wl_c <= 0.0] = np.nan
    finite_cols = np.isfinite(wl_c).any(axis=0)
    if not finite_cols.any():
        return wl_c
    cols = np.flatnonzero(finite_cols)
    # column means from contiguous rows, the summation jwst's per-column nanmean uses
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.nanmean(np.ascontiguousarray(wl_c[:, cols].T), axis=1).astype(wl_c.dtype)
    sub = wl_c[:, cols]
    holes = np.isnan(sub)
    sub[holes] = np.broadcast_to(means, sub.shape)[holes]
    wl_c[:, cols] = sub
    i0, i1 = cols[0], cols[-1]
    if i0 > 0:
        wl_c[:, :i0] = wl_c[:, i0 : i0 + 1]
    if i1 < wl_c.shape[1] - 1:
        wl_c[:, i1:] = wl_c[:, i1 : i1 + 1]
    return wl_c


def combine_fast_slow(wl, flat_2d, flat_dq, flat_err, tab_wl, tab_flat, tab_err):
    """A slow (image) flat times the pixel-width average of a fast (table) flat.

    Returns (flat, dq, err). Pixels the table does not cover get 1 and are flagged
    NO_FLAT_FIELD | DO_NOT_USE; those without a wavelength get 1 unflagged.
    """
    wl_c = clean_wavelengths(wl)
    dwl = np.zeros_like(wl_c)
    dq = np.zeros(wl.shape, dtype=np.uint32) if flat_dq is None else flat_dq.copy()
    err = np.zeros(wl.shape, dtype=np.float64) if flat_err is None else flat_err.copy()
    dwl[:, :-1] = wl_c[:, 1:] - wl_c[:, :-1]
    dwl[:, -1] = dwl[:, -2]
    values = np.zeros_like(wl_c)  # accumulates in the wavelengths' precision, as jwst's
    d = math.sqrt(0.6) / 2.0
    for offset, weight in zip(np.array([-d, 0.0, d]), np.array([5.0, 8.0, 5.0]) / 18.0):
        values += weight * np.interp(wl_c + dwl * offset, tab_wl, tab_flat, left=np.nan, right=np.nan)
    error = np.interp(wl_c, tab_wl, tab_err, left=np.nan, right=np.nan)
    bad = wl <= 0
    values[bad] = 1.0
    error[bad] = 0.0
    missing = np.isnan(values)
    values[missing] = 1.0
    error[missing] = 0.0
    dq[missing] |= dqflags.NO_FLAT_FIELD | dqflags.DO_NOT_USE
    v1 = np.square(error * flat_2d)
    v2 = np.square(err * values)
    return flat_2d * values, dq, np.sqrt(np.nansum([v1, v2], axis=0))


def interpolate_cube(cube, cube_dq, cube_err, cube_wl, wl):
    """A flat cube [plane, y, x] interpolated linearly in wavelength at every pixel.

    Beyond the cube's wavelengths the end planes extrapolate but the pixel is flagged
    DO_NOT_USE; DO_NOT_USE pixels get 1. A 2-D "cube" is returned unchanged.
    """
    if cube.ndim < 3:
        return cube, cube_dq, cube_err
    nz, ny, nx = cube.shape
    if nz == 1:
        if cube_dq.ndim == 2:
            return cube.reshape((ny, nx)), cube_dq, cube_err
        return cube.reshape((ny, nx)), cube_dq.reshape((ny, nx)), cube_err.reshape((ny, nx))
    iy, ix = np.indices((ny, nx), dtype=np.intp)
    # the plane below each wavelength: searchsorted gives it directly; the ends clamp
    k = np.searchsorted(cube_wl[: nz - 1], wl, side="right") - 1
    k = np.clip(k, 0, nz - 2)
    k = np.where(wl <= cube_wl[0], 0, k)
    k = np.where(wl >= cube_wl[nz - 1], nz - 2, k)
    denom = cube_wl[k + 1] - cube_wl[k]
    zero = denom == 0.0
    denom = np.where(zero, 1.0, denom)
    p = np.where(zero, 0.0, (wl - cube_wl[k]) / denom)
    q = 1.0 - p
    flat = q * cube[k, iy, ix] + p * cube[k + 1, iy, ix]
    err = cube_err.copy() if cube_err.ndim == 2 else q * cube_err[k, iy, ix] + p * cube_err[k + 1, iy, ix]
    if cube_dq.ndim == 2:
        dq = cube_dq.copy()
    else:
        dq = np.where(p == 0.0, cube_dq[k, iy, ix], cube_dq[k, iy, ix] | cube_dq[k + 1, iy, ix])
        flat[(dq & dqflags.DO_NOT_USE) != 0] = 1.0
    outside = (wl < cube_wl[0]) | (wl > cube_wl[-1])
    dq[outside] |= dqflags.DO_NOT_USE
    flat[(dq & dqflags.DO_NOT_USE) != 0] = 1.0
    return flat.astype(cube.dtype), dq, err


def _flag_bad(flat_2d, dq, fill):
    """NaN or zero flat values become NO_FLAT_FIELD | DO_NOT_USE; DO_NOT_USE ones ``fill``."""
    dq[np.isnan(flat_2d)] |= _BAD
    dq[flat_2d == 0.0] |= _BAD
    flat_2d[(dq & dqflags.DO_NOT_USE) != 0] = fill


def fore_optics(wl, fflat, slit_name, shutter=None):
    """The F-flat part: the slit's row of the fast-variation table, or for a MOS
    slitlet (``shutter`` = (quadrant 1-5, xcen, ycen) and ``fflat`` a
    NirspecQuadFlatModel) its quadrant's table times the quadrant cube's spectrum of
    that shutter (its error entering as the slow part's). Bad values become NaN."""
    if fflat is None:
        return np.ones(wl.shape, dtype=np.float32), None, None
    if shutter is None:
        tab = flat_table(fflat, slit_name)
        flat, dq, err = combine_fast_slow(wl, 1.0, None, None, *tab)
    else:
        tab_wl, tab_flat, tab_err, shutter_err = msa_shutter_table(wl, fflat, *shutter)
        flat, dq, err = combine_fast_slow(wl, 1.0, None, shutter_err, tab_wl, tab_flat, tab_err)
    _flag_bad(flat, dq, np.nan)
    return flat, dq, err


def msa_shutter_table(wl, quad_flat, quadrant, xcen, ycen):
    """(table wavelength, table flat x shutter spectrum, table error, shutter error at
    ``wl``) of one MSA shutter. The quadrant's cube is indexed [plane, ycen - 1,
    xcen - 1]; quadrant 5 (fixed slits in an MSA exposure, xcen = ycen = 0) reads the
    fifth quadrant's last element, as jwst's index arithmetic does. The shutter
    spectrum is interpolated onto the table's wavelengths (1 beyond its range), the
    product kept in the table's float32."""
    quad = quad_flat.quadrants[quadrant - 1]
    tab_wl, tab_flat, tab_err = flat_table(quad)
    planes = image_wavelengths(quad)
    tab_flat *= np.interp(tab_wl, planes, quad.data[:, ycen - 1, xcen - 1], 1.0, 1.0)
    shutter_err = np.interp(wl, planes, quad.err[:, ycen - 1, xcen - 1], 0.0, 0.0)
    return tab_wl, tab_flat, tab_err, shutter_err


def _image_part(wl, model, window, slit_name, cube):
    """The spectrograph (cube=False: 2-D image allowed) or detector flat over a window."""
    if model is None:
        return np.ones(wl.shape, dtype=np.float32), None, None
    ys, xs = window
    tab = flat_table(model, slit_name)
    data, dq_full, err_full = model.data, model.dq, model.err
    if data.ndim == 3:
        flat, dq, err = interpolate_cube(data[:, ys, xs], dq_full[..., ys, xs], err_full[..., ys, xs],
                                         image_wavelengths(model), wl)
    elif cube:
        raise ValueError("a NIRSpec d-flat must be a cube")
    else:  # copies: bad values are replaced below, and the reference stays as read
        flat, dq, err = data[ys, xs].copy(), dq_full[ys, xs].copy(), err_full[ys, xs]
    _flag_bad(flat, dq, 1.0)
    return combine_fast_slow(wl, flat, dq, err, *tab)


def build_flat(wl, fflat, sflat, dflat, origin, slit_name, shutter=None):
    """(flat, dq, err) of one slit cut-out at wavelengths ``wl`` (um, 2-D; NaN for
    pixels without one). ``origin`` is the cut-out's full-frame (x0, y0), 0-based.
    ``shutter``: (quadrant, xcen, ycen) of an MSA slitlet, whose F-flat is the quadrant
    flat's and whose S/D tables are their first row whatever the slit's name."""
    wl = wl.copy()
    wl[np.isnan(wl)] = 0.0
    ny, nx = wl.shape
    x0, y0 = origin
    window = (slice(y0, y0 + ny), slice(x0, x0 + nx))
    table_row = slit_name if shutter is None else None
    f, f_dq, f_err = fore_optics(wl, fflat, slit_name, shutter)
    s, s_dq, s_err = _image_part(wl, sflat, window, table_row, cube=False)
    d, d_dq, d_err = _image_part(wl, dflat, window, table_row, cube=True)
    flat = f * s * d
    parts = [q for q in (f_dq, s_dq, d_dq) if q is not None]
    dq = np.zeros(flat.shape, dtype=np.uint32)
    if not parts:
        dq |= BADFLAT
    for part in parts:
        dq = dq | part
    dq[(dq & dqflags.NO_FLAT_FIELD) != 0] |= dqflags.DO_NOT_USE
    dq[(dq & dqflags.DO_NOT_USE) != 0] |= BADFLAT
    var = np.zeros_like(flat)
    for value, error in ((f, f_err), (s, s_err), (d, d_err)):
        if error is not None:
            np.place(value, value == 0, 1.0)
            var += (error / value) ** 2
    err = flat * np.sqrt(var)
    flat[(dq & dqflags.DO_NOT_USE) != 0] = 1.0
    nonpositive = flat <= 0.0
    flat[nonpositive] = np.nan
    dq[nonpositive] |= BADFLAT
    return flat, dq, err


def slit_origin(slit, subarray):
    """Full-frame 0-based origin of a cut-out (slit offsets within the subarray)."""
    return slit.xstart - 1 + subarray.xstart - 1, slit.ystart - 1 + subarray.ystart - 1


def divide(target, flat, flat_err, flat_dq, inverse=False):
    """Divide a slit (2-D or 3-D data) by the flat in place, jwst's float32 order:
    VAR_P, VAR_R / f^2; VAR_FLAT = (SCI/f * err_f)^2 with the flattened SCI; ERR from
    the variances; DQ OR-ed; NaNs and flags made consistent. ``inverse`` multiplies
    instead and zeroes VAR_FLAT (a flat not yet applied has no variance).

    The arrays are changed through local names: an augmented assignment to a datamodel
    attribute (``target.data /= f``) would re-validate the array against the schema,
    some 25 ms each."""
    flat = np.asarray(flat, dtype=np.float32)
    flat_err = np.asarray(flat_err, dtype=np.float32)
    square = flat * flat
    data, var_poisson, var_rnoise = target.data, target.var_poisson, target.var_rnoise
    op = np.multiply if inverse else np.divide
    op(data, flat, out=data)
    op(var_poisson, square, out=var_poisson)
    op(var_rnoise, square, out=var_rnoise)
    if inverse:
        var_flat = np.zeros_like(data)
    else:
        with np.errstate(over="ignore"):
            var_flat = (data / flat * flat_err) ** 2
    _store(target, "var_flat", var_flat)
    _store(target, "err", np.sqrt(var_poisson + var_rnoise + var_flat))
    dq = target.dq
    dq |= flat_dq.astype(np.uint32)
    dqflags.match_nans_and_flags(data, dq, (target.err, var_poisson, var_rnoise, target.var_flat))


def _store(target, name, value):
    """``target.<name> = value``, written into the existing array when it has the same
    shape and type (no schema validation, the same values)."""
    current = getattr(target, name)
    if current is not None and current.shape == value.shape and current.dtype == value.dtype:
        current[...] = value
    else:
        setattr(target, name, value)


def apply_fs_flat(model, fflat, sflat, dflat, uncorrected_wavelength):
    """Flat-field every slit of a fixed-slit MultiSlitModel in place. A point source's
    flat is taken at its zero-point corrected wavelengths; the flat at the uncorrected
    ones is kept too (flatfield_uniform; flatfield_point), as jwst keeps both."""
    for slit in model.slits:
        origin = slit_origin(slit, model.meta.subarray)
        if str(slit.source_type).upper() == "POINT":
            uniform, _dq, _err = build_flat(uncorrected_wavelength(slit), fflat, sflat, dflat, origin, slit.name)
            slit.flatfield_uniform = uniform.astype(np.float32)
            flat, dq, err = build_flat(slit.wavelength, fflat, sflat, dflat, origin, slit.name)
            slit.flatfield_point = flat.astype(np.float32)
        else:
            flat, dq, err = build_flat(slit.wavelength, fflat, sflat, dflat, origin, slit.name)
        divide(slit, flat, err, dq)
    return model


def apply_mos_flat(model, fflat, sflat, dflat, inverse=False):
    """Flat-field (``inverse``: un-flat-field) every slitlet of a MOS MultiSlitModel in
    place. ``fflat`` is the NirspecQuadFlatModel: each slitlet's F-flat comes from its
    quadrant and shutter (xcen, ycen). The flat is built at the slit's wavelengths
    (zero-point corrected for point sources); jwst stores no flatfield_point/uniform
    for MOS, and neither does this."""
    slits = list(model.slits)
    shutters = [msa_shutter(slit) for slit in slits]  # all checked before any slit changes
    for slit, shutter in zip(slits, shutters, strict=True):
        origin = slit_origin(slit, model.meta.subarray)
        flat, dq, err = build_flat(slit.wavelength, fflat, sflat, dflat, origin, slit.name, shutter)
        divide(slit, flat, err, dq, inverse)
    return model


def msa_shutter(slit):
    """(quadrant, xcen, ycen) of a MOS slitlet; InputError when the MSA metadata did not
    give it one (its F-flat cannot be looked up)."""
    values = (slit.quadrant, slit.xcen, slit.ycen)
    if any(v is None for v in values):
        from spec2.errors import InputError

        raise InputError(f"MOS slitlet {slit.name} has no quadrant/xcen/ycen: its quadrant flat cannot be found")
    return tuple(int(v) for v in values)


def apply_bots_flat(model, fflat, sflat, dflat):
    """Flat-field the BOTS SlitModel (all integrations) in place."""
    flat, dq, err = build_flat(model.wavelength, fflat, sflat, dflat, slit_origin(model, model.meta.subarray),
                               model.name)
    divide(model, flat, err, dq)
    return model
