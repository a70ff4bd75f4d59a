"""jwst parameter files (the ASDF files ``strun --save-parameters`` writes, and CRDS's
``pars-*`` references): reading them into spec2 settings, and writing spec2's settings
as one that jwst reads back.

The format (stpipe's step config): a tree with ``class`` (the step or pipeline class),
``name``, ``parameters`` ({param: value}) and, for a pipeline, ``steps``: a list of
``{class, name, parameters}``, one per step, named by the step alias. An older layout
keeps everything under ``parameters`` with ``steps`` as a mapping; both are read.

Reading and translating are separate: :func:`read_parameter_file` gives the file's values
by jwst step alias, :func:`translate` turns them into typed spec2 settings and says what
spec2 does not use. Parameters spec2 has and jwst does not (steps and parameters added
by plugins) travel in a ``spec2`` section of the tree, which stpipe does not read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from spec2 import jwst_steps
from spec2.errors import InputError


@dataclass
class StepValues:
    """A parameter file's values: {step alias: {param: value}} as stored (ASDF types)."""

    source: str  # the file, as named in messages
    steps: dict = field(default_factory=dict)
    pipeline: dict = field(default_factory=dict)  # the pipeline's own parameters


def read_parameter_file(path) -> StepValues:
    """The values of a jwst parameter file for Spec2Pipeline or one of its steps.

    Raises InputError (one line naming the file) when it is missing, not ASDF, not a
    parameter file, or one for another pipeline."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such parameter file")
    import asdf

    try:
        with asdf.open(path, lazy_load=False, memmap=False) as af:
            tree = {k: _plain(v) for k, v in af.tree.items() if k not in ("asdf_library", "history")}
    except Exception as exc:  # noqa: BLE001 -- whatever asdf/yaml raise, the user gets one line
        raise InputError(f"{path}: not an ASDF parameter file ({type(exc).__name__}: {exc})") from None
    return values_of_tree(tree, str(path))


def values_of_tree(tree: dict, source: str) -> StepValues:
    """:func:`read_parameter_file` on a tree already read."""
    params = tree.get("parameters")
    if not isinstance(params, dict):
        raise InputError(f"{source}: not a jwst parameter file (no 'parameters' mapping)")
    params = dict(params)
    cls = tree.get("class") or params.pop("class", None)
    name = tree.get("name") or params.pop("name", None)
    steps = tree.get("steps", params.pop("steps", None))
    if cls is None:
        raise InputError(f"{source}: not a jwst parameter file (no 'class')")
    out = StepValues(source)
    alias = jwst_steps.step_of_class(cls)
    if alias is not None:  # one step's file
        out.steps[alias] = params
    elif jwst_steps.class_name(cls) == jwst_steps.PIPELINE_NAME or cls == "calwebb_spec2":
        out.pipeline = params
        for step_name, step_params in _step_entries(steps, source):
            out.steps[step_name] = dict(step_params)
    else:
        raise InputError(f"{source}: parameters of {cls} (named {name!r}); spec2 reads those of "
                         f"{jwst_steps.PIPELINE_CLASS} and its steps")
    extra = tree.get("spec2") or {}
    for step_name, step_params in (extra.get("steps") or {}).items():
        out.steps.setdefault(step_name, {}).update(step_params or {})
    return out


def _step_entries(steps, source):
    if steps is None:
        return []
    if isinstance(steps, dict):  # the older layout: {alias: {param: value, class: ...}}
        return [(k, {p: v for p, v in (s or {}).items() if p not in ("class", "name")}) for k, s in steps.items()]
    entries = []
    for entry in steps:
        if not isinstance(entry, dict) or "name" not in entry or not isinstance(entry.get("parameters"), dict):
            raise InputError(f"{source}: a 'steps' entry is not {{class, name, parameters}}: {entry!r}")
        entries.append((entry["name"], entry["parameters"]))
    return entries


def _plain(value):
    """ASDF's tagged containers and numpy scalars as plain Python values."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            return value.item()
        except (ValueError, TypeError):
            return value
    return value


# ---------------------------------------------------------------------------------------
# Translating to spec2 settings
# ---------------------------------------------------------------------------------------


@dataclass
class Translation:
    """A parameter file's values as spec2 takes them.

    settings      -- {step: {param: typed value}} for spec2's steps and parameters
    overrides     -- {reftype: path} from jwst's ``override_<reftype>`` parameters
    not_run       -- jwst steps spec2 does not implement that the file does not skip
    unsupported   -- ``step.param`` names spec2 does not have (ignored)
    """

    settings: dict = field(default_factory=dict)
    overrides: dict = field(default_factory=dict)
    not_run: list = field(default_factory=list)
    unsupported: list = field(default_factory=list)

    def notes(self, source) -> list[str]:
        """One warning line per kind of value spec2 does not use."""
        lines = []
        if self.not_run:
            lines.append(f"{source}: jwst step(s) spec2 does not implement, not run: {', '.join(self.not_run)}")
        if self.unsupported:
            by_step: dict = {}
            for key in self.unsupported:
                step, _, name = key.partition(".")
                by_step.setdefault(step, []).append(name)
            listed = "; ".join(f"{step}: {', '.join(names)}" for step, names in by_step.items())
            lines.append(f"{source}: ignored {len(self.unsupported)} jwst parameter(s) spec2 does not have ({listed})")
        return lines


def typed_value(param, value):
    """A value read from a file (bool, number, string, list or None) as ``param`` takes
    it; raises ValueError saying what was expected."""
    if value is None:
        return param.parse("none")
    if param.type == "bool" and not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {value!r}")
    if isinstance(value, (list, tuple)):
        if param.type not in ("ints", "floats"):
            raise ValueError(f"expected one value, got the list {value!r}")
        return param.parse(",".join(str(v) for v in value))
    if isinstance(value, bool) and param.type != "bool":
        raise ValueError(f"expected {param.describe_type()}, got {value!r}")
    return param.parse(str(value))


def translate(values: StepValues, stepdefs) -> Translation:
    """spec2 settings from a file's values; raises InputError naming the file, step and
    parameter for a value of the wrong type."""
    out = Translation()
    for step, params in values.steps.items():
        if step not in stepdefs:
            if params.get("skip") is not True:
                out.not_run.append(step)
            continue
        stepdef = stepdefs[step]
        names = {p.name for p in stepdef.params}
        for name, value in params.items():
            if name in jwst_steps.STPIPE_IO_PARAMETERS:
                continue
            if name.startswith(jwst_steps.OVERRIDE_PREFIX):
                if value is not None and str(value).strip():
                    out.overrides[name[len(jwst_steps.OVERRIDE_PREFIX):].lower()] = str(value)
                continue
            if name not in names:
                out.unsupported.append(f"{step}.{name}")
                continue
            try:
                out.settings.setdefault(step, {})[name] = typed_value(stepdef.param(name), value)
            except ValueError as exc:
                raise InputError(f"{values.source}: {step}.{name}: {exc}") from None
    return out


# ---------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------


def parameter_tree(settings: dict, stepdefs, core_params, skipped_elsewhere=()) -> dict:
    """The tree of a parameter file holding every spec2 step's parameters: the defaults
    with ``settings`` over them.

    core_params       -- {(step, param)} that are jwst's own (the core's; a plugin's
                         parameters go in the ``spec2`` section, which jwst does not read)
    skipped_elsewhere -- jwst steps spec2 does not implement that the user skipped:
                         written skipped, so that jwst skips them too
    """
    jwst_entries, spec2_only = [], {}
    for step, cls in jwst_steps.STEP_CLASSES.items():
        if step in stepdefs:
            values = {**stepdefs[step].defaults, **settings.get(step, {})}
            ours = {k: v for k, v in values.items() if k == "skip" or (step, k) in core_params}
            jwst_entries.append({"class": cls, "name": step, "parameters": ours})
            rest = {k: v for k, v in values.items() if k not in ours}
            if rest:
                spec2_only[step] = rest
        elif step in skipped_elsewhere:
            jwst_entries.append({"class": cls, "name": step, "parameters": {"skip": True}})
    for step, stepdef in stepdefs.items():
        if step not in jwst_steps.STEP_CLASSES:
            spec2_only[step] = {**stepdef.defaults, **settings.get(step, {})}
    tree = {"class": jwst_steps.PIPELINE_CLASS, "name": jwst_steps.PIPELINE_NAME, "parameters": {},
            "steps": jwst_entries}
    if spec2_only:
        tree["spec2"] = {"steps": spec2_only}
    return tree


def write_parameter_file(path, tree: dict) -> Path:
    """Write a parameter tree as ASDF (into a temporary file, then renamed)."""
    import os
    import tempfile

    import asdf

    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=".spec2-params-", suffix=".asdf", dir=path.parent or ".")
    os.close(fd)
    try:
        asdf.AsdfFile(tree).write_to(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def pars_reference_tree(step: str | None, parameters: dict, instrument: str, description: str,
                        steps: dict | None = None, useafter="2022-01-01T00:00:00") -> dict:
    """The tree of a CRDS parameter reference (``pars-<step class>``; ``step`` None: the
    pipeline's ``pars-spec2pipeline``, whose ``steps`` {alias: {param: value}} set step
    parameters), with the metadata CRDS requires of one. For simulators and tests."""
    if step is None:
        cls, reftype = jwst_steps.PIPELINE_CLASS, jwst_steps.PIPELINE_PARS_REFTYPE
    else:
        cls, reftype = jwst_steps.STEP_CLASSES[step], jwst_steps.pars_reftype(step)
    tree = {"class": cls, "name": jwst_steps.class_name(cls), "parameters": dict(parameters),
            "meta": {"author": "spec2 simulator", "date": "2026-01-01T00:00:00", "description": description,
                     "instrument": {"name": instrument.upper()}, "origin": "spec2", "pedigree": "DUMMY",
                     "reftype": reftype, "telescope": "JWST", "useafter": useafter}}
    if steps:
        tree["steps"] = [{"class": jwst_steps.STEP_CLASSES[s], "name": s, "parameters": dict(p)}
                         for s, p in steps.items()]
    return tree
