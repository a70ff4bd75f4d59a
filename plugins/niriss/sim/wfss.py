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
from pathlib import Path

import numpy as np

from spec2.sim import grism_scene as scene
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


def spectra_for(sources: scene.Sources, seed=9):
    """One spectrum per source: power laws about 1.5 micron, lines for every third source."""
    return scene.spectra_for(sources, seed=seed, slopes=(-2.0, 1.5), pivot=1.5, lines=LINES, line_sigma=0.002)


def random_sources(n, seed=5):
    """``n`` sources scattered over the detector (the direct image is taken with the same
    detector, so catalog centroids are on it; their extent may reach beyond the edges)."""
    return scene.random_sources(n, seed=seed, shape=ins.FULL_SHAPE, sigma=(0.7, 3.5), abmag=(17.5, 24.5),
                                extended_above=2.2)


def jy_per_rate(order, wavelength, dispersion):
    """Jy per DN/s of one pixel: the photom conversion the pipeline applies."""
    return ins.PHOTMJSR[order] * ins.relative_response(wavelength) / dispersion * ins.PIXAR_SR * 1e6


def write_direct_image(directory, sources, spectra, imaging, velocity_factor, seed):
    """The F150W direct image (MJy/sr with the imaging gwcs, sky and noise added) and its
    segmentation map, as jwst's image3 products; returns their paths and the sources'
    band fluxes (Jy)."""
    rng = np.random.default_rng(seed)
    fluxes = [scene.band_flux(s, ins.throughput, BAND_GRID, velocity_factor) for s in spectra]
    image, seg = scene.direct_scene(sources, fluxes, shape=ins.FULL_SHAPE, psf_sigma=float(ins.psf_sigma(1.5)),
                                    pixar_sr=ins.PIXAR_SR, segment_level=SEGMENT_LEVEL)
    image = image + DIRECT_SKY + DIRECT_NOISE * rng.standard_normal(image.shape)
    paths = scene.write_direct_image(
        directory, ("jw01571-o010_t001_niriss_clear-f150w_i2d.fits", "jw01571-o010_t001_niriss_clear-f150w_segm.fits"),
        image, seg, imaging, {"name": "NIRISS", "detector": ins.DETECTOR, "filter": "CLEAR",
                              "pupil": ins.BLOCKING_FILTER}, "NIS_IMAGE")
    return paths, np.asarray(fluxes)


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


DIRECT_SKY = 0.05  # MJy/sr, the direct image's sky (jwst's wfss_contam estimates and removes it)
DIRECT_NOISE = 0.004  # MJy/sr rms per pixel
SEGMENT_LEVEL = 0.02  # MJy/sr: a pixel belongs to the brightest source above this (noiseless)
BAND_GRID = (1.25, 1.75)  # micron, where the F150W throughput weights a spectrum


def simulate_wfss(directory, cache, n_sources=60, seed=5, grism="GR150C"):
    """Write the NIRISS WFSS references into ``cache`` and one full-frame exposure with
    its source catalog and association into ``directory``. Returns the paths and the
    truth (sources, their spectra, the sky scale)."""
    from stdatamodels.jwst import datamodels

    from spec2.wcs.grism import specwcs_orders
    from spec2.wcs.grism_imaging import imaging_pipeline
    from spec2.wcs.velocity import velocity_factor
    from spec2_niriss.assign_wcs import wheel_angle
    from spec2_niriss.sim.references import write_reference_set

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    refs = write_reference_set(cache)
    shape = ins.FULL_SHAPE
    model = fill_header(datamodels.ImageModel(np.zeros(shape, np.float32)), grism)
    specwcs = datamodels.NIRISSGrismModel(refs["specwcs"][grism])
    from gwcs.wcs import WCS

    imaging = WCS(imaging_pipeline(model, datamodels.DistortionModel(refs["distortion"]),
                                   datamodels.FilteroffsetModel(refs["filteroffset"])))
    sources = random_sources(n_sources, seed=seed)
    spectra = spectra_for(sources, seed=seed + 1)
    catalog = scene.write_catalog(directory / "jw01571-o010_t001_niriss_clear-f150w_cat.ecsv", sources, imaging)
    rate = scene.dispersed_rate(sources, spectra, specwcs_orders(specwcs), shape=shape,
                                axis="row" if ins.DISPERSION_AXIS[grism] == 1 else "column",
                                rotation=-wheel_angle(model, specwcs), jy_per_rate=jy_per_rate,
                                psf_sigma=ins.psf_sigma,
                                velocity_factor=velocity_factor(model.meta.wcsinfo.velosys))
    rate = (rate + SKY_SCALE * ins.sky_pattern(shape, grism)) * ins.flat_pattern(shape)
    scene.detector_exposure(model, rate, exptime=EXPTIME, gain=GAIN, read_noise_var=READ_NOISE_VAR, seed=seed)
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
