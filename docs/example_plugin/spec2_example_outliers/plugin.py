"""Hook implementations of the example plugin.

It shows the three ways a plugin extends spec2:
1. a hook specification of its own (``outlier_flag``), added in ``spec2_addhooks``;
2. a step definition for it (name, status keyword, parameters for ``--set``);
3. a recipe: it takes the recipe the installed MIRI plugin gives for LRS fixed slit and
   inserts its step after flat_field (``tryfirst`` so it is asked before MIRI).
"""

from spec2 import hookimpl, hookspec
from spec2.recipe import Recipe, StepDef

__version__ = "0.1.0"

_state = {}


class OutlierHookSpecs:
    @hookspec(firstresult=True)
    def outlier_flag(self, model, params):
        """Flag outlier pixels as DO_NOT_USE|OUTLIER and set them to NaN; return the model."""


@hookimpl
def spec2_addhooks(pluginmanager):
    pluginmanager.add_hookspecs(OutlierHookSpecs)
    _state["pm"] = pluginmanager


@hookimpl
def spec2_exposure_types():
    return []  # it calibrates no mode on its own: it extends MIRI's


@hookimpl
def spec2_step_definitions():
    return [
        StepDef(
            "outlier_flag", "outlier_flag", "outlier_detection",
            {"threshold": 5.0, "window": 5}, "flag outlier pixels (example plugin)",
        )
    ]


@hookimpl(tryfirst=True)
def spec2_recipe(exp_type, multi_int):
    if exp_type != "MIR_LRS-FIXEDSLIT" or multi_int:
        return None
    pm = _state["pm"]
    me = pm.get_plugin("example_outliers")
    base = pm.subset_hook_caller("spec2_recipe", remove_plugins=[me])(
        exp_type=exp_type, multi_int=multi_int
    )
    if base is None:
        return None
    steps = list(base.calibrate)
    steps.insert(steps.index("flat_field") + 1, "outlier_flag")
    return Recipe(tuple(steps), base.resample, base.extract, base.params)


@hookimpl
def outlier_flag(model, params):
    if model.meta.exposure.type != "MIR_LRS-FIXEDSLIT":
        return None
    import numpy as np

    from spec2_example_outliers.flagging import DO_NOT_USE, OUTLIER, find_outliers

    dispaxis = model.meta.wcsinfo.dispersion_direction or 2
    mask = find_outliers(model.data, model.err, params["threshold"], int(params["window"]), dispaxis)
    model.dq[mask] |= DO_NOT_USE | OUTLIER
    model.data[mask] = np.nan
    model.err[mask] = np.nan
    return model
