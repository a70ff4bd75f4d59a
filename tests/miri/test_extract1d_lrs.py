"""extract_1d for MIRI LRS: the array kernels (spec2.algorithms.extract1d) by hand, the
JSON aperture selection, and extract_lrs against jwst 3.0.0's x1d/x1dints made from the
same _s2d/_calints."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from spec2.algorithms import extract1d as ex

# -- partial-pixel aperture weights ------------------------------------------------------


def test_edge_weights_partial_pixels():
    w = ex.edge_weights(np.arange(9), 2.3, 5.6)
    np.testing.assert_allclose(w, [0, 0, 0.7, 1, 1, 1, 0.6, 0, 0], atol=1e-12)
    assert w.sum() == pytest.approx(5.6 - 2.3 + 1)
    # whole pixels only (median background regions)
    np.testing.assert_array_equal(ex.edge_weights(np.arange(9), 2.3, 5.6, allow_partial=False),
                                  [0, 0, 0, 1, 1, 1, 0, 0, 0])
    # NaN limits (rows off a trace) weigh nothing
    assert ex.edge_weights(np.arange(4), np.nan, np.nan).sum() == 0


def test_limits_profile_orientation_regions_and_trace():
    # vertical dispersion: rows are elements, limits per row follow a trace
    trace = np.array([2.0, 2.5, np.nan])
    prof = ex.limits_profile((3, 6), ex.VERTICAL, [(trace - 1.0, trace + 1.0)])
    np.testing.assert_allclose(prof, [[0, 1, 1, 1, 0, 0], [0, 0.5, 1, 1, 0.5, 0], [0, 0, 0, 0, 0, 0]])
    # horizontal dispersion: the same limits apply down the columns
    prof_h = ex.limits_profile((6, 3), ex.HORIZONTAL, [(trace - 1.0, trace + 1.0)])
    np.testing.assert_allclose(prof_h, prof.T)
    # overlapping regions keep the larger weight
    two = ex.limits_profile((1, 8), ex.VERTICAL, [(1.5, 3.0), (2.75, 5.4)])
    np.testing.assert_allclose(two, [[0, 0.5, 1, 1, 1, 1, 0.4, 0]])
    ex.restrict_dispersion(prof, ex.VERTICAL, 0.5, 1.0)  # keeps element 1 only
    assert prof[0].sum() == 0 and prof[1].sum() == 3


def test_polynomial_regions_are_centre_zero():
    independent = np.arange(4, dtype=np.float32)[:, None] * np.ones((1, 8))
    (lo, hi), = ex.polynomial_regions([[1.0], [4.0, 0.5]], independent)
    np.testing.assert_allclose(lo[:, 0], 1.5)
    np.testing.assert_allclose(hi[:, 0], [3.5, 4.0, 4.5, 5.0])
    prof = ex.limits_profile((4, 8), ex.VERTICAL, [(lo, hi)])
    np.testing.assert_allclose(prof[0], [0, 0.5, 1, 1, 0.5, 0, 0, 0])
    with pytest.raises(ValueError):
        ex.polynomial_regions([[1.0]], independent)


def test_centres_and_profile_wavelength():
    prof = np.zeros((3, 5))
    prof[:, 1:4] = [0.5, 1.0, 1.0]
    assert ex.cross_centre(prof, ex.VERTICAL, element=1) == pytest.approx((0.5 + 2 + 3) / 2.5)
    assert ex.cross_centre(np.zeros((3, 5)), ex.VERTICAL, element=1) == 2.0  # empty: uniform
    wl = np.array([[1.0, 2.0, 3.0, 4.0, 5.0]] * 3)
    wl[2, 2] = np.nan
    mean = ex.profile_wavelength(wl, prof, ex.VERTICAL)
    assert mean[0] == pytest.approx((0.5 * 2 + 3 + 4) / 2.5)
    assert mean[2] == pytest.approx((0.5 * 2 + 4) / 1.5)
    assert ex.dispersion_range(prof, ex.VERTICAL) == (0, 2)


# -- box sums over integrations ----------------------------------------------------------


def test_box_extract_three_integrations_by_hand():
    w = np.array([[0.0, 0.5, 1.0, 0.25]] * 2)  # 2 elements (rows) x 4 cross columns
    data = np.stack([np.ones((2, 4)), np.tile(np.arange(4.0), (2, 1)), np.full((2, 4), 2.0)]).astype(np.float32)
    var = np.full(data.shape, 2.0, dtype=np.float32)
    data[2, 0, 2] = np.nan  # integration 3, element 0 loses its full-weight pixel
    dq = np.zeros(data.shape, dtype=np.uint32)
    dq[1, 1, 3] = ex.DO_NOT_USE  # integration 2, element 1 loses its 0.25 pixel
    s = ex.box_extract(data, [var, None, var], w, ex.VERTICAL, dq=dq)
    np.testing.assert_allclose(s["flux"], [[1.75, 1.75], [3.25, 2.5], [1.5, 3.5]])
    np.testing.assert_allclose(s["npixels"], [[1.75, 1.75], [1.75, 1.5], [0.75, 1.75]])
    np.testing.assert_allclose(s["var"][0], [[2.625, 2.625], [2.625, 2.5], [0.625, 2.625]])
    np.testing.assert_array_equal(s["var"][1], 0.0)
    np.testing.assert_array_equal(s["background"], 0.0)
    # an element with no valid pixel has NaN flux and zero pixels
    data[0, 1, 1:] = np.nan
    s = ex.box_extract(data, [var, None, var], w, ex.VERTICAL)
    assert np.isnan(s["flux"][0, 1]) and s["npixels"][0, 1] == 0


def test_table_columns_units_by_hand():
    sums = {"flux": np.array([2.0, np.nan]), "npixels": np.array([4.0, 0.0]),
            "var": [np.array([8.0, 1.0]), np.zeros(2), np.zeros(2)],
            "background": np.array([1.0, 0.0]), "bkg_var": [np.array([4.0, 0.0]), np.zeros(2), np.zeros(2)]}
    c = ex.table_columns(sums, pixel_solid_angle=2e-12)
    assert c["FLUX"][0] == pytest.approx(2.0 * 2e-12 * 1e6)  # MJy/sr * sr -> Jy
    assert c["FLUX_VAR_POISSON"][0] == pytest.approx(8.0 * 4e-24 * 1e12)
    assert c["SURF_BRIGHT"][0] == 0.5 and c["SB_VAR_POISSON"][0] == 0.5
    assert c["BACKGROUND"][0] == 0.25 and c["BKGD_VAR_POISSON"][0] == 0.25 and c["BKGD_ERROR"][0] == 0.5
    assert c["SB_VAR_POISSON"][1] == 1.0  # NPIXELS 0 divides by 1
    np.testing.assert_array_equal(c["DQ"], [0, ex.DO_NOT_USE])
    assert ex.table_columns(sums)["FLUX"][0] == 2.0  # not flux calibrated: the plain sum


# -- background ------------------------------------------------------------------------------


def test_background_fits_by_hand():
    cross = np.arange(10.0)
    image = np.broadcast_to(3.0 + 0.5 * cross, (2, 4, 10)).copy()  # (ints, elements, cross)
    bkg = np.zeros((4, 10))
    bkg[:, [0, 1, 8, 9]] = 1
    src = np.zeros((4, 10))
    src[:, 4:7] = 1
    var = np.full(image.shape, 2.0)
    coord = np.linspace(-1, 1, 10)
    level, lv = ex.fit_background(image, [var], bkg, src, coord, order=1)
    np.testing.assert_allclose(level, image)  # a line is fitted exactly
    level, lv = ex.fit_background(image, [var], bkg, src, coord, order=0)
    np.testing.assert_allclose(level, np.mean(3.0 + 0.5 * np.array([0, 1, 8, 9])))
    np.testing.assert_allclose(lv[0], 3**2 * 4 * 2.0 / 4**2)  # npix^2 * var(mean of 4)
    level, lv = ex.fit_background(image, [var], bkg, src, coord, method="median")
    np.testing.assert_allclose(level, np.median(3.0 + 0.5 * np.array([0, 1, 8, 9])))
    np.testing.assert_allclose(lv[0], 1.2**2 * 3**2 * 4 * 2.0 / 4**2)
    # no background pixel: the polynomial level is 0, the median NaN
    image[1, 2, [0, 1, 8, 9]] = np.nan
    level, _ = ex.fit_background(image, [var], bkg, src, coord, order=0)
    assert np.all(level[1, 2] == 0.0) and np.all(level[0, 2] != 0.0)


def test_smoothing_skips_nan_and_extends_edges():
    x = np.array([1.0, 2.0, np.nan, 4.0, 5.0])[:, None]
    out = ex.smooth_along_dispersion(x, 3)[:, 0]
    np.testing.assert_allclose(out, [4 / 3, 1.5, 3.0, 4.5, 14 / 3])
    assert ex.smooth_along_dispersion(x.astype(np.float32), 3).dtype == np.float32
    with pytest.raises(ValueError):
        ex.smooth_along_dispersion(x, 4)


@pytest.mark.parametrize("fit,order,smooth", [("poly", 0, 0), ("poly", 2, 5), ("median", 0, 3)])
def test_box_extract_matches_jwst_kernel(fit, order, smooth):
    """The vectorized kernel against jwst's per-image extract1d on the same arrays."""
    jx = pytest.importorskip("jwst.extract_1d.extract1d")
    rng = np.random.default_rng(4)
    nint, nd, nc = 3, 40, 25
    data = rng.normal(10, 1, (nint, nd, nc)).astype(np.float32)
    var = [np.abs(rng.normal(1, 0.1, data.shape)).astype(np.float32) for _ in range(3)]
    data[1, 5, 12] = np.nan
    for v in var:
        v[np.isnan(data)] = np.nan
    src = ex.limits_profile((nd, nc), ex.VERTICAL, [(10.3, 14.6)])
    bkg = ex.limits_profile((nd, nc), ex.VERTICAL, [(1, 5), (19, 23)], allow_partial=fit != "median")
    ours = ex.box_extract(data, var, src, ex.VERTICAL, bkg_profile=bkg, bkg_method=fit, bkg_order=order,
                          smoothing=smooth)
    for i in range(nint):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = jx.extract1d(data[i].T, [src.T], var[1][i].T, var[0][i].T, var[2][i].T, profile_bg=bkg.T,
                             bg_smooth_length=smooth, fit_bkg=True, bkg_fit_type=fit, bkg_order=order)
        np.testing.assert_allclose(ours["flux"][i], r[0][0], rtol=1e-12)
        np.testing.assert_allclose(ours["background"][i], r[4][0], rtol=1e-12)
        np.testing.assert_allclose(ours["npixels"][i], r[8][0], rtol=1e-12)
        np.testing.assert_allclose(ours["var"][1][i], r[1][0], rtol=1e-12)  # read noise
        np.testing.assert_allclose(ours["bkg_var"][0][i], r[6][0], rtol=1e-12)  # poisson


# -- aperture correction -----------------------------------------------------------------


def test_apcorr_nodes_interpolation_and_edges():
    sizes = np.array([2.0, 4.0, 8.0])
    waves = np.array([10.0, 5.0])  # descending on purpose
    table = np.array([[1.3, 1.2, 1.1], [1.6, 1.4, 1.2]])  # [wavelength, size]
    f = ex.apcorr_interpolator(sizes, waves, table)
    assert f(4.0, 10.0) == 1.2 and f(8.0, 5.0) == 1.2  # table nodes exactly
    assert f(3.0, 7.5) == pytest.approx(np.mean([1.3, 1.2, 1.6, 1.4]))  # bilinear
    assert f(100.0, 1.0) == 1.2 and f(0.0, 20.0) == 1.3  # clamped at the edges
    npix = np.array([[2.0, 4.0], [3.0, 8.0]])  # (integrations, elements) in one call
    np.testing.assert_allclose(f(npix, np.array([10.0, 5.0])), [[1.3, 1.4], [1.25, 1.2]])
    cols = {k: np.ones(2) for k in ex.FLUX_COLUMNS + ex.VARIANCE_COLUMNS}
    ex.apply_correction(cols, np.array([2.0, 3.0]))
    np.testing.assert_array_equal(cols["FLUX"], [2, 3])
    np.testing.assert_array_equal(cols["SB_VAR_FLAT"], [4, 9])


# -- JSON aperture selection -------------------------------------------------------------


def test_aperture_selection():
    from spec2.errors import ReferenceFileError
    from spec2.steps.extract_slit import extraction_parameters

    ref = {"apertures": [
        {"id": "MIR_LRS-FIXEDSLIT", "region_type": "background", "xstart": 1},
        {"id": "MIR_LRS-FIXEDSLIT", "spectral_order": 2, "xstart": 2},
        {"id": "ANY", "xstart": 3.5, "xstop": 9.5, "bkg_coeff": [[0.5], [2.5]], "smoothing_length": 4},
    ]}
    p = extraction_parameters(ref, "MIR_LRS-FIXEDSLIT", (240, 44), 1, "MIR_LRS-FIXEDSLIT")
    assert (p["xstart"], p["xstop"], p["ystart"], p["ystop"]) == (3.5, 9.5, 0, 239)
    assert p["subtract_background"] and p["bkg_fit"] == "poly" and p["smoothing_length"] == 3
    assert p["use_source_posn"] is True  # default for the fixed slit
    p = extraction_parameters(ref, "MIR_LRS-FIXEDSLIT", (240, 44), 2, "MIR_LRS-FIXEDSLIT", use_source_posn=False)
    assert p["xstart"] == 2 and p["use_source_posn"] is False
    p = extraction_parameters(None, "MIR_LRS-SLITLESS", (5, 416, 72), 1, "MIR_LRS-SLITLESS")
    assert (p["xstop"], p["ystop"], p["subtract_background"], p["use_source_posn"]) == (71, 415, False, False)
    with pytest.raises(ReferenceFileError):
        extraction_parameters({"apertures": [{"id": "OTHER"}]}, "MIR_LRS-SLITLESS", (416, 72), 1, "MIR_LRS-SLITLESS")


# -- parity with jwst 3.0.0 ----------------------------------------------------------------


@pytest.fixture(scope="module")
def jwst_lrs(tmp_path_factory):
    """jwst's calwebb_spec2 on a simulated slitless series (30 integrations) and on one
    fixed-slit nod: its _s2d/_calints (our inputs) and _x1d/_x1dints (the oracle)."""
    pytest.importorskip("jwst")
    from spec2.crds_cache import LocalCache, crds_environment
    from spec2_miri.sim.lrs import simulate_lrs

    tmp = tmp_path_factory.mktemp("x1d")
    c = LocalCache(tmp / "crds")
    out = simulate_lrs(tmp / "data", c, nints=30)
    c.finish()
    env = dict(os.environ, **crds_environment(tmp / "crds"))
    strun = str(Path(sys.executable).parent / "strun")
    for target in (out["tso"], out["nods"][0]):
        subprocess.run([strun, "calwebb_spec2", str(target), "--output_dir", str(tmp / "jw")], cwd=tmp / "data",
                       env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    stems = {"fs": Path(out["nods"][0]).name.rsplit("_", 1)[0], "tso": Path(out["tso"]).name.rsplit("_", 1)[0]}
    refs = tmp / "crds" / "references" / "jwst" / "miri"
    return {
        "fs": (tmp / "jw" / f"{stems['fs']}_s2d.fits", tmp / "jw" / f"{stems['fs']}_x1d.fits"),
        "tso": (tmp / "jw" / f"{stems['tso']}_calints.fits", tmp / "jw" / f"{stems['tso']}_x1dints.fits"),
        "extract1d": next(refs.glob("*extract1d*.json")), "apcorr": next(refs.glob("*apcorr*.fits")),
        "out": tmp / "ours",
    }


def _ours(jwst_lrs, which):
    import json

    from stdatamodels.jwst import datamodels

    from spec2_miri.extract_1d import extract_lrs

    ref = json.loads(Path(jwst_lrs["extract1d"]).read_text())
    with datamodels.open(jwst_lrs[which][0]) as model, datamodels.MirLrsApcorrModel(jwst_lrs["apcorr"]) as ap:
        out = extract_lrs(model, ref, ap)
    out.meta.cal_step.extract_1d = "COMPLETE"
    path = jwst_lrs["out"] / Path(jwst_lrs[which][1]).name
    path.parent.mkdir(exist_ok=True)
    out.save(path)
    return path


@pytest.mark.parity
@pytest.mark.parametrize("which", ["fs", "tso"])
def test_extract_lrs_matches_jwst(jwst_lrs, which):
    from astropy.io import fits
    from stdatamodels.jwst import datamodels

    path = _ours(jwst_lrs, which)
    with fits.open(path) as a, fits.open(jwst_lrs[which][1]) as b:
        assert [h.name for h in a] == [h.name for h in b]
        ta, tb = a["EXTRACT1D"], b["EXTRACT1D"]
        assert ta.columns.names == tb.columns.names
        assert [c.unit for c in ta.columns] == [c.unit for c in tb.columns]
        assert [c.format for c in ta.columns] == [c.format for c in tb.columns]
        for name in tb.columns.names:
            x, y = np.asarray(ta.data[name], float), np.asarray(tb.data[name], float)
            np.testing.assert_allclose(x, y, rtol=1e-10, atol=0, equal_nan=True, err_msg=name)
        for key in ("SLTNAME", "SRCTYPE", "EXTRXSTR", "EXTRXSTP", "EXTRYSTR", "EXTRYSTP", "SLIT_RA", "SLIT_DEC",
                    "SPORDER", "DISPAXIS", "DETECTOR", "TIMESYS"):
            va, vb = ta.header.get(key), tb.header.get(key)
            assert va == pytest.approx(vb, rel=1e-12) if isinstance(vb, float) else va == vb, key
        if which == "tso":
            for name in b["INT_TIMES"].columns.names:
                np.testing.assert_array_equal(a["INT_TIMES"].data[name], b["INT_TIMES"].data[name])
    with datamodels.open(path) as ours, datamodels.open(jwst_lrs[which][1]) as theirs:
        assert type(ours) is type(theirs)
        sa, sb = ours.spec[0], theirs.spec[0]
        n = np.atleast_2d(sb.spec_table["WAVELENGTH"]).shape[-1]
        pix = np.arange(n) + 0.25
        for u, v in zip(sa.meta.wcs(pix), sb.meta.wcs(pix), strict=True):
            np.testing.assert_allclose(u, v, rtol=1e-12)
        assert ours.meta.target.source_type is None and ours.meta.wcs is None


@pytest.mark.parity
def test_products_open_in_specutils_and_jwst(jwst_lrs):
    pytest.importorskip("specutils")
    from astropy.io import fits
    from jwst.datamodels.utils.flat_multispec import expand_flat_spec
    from stdatamodels.jwst import datamodels

    try:
        from specutils import Spectrum1D as Spectrum
    except ImportError:  # specutils >= 2 renamed it
        from specutils import Spectrum
    from specutils import SpectrumList

    fs, tso = _ours(jwst_lrs, "fs"), _ours(jwst_lrs, "tso")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        spec = Spectrum.read(fs, format="JWST x1d")
        listed = SpectrumList.read(fs, format="JWST x1d")
    with fits.open(fs) as h:
        np.testing.assert_array_equal(spec.flux.value, h["EXTRACT1D"].data["FLUX"])
        np.testing.assert_array_equal(spec.spectral_axis.value, h["EXTRACT1D"].data["WAVELENGTH"])
    assert spec.flux.unit.to_string() == "Jy" and spec.spectral_axis.unit.to_string() == "um"
    assert len(listed) == 1

    def outcome(path):  # specutils 2.4 cannot read any x1dints (no SOURCE_TYPE column): same for both
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                return [s.shape for s in SpectrumList.read(path, format="JWST x1d")]
            except Exception as exc:  # noqa: BLE001 - the outcome is what is compared
                return type(exc).__name__

    assert outcome(tso) == outcome(jwst_lrs["tso"][1])
    with datamodels.open(tso) as model:
        assert isinstance(model, datamodels.TSOMultiSpecModel)
        per_int = expand_flat_spec(model)  # jwst's own unpacking into one spectrum per integration
        assert len(per_int.spec) == len(model.spec[0].spec_table) == 30
        assert per_int.spec[3].spec_table["FLUX"].shape == (model.spec[0].spec_table["N_ALONGDISP"][3],)
