"""Forward model of NIRCam grism time series (NRC_TSGRISM): a star's spectrum (Jy) and a
transit light curve to a ``_rateints`` file on SUBGRISM64, 128 or 256.

Each detector column sees the wavelength that the specwcs assigns to it for a source at
the aperture reference point (the convention jwst's WCS uses); the light of a column is
the spectrum times the dispersion (micron per pixel) divided by the photom conversion,
spread across rows by a Gaussian PSF around the trace, then multiplied by the flat, plus
sky, Poisson and read noise, and a few bad pixels.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.special import erf
from stdatamodels.jwst.datamodels.dqflags import pixel

from spec2_nircam import instrument as ins

TARGET_RA, TARGET_DEC = 293.1257, 42.3381  # deg
ROLL_REF = 112.4  # deg
READ_NOISE_VAR = 4.0e-4  # (DN/s)^2 per pixel and integration
GAIN = 1.8  # electrons per DN
INTEGRATION_TIME = 8.2  # s
VELOSYS = -8120.0  # m/s, barycentric radial velocity of the observatory


def default_spectrum(wavelength):
    """A bright star (K ~ 8) with a CO2-like absorption band near 4.3 micron, in Jy."""
    wl = np.asarray(wavelength, float)
    return 0.21 * (wl / 4.4) ** -1.9 * (1.0 - 0.12 * np.exp(-(((wl - 4.30) / 0.06) ** 2)))


def transit(times, t0, duration, depth, ingress):
    """Trapezoid light curve, relative flux per time."""
    half = duration / 2.0
    dip = np.clip((half - np.abs(np.asarray(times) - t0)) / ingress, 0.0, 1.0)
    return 1.0 - depth * dip


def order1():
    """The simulated specwcs' first order as a :class:`spec2.algorithms.grism.GrismOrder`."""
    from spec2.wcs.grism import grism_orders
    from spec2_nircam.sim.references import dispersion_models

    orders, displ, dispx, dispy, invdispx, _ = dispersion_models()
    return grism_orders(orders, displ, dispx, dispy, [], invdispx)[1]


def trace_columns(xstart=1, nx=2048):
    """For each column of a subarray starting at ``xstart`` (1-based): wavelength (micron,
    observatory frame), dispersion (micron per pixel) and trace row offset dy, for the
    source at the reference point."""
    from spec2.algorithms.grism import trace_parameter_from_offset

    g = order1()
    x0, y0 = ins.TSO_REF  # jwst's WCS takes XREF_SCI/YREF_SCI as the direct-image position
    x = np.arange(nx, dtype=float) + (xstart - 1)
    t = trace_parameter_from_offset(g, x - x0, x0, y0)
    wl = g.wavelength(t, x0, y0)
    return wl, np.gradient(wl), g.dy(t, x0, y0), t


def source_rate(shape, xstart, ystart, spectrum):
    """Noiseless count rate (DN/s) of the star on a (ny, nx) subarray."""
    ny, nx = shape
    wl, dispersion, dy, t = trace_columns(xstart, nx)
    on = (t >= 0) & (t <= 1) & (wl >= ins.WAVELENGTH_RANGE[1][0]) & (wl <= ins.WAVELENGTH_RANGE[1][1])
    # calibrated flux [Jy] = rate x PHOTMJSR x relresponse / |dlambda/dx| x PIXAR_SR x 1e6
    per_rate = ins.PHOTMJSR * ins.relative_response(wl) / np.abs(dispersion) * ins.PIXAR_SR * 1e6
    column = np.where(on, spectrum(np.where(on, wl, 4.4)) / per_rate, 0.0)
    centre = ins.TSO_REF[1] - 1 + dy - (ystart - 1)  # 0-based row of the trace in the subarray
    edges = np.arange(ny + 1) - 0.5
    s = np.sqrt(2.0) * ins.psf_sigma(np.where(on, wl, 4.4))
    frac = np.diff(0.5 * (1 + erf((edges[:, None] - centre[None, :]) / s[None, :])), axis=0)
    return column[None, :] * frac, wl


def _int_times(start_mjd, nints):
    times = np.arange(nints) * INTEGRATION_TIME
    table = np.zeros(nints, dtype=[("integration_number", "i4")] + [
        (f"int_{a}_{b}", "f8") for b in ("MJD_UTC", "BJD_TDB") for a in ("start", "mid", "end")])
    table["integration_number"] = np.arange(1, nints + 1)
    for b, off in (("MJD_UTC", 0.0), ("BJD_TDB", 0.0007)):
        table[f"int_start_{b}"] = start_mjd + off + times / 86400
        table[f"int_mid_{b}"] = start_mjd + off + (times + INTEGRATION_TIME / 2) / 86400
        table[f"int_end_{b}"] = start_mjd + off + (times + INTEGRATION_TIME) / 86400
    return table


def fill_nircam_keywords(m, exp_type, pupil, ra_ref, dec_ref, roll_ref, velosys, module="A"):
    """The keywords every simulated NIRCam LW grism exposure shares: instrument, the
    aperture geometry and attitude (V2/V3_REF on RA/DEC_REF at ROLL_REF), units and
    the stage-1 steps done."""
    mod = ins.MODULES[module]
    m.meta.telescope = "JWST"
    i = m.meta.instrument
    i.name, i.detector, i.channel, i.module = "NIRCAM", mod["detector"], "LONG", module
    i.filter, i.pupil = ins.FILTER, pupil
    m.meta.exposure.type = exp_type
    w = m.meta.wcsinfo
    w.v2_ref, w.v3_ref, w.v3yangle, w.vparity = mod["v2_ref"], mod["v3_ref"], mod["v3_yangle"], ins.VPARITY
    w.ra_ref, w.dec_ref, w.roll_ref, w.velosys = ra_ref, dec_ref, roll_ref, velosys
    m.meta.pointing.ra_v1, m.meta.pointing.dec_v1, m.meta.pointing.pa_v3 = ra_ref, dec_ref, roll_ref
    m.meta.velocity_aberration.scale_factor = 1.0
    m.meta.coordinates.reference_frame = "ICRS"
    m.meta.cal_step.dq_init = m.meta.cal_step.ramp_fit = "COMPLETE"
    m.meta.bunit_data, m.meta.bunit_err = "DN/s", "DN/s"
    return m


def _fill_header(m, nints, sub):
    from astropy.time import Time

    from spec2.wcs.pointing import ideal_to_v2v3, v2v3_to_sky

    exptime = nints * INTEGRATION_TIME
    # the target sits on the reference point (no offset special requirement)
    v2, v3 = ideal_to_v2v3(0.0, 0.0, ins.V3_YANGLE, ins.V2_REF, ins.V3_REF, ins.VPARITY)
    ra_ref, dec_ref = v2v3_to_sky(v2, v3, ROLL_REF, TARGET_RA, TARGET_DEC)(ins.V2_REF, ins.V3_REF)
    fill_nircam_keywords(m, "NRC_TSGRISM", ins.PUPIL, float(ra_ref), float(dec_ref), ROLL_REF, VELOSYS)
    m.meta.exposure.nints = nints
    m.meta.exposure.integration_start, m.meta.exposure.integration_end = 1, nints
    m.meta.exposure.ngroups, m.meta.exposure.nframes = 12, 1
    m.meta.exposure.readpatt = "RAPID"
    m.meta.exposure.frame_time = m.meta.exposure.group_time = 0.683
    m.meta.exposure.integration_time = INTEGRATION_TIME
    m.meta.exposure.exposure_time = m.meta.exposure.effective_exposure_time = exptime
    start = Time("2024-07-14T03:00:00", scale="utc").mjd
    m.meta.exposure.start_time = start
    m.meta.exposure.mid_time = start + exptime / 2 / 86400
    m.meta.exposure.end_time = start + exptime / 86400
    m.meta.observation.date, m.meta.observation.time = "2024-07-14", "03:00:00.000"
    m.meta.date = "2024-07-14T09:00:00.000"
    m.meta.target.ra, m.meta.target.dec = TARGET_RA, TARGET_DEC
    m.meta.target.source_type_apt = "POINT"
    m.meta.target.proposer_name = "SIMHOST"
    m.meta.target.catalog_name = "SIM-HOST-1"
    m.meta.subarray.name = sub["name"]
    for key in ("xstart", "ystart", "xsize", "ysize"):
        setattr(m.meta.subarray, key, sub[key])
    m.meta.subarray.fastaxis, m.meta.subarray.slowaxis = -1, 2
    m.meta.aperture.name = m.meta.aperture.pps_name = ins.TSO_APERTURE.format(rows=sub["ysize"])
    m.meta.wcsinfo.siaf_xref_sci, m.meta.wcsinfo.siaf_yref_sci = ins.TSO_REF
    m.meta.dither.x_offset = m.meta.dither.y_offset = 0.0
    m.meta.dither.primary_type = "NONE"
    m.meta.visit.tsovisit = True
    m.int_times = _int_times(start, nints)


def time_series(path, nints=100, spectrum=default_spectrum, depth=0.008, sky_level=0.6, seed=3, rows=64):
    """Write a TSGRISM ``_rateints`` on SUBGRISM``rows`` (64, 128 or 256) with a transit
    in the middle third.

    Returns (path, light_curve)."""
    from stdatamodels.jwst.datamodels import CubeModel

    rng = np.random.default_rng(seed)
    sub = ins.TSO_SUBARRAYS[rows]
    shape = (sub["ysize"], sub["xsize"])
    star, _ = source_rate(shape, sub["xstart"], sub["ystart"], spectrum)
    flat = ins.flat_pattern(ins.FULL_SHAPE)[sub["ystart"] - 1: sub["ystart"] - 1 + shape[0],
                                            sub["xstart"] - 1: sub["xstart"] - 1 + shape[1]]
    times = np.arange(nints) * INTEGRATION_TIME
    lc = transit(times, times.mean(), times[-1] / 3.0, depth, times[-1] / 20.0 + INTEGRATION_TIME)
    rate = ((lc[:, None, None] * star[None] + sky_level) * flat[None]).astype(np.float32)
    var_p = (np.clip(rate, 0, None) / (GAIN * INTEGRATION_TIME)).astype(np.float32)
    var_r = np.full(rate.shape, READ_NOISE_VAR, np.float32)
    data = (rate + rng.standard_normal(rate.shape, dtype=np.float32) * np.sqrt(var_p + var_r)).astype(np.float32)
    dq = np.zeros(rate.shape, np.uint32)
    ys, xs = rng.integers(0, shape[0], 8), rng.integers(4, shape[1] - 4, 8)
    dq[:, ys, xs] = pixel["DO_NOT_USE"] | pixel["HOT"]
    data[:, ys, xs] = np.nan
    dq[:, :, :4] |= pixel["REFERENCE_PIXEL"]  # columns at both ends of the row
    dq[:, :, -4:] |= pixel["REFERENCE_PIXEL"]
    m = CubeModel(data=data, dq=dq, var_poisson=var_p, var_rnoise=var_r, err=np.sqrt(var_p + var_r))
    _fill_header(m, nints, sub)
    m.meta.filename = Path(path).name
    m.save(path)
    return path, lc


def simulate_tsgrism(directory: Path, cache, nints=100, seed=3, rows=64):
    """Write the reference set into ``cache`` and one grism time series on SUBGRISM``rows``
    into ``directory``. Returns a dict of paths and truths."""
    from spec2_nircam.sim.references import write_reference_set

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    refs = write_reference_set(cache)
    path = directory / "jw01366004001_04103_00001-seg001_nrcalong_rateints.fits"
    tso, lc = time_series(path, nints=nints, seed=seed, rows=rows)
    return {"references": refs, "tso": tso, "light_curve": lc}
