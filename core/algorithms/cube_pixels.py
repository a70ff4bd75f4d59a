"""What an IFU instrument plugin hands the core's cube_build: the detector pixels of one
exposure and one band, each as a footprint on the sky and a wavelength range.

This is the whole contract between an IFU plugin and the cube machinery (see the
``ifu_pixels`` hook in :mod:`spec2.hookspecs`): the core needs no slicer geometry, only
where each pixel's light falls.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class IFUPixels:
    """The valid pixels of one IFU exposure in one band (all arrays of length n).

    band        -- (par1, par2): NIRSpec (grating, filter), MIRI (channel, band); matched
                   case-insensitively against the first two columns of the ``cubepar``
                   tables, and what ``output_type`` groups by (band: both; channel or
                   grating: par1; multi: none)
    ra, dec     -- sky position of each pixel centre (degrees)
    ra_corners, dec_corners -- (n, 4): the pixel's four corners on the sky, in order
                   around the footprint (either sense), never across its diagonal
    wave, dwave -- wavelength at the pixel centre and the range it covers (microns)
    flux, err   -- the calibrated value and its uncertainty
    dq          -- DQ of each pixel: DO_NOT_USE and NON_SCIENCE pixels are left out
    footprint   -- optional (ra[4], dec[4]): the exposure's sky footprint that sizes the
                   cube (jwst uses the exposure's S_REGION); None: the pixels' corners
    ifu_angle   -- rotation of the IFU frame on the sky (degrees) for
                   ``coord_system=ifualign``, as jwst defines it: 90 + the position angle
                   (east of north) of the direction along the slices; None when the
                   plugin cannot tell
    slice_no    -- optional slice number (1, 2, ...) of each pixel, for a slicer whose
                   slices are lines on the sky (NIRSpec): the cube's DQ plane then
                   marks the field of view slice by slice as jwst does; None: no
                   field-of-view flagging (as jwst's ``skip_dqflagging``)
    x, y        -- optional detector position of each pixel (diagnostics only)
    """

    band: tuple[str, str]
    ra: np.ndarray
    dec: np.ndarray
    ra_corners: np.ndarray
    dec_corners: np.ndarray
    wave: np.ndarray
    dwave: np.ndarray
    flux: np.ndarray
    err: np.ndarray
    dq: np.ndarray
    footprint: tuple | None = None
    ifu_angle: float | None = None
    slice_no: np.ndarray | None = field(default=None, repr=False)
    x: np.ndarray | None = field(default=None, repr=False)
    y: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self):
        self.band = (str(self.band[0]).lower(), str(self.band[1]).lower())
        n = np.shape(self.ra)[0]
        for name in ("dec", "wave", "dwave", "flux", "err", "dq"):
            if np.shape(getattr(self, name)) != (n,):
                raise ValueError(f"IFUPixels.{name} must have shape ({n},), not {np.shape(getattr(self, name))}")
        for name in ("ra_corners", "dec_corners"):
            if np.shape(getattr(self, name)) != (n, 4):
                raise ValueError(f"IFUPixels.{name} must have shape ({n}, 4), not {np.shape(getattr(self, name))}")

    def __len__(self):
        return int(np.shape(self.ra)[0])

    def select(self, keep):
        """A copy holding only the pixels where ``keep`` is True (a boolean mask)."""
        take = lambda a: None if a is None else np.asarray(a)[keep]
        return IFUPixels(self.band, take(self.ra), take(self.dec), take(self.ra_corners), take(self.dec_corners),
                         take(self.wave), take(self.dwave), take(self.flux), take(self.err), take(self.dq),
                         self.footprint, self.ifu_angle, take(self.slice_no), take(self.x), take(self.y))

    def sky_footprint(self):
        """(ra[4], dec[4]) of the exposure: the plugin's, else the corners' bounding box."""
        if self.footprint is not None:
            return np.asarray(self.footprint[0], float), np.asarray(self.footprint[1], float)
        ra, dec = self.ra_corners, self.dec_corners
        lo, hi = np.nanmin(ra), np.nanmax(ra)
        return np.array([lo, hi, hi, lo]), np.array([np.nanmin(dec)] * 2 + [np.nanmax(dec)] * 2)
