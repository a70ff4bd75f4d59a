"""The output grid of an IFU cube: a tangent plane on the sky and a linear wavelength axis,
laid out as jwst 3.0.0's cube_build lays it (pure functions, no I/O).

Conventions (jwst's): the tangent-plane coordinates (xi, eta) are in arcseconds, xi
increasing towards the east is made negative so that the cube's x axis runs like an image's
(RA decreasing); a rotation ``rot_angle`` (degrees) turns them for ``ifualign`` or a
requested position angle. The cube is symmetric about its tangent point: ``2 na + 1``
spaxels along x with the tangent point at the centre of spaxel ``na`` (CRPIX1 = na + 1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

ARCSEC = 180.0 * 3600.0 / math.pi  # arcseconds per radian


def wrap_ra(ra):
    """RA values made continuous across 0/360 (a field straddling RA = 0 gets values > 360)."""
    ra = np.asarray(ra, float) % 360.0
    if ra.size and np.nanmax(ra) - np.nanmin(ra) > 180.0:
        ra = np.where(ra < 180.0, ra + 360.0, ra)
    return ra


def tangent_plane(crval1, crval2, ra, dec, rot_angle=None):
    """(xi, eta) in arcseconds of sky positions on the plane tangent at (crval1, crval2):
    gnomonic projection, xi positive towards the west, turned by ``rot_angle`` degrees."""
    ra0, dec0 = np.radians(crval1), np.radians(crval2)
    dra = np.radians(ra) - ra0
    d = np.radians(dec)
    cos_d, sin_d, cos_dra = np.cos(d), np.sin(d), np.cos(dra)
    h = sin_d * math.sin(dec0) + cos_d * math.cos(dec0) * cos_dra
    xi = -(cos_d * np.sin(dra) / h) * ARCSEC
    eta = ((sin_d * math.cos(dec0) - cos_d * math.sin(dec0) * cos_dra) / h) * ARCSEC
    if rot_angle is not None:
        c, s = math.cos(math.radians(-rot_angle)), math.sin(math.radians(-rot_angle))
        xi, eta = xi * c - eta * s, xi * s + eta * c
    return xi, eta


def circular_mean_ra(ra_min, ra_max):
    """Mean of two RAs on the circle (degrees, in [0, 360)): jwst's cube centre in RA."""
    a = np.radians([ra_min, ra_max])
    return math.degrees(math.atan2(np.sin(a).sum(), np.cos(a).sum())) % 360.0


@dataclass(frozen=True)
class CubeGrid:
    """An IFU cube's grid: spaxel centres (arcsec on the tangent plane) and wavelength planes.

    crval1/crval2 -- the tangent point (degrees); crpix1/crpix2 its 1-based spaxel
    cdelt1/cdelt2 -- spaxel size (arcsec); cdelt3 wavelength step (micron)
    xcoord, ycoord, zcoord -- centres of the spaxels along x, y and of the planes
    rot_angle     -- rotation of the tangent plane (degrees), None for none
    """

    crval1: float
    crval2: float
    crpix1: float
    crpix2: float
    cdelt1: float
    cdelt2: float
    crval3: float
    crpix3: float
    cdelt3: float
    xcoord: np.ndarray
    ycoord: np.ndarray
    zcoord: np.ndarray
    rot_angle: float | None = None

    @property
    def shape(self):
        """(nwave, ny, nx), the cube's array shape."""
        return len(self.zcoord), len(self.ycoord), len(self.xcoord)

    @property
    def cdelt3_normal(self):
        """The width of every wavelength plane (the gap to the next centre; the last repeats)."""
        z = self.zcoord
        if len(z) < 2:
            return np.full(len(z), self.cdelt3)
        d = np.diff(z)
        return np.append(d, d[-1])


def sky_grid(ra_corners, dec_corners, scale, wave_min, wave_max, wave_step, rot_angle=None,
             ra_center=None, dec_center=None, nspax_x=None, nspax_y=None):
    """The cube grid holding every footprint corner (degrees), jwst's way.

    The tangent point is the middle of the corners' RA range (circular mean) and Dec range
    unless ``ra_center``/``dec_center`` are given; the cube extends symmetrically to the
    farthest corner plus one spaxel (or ``nspax_x``/``nspax_y`` spaxels, odd). The
    wavelength planes start at ``wave_min`` in steps of ``wave_step``, as many as cover
    ``wave_max`` (the last plane may end past it).
    """
    ra = wrap_ra(np.ravel(ra_corners))
    dec = np.ravel(np.asarray(dec_corners, float))
    crval1 = ra_center if ra_center is not None else circular_mean_ra(ra.min(), ra.max())
    crval2 = dec_center if dec_center is not None else (dec.min() + dec.max()) / 2.0
    xi, eta = tangent_plane(crval1, crval2, ra, dec, rot_angle)
    na = math.ceil(max(abs(xi.min()), abs(xi.max())) / scale) + 1
    nb = math.ceil(max(abs(eta.min()), abs(eta.max())) / scale) + 1
    if nspax_x is not None:
        na = int(nspax_x / 2)
    if nspax_y is not None:
        nb = int(nspax_y / 2)
    xcoord = _centres(na, scale)
    ycoord = _centres(nb, scale)
    nwave = math.ceil((wave_max - wave_min) / wave_step)
    zstart = wave_min + wave_step / 2.0
    zcoord = np.arange(zstart, wave_min + nwave * wave_step, wave_step)[:nwave]
    return CubeGrid(crval1=float(crval1), crval2=float(crval2), crpix1=na + 1.0, crpix2=nb + 1.0,
                    cdelt1=float(scale), cdelt2=float(scale), crval3=float(zstart), crpix3=1.0,
                    cdelt3=float(wave_step), xcoord=xcoord, ycoord=ycoord, zcoord=zcoord,
                    rot_angle=rot_angle)


def _centres(n, scale):
    """The 2n + 1 spaxel centres of a symmetric axis, summed from its lower edge as jwst
    sums them (so that the centres agree to the last bit)."""
    start = (0.0 - n * scale - scale / 2.0) + scale / 2.0
    return np.arange(start, start + (2 * n + 1) * scale, scale)[: 2 * n + 1]
