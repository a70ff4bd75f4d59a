"""MSA metadata file -> slitlets, on hand-made SHUTTER_INFO/SOURCE_INFO tables: the Slit
tuples equal jwst 3.0.0's get_open_msa_slits field by field, and bad files fail in one
line."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits

from spec2_nirspec.msa_metadata import (
    MsaFileError,
    read_msa_file,
    shutter_state,
    slitlets,
)

NAN = np.nan
# slitlet, metadata id, quadrant, row, column, source, background, x, y, dither, primary, fixed slit
ROWS = [
    (12, 1, 4, 251, 22, 1, "Y", NAN, NAN, 1, "N", "NONE"),   # 1x3 with the source in the middle
    (12, 1, 4, 251, 23, 1, "N", 0.18, 0.32, 1, "Y", "NONE"),
    (12, 1, 4, 251, 24, 1, "Y", NAN, NAN, 1, "N", "NONE"),
    (12, 1, 4, 251, 22, 1, "N", 0.20, 0.30, 2, "Y", "NONE"),  # dither 2: source in the first shutter
    (12, 1, 4, 251, 23, 1, "Y", NAN, NAN, 2, "N", "NONE"),
    (12, 1, 4, 251, 24, 1, "Y", NAN, NAN, 2, "N", "NONE"),
    (7, 1, 1, 30, 100, 0, "Y", NAN, NAN, 1, "N", "NONE"),     # background only, 1x4 with a gap
    (7, 1, 1, 30, 101, 0, "Y", NAN, NAN, 1, "N", "NONE"),
    (7, 1, 1, 30, 103, 0, "Y", NAN, NAN, 1, "N", "NONE"),
    (3, 1, 2, 5, 7, 2, "N", NAN, NAN, 1, "Y", "NONE"),        # 1x1, unknown position
    (9, 1, 3, 300, 50, -9, "N", 0.6, 0.4, 1, "Y", "NONE"),    # virtual source (not in SOURCE_INFO)
    (9, 1, 3, 300, 51, -9, "Y", NAN, NAN, 1, "N", "NONE"),
    (100, 1, 0, 0, 0, 4, "N", 0.45, 0.55, 1, "Y", "S200A1"),  # a fixed slit in the configuration
    (101, 1, 0, 0, 0, 5, "N", 0.5, 0.5, 1, "N", "S400A1"),    # a fixed slit without primary: not used
    (20, 2, 1, 40, 40, 1, "N", 0.5, 0.5, 1, "Y", "NONE"),     # another configuration
]
SOURCES = [(1234, 1, "1234_1", "a1", 53.1, -27.8, 0.9), (1234, 2, "1234_2", "a2", 53.2, -27.7, 0.3),
           (1234, 4, "1234_4", "a4", 53.3, -27.6, 1.0)]


def write_msa(path, rows=ROWS, sources=SOURCES):
    names = ("slitlet_id", "msa_metadata_id", "shutter_quadrant", "shutter_row", "shutter_column", "source_id",
             "background", "estimated_source_in_shutter_x", "estimated_source_in_shutter_y",
             "dither_point_index", "primary_source", "fixed_slit")
    formats = ("I", "I", "I", "I", "I", "J", "1A", "E", "E", "I", "1A", "7A")
    cols = [fits.Column(name=n, format=f, array=np.array(c)) for n, f, c in zip(names, formats, zip(*rows))]
    cols.insert(7, fits.Column(name="shutter_state", format="6A", array=np.array(["OPEN"] * len(rows))))
    snames = ("program", "source_id", "source_name", "alias", "ra", "dec", "stellarity")
    sformats = ("J", "J", "20A", "31A", "D", "D", "D")
    scols = [fits.Column(name=n, format=f, array=np.array(c)) for n, f, c in zip(snames, sformats, zip(*sources))]
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(cols, name="SHUTTER_INFO"),
                  fits.BinTableHDU.from_columns(scols, name="SOURCE_INFO")]).writeto(path)
    return path


SCALES = {1: (1.35, 1.15), 2: (1.34, 1.16), 3: (1.36, 1.14), 4: (1.35, 1.15)}


@pytest.mark.parametrize("metadata_id,dither", [(1, 1), (1, 2), (2, 1)])
def test_slits_equal_jwsts(tmp_path, metadata_id, dither):
    from jwst.assign_wcs.nirspec import get_open_msa_slits

    path = write_msa(tmp_path / "x_msa.fits")
    shutters, sources = read_msa_file(path)
    ours = slitlets(shutters, sources, metadata_id, dither, "1234", scales=SCALES)
    theirs = get_open_msa_slits("1234", str(path), metadata_id, dither, (-0.55, 0.55), SCALES)
    assert [s.name for s in ours] == [s.name for s in theirs]
    for a, b in zip(ours, theirs):
        for field in a._fields:
            va, vb = getattr(a, field), getattr(b, field)
            if isinstance(vb, float | np.floating):
                assert va == pytest.approx(vb, abs=0, rel=1e-15) or (np.isnan(va) and np.isnan(vb)), field
            else:
                assert va == vb, (a.name, field, va, vb)


def test_what_the_slits_hold(tmp_path):
    shutters, sources = read_msa_file(write_msa(tmp_path / "x_msa.fits"))
    by_name = {s.name: s for s in slitlets(shutters, sources, 1, 1, "1234")}
    assert set(by_name) == {12, 7, 3, 9, "S200A1"}  # S400A1 has no primary source
    s12 = by_name[12]
    assert (s12.quadrant, s12.xcen, s12.ycen, s12.shutter_id) == (4, 251, 23, 251 + 22 * 365)
    assert s12.shutter_state == "1x1"
    assert (s12.ymin, s12.ymax) == pytest.approx((-1.05 - 1.15, 1.05 + 1.15))
    assert (s12.source_xpos, s12.source_ypos) == pytest.approx((0.18 - 0.5, 0.32 - 0.5), abs=1e-6)
    assert (s12.source_name, s12.source_alias, s12.stellarity) == ("1234_1", "a1", 0.9)
    bkg = by_name[7]
    assert (bkg.source_id, bkg.source_name, bkg.ycen, bkg.shutter_state) == (7, "1234_BKG7", 101, "1x01")
    assert by_name[9].source_name == "1234_VRT9"
    fs = by_name["S200A1"]
    assert (fs.quadrant, fs.shutter_id, fs.slit_id, fs.shutter_state) == (5, 0, -101, "x")
    s12_d2 = next(s for s in slitlets(shutters, sources, 1, 2, "1234") if s.name == 12)
    assert (s12_d2.ycen, s12_d2.shutter_state) == (22, "x11")


def test_shutter_state():
    assert shutter_state([5], 5) == "x"
    assert shutter_state([3, 4, 6], 4) == "1x01"


@pytest.mark.parametrize("rows,match", [
    ([(1, 1, 1, 5, 5, 1, "N", .5, .5, 1, "Y", "NONE"), (1, 1, 1, 5, 6, 1, "N", .5, .5, 1, "Y", "NONE")],
     "2 primary shutters"),
    ([(1, 1, 0, 0, 0, 1, "N", .5, .5, 1, "Y", "S200A1"), (2, 1, 0, 0, 0, 1, "Y", .5, .5, 1, "N", "S200A1")],
     "spreads a fixed slit"),
])
def test_inconsistent_slitlets(tmp_path, rows, match):
    shutters, sources = read_msa_file(write_msa(tmp_path / "x_msa.fits", rows=rows))
    with pytest.raises(MsaFileError, match=match):
        slitlets(shutters, sources, 1, 1, "1234")


def test_unreadable_files(tmp_path):
    with pytest.raises(MsaFileError, match="not found"):
        read_msa_file(tmp_path / "missing_msa.fits")
    bad = tmp_path / "bad_msa.fits"
    bad.write_text("not a FITS file")
    with pytest.raises(MsaFileError, match="cannot be read"):
        read_msa_file(bad)
    fits.HDUList([fits.PrimaryHDU()]).writeto(tmp_path / "empty_msa.fits")
    with pytest.raises(MsaFileError, match="lacks the SHUTTER_INFO"):
        read_msa_file(tmp_path / "empty_msa.fits")
