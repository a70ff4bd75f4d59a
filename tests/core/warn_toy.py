"""A one-step toy plugin whose step warns as real steps do (spec2 logger and Python
warnings), and fails an exposure whose data are 3.0. Self-contained (no import from the
tests package) so that a test can install it as an entry point for worker processes:
see tests/core/test_messages.py."""

import logging
import warnings

from spec2 import hookimpl, hookspec
from spec2.recipe import Claim, Param, Recipe, Step, StepDef

TYPE = "NRS_FIXEDSLIT"  # a real EXP_TYPE (the schema checks it); built-in plugins are off
PHOTOM = "photom has not run: FLUX is the summed count rate (DN/s)"
FAIL_VALUE = 3.0

log = logging.getLogger("spec2")


class WarnHooks:
    @hookspec(firstresult=True)
    def toy_warn(self, model, refs, params, members, input_dir, pm, extra_products):
        """Warn, and fail on data equal to FAIL_VALUE."""


class WarnToy:
    __version__ = "1.2.3"

    @hookimpl
    def spec2_addhooks(self, pluginmanager):
        pluginmanager.add_hookspecs(WarnHooks)

    @hookimpl
    def spec2_claims(self):
        return [Claim((TYPE,), {"toy_warn": ()})]

    @hookimpl
    def spec2_step_definitions(self):
        return [StepDef("toy_warn", "toy_warn", None, (Param("sources", "int", 2, "sources to drop"),),
                        "warn and pass the model on")]

    @hookimpl
    def spec2_recipe(self, exp_type, multi_int):
        return Recipe((Step("toy_warn", product="cal"),))

    @hookimpl
    def toy_warn(self, model, params):
        log.warning(PHOTOM)
        log.warning("%d source(s) centred off the detector dropped", params["sources"])
        # a Python warning names the file: the default filter shows each text once a process
        warnings.warn(f"INT_TIMES not filled in {model.meta.filename}", UserWarning, stacklevel=1)
        if float(model.data[0, 0]) == FAIL_VALUE:
            raise RuntimeError("toy failure on purpose")
        return model


plugin = WarnToy()
