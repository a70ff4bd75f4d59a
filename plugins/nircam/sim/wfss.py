"""NIRCam wide-field slitless field (NRC_WFSS): a crowded field of point-like and
extended sources with known spectra (some with emission lines), dispersed by GRISMR or
GRISMC in module A or B onto a dispersed sky; the source catalog, direct image and
segmentation map jwst's image3 would have made for the field; the spec2 association.

The traces follow the specwcs as extract_2d places them (:mod:`spec2.sim.grism_scene`, shared
with NIRISS): along the dispersion each pixel gets the spectrum at its wavelength times
the dispersion over the photom conversion, smeared by the source's own extent; across, a
Gaussian of the source and the PSF. Then the sky (the WFSSBKG shape times SKY_SCALE),
the flat, Poisson and read noise, and bad pixels.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from spec2.sim import grism_scene as scene
from spec2_nircam import instrument as ins

FIELD_RA, FIELD_DEC = 53.1624, -27.7914  # deg, the reference point
ROLL_REF = 21.7
VELOSYS = 14200.0  # m/s


def random_sources(n, seed=5, margin=0):
    """``n`` sources scattered over the detector (the direct image is taken with the same
    detector, so catalog centroids are on it; their extent may reach beyond the edges)."""
    return scene.random_sources(n, seed=seed, shape=ins.FULL_SHAPE, margin=margin, sigma=(0.8, 4.0),
                                abmag=(18.0, 25.5), extended_above=2.5)


def fill_wfss_header(m, pupil="GRISMR", module="A"):
    """Keywords of a full-frame NIRCam WFSS exposure pointed at the simulated field."""
    from spec2_nircam.sim.tsgrism import fill_nircam_keywords

    fill_nircam_keywords(m, "NRC_WFSS", pupil, FIELD_RA, FIELD_DEC, ROLL_REF, VELOSYS, module)
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


# -- the dispersed image --------------------------------------------------------------------

LINES = (4.05, 4.65)  # micron: emission lines given to every third source


def spectra_for(sources: scene.Sources, seed=9):
    """One spectrum per source: power laws about 4.4 micron, lines for every third source."""
    return scene.spectra_for(sources, seed=seed, slopes=(-2.5, 1.0), pivot=4.4, lines=LINES, line_sigma=0.004)


SKY_SCALE = 0.7  # the dispersed sky is SKY_SCALE x the WFSSBKG reference (DN/s)
EXPTIME = 1030.0
READ_NOISE_VAR = 1.0e-4  # (DN/s)^2


def jy_per_rate(order, wavelength, dispersion):
    """Jy per DN/s of one pixel: the photom conversion the pipeline applies."""
    return ins.PHOTMJSR * order * ins.relative_response(wavelength) / dispersion * ins.PIXAR_SR * 1e6


DIRECT_SKY = 0.08  # MJy/sr, the direct image's sky
DIRECT_NOISE = 0.004  # MJy/sr rms per pixel
SEGMENT_LEVEL = 0.02  # MJy/sr: a pixel belongs to the brightest source above this (noiseless)


def write_direct_image(directory, sources, spectra, imaging, velocity_factor, module, seed):
    """The F444W direct image (MJy/sr with the imaging gwcs, sky and noise) and its
    segmentation map; returns their paths."""
    rng = np.random.default_rng(seed)
    fluxes = [scene.band_flux(s, ins.throughput, (3.7, 5.1), velocity_factor) for s in spectra]
    image, seg = scene.direct_scene(sources, fluxes, shape=ins.FULL_SHAPE, psf_sigma=float(ins.psf_sigma(4.4)),
                                    pixar_sr=ins.PIXAR_SR, segment_level=SEGMENT_LEVEL)
    image = image + DIRECT_SKY + DIRECT_NOISE * rng.standard_normal(image.shape)
    det = ins.MODULES[module]["detector"].lower()
    names = (f"jw02738-o005_t001_nircam_clear-f444w-{det}_i2d.fits", f"jw02738-o005_t001_nircam_clear-f444w-{det}_segm.fits")
    return scene.write_direct_image(directory, names, image, seg, imaging,
                                    {"name": "NIRCAM", "detector": ins.MODULES[module]["detector"], "module": module,
                                     "channel": "LONG", "filter": ins.FILTER, "pupil": "CLEAR"}, "NRC_IMAGE")


def simulate_wfss(directory, cache, n_sources=60, seed=5, pupil="GRISMR", module="A"):
    """Write the NIRCam grism references into ``cache`` and one full-frame WFSS exposure
    (``pupil`` GRISMR or GRISMC, ``module`` A or B) with its source catalog, direct image,
    segmentation map and association into ``directory``. Returns the paths, the
    references this exposure uses and the truth (sources and their spectra)."""
    from gwcs.wcs import WCS
    from stdatamodels.jwst import datamodels

    from spec2.wcs.grism import specwcs_orders
    from spec2.wcs.grism_imaging import imaging_pipeline
    from spec2.wcs.velocity import velocity_factor
    from spec2_nircam.sim.references import exposure_references, write_reference_set

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    refs = exposure_references(write_reference_set(cache), module, pupil)
    shape = ins.FULL_SHAPE
    model = fill_wfss_header(datamodels.ImageModel(np.zeros(shape, np.float32)), pupil=pupil, module=module)
    specwcs = datamodels.NIRCAMGrismModel(refs["specwcs"])
    imaging = WCS(imaging_pipeline(model, datamodels.DistortionModel(refs["distortion"]),
                                   datamodels.FilteroffsetModel(refs["filteroffset"])))
    sources = random_sources(n_sources, seed=seed)
    spectra = spectra_for(sources, seed=seed + 1)
    det = ins.MODULES[module]["detector"].lower()
    stem = f"jw02738005001_02103_00001_{det}"
    catalog = scene.write_catalog(directory / f"jw02738-o005_t001_nircam_clear-f444w-{det}_cat.ecsv", sources,
                                  imaging)
    vf = velocity_factor(model.meta.wcsinfo.velosys)
    rate = scene.dispersed_rate(sources, spectra, {1: specwcs_orders(specwcs)[1]}, shape=shape,
                                axis="row" if ins.DISPERSION_AXIS[pupil] == 1 else "column",
                                jy_per_rate=jy_per_rate, psf_sigma=ins.psf_sigma, velocity_factor=vf)
    rate = (rate + SKY_SCALE * ins.sky_pattern(shape, pupil, module)) * ins.flat_pattern(shape)
    scene.detector_exposure(model, rate, exptime=EXPTIME, gain=1.8, read_noise_var=READ_NOISE_VAR, seed=seed)
    model.meta.filename = f"{stem}_rate.fits"
    path = directory / model.meta.filename
    model.save(path)
    direct, segm = write_direct_image(directory, sources, spectra, imaging, vf, module, seed + 2)
    asn = {"asn_type": "spec2", "asn_rule": "Asn_Lv2WFSS", "asn_id": "a3001", "asn_pool": "sim",
           "program": "02738", "products": [{"name": stem, "members": [
               {"expname": path.name, "exptype": "science"},
               {"expname": catalog.name, "exptype": "sourcecat"},
               {"expname": segm.name, "exptype": "segmap"},
               {"expname": direct.name, "exptype": "direct_image"}]}]}
    asn_path = directory / f"jw02738-o005_20240719t022400_spec2_00001_{det}_asn.json"
    asn_path.write_text(json.dumps(asn, indent=1))
    return {"references": refs, "rate": path, "catalog": catalog, "asn": asn_path, "sources": sources,
            "spectra": spectra, "stem": stem, "direct_image": direct, "segmap": segm}
