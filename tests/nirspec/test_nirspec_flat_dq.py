"""The DQ of NIRSpec's flat (fore optics x spectrograph x detector) on a tiny in-memory
slit: the flags it sets are stdatamodels' by name, as jwst's flat_field sets them."""

from types import SimpleNamespace

import numpy as np
from stdatamodels.jwst.datamodels.dqflags import pixel

from spec2_nirspec.flat_field import build_flat

BADFLAT = pixel["DO_NOT_USE"] | pixel["NO_FLAT_FIELD"] | pixel["UNRELIABLE_FLAT"]


def _image_flat(data, dq):
    """A 2-D spectrograph flat with a flat table covering 1-2 um."""
    table = np.zeros(1, dtype=[("wavelength", "f8", (5,)), ("data", "f8", (5,)), ("error", "f8", (5,))])
    table["wavelength"][0] = np.linspace(1.0, 2.0, 5)
    table["data"][0] = 1.0
    return SimpleNamespace(data=data, dq=dq, err=np.full(data.shape, 0.01, np.float32), flat_table=table)


def test_no_flat_at_all_is_badflat_everywhere():
    wl = np.tile(np.linspace(1.2, 1.8, 6), (3, 1))
    flat, dq, _err = build_flat(wl, None, None, None, (0, 0), "S200A1")
    assert np.all(dq == BADFLAT)
    # the bit jwst names UNRELIABLE_FLAT, not the one next to it (UNRELIABLE_SLOPE)
    assert not np.any(dq & pixel["UNRELIABLE_SLOPE"])


def test_zero_or_flagged_flat_pixel_is_unreliable_flat():
    wl = np.tile(np.linspace(1.2, 1.8, 6), (3, 1))
    data = np.ones((3, 6), np.float32)
    data[1, 2] = 0.0
    dq = np.zeros((3, 6), np.uint32)
    dq[2, 4] = pixel["DO_NOT_USE"]
    dq[0, 1] = pixel["JUMP_DET"]  # any other flag passes through
    flat, out, _err = build_flat(wl, None, _image_flat(data, dq), None, (0, 0), "S200A1")
    assert out[1, 2] == BADFLAT and out[2, 4] == BADFLAT and flat[1, 2] == 1.0 and flat[2, 4] == 1.0
    assert out[0, 1] == pixel["JUMP_DET"]
    good = np.ones(out.shape, bool)
    good[1, 2] = good[2, 4] = good[0, 1] = False
    assert np.all(out[good] == 0) and np.allclose(flat[good], 1.0)
