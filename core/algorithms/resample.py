"""Resampling a slit spectrum onto a rectified (spatial x wavelength) grid.

Instrument-agnostic pieces of resample_spec, in three layers:

* pure numerical functions on plain arrays (unit-tested by hand):
  :func:`dispersion_wavelengths`, :func:`merge_wavelengths`, :func:`fit_sampling`,
  :func:`spatial_size`, :func:`centred_intercept`, :func:`invalid_pixels`, :func:`drizzle_weight`, :func:`drizzle_range`,
  :func:`add_variance`, :func:`finish_variance`, :func:`error_from_variances`,
  and the spherical helpers behind :func:`band_footprint`;
* the output grid: :func:`sample_wcs` evaluates an input WCS once on its bounding-box
  grid, :func:`rectified_grid` turns samples into the numbers that define the output
  frame, :func:`rectified_wcs` builds the gwcs from them, :func:`pixel_map` maps input
  pixels into it;
* :class:`SpectralDrizzle`, which co-adds inputs with the ``drizzle`` package's kernel
  (the C code jwst/stcal call) and propagates the variances.

Conventions are those of the JWST pipeline (jwst 3.0 resample_spec, stcal resample),
so products agree with jwst's pixel by pixel:

* output grid: the wavelength of each output row/column is the median, across the slit,
  of the input wavelengths at that dispersion pixel; the spatial axis is a straight line
  on a gnomonic tangent plane centred on the slit, sampled at the input pixel scale
  divided by ``pixel_scale_ratio``;
* weight of an input pixel: 1/VAR_RNOISE ("ivm"), the measurement (else exposure) time
  ("exptime") or 1 (None), and 0 where the DQ has DO_NOT_USE or NON_SCIENCE;
* each variance is drizzled as its square root and squared; inputs are combined as
  sum(var_i w_i^2) / (sum w_i)^2 with w_i the reciprocal of input i's resampled
  VAR_RNOISE (ivm), times the pixel-scale ratio; ERR = sqrt(VAR_RNOISE + VAR_FLAT +
  VAR_POISSON), NaN where all three are NaN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from spec2.wcs.sregion import format_s_region, parse_s_region  # noqa: F401 (used by plugins)

from spec2.algorithms import dq as dqflags

# drizzle and sum in this order: float32 sums depend on it and jwst uses it
VARIANCES = ("var_rnoise", "var_flat", "var_poisson")
BAD_FOR_RESAMPLING = dqflags.DO_NOT_USE | dqflags.NON_SCIENCE  # good_bits "~DO_NOT_USE+NON_SCIENCE"
TWO_PI = 2.0 * math.pi


# ---------------------------------------------------------------------------------------
# Pure numerical functions
# ---------------------------------------------------------------------------------------


def dispersion_wavelengths(lam, dispaxis):
    """Median wavelength across the slit at each dispersion pixel, all-NaN pixels dropped.

    lam      -- 2-D wavelengths (rows = detector y, columns = x), NaN off the slit
    dispaxis -- 1: wavelength varies along x (a column per wavelength), 2: along y
    """
    lam = np.asarray(lam, dtype=float)
    # dispaxis 2: one wavelength per row -> median over the columns (numpy axis 1).
    # All-NaN rows are dropped before the median rather than silenced after it: a
    # warnings filter is process-wide and not safe while the writer thread runs.
    axis = dispaxis - 1
    if axis == 0:
        lam = lam.T
    lam = lam[np.isfinite(lam).any(axis=1)]
    return np.nanmedian(lam, axis=1) if lam.size else np.array([])


def merge_wavelengths(tables, descending=False):
    """One sorted, duplicate-free wavelength table from per-input tables.

    The first table sets the sampling; a later table only contributes the wavelengths
    beyond the range gathered so far (below its minimum, above its maximum).
    """
    merged = np.asarray(tables[0], dtype=float)
    for table in tables[1:]:
        table = np.asarray(table, dtype=float)
        lo, hi = merged.min(), merged.max()
        merged = np.concatenate([merged, table[table < lo], table[table > hi]])
    merged = np.unique(merged[~np.isnan(merged)])
    return merged[::-1] if descending else merged


def fit_sampling(offsets, pixel_scale_ratio=1.0):
    """Least-squares straight line offset = slope * i + intercept through consecutive
    samples, with sample i at position i * pixel_scale_ratio. Returns (slope, intercept).

    The least-squares problem is solved with column-normalised regressors, as astropy's
    LinearLSQFitter solves it, so the numbers agree with jwst's fit to the last bit.
    """
    offsets = np.asarray(offsets, dtype=float)
    n = offsets.size
    position = np.linspace(0, n * pixel_scale_ratio, n, endpoint=False)
    # column-major, like astropy's: the column sums below are then pairwise sums
    design = np.array([position, np.ones(n)]).T
    norm = (design * design).sum(axis=0)
    coef = np.linalg.lstsq(design / norm, offsets, rcond=None)[0] / norm
    return float(coef[0]), float(coef[1])


def spatial_size(lo, hi, slope):
    """Number of pixels of size |slope| needed to span [lo, hi]."""
    return int(np.ceil(np.abs(hi - lo) / np.abs(slope)))


def centred_intercept(n, slope):
    """Intercept that puts offset 0 in the middle of n pixels of a line of this slope."""
    return -np.sign(slope) * (0.5 * (n - 1) * np.abs(slope))


def invalid_pixels(arrays, dq=None):
    """Pixels unusable in any array: NaN in one of ``arrays`` (equal-shape arrays only;
    infinities are kept, as jwst does) or DO_NOT_USE in ``dq``."""
    arrays = [a for a in arrays if a is not None]
    bad = np.zeros(np.shape(arrays[0]), bool)
    for a in arrays:
        if np.shape(a) == bad.shape:
            bad |= np.isnan(a)
    if dq is not None and np.shape(dq) == bad.shape:
        bad |= (np.asarray(dq) & dqflags.DO_NOT_USE) != 0
    return bad


def drizzle_weight(dq, weight_type="ivm", var_rnoise=None, time=1.0, bad_bits=BAD_FOR_RESAMPLING):
    """Per-pixel drizzle weight (float32), 0 where the DQ has a bad bit.

    weight_type -- "ivm": 1/var_rnoise (1 everywhere when var_rnoise is missing; 0 where
                   it is 0 or not finite); "exptime": ``time``; None: 1
    """
    good = dqflags.good_mask(np.asarray(dq), bad_bits)
    if weight_type == "ivm":
        if var_rnoise is None or np.shape(var_rnoise) != good.shape:
            w = np.ones(good.shape, np.float32)
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                w = 1.0 / np.asarray(var_rnoise)
            w[~np.isfinite(w)] = 0
    elif weight_type == "exptime":
        w = np.float32(time)
    elif weight_type is None:
        w = np.float32(1)
    else:
        raise ValueError(f"weight_type must be 'ivm', 'exptime' or None, not {weight_type!r}")
    return (w * good.astype(np.uint8)).astype(np.float32)


def drizzle_range(shape, bbox):
    """Inclusive (xmin, xmax, ymin, ymax) of input pixels handed to the kernel: the
    bounding box ((x0, x1), (y0, y1)) rounded to the nearest pixels, inside the array."""
    ny, nx = shape
    if bbox is None:
        return 0, max(nx - 1, 0), 0, max(ny - 1, 0)
    (x0, x1), (y0, y1) = bbox
    xmin, ymin = max(0, int(x0 + 0.5)), max(0, int(y0 + 0.5))
    return xmin, max(xmin, min(nx - 1, int(x1 + 0.5))), ymin, max(ymin, min(ny - 1, int(y1 + 0.5)))


def add_variance(wsum, wtot, var, weight):
    """Add one input's resampled variance to running float32 sums, in place:
    wsum += var * weight**2 and wtot += weight where var >= 0 is finite and weight > 0.
    ``wsum`` starts as NaN (no contribution yet), ``wtot`` as 0."""
    use = (var >= 0) & np.isfinite(var) & (weight > 0)
    term = var[use] * weight[use] * weight[use]
    previous = wsum[use]
    wsum[use] = np.where(np.isnan(previous), term, previous + term)
    wtot[use] += weight[use]


def finish_variance(wsum, wtot, scale=1.0):
    """Combined variance wsum * scale / wtot**2 (float32; NaN where nothing was added).
    Computed in the precision of the sums (float32 for :class:`SpectralDrizzle`)."""
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        return (wsum * float(scale) / wtot / wtot).astype(np.float32)


def error_from_variances(variances):
    """sqrt of the NaN-ignoring sum of the variance arrays; NaN where all are NaN."""
    stack = np.asarray(variances)
    err = np.sqrt(np.nansum(stack, axis=0))
    err[np.all(np.isnan(stack), axis=0)] = np.nan
    return err


def wrap_longitudes(ra):
    """Finite RA values (deg) moved by 360 where they lie more than 180 from the median,
    so that a field straddling RA = 0 is contiguous. NaNs are dropped."""
    ra = np.asarray(ra, dtype=float)
    ra = ra[np.isfinite(ra)].copy()
    median = np.nanmedian(ra)
    far = np.fabs(ra - median) > 180.0
    if far.any():
        ra[far] += -360.0 if median < 180 else 360.0 if median > 180 else 0.0
    return ra


def _wrap_radians(a):
    """Radians into [0, 2 pi)."""
    a = np.asarray(a, dtype=float)
    return a - np.floor_divide(a, TWO_PI) * TWO_PI


# The spherical helpers take and return degrees and convert to radians at each
# trigonometric call: differences of longitudes are formed in degrees. This is the order
# astropy.coordinates evaluates them in, so corners agree with jwst's to the last bit.


def sky_separation(lon1, lat1, lon2, lat2):
    """Great-circle distance (deg) between two points (deg), Vincenty's formula."""
    rad = np.deg2rad
    dlon = rad(np.asarray(lon2) - lon1)
    s1, c1, s2, c2 = np.sin(rad(lat1)), np.cos(rad(lat1)), np.sin(rad(lat2)), np.cos(rad(lat2))
    across = c2 * np.sin(dlon)
    along = c1 * s2 - s1 * c2 * np.cos(dlon)
    return np.rad2deg(np.arctan2(np.hypot(across, along), s1 * s2 + c1 * c2 * np.cos(dlon)))


def position_angle(lon1, lat1, lon2, lat2):
    """Position angle (deg east of north, in [0, 360)) of point 2 seen from point 1."""
    rad = np.deg2rad
    dlon = rad(np.asarray(lon2) - lon1)
    c2 = np.cos(rad(lat2))
    north = np.sin(rad(lat2)) * np.cos(rad(lat1)) - c2 * np.sin(rad(lat1)) * np.cos(dlon)
    return np.rad2deg(_wrap_radians(np.arctan2(np.sin(dlon) * c2, north)))


def offset_point(lon, lat, angle, distance):
    """The point at ``distance`` from (lon, lat) along position angle ``angle`` (all deg);
    longitude in [0, 360). Not defined at the poles."""
    rad = np.deg2rad
    cos_d, sin_d = np.cos(rad(distance)), np.sin(rad(distance))
    sin_lat, cos_lat = np.sin(rad(lat)), np.cos(rad(lat))
    sin_new_lat = sin_lat * cos_d + cos_lat * sin_d * np.cos(rad(angle))
    dlon = np.arctan2(sin_d * np.sin(rad(angle)) * cos_lat, cos_d - sin_new_lat * sin_lat)
    return np.rad2deg(_wrap_radians(rad(lon) + dlon)), np.rad2deg(np.arcsin(sin_new_lat))


def band_footprint(corners, start, end):
    """Corners (deg, 4 x 2, counter-clockwise) of a band as wide as the input footprint
    centred on the great circle from ``start`` to ``end`` ((ra, dec) in deg): the band
    edges are offset by half the width at right angles to that arc.

    corners -- 4 x 2 (ra, dec) of the input footprint; its shortest side is the width
    """
    corners = np.asarray(corners, dtype=float)
    nxt = np.roll(corners, -1, axis=0)
    half = sky_separation(corners[:, 0], corners[:, 1], nxt[:, 0], nxt[:, 1]).min() / 2
    across = position_angle(*start, *end) - 90.0
    ends = (start, end, end, start)
    sides = (half, half, -half, -half)
    return np.array([offset_point(ra, dec, across, d) for (ra, dec), d in zip(ends, sides)], dtype=float)


# ---------------------------------------------------------------------------------------
# Output grid
# ---------------------------------------------------------------------------------------


@dataclass
class WcsSample:
    """An input WCS evaluated at the integer pixels of its bounding-box grid
    (x0..x0+nx-1, y0..y0+ny-1); ra/dec/lam are (ny, nx), NaN outside the box."""

    bbox: tuple  # ((x_lo, x_hi), (y_lo, y_hi))
    x0: int
    y0: int
    ra: np.ndarray
    dec: np.ndarray
    lam: np.ndarray


@dataclass
class RectifiedGrid:
    """Numbers defining a rectified output frame: pixel (x, y) -> tangent-plane offsets
    (x_slope * s + x_intercept, y_slope * s + y_intercept) at spatial pixel s, projected
    about (ra0, dec0); wavelength = wavelengths[w] at dispersion pixel w."""

    dispaxis: int
    wavelengths: np.ndarray
    ra0: float
    dec0: float
    x_slope: float
    x_intercept: float
    y_slope: float
    y_intercept: float
    n_spatial: int

    @property
    def shape(self):
        """(ny, nx) of the output array."""
        n_wave = self.wavelengths.size
        return (n_wave, self.n_spatial) if self.dispaxis == 2 else (self.n_spatial, n_wave)

    @property
    def along_y_tangent(self):
        """True when the slit runs mostly along the tangent plane's second axis (Dec)."""
        return abs(self.x_slope) < abs(self.y_slope)


def _box_of(wcs):
    box = wcs.bounding_box
    if box is None:
        return None
    box = box.bounding_box(order="F") if hasattr(box, "bounding_box") else box
    return tuple(tuple(float(v) for v in interval) for interval in box)


def sample_wcs(wcs, shape=None, evaluated=None):
    """Evaluate a detector -> (ra, dec, wavelength) WCS once at every integer pixel of
    its bounding-box grid (floor(lo + 0.5) .. ceil(hi - 0.5), as gwcs grids it); a WCS
    without a bounding box is taken to cover an array of ``shape`` (ny, nx).
    ``evaluated`` passes (ra, dec, wavelength) already computed on that grid."""
    bbox = _box_of(wcs)
    if bbox is None:
        if shape is None:
            raise ValueError("the WCS has no bounding box: give the array shape")
        bbox = ((-0.5, shape[1] - 0.5), (-0.5, shape[0] - 0.5))
    (xl, xh), (yl, yh) = bbox
    x0, x1 = int(np.floor(xl + 0.5)), int(np.ceil(xh - 0.5))
    y0, y1 = int(np.floor(yl + 0.5)), int(np.ceil(yh - 0.5))
    if evaluated is None:
        y, x = np.mgrid[y0 : y1 + 1, x0 : x1 + 1].astype(float)
        evaluated = wcs(x, y)
    ra, dec, lam = (np.asarray(v, dtype=float) for v in evaluated)
    return WcsSample(bbox, x0, y0, ra, dec, lam)


def tangent_projection(ra0, dec0):
    """astropy model: tangent-plane offsets (deg) -> (ra, dec) about (ra0, dec0)."""
    from astropy.modeling.models import Pix2Sky_TAN, RotateNative2Celestial

    return Pix2Sky_TAN() | RotateNative2Celestial(ra0, dec0, 180)


def rectified_grid(samples, dispaxis, descending=False, pixel_scale_ratio=1.0):
    """Output frame for slit inputs (first one sets the spatial sampling).

    The tangent point is the mean position across the slit at the middle dispersion
    pixel of the first input (for several inputs: the middle of their sky range); the
    spatial size spans every input's tangent-plane extent.
    """
    spectral = dispaxis - 1  # WCS axis of the dispersion (0 = x, 1 = y)
    first = samples[0]
    wavelengths = merge_wavelengths([dispersion_wavelengths(s.lam, dispaxis) for s in samples], descending)
    if wavelengths.size == 0:
        raise ValueError("no finite wavelength in the input WCS: cannot build the output grid")

    lo, hi = first.bbox[spectral]
    middle = int((hi - lo) / 2)
    cut = (lambda a: a[middle, :]) if spectral == 1 else (lambda a: a[:, middle])
    ra_cut, dec_cut = cut(first.ra), cut(first.dec)
    ra0, dec0 = float(np.nanmean(wrap_longitudes(ra_cut))), float(np.nanmean(dec_cut))
    with np.errstate(all="ignore"):  # NaN off the slit; errstate is per thread
        xt, yt = tangent_projection(ra0, dec0).inverse(ra_cut, dec_cut)
    x_slope, _ = fit_sampling(xt[~np.isnan(xt)], pixel_scale_ratio)
    y_slope, _ = fit_sampling(yt[~np.isnan(yt)], pixel_scale_ratio)

    if len(samples) > 1:
        all_ra = wrap_longitudes(np.concatenate([s.ra[~np.isnan(s.ra)] for s in samples]))
        all_dec = np.concatenate([s.dec[~np.isnan(s.dec)] for s in samples])
        ra0, dec0 = (all_ra.max() + all_ra.min()) / 2.0, (all_dec.max() + all_dec.min()) / 2.0
    to_plane = tangent_projection(ra0, dec0).inverse
    lo_x = lo_y = np.inf
    hi_x = hi_y = -np.inf
    for s in samples:
        ok = np.isfinite(s.ra) & np.isfinite(s.dec)
        px, py = to_plane(s.ra[ok], s.dec[ok])
        lo_x, hi_x = min(lo_x, px.min()), max(hi_x, px.max())
        lo_y, hi_y = min(lo_y, py.min()), max(hi_y, py.max())
    if abs(x_slope) < abs(y_slope):
        n = spatial_size(lo_y, hi_y, y_slope)
    else:
        n = spatial_size(lo_x, hi_x, x_slope)
    return RectifiedGrid(dispaxis, wavelengths, ra0, dec0, x_slope, centred_intercept(n, x_slope),
                         y_slope, centred_intercept(n, y_slope), n)


def rectified_wcs(grid: RectifiedGrid):
    """gwcs.WCS detector -> world (ra, dec, wavelength) of a :class:`RectifiedGrid`."""
    from astropy import coordinates as coord
    from astropy import units as u
    from astropy.modeling.models import Linear1D, Mapping, Tabular1D
    from gwcs import coordinate_frames as cf
    from gwcs.wcs import WCS

    spectral = grid.dispaxis - 1
    spatial = 1 - spectral
    waves = grid.wavelengths
    index = np.arange(waves.size)
    to_wave = Tabular1D(points=index, lookup_table=waves, bounds_error=False, fill_value=None, name="pix2wavelength")
    increasing = bool(np.all(np.diff(waves) > 0))
    to_wave.inverse = Tabular1D(
        points=waves if increasing else waves[::-1], lookup_table=index if increasing else index[::-1],
        bounds_error=False, fill_value=None, name="wavelength2pix",
    )
    mapping = Mapping((spatial, spatial, spectral))
    if grid.along_y_tangent:  # invert through the steeper tangent-plane axis
        mapping.inverse = Mapping((2, 1) if spatial else (1, 2))
    to_x = Linear1D(slope=grid.x_slope, intercept=grid.x_intercept)
    to_y = Linear1D(slope=grid.y_slope, intercept=grid.y_intercept)
    transform = mapping | (to_x & to_y | tangent_projection(grid.ra0, grid.dec0)) & to_wave

    detector = cf.Frame2D(name="detector", axes_order=(0, 1))
    sky = cf.CelestialFrame(name="sky", axes_order=(0, 1), reference_frame=coord.ICRS())
    spec = cf.SpectralFrame(name="spectral", axes_order=(2,), unit=(u.micron,), axes_names=("wavelength",))
    wcs = WCS([(detector, transform), (cf.CompositeFrame([sky, spec], name="world"), None)])
    ny, nx = grid.shape
    wcs.array_shape = (ny, nx)
    wcs.pixel_shape = (nx, ny)
    wcs.bounding_box = ((-0.5, nx - 0.5), (-0.5, ny - 0.5))
    return wcs


def pixel_map(sample: WcsSample, wcs_out, shape):
    """(ny, nx, 2) output (x, y) of every input pixel centre: the sampled world
    coordinates through the output WCS's inverse (its bounding box ignored); NaN
    outside the input's bounding box and the array."""
    pixmap = np.full((*shape, 2), np.nan)
    ny_s, nx_s = sample.ra.shape
    ys = slice(max(sample.y0, 0), min(sample.y0 + ny_s, shape[0]))
    xs = slice(max(sample.x0, 0), min(sample.x0 + nx_s, shape[1]))
    if ys.start >= ys.stop or xs.start >= xs.stop:
        return pixmap
    sub = (slice(ys.start - sample.y0, ys.stop - sample.y0), slice(xs.start - sample.x0, xs.stop - sample.x0))
    from spec2.wcs.compiled import compile_model

    # compiled: the values astropy computes, without its per-node overhead (~10 ms a slit)
    with np.errstate(all="ignore"):  # NaN off the slit; errstate is per thread
        out_x, out_y = compile_model(wcs_out.backward_transform)(sample.ra[sub], sample.dec[sub],
                                                                 sample.lam[sub])[:2]
    pixmap[ys, xs, 0] = out_x
    pixmap[ys, xs, 1] = out_y
    return pixmap


# ---------------------------------------------------------------------------------------
# Drizzling
# ---------------------------------------------------------------------------------------


class SpectralDrizzle:
    """Co-add slit inputs onto one output grid with drizzle, propagating variances.

    Usage: ``d = SpectralDrizzle(shape, n_inputs=..., ...); d.add(...) per input;
    result = d.finish()`` -> dict of float32 data, wht, err, var_* and int32 con.
    """

    def __init__(self, shape, n_inputs=1, pixfrac=1.0, kernel="square", fillval="NAN",
                 weight_type="ivm", pixel_scale_ratio=1.0):
        from drizzle.resample import Drizzle

        self.shape = tuple(shape)
        self.pixfrac, self.kernel, self.weight_type = pixfrac, kernel, weight_type
        self.pixel_scale_ratio = pixel_scale_ratio
        self._driz = Drizzle(kernel=kernel, fillval=fillval, out_shape=self.shape,
                             begin_ctx_id=0, max_ctx_id=max(n_inputs - 1, 0), disable_ctx=False)
        self._wsum = {v: np.full(self.shape, np.nan, np.float32) for v in VARIANCES}
        self._wtot = {v: np.zeros(self.shape, np.float32) for v in VARIANCES}

    def add(self, data, pixmap, weight, variances=None, box=None, exptime=1.0, time=1.0, iscale=1.0):
        """Drizzle one input.

        data      -- 2-D science array (invalid pixels NaN with weight 0)
        pixmap    -- (ny, nx, 2) output coordinates of the input pixels
        weight    -- drizzle weight map (see :func:`drizzle_weight`)
        variances -- {name: 2-D array} for names in VARIANCES (missing/misshaped skipped)
        box       -- (xmin, xmax, ymin, ymax) input pixels to use (:func:`drizzle_range`)
        exptime   -- exposure time handed to the kernel (no effect on rates)
        time      -- the input's weight in the variance combination for "exptime"
        iscale    -- intensity scale of the input
        """
        from drizzle.resample import Drizzle

        xmin, xmax, ymin, ymax = box if box is not None else drizzle_range(np.shape(data), None)
        common = dict(exptime=exptime, pixmap=pixmap, iscale=iscale, pixel_scale_ratio=self.pixel_scale_ratio,
                      weight_map=weight, wht_scale=1.0, pixfrac=self.pixfrac, in_units="cps",
                      xmin=xmin, xmax=xmax, ymin=ymin, ymax=ymax)
        self._driz.add_image(data, **common)

        resampled = {}
        for name in VARIANCES:
            var = (variances or {}).get(name)
            if var is None or np.size(var) == 0 or np.shape(var) != np.shape(data):
                continue
            one = Drizzle(kernel=self.kernel, fillval=np.nan, out_shape=self.shape, disable_ctx=True)
            one.add_image(np.sqrt(var), **common)
            resampled[name] = one.out_img ** 2
        if self.weight_type == "ivm":
            rn = resampled.get("var_rnoise")
            w = np.zeros(self.shape)
            if rn is None:
                w[:] = 1.0
            else:
                ok = (rn > 0) & np.isfinite(rn)
                w[ok] = np.reciprocal(rn[ok])
        else:
            w = np.full(self.shape, float(time))
        for name, var in resampled.items():
            add_variance(self._wsum[name], self._wtot[name], var, w)

    def finish(self):
        """Final arrays: data, wht, con, var_rnoise, var_flat, var_poisson and err (a
        variance no input had is all NaN, as in jwst's products)."""
        out = {"data": self._driz.out_img, "wht": self._driz.out_wht, "con": self._driz.out_ctx}
        for name in VARIANCES:
            out[name] = finish_variance(self._wsum[name], self._wtot[name], self.pixel_scale_ratio)
        out["err"] = error_from_variances([out[name] for name in VARIANCES])
        return out
