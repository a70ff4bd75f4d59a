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


def detector_flat_truth(detector, x_full, y_full, wavelength_um):
    """The spectrograph and detector flats S x D at full-frame pixels (0-based) and
    wavelengths (um); shared by fixed slits and MSA shutters."""
    lam = np.asarray(wavelength_um, float)
    cube = dflat_cube(detector)
    k = np.clip(np.searchsorted(DFLAT_PLANES, lam) - 1, 0, len(DFLAT_PLANES) - 2)
    p = (lam - DFLAT_PLANES[k]) / (DFLAT_PLANES[k + 1] - DFLAT_PLANES[k])
    d = (1 - p) * cube[k, y_full, x_full] + p * cube[k + 1, y_full, x_full]
    s = sflat_image(detector)[y_full, x_full]
    return s * _sflat_table(lam) * d * _dflat_table(lam)


def flat_truth(detector, x_full, y_full, wavelength_um, slit, filt, grating):
    """Total flat F x S x D at full-frame pixels (0-based) and wavelengths (um)."""
    return _fore_table(slit, wavelength_um) * detector_flat_truth(detector, x_full, y_full, wavelength_um)


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


def _responses(n):
    """(filter, grating, wavelength [um], relresponse) of every disperser, n samples
    from 0.1 um below to 0.1 um above its band."""
    for grating in ins.DISPERSERS:
        filt = ins.FILTER_FOR[grating]
        lo, hi = (v * 1e6 for v in ins.WAVELENGTH_RANGES[(filt, grating)])
        wl = np.linspace(lo - 0.1, hi + 0.1, n)
        yield filt, grating, wl, relresponse(grating, wl)


def write_photom(path):
    from stdatamodels.jwst.datamodels import NrsFsPhotomModel

    n = 200
    rows = [(filt, grating, slit, photmj(slit, grating), 0.0, n, wl, rr, 0.01 * rr)
            for filt, grating, wl, rr in _responses(n) for slit in ins.SLIT_NAMES]
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


def apcorr_table(slits=None):
    """The aperture-correction table of every grating: a row per (filter, grating) and,
    with ``slits`` (fixed slits), per slit; the Gaussian profile's enclosed fraction in a
    centred box of each size, inverted, the same at every pixel phase."""
    nwl, nsize, nphase = 40, APCORR_SIZES.size, APCORR_PHASE.size
    rows = []
    for grating in ins.DISPERSERS:
        filt = ins.FILTER_FOR[grating]
        lo, hi = (v * 1e6 for v in ins.WAVELENGTH_RANGES[(filt, grating)])
        wl = np.linspace(lo - 0.1, hi + 0.1, nwl)
        size = np.repeat(APCORR_SIZES[:, None], nwl, axis=1)  # [size, wavelength]
        corr = 1.0 / enclosed_fraction(size, wl[None, :])
        corr = np.repeat(corr[:, :, None], nphase, axis=2)  # [size, wavelength, pixphase]
        values = (wl, nwl, size, nsize, APCORR_PHASE, corr, 0.001 * corr)
        rows += [(filt, grating, slit, *values) for slit in slits] if slits else [(filt, grating, *values)]
    slit_column = [("slit", "S15")] if slits else []
    return np.array(rows, dtype=[
        ("filter", "S12"), ("grating", "S15"), *slit_column, ("wavelength", "f4", (nwl,)), ("nelem_wl", "i2"),
        ("size", "f4", (nsize, nwl)), ("nelem_size", "i2"), ("pixphase", "f4", (nphase,)),
        ("apcorr", "f4", (nsize, nwl, nphase)), ("apcorr_err", "f4", (nsize, nwl, nphase)),
    ])


def write_apcorr(path):
    from stdatamodels.jwst.datamodels import NrsFsApcorrModel

    m = _meta(NrsFsApcorrModel(), "apcorr", "Simulated fixed-slit aperture corrections")
    m.apcorr_table = apcorr_table(ins.SLIT_NAMES)
    m.sizeunit = "pixels"
    m.save(path)
    return path


PARKEYS = ("META.INSTRUMENT.DETECTOR", "META.EXPOSURE.TYPE")


def _publish_set(cache, prefix, exp_types, singles, fflat_writer, detectors):
    """Write and register ``singles`` ((reftype, writer, extension), one file each), the
    F-flat and each detector's S/D flats for ``exp_types``; returns {reftype: [path]}."""
    out: dict = {}

    def publish(reftype, name, writer, *args, match=("NRS1|NRS2", exp_types)):
        path = cache.publish("nirspec", reftype, PARKEYS, match, f"{prefix}{name}", writer, *args)
        out.setdefault(reftype, []).append(path)

    for reftype, writer, ext in singles:
        publish(reftype, f"{reftype}.{ext}", writer)
    # the flats' content does not depend on the filter and grating here: one file each
    publish("fflat", "fflat.fits", fflat_writer, "ANY", "ANY")
    for det in detectors:
        publish("sflat", f"sflat_{det}.fits", write_sflat, det, match=(det, exp_types))
        publish("dflat", f"dflat_{det}.fits", write_dflat, det, match=(det, exp_types))
    return out


def write_reference_set(cache, detectors=ins.DETECTORS):
    """Write and register every calibration reference; returns {reftype: path(s)}."""
    singles = (("pathloss", write_pathloss, "fits"), ("photom", write_photom, "fits"), ("area", write_area, "fits"),
               ("wavecorr", write_wavecorr, "asdf"), ("extract1d", write_extract1d, "json"),
               ("apcorr", write_apcorr, "fits"))
    return _publish_set(cache, "spec2sim_nrs_", FS_TYPES, singles, write_fflat, detectors)


# ---------------------------------------------------------------------------------------
# MOS (NRS_MSASPEC) calibration references
# ---------------------------------------------------------------------------------------
# The MSA's four quadrants are grids of 365 (x, along dispersion) by 171 (y) shutters;
# a shutter is addressed (quadrant 1-4, xcen 1-365, ycen 1-171), as in the MSA metadata.
# The quadrant F-flat holds a fifth quadrant whose only element jwst reads ([-1, -1]) is
# that of fixed slits in an MSA exposure (quadrant 5, xcen = ycen = 0).

MOS_TYPE = "NRS_MSASPEC"
MSA_SHAPE = (171, 365)  # (ycen, xcen) of one quadrant
QUAD_FLAT_PLANES = np.array([0.6, 1.5, 3.0, 5.3])  # um
BARSHADOW_WL = (0.5, 0.05)  # um: the wavelength of the first column and the step, over 101 columns
# fine enough that bilinear interpolation of the point-source throughput stays within 0.02 %
MOS_PATHLOSS_POS = np.linspace(-0.5, 0.5, 41)


def _mos_meta(model, reftype, description, **keys):
    """Reference-file keywords for NRS_MSASPEC (EXP_TYPE only where the schema has it:
    the quadrant flat's has not; CRDS selects from its own rules)."""
    model.meta.reftype = reftype.upper()
    model.meta.author, model.meta.pedigree = "spec2 simulator", "DUMMY"
    model.meta.description, model.meta.useafter = description, USEAFTER
    model.meta.telescope, model.meta.instrument.name = "JWST", "NIRSPEC"
    for key, value in keys.items():
        setattr(model.meta.instrument, key, value)
    try:
        model.meta.exposure.type = MOS_TYPE
        model.meta.exposure.p_exptype = MOS_TYPE + "|"
    except AttributeError:
        pass
    return model


def msa_shutter_flat_truth(quadrant, xcen, ycen, wavelength_um):
    """Relative throughput of one MSA shutter (the quadrant F-flat's cube): a slow
    pattern across the quadrant, a little redder at larger xcen."""
    lam = np.asarray(wavelength_um, float)
    u, v = (np.asarray(xcen) - 183.0) / 365.0, (np.asarray(ycen) - 86.0) / 171.0
    return 1.0 + 0.01 * quadrant - 0.02 * (u**2 + v**2) + 0.01 * u * (lam - 3.0) / 2.3


def _msa_fore_table(quadrant, wl_um):
    return 1.0 + 0.02 * np.cos(1.3 * np.asarray(wl_um) + quadrant)


def write_quad_fflat(path, filt, grating):
    """NirspecQuadFlatModel: per quadrant a one-row FAST_VARIATION table ("ANY") and a
    cube [plane, ycen - 1, xcen - 1] of each shutter's throughput at QUAD_FLAT_PLANES."""
    from stdatamodels.jwst.datamodels import NirspecQuadFlatModel

    m = _mos_meta(NirspecQuadFlatModel(), "fflat", "Simulated MSA fore-optics quadrant flat", filter=filt,
                  grating=grating)
    _full_frame(m)
    y, x = np.mgrid[1 : MSA_SHAPE[0] + 1, 1 : MSA_SHAPE[1] + 1]
    planes = np.array([(v,) for v in QUAD_FLAT_PLANES], dtype=[("wavelength", "f4")])
    quadrants = []
    for q in range(1, 6):
        cube = np.array([msa_shutter_flat_truth(q, x, y, lam) for lam in QUAD_FLAT_PLANES], np.float32)
        quadrants.append({
            "data": cube, "err": np.full(cube.shape, 0.001, np.float32), "dq": np.zeros(cube.shape, np.uint32),
            "wavelength": planes.copy(),
            "flat_table": _fast_table(["ANY"], lambda name, q=q: _msa_fore_table(q, FLAT_TABLE_WL)),
        })
    m.quadrants = quadrants
    m.save(path)
    return path


def mos_pathloss_truth(shutters, wavelength_um, xpos, ypos, source_type):
    """Throughput of a MOS slitlet. Point sources: the PSF overfilling the shutter
    across and along (the 1x3 table spans three shutters, y -1.5..1.5, with bars at
    +-0.5, +-1.5); uniform light: the open fraction with a colour term."""
    lam = np.asarray(wavelength_um, float)
    if source_type == "EXTENDED":
        return (0.8 if shutters == 1 else 0.86) - 0.01 * lam
    width = 2.0  # shutter width in pixels (0.2 arcsec)
    sigma = ins.psf_sigma_arcsec(lam) / 0.1
    half = width / 2.0
    across = 0.5 * (erf((half - xpos * width) / (np.sqrt(2) * sigma)) + erf((half + xpos * width) / (np.sqrt(2) * sigma)))
    bar = np.abs(np.asarray(ypos)) - np.round(np.abs(np.asarray(ypos)))  # distance from the nearest shutter centre
    along = 1.0 - 0.3 * bar**2 - (0.2 * np.asarray(ypos) ** 2 if shutters == 1 else 0.0)
    return across * along


def write_mos_pathloss(path):
    """PathlossModel with the two MOS apertures, MOS1x1 (source shutter alone, y over
    one shutter) and MOS1x3 (its neighbours open, y over three), on one wavelength grid.
    EXP_TYPE is NRS_MSASPEC: jwst picks apertures by shutter count only for that."""
    from stdatamodels.jwst.datamodels import PathlossModel

    m = _mos_meta(PathlossModel(), "pathloss", "Simulated MOS path loss")
    wl = PATHLOSS_WL
    step = float(MOS_PATHLOSS_POS[1] - MOS_PATHLOSS_POS[0])
    apertures = []
    for name, shutters in (("MOS1x1", 1), ("MOS1x3", 3)):
        ys = np.linspace(-0.5 * shutters, 0.5 * shutters, round(shutters / step) + 1)
        cube = mos_pathloss_truth(shutters, wl[:, None, None], MOS_PATHLOSS_POS[None, None, :], ys[None, :, None],
                                  "POINT")
        apertures.append({
            "name": name, "shutters": shutters,
            "pointsource_data": cube.astype(np.float32), "pointsource_err": np.zeros(cube.shape, np.float32),
            "uniform_data": mos_pathloss_truth(shutters, wl, 0, 0, "EXTENDED").astype(np.float32),
            "uniform_err": np.zeros(wl.size, np.float32),
            "pointsource_wcs": {"crpix1": 1.0, "crval1": -0.5, "cdelt1": step, "crpix2": 1.0,
                                "crval2": float(ys[0]), "cdelt2": step, "crpix3": 1.0,
                                "crval3": float(wl[0] * 1e-6), "cdelt3": float((wl[1] - wl[0]) * 1e-6)},
            "uniform_wcs": {"crpix1": 1.0, "crval1": float(wl[0] * 1e-6), "cdelt1": float((wl[1] - wl[0]) * 1e-6)},
        })
    m.apertures = apertures
    m.save(path)
    return path


def barshadow_truth(y_pitch, wavelength_um, neighbours_open):
    """Bar shadow over y in shutter pitches (0 the shutter centre, bars at +-0.5):
    a dip at each bar, deeper to the blue; beyond a bar with a closed shutter the
    light falls away."""
    y = np.asarray(y_pitch, float)
    lam = np.asarray(wavelength_um, float)
    depth = 0.35 + 0.03 * (3.0 - lam)
    shadow = 1.0 - depth * np.exp(-(((np.abs(y) - 0.5) / 0.08) ** 2))
    if not neighbours_open:
        shadow = np.where(np.abs(y) > 0.5, shadow * np.exp(-((np.abs(y) - 0.5) / 0.1)), shadow)
    return shadow


def write_barshadow(path, grating="ANY"):
    """BarshadowModel: data1x1/data1x3 [1001 rows of y from -1 to 1 pitch, 101
    wavelengths], their variances, and the CRVAL/CDELT keywords jwst reads
    (wavelengths in metres)."""
    from stdatamodels.jwst.datamodels import BarshadowModel

    m = _mos_meta(BarshadowModel(), "barshadow", "Simulated MSA bar shadows", grating=grating)
    y = np.linspace(-1.0, 1.0, 1001)[:, None]
    lam = BARSHADOW_WL[0] + BARSHADOW_WL[1] * np.arange(101)[None, :]
    m.data1x1 = barshadow_truth(y, lam, False).astype(np.float32)
    m.data1x3 = barshadow_truth(y, lam, True).astype(np.float32)
    m.var1x1 = np.full((1001, 101), 1e-6, np.float32)
    m.var1x3 = np.full((1001, 101), 1e-6, np.float32)
    # in metres, as CRDS's files: the pipelines read them against the WCS's wavelengths (m)
    m.crval1, m.cdelt1 = BARSHADOW_WL[0] * 1e-6, BARSHADOW_WL[1] * 1e-6
    m.crval2, m.cdelt2 = -1.0, 0.002
    m.save(path)
    return path


def mos_photmj(grating):
    """MJy per DN/s of an MSA shutter with this grating."""
    return 0.9 * photmj("S200A1", grating)


def write_mos_photom(path):
    """NrsMosPhotomModel: one row per filter/grating pair (no slit column)."""
    from stdatamodels.jwst.datamodels import NrsMosPhotomModel

    n = 200
    rows = [(filt, grating, mos_photmj(grating), 0.0, n, wl, rr, 0.01 * rr) for filt, grating, wl, rr in _responses(n)]
    table = np.array(rows, dtype=[("filter", "S12"), ("grating", "S15"), ("photmj", "f4"), ("uncertainty", "f4"),
                                  ("nelem", "i2"), ("wavelength", "f4", (n,)), ("relresponse", "f4", (n,)),
                                  ("reluncertainty", "f4", (n,))])
    m = _mos_meta(NrsMosPhotomModel(), "photom", "Simulated MOS flux calibration")
    m.phot_table = table
    m.save(path)
    return path


def shutter_area_arcsec2(quadrant, xcen, ycen):
    """Nominal pixel solid angle behind an MSA shutter (arcsec^2)."""
    return 0.0095 * (1.0 + 0.002 * quadrant + 0.01 * (np.asarray(ycen) - 86.0) / 171.0)


def write_mos_area(path):
    """NirspecMosAreaModel: a row per shutter of the four quadrants."""
    from stdatamodels.jwst.datamodels import NirspecMosAreaModel

    q, y, x = np.meshgrid(np.arange(1, 5), np.arange(1, MSA_SHAPE[0] + 1), np.arange(1, MSA_SHAPE[1] + 1),
                          indexing="ij")
    table = np.zeros(q.size, dtype=[("quadrant", "i2"), ("shutter_x", "i2"), ("shutter_y", "i2"), ("pixarea", "f4")])
    table["quadrant"], table["shutter_x"], table["shutter_y"] = q.ravel(), x.ravel(), y.ravel()
    table["pixarea"] = shutter_area_arcsec2(q, x, y).ravel()
    m = _mos_meta(NirspecMosAreaModel(), "area", "Simulated MOS nominal pixel areas")
    m.area_table = table
    m.save(path)
    return path


def write_mos_wavecorr(path):
    """WaveCorrModel with the fixed slits' apertures and "MOS", the one jwst reads for
    every MSA slitlet (a shutter is 0.2 arcsec wide, as the S200 slits), as CRDS's
    NIRSpec wavecorr files hold them."""
    from astropy.modeling.models import Tabular2D
    from stdatamodels.jwst.datamodels import WaveCorrModel

    m = _mos_meta(WaveCorrModel(), "wavecorr", "Simulated MOS and fixed-slit wavelength zero points")
    apertures = []
    for name, like, width in [(s, s, ins.FIXED_SLITS[s][3][0]) for s in ins.SLIT_NAMES] + [("MOS", "S200A1", 0.2)]:
        table = wavecorr_offset_truth(like, WAVECORR_WL[:, None], WAVECORR_POS[None, :])
        apertures.append({"aperture_name": name, "width": width,
                          "zero_point_offset": Tabular2D(points=(WAVECORR_WL, WAVECORR_POS), lookup_table=table,
                                                         bounds_error=False, fill_value=None),
                          "variance": np.zeros(table.shape, np.float32)})
    m.apertures = apertures
    m.save(path)
    return path


MOS_EXTRACT_WIDTH = 5  # pixels: a shutter's height on the detector


def write_mos_extract1d(path):
    """One aperture for every slitlet (id ANY, as slitlet names are numbers): a box of
    MOS_EXTRACT_WIDTH rows centred on the slitlet, moved onto a point source's planned
    position by use_source_posn."""
    aperture = {"id": "ANY", "region_type": "target", "dispaxis": 1, "extract_width": MOS_EXTRACT_WIDTH,
                "use_source_posn": True, "bkg_order": 0}
    doc = {"reftype": "EXTRACT1D", "instrument": "NIRSPEC", "telescope": "JWST", "pedigree": "DUMMY",
           "author": "spec2 simulator", "useafter": USEAFTER, "exp_type": MOS_TYPE,
           "description": "Simulated MOS extraction aperture", "apertures": [aperture]}
    path.write_text(json.dumps(doc, indent=2))
    return path


def write_mos_apcorr(path):
    """NrsMosApcorrModel: one row per filter and grating (no slit column: every
    slitlet takes it)."""
    from stdatamodels.jwst.datamodels import NrsMosApcorrModel

    m = _mos_meta(NrsMosApcorrModel(), "apcorr", "Simulated MOS aperture corrections")
    m.apcorr_table = apcorr_table()
    m.sizeunit = "pixels"
    m.save(path)
    return path


# ---------------------------------------------------------------------------------------
# MOS truths of a whole slitlet: what the simulator injects through
# ---------------------------------------------------------------------------------------
# A slitlet is described as the MSA metadata gives it: ``shutter_state`` ("1" open, "0"
# closed, "x" the source's shutter; bottom shutter first), the source shutter (quadrant,
# xcen, ycen) and the source position in the slit frame (-0.5..0.5 of a shutter).


def mos_flat_truth(detector, x_full, y_full, wavelength_um, quadrant, xcen, ycen):
    """F x S x D behind MSA shutter (quadrant, xcen, ycen): the quadrant's fore-optics
    shape, the shutter's own throughput, the spectrograph and detector flats."""
    lam = np.asarray(wavelength_um, float)
    return (_msa_fore_table(quadrant, lam) * msa_shutter_flat_truth(quadrant, xcen, ycen, lam)
            * detector_flat_truth(detector, x_full, y_full, lam))


def _open_neighbours(shutter_state):
    """(below open, above open) of the source shutter; beyond the slitlet's ends is closed.
    Without a source shutter (background slitlet) the middle one stands in."""
    k = shutter_state.find("x")
    k = (len(shutter_state) - 1) // 2 if k < 0 else k
    below = k > 0 and shutter_state[k - 1] != "0"
    above = k < len(shutter_state) - 1 and shutter_state[k + 1] != "0"
    return below, above


def mos_slitlet_pathloss_truth(shutter_state, wavelength_um, xpos, ypos, source_type):
    """Throughput of a slitlet for its source (slit-frame position) or uniform light.
    Uniform: a lone shutter passes its open fraction (the 1x1 value), one with open
    neighbours the 1x3 value, a two-shutter slitlet halfway between. Point: the PSF cut
    by the source shutter and the bars of a one-shutter (both neighbours closed) or a
    three-shutter slit, the source sitting in the lower (upper) shutter of the three when
    only its upper (lower) neighbour is open."""
    below, above = _open_neighbours(shutter_state)
    if source_type == "EXTENDED":
        if len(shutter_state) == 2:
            return 0.5 * (mos_pathloss_truth(1, wavelength_um, 0, 0, "EXTENDED")
                          + mos_pathloss_truth(3, wavelength_um, 0, 0, "EXTENDED"))
        return mos_pathloss_truth(1 if not (below or above) else 3, wavelength_um, 0, 0, "EXTENDED")
    if not (below or above):
        return mos_pathloss_truth(1, wavelength_um, xpos, ypos, "POINT")
    shift = -1.0 if above and not below else (1.0 if below and not above else 0.0)
    return mos_pathloss_truth(3, wavelength_um, xpos, ypos + shift, "POINT")


def slitlet_barshadow_truth(shutter_state, y_pitch, wavelength_um):
    """Shade of the bars on uniform light at slit-frame y (in shutter pitches, 0 at the
    source shutter's centre; at the middle shutter's for a background slitlet). Between
    two shutter centres the bar between them shades as in a three-shutter slit when
    both are open, as at the end of a lone shutter when one is closed; a closed pair lets
    through only the deepest shade; beyond the end shutters light falls off as past a
    lone shutter's bar. The first shutter counts as open (its light is what is there)."""
    y = np.asarray(y_pitch, float)
    lam = np.asarray(wavelength_um, float)
    n = len(shutter_state)
    k_src = shutter_state.find("x")
    k_src = (n - 1) // 2 if k_src < 0 else k_src
    t = y + k_src  # position in pitches from the first shutter's centre
    k = np.clip(np.floor(np.nan_to_num(t)), -1, n - 1).astype(int)  # the centre below
    u = t - k  # 0..1 from that centre to the next
    is_open = np.array([True] + [c != "0" for c in shutter_state[1:]])
    lower = np.where(k >= 0, is_open[np.clip(k, 0, n - 1)], True)
    upper = np.where(k < n - 1, is_open[np.clip(k + 1, 0, n - 1)], True)
    deepest = barshadow_truth(1.0, lam, False)  # a lone shutter's shade is deepest a pitch from its centre
    out = np.where(lower & upper, barshadow_truth(u - 1.0, lam, True), deepest)
    out = np.where(lower & ~upper, barshadow_truth(u, lam, False), out)
    out = np.where(~lower & upper, barshadow_truth(u - 1.0, lam, False), out)
    out = np.where(k < 0, barshadow_truth(u - 1.0, lam, False), out)  # below the first centre
    return np.where(k >= n - 1, barshadow_truth(u, lam, False), out)  # above the last


def mos_photom_truth(grating, wavelength_um):
    """MJy per DN/s of a point source seen through an MSA shutter."""
    return mos_photmj(grating) * relresponse(grating, wavelength_um)


def shutter_area_sr(quadrant, xcen, ycen):
    """Solid angle of a pixel behind an MSA shutter (sr)."""
    return shutter_area_arcsec2(quadrant, xcen, ycen) * A2_TO_SR


def write_mos_reference_set(cache, detectors=ins.DETECTORS):
    """Write and register the MOS calibration and extraction references (quadrant
    F-flat, MOS pathloss, barshadow, MOS photom and area, wavecorr with the MOS
    aperture, extract1d, apcorr) for EXP_TYPE NRS_MSASPEC, and the S/D flats (the fixed
    slits' content) for it; returns {reftype: [path]}."""
    singles = (("pathloss", write_mos_pathloss, "fits"), ("photom", write_mos_photom, "fits"),
               ("area", write_mos_area, "fits"), ("wavecorr", write_mos_wavecorr, "asdf"),
               ("barshadow", write_barshadow, "fits"), ("extract1d", write_mos_extract1d, "json"),
               ("apcorr", write_mos_apcorr, "fits"))
    return _publish_set(cache, "spec2sim_nrs_mos_", MOS_TYPE, singles, write_quad_fflat, detectors)
