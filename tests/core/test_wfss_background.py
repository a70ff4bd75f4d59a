"""WFSS reference-background subtraction (spec2.steps.wfss_background): hand-computed
cases, parity of the scaling factor, the pixel count and the subarray cut with jwst 3.0.0,
and the runner's FAILED status (spec2.errors.StepFailed)."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import numpy as np
import pytest
from stdatamodels.jwst import datamodels
from stdatamodels.jwst.datamodels.dqflags import pixel

from spec2.steps.wfss_background import (
    enough_background,
    reference_for_frame,
    scaling_factor,
    source_mask,
    subtract_reference_background,
)


def box(xmin, xmax, ymin, ymax):
    return SimpleNamespace(xmin=xmin, xmax=xmax, ymin=ymin, ymax=ymax)


# ---------------------------------------------------------------------------------------
# hand-computed
# ---------------------------------------------------------------------------------------


def test_source_mask_clips_boxes_at_the_edges():
    boxes = [box(1, 3, 1, 2), box(-3, 1, -2, 0), box(6, 12, 4, 9), box(20, 25, 0, 5), box(2, 4, -9, -1)]
    expected = np.ones((6, 8), bool)
    expected[1:3, 1:4] = False  # inside
    expected[0:1, 0:2] = False  # over the left and bottom edges
    expected[4:6, 6:8] = False  # over the right and top edges
    # x 20..25 and y -9..-1 are wholly off the image: nothing
    np.testing.assert_array_equal(source_mask((6, 8), boxes), expected)
    assert source_mask((2, 6, 8), boxes).shape == (2, 6, 8)
    np.testing.assert_array_equal(source_mask((2, 6, 8), boxes)[1], expected)


def test_noise_free_scaled_reference_gives_exactly_the_scale():
    bkg = np.tile(np.array([1, 2, 3, 4], np.float32), (5, 1))
    sci, var = 2 * bkg, np.full(bkg.shape, 0.25, np.float32)
    mask = np.ones(bkg.shape, bool)
    mask[0, 0] = False
    for maxiter in (0, 5):
        factor, rejected = scaling_factor(sci, bkg, var, mask, maxiter=maxiter)
        assert factor == 2.0 and isinstance(factor, np.floating)
        # zero residuals everywhere: both percentile limits are 0, nothing is clipped
        np.testing.assert_array_equal(rejected, ~mask)


def test_clipping_removes_an_injected_outlier():
    # 100 pixels of 3 and one of 103 on a flat reference: the first fit is the mean, 4.0;
    # residuals are 99 x -1 and one 99, whose 99th percentile is -1 + 0.01 * 100 = 0, so
    # the outlier goes and the refit is exactly 3
    sci = np.full((10, 10), 3.0, np.float32)
    sci[4, 7] = 103.0
    bkg, var, mask = np.ones_like(sci), np.ones_like(sci), np.ones(sci.shape, bool)
    factor, rejected = scaling_factor(sci, bkg, var, mask, maxiter=0)
    assert factor == 4.0 and not rejected.any()
    for maxiter in (1, 5):
        factor, rejected = scaling_factor(sci, bkg, var, mask, maxiter=maxiter)
        assert factor == 3.0
        assert np.argwhere(rejected).tolist() == [[4, 7]]


def test_excluded_pixels_masked_zero_variance_and_nan():
    sci = np.full((4, 5), 3.0, np.float32)
    bkg, var, mask = np.ones_like(sci), np.ones_like(sci), np.ones(sci.shape, bool)
    sci[0, 0], var[0, 0] = 1000.0, 0.0  # zero variance: out of the fit, not marked
    sci[1, 1], mask[1, 1] = -500.0, False  # a source pixel
    factor, rejected = scaling_factor(sci, bkg, var, mask, maxiter=0)
    assert factor == 3.0
    assert np.argwhere(rejected).tolist() == [[1, 1]]
    # a NaN datum drops its numerator term but keeps bkg^2/var in the denominator (jwst):
    # (2 + 2 + 2) / 4
    sci = np.array([[2.0, 2.0, 2.0, np.nan]], np.float32)
    factor, _ = scaling_factor(sci, np.ones_like(sci), np.ones_like(sci), np.ones(sci.shape, bool), maxiter=0)
    assert factor == 1.5
    # nothing usable: NaN, no exception
    factor, _ = scaling_factor(sci, np.ones_like(sci), np.ones_like(sci), np.zeros(sci.shape, bool))
    assert np.isnan(factor)


def test_rms_stop_needs_the_dispersion_axis():
    a = np.ones((3, 3), np.float32)
    with pytest.raises(ValueError, match="dispersion axis"):
        scaling_factor(a, a, a, a > 0, rms_stop=1.0)
    assert scaling_factor(a, a, a, a > 0, rms_stop=1.0, dispersion_axis=2)[0] == 1.0


def test_enough_background_counts():
    dq = np.zeros((10, 10), np.uint32)
    bkg = np.ones((10, 10), np.float32)
    mask = np.zeros((10, 10), bool)
    mask[:3] = True  # 30 background pixels
    dq[0, :3] = pixel["DO_NOT_USE"]  # 3 out
    dq[1, :3] = pixel["DO_NOT_USE"] | pixel["JUMP_DET"]  # 3 more
    dq[2, 0] = pixel["JUMP_DET"]  # another flag: still counts
    bkg[2, 1:3] = 0.0  # no reference: 2 out
    bkg[2, 5] = np.nan  # NaN reference counts
    # 30 - 6 - 2 = 22 usable; more than int(f * 100) are needed
    assert enough_background(dq, mask, bkg)
    assert enough_background(dq, mask, bkg, min_fraction=0.21)
    assert not enough_background(dq, mask, bkg, min_fraction=0.22)
    assert not enough_background(dq, np.zeros_like(mask), bkg, min_fraction=0.0)


def _image(shape, bkg_level=2.0):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    bkg = (1.0 + 0.01 * xx + 0.02 * yy).astype(np.float32)
    model = datamodels.ImageModel((bkg_level * bkg).astype(np.float32))
    model.err = np.full(shape, 0.5, np.float32)
    model.dq = np.zeros(shape, np.uint32)
    model.meta.wcsinfo.dispersion_direction = 1
    ref = datamodels.WfssBkgModel(data=bkg, dq=np.zeros(shape, np.uint32))
    return model, ref


def test_subtract_reference_background_on_a_small_image():
    model, ref = _image((12, 16))
    model.data[3:6, 2:9] += 50.0  # a source, masked by its box
    ref.dq[7, 7] = 4
    model.dq[1, 1] = 2
    err = model.err.copy()
    mask = source_mask(model.data.shape, [box(2, 8, 3, 5)])
    subtract_reference_background(model, ref, mask)
    assert model.meta.background.scaling_factor == 2.0
    assert model.mask.dtype == np.uint32 and model.mask.tolist() == mask.astype(int).tolist()
    expected = np.zeros((12, 16), np.float32)
    expected[3:6, 2:9] = 50.0
    np.testing.assert_array_equal(model.data, expected)
    assert model.data.dtype == np.float32
    assert model.dq[7, 7] == 4 and model.dq[1, 1] == 2 and np.count_nonzero(model.dq) == 2
    np.testing.assert_array_equal(model.err, err)


def test_step_failed_is_recorded_and_the_exposure_goes_on(caplog):
    """StepFailed from a hook: status FAILED in the keyword and the record, the reason in
    the log, the data unchanged but the hook's metadata (mask, factor 0) kept."""
    from spec2.pipeline import FAILED, run_step
    from spec2.recipe import CORE_STEPS
    from spec2.refs import RefResolver

    model, ref = _image((12, 16))
    before = model.data.copy()

    def background(model, refs, params, members):
        return subtract_reference_background(model, ref, np.zeros(model.data.shape, bool))

    with caplog.at_level(logging.INFO, logger="spec2"):
        out, status, _, used = run_step(background, CORE_STEPS["bkg_subtract"], model,
                                        RefResolver(model, use_crds=False), {}, {"members": {}})
    assert out is model and status == FAILED == "FAILED" and used == {}
    assert model.meta.cal_step.bkg_subtract == "FAILED"
    assert model.meta.background.scaling_factor == 0.0
    assert model.mask.dtype == np.uint32 and not model.mask.any()
    np.testing.assert_array_equal(model.data, before)
    assert any("bkg_subtract" in r.message and "FAILED (not enough background pixels" in r.message
               for r in caplog.records)


def test_bkg_subtract_parameters():
    from spec2.recipe import CORE_STEPS

    params = CORE_STEPS["bkg_subtract"].defaults
    assert {k: params[k] for k in params if k.startswith("wfss")} == {
        "wfss_mmag_extract": None, "wfss_maxiter": 5, "wfss_rms_stop": 0.0, "wfss_outlier_percent": 1.0,
        "wfss_mask": None}


# ---------------------------------------------------------------------------------------
# parity with jwst 3.0.0
# ---------------------------------------------------------------------------------------


def _random_case(seed, shape=(160, 230), dtype=np.float32):
    rng = np.random.default_rng(seed)
    bkg = (1 + rng.random(shape)).astype(dtype)
    sci = (2.5 * bkg + rng.normal(0, 0.1, shape)).astype(dtype)
    sci[rng.random(shape) < 0.01] = np.nan
    sci[rng.random(shape) < 0.005] += 50  # outliers
    bkg[rng.random(shape) < 0.003] = np.nan
    var = (0.01 * (1 + rng.random(shape))).astype(dtype)
    var[rng.random(shape) < 0.01] = 0.0
    var[rng.random(shape) < 0.002] = np.nan
    mask = rng.random(shape) > 0.3
    return sci, bkg, var, mask


@pytest.mark.parity
@pytest.mark.parametrize("kw", [
    {},
    {"maxiter": 0},
    {"outlier_percent": 2.5, "maxiter": 9},
    {"rms_stop": 1.0, "dispersion_axis": 1},
    {"rms_stop": 0.01, "dispersion_axis": 2, "maxiter": 12},
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_scaling_factor_matches_jwst(kw, dtype):
    """Factor bit for bit and the same rejected pixels as ScalingFactorComputer, with
    NaNs in all three arrays, zero variances and a source mask; inputs left alone."""
    from jwst.background.background_sub_wfss import ScalingFactorComputer

    sci, bkg, var, mask = _random_case(7, dtype=dtype)
    copies = [a.copy() for a in (sci, bkg, var, mask)]
    ours, rejected = scaling_factor(sci, bkg, var, mask, **kw)
    for a, b in zip((sci, bkg, var, mask), copies):
        np.testing.assert_array_equal(a, b)
    computer = ScalingFactorComputer(p=kw.get("outlier_percent", 1.0), maxiter=kw.get("maxiter", 5),
                                     delta_rms_thresh=kw.get("rms_stop", 0.0) / 100,
                                     dispersion_axis=kw.get("dispersion_axis"))
    theirs, their_mask = computer(sci.copy(), bkg.copy(), var.copy(), mask=~mask)
    assert ours == theirs and np.isfinite(ours)
    np.testing.assert_array_equal(rejected, their_mask)
    assert rejected.sum() > (~mask).sum() or kw.get("maxiter") == 0


@pytest.mark.parity
def test_enough_background_matches_jwst():
    from jwst.background.background_sub_wfss import _sufficient_background_pixels

    rng = np.random.default_rng(3)
    shape = (40, 50)
    dq = rng.choice(np.array([0, 1, 4, 5, 2**31, 2**31 + 1], np.uint32), shape)
    bkg = rng.choice(np.array([0.0, 1.0, np.nan], np.float32), shape, p=[0.2, 0.7, 0.1])
    mask = rng.random(shape) > 0.5
    n = np.count_nonzero(mask & (bkg != 0) & (dq & 1 == 0))  # 100 * fraction at the boundary
    for fraction in (0.0, 0.05, n / dq.size - 1e-3, n / dq.size, n / dq.size + 1e-3, 0.9):
        assert enough_background(dq, mask, bkg, fraction) == _sufficient_background_pixels(dq, mask, bkg, fraction)


@pytest.mark.parity
def test_reference_cut_matches_jwst():
    """A full-frame reference cut to a subarray exposure: get_subarray_model's arrays."""
    from jwst.lib.reffile_utils import get_subarray_model

    rng = np.random.default_rng(2)
    ref = datamodels.WfssBkgModel(data=rng.random((64, 80)).astype(np.float32),
                                  dq=rng.integers(0, 8, (64, 80)).astype(np.uint32))
    ref.meta.subarray.xstart, ref.meta.subarray.ystart = 1, 1
    ref.meta.subarray.ysize, ref.meta.subarray.xsize = 64, 80
    model = datamodels.ImageModel(np.zeros((16, 20), np.float32))
    s = model.meta.subarray
    s.name, s.xstart, s.ystart, s.xsize, s.ysize = "SUBGRISM64", 41, 9, 20, 16
    data, dq = reference_for_frame(model, ref)
    cut = get_subarray_model(model, ref)
    np.testing.assert_array_equal(data, cut.data)
    np.testing.assert_array_equal(dq, cut.dq)
    same = datamodels.ImageModel(np.zeros((64, 80), np.float32))
    assert reference_for_frame(same, ref)[0] is ref.data
