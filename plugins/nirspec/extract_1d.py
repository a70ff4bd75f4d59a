"""NIRSpec extract_1d: each resampled fixed slit or MOS slitlet (_s2d) box-extracted
into the _x1d, and every integration of a BOTS _calints into the _x1dints, by the shared slit
extraction (``spec2.steps.extract_slit``), as jwst 3.0.0 does.

What is NIRSpec's own: dispersion runs along x; each slit takes the extract1d aperture
of its name; a point source's aperture is moved to where its slit position
(source_xpos, source_ypos) lands through the slit's WCS at the middle wavelength, and
follows that trace when the aperture has an extract_width; photom leaves point sources
in MJy (FLUX = sum x 1e6 Jy, SURF_BRIGHT 0), extended ones in MJy/sr; the aperture
correction (NrsFsApcorrModel, the row of the filter, grating and slit; for MOS the
NrsMosApcorrModel row of the filter and grating) is taken at
pixel phase 0.5 and interpolated in wavelength and aperture size at every element; for
a time series it is computed from the first integration's NPIXELS and applies to all.
"""

from __future__ import annotations

import logging

import numpy as np

from spec2.algorithms import extract1d as ex
from spec2.steps.extract_slit import (
    SlitMode,
    apcorr_row,
    extract_slits,
    place_source,
    slit_name,
    source_type_of,
)
from spec2.wcs.compiled import compile_model

log = logging.getLogger("spec2")
DISP = ex.HORIZONTAL


# -- source location ----------------------------------------------------------------------


def locate_source(slit, shape):
    """A point source's slit position (source_xpos, source_ypos) through the slit's WCS;
    None for an extended source, without a position, or when it lands off the slit."""
    xpos, ypos = slit.source_xpos, slit.source_ypos
    if str(source_type_of(slit) or "").upper() != "POINT" or xpos is None or ypos is None:
        return None  # only a point source has a position in the slit
    wcs = slit.meta.wcs
    slit2det = compile_model(wcs.get_transform("slit_frame", "detector"))
    det2slit = compile_model(wcs.get_transform("detector", "slit_frame"))
    scale = 1e-6 if "gwa" in wcs.available_frames else 1.0  # metres inside the instrument model
    return place_source(wcs, shape, DISP,
                        lambda wl: slit2det(xpos, ypos, wl * scale)[1],
                        lambda wl: slit2det(np.full(wl.size, xpos), np.full(wl.size, ypos), wl),
                        lambda x, y: det2slit(x, y)[2])


# -- aperture correction ------------------------------------------------------------------


def aperture_correction(apcorr, slit, exposure, npixels, wavelength, sky):
    """Correction per element from the NrsFsApcorrModel row of the exposure's filter and
    grating and of this slit; a time series takes the first integration's NPIXELS."""
    m = exposure.meta.instrument
    row = apcorr_row(apcorr, filter=m.filter, grating=m.grating, slit=slit.name)
    npix = npixels[0] if np.ndim(npixels) == 2 else npixels
    return phase_apcorr(row["pixphase"], row["wavelength"], row["size"], row["apcorr"], wavelength, npix)


def phase_apcorr(pixphase, wl_ref, sizes, table, wavelength, npixels, phase=0.5):
    """Correction at each (wavelength, npixels) element (1 where the table does not
    reach) from a table by (pixel phase, wavelength, size) whose aperture sizes depend on
    wavelength: the table interpolated to the pixel phase, its sizes to the element's
    wavelength, then bilinearly in (wavelength, size), the size clamped to the sizes at
    that wavelength. This is what a linear RectBivariateSpline per element gives (as
    jwst computes it, one spline per element), for all elements at once; an element
    whose wavelength lies outside the table, or whose sizes there do not increase,
    keeps 1, as does one whose correction is 0."""
    from scipy.interpolate import interp1d

    by_phase = interp1d(pixphase, table)(phase)  # (size, wavelength)
    size_of = interp1d(wl_ref, sizes)
    order = np.argsort(wl_ref)
    grid = by_phase[:, order].T  # (wavelength, size), wavelengths ascending
    wl_ref = np.asarray(wl_ref, dtype=float)[order]
    wavelength = np.asarray(wavelength, dtype=float)
    npixels = np.asarray(npixels, dtype=float)
    out = np.ones(len(wavelength))
    if grid.shape[0] < 2 or grid.shape[1] < 2 or np.any(np.diff(wl_ref) <= 0):
        return out  # no linear spline can be built on this table
    rows = np.flatnonzero((wavelength >= wl_ref[0]) & (wavelength <= wl_ref[-1]))
    size = size_of(wavelength[rows])  # (size, element)
    increasing = np.all(np.diff(size, axis=0) > 0, axis=0)
    rows, size = rows[increasing], size[:, increasing]
    wl, cols = wavelength[rows], np.arange(rows.size)
    i = np.clip(np.searchsorted(wl_ref, wl, side="right") - 1, 0, len(wl_ref) - 2)
    n = np.clip(npixels[rows], size[0], size[-1])
    j = np.minimum(np.sum(size[1:] <= n, axis=0), size.shape[0] - 2)
    y0, y1 = size[j, cols], size[j + 1, cols]
    # FITPACK's arithmetic (fpbspl's degree-1 basis, fpbisp's sum in its order), so that
    # the factor equals jwst's to the last bit rather than within a rounding step
    fx, fy = 1.0 / (wl_ref[i + 1] - wl_ref[i]), 1.0 / (y1 - y0)
    hx0, hx1 = fx * (wl_ref[i + 1] - wl), fx * (wl - wl_ref[i])
    hy0, hy1 = fy * (y1 - n), fy * (n - y0)
    value = grid[i, j] * hx0 * hy0
    value = value + grid[i, j + 1] * hx0 * hy1
    value = value + grid[i + 1, j] * hx1 * hy0
    value = value + grid[i + 1, j + 1] * hx1 * hy1
    out[rows] = np.where(value != 0, value, 1.0)
    return out


def mos_aperture_correction(apcorr, slit, exposure, npixels, wavelength, sky):
    """Correction per element from the NrsMosApcorrModel row of the exposure's filter
    and grating (one row serves every slitlet), at pixel phase 0.5 as for fixed slits."""
    m = exposure.meta.instrument
    row = apcorr_row(apcorr, filter=m.filter, grating=m.grating)
    return phase_apcorr(row["pixphase"], row["wavelength"], row["size"], row["apcorr"], wavelength, npixels)


# -- the step -----------------------------------------------------------------------------

SLIT = SlitMode("NIRSpec fixed slit / BOTS", DISP, locate=locate_source, aperture_id=slit_name,
                point_sources_in_mjy=True, aperture_correction=aperture_correction)
# MOS slitlets: named by number, each takes the aperture of its name (or ANY); a point
# source is located from its planned position in the shutter, as in a fixed slit
MOS = SlitMode("NIRSpec MOS", DISP, locate=locate_source, aperture_id=slit_name, point_sources_in_mjy=True,
               aperture_correction=mos_aperture_correction)


def extract_nirspec(model, ref, apcorr, *, apply_apcorr=True, use_source_posn=None, subtract_background=None,
                    bkg_fit=None, bkg_order=None, smoothing_length=None, position_offset=0.0):
    """The _x1d of a fixed-slit or MOS _s2d (one spectrum per slit, by the rules of the
    model's EXP_TYPE) or the _x1dints of a BOTS _calints (one spectrum, a table row per
    integration); see ``spec2.steps.extract_slit.extract_slits``. The input is not
    modified."""
    mode = MOS if model.meta.exposure.type == "NRS_MSASPEC" else SLIT
    return extract_slits(model, ref, apcorr, mode, apply_apcorr=apply_apcorr, use_source_posn=use_source_posn,
                         subtract_background=subtract_background, bkg_fit=bkg_fit, bkg_order=bkg_order,
                         smoothing_length=smoothing_length, position_offset=position_offset)
