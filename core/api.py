"""The Python API: ``spec2.process`` for notebooks and scripts.

:func:`process` runs what ``spec2 process`` runs (the same batch, run report and
``--resume``) and returns the per-exposure results rather than printing them. Options
are checked before any work, as the command line checks them, but a mistake is a
``ValueError`` rather than a usage message.

:func:`call_step` runs one step's hook on a model in memory, as the runner calls it (the
owning plugin's hook, its defaults under your parameters, the status keyword set): for
trying a parameter on a product without re-running the exposure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from spec2.pipeline import ExposureResult, RunOptions
from spec2.recipe import parameter_error


class RunResults(list):
    """The results of a run, one :class:`~spec2.pipeline.ExposureResult` per exposure in
    input order (``.name``, ``.status``, ``.products``, ``.warnings``, ``.error``,
    ``.steps``), and the path of its run report (``.report``)."""

    def __init__(self, results: Iterable[ExposureResult], report: Path):
        super().__init__(results)
        self.report = Path(report)

    @property
    def ok(self) -> bool:
        """True when every exposure was calibrated (now or by an earlier run)."""
        return bool(self) and all(r.ok for r in self)

    @property
    def failed(self) -> list[ExposureResult]:
        return [r for r in self if not r.ok]


def settings_of(params: Mapping | None, stepdefs) -> dict:
    """``{"step": {"param": value}}`` from ``params``, which may also use ``"step.param"``
    keys; raise ValueError naming an unknown step or parameter. A value given as text is
    parsed as ``--set`` parses it when the step runs."""
    settings: dict = {}
    for key, value in (params or {}).items():
        step, dot, param = str(key).partition(".")
        if dot:
            pairs = {param: value}
        elif isinstance(value, Mapping):
            pairs = value
        else:
            raise ValueError(f"params[{key!r}]: give {{'{key}': {{PARAM: VALUE}}}} or '{key}.PARAM': VALUE")
        for name, val in pairs.items():
            problem = parameter_error(stepdefs, step, name)
            if problem:
                raise ValueError(f"params: {problem}")
            settings.setdefault(step, {})[name] = val
    return settings


def run_options(output_dir, skip, params, refs, save_intermediate, stepdefs) -> RunOptions:
    """RunOptions from the API's arguments, checked against the plugins' steps."""
    skip = [skip] if isinstance(skip, str) else list(skip or ())
    unknown = [s for s in skip if s not in stepdefs]
    if unknown:
        raise ValueError(f"skip: unknown step(s) {', '.join(map(repr, unknown))} (steps: {', '.join(stepdefs)})")
    overrides = {str(k).lower(): v for k, v in (refs or {}).items()}
    return RunOptions(Path(output_dir), overrides, frozenset(skip), settings_of(params, stepdefs), save_intermediate)


def process(inputs, output_dir=".", *, skip=(), params=None, refs=None, jobs=1, scheduler=None,
            resume=False, save_intermediate=False, progress=False, pm=None) -> RunResults:
    """Calibrate rate/rateints files and level-2 associations, as ``spec2 process`` does.

    inputs            -- a path or a list of paths (files, associations)
    output_dir        -- where products and the run report (spec2_report.json) go
    skip              -- step names to skip (as ``--skip``)
    params            -- ``{"step": {"param": value}}`` or ``{"step.param": value}`` (as ``--set``)
    refs              -- ``{reftype: path or "N/A"}`` reference-file overrides (as ``--ref``)
    jobs              -- local worker processes (1: this process, the default)
    scheduler         -- the address of a Dask scheduler to run on instead
    resume            -- skip exposures an earlier run into ``output_dir`` completed
    save_intermediate -- also save the model after each calibration step
    progress          -- log a line per finished exposure (INFO on the ``spec2`` logger:
                         ``logging.basicConfig(level=logging.INFO)`` shows it)
    pm                -- a plugin manager (default: every installed plugin); worker
                         processes (``jobs`` > 1, ``scheduler``) load the installed
                         plugins themselves

    Returns a :class:`RunResults`: one result per exposure; a failed exposure has
    ``.status == "failed"`` and ``.error``, and does not stop the others. Raises
    ValueError for an unknown step or parameter, before any work.
    """
    from spec2.batch import process as run_batch
    from spec2.messages import library_messages_logged
    from spec2.plugins import get_plugin_manager, step_definitions
    from spec2.progress import LogProgress

    if isinstance(inputs, (str, Path)):
        inputs = [inputs]
    pm = pm or get_plugin_manager()
    options = run_options(output_dir, skip, params, refs, save_intermediate, step_definitions(pm))
    with library_messages_logged():  # kept per exposure in the results, as the CLI does
        results, report = run_batch(
            [str(p) for p in inputs], options, jobs=jobs, scheduler=scheduler,
            progress=LogProgress() if progress else None, resume=resume, pm=pm,
        )
    return RunResults(results, report)


def call_step(step: str, model, *, params=None, refs=None, members=None, pm=None):
    """Run ``step`` on ``model`` (a datamodel) as the runner would; return the model.

    The step's hook is the one the plugin claiming ``step`` for the model's EXP_TYPE
    implements. ``params`` are laid over the step's defaults (text is parsed as ``--set``
    parses it); ``refs`` is ``{reftype: path, "N/A" or a datamodel}``, other reference
    files come from CRDS as in a run; ``members`` the association's other members
    (``{"background": [path, ...]}``). The step's status keyword is set (COMPLETE,
    SKIPPED or FAILED) and the reference files it used are recorded in the model. A step
    that makes a new product (resample, extract_1d) returns it and leaves ``model`` as
    it was; a calibration step may change ``model`` in place.
    """
    from spec2.pipeline import run_step, step_params
    from spec2.plugins import get_plugin_manager, step_caller, step_definitions
    from spec2.recipe import Step
    from spec2.refs import RefResolver

    pm = pm or get_plugin_manager()
    stepdefs = step_definitions(pm)
    if step not in stepdefs:
        raise ValueError(f"unknown step {step!r} (steps: {', '.join(stepdefs)})")
    settings = settings_of({step: dict(params or {})}, stepdefs)
    hook = step_caller(pm, step, model.meta.exposure.type, stepdefs)
    options = RunOptions(Path("."), settings=settings)
    resolver = RefResolver(model, {str(k).lower(): v for k, v in (refs or {}).items()})
    context = {"members": {k: list(v) for k, v in (members or {}).items()}, "input_dir": None, "pm": pm,
               "extra_products": {}, "step_params": lambda name: stepdefs[name].defaults}
    out, _status, _seconds, _used = run_step(hook, stepdefs[step], model, resolver,
                                             step_params(stepdefs[step], Step(step), options), context)
    return out
