"""Products written with asdf's validation remembered per distinct content
(spec2.asdf_validation) are the bytes stdatamodels writes, read back the same with
jwst.datamodels, and a tree whose content changed is validated again."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest

from spec2 import asdf_validation
from spec2.fits_writer import save_fits


def _state():
    return asdf_validation._local.state


def _multislit(offset=3.5):
    """A MultiSlitModel of three slits whose WCSs share their first stage (as NIRSpec's
    share the instrument part), with arrays in the transforms (ASDF blocks)."""
    from astropy.modeling import models
    from gwcs import coordinate_frames as cf
    from gwcs.wcs import WCS
    from stdatamodels.jwst.datamodels import MultiSlitModel, SlitModel

    shared = models.AffineTransformation2D(matrix=[[1.0, 0.01], [-0.02, 1.0]], translation=[2.0, -1.0],
                                           name="shared_affine")
    model = MultiSlitModel()
    model.meta.exposure.type = "NRS_FIXEDSLIT"
    rng = np.random.default_rng(7)
    for i in range(3):
        slit = SlitModel(rng.random((4, 9)).astype(np.float32))
        slit.name = f"S{i}"
        own = (models.Shift(offset + i) & models.Scale(0.25)) | models.Polynomial2D(
            2, c0_0=1.0, c1_0=0.5 * (i + 1), c0_1=2.0)
        slit.meta.wcs = WCS([(cf.Frame2D(name="detector"), shared | own),
                             (cf.CoordinateFrame(1, ["SPECTRAL"], [0], name="world"), None)])
        model.slits.append(slit)
    return model


def _fixed_date(monkeypatch, model):
    monkeypatch.setattr(type(model), "on_save", lambda self, path=None: None)


def test_slits_written_again_are_stdatamodels_bytes_and_skip_validation(tmp_path, monkeypatch):
    """The same WCS content written twice: the second write validates nothing again, and
    both files are byte for byte what model.save writes (asdf's own validation)."""
    model = _multislit()
    _fixed_date(monkeypatch, model)
    model.save(tmp_path / "theirs.fits")
    first = save_fits(model, tmp_path / "first.fits")
    again = _multislit()
    _fixed_date(monkeypatch, again)
    _state().hits = _state().misses = 0
    _state().missed_tags.clear()
    second = save_fits(again, tmp_path / "second.fits")
    # validated again: only what differs from file to file (the list of extensions used)
    assert _state().hits > 0
    assert not {t for t in _state().missed_tags if "transform" in t or "gwcs" in t or "ndarray" in t}
    assert first.read_bytes() == (tmp_path / "theirs.fits").read_bytes()
    again.save(tmp_path / "theirs_again.fits")  # (each model has its own creation date)
    assert second.read_bytes() == (tmp_path / "theirs_again.fits").read_bytes()


def test_products_read_back_by_jwst_as_before(tmp_path, monkeypatch):
    """jwst.datamodels opens the product written with remembered validation: every array
    and every slit's WCS on a grid equal to the model's."""
    from jwst import datamodels

    model = _multislit()
    _fixed_date(monkeypatch, model)
    save_fits(_multislit(), tmp_path / "warm.fits")  # the next write hits
    path = save_fits(model, tmp_path / "ours.fits")
    y, x = np.mgrid[0:4, 0:9].astype(float)
    with datamodels.open(path) as back:
        assert len(back.slits) == 3
        for ours, slit in zip(back.slits, model.slits, strict=True):
            assert np.array_equal(ours.data, slit.data)
            assert np.array_equal(ours.meta.wcs(x, y), slit.meta.wcs(x, y))


def test_changed_content_is_validated_again_and_written(tmp_path, monkeypatch):
    """A parameter that differs makes a new key: the changed nodes are validated and the
    file is still model.save's."""
    save_fits(_multislit(), tmp_path / "warm.fits")
    changed = _multislit(offset=9.25)
    _fixed_date(monkeypatch, changed)
    _state().hits = _state().misses = 0
    ours = save_fits(changed, tmp_path / "ours.fits")
    assert _state().misses > 0
    changed.save(tmp_path / "theirs.fits")
    assert ours.read_bytes() == (tmp_path / "theirs.fits").read_bytes()
    assert b"offset: 9.25" in ours.read_bytes()


def _write(tree):
    import asdf

    buffer = io.BytesIO()
    asdf.AsdfFile(tree).write_to(buffer)
    return buffer.getvalue()


def _error_of(tree):
    from asdf.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        _write(tree)
    return str(caught.value)


def _shift_node(offset):
    from asdf.tagged import TaggedDict

    return TaggedDict({"offset": offset, "inputs": ["x"], "outputs": ["y"]},
                      "tag:stsci.edu:asdf/transform/shift-1.4.0")


def test_an_invalid_node_is_rejected_after_a_valid_one_like_it():
    """A node passes once; the same node with a value of the wrong type (a string, or
    True where 1 passed) is validated again and fails with asdf's own error."""
    with asdf_validation.memoised_validation():
        _write({"m": _shift_node(1.0)})
        _write({"m": _shift_node(1)})
        ours = _error_of({"m": _shift_node("one")})
    assert ours == _error_of({"m": _shift_node("one")})  # outside: asdf's validation
    assert "offset" in ours or "'one'" in ours


def test_large_integers_and_bad_keys_are_rejected_as_asdf_does():
    big = {"n": 2**70}
    bad_key = {"m": {(1, 2): "tuple key"}}
    theirs = [_error_of(big), _error_of(bad_key)]
    with asdf_validation.memoised_validation():
        assert [_error_of(big), _error_of(bad_key)] == theirs


def test_only_writes_inside_the_block_on_this_thread_use_it():
    """Outside memoised_validation (and on reading) asdf's validation runs unchanged."""
    import asdf

    assert asdf_validation.available()
    with asdf_validation.memoised_validation():
        _write({"m": _shift_node(2.0)})
    _state().hits = _state().misses = 0
    data = _write({"m": _shift_node(2.0)})
    with asdf.open(io.BytesIO(data)) as af:
        assert af.tree["m"].offset.value == 2.0
    assert _state().hits == _state().misses == 0
    assert re.search(rb"offset: 2.0", data)


def test_forgetting_everything_keeps_the_bytes(tmp_path, monkeypatch):
    """Past MAX_INTERNED the contents and validations remembered are dropped together
    (keys are never reused for another content): the file is still model.save's."""
    save_fits(_multislit(), tmp_path / "warm.fits")
    monkeypatch.setattr(asdf_validation, "MAX_INTERNED", 0)
    model = _multislit()
    _fixed_date(monkeypatch, model)
    ours = save_fits(model, tmp_path / "ours.fits")
    assert len(_state().memo) > 0  # remembered again from this write alone
    model.save(tmp_path / "theirs.fits")
    assert ours.read_bytes() == (tmp_path / "theirs.fits").read_bytes()


def test_another_asdf_configuration_gets_its_own_state():
    """Schemas and validators belong to asdf's configuration: a changed one (a resource
    mapping added in a config_context) starts from nothing."""
    import asdf

    with asdf_validation.memoised_validation():
        _write({"m": _shift_node(3.0)})
        before = _state()
        with asdf.config_context() as config:
            config.add_resource_mapping({"http://example.org/spec2-test-1.0.0": b"%YAML 1.1\n---\ntype: object\n"})
            _write({"m": _shift_node(3.0)})
            assert _state() is not before
            assert _state().misses > 0 and _state().hits == 0
