"""Reference files for the simulated NIRCam grism channel, in the real CRDS formats.

Each writer samples :mod:`spec2_nircam.instrument` into the stdatamodels class CRDS
delivers for that reftype (NIRCAMGrismModel specwcs with field-dependent wavelength and
trace polynomials, DistortionModel, FilteroffsetModel, WavelengthrangeModel, FlatModel,
NrcWfssPhotomModel, PixelAreaModel, extract1d JSON), so jwst and spec2 read them as they read STScI's.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from stdatamodels.jwst.datamodels.dqflags import pixel

from spec2_nircam import instrument as ins

TSGRISM = "NRC_TSGRISM"
WFSS = "NRC_WFSS"
PARKEYS = ("META.INSTRUMENT.DETECTOR", "META.EXPOSURE.TYPE")
USEAFTER = "2022-01-01T00:00:00"
ASDF_REFTYPES = ("specwcs", "distortion", "filteroffset", "wavelengthrange")


def _reference_meta(model, reftype, description, module="A"):
    # ASDF (WCS) reference models check the lower-case name, FITS ones take either
    model.meta.reftype = reftype if reftype in ASDF_REFTYPES else reftype.upper()
    model.meta.author = "spec2 simulator"
    model.meta.pedigree = "DUMMY"
    model.meta.description = description
    model.meta.useafter = USEAFTER
    model.meta.instrument.name = "NIRCAM"
    model.meta.instrument.detector = ins.MODULES[module]["detector"]
    model.meta.instrument.module = module
    model.meta.telescope = "JWST"
    return model


def _field_polynomial(const, dx0, dy0):
    """Polynomial2D value = const + dx0 (x0 - X) + dy0 (y0 - Y) about the field origin."""
    from astropy.modeling.models import Polynomial2D

    x, y = ins.FIELD_ORIGIN
    return Polynomial2D(1, c0_0=const - dx0 * x - dy0 * y, c1_0=dx0, c0_1=dy0)


def dispersion_models(module="A", pupil="GRISMR"):
    """(orders, displ, dispx, dispy, invdispx, invdispy) as the specwcs stores them: the
    straight along-dispersion offset (x for GRISMR, y for GRISMC; reversed in module B)
    with its inverse, the field-dependent cross-dispersion offset and wavelength."""
    from astropy.modeling.models import Polynomial1D

    sign = ins.MODULES[module]["along_sign"]
    displ = [[_field_polynomial(*c) for c in ins.LAMBDA_COEFFS], [Polynomial1D(1, c0=ins.LAMBDA2[0], c1=ins.LAMBDA2[1])]]
    along = [[Polynomial1D(1, c0=sign * c0, c1=sign * c1)] for c0, c1 in (ins.DX1, ins.DX2)]
    across = [[_field_polynomial(*c) for c in ins.DY1], [Polynomial1D(1, c0=ins.DY2[0], c1=ins.DY2[1])]]
    # one model per order (jwst calls it directly on the offset)
    inverse = [Polynomial1D(1, c0=-c0 / c1, c1=1.0 / (sign * c1)) for c0, c1 in (ins.DX1, ins.DX2)]
    if ins.DISPERSION_AXIS[pupil] == 1:
        return [1, 2], displ, along, across, inverse, []
    return [1, 2], displ, across, along, [], inverse


def write_specwcs(path, module="A", pupil="GRISMR"):
    from stdatamodels.jwst.datamodels import NIRCAMGrismModel

    orders, displ, dispx, dispy, invdispx, invdispy = dispersion_models(module, pupil)
    m = _reference_meta(NIRCAMGrismModel(), "specwcs", f"Simulated {pupil} dispersion model parameters", module)
    m.displ, m.dispx, m.dispy = displ, dispx, dispy
    if invdispx:
        m.invdispx = invdispx
    if invdispy:
        m.invdispy = invdispy
    m.invdispl = []
    m.orders = orders
    m.meta.instrument.pupil = pupil
    m.meta.instrument.filter = "N/A"
    m.meta.exposure.type = "NRC_WFSS"
    m.meta.exposure.p_exptype = "NRC_WFSS|NRC_TSGRISM|"
    m.meta.input_units = "micron"
    m.meta.output_units = "micron"
    m.save(path)
    return path


def distortion_model(module="A"):
    """Full-frame 0-based detector (x, y) -> (V2, V3) arcsec: affine about the TSO
    reference point, with an analytic inverse."""
    from astropy.modeling import models

    mod = ins.MODULES[module]
    x0, y0 = ins.TSO_REF[0] - 1, ins.TSO_REF[1] - 1
    matrix = ins.ideal_to_v2v3_matrix(mod["v3_yangle"]) * ins.PIXEL_SCALE
    return (models.Shift(-x0) & models.Shift(-y0)) | models.AffineTransformation2D(
        matrix=matrix, translation=[mod["v2_ref"], mod["v3_ref"]])


def write_distortion(path, module="A"):
    from stdatamodels.jwst.datamodels import DistortionModel

    m = _reference_meta(DistortionModel(), "distortion", "Simulated NIRCam LW imaging distortion", module)
    m.model = distortion_model(module)
    m.meta.input_units = "pixel"
    m.meta.output_units = "arcsec"
    m.meta.instrument.channel = "LONG"
    m.meta.instrument.filter = "N/A"
    m.meta.instrument.pupil = "ANY"
    m.meta.instrument.p_pupil = "ANY|"
    m.meta.exposure.type = "NRC_IMAGE"
    m.meta.exposure.p_exptype = "NRC_IMAGE|NRC_TSIMAGE|NRC_TSGRISM|NRC_WFSS|"
    m.meta.subarray.name = "FULL"
    m.save(path)
    return path


def write_filteroffset(path, module="A"):
    from stdatamodels.jwst.datamodels import FilteroffsetModel

    m = _reference_meta(FilteroffsetModel(), "filteroffset", "Simulated NIRCam filter offsets", module)
    m.filters = [{"filter": ins.FILTER, "pupil": pupil, "column_offset": col, "row_offset": row}
                 for pupil, (col, row) in ins.MODULES[module]["filter_offset"].items()]
    m.meta.instrument.channel = "LONG"
    m.meta.exposure.type = "NRC_IMAGE"
    m.meta.exposure.p_exptype = "NRC_IMAGE|NRC_TSIMAGE|NRC_TSGRISM|NRC_WFSS|"
    m.save(path)
    return path


def write_wavelengthrange(path):
    from stdatamodels.jwst.datamodels import WavelengthrangeModel

    m = _reference_meta(WavelengthrangeModel(), "wavelengthrange", "Simulated NIRCam TSGRISM wavelength ranges")
    # the time-series form: [order, pupil, filter, lambda_min, lambda_max]
    m.wavelengthrange = [[order, ins.PUPIL, ins.FILTER, lo, hi] for order, (lo, hi) in ins.WAVELENGTH_RANGE.items()]
    m.extract_orders = [[ins.FILTER, [1]]]
    m.order = sorted(ins.WAVELENGTH_RANGE)
    m.waverange_selector = [ins.FILTER]
    m.meta.exposure.type = TSGRISM
    m.meta.exposure.p_exptype = "NRC_TSGRISM|"
    m.meta.instrument.pupil = "ANY"
    m.meta.wavelength_units = "micron"
    m.save(path)
    return path


def write_wfss_wavelengthrange(path):
    """The WFSS form: [order, filter, lambda_min, lambda_max] rows and the orders to
    extract per filter."""
    from stdatamodels.jwst.datamodels import WavelengthrangeModel

    m = _reference_meta(WavelengthrangeModel(), "wavelengthrange", "Simulated NIRCam WFSS wavelength ranges")
    m.wavelengthrange = [[order, ins.FILTER, lo, hi] for order, (lo, hi) in ins.WAVELENGTH_RANGE.items()]
    m.extract_orders = [[ins.FILTER, [1]]]
    m.order = sorted(ins.WAVELENGTH_RANGE)
    m.waverange_selector = [ins.FILTER]
    m.meta.exposure.type = "NRC_WFSS"
    m.meta.exposure.p_exptype = "NRC_WFSS|"
    m.meta.instrument.pupil = "ANY"
    m.meta.wavelength_units = "micron"
    m.save(path)
    return path


def write_flat(path):
    from stdatamodels.jwst.datamodels import FlatModel

    m = _reference_meta(FlatModel(), "flat", "Simulated NIRCam GRISMR flat")
    m.data = ins.flat_pattern(ins.FULL_SHAPE)
    m.err = np.full(ins.FULL_SHAPE, 0.004, np.float32)
    m.dq = np.zeros(ins.FULL_SHAPE, np.uint32)
    m.dq[20, 1500] = pixel["DO_NOT_USE"] | pixel["NO_FLAT_FIELD"]  # one dead flat pixel in SUBGRISM64
    m.data[20, 1500] = np.nan
    m.meta.instrument.filter = ins.FILTER
    m.meta.instrument.pupil = ins.PUPIL
    m.meta.subarray.name = "FULL"
    m.meta.subarray.xstart, m.meta.subarray.ystart = 1, 1
    m.meta.subarray.xsize, m.meta.subarray.ysize = ins.FULL_SHAPE[1], ins.FULL_SHAPE[0]
    m.save(path)
    return path


PHOTOM_WAVE = np.arange(3.70, 5.1001, 0.005)


def write_photom(path):
    from stdatamodels.jwst.datamodels import NrcWfssPhotomModel

    n = PHOTOM_WAVE.size
    rows = [(pupil, order) for pupil in ins.GRISMS for order in (1, 2)]
    table = np.zeros(len(rows), dtype=[
        ("filter", "S12"), ("pupil", "S15"), ("order", "i2"), ("photmjsr", "f4"), ("uncertainty", "f4"),
        ("nelem", "i2"), ("wavelength", "f4", (n,)), ("relresponse", "f4", (n,)), ("reluncertainty", "f4", (n,)),
    ])
    for row, (pupil, order) in zip(table, rows):
        row["filter"], row["pupil"], row["order"] = ins.FILTER, pupil, order
        row["photmjsr"], row["uncertainty"], row["nelem"] = ins.PHOTMJSR * order, 0.001, n
        row["wavelength"] = PHOTOM_WAVE
        row["relresponse"] = ins.relative_response(PHOTOM_WAVE)
        row["reluncertainty"] = 0.01
    m = _reference_meta(NrcWfssPhotomModel(), "photom", "Simulated NIRCam grism flux calibration")
    m.phot_table = table
    m.phot_unit = "MJy micron s / (DN sr)"  # as delivered files state it (jwst's contam model needs it)
    m.meta.photometry.pixelarea_steradians = ins.PIXAR_SR
    m.meta.photometry.pixelarea_arcsecsq = ins.PIXAR_A2
    m.meta.exposure.p_exptype = "NRC_TSGRISM|NRC_WFSS|"
    m.save(path)
    return path


def write_area(path):
    """PixelAreaModel: the full-frame relative pixel area and the nominal area (the same
    PIXAR_SR/PIXAR_A2 as the photom header, as delivered files have them)."""
    from stdatamodels.jwst.datamodels import PixelAreaModel

    m = _reference_meta(PixelAreaModel(), "area", "Simulated NIRCam LW pixel area map")
    m.data = ins.pixel_area(ins.FULL_SHAPE)
    m.meta.photometry.pixelarea_steradians = ins.PIXAR_SR
    m.meta.photometry.pixelarea_arcsecsq = ins.PIXAR_A2
    m.meta.instrument.filter, m.meta.instrument.pupil = ins.FILTER, ins.PUPIL
    m.meta.exposure.type = TSGRISM
    m.save(path)
    return path


# The TSO box: the source falls on cutout row 34 (jwst places it there); background from
# two bands away from the trace.
TSO_APERTURE = (26, 42)
TSO_BACKGROUND = ([[4.5], [14.5]], [[54.5], [62.5]])


def write_extract1d(path):
    apertures = [{
        "id": TSGRISM, "region_type": "target", "disp_axis": 1, "spectral_order": 1,
        "xstart": 300, "xstop": 1600, "ystart": TSO_APERTURE[0], "ystop": TSO_APERTURE[1],
        "bkg_coeff": [list(TSO_BACKGROUND[0][0]), list(TSO_BACKGROUND[0][1]),
                      list(TSO_BACKGROUND[1][0]), list(TSO_BACKGROUND[1][1])],
        "bkg_order": 0, "use_source_posn": False,
    }]
    doc = {
        "reftype": "EXTRACT1D", "instrument": "NIRCAM", "telescope": "JWST", "exp_type": TSGRISM,
        "pedigree": "DUMMY", "author": "spec2 simulator", "useafter": USEAFTER,
        "description": "Simulated NIRCam TSGRISM extraction aperture", "apertures": apertures,
    }
    Path(path).write_text(json.dumps(doc, indent=2))
    return path


def write_background(path, module="A", pupil="GRISMR"):
    """WfssBkgModel: the dispersed sky's shape as the detector records it (DN/s, flat
    pattern included), a few flagged pixels."""
    from stdatamodels.jwst.datamodels import WfssBkgModel

    m = _reference_meta(WfssBkgModel(), "bkg", f"Simulated NIRCam F444W/{pupil} sky background", module)
    m.data = ins.sky_pattern(ins.FULL_SHAPE, pupil, module) * ins.flat_pattern(ins.FULL_SHAPE)
    m.err = np.full(ins.FULL_SHAPE, 0.002, np.float32)
    m.dq = np.zeros(ins.FULL_SHAPE, np.uint32)
    m.dq[900:903, 1200] = pixel["JUMP_DET"]  # an arbitrary flag the step ORs into the science DQ
    m.meta.instrument.filter, m.meta.instrument.pupil = ins.FILTER, pupil
    m.meta.exposure.type = WFSS
    m.meta.subarray.name = "FULL"
    m.meta.subarray.xstart, m.meta.subarray.ystart = 1, 1
    m.meta.subarray.xsize, m.meta.subarray.ysize = ins.FULL_SHAPE[1], ins.FULL_SHAPE[0]
    m.meta.bunit_data = "DN/s"
    m.save(path)
    return path


APCORR_WAVE = np.arange(3.70, 5.1001, 0.05)
APCORR_SIZE = np.arange(1, 41, dtype=np.uint8)


def write_apcorr(path):
    """NrcWfssApcorrModel: 1 / the fraction of a point source inside a box of ``size``
    pixels across the dispersion (the simulator's Gaussian PSF)."""
    from stdatamodels.jwst.datamodels import NrcWfssApcorrModel

    from spec2.sim.grism_scene import point_source_apcorr_table

    table = point_source_apcorr_table(ins.FILTER, ins.GRISMS, APCORR_WAVE, APCORR_SIZE, ins.psf_sigma)
    m = _reference_meta(NrcWfssApcorrModel(), "apcorr", "Simulated NIRCam WFSS aperture correction")
    m.apcorr_table = table
    m.sizeunit = "pixels"
    m.meta.exposure.type = WFSS
    m.save(path)
    return path


def write_tso_extract1d_pars(path):
    """CRDS step parameters for the time series (a pars-extract1dstep, as CRDS delivers
    for TSO modes): the aperture stays where the extract1d file puts it. The same as the
    extract1d file's own choice, so the products do not change; jwst and spec2 both read
    it (unless told not to)."""
    from spec2.parameter_files import pars_reference_tree, write_parameter_file

    tree = pars_reference_tree("extract_1d", {"use_source_posn": False}, "NIRCAM",
                               "Simulated NIRCam TSGRISM extract_1d parameters", useafter=USEAFTER)
    return write_parameter_file(path, tree)


PUPIL_PARKEYS = (*PARKEYS, "META.INSTRUMENT.PUPIL")

PER_MODULE = {
    "distortion": ("nircam_{det}_distortion.asdf", write_distortion),
    "filteroffset": ("nircam_{det}_filteroffset.asdf", write_filteroffset),
}
"""References of one module (detector) that every grism mode of it uses."""

SHARED = {
    "flat": ("nircam_f444w_grism_flat.fits", write_flat),
    "photom": ("nircam_grism_photom.fits", write_photom),
}
"""One file for both modules (the simulated detectors share a flat and a response)."""

PER_MODE = {
    TSGRISM: {
        "wavelengthrange": ("nircam_tsgrism_wavelengthrange.asdf", write_wavelengthrange),
        "extract1d": ("nircam_tsgrism_extract1d.json", write_extract1d),
        "apcorr": None,
        "pars-extract1dstep": ("nircam_tsgrism_pars-extract1dstep.asdf", write_tso_extract1d_pars),
        "area": ("nircam_tsgrism_area.fits", write_area),
    },
    WFSS: {
        "wavelengthrange": ("nircam_wfss_wavelengthrange.asdf", write_wfss_wavelengthrange),
        "extract1d": None,  # jwst extracts WFSS cut-outs whole, without an extract1d file
        "apcorr": ("nircam_wfss_apcorr.fits", write_apcorr),
        "pars-extract1dstep": None,
        "area": None,  # jwst would attach a map to the first cut-out only; spec2's WFSS has none
    },
}
"""References of one mode (None: N/A for that mode)."""


def _modes(module):
    return f"{TSGRISM}|{WFSS}" if module == "A" else WFSS  # time series: module A only


def write_reference_set(cache) -> dict:
    """Write every NIRCam grism reference into the cache's NIRCam folder and register it.
    Returns {reftype: {key: path}} with key the module ("A"/"B") for per-module and
    shared files, (module, pupil) for specwcs and bkg, the EXP_TYPE for per-mode ones."""
    paths: dict = {}

    def publish(reftype, parkeys, match, name, writer, *args):
        return cache.publish("nircam", reftype, parkeys, match, f"spec2sim_{name}", writer, *args)

    for module, mod in ins.MODULES.items():
        det, modes = mod["detector"], _modes(module)
        for reftype, (name, writer) in PER_MODULE.items():
            paths.setdefault(reftype, {})[module] = publish(reftype, PARKEYS, (det, modes),
                                                            name.format(det=det.lower()), writer, module)
        for reftype, (name, writer) in SHARED.items():
            paths.setdefault(reftype, {})[module] = publish(reftype, PARKEYS, (det, modes), name, writer)
        for pupil in ins.GRISMS:
            tag = f"{det.lower()}_{pupil.lower()}"
            paths.setdefault("specwcs", {})[(module, pupil)] = publish(
                "specwcs", PUPIL_PARKEYS, (det, modes, pupil), f"nircam_{tag}_specwcs.asdf", write_specwcs,
                module, pupil)
            paths.setdefault("bkg", {})[(module, pupil)] = publish(
                "bkg", PUPIL_PARKEYS, (det, WFSS, pupil), f"nircam_{tag}_wfssbkg.fits", write_background,
                module, pupil)
        if module == "A":
            cache.not_applicable("nircam", "bkg", PUPIL_PARKEYS, (det, TSGRISM, "|".join(ins.GRISMS)))
        for exp_type, refs in PER_MODE.items():
            if exp_type not in modes.split("|"):
                continue
            for reftype, entry in refs.items():
                if entry is None:
                    cache.not_applicable("nircam", reftype, PARKEYS, (det, exp_type))
                    continue
                name, writer = entry
                paths.setdefault(reftype, {})[exp_type] = publish(reftype, PARKEYS, (det, exp_type), name, writer)
    return paths


def exposure_references(paths, module="A", pupil="GRISMR", exp_type=WFSS) -> dict:
    """The paths one exposure uses, {reftype: path}, out of :func:`write_reference_set`'s."""
    out = {}
    for reftype, by_key in paths.items():
        for key in ((module, pupil), module, exp_type):
            if key in by_key:
                out[reftype] = by_key[key]
                break
    return out
