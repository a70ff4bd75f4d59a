"""One step calling another through the plugin manager.

A step that must undo or redo others (MOS master background decalibrates a 2-D
background through flat_field, pathloss, barshadow and photom with ``inverse=True``)
calls them here, in the plugin that claims them for the exposure's type, rather than
copying their code. No status keyword is set on the model: the caller's step is the one
the runner records."""

from __future__ import annotations


def call_step(pm, name, model, refs, params=None, members=None, input_dir=None):
    """Run step ``name`` on ``model`` as its owner for ``model``'s EXP_TYPE implements
    it, with the step's default parameters updated by ``params``; return its result.

    StepSkipped and StepFailed from the step reach the caller, which decides what they
    mean for it. Raises UnsupportedModeError when no plugin claims the step for the type.
    """
    from spec2.errors import UnsupportedModeError
    from spec2.plugins import step_caller, step_definitions

    stepdefs = step_definitions(pm)
    if name not in stepdefs:
        raise UnsupportedModeError(f"no step {name!r} (steps: {', '.join(stepdefs)})")
    values = stepdefs[name].defaults
    values.update(params or {})
    hook = step_caller(pm, name, model.meta.exposure.type, stepdefs)
    result = hook(model=model, refs=refs, params=values, members=dict(members or {}), input_dir=input_dir,
                  pm=pm, extra_products={}, step_params=lambda other: stepdefs[other].defaults)
    if result is None:
        raise UnsupportedModeError(f"step {name} returned nothing for EXP_TYPE={model.meta.exposure.type}")
    return result


def forward_only(params, what):
    """Refuse ``inverse=True`` in a step implementation that cannot undo itself, naming
    it, rather than applying the forward correction by mistake."""
    if params.get("inverse"):
        from spec2.errors import UnsupportedModeError

        raise UnsupportedModeError(f"{what} cannot be undone (inverse=True is not implemented for it)")
