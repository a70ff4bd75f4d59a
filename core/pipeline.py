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
from spec2.recipe import Recipe, StepDef

log = logging.getLogger("spec2")

COMPLETE, SKIPPED, FAILED = "COMPLETE", "SKIPPED", "FAILED"

# EXP_TYPEs of imaging and other non-spectroscopic exposures: named in the error so the
# user knows spec2 is the wrong tool rather than that a plugin is missing.
_NOT_SPECTROSCOPY_SUFFIXES = ("_IMAGE", "_CORON", "_DARK", "_FLAT", "_TACQ", "_TACONFIRM", "_FOCUS")
_NOT_SPECTROSCOPY = {"NIS_AMI", "NRC_TSIMAGE", "MIR_4QPM", "MIR_LYOT", "MIR_CORONCAL", "FGS_FINEGUIDE"}


@dataclass
class RunOptions:
    """What the user asked for, shared by every exposure of a run."""

    output_dir: Path
    overrides: dict = field(default_factory=dict)  # {reftype: path or "N/A"}
    skip: frozenset = frozenset()  # step names
    settings: dict = field(default_factory=dict)  # {step: {param: value}}
    save_intermediate: bool = False


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

    @property
    def ok(self) -> bool:
        return self.error is None

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


def find_recipe(pm, model, path) -> Recipe:
    """The recipe a plugin gives for this exposure, or a clear UnsupportedModeError."""
    from stdatamodels.jwst.datamodels import CubeModel

    exp_type = model.meta.exposure.type
    recipe = pm.hook.spec2_recipe(exp_type=exp_type, multi_int=isinstance(model, CubeModel))
    if recipe is not None:
        return recipe
    if exp_type.endswith(_NOT_SPECTROSCOPY_SUFFIXES) or exp_type in _NOT_SPECTROSCOPY:
        raise UnsupportedModeError(
            f"{path}: EXP_TYPE={exp_type} is not a spectroscopic exposure; "
            "spec2 calibrates spectra (use calwebb_image2 for imaging)"
        )
    supported = sorted({t for types in pm.hook.spec2_exposure_types() for t in types or ()})
    raise UnsupportedModeError(
        f"{path}: no installed plugin calibrates EXP_TYPE={exp_type} "
        f"(supported: {', '.join(supported) or 'none'}; see `spec2 plugins`)"
    )


# ---------------------------------------------------------------------------------------
# Running steps
# ---------------------------------------------------------------------------------------


def step_params(stepdef: StepDef, recipe: Recipe, options: RunOptions) -> dict:
    params = dict(stepdef.params)
    params.update(recipe.params.get(stepdef.name, {}))
    params.update(options.settings.get(stepdef.name, {}))
    return params


def set_status(model, stepdef: StepDef, status: str):
    setattr(model.meta.cal_step, stepdef.cal_step, status)


def record_references(model, used: dict, context):
    for reftype, name in used.items():
        try:
            getattr(model.meta.ref_file, reftype).name = name
        except (AttributeError, KeyError):
            log.debug("no R_* keyword for reftype %s", reftype)
    if context:
        model.meta.ref_file.crds.context_used = context


def run_step(pm, stepdef, model, refs, params, members, skip=False):
    """Run one step's hook; return (model, status, seconds, {reftype: name used}).

    A user skip or a StepSkipped from the hook records SKIPPED and returns the input; a
    StepFailed records FAILED and returns the input as the hook left it (metadata only).
    """
    t0 = time.perf_counter()
    if skip:
        set_status(model, stepdef, SKIPPED)
        why = "--skip" if params.get("skip") is not True else f"off unless --set {stepdef.name}.skip=false"
        log.info("  %-14s SKIPPED (%s)", stepdef.name, why)
        return model, SKIPPED, 0.0, {}
    hook = getattr(pm.hook, stepdef.hook)
    refs.set_model(model)
    refs.take_used()
    try:
        result = hook(model=model, refs=refs, params=params, members=members)
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
            f"no plugin implements step {stepdef.name} (hook {stepdef.hook}) for "
            f"EXP_TYPE={model.meta.exposure.type}"
        )
    set_status(result, stepdef, COMPLETE)
    used = refs.take_used()
    record_references(result, used, refs.context)
    dt = time.perf_counter() - t0
    log.info("  %-14s COMPLETE %.2f s", stepdef.name, dt)
    return result, COMPLETE, dt, used


def _calibrate_caught(pm, exposure, options, stepdefs, on_step=None):
    """(result, products or None, start time); a failure is recorded in the result."""
    t0 = time.perf_counter()
    result = ExposureResult.of(exposure, worker="local")
    log.info("%s: %s", exposure.name, exposure.science)
    products = None
    try:
        products = _calibrate(pm, exposure, options, stepdefs, result, on_step)
    except Exception as exc:
        result.error = _error_text(exc, exposure.science)
    return result, products, t0


def _write_caught(result, products, options, t0, science, tag=""):
    """Write the products (all or nothing), finish the result and log its outcome."""
    if products is not None:
        try:
            result.products = write_products(products, options.output_dir, tag)
        except Exception as exc:
            result.error = _error_text(exc, science)
    result.seconds = time.perf_counter() - t0
    if result.ok:
        log.info("%s: done in %.2f s", result.name, result.seconds)
    else:
        log.error("%s: FAILED: %s", result.name, result.error)
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


def _calibrate(pm, exposure, options, stepdefs, result, on_step=None):
    from spec2.refs import RefResolver

    model = open_exposure(exposure.science)
    recipe = find_recipe(pm, model, exposure.science)
    unknown = [s for s in recipe.steps if s not in stepdefs]
    if unknown:
        raise UnsupportedModeError(f"recipe for {model.meta.exposure.type} names unknown steps {unknown}")
    multi_int = model.data.ndim == 3
    refs = RefResolver(model, options.overrides)
    members = {k: list(v) for k, v in exposure.members.items()}
    products: list[tuple[str, object]] = []

    def run(name, current):
        stepdef = stepdefs[name]
        if on_step is not None:
            on_step(exposure.name, name)
        t0 = time.perf_counter()
        params = step_params(stepdef, recipe, options)
        try:
            out, status, dt, used = run_step(
                pm, stepdef, current, refs, params, members,
                skip=name in options.skip or params.get("skip") is True,
            )
        except Exception:
            # the report names the step that failed and what it had asked for
            result.steps.append(StepRecord(name, FAILED, time.perf_counter() - t0, refs.take_used()))
            raise
        result.steps.append(StepRecord(name, status, dt, used))
        return out, status

    for name in recipe.calibrate:
        model, status = run(name, model)
        if name == "assign_wcs" and status != COMPLETE and name not in options.skip:
            raise Spec2Error(f"{exposure.science}: assign_wcs did not complete; cannot calibrate")
        if options.save_intermediate:
            suffix = intermediate_suffix(stepdefs[name], multi_int)
            products.append((f"{exposure.name}_{suffix}.fits", model.copy()))
    products.append((f"{exposure.name}_{'calints' if multi_int else 'cal'}.fits", model))

    to_extract = model
    if recipe.resample:
        resampled, status = run(recipe.resample, model)
        if status == COMPLETE and resampled is not model:
            suffix = "s3d" if recipe.resample == "cube_build" else "s2d"
            products.append((f"{exposure.name}_{suffix}.fits", resampled))
            to_extract = resampled
    if recipe.extract:
        spectra, status = run(recipe.extract, to_extract)
        if status == COMPLETE and spectra is not to_extract:
            products.append((f"{exposure.name}_{'x1dints' if multi_int else 'x1d'}.fits", spectra))
    return products


# ---------------------------------------------------------------------------------------
# Writing products
# ---------------------------------------------------------------------------------------


STAGING_PREFIX = ".spec2-staging-"
#: Suffixes of the calibrated, resampled and extracted products (``<name>_<suffix>.fits``).
FINAL_SUFFIXES = ("cal", "calints", "s2d", "s3d", "x1d", "x1dints")


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
                log.error("%s: FAILED: %s", job.name, job.error)
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
