"""A tiny in-memory instrument plugin for testing the core runner without real optics."""

import numpy as np

from spec2 import hookimpl, hookspec
from spec2.errors import StepSkipped
from spec2.recipe import Claim, Param, Recipe, Step, StepDef

TOY_TYPE = "NRS_FIXEDSLIT"  # a real EXP_TYPE (the schema checks it); the tests load no built-in plugin


class ToyHooks:
    """Hook specs a plugin adds of its own (the pytest_addhooks pattern)."""

    @hookspec(firstresult=True)
    def toy_scale(self, model, refs, params, members, input_dir, pm, extra_products):
        """Multiply the data by params['factor']."""


class ToyPlugin:
    __version__ = "9.9"

    def __init__(self, fail_in=None):
        self.fail_in = fail_in
        self.calls = []
        self.members = None  # what the background hook was handed

    @hookimpl
    def spec2_addhooks(self, pluginmanager):
        pluginmanager.add_hookspecs(ToyHooks)

    @hookimpl
    def spec2_claims(self):
        return [Claim((TOY_TYPE,), {"assign_wcs": (), "bkg_subtract": (), "flat_field": ("flat",),
                                    "toy_scale": ()})]

    @hookimpl
    def spec2_step_definitions(self):
        return [StepDef("toy_scale", "toy_scale", "straylight", (Param("factor", "float", 2.0, "the factor"),),
                        "scale")]

    @hookimpl
    def spec2_recipe(self, exp_type, multi_int):
        return Recipe((Step("assign_wcs", required=True), "bkg_subtract", "flat_field",
                       Step("toy_scale", product="cal")))

    def _record(self, name):
        self.calls.append(name)
        if self.fail_in == name:
            raise RuntimeError(f"toy failure in {name}")

    @hookimpl
    def assign_wcs(self, model):
        self._record("assign_wcs")
        return model

    @hookimpl
    def background(self, model, members):
        self._record("bkg_subtract")
        self.members = members
        if not members.get("background"):
            raise StepSkipped("no background members")
        return model

    @hookimpl
    def flat(self, model, refs, params):
        self._record("flat_field")
        f = refs.open("flat").data
        model.data = model.data * f if params["inverse"] else model.data / f
        return model

    @hookimpl
    def toy_scale(self, model, params):
        self._record("toy_scale")
        model.data = model.data * params["factor"]
        return model


def write_rate(path, exp_type=TOY_TYPE, shape=(8, 10), value=4.0):
    from stdatamodels.jwst import datamodels

    model = datamodels.ImageModel(shape)
    model.data[:] = value
    model.err = np.full(shape, 0.1, dtype=np.float32)
    model.meta.exposure.type = exp_type
    model.meta.instrument.name = "NIRSPEC" if exp_type.startswith("NRS") else "MIRI"
    model.meta.instrument.detector = "NRS1" if exp_type.startswith("NRS") else "MIRIMAGE"
    model.save(str(path))
    return path


def flat_model(shape=(8, 10), value=2.0):
    from stdatamodels.jwst import datamodels

    flat = datamodels.FlatModel(np.full(shape, value, dtype=np.float32))
    flat.meta.filename = "toy_flat.fits"
    return flat
