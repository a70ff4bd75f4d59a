"""A toy multi-slit mode for the core's master background: slits cut from rows of an
image, a linear wavelength per slit, and flat/pathloss/photom that divide or multiply by
known factors (powers of two, so every step is exact in float32) and undo themselves
with ``inverse``. Point sources get other pathloss/photom factors than extended ones, so
a background not calibrated as EXTENDED would show."""

from __future__ import annotations

import numpy as np

from spec2 import hookimpl
from spec2.recipe import Claim, Recipe, Step

TYPE = "NRS_MSASPEC"  # a real EXP_TYPE (the schema checks it); no built-in plugin is loaded
ROWS, COLS = 3, 16
# (name, source_name, source_type, wavelength offset in pixels)
SLITS = (("s1", "background_1", "EXTENDED", 0.0), ("s2", "galaxy_2", "POINT", 0.5),
         ("s3", "BKG_3", "EXTENDED", 0.0), ("s4", "galaxy_4", "EXTENDED", -0.5))
PATHLOSS = {"EXTENDED": 0.5, "POINT": 0.25}
PHOTOM = {"EXTENDED": 4.0, "POINT": 8.0}
CHAIN = ("flat_field", "pathloss", "photom")


def wavelength(offset):
    """um, along the columns: 1.0 + 0.0625 (x + offset), the same on every row."""
    return np.broadcast_to(1.0 + 0.0625 * (np.arange(COLS) + offset), (ROWS, COLS)).astype(np.float64)


def flat_values():
    """2 on even columns, 4 on odd ones."""
    return np.broadcast_to(np.where(np.arange(COLS) % 2 == 0, 2.0, 4.0), (ROWS, COLS))


def background(wl):
    """The toy sky in MJy/sr: linear in wavelength, so interpolation is exact."""
    return 10.0 + 8.0 * (wl - 1.0)


def in_dn(surface_brightness, source_type="EXTENDED"):
    """Surface brightness -> DN/s through the toy chain undone."""
    return surface_brightness * flat_values() * PATHLOSS[source_type] / PHOTOM[source_type]


class ToyMos:
    __version__ = "1.0"

    def __init__(self, chain=CHAIN):
        self.chain = chain
        self.calls = []  # (step, inverse, source types seen)
        self.extracted_status = []  # the photom status of each model extract_1d was given

    @hookimpl
    def spec2_claims(self):
        return [Claim((TYPE,), {"assign_wcs": (), "extract_2d": (), "master_background_mos": (),
                                "flat_field": (), "pathloss": (), "photom": (), "resample_spec": (),
                                "extract_1d": ()})]

    @hookimpl
    def spec2_recipe(self, exp_type, multi_int):
        return Recipe((Step("assign_wcs", required=True), "extract_2d", "master_background_mos", "flat_field",
                       "pathloss", Step("photom", product="cal")))

    @hookimpl
    def assign_wcs(self, model):
        return model

    @hookimpl
    def extract_2d(self, model):
        from stdatamodels.jwst import datamodels

        out = datamodels.MultiSlitModel()
        out.update(model)
        for i, (name, source_name, source_type, offset) in enumerate(SLITS):
            rows = slice(i * ROWS, (i + 1) * ROWS)
            slit = datamodels.SlitModel(data=model.data[rows].copy(), dq=model.dq[rows].copy(),
                                        err=model.err[rows].copy())
            slit.name, slit.source_name, slit.source_type = name, source_name, source_type
            slit.xstart, slit.ystart, slit.xsize, slit.ysize = 1, i * ROWS + 1, COLS, ROWS
            slit.wavelength = wavelength(offset)
            out.slits.append(slit)
        return out

    @hookimpl
    def master_background_mos(self, model, refs, params, members, input_dir, pm, extra_products, step_params):
        from spec2.steps.master_background_mos import subtract_master_background

        return subtract_master_background(model, refs, params, pm, self.chain, extra_products, members, input_dir,
                                          step_params)

    def _apply(self, name, model, params, factor):
        inverse = bool(params["inverse"])
        self.calls.append((name, inverse, tuple(s.source_type for s in model.slits)))
        for slit in model.slits:
            f = factor(slit)
            slit.data = (slit.data * f if inverse else slit.data / f).astype(np.float32)
        return model

    @hookimpl
    def flat(self, model, params):
        return self._apply("flat_field", model, params, lambda slit: flat_values())

    @hookimpl
    def pathloss(self, model, params):
        return self._apply("pathloss", model, params, lambda slit: PATHLOSS[slit.source_type])

    @hookimpl
    def photom(self, model, params):
        return self._apply("photom", model, params, lambda slit: 1.0 / PHOTOM[slit.source_type])

    @hookimpl
    def resample_spec(self, model):
        self.calls.append(("resample_spec", False, tuple(s.source_type for s in model.slits)))
        return model.copy()

    @hookimpl
    def extract(self, model):
        """Each slit's mean over rows, at its first row's wavelengths."""
        from stdatamodels.jwst import datamodels

        self.calls.append(("extract_1d", False, tuple(s.source_type for s in model.slits)))
        self.extracted_status.append(model.meta.cal_step.photom)
        out = datamodels.MultiSpecModel()
        out.update(model)
        dtype = datamodels.SpecModel().get_dtype("spec_table")
        for slit in model.slits:
            table = np.zeros(COLS, dtype=dtype)
            table["WAVELENGTH"] = slit.wavelength[0]
            table["SURF_BRIGHT"] = table["FLUX"] = np.nanmean(slit.data, axis=0)
            spec = datamodels.SpecModel(spec_table=table)
            spec.name, spec.spectral_order = slit.name, 1
            out.spec.append(spec)
        return out


def raw_exposure(sources=None, sky=True):
    """The rate ImageModel: each slit's source (DN/s, {slit name: 2-D array}; none in
    the background slitlets) plus the toy sky decalibrated as EXTENDED."""
    from stdatamodels.jwst import datamodels

    data = np.zeros((ROWS * len(SLITS), COLS), np.float32)
    for i, (name, _, _, offset) in enumerate(SLITS):
        part = (sources or {}).get(name, np.zeros((ROWS, COLS)))
        if sky:
            part = part + in_dn(background(wavelength(offset)))
        data[i * ROWS:(i + 1) * ROWS] = part
    model = datamodels.ImageModel(data)
    model.err = np.full(data.shape, 0.25, np.float32)
    model.dq = np.zeros(data.shape, np.uint32)
    model.meta.exposure.type = TYPE
    model.meta.exposure.exposure_time = 100.0
    model.meta.instrument.name = "NIRSPEC"
    model.meta.instrument.detector = "NRS1"
    return model


def source_arrays():
    """Dyadic sources for the two galaxy slitlets (exact in float32)."""
    rows = np.arange(ROWS)[:, None] * 0.5
    cols = np.arange(COLS)[None, :] * 0.125
    return {"s2": 3.0 + rows + cols, "s4": 1.0 + rows * cols}
