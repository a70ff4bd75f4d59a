"""NIRCam wide-field slitless field (NRC_WFSS): the sources, the exposure's header and
the source catalog jwst's source_catalog step would have written for the direct image.

The dispersed image itself is the next part of this simulator (issue 4); what is here
places a crowded field of point-like and extended sources on the detector and writes
their catalog (ECSV, with sky centroids and sky bounding-box corners) through the
exposure's imaging WCS, which is what the cut-out boxes of extract_2d depend on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spec2_nircam import instrument as ins

FIELD_RA, FIELD_DEC = 53.1624, -27.7914  # deg, the reference point
ROLL_REF = 21.7
VELOSYS = 14200.0  # m/s


@dataclass
class Sources:
    """Direct-image (0-based full-frame pixels) positions, Gaussian sigma (pixels), AB
    magnitude and extendedness of each source."""

    label: np.ndarray
    x: np.ndarray
    y: np.ndarray
    sigma: np.ndarray
    abmag: np.ndarray
    is_extended: np.ndarray


def random_sources(n, seed=5, shape=ins.FULL_SHAPE, margin=-40):
    """``n`` sources scattered over (and a little beyond: ``margin`` < 0) the detector."""
    rng = np.random.default_rng(seed)
    ny, nx = shape
    x = rng.uniform(margin, nx - 1 - margin, n)
    y = rng.uniform(margin, ny - 1 - margin, n)
    sigma = rng.uniform(0.8, 4.0, n)
    return Sources(label=np.arange(1, n + 1), x=x, y=y, sigma=sigma, abmag=rng.uniform(18.0, 25.5, n),
                   is_extended=sigma > 2.5)


def fill_wfss_header(m, pupil="GRISMR"):
    """Keywords of a full-frame NIRCam WFSS exposure pointed at the simulated field."""
    from spec2_nircam.simulate import fill_nircam_keywords

    fill_nircam_keywords(m, "NRC_WFSS", pupil, FIELD_RA, FIELD_DEC, ROLL_REF, VELOSYS)
    m.meta.exposure.nints, m.meta.exposure.ngroups, m.meta.exposure.nframes = 1, 9, 1
    m.meta.exposure.readpatt = "MEDIUM8"
    m.meta.exposure.exposure_time = m.meta.exposure.effective_exposure_time = 1030.0
    m.meta.exposure.start_time = 60500.1
    m.meta.exposure.mid_time = 60500.1 + 515.0 / 86400
    m.meta.exposure.end_time = 60500.1 + 1030.0 / 86400
    m.meta.observation.date, m.meta.observation.time = "2024-07-19", "02:24:00.000"
    o = m.meta.observation  # the parts of the exposure's identity (jwst's x1d group_id)
    o.program_number, o.observation_number, o.visit_number = "02738", "005", "001"
    o.visit_group, o.sequence_id, o.activity_id, o.exposure_number = "02", "1", "03", "00001"
    m.meta.subarray.name = "FULL"
    m.meta.subarray.xstart = m.meta.subarray.ystart = 1
    m.meta.subarray.ysize, m.meta.subarray.xsize = ins.FULL_SHAPE
    m.meta.subarray.fastaxis, m.meta.subarray.slowaxis = -1, 2
    return m


def write_catalog(path, sources: Sources, detector_to_sky, half_size=3.0):
    """The ECSV catalog of ``sources``: centroids, sky centroid and the sky corners of a
    box of +- ``half_size`` sigma (whole pixels, as a segmentation map's bounding box)."""
    from astropy import units as u
    from astropy.coordinates import SkyCoord
    from astropy.table import QTable

    def sky(x, y):
        ra, dec = detector_to_sky(np.asarray(x, float), np.asarray(y, float))
        return SkyCoord(ra * u.deg, dec * u.deg, frame="icrs")

    reach = np.ceil(half_size * sources.sigma)
    xmin, xmax = np.round(sources.x - reach), np.round(sources.x + reach)
    ymin, ymax = np.round(sources.y - reach), np.round(sources.y + reach)
    table = QTable()
    table["label"] = sources.label.astype(np.int32)
    table["xcentroid"] = sources.x
    table["ycentroid"] = sources.y
    table["sky_centroid"] = sky(sources.x, sources.y)
    table["isophotal_abmag"] = sources.abmag
    table["isophotal_abmag_err"] = np.full(sources.x.size, 0.02)
    table["sky_bbox_ll"] = sky(xmin - 0.5, ymin - 0.5)
    table["sky_bbox_lr"] = sky(xmax + 0.5, ymin - 0.5)
    table["sky_bbox_ul"] = sky(xmin - 0.5, ymax + 0.5)
    table["sky_bbox_ur"] = sky(xmax + 0.5, ymax + 0.5)
    table["is_extended"] = sources.is_extended
    table.write(path, format="ascii.ecsv", overwrite=True)
    return path


# -- the dispersed image --------------------------------------------------------------------

LINES = (4.05, 4.65)  # micron: emission lines given to every third source


def source_spectrum(abmag, slope, line_strength=0.0):
    """F_nu (Jy) of a source: AB magnitude at 4.4 micron, a power law, and optional
    emission lines (peak ``line_strength`` times the continuum, 0.004 micron sigma)."""
    f0 = 3631.0 * 10 ** (-0.4 * abmag)

    def spectrum(wavelength):
        wl = np.asarray(wavelength, float)
        cont = f0 * (wl / 4.4) ** slope
        bump = sum(np.exp(-0.5 * ((wl - line) / 0.004) ** 2) for line in LINES)
        return cont * (1.0 + line_strength * bump)

    return spectrum


def spectra_for(sources: Sources, seed=9):
    """One spectrum per source: random slopes, lines for every third source."""
    rng = np.random.default_rng(seed)
    slopes = rng.uniform(-2.5, 1.0, len(sources.label))
    return [source_spectrum(m, s, 3.0 if i % 3 == 0 else 0.0)
            for i, (m, s) in enumerate(zip(sources.abmag, slopes))]


def trace_stamp(g, x0, y0, sigma, spectrum, velocity_factor, shape):
    """(rows, columns, stamp) of one source's first-order trace in DN/s: its spectrum
    per column (flux x dispersion / photom conversion), smeared along the dispersion by
    the source's own extent, spread across rows by the source and the PSF."""
    from scipy.ndimage import gaussian_filter1d
    from scipy.special import erf

    from spec2.algorithms.grism import trace_parameter_from_offset

    ny, nx = shape
    lo = int(np.floor(x0 + g.dx(0.0, x0, y0))) - 10
    hi = int(np.ceil(x0 + g.dx(1.0, x0, y0))) + 10
    cols = np.arange(max(lo, 0), min(hi, nx - 1) + 1)
    if cols.size < 2:
        return None
    t = trace_parameter_from_offset(g, cols - x0, x0, y0)
    wl = g.wavelength(t, x0, y0) * velocity_factor
    dispersion = np.abs(np.gradient(wl))
    on = (t >= 0) & (t <= 1)
    per_count = ins.PHOTMJSR * ins.relative_response(np.where(on, wl, 4.4)) / dispersion * ins.PIXAR_SR * 1e6
    rate = np.where(on, spectrum(np.where(on, wl, 4.4)) / per_count, 0.0)
    rate = gaussian_filter1d(rate, sigma, mode="constant")
    centre = y0 + g.dy(t, x0, y0)
    width = np.sqrt(sigma**2 + ins.psf_sigma(np.where(on, wl, 4.4)) ** 2)
    r0 = max(int(np.floor(np.min(centre) - 5 * width.max())), 0)
    r1 = min(int(np.ceil(np.max(centre) + 5 * width.max())), ny - 1)
    if r1 < r0:
        return None
    edges = np.arange(r0, r1 + 2) - 0.5
    cdf = 0.5 * (1 + erf((edges[:, None] - centre[None, :]) / (np.sqrt(2.0) * width[None, :])))
    return slice(r0, r1 + 1), slice(cols[0], cols[-1] + 1), np.diff(cdf, axis=0) * rate[None, :]


def dispersed_rate(sources: Sources, spectra, g, velocity_factor, shape=ins.FULL_SHAPE):
    """Noiseless first-order count rate (DN/s) of every source on the detector."""
    image = np.zeros(shape)
    for x0, y0, sigma, spectrum in zip(sources.x, sources.y, sources.sigma, spectra):
        stamp = trace_stamp(g, x0, y0, sigma, spectrum, velocity_factor, shape)
        if stamp is not None:
            rows, cols, values = stamp
            image[rows, cols] += values
    return image


SKY_SCALE = 0.7  # the dispersed sky is SKY_SCALE x the WFSSBKG reference (DN/s)
EXPTIME = 1030.0
READ_NOISE_VAR = 1.0e-4  # (DN/s)^2


def simulate_wfss(directory, cache, n_sources=60, seed=5, pupil="GRISMR"):
    """Write the NIRCam grism references into ``cache`` and one full-frame WFSS exposure
    with its source catalog and association into ``directory``. Returns the paths and the
    truth (sources and their spectra)."""
    from pathlib import Path

    from stdatamodels.jwst import datamodels

    from spec2.wcs.grism import nircam_orders
    from spec2.wcs.velocity import velocity_factor
    from spec2_nircam.assign_wcs import build_wfss_wcs
    from spec2_nircam.reffiles import write_reference_set

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    refs = write_reference_set(cache)
    rng = np.random.default_rng(seed)
    shape = ins.FULL_SHAPE
    model = fill_wfss_header(datamodels.ImageModel(np.zeros(shape, np.float32)), pupil=pupil)
    specwcs = datamodels.NIRCAMGrismModel(refs["specwcs"])
    wcs = build_wfss_wcs(model, specwcs, datamodels.DistortionModel(refs["distortion"]),
                         datamodels.FilteroffsetModel(refs["filteroffset"]))
    to_sky = wcs.get_transform("detector", "world")
    sources = random_sources(n_sources, seed=seed)
    spectra = spectra_for(sources, seed=seed + 1)
    stem = "jw02738005001_02103_00001_nrcalong"
    catalog = write_catalog(directory / "jw02738-o005_t001_nircam_clear-f444w_cat.ecsv", sources,
                            lambda x, y: to_sky(x, y, 1.0, 1)[:2])
    rate = dispersed_rate(sources, spectra, nircam_orders(specwcs)[1], velocity_factor(model.meta.wcsinfo.velosys),
                          shape)
    rate = (rate + SKY_SCALE * ins.sky_pattern(shape)) * ins.flat_pattern(shape)
    var_p = np.clip(rate, 0, None) / (1.8 * EXPTIME)
    var_r = np.full(shape, READ_NOISE_VAR)
    data = rate + rng.standard_normal(shape) * np.sqrt(var_p + var_r)
    dq = np.zeros(shape, np.uint32)
    ys, xs = rng.integers(4, shape[0] - 4, 300), rng.integers(4, shape[1] - 4, 300)
    dq[ys, xs] = 1 | 2048
    data[ys, xs] = np.nan
    for edge in (np.s_[:4, :], np.s_[-4:, :], np.s_[:, :4], np.s_[:, -4:]):
        dq[edge] |= 2**31  # reference pixels
    model.data = data.astype(np.float32)
    model.dq, model.var_poisson, model.var_rnoise = dq, var_p.astype(np.float32), var_r.astype(np.float32)
    model.err = np.sqrt(model.var_poisson + model.var_rnoise)
    model.meta.filename = f"{stem}_rate.fits"
    path = directory / model.meta.filename
    model.save(path)
    asn = {"asn_type": "spec2", "asn_rule": "Asn_Lv2WFSS", "asn_id": "a3001", "asn_pool": "sim",
           "program": "02738", "products": [{"name": stem, "members": [
               {"expname": path.name, "exptype": "science"},
               {"expname": catalog.name, "exptype": "sourcecat"}]}]}
    import json

    asn_path = directory / "jw02738-o005_20240719t022400_spec2_00001_asn.json"
    asn_path.write_text(json.dumps(asn, indent=1))
    return {"references": refs, "rate": path, "catalog": catalog, "asn": asn_path, "sources": sources,
            "spectra": spectra}
