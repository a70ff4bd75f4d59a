"""NIRSpec fixed-slit pathloss: the fraction of a source's light the slit passes.

The PATHLOSS reference holds, per aperture (slit name), a point-source throughput cube
[lambda, y, x] over source positions in the slit and a uniform-illumination vector
[lambda], each with a linear FITS-style axis description. For a point source at
(source_xpos, source_ypos) the cube is interpolated bilinearly to a vector, which is
interpolated onto every pixel's (zero-point corrected) wavelength; extended sources use
the uniform vector at the uncorrected wavelength. SCI and ERR are divided by the
throughput, the variances by its square. Both 2-D throughputs are stored on the slit
(pathloss_point, pathloss_uniform), as spec3's master background needs them.
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


def divide(slit, correction):
    """SCI, ERR / correction; variances / correction^2; then NaNs and flags agree. The
    correction is applied as float32, the type it is stored with."""
    correction = np.asarray(correction, dtype=np.float32)
    slit.data /= correction
    slit.err /= correction
    square = correction**2
    for name in ("var_poisson", "var_rnoise", "var_flat"):
        var = getattr(slit, name)
        if var is not None:
            var /= square
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
