"""The NIRSpec fixed-slit aperture correction, evaluated for all elements at once, gives
what a linear spline per element gives (jwst builds one RectBivariateSpline per element;
spec2 did too until it was the largest part of extract_1d), in FITPACK's arithmetic and
order: bit for bit where FITPACK's fitted coefficients are the tabulated values (as on
the simulated references), else within a rounding step of them; 1 where the table does
not reach."""

import numpy as np
import pytest

from spec2_nirspec.extract_1d import phase_apcorr


def per_element_spline(pixphase, wl_ref, sizes, table, wavelength, npixels, phase=0.5):
    """The per-element evaluation (jwst's way): the oracle."""
    from scipy.interpolate import RectBivariateSpline, interp1d

    by_phase = interp1d(pixphase, table)(phase)
    size_of = interp1d(wl_ref, sizes)
    order = np.argsort(wl_ref)
    by_phase, wl_ref = by_phase[:, order], wl_ref[order]
    out = np.ones(len(wavelength))
    for k, (wl, n) in enumerate(zip(wavelength, npixels)):
        try:
            value = RectBivariateSpline(wl_ref, size_of(wl), by_phase.T, kx=1, ky=1)(wl, n).T
        except ValueError:
            continue
        if value:
            out[k] = value.item()
    return out


@pytest.fixture
def table():
    rng = np.random.default_rng(3)
    pixphase = np.linspace(0.0, 0.5, 6)
    wl_ref = rng.permutation(np.linspace(1.6, 3.2, 40))  # the reference need not be sorted
    sizes = np.linspace(2.0, 12.0, 8)[:, None] * (1 + 0.05 * (wl_ref - 2.4))[None, :]
    apcorr = 1 + 0.1 * rng.random((8, 40, 6))  # (size, wavelength, phase)
    return pixphase, wl_ref, sizes, apcorr


def test_all_at_once_matches_a_spline_per_element(table):
    rng = np.random.default_rng(4)
    wavelength = np.concatenate([np.linspace(1.5, 3.3, 300), [1.6, 3.2, np.nan]])
    npixels = np.concatenate([rng.uniform(0.5, 14.0, 300), [2.0, 12.0, 5.0]])  # below/above the sizes too
    ours = phase_apcorr(*table, wavelength, npixels)
    oracle = per_element_spline(*table, wavelength, npixels)
    # FITPACK's coefficients of this random table are its values to within a rounding
    # step (the degree-1 basis at a knot is (1/d)*d, not always 1)
    np.testing.assert_allclose(ours, oracle, rtol=1e-15, atol=0)
    outside = (wavelength < 1.6) | (wavelength > 3.2) | np.isnan(wavelength)
    assert outside.any() and np.all(ours[outside] == 1.0)
    assert np.all(ours[~outside] > 1.0)


def test_sizes_that_do_not_increase_leave_the_element_uncorrected(table):
    pixphase, wl_ref, sizes, apcorr = table
    flat = sizes.copy()
    flat[1] = flat[0]
    ours = phase_apcorr(pixphase, wl_ref, flat, apcorr, np.array([2.0, 2.5]), np.array([4.0, 6.0]))
    assert np.all(ours == per_element_spline(pixphase, wl_ref, flat, apcorr, np.array([2.0, 2.5]),
                                             np.array([4.0, 6.0])))
    assert np.all(ours == 1.0)


def test_bit_for_bit_where_the_spline_coefficients_are_the_table():
    """Knots whose degree-1 basis is exactly 1 at each knot (spacings of powers of two):
    the factor equals jwst's per-element spline exactly (a factor one rounding step off
    shows in every point source's FLUX and variances in the _x1d)."""
    rng = np.random.default_rng(5)
    pixphase = np.linspace(0.0, 0.5, 3)
    wl_ref = rng.permutation(1.5 + 0.0625 * np.arange(30))
    sizes = np.broadcast_to((2.0 + 0.5 * np.arange(10))[:, None], (10, 30))
    apcorr = 1 + 0.1 * rng.random((10, 30, 3))
    wavelength = np.linspace(1.5, 1.5 + 0.0625 * 29, 500)
    npixels = rng.uniform(1.0, 8.0, 500)
    ours = phase_apcorr(pixphase, wl_ref, sizes, apcorr, wavelength, npixels)
    np.testing.assert_array_equal(ours, per_element_spline(pixphase, wl_ref, sizes, apcorr, wavelength, npixels))
