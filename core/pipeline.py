"""Runs one exposure through its mode's recipe: steps in order, skips, parameters, status
keywords, reference-file keywords, and an all-or-nothing write of its products.

The runner is the only place that knows the order of things; what a step does is the
plugin's hook. Products are held in memory and written at the end through a temporary
directory beside the outputs, then renamed: an exposure that fails at any step leaves no
product behind, and one that succeeds never leaves a half-written file.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from spec2.errors import (
    InputError,
    Spec2Error,
    StepFailed,
    StepSkipped,
    UnsupportedModeError,
)
from spec2.recipe import PRODUCT_SUFFIXES, Recipe, SlitGroups, Step, StepDef

log = logging.getLogger("spec2")

COMPLETE, SKIPPED, FAILED = "COMPLETE", "SKIPPED", "FAILED"

# EXP_TYPEs of imaging and other non-spectroscopic exposures: named in the error so the
# user knows spec2 is the wrong tool rather than that a plugin is missing.
_NOT_SPECTROSCOPY_SUFFIXES = ("_IMAGE", "_CORON", "_DARK", "_FLAT", "_TACQ", "_TACONFIRM", "_FOCUS")
_NOT_SPECTROSCOPY = {"NIS_AMI", "NRC_TSIMAGE", "MIR_4QPM", "MIR_LYOT", "MIR_CORONCAL", "FGS_FINEGUIDE"}


def _crds_steppars_disabled_by_environment() -> bool:
    return os.environ.get("STPIPE_DISABLE_CRDS_STEPPARS", "").strip().lower() in ("true", "1", "yes")


@dataclass
class RunOptions:
    """What the user asked for, shared by every exposure of a run."""

    output_dir: Path
    overrides: dict = field(default_factory=dict)  # {reftype: path or "N/A"}
    skip: frozenset = frozenset()  # step names
    settings: dict = field(default_factory=dict)  # {step: {param: value}}
    save_intermediate: bool = False
    # apply CRDS parameter references (pars-*), as jwst does unless its
    # STPIPE_DISABLE_CRDS_STEPPARS says not to (stpipe honours it whatever the caller)
    crds_steppars: bool = field(default_factory=lambda: not _crds_steppars_disabled_by_environment())


@dataclass
class StepRecord:
    """One step of one exposure, as the run report shows it."""

    name: str
    status: str  # COMPLETE, SKIPPED or FAILED
    seconds: float
    references: dict[str, str] = field(default_factory=dict)  # {reftype: file name or N/A}


@dataclass
class ExposureResult:
    """The outcome of one exposure; plain data, so that a worker process can return it."""

    name: str
    products: list[Path] = field(default_factory=list)
    error: str | None = None
    steps: list[StepRecord] = field(default_factory=list)
    seconds: float = 0.0
    science: str | None = None
    association: str | None = None
    worker: str | None = None  # "local" or the Dask worker's address
    resumed: bool = False  # products complete from an earlier run; not recalculated
    warnings: list[str] = field(default_factory=list)  # what its steps warned, in order
    crds_context: str | None = None  # the CRDS context its reference files came from
    crds_parameters: dict | None = None  # CrdsPars.record(); None: not looked up
    exit_status: int = 0  # of a failed exposure: its error's (Spec2Error.exit_status), else 1

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def status(self) -> str:
        """``ok``, ``failed`` or ``resumed`` (products complete from an earlier run)."""
        if self.resumed:
            return "resumed"
        return "ok" if self.ok else "failed"

    @classmethod
    def of(cls, exposure, **fields) -> ExposureResult:
        """A result for this exposure, naming its science file and association."""
        source = str(Path(exposure.source).resolve()) if exposure.source else None
        return cls(exposure.name, science=str(exposure.science), association=source, **fields)


# ---------------------------------------------------------------------------------------
# Opening and identifying an exposure
# ---------------------------------------------------------------------------------------


def open_exposure(path: Path):
    """Open a rate/rateints file as its datamodel, or raise InputError saying why not."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    with open(path, "rb") as fh:
        if fh.read(9) != b"SIMPLE  =":
            raise InputError(f"{path}: not a FITS file")
    from stdatamodels.jwst import datamodels

    try:
        model = datamodels.open(path)
    except Exception as exc:
        raise InputError(f"{path}: cannot be read as a JWST datamodel ({exc})") from None
    if not isinstance(model, (datamodels.CubeModel, datamodels.IFUImageModel, datamodels.ImageModel)):
        kind = type(model).__name__
        model.close()
        raise InputError(
            f"{path}: is a {kind}; spec2 calibrates count-rate exposures (_rate or _rateints)"
        )
    exp_type = model.meta.exposure.type
    if not exp_type:
        model.close()
        raise InputError(f"{path}: has no EXP_TYPE keyword; is it a JWST exposure?")
    if model.data is None or model.data.size == 0:
        model.close()
        raise InputError(f"{path}: has no SCI data")
    import numpy as np

    native_byte_order(model)
    if not np.isfinite(model.data).any():
        model.close()
        raise InputError(f"{path}: SCI holds no finite value (all NaN or inf)")
    return model


PIXEL_ARRAYS = ("data", "err", "dq", "var_poisson", "var_rnoise", "var_flat", "area")


def native_byte_order(model):
    """Swap the pixel arrays of a model read from FITS (big-endian) to the machine's byte
    order, in place. Every later operation on them then runs at full speed (numpy swaps
    bytes on each operation otherwise: about half the speed); values are unchanged, and
    products are written big-endian again."""
    for name in PIXEL_ARRAYS:
        array = getattr(model, name, None) if model.hasattr(name) else None
        if array is not None and not array.dtype.isnative:
            array.byteswap(inplace=True)
            setattr(model, name, array.view(array.dtype.newbyteorder("=")))


def find_recipe(pm, model, path, input_dir=None) -> Recipe:
    """The recipe the owning plugin gives for this exposure, or a clear UnsupportedModeError."""
    from stdatamodels.jwst.datamodels import CubeModel

    from spec2.plugins import claims_of, recipe_caller

    exp_type = model.meta.exposure.type
    caller = recipe_caller(pm, exp_type)
    if caller is not None:
        recipe = caller(exp_type=exp_type, multi_int=isinstance(model, CubeModel), meta=model.meta,
                        input_dir=input_dir)
        if recipe is None:
            raise UnsupportedModeError(f"{path}: the plugin claiming EXP_TYPE={exp_type} gave no recipe for it")
        return recipe
    if exp_type.endswith(_NOT_SPECTROSCOPY_SUFFIXES) or exp_type in _NOT_SPECTROSCOPY:
        raise UnsupportedModeError(
            f"{path}: EXP_TYPE={exp_type} is not a spectroscopic exposure; "
            "spec2 calibrates spectra (use calwebb_image2 for imaging)"
        )
    supported = claims_of(pm).exposure_types()
    raise UnsupportedModeError(
        f"{path}: no installed plugin calibrates EXP_TYPE={exp_type} "
        f"(supported: {', '.join(supported) or 'none'}; see `spec2 plugins`)"
    )


def check_recipe(pm, recipe: Recipe, exp_type: str, stepdefs) -> None:
    """Raise UnsupportedModeError unless every step of the recipe is defined and claimed
    for the exposure type it runs as (``exp_type``, or its slit group's own), and a slit
    group makes a new product only in its last step, the product its SlitGroups entry
    marks (the groups' products are merged into it)."""
    from spec2.plugins import claims_of

    unknown = [s for s in recipe.steps if s not in stepdefs]
    if unknown:
        raise UnsupportedModeError(f"recipe for {exp_type} names unknown steps {unknown}")
    claims = claims_of(pm)
    unclaimed = [(s, t) for s, t in recipe.typed_steps(exp_type) if claims.owner(t, s) is None]
    if unclaimed:
        # Report the first exposure type lacking an implementation, with all its steps.
        t = unclaimed[0][1]
        names = [s for s, u in unclaimed if u == t]
        raise UnsupportedModeError(
            f"no plugin implements step{'s' if len(names) > 1 else ''} {', '.join(names)} "
            f"for EXP_TYPE={t} (see `spec2 plugins`)")
    for entry in recipe.entries:
        if isinstance(entry, SlitGroups):
            for group in entry.groups:
                for i, step in enumerate(group.steps):
                    makes = stepdefs[step.name].makes if isinstance(step, Step) else None
                    if not isinstance(step, Step) or (makes and (i != len(group.steps) - 1 or makes != entry.product)):
                        raise UnsupportedModeError(
                            f"recipe for {exp_type}: slit group {group.name} runs {getattr(step, 'name', step)}, "
                            "which makes a new product; a group makes one only in its last step, the product "
                            "its SlitGroups entry marks")


# ---------------------------------------------------------------------------------------
# Running steps
# ---------------------------------------------------------------------------------------


def step_params(stepdef: StepDef, step: Step, options: RunOptions, crds: dict | None = None) -> dict:
    """The step's defaults, then the recipe's, then the CRDS parameter references'
    (``crds``: {step: {param: value}}), then the user's (parameter file and command
    line, merged in ``options.settings``). A user's value given as text (a setting made
    in Python rather than by ``--set``) is parsed as ``--set`` parses it; InputError
    names the parameter when it does not parse."""
    params = stepdef.defaults
    params.update(step.params)
    params.update((crds or {}).get(stepdef.name, {}))
    for name, value in options.settings.get(stepdef.name, {}).items():
        if isinstance(value, str):
            try:
                param = stepdef.param(name)
                value = value if param.type == "str" else param.parse(value)
            except KeyError:
                pass  # not a declared parameter: given to the hook as it is
            except ValueError as exc:
                raise InputError(f"{stepdef.name}.{name}: {exc}") from None
        params[name] = value
    return params


def set_status(model, stepdef: StepDef, status: str, on_request=False):
    """Record a step's status; ``on_request``: the user skipped it (see StepDef.skipped_as)."""
    keyword = (stepdef.skipped_as if on_request else None) or stepdef.cal_step
    if keyword:
        setattr(model.meta.cal_step, keyword, status)


def record_references(model, used: dict, context):
    for reftype, name in used.items():
        try:
            getattr(model.meta.ref_file, reftype).name = name
        except (AttributeError, KeyError):
            log.debug("no R_* keyword for reftype %s", reftype)
    if context:
        model.meta.ref_file.crds.context_used = context


def run_step(hook, stepdef, model, refs, params, context, skip=None):
    """Run one step's hook; return (model, status, seconds, {reftype: name used}).

    ``hook`` is the owner's hook caller; ``context`` the other hook arguments (members,
    input_dir, pm, extra_products). ``skip`` (why, or None) records SKIPPED and returns
    the input; a StepSkipped from the hook does too; a StepFailed records FAILED and
    returns the input as the hook left it (metadata only).
    """
    t0 = time.perf_counter()
    if skip:
        set_status(model, stepdef, SKIPPED, on_request=True)
        log.info("  %-14s SKIPPED (%s)", stepdef.name, skip)
        return model, SKIPPED, 0.0, {}
    refs.set_model(model)
    refs.take_used()
    try:
        result = hook(model=model, refs=refs, params=params, **context)
    except (StepSkipped, StepFailed) as exc:
        status = SKIPPED if isinstance(exc, StepSkipped) else FAILED
        set_status(model, stepdef, status)
        used = refs.take_used()
        record_references(model, used, refs.context)
        dt = time.perf_counter() - t0
        log.info("  %-14s %s (%s) %.2f s", stepdef.name, status, exc.reason, dt)
        return model, status, dt, used
    if result is None:
        raise UnsupportedModeError(
            f"step {stepdef.name} (hook {stepdef.hook}) returned nothing for EXP_TYPE={model.meta.exposure.type}"
        )
    set_status(result, stepdef, COMPLETE)
    used = refs.take_used()
    record_references(result, used, refs.context)
    dt = time.perf_counter() - t0
    log.info("  %-14s COMPLETE %.2f s", stepdef.name, dt)
    return result, COMPLETE, dt, used


def _calibrate_caught(pm, exposure, options, stepdefs, on_step=None):
    """(result, products or None, start time); a failure is recorded in the result."""
    from spec2.messages import capture

    t0 = time.perf_counter()
    result = ExposureResult.of(exposure, worker="local")
    log.info("%s: %s", exposure.name, exposure.science)
    products = None
    with capture(exposure.name, result.warnings):
        try:
            products = _calibrate(pm, exposure, options, stepdefs, result, on_step)
        except Exception as exc:
            result.error = _error_text(exc, exposure.science)
            result.exit_status = getattr(exc, "exit_status", 1) if isinstance(exc, Spec2Error) else 1
    return result, products, t0


def _write_caught(result, products, options, t0, science, tag=""):
    """Write the products (all or nothing), finish the result and log its outcome.

    The outcome is logged at INFO: a failure reaches the user through the progress
    display and the run's summary, not three times."""
    from spec2.messages import capture

    if products is not None:
        with capture(result.name, result.warnings):
            try:
                result.products = write_products(products, options.output_dir, tag)
            except Exception as exc:
                result.error = _error_text(exc, science)
                result.exit_status = 1
    result.seconds = time.perf_counter() - t0
    if result.ok:
        log.info("%s: done in %.2f s", result.name, result.seconds)
    else:
        log.info("%s: FAILED: %s", result.name, result.error)
    return result


def calibrate_exposure(pm, exposure, options, stepdefs, on_step=None, tag="") -> ExposureResult:
    """Calibrate one exposure and write its products; never raises for a bad exposure.

    The unit of work of a parallel run: everything it needs is in its arguments and
    everything it produces is in the returned result and the output folder. The caller
    sets the validation policy (a Dask worker turns per-assignment validation off for its
    life, see spec2.dask_engine).
    """
    result, products, t0 = _calibrate_caught(pm, exposure, options, stepdefs, on_step)
    return _write_caught(result, products, options, t0, exposure.science, tag)


def _error_text(exc, science):
    if isinstance(exc, Spec2Error):
        return str(exc)
    # a bug or an unforeseen input: still one line, still contained
    log.debug("traceback", exc_info=exc)
    return f"{science}: {type(exc).__name__}: {exc}"


def input_folder(exposure) -> Path:
    """The folder of the association, or of the bare input file."""
    return Path(exposure.source or exposure.science).resolve().parent


def _calibrate(pm, exposure, options, stepdefs, result, on_step=None):
    from spec2.refs import RefResolver

    model = open_exposure(exposure.science)
    input_dir = input_folder(exposure)
    recipe = find_recipe(pm, model, exposure.science, input_dir)
    exp_type = model.meta.exposure.type
    check_recipe(pm, recipe, exp_type, stepdefs)
    refs = RefResolver(model, options.overrides, selection=exposure.references)
    crds = _crds_pars(refs, recipe, stepdefs, options, result)
    run = RecipeRun(pm, exposure, options, stepdefs, result, on_step, exp_type, model.data.ndim == 3,
                    refs, input_dir, crds, recipe)
    try:
        for entry in recipe.entries:
            model = run.entry(entry, model)
    finally:
        result.crds_context = refs.context
    return run.products


def _crds_pars(refs, recipe, stepdefs, options, result) -> dict:
    """The exposure's CRDS parameter references ({step: {param: value}}), recorded in
    its result; none when the run's options turned them off."""
    if not options.crds_steppars:
        result.crds_parameters = {"disabled": True}
        return {}
    from spec2.crds_pars import crds_settings

    found = crds_settings(refs.path, recipe.steps, stepdefs)
    names = refs.take_used()  # {reftype: crds://file or the --ref path}; steps record their own
    found.files = {reftype: names.get(reftype, path) for reftype, path in found.files.items()}
    for problem in found.problems:
        log.warning("%s: CRDS parameters: %s", result.name, problem)
    for reftype, path in found.files.items():
        log.info("%s: step parameters from %s (%s)", result.name, path, reftype)
    result.crds_parameters = found.record(options.settings, options.skip)
    return found.settings


@dataclass(frozen=True)
class _Binding:
    """What running a step as one EXP_TYPE takes: the claiming plugins ({step: owner}),
    their hook callers, the reference types they declare and the references selected
    for that type."""

    exp_type: str
    owners: dict
    hooks: dict
    reftypes: dict
    refs: object

    @classmethod
    def of(cls, pm, exp_type, stepdefs, refs):
        from spec2.plugins import claims_of, step_caller

        claims = claims_of(pm)
        owners = {name: claims.owner(exp_type, name) for name in stepdefs}
        hooks = {name: step_caller(pm, name, exp_type, stepdefs) for name, owner in owners.items() if owner}
        reftypes = {name: claims.reftypes.get((exp_type, name), ()) for name in stepdefs}
        return cls(exp_type, owners, hooks, reftypes, refs)


class RecipeRun:
    """The state of one exposure's run through its recipe: the products marked so far,
    the kind of model at hand (``cal`` until a step makes an ``s2d``, ``x1d``, ...)."""

    def __init__(self, pm, exposure, options, stepdefs, result, on_step, exp_type, multi_int, refs, input_dir,
                 crds_settings=None, recipe=None):
        self.crds_settings = crds_settings or {}  # {step: {param: value}} from CRDS pars-*
        self.exposure, self.options, self.stepdefs = exposure, options, stepdefs
        self.result, self.on_step, self.multi_int, self.refs = result, on_step, multi_int, refs
        self.kind = "cal"
        self.products: list[tuple[str, object]] = []
        self._saved: set[int] = set()  # ids of models held as products
        self._members = {k: list(v) for k, v in exposure.members.items()}
        self._pm = pm
        self._exp_type = exp_type
        # {EXP_TYPE: _Binding}: the exposure's own, and those of slit groups calibrated as another type
        self._bindings = {exp_type: _Binding.of(pm, exp_type, stepdefs, refs)}
        self._recipe = recipe
        self._context = {"input_dir": input_dir, "pm": pm, "step_params": self.params_of}

    def _binding(self, exp_type=None) -> _Binding:
        """The owners, hooks, declared reference types and references of steps run as
        ``exp_type`` (None: the exposure's type)."""
        exp_type = exp_type or self._exp_type
        if exp_type not in self._bindings:
            refs = self.refs.for_exp_type(exp_type)
            self._bindings[exp_type] = _Binding.of(self._pm, exp_type, self.stepdefs, refs)
        return self._bindings[exp_type]

    def params_of(self, name) -> dict:
        """Step ``name``'s parameters in this run, as the runner would give them to it
        (``skip`` True when the user skipped it): for a step that runs others (master
        background), as jwst's sub-steps take their parent pipeline's."""
        step = Step(name)
        if self._recipe is not None and name in self._recipe.steps:
            step = self._recipe.step(name)
        params = step_params(self.stepdefs[name], step, self.options, self.crds_settings)
        if name in self.options.skip:
            params["skip"] = True
        return params

    def entry(self, entry, model):
        if isinstance(entry, SlitGroups):
            return self.groups(entry, model)
        return self.step(entry, model)

    def step(self, step: Step, model, group=None, exp_type=None):
        """Run one step on ``model`` as the plugin claiming it for ``exp_type`` (None:
        the exposure's type) implements it, with that type's references."""
        stepdef = self.stepdefs[step.name]
        binding = self._binding(exp_type)
        label = step.name if group is None else f"{step.name}[{group}]"
        if self.on_step is not None:
            self.on_step(self.exposure.name, label)
        params = step_params(stepdef, step, self.options, self.crds_settings)
        skip = self._skip_reason(stepdef, params)
        if not skip and stepdef.makes is None and id(model) in self._saved:
            model = model.copy()  # the product marked earlier keeps its state at its mark
        extras: dict = {}
        # each hook gets its own copy of the members; only the types its StepDef declares
        # in rewrites_members are taken back for the steps after it
        members = {k: list(v) for k, v in self._members.items()}
        t0 = time.perf_counter()
        try:
            out, status, dt, used = run_step(binding.hooks[step.name], stepdef, model, binding.refs, params,
                                             dict(self._context, members=members, extra_products=extras),
                                             skip=skip)
        except Exception:
            # the report names the step that failed and what it had asked for
            self.result.steps.append(StepRecord(label, FAILED, time.perf_counter() - t0, binding.refs.take_used()))
            raise
        self.result.steps.append(StepRecord(label, status, dt, used))
        for kind in stepdef.rewrites_members:
            if kind in members:
                self._members[kind] = list(members[kind])
        self._check_declared(binding, step.name, used)
        if step.required and status != COMPLETE and step.name not in self.options.skip:
            raise Spec2Error(f"{self.exposure.science}: {step.name} did not complete; cannot calibrate")
        if status == COMPLETE and stepdef.makes and out is not model:
            self.kind = stepdef.makes
        for suffix, extra in extras.items():
            if suffix not in stepdef.extra_products:
                raise Spec2Error(f"step {step.name} handed back product {suffix!r}, which its StepDef does not "
                                 f"declare (extra_products: {stepdef.extra_products})")
            self._add(suffix, extra)
        if self.options.save_intermediate and stepdef.makes is None and group is None:
            self.products.append((f"{self.exposure.name}_{intermediate_suffix(stepdef, self.multi_int)}.fits",
                                  out.copy()))
        if step.product and group is None:
            self.mark(step.product, out, status)
        return out

    def _check_declared(self, binding, name, used):
        """A step opening a reference type its claim does not declare: a warning, or an
        error when $SPEC2_STRICT_CLAIMS is set (the test suite sets it, so the built-in
        plugins' declarations are checked on every simulated mode)."""
        declared = binding.reftypes.get(name, ())
        undeclared = sorted(set(used) - set(declared))
        if not undeclared:
            return
        text = (f"step {name} opened reference type(s) {', '.join(undeclared)} that the claim of "
                f"{binding.owners.get(name)} for {binding.exp_type} does not declare "
                f"({', '.join(declared) or 'none'})")
        if os.environ.get("SPEC2_STRICT_CLAIMS", "").strip() not in ("", "0"):
            raise Spec2Error(text)
        log.warning(text)

    def mark(self, product, model, status):
        """Hold ``model`` as ``product`` if it is that kind of product (a ``cal`` after
        the step that was to make an ``s2d`` was skipped is no ``_s2d``)."""
        if product in PRODUCT_SUFFIXES:
            if product != self.kind:
                return
            product = PRODUCT_SUFFIXES[product][1 if self.multi_int else 0]
        elif status != COMPLETE:
            return
        self._add(product, model)

    def _add(self, suffix, model):
        """Hold a product; a later mark of the same product replaces the earlier one."""
        filename = f"{self.exposure.name}_{suffix}.fits"
        self.products = [(f, m) for f, m in self.products if f != filename]
        self.products.append((filename, model))
        self._saved.add(id(model))

    def _skip_reason(self, stepdef, params):
        if stepdef.name in self.options.skip:
            return "--skip"
        if params.get("skip"):
            if "skip" in self.options.settings.get(stepdef.name, {}):
                return f"{stepdef.name}.skip=true"
            if "skip" in self.crds_settings.get(stepdef.name, {}):
                return f"{stepdef.name}.skip=true from the CRDS parameter references"
            if stepdef.off_by_default:
                return f"off unless --set {stepdef.name}.skip=false"
            return f"{stepdef.name}.skip=true"
        return None

    def groups(self, entry: SlitGroups, model):
        """Run each group's steps on its slits, then merge the groups in their order."""
        from spec2.slit_groups import as_exp_type, merge_slits, split_slits

        parts = split_slits(model, [g.select for g in entry.groups])
        done = []
        for group, part in zip(entry.groups, parts, strict=True):
            if part is None:
                log.info("  slit group %s: no slits", group.name)
                continue
            if group.exp_type:
                as_exp_type(part, group.exp_type)
            for step in group.steps:
                part = self.step(step, part, group=group.name, exp_type=group.exp_type)
            done.append(part)
        merged = merge_slits(model, done, [self.stepdefs[s.name] for g in entry.groups for s in g.steps])
        if entry.product:
            self.mark(entry.product, merged, COMPLETE)
        return merged


# ---------------------------------------------------------------------------------------
# Writing products
# ---------------------------------------------------------------------------------------


STAGING_PREFIX = ".spec2-staging-"
#: Suffixes of the calibrated, resampled and extracted products (``<name>_<suffix>.fits``).
FINAL_SUFFIXES = tuple(dict.fromkeys(s for pair in PRODUCT_SUFFIXES.values() for s in pair))


def intermediate_suffix(stepdef: StepDef, multi_int: bool) -> str:
    """The suffix of a --save-intermediate product: jwst's step suffix, which takes
    "ints" for multi-integration data (bsubints), or else the step's name."""
    if stepdef.suffix:
        return stepdef.suffix + ("ints" if multi_int else "")
    return stepdef.name


def product_suffixes(stepdefs) -> set[str]:
    """Every suffix an exposure's products can have with these steps."""
    suffixes = set(FINAL_SUFFIXES)
    for stepdef in stepdefs.values():
        suffixes |= {intermediate_suffix(stepdef, False), intermediate_suffix(stepdef, True)}
        suffixes |= set(stepdef.extra_products)
    return suffixes


def write_products(products, output_dir: Path, tag: str = "") -> list[Path]:
    """Write every product or none: save into a temporary folder, then rename into place.

    ``tag`` names the run in the staging folder's name, so that a run can remove what a
    worker killed in the middle of a write left behind.
    """
    from spec2.fits_writer import save_fits

    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{tag}", dir=output_dir))
    try:
        for filename, model in products:
            if str(filename).endswith(".fits"):
                save_fits(model, staging / filename)
            else:
                model.save(str(staging / filename))
        final = []
        for filename, _ in products:
            os.replace(staging / filename, output_dir / filename)
            final.append(output_dir / filename)
        return final
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def run_all(pm, jobs, options: RunOptions, progress=None, tag="") -> list[ExposureResult]:
    """Run every exposure (or report a failed input) in order, in this process; never
    raises for one. ``progress`` (a spec2.progress display) hears of each step and result."""
    from spec2.association import FailedInput
    from spec2.plugins import step_definitions

    stepdefs = step_definitions(pm)
    Path(options.output_dir).mkdir(parents=True, exist_ok=True)
    on_step = progress.step if progress is not None else None
    results = []
    # Products are written by one background thread while the next exposure is
    # calibrated: file output (byte-swapping, disk) overlaps computation. At most one
    # exposure's products wait in memory; results keep the input order.
    from concurrent.futures import ThreadPoolExecutor

    def write(result, products, t0, science):
        result = _write_caught(result, products, options, t0, science, tag)
        if progress is not None:
            progress.done(result)
        return result

    pending = None  # (index in results, future of the finished result)
    with _no_validation_on_assignment(), ThreadPoolExecutor(1, thread_name_prefix="spec2-writer") as writer:
        for job in jobs:
            if isinstance(job, FailedInput):
                log.info("%s: FAILED: %s", job.name, job.error)
                results.append(ExposureResult(job.name, error=str(job.error)))
                if progress is not None:
                    progress.done(results[-1])
                continue
            result, products, t0 = _calibrate_caught(pm, job, options, stepdefs, on_step)
            if pending is not None:
                results[pending[0]] = pending[1].result()
            results.append(result)
            pending = (len(results) - 1, writer.submit(write, result, products, t0, job.science))
        if pending is not None:
            results[pending[0]] = pending[1].result()
    return results


@contextlib.contextmanager
def _no_validation_on_assignment():
    """stdatamodels checks every attribute assignment against the schema, which costs
    more than the calibration of an LRS exposure. Products are validated as a whole when
    they are written (an invalid one fails that exposure before anything is renamed into
    place), so during a run the per-assignment check is off unless the user set
    VALIDATE_ON_ASSIGNMENT."""
    if "VALIDATE_ON_ASSIGNMENT" in os.environ:
        yield
        return
    os.environ["VALIDATE_ON_ASSIGNMENT"] = "false"
    try:
        yield
    finally:
        del os.environ["VALIDATE_ON_ASSIGNMENT"]
