"""The MOS demo case's reading of an _s2d: a point source summed over its trace, with or
without the negative trace a nod subtraction leaves (hand-made arrays; the case itself is
checked on a real run in test_mos_end_to_end)."""

import numpy as np

from spec2_nirspec.demo_mos import row_weights, trace_sum


def _gauss(rows, centre, sigma=1.0):
    g = np.exp(-0.5 * ((rows - centre) / sigma) ** 2)
    return g / g.sum()


def test_after_a_nod_every_row_on_the_source_side_of_the_midpoint_counts():
    rows = np.arange(24)
    # the other nod point's trace a shutter (5.5 rows) below; a resampled PSF of ~0.8 row
    profile = _gauss(rows, 12.0, 0.8) - _gauss(rows, 6.5, 0.8)
    weights = row_weights(profile, half_rows=3)
    assert weights[:9].sum() == 0 and weights[10:].min() == 1  # the midpoint is row 9 or 9.5
    data = np.tile(3.0 * profile[:, None], (1, 5))
    wl = np.tile(np.linspace(2.0, 2.5, 5), (24, 1))
    out_wl, flux, error = trace_sum(data, np.full(data.shape, 0.1), wl)
    np.testing.assert_allclose(flux, 3.0, rtol=3e-3)  # the tails beyond the midpoint are small
    np.testing.assert_allclose(error, 0.1 * np.sqrt(np.sum(weights**2)))
    np.testing.assert_allclose(out_wl, np.linspace(2.0, 2.5, 5))


def test_without_a_negative_trace_the_rows_around_the_peak_count():
    rows = np.arange(20)
    profile = _gauss(rows, 8.0, 0.7)
    profile[15] = 0.05  # another source, outside the summed rows
    profile[2] = -0.01  # noise, not a nod trace
    assert np.flatnonzero(row_weights(profile, half_rows=3)).tolist() == list(range(5, 12))


def test_a_column_with_a_nan_near_the_trace_is_nan():
    data = np.zeros((9, 3))
    data[4] = 2.0
    data[5, 1] = np.nan
    data[0, 2] = np.nan  # far from the trace: ignored
    _wl, flux, _err = trace_sum(data, np.ones((9, 3)), np.ones((9, 3)), half_rows=1)
    assert np.isnan(flux[1]) and flux[0] == flux[2] == 2.0
