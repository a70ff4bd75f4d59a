"""A tiny in-memory instrument plugin for testing the core runner without real optics."""

import numpy as np

from spec2 import hookimpl, hookspec
from spec2.errors import StepSkipped
from spec2.recipe import Recipe, StepDef

TOY_TYPE = "NRS_FIXEDSLIT"  # a real EXP_TYPE (the schema checks it); the tests load no built-in plugin


class ToyHooks:
    """Hook specs a plugin adds of its own (the pytest_addhooks pattern)."""

    @hookspec(firstresult=True)
    def toy_scale(self, model, params):
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
    def spec2_exposure_types(self):
        return [TOY_TYPE]

    @hookimpl
    def spec2_step_definitions(self):
        return [StepDef("toy_scale", "toy_scale", "straylight", {"factor": 2.0}, "scale")]

    @hookimpl
    def spec2_recipe(self, exp_type, multi_int):
        if exp_type != TOY_TYPE:
            return None
        return Recipe(("assign_wcs", "bkg_subtract", "flat_field", "toy_scale"))

    def _check(self, name, model):
        self.calls.append(name)
        if self.fail_in == name:
            raise RuntimeError(f"toy failure in {name}")
        return model.meta.exposure.type == TOY_TYPE

    @hookimpl
    def assign_wcs(self, model):
        if not self._check("assign_wcs", model):
            return None
        return model

    @hookimpl
    def background(self, model, members):
        if not self._check("bkg_subtract", model):
            return None
        self.members = members
        if not members.get("background"):
            raise StepSkipped("no background members")
        return model

    @hookimpl
    def flat(self, model, refs):
        if not self._check("flat_field", model):
            return None
        model.data = model.data / refs.open("flat").data
        return model

    @hookimpl
    def toy_scale(self, model, params):
        if not self._check("toy_scale", model):
            return None
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
