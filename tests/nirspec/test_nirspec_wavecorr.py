"""NIRSpec extract_2d, srctype and wavecorr against jwst 3.0.0 on a simulated exposure
(fixed slits on full frame, and a BOTS series), each step fed the same input."""

from __future__ import annotations

import types

import numpy as np
import pytest

from spec2_nirspec import hooks
from spec2_nirspec import instrument as ins
from spec2_nirspec import reffiles_wcs as rw
from spec2_nirspec import simulate as sim

WAVECORR_SHIFT = 1.7  # pixels per unit of source x position in the slit


def unit_calibration():
    """Calibration truths with no instrument signature: the steps under test here do not
    read flats, slit losses or responses."""
    return types.SimpleNamespace(
        flat_truth=lambda det, x, y, lam, slit, f, g: np.ones_like(lam),
        pathloss_truth=lambda slit, lam, xp, yp, kind: np.full_like(lam, 0.8),
        photom_truth=lambda slit, f, g, lam: np.full_like(lam, 2e-11),
        slit_area_sr=lambda slit: 2.35e-13,
        wavecorr_offset_truth=lambda slit, lam, xpos: np.zeros_like(lam) + WAVECORR_SHIFT * xpos,
    )


def write_wavecorr(path):
    """A WaveCorrModel whose offset grows linearly with the source position (and a
    little with wavelength), for every fixed slit."""
    from astropy.modeling.models import Tabular2D
    from stdatamodels.jwst.datamodels import WaveCorrModel

    wl = np.linspace(0.5e-6, 5.5e-6, 11)
    xpos = np.linspace(-0.5, 0.5, 5)
    offsets = WAVECORR_SHIFT * xpos[None, :] * (1 + 0.02 * (wl[:, None] / 1e-6 - 3))
    m = WaveCorrModel()
    m.meta.reftype, m.meta.author, m.meta.pedigree = "WAVECORR", "spec2 tests", "DUMMY"
    m.meta.description, m.meta.useafter = "test zero points", "2022-01-01T00:00:00"
    m.meta.instrument.name, m.meta.telescope, m.meta.exposure.type = "NIRSPEC", "JWST", "NRS_FIXEDSLIT"
    m.apertures = [
        {"aperture_name": name, "width": 0.2,
         "zero_point_offset": Tabular2D(points=(wl, xpos), lookup_table=offsets, bounds_error=False, fill_value=None),
         "variance": np.zeros((11, 5), np.float32)}
        for name in ins.SLIT_NAMES
    ]
    m.save(path)
    return path


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    from spec2.crds_cache import LocalCache, crds_environment

    root = tmp_path_factory.mktemp("nrs_steps")
    dummy = LocalCache(root / "crds")
    dummy.finish()
    refs = root / "refs"
    refs.mkdir()
    paths = {
        "fpa": rw.write_fpa(refs / "fpa.asdf"), "camera": rw.write_camera(refs / "camera.asdf"),
        "collimator": rw.write_collimator(refs / "collimator.asdf"), "ote": rw.write_ote(refs / "ote.asdf"),
        "msa": rw.write_msa(refs / "msa.asdf"), "wavelengthrange": rw.write_wavelengthrange(refs / "wr.asdf"),
        "disperser": [rw.write_disperser(refs / f"disperser_{g}.asdf", g) for g in ("G235H", "G395H")],
        "fore": [rw.write_fore(refs / f"fore_{f}.asdf", f) for f in ("F170LP", "F290LP")],
        "wavecorr": write_wavecorr(refs / "wavecorr.asdf"),
    }
    fs, _ = sim.simulate_exposure(root / "fs_rate.fits", sim.Setup(grating="G235H", primary="S200A2", xpos=0.2, ypos=0.1),
                                  paths, cal=unit_calibration())
    bots, _ = sim.simulate_exposure(
        root / "bots_rateints.fits",
        sim.Setup(grating="G395H", subarray="SUB2048", primary="S1600A1", exp_type="NRS_BRIGHTOBJ", nints=6, xpos=-0.15),
        paths, cal=unit_calibration(), light_curve=np.linspace(1, 0.99, 6),
    )
    with pytest.MonkeyPatch.context() as mp:
        for key, value in crds_environment(root / "crds").items():  # jwst records a context
            mp.setenv(key, value)
        yield {"fs": (fs, "G235H", "F170LP"), "bots": (bots, "G395H", "F290LP"), "paths": paths}


class Refs:
    """What a hook sees of the reference files: opened models by reftype."""

    def __init__(self, models):
        self.models = models

    def open(self, reftype):
        return self.models[reftype]

    def path(self, reftype):
        return "in-memory" if reftype in self.models else None


def _spec2_refs(paths, grating, filt):
    from stdatamodels.jwst.datamodels import WaveCorrModel

    from spec2_nirspec.simulate import _reference_models, _wcs_paths

    models = _reference_models(_wcs_paths(paths, sim.Setup(grating=grating)))
    models["wavecorr"] = WaveCorrModel(str(paths["wavecorr"]))
    return Refs(models)


def _jwst_overrides(paths, grating, filt):
    ov = {f"override_{k}": str(paths[k]) for k in ("fpa", "camera", "collimator", "ote", "msa", "wavelengthrange")}
    ov["override_disperser"] = str(next(p for p in paths["disperser"] if grating in p.name))
    ov["override_fore"] = str(next(p for p in paths["fore"] if filt in p.name))
    for k in ("distortion", "filteroffset", "specwcs", "regions", "chromcorr", "ifupost", "ifufore", "ifuslicer"):
        ov[f"override_{k}"] = "N/A"
    return ov


ARRAYS = ("data", "err", "dq", "var_poisson", "var_rnoise", "wavelength")
ATTRS = ("name", "xstart", "xsize", "ystart", "ysize", "source_id", "source_xpos", "source_ypos", "source_type",
         "slit_ymin", "slit_ymax", "shutter_id")


def _assert_slits_equal(theirs, mine):
    for k in ARRAYS:
        np.testing.assert_array_equal(getattr(theirs, k), getattr(mine, k), err_msg=f"{theirs.name} {k}")
    for k in ATTRS:
        assert getattr(theirs, k) == getattr(mine, k), (theirs.name, k)
    assert theirs.meta.wcsinfo.s_region == mine.meta.wcsinfo.s_region


@pytest.mark.parity
@pytest.mark.parametrize("case", ["fs", "bots"])
def test_extract_2d_srctype_wavecorr_parity(data, case):
    from gwcs.wcstools import grid_from_bounding_box
    from jwst.assign_wcs import AssignWcsStep
    from jwst.extract_2d import Extract2dStep
    from jwst.srctype import SourceTypeStep
    from jwst.wavecorr import WavecorrStep
    from stdatamodels.jwst import datamodels as dm

    path, grating, filt = data[case]
    ov = _jwst_overrides(data["paths"], grating, filt)
    theirs = SourceTypeStep.call(Extract2dStep.call(AssignWcsStep.call(str(path), **ov),
                                                    override_wavelengthrange=ov["override_wavelengthrange"]))
    refs = _spec2_refs(data["paths"], grating, filt)
    mine = hooks.srctype(hooks.extract_2d(hooks.assign_wcs(dm.open(path), refs)), {"source_type": ""})
    assert type(theirs) is type(mine)
    pairs = list(zip(theirs.slits, mine.slits)) if case == "fs" else [(theirs, mine)]
    assert len(pairs) == (5 if case == "fs" else 1)
    for a, b in pairs:
        _assert_slits_equal(a, b)

    theirs = WavecorrStep.call(theirs, override_wavecorr=str(data["paths"]["wavecorr"]))
    mine = hooks.wavecorr(mine, refs)
    pairs = list(zip(theirs.slits, mine.slits)) if case == "fs" else [(theirs, mine)]
    corrected = 0
    for a, b in pairs:
        _assert_slits_equal(a, b)
        if case == "fs":
            assert a.wavelength_corrected == b.wavelength_corrected
        if "wavecorr_frame" in a.meta.wcs.available_frames:
            corrected += 1
            assert "wavecorr_frame" in b.meta.wcs.available_frames
            x, y = grid_from_bounding_box(a.meta.wcs.bounding_box)
            for p, q in zip(a.meta.wcs(x, y), b.meta.wcs(x, y)):
                np.testing.assert_array_equal(p, q)
    assert corrected == 1  # the point source in the primary slit only


def test_wavecorr_moves_wavelengths_by_the_offset(data):
    """An off-centre source's wavelengths move by offset(lambda, xpos) pixels of
    dispersion, computed here by hand from the table."""
    from stdatamodels.jwst import datamodels as dm

    path, grating, filt = data["fs"]
    refs = _spec2_refs(data["paths"], grating, filt)
    model = hooks.srctype(hooks.extract_2d(hooks.assign_wcs(dm.open(path), refs)), {"source_type": ""})
    before = {s.name: s.wavelength.copy() for s in model.slits}
    model = hooks.wavecorr(model, refs)
    primary = next(s for s in model.slits if s.name == "S200A2")
    lam0 = before["S200A2"].astype(float)
    row = lam0.shape[0] // 2
    disp = np.gradient(lam0[row])
    xpos = primary.source_xpos
    expected_shift = WAVECORR_SHIFT * xpos * (1 + 0.02 * (lam0[row] - 3))
    got = (primary.wavelength[row] - lam0[row]) / disp
    ok = np.isfinite(got)
    np.testing.assert_allclose(got[ok][5:-5], expected_shift[ok][5:-5], atol=0.02)
    for s in model.slits:  # extended-source slits are untouched
        if s.name != "S200A2":
            np.testing.assert_array_equal(s.wavelength, before[s.name])
