"""Simulated slitless fields, shared by the instrument plugins' simulators: a catalog of
sources (positions, sizes, magnitudes), its ECSV as jwst's source_catalog writes it,
and the dispersed count rate of every source in every order along the traces of a
grism reference (:mod:`spec2.algorithms.grism`), for either dispersion direction and
any filter-wheel turn of the traces.

The instrument supplies what is its own: the photom conversion (how many Jy one DN/s
is at a wavelength, per order) and the PSF width.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from stdatamodels.jwst.datamodels.dqflags import pixel


@dataclass
class Sources:
    """Direct-image (0-based full-frame pixels) positions, Gaussian sigma (pixels), AB
    magnitude and extendedness of each source."""

    label: np.ndarray
    x: np.ndarray
    y: np.ndarray
    sigma: np.ndarray
    abmag: np.ndarray
    is_extended: np.ndarray


def random_sources(n, *, seed, shape, margin=0.0, sigma=(0.7, 3.5), abmag=(17.5, 24.5), extended_above=2.2):
    """``n`` sources scattered over the detector of ``shape`` (and beyond its edges by
    -``margin`` pixels when ``margin`` < 0); sources wider than ``extended_above`` are
    extended."""
    rng = np.random.default_rng(seed)
    ny, nx = shape
    x = rng.uniform(margin, nx - 1 - margin, n)
    y = rng.uniform(margin, ny - 1 - margin, n)
    widths = rng.uniform(*sigma, n)
    return Sources(label=np.arange(1, n + 1), x=x, y=y, sigma=widths, abmag=rng.uniform(*abmag, n),
                   is_extended=widths > extended_above)


def source_spectrum(abmag, slope, *, pivot, lines=(), line_sigma=0.0, line_strength=0.0):
    """F_nu (Jy) of a source as a function of wavelength (micron): AB magnitude ``abmag``
    at ``pivot`` micron, a power law of index ``slope``, and Gaussian emission lines at
    ``lines`` (sigma ``line_sigma``, peak ``line_strength`` times the continuum)."""
    f0 = 3631.0 * 10 ** (-0.4 * abmag)

    def spectrum(wavelength):
        wl = np.asarray(wavelength, float)
        cont = f0 * (wl / pivot) ** slope
        bump = sum(np.exp(-0.5 * ((wl - line) / line_sigma) ** 2) for line in lines)
        return cont * (1.0 + line_strength * bump)

    return spectrum


def spectra_for(sources: Sources, *, seed, slopes, pivot, lines, line_sigma, line_strength=3.0):
    """One spectrum per source: a power law with a random index in ``slopes`` (low,
    high) and, for every third source, the emission ``lines``."""
    rng = np.random.default_rng(seed)
    indices = rng.uniform(*slopes, len(sources.label))
    return [source_spectrum(m, s, pivot=pivot, lines=lines, line_sigma=line_sigma,
                            line_strength=line_strength if i % 3 == 0 else 0.0)
            for i, (m, s) in enumerate(zip(sources.abmag, indices))]


def write_catalog(path, sources: Sources, detector_to_sky, half_size=3.0):
    """The ECSV catalog of ``sources``: centroids, sky centroid and the sky corners of a
    box of +- ``half_size`` sigma (whole pixels, as a segmentation map's bounding box).
    ``detector_to_sky(x, y)`` -> (ra, dec) in degrees."""
    from astropy import units as u
    from astropy.coordinates import SkyCoord
    from astropy.table import QTable

    def sky(x, y):
        ra, dec = detector_to_sky(np.asarray(x, float), np.asarray(y, float))
        return SkyCoord(ra * u.deg, dec * u.deg, frame="icrs")

    reach = np.ceil(half_size * sources.sigma)
    xmin, xmax = np.round(sources.x - reach), np.round(sources.x + reach)
    ymin, ymax = np.round(sources.y - reach), np.round(sources.y + reach)
    table = QTable()
    table["label"] = sources.label.astype(np.int32)
    table["xcentroid"] = sources.x
    table["ycentroid"] = sources.y
    table["sky_centroid"] = sky(sources.x, sources.y)
    table["isophotal_abmag"] = sources.abmag
    table["isophotal_abmag_err"] = np.full(sources.x.size, 0.02)
    table["sky_bbox_ll"] = sky(xmin - 0.5, ymin - 0.5)
    table["sky_bbox_lr"] = sky(xmax + 0.5, ymin - 0.5)
    table["sky_bbox_ul"] = sky(xmin - 0.5, ymax + 0.5)
    table["sky_bbox_ur"] = sky(xmax + 0.5, ymax + 0.5)
    table["is_extended"] = sources.is_extended
    table.write(path, format="ascii.ecsv", overwrite=True)
    return path


def trace_stamp(g, x0, y0, sigma, spectrum, *, axis, jy_per_rate, psf_sigma, rotation=0.0,
                velocity_factor=1.0, shape):
    """(rows, columns, stamp) of one source's trace in one order, in DN/s; None when it
    misses the detector.

    g           -- the order's GrismOrder; the trace is placed as the backward
                   dispersion places it: (x0, y0) + the offsets at t, turned by
                   ``rotation`` degrees
    axis        -- "row" (dispersion along x) or "column"
    jy_per_rate -- f(order, wavelength, dispersion) -> Jy per DN/s of one pixel (the
                   photom conversion the pipeline will apply)
    psf_sigma   -- f(wavelength) -> the PSF's Gaussian sigma across the dispersion (px)
    spectrum    -- f(barycentric wavelength) -> F_nu in Jy

    Each along-dispersion pixel gets the spectrum at its wavelength, smeared along by the
    source's own sigma; across, a Gaussian of the source and the PSF integrated over
    each pixel."""
    from scipy.ndimage import gaussian_filter1d
    from scipy.special import erf

    from spec2.algorithms.grism import rotate

    t = np.linspace(0.0, 1.0, 2001)
    dx, dy = g.dx(t, x0, y0), g.dy(t, x0, y0)
    if rotation != 0.0:
        dx, dy = rotate(dx, dy, rotation)
    dx, dy = np.broadcast_to(dx, t.shape), np.broadcast_to(dy, t.shape)
    along_t, across_t = (x0 + dx, y0 + dy) if axis == "row" else (y0 + dy, x0 + dx)
    n_along = shape[1] if axis == "row" else shape[0]
    n_across = shape[0] if axis == "row" else shape[1]
    lo = max(int(np.floor(along_t.min())) - 8, 0)
    hi = min(int(np.ceil(along_t.max())) + 8, n_along - 1)
    if hi - lo < 2:
        return None
    pix = np.arange(lo, hi + 1, dtype=float)
    order = np.argsort(along_t)
    tp = np.interp(pix, along_t[order], t[order], left=np.nan, right=np.nan)
    on = np.isfinite(tp)
    tp = np.where(on, tp, 0.5)
    wl = np.broadcast_to(g.wavelength(tp, x0, y0), tp.shape)  # observed frame
    dispersion = np.where(on, np.abs(np.gradient(wl)), 1.0)  # off the trace: no light, any value
    rate = np.where(on, spectrum(wl * velocity_factor) / jy_per_rate(g.order, wl, dispersion), 0.0)
    rate = gaussian_filter1d(rate, sigma, mode="constant")
    centre = np.interp(tp, t, across_t)
    width = np.sqrt(sigma**2 + psf_sigma(wl) ** 2)
    c0 = max(int(np.floor(np.min(centre) - 5 * width.max())), 0)
    c1 = min(int(np.ceil(np.max(centre) + 5 * width.max())), n_across - 1)
    if c1 < c0:
        return None
    edges = np.arange(c0, c1 + 2) - 0.5
    cdf = 0.5 * (1 + erf((edges[:, None] - centre[None, :]) / (np.sqrt(2.0) * width[None, :])))
    stamp = np.diff(cdf, axis=0) * rate[None, :]  # (across, along)
    across_slice, along_slice = slice(c0, c1 + 1), slice(lo, hi + 1)
    if axis == "row":
        return across_slice, along_slice, stamp
    return along_slice, across_slice, stamp.T


def dispersed_rate(sources: Sources, spectra, orders, *, shape, **trace_options):
    """Noiseless count rate (DN/s) of every source in every order of ``orders``
    ({order: GrismOrder}) on a detector of ``shape``; ``trace_options`` as
    :func:`trace_stamp` takes them."""
    image = np.zeros(shape)
    for g in orders.values():
        for x0, y0, sigma, spectrum in zip(sources.x, sources.y, sources.sigma, spectra):
            stamp = trace_stamp(g, x0, y0, sigma, spectrum, shape=shape, **trace_options)
            if stamp is not None:
                rows, cols, values = stamp
                image[rows, cols] += values
    return image


def band_flux(spectrum, throughput, grid, velocity_factor=1.0):
    """F_nu (Jy) a source shows in a direct image: its observed spectrum averaged over
    ``grid`` (micron) weighted by the filter ``throughput``."""
    wl = np.linspace(grid[0], grid[1], 801)
    w = throughput(wl)
    return float(np.sum(spectrum(wl * velocity_factor) * w) / np.sum(w))


def direct_scene(sources: Sources, fluxes, *, shape, psf_sigma, pixar_sr, segment_level, radius=3.5):
    """(image, segmentation) of the field in the direct image, noiseless: each source a
    pixel-integrated Gaussian (its own sigma and the PSF's ``psf_sigma`` px) holding
    ``fluxes`` (Jy) in MJy/sr; each pixel labelled with the source that puts most light
    in it, where that exceeds ``segment_level`` (MJy/sr) within ``radius`` sigma of the
    centre (0: background)."""
    from scipy.special import erf

    image = np.zeros(shape)
    best = np.zeros(shape)
    seg = np.zeros(shape, np.uint32)
    ny, nx = shape
    for label, x0, y0, sigma, flux in zip(sources.label, sources.x, sources.y, sources.sigma, fluxes):
        width = float(np.hypot(sigma, psf_sigma))
        reach = int(np.ceil(radius * width)) + 1
        x_lo, x_hi = max(int(np.floor(x0)) - reach, 0), min(int(np.ceil(x0)) + reach, nx - 1)
        y_lo, y_hi = max(int(np.floor(y0)) - reach, 0), min(int(np.ceil(y0)) + reach, ny - 1)
        if x_hi < x_lo or y_hi < y_lo:
            continue

        def fractions(lo, hi, c):
            edges = np.arange(lo, hi + 2) - 0.5
            return np.diff(0.5 * (1 + erf((edges - c) / (np.sqrt(2.0) * width))))

        stamp = np.outer(fractions(y_lo, y_hi, y0), fractions(x_lo, x_hi, x0)) * flux * 1e-6 / pixar_sr
        yy, xx = np.mgrid[y_lo : y_hi + 1, x_lo : x_hi + 1]
        near = np.hypot(xx - x0, yy - y0) <= radius * width
        cut = np.s_[y_lo : y_hi + 1, x_lo : x_hi + 1]
        image[cut] += stamp
        mine = near & (stamp > segment_level) & (stamp > best[cut])
        seg[cut][mine] = label
        best[cut][mine] = stamp[mine]
    return image, seg


def write_direct_image(directory, names, image, seg, imaging, instrument: dict, exp_type):
    """Save the direct image (ImageModel in MJy/sr carrying the ``imaging`` gwcs) and its
    segmentation map (SegmentationMapModel) as jwst's image3 products named ``names``
    (i2d, segm); ``instrument`` the meta.instrument values. Returns their paths."""
    from pathlib import Path

    from stdatamodels.jwst import datamodels

    direct = datamodels.ImageModel(np.asarray(image, np.float32))
    for key, value in instrument.items():
        setattr(direct.meta.instrument, key, value)
    direct.meta.exposure.type = exp_type
    direct.meta.bunit_data = "MJy/sr"
    direct.meta.wcs = imaging
    direct.meta.filename = names[0]
    segm = datamodels.SegmentationMapModel(np.asarray(seg, np.uint32))
    segm.meta.filename = names[1]
    paths = []
    for m in (direct, segm):
        paths.append(Path(directory) / m.meta.filename)
        m.save(paths[-1])
    return paths


def detector_exposure(model, rate, *, exptime, gain, read_noise_var, seed, n_bad=300):
    """Fill a rate ImageModel from a noiseless ``rate`` (DN/s): Poisson and read noise
    with their variances, ``n_bad`` bad pixels (NaN, DO_NOT_USE|HOT), reference-pixel
    flags on the 4-pixel border."""
    rng = np.random.default_rng(seed)
    shape = rate.shape
    var_p = np.clip(rate, 0, None) / (gain * exptime)
    var_r = np.full(shape, read_noise_var)
    data = rate + rng.standard_normal(shape) * np.sqrt(var_p + var_r)
    dq = np.zeros(shape, np.uint32)
    ys, xs = rng.integers(4, shape[0] - 4, n_bad), rng.integers(4, shape[1] - 4, n_bad)
    dq[ys, xs] = pixel["DO_NOT_USE"] | pixel["HOT"]
    data[ys, xs] = np.nan
    for edge in (np.s_[:4, :], np.s_[-4:, :], np.s_[:, :4], np.s_[:, -4:]):
        dq[edge] |= pixel["REFERENCE_PIXEL"]
    model.data = data.astype(np.float32)
    model.dq, model.var_poisson, model.var_rnoise = dq, var_p.astype(np.float32), var_r.astype(np.float32)
    model.err = np.sqrt(model.var_poisson + model.var_rnoise)
    return model


def point_source_apcorr_table(filters, pupils, wavelength, sizes, psf_sigma):
    """The APCORR table of a WFSS aperture-correction reference (Nrc/NisWfssApcorrModel):
    one row per (filter, pupil) pair, each 1 / the fraction of a Gaussian point source
    of ``psf_sigma(wavelength)`` inside a box of ``sizes`` pixels across the dispersion."""
    from scipy.special import erf

    nwl, nsize = len(wavelength), len(sizes)
    sigma = psf_sigma(np.asarray(wavelength, float))[:, None]
    corr = 1.0 / erf(np.asarray(sizes, float)[None, :] / 2.0 / (np.sqrt(2.0) * sigma))
    table = np.zeros(max(np.size(filters), np.size(pupils)), dtype=[
        ("filter", "S12"), ("pupil", "S15"), ("wavelength", "f4", (nwl,)), ("nelem_wl", "i2"),
        ("size", "u1", (nsize,)), ("nelem_size", "i2"), ("apcorr", "f4", (nwl, nsize)),
        ("apcorr_err", "f4", (nwl, nsize)),
    ])
    table["filter"], table["pupil"] = filters, pupils
    table["wavelength"], table["nelem_wl"] = wavelength, nwl
    table["size"], table["nelem_size"] = sizes, nsize
    table["apcorr"], table["apcorr_err"] = corr, 0.001
    return table
