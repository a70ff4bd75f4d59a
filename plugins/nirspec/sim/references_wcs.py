"""The simulated NIRSpec instrument model, written as CRDS's eight model reference files.

Each optical stage of :mod:`spec2_nirspec.instrument` becomes the astropy model that the
real reference file of that type holds (``fpa``, ``camera``, ``collimator``,
``disperser``, ``msa``, ``fore``, ``ote``, ``wavelengthrange``), with the same inputs,
outputs, units and explicit inverses, so that jwst and spec2 build their WCS from these
files exactly as from STScI's. Distortions are smooth polynomials; where the real files
carry separately fitted forward and backward polynomials, so do these (fitted here on a
grid to far below a hundredth of a pixel).
"""

from __future__ import annotations

from functools import cache

import numpy as np

from spec2_nirspec import instrument as ins

USEAFTER = "2022-01-01T00:00:00"
EXP_TYPES = "NRS_FIXEDSLIT|NRS_BRIGHTOBJ|NRS_MSASPEC"  # the instrument model serves MOS too
DISPERSER_TILT_Y = -8.8  # deg: fixed grating-surface tilt of every disperser


def _reference_meta(model, reftype, description):
    model.meta.reftype = reftype.upper()
    model.meta.author = "spec2 simulator"
    model.meta.pedigree = "DUMMY"
    model.meta.description = description
    model.meta.useafter = USEAFTER
    model.meta.instrument.name = "NIRSPEC"
    model.meta.telescope = "JWST"
    model.meta.exposure.p_exptype = EXP_TYPES + "|"
    return model


# ---------------------------------------------------------------------------------------
# Distortion polynomials with fitted inverses
# ---------------------------------------------------------------------------------------


def _cubic_pair(scale, k1, k2, name, flip_x=False):
    """(x, y) -> scale*(x, y) with radial-cubic distortion k1 (pincushion) and a mild
    anamorphic term k2, as two Polynomial2D models; flip_x mirrors the x axis."""
    from astropy.modeling import models

    # u = s x (1 + k1 r^2 s^2) + k2 s^2 x^2 ... expressed in the input units
    s = scale
    sx = -s if flip_x else s
    px = models.Polynomial2D(3, c1_0=sx, c3_0=k1 * sx**3, c1_2=k1 * sx * s**2, c2_0=k2 * s**2, name=f"{name}_x")
    py = models.Polynomial2D(3, c0_1=s, c0_3=k1 * s**3, c2_1=k1 * s**3, c1_1=k2 * s**2, name=f"{name}_y")
    return px, py


def _fit_inverse(px, py, extent, name, degree=5):
    """Polynomials mapping (px, py)(x, y) back to (x, y), fitted on a grid over +-extent."""
    from astropy.modeling import fitting, models

    g = np.linspace(-extent, extent, 61)
    x, y = np.meshgrid(g, g)
    u, v = px(x, y), py(x, y)
    fit = fitting.LinearLSQFitter()
    ix = fit(models.Polynomial2D(degree, name=f"{name}_x_inv"), u, v, x)
    iy = fit(models.Polynomial2D(degree, name=f"{name}_y_inv"), u, v, y)
    return ix, iy


def _distortion_model(scale, k1, k2, extent, name, flip_x=False):
    """(x, y) -> distorted, scaled (x', y'), with the fitted backward polynomials as inverse,
    laid out as the real camera/collimator files are (mapping | poly & poly)."""
    from astropy.modeling.models import Identity, Mapping

    px, py = _cubic_pair(scale, k1, k2, name, flip_x)
    ix, iy = _fit_inverse(px, py, extent, name)
    px.inverse, py.inverse = ix, iy
    inmap = Mapping((0, 1, 0, 1), name=f"{name}_inmap")
    inmap.inverse = Identity(2)
    outmap = Identity(2, name=f"{name}_outmap")
    outmap.inverse = Mapping((0, 1, 0, 1))
    return inmap | (px & py) | outmap


FPA_EXTENT = 2100 * ins.PIXEL_PITCH * 1.05  # half-size of the focal plane (m), with margin
MSA_EXTENT = 0.045  # m


@cache
def camera_model():
    """FPA position (m) -> unitless beam direction (tangents) leaving the grating. The
    camera mirrors x so that wavelength grows with x on both detectors (the DMS
    orientation) and NRS1 holds the short wavelengths."""
    k1, k2 = ins.CAMERA_DISTORTION
    return _distortion_model(1.0 / ins.CAMERA_FOCAL, k1 * 30, k2 * 5, FPA_EXTENT, "camera", flip_x=True)


@cache
def collimator_model():
    """Unitless beam direction -> MSA position (m) (the real file's direction)."""
    k1, k2 = ins.COLLIMATOR_DISTORTION
    extent = MSA_EXTENT / ins.COLLIMATOR_FOCAL
    return _distortion_model(ins.COLLIMATOR_FOCAL, k1 * 30, k2 * 5, extent, "collimator")


def fpa_model(detector):
    """Full-frame SCA pixel (0-based, as jwst passes it) -> focal-plane position (m)."""
    from astropy.modeling import models

    angle = np.deg2rad(ins.FPA_ROTATION[detector])
    c, s = np.cos(angle), np.sin(angle)
    pitch = ins.PIXEL_PITCH if detector == "NRS1" else -ins.PIXEL_PITCH
    matrix = pitch * np.array([[c, -s], [s, c]])
    x0, y0 = ins.FPA_ORIGIN[detector]
    forward = models.AffineTransformation2D(matrix, name="fpa_affine_d2s") | (
        models.Shift(x0, name="fpa_x_d2s") & models.Shift(y0, name="fpa_y_d2s")
    )
    backward = (models.Shift(-x0, name="fpa_x_s2d") & models.Shift(-y0, name="fpa_y_s2d")) | (
        models.AffineTransformation2D(np.linalg.inv(matrix), name="fpa_affine_s2d")
    )
    forward.inverse = backward
    return forward


def fore_model():
    """(x_msa, y_msa, lambda[m]) -> OTE image-plane angles (deg), chromatic in scale, as
    the real FORE file: 3 inputs to 2 outputs both ways."""
    from astropy.modeling import models
    from astropy.modeling.models import Identity, Mapping

    deg_per_m = 1.0 / (ins.MSA_SCALE * 3600.0)
    lam0 = 3.0e-6
    # s(lambda) = deg_per_m * (1 + c (lambda - lam0)), lambda in m, c per metre
    c = ins.FORE_CHROMATIC * 1e6
    scale = models.Polynomial1D(1, c0=deg_per_m * (1 - c * lam0), c1=deg_per_m * c, name="fore_scale")

    def axis(i):
        # arithmetic of two 3-input models: coordinate i times (or over) s(lambda)
        coord = Mapping((i,), n_inputs=3) | Identity(1)
        factor = Mapping((2,), n_inputs=3) | scale
        fwd = coord * factor
        back = coord / factor
        fwd.inverse = back
        return fwd

    fx, fy = axis(0), axis(1)
    inmap = Mapping((0, 1, 2, 0, 1, 2), name="fore_inmap")
    inmap.inverse = Identity(2)
    outmap = Identity(2, name="fore_outmap")
    outmap.inverse = Mapping((0, 1, 2, 0, 1, 2))
    return inmap | (fx & fy) | outmap


def ote_model():
    """OTE image-plane angles (deg) -> V2, V3 (arcsec): rotation, scale and offset."""
    from astropy.modeling import models

    a = np.deg2rad(ins.OTE_ROTATION)
    matrix = 3600.0 * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    forward = models.AffineTransformation2D(matrix, translation=[ins.V2_CENTRE, ins.V3_CENTRE], name="ote")
    return forward


def msa_quadrant5():
    """The fixed-slit 'quadrant': (data rows [id, xcen, ycen, xsize, ysize], model)."""
    from astropy.modeling import models

    rows = []
    for name, (idx, xc, yc, _size) in ins.FIXED_SLITS.items():
        xsize, ysize = ins.slit_size_m(name)
        rows.append((idx, xc, yc, xsize, ysize))
    data = np.array(sorted(rows), dtype=np.float64)
    model = models.Rotation2D(0.0, name="msa_slit_rot") | (
        models.Shift(0.0, name="msa_slit_x") & models.Shift(0.0, name="msa_slit_y")
    )
    return data, model


# ---------------------------------------------------------------------------------------
# Disperser geometry
# ---------------------------------------------------------------------------------------


def _tilt_dict(slope):
    from astropy.modeling import models

    return {
        "temperatures": [ins.GWA_TEMPERATURE],
        "tilt_model": models.Polynomial1D(1, c0=-slope * ins.GWA_TILT_ZERO, c1=slope),
        "unit": "arcsec",
        "zeroreadings": [ins.GWA_TILT_ZERO],
    }


def band_centre_fpa_x(grating: str) -> float:
    """Focal-plane x (m) where the band's central wavelength from the MSA centre lands:
    the detector gap for the H gratings (their spectra span both detectors), the centre
    of NRS1 for the M gratings and the prism (which fit on one detector), as on NIRSpec."""
    if grating.endswith("H"):
        return 0.0
    return -(ins.FPA_GAP / 2 + 1024 * ins.PIXEL_PITCH)


def _solve_theta_y(mismatch, lo, hi):
    from scipy.optimize import brentq

    return brentq(mismatch, lo, hi, xtol=1e-12)


def _beam_cosines(angles, grating):
    """Direction cosines at the GWA of the on-axis collimator beam and of the camera beam
    to the band-centre focal-plane point, for given disperser angles."""
    from stdatamodels.jwst.transforms.models import Rotation3DToGWA, Unitless2DirCos

    rot = Rotation3DToGWA(list(angles), axes_order="xyzy")
    to_cos = Unitless2DirCos()
    u_out, v_out = camera_model()(band_centre_fpa_x(grating), 0.0)
    u_in, v_in = collimator_model().inverse(0.0, 0.0)
    return rot(*to_cos(u_in, v_in)), rot(*to_cos(u_out, v_out))


def grating_angles(grating):
    """(theta_x, theta_y, theta_z, tilt_y) in degrees putting the band's central
    wavelength from the MSA centre at :func:`band_centre_fpa_x`.

    jwst's grating equation reads lambda = -(alpha_in + alpha_out) / (G m) from the x
    direction cosines on both sides of the Rotation3DToGWA; for the prism the
    refractive index follows from the same cosines and the prism angle. theta_y is
    solved for.
    """
    theta_x, theta_z = 0.01, -0.05  # small alignment errors, as measured ones are
    if grating == "PRISM":
        from stdatamodels.jwst.transforms.models import RefractionIndexFromPrism

        n_target = prism_index(np.array([ins.PRISM_CENTRAL_WAVELENGTH]))[0]
        to_n = RefractionIndexFromPrism(ins.PRISM_ANGLE)

        def mismatch(theta_y):
            (a_in, b_in, _), (a_out, _, _) = _beam_cosines((theta_x, theta_y, theta_z, 0.0), grating)
            return float(np.squeeze(to_n(a_in, b_in, a_out))) - n_target

        # two tilts give the index; only the negative one is the path Snell's law takes
        return theta_x, _solve_theta_y(mismatch, -40.0, -5.0), theta_z, 0.0
    g = ins.groove_density(grating)
    lam_c = ins.central_wavelength(ins.FILTER_FOR[grating], grating)

    def mismatch(theta_y):
        (a_in, _, _), (a_out, _, _) = _beam_cosines((theta_x, theta_y, theta_z, DISPERSER_TILT_Y), grating)
        return float(np.squeeze(-(a_in + a_out) / g - lam_c))

    return theta_x, _solve_theta_y(mismatch, -30.0 - DISPERSER_TILT_Y, 40.0 - DISPERSER_TILT_Y), theta_z, DISPERSER_TILT_Y


def prism_index(wavelength_m):
    """Refractive index of the prism glass (Sellmeier, wavelength in metres)."""
    lam2 = (np.asarray(wavelength_m) * 1e6) ** 2
    b, c = ins.PRISM_SELLMEIER_B, ins.PRISM_SELLMEIER_C
    return np.sqrt(1.0 + sum(bi * lam2 / (lam2 - ci) for bi, ci in zip(b, c)))


# ---------------------------------------------------------------------------------------
# Writers
# ---------------------------------------------------------------------------------------


def write_fpa(path):
    from stdatamodels.jwst.datamodels import FPAModel

    m = _reference_meta(FPAModel(), "fpa", "Simulated NIRSpec focal plane (NRS1, NRS2)")
    m.nrs1_model = fpa_model("NRS1")
    m.nrs2_model = fpa_model("NRS2")
    m.meta.input_units = "pixel"
    m.meta.output_units = "m"
    m.meta.instrument.detector = "NRS1"
    m.meta.instrument.p_detector = "NRS1|NRS2|"
    m.meta.exposure.type = "NRS_FIXEDSLIT"
    m.save(path)
    return path


def _simple(cls, reftype, description, model, input_units, output_units, path, **extra):
    m = _reference_meta(cls(), reftype, description)
    m.model = model
    m.meta.input_units = input_units
    m.meta.output_units = output_units
    m.meta.exposure.type = "NRS_FIXEDSLIT"
    for key, value in extra.items():
        setattr(m.meta.instrument, key, value)
    m.save(path)
    return path


def write_camera(path):
    from stdatamodels.jwst.datamodels import CameraModel

    return _simple(CameraModel, "camera", "Simulated NIRSpec camera", camera_model(), "m", "rad", path)


def write_collimator(path):
    from stdatamodels.jwst.datamodels import CollimatorModel

    return _simple(CollimatorModel, "collimator", "Simulated NIRSpec collimator", collimator_model(), "rad", "m", path)


def write_fore(path, filt):
    from stdatamodels.jwst.datamodels import FOREModel

    return _simple(FOREModel, "fore", f"Simulated NIRSpec fore optics {filt}", fore_model(), "m", "deg", path, filter=filt)


def write_ote(path):
    from stdatamodels.jwst.datamodels import OTEModel

    return _simple(OTEModel, "ote", "Simulated JWST OTE for NIRSpec", ote_model(), "deg", "arcsec", path)


def write_msa(path):
    from stdatamodels.jwst.datamodels import MSAModel

    from spec2_nirspec.sim import msa_quadrants

    m = _reference_meta(MSAModel(), "msa", "Simulated NIRSpec MSA: four shutter quadrants and the fixed slits")
    data, model = msa_quadrant5()
    m.Q5 = {"model": model, "data": data}
    table = msa_quadrants.shutter_table()
    for q in range(1, 5):
        setattr(m, f"Q{q}", {"model": msa_quadrants.quadrant_model(q), "data": table})
    m.meta.input_units = "pixel"
    m.meta.output_units = "m"
    m.meta.exposure.type = "NRS_FIXEDSLIT"
    m.meta.instrument.detector = "NRS1"
    m.meta.instrument.p_detector = "NRS1|NRS2|"
    m.save(path)
    return path


def write_disperser(path, grating):
    from stdatamodels.jwst.datamodels import DisperserModel

    m = _reference_meta(DisperserModel(), "disperser", f"Simulated NIRSpec disperser {grating}")
    tx, ty, tz, tilt_y = grating_angles(grating)
    if grating == "PRISM":
        m.angle = ins.PRISM_ANGLE
        m.kcoef = list(ins.PRISM_SELLMEIER_B)
        m.lcoef = list(ins.PRISM_SELLMEIER_C)
        m.tcoef = [0.0] * 6  # no thermal term: the glass is at its reference temperature
        m.tref = ins.GWA_TEMPERATURE
        m.pref = 0.0
        m.wbound = [0.5e-6, 5.5e-6]
    else:
        m.groovedensity = ins.groove_density(grating)
    m.theta_x, m.theta_y, m.theta_z = tx, ty, tz
    m.tilt_x, m.tilt_y = 0.0, tilt_y
    m.gwa_tiltx = _tilt_dict(ins.GWA_TILT_SLOPE)
    m.gwa_tilty = _tilt_dict(0.25 * ins.GWA_TILT_SLOPE)
    m.meta.instrument.grating = grating
    m.meta.exposure.type = "NRS_FIXEDSLIT"
    m.meta.input_units = "deg"
    m.meta.output_units = "deg"
    m.save(path)
    return path


def write_wavelengthrange(path):
    from stdatamodels.jwst.datamodels import WavelengthrangeModel

    m = _reference_meta(WavelengthrangeModel(), "wavelengthrange", "NIRSpec filter/grating ranges")
    keys = list(ins.WAVELENGTH_RANGES)
    m.waverange_selector = [f"{f}_{g}" for f, g in keys]
    m.wavelengthrange = [list(ins.WAVELENGTH_RANGES[k]) for k in keys]
    m.order = [0 if g == "PRISM" else 1 for _f, g in keys]
    m.wunits = "m"
    m.meta.exposure.type = "NRS_FIXEDSLIT"
    m.save(path)
    return path


PARKEYS = ("META.INSTRUMENT.DETECTOR", "META.EXPOSURE.TYPE")
MATCH = ("NRS1|NRS2", EXP_TYPES)


def write_reference_set(cache, gratings=ins.DISPERSERS) -> dict[str, object]:
    """Write the instrument model into the cache's NIRSpec folder and register it:
    one file per reftype, the disperser per grating and the fore optics per filter."""
    out: dict[str, object] = {}

    def publish(reftype, name, writer, *args, parkeys=PARKEYS, match=MATCH):
        path = cache.publish("nirspec", reftype, parkeys, match, f"spec2sim_nrs_{name}", writer, *args)
        return path

    for reftype, writer in (
        ("fpa", write_fpa), ("camera", write_camera), ("collimator", write_collimator),
        ("ote", write_ote), ("msa", write_msa), ("wavelengthrange", write_wavelengthrange),
    ):
        out[reftype] = publish(reftype, f"{reftype}.asdf", writer)
    out["disperser"] = [
        publish("disperser", f"disperser_{g}.asdf", write_disperser, g,
                parkeys=PARKEYS + ("META.INSTRUMENT.GRATING",), match=MATCH + (g,))
        for g in gratings
    ]
    filters = sorted({ins.FILTER_FOR[g] for g in gratings})
    out["fore"] = [
        publish("fore", f"fore_{f}.asdf", write_fore, f,
                parkeys=PARKEYS + ("META.INSTRUMENT.FILTER",), match=MATCH + (f,))
        for f in filters
    ]
    return out
