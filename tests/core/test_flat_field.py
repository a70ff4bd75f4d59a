"""apply_flat writes ERR, VAR_FLAT and DQ into the model's own arrays when it can, with
the values it computes into new arrays."""

from __future__ import annotations

import numpy as np

from spec2.steps.flat_field import apply_flat, reusable


def _models(nints=4, shape=(6, 9)):
    from stdatamodels.jwst.datamodels import CubeModel, FlatModel

    rng = np.random.default_rng(11)
    full = (nints, *shape)
    cube = CubeModel(full)
    cube.data = rng.normal(10, 2, size=full).astype(np.float32)
    cube.data[1, 2, 3] = np.nan
    cube.err = rng.random(full).astype(np.float32)
    cube.dq = rng.choice(np.array([0, 1, 4], np.uint32), size=full)
    cube.var_poisson = rng.random(full).astype(np.float32)
    cube.var_rnoise = rng.random(full).astype(np.float32)
    cube.var_flat = rng.random(full).astype(np.float32)
    flat = FlatModel(shape)
    flat.data = rng.uniform(0.8, 1.2, size=shape).astype(np.float32)
    flat.data[0, 0] = 0.0  # a NO_FLAT_FIELD pixel
    flat.err = rng.random(shape).astype(np.float32) * 0.01
    flat.dq = np.zeros(shape, np.uint32)
    flat.dq[5, 8] = 2
    return cube, flat


def test_flat_in_place_matches_new_arrays():
    """The same cube calibrated twice: once into its own arrays, once with those arrays
    read-only (so new ones are made); every array agrees bit for bit."""
    inplace, flat = _models()
    fresh = inplace.copy()
    own = {name: getattr(inplace, name) for name in ("err", "var_flat", "dq")}
    for name in ("err", "var_flat", "dq"):
        getattr(fresh, name).flags.writeable = False
    for inverse in (False, True):
        a, b = inplace.copy(), fresh.copy()
        for name in ("err", "var_flat", "dq"):
            getattr(b, name).flags.writeable = False
        a_own = {name: getattr(a, name) for name in ("err", "var_flat", "dq")}
        apply_flat(a, flat, inverse=inverse)
        apply_flat(b, flat, inverse=inverse)
        for name in ("data", "err", "dq", "var_poisson", "var_rnoise", "var_flat"):
            assert np.array_equal(getattr(a, name), getattr(b, name), equal_nan=True), (inverse, name)
            assert getattr(a, name).dtype == getattr(b, name).dtype
        for name, array in a_own.items():
            assert getattr(a, name) is array, name  # written in place
            assert getattr(b, name) is not getattr(fresh, name)
    apply_flat(inplace, flat)
    assert inplace.dq is own["dq"] and inplace.err is own["err"]
    assert (own["dq"][:, 0, 0] & 1).all()  # the flat's bad pixel flagged DO_NOT_USE in place


def test_reusable_refuses_what_it_cannot_overwrite():
    a = np.zeros((2, 3), np.float32)
    assert reusable(a, (2, 3), np.float32) is a
    assert reusable(a, (2, 4), np.float32) is None
    assert reusable(a, (2, 3), np.float64) is None
    assert reusable(a.astype(">f4"), (2, 3), np.float32) is None
    assert reusable(a, (2, 3), np.float32, others=(a[0],)) is None
    ro = a.copy()
    ro.flags.writeable = False
    assert reusable(ro, (2, 3), np.float32) is None
    assert reusable(None, (2, 3), np.float32) is None
