"""NIRSpec fixed-slit WCS: hand-computed wavelengths, round trips, GWA tilt, barycentric
correction, subarrays, bad configurations, and parity with jwst 3.0.0's assign_wcs on the
same instrument-model reference files."""

from __future__ import annotations

import numpy as np
import pytest

from spec2_nirspec import instrument as ins
from spec2_nirspec.extract_2d import slit_wcs
from spec2_nirspec.sim import references_wcs as rw
from spec2_nirspec.sim.exposures import Setup, blank_exposure
from spec2_nirspec.wcs_model import NoSlitOnDetector, build_slit_wcs


@pytest.fixture(scope="module")
def wcs_refs(tmp_path_factory):
    """The instrument-model files (paths) for G140M/G395H, written once."""
    d = tmp_path_factory.mktemp("nrs_wcs_refs")
    paths = {
        "fpa": rw.write_fpa(d / "fpa.asdf"), "camera": rw.write_camera(d / "camera.asdf"),
        "collimator": rw.write_collimator(d / "collimator.asdf"), "ote": rw.write_ote(d / "ote.asdf"),
        "msa": rw.write_msa(d / "msa.asdf"), "wavelengthrange": rw.write_wavelengthrange(d / "wr.asdf"),
    }
    for g in ("G140M", "G395H", "G235H", "PRISM"):
        paths[f"disperser_{g}"] = rw.write_disperser(d / f"disperser_{g}.asdf", g)
    for f in ("F100LP", "F290LP", "F170LP", "CLEAR"):
        paths[f"fore_{f}"] = rw.write_fore(d / f"fore_{f}.asdf", f)
    return paths


def _names(paths, grating):
    keys = ("fpa", "camera", "collimator", "ote", "msa", "wavelengthrange")
    out = {k: str(paths[k]) for k in keys}
    out["disperser"] = str(paths[f"disperser_{grating}"])
    out["fore"] = str(paths[f"fore_{ins.FILTER_FOR[grating]}"])
    return out


def _open(names):
    from spec2_nirspec.sim.exposures import _reference_models

    return _reference_models(names)


def _exposure(setup):
    model = blank_exposure(setup)
    w = model.meta.wcsinfo
    w.v2_ref, w.v3_ref, w.ra_ref, w.dec_ref = ins.V2_CENTRE, ins.V3_CENTRE, 53.16, -27.79
    return model


def _assigned(paths, **kw):
    setup = Setup(**kw)
    model = _exposure(setup)
    wcs, slits = build_slit_wcs(model, _open(_names(paths, setup.grating)))
    model.meta.wcs = wcs
    return model, slits


def _rotate_by_hand(v, axis, deg):
    """One axis of the GWA rotation, written out (direction cosines stay unit length)."""
    t = np.deg2rad(deg)
    x, y, z = v
    if axis == "x":
        yo = y * np.cos(t) + z * np.sin(t)
        return np.array([x, yo, np.sqrt(1 - x**2 - yo**2)])
    if axis == "y":
        xo = x * np.cos(t) - z * np.sin(t)
        return np.array([xo, y, np.sqrt(1 - xo**2 - y**2)])
    xo, yo = x * np.cos(t) + y * np.sin(t), -x * np.sin(t) + y * np.cos(t)
    return np.array([xo, yo, np.sqrt(1 - xo**2 - yo**2)])


def _alpha_by_hand(u, v, angles):
    """x direction cosine at the grating of a beam with tangents (u, v)."""
    norm = np.sqrt(1 + u**2 + v**2)
    d = np.array([u / norm, v / norm, 1 / norm], dtype=float).ravel()
    for axis, deg in zip("xyzy", angles):
        d = _rotate_by_hand(d, axis, deg)
    return d[0]


def test_band_centre_follows_the_grating_equation(wcs_refs):
    """At the focal-plane point chosen for the band centre, light from the centre of an
    on-axis slit has the central wavelength; the local dispersion matches the nominal
    dispersion the groove density was derived from (times cos of the diffraction angle)."""
    for grating in ("G140M", "G395H"):
        g = ins.groove_density(grating)
        lam_c = ins.central_wavelength(ins.FILTER_FOR[grating], grating)
        angles = rw.grating_angles(grating)

        def alpha(u, v, angles=angles):
            return _alpha_by_hand(u, v, angles)

        u_out, v_out = rw.camera_model()(rw.band_centre_fpa_x(grating), 0.0)
        u_in, v_in = rw.collimator_model().inverse(0.0, 0.0)
        lam = -(alpha(u_in, v_in) + alpha(u_out, v_out)) / g
        assert lam == pytest.approx(lam_c, rel=1e-9)
        # dispersion: one pixel along the focal plane
        u2, v2 = rw.camera_model()(rw.band_centre_fpa_x(grating) + ins.PIXEL_PITCH, 0.0)
        dlam = abs(-(alpha(u_in, v_in) + alpha(u2, v2)) / g - lam)
        assert dlam == pytest.approx(ins.NOMINAL_DISPERSION[grating], rel=0.15)


def test_wavelengths_at_pixels_match_the_grating_equation(wcs_refs):
    """lambda(x, y) from the WCS equals -(alpha_in + alpha_out)/G computed from the
    stages' own outputs for sampled pixels of every slit (barycentric factor included)."""
    model, slits = _assigned(wcs_refs, grating="G235H", detector="NRS1")
    g = ins.groove_density("G235H")
    det2gwa = model.meta.wcs.get_transform("detector", "gwa")
    factor = 1 / (1 + model.meta.wcsinfo.velosys / 299792458.0)
    for slit in slits:
        sw = slit_wcs(model.meta.wcs, slit.name)
        (x0, x1), (y0, y1) = sw.bounding_box
        x = np.linspace(x0 + 1, x1 - 1, 7)
        y = np.full(7, 0.5 * (y0 + y1))
        _xs, ys, lam = sw.get_transform("detector", "slit_frame")(x, y)
        _n, a_out, _b, _c = det2gwa(x, y, slit.slit_id)
        gwa2slit = model.meta.wcs.get_transform("gwa", "slit_frame")
        # incoming angle of the slit point (0, y_slit): through the slit's inverse model
        a_in = gwa2slit.get_model(slit.slit_id).inverse.left.left.left(np.zeros(7), ys)[0]
        np.testing.assert_allclose(lam, -(a_in + a_out) / g * factor, rtol=1e-12)


@pytest.mark.parametrize("grating,detector", [("G140M", "NRS1"), ("G395H", "NRS2"), ("G235H", "NRS1"), ("PRISM", "NRS1")])
def test_round_trip_detector_slit_sky(wcs_refs, grating, detector):
    model, slits = _assigned(wcs_refs, grating=grating, detector=detector)
    assert [s.name for s in slits] == list(ins.SLIT_NAMES)
    from gwcs.wcstools import grid_from_bounding_box

    for slit in slits:
        sw = slit_wcs(model.meta.wcs, slit.name)
        x, y = grid_from_bounding_box(sw.bounding_box)
        x, y = x[:, ::37], y[:, ::37]
        ra, dec, lam = sw(x, y)
        good = np.isfinite(lam)
        assert good.sum() > 50
        xb, yb = sw.invert(ra[good], dec[good], lam[good])
        assert np.max(np.hypot(xb - x[good], yb - y[good])) < 0.01
        xs, ys, lam_s = sw.get_transform("detector", "slit_frame")(x[good], y[good])
        xd, yd = sw.get_transform("slit_frame", "detector")(xs, ys, lam_s)
        assert np.max(np.hypot(xd - x[good], yd - y[good])) < 0.01
        assert np.nanmin(ys) >= slit.ymin and np.nanmax(ys) <= slit.ymax


def test_gwa_tilt_moves_the_spectrum(wcs_refs):
    """A GWA_XTIL reading off the calibration tilts the grating by half the calibrated
    angle change: lambda at a pixel moves by 2 cos(theta) d(theta) / G."""
    ref, _ = _assigned(wcs_refs, grating="G140M", detector="NRS1")
    setup = Setup(grating="G140M")
    moved = _exposure(setup)
    delta = 0.002
    moved.meta.instrument.gwa_xtilt = ref.meta.instrument.gwa_xtilt + delta
    wcs, _ = build_slit_wcs(moved, _open(_names(wcs_refs, "G140M")))
    x, y = np.array([1000.0]), np.array([1020.0])
    lam0 = slit_wcs(ref.meta.wcs, "S200A2").get_transform("detector", "slit_frame")(x, y)[2]
    lam1 = slit_wcs(wcs, "S200A2").get_transform("detector", "slit_frame")(x, y)[2]
    dtheta = np.deg2rad(0.5 * ins.GWA_TILT_SLOPE * delta / 3600.0)
    theta = np.deg2rad(sum(rw.grating_angles("G140M")[1::2]))
    expected = 2 * np.cos(theta) * abs(dtheta) / ins.groove_density("G140M")
    assert abs(lam1 - lam0)[0] == pytest.approx(expected, rel=0.05)
    assert abs(lam1 - lam0)[0] > 0.5 * ins.NOMINAL_DISPERSION["G140M"]  # about a pixel


def test_barycentric_correction_scales_wavelength(wcs_refs):
    model, _ = _assigned(wcs_refs, grating="G395H", detector="NRS1")
    rest = _exposure(Setup(grating="G395H"))
    rest.meta.wcsinfo.velosys = None
    wcs, _ = build_slit_wcs(rest, _open(_names(wcs_refs, "G395H")))
    x, y = np.array([500.0, 1500.0]), np.array([1060.0, 1061.0])
    a = slit_wcs(model.meta.wcs, "S1600A1")(x, y)[2]
    b = slit_wcs(wcs, "S1600A1")(x, y)[2]
    np.testing.assert_allclose(a / b, 1 / (1 + model.meta.wcsinfo.velosys / 299792458.0), rtol=1e-12)


def test_subarray_sees_its_slit_at_the_same_wavelengths(wcs_refs):
    full, _ = _assigned(wcs_refs, grating="G235H", detector="NRS1")
    sub, slits = _assigned(wcs_refs, grating="G235H", detector="NRS1", subarray="SUBS400A1", primary="S400A1")
    assert [s.name for s in slits] == ["S400A1"]
    ystart = ins.SUBARRAYS["SUBS400A1"][1]
    x = np.array([300.0, 900.0, 1700.0])
    y_sub = np.array([20.0, 25.0, 30.0])
    a = slit_wcs(sub.meta.wcs, "S400A1")(x, y_sub)
    b = slit_wcs(full.meta.wcs, "S400A1")(x, y_sub + ystart - 1)
    for p, q in zip(a, b, strict=True):
        np.testing.assert_array_equal(p, q)


def test_prism_index_and_range(wcs_refs):
    """The prism's wavelengths follow the glass's refractive index: the band centre from
    the MSA centre lands where it was put, and the whole 0.6-5.3 um range fits on NRS1."""
    model, slits = _assigned(wcs_refs, grating="PRISM", detector="NRS1")
    assert rw.prism_index(np.array([1.0e-6]))[0] == pytest.approx(1.4289, abs=2e-4)  # CaF2 at 1 um
    for slit in slits:
        sw = slit_wcs(model.meta.wcs, slit.name)
        from gwcs.wcstools import grid_from_bounding_box

        lam = sw(*grid_from_bounding_box(sw.bounding_box))[2]
        assert np.nanmin(lam) < 0.6 and np.nanmax(lam) > 5.3
        columns = np.nanmedian(lam, axis=0)
        assert np.all(np.diff(columns[np.isfinite(columns)]) > 0)  # wavelength grows with x


def test_medium_grating_misses_nrs2(wcs_refs):
    setup = Setup(grating="G140M", detector="NRS2")
    with pytest.raises(NoSlitOnDetector, match="falls on detector NRS2"):
        build_slit_wcs(_exposure(setup), _open(_names(wcs_refs, "G140M")))


def test_inconsistent_filter_and_grating(wcs_refs):
    from spec2.errors import InputError

    model = _exposure(Setup(grating="G140M"))
    model.meta.instrument.filter = "F290LP"
    with pytest.raises(InputError, match="FILTER=F290LP with GRATING=G140M is not a NIRSpec configuration"):
        build_slit_wcs(model, _open(_names(wcs_refs, "G140M")))


def test_missing_instrument_model_file(wcs_refs):
    from spec2.errors import ReferenceFileError

    refs = _open(_names(wcs_refs, "G140M"))
    refs["fore"] = None
    with pytest.raises(ReferenceFileError, match="fore"):
        build_slit_wcs(_exposure(Setup()), refs)


@pytest.mark.parity
@pytest.mark.parametrize("grating,detector,subarray,primary", [
    ("G140M", "NRS1", "FULL", "S200A1"),
    ("G395H", "NRS2", "FULL", "S200B1"),
    ("G235H", "NRS1", "SUBS400A1", "S400A1"),
    ("PRISM", "NRS1", "FULL", "S1600A1"),
])
def test_wcs_parity_with_jwst(wcs_refs, grating, detector, subarray, primary):
    """jwst 3.0.0's assign_wcs on the same files: same open slits, same bounding boxes,
    and every pixel's (RA, Dec, lambda) and slit coordinates identical bit for bit."""
    from gwcs import WCS
    from gwcs.wcstools import grid_from_bounding_box
    from jwst.assign_wcs import nirspec

    mine, slits = _assigned(wcs_refs, grating=grating, detector=detector, subarray=subarray, primary=primary)
    theirs = _exposure(Setup(grating=grating, detector=detector, subarray=subarray, primary=primary))
    theirs.meta.wcs = WCS(nirspec.create_pipeline(theirs, _names(wcs_refs, grating), slit_y_range=(-0.55, 0.55)))
    theirs.meta.wcs.bounding_box = nirspec.generate_compound_bbox(theirs)
    their_slits = theirs.meta.wcs.get_transform("gwa", "slit_frame").slits
    assert [s.name for s in their_slits] == [s.name for s in slits]
    assert theirs.meta.wcsinfo.waverange_start == mine.meta.wcsinfo.waverange_start
    assert theirs.meta.wcsinfo.spectral_order == mine.meta.wcsinfo.spectral_order
    for slit in slits:
        a = nirspec.nrs_wcs_set_input(theirs, slit.name)
        b = slit_wcs(mine.meta.wcs, slit.name)
        assert a.bounding_box == b.bounding_box
        x, y = grid_from_bounding_box(a.bounding_box)
        for p, q in zip(a(x, y), b(x, y), strict=True):
            np.testing.assert_array_equal(p, q)
        to_slit_a, to_slit_b = a.get_transform("detector", "slit_frame"), b.get_transform("detector", "slit_frame")
        for p, q in zip(to_slit_a(x, y), to_slit_b(x, y), strict=True):
            np.testing.assert_array_equal(p, q)
        # jwst reads our WCS too: its per-slit WCS of our model equals ours
        c = nirspec.nrs_wcs_set_input(mine, slit.name)
        np.testing.assert_array_equal(c(x, y)[2], b(x, y)[2])


# --- the instrument part shared by the exposures of a batch ------------------------------


def _world(model, slit_name, x=None, y=None):
    """The slit's world coordinates at (x, y), by default on its bounding box's grid
    (every 25th column); at least one pixel has finite values."""
    from gwcs.wcstools import grid_from_bounding_box

    wcs = slit_wcs(model.meta.wcs, slit_name)
    if x is None:
        x, y = (v[:, ::25] for v in grid_from_bounding_box(wcs.bounding_box))
    out = wcs(x, y)
    assert np.isfinite(out[2]).any()
    return out


def _fresh(model, refs):
    """The WCS built with an empty cache (what the exposure gets on its own)."""
    from spec2_nirspec.wcs_model import INSTRUMENT_CACHE

    INSTRUMENT_CACHE.clear()
    return build_slit_wcs(model, refs)[0]


def test_dithered_exposures_share_the_instrument_part(wcs_refs):
    """A second exposure with the same references and optical configuration but another
    pointing reuses the first one's instrument stages and bounding boxes, and its world
    coordinates are those of a WCS built for it alone (the sky part is its own)."""
    from spec2_nirspec.wcs_model import INSTRUMENT_CACHE

    refs = _open(_names(wcs_refs, "G235H"))
    INSTRUMENT_CACHE.clear()
    first, second = _exposure(Setup(grating="G235H")), _exposure(Setup(grating="G235H"))
    second.meta.wcsinfo.ra_ref += 0.01
    second.meta.wcsinfo.roll_ref = (second.meta.wcsinfo.roll_ref or 0.0) + 5.0
    wcs1, _ = build_slit_wcs(first, refs)
    wcs2, slits = build_slit_wcs(second, refs)
    assert (INSTRUMENT_CACHE.misses, INSTRUMENT_CACHE.hits) == (1, 1)
    for a, b in (("detector", "sca"), ("sca", "gwa"), ("gwa", "slit_frame"), ("slit_frame", "msa_frame")):
        assert wcs1.get_transform(a, b) is wcs2.get_transform(a, b)
    assert wcs1.get_transform("v2v3vacorr", "world") is not wcs2.get_transform("v2v3vacorr", "world")
    second.meta.wcs = wcs2
    alone = second.copy()
    alone.meta.wcs = _fresh(second, refs)
    for slit in slits:
        box = wcs2.bounding_box[slit.slit_id].bounding_box()
        assert box == alone.meta.wcs.bounding_box[slit.slit_id].bounding_box()
        for p, q in zip(_world(second, slit.name), _world(alone, slit.name), strict=True):
            np.testing.assert_array_equal(p, q)
    # each slit's form of the instrument stages is shared too (extract_2d's cut-outs)
    one, two = slit_wcs(wcs1, "S200A1"), slit_wcs(wcs2, "S200A1")
    assert one.get_transform("sca", "gwa") is two.get_transform("sca", "gwa")
    assert one.get_transform("v2v3vacorr", "world") is not two.get_transform("v2v3vacorr", "world")
    first.meta.wcs = wcs1
    ra1, ra2 = _world(first, "S200A1")[0], _world(second, "S200A1")[0]
    assert np.nanmax(np.abs(ra1 - ra2)) > 1e-3  # the pointing did move the sky coordinates


@pytest.mark.parametrize("change", ["gwa_xtilt", "velosys", "subarray", "references"])
def test_another_configuration_never_gets_a_stale_model(wcs_refs, change):
    """An exposure that differs from a cached one in a keyword the instrument model reads,
    or in its reference files, builds its own: its wavelengths are those of a WCS built
    for it alone, not the cached exposure's."""
    from spec2_nirspec.wcs_model import INSTRUMENT_CACHE

    refs = _open(_names(wcs_refs, "G235H"))
    INSTRUMENT_CACHE.clear()
    build_slit_wcs(_exposure(Setup(grating="G235H")), refs)
    other = _exposure(Setup(grating="G235H", subarray="SUBS200A1" if change == "subarray" else "FULL"))
    if change == "gwa_xtilt":
        other.meta.instrument.gwa_xtilt += 0.002
    elif change == "velosys":
        other.meta.wcsinfo.velosys += 1000.0
    elif change == "references":
        refs = _open(_names(wcs_refs, "G235H"))  # the same files opened again: other models
    other.meta.wcs, _ = build_slit_wcs(other, refs)
    assert (INSTRUMENT_CACHE.misses, INSTRUMENT_CACHE.hits) == (2, 0)
    alone = other.copy()
    alone.meta.wcs = _fresh(other, refs)
    for p, q in zip(_world(other, "S200A1"), _world(alone, "S200A1"), strict=True):
        np.testing.assert_array_equal(p, q)


def test_no_slit_on_detector_is_said_again_from_the_cache(wcs_refs):
    from spec2_nirspec.wcs_model import INSTRUMENT_CACHE

    refs = _open(_names(wcs_refs, "G140M"))
    INSTRUMENT_CACHE.clear()
    for _ in range(2):
        with pytest.raises(NoSlitOnDetector):
            build_slit_wcs(_exposure(Setup(grating="G140M", detector="NRS2")), refs)
    assert INSTRUMENT_CACHE.hits == 1


def test_given_slits_are_cached_on_their_own_list(wcs_refs, caplog):
    """build_slit_wcs(model, refs, slits) (MOS passes its slitlets): the cache keys on
    the slit list, so another list builds its own part; a slit that misses the detector
    is logged for every exposure, cached or not."""
    import logging

    from spec2_nirspec.wcs_model import INSTRUMENT_CACHE, open_fixed_slits

    refs = _open(_names(wcs_refs, "G235H"))
    INSTRUMENT_CACHE.clear()
    model = _exposure(Setup(grating="G235H"))
    fixed = open_fixed_slits(model)
    two = [fixed[0], fixed[3]]
    for _ in range(2):
        wcs, slits = build_slit_wcs(model, refs, two)
    assert [s.name for s in slits] == [fixed[0].name, fixed[3].name]
    assert wcs.get_transform("gwa", "slit_frame").slit_ids == [fixed[0].slit_id, fixed[3].slit_id]
    assert (INSTRUMENT_CACHE.misses, INSTRUMENT_CACHE.hits) == (1, 1)
    build_slit_wcs(model, refs)
    assert INSTRUMENT_CACHE.misses == 2

    refs = _open(_names(wcs_refs, "G140M"))
    nrs2 = _exposure(Setup(grating="G140M", detector="NRS2"))
    with caplog.at_level(logging.INFO, logger="spec2"):
        for _ in range(2):
            with pytest.raises(NoSlitOnDetector):
                build_slit_wcs(nrs2, refs)
    dropped = [r.getMessage() for r in caplog.records if "does not reach detector NRS2" in r.getMessage()]
    assert len(dropped) == 2 * len(fixed)
