"""Grism dispersion polynomials: the trace of a source through a slitless grism.

A grism reference file (NIRCam and NIRISS specwcs) describes each spectral order with
polynomials in a trace parameter t (0..1 along the spectrum) whose coefficients may vary
with the source's position (x0, y0) in the direct image::

    value(t; x0, y0) = sum_k  C_k(x0, y0) * t**k,    C_k a 2-D polynomial in (x0, y0)

for the along-trace offsets dx(t), dy(t) and the wavelength lambda(t). A legacy form has
constant coefficients (a 1-D polynomial in t). Inverse models, when the file has them,
are 1-D polynomials of the offset (t = f(dx)) or of the wavelength (t = f(lambda)).

Everything here is numpy on whole arrays (a grid of pixels, or many sources at once);
building these objects from the astropy models of a reference file is
:mod:`spec2.wcs.grism`'s job.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

SAMPLING = 40
"""Number of t samples jwst uses when a trace polynomial has to be inverted numerically."""


@dataclass(frozen=True)
class Poly1D:
    """c0 + c1*u + c2*u**2 + ... with u the input linearly mapped from ``domain`` to
    ``window`` (astropy's convention; identity when both are equal)."""

    coeffs: tuple[float, ...]
    domain: tuple[float, float] = (-1.0, 1.0)
    window: tuple[float, float] = (-1.0, 1.0)

    def _mapped(self, u):
        (d0, d1), (w0, w1) = self.domain, self.window
        if (d0, d1) == (w0, w1):
            return u
        return w0 + (u - d0) * (w1 - w0) / (d1 - d0)

    def __call__(self, u):
        u = self._mapped(np.asarray(u, dtype=float))
        result = np.zeros(np.shape(u)) + self.coeffs[-1]
        for c in self.coeffs[-2::-1]:
            result = result * u + c
        return result

    @property
    def degree(self) -> int:
        return len(self.coeffs) - 1


@dataclass(frozen=True)
class Poly2D:
    """sum a_m * x**i_m * y**j_m over the terms m (no domain mapping: astropy's
    Polynomial2D in grism reference files has none).

    ``model``, when given, is the reference file's own astropy polynomial with these
    terms; it then evaluates (its multivariate Horner scheme rounds like jwst's)."""

    terms: tuple[tuple[int, int, float], ...]  # (i, j, coefficient)
    model: object = None

    def __call__(self, x, y):
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        if self.model is not None:
            return np.asarray(self.model(x, y), dtype=float)
        result = np.zeros(np.broadcast(x, y).shape)
        for i, j, a in self.terms:
            if a != 0.0:
                result = result + a * x**i * y**j
        return result


@dataclass(frozen=True)
class TracePolynomial:
    """value(t; x0, y0) = sum_k C_k(x0, y0) t**k for one order.

    ``coefficients`` holds one Poly2D per power of t (field-dependent form), or
    ``legacy`` a Poly1D in t (no field dependence).
    """

    coefficients: tuple[Poly2D, ...] = ()
    legacy: Poly1D | None = None

    def __post_init__(self):
        if (self.legacy is None) == (not self.coefficients):
            raise ValueError("a trace polynomial is either field-dependent or legacy, not both or neither")

    @property
    def field_dependent(self) -> bool:
        return self.legacy is None

    def __call__(self, t, x0=0.0, y0=0.0):
        """Evaluate at t for sources at (x0, y0); the arguments broadcast together."""
        t = np.asarray(t, dtype=float)
        if self.legacy is not None:
            return self.legacy(t)
        result = np.zeros(np.broadcast(t, np.asarray(x0), np.asarray(y0)).shape)
        for k, c in enumerate(self.coefficients):
            result = result + c(x0, y0) * t**k
        return result

    def linear_inverse(self):
        """t as a function of the value when the polynomial is a legacy straight line
        (jwst inverts such a trace analytically), else None."""
        if self.legacy is None or self.legacy.degree != 1:
            return None
        c0, c1 = self.legacy.coeffs
        (d0, d1), (w0, w1) = self.legacy.domain, self.legacy.window
        if (d0, d1) != (w0, w1):
            return None
        return Poly1D((-c0 / c1, 1.0 / c1))


def invert_sampled(trace: TracePolynomial, value, x0, y0, sampling=SAMPLING):
    """t where ``trace`` reaches ``value`` for one source at scalar (x0, y0), by linear
    interpolation between ``sampling`` evenly spaced t in [0, 1] (values outside the
    sampled range take the end t). This is how jwst inverts a trace with no inverse model."""
    t0 = np.linspace(0.0, 1.0, int(sampling))
    samples = np.asarray(trace(t0, float(x0), float(y0)), dtype=float)
    order = np.argsort(samples)
    return np.interp(value, samples[order], t0[order])


def invert_sampled_minimum(trace: TracePolynomial, value, x0, y0, sampling=SAMPLING):
    """t where a field-dependent ``trace`` reaches ``value`` for sources at (x0, y0)
    (1-D arrays of equal length; ``value`` a scalar or one value per source), computed
    the way jwst's NIRCam backward dispersion does when the file has no inverse model.

    The trace is sampled at ``sampling`` evenly spaced t in [0, 1]; at the sample with
    the smallest squared residual the zero of the residual's (index) gradient is found
    by a straight line through the gradient at that sample and at its neighbour on the
    side where the gradient changes sign. Samples at either end give t = 0 or 1 exactly.
    Matching jwst matters where the result is truncated to pixels (cut-out boxes)."""
    t0 = np.linspace(0.0, 1.0, int(sampling))
    x0 = np.atleast_1d(np.asarray(x0, float))
    y0 = np.atleast_1d(np.asarray(y0, float))
    samples = trace(t0[:, None], x0[None, :], y0[None, :])  # (n_t, n_sources)
    resid = (samples - np.asarray(value, float)) ** 2
    best = np.argmin(resid, axis=0)
    t = np.where(best == 0, 0.0, 1.0)
    inner = (best > 0) & (best < t0.size - 1)
    if inner.any():
        k = best[inner]
        cols = np.nonzero(inner)[0]
        grad = np.gradient(resid[:, inner], axis=0)
        g_mid = grad[k, np.arange(k.size)]
        g_lo, g_hi = grad[k - 1, np.arange(k.size)].copy(), grad[k + 1, np.arange(k.size)].copy()
        t_lo, t_hi, t_mid = t0[k - 1].copy(), t0[k + 1].copy(), t0[k]
        # a falling residual pairs the sample with its lower neighbour, a rising one with
        # its upper neighbour (jwst's choice, kept for identical boxes)
        falling, rising = g_mid < 0, g_mid > 0
        g_hi[falling], t_hi[falling] = g_mid[falling], t_mid[falling]
        g_lo[rising], t_lo[rising] = g_mid[rising], t_mid[rising]
        slope = (g_hi - g_lo) / (t_hi - t_lo)
        intercept = g_hi - slope * t_hi
        with np.errstate(invalid="ignore", divide="ignore"):
            zero = -intercept / slope
        zero[g_mid == 0] = t_mid[g_mid == 0]
        t[cols] = zero
    return t


@dataclass(frozen=True)
class GrismOrder:
    """One spectral order of a grism: the trace offsets and the wavelength along it, with
    the inverse models the reference file may carry (None when it has none)."""

    order: int
    dx: TracePolynomial
    dy: TracePolynomial
    wavelength: TracePolynomial
    inverse_dx: Poly1D | None = None
    inverse_dy: Poly1D | None = None
    inverse_wavelength: TracePolynomial | None = None


def trace_parameter_from_offset(g: GrismOrder, offset, x0, y0, axis="row"):
    """t at a pixel whose along-dispersion offset from the source is ``offset``
    (x - x0 for row dispersion, y - y0 for column dispersion), as NIRCam's forward
    transform finds it: the inverse model if the file has one, the analytic inverse of a
    straight legacy trace, else interpolation of the sampled trace for a single source."""
    along, inverse = (g.dx, g.inverse_dx) if axis == "row" else (g.dy, g.inverse_dy)
    if inverse is not None:
        return inverse(offset)
    linear = along.linear_inverse()
    if linear is not None:
        return linear(offset)
    if along.field_dependent and (np.size(x0) != 1 or np.size(y0) != 1):
        raise ValueError("a field-dependent trace with no inverse model can be inverted for one source at a time")
    return invert_sampled(along, offset, np.ravel(x0)[0], np.ravel(y0)[0])


def wavelength_at_pixels(g: GrismOrder, x, y, x0, y0, axis="row"):
    """Wavelength (the file's unit, microns) at dispersed-image pixels (x, y) (full-frame,
    0-based) for a source at direct-image (x0, y0): NIRCam's forward dispersion."""
    offset = (np.asarray(x, float) - x0) if axis == "row" else (np.asarray(y, float) - y0)
    t = trace_parameter_from_offset(g, offset, x0, y0, axis)
    return g.wavelength(t, x0, y0)


def trace_parameter_from_wavelength(g: GrismOrder, wavelength, x0, y0):
    """t at which the order reaches ``wavelength`` for sources at (x0, y0), as NIRCam's
    backward dispersion finds it: the inverse wavelength model if the file has one, else
    jwst's sampled inversions (a straight interpolation for a legacy polynomial, the
    residual-minimum search for a field-dependent one), so that boxes cut from these
    positions are the pixels jwst cuts."""
    if g.inverse_wavelength is not None:
        return g.inverse_wavelength(wavelength, x0, y0)
    if g.wavelength.field_dependent:
        x0b, y0b, wb = np.broadcast_arrays(np.asarray(x0, float), np.asarray(y0, float),
                                           np.asarray(wavelength, float))
        t = invert_sampled_minimum(g.wavelength, wb.ravel(), x0b.ravel(), y0b.ravel())
        return t.reshape(wb.shape)
    return invert_sampled(g.wavelength, wavelength, 0.0, 0.0)


def rotate(dx, dy, degrees):
    """Offsets (dx, dy) turned counter-clockwise by ``degrees`` (NIRISS: the filter-wheel
    angle). Evaluated as one 2x2 matrix product over all points, as astropy's
    Rotation2D does, so results agree with jwst's to the bit."""
    dx, dy = np.broadcast_arrays(np.asarray(dx, float), np.asarray(dy, float))
    a = np.deg2rad(degrees)
    matrix = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]], dtype=np.float64)
    shape = dx.shape or (1,)
    turned = np.dot(matrix, np.array([dx.ravel(), dy.ravel()]))
    return np.reshape(turned, (2, *shape))


def dispersed_position(g: GrismOrder, x0, y0, wavelength, rotation=0.0):
    """(x, y) in the dispersed image of light of ``wavelength`` from sources at
    direct-image (x0, y0): the backward dispersion, with the trace offsets turned by
    ``rotation`` degrees (NIRISS). Arguments broadcast."""
    t = trace_parameter_from_wavelength(g, wavelength, x0, y0)
    dx, dy = g.dx(t, x0, y0), g.dy(t, x0, y0)
    if rotation != 0.0:
        dx, dy = rotate(dx, dy, rotation)
    return x0 + dx, y0 + dy


def wavelength_at_pixels_sampled(g: GrismOrder, x, y, x0, y0, axis="row", rotation=0.0, sampling=10):
    """Wavelength at dispersed-image pixels (x, y) for one source at scalar direct-image
    (x0, y0), the way NIRISS's forward dispersion finds it: the trace is sampled at
    ``sampling`` evenly spaced t, turned by ``rotation`` degrees, t is interpolated
    linearly in the along-dispersion offset (extrapolated beyond the samples) and the
    wavelength polynomial evaluated at that t."""
    from scipy.interpolate import interpn

    t0 = np.linspace(0, 1, sampling)
    dx, dy = g.dx(t0, float(x0), float(y0)), g.dy(t0, float(x0), float(y0))
    if rotation != 0.0:
        dx, dy = rotate(dx, dy, rotation)
    along = dx if axis == "row" else dy
    offset = (np.asarray(x, float) - x0) if axis == "row" else (np.asarray(y, float) - y0)
    order = np.argsort(along)
    t = interpn((along[order],), t0[order], offset.ravel()[:, None], method="linear",
                bounds_error=False, fill_value=None).reshape(offset.shape)
    return g.wavelength(t, x0, y0)


def dispersion_per_pixel(wavelength, axis):
    """d(lambda)/d(pixel) along the dispersion (axis -1 for rows, -2 for columns) by
    central differences inside and one-sided differences at the ends, as numpy.gradient."""
    return np.gradient(np.asarray(wavelength, dtype=float), axis=axis)


def to_index(value):
    """Nearest pixel index of a coordinate (pixel centres at integers), gwcs' rule."""
    return np.asarray(np.floor(np.asarray(value) + 0.5), dtype=int)


def order_boxes(g: GrismOrder, corner_x0, corner_y0, centre_x0, centre_y0, wavelength_range, *,
                dispaxis, shape, half_height=None, is_extended=None, rotation=0.0):
    """Pixel boxes of one order's traces for many sources at once, jwst's WFSS rule.

    corner_x0/y0   -- (n, k) direct-image positions of each source's bounding-box corners
    centre_x0/y0   -- (n,) direct-image positions of the source centroids
    wavelength_range -- (lambda_min, lambda_max) of the order, in the dispersion model's
                      frame (observed: divide barycentric values by the velocity factor)
    dispaxis       -- 1 rows, 2 columns; shape -- (ny, nx) of the exposure
    half_height    -- if given, point sources (``~is_extended``) get a cross-dispersion
                      extent of the trace centre at the middle wavelength +- half_height
    rotation       -- degrees the trace offsets are turned by (NIRISS filter wheel)

    The box spans the corners dispersed at both ends of the range. Returns (xmin, xmax,
    ymin, ymax, keep, partial): integer bounds (pixel indices, not yet clipped), keep
    where the box has at least two pixels along the dispersion and one across on the
    detector, partial where a box corner is off it.
    """
    lmin, lmax = wavelength_range
    xa, ya = dispersed_position(g, corner_x0, corner_y0, lmin, rotation)
    xb, yb = dispersed_position(g, corner_x0, corner_y0, lmax, rotation)
    xs = np.concatenate([np.atleast_2d(xa), np.atleast_2d(xb)], axis=1)
    ys = np.concatenate([np.atleast_2d(ya), np.atleast_2d(yb)], axis=1)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN: a source off the imaging WCS
        xmin, xmax = np.nanmin(xs, axis=1), np.nanmax(xs, axis=1)
        ymin, ymax = np.nanmin(ys, axis=1), np.nanmax(ys, axis=1)
    if half_height is not None:
        point = ~np.asarray(is_extended, bool)
        if point.any():
            cx, cy = dispersed_position(g, centre_x0[point], centre_y0[point], (lmin + lmax) / 2, rotation)
            centre = cy if dispaxis == 1 else cx
            lo, hi = (ymin, ymax) if dispaxis == 1 else (xmin, xmax)
            lo[point], hi[point] = centre - half_height, centre + half_height
    placed = np.isfinite(xmin) & np.isfinite(xmax) & np.isfinite(ymin) & np.isfinite(ymax)
    with np.errstate(invalid="ignore"):  # unplaced sources get arbitrary integers, dropped below
        xmin, xmax, ymin, ymax = (to_index(v) for v in (xmin, xmax, ymin, ymax))
    ny, nx = shape
    if dispaxis == 1:
        along = (xmax > 0) & (nx - 1 - xmin > 0)
        across = (ymax >= 0) & (ny - 1 - ymin >= 0)
    else:
        along = (ymax > 0) & (ny - 1 - ymin > 0)
        across = (xmax >= 0) & (nx - 1 - xmin >= 0)
    keep = along & across & placed
    inside_lo = (xmin >= 0) & (xmin <= nx - 1) & (ymin >= 0) & (ymin <= ny - 1)
    inside_hi = (xmax >= 0) & (xmax <= nx - 1) & (ymax >= 0) & (ymax <= ny - 1)
    partial = keep & ~(inside_lo & inside_hi)
    return xmin, xmax, ymin, ymax, keep, partial
