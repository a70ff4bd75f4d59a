"""Hook implementations of the example plugin.

It shows the ways a plugin extends spec2:
1. a hook specification of its own (``outlier_flag``), added in ``spec2_addhooks``;
2. a step definition for it (name, status keyword, typed parameters for ``--set``);
3. a claim: the step is this plugin's for MIRI LRS fixed slit, whose recipe stays
   MIRI's (``recipe=False``);
4. a recipe extended, not replaced: a ``wrapper=True`` hook receives the recipe the
   owning plugin (MIRI) gives and inserts the step after flat_field.
"""

from spec2 import hookimpl, hookspec
from spec2.recipe import Claim, Param, StepDef

__version__ = "0.1.0"

LRS_FIXEDSLIT = "MIR_LRS-FIXEDSLIT"


class OutlierHookSpecs:
    @hookspec(firstresult=True)
    def outlier_flag(self, model, params):
        """Flag outlier pixels as DO_NOT_USE|OUTLIER and set them to NaN; return the model."""


@hookimpl
def spec2_addhooks(pluginmanager):
    pluginmanager.add_hookspecs(OutlierHookSpecs)


@hookimpl
def spec2_claims():
    # the step only; the mode (and its recipe) stays the MIRI plugin's
    return [Claim((LRS_FIXEDSLIT,), {"outlier_flag": ()}, recipe=False)]


@hookimpl
def spec2_step_definitions():
    return [
        StepDef(
            "outlier_flag", "outlier_flag", "outlier_detection",
            (Param("threshold", "float", 5.0, "flag pixels this many sigma from the running median"),
             Param("window", "int", 5, "running-median window along the dispersion (pixels, odd)")),
            "flag outlier pixels (example plugin)",
        )
    ]


@hookimpl(wrapper=True)
def spec2_recipe(exp_type, multi_int):
    recipe = yield  # what the owning plugin gives
    if exp_type != LRS_FIXEDSLIT or multi_int or recipe is None:
        return recipe
    return recipe.insert_after("flat_field", "outlier_flag")


@hookimpl
def outlier_flag(model, params):
    import numpy as np

    from spec2_example_outliers.flagging import DO_NOT_USE, OUTLIER, find_outliers

    dispaxis = model.meta.wcsinfo.dispersion_direction or 2
    mask = find_outliers(model.data, model.err, params["threshold"], int(params["window"]), dispaxis)
    model.dq[mask] |= DO_NOT_USE | OUTLIER
    model.data[mask] = np.nan
    model.err[mask] = np.nan
    return model
