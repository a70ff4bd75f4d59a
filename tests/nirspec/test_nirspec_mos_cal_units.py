"""NIRSpec MOS calibration steps on hand-made arrays: bar shadow joins, pathloss
aperture choice and interpolation, the quadrant F-flat lookup, MOS pixel areas and
photom, and each step's inverse undoing it."""

from __future__ import annotations

import numpy as np
import pytest
from stdatamodels.jwst import datamodels as dm

from spec2_nirspec import barshadow as bs
from spec2_nirspec import flat_field as ff
from spec2_nirspec import pathloss as pl
from spec2_nirspec import photom as ph

# ---------------------------------------------------------------------------------------
# Hand-made inputs
# ---------------------------------------------------------------------------------------


def _ramp_tables():
    """data1x1 row r holds r, data1x3 row r holds 10000 + r (one wavelength column)."""
    rows = np.arange(1001, dtype=np.float32)[:, None]
    return rows.copy(), rows + 10000


def _slit_wcs(ny, nx):
    """detector -> slit_frame (x 0, y (row - 2) / 4, wavelength 1 + 0.05 column um)
    -> world (identity), with the cut-out as bounding box."""
    from astropy import units as u
    from astropy.modeling import models as m
    from gwcs import coordinate_frames as cf
    from gwcs import wcs

    det2slit = m.Mapping((0, 1, 0)) | (m.Const1D(0.0) & (m.Shift(-2.0) | m.Scale(0.25)) & (m.Scale(0.05) | m.Shift(1.0)))
    det2slit.inverse = m.Mapping((2, 1)) | ((m.Shift(-1.0) | m.Scale(20.0)) & (m.Scale(4.0) | m.Shift(2.0)))
    detector = cf.Frame2D(name="detector", axes_order=(0, 1), unit=(u.pix, u.pix))
    spatial = cf.Frame2D(name="slit_spatial", axes_order=(0, 1), unit=("", ""), axes_names=("x_slit", "y_slit"))
    spectral = cf.SpectralFrame(name="spectral", axes_order=(2,), unit=(u.micron,), axes_names=("wavelength",))
    slit_frame = cf.CompositeFrame([spatial, spectral], name="slit_frame")
    world = cf.CompositeFrame([spatial, spectral], name="world")
    w = wcs.WCS([(detector, det2slit), (slit_frame, m.Identity(3)), (world, None)])
    w.bounding_box = ((-0.5, nx - 0.5), (-0.5, ny - 0.5))
    return w


def _slit(name="1", state="x", source_type="EXTENDED", ny=5, nx=6, xpos=0.0, ypos=0.0):
    rng = np.random.default_rng(3)
    s = dm.SlitModel(data=(10 + rng.random((ny, nx))).astype(np.float32))
    s.err = np.full((ny, nx), 0.5, np.float32)
    s.dq = np.zeros((ny, nx), np.uint32)
    s.var_poisson = np.full((ny, nx), 0.2, np.float32)
    s.var_rnoise = np.full((ny, nx), 0.05, np.float32)
    s.var_flat = np.full((ny, nx), 0.01, np.float32)
    s.name, s.slitlet_id, s.shutter_state, s.source_type = name, int(name), state, source_type
    s.quadrant, s.xcen, s.ycen = 2, 3, 2
    s.source_xpos, s.source_ypos = xpos, ypos
    s.xstart, s.ystart, s.xsize, s.ysize = 1, 1, nx, ny
    s.wavelength = (1.1 + 0.05 * np.arange(nx) + np.zeros((ny, 1))).astype(np.float32)
    s.meta.wcs = _slit_wcs(ny, nx)
    return s


def _mos(*slits):
    model = dm.MultiSlitModel()
    model.meta.exposure.type = "NRS_MSASPEC"
    model.meta.instrument.filter, model.meta.instrument.grating = "F170LP", "G235H"
    model.meta.subarray.xstart = model.meta.subarray.ystart = 1
    for s in slits:
        model.slits.append(s)
    return model


def _same_to_float32_rounding(before, after):
    # forward then inverse in float32 (as jwst stores SCI/ERR/VAR) restores each value
    # to within a couple of units in the last place, not exactly
    np.testing.assert_array_max_ulp(before, after, maxulp=2)


def _snapshot(slit):
    return {k: getattr(slit, k).copy() for k in ("data", "err", "var_poisson", "var_rnoise")}


# ---------------------------------------------------------------------------------------
# barshadow
# ---------------------------------------------------------------------------------------


def test_barshadow_join_of_two_open_shutters():
    one, three = _ramp_tables()
    shadow = bs.join_shadow(bs.shutter_pieces(one, three), "x1")[:, 0]
    assert shadow.shape == (1500,)
    assert shadow[0] == 0 and shadow[499] == 499  # 1x1 rows 0..500: bottom half of shutter 1
    assert shadow[500] == 0.5 * (500 + 10000)  # joint: 1x1 centre row and 1x3 row 0 averaged
    assert shadow[501] == 10001 and shadow[999] == 10499  # 1x3 rows 1..500
    assert shadow[1000] == 0.5 * (10500 + 501)  # joint with the last half (1x1 rows 501..)
    assert shadow[1001] == 502 and shadow[1499] == 1000


def test_barshadow_join_across_a_closed_shutter():
    one, three = _ramp_tables()
    shadow = bs.join_shadow(bs.shutter_pieces(one, three), "10x")[:, 0]
    assert shadow.shape == (2000,)
    assert shadow[500] == 500  # open -> closed: 1x1 rows 500..1000, averaged with itself
    assert shadow[501] == 501 and shadow[1000 - 1] == 999
    assert shadow[1000] == 0.5 * (1000 + 0)  # closed -> open: 1x1 rows 0..500
    assert shadow[1001] == 1 and shadow[1499] == 499
    assert shadow[1500] == 0.5 * (500 + 501)
    assert shadow[1999] == 1000
    # two closed shutters in a row: the deepest value of the 1x1 table (0 here)
    deep = bs.join_shadow(bs.shutter_pieces(one + 1, three), "100x")[:, 0]
    assert np.all(deep[1001:1500] == 1.0) and deep[1000] == 0.5 * (1001 + 1)


def test_barshadow_rows_put_the_source_shutter_centre_on_its_joint():
    # "10x": the source shutter is the top one, its centre at row 1500 of 2000
    assert bs.shadow_rows(0.0, "10x", 2000) == 1500
    assert bs.shadow_rows(-1.0, "10x", 2000) == 1000  # one pitch down: the closed shutter
    assert bs.shadow_rows(0.2, "x11", 2000) == 600
    # no source shutter: jwst's arithmetic puts the fiducial one beyond the slitlet
    assert bs.shadow_rows(0.0, "11", 1500) == 0


def test_barshadow_slit_reads_the_joined_shadow_at_each_pixel():
    one, three = _ramp_tables()
    ref = dm.BarshadowModel()
    ref.data1x1 = np.repeat(one, 101, axis=1)
    ref.data1x3 = np.repeat(three, 101, axis=1)
    ref.crval1, ref.cdelt1, ref.crval2, ref.cdelt2 = 1.0, 0.05, -1.0, 0.002
    slit = _slit(state="x1", ny=5, nx=6)
    slit.slit_yscale = 1.0
    shadow = bs.slit_shadow(slit, ref)
    # row j has slit y (j - 2) / 4 pitches; the source shutter centre is row 500
    expected_rows = 500 + (np.arange(5) - 2) / 4 * 500
    joined = bs.join_shadow(bs.shutter_pieces(ref.data1x1, ref.data1x3), "x1")[:, 0]
    expected = np.interp(expected_rows, np.arange(joined.size), joined)
    np.testing.assert_allclose(shadow[:, 0], expected.astype(np.float32), rtol=1e-7)
    assert shadow[2, 0] == np.float32(5250.0)  # the joint row itself
    # without slit_yscale the pitch is 1.15 slit heights
    slit.slit_yscale = None
    rows = 500 + (np.arange(5) - 2) / 4 / 1.15 * 500
    np.testing.assert_allclose(bs.slit_shadow(slit, ref)[:, 0], np.interp(rows, np.arange(joined.size), joined),
                               rtol=1e-6)


def test_barshadow_point_sources_get_ones_and_inverse_restores():
    ref = dm.BarshadowModel()
    y = np.linspace(-1, 1, 1001)[:, None]
    ref.data1x1 = np.repeat((1 - 0.3 * np.exp(-((np.abs(y) - 0.5) / 0.1) ** 2)).astype(np.float32), 101, axis=1)
    ref.data1x3 = ref.data1x1.copy()
    ref.crval1, ref.cdelt1, ref.crval2, ref.cdelt2 = 0.9, 0.05, -1.0, 0.002
    point, extended = _slit("1", "x", "POINT"), _slit("2", "1x1", "EXTENDED")
    model = _mos(point, extended)
    before = [_snapshot(s) for s in model.slits]
    bs.apply_barshadow(model, ref)
    first, second = model.slits
    assert first.barshadow_corrected is False and np.all(first.barshadow == 1.0)
    np.testing.assert_array_equal(first.data, before[0]["data"])
    assert second.barshadow_corrected is True
    np.testing.assert_array_equal(second.data, (before[1]["data"] / second.barshadow).astype(np.float32))
    np.testing.assert_array_equal(second.var_poisson, before[1]["var_poisson"] / second.barshadow**2)
    assert not np.allclose(second.barshadow, 1.0)
    bs.apply_barshadow(model, ref, inverse=True)
    for slit, old in zip(model.slits, before, strict=True):
        for k, v in old.items():
            _same_to_float32_rounding(v, getattr(slit, k))
    # a forced source type overrides the slitlets' own
    forced = _mos(_slit("3", "1x1", "EXTENDED"))
    bs.apply_barshadow(forced, ref, source_type="POINT")
    assert forced.slits[0].barshadow_corrected is False


# ---------------------------------------------------------------------------------------
# pathloss
# ---------------------------------------------------------------------------------------


def _linear_pathloss():
    """MOS1x1 and MOS1x3 with point throughput k + 10 row + 100 col (exact under
    bilinear interpolation) on 1..5 um; uniform 0.6 (1x1) and 0.8 (1x3)."""
    model = dm.PathlossModel()
    model.meta.exposure.type = "NRS_MSASPEC"
    apertures = []
    for name, shutters, value in (("MOS1x1", 1, 0.6), ("MOS1x3", 3, 0.8)):
        nrows = 2 * shutters + 1
        k, i, j = np.mgrid[0:5, 0:nrows, 0:3]
        apertures.append({
            "name": name, "shutters": shutters,
            "pointsource_data": (k + 10.0 * i + 100.0 * j).astype(np.float32),
            "pointsource_err": np.zeros((5, nrows, 3), np.float32),
            "uniform_data": np.full(5, value, np.float32), "uniform_err": np.zeros(5, np.float32),
            "pointsource_wcs": {"crpix1": 1.0, "crval1": -0.5, "cdelt1": 0.5, "crpix2": 1.0,
                                "crval2": -0.5 * shutters, "cdelt2": 0.5, "crpix3": 1.0, "crval3": 1e-6,
                                "cdelt3": 1e-6},
            "uniform_wcs": {"crpix1": 1.0, "crval1": 1e-6, "cdelt1": 1e-6},
        })
    model.apertures = apertures
    return model


def test_pathloss_aperture_by_shutter_configuration():
    ref = _linear_pathloss()
    assert pl.neighbours_closed("x") == (True, True)
    assert pl.neighbours_closed("x1") == (True, False)
    assert pl.neighbours_closed("11x") == (False, True)
    assert pl.neighbours_closed("10x01") == (True, True)
    assert pl.mos_aperture(ref, "x").shutters == 1
    assert pl.mos_aperture(ref, "10x01").shutters == 1
    assert pl.mos_aperture(ref, "1x1").shutters == 3
    assert pl.mos_aperture(ref, "x1").shutters == 3


def test_pathloss_source_at_the_bottom_of_a_two_shutter_slitlet():
    ref = _linear_pathloss()
    slit = _slit("4", "x1", "POINT", ny=2, nx=2, xpos=0.1, ypos=0.2)
    slit.wavelength = np.array([[1.5, 2.0], [2.5, 4.0]], np.float32)
    correction, point, uniform, kind = pl.mos_slit_corrections(slit, ref)
    # 1x3 table; the source shutter is the lowest of three: y 0.2 - 1 -> row 1.4, col 1.2
    # -> k + 14 + 120, with k = wavelength - 1
    np.testing.assert_allclose(point, [[134.5, 135.0], [135.5, 137.0]], rtol=1e-6)
    # two shutters: the uniform throughput is the mean of the 1x1 and 1x3 ones
    np.testing.assert_allclose(uniform, 0.7, rtol=1e-6)
    assert kind == "POINT" and correction is point
    # the top of a slitlet reads the table one shutter (two rows of 0.5) up: row 5.4;
    # a lone shutter the 1x1 table: row 1.4
    slit.shutter_state = "11x"
    _, point, uniform, _ = pl.mos_slit_corrections(slit, ref)
    np.testing.assert_allclose(point, np.array([[134.5, 135.0], [135.5, 137.0]]) + 40.0, rtol=1e-6)
    np.testing.assert_allclose(uniform, 0.8, rtol=1e-6)
    slit.shutter_state = "x"
    _, point, uniform, _ = pl.mos_slit_corrections(slit, ref)
    np.testing.assert_allclose(point, np.array([[0.5, 1.0], [1.5, 3.0]]) + 14 + 120, rtol=1e-6)
    np.testing.assert_allclose(uniform, 0.6, rtol=1e-6)
    # outside the table: no correction
    slit.source_xpos = 0.6
    assert pl.mos_slit_corrections(slit, ref) is None


def test_pathloss_mos_extended_and_inverse():
    ref = _linear_pathloss()
    model = _mos(_slit("1", "1x1", "EXTENDED", xpos=0.1), _slit("2", "x", "POINT", xpos=0.1))
    before = [_snapshot(s) for s in model.slits]
    assert pl.apply_mos_pathloss(model, ref)
    extended, point = model.slits
    assert extended.pathloss_correction_type == "UNIFORM" and point.pathloss_correction_type == "POINT"
    np.testing.assert_allclose(extended.data, before[0]["data"] / np.float32(0.8), rtol=1e-7)
    assert extended.pathloss_point.shape == extended.data.shape
    assert pl.apply_mos_pathloss(model, ref, inverse=True)
    for slit, old in zip(model.slits, before, strict=True):
        for k, v in old.items():
            _same_to_float32_rounding(v, getattr(slit, k))


# ---------------------------------------------------------------------------------------
# flat_field
# ---------------------------------------------------------------------------------------


def _quad_flat():
    model = dm.NirspecQuadFlatModel()
    quadrants = []
    for q in range(1, 6):
        cube = np.ones((2, 2, 3), np.float32)
        cube[0, 1, 2], cube[1, 1, 2] = 2.0, 4.0  # quadrant q, xcen 3, ycen 2 at 1 and 3 um
        cube *= q
        wl = np.array([1.0, 2.0, 3.0, 4.0], np.float32)
        table = np.array([("ANY", 4, wl, np.ones(4, np.float32), np.full(4, 0.01, np.float32))],
                         dtype=[("slit_name", "S15"), ("nelem", "i4"), ("wavelength", "f4", (4,)),
                                ("data", "f4", (4,)), ("error", "f4", (4,))])
        quadrants.append({"data": cube, "err": np.full(cube.shape, 0.1 * q, np.float32),
                          "dq": np.zeros(cube.shape, np.uint32),
                          "wavelength": np.array([(1.0,), (3.0,)], dtype=[("wavelength", "f4")]),
                          "flat_table": table})
    model.quadrants = quadrants
    return model


def test_quadrant_flat_shutter_spectrum_times_table():
    quad = _quad_flat()
    wl = np.array([[1.0, 2.0]])
    tab_wl, tab_flat, _, shutter_err = ff.msa_shutter_table(wl, quad, 2, 3, 2)
    np.testing.assert_array_equal(tab_wl, [1, 2, 3, 4])
    # quadrant 2 doubles the cube: 4 at 1 um, 8 at 3 um; 1 beyond the cube's planes
    np.testing.assert_array_equal(tab_flat, [4.0, 6.0, 8.0, 1.0])
    assert tab_flat.dtype == np.float32
    np.testing.assert_allclose(shutter_err, [[0.2, 0.2]], rtol=1e-6)
    # quadrant 5 (a fixed slit in an MSA exposure, xcen = ycen = 0) reads element [-1, -1]
    _, tab5, _, _ = ff.msa_shutter_table(wl, quad, 5, 0, 0)
    np.testing.assert_array_equal(tab5, [10.0, 15.0, 20.0, 1.0])


def test_mos_flat_divides_by_the_shutter_flat_and_inverse_restores():
    quad = _quad_flat()
    slit = _slit("1", "x", "EXTENDED", ny=2, nx=3)
    slit.wavelength = np.full((2, 3), 2.0, np.float32)
    model = _mos(slit)
    before = _snapshot(model.slits[0])
    ff.apply_mos_flat(model, quad, None, None)
    # flat 6 everywhere (4 -> 8 between 1 and 3 um, table 1, read at 2 um)
    np.testing.assert_allclose(model.slits[0].data, before["data"] / 6.0, rtol=1e-6)
    assert np.all(model.slits[0].var_flat > 0)
    ff.apply_mos_flat(model, quad, None, None, inverse=True)
    restored = model.slits[0]
    _same_to_float32_rounding(before["data"], restored.data)
    _same_to_float32_rounding(before["var_poisson"], restored.var_poisson)
    assert np.all(restored.var_flat == 0)


# ---------------------------------------------------------------------------------------
# photom
# ---------------------------------------------------------------------------------------


def _mos_photom_refs():
    photom = dm.NrsMosPhotomModel()
    wl = np.array([1.0, 5.0], np.float32)
    photom.phot_table = np.array([("F170LP", "G235H", 2.0, 0.0, 2, wl, np.full(2, 1.5, np.float32),
                                   np.zeros(2, np.float32))],
                                 dtype=[("filter", "S12"), ("grating", "S15"), ("photmj", "f4"), ("uncertainty", "f4"),
                                        ("nelem", "i2"), ("wavelength", "f4", (2,)), ("relresponse", "f4", (2,)),
                                        ("reluncertainty", "f4", (2,))])
    area = dm.NirspecMosAreaModel()
    area.area_table = np.array([(2, 3, 2, 0.5), (2, 3, 3, 0.7)],
                               dtype=[("quadrant", "i2"), ("shutter_x", "i2"), ("shutter_y", "i2"), ("pixarea", "f4")])
    return photom, area


def test_mos_pixel_area_by_shutter():
    _, area = _mos_photom_refs()
    a2, sr = ph.mos_pixel_area(area, 2, 3, 3)
    assert a2 == pytest.approx(0.7) and sr == pytest.approx(0.7 * (np.pi / 180 / 3600) ** 2)
    assert ph.mos_pixel_area(area, 1, 3, 3) is None


def test_mos_photom_units_and_inverse():
    photom, area = _mos_photom_refs()
    model = _mos(_slit("1", "x", "POINT"), _slit("2", "1x1", "EXTENDED"))
    model.slits[1].xcen, model.slits[1].ycen = 9, 9  # not in the area table: 1 sr
    before = [_snapshot(s) for s in model.slits]
    assert ph.apply_mos_photom(model, photom, area)
    point, extended = model.slits
    np.testing.assert_allclose(point.data, before[0]["data"] * 3.0, rtol=1e-6)  # 2 MJy/(DN/s) x 1.5
    assert point.meta.bunit_data == "MJy" and extended.meta.bunit_data == "MJy/sr"
    assert point.meta.photometry.pixelarea_arcsecsq == pytest.approx(0.5)
    assert extended.meta.photometry.pixelarea_steradians == 1.0
    np.testing.assert_allclose(extended.data, before[1]["data"] * 3.0, rtol=1e-6)
    assert model.meta.bunit_data is None
    ph.apply_mos_photom(model, photom, area, inverse=True)
    assert model.meta.bunit_data == "DN/s"
    for slit, old in zip(model.slits, before, strict=True):
        for k, v in old.items():
            _same_to_float32_rounding(v, getattr(slit, k))


def test_hooks_honour_inverse_for_mos():
    """The flat/pathloss/photom hooks take inverse=True for MOS (they refuse it for the
    fixed-slit branches), and barshadow skips non-MOS exposures."""
    from spec2.errors import StepSkipped
    from spec2_nirspec import hooks
    from tests.nirspec.stepdata import Refs

    photom, area = _mos_photom_refs()
    refs = Refs({"photom": photom, "area": area, "pathloss": _linear_pathloss(), "fflat": _quad_flat()})
    model = _mos(_slit("1", "1x1", "EXTENDED"))
    start = model.slits[0].data.copy()
    for hook in (hooks.flat, hooks.pathloss, hooks.photom):
        model = hook(model, refs, {"inverse": False})
    for hook in (hooks.photom, hooks.pathloss, hooks.flat):
        model = hook(model, refs, {"inverse": True})
    np.testing.assert_allclose(model.slits[0].data, start, rtol=1e-6)
    fs = _mos(_slit("1"))
    fs.meta.exposure.type = "NRS_FIXEDSLIT"
    with pytest.raises(StepSkipped):
        hooks.barshadow(fs, refs, {"inverse": False, "source_type": None})


@pytest.mark.slow  # writes two full-frame flats (~7 s)
def test_simulated_mos_references_are_selected_by_crds_and_validate(tmp_path, monkeypatch):
    """write_mos_reference_set publishes each MOS calibration reference for NRS_MSASPEC;
    CRDS (through spec2's resolver) selects them for a MOS exposure and each opens as
    its datamodel and validates."""
    from spec2.crds_cache import LocalCache, crds_environment
    from spec2.refs import RefResolver
    from spec2_nirspec.sim import references_cal as rc

    cache = LocalCache(tmp_path / "crds")
    written = rc.write_mos_reference_set(cache, detectors=("NRS1",))
    cache.finish()
    for key, value in crds_environment(tmp_path / "crds").items():
        monkeypatch.setenv(key, value)
    exposure = dm.ImageModel()
    exposure.meta.instrument.name, exposure.meta.instrument.detector = "NIRSPEC", "NRS1"
    exposure.meta.instrument.filter, exposure.meta.instrument.grating = "F170LP", "G235H"
    exposure.meta.exposure.type = "NRS_MSASPEC"
    exposure.meta.observation.date, exposure.meta.observation.time = "2023-01-01", "00:00:00"
    kinds = {"fflat": dm.NirspecQuadFlatModel, "sflat": dm.NirspecFlatModel, "dflat": dm.NirspecFlatModel,
             "pathloss": dm.PathlossModel, "barshadow": dm.BarshadowModel, "photom": dm.NrsMosPhotomModel,
             "area": dm.NirspecMosAreaModel, "wavecorr": dm.WaveCorrModel, "apcorr": dm.NrsMosApcorrModel}
    assert set(written) == set(kinds) | {"extract1d"}  # extract1d is JSON, not a datamodel
    resolver = RefResolver(exposure)
    for reftype, kind in kinds.items():
        path = resolver.path(reftype)
        assert path is not None and "spec2sim_nrs_mos_" in path, (reftype, path)
        model = kind(path)
        model.validate()
    quad = dm.NirspecQuadFlatModel(resolver.path("fflat"))
    assert len(quad.quadrants) == 5 and quad.quadrants[0].data.shape == (4, 171, 365)
    assert {ap.name: ap.shutters for ap in dm.PathlossModel(resolver.path("pathloss")).apertures} == {
        "MOS1x1": 1, "MOS1x3": 3}
    assert "MOS" in {ap.aperture_name for ap in dm.WaveCorrModel(resolver.path("wavecorr")).apertures}


def test_slitlets_without_shutter_metadata():
    """A slitlet the MSA metadata gave no shutter: flat_field stops with one line before
    changing any slitlet; pathloss and barshadow leave it uncorrected."""
    from spec2.errors import InputError

    good, bad = _slit("1", "x"), _slit("2", "x")
    bad.quadrant = None
    model = _mos(good, bad)
    before = model.slits[0].data.copy()
    with pytest.raises(InputError, match="slitlet 2 has no quadrant/xcen/ycen"):
        ff.apply_mos_flat(model, _quad_flat(), None, None)
    np.testing.assert_array_equal(model.slits[0].data, before)
    lost = _slit("3", "")
    assert pl.mos_slit_corrections(lost, _linear_pathloss()) is None
    ref = dm.BarshadowModel()
    assert bs.slit_shadow(lost, ref) is None
