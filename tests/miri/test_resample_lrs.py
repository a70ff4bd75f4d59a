"""resample_spec for MIRI LRS fixed slit: hand-computed checks of the grid, weight and
variance functions, and _s2d parity with jwst 3.0.0 on a simulated exposure."""

from __future__ import annotations

import math

import numpy as np
import pytest
from stdatamodels.jwst.datamodels.dqflags import pixel

from spec2.algorithms import resample as rs

# ---------------------------------------------------------------------------------------
# Pure functions, by hand
# ---------------------------------------------------------------------------------------


def test_dispersion_wavelengths_median_across_the_slit():
    nan = np.nan
    lam = np.array([[1.0, 2.0, 3.0, nan], [nan, nan, nan, nan], [5.0, 5.0, 7.0, 9.0]])
    # wavelength along y: one median per row; the all-NaN row is dropped
    np.testing.assert_array_equal(rs.dispersion_wavelengths(lam, 2), [2.0, 6.0])
    # wavelength along x: one median per column
    np.testing.assert_array_equal(rs.dispersion_wavelengths(lam, 1), [3.0, 3.5, 5.0, 9.0])


def test_merge_wavelengths_first_table_sets_sampling():
    # the second table only adds what lies outside [1, 3]
    merged = rs.merge_wavelengths([[3.0, 1.0, 2.0, 2.0], [0.5, 1.5, 2.5, 4.0]])
    np.testing.assert_array_equal(merged, [0.5, 1.0, 2.0, 3.0, 4.0])
    # LRS: flipped so that wavelength decreases along the output axis
    np.testing.assert_array_equal(rs.merge_wavelengths([[3.0, 1.0, 2.0]], descending=True), [3.0, 2.0, 1.0])


def test_fit_sampling_and_size():
    assert rs.fit_sampling([1.0, 3.0, 5.0]) == pytest.approx((2.0, 1.0), abs=1e-12)
    # pixel_scale_ratio 2: samples are 2 output pixels apart -> half the slope
    assert rs.fit_sampling([1.0, 3.0, 5.0], 2.0) == pytest.approx((1.0, 1.0), abs=1e-12)
    # least squares through (0, 0), (1, 1), (2, 5): slope 5/2, intercept -1/2
    assert rs.fit_sampling([0.0, 1.0, 5.0]) == pytest.approx((2.5, -0.5), abs=1e-12)
    assert rs.spatial_size(-0.5, 1.0, -0.25) == 6  # 1.5 / 0.25
    assert rs.spatial_size(0.0, 1.0, 0.3) == 4  # 3.33 -> 4
    # n = 5 pixels of 0.1: offsets -0.2 .. 0.2, centred on 0 at pixel 2
    assert rs.centred_intercept(5, 0.1) == pytest.approx(-0.2)
    assert rs.centred_intercept(5, -0.1) == pytest.approx(0.2)
    assert rs.centred_intercept(4, 0.1) == pytest.approx(-0.15)


def test_weights_and_invalid_pixels():
    dq = np.array([[0, pixel["DO_NOT_USE"]], [pixel["NON_SCIENCE"], pixel["JUMP_DET"]]], np.uint32)  # the jump still good
    var = np.array([[4.0, 2.0], [1.0, 0.5]], np.float32)
    w = rs.drizzle_weight(dq, "ivm", var)
    assert w.dtype == np.float32
    np.testing.assert_array_equal(w, [[0.25, 0.0], [0.0, 2.0]])
    np.testing.assert_array_equal(rs.drizzle_weight(dq, "ivm", np.array([[0.0, 1], [1, np.inf]])), [[0, 0], [0, 0]])
    np.testing.assert_array_equal(rs.drizzle_weight(dq, "exptime", var, time=10.0), [[10, 0], [0, 10]])
    np.testing.assert_array_equal(rs.drizzle_weight(dq, None), [[1, 0], [0, 1]])
    with pytest.raises(ValueError):
        rs.drizzle_weight(dq, "bogus")
    bad = rs.invalid_pixels([np.array([[1.0, np.nan], [1, 1]]), None, np.array([[np.inf, 1], [1, np.nan]])], dq)
    np.testing.assert_array_equal(bad, [[False, True], [False, True]])  # inf kept, as jwst
    bad = rs.invalid_pixels([np.ones((2, 2))], np.array([[1, 0], [0, 0]]))
    np.testing.assert_array_equal(bad, [[True, False], [False, False]])


def test_drizzle_range_rounds_the_bounding_box():
    assert rs.drizzle_range((10, 20), ((2.5, 7.5), (-1.0, 30.0))) == (3, 8, 0, 9)
    assert rs.drizzle_range((10, 20), None) == (0, 19, 0, 9)


def test_variance_combination_by_hand():
    shape = (3,)
    wsum, wtot = np.full(shape, np.nan, np.float32), np.zeros(shape, np.float32)
    rs.add_variance(wsum, wtot, np.array([1.0, 4.0, np.nan], np.float32), np.array([1.0, 0.5, 1.0]))
    rs.add_variance(wsum, wtot, np.array([9.0, -1.0, 2.0], np.float32), np.array([2.0, 1.0, 0.0]))
    var = rs.finish_variance(wsum, wtot)
    assert var.dtype == np.float32
    # pixel 0: (1*1^2 + 9*2^2) / (1 + 2)^2; pixel 1: the negative variance is left out;
    # pixel 2: NaN variance and zero weight -> nothing added -> NaN
    np.testing.assert_allclose(var[:2], [37 / 9, 4.0], rtol=1e-7)
    assert np.isnan(var[2])
    np.testing.assert_allclose(rs.finish_variance(wsum, wtot, 2.0)[:2], [74 / 9, 8.0], rtol=1e-7)
    nan = np.nan
    err = rs.error_from_variances(np.array([[1, nan, nan], [3, 4, nan], [nan, 5, nan]], np.float32))
    np.testing.assert_array_equal(err, [2.0, 3.0, nan])


def test_spherical_helpers_by_hand():
    assert rs.sky_separation(0.0, 0.0, 90.0, 0.0) == pytest.approx(90.0)
    assert rs.sky_separation(10.0, 89.0, 190.0, 89.0) == pytest.approx(2.0)  # over the pole
    assert rs.position_angle(0.0, 0.0, 0.0, 1.0) == pytest.approx(0.0)  # north
    assert rs.position_angle(0.0, 0.0, 1.0, 0.0) == pytest.approx(90.0)  # east
    assert rs.position_angle(0.0, 0.0, 0.0, -1.0) == pytest.approx(180.0)
    assert rs.offset_point(10.0, 0.0, 90.0, 5.0) == pytest.approx((15.0, 0.0))
    assert rs.offset_point(0.5, 0.0, 270.0, 1.0) == pytest.approx((359.5, 0.0))  # wraps
    # slit 2 deg long along Dec, 0.2 deg wide (in RA at the equator): the band along
    # (10, -1) -> (10, 1) is offset west (+half) then east (-half) by 0.1 deg
    corners = [(10.1, -1.0), (10.1, 1.0), (9.9, 1.0), (9.9, -1.0)]
    band = rs.band_footprint(corners, (10.0, -1.0), (10.0, 1.0))
    half = 0.1 * math.cos(math.radians(1.0))  # shortest side: 0.2 deg of RA at Dec +-1
    expect = [(10 - half / math.cos(math.radians(1)), -1), (10 - half / math.cos(math.radians(1)), 1),
              (10 + half / math.cos(math.radians(1)), 1), (10 + half / math.cos(math.radians(1)), -1)]
    # (a great circle leaving Dec +-1 due west drifts to the equator by ~ d^2/2 tan(Dec))
    np.testing.assert_allclose(band, expect, atol=2e-6)
    text = rs.format_s_region(band)
    assert text.startswith("POLYGON ICRS  9.90000") and len(text.split()) == 10
    np.testing.assert_allclose(rs.parse_s_region(text), band, atol=1e-9)
    assert rs.format_s_region(np.full((4, 2), np.nan)) is None and rs.parse_s_region(None) is None


def _toy_sample():
    """A 4 x 5 pixel slit along Dec at RA 30, 1e-4 deg per pixel along x; wavelength
    10, 9, 8, 7 down the rows; one corner sticking out by half a pixel."""
    y, x = np.mgrid[0:4, 0:5].astype(float)
    dec = (x - 2) * 1e-4
    dec[0, 4] = 2.5e-4
    ra = np.full(x.shape, 30.0)
    lam = 10.0 - y
    return rs.WcsSample(((-0.5, 4.5), (-0.5, 3.5)), 0, 0, ra, dec, lam)


def test_rectified_grid_and_wcs_on_a_toy_slit():
    sample = _toy_sample()
    grid = rs.rectified_grid([sample], dispaxis=2, descending=True)
    np.testing.assert_array_equal(grid.wavelengths, [10.0, 9.0, 8.0, 7.0])
    assert (grid.ra0, grid.dec0) == pytest.approx((30.0, 0.0), abs=1e-12)
    assert grid.along_y_tangent and grid.y_slope == pytest.approx(1e-4, rel=1e-6)
    assert grid.n_spatial == 5 and grid.shape == (4, 5)  # extent 4.5 pixels -> 5
    wcs = rs.rectified_wcs(grid)
    assert wcs.array_shape == (4, 5) and wcs.pixel_shape == (5, 4)
    ra, dec, lam = wcs(2.0, 1.0)
    assert (ra, dec, lam) == pytest.approx((30.0, 0.0, 9.0), abs=1e-10)
    assert wcs(0.0, 3.0)[1] == pytest.approx(-2e-4, rel=1e-6)
    assert wcs.backward_transform(30.0, 1e-4, 8.5) == pytest.approx((3.0, 1.5), abs=1e-6)
    pixmap = rs.pixel_map(sample, wcs, (4, 5))
    y, x = np.mgrid[0:4, 0:5].astype(float)
    x[0, 4] = 4.5
    np.testing.assert_allclose(pixmap[..., 0], x, atol=1e-6)
    np.testing.assert_allclose(pixmap[..., 1], y, atol=1e-9)


def test_spectral_drizzle_identity_and_ivm_weights():
    pytest.importorskip("drizzle")
    y, x = np.mgrid[0:5, 0:6].astype(float)
    pixmap = np.dstack([x, y])
    a = np.full((5, 6), 2.0, np.float32)
    b = np.full((5, 6), 6.0, np.float32)
    var_a = {"var_rnoise": np.full((5, 6), 1.0, np.float32), "var_flat": np.full((5, 6), 0.5, np.float32),
             "var_poisson": np.full((5, 6), 0.25, np.float32)}
    var_b = {k: 3 * v for k, v in var_a.items()}
    dq = np.zeros((5, 6), np.uint32)
    driz = rs.SpectralDrizzle((5, 6), n_inputs=2)
    driz.add(a, pixmap, rs.drizzle_weight(dq, "ivm", var_a["var_rnoise"]), var_a)
    driz.add(b, pixmap, rs.drizzle_weight(dq, "ivm", var_b["var_rnoise"]), var_b)
    out = driz.finish()
    # weights 1 and 1/3: (2*1 + 6/3) / (4/3) = 3; var = (v + 3v/9) / (4/3)^2 = 0.75 v
    np.testing.assert_allclose(out["data"], 3.0, rtol=1e-6)
    np.testing.assert_allclose(out["wht"], 4 / 3, rtol=1e-6)
    np.testing.assert_allclose(out["var_rnoise"], 0.75, rtol=1e-6)
    np.testing.assert_allclose(out["var_flat"], 0.375, rtol=1e-6)
    np.testing.assert_allclose(out["err"], math.sqrt(0.75 * 1.75), rtol=1e-6)
    assert out["con"].shape == (1, 5, 6) and np.all(out["con"] == 3)  # both inputs


# ---------------------------------------------------------------------------------------
# Parity with jwst 3.0.0
# ---------------------------------------------------------------------------------------

ARRAYS = ("data", "err", "var_rnoise", "var_poisson", "var_flat", "wht", "con", "wavelength")


@pytest.fixture(scope="module")
def jwst_lrs(tmp_path_factory):
    """jwst's calwebb_spec2 (_cal and _s2d) on one simulated LRS fixed-slit exposure."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from spec2.crds_cache import LocalCache, crds_environment
    from spec2_miri.sim.lrs import simulate_lrs

    tmp = tmp_path_factory.mktemp("resample_lrs")
    cache = LocalCache(tmp / "crds")
    out = simulate_lrs(tmp / "data", cache, nints=5)
    cache.finish()
    env = dict(os.environ, **crds_environment(tmp / "crds"))
    env.pop("SPEC2_DISABLE_PLUGINS", None)
    science = Path(out["nods"][0])
    subprocess.run(
        [str(Path(sys.executable).parent / "strun"), "calwebb_spec2", str(science), "--output_dir", str(tmp / "jw")],
        cwd=tmp / "data", env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    stem = science.name.replace("_rate.fits", "")
    return tmp / "jw" / f"{stem}_cal.fits", tmp / "jw" / f"{stem}_s2d.fits"


def _set_values(node):
    """Keywords with a value (a None kept in memory is not written)."""
    return {k: v for k, v in node.instance.items() if v is not None}


def _assert_same(ours, theirs, rtol=1e-5):
    for name in ARRAYS:
        a, b = np.asarray(getattr(ours, name), float), np.asarray(getattr(theirs, name), float)
        assert a.shape == b.shape, name
        np.testing.assert_array_equal(np.isfinite(a), np.isfinite(b), err_msg=name)
        ok = np.isfinite(b)
        np.testing.assert_allclose(a[ok], b[ok], rtol=rtol, atol=0, err_msg=name)
    np.testing.assert_array_equal(ours.wavelength, theirs.wavelength)
    assert ours.meta.wcsinfo.s_region == theirs.meta.wcsinfo.s_region
    for key in ("pixelarea_steradians", "pixelarea_arcsecsq"):
        mine, jwst = getattr(ours.meta.photometry, key), getattr(theirs.meta.photometry, key)
        assert mine == pytest.approx(jwst, rel=1e-12), key
    for key in ("pointings", "pixel_scale_ratio", "pixfrac", "kernel", "fillval", "weight_type"):
        assert getattr(ours.meta.resample, key) == getattr(theirs.meta.resample, key), key
    assert _set_values(ours.meta.exposure) == _set_values(theirs.meta.exposure)
    assert _set_values(ours.meta.background) == _set_values(theirs.meta.background)
    assert ours.meta.wcsinfo.dispersion_direction == theirs.meta.wcsinfo.dispersion_direction == 2
    assert ours.meta.bunit_data == theirs.meta.bunit_data and ours.meta.bunit_err == theirs.meta.bunit_err
    # the output frames agree: same world coordinates at every pixel, same inverse
    y, x = np.indices(ours.data.shape, dtype=float)
    world_ours, world_theirs = ours.meta.wcs(x, y), theirs.meta.wcs(x, y)
    for p, q in zip(world_ours, world_theirs, strict=True):
        np.testing.assert_allclose(p, q, rtol=1e-12, atol=0)
    back = ours.meta.wcs.invert(*world_theirs)
    np.testing.assert_allclose(back[0], x, atol=1e-6)
    np.testing.assert_allclose(back[1], y, atol=1e-6)


@pytest.mark.parity
def test_s2d_matches_jwst(jwst_lrs):
    from stdatamodels.jwst import datamodels

    from spec2_miri.resample_spec import resample_lrs

    cal_path, s2d_path = jwst_lrs
    with datamodels.open(cal_path) as cal, datamodels.open(s2d_path) as theirs:
        before = cal.data.copy()
        ours = resample_lrs(cal)
        np.testing.assert_array_equal(cal.data, before)  # the _cal is not modified
        assert ours.data.shape == theirs.data.shape
        assert np.isfinite(ours.data).sum() > 0.9 * ours.data.size
        _assert_same(ours, theirs)
        for attr in ("name", "xstart", "xsize", "ystart", "ysize", "source_type", "source_xpos", "source_ypos"):
            assert getattr(ours, attr, None) == getattr(theirs, attr, None), attr


def _holes(model):
    rng = np.random.default_rng(1)
    (x0, x1), (y0, y1) = model.meta.wcs.bounding_box.bounding_box(order="F")
    ys = rng.integers(math.ceil(y0), math.floor(y1), 40)
    xs = rng.integers(math.ceil(x0), math.floor(x1), 40)
    model.data[ys[:10], xs[:10]] = np.nan
    model.dq[ys[10:20], xs[10:20]] |= pixel["DO_NOT_USE"]
    model.var_rnoise[ys[20:30], xs[20:30]] = np.nan
    model.dq[ys[30:], xs[30:]] |= pixel["JUMP_DET"]  # still used


def _source_position(model):
    (x0, x1), (y0, y1) = model.meta.wcs.bounding_box.bounding_box(order="F")
    model.source_xpos, model.source_ypos = (x0 + x1) / 2 + 1.3, (y0 + y1) / 2 - 7.6


@pytest.mark.parity
@pytest.mark.parametrize(
    "params, change",
    [
        ({"pixel_scale_ratio": 0.7, "pixfrac": 0.5}, _source_position),
        ({"weight_type": "exptime", "kernel": "point"}, _holes),
    ],
    ids=["ratio0.7-pixfrac0.5-srcpos", "exptime-point-holes"],
)
def test_s2d_options_match_jwst(jwst_lrs, params, change):
    """jwst's ResampleSpecStep in this process on the same (modified) _cal."""
    from jwst.resample import ResampleSpecStep
    from stdatamodels.jwst import datamodels

    from spec2_miri.resample_spec import resample_lrs

    cal_path, _ = jwst_lrs
    with datamodels.open(cal_path) as a, datamodels.open(cal_path) as b:
        change(a)
        change(b)
        theirs = ResampleSpecStep.call(a, **params)
        ours = resample_lrs(b, **params)
    _assert_same(ours, theirs)
    if ours.source_xpos is not None or theirs.source_xpos is not None:
        assert (ours.source_xpos, ours.source_ypos) == pytest.approx((theirs.source_xpos, theirs.source_ypos), abs=1e-9)
