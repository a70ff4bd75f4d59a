"""The pure parts of a multi-slit master background: which slits are background, and a
1-D background spectrum laid onto a slit's 2-D wavelength array."""

from __future__ import annotations

import numpy as np


def is_background_slit(source_name) -> bool:
    """A slitlet the MSA plan dedicates to background: its source name says BKG or
    BACKGROUND (any case), as jwst recognises them."""
    name = str(source_name).upper()
    return "BKG" in name or "BACKGROUND" in name


def sorted_table(wavelength, surf_bright):
    """The table as float64 arrays sorted by increasing wavelength (np.interp needs it)."""
    wavelength = np.asarray(wavelength, np.float64)
    surf_bright = np.asarray(surf_bright, np.float64)
    if not np.all(np.diff(wavelength) > 0):
        order = np.argsort(wavelength)
        wavelength, surf_bright = wavelength[order], surf_bright[order]
    return wavelength, surf_bright


def expand_to_2d(wavelength_2d, tab_wavelength, tab_surf_bright):
    """(background, outside): the 1-D table linearly interpolated at each pixel's
    wavelength, and the mask of pixels whose wavelength lies outside the table.

    Pixels with no wavelength (NaN) or outside the table get 0 and are ``outside``
    (the caller flags them DO_NOT_USE, as jwst does)."""
    tab_wavelength, tab_surf_bright = sorted_table(tab_wavelength, tab_surf_bright)
    wl = np.array(wavelength_2d, np.float64)
    wl[np.isnan(wl)] = -1.0
    outside = (wl > tab_wavelength[-1]) | (wl < tab_wavelength[0])
    wl[outside] = -1.0
    return np.interp(wl, tab_wavelength, tab_surf_bright, left=0.0, right=0.0), outside
