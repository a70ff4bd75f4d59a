"""The rectified output frame of a resampled slit spectrum (the _s2d WCS) for slits
whose WCS ends on the sky and whose wavelength varies along one detector axis.

Axes: one spatial axis along the slit, sampled at the input's pixel scale (divided by
``pixel_scale_ratio``) on a gnomonic tangent plane centred on the slit; one spectral axis
tabulating, pixel by pixel, the median wavelength across the slit at each input
dispersion pixel (extended by other inputs' wavelengths outside that range). This is
the grid jwst's resample_spec builds for non-NIRSpec slits, so products align with its.
"""

from __future__ import annotations

import warnings

import numpy as np


def _grid(wcs):
    from gwcs.wcstools import grid_from_bounding_box

    return grid_from_bounding_box(wcs.bounding_box)


def _wrap(ra):
    """RA values put on one side of 0/360 when they straddle it."""
    ra = np.asarray(ra, float)
    finite = ra[np.isfinite(ra)]
    if finite.size and finite.max() - finite.min() > 180:
        ra = np.where(ra > 180, ra - 360, ra)
    return ra


def _tangent(ra0, dec0):
    from astropy.modeling.models import Pix2Sky_TAN, RotateNative2Celestial

    return Pix2Sky_TAN() | RotateNative2Celestial(ra0, dec0, 180)


def _linear_fit(index, values):
    from astropy.modeling.fitting import LinearLSQFitter
    from astropy.modeling.models import Linear1D

    return LinearLSQFitter()(Linear1D(), index, values)


def rectified_slit_wcs(wcs_list, dispaxis, flip_wavelength=False, pixel_scale_ratio=1.0):
    """gwcs.WCS (detector -> world) and array shape of the rectified grid.

    wcs_list -- the inputs' WCSs (first one defines the sampling)
    dispaxis -- 1: wavelength along x; 2: along y (as DISPAXIS)
    flip_wavelength -- order the spectral axis by decreasing wavelength
    """
    from astropy import coordinates as coord
    from astropy import units as u
    from astropy.modeling.models import Mapping, Tabular1D
    from gwcs import coordinate_frames as cf
    from gwcs.wcs import WCS

    # ``spectral`` is the WCS axis along which wavelength varies (x=0, y=1); as a numpy
    # axis of (row, column) arrays the same number is the axis across the dispersion,
    # which is what the per-pixel median runs over.
    spectral = dispaxis - 1
    spatial = spectral ^ 1
    waves = np.array([])
    all_ra, all_dec = [], []
    for i, wcs in enumerate(wcs_list):
        x, y = _grid(wcs)
        ra, dec, lam = np.array(wcs(x, y))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows
            per_pixel = np.nanmedian(lam, axis=spectral)
        per_pixel = per_pixel[np.isfinite(per_pixel)]
        if i == 0:
            waves = per_pixel.copy()
            bbox = wcs.bounding_box
            centre = int((bbox[spectral][1] - bbox[spectral][0]) / 2)
            ra_cut = ra[centre, :] if spatial == 0 else ra[:, centre]
            dec_cut = dec[centre, :] if spatial == 0 else dec[:, centre]
            ra0, dec0 = np.nanmean(_wrap(ra_cut)), np.nanmean(dec_cut)
            with np.errstate(all="ignore"):
                x_tan, y_tan = _tangent(ra0, dec0).inverse(ra, dec)
            if spectral == 0:
                xt, yt = x_tan.T[centre], y_tan.T[centre]
            else:
                xt, yt = x_tan[centre], y_tan[centre]
            xt, yt = xt[np.isfinite(xt)], yt[np.isfinite(yt)]
            x_idx = np.linspace(0, xt.size * pixel_scale_ratio, xt.size, endpoint=False)
            y_idx = np.linspace(0, yt.size * pixel_scale_ratio, yt.size, endpoint=False)
            to_xtan, to_ytan = _linear_fit(x_idx, xt), _linear_fit(y_idx, yt)
        all_ra.append(ra[np.isfinite(ra)].ravel())
        all_dec.append(dec[np.isfinite(dec)].ravel())
        if i > 0:
            waves = np.append(waves, per_pixel[per_pixel < waves.min()])
            waves = np.append(waves, per_pixel[per_pixel > waves.max()])
    wavelengths = np.unique(np.sort(waves[np.isfinite(waves)]))
    if flip_wavelength:
        wavelengths = wavelengths[::-1]
    n_wave = wavelengths.size
    pixels = np.arange(n_wave)
    to_wave = Tabular1D(points=pixels, lookup_table=wavelengths, bounds_error=False, fill_value=None, name="pix2wavelength")
    inverse_points, inverse_table = wavelengths, pixels
    if not np.all(np.diff(wavelengths) > 0):
        inverse_points, inverse_table = wavelengths[::-1], pixels[::-1]
    to_wave.inverse = Tabular1D(points=inverse_points, lookup_table=inverse_table, bounds_error=False, fill_value=None, name="wavelength2pix")

    mapping = Mapping((spatial, spatial, spectral))
    swap = abs(to_xtan.slope) < abs(to_ytan.slope)
    if swap:
        mapping.inverse = Mapping((2, 1) if spatial else (1, 2))
    ra_all, dec_all = _wrap(np.concatenate(all_ra)), np.concatenate(all_dec)
    if len(wcs_list) == 1:
        ra_c, dec_c = ra0, dec0
    else:
        ra_c, dec_c = (ra_all.max() + ra_all.min()) / 2.0, (dec_all.max() + dec_all.min()) / 2.0
    to_sky = _tangent(ra_c, dec_c)
    (xmin, xmax), (ymin, ymax) = _tangent_extent(wcs_list, to_sky.inverse)
    slope_x, slope_y = abs(to_xtan.slope.value), abs(to_ytan.slope.value)
    n_space = int(np.ceil(abs(ymax - ymin) / slope_y)) if swap else int(np.ceil(abs(xmax - xmin) / slope_x))
    to_ytan.intercept = -np.sign(to_ytan.slope.value) * 0.5 * (n_space - 1) * slope_y
    to_xtan.intercept = -np.sign(to_xtan.slope.value) * 0.5 * (n_space - 1) * slope_x
    transform = mapping | (to_xtan & to_ytan | to_sky) & to_wave

    detector = cf.Frame2D(name="detector", axes_order=(0, 1))
    sky = cf.CelestialFrame(name="sky", axes_order=(0, 1), reference_frame=coord.ICRS())
    spec = cf.SpectralFrame(name="spectral", axes_order=(2,), unit=(u.micron,), axes_names=("wavelength",))
    wcs = WCS([(detector, transform), (cf.CompositeFrame([sky, spec], name="world"), None)])
    size = [0, 0]
    size[spectral] = n_wave
    size[spatial] = n_space
    shape = (size[1], size[0])
    wcs.array_shape = shape
    wcs.pixel_shape = tuple(size)
    wcs.bounding_box = ((-0.5, size[0] - 0.5), (-0.5, size[1] - 0.5))
    return wcs, shape


def _tangent_extent(wcs_list, sky_to_tan):
    lo_x = lo_y = np.inf
    hi_x = hi_y = -np.inf
    for wcs in wcs_list:
        ra, dec, _ = wcs(*_grid(wcs))
        good = np.isfinite(ra) & np.isfinite(dec)
        xt, yt = sky_to_tan(ra[good], dec[good])
        lo_x, hi_x = min(lo_x, xt.min()), max(hi_x, xt.max())
        lo_y, hi_y = min(lo_y, yt.min()), max(hi_y, yt.max())
    return (lo_x, hi_x), (lo_y, hi_y)
