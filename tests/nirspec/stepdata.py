"""Inputs for NIRSpec step tests: the simulated instrument-model files, small
test-made calibration references, and two simulated exposures (fixed slits on full
frame, a BOTS series), plus the reference view a hook is given."""

from __future__ import annotations

import types

import numpy as np
from stdatamodels.jwst.datamodels.dqflags import pixel

from spec2_nirspec import instrument as ins
from spec2_nirspec.sim import references_wcs as rw
from spec2_nirspec.sim import exposures as sim

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


def _meta(m, reftype):
    m.meta.reftype, m.meta.author, m.meta.pedigree = reftype.upper(), "spec2 tests", "DUMMY"
    m.meta.description, m.meta.useafter = f"test {reftype}", "2022-01-01T00:00:00"
    m.meta.instrument.name, m.meta.telescope, m.meta.exposure.type = "NIRSPEC", "JWST", "NRS_FIXEDSLIT"
    return m


PATHLOSS_WL = np.linspace(0.6e-6, 5.4e-6, 25)  # m


def write_pathloss(path):
    """Per slit: point-source throughput falling off-centre and to the red, uniform flat."""
    from stdatamodels.jwst.datamodels import PathlossModel

    x = np.linspace(-0.5, 0.5, 11)
    y = np.linspace(-0.5, 0.5, 11)
    wl = PATHLOSS_WL[:, None, None] * 1e6
    cube = (0.9 - 0.02 * wl) * np.exp(-(x[None, None, :] ** 2) / 0.3 - (y[None, :, None] ** 2) / 0.8)
    m = _meta(PathlossModel(), "pathloss")
    apertures = []
    for name in ins.SLIT_NAMES:
        ap = {
            "name": name, "shutters": 1,
            "pointsource_data": cube.astype(np.float32), "pointsource_err": np.zeros(cube.shape, np.float32),
            "uniform_data": (0.7 - 0.01 * PATHLOSS_WL * 1e6).astype(np.float32),
            "uniform_err": np.zeros(PATHLOSS_WL.size, np.float32),
            "pointsource_wcs": {"crpix1": 1.0, "crval1": -0.5, "cdelt1": 0.1, "crpix2": 1.0, "crval2": -0.5,
                                "cdelt2": 0.1, "crpix3": 1.0, "crval3": float(PATHLOSS_WL[0]),
                                "cdelt3": float(PATHLOSS_WL[1] - PATHLOSS_WL[0])},
            "uniform_wcs": {"crpix1": 1.0, "crval1": float(PATHLOSS_WL[0]),
                            "cdelt1": float(PATHLOSS_WL[1] - PATHLOSS_WL[0])},
        }
        apertures.append(ap)
    m.apertures = apertures
    m.save(path)
    return path


def write_photom(path):
    """Rows for every slit of G235H/F170LP and G395H/F290LP, MJy per DN/s."""
    from stdatamodels.jwst.datamodels import NrsFsPhotomModel

    n = 60
    rows = []
    for filt, grating in (("F170LP", "G235H"), ("F290LP", "G395H")):
        lo, hi = ins.WAVELENGTH_RANGES[(filt, grating)]
        wl = np.linspace(lo * 1e6 - 0.05, hi * 1e6 + 0.05, n)
        for k, name in enumerate(ins.SLIT_NAMES):
            rr = 1.0 + 0.1 * np.sin(wl) + 0.01 * k
            rows.append((filt, grating, name, 3.1e-11 * (1 + 0.05 * k), 0.0, n, wl, rr, 0.01 * rr))
    table = np.array(rows, dtype=[("filter", "S12"), ("grating", "S15"), ("slit", "S15"), ("photmj", "f4"),
                                  ("uncertainty", "f4"), ("nelem", "i2"), ("wavelength", "f4", (n,)),
                                  ("relresponse", "f4", (n,)), ("reluncertainty", "f4", (n,))])
    m = _meta(NrsFsPhotomModel(), "photom")
    m.phot_table = table
    m.save(path)
    return path


def write_area(path):
    from stdatamodels.jwst.datamodels import NirspecSlitAreaModel

    table = np.array([(name, 0.0104 + 0.0003 * k) for k, name in enumerate(ins.SLIT_NAMES)],
                     dtype=[("slit_id", "S15"), ("pixarea", "f4")])
    m = _meta(NirspecSlitAreaModel(), "area")
    m.area_table = table
    m.save(path)
    return path


def _flat_meta(m, reftype, filt="F170LP", grating="G235H"):
    _meta(m, reftype)
    m.meta.instrument.filter, m.meta.instrument.grating = filt, grating
    m.meta.instrument.detector = "NRS1"
    m.meta.subarray.name, m.meta.subarray.xstart, m.meta.subarray.ystart = "FULL", 1, 1
    m.meta.subarray.xsize, m.meta.subarray.ysize = 2048, 2048
    return m


def _fast_table(names, n=50, lo=0.55, hi=5.5, wiggle=0.02, nan_at=None):
    wl = np.linspace(lo, hi, n, dtype=np.float32)
    rows = []
    for k, name in enumerate(names):
        data = (1.0 + wiggle * np.sin(3 * wl + k)).astype(np.float32)
        if nan_at is not None:
            data[nan_at] = np.nan  # a hole the reader must skip
        rows.append((name, n, wl, data, np.full(n, 0.01, np.float32)))
    return np.array(rows, dtype=[("slit_name", "S15"), ("nelem", "i4"), ("wavelength", "f4", (n,)),
                                 ("data", "f4", (n,)), ("error", "f4", (n,))])


def write_flats(root):
    """fflat (per-slit table), sflat (full-frame image with bad pixels), dflat (two-plane
    full-frame cube with a 2-D DQ and ERR), with structure enough to exercise every rule."""
    from stdatamodels.jwst.datamodels import NirspecFlatModel

    rng = np.random.default_rng(7)
    f = _flat_meta(NirspecFlatModel(), "fflat")
    f.data = np.ones((1, 1), np.float32)
    f.flat_table = _fast_table(list(ins.SLIT_NAMES), nan_at=7)
    f.save(root / "fflat.fits")

    s = _flat_meta(NirspecFlatModel(), "sflat")
    img = (1 + 0.01 * rng.standard_normal((2048, 2048))).astype(np.float32)
    img[950, 400] = np.nan
    img[1010, 700] = 0.0
    s.data = img
    s.dq = np.zeros((2048, 2048), np.uint32)
    s.dq[960, 900] = pixel["DO_NOT_USE"]
    s.err = np.full((2048, 2048), 0.003, np.float32)
    s.flat_table = _fast_table(["ANY"], wiggle=0.05)
    s.save(root / "sflat.fits")

    d = _flat_meta(NirspecFlatModel(), "dflat")
    cube = np.empty((2, 2048, 2048), np.float32)
    cube[0] = 1 + 0.02 * rng.standard_normal((2048, 2048))
    cube[1] = cube[0] * 1.05
    d.data = cube
    d.dq = np.zeros((2048, 2048), np.uint32)
    d.dq[1030, 1200] = pixel["DO_NOT_USE"]
    d.err = np.full((2048, 2048), 0.002, np.float32)
    d.wavelength = np.array([(1.8,), (4.6,)], dtype=[("wavelength", "f4")])
    d.flat_table = _fast_table(["ANY"], wiggle=0.01)
    d.save(root / "dflat.fits")
    return {k: root / f"{k}.fits" for k in ("fflat", "sflat", "dflat")}


def make_step_data(root):
    """Write the references and exposures under ``root``; returns their paths (and
    the CRDS environment jwst needs to record a context)."""
    from spec2.crds_cache import LocalCache, crds_environment

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
        "pathloss": write_pathloss(refs / "pathloss.fits"),
        "photom": write_photom(refs / "photom.fits"),
        "area": write_area(refs / "area.fits"),
        **write_flats(refs),
    }
    fs, _ = sim.simulate_exposure(root / "fs_rate.fits", sim.Setup(grating="G235H", primary="S200A2", xpos=0.2, ypos=0.1),
                                  paths, cal=unit_calibration())
    bots, _ = sim.simulate_exposure(
        root / "bots_rateints.fits",
        sim.Setup(grating="G395H", subarray="SUB2048", primary="S1600A1", exp_type="NRS_BRIGHTOBJ", nints=6, xpos=-0.15),
        paths, cal=unit_calibration(), light_curve=np.linspace(1, 0.99, 6),
    )
    return {"fs": (fs, "G235H", "F170LP"), "bots": (bots, "G395H", "F290LP"), "paths": paths,
            "env": crds_environment(root / "crds")}


class Refs:
    """What a hook sees of the reference files: opened models by reftype."""

    def __init__(self, models):
        self.models = models

    def open(self, reftype):
        return self.models[reftype]

    def path(self, reftype):
        return "in-memory" if reftype in self.models else None


def spec2_refs(paths, grating, filt):
    from stdatamodels.jwst.datamodels import WaveCorrModel

    from spec2_nirspec.sim.exposures import _reference_models, _wcs_paths

    models = _reference_models(_wcs_paths(paths, sim.Setup(grating=grating)))
    from stdatamodels.jwst.datamodels import (
        NirspecSlitAreaModel,
        NrsFsPhotomModel,
        PathlossModel,
    )

    models["wavecorr"] = WaveCorrModel(str(paths["wavecorr"]))
    models["pathloss"] = PathlossModel(str(paths["pathloss"]))
    models["photom"] = NrsFsPhotomModel(str(paths["photom"]))
    models["area"] = NirspecSlitAreaModel(str(paths["area"]))
    from stdatamodels.jwst.datamodels import NirspecFlatModel

    for kind in ("fflat", "sflat", "dflat"):
        models[kind] = NirspecFlatModel(str(paths[kind]))
    return Refs(models)


def jwst_overrides(paths, grating, filt):
    ov = {f"override_{k}": str(paths[k]) for k in ("fpa", "camera", "collimator", "ote", "msa", "wavelengthrange")}
    ov["override_disperser"] = str(next(p for p in paths["disperser"] if grating in p.name))
    ov["override_fore"] = str(next(p for p in paths["fore"] if filt in p.name))
    for k in ("distortion", "filteroffset", "specwcs", "regions", "chromcorr", "ifupost", "ifufore", "ifuslicer"):
        ov[f"override_{k}"] = "N/A"
    return ov


