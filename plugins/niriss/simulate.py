"""Forward model of a NIRISS wide-field slitless exposure (NIS_WFSS): a crowded field of
point-like and extended sources with known spectra (some with emission lines), dispersed
in orders 0, 1 and 2 by GR150C or GR150R through F150W, on a dispersed sky; with the
source catalog jwst's source_catalog step would have written for the direct image and
the spec2 association.

Each source's trace follows the specwcs exactly as extract_2d places it (the backward
dispersion, turned by the filter wheel): along the dispersion, every pixel gets the
spectrum at its wavelength times the dispersion over the photom conversion, smeared by
the source's own extent; across, a Gaussian of the source and the PSF. Then the sky (the
WFSSBKG shape times SKY_SCALE), the flat, Poisson and read noise, and bad pixels.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spec2_niriss import instrument as ins

FIELD_RA, FIELD_DEC = 150.1163, 2.2058  # deg, the reference point (COSMOS-like field)
ROLL_REF = 248.3
VELOSYS = -21300.0  # m/s
SKY_SCALE = 0.85  # the sky is SKY_SCALE x the WFSSBKG reference (DN/s)
EXPTIME = 1288.5
GAIN = 1.6
READ_NOISE_VAR = 2.0e-4  # (DN/s)^2
LINES = (1.41, 1.56)  # micron: emission lines given to every third source
STEM = "jw01571010001_04101_00001_nis"


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


def random_sources(n, seed=5, shape=ins.FULL_SHAPE, margin=0):
    """``n`` sources scattered over the detector (the direct image is taken with the same
    detector, so catalog centroids are on it; their extent may reach beyond the edges)."""
    rng = np.random.default_rng(seed)
    ny, nx = shape
    x = rng.uniform(margin, nx - 1 - margin, n)
    y = rng.uniform(margin, ny - 1 - margin, n)
    sigma = rng.uniform(0.7, 3.5, n)
    return Sources(label=np.arange(1, n + 1), x=x, y=y, sigma=sigma, abmag=rng.uniform(17.5, 24.5, n),
                   is_extended=sigma > 2.2)


def source_spectrum(abmag, slope, line_strength=0.0):
    """F_nu (Jy) of a source: AB magnitude at 1.5 micron, a power law, and optional
    emission lines (peak ``line_strength`` times the continuum, 0.002 micron sigma)."""
    f0 = 3631.0 * 10 ** (-0.4 * abmag)

    def spectrum(wavelength):
        wl = np.asarray(wavelength, float)
        bump = sum(np.exp(-0.5 * ((wl - line) / 0.002) ** 2) for line in LINES)
        return f0 * (wl / 1.5) ** slope * (1.0 + line_strength * bump)

    return spectrum


def spectra_for(sources: Sources, seed=9):
    """One spectrum per source: random slopes, lines for every third source."""
    rng = np.random.default_rng(seed)
    slopes = rng.uniform(-2.0, 1.5, len(sources.label))
    return [source_spectrum(m, s, 3.0 if i % 3 == 0 else 0.0)
            for i, (m, s) in enumerate(zip(sources.abmag, slopes))]


def trace_stamp(g, x0, y0, sigma, spectrum, *, axis, rotation, velocity_factor, shape):
    """(rows, columns, stamp) of one source's trace in one order, in DN/s; None when it
    misses the detector. ``rotation`` turns the trace offsets (degrees), ``axis`` is
    "row" (dispersion along x) or "column"."""
    from scipy.ndimage import gaussian_filter1d
    from scipy.special import erf

    from spec2.algorithms.grism import rotate

    t = np.linspace(0.0, 1.0, 2001)
    dx, dy = rotate(g.dx(t, x0, y0), g.dy(t, x0, y0), rotation)
    along_t, across_t = (x0 + dx, y0 + dy) if axis == "row" else (y0 + dy, x0 + dx)
    n_along = shape[1] if axis == "row" else shape[0]
    n_across = shape[0] if axis == "row" else shape[1]
    lo = max(int(np.floor(along_t.min())) - 8, 0)
    hi = min(int(np.ceil(along_t.max())) + 8, n_along - 1)
    if hi - lo < 2:
        return None
    pix = np.arange(lo, hi + 1, dtype=float)
    order = np.argsort(along_t)
    tp = np.interp(pix, along_t[order], t[order], left=np.nan, right=np.nan)
    on = np.isfinite(tp)
    tp = np.where(on, tp, 0.5)
    wl = g.wavelength(tp, x0, y0)  # observed frame
    dispersion = np.where(on, np.abs(np.gradient(wl)), 1.0)  # off the trace: no light, any value
    per_count = ins.PHOTMJSR[g.order] * ins.relative_response(wl) / dispersion * ins.PIXAR_SR * 1e6
    rate = np.where(on, spectrum(wl * velocity_factor) / per_count, 0.0)
    rate = gaussian_filter1d(rate, sigma, mode="constant")
    centre = np.interp(tp, t, across_t)
    width = np.sqrt(sigma**2 + ins.psf_sigma(wl) ** 2)
    c0 = max(int(np.floor(np.min(centre) - 5 * width.max())), 0)
    c1 = min(int(np.ceil(np.max(centre) + 5 * width.max())), n_across - 1)
    if c1 < c0:
        return None
    edges = np.arange(c0, c1 + 2) - 0.5
    cdf = 0.5 * (1 + erf((edges[:, None] - centre[None, :]) / (np.sqrt(2.0) * width[None, :])))
    stamp = np.diff(cdf, axis=0) * rate[None, :]  # (across, along)
    across_slice, along_slice = slice(c0, c1 + 1), slice(lo, hi + 1)
    if axis == "row":
        return across_slice, along_slice, stamp
    return along_slice, across_slice, stamp.T


def dispersed_rate(sources: Sources, spectra, orders, *, grism, rotation, velocity_factor, shape=ins.FULL_SHAPE):
    """Noiseless count rate (DN/s) of every source in every order on the detector."""
    axis = "row" if ins.DISPERSION_AXIS[grism] == 1 else "column"
    image = np.zeros(shape)
    for g in orders.values():
        for x0, y0, sigma, spectrum in zip(sources.x, sources.y, sources.sigma, spectra):
            stamp = trace_stamp(g, x0, y0, sigma, spectrum, axis=axis, rotation=rotation,
                                velocity_factor=velocity_factor, shape=shape)
            if stamp is not None:
                rows, cols, values = stamp
                image[rows, cols] += values
    return image


def fill_header(m, grism):
    """Keywords of a full-frame NIRISS WFSS exposure pointed at the simulated field."""
    m.meta.telescope = "JWST"
    i = m.meta.instrument
    i.name, i.detector, i.filter, i.pupil = "NIRISS", ins.DETECTOR, grism, ins.BLOCKING_FILTER
    i.filter_position = ins.FWCPOS[grism]
    m.meta.exposure.type = "NIS_WFSS"
    w = m.meta.wcsinfo
    w.v2_ref, w.v3_ref, w.v3yangle, w.vparity = ins.V2_REF, ins.V3_REF, ins.V3_YANGLE, ins.VPARITY
    w.ra_ref, w.dec_ref, w.roll_ref, w.velosys = FIELD_RA, FIELD_DEC, ROLL_REF, VELOSYS
    w.siaf_xref_sci, w.siaf_yref_sci = ins.REF_POINT
    m.meta.pointing.ra_v1, m.meta.pointing.dec_v1, m.meta.pointing.pa_v3 = FIELD_RA, FIELD_DEC, ROLL_REF
    m.meta.velocity_aberration.scale_factor = 1.0
    m.meta.coordinates.reference_frame = "ICRS"
    m.meta.cal_step.dq_init = m.meta.cal_step.ramp_fit = "COMPLETE"
    m.meta.bunit_data, m.meta.bunit_err = "DN/s", "DN/s"
    e = m.meta.exposure
    e.nints, e.ngroups, e.nframes, e.readpatt = 1, 20, 1, "NIS"
    e.exposure_time = e.effective_exposure_time = EXPTIME
    e.start_time, e.mid_time, e.end_time = 60400.2, 60400.2 + EXPTIME / 2 / 86400, 60400.2 + EXPTIME / 86400
    m.meta.observation.date, m.meta.observation.time = "2024-04-10", "04:48:00.000"
    o = m.meta.observation  # the parts of the exposure's identity (jwst's x1d group_id)
    o.program_number, o.observation_number, o.visit_number = "01571", "010", "001"
    o.visit_group, o.sequence_id, o.activity_id, o.exposure_number = "04", "1", "01", "00001"
    s = m.meta.subarray
    s.name, s.xstart, s.ystart = "FULL", 1, 1
    s.ysize, s.xsize = ins.FULL_SHAPE
    s.fastaxis, s.slowaxis = -2, -1
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


DIRECT_SKY = 0.05  # MJy/sr, the direct image's sky (jwst's wfss_contam estimates and removes it)
DIRECT_NOISE = 0.004  # MJy/sr rms per pixel
SEGMENT_LEVEL = 0.02  # MJy/sr: a pixel belongs to the brightest source above this (noiseless)
BAND_GRID = (1.25, 1.75)  # micron, where the F150W throughput weights a spectrum


def band_flux(spectrum, velocity_factor=1.0):
    """F_nu (Jy) a source shows in the F150W direct image: its observed spectrum averaged
    over the band with the filter throughput as weight."""
    wl = np.linspace(BAND_GRID[0], BAND_GRID[1], 801)
    w = ins.throughput(wl)
    return float(np.sum(spectrum(wl * velocity_factor) * w) / np.sum(w))


def direct_scene(sources: Sources, fluxes, shape=ins.FULL_SHAPE, radius=3.5):
    """(image, segmentation) of the field in the direct image, noiseless: each source a
    pixel-integrated Gaussian (its own sigma and the PSF at 1.5 micron) holding ``fluxes``
    (Jy) in MJy/sr; each pixel labelled with the source that puts most light in it, where
    that exceeds SEGMENT_LEVEL within ``radius`` sigma of the centre (0: background)."""
    from scipy.special import erf

    image = np.zeros(shape)
    best = np.zeros(shape)
    seg = np.zeros(shape, np.uint32)
    ny, nx = shape
    for label, x0, y0, sigma, flux in zip(sources.label, sources.x, sources.y, sources.sigma, fluxes):
        width = float(np.hypot(sigma, ins.psf_sigma(1.5)))
        reach = int(np.ceil(radius * width)) + 1
        x_lo, x_hi = max(int(np.floor(x0)) - reach, 0), min(int(np.ceil(x0)) + reach, nx - 1)
        y_lo, y_hi = max(int(np.floor(y0)) - reach, 0), min(int(np.ceil(y0)) + reach, ny - 1)
        if x_hi < x_lo or y_hi < y_lo:
            continue

        def fractions(lo, hi, c):
            edges = np.arange(lo, hi + 2) - 0.5
            return np.diff(0.5 * (1 + erf((edges - c) / (np.sqrt(2.0) * width))))

        stamp = np.outer(fractions(y_lo, y_hi, y0), fractions(x_lo, x_hi, x0)) * flux * 1e-6 / ins.PIXAR_SR
        yy, xx = np.mgrid[y_lo : y_hi + 1, x_lo : x_hi + 1]
        near = np.hypot(xx - x0, yy - y0) <= radius * width
        cut = np.s_[y_lo : y_hi + 1, x_lo : x_hi + 1]
        image[cut] += stamp
        mine = near & (stamp > SEGMENT_LEVEL) & (stamp > best[cut])
        seg[cut][mine] = label
        best[cut][mine] = stamp[mine]
    return image, seg


def write_direct_image(directory, sources, spectra, imaging, velocity_factor, seed):
    """The F150W direct image (ImageModel in MJy/sr with the imaging gwcs, sky and noise
    added) and its segmentation map, as jwst's image3 products; returns their paths."""
    from stdatamodels.jwst import datamodels

    rng = np.random.default_rng(seed)
    fluxes = [band_flux(s, velocity_factor) for s in spectra]
    image, seg = direct_scene(sources, fluxes)
    image = image + DIRECT_SKY + DIRECT_NOISE * rng.standard_normal(image.shape)
    direct = datamodels.ImageModel(image.astype(np.float32))
    direct.meta.instrument.name, direct.meta.instrument.detector = "NIRISS", ins.DETECTOR
    direct.meta.instrument.filter, direct.meta.instrument.pupil = "CLEAR", ins.BLOCKING_FILTER
    direct.meta.exposure.type = "NIS_IMAGE"
    direct.meta.bunit_data = "MJy/sr"
    direct.meta.wcs = imaging
    direct.meta.filename = "jw01571-o010_t001_niriss_clear-f150w_i2d.fits"
    segm = datamodels.SegmentationMapModel(seg)
    segm.meta.filename = "jw01571-o010_t001_niriss_clear-f150w_segm.fits"
    paths = []
    for m in (direct, segm):
        paths.append(Path(directory) / m.meta.filename)
        m.save(paths[-1])
    return paths, np.asarray(fluxes)


def simulate_wfss(directory, cache, n_sources=60, seed=5, grism="GR150C"):
    """Write the NIRISS WFSS references into ``cache`` and one full-frame exposure with
    its source catalog and association into ``directory``. Returns the paths and the
    truth (sources, their spectra, the sky scale)."""
    from stdatamodels.jwst import datamodels

    from spec2.wcs.grism_imaging import imaging_pipeline
    from spec2.wcs.velocity import velocity_factor
    from spec2_niriss.reffiles import write_reference_set
    from spec2_niriss.wfss import niriss_orders, wheel_angle

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    refs = write_reference_set(cache)
    rng = np.random.default_rng(seed)
    shape = ins.FULL_SHAPE
    model = fill_header(datamodels.ImageModel(np.zeros(shape, np.float32)), grism)
    specwcs = datamodels.NIRISSGrismModel(refs["specwcs"][grism])
    from gwcs.wcs import WCS

    imaging = WCS(imaging_pipeline(model, datamodels.DistortionModel(refs["distortion"]),
                                   datamodels.FilteroffsetModel(refs["filteroffset"])))
    sources = random_sources(n_sources, seed=seed)
    spectra = spectra_for(sources, seed=seed + 1)
    catalog = write_catalog(directory / "jw01571-o010_t001_niriss_clear-f150w_cat.ecsv", sources, imaging)
    rate = dispersed_rate(sources, spectra, niriss_orders(specwcs), grism=grism,
                          rotation=-wheel_angle(model, specwcs),
                          velocity_factor=velocity_factor(model.meta.wcsinfo.velosys), shape=shape)
    rate = (rate + SKY_SCALE * ins.sky_pattern(shape, grism)) * ins.flat_pattern(shape)
    var_p = np.clip(rate, 0, None) / (GAIN * EXPTIME)
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
    model.meta.filename = f"{STEM}_rate.fits"
    path = directory / model.meta.filename
    model.save(path)
    (direct, segm), fluxes = write_direct_image(directory, sources, spectra, imaging,
                                                velocity_factor(model.meta.wcsinfo.velosys), seed + 2)
    asn = {"asn_type": "spec2", "asn_rule": "Asn_Lv2WFSS", "asn_id": "a3001", "asn_pool": "sim",
           "program": "01571", "products": [{"name": STEM, "members": [
               {"expname": path.name, "exptype": "science"},
               {"expname": catalog.name, "exptype": "sourcecat"},
               {"expname": segm.name, "exptype": "segmap"},
               {"expname": direct.name, "exptype": "direct_image"}]}]}
    asn_path = directory / "jw01571-o010_20240410t044800_spec2_00001_asn.json"
    asn_path.write_text(json.dumps(asn, indent=1))
    return {"references": refs, "rate": path, "catalog": catalog, "asn": asn_path, "sources": sources,
            "spectra": spectra, "grism": grism, "direct_image": direct, "segmap": segm, "band_flux": fluxes}
