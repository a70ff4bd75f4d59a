"""Pointing transforms and the local CRDS cache writer."""

import hashlib

import pytest

from spec2.wcs.pointing import ideal_to_v2v3, v2v3_to_sky, velocity_aberration


def test_reference_point_lands_on_ra_dec_ref():
    sky = v2v3_to_sky(-400.0, -380.0, 30.0, 150.0, 20.0)
    ra, dec = sky(-400.0, -380.0)
    assert ra == pytest.approx(150.0, abs=1e-10) and dec == pytest.approx(20.0, abs=1e-10)


def test_v3_points_along_roll_and_round_trips():
    sky = v2v3_to_sky(0.0, 0.0, 90.0, 10.0, 0.0)
    ra, dec = sky(0.0, 36.0)  # 36" along +V3 with V3 pointing east (PA 90)
    assert dec == pytest.approx(0.0, abs=1e-9) and (ra - 10.0) * 3600 == pytest.approx(36.0, rel=1e-6)
    v2, v3 = sky.inverse(ra, dec)
    assert v2 == pytest.approx(0.0, abs=1e-8) and v3 == pytest.approx(36.0, abs=1e-8)


def test_ideal_to_v2v3_parity_and_angle():
    v2, v3 = ideal_to_v2v3(1.0, 0.0, 90.0, 0.0, 0.0, -1)
    assert v2 == pytest.approx(0.0, abs=1e-12) and v3 == pytest.approx(1.0)


def test_velocity_aberration_scales_about_reference():
    dva = velocity_aberration(1.001, 100.0, 200.0)
    assert dva(100.0, 200.0) == pytest.approx((100.0, 200.0))
    assert dva(110.0, 200.0)[0] == pytest.approx(100.0 + 10.0 * 1.001)
    assert velocity_aberration(None, 1, 2).n_inputs == 2


def test_local_cache_mappings_checksums_and_selection(tmp_path):
    from spec2.crds_cache import LocalCache

    ref = tmp_path / "flat.fits"
    ref.write_bytes(b"x")
    cache = LocalCache(tmp_path / "crds")
    cache.add("miri", "flat", ("META.INSTRUMENT.DETECTOR",), ("MIRIMAGE",), ref)
    cache.finish()
    maps = tmp_path / "crds" / "mappings" / "jwst"
    for path in maps.iterdir():
        text = path.read_text()
        stated = text.split("'sha1sum' : '")[1].split("'")[0]
        kept = "".join(l for l in text.splitlines(keepends=True) if "sha1sum" not in l)
        assert stated == hashlib.sha1(kept.encode()).hexdigest(), path.name
    imap = (maps / "jwst_miri_0001.imap").read_text()
    assert "'flat' : 'jwst_miri_flat_0001.rmap'" in imap and "'dflat' : 'N/A'" in imap
    assert (tmp_path / "crds" / "references" / "jwst" / "miri" / "flat.fits").exists()
    assert "instrument" in (tmp_path / "crds" / "config" / "jwst" / "ref_cache_subdir_mode").read_text()
