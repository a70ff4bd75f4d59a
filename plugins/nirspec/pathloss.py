"""NIRSpec fixed-slit pathloss: the fraction of a source's light the slit passes.

The PATHLOSS reference holds, per aperture (slit name), a point-source throughput cube
[lambda, y, x] over source positions in the slit and a uniform-illumination vector
[lambda], each with a linear FITS-style axis description. For a point source at
(source_xpos, source_ypos) the cube is interpolated bilinearly to a vector, which is
interpolated onto every pixel's (zero-point corrected) wavelength; extended sources use
the uniform vector at the uncorrected wavelength. SCI and ERR are divided by the
throughput, the variances by its square. Both 2-D throughputs are stored on the slit
(pathloss_point, pathloss_uniform), as spec3's master background needs them.

MOS slitlets (apply_mos_pathloss) use the MOS reference's two apertures, by shutter
configuration: MOS1x1 when the source shutter's neighbours are both closed, else
MOS1x3, whose table spans three shutters, so a source shutter at the bottom (top) end
of a slitlet reads it one shutter up (down). A two-shutter slitlet's uniform
throughput is the mean of the 1x1 and 1x3 ones. Every throughput is taken at the
slit's own (for point sources zero-point corrected) wavelengths.
"""

from __future__ import annotations

import logging

import numpy as np

from spec2.algorithms import dq as dqflags
from spec2.algorithms.pathloss import bilinear_vector, grid_index

log = logging.getLogger("spec2")


def axis_values(n, crpix, crval, cdelt):
    """float32 coordinates of a FITS linear axis of length n (as jwst tabulates them)."""
    out = np.zeros(n, dtype=np.float32)
    out[:] = crval + (np.arange(n, dtype=float) + 1 - crpix) * cdelt
    return out


def throughput_vectors(aperture, xpos, ypos):
    """(wavelength_point [um], point vector or None if outside the slit,
    wavelength_uniform [um], uniform vector)."""
    pw, uw = aperture.pointsource_wcs, aperture.uniform_wcs
    cube = aperture.pointsource_data
    wl_point = axis_values(cube.shape[0], pw.crpix3, pw.crval3, pw.cdelt3)
    col = grid_index(xpos, pw.crpix1, pw.crval1, pw.cdelt1)
    row = grid_index(ypos, pw.crpix2, pw.crval2, pw.cdelt2)
    point = bilinear_vector(cube, col, row)
    uniform = aperture.uniform_data
    wl_uniform = axis_values(uniform.shape[0], uw.crpix1, uw.crval1, uw.cdelt1)
    return wl_point * 1.0e6, point, wl_uniform * 1.0e6, uniform


def onto_grid(wavelength_2d, wl_vector, values):
    """Linear interpolation of the vector at each pixel's wavelength with jwst's edge
    rule: NaN beyond the table, via one padded bracket on each side."""
    # the padded tables are double precision whatever the reference's type
    padded_values = np.full(len(values) + 2, np.nan)
    padded_values[1:-1] = values
    padded_wl = np.zeros(len(wl_vector) + 2)
    padded_wl[1:-1] = wl_vector
    padded_wl[0], padded_wl[-1] = wl_vector[0] - 0.1, wl_vector[-1] + 0.1
    upper = np.searchsorted(wl_vector, wavelength_2d)
    lower, upper = upper, upper + 1
    fraction = (wavelength_2d - padded_wl[lower]) / (padded_wl[upper] - padded_wl[lower])
    return padded_values[lower] + fraction * (padded_values[upper] - padded_values[lower])


def slit_corrections(slit, aperture, point_source, wavelength_uncorrected):
    """(correction, pathloss_point, pathloss_uniform, type) for one slit, or None when
    the source lies outside the slit."""
    xpos = slit.source_xpos if slit.source_xpos is not None else 0.0
    ypos = slit.source_ypos if slit.source_ypos is not None else 0.0
    wl_p, point, wl_u, uniform = throughput_vectors(aperture, xpos, ypos)
    if point is None:
        return None
    if point_source:
        pl_point = onto_grid(slit.wavelength, wl_p, point)
        pl_uniform = onto_grid(wavelength_uncorrected, wl_u, uniform)
        return pl_point, pl_point, pl_uniform, "POINT"
    pl_point = onto_grid(slit.wavelength, wl_p, point)
    pl_uniform = onto_grid(slit.wavelength, wl_u, uniform)
    return pl_uniform, pl_point, pl_uniform, "UNIFORM"


def divide(slit, correction, inverse=False):
    """SCI, ERR / correction; variances / correction^2 (``inverse``: multiplied); then
    NaNs and flags agree. The correction is applied as float32, the type it is stored
    with."""
    correction = np.asarray(correction, dtype=np.float32)
    op = np.multiply if inverse else np.divide
    op(slit.data, correction, out=slit.data)
    op(slit.err, correction, out=slit.err)
    square = correction**2
    for name in ("var_poisson", "var_rnoise", "var_flat"):
        var = getattr(slit, name)
        if var is not None and var.size:
            op(var, square, out=var)
    dqflags.match_nans_and_flags(slit.data, slit.dq, (slit.err, slit.var_poisson, slit.var_rnoise, slit.var_flat))


def apply_fs_pathloss(model, pathloss_model, uncorrected_wavelength):
    """Correct every slit of a fixed-slit MultiSlitModel in place; returns whether any
    slit was corrected. ``uncorrected_wavelength(slit)`` gives the slit's wavelengths
    without the wavecorr zero point (for the uniform correction of point sources)."""
    apertures = {ap.name: ap for ap in pathloss_model.apertures}
    done = False
    for slit in model.slits:
        aperture = apertures.get(slit.name)
        if aperture is None:
            log.warning("no pathloss aperture for slit %s", slit.name)
            continue
        point = str(slit.source_type).upper() == "POINT"
        wl_uncorr = uncorrected_wavelength(slit) if point else None
        result = slit_corrections(slit, aperture, point, wl_uncorr)
        if result is None:
            log.warning("source outside slit %s: no pathloss correction", slit.name)
            continue
        correction, pl_point, pl_uniform, kind = result
        divide(slit, correction)
        slit.pathloss_point = pl_point.astype(np.float32)
        slit.pathloss_uniform = pl_uniform.astype(np.float32)
        slit.pathloss_correction_type = kind
        done = True
    return done


# ---------------------------------------------------------------------------------------
# MOS
# ---------------------------------------------------------------------------------------


def neighbours_closed(shutter_state):
    """(below closed, above closed) of the source shutter "x" in ``shutter_state`` (the
    first character the bottom shutter); a slitlet's end counts as closed."""
    k = shutter_state.find("x")
    below = k == 0 or shutter_state[k - 1] == "0"
    above = k == len(shutter_state) - 1 or shutter_state[k + 1] == "0"
    return below, above


def mos_aperture(pathloss_model, shutter_state):
    """The reference aperture of a slitlet: 1 shutter when the source shutter stands
    alone, else the 3-shutter one (None if the reference lacks it)."""
    below, above = neighbours_closed(shutter_state)
    shutters = 1 if below and above else 3
    return next((ap for ap in pathloss_model.apertures if ap.shutters == shutters), None)


def two_shutter_uniform(pathloss_model):
    """(wavelength [m], mean of the MOS1x1 and MOS1x3 uniform throughputs) for a
    two-shutter slitlet, or None when the reference does not hold exactly those two
    apertures on one wavelength grid."""
    apertures = {ap.name.upper(): ap for ap in pathloss_model.apertures}
    if set(apertures) != {"MOS1X1", "MOS1X3"}:
        return None
    one, three = apertures["MOS1X1"], apertures["MOS1X3"]
    if len(one.uniform_data) != len(three.uniform_data) or one.uniform_data.ndim != 1:
        return None
    keys = ("crval1", "crpix1", "cdelt1")
    if any(getattr(one.uniform_wcs, k) != getattr(three.uniform_wcs, k) for k in keys):
        return None
    w = one.uniform_wcs
    # a double-precision grid here (jwst's), float32 for single apertures (axis_values)
    wavelength = w.crval1 + (np.arange(len(one.uniform_data), dtype=float) + 1 - w.crpix1) * w.cdelt1
    return wavelength, 0.5 * (one.uniform_data + three.uniform_data)


def mos_slit_corrections(slit, pathloss_model, source_type=None):
    """(correction, pathloss_point, pathloss_uniform, type) of one MOS slitlet, or None
    when it has no data, no matching aperture, or its source lies outside the table."""
    if slit.data.size <= 0:
        return None
    state = slit.shutter_state or ""
    if not state:  # no shutter configuration at all (jwst stops with an IndexError here)
        log.warning("slitlet %s has no shutter_state: no pathloss correction", slit.name)
        return None
    aperture = mos_aperture(pathloss_model, state)
    if aperture is None:
        log.warning("no pathloss aperture for slitlet %s (%d shutters)", slit.name, len(state))
        return None
    xpos = slit.source_xpos if slit.source_xpos is not None else 0.0
    ypos = slit.source_ypos if slit.source_ypos is not None else 0.0
    below, above = neighbours_closed(state)
    if below and not above:
        ypos -= 1.0  # the source shutter is the lowest of the three the table spans
    elif above and not below:
        ypos += 1.0
    wl_p, point, wl_u, uniform = throughput_vectors(aperture, xpos, ypos)
    if len(state) == 2:
        averaged = two_shutter_uniform(pathloss_model)
        if averaged is None:
            log.warning("two-shutter uniform pathloss unavailable; the 3-shutter aperture's used")
        else:
            wl_u, uniform = averaged[0] * 1.0e6, averaged[1]
    if point is None:
        log.warning("source outside slitlet %s: no pathloss correction", slit.name)
        return None
    pl_point = onto_grid(slit.wavelength, wl_p, point)
    pl_uniform = onto_grid(slit.wavelength, wl_u, uniform)
    kind = source_type or slit.source_type
    if kind is not None and kind.upper() == "POINT":
        return pl_point, pl_point, pl_uniform, "POINT"
    return pl_uniform, pl_point, pl_uniform, "UNIFORM"


def apply_mos_pathloss(model, pathloss_model, inverse=False, source_type=None):
    """Correct (``inverse``: uncorrect) every slitlet of a MOS MultiSlitModel in place;
    returns whether any slitlet was. Each corrected slitlet stores pathloss_point,
    pathloss_uniform and pathloss_correction_type."""
    done = False
    for slit in model.slits:
        result = mos_slit_corrections(slit, pathloss_model, source_type)
        if result is None:
            continue
        correction, pl_point, pl_uniform, kind = result
        divide(slit, correction, inverse)
        slit.pathloss_point = pl_point.astype(np.float32)
        slit.pathloss_uniform = pl_uniform.astype(np.float32)
        slit.pathloss_correction_type = kind
        done = True
    return done
