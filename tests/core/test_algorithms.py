"""Hand-computed checks of the instrument-agnostic numerics."""

import numpy as np
import pytest
from stdatamodels.jwst.datamodels.dqflags import pixel

from spec2.algorithms import dq as dqflags
from spec2.algorithms.background import combine_backgrounds
from spec2.algorithms.flat import divide_flat, prepare_flat
from spec2.algorithms.pathloss import bilinear_vector, grid_index, onto_wavelengths
from spec2.algorithms.photom import sorted_response, spectral_conversion, time_dependence


def test_flat_division_propagates_variances():
    sci = np.array([[10.0, 4.0]])
    vp = np.array([[4.0, 1.0]])
    vr = np.array([[1.0, 1.0]])
    f, ferr, fdq = prepare_flat(np.array([[2.0, 0.5]]), np.array([[0.2, 0.05]]), None)
    s, p, r, v = divide_flat(sci, vp, vr, f, ferr)
    # 10/2 = 5; VP 4/4 = 1; VR 1/4; VF = (5 * 0.2 / 2)^2 = 0.25
    assert s[0, 0] == 5 and p[0, 0] == 1 and r[0, 0] == 0.25 and v[0, 0] == pytest.approx(0.25)
    # 4/0.5 = 8; VP 1/0.25 = 4; VF = (8 * 0.05 / 0.5)^2 = 0.64
    assert s[0, 1] == 8 and p[0, 1] == 4 and v[0, 1] == pytest.approx(0.64)


def test_flag_values_are_stdatamodels():
    """Every flag spec2 names has the value of the same name in stdatamodels' table (a
    hand-written UNRELIABLE_FLAT = 2**24 was UNRELIABLE_SLOPE)."""
    names = [n for n in vars(dqflags) if n.isupper() and isinstance(getattr(dqflags, n), int)]
    assert {"DO_NOT_USE", "NON_SCIENCE", "NO_FLAT_FIELD", "UNRELIABLE_FLAT"} <= set(names)
    for name in names:
        assert getattr(dqflags, name) == pixel[name], name
    assert dqflags.UNRELIABLE_FLAT == 2**25 != pixel["UNRELIABLE_SLOPE"]


def test_bad_flat_values_are_flagged_and_neutral():
    """A NaN or zero flat value is DO_NOT_USE | NO_FLAT_FIELD (jwst's imaging-style
    flat_field, which MIRI, NIRCam and NIRISS spectra use), not UNRELIABLE_FLAT."""
    f, ferr, fdq = prepare_flat(np.array([np.nan, 0.0, 1.5]), None, np.array([0, 0, 0]))
    assert list(f) == [1.0, 1.0, 1.5]
    expected = pixel["DO_NOT_USE"] | pixel["NO_FLAT_FIELD"]
    assert fdq[0] == expected and fdq[1] == expected and fdq[2] == 0


def test_match_nans_and_flags():
    data = np.array([1.0, np.nan, 3.0, 4.0])
    err = np.array([0.1, 0.1, np.nan, 0.1])
    dq = np.array([0, 0, 0, dqflags.DO_NOT_USE], np.uint32)
    dqflags.match_nans_and_flags(data, dq, (err,))
    assert np.isnan(data[1:]).all() and np.isnan(err[1:]).all() and data[0] == 1.0
    assert (dq[1:] & dqflags.DO_NOT_USE).all() and dq[0] == 0


def test_background_mean_clips_outlier_and_combines_errors():
    frames = [np.full((1, 1), v) for v in (1.0, 1.1, 0.9, 1.0, 1.05, 0.95, 1.0, 50.0)]
    errs = [np.full((1, 1), 0.5)] * 8
    dqs = [np.zeros((1, 1), np.uint32)] * 7 + [np.full((1, 1), 4, np.uint32)]
    bkg, err, dq = combine_backgrounds(frames, errs, dqs, sigma=3.0)
    assert bkg[0, 0] == pytest.approx(1.0, abs=1e-6)  # 50 rejected, mean of the other 7
    assert err[0, 0] == pytest.approx(np.sqrt(8 * 0.25) / 7)  # jwst: all errors / kept count
    assert dq[0, 0] == 4


def test_single_background_is_used_as_is():
    bkg, err, dq = combine_backgrounds([np.array([[2.0, np.nan]])], [np.array([[0.3, 0.3]])], [np.zeros((1, 2), np.uint32)])
    assert bkg[0, 0] == 2.0 and np.isnan(bkg[0, 1]) and err[0, 0] == pytest.approx(0.3)


def test_spectral_conversion_interpolates_and_flags_outside():
    wl, rr = sorted_response([3.0, 1.0, 2.0, 9.9], [3.0, 1.0, 2.0, 0.0], nelem=3)
    assert list(wl) == [1.0, 2.0, 3.0]
    conv, no_cal = spectral_conversion(0.5, np.array([[1.5, 2.5, 3.5, np.nan]]), wl, rr)
    assert conv[0, 0] == pytest.approx(0.75) and conv[0, 1] == pytest.approx(1.25)
    assert list(no_cal[0]) == [False, False, True, True] and conv[0, 2] == 0


def test_response_in_metres_is_converted():
    wl, _ = sorted_response([5e-6, 6e-6], [1, 1])
    assert wl == pytest.approx([5.0, 6.0])


def test_time_dependence_forms():
    lin = {"t0": 60000.0, "lossperyear": 0.1}
    assert time_dependence(60365.0, linear=lin) == pytest.approx(0.9)
    exp = {"t0": 60000.0, "amplitude": 0.2, "tau": 100.0, "const": 0.8}
    assert time_dependence(60100.0, exponential=exp) == pytest.approx(0.2 * np.exp(-1) + 0.8)
    pw = {"t0": 60000.0, "year1value": 0.9, "tsoft": 0.0, "alpha": -0.1}
    assert time_dependence(60365.0, powerlaw=pw) == pytest.approx(0.9)


def test_pathloss_bilinear_and_grid():
    cube = np.zeros((2, 2, 3))
    cube[:, 0, 0], cube[:, 0, 1], cube[:, 1, 0], cube[:, 1, 1] = 1.0, 2.0, 3.0, 4.0
    cube[1] *= 10
    # col 0.25, row 0.5: 0.75*0.5*1 + 0.75*0.5*3 + 0.25*0.5*2 + 0.25*0.5*4 = 2.25
    v = bilinear_vector(cube, 0.25, 0.5)
    assert v == pytest.approx([2.25, 22.5])
    assert bilinear_vector(cube, 0.5, 1.0) is None  # on the last row: outside
    assert grid_index(0.5, crpix=3.0, crval=0.0, cdelt=0.25) == pytest.approx(4.0)
    out = onto_wavelengths(np.array([[5.0, 6.5, 9.0, np.nan]]), np.array([5.0, 6.0, 7.0]), np.array([1.0, 2.0, 4.0]))
    assert out[0, 0] == 1.0 and out[0, 1] == 3.0 and np.isnan(out[0, 2:]).all()


def test_finite_region_and_blank_outside():
    wl = np.full((5, 6), np.nan)
    wl[1:3, 2:5] = 7.0
    region = dqflags.finite_region(wl)
    assert region == (slice(1, 3), slice(2, 5))
    data = np.ones((2, 5, 6), np.float32)  # two integrations
    err = np.ones((2, 5, 6), np.float32)
    dq = np.zeros((2, 5, 6), np.uint32)
    dqflags.blank_outside(region, data, dq, (err,))
    inside = np.zeros((5, 6), bool)
    inside[1:3, 2:5] = True
    assert np.all(data[:, inside] == 1) and np.isnan(data[:, ~inside]).all() and np.isnan(err[:, ~inside]).all()
    assert np.all(dq[:, ~inside] == dqflags.DO_NOT_USE) and np.all(dq[:, inside] == 0)
    assert dqflags.finite_region(np.full((2, 2), np.nan)) is None


def test_subarray_window():
    from spec2.algorithms.subarray import window

    # a 416 x 72 subarray at (1, 529) inside a 1024 x 1032 full frame
    assert window((1, 529), (416, 72), (1, 1), (1024, 1032)) == (slice(528, 944), slice(0, 72))
    # the same frame inside a source that itself starts at (1, 500)
    assert window((1, 529), (416, 72), (1, 500), (500, 100)) == (slice(29, 445), slice(0, 72))
    assert window((1, 529), (416, 72), (1, 600), (1024, 1032)) is None  # starts too late
    assert window((1000, 1), (10, 40), (1, 1), (1024, 1032)) is None  # runs off the edge
