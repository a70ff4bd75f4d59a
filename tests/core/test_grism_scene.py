"""The shared slitless-field simulator: a flat spectrum along a straight trace, by hand."""

from __future__ import annotations

import numpy as np
import pytest

from spec2.algorithms.grism import GrismOrder, Poly1D, TracePolynomial


def _straight(order=1, axis="row"):
    """along = 100 t (pixels), across = 0.5 + 2 t, lambda = 1 + t (micron)."""
    along, across = TracePolynomial(legacy=Poly1D((0.0, 100.0))), TracePolynomial(legacy=Poly1D((0.5, 2.0)))
    dx, dy = (along, across) if axis == "row" else (across, along)
    return GrismOrder(order=order, dx=dx, dy=dy, wavelength=TracePolynomial(legacy=Poly1D((1.0, 1.0))))


@pytest.mark.parametrize("axis", ["row", "column"])
def test_flat_spectrum_gives_one_count_per_pixel_along_the_trace(axis):
    """1 Jy everywhere and 1 Jy per DN/s: every pixel along the trace (away from its
    ends, where the source's smear spills over) collects 1 DN/s in total across, centred
    on y0 + dy(t) (row dispersion) or x0 + dx(t) (column dispersion)."""
    from spec2.sim.grism_scene import trace_stamp

    g = _straight(axis=axis)
    x0, y0 = 40, 30
    rows, cols, stamp = trace_stamp(g, x0, y0, 0.5, lambda wl: np.ones_like(wl), axis=axis,
                                    jy_per_rate=lambda order, wl, disp: np.ones_like(wl),
                                    psf_sigma=lambda wl: np.full_like(wl, 0.6), shape=(200, 200))
    image = np.zeros((200, 200))
    image[rows, cols] += stamp
    if axis == "column":
        image = image.T  # the same trace along rows
        x0, y0 = y0, x0
    along = image.sum(axis=0)
    np.testing.assert_allclose(along[x0 + 5 : x0 + 95], 1.0, rtol=1e-6)
    centre = (image[:, 90] * np.arange(200)).sum() / image[:, 90].sum()
    assert centre == pytest.approx(y0 + 0.5 + 2.0 * (90 - x0) / 100.0, abs=1e-3)


def test_dispersed_rate_adds_orders_and_sources():
    from spec2.sim.grism_scene import Sources, dispersed_rate

    orders = {1: _straight(1), 2: _straight(2)}
    s = Sources(label=np.array([1, 2]), x=np.array([20.0, 20.0]), y=np.array([40.0, 120.0]),
                sigma=np.array([0.5, 0.5]), abmag=np.array([20.0, 20.0]), is_extended=np.array([False, False]))
    one = dict(axis="row", jy_per_rate=lambda order, wl, disp: np.full_like(wl, float(order)),
               psf_sigma=lambda wl: np.full_like(wl, 0.6))
    image = dispersed_rate(s, [lambda wl: np.ones_like(wl)] * 2, orders, shape=(160, 160), **one)
    # each source: order 1 gives 1 DN/s per column, order 2 (twice the Jy per DN/s) 0.5,
    # on the same trace: 1.5 per column in the middle
    np.testing.assert_allclose(image[30:50, 60].sum(), 1.5, rtol=1e-6)
    np.testing.assert_allclose(image[110:130, 60].sum(), 1.5, rtol=1e-6)
