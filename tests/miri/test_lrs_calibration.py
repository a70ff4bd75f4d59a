"""MIRI LRS steps: hand-computed unit checks, and _cal/_calints parity with jwst 3.0.0."""

from __future__ import annotations

import numpy as np
import pytest

from spec2.steps.srctype import decide_source_type
from tests.miri.conftest import stem
from spec2_miri import instrument as ins


@pytest.fixture(scope="module")
def refs(tmp_path_factory):
    from spec2_miri.sim import references
    from stdatamodels.jwst import datamodels

    d = tmp_path_factory.mktemp("refs")
    return {
        "distortion": datamodels.DistortionModel(references.write_distortion(d / "dist.asdf")),
        "specwcs": datamodels.MiriLRSSpecwcsModel(references.write_specwcs(d / "specwcs.fits")),
        "photom": datamodels.MirLrsPhotomModel(references.write_photom(d / "photom.fits")),
        "pathloss": datamodels.MirLrsPathlossModel(references.write_pathloss(d / "pathloss.fits")),
    }


@pytest.fixture(scope="module")
def fs_model(tmp_path_factory, refs):
    from spec2_miri.assign_wcs import as_slit_model, assign_lrs_wcs
    from spec2_miri.sim.lrs import fixed_slit_exposure
    from stdatamodels.jwst import datamodels

    path = fixed_slit_exposure(tmp_path_factory.mktemp("fs") / "x_rate.fits", -1.5)
    return as_slit_model(assign_lrs_wcs(datamodels.open(path), refs["distortion"], refs["specwcs"]))


def test_wavelength_follows_the_table(fs_model):
    x0, y0 = ins.FS_REF[0] - 1, ins.FS_REF[1] - 1
    for dy in (-100, 0, 50):
        _, _, wl = fs_model.meta.wcs(x0 + ins.trace_shift(dy), y0 + dy)
        # the smoothing spline (s=0.002) stays within 1e-3 micron of the exact table
        assert wl == pytest.approx(ins.wavelength_at(dy), abs=1e-3)
    assert fs_model.meta.wcsinfo.dispersion_direction == 2


def test_wcs_round_trip_and_pixel_scale(fs_model):
    wcs = fs_model.meta.wcs
    x0, y0 = ins.FS_REF[0] - 1, ins.FS_REF[1] - 1
    alpha, beta, _ = wcs.get_transform("detector", "alpha_beta")(x0 + 10.0, y0)
    assert alpha == pytest.approx(10 * ins.PIXEL_SCALE, rel=1e-9) and beta == 0
    ra, dec, wl = wcs(x0 + 5.3, y0 - 20.0)
    x, y = wcs.invert(ra, dec, wl)
    assert x == pytest.approx(x0 + 5.3, abs=0.01) and y == pytest.approx(y0 - 20.0, abs=0.01)


def test_dithered_position_is_the_target(fs_model):
    from spec2_miri.sim.lrs import TARGET_DEC, TARGET_RA

    assert fs_model.meta.dither.dithered_ra == pytest.approx(TARGET_RA, abs=1e-8)
    assert fs_model.meta.dither.dithered_dec == pytest.approx(TARGET_DEC, abs=1e-8)


def test_pathloss_finds_the_nodded_source(fs_model, refs):
    from spec2_miri.pathloss import lrs_correction, source_offset

    dx, dy = source_offset(fs_model)
    assert dx == pytest.approx(-1.5 / ins.PIXEL_SCALE, abs=1e-3) and dy == pytest.approx(0, abs=1e-6)
    wl, corr = lrs_correction(refs["pathloss"], dx, dy)
    assert np.all(np.diff(wl) > 0)
    i = np.argmin(np.abs(wl - 10.0))
    assert corr[i] == pytest.approx(1 / ins.slit_throughput(wl[i], 0.0), rel=1e-5)


@pytest.mark.parametrize(
    "args, expected",
    [
        (("extended", False, True, "POINT", "NOD"), "EXTENDED"),  # the parameter wins
        ((None, True, True, "POINT", None), "EXTENDED"),  # background target
        ((None, False, True, "EXTENDED", None), "POINT"),  # time series
        ((None, False, False, "EXTENDED", "ALONG-SLIT-NOD"), "EXTENDED"),  # APT before nod
        ((None, False, False, None, "ALONG-SLIT-NOD"), "POINT"),
        ((None, False, False, "UNKNOWN", None), "POINT"),  # the mode's default
    ],
)
def test_source_type_priority(args, expected):
    assert decide_source_type(*args)[0] == expected


def test_photom_hand_value(fs_model, refs):
    from spec2_miri.photom import apply_lrs_photom

    m = fs_model.copy()
    y, x = int(ins.FS_REF[1] - 1), int(ins.FS_REF[0] - 1)
    m.data[y, x] = 2.0
    m.dq[y, x] = 0
    wl = m.wavelength[y, x]
    apply_lrs_photom(m, refs["photom"])
    table_wl = np.arange(4.5, 15.01, 0.05)
    expected = 2.0 * np.float32(ins.PHOTMJSR) * np.interp(wl, table_wl, ins.relative_response(table_wl).astype(np.float32))
    assert m.data[y, x] == pytest.approx(expected, rel=1e-6)
    assert m.meta.bunit_data == "MJy/sr"
    assert np.isnan(m.data[0, 0]) and m.dq[0, 0] & 1  # no wavelength: no calibration


# -- parity with jwst 3.0.0 ------------------------------------------------------------

ARRAYS = ("data", "err", "var_poisson", "var_rnoise", "var_flat", "wavelength")


def _compare(ours, theirs):
    from stdatamodels.jwst import datamodels

    with datamodels.open(ours) as a, datamodels.open(theirs) as b:
        assert type(a) is type(b)
        assert a.data.shape == b.data.shape
        np.testing.assert_array_equal(a.dq, b.dq)
        for name in ARRAYS:
            x, y = getattr(a, name), getattr(b, name)
            # same formulas evaluated in the same order: float32 results bit for bit
            np.testing.assert_array_equal(x, y, err_msg=name)
        for key in ("source_type",):
            assert getattr(a.meta.target, key) == getattr(b.meta.target, key)
        assert a.meta.bunit_data == b.meta.bunit_data
        for key in ("pixelarea_steradians", "conversion_megajanskys"):
            assert getattr(a.meta.photometry, key) == pytest.approx(getattr(b.meta.photometry, key), rel=1e-6)
        for step in ("assign_wcs", "bkg_subtract", "srctype", "flat_field", "pathloss", "photom"):
            assert getattr(a.meta.cal_step, step) == getattr(b.meta.cal_step, step), step


@pytest.mark.parity
@pytest.mark.slow
@pytest.mark.parametrize("which", ["nod1", "nod2", "tso"])
def test_cal_matches_jwst(which, lrs_sim, jwst_products, spec2_products):

    science = {"nod1": lrs_sim["nods"][0], "nod2": lrs_sim["nods"][1], "tso": lrs_sim["tso"]}[which]
    root = stem(science)
    suffix = "calints" if which == "tso" else "cal"
    _compare(spec2_products / f"{root}_{suffix}.fits", jwst_products / f"{root}_{suffix}.fits")


JWST_SUFFIX = {"bkg_subtract": "bsub"}


@pytest.mark.parity
@pytest.mark.slow
@pytest.mark.parametrize("step", ["assign_wcs", "bkg_subtract", "srctype", "flat_field", "pathloss", "photom"])
def test_each_step_matches_jwst(step, lrs_sim, jwst_products, spec2_products):
    """Step by step on the first nod: the model after each step, array by array."""

    from stdatamodels.jwst import datamodels

    root = stem(lrs_sim["nods"][0])
    name = f"{root}_{JWST_SUFFIX.get(step, step)}.fits"
    with datamodels.open(spec2_products / name) as a, datamodels.open(jwst_products / name) as b:
        np.testing.assert_array_equal(a.dq, b.dq)
        for arr in ("data", "err", "var_poisson", "var_rnoise", "var_flat"):
            x, y = getattr(a, arr), getattr(b, arr)
            if y is None or y.size == 0:
                assert x is None or x.size == 0, f"{step}: {arr}"
                continue
            np.testing.assert_array_equal(x, y, err_msg=f"{step}: {arr}")
        # jwst keeps the ImageModel until srctype; we hand later steps a SlitModel from
        # assign_wcs on (the same arrays and WCS)
        if step not in ("assign_wcs", "bkg_subtract"):
            assert type(a) is type(b)


@pytest.mark.parity
@pytest.mark.slow
@pytest.mark.parametrize("nod", [0, 1])
def test_s2d_matches_jwst(nod, lrs_sim, jwst_products, spec2_products):
    """The _s2d: same grid and WCS; every array identical."""

    from stdatamodels.jwst import datamodels

    name = stem(lrs_sim["nods"][nod]) + "_s2d.fits"
    with datamodels.open(spec2_products / name) as a, datamodels.open(jwst_products / name) as b:
        assert a.data.shape == b.data.shape
        for arr in ("data", "wht", "con", "wavelength", "err", "var_poisson", "var_rnoise", "var_flat"):
            np.testing.assert_array_equal(getattr(a, arr), getattr(b, arr), err_msg=arr)
        y, x = np.indices(a.data.shape)
        for wa, wb in zip(a.meta.wcs(x, y), b.meta.wcs(x, y), strict=True):
            np.testing.assert_allclose(wa, wb, rtol=1e-12, atol=1e-12)
        assert a.meta.photometry.pixelarea_steradians == pytest.approx(b.meta.photometry.pixelarea_steradians, rel=1e-12)


X1D_VALUES = ("WAVELENGTH", "FLUX", "SURF_BRIGHT", "BACKGROUND", "NPIXELS", "DQ")
X1D_ERRORS = ("FLUX_ERROR", "FLUX_VAR_POISSON", "FLUX_VAR_RNOISE", "FLUX_VAR_FLAT", "SB_ERROR")


@pytest.mark.parity
@pytest.mark.slow
@pytest.mark.parametrize("which", ["nod1", "nod2", "tso"])
def test_x1d_matches_jwst(which, lrs_sim, jwst_products, spec2_products):
    """The _x1d/_x1dints columns agree to double-precision rounding (the sums run in
    another order)."""

    from stdatamodels.jwst import datamodels

    science = {"nod1": lrs_sim["nods"][0], "nod2": lrs_sim["nods"][1], "tso": lrs_sim["tso"]}[which]
    name = stem(science) + ("_x1dints.fits" if which == "tso" else "_x1d.fits")
    with datamodels.open(spec2_products / name) as a, datamodels.open(jwst_products / name) as b:
        ta, tb = a.spec[0].spec_table, b.spec[0].spec_table
        assert ta.dtype.names == tb.dtype.names and ta.shape == tb.shape
        for col in X1D_VALUES + (("INT_NUM", "MJD-AVG", "TDB-MID") if which == "tso" else ()):
            np.testing.assert_allclose(ta[col], tb[col], rtol=1e-12, atol=0, equal_nan=True, err_msg=col)
        for col in X1D_ERRORS:
            np.testing.assert_allclose(ta[col], tb[col], rtol=1e-12, atol=0, equal_nan=True, err_msg=col)
        for key in ("name", "source_type", "extraction_xstart", "extraction_xstop", "slit_ra", "slit_dec"):
            va, vb = getattr(a.spec[0], key), getattr(b.spec[0], key)
            assert va == pytest.approx(vb) if isinstance(vb, float) else va == vb, key
        if which == "tso":
            np.testing.assert_array_equal(np.asarray(a.int_times.tolist()), np.asarray(b.int_times.tolist()))


def test_hooks_called_directly_with_in_memory_references():
    """A hook runs on an in-memory model with references handed over in memory: no
    files, no CRDS (the resolver refuses any lookup it was not given)."""
    from stdatamodels.jwst import datamodels

    from spec2.plugins import get_plugin_manager, step_caller
    from spec2.refs import RefResolver

    pm = get_plugin_manager()
    sci = datamodels.SlitModel(np.full((4, 5), 6.0, np.float32))
    sci.meta.exposure.type = "MIR_LRS-FIXEDSLIT"
    sci.meta.subarray.name, sci.meta.subarray.xstart, sci.meta.subarray.ystart = "FULL", 1, 1
    sci.var_poisson = np.full((4, 5), 4.0, np.float32)
    sci.var_rnoise = np.full((4, 5), 1.0, np.float32)
    sci.err = np.sqrt(sci.var_poisson + sci.var_rnoise)
    sci.dq = np.zeros((4, 5), np.uint32)
    flat = datamodels.FlatModel(data=np.full((4, 5), 2.0, np.float32), err=np.full((4, 5), 0.1, np.float32), dq=np.zeros((4, 5), np.uint32))
    refs = RefResolver(sci, overrides={"flat": flat}, use_crds=False)
    out = step_caller(pm, "flat_field", "MIR_LRS-FIXEDSLIT")(model=sci, refs=refs, params={"inverse": False})
    assert out.data[0, 0] == 3.0 and out.var_poisson[0, 0] == 1.0 and out.var_rnoise[0, 0] == 0.25
    assert out.var_flat[0, 0] == pytest.approx(9.0 / 4.0 * 0.01)  # (sci/f)^2 / f^2 * err^2
    assert refs.take_used() == {"flat": "in-memory"}
    with pytest.raises(Exception, match="CRDS lookups are off"):
        step_caller(pm, "photom", "MIR_LRS-FIXEDSLIT")(model=out, refs=refs, params={"inverse": False})


@pytest.mark.parity
@pytest.mark.slow
def test_deliberate_differences_from_jwst(lrs_sim, jwst_products, spec2_products):
    """What we do differently on purpose (docs/modes/miri-lrs.md), and only that."""

    from stdatamodels.jwst import datamodels

    tso = stem(lrs_sim["tso"])
    with datamodels.open(spec2_products / f"{tso}_calints.fits") as a, datamodels.open(jwst_products / f"{tso}_calints.fits") as b:
        # a footprint for the slitless series, which jwst leaves unset
        assert b.meta.wcsinfo.s_region is None
        assert a.meta.wcsinfo.s_region.startswith("POLYGON ICRS  ")
    nod = stem(lrs_sim["nods"][0])
    for suffix in ("assign_wcs", "bsub"):
        with datamodels.open(spec2_products / f"{nod}_{suffix}.fits") as a, datamodels.open(jwst_products / f"{nod}_{suffix}.fits") as b:
            # the SlitModel from assign_wcs on; jwst converts just before srctype
            assert type(a).__name__ == "SlitModel" and type(b).__name__ == "ImageModel"
    with datamodels.open(spec2_products / f"{nod}_cal.fits") as a, datamodels.open(jwst_products / f"{nod}_cal.fits") as b:
        assert a.meta.wcsinfo.s_region == b.meta.wcsinfo.s_region


JWST_ASSIGN_WCS = """
import sys, numpy as np
from jwst.assign_wcs import AssignWcsStep
from stdatamodels.jwst import datamodels
m = AssignWcsStep.call(datamodels.open(sys.argv[1]))
y, x = np.mgrid[250:330, 300:350].astype(float)
ra, dec, wl = m.meta.wcs(x, y)
np.save(sys.argv[2], np.array([ra, dec, wl]))
"""


@pytest.mark.parity
@pytest.mark.slow
def test_velocity_and_aberration_corrections_match_jwst(lrs_sim, tmp_path, refs):
    """VELOSYS (barycentric wavelengths) and VA_SCALE (differential velocity aberration),
    absent from the simulated exposures, against jwst's assign_wcs on the same header."""
    import subprocess
    import sys

    from stdatamodels.jwst import datamodels

    from spec2_miri.assign_wcs import assign_lrs_wcs
    from tests.miri.conftest import crds_env

    model = datamodels.open(lrs_sim["nods"][0])
    model.meta.wcsinfo.velosys = 28_500.0  # m/s
    model.meta.velocity_aberration.scale_factor = 1.00012
    path = tmp_path / "jwvelo_rate.fits"
    model.save(path)
    subprocess.run([sys.executable, "-c", JWST_ASSIGN_WCS, str(path), str(tmp_path / "jw.npy")],
                   env=crds_env(lrs_sim), check=True, capture_output=True)
    theirs = np.load(tmp_path / "jw.npy")
    ours_model = assign_lrs_wcs(datamodels.open(path), refs["distortion"], refs["specwcs"])
    y, x = np.mgrid[250:330, 300:350].astype(float)
    ours = np.array(ours_model.meta.wcs(x, y))
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12, equal_nan=True)
    # and the corrections do something: lambda / (1 + v/c)
    plain = assign_lrs_wcs(datamodels.open(lrs_sim["nods"][0]), refs["distortion"], refs["specwcs"])
    ratio = ours[2] / np.array(plain.meta.wcs(x, y))[2]
    np.testing.assert_allclose(ratio[np.isfinite(ratio)], 1 / (1 + 28_500.0 / 299_792_458.0), rtol=1e-12)


JWST_BACKGROUND = """
import sys, numpy as np
from jwst.background import BackgroundStep
from stdatamodels.jwst import datamodels
m = BackgroundStep.call(datamodels.open(sys.argv[1]), bkg_list=sys.argv[3:])
np.save(sys.argv[2], np.array([m.data, m.dq.astype(float)]))
"""


@pytest.mark.parity
@pytest.mark.slow
def test_several_backgrounds_match_jwst(lrs_sim, tmp_path):
    """Twelve background members, one with a satellite trail: the sigma-clipped mean
    (DQ OR-ed) against jwst's BackgroundStep on the same files. (With 12 values one
    outlier can lie beyond 3 sigma; with 4 it cannot, whatever its size.)"""
    import subprocess
    import sys

    from stdatamodels.jwst import datamodels

    from spec2.steps.background import read_background, subtract_background
    from spec2_miri.sim.lrs import fixed_slit_exposure
    from tests.miri.conftest import crds_env

    members = [fixed_slit_exposure(tmp_path / f"bkg{i}_rate.fits", 1.5, seed=40 + i) for i in range(12)]
    with datamodels.open(members[3]) as m:  # a satellite trail through one member
        m.data[400:420, :] += 50.0
        m.save(members[3])
    science = lrs_sim["nods"][0]
    subprocess.run([sys.executable, "-c", JWST_BACKGROUND, str(science), str(tmp_path / "jw.npy"), *map(str, members)],
                   env=crds_env(lrs_sim), check=True, capture_output=True)
    theirs = np.load(tmp_path / "jw.npy")
    ours = subtract_background(datamodels.open(science), [read_background(p) for p in members])
    np.testing.assert_array_equal(ours.dq, theirs[1].astype(np.uint32))
    np.testing.assert_array_equal(ours.data, theirs[0].astype(np.float32))
    # the trail was clipped: those rows are as clean as the others
    assert np.nanmedian(np.abs(ours.data[400:420])) < 2 * np.nanmedian(np.abs(ours.data[300:320]))


@pytest.mark.parity
@pytest.mark.slow
def test_time_series_background_member_matches_jwst(lrs_sim, tmp_path):
    """A multi-integration background member (sigma-clipped over its integrations
    first) subtracted from every integration of a time series, against jwst."""
    import subprocess
    import sys

    from stdatamodels.jwst import datamodels

    from spec2.steps.background import read_background, subtract_background
    from spec2_miri.sim.lrs import slitless_time_series
    from tests.miri.conftest import crds_env

    member, _ = slitless_time_series(tmp_path / "bkg_rateints.fits", nints=7, depth=0.0, seed=99)
    science = lrs_sim["tso"]
    subprocess.run([sys.executable, "-c", JWST_BACKGROUND, str(science), str(tmp_path / "jw.npy"), str(member)],
                   env=crds_env(lrs_sim), check=True, capture_output=True)
    theirs = np.load(tmp_path / "jw.npy")
    ours = subtract_background(datamodels.open(science), [read_background(member)])
    np.testing.assert_array_equal(ours.dq, theirs[1].astype(np.uint32))
    np.testing.assert_array_equal(ours.data, theirs[0].astype(np.float32))
