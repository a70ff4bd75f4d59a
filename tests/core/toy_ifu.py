"""A toy IFU instrument: a detector of slices whose pixels tile a patch of sky exactly,
each row a strip along a slice and each column a wavelength. Enough for the core's
cube_build to be run end to end without simulating NIRSpec or MIRI optics."""

import numpy as np

from spec2 import hookimpl
from spec2.algorithms.cube_pixels import IFUPixels
from spec2.recipe import Claim, Recipe, Step

IFU_TYPE = "NRS_IFU"  # a real EXP_TYPE (the schema checks it); these tests load no built-in plugin
RA0, DEC0 = 10.0, 20.0
SLICE_WIDTH, ALONG, WAVE0, DWAVE = 0.2, 0.1, 1.0, 0.001  # arcsec, arcsec, micron, micron
NSLICE, NALONG, NWAVE = 6, 12, 80
IFU_ANGLE = 90.0  # the slices run north: jwst's ifualign angle is 90 + their position angle


def std_to_sky(xi, eta):
    """Inverse of the gnomonic projection at (RA0, DEC0); xi positive to the west (arcsec)."""
    x, y = -np.radians(np.asarray(xi) / 3600.0), np.radians(np.asarray(eta) / 3600.0)
    d0 = np.radians(DEC0)
    ra = np.radians(RA0) + np.arctan2(x, np.cos(d0) - y * np.sin(d0))
    dec = np.arctan2(np.sin(d0) + y * np.cos(d0), np.hypot(x, np.cos(d0) - y * np.sin(d0)))
    return np.degrees(ra), np.degrees(dec)


def geometry():
    """Per detector pixel (rows: slice-major, NSLICE * NALONG; columns: wavelengths): the
    tangent-plane corners (xi, eta: (n, 4) arcsec), centres, wavelength and its width."""
    row, col = np.mgrid[: NSLICE * NALONG, :NWAVE]
    s, a = row // NALONG, row % NALONG
    xc = (s - (NSLICE - 1) / 2) * SLICE_WIDTH
    yc = (a - (NALONG - 1) / 2) * ALONG
    dx = np.array([-1, 1, 1, -1]) * SLICE_WIDTH / 2
    dy = np.array([-1, -1, 1, 1]) * ALONG / 2
    xi = xc.ravel()[:, None] + dx
    eta = yc.ravel()[:, None] + dy
    wave = WAVE0 + (col.ravel() + 0.5) * DWAVE
    return xi, eta, xc.ravel(), yc.ravel(), wave, np.full(wave.size, DWAVE)


def scene(xi, eta, wave):
    """Surface brightness: a smooth blob times a line, zero at the field's and the band's
    edges (so that a cube covering the field conserves flux exactly)."""
    r2 = (xi / 0.15) ** 2 + (eta / 0.15) ** 2
    dz = (wave - (WAVE0 + NWAVE * DWAVE / 2)) / DWAVE
    spec = np.where(np.abs(dz) < 30, np.exp(-0.5 * (dz / 8) ** 2), 0.0)
    return np.where(r2 < 9, np.exp(-r2), 0.0) * spec


def write_ifu_rate(path, value=None):
    """An IFUImageModel 'rate' of the toy detector; ``value`` None: the scene."""
    from stdatamodels.jwst import datamodels

    _xi, _eta, xc, yc, wave, _ = geometry()
    shape = (NSLICE * NALONG, NWAVE)
    data = scene(xc, yc, wave) if value is None else np.full(xc.size, value)
    model = datamodels.IFUImageModel(shape)
    model.data = data.reshape(shape).astype(np.float32)
    model.err = np.full(shape, 0.01, np.float32)
    model.meta.exposure.type = IFU_TYPE
    model.meta.instrument.name = "NIRSPEC"
    model.meta.instrument.detector = "NRS1"
    model.meta.instrument.grating = "G140H"
    model.meta.instrument.filter = "F100LP"
    model.meta.target.ra, model.meta.target.dec = RA0, DEC0
    model.save(str(path))
    return path


def cubepar_model(scale=0.1, step=0.001, wmin=WAVE0, wmax=WAVE0 + NWAVE * DWAVE):
    """A NIRSpec-layout cubepar with one (g140h, f100lp) row in each table, and a
    (g140h, f070lp) row of twice the spaxel size in the main table."""
    from stdatamodels.jwst import datamodels

    model = datamodels.NirspecIFUCubeParsModel()
    model.ifucubepars_table = np.array([("G140H", "F100LP", wmin, wmax, scale, step),
                                        ("G140H", "F070LP", wmin, wmax, 2 * scale, step)],
                                       dtype=[("disperser", "S10"), ("filter", "S10"), ("wavemin", "f4"),
                                              ("wavemax", "f4"), ("spaxelsize", "f4"), ("spectralstep", "f4")])
    model.ifucubepars_msm_table = np.array([("G140H", "F100LP", 0.15, 0.002, 2.0, 0.01)],
                                           dtype=[("disperser", "S10"), ("filter", "S10"), ("roispatial", "f4"),
                                                  ("roispectral", "f4"), ("power", "f4"), ("softrad", "f4")])
    model.ifucubepars_emsm_table = np.array([("G140H", "F100LP", 0.15, 0.002, 0.1)],
                                            dtype=[("disperser", "S10"), ("filter", "S10"), ("roispatial", "f4"),
                                                   ("roispectral", "f4"), ("scalerad", "f4")])
    model.meta.filename = "toy_cubepar.fits"
    return model


def pixels_of(model, filters=("F100LP",)):
    """The toy's answer to ifu_pixels for an exposure written by :func:`write_ifu_rate`:
    one band per filter named (the same pixels each time, to try output_type)."""
    xi, eta, xc, yc, wave, dwave = geometry()
    ra_c, dec_c = std_to_sky(xi, eta)
    ra, dec = std_to_sky(xc, yc)
    return [IFUPixels(("G140H", f), ra, dec, ra_c, dec_c, wave, dwave,
                      model.data.ravel().astype(float), model.err.ravel().astype(float), model.dq.ravel(),
                      ifu_angle=IFU_ANGLE, slice_no=np.repeat(np.arange(NSLICE) + 1, NALONG * NWAVE))
            for f in filters]


class ToyIFUPlugin:
    __version__ = "0.1"

    def __init__(self, filters=("F100LP",)):
        self.filters = filters

    @hookimpl
    def spec2_claims(self):
        return [Claim((IFU_TYPE,), {"assign_wcs": (), "cube_build": ("cubepar",)})]

    @hookimpl
    def spec2_recipe(self, exp_type, multi_int):
        return Recipe((Step("assign_wcs", required=True, product="cal"), Step("cube_build", product="s3d")))

    @hookimpl
    def assign_wcs(self, model):
        return model

    @hookimpl
    def ifu_pixels(self, model):
        return pixels_of(model, self.filters)

    @hookimpl
    def cube_build(self, model, refs, params, pm):
        from spec2.steps.cube_build import run

        return run(model, refs, params, pm)
