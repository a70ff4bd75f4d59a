"""Grism dispersion polynomials and grism photom: hand-computed values, and agreement with
the stdatamodels transforms jwst evaluates."""

from __future__ import annotations

import numpy as np
import pytest

from spec2.algorithms.grism import (
    GrismOrder,
    Poly1D,
    Poly2D,
    TracePolynomial,
    dispersed_position,
    invert_sampled,
    trace_parameter_from_offset,
    wavelength_at_pixels,
)
from spec2.steps.grism_photom import grism_conversion, unit_factor


def test_poly1d_horner_and_domain_mapping():
    p = Poly1D((1.0, 2.0, 3.0))
    assert p(2.0) == 1 + 2 * 2 + 3 * 4  # 17
    # domain [0, 10] onto window [-1, 1]: u = 5 maps to 0, u = 10 to 1
    q = Poly1D((1.0, 2.0, 3.0), domain=(0.0, 10.0), window=(-1.0, 1.0))
    np.testing.assert_allclose(q([5.0, 10.0]), [1.0, 6.0])


def test_poly2d_terms():
    p = Poly2D(((0, 0, 1.0), (1, 0, 2.0), (0, 1, 3.0), (1, 1, 0.5)))
    assert p(2.0, 3.0) == 1 + 2 * 2 + 3 * 3 + 0.5 * 6  # 17


def _field_trace():
    # C0 = 3.6 + 0.001 x0, C1 = 1.6 - 0.0002 y0, C2 = 0.05
    return TracePolynomial(coefficients=(
        Poly2D(((0, 0, 3.6), (1, 0, 0.001))),
        Poly2D(((0, 0, 1.6), (0, 1, -0.0002))),
        Poly2D(((0, 0, 0.05),)),
    ))


def test_field_dependent_trace_value():
    trace = _field_trace()
    # x0 = 100, y0 = 500, t = 0.5: 3.7 + (1.6 - 0.1) * 0.5 + 0.05 * 0.25
    assert trace(0.5, 100.0, 500.0) == pytest.approx(3.7 + 0.75 + 0.0125)
    # many sources at once broadcast against many t
    values = trace(np.array([[0.0], [1.0]]), np.array([0.0, 100.0]), np.array([0.0, 0.0]))
    np.testing.assert_allclose(values, [[3.6, 3.7], [3.6 + 1.6 + 0.05, 3.7 + 1.6 + 0.05]])


def test_inversions():
    from spec2.algorithms.grism import invert_sampled_minimum

    trace = _field_trace()
    lam = np.array([3.8, 4.2, 4.9])
    # the exact roots of 0.05 t^2 + 1.5 t + (3.7 - lambda) = 0 (x0 = 100, y0 = 500)
    t = (-1.5 + np.sqrt(1.5**2 - 4 * 0.05 * (3.7 - lam))) / (2 * 0.05)
    np.testing.assert_allclose(trace(t, 100.0, 500.0), lam, rtol=0, atol=1e-13)
    # jwst's 40-sample interpolation: exact for a straight trace, close for a curved one
    line = TracePolynomial(legacy=Poly1D((-750.0, 1600.0)))
    assert invert_sampled(line, 200.0, 0.0, 0.0) == pytest.approx(950.0 / 1600.0)
    np.testing.assert_allclose(invert_sampled(trace, lam, 100.0, 500.0), t, atol=2e-4)
    # jwst's residual-minimum search: ends exactly at 0 and 1, inside close to exact
    ends = invert_sampled_minimum(trace, np.array([3.0, 6.0]), np.array([100.0, 100.0]), np.array([500.0, 500.0]))
    assert ends.tolist() == [0.0, 1.0]
    inside = invert_sampled_minimum(trace, lam, np.full(3, 100.0), np.full(3, 500.0))
    np.testing.assert_allclose(inside, t, atol=2e-3)


def _order(inverse=True):
    return GrismOrder(
        order=1,
        dx=TracePolynomial(legacy=Poly1D((-750.0, 1600.0))),
        dy=TracePolynomial(legacy=Poly1D((0.5, -1.0))),
        wavelength=TracePolynomial(legacy=Poly1D((3.6, 1.6))),
        inverse_dx=Poly1D((750.0 / 1600.0, 1.0 / 1600.0)) if inverse else None,
    )


@pytest.mark.parametrize("inverse", [True, False])
def test_forward_and_backward_dispersion(inverse):
    g = _order(inverse)
    # x - x0 = 200 -> t = 950/1600 = 0.59375 -> lambda = 3.6 + 1.6 t = 4.55
    assert wavelength_at_pixels(g, 1087.0, 30.0, 887.0, 34.0) == pytest.approx(4.55)
    x, y = dispersed_position(g, 887.0, 34.0, 4.55)
    assert x == pytest.approx(1087.0)
    assert y == pytest.approx(34.0 + 0.5 - 0.59375)


def test_field_dependent_offset_without_inverse_needs_one_source():
    g = GrismOrder(order=1, dx=_field_trace(), dy=_field_trace(), wavelength=_field_trace())
    t = trace_parameter_from_offset(g, np.array([3.8, 4.0]), 100.0, 500.0)
    np.testing.assert_allclose(t, invert_sampled(g.dx, np.array([3.8, 4.0]), 100.0, 500.0))
    with pytest.raises(ValueError, match="one source"):
        trace_parameter_from_offset(g, np.array([3.8, 4.0]), np.array([1.0, 2.0]), np.array([1.0, 2.0]))


def test_matches_the_stdatamodels_grism_transforms(tmp_path):
    """Our vectorised polynomials against the transforms jwst builds from the same
    specwcs: forward wavelengths and backward positions (jwst's sampled inversion of a
    field-dependent wavelength polynomial included) equal to rounding, for many sources
    at once on our side."""
    from stdatamodels.jwst.datamodels import NIRCAMGrismModel
    from stdatamodels.jwst.transforms.models import (
        NIRCAMBackwardGrismDispersion,
        NIRCAMForwardRowGrismDispersion,
    )

    from spec2.wcs.grism import specwcs_orders
    from spec2_nircam.sim.references import write_specwcs

    with NIRCAMGrismModel(write_specwcs(tmp_path / "specwcs.asdf")) as ref:
        ours = specwcs_orders(ref)
        lists = dict(lmodels=ref.displ.instance, xmodels=ref.dispx.instance, ymodels=ref.dispy.instance,
                     inv_lmodels=ref.invdispl.instance, inv_xmodels=ref.invdispx.instance)
        forward = NIRCAMForwardRowGrismDispersion(ref.orders.instance, **lists)
        backward = NIRCAMBackwardGrismDispersion(ref.orders.instance, **lists)
    x = np.arange(300.0, 1600.0, 7.0)
    for order, (x0, y0) in ((1, (887.0, 35.0)), (1, (1500.0, 800.0)), (2, (300.0, 1200.0))):
        _, _, lam, _ = forward(x, np.full_like(x, 30.0), x0, y0, order)
        np.testing.assert_allclose(wavelength_at_pixels(ours[order], x, None, x0, y0), lam, rtol=1e-14)
        waves = np.linspace(lam.min(), lam.max(), 9)
        bx, by = np.array([backward(x0, y0, w, order)[:2] for w in waves]).reshape(9, 2).T
        mx, my = dispersed_position(ours[order], x0, y0, waves)
        np.testing.assert_allclose(mx, bx, rtol=1e-12)
        np.testing.assert_allclose(my, by, rtol=1e-12)
        # many sources, one wavelength: what cut-out boxes ask
        xs, ys = np.array([x0, x0 + 50.0, x0 - 80.0]), np.array([y0, y0 - 30.0, y0 + 70.0])
        bx, by = np.array([backward(a, b, waves[4], order)[:2] for a, b in zip(xs, ys)]).reshape(3, 2).T
        mx, my = dispersed_position(ours[order], xs, ys, waves[4])
        np.testing.assert_allclose(mx, bx, rtol=1e-12)
        np.testing.assert_allclose(my, by, rtol=1e-12)


def test_grism_conversion_divides_by_the_dispersion():
    wl = np.array([[1.0, 1.1, 1.3, np.nan]])
    factor, no_cal = grism_conversion(2.0, wl, np.array([0.9, 1.4]), np.array([1.0, 1.0]), dispaxis=1)
    # np.gradient of [1.0, 1.1, 1.3, -1] (NaN counts as -1, as jwst): 0.1, 0.15, -1.05, -2.3
    np.testing.assert_allclose(factor[0, :3], [2.0 / 0.1, 2.0 / 0.15, 2.0 / 1.05])
    assert no_cal.tolist() == [[False, False, False, True]] and factor[0, 3] == 0.0
    col, _ = grism_conversion(2.0, wl.T, np.array([0.9, 1.4]), np.array([1.0, 1.0]), dispaxis=2)
    np.testing.assert_allclose(col[:, 0], factor[0])


def test_photom_unit_factor():
    assert unit_factor(None) == 1.0
    assert unit_factor("MJy micron s / (DN sr)") == pytest.approx(1.0)
    assert unit_factor("MJy Angstrom s / (DN sr)") == pytest.approx(1e-4)


def test_rotation_turns_offsets_counter_clockwise():
    """90 degrees takes (1, 0) to (0, 1); 30 degrees by hand; shapes are kept."""
    from spec2.algorithms.grism import rotate

    x, y = rotate(np.array([1.0, 0.0]), np.array([0.0, 2.0]), 90.0)
    np.testing.assert_allclose(x, [0.0, -2.0], atol=1e-15)
    np.testing.assert_allclose(y, [1.0, 0.0], atol=1e-15)
    x, y = rotate(np.full((2, 3), 2.0), np.zeros((2, 3)), 30.0)
    assert x.shape == (2, 3)
    np.testing.assert_allclose(x, np.sqrt(3.0))
    np.testing.assert_allclose(y, 1.0)


def test_sampled_forward_dispersion_by_hand():
    """A straight trace dx = -10 + 400 t, lambda = 0.6 + 1.8 t: the sampled inversion is
    exact on a line, inside and (extrapolated) beyond t in [0, 1]; a turn of theta shrinks
    the along-row offsets by cos(theta) (dy = 0), so lambda follows offset / cos(theta)."""
    from spec2.algorithms.grism import wavelength_at_pixels_sampled

    g = GrismOrder(order=1, dx=TracePolynomial(legacy=Poly1D((-10.0, 400.0))),
                   dy=TracePolynomial(legacy=Poly1D((0.0, 0.0))),
                   wavelength=TracePolynomial(legacy=Poly1D((0.6, 1.8))))
    x0, y0 = 500.0, 300.0
    x = np.array([490.0, 690.0, 890.0, 990.0])  # t = 0, 0.5, 1, 1.25
    wl = wavelength_at_pixels_sampled(g, x, np.full(4, 300.0), x0, y0)
    np.testing.assert_allclose(wl, [0.6, 1.5, 2.4, 2.85], rtol=1e-12)
    c = np.cos(np.deg2rad(2.0))
    wl = wavelength_at_pixels_sampled(g, x, np.full(4, 300.0), x0, y0, rotation=2.0)
    t = ((x - x0) / c + 10.0) / 400.0
    np.testing.assert_allclose(wl, 0.6 + 1.8 * t, rtol=1e-12)


def test_matches_the_niriss_grism_transforms(tmp_path):
    """NIRISS's forward (sampled, turned by +theta) and backward (inverse wavelength
    polynomial, turned by -theta) dispersions against stdatamodels' transforms built
    from the same specwcs, for both grisms: equal to rounding."""
    from stdatamodels.jwst.datamodels import NIRISSGrismModel
    from stdatamodels.jwst.transforms.models import (
        NIRISSBackwardGrismDispersion,
        NIRISSForwardColumnGrismDispersion,
        NIRISSForwardRowGrismDispersion,
    )

    from spec2.algorithms.grism import wavelength_at_pixels_sampled
    from spec2.wcs.grism import specwcs_orders
    from spec2_niriss.sim.references import write_specwcs

    theta = 0.37
    for grism, forward_cls, axis in (("GR150C", NIRISSForwardRowGrismDispersion, "row"),
                                     ("GR150R", NIRISSForwardColumnGrismDispersion, "column")):
        with NIRISSGrismModel(write_specwcs(tmp_path / f"{grism}.asdf", grism)) as ref:
            ours = specwcs_orders(ref)
            lists = dict(xmodels=ref.dispx.instance, ymodels=ref.dispy.instance)
            forward = forward_cls(ref.orders.instance, lmodels=ref.displ.instance, theta=theta, **lists)
            backward = NIRISSBackwardGrismDispersion(ref.orders.instance, lmodels=ref.invdispl.instance,
                                                     theta=-theta, **lists)
        for order, (x0, y0) in ((1, (1024.0, 1024.0)), (2, (300.5, 1700.25)), (0, (1800.0, 90.0))):
            along = np.arange(-250.0, 500.0, 11.0)
            x, y = (x0 + along, np.full_like(along, y0)) if axis == "row" else (np.full_like(along, x0), y0 + along)
            _, _, lam, _ = forward(x, y, np.full_like(x, x0), np.full_like(x, y0), np.full_like(x, order))
            np.testing.assert_allclose(wavelength_at_pixels_sampled(ours[order], x, y, x0, y0, axis=axis,
                                                                    rotation=theta), lam, rtol=1e-14)
            xs, ys = np.array([x0, x0 + 50.0, x0 - 80.0]), np.array([y0, y0 - 30.0, y0 + 70.0])
            bx, by = backward(xs, ys, 1.5, order)[:2]
            mx, my = dispersed_position(ours[order], xs, ys, 1.5, rotation=-theta)
            np.testing.assert_allclose(mx, bx, rtol=1e-14)
            np.testing.assert_allclose(my, by, rtol=1e-14)


def test_sources_centred_off_the_detector_are_dropped():
    """Two sources whose boxes reach the detector, one centred where the imaging WCS
    gives NaN (beyond its domain): only the placed one gets a box, brightest first."""
    from spec2.grism_catalog import SourceCatalog
    from spec2.steps.grism_objects import grism_boxes

    g = GrismOrder(order=1, dx=TracePolynomial(legacy=Poly1D((0.0, 100.0))),
                   dy=TracePolynomial(legacy=Poly1D((0.0, 0.0))),
                   wavelength=TracePolynomial(legacy=Poly1D((1.0, 1.0))),
                   inverse_wavelength=TracePolynomial(legacy=Poly1D((-1.0, 1.0))))
    # "sky" coordinates are pixels here; x < 0 is off the imaging WCS's domain
    def to_detector(ra, dec):
        ra, dec = np.asarray(ra, float), np.asarray(dec, float)
        return np.where(ra < 0, np.nan, ra), dec

    corners_x = np.array([[48.0, 52.0, 48.0, 52.0], [-3.0, 2.0, -3.0, 2.0]])
    corners_y = np.array([[18.0, 18.0, 22.0, 22.0], [58.0, 58.0, 62.0, 62.0]])
    cat = SourceCatalog(label=np.array([1, 2]), xcentroid=np.array([50.0, -0.6]), ycentroid=np.array([20.0, 60.0]),
                        ra=np.array([50.0, -0.6]), dec=np.array([20.0, 60.0]), corner_ra=corners_x,
                        corner_dec=corners_y, abmag=np.array([21.0, 19.0]), abmag_err=np.full(2, 0.1),
                        is_extended=np.array([True, True]))
    boxes = grism_boxes(cat, to_detector, {1: g}, {1: (1.2, 1.8)}, dispaxis=1, shape=(100, 200))
    assert [b.label for b in boxes] == [1]
    b = boxes[0]
    # corners x 48..52 dispersed by 100 * (lambda - 1) for lambda 1.2..1.8: 68..132
    assert (b.xmin, b.xmax, b.ymin, b.ymax) == (68, 132, 18, 22)
