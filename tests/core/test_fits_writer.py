"""save_fits writes the bytes stdatamodels' model.save writes, and leaves the model as
it was; big arrays are converted to big-endian a piece at a time."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits

from spec2 import fits_writer
from spec2.fits_writer import save_fits


def _cube(nints=7, shape=(5, 33)):
    from stdatamodels.jwst.datamodels import CubeModel

    rng = np.random.default_rng(3)
    full = (nints, *shape)
    model = CubeModel(full)
    model.data = rng.normal(size=full).astype(np.float32)
    model.data[0, 0, :3] = [np.nan, np.inf, -0.0]
    model.err = rng.random(full).astype(np.float32)
    model.dq = rng.integers(0, 2**32, size=full, dtype=np.uint32)
    model.dq[0, 0, :3] = [0, 2**31, 2**32 - 1]
    model.var_poisson = rng.random(full).astype(np.float32)
    model.var_rnoise = rng.random(full).astype(np.float32)
    model.var_flat = rng.random(full).astype(np.float32)
    times = np.zeros(nints, dtype=model.get_dtype("int_times"))
    times["integration_number"] = np.arange(1, nints + 1)
    times["int_mid_MJD_UTC"] = 60000.0 + np.arange(nints) / 1e3
    model.int_times = times
    model.meta.exposure.type = "NRC_TSGRISM"
    return model


def _x1dints(nints=7, n=40):
    """A TSOMultiSpecModel as extract_1d makes one: a row per integration, vector columns."""
    from stdatamodels.jwst.datamodels import TSOMultiSpecModel, TSOSpecModel

    spec = TSOSpecModel()
    scalars = {"INT_NUM", "SEGMENT", "MJD-BEG", "MJD-AVG", "MJD-END", "TDB-BEG", "TDB-MID", "TDB-END"}
    dtype = [(name, kind) if name in scalars else (name, kind, (n,))
             for name, kind in spec.get_dtype("spec_table").descr]
    table = np.zeros(nints, dtype=dtype)
    rng = np.random.default_rng(5)
    for name in table.dtype.names:
        shape = table[name].shape
        if table[name].dtype.kind == "f":
            table[name] = rng.normal(size=shape)
        else:
            table[name] = rng.integers(0, 2**31 if name == "DQ" else 100, size=shape)
    spec.spec_table = table
    model = TSOMultiSpecModel()
    model.spec.append(spec)
    return model


def _saved_both_ways(model, tmp_path, monkeypatch):
    # on_save stamps the date: keep it fixed so that the two files can be compared whole
    monkeypatch.setattr(type(model), "on_save", lambda self, path=None: None)
    before = {k: np.array(v) for k, v in model.items() if isinstance(v, np.ndarray)}
    ours = save_fits(model, tmp_path / "ours.fits")
    after = {k: v for k, v in model.items() if isinstance(v, np.ndarray)}
    for key, value in before.items():
        assert after[key].dtype == value.dtype, key
        for field in value.dtype.names or [None]:
            a, b = (np.asarray(x if field is None else x[field]) for x in (after[key], value))
            assert np.array_equal(a, b, equal_nan=b.dtype.kind == "f"), (key, field)
    model.save(tmp_path / "theirs.fits")
    return ours, tmp_path / "theirs.fits"


@pytest.mark.parametrize("piece_bytes", [fits_writer.PIECE_BYTES, 100])
def test_cube_written_as_stdatamodels_writes_it(tmp_path, monkeypatch, piece_bytes):
    """A time-series cube in the machine's byte order (as calibration leaves it), uint32
    DQ included: same bytes as model.save, however small the pieces; model unchanged."""
    monkeypatch.setattr(fits_writer, "PIECE_BYTES", piece_bytes)
    model = _cube()
    assert model.data.dtype.isnative
    ours, theirs = _saved_both_ways(model, tmp_path, monkeypatch)
    assert ours.read_bytes() == theirs.read_bytes()
    with fits.open(ours) as hdul:
        assert hdul["DQ"].header["BZERO"] == 2**31
        assert np.array_equal(hdul["DQ"].data, model.dq)
        assert np.array_equal(hdul["SCI"].data, model.data, equal_nan=True)


def test_wcs_tree_written_as_stdatamodels_writes_it(tmp_path, monkeypatch):
    """A product with a gwcs WCS in its metadata (the ASDF block): same bytes, and the
    WCS reads back and evaluates as it did."""
    from astropy.modeling import models
    from gwcs import coordinate_frames as cf
    from gwcs.wcs import WCS

    model = _cube(nints=2)
    transform = (models.Shift(3.5) & models.Scale(0.25)) | models.Polynomial2D(2, c0_0=1.0, c1_0=0.5, c0_1=2.0)
    detector = cf.Frame2D(name="detector")
    model.meta.wcs = WCS([(detector, transform), (cf.CoordinateFrame(1, ["SPECTRAL"], [0], name="world"), None)])
    ours, theirs = _saved_both_ways(model, tmp_path, monkeypatch)
    assert ours.read_bytes() == theirs.read_bytes()
    from stdatamodels.jwst.datamodels import CubeModel

    with CubeModel(ours) as back:
        assert back.meta.wcs(4.0, 2.0) == model.meta.wcs(4.0, 2.0)


def test_table_written_as_stdatamodels_writes_it(tmp_path, monkeypatch):
    """An _x1dints-like spectral table in the machine's byte order: same bytes."""
    monkeypatch.setattr(fits_writer, "PIECE_BYTES", 64)
    model = _x1dints()
    ours, theirs = _saved_both_ways(model, tmp_path, monkeypatch)
    assert ours.read_bytes() == theirs.read_bytes()


def test_pieces_are_used_for_native_arrays_only(tmp_path):
    """Only HDUs astropy would swap or shift get the piecewise writer."""
    hdul = fits.HDUList([fits.PrimaryHDU(),
                         fits.ImageHDU(np.zeros((3, 4), "<f4"), name="NATIVE"),
                         fits.ImageHDU(np.zeros((3, 4), ">f4"), name="BIG"),
                         fits.ImageHDU(np.zeros((3, 4), "u1"), name="BYTES"),
                         fits.ImageHDU(np.zeros((3, 4), ">u4"), name="UBIG")])
    fits_writer.write_in_pieces(hdul)
    patched = {h.name for h in hdul if "_writedata_internal" in vars(h)}
    assert patched == {"NATIVE", "UBIG"}
