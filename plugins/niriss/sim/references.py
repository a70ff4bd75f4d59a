"""Reference files for the simulated NIRISS WFSS channel, in the real CRDS formats.

Each writer samples :mod:`spec2_niriss.instrument` into the stdatamodels class CRDS
delivers for that reftype (NIRISSGrismModel specwcs laid out as STScI's are: a straight
Polynomial1D wavelength model and its inverse per order, three quadratic Polynomial2D
coefficients of t for each trace offset, the filter-wheel reference angle;
DistortionModel, FilteroffsetModel, WavelengthrangeModel, FlatModel, WfssBkgModel,
NisWfssPhotomModel, NisWfssApcorrModel), so jwst and spec2 read them as they read
STScI's. The grism (FILTER) selects the specwcs and the background.
"""

from __future__ import annotations

import numpy as np
from stdatamodels.jwst.datamodels.dqflags import pixel

from spec2_niriss import instrument as ins

WFSS = "NIS_WFSS"
PARKEYS = ("META.INSTRUMENT.DETECTOR", "META.EXPOSURE.TYPE", "META.INSTRUMENT.FILTER")
BOTH = "|".join(ins.GRISMS)
USEAFTER = "2022-01-01T00:00:00"
ASDF_REFTYPES = ("specwcs", "distortion", "filteroffset", "wavelengthrange")


def _reference_meta(model, reftype, description, filter_name="N/A"):
    # ASDF (WCS) reference models check the lower-case name, FITS ones take either
    model.meta.reftype = reftype if reftype in ASDF_REFTYPES else reftype.upper()
    model.meta.author = "spec2 simulator"
    model.meta.pedigree = "DUMMY"
    model.meta.description = description
    model.meta.useafter = USEAFTER
    model.meta.instrument.name = "NIRISS"
    model.meta.instrument.detector = ins.DETECTOR
    if filter_name == BOTH:  # a file for both grisms, as CRDS lists one: ANY + the pattern
        model.meta.instrument.filter = "ANY"
        model.meta.instrument.p_filter = BOTH + "|"
    else:
        model.meta.instrument.filter = filter_name
    model.meta.telescope = "JWST"
    return model


def _field_polynomial(const, dx0, dy0, dxx):
    """Quadratic Polynomial2D: const + dx0 (x0 - X) + dy0 (y0 - Y) + dxx (x0 - X)^2 about
    the field origin, expanded into plain coefficients."""
    from astropy.modeling.models import Polynomial2D

    x, y = ins.FIELD_ORIGIN
    return Polynomial2D(2, c0_0=const - dx0 * x - dy0 * y + dxx * x * x, c1_0=dx0 - 2 * dxx * x, c0_1=dy0,
                        c2_0=dxx, c1_1=0.0, c0_2=0.0)


def dispersion_models(grism):
    """(orders, displ, invdispl, dispx, dispy) as a NIRISS specwcs stores them."""
    from astropy.modeling.models import Polynomial1D

    l0, l1 = ins.LAMBDA
    orders = list(ins.ORDERS)
    displ = [Polynomial1D(1, c0=l0, c1=l1) for _ in orders]
    invdispl = [Polynomial1D(1, c0=-l0 / l1, c1=1.0 / l1) for _ in orders]
    along = [tuple(_field_polynomial(*c) for c in ins.ALONG[o]) for o in orders]
    across = [tuple(_field_polynomial(*c) for c in ins.ACROSS[o]) for o in orders]
    dispx, dispy = (along, across) if ins.DISPERSION_AXIS[grism] == 1 else (across, along)
    return orders, displ, invdispl, dispx, dispy


def write_specwcs(path, grism):
    from stdatamodels.jwst.datamodels import NIRISSGrismModel

    orders, displ, invdispl, dispx, dispy = dispersion_models(grism)
    m = _reference_meta(NIRISSGrismModel(), "specwcs", f"Simulated {grism} dispersion model parameters", grism)
    m.displ, m.invdispl, m.dispx, m.dispy = displ, invdispl, dispx, dispy
    m.orders = orders
    m.fwcpos_ref = ins.FWCPOS_REF[grism]
    m.meta.instrument.pupil = ins.BLOCKING_FILTER
    m.meta.exposure.type = WFSS
    m.meta.input_units = "micron"
    m.meta.output_units = "micron"
    m.save(path)
    return path


def distortion_model():
    """Full-frame 0-based detector (x, y) -> (V2, V3) arcsec: affine about the reference
    pixel, with an analytic inverse."""
    from astropy.modeling import models

    x0, y0 = ins.REF_POINT[0] - 1, ins.REF_POINT[1] - 1
    matrix = ins.ideal_to_v2v3_matrix() * ins.PIXEL_SCALE
    return (models.Shift(-x0) & models.Shift(-y0)) | models.AffineTransformation2D(
        matrix=matrix, translation=[ins.V2_REF, ins.V3_REF])


def write_distortion(path):
    from stdatamodels.jwst.datamodels import DistortionModel

    m = _reference_meta(DistortionModel(), "distortion", "Simulated NIRISS imaging distortion")
    m.model = distortion_model()
    m.meta.input_units = "pixel"
    m.meta.output_units = "arcsec"
    m.meta.instrument.pupil = "ANY"
    m.meta.instrument.p_pupil = "ANY|"
    m.meta.exposure.type = "NIS_IMAGE"
    m.meta.exposure.p_exptype = "NIS_IMAGE|NIS_WFSS|"
    m.save(path)
    return path


def write_filteroffset(path):
    from stdatamodels.jwst.datamodels import FilteroffsetModel

    m = _reference_meta(FilteroffsetModel(), "filteroffset", "Simulated NIRISS filter offsets")
    m.filters = [{"filter": grism, "pupil": ins.BLOCKING_FILTER, "column_offset": col, "row_offset": row}
                 for grism, (col, row) in ins.FILTER_OFFSET.items()]
    m.meta.exposure.type = "NIS_IMAGE"
    m.meta.exposure.p_exptype = "NIS_IMAGE|NIS_WFSS|"
    m.save(path)
    return path


def write_wavelengthrange(path):
    """The WFSS form: [order, blocking filter, lambda_min, lambda_max] rows and the orders
    to extract per blocking filter."""
    from stdatamodels.jwst.datamodels import WavelengthrangeModel

    m = _reference_meta(WavelengthrangeModel(), "wavelengthrange", "Simulated NIRISS WFSS wavelength ranges")
    lo, hi = ins.WAVELENGTH_RANGE
    m.wavelengthrange = [[order, ins.BLOCKING_FILTER, lo, hi] for order in ins.ORDERS]
    m.extract_orders = [[ins.BLOCKING_FILTER, list(ins.EXTRACT_ORDERS)]]
    m.order = list(ins.ORDERS)
    m.waverange_selector = [ins.BLOCKING_FILTER]
    m.meta.exposure.type = WFSS
    m.meta.instrument.pupil = "ANY"
    m.meta.wavelength_units = "micron"
    m.save(path)
    return path


def _full_frame(m):
    m.meta.subarray.name = "FULL"
    m.meta.subarray.xstart, m.meta.subarray.ystart = 1, 1
    m.meta.subarray.xsize, m.meta.subarray.ysize = ins.FULL_SHAPE[1], ins.FULL_SHAPE[0]
    return m


def write_flat(path):
    from stdatamodels.jwst.datamodels import FlatModel

    m = _full_frame(_reference_meta(FlatModel(), "flat", "Simulated NIRISS WFSS flat", BOTH))
    m.data = ins.flat_pattern(ins.FULL_SHAPE)
    m.err = np.full(ins.FULL_SHAPE, 0.003, np.float32)
    m.dq = np.zeros(ins.FULL_SHAPE, np.uint32)
    m.dq[700, 900] = pixel["DO_NOT_USE"] | pixel["NO_FLAT_FIELD"]  # one dead flat pixel
    m.data[700, 900] = np.nan
    m.meta.instrument.pupil = ins.BLOCKING_FILTER
    m.save(path)
    return path


def write_background(path, grism):
    """WfssBkgModel: the dispersed sky's shape as the detector records it (DN/s, flat
    pattern included, as a stack of sky exposures gives it), a few flagged pixels."""
    from stdatamodels.jwst.datamodels import WfssBkgModel

    m = _full_frame(_reference_meta(WfssBkgModel(), "bkg", f"Simulated NIRISS {grism} sky background", grism))
    m.data = ins.sky_pattern(ins.FULL_SHAPE, grism) * ins.flat_pattern(ins.FULL_SHAPE)
    m.err = np.full(ins.FULL_SHAPE, 0.002, np.float32)
    m.dq = np.zeros(ins.FULL_SHAPE, np.uint32)
    m.dq[1500:1503, 300] = pixel["JUMP_DET"]  # an arbitrary flag the step ORs into the science DQ
    m.meta.instrument.pupil = ins.BLOCKING_FILTER
    m.meta.exposure.type = WFSS
    m.meta.bunit_data = "DN/s"
    m.save(path)
    return path


PHOTOM_WAVE = np.arange(1.20, 1.8001, 0.002)


def write_photom(path):
    from stdatamodels.jwst.datamodels import NisWfssPhotomModel

    n = PHOTOM_WAVE.size
    rows = [(grism, order) for grism in ins.GRISMS for order in ins.ORDERS]
    table = np.zeros(len(rows), dtype=[
        ("filter", "S12"), ("pupil", "S15"), ("order", "i2"), ("photmjsr", "f4"), ("uncertainty", "f4"),
        ("nelem", "i2"), ("wavelength", "f4", (n,)), ("relresponse", "f4", (n,)), ("reluncertainty", "f4", (n,)),
    ])
    for row, (grism, order) in zip(table, rows):
        row["filter"], row["pupil"], row["order"] = grism, ins.BLOCKING_FILTER, order
        row["photmjsr"], row["uncertainty"], row["nelem"] = ins.PHOTMJSR[order], 0.001, n
        row["wavelength"] = PHOTOM_WAVE
        row["relresponse"] = ins.relative_response(PHOTOM_WAVE)
        row["reluncertainty"] = 0.01
    m = _reference_meta(NisWfssPhotomModel(), "photom", "Simulated NIRISS WFSS flux calibration", BOTH)
    m.phot_table = table
    m.phot_unit = "MJy micron s / (DN sr)"  # as delivered files state it (jwst's contam model needs it)
    m.meta.photometry.pixelarea_steradians = ins.PIXAR_SR
    m.meta.photometry.pixelarea_arcsecsq = ins.PIXAR_A2
    m.meta.exposure.type = WFSS
    m.meta.exposure.p_exptype = "NIS_WFSS|"
    m.save(path)
    return path


APCORR_WAVE = np.arange(1.20, 1.8001, 0.02)
APCORR_SIZE = np.arange(1, 41, dtype=np.uint8)


def write_apcorr(path):
    """NisWfssApcorrModel: 1 / the fraction of a point source inside a box of ``size``
    pixels across the dispersion (the simulator's Gaussian PSF)."""
    from stdatamodels.jwst.datamodels import NisWfssApcorrModel

    from spec2.sim.grism_scene import point_source_apcorr_table

    table = point_source_apcorr_table(ins.GRISMS, ins.BLOCKING_FILTER, APCORR_WAVE, APCORR_SIZE, ins.psf_sigma)
    m = _reference_meta(NisWfssApcorrModel(), "apcorr", "Simulated NIRISS WFSS aperture correction", BOTH)
    m.apcorr_table = table
    m.sizeunit = "pixels"
    m.meta.exposure.type = WFSS
    m.save(path)
    return path


SHARED = {
    "distortion": ("niriss_distortion.asdf", write_distortion),
    "filteroffset": ("niriss_filteroffset.asdf", write_filteroffset),
    "wavelengthrange": ("niriss_wfss_wavelengthrange.asdf", write_wavelengthrange),
    "flat": ("niriss_f150w_wfss_flat.fits", write_flat),
    "photom": ("niriss_wfss_photom.fits", write_photom),
    "apcorr": ("niriss_wfss_apcorr.fits", write_apcorr),
}
"""References both grisms use."""

PER_GRISM = {
    "specwcs": ("niriss_{grism}_specwcs.asdf", write_specwcs),
    "bkg": ("niriss_{grism}_f150w_wfssbkg.fits", write_background),
}
"""References of one grism."""

NOT_APPLICABLE = ("extract1d", "area")  # jwst asks for these; WFSS has none


def write_reference_set(cache) -> dict:
    """Write every NIRISS WFSS reference into the cache's NIRISS folder and register it;
    returns {reftype: path} with the per-grism ones as {reftype: {grism: path}}."""
    paths: dict = {reftype: cache.publish("niriss", reftype, PARKEYS, (ins.DETECTOR, WFSS, BOTH),
                                          f"spec2sim_{name}", writer)
                   for reftype, (name, writer) in SHARED.items()}
    for reftype, (name, writer) in PER_GRISM.items():
        for grism in ins.GRISMS:
            paths.setdefault(reftype, {})[grism] = cache.publish(
                "niriss", reftype, PARKEYS, (ins.DETECTOR, WFSS, grism),
                f"spec2sim_{name.format(grism=grism.lower())}", writer, grism)
    for reftype in NOT_APPLICABLE:
        cache.not_applicable("niriss", reftype, PARKEYS, (ins.DETECTOR, WFSS, BOTH))
    return paths
