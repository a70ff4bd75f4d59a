"""spec2.wcs.compiled: an astropy model tree evaluated through its leaves gives exactly
what calling the model gives, without astropy's per-node call machinery."""

import numpy as np
import pytest
from astropy.modeling import fix_inputs, models

from spec2.wcs.compiled import compile_model


def _chain():
    poly = models.Polynomial2D(3, **{f"c{i}_{j}": 0.1 * (i + 1) / (j + 2) for i in range(4) for j in range(4)
                                     if i + j <= 3})
    tab = models.Tabular1D(points=np.linspace(-5, 50, 40), lookup_table=np.sin(np.linspace(0, 3, 40)),
                           bounds_error=False)
    shift_scale = models.Shift(3.5) & models.Scale(-0.25) | models.Rotation2D(12.0)
    affine = models.AffineTransformation2D(matrix=[[1.1, 0.2], [-0.3, 0.9]], translation=[0.5, -1.0])
    branch = models.Mapping((0, 1, 0, 1)) | poly & (affine | models.Mapping((0,), n_inputs=2))
    arithmetic = (models.Const1D(2.0) * models.Identity(1)) & (models.Shift(1) + models.Scale(3)) | \
        models.Mapping((1, 0, 1)) | models.Identity(1) & tab & models.Polynomial1D(2, c0=1, c1=-2, c2=0.5)
    return shift_scale | branch | arithmetic


def _same(ours, theirs):
    theirs = theirs if isinstance(theirs, tuple) else (theirs,)
    assert isinstance(ours, tuple) and len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert np.shape(a) == np.shape(b)
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


@pytest.mark.parametrize("shape", [(), (7,), (3, 5)])
def test_compiled_values_are_the_models(shape):
    rng = np.random.default_rng(1)
    x, y = rng.uniform(-10, 40, shape), rng.uniform(-10, 40, shape)
    model = _chain()
    _same(compile_model(model)(x, y), model(x, y))
    inverse = models.Shift(3.5) & models.Scale(-0.25) | models.Rotation2D(12.0)
    _same(compile_model(inverse.inverse)(x, y), inverse.inverse(x, y))


def test_fixed_inputs_and_lists():
    model = models.Mapping((0, 1, 2)) | models.Shift(1) & models.Scale(2) & models.Identity(1)
    model.inputs = ("x", "y", "name")
    fixed = fix_inputs(model, {"name": -101})
    _same(compile_model(fixed)([1, 2, 3], [4, 5, 6]), fixed([1, 2, 3], [4, 5, 6]))
    by_index = fix_inputs(model, {0: 2.5})
    _same(compile_model(by_index)(np.arange(4.0), 1.0), by_index(np.arange(4.0), 1.0))


def test_per_slit_transforms_pick_the_slits_model():
    from stdatamodels.jwst.transforms.models import Gwa2Slit, Slit, Slit2Msa

    slits = [Slit("A", 1, slit_id=-101), Slit("B", 2, slit_id=-102)]
    per_slit = [models.Shift(1) & models.Scale(2) & models.Identity(1),
                models.Shift(-1) & models.Scale(5) & models.Shift(7)]
    gwa2slit = Gwa2Slit(slits, per_slit)
    x = np.linspace(0, 1, 6)
    for slit_id in (-101, -102):
        _same(compile_model(gwa2slit)(slit_id, x, x + 1, x + 2), gwa2slit(slit_id, x, x + 1, x + 2))
    slit2msa = Slit2Msa(slits, [models.Shift(1) & models.Shift(2), models.Scale(3) & models.Scale(4)])
    _same(compile_model(slit2msa)(-102, x, x), slit2msa(-102, x, x))


def test_a_model_with_its_own_call_is_called_as_it_is():
    class Doubling(models.Shift):
        def __call__(self, *args, **kwargs):
            return 2 * super().__call__(*args, **kwargs)

    model = models.Scale(3) | Doubling(1.0)
    _same(compile_model(model)(np.arange(3.0)), model(np.arange(3.0)))
    assert compile_model(model)(np.arange(3.0))[0].tolist() == [2.0, 8.0, 14.0]


def test_evaluation_bypasses_astropys_call_machinery(monkeypatch):
    """Where the speed comes from, asserted without a clock (timings belong in
    benchmarks/): no node of the tree goes through astropy's Model.__call__ (input
    preparation, bounding boxes, unit handling) once the tree is compiled."""
    from astropy.modeling import Model

    model = _chain()
    compiled = compile_model(model)
    x = np.arange(4.0)
    expected = model(x, x)
    monkeypatch.setattr(Model, "__call__", lambda *a, **k: pytest.fail("astropy Model.__call__ used"))
    _same(compiled(x, x), expected)
