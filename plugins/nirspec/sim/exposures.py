"""Forward model of NIRSpec fixed slits and BOTS: spectra to _rate / _rateints files.

The simulated instrument's WCS (built from the instrument-model reference files the
simulator also writes) gives, for every pixel of each slit's cut-out, its wavelength and
position along the slit. A point source at (xpos, ypos) in the primary slit is shifted
along the dispersion by its offset across the slit (the wavecorr reference's offset) and
spread across the slit length by a wavelength-dependent Gaussian PSF; every slit also
sees a faint uniform sky. The calibration is then run backwards: slit throughput
(pathloss), flat field, and the photometric response turn MJy into DN/s. Poisson and read
noise and a few bad pixels follow. Headers carry the pointing, dither and GWA keywords
assign_wcs, extract_2d, srctype and extract_1d read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from stdatamodels.jwst.datamodels.dqflags import pixel

from spec2_nirspec import instrument as ins

TARGET_RA, TARGET_DEC = 53.1625, -27.7914  # deg
ROLL_REF = 112.0  # deg
V3_YANGLE = 138.5
VPARITY = -1
EXPTIME = 1800.0  # s
READ_NOISE_VAR = 4.0e-6  # (DN/s)^2 per pixel
SKY_MJY_SR = 0.02  # uniform sky surface brightness in every slit
GWA_XTIL = ins.GWA_TILT_ZERO + 0.0012  # the GWA came to rest slightly off its calibration
GWA_YTIL = ins.GWA_TILT_ZERO - 0.0004


def default_spectrum(wavelength_um):
    """A red continuum with two emission lines, in Jy (point source)."""
    wl = np.asarray(wavelength_um, float)
    cont = 2.0e-4 * (wl / 2.0) ** 0.7
    lines = 6e-4 * np.exp(-0.5 * ((wl - 1.282) / 0.0015) ** 2) + 5e-4 * np.exp(-0.5 * ((wl - 4.05) / 0.004) ** 2)
    return cont + lines


@dataclass
class Setup:
    """One simulated exposure's configuration."""

    grating: str = "G140M"
    detector: str = "NRS1"
    subarray: str = "FULL"
    primary: str = "S200A1"
    xpos: float = 0.0  # source position across the primary slit (slit units, -0.5..0.5)
    ypos: float = 0.0  # along the slit (slit units)
    exp_type: str = "NRS_FIXEDSLIT"
    nints: int = 1
    seed: int = 1
    velosys: float = -21456.0  # m/s
    extra: dict = field(default_factory=dict)

    @property
    def filter(self):
        return ins.FILTER_FOR[self.grating]


def _reference_models(paths):
    from stdatamodels.jwst import datamodels as dm

    classes = {
        "fpa": dm.FPAModel, "camera": dm.CameraModel, "collimator": dm.CollimatorModel,
        "ote": dm.OTEModel, "msa": dm.MSAModel, "wavelengthrange": dm.WavelengthrangeModel,
        "disperser": dm.DisperserModel, "fore": dm.FOREModel,
    }
    return {k: classes[k](str(p)) for k, p in paths.items()}


def _wcs_paths(ref_paths, setup):
    """The instrument-model files of this grating/filter from write_reference_set()."""
    out = {k: ref_paths[k] for k in ("fpa", "camera", "collimator", "ote", "msa", "wavelengthrange")}
    out["disperser"] = next(p for p in ref_paths["disperser"] if p.name.endswith(f"_{setup.grating}.asdf"))
    out["fore"] = next(p for p in ref_paths["fore"] if p.name.endswith(f"_{setup.filter}.asdf"))
    return out


def blank_exposure(setup: Setup):
    """An empty rate (ImageModel) or rateints (CubeModel) with every header keyword set."""
    from stdatamodels.jwst import datamodels as dm

    xstart, ystart, xsize, ysize = ins.SUBARRAYS[setup.subarray]
    shape = (ysize, xsize) if setup.nints == 1 else (setup.nints, ysize, xsize)
    model = (dm.ImageModel if setup.nints == 1 else dm.CubeModel)(shape)
    m = model.meta
    m.telescope = "JWST"
    m.instrument.name, m.instrument.detector = "NIRSPEC", setup.detector
    m.instrument.filter, m.instrument.grating = setup.filter, setup.grating
    m.instrument.fixed_slit = setup.primary
    m.instrument.gwa_xtilt, m.instrument.gwa_ytilt = GWA_XTIL, GWA_YTIL
    m.instrument.gwa_tilt = ins.GWA_TEMPERATURE
    m.exposure.type = setup.exp_type
    m.exposure.nints, m.exposure.ngroups, m.exposure.nframes = setup.nints, 10, 1
    m.exposure.readpatt = "NRSRAPID"
    m.exposure.exposure_time = m.exposure.effective_exposure_time = EXPTIME
    m.exposure.integration_time = EXPTIME / setup.nints
    m.exposure.start_time, m.exposure.mid_time = 60000.0, 60000.0 + EXPTIME / 2 / 86400
    m.exposure.end_time = 60000.0 + EXPTIME / 86400
    m.observation.date, m.observation.time = "2023-01-01", "00:00:00"
    m.observation.program_number = "01234"
    m.subarray.name = setup.subarray
    m.subarray.xstart, m.subarray.ystart, m.subarray.xsize, m.subarray.ysize = xstart, ystart, xsize, ysize
    m.subarray.fastaxis, m.subarray.slowaxis = 1, 2
    m.target.source_type_apt = "POINT"
    m.dither.primary_type = "3-POINT-NOD" if setup.exp_type == "NRS_FIXEDSLIT" else "NONE"
    m.visit.tsovisit = setup.exp_type == "NRS_BRIGHTOBJ"
    m.bunit_data, m.bunit_err = "DN/s", "DN/s"
    w = m.wcsinfo
    w.v3yangle, w.vparity, w.roll_ref = V3_YANGLE, VPARITY, ROLL_REF
    w.velosys = setup.velosys
    m.velocity_aberration.scale_factor = 1.0000123
    return model


def _place_target(model, wcs, setup):
    """Point the telescope so the target sits at (xpos, ypos) of the primary slit; set the
    dither offsets and reference point accordingly (the aperture reference point is the
    primary slit's centre)."""
    from stdatamodels.jwst.transforms.models import V2V3ToIdeal

    from spec2.wcs.pointing import v2v3_to_sky
    from spec2_nirspec.extract_2d import slit_wcs

    sw = slit_wcs(wcs, setup.primary)
    to_v2v3 = sw.get_transform("slit_frame", "v2v3")
    v2_ref, v3_ref, _ = to_v2v3(0.0, 0.0, 2e-6)
    v2_t, v3_t, _ = to_v2v3(setup.xpos, setup.ypos, 2e-6)
    x_off, y_off = V2V3ToIdeal(V3_YANGLE, v2_ref, v3_ref, VPARITY)(v2_t, v3_t)
    sky = v2v3_to_sky(float(v2_t), float(v3_t), ROLL_REF, TARGET_RA, TARGET_DEC)
    ra_ref, dec_ref = sky(float(v2_ref), float(v3_ref))
    m = model.meta
    m.wcsinfo.v2_ref, m.wcsinfo.v3_ref = float(v2_ref), float(v3_ref)
    m.wcsinfo.ra_ref, m.wcsinfo.dec_ref = float(ra_ref), float(dec_ref)
    m.pointing.ra_v1, m.pointing.dec_v1, m.pointing.pa_v3 = float(ra_ref), float(dec_ref), ROLL_REF
    m.dither.x_offset, m.dither.y_offset = float(x_off), float(y_off)
    m.target.ra, m.target.dec = TARGET_RA, TARGET_DEC
    m.target.proposer_ra, m.target.proposer_dec = TARGET_RA, TARGET_DEC


def simulate_exposure(path, setup: Setup, ref_paths, spectrum=default_spectrum, light_curve=None, cal=None):
    """Write one exposure; return (path, truth dict).

    ``cal`` provides the calibration truths the reference files sample (flat_truth,
    pathloss_truth, photom_truth, slit_area_sr, wavecorr_offset_truth); by default the
    module that writes those files, :mod:`spec2_nirspec.sim.references_cal`.
    """

    from spec2_nirspec.wcs_model import build_slit_wcs

    if cal is None:
        from spec2_nirspec.sim import references_cal as cal
    rng = np.random.default_rng(setup.seed)
    model = blank_exposure(setup)
    refs = _reference_models(_wcs_paths(ref_paths, setup))
    # first pass: the geometry with a provisional pointing, to aim at the primary slit
    model.meta.wcsinfo.v2_ref, model.meta.wcsinfo.v3_ref = ins.V2_CENTRE, ins.V3_CENTRE
    model.meta.wcsinfo.ra_ref, model.meta.wcsinfo.dec_ref = TARGET_RA, TARGET_DEC
    wcs, slits = build_slit_wcs(model, refs)
    _place_target(model, wcs, setup)
    wcs, slits = build_slit_wcs(model, refs)

    ny, nx = model.data.shape[-2:]
    rate = np.zeros((ny, nx))
    x0, y0 = model.meta.subarray.xstart - 1, model.meta.subarray.ystart - 1
    for slit in slits:
        x, y, ys, lam = slit_pixels(wcs, slit.name, (ny, nx))
        inside = np.isfinite(lam)
        lam_um = lam * 1e6
        xi, yi = x.astype(int), y.astype(int)
        # flat references are in the science (DMS) frame of the full detector, as CRDS's
        x_full, y_full = xi + x0, yi + y0
        length = ins.FIXED_SLITS[slit.name][3][1]
        area = cal.slit_area_sr(slit.name)
        response = cal.photom_truth(slit.name, setup.filter, setup.grating, lam_um)  # MJy per DN/s
        flat = cal.flat_truth(setup.detector, x_full, y_full, lam_um, slit.name, setup.filter, setup.grating)
        sky = SKY_MJY_SR * area * cal.pathloss_truth(slit.name, lam_um, 0.0, 0.0, "EXTENDED")
        signal = sky
        if slit.name == setup.primary:
            # the source's own wavelength at each pixel: the slit-centred one plus its
            # zero-point offset (pixels) times the dispersion, as wavecorr restores it
            offset_px = cal.wavecorr_offset_truth(slit.name, lam, setup.xpos)
            dlam = np.gradient(lam_um, axis=1)
            lam_src = lam_um + offset_px * dlam
            d_arcsec = (ys - setup.ypos) * length
            sigma = ins.psf_sigma_arcsec(lam_src)
            profile = 0.1 / (np.sqrt(2 * np.pi) * sigma) * np.exp(-0.5 * (d_arcsec / sigma) ** 2)
            throughput = cal.pathloss_truth(slit.name, lam_src, setup.xpos, setup.ypos, "POINT")
            signal = signal + spectrum(lam_src) * 1e-6 * profile * throughput
        dn = signal * flat / response
        inside &= np.isfinite(dn)  # the trace edge, where the shifted wavelength is undefined
        rate[yi[inside], xi[inside]] += dn[inside]
    rate = _add_noise(model, rate, rng, light_curve)
    model.save(str(path))
    truth = {"setup": setup.__dict__, "source_ra": TARGET_RA, "source_dec": TARGET_DEC}
    return Path(path), truth


def slit_pixels(wcs, slit, shape):
    """(x, y, y_slit, lambda [m]) at every pixel of a slit's bounding box within an array
    of ``shape``; NaN off the slit."""
    from gwcs.wcstools import grid_from_bounding_box

    from spec2_nirspec.extract_2d import slit_wcs

    ny, nx = shape
    sw = slit_wcs(wcs, slit)
    (xlo, xhi), (ylo, yhi) = sw.bounding_box
    x, y = grid_from_bounding_box(((max(xlo, -0.5), min(xhi, nx - 0.5)), (max(ylo, -0.5), min(yhi, ny - 0.5))))
    _xs, ys, lam = sw.get_transform("detector", "slit_frame")(x, y)
    return x, y, ys, lam


def _add_noise(model, rate, rng, light_curve):
    """Fill SCI/ERR/DQ/VAR_* of the model from a noiseless rate (per integration for a
    time series, scaled by the light curve)."""
    nints = model.meta.exposure.nints
    t_int = model.meta.exposure.integration_time
    scale = np.ones(nints) if light_curve is None else np.asarray(light_curve, float)
    expected = rate[None] * scale[:, None, None]
    counts = rng.poisson(np.clip(expected, 0, None) * t_int) / t_int
    data = counts + rng.normal(0.0, np.sqrt(READ_NOISE_VAR), expected.shape)
    var_p = np.clip(expected, 0, None) / t_int
    var_r = np.full(expected.shape, READ_NOISE_VAR)
    dq = np.zeros(expected.shape, np.uint32)
    # a few dead and hot pixels
    ys = rng.integers(0, rate.shape[0], 12)
    xs = rng.integers(0, rate.shape[1], 12)
    dq[:, ys[:6], xs[:6]] = pixel["DO_NOT_USE"]
    data[:, ys[:6], xs[:6]] = np.nan
    dq[:, ys[6:], xs[6:]] = pixel["JUMP_DET"]  # flagged but used
    if nints == 1:
        data, var_p, var_r, dq = data[0], var_p[0], var_r[0], dq[0]
    model.data = data.astype(np.float32)
    model.var_poisson = var_p.astype(np.float32)
    model.var_rnoise = var_r.astype(np.float32)
    model.err = np.sqrt(var_p + var_r).astype(np.float32)
    model.dq = dq
    if nints > 1:
        _int_times(model)
    return model.data


def _int_times(model):
    nints = model.meta.exposure.nints
    dt = model.meta.exposure.integration_time / 86400.0
    start = model.meta.exposure.start_time + dt * np.arange(nints)
    table = np.zeros(nints, dtype=[
        ("integration_number", "i4"), ("int_start_MJD_UTC", "f8"), ("int_mid_MJD_UTC", "f8"),
        ("int_end_MJD_UTC", "f8"), ("int_start_BJD_TDB", "f8"), ("int_mid_BJD_TDB", "f8"),
        ("int_end_BJD_TDB", "f8"),
    ])
    table["integration_number"] = np.arange(1, nints + 1)
    for prefix, offset in (("start", 0.0), ("mid", 0.5), ("end", 1.0)):
        table[f"int_{prefix}_MJD_UTC"] = start + offset * dt
        table[f"int_{prefix}_BJD_TDB"] = start + offset * dt + 0.0007
    model.int_times = table


def transit(times, t0, duration, depth, ingress):
    """Trapezoid light curve, relative flux per time."""
    dist = np.abs(np.asarray(times) - t0)
    return 1.0 - depth * np.clip((duration / 2.0 - dist) / ingress, 0.0, 1.0)


def write_references(cache, detectors=ins.DETECTORS):
    """The instrument model and calibration files into a LocalCache; their paths."""
    from spec2_nirspec.sim import references_cal, references_wcs

    paths = references_wcs.write_reference_set(cache)
    paths.update(references_cal.write_reference_set(cache, detectors=detectors))
    return paths


def simulate_nirspec(directory, cache, setups=None, nints_bots=60, nod=True):
    """Fixed-slit exposures (full frame on both detectors, a subarray) and a BOTS transit
    series with their reference files; returns {name: path} plus the light curve."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = write_references(cache)
    out: dict = {}
    setups = setups or {
        "fs_nrs1": Setup(grating="G140M", detector="NRS1", xpos=0.12, ypos=-0.08),
        "fs_h_nrs2": Setup(grating="G395H", detector="NRS2", primary="S200A2", xpos=-0.1, ypos=0.05, seed=2),
        "fs_sub": Setup(grating="G235H", detector="NRS1", subarray="SUBS400A1", primary="S400A1", seed=3),
    }
    for name, setup in setups.items():
        out[name], _ = simulate_exposure(directory / f"jw01234001001_01101_0000{len(out) + 1}_{setup.detector.lower()}_rate.fits",
                                         setup, paths)
    if nod:
        # a two-point nod along S200A1 (subarray): each nod is the other's background
        from spec2.association import write_nod_association

        nods = []
        for k, ypos in enumerate((-0.22, 0.22)):
            setup = Setup(grating="G235M", detector="NRS1", subarray="SUBS200A1", primary="S200A1",
                          xpos=0.05, ypos=ypos, seed=20 + k, extra={"nod": k + 1})
            path, _ = simulate_exposure(directory / f"jw01234003001_01101_0000{k + 1}_nrs1_rate.fits", setup, paths)
            nods.append(path)
        out["nod_asn"] = write_nod_association(directory / "jw01234-a3002_spec2_00001_asn.json", nods,
                                               [p.name.replace("_rate.fits", "") for p in nods])
        out["nod_rates"] = nods
    if nints_bots:
        bots = Setup(grating="G395H", detector="NRS1", subarray="SUB2048", primary="S1600A1",
                     exp_type="NRS_BRIGHTOBJ", nints=nints_bots, seed=4)
        t = np.arange(nints_bots) / nints_bots
        curve = transit(t, 0.5, 0.4, 0.01, 0.08)
        out["bots"], _ = simulate_exposure(directory / "jw01234002001_01101_00001_nrs1_rateints.fits",
                                           bots, paths, light_curve=curve)
        out["light_curve"] = curve
    cache.finish()
    (directory / "truth.json").write_text(json.dumps({k: str(v) for k, v in out.items() if k not in ("light_curve", "nod_rates")}))
    return out
