"""`spec2 plot`'s pictures: every product kind draws, with the file name and EXP_TYPE in
the title and labelled axes; percentile scaling keeps one hot pixel from flattening the
rest; a product that cannot be drawn is a one-line ProductError and no PNG."""

from __future__ import annotations

import numpy as np
import pytest

from spec2.product_kind import ProductError
from tests.core import products as P

pytest.importorskip("matplotlib")

# kind -> (maker, EXP_TYPE written, an x label and a y label expected on some axes)
KINDS = {
    "x1d": (P.make_x1d, "NRS_FIXEDSLIT", "wavelength (µm)", "flux (Jy)"),
    "x1dints": (P.make_x1dints, "NRC_TSGRISM", "wavelength (µm)", "white light (relative)"),
    "wfss_x1d": (P.make_wfss_x1d, "NIS_WFSS", "wavelength (µm)", "flux (Jy)"),
    "s2d": (P.make_s2d, "MIR_LRS-FIXEDSLIT", "wavelength (µm)", "cross-dispersion (pixel)"),
    "slit_calints": (P.make_slit_calints, "NRC_TSGRISM", "detector column (pixel)", "detector row (pixel)"),
    "slits_cal": (P.make_slits_cal, "NRS_FIXEDSLIT", "detector column (pixel)", "detector row (pixel)"),
    "image_cal": (P.make_image, "MIR_LRS-SLITLESS", "detector column (pixel)", "detector row (pixel)"),
    "calints": (P.make_images, "NIS_SOSS", "detector column (pixel)", "detector row (pixel)"),
    "s3d": (P.make_s3d, "MIR_MRS", "wavelength (µm)", "surface brightness (MJy/sr)"),
}


@pytest.mark.parametrize("kind", KINDS)
def test_every_product_kind_plots(kind, tmp_path):
    from stdatamodels.jwst import datamodels

    from spec2.quicklook import figure_for, write_quicklook

    make, exp_type, xlabel, ylabel = KINDS[kind]
    product = make(tmp_path / f"jw01_{kind}.fits")
    png = write_quicklook(product, tmp_path / "png")
    assert png == tmp_path / "png" / f"jw01_{kind}.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
    with datamodels.open(product) as model:
        fig = figure_for(model, product.name)
    title = fig.get_suptitle()
    assert product.name in title and exp_type in title
    assert xlabel in [ax.get_xlabel() for ax in fig.axes]
    assert ylabel in [ax.get_ylabel() for ax in fig.axes]


def test_x1d_is_small_multiples_with_dq_flags_marked(tmp_path):
    from stdatamodels.jwst import datamodels

    from spec2.quicklook import figure_for

    with datamodels.open(P.make_x1d(tmp_path / "a_x1d.fits")) as model:
        fig = figure_for(model)
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in panels] == ["S200A1", "S200A2"]
    legend = [t.get_text() for t in panels[0].get_legend().get_texts()]
    assert "DQ flagged (1)" in legend


def test_wfss_panels_are_sources_and_orders(tmp_path):
    from stdatamodels.jwst import datamodels

    from spec2.quicklook import figure_for

    with datamodels.open(P.make_wfss_x1d(tmp_path / "w_x1d.fits", sources=(11, 42, 7))) as model:
        fig = figure_for(model)
    assert [ax.get_title() for ax in fig.axes if ax.get_title()] == [
        "source 7 order 1", "source 11 order 1", "source 42 order 1"]


def test_scaling_ignores_a_hot_pixel():
    from spec2.quicklook import image_limits

    image = np.random.default_rng(0).normal(1.0, 0.1, (50, 50))
    image[3, 3], image[4, 4] = 1e6, np.nan
    lo, hi = image_limits(image)
    assert 0.5 < lo < hi < 1.5


def test_s3d_marks_the_brightest_spaxel_on_the_cube_wavelengths(tmp_path):
    from stdatamodels.jwst import datamodels

    from spec2.quicklook import cube_wavelengths, figure_for

    with datamodels.open(P.make_s3d(tmp_path / "c_s3d.fits")) as model:
        wl = cube_wavelengths(model)
        fig = figure_for(model)
    np.testing.assert_allclose(wl[[0, -1]], [5.0, 5.0 + 39 * 0.002])
    assert "brightest spaxel (x=3, y=6)" in [ax.get_title() for ax in fig.axes]


def test_something_else_is_one_line_and_no_png(tmp_path):
    from stdatamodels.jwst import datamodels

    from spec2.quicklook import write_quicklook

    flat = tmp_path / "flat.fits"
    datamodels.FlatModel(data=np.ones((4, 4), np.float32)).save(flat)
    text = tmp_path / "notes_x1d.fits"
    text.write_text("not FITS")
    for bad, says in ((flat, "FlatModel is not a spectroscopic stage-2 product"),
                      (text, "notes_x1d.fits: not a JWST product"),
                      (tmp_path / "missing_x1d.fits", "no such file")):
        with pytest.raises(ProductError, match=says) as err:
            write_quicklook(bad, tmp_path / "png")
        assert "\n" not in str(err.value)
    assert not list(tmp_path.glob("png/*.png"))


def test_slit_cal_outlines_each_slit_from_its_wcs_on_the_detector(tmp_path):
    from stdatamodels.jwst import datamodels

    from spec2.quicklook import figure_for
    from tests.core.products import linear_wcs

    def narrower(m):  # the second slit's light falls in columns 5-30, rows 2-9 of its cut-out
        m.slits[1].meta.wcs = linear_wcs(box=((5, 30), (2, 9)))

    product = P.make_slits_cal(tmp_path / "s_cal.fits")
    with datamodels.open(product) as m:
        narrower(m)
        fig = figure_for(m)
    outlines = sorted((min(line.get_xdata()), max(line.get_xdata()), min(line.get_ydata()), max(line.get_ydata()))
                      for line in fig.axes[0].get_lines())
    # make_slits_cal: S200A1 cut at x, y = 20, 10 (1-based), 60 x 12; S400A1 at 25, 50
    assert outlines == [(18.5, 78.5, 8.5, 20.5), (29.0, 54.0, 51.0, 58.0)]
