"""MIRI LRS extract_1d: the _s2d (fixed slit) or every integration of the _calints
(slitless) box-extracted into an _x1d / _x1dints product by the shared slit extraction
(``spec2.steps.extract_slit``), as jwst 3.0.0's Extract1dStep makes them for these modes.

What is MIRI's own: dispersion runs along y; the extract1d aperture is the one named
after the EXP_TYPE; only the fixed slit has a source position (the dithered target,
found through the inverse WCS at the middle wavelength, with its trace through the WCS
for an ``extract_width`` aperture); the aperture correction (MirLrsApcorrModel) is the
row of the exposure's subarray, its sizes in pixels or in arcsec across the slit.
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
    tabulated_apcorr,
)

log = logging.getLogger("spec2")


# -- source location ------------------------------------------------------------------------


def locate_target(model, shape):
    """The dithered target (meta.dither) in a fixed-slit image, through the inverse WCS;
    None (with a warning) when it is unknown or falls outside the bounding box."""
    ra, dec = model.meta.dither.dithered_ra, model.meta.dither.dithered_dec
    if ra is None or dec is None:
        log.warning("no dithered target position (meta.dither); aperture not moved")
        return None
    wcs = model.meta.wcs
    return place_source(wcs, shape, ex.VERTICAL,
                        lambda wl: wcs.backward_transform(ra, dec, wl)[0],
                        lambda wl: wcs.backward_transform(np.full(wl.size, ra), np.full(wl.size, dec), wl),
                        lambda x, y: wcs(x, y)[2])


# -- aperture correction --------------------------------------------------------------------


def aperture_correction(apcorr, slit, exposure, npixels, wavelength, sky):
    """Correction factors at (NPIXELS, WAVELENGTH) for every element of every
    integration, from the MirLrsApcorrModel row whose SUBARRAY is the exposure's."""
    row = apcorr_row(apcorr, subarray=exposure.meta.subarray.name)
    size_per_pixel = None
    if str(apcorr.sizeunit or "pixels").lower().startswith("arcsec"):
        # sizes across the slit on the sky, at the shortest extracted wavelength
        size_per_pixel = _cross_scale_deg(slit.meta.wcs, *sky, float(np.min(wavelength))) * 3600.0
    return tabulated_apcorr(row, npixels, wavelength, size_per_pixel)


def _cross_scale_deg(wcs, ra, dec, wl):
    """Sky size (deg) of one cross-dispersion (x) pixel step at (ra, dec, wl)."""
    from astropy.coordinates import SkyCoord

    x, y = wcs.invert(ra, dec, wl, with_bounding_box=False)
    r, d, _ = wcs(np.array([x, x + 1.0]), np.array([y, y]), with_bounding_box=False)
    a, b = SkyCoord(r, d, unit="deg")
    return float(abs(a.separation(b).deg))


# -- the step -----------------------------------------------------------------------------

FIXED_SLIT = SlitMode("MIRI LRS fixed slit", ex.VERTICAL, locate=locate_target,
                      aperture_correction=aperture_correction)
SLITLESS = SlitMode("MIRI LRS slitless", ex.VERTICAL, aperture_correction=aperture_correction)
"""Only the fixed slit has a source position (the slitless target sits where it was
acquired), so only there is the aperture moved onto it by default."""


def extract_lrs(model, ref, apcorr, apply_apcorr=True, use_source_posn=None, *, subtract_background=None,
                bkg_fit=None, bkg_order=None, smoothing_length=None, position_offset=0.0):
    """Extract an LRS SlitModel into a new MultiSpecModel (2-D data: one spectrum) or
    TSOMultiSpecModel (3-D data: a table row per integration); see
    ``spec2.steps.extract_slit.extract_slits`` for the arguments. ``apcorr`` is an open
    MirLrsApcorrModel (or None). The input model is not modified."""
    mode = FIXED_SLIT if model.meta.exposure.type == "MIR_LRS-FIXEDSLIT" else SLITLESS
    return extract_slits(model, ref, apcorr, mode, apply_apcorr=apply_apcorr, use_source_posn=use_source_posn,
                         subtract_background=subtract_background, bkg_fit=bkg_fit, bkg_order=bkg_order,
                         smoothing_length=smoothing_length, position_offset=position_offset)
