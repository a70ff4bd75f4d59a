"""Reference files for the simulated MIRI LRS, in the real CRDS formats.

Each writer samples the analytic instrument of :mod:`spec2_miri.instrument` into the
stdatamodels class that CRDS delivers for that reftype, so jwst and spec2 read them as
they read STScI's files. :func:`write_reference_set` publishes the whole set into a
:class:`spec2.crds_cache.LocalCache`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from stdatamodels.jwst.datamodels.dqflags import pixel

from spec2_miri import instrument as ins

LRS_TYPES = "MIR_LRS-FIXEDSLIT|MIR_LRS-SLITLESS"
PARKEYS = ("META.INSTRUMENT.DETECTOR", "META.EXPOSURE.TYPE")
MATCH = ("MIRIMAGE", LRS_TYPES)
USEAFTER = "2022-01-01T00:00:00"


def _reference_meta(model, reftype, description):
    model.meta.reftype = reftype.upper()
    model.meta.author = "spec2 simulator"
    model.meta.pedigree = "DUMMY"
    model.meta.description = description
    model.meta.useafter = USEAFTER
    model.meta.instrument.name = "MIRI"
    model.meta.instrument.detector = "MIRIMAGE"
    model.meta.telescope = "JWST"
    return model


def distortion_model():
    """Full-frame 0-based detector (x, y) -> (V2, V3) arcsec, an affine map with inverse."""
    from astropy.modeling import models

    x0, y0 = ins.FS_REF[0] - 1, ins.FS_REF[1] - 1
    matrix = ins.ideal_to_v2v3_matrix() * ins.PIXEL_SCALE
    return (models.Shift(-x0) & models.Shift(-y0)) | models.AffineTransformation2D(
        matrix=matrix, translation=[ins.V2_CENTRE, ins.V3_CENTRE]
    )


def write_distortion(path):
    from stdatamodels.jwst.datamodels import DistortionModel

    m = _reference_meta(DistortionModel(), "distortion", "Simulated MIRI imager distortion")
    m.model = distortion_model()
    m.meta.input_units = "pixel"
    m.meta.output_units = "arcsec"
    m.meta.exposure.p_exptype = "MIR_LRS-FIXEDSLIT|MIR_LRS-SLITLESS|"
    m.save(path)
    return path


def write_specwcs(path):
    from stdatamodels.jwst.datamodels import MiriLRSSpecwcsModel

    dy = np.arange(ins.DY_MAX, ins.DY_MIN - 0.5, -1.0)  # decreasing y_center, as in CRDS
    half_len = ins.SLIT_HALF_LENGTH / ins.PIXEL_SCALE
    half_wid = ins.SLIT_HALF_WIDTH / ins.PIXEL_SCALE
    xc = ins.trace_shift(dy)
    dtype = [(n, "f8") for n in ("x_center", "y_center", "wavelength", "x0", "y0", "x1", "y1", "x2", "y2", "x3", "y3")]
    table = np.zeros(dy.size, dtype=dtype)
    table["x_center"], table["y_center"], table["wavelength"] = xc, dy, ins.wavelength_at(dy)
    # corners: upper-left, upper-right, lower-right, lower-left of each row's slit image
    table["x0"], table["y0"] = xc - half_len, dy + half_wid
    table["x1"], table["y1"] = xc + half_len, dy + half_wid
    table["x2"], table["y2"] = xc + half_len, dy - half_wid
    table["x3"], table["y3"] = xc - half_len, dy - half_wid
    m = _reference_meta(MiriLRSSpecwcsModel(), "specwcs", "Simulated LRS wavelength table")
    m.wavetable = table
    m.meta.x_ref, m.meta.y_ref = ins.FS_REF
    m.meta.x_ref_slitless, m.meta.y_ref_slitless = ins.SLITLESS_REF
    # slit corners on the sky frame (V2/V3), which S_REGION is computed from
    x0, y0 = ins.FS_REF[0] - 1, ins.FS_REF[1] - 1
    cx = x0 + np.array([-half_len, half_len, half_len, -half_len])
    cy = y0 + np.array([half_wid, half_wid, -half_wid, -half_wid])
    v2, v3 = distortion_model()(cx, cy)
    for i in range(4):
        setattr(m.meta, f"v2_vert{i + 1}", float(v2[i]))
        setattr(m.meta, f"v3_vert{i + 1}", float(v3[i]))
    m.meta.instrument.filter = "P750L"
    m.meta.exposure.p_exptype = "MIR_LRS-FIXEDSLIT|MIR_LRS-SLITLESS|"
    m.save(path)
    return path


def write_flat(path):
    from stdatamodels.jwst.datamodels import FlatModel

    m = _reference_meta(FlatModel(), "flat", "Simulated LRS flat")
    m.data = ins.flat_pattern(ins.FULL_SHAPE)
    m.err = np.full(ins.FULL_SHAPE, 0.005, np.float32)
    m.dq = np.zeros(ins.FULL_SHAPE, np.uint32)
    m.dq[500, 600] = pixel["DO_NOT_USE"] | pixel["NO_FLAT_FIELD"]  # one dead flat pixel
    m.data[500, 600] = np.nan
    m.meta.instrument.filter = "P750L"
    m.meta.subarray.name = "FULL"
    m.meta.subarray.xstart, m.meta.subarray.ystart = 1, 1
    m.meta.subarray.xsize, m.meta.subarray.ysize = ins.FULL_SHAPE[1], ins.FULL_SHAPE[0]
    m.save(path)
    return path


# pathloss grid: offsets from the aperture reference point in detector pixels
PATHLOSS_X = np.arange(-20.0, 20.5, 1.0)  # along the slit (no dependence)
PATHLOSS_Y = np.arange(-2.5, 2.51, 0.25)  # across the slit
PATHLOSS_WAVE = np.arange(15.0, 4.49, -0.1)  # descending, as in CRDS


def write_pathloss(path):
    from stdatamodels.jwst.datamodels import MirLrsPathlossModel

    wl = PATHLOSS_WAVE[:, None, None]
    y = PATHLOSS_Y[None, :, None]
    correction = 1.0 / ins.slit_throughput(wl, y) * np.ones(PATHLOSS_X.size)[None, None, :]
    table = np.zeros(
        PATHLOSS_WAVE.size,
        dtype=[("wavelength", "f4"), ("pathloss", "f4", correction.shape[1:]), ("pathloss_err", "f4", correction.shape[1:])],
    )
    table["wavelength"] = PATHLOSS_WAVE
    table["pathloss"] = correction
    table["pathloss_err"] = 0.01 * correction
    m = _reference_meta(MirLrsPathlossModel(), "pathloss", "Simulated LRS slit loss")
    m.pathloss_table = table
    w = m.meta.wcsinfo
    w.wcsaxes = 2
    w.crpix1, w.crval1, w.cdelt1 = 1.0, float(PATHLOSS_X[0]), 1.0
    w.crpix2, w.crval2, w.cdelt2 = 1.0, float(PATHLOSS_Y[0]), 0.25
    w.ctype1, w.ctype2, w.cunit1, w.cunit2 = "X", "Y", "pixel", "pixel"
    m.meta.instrument.filter = "P750L"
    m.meta.exposure.type = "MIR_LRS-FIXEDSLIT"
    m.save(path)
    return path


PHOTOM_WAVE = np.arange(4.5, 15.01, 0.05)


def write_photom(path):
    from stdatamodels.jwst.datamodels import MirLrsPhotomModel

    n = PHOTOM_WAVE.size
    table = np.zeros(
        2,
        dtype=[
            ("filter", "S12"), ("subarray", "S17"), ("photmjsr", "f4"), ("uncertainty", "f4"),
            ("nelem", "i2"), ("wavelength", "f4", (n,)), ("relresponse", "f4", (n,)),
            ("reluncertainty", "f4", (n,)),
        ],
    )
    for row, sub in zip(table, ("FULL", "SLITLESSPRISM")):
        row["filter"], row["subarray"] = "P750L", sub
        row["photmjsr"], row["uncertainty"], row["nelem"] = ins.PHOTMJSR, 0.001, n
        row["wavelength"] = PHOTOM_WAVE
        row["relresponse"] = ins.relative_response(PHOTOM_WAVE)
        row["reluncertainty"] = 0.01
    m = _reference_meta(MirLrsPhotomModel(), "photom", "Simulated LRS absolute flux calibration")
    m.phot_table = table
    m.meta.photometry.pixelarea_steradians = ins.PIXAR_SR
    m.meta.photometry.pixelarea_arcsecsq = ins.PIXAR_A2
    m.save(path)
    return path


def write_area(path):
    from stdatamodels.jwst.datamodels import PixelAreaModel

    m = _reference_meta(PixelAreaModel(), "area", "Simulated MIRI imager pixel area")
    m.data = np.ones(ins.FULL_SHAPE, np.float32)
    m.meta.photometry.pixelarea_steradians = ins.PIXAR_SR
    m.meta.photometry.pixelarea_arcsecsq = ins.PIXAR_A2
    m.meta.instrument.filter = "P750L"
    m.save(path)
    return path


APCORR_WAVE = np.arange(4.5, 15.01, 0.25)
APCORR_SIZE = np.arange(1, 31, dtype=np.uint8)


def write_apcorr(path):
    from stdatamodels.jwst.datamodels import MirLrsApcorrModel

    nwl, nsize = APCORR_WAVE.size, APCORR_SIZE.size
    corr = 1.0 / ins.enclosed_fraction(APCORR_SIZE[None, :].astype(float), APCORR_WAVE[:, None])
    table = np.zeros(
        2,
        dtype=[
            ("subarray", "S17"), ("wavelength", "f4", (nwl,)), ("nelem_wl", "i2"),
            ("size", "u1", (nsize,)), ("nelem_size", "i2"), ("apcorr", "f4", (nwl, nsize)),
            ("apcorr_err", "f4", (nwl, nsize)),
        ],
    )
    for row, sub in zip(table, ("FULL", "SLITLESSPRISM")):
        row["subarray"], row["wavelength"], row["nelem_wl"] = sub, APCORR_WAVE, nwl
        row["size"], row["nelem_size"] = APCORR_SIZE, nsize
        row["apcorr"], row["apcorr_err"] = corr, 0.001
    m = _reference_meta(MirLrsApcorrModel(), "apcorr", "Simulated LRS aperture correction")
    m.apcorr_table = table
    m.sizeunit = "pixels"
    m.save(path)
    return path


# Box apertures: fixed slit on the _s2d (centred on the slit, then moved to the source by
# use_source_posn), slitless on the _calints around the trace.
EXTRACT_WIDTH = 9


def write_extract1d(path):
    x_sl = ins.SLITLESS_REF[0] - 1  # 0-based column of the slitless trace
    apertures = [
        {"id": "MIR_LRS-FIXEDSLIT", "region_type": "target", "dispaxis": 2,
         "xstart": 17, "xstop": 25, "extract_width": EXTRACT_WIDTH, "bkg_order": 0},
        {"id": "MIR_LRS-SLITLESS", "region_type": "target", "dispaxis": 2,
         "xstart": x_sl - 4, "xstop": x_sl + 4, "extract_width": EXTRACT_WIDTH,
         "use_source_posn": False, "bkg_order": 0},
    ]
    doc = {
        "reftype": "EXTRACT1D", "instrument": "MIRI", "telescope": "JWST",
        "pedigree": "DUMMY", "author": "spec2 simulator", "useafter": USEAFTER,
        "description": "Simulated LRS extraction apertures", "apertures": apertures,
    }
    Path(path).write_text(json.dumps(doc, indent=2))
    return path


WRITERS = {
    "distortion": ("miri_lrs_distortion.asdf", write_distortion),
    "specwcs": ("miri_lrs_specwcs.fits", write_specwcs),
    "flat": ("miri_lrs_flat.fits", write_flat),
    "pathloss": ("miri_lrs_pathloss.fits", write_pathloss),
    "photom": ("miri_lrs_photom.fits", write_photom),
    "area": ("miri_lrs_area.fits", write_area),
    "apcorr": ("miri_lrs_apcorr.fits", write_apcorr),
    "extract1d": ("miri_lrs_extract1d.json", write_extract1d),
}


def write_reference_set(cache) -> dict[str, Path]:
    """Write every LRS reference into the cache's MIRI folder and register it."""
    return {reftype: cache.publish("miri", reftype, PARKEYS, MATCH, f"spec2sim_{name}", writer)
            for reftype, (name, writer) in WRITERS.items()}
