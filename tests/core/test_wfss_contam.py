"""wfss_contam's numerical parts with hand-computed numbers: unit squares shared over
pixels, the wavelength grid, counts from flux and sensitivity, per-source sums, cut-out
placement, the magnitude limit per order; one direct-image pixel dispersed along a
straight trace; an off-by-default step in the runner."""

import numpy as np
import pytest

from spec2.algorithms import wfss_contam as wc


def test_unit_square_split_over_pixels():
    # (2.3, 5.5): x from 1.8 to 2.8 -> 0.2 in column 1, 0.8 in column 2; y exactly row 5
    x, y, area, index = wc.clipped_unit_pixels([2.3], [5.5], 10, 10)
    assert x.tolist() == [1, 2] and y.tolist() == [5, 5] and index.tolist() == [0, 0]
    np.testing.assert_allclose(area, [0.2, 0.8], rtol=1e-12)
    # (4.75, 7.25): x 4.25..5.25 (0.75 in column 4), y 6.75..7.75 (0.25 in row 6); listed
    # left-bottom, left-top, right-bottom, right-top
    x, y, area, _ = wc.clipped_unit_pixels([4.75], [7.25], 10, 10)
    assert list(zip(x.tolist(), y.tolist())) == [(4, 6), (4, 7), (5, 6), (5, 7)]
    np.testing.assert_allclose(area, [0.75 * 0.25, 0.75 * 0.75, 0.25 * 0.25, 0.25 * 0.75])


def test_unit_square_clipped_at_the_edges():
    # left edge: x from -0.3 to 0.7 keeps 0.7; right edge of a 4-pixel image: 3.4 to 4.4 keeps 0.6;
    # NaN and squares wholly outside are dropped; the index points at the input square
    x, y, area, index = wc.clipped_unit_pixels([0.2, 3.9, np.nan, -0.6, 5.0], [0.5, 1.5, 1.0, 1.5, 1.5], 4, 4)
    assert x.tolist() == [0, 3] and y.tolist() == [0, 1] and index.tolist() == [0, 1]
    np.testing.assert_allclose(area, [0.7, 0.6], rtol=1e-12)


def test_unit_squares_conserve_area_inside():
    rng = np.random.default_rng(3)
    xc, yc = rng.uniform(1, 30, 500), rng.uniform(1, 30, 500)
    _, _, area, index = wc.clipped_unit_pixels(xc, yc, 32, 32)
    np.testing.assert_allclose(np.bincount(index, area), 1.0, rtol=1e-12)


def test_wavelength_grid_from_the_trace_length():
    # a 100-pixel trace from 1 to 2 micron, oversampled twice: 0.005 micron steps -> 200 points
    grid = wc.wavelength_grid((10.5, 20.5), (110.5, 20.5), 1.0, 2.0, 2)
    assert grid.size == 200 and grid[0] == 1.0 and grid[-1] == 2.0
    # order 0 (no dispersion to speak of) still gets three points
    assert wc.wavelength_grid((5.0, 5.0), (5.2, 5.0), 1.0, 2.0, 2).size == 3


def test_counts_from_flux_and_sensitivity():
    # 2 MJy/sr x 0.5 of a pixel x 0.01 micron / 4 MJy micron s/(DN sr) = 0.0025 DN/s; 0 off the table
    waves, sens = np.array([1.0, 2.0]), np.array([4.0, 4.0])
    counts = wc.dispersed_counts(np.array([2.0, 2.0, 2.0]), np.array([0.5, 0.5, 1.0]),
                                 np.array([1.5, 2.5, 1.2]), 0.01, waves, sens)
    np.testing.assert_allclose(counts, [0.0025, 0.0, 0.005])


def test_response_curve_sorted_and_in_table_precision():
    w = np.array([1.6, 1.4, 1.5, 0.0], np.float32)
    r = np.array([3.0, 1.0, 2.0, 0.0], np.float32)
    waves, sens = wc.response_curve(w, r, np.float32(0.5), 1.0, nelem=3)
    assert waves.tolist() == pytest.approx([1.4, 1.5, 1.6]) and sens.tolist() == [0.5, 1.0, 1.5]
    assert sens.dtype == np.float32


def test_source_images_sum_per_source():
    x = np.array([3, 4, 3, 10, 3])
    y = np.array([7, 7, 7, 2, 8])
    v = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    ids = np.array([5, 5, 5, 2, 5], np.uint32)
    out = wc.source_images(x, y, v, ids)
    assert sorted(out) == [2, 5]
    bounds, image = out[5]
    assert bounds == [3, 4, 7, 8]
    np.testing.assert_array_equal(image, [[5.0, 2.0], [16.0, 0.0]])
    assert out[2][0] == [10, 10, 2, 2] and out[2][1].tolist() == [[8.0]]
    # a second chunk of source 5 widens its box
    b, merged = wc.merge_source_image(out[5], [5, 5, 8, 8], np.array([[1.0]]))
    assert b == [3, 5, 7, 8]
    np.testing.assert_array_equal(merged, [[5.0, 2.0, 0.0], [16.0, 0.0, 1.0]])


def test_frame_cut_and_cutout_placement():
    frame = np.zeros((6, 6))
    wc.add_to_frame(frame, 4, 4, np.ones((3, 3)))  # clipped at the frame
    assert frame.sum() == 4
    cut = wc.cut_frame(frame, 4, 4, 3, 3)  # beyond the frame: zeros
    assert cut.shape == (3, 3) and cut.sum() == 4
    # a model larger than the cut-out, its corner 1 left of and 1 below the cut-out's
    img = np.arange(12.0).reshape(3, 4)
    placed = wc.onto_cutout((2, 2), np.float32, -1, -1, img)
    assert placed.dtype == np.float32
    np.testing.assert_array_equal(placed, img[1:3, 1:3])
    # jwst's cap: a model starting 1 column inside keeps columns up to its own width only
    small = np.arange(6.0).reshape(2, 3)
    placed = wc.onto_cutout((4, 5), np.float32, 1, 0, small)
    np.testing.assert_array_equal(placed[:2, 1:3], small[:, :2])
    assert placed.sum() == small[:, :2].sum()
    assert wc.onto_cutout((4, 5), np.float32, 6, 0, small) is None  # no overlap


def test_magnitude_limit_per_order():
    waves = np.array([0.0, 1.4, 1.5, 1.6])
    assert wc.min_response(waves, np.array([0.0, 2.0, 1.0, 3.0])) == 1.0
    assert wc.order_magnitude_limit(1, 22.0, 1.0, 1.0) == 22.0
    assert wc.order_magnitude_limit(0, 22.0, 9.0, 1.0) == 22.0
    # an order 10x less sensitive (10x larger flux per count) takes sources 2.5 mag brighter
    assert wc.order_magnitude_limit(2, 22.0, 10.0, 1.0) == pytest.approx(19.5)


class _Straight:
    """A stand-in WFSS WCS: the sky is the pixel grid, the trace runs 100 pixels per
    micron along x from the direct-image position."""

    def get_transform(self, a, b):
        if (a, b) == ("world", "detector"):
            return lambda ra, dec, lam, order: (ra, dec, lam, order)
        return lambda x, y, lam, order: (x + 100.0 * (np.asarray(lam) - 1.0), y + 0 * x, x, y, order)


def test_one_pixel_dispersed_along_a_straight_trace():
    """Flux F (MJy/sr) over wmin..wmax at sensitivity S: 200 wavelengths 1/199 micron apart,
    each depositing F dlam / S shared between two columns of row 20."""
    from spec2.steps.wfss_contam import Disperser

    F, S = 3.0, 0.5
    d = Disperser(np.array([10]), np.array([20]), np.array([F]), np.array([7], np.uint32),
                  lambda x, y, with_bounding_box=False: (x, y), _Straight())
    out = d.disperse(1, 1.0, 2.0, np.array([0.5, 2.5]), np.array([S, S]))
    bounds, image = out[7]
    assert bounds == [10, 110, 20, 20]
    assert image.sum() == pytest.approx(F * 200 * (1 / 199) / S, rel=1e-12)
    # column 10: all of the first square (centre 10.5) and 99/199 of the second (10.5 + 100/199)
    assert image[0, 0] == pytest.approx(F / 199 / S * (1 + 99 / 199), rel=1e-12)


def test_off_by_default_step(tmp_path):
    """A step defined off by default is recorded SKIPPED and not run unless the user sets
    skip=false."""
    from stdatamodels.jwst import datamodels

    from spec2 import hookimpl
    from spec2.association import Exposure
    from spec2.pipeline import RunOptions, run_all
    from spec2.plugins import get_plugin_manager
    from spec2.recipe import Param, StepDef

    from .toy import ToyPlugin, flat_model, write_rate

    class Optional(ToyPlugin):
        @hookimpl
        def spec2_step_definitions(self):
            return [StepDef("toy_scale", "toy_scale", "straylight", (Param("factor", "float", 2.0),), "scale",
                            off_by_default=True)]

    for settings, status, value in (({}, "SKIPPED", 2.0), ({"toy_scale": {"skip": False}}, "COMPLETE", 4.0)):
        toy = Optional()
        pm = get_plugin_manager([toy], load_entrypoints=False)
        rate = write_rate(tmp_path / "jw01_rate.fits")
        out = tmp_path / status
        [res] = run_all(pm, [Exposure("jw01", rate)], RunOptions(out, overrides={"flat": flat_model()},
                                                                 settings=settings))
        assert res.ok, res.error
        with datamodels.open(res.products[0]) as cal:
            assert cal.meta.cal_step.straylight == status
            np.testing.assert_allclose(cal.data, value)
