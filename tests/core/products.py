"""Small stage-2 products of every kind, made directly with stdatamodels (no simulator):
inputs for the ``spec2 plot`` and ``spec2 compare`` tests. Each ``make_<kind>(path)``
saves a product and returns its path."""

from __future__ import annotations

from pathlib import Path

import numpy as np

WL = np.linspace(1.0, 2.0, 60)


def spectrum(scale=1.0):
    flux = scale * (1.0 + 0.3 * np.exp(-(((WL - 1.5) / 0.05) ** 2)))
    return {"FLUX": flux, "FLUX_ERROR": 0.01 * flux, "DQ": np.where(np.arange(WL.size) == 7, 4, 0).astype(np.uint32)}


def _save(model, path, exp_type):
    model.meta.exposure.type = exp_type
    model.meta.filename = Path(path).name
    model.save(path)
    return Path(path)


def linear_wcs(scale=0.01, offset=1.0, n_in=2, box=None):
    """A gwcs from detector pixels (x, y) to (x * scale + offset, y): enough to be
    evaluated on a grid of pixels and saved with a product."""
    from astropy import units as u
    from astropy.modeling import models
    from gwcs import coordinate_frames as cf
    from gwcs import wcs

    transform = (models.Scale(scale) | models.Shift(offset)) & models.Identity(1)
    if box is not None:  # ((x0, x1), (y0, y1)): F order, as jwst's WCSs give theirs
        from astropy.modeling.bounding_box import ModelBoundingBox

        transform.bounding_box = ModelBoundingBox.validate(transform, box, order="F")
    detector = cf.Frame2D(name="detector", axes_order=(0, 1), unit=(u.pix, u.pix))
    world = cf.Frame2D(name="world", axes_order=(0, 1), unit=(u.um, u.pix), axes_names=("wavelength", "y"))
    return wcs.WCS([(detector, transform), (world, None)])


def make_x1d(path, scales=(1.0, 2.0), names=("S200A1", "S200A2")):
    from stdatamodels.jwst import datamodels

    from spec2.steps.extract_slit import single_spec

    model = datamodels.MultiSpecModel()
    for scale, name in zip(scales, names):
        spec = single_spec(spectrum(scale), WL, {})
        spec.name = name
        model.spec.append(spec)
    return _save(model, path, "NRS_FIXEDSLIT")


def make_x1dints(path, nints=8):
    from stdatamodels.jwst import datamodels

    from spec2.steps.extract_slit import tso_spec

    depth = np.where(np.abs(np.arange(nints) - nints / 2) < nints / 4, 0.99, 1.0)
    cols = {k: depth[:, None] * v[None] for k, v in spectrum().items() if k != "DQ"}
    model = datamodels.TSOMultiSpecModel()
    spec = tso_spec(cols, WL, {}, None)
    spec.name, spec.spectral_order = "SUBGRISM64", 1
    model.spec.append(spec)
    return _save(model, path, "NRC_TSGRISM")


def make_wfss_x1d(path, sources=(11, 42)):
    from stdatamodels.jwst import datamodels

    from spec2.steps.extract_slit import single_spec
    from spec2.steps.extract_wfss import wfss_table

    model = datamodels.WFSSMultiSpecModel()
    specs = []
    for k, sid in enumerate(sources):
        spec = single_spec(spectrum(1.0 + k), WL, {})
        spec.source_id, spec.spectral_order, spec.dispersion_direction = sid, 1, 1
        specs.append(spec)
    model.spec.append(wfss_table(specs, "x_cal.fits", "1", 100.0, 10.0))
    return _save(model, path, "NIS_WFSS")


def _slit(slit, ny=12, nx=60, scale=1.0, xstart=1, ystart=1, name="S200A1"):
    yy, xx = np.mgrid[0:ny, 0:nx].astype(float)
    slit.data = (scale * np.exp(-(((yy - ny / 2) / 2) ** 2)) * (1 + 0.01 * xx)).astype(np.float32)
    slit.err = np.full_like(slit.data, 0.01)
    slit.dq = np.zeros(slit.data.shape, np.uint32)
    slit.dq[0, 5] = 1
    slit.wavelength = (1.0 + 0.01 * xx).astype(np.float32)
    slit.name, slit.xstart, slit.ystart, slit.xsize, slit.ysize = name, xstart, ystart, nx, ny
    slit.source_id = 1
    slit.meta.wcs = linear_wcs(box=((-0.5, nx - 0.5), (-0.5, ny - 0.5)))
    return slit


def make_s2d(path):
    from stdatamodels.jwst import datamodels

    model = _slit(datamodels.SlitModel())
    model.meta.wcsinfo.dispersion_direction = 1
    model.meta.bunit_data = "MJy/sr"
    model.meta.cal_step.resample = "COMPLETE"
    return _save(model, path, "MIR_LRS-FIXEDSLIT")


def make_slit_calints(path, nints=3):
    """A time-series slit _calints (NRC_TSGRISM-like): a SlitModel cut-out with a
    plane per integration, not resampled."""
    from stdatamodels.jwst import datamodels

    model = _slit(datamodels.SlitModel(), ny=16, nx=200)
    model.data = np.repeat(model.data[None], nints, axis=0)
    model.err, model.dq = np.repeat(model.err[None], nints, axis=0), np.repeat(model.dq[None], nints, axis=0)
    model.meta.wcsinfo.dispersion_direction = 1
    return _save(model, path, "NRC_TSGRISM")


def make_slits_cal(path, names=("S200A1", "S400A1")):
    from stdatamodels.jwst import datamodels

    model = datamodels.MultiSlitModel()
    for k, name in enumerate(names):
        slit = _slit(datamodels.SlitModel(), scale=1.0 + k, xstart=20 + 5 * k, ystart=10 + 40 * k, name=name)
        slit.source_id = k + 1
        slit.meta.wcsinfo.dispersion_direction = 1
        model.slits.append(slit)
    return _save(model, path, "NRS_FIXEDSLIT")


def make_image(path):
    from stdatamodels.jwst import datamodels

    model = datamodels.ImageModel(data=np.random.default_rng(1).normal(1.0, 0.1, (64, 80)).astype(np.float32))
    model.meta.wcs = linear_wcs(box=((10, 40), (5, 60)))
    model.meta.bunit_data = "MJy/sr"
    return _save(model, path, "MIR_LRS-SLITLESS")


def make_images(path):
    from stdatamodels.jwst import datamodels

    model = datamodels.CubeModel(data=np.random.default_rng(2).normal(1.0, 0.1, (3, 32, 70)).astype(np.float32))
    model.meta.wcs = linear_wcs(box=((0, 69), (3, 20)))
    return _save(model, path, "NIS_SOSS")


def make_s3d(path):
    from stdatamodels.jwst import datamodels

    nz, ny, nx = 40, 9, 11
    zz, yy, xx = np.mgrid[0:nz, 0:ny, 0:nx].astype(float)
    data = np.exp(-((yy - 6) ** 2 + (xx - 3) ** 2) / 4) * (1 + 0.02 * zz)
    model = datamodels.IFUCubeModel(data=data.astype(np.float32))
    info = model.meta.wcsinfo
    info.crval3, info.cdelt3, info.crpix3 = 5.0, 0.002, 1.0
    model.meta.bunit_data = "MJy/sr"
    return _save(model, path, "MIR_MRS")
