"""Forward model of MIRI LRS: a point source's spectrum (Jy) to _rate / _rateints files.

The model runs the calibration backwards through the simulated instrument
(:mod:`spec2_miri.instrument`): slit throughput, cross-dispersion PSF integrated over
each pixel, system response and flat; then adds a sky background, Poisson and read
noise, and a few bad pixels. Headers carry the pointing, dither and timing keywords
that assign_wcs, pathloss, srctype and extract_1d read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.special import erf
from stdatamodels.jwst.datamodels.dqflags import pixel

from spec2.association import write_nod_association as nod_association
from spec2_miri import instrument as ins

TARGET_RA, TARGET_DEC = 80.4875, -2.1625  # deg
ROLL_REF = 71.3  # deg, V3 position angle at the reference point
EXPTIME = 1200.0  # s, fixed-slit effective exposure time
READ_NOISE_VAR = 2.0e-5  # (DN/s)^2 per pixel
GAIN = 1.0  # electrons per DN: Poisson variance = rate / time
NOD_OFFSETS = (-1.5, 1.5)  # arcsec along the slit (ideal x)


def default_spectrum(wavelength):
    """A faint star-like continuum with a silicate-like dip, in Jy."""
    wl = np.asarray(wavelength, float)
    return 0.012 * (wl / 10.0) ** -1.6 * (1.0 - 0.25 * np.exp(-(((wl - 9.7) / 0.8) ** 2)))


def transit(times, t0, duration, depth, ingress):
    """Trapezoid light curve, relative flux per time."""
    half = duration / 2.0
    dist = np.abs(np.asarray(times) - t0)
    dip = np.clip((half - dist) / ingress, 0.0, 1.0)
    return 1.0 - depth * dip


@dataclass
class Pointing:
    ra_ref: float
    dec_ref: float
    v2_ref: float
    v3_ref: float
    x_offset: float
    y_offset: float


def pointing_for(x_offset, y_offset, v2_ref=ins.V2_CENTRE, v3_ref=ins.V3_CENTRE):
    """Attitude that puts the target at ideal offset (x_offset, y_offset) arcsec from the
    aperture reference point."""
    from spec2.wcs.pointing import ideal_to_v2v3, v2v3_to_sky

    v2_t, v3_t = ideal_to_v2v3(x_offset, y_offset, ins.V3_YANGLE, v2_ref, v3_ref, ins.VPARITY)
    # Rotation with the target at (v2_t, v3_t); the reference point's sky position follows.
    sky = v2v3_to_sky(v2_t, v3_t, ROLL_REF, TARGET_RA, TARGET_DEC)
    ra_ref, dec_ref = sky(v2_ref, v3_ref)
    return Pointing(float(ra_ref), float(dec_ref), v2_ref, v3_ref, x_offset, y_offset)


def _pixel_fractions(centre, sigma, n):
    """Fraction of a 1-D Gaussian (per row: centre, sigma) falling in pixels 0..n-1."""
    edges = np.arange(n + 1) - 0.5
    s = np.sqrt(2.0) * np.asarray(sigma)[:, None]
    cdf = 0.5 * (1 + erf((edges[None, :] - np.asarray(centre)[:, None]) / s))
    return np.diff(cdf, axis=1)


def _rate_to_flux_per_pixel(wavelength):
    """Jy of point-source flux that gives 1 DN/s (the inverse of photom and extraction)."""
    return ins.PHOTMJSR * ins.relative_response(wavelength) * ins.PIXAR_SR * 1e6


def source_image(shape, x_ref0, y_ref0, spectrum, x_shift=0.0, y_shift=0.0, slit=True):
    """Noiseless count rate of a point source (DN/s) on a detector region.

    x_ref0, y_ref0 -- 0-based reference point in this region's pixel frame;
    x_shift, y_shift -- source offset from the reference point in pixels.
    """
    ny, nx = shape
    rows = np.arange(ny)
    dy = rows - y_ref0 - y_shift  # the wavelength a row sees follows the source
    wl = ins.wavelength_at(dy)
    on_trace = (dy >= ins.DY_MIN) & (dy <= ins.DY_MAX)
    centre = x_ref0 + ins.trace_shift(dy) + x_shift
    frac = _pixel_fractions(centre, ins.psf_sigma(wl), nx)
    flux = np.where(on_trace, spectrum(np.where(on_trace, wl, 10.0)), 0.0)
    if slit:
        flux = flux * ins.slit_throughput(wl, y_shift)
    rate = (flux / _rate_to_flux_per_pixel(wl))[:, None] * frac
    return rate, np.where(on_trace, wl, np.nan)


def slit_sky(shape, x_ref0, y_ref0, level):
    """Uniform sky through the slit: rows on the trace, columns inside the slit length."""
    rows, cols = np.indices(shape)
    dy = rows - y_ref0
    half = ins.SLIT_HALF_LENGTH / ins.PIXEL_SCALE
    inside = (np.abs(cols - x_ref0 - ins.trace_shift(dy)) <= half) & (dy >= ins.DY_MIN - 3) & (dy <= ins.DY_MAX + 3)
    return np.where(inside, level * (0.8 + 0.02 * np.clip(-dy, -80, 160) / 10.0), 0.0)


def _noisy(rate, exptime, rng):
    var_p = np.clip(rate, 0, None) / (GAIN * exptime)
    var_r = np.full_like(rate, READ_NOISE_VAR)
    data = rate + rng.standard_normal(rate.shape) * np.sqrt(var_p + var_r)
    return data.astype(np.float32), var_p.astype(np.float32), var_r.astype(np.float32)


def _bad_pixels(shape, rng, n):
    """n random (row, column) positions on the last two axes of ``shape``."""
    ys = rng.integers(0, shape[-2], n)
    xs = rng.integers(0, shape[-1], n)
    return ys, xs


HOT_PIXEL_WAVELENGTH = 10.0  # micron: the row of the deliberate hot pixel in the slit


def detector_defects(n=40, seed=11, margin=6):
    """(rows, columns) of the full-frame detector's bad pixels, the same in every exposure.

    Defects belong to the detector, not to the source, so both nods see the same map. The
    columns within ``margin`` pixels of either nod's trace are kept clear: like
    calwebb_spec2 (pixel_replace off), spec2 cannot recover the flux of a dead pixel on
    the PSF core (resample_spec fills it from a sliver of the next column), so a defect
    there makes a real dip that the injected truth does not have. One hot pixel sits in
    the slit between the nods on the ``HOT_PIXEL_WAVELENGTH`` row, where nod subtraction,
    resample_spec and the _s2d must carry it as NaN.
    """
    rng = np.random.default_rng(seed)
    x0, y0 = ins.FS_REF[0] - 1, ins.FS_REF[1] - 1
    ys = rng.integers(0, ins.FULL_SHAPE[0], 4 * n)
    xs = rng.integers(0, ins.FULL_SHAPE[1], 4 * n)
    centre = x0 + ins.trace_shift(ys - y0)
    clear = np.ones(ys.size, bool)
    for offset in NOD_OFFSETS:
        clear &= np.abs(xs - centre - offset / ins.PIXEL_SCALE) > margin
    ys, xs = ys[clear][:n], xs[clear][:n]
    dy = _row_offset_at(HOT_PIXEL_WAVELENGTH)
    yh, xh = round(y0 + dy), round(float(x0 + ins.trace_shift(dy)))
    return np.append(ys, yh), np.append(xs, xh)


def _row_offset_at(wavelength):
    """The row offset dy (from y_ref) where the trace has ``wavelength``."""
    dy = np.arange(ins.DY_MIN, ins.DY_MAX + 0.01, 0.01)
    return float(dy[np.argmin(np.abs(ins.wavelength_at(dy) - wavelength))])


def _fill_header(m, exp_type, pointing: Pointing, subarray, nints, exptime):
    from astropy.time import Time

    m.meta.telescope = "JWST"
    m.meta.instrument.name = "MIRI"
    m.meta.instrument.detector = "MIRIMAGE"
    m.meta.instrument.filter = "P750L"
    m.meta.exposure.type = exp_type
    m.meta.exposure.nints = nints
    m.meta.exposure.ngroups = 20
    m.meta.exposure.nframes = 1
    m.meta.exposure.readpatt = "FASTR1"
    m.meta.exposure.frame_time = 2.775 if subarray["name"] == "FULL" else 0.159
    m.meta.exposure.group_time = m.meta.exposure.frame_time
    m.meta.exposure.integration_time = exptime / nints
    m.meta.exposure.exposure_time = exptime
    m.meta.exposure.effective_exposure_time = exptime
    start = Time("2024-03-01T10:00:00", scale="utc")
    m.meta.exposure.start_time = start.mjd
    m.meta.exposure.mid_time = start.mjd + exptime / 2 / 86400
    m.meta.exposure.end_time = start.mjd + exptime / 86400
    m.meta.observation.date = "2024-03-01"
    m.meta.observation.time = "10:00:00.000"
    m.meta.date = "2024-03-01T12:00:00.000"
    m.meta.target.ra, m.meta.target.dec = TARGET_RA, TARGET_DEC
    m.meta.target.source_type_apt = "POINT"
    m.meta.target.proposer_name = "SIMSTAR"
    m.meta.subarray.name = subarray["name"]
    for key in ("xstart", "ystart", "xsize", "ysize"):
        setattr(m.meta.subarray, key, subarray[key])
    m.meta.subarray.fastaxis, m.meta.subarray.slowaxis = 1, 2
    w = m.meta.wcsinfo
    w.v2_ref, w.v3_ref = pointing.v2_ref, pointing.v3_ref
    w.v3yangle, w.vparity = ins.V3_YANGLE, ins.VPARITY
    w.roll_ref, w.ra_ref, w.dec_ref = ROLL_REF, pointing.ra_ref, pointing.dec_ref
    m.meta.pointing.ra_v1, m.meta.pointing.dec_v1 = pointing.ra_ref, pointing.dec_ref
    m.meta.pointing.pa_v3 = ROLL_REF
    m.meta.dither.x_offset, m.meta.dither.y_offset = pointing.x_offset, pointing.y_offset
    m.meta.dither.primary_type = "ALONG-SLIT-NOD" if exp_type.endswith("FIXEDSLIT") else "NONE"
    m.meta.visit.tsovisit = exp_type.endswith("SLITLESS")
    m.meta.coordinates.reference_frame = "ICRS"
    m.meta.cal_step.dq_init = m.meta.cal_step.ramp_fit = "COMPLETE"
    m.meta.bunit_data, m.meta.bunit_err = "DN/s", "DN/s"


def fixed_slit_exposure(path, x_offset, spectrum=default_spectrum, sky_level=0.8, seed=0):
    """One LRS fixed-slit nod: the target ``x_offset`` arcsec along the slit."""
    from stdatamodels.jwst.datamodels import ImageModel

    rng = np.random.default_rng(seed)
    shape = ins.FULL_SHAPE
    x0, y0 = ins.FS_REF[0] - 1, ins.FS_REF[1] - 1
    # the ideal x axis runs along detector x (see the distortion reference)
    rate, _ = source_image(shape, x0, y0, spectrum, x_shift=x_offset / ins.PIXEL_SCALE)
    rate += slit_sky(shape, x0, y0, sky_level)
    rate *= ins.flat_pattern(shape)
    data, vp, vr = _noisy(rate, EXPTIME, rng)
    dq = np.zeros(shape, np.uint32)
    ys, xs = detector_defects()
    dq[ys, xs] = pixel["DO_NOT_USE"] | pixel["HOT"]
    data[ys, xs] = np.nan
    m = ImageModel(data=data, dq=dq, var_poisson=vp, var_rnoise=vr, err=np.sqrt(vp + vr))
    full = dict(name="FULL", xstart=1, ystart=1, xsize=shape[1], ysize=shape[0])
    _fill_header(m, "MIR_LRS-FIXEDSLIT", pointing_for(x_offset, 0.0), full, 1, EXPTIME)
    m.meta.filename = Path(path).name
    m.save(path)
    return path


def slitless_time_series(path, nints=50, spectrum=default_spectrum, depth=0.01, sky_level=0.3, seed=1):
    """LRS slitless rateints on SLITLESSPRISM with a transit in the middle third.

    Returns (path, light_curve).
    """
    from stdatamodels.jwst.datamodels import CubeModel

    rng = np.random.default_rng(seed)
    sub = ins.SLITLESS_SUBARRAY
    shape = (sub["ysize"], sub["xsize"])
    x0 = ins.SLITLESS_REF[0] - sub["xstart"]
    y0 = ins.SLITLESS_REF[1] - sub["ystart"]
    rate, _ = source_image(shape, x0, y0, spectrum, slit=False)
    sky = np.full(shape, sky_level, float)
    flat = ins.flat_pattern(ins.FULL_SHAPE)[sub["ystart"] - 1 : sub["ystart"] - 1 + shape[0], sub["xstart"] - 1 : sub["xstart"] - 1 + shape[1]]
    int_time = 10.0
    times = np.arange(nints) * int_time
    lc = transit(times, times.mean(), times[-1] / 3.0, depth, times[-1] / 20.0 + int_time)
    model = (lc[:, None, None] * rate[None] + sky[None]) * flat[None]
    data, vp, vr = _noisy(model, int_time, rng)
    dq = np.zeros(data.shape, np.uint32)
    ys, xs = _bad_pixels(shape, rng, 6)
    dq[:, ys, xs] = pixel["DO_NOT_USE"] | pixel["HOT"]
    data[:, ys, xs] = np.nan
    dq[:, :, :4] |= pixel["REFERENCE_PIXEL"]  # columns on the left of the subarray
    m = CubeModel(data=data, dq=dq, var_poisson=vp, var_rnoise=vr, err=np.sqrt(vp + vr))
    _fill_header(m, "MIR_LRS-SLITLESS", pointing_for(0.0, 0.0, *_slitless_v2v3()), sub, nints, int_time * nints)
    m.meta.exposure.integration_start = 1
    m.meta.exposure.integration_end = nints
    start = m.meta.exposure.start_time
    table = np.zeros(
        nints,
        dtype=[("integration_number", "i4")] + [(f"int_{a}_{b}", "f8") for b in ("MJD_UTC", "BJD_TDB") for a in ("start", "mid", "end")],
    )
    table["integration_number"] = np.arange(1, nints + 1)
    for b, off in (("MJD_UTC", 0.0), ("BJD_TDB", 0.0008)):
        table[f"int_start_{b}"] = start + off + times / 86400
        table[f"int_mid_{b}"] = start + off + (times + int_time / 2) / 86400
        table[f"int_end_{b}"] = start + off + (times + int_time) / 86400
    m.int_times = table
    m.meta.filename = Path(path).name
    m.save(path)
    return path, lc


def _slitless_v2v3():
    """V2/V3 of the slitless reference point through the simulated distortion."""
    from spec2_miri.sim.references import distortion_model

    v2, v3 = distortion_model()(ins.SLITLESS_REF[0] - 1, ins.SLITLESS_REF[1] - 1)
    return float(v2), float(v3)


def simulate_lrs(directory: Path, cache, nints=50, seed=0):
    """Write the reference set into ``cache`` and a fixed-slit nod pair (with its ASN) and a
    slitless time series into ``directory``. Returns a dict of paths and truths."""
    from spec2_miri.sim.references import write_reference_set

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    refs = write_reference_set(cache)
    nods = []
    for i, off in enumerate(NOD_OFFSETS):
        p = directory / f"jw01234001001_0310{i + 1}_00001_mirimage_rate.fits"
        nods.append(fixed_slit_exposure(p, off, seed=seed + i))
    names = [p.name.replace("_rate.fits", "") for p in nods]
    asn = nod_association(directory / "jw01234-a3001_spec2_00001_asn.json", nods, names)
    tso, lc = slitless_time_series(
        directory / "jw01234002001_03101_00001-seg001_mirimage_rateints.fits", nints=nints, seed=seed + 7
    )
    return {"references": refs, "nods": nods, "asn": asn, "tso": tso, "light_curve": lc}
