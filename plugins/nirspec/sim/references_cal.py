"""Calibration reference files of the simulated NIRSpec fixed slits, in CRDS formats,
and the analytic truths they sample.

The simulator forward-models with the *_truth functions; the pipelines calibrate with
the files, which tabulate exactly those functions (fine enough that interpolation
errors stay far below the noise). Files: fflat/sflat/dflat (NirspecFlatModel), pathloss
(PathlossModel), photom (NrsFsPhotomModel), area (NirspecSlitAreaModel), wavecorr
(WaveCorrModel), extract1d (JSON), apcorr (NrsFsApcorrModel).
"""

from __future__ import annotations

import json
from functools import lru_cache

import numpy as np
from scipy.special import erf
from stdatamodels.jwst.datamodels.dqflags import pixel

from spec2_nirspec import instrument as ins

USEAFTER = "2022-01-01T00:00:00"
FS_TYPES = "NRS_FIXEDSLIT|NRS_BRIGHTOBJ"
SLIT_INDEX = {name: k for k, name in enumerate(ins.SLIT_NAMES)}
A2_TO_SR = (np.pi / (180.0 * 3600.0)) ** 2

# ---------------------------------------------------------------------------------------
# Truths
# ---------------------------------------------------------------------------------------

FLAT_TABLE_WL = np.linspace(0.55, 5.45, 99)  # um
DFLAT_PLANES = np.array([0.6, 5.4])  # um


def _fore_table(slit, wl_um):
    """Fore-optics transmission shape of a slit (relative, ~1)."""
    return 1.0 + 0.03 * np.sin(1.7 * np.asarray(wl_um) + SLIT_INDEX.get(slit, 0))


def _sflat_table(wl_um):
    return 1.0 - 0.02 * (np.asarray(wl_um) - 3.0) / 2.5


def _dflat_table(wl_um):
    return 1.0 + 0.01 * np.cos(np.asarray(wl_um))


@lru_cache(maxsize=4)
def sflat_image(detector):
    """Spectrograph flat: slow vignetting plus 0.5 % pixel-to-pixel structure."""
    rng = np.random.default_rng(11 if detector == "NRS1" else 12)
    y, x = np.mgrid[0:2048, 0:2048] / 2048.0
    image = (1.0 - 0.04 * ((x - 0.5) ** 2 + (y - 0.5) ** 2)) * (1 + 0.005 * rng.standard_normal((2048, 2048)))
    return image.astype(np.float32)


@lru_cache(maxsize=4)
def dflat_cube(detector):
    """Detector flat at DFLAT_PLANES: quantum-efficiency pattern redder to the right."""
    rng = np.random.default_rng(21 if detector == "NRS1" else 22)
    qe = 1 + 0.01 * rng.standard_normal((2048, 2048))
    x = np.arange(2048) / 2048.0
    planes = [qe * (1 + 0.03 * (lam - 2.0) / 3.4 * (x[None, :] - 0.5)) for lam in DFLAT_PLANES]
    return np.array(planes, dtype=np.float32)


def flat_truth(detector, x_full, y_full, wavelength_um, slit, filt, grating):
    """Total flat F x S x D at full-frame pixels (0-based) and wavelengths (um)."""
    lam = np.asarray(wavelength_um, float)
    cube = dflat_cube(detector)
    k = np.clip(np.searchsorted(DFLAT_PLANES, lam) - 1, 0, len(DFLAT_PLANES) - 2)
    p = (lam - DFLAT_PLANES[k]) / (DFLAT_PLANES[k + 1] - DFLAT_PLANES[k])
    d = (1 - p) * cube[k, y_full, x_full] + p * cube[k + 1, y_full, x_full]
    s = sflat_image(detector)[y_full, x_full]
    return _fore_table(slit, lam) * s * _sflat_table(lam) * d * _dflat_table(lam)


PATHLOSS_WL = np.linspace(0.55, 5.45, 50)  # um
PATHLOSS_POS = np.linspace(-0.5, 0.5, 21)  # slit units


def _slit_width_px(slit):
    return ins.FIXED_SLITS[slit][3][0] / 0.1


def pathloss_truth(slit, wavelength_um, xpos, ypos, source_type):
    """Throughput of the slit: for a point source it falls as the PSF (wider to the red)
    overfills the slit width and as the source moves off-centre; uniform light passes
    the slit's geometric fraction with a slow colour term."""
    lam = np.asarray(wavelength_um, float)
    if source_type == "EXTENDED":
        return 0.92 - 0.01 * lam
    width = _slit_width_px(slit)
    sigma = ins.psf_sigma_arcsec(lam) / 0.1  # PSF sigma in pixels
    half = width / 2.0
    across = 0.5 * (erf((half - xpos * width) / (np.sqrt(2) * sigma)) + erf((half + xpos * width) / (np.sqrt(2) * sigma)))
    along = 1.0 - 0.15 * ypos**2
    return across * along


def photmj(slit, grating):
    """MJy per DN/s of the slit/grating pair (the H gratings spread light over more
    pixels; wide slits pass more)."""
    base = 2.0e-12 if grating.endswith("M") else 5.0e-12
    if grating == "PRISM":
        base = 3.0e-13
    return base * (1.0 + 0.02 * SLIT_INDEX.get(slit, 0))


def relresponse(grating, wavelength_um):
    """System response shape: a broad bell over the band, never zero inside it."""
    filt = ins.FILTER_FOR[grating]
    lo, hi = (v * 1e6 for v in ins.WAVELENGTH_RANGES[(filt, grating)])
    mid, half = 0.5 * (lo + hi), 0.5 * (hi - lo)
    return 1.0 / (0.6 + 0.4 * np.exp(-(((np.asarray(wavelength_um) - mid) / half) ** 2) * 2))


def photom_truth(slit, filt, grating, wavelength_um):
    """MJy per DN/s at each wavelength (jwst multiplies DN/s by photmj x relresponse)."""
    return photmj(slit, grating) * relresponse(grating, wavelength_um)


def slit_area_arcsec2(slit):
    return 0.01 * (1.0 + 0.01 * SLIT_INDEX.get(slit, 0))


def slit_area_sr(slit):
    return slit_area_arcsec2(slit) * A2_TO_SR


WAVECORR_WL = np.linspace(0.5e-6, 5.5e-6, 21)  # m
WAVECORR_POS = np.linspace(-0.5, 0.5, 11)


def wavecorr_offset_truth(slit, wavelength_m, xpos):
    """Pixel offset to add (times the dispersion) to the slit-centred wavelength to get
    a source's own: a source displaced across the slit lands displaced along the
    dispersion, by its position times the slit width in pixels (slightly chromatic)."""
    lam = np.asarray(wavelength_m, float) * 1e6
    return -np.asarray(xpos) * _slit_width_px(slit) * (1.0 + 0.01 * (lam - 3.0))


# ---------------------------------------------------------------------------------------
# Writers
# ---------------------------------------------------------------------------------------


def _meta(model, reftype, description, detector=None, filt=None, grating=None):
    model.meta.reftype = reftype.upper()
    model.meta.author = "spec2 simulator"
    model.meta.pedigree = "DUMMY"
    model.meta.description = description
    model.meta.useafter = USEAFTER
    model.meta.telescope = "JWST"
    model.meta.instrument.name = "NIRSPEC"
    model.meta.exposure.type = "NRS_FIXEDSLIT"
    model.meta.exposure.p_exptype = FS_TYPES + "|"
    if detector:
        model.meta.instrument.detector = detector
    if filt:
        model.meta.instrument.filter = filt
    if grating:
        model.meta.instrument.grating = grating
    return model


def _fast_table(names, values):
    n = FLAT_TABLE_WL.size
    rows = [(name, n, FLAT_TABLE_WL, values(name), np.full(n, 0.002)) for name in names]
    return np.array(rows, dtype=[("slit_name", "S15"), ("nelem", "i4"), ("wavelength", "f4", (n,)),
                                 ("data", "f4", (n,)), ("error", "f4", (n,))])


def _full_frame(m):
    m.meta.subarray.name, m.meta.subarray.xstart, m.meta.subarray.ystart = "FULL", 1, 1
    m.meta.subarray.xsize = m.meta.subarray.ysize = 2048


def write_fflat(path, filt, grating):
    from stdatamodels.jwst.datamodels import NirspecFlatModel

    m = _meta(NirspecFlatModel(), "fflat", "Simulated fore-optics flat", filt=filt, grating=grating)
    _full_frame(m)
    m.data = np.ones((1, 1), np.float32)  # fixed-slit f-flats carry only their tables
    m.flat_table = _fast_table(ins.SLIT_NAMES, lambda name: _fore_table(name, FLAT_TABLE_WL))
    m.save(path)
    return path


def write_sflat(path, detector):
    from stdatamodels.jwst.datamodels import NirspecFlatModel

    m = _meta(NirspecFlatModel(), "sflat", "Simulated spectrograph flat", detector)
    _full_frame(m)
    m.data = sflat_image(detector)
    m.err = np.full((2048, 2048), 0.002, np.float32)
    dq = np.zeros((2048, 2048), np.uint32)
    dq[1010:1012, 1300] = pixel["DO_NOT_USE"] | pixel["NO_FLAT_FIELD"]  # a dead flat pair
    m.dq = dq
    m.flat_table = _fast_table(["ANY"], lambda name: _sflat_table(FLAT_TABLE_WL))
    m.save(path)
    return path


def write_dflat(path, detector):
    from stdatamodels.jwst.datamodels import NirspecFlatModel

    m = _meta(NirspecFlatModel(), "dflat", "Simulated detector flat", detector)
    _full_frame(m)
    m.data = dflat_cube(detector)
    m.err = np.full((2048, 2048), 0.001, np.float32)
    m.dq = np.zeros((2048, 2048), np.uint32)
    m.wavelength = np.array([(v,) for v in DFLAT_PLANES], dtype=[("wavelength", "f4")])
    m.flat_table = _fast_table(["ANY"], lambda name: _dflat_table(FLAT_TABLE_WL))
    m.save(path)
    return path


def write_pathloss(path):
    from stdatamodels.jwst.datamodels import PathlossModel

    m = _meta(PathlossModel(), "pathloss", "Simulated fixed-slit path loss")
    wl = PATHLOSS_WL
    apertures = []
    for slit in ins.SLIT_NAMES:
        cube = pathloss_truth(slit, wl[:, None, None], PATHLOSS_POS[None, None, :], PATHLOSS_POS[None, :, None], "POINT")
        step = float(PATHLOSS_POS[1] - PATHLOSS_POS[0])
        apertures.append({
            "name": slit, "shutters": 1,
            "pointsource_data": cube.astype(np.float32), "pointsource_err": np.zeros(cube.shape, np.float32),
            "uniform_data": pathloss_truth(slit, wl, 0, 0, "EXTENDED").astype(np.float32),
            "uniform_err": np.zeros(wl.size, np.float32),
            "pointsource_wcs": {"crpix1": 1.0, "crval1": -0.5, "cdelt1": step, "crpix2": 1.0, "crval2": -0.5,
                                "cdelt2": step, "crpix3": 1.0, "crval3": float(wl[0] * 1e-6),
                                "cdelt3": float((wl[1] - wl[0]) * 1e-6)},
            "uniform_wcs": {"crpix1": 1.0, "crval1": float(wl[0] * 1e-6), "cdelt1": float((wl[1] - wl[0]) * 1e-6)},
        })
    m.apertures = apertures
    m.save(path)
    return path


def write_photom(path):
    from stdatamodels.jwst.datamodels import NrsFsPhotomModel

    n = 200
    rows = []
    for grating in ins.DISPERSERS:
        filt = ins.FILTER_FOR[grating]
        lo, hi = (v * 1e6 for v in ins.WAVELENGTH_RANGES[(filt, grating)])
        wl = np.linspace(lo - 0.1, hi + 0.1, n)
        for slit in ins.SLIT_NAMES:
            rr = relresponse(grating, wl)
            rows.append((filt, grating, slit, photmj(slit, grating), 0.0, n, wl, rr, 0.01 * rr))
    table = np.array(rows, dtype=[("filter", "S12"), ("grating", "S15"), ("slit", "S15"), ("photmj", "f4"),
                                  ("uncertainty", "f4"), ("nelem", "i2"), ("wavelength", "f4", (n,)),
                                  ("relresponse", "f4", (n,)), ("reluncertainty", "f4", (n,))])
    m = _meta(NrsFsPhotomModel(), "photom", "Simulated fixed-slit flux calibration")
    m.phot_table = table
    m.save(path)
    return path


def write_area(path):
    from stdatamodels.jwst.datamodels import NirspecSlitAreaModel

    m = _meta(NirspecSlitAreaModel(), "area", "Simulated fixed-slit nominal pixel areas")
    m.area_table = np.array([(s, slit_area_arcsec2(s)) for s in ins.SLIT_NAMES],
                            dtype=[("slit_id", "S15"), ("pixarea", "f4")])
    m.save(path)
    return path


def write_wavecorr(path):
    from astropy.modeling.models import Tabular2D
    from stdatamodels.jwst.datamodels import WaveCorrModel

    m = _meta(WaveCorrModel(), "wavecorr", "Simulated wavelength zero points")
    apertures = []
    for slit in ins.SLIT_NAMES:
        table = wavecorr_offset_truth(slit, WAVECORR_WL[:, None], WAVECORR_POS[None, :])
        apertures.append({
            "aperture_name": slit, "width": ins.FIXED_SLITS[slit][3][0],
            "zero_point_offset": Tabular2D(points=(WAVECORR_WL, WAVECORR_POS), lookup_table=table,
                                           bounds_error=False, fill_value=None),
            "variance": np.zeros(table.shape, np.float32),
        })
    m.apertures = apertures
    m.save(path)
    return path


EXTRACT_WIDTH = {"S200A1": 7, "S200A2": 7, "S400A1": 9, "S1600A1": 11, "S200B1": 7}


def write_extract1d(path):
    """Box apertures centred on the slit (moved to the source by use_source_posn)."""
    apertures = [
        {"id": slit, "region_type": "target", "dispaxis": 1, "extract_width": width, "use_source_posn": True,
         "bkg_order": 0}
        for slit, width in EXTRACT_WIDTH.items()
    ]
    doc = {"reftype": "EXTRACT1D", "instrument": "NIRSPEC", "telescope": "JWST", "pedigree": "DUMMY",
           "author": "spec2 simulator", "useafter": USEAFTER, "exp_type": FS_TYPES,
           "description": "Simulated fixed-slit extraction apertures", "apertures": apertures}
    path.write_text(json.dumps(doc, indent=2))
    return path


APCORR_SIZES = np.arange(3.0, 21.0, 2.0)  # pixels
APCORR_PHASE = np.array([0.0, 0.5, 1.0])


def enclosed_fraction(size_px, wavelength_um):
    """Fraction of the Gaussian cross-dispersion profile inside a centred box."""
    sigma = ins.psf_sigma_arcsec(wavelength_um) / 0.1
    return erf(np.asarray(size_px) / 2.0 / (np.sqrt(2) * sigma))


def write_apcorr(path):
    from stdatamodels.jwst.datamodels import NrsFsApcorrModel

    nwl, nsize, nphase = 40, APCORR_SIZES.size, APCORR_PHASE.size
    rows = []
    for grating in ins.DISPERSERS:
        filt = ins.FILTER_FOR[grating]
        lo, hi = (v * 1e6 for v in ins.WAVELENGTH_RANGES[(filt, grating)])
        wl = np.linspace(lo - 0.1, hi + 0.1, nwl)
        size = np.repeat(APCORR_SIZES[:, None], nwl, axis=1)  # [size, wavelength]
        corr = 1.0 / enclosed_fraction(size, wl[None, :])
        corr = np.repeat(corr[:, :, None], nphase, axis=2)  # [size, wavelength, pixphase]
        for slit in ins.SLIT_NAMES:
            rows.append((filt, grating, slit, wl, nwl, size, nsize, APCORR_PHASE, corr, 0.001 * corr))
    table = np.array(rows, dtype=[
        ("filter", "S12"), ("grating", "S15"), ("slit", "S15"), ("wavelength", "f4", (nwl,)), ("nelem_wl", "i2"),
        ("size", "f4", (nsize, nwl)), ("nelem_size", "i2"), ("pixphase", "f4", (nphase,)),
        ("apcorr", "f4", (nsize, nwl, nphase)), ("apcorr_err", "f4", (nsize, nwl, nphase)),
    ])
    m = _meta(NrsFsApcorrModel(), "apcorr", "Simulated fixed-slit aperture corrections")
    m.apcorr_table = table
    m.sizeunit = "pixels"
    m.save(path)
    return path


PARKEYS = ("META.INSTRUMENT.DETECTOR", "META.EXPOSURE.TYPE")
MATCH = ("NRS1|NRS2", FS_TYPES)


def write_reference_set(cache, detectors=ins.DETECTORS):
    """Write and register every calibration reference; returns {reftype: path(s)}."""
    out: dict = {}

    def publish(reftype, name, writer, *args, parkeys=PARKEYS, match=MATCH):
        path = cache.publish("nirspec", reftype, parkeys, match, f"spec2sim_nrs_{name}", writer, *args)
        out.setdefault(reftype, []).append(path)

    for reftype, writer, ext in (("pathloss", write_pathloss, "fits"), ("photom", write_photom, "fits"),
                                 ("area", write_area, "fits"), ("wavecorr", write_wavecorr, "asdf"),
                                 ("extract1d", write_extract1d, "json"), ("apcorr", write_apcorr, "fits")):
        publish(reftype, f"{reftype}.{ext}", writer)
    # the flats' content does not depend on the filter and grating here: one file each
    publish("fflat", "fflat.fits", write_fflat, "ANY", "ANY")
    for det in detectors:
        publish("sflat", f"sflat_{det}.fits", write_sflat, det, match=(det, FS_TYPES))
        publish("dflat", f"dflat_{det}.fits", write_dflat, det, match=(det, FS_TYPES))
    return out
