"""NIRSpec slit world coordinates from the instrument-model reference files.

The chain, for fixed slits and BOTS::

    detector -dms2sca-> sca -det2gwa-> gwa -gwa2slit-> slit_frame -slit2msa-> msa_frame
      -msa2oteip-> oteip -oteip2v23-> v2v3 -va_corr-> v2v3vacorr -v2v3_to_sky-> world

Inputs carry the slit id as a third coordinate ("name"). Each stage is built from the
reference model of its name (fpa, camera, disperser, collimator, msa, fore, ote) and the
transform classes stdatamodels ships for NIRSpec (Gwa2Slit, Slit2Msa, Rotation3DToGWA,
...), laid out as jwst stores them, so that jwst's tools (``nrs_wcs_set_input``,
extract_2d, resample) read a spec2 WCS unchanged, and evaluations agree bit for bit.

The physics in brief: a detector pixel maps through the FPA and camera models to the
beam direction leaving the grating; the slit's MSA position maps through the collimator
to the beam direction arriving. The cross-dispersion direction cosine is unchanged by
the grating (up to sign), which gives the position along the slit from a lookup table;
the grating equation lambda = (sin a_in + sin a_out) / (G m) gives the wavelength.
Wavelengths are metres until ``oteip2v23`` scales them to microns.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from spec2.errors import InputError, NoDataOnDetector, ReferenceFileError
from spec2.wcs.compiled import compile_model
from spec2.wcs.instrument_cache import InstrumentCache
from spec2.wcs.velocity import velocity_correction

log = logging.getLogger("spec2")

# jwst's fixed-slit numbering (slit ids -101..-105; quadrant 5 of the MSA file)
FIXED_SLIT_NUMS = {"NONE": 0, "S200A1": 1, "S200A2": 2, "S400A1": 3, "S1600A1": 4, "S200B1": 5}
SLIT_Y_RANGE = (-0.55, 0.55)
FS_SUBARRAY_SLIT = {
    "SUBS200A1": "S200A1", "SUBS200A2": "S200A2", "SUBS400A1": "S400A1", "SUBS200B1": "S200B1",
    "SUB2048": "S1600A1", "SUB512": "S1600A1", "SUB512S": "S1600A1", "SUB1024A": "S1600A1",
    "SUB1024B": "S1600A1",
}


class NoSlitOnDetector(NoDataOnDetector):
    """No open slit projects onto the exposure's detector (exit status 64, as jwst's)."""


def fs_slit_id(name: str) -> int:
    return -100 - FIXED_SLIT_NUMS.get(name, 0)


def fs_slit_name(slit_id) -> str:
    try:
        number = -int(slit_id) - 100
    except (TypeError, ValueError):
        return "NONE"
    return next((k for k, v in FIXED_SLIT_NUMS.items() if v == number), "NONE")


# ---------------------------------------------------------------------------------------
# Open slits and spectral setup
# ---------------------------------------------------------------------------------------


def open_fixed_slits(model, y_range=SLIT_Y_RANGE):
    """The Slit tuples observed by a fixed-slit or BOTS exposure.

    The primary slit (FXD_SLIT) carries source id 1; the others 10 * primary + n.
    A subarray sees its own slit; full frame all five; BOTS always S1600A1.
    """
    from stdatamodels.jwst.transforms.models import Slit

    ylow, yhigh = y_range
    exp_type = model.meta.exposure.type
    if exp_type == "NRS_BRIGHTOBJ":
        return [Slit("S1600A1", 3, 0, 0, 0, ylow, yhigh, 5, 1, slit_id=fs_slit_id("S1600A1"))]
    subarray = (model.meta.subarray.name or "").upper()
    if not subarray:
        raise InputError("NIRSpec fixed-slit exposure lacks the SUBARRAY keyword")
    primary = model.meta.instrument.fixed_slit or "NONE"
    if primary not in FIXED_SLIT_NUMS:
        raise InputError(f"FXD_SLIT={primary!r} is not a NIRSpec fixed slit")
    slits = []
    for name, number in FIXED_SLIT_NUMS.items():
        if name == "NONE":
            continue
        source_id = 1 if name == primary else 10 * FIXED_SLIT_NUMS[primary] + number
        slits.append(Slit(name, number - 1, 0, 0, 0, ylow, yhigh, 5, source_id, slit_id=fs_slit_id(name)))
    if subarray in FS_SUBARRAY_SLIT:
        return [s for s in slits if s.name == FS_SUBARRAY_SLIT[subarray]]
    return slits


def spectral_order_and_range(model, wavelengthrange):
    """(order, [lambda_min, lambda_max] in m) for the exposure's FILTER_GRATING."""
    filt, grating = model.meta.instrument.filter, model.meta.instrument.grating
    selector = list(wavelengthrange.waverange_selector)
    key = f"{filt}_{grating}"
    if key not in selector:
        # jwst falls back to another filter's range here and calibrates a configuration
        # NIRSpec cannot take; spec2 says so instead (a header error, usually)
        known = ", ".join(s.replace("_", "+") for s in selector)
        raise InputError(
            f"FILTER={filt} with GRATING={grating} is not a NIRSpec configuration "
            f"(the wavelengthrange reference lists {known})"
        )
    index = selector.index(key)
    return int(wavelengthrange.order[index]), list(wavelengthrange.wavelengthrange[index])


def corrected_disperser(disperser, xtilt, ytilt):
    """The disperser's angles corrected for the exposure's GWA tilt-sensor readings:
    GWA_XTIL corrects theta_y and GWA_YTIL theta_x by half the calibrated tilt change."""

    def correction(tilt, reading):
        return 0.5 * (tilt.tilt_model(reading) - tilt.tilt_model(tilt.zeroreadings[0])) / 3600.0

    angles = {k: getattr(disperser, k) for k in ("theta_x", "theta_y", "theta_z", "tilt_y")}
    if xtilt is not None:
        angles["theta_y"] = disperser.theta_y + correction(disperser.gwa_tiltx, xtilt)
    if ytilt is not None:
        angles["theta_x"] = disperser.theta_x + correction(disperser.gwa_tilty, ytilt)
    return angles


# ---------------------------------------------------------------------------------------
# The stages
# ---------------------------------------------------------------------------------------


def _named(transform, name, inputs, outputs):
    transform.name = name
    transform.inputs = inputs
    transform.outputs = outputs
    return transform


def dms_to_sca(model):
    """Exposure pixel (0-based) -> full-frame SCA pixel; NRS2 is read out rotated 180 deg."""
    from astropy.modeling import models

    xstart = model.meta.subarray.xstart or 1
    ystart = model.meta.subarray.ystart or 1
    to_full = models.Shift(xstart - 1) & models.Shift(ystart - 1)
    detector = model.meta.instrument.detector
    if detector == "NRS2":
        orient = models.Shift(-2047) & models.Shift(-2047) | models.Scale(-1) & models.Scale(-1)
    elif detector == "NRS1":
        orient = models.Identity(2)
    else:
        raise InputError(f"DETECTOR={detector!r} is not a NIRSpec detector")
    return _named((to_full | orient) & models.Identity(1), "dms2sca", ("x", "y", "name"), ("x", "y", "name"))


def _gwa_rotation(angles):
    from stdatamodels.jwst.transforms.models import Rotation3DToGWA

    values = [angles["theta_x"], angles["theta_y"], angles["theta_z"], angles["tilt_y"]]
    return Rotation3DToGWA(values, axes_order="xyzy", name="rotation")


def detector_to_gwa(fpa_detector, camera, angles):
    from astropy.modeling.models import Identity, Mapping
    from stdatamodels.jwst.transforms.models import Unitless2DirCos

    u2dircos = Unitless2DirCos(name="unitless2directional_cosines")
    mapping = Mapping((3, 0, 1, 2))
    mapping.inverse = Mapping((1, 2, 3, 0))
    chain = (fpa_detector | camera | u2dircos | _gwa_rotation(angles)) & Identity(1) | mapping
    return _named(chain, "det2gwa", ("x", "y", "name"), ("name", "angle1", "angle2", "angle3"))


def collimator_to_gwa(collimator, angles):
    from stdatamodels.jwst.transforms.models import Unitless2DirCos

    return collimator.inverse | Unitless2DirCos(name="unitless2directional_cosines") | _gwa_rotation(angles)


def grating_models(groove_density, order):
    """(angle from wavelength, wavelength from angles) for a grating, with jwst's sign
    convention for the outgoing angle."""
    from astropy.modeling.models import Identity, Mapping, Scale
    from gwcs.spectroscopy import (
        AnglesFromGratingEquation3D,
        WavelengthFromGratingEquation,
    )

    agreq = (
        Mapping((0, 1, 2), n_inputs=4)
        | Identity(1) & Scale(-1) & Identity(1)
        | AnglesFromGratingEquation3D(groove_density, order, name="alpha_from_greq")
    )
    lgreq = (
        Mapping((0, 2), n_inputs=3)
        | WavelengthFromGratingEquation(groove_density, order, name="lambda_from_gratingeq")
        | Scale(-1)
    )
    return agreq, lgreq


def prism_models(disperser, temperature):
    """(angles from wavelength: Snell's law through the double-pass prism, wavelength
    from angles: the refractive index they imply, looked up in the glass's n(lambda))."""
    from astropy.modeling.models import Tabular1D
    from stdatamodels.jwst.transforms.models import RefractionIndexFromPrism, Snell

    if temperature is None:
        raise InputError("NIRSpec PRISM exposure lacks GWA_TILT (the GWA temperature)")
    pref = disperser.pref
    agreq = Snell(disperser.angle, disperser.kcoef, disperser.lcoef, disperser.tcoef, disperser.tref,
                  pref, temperature, pref, name="snell_law")
    lam = np.arange(0.3, 8.005, 0.005) * 1e-6
    n = Snell.compute_refraction_index(lam, temperature, disperser.tref, pref, pref,
                                       disperser.kcoef[:], disperser.lcoef[:], disperser.tcoef[:])
    # n falls with wavelength: the lookup needs it ascending
    lookup = Tabular1D(points=(np.flipud(n),), lookup_table=np.flipud(lam), bounds_error=False)
    return agreq, RefractionIndexFromPrism(disperser.angle, name="n_prism") | lookup


def slit_location(row):
    """Relative slit coordinates -> quadrant position (m) for an MSA-file row
    (id, xcentre, ycentre, xsize, ysize)."""
    from astropy.modeling import models

    _num, xcen, ycen, xsize, ysize = row
    return models.Scale(xsize) & models.Scale(ysize) | models.Shift(xcen) & models.Shift(ycen)


def ymsa_lookup(msa2gwa, slit):
    """Lookup table: cross-dispersion direction cosine at the grating -> y_slit."""
    from astropy.modeling.models import Tabular1D

    dy = np.linspace(slit.ymin, slit.ymax, 1000)
    beta_in = msa2gwa(np.zeros(dy.shape), dy)[1]
    return Tabular1D(points=(beta_in,), lookup_table=dy, bounds_error=False, name="tabular")


def slit_mask(ymin, ymax):
    """(x_slit, y_slit, lambda) with everything NaN where y_slit is outside [ymin, ymax]."""
    from astropy.modeling import models
    from astropy.modeling.models import Identity, Mapping
    from stdatamodels.jwst.transforms.models import Logical

    above = Logical(condition="GT", compareto=ymax, value=np.nan)
    below = Logical(condition="LT", compareto=ymin, value=np.nan)
    model = (
        Mapping((0, 1, 2, 1))
        | Identity(3) & (above | below | models.Scale(0))
        | Mapping((0, 1, 3, 2, 3))
        | Identity(1) & Mapping((0,), n_inputs=2) + Mapping((1,)) & Mapping((0,), n_inputs=2) + Mapping((1,))
    )
    model.inverse = Identity(3)
    return model


def _msa_rows(msa, slits):
    """(slit, MSA-file row, quadrant model) per slit, in quadrant order as jwst builds."""
    out = []
    for quadrant in range(1, 6):
        in_quadrant = [s for s in slits if s.quadrant == quadrant]
        if not in_quadrant:
            continue
        node = getattr(msa, f"Q{quadrant}")
        for slit in in_quadrant:
            index = slit.shutter_id if quadrant == 5 else slit.shutter_id - 1
            out.append((slit, node.data[index], node.model))
    return out


def gwa_to_slit(slits, msa, collimator2gwa, agreq, lgreq):
    from astropy.modeling.models import Const1D, Identity, Mapping
    from stdatamodels.jwst.transforms.models import Gwa2Slit

    models_, ordered = [], []
    for slit, row, quadrant_model in _msa_rows(msa, slits):
        msa2gwa = (slit_location(row) | quadrant_model) | collimator2gwa
        gwa2msa = ymsa_lookup(msa2gwa, slit)
        # outgoing angles -> (x_slit=0, y_slit, lambda): y from the lookup on -beta, then
        # the incoming angles of that slit point give lambda by the grating equation
        to_slit = (
            Mapping((0, 1, 0, 1), n_inputs=3)
            | Const1D(0) * Identity(1) & Const1D(-1) * Identity(1) & Identity(2)
            | Identity(1) & gwa2msa & Identity(2)
            | Mapping((0, 1, 0, 1, 2, 3))
            | Identity(2) & msa2gwa & Identity(2)
            | Mapping((0, 1, 2, 3, 5), n_inputs=7)
            | Identity(2) & lgreq
            | slit_mask(slit.ymin, slit.ymax)
        )
        to_slit.inverse = msa2gwa & Identity(1) | Mapping((3, 0, 1, 2)) | agreq
        models_.append(to_slit)
        ordered.append(slit)
    return _named(Gwa2Slit(ordered, models_), "gwa2slit", ("name", "angle1", "angle2", "angle3"),
                  ("name", "x_slit", "y_slit", "lam"))


def slit_to_msa(slits, msa):
    from astropy.modeling.models import Identity, Mapping
    from stdatamodels.jwst.transforms.models import Slit2Msa

    rows = _msa_rows(msa, slits)
    s2m = Slit2Msa([r[0] for r in rows], [slit_location(r[1]) | r[2] for r in rows])
    mapping = Mapping((0, 1, 3, 2))
    mapping.inverse = Mapping((0, 1, 3, 2))
    return _named(s2m & Identity(1) | mapping, "slit2msa", ("name", "x_slit", "y_slit", "lam"),
                  ("x_msa", "y_msa", "lam", "name"))


def msa_to_oteip(fore):
    from astropy.modeling.models import Identity, Mapping

    to_fore = Mapping((0, 1, 2, 2), name="msa2fore_mapping")
    to_fore.inverse = Identity(3)
    return _named((to_fore | fore & Identity(1)) & Identity(1), "msa2oteip",
                  ("x_msa", "y_msa", "lam", "name"), ("x_ote", "y_ote", "lam", "name"))


def oteip_to_v2v3(ote):
    from astropy.modeling.models import Identity, Mapping, Scale

    to_ote = Identity(3, name="fore2ote_mapping")
    to_ote.inverse = Mapping((0, 1, 2, 2))
    # the wavelength leaves the instrument model here: metres -> microns
    return _named((to_ote | ote & Scale(1e6)) & Identity(1), "oteip2v23",
                  ("x_ote", "y_ote", "lam", "name"), ("v2", "v3", "lam", "name"))


def frames():
    """The coordinate frames of the slit chain, named and unitted as jwst names them."""
    from astropy import coordinates as coord
    from astropy import units as u
    from gwcs import coordinate_frames as cf

    spec = cf.SpectralFrame(name="spectral", axes_order=(2,), unit=(u.micron,), axes_names=("wavelength",))

    def composite(name, spatial):
        return cf.CompositeFrame([spatial, spec], name=name)

    return {
        "detector": cf.Frame2D(name="detector", axes_order=(0, 1)),
        "sca": cf.Frame2D(name="sca", axes_order=(0, 1)),
        "gwa": cf.Frame2D(name="gwa", axes_order=(0, 1), unit=(u.rad, u.rad), axes_names=("alpha_in", "beta_in")),
        "slit_frame": composite("slit_frame", cf.Frame2D(
            name="slit_spatial", axes_order=(0, 1), unit=("", ""), axes_names=("x_slit", "y_slit"))),
        "msa_frame": composite("msa_frame", cf.Frame2D(
            name="msa_spatial", axes_order=(0, 1), unit=(u.m, u.m), axes_names=("x_msa", "y_msa"))),
        "oteip": composite("oteip", cf.Frame2D(
            name="oteip", axes_order=(0, 1), unit=(u.deg, u.deg), axes_names=("X_OTEIP", "Y_OTEIP"))),
        "v2v3": composite("v2v3", cf.Frame2D(
            name="v2v3_spatial", axes_order=(0, 1), unit=(u.arcsec, u.arcsec), axes_names=("v2", "v3"))),
        "v2v3vacorr": composite("v2v3vacorr", cf.Frame2D(
            name="v2v3vacorr_spatial", axes_order=(0, 1), unit=(u.arcsec, u.arcsec), axes_names=("v2", "v3"))),
        "world": composite("world", cf.CelestialFrame(name="sky", axes_order=(0, 1), reference_frame=coord.ICRS())),
    }


# ---------------------------------------------------------------------------------------
# The whole chain
# ---------------------------------------------------------------------------------------


class InstrumentModel:
    """The reference models one exposure's WCS is built from (opened stdatamodels)."""

    def __init__(self, model, refs: dict):
        self.exposure = model
        _require_references(refs)
        self.refs = refs
        inst = model.meta.instrument
        self.angles = corrected_disperser(refs["disperser"], inst.gwa_xtilt, inst.gwa_ytilt)
        self.order, self.wrange = spectral_order_and_range(model, refs["wavelengthrange"])
        if inst.grating == "PRISM":
            self.agreq, self.lgreq = prism_models(refs["disperser"], inst.gwa_tilt)
        else:
            self.agreq, self.lgreq = grating_models(refs["disperser"].groovedensity, self.order)
        # which slits reach the detector is decided without the barycentric correction
        self.agreq_observed = self.agreq
        velosys = model.meta.wcsinfo.velosys
        if velosys is not None:
            vcorr = velocity_correction(velosys)
            self.lgreq = self.lgreq | vcorr
            self.agreq = vcorr.inverse & _identity(3) | self.agreq
        fpa = getattr(refs["fpa"], f"{inst.detector.lower()}_model")
        self.det2gwa = detector_to_gwa(fpa, refs["camera"].model, self.angles)
        self.collimator2gwa = collimator_to_gwa(refs["collimator"].model, self.angles)


# the reference types the instrument model is built from
INSTRUMENT_REFTYPES = ("disperser", "wavelengthrange", "fpa", "camera", "collimator", "msa", "fore", "ote")


def _require_references(refs: dict):
    missing = [k for k in INSTRUMENT_REFTYPES if refs.get(k) is None]
    if missing:
        raise ReferenceFileError(f"assign_wcs needs the NIRSpec reference files: {', '.join(missing)}")


def _identity(n):
    from astropy.modeling.models import Identity

    return Identity(n)


def slit_to_detector(inst: InstrumentModel, slits):
    """(slit id, x_slit, y_slit, lambda) -> (x, y, slit id) in the exposure's pixels, for
    checking which slits reach the detector (before the full WCS exists)."""
    from astropy.modeling.models import Identity, Mapping

    to_dms = dms_to_sca(inst.exposure).inverse[:-1]
    gwa2det = inst.det2gwa[:-2].inverse
    col2det = (
        Mapping((0, 1, 3, 2))
        | inst.collimator2gwa & Identity(2)
        | Mapping((3, 0, 1, 2, 4))
        | inst.agreq_observed & Identity(1)
        | gwa2det & Identity(1)
        | to_dms & Identity(1)
    )
    return slit_to_msa(slits, inst.refs["msa"])[0] & Identity(1) | col2det


def bounding_box(detector2slit, slit, wrange, slit2detector=None):
    """The slit's cut-out on the detector, as jwst computes it: trace both slit edges
    over the band every 0.1 nm, pad 10 px along x and 2 px along y (clipped to the
    full frame, in pixel-edge coordinates), then narrow y to rows where the forward
    transform yields a wavelength. The transforms are astropy models or their
    ``compile_model`` form (called alike)."""
    from gwcs.wcstools import grid_from_bounding_box

    if slit2detector is None:
        slit2detector = detector2slit.inverse
    lam_min, lam_max = wrange
    n = int((lam_max - lam_min) / 1e-10)
    lam = np.linspace(lam_min, lam_max, n)
    zeros = [0] * n
    x_lo, y_lo, _ = slit2detector(slit.slit_id, zeros, [slit.ymin] * n, lam)
    x_hi, y_hi, _ = slit2detector(slit.slit_id, zeros, [slit.ymax] * n, lam)
    x_range = np.hstack((x_lo, x_hi))
    y_range = np.hstack((y_lo, y_hi))

    def padded(xr, yr):
        return (
            (max(0, xr.min() - 1 - 10) - 0.5, min(2047, xr.max() - 1 + 10) + 0.5),
            (max(0, yr.min() - 1 - 2) - 0.5, min(2047, yr.max() - 1 + 2) + 0.5),
        )

    box = padded(x_range, y_range)
    if detector2slit is not None and box[0][0] <= box[0][1] and box[1][0] <= box[1][1]:
        x, y = grid_from_bounding_box(box)
        rows = rows_with_wavelength(lambda r: detector2slit(x[r], y[r], slit.slit_id)[3], y.shape[0])
        if rows is not None:
            box = padded(x_range, y[list(rows), 0])
    return box


def rows_with_wavelength(wavelengths, n_rows, chunk=4):
    """(first, last) index of the grid rows where ``wavelengths(rows)`` (the wavelengths
    of the rows of an index array, NaN off the slit) has a finite value, None if none.

    Only the extreme rows matter to the bounding box, so rows are evaluated from either
    end inward, ``chunk`` at a time, until a finite one turns up: a few rows instead of
    the whole grid, with the same values (the transform acts pixel by pixel)."""

    def first_finite(order):
        for start in range(0, len(order), chunk):
            rows = order[start:start + chunk]
            finite = np.isfinite(wavelengths(rows)).any(axis=1)
            if finite.any():
                return rows[np.argmax(finite)]
        return None

    first = first_finite(np.arange(n_rows))
    if first is None:
        return None
    return first, first_finite(np.arange(n_rows - 1, first - 1, -1))


def _on_detector(box) -> bool:
    (xlo, xhi), (ylo, yhi) = box
    return not (xlo >= 2048 or ylo >= 2048 or xhi <= 0 or yhi <= 0 or xhi - xlo < 2 or yhi - ylo < 1)


@dataclass(frozen=True)
class InstrumentPart:
    """What an exposure's WCS takes from the instrument model alone: the open slits that
    reach the detector, the spectral order and range, the stages of the chain from
    detector to V2/V3 (by stage name) and each slit's bounding box (by slit id).

    Shared between exposures: read it, never change the transforms in it."""

    slits: tuple
    order: int
    wrange: tuple
    stages: dict = field(default_factory=dict)
    boxes: dict = field(default_factory=dict)


# the stages of the chain that InstrumentPart holds (detector to V2/V3), by name
INSTRUMENT_STAGES = ("dms2sca", "det2gwa", "gwa2slit", "slit2msa", "msa2oteip", "oteip2v23")

# One entry per optical configuration in a batch; a batch mixing more configurations
# than this rebuilds the least recently used one (and so is only slower).
INSTRUMENT_CACHE = InstrumentCache(size=8)


def instrument_key(model, refs: dict, slits) -> tuple:
    """Every value the instrument part of an exposure's WCS depends on: the reference
    models (by identity), the keywords the chain reads and the slits themselves."""
    inst, sub = model.meta.instrument, model.meta.subarray
    return (
        tuple(id(refs.get(k)) for k in INSTRUMENT_REFTYPES),
        inst.detector, inst.filter, inst.grating, inst.gwa_xtilt, inst.gwa_ytilt, inst.gwa_tilt,
        model.meta.wcsinfo.velosys, sub.xstart, sub.ystart,
        tuple(slits),
    )


def instrument_part(model, refs: dict, slits) -> InstrumentPart:
    """The instrument part of the exposure's WCS for ``slits`` (Slit tuples, any
    quadrant), from INSTRUMENT_CACHE when an exposure with the same references,
    keywords and slits built it before (see :func:`instrument_key`)."""
    slits = tuple(slits)
    return INSTRUMENT_CACHE.get(
        instrument_key(model, refs, slits),
        lambda: _build_instrument_part(model, refs, slits),
        keep=[refs.get(k) for k in INSTRUMENT_REFTYPES],
    )


def _build_instrument_part(model, refs: dict, slits) -> InstrumentPart:
    inst = InstrumentModel(model, refs)
    probe = compile_model(slit_to_detector(inst, slits))
    slits = tuple(s for s in slits if _on_detector(bounding_box(None, s, inst.wrange, slit2detector=probe)))
    if not slits:
        return InstrumentPart(slits, inst.order, tuple(inst.wrange))
    stages = {
        "dms2sca": dms_to_sca(model),
        "det2gwa": inst.det2gwa,
        "gwa2slit": gwa_to_slit(slits, refs["msa"], inst.collimator2gwa, inst.agreq, inst.lgreq),
        "slit2msa": slit_to_msa(slits, refs["msa"]),
        "msa2oteip": msa_to_oteip(refs["fore"].model),
        "oteip2v23": oteip_to_v2v3(refs["ote"].model),
    }
    to_slit = stages["dms2sca"] | stages["det2gwa"] | stages["gwa2slit"]  # as gwcs composes it
    # astropy rebuilds a compound's inverse per access; both directions are evaluated
    # through their compiled form (the same values, without astropy's per-node overhead)
    slit2detector = compile_model(to_slit.inverse)
    detector2slit = compile_model(to_slit)
    boxes = {s.slit_id: bounding_box(detector2slit, s, inst.wrange, slit2detector) for s in slits}
    return InstrumentPart(slits, inst.order, tuple(inst.wrange), stages, boxes)


def build_slit_wcs(model, refs: dict, slits=None):
    """The gwcs.WCS of a fixed-slit / BOTS exposure with its compound bounding box, and
    the open slits that reach the detector. ``slits``: the open slits (Slit tuples of any
    quadrant); by default the exposure's fixed slits. Raises NoSlitOnDetector when no
    slit reaches the detector.

    The instrument part of the chain (detector to V2/V3, the slits on the detector and
    their bounding boxes) comes from :func:`instrument_part`, shared by the exposures of
    a batch that have the same optical configuration; the sky part (velocity aberration,
    pointing) is built for each exposure."""
    from astropy.modeling import bounding_box as mbbox
    from astropy.modeling.models import Identity
    from gwcs import WCS

    from spec2.wcs.pointing import v2v3_to_sky, velocity_aberration

    _require_references(refs)
    slits = open_fixed_slits(model) if slits is None else slits
    part = instrument_part(model, refs, slits)
    reaching = set(part.slits)
    for s in slits:
        if s not in reaching:
            log.info("slit %s does not reach detector %s: dropped", s.name, model.meta.instrument.detector)
    if not part.slits:
        raise NoSlitOnDetector(
            f"no open slit of this {model.meta.instrument.grating}/{model.meta.instrument.filter} "
            f"exposure falls on detector {model.meta.instrument.detector}"
        )
    w = model.meta.wcsinfo
    w.waverange_start, w.waverange_end = part.wrange
    w.spectral_order = part.order

    va = velocity_aberration(model.meta.velocity_aberration.scale_factor, w.v2_ref, w.v3_ref)
    sky = v2v3_to_sky(w.v2_ref, w.v3_ref, w.roll_ref, w.ra_ref, w.dec_ref)
    f = frames()
    stages = part.stages
    pipeline = [
        (f["detector"], stages["dms2sca"]),
        (f["sca"], stages["det2gwa"]),
        (f["gwa"], stages["gwa2slit"]),
        (f["slit_frame"], stages["slit2msa"]),
        (f["msa_frame"], stages["msa2oteip"]),
        (f["oteip"], stages["oteip2v23"]),
        (f["v2v3"], _named(va & Identity(2), "va_corr", ("v2", "v3", "lam", "name"), ("v2", "v3", "lam", "name"))),
        (f["v2v3vacorr"], _named(sky & Identity(2), "v2v3_to_sky", ("v2", "v3", "lam", "name"),
                                 ("ra", "dec", "lam", "name"))),
        (f["world"], None),
    ]
    wcs = WCS(pipeline)
    forward = wcs.forward_transform
    forward.inputs = ("x", "y", "name")
    wcs.bounding_box = mbbox.CompoundBoundingBox.validate(
        forward, dict(part.boxes), selector_args=[("name", True)], order="F"
    )
    return wcs, list(part.slits)
