"""The ``spec2`` command line: ``process``, ``plugins``, ``steps``, ``demo``, ``plot``,
``compare``.

Imports stay inside the commands: ``spec2 --help`` and ``spec2 plugins`` never load
stdatamodels/asdf, and ``process`` loads only what the run uses.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from pathlib import Path

import click

log = logging.getLogger("spec2")


def _formatter():
    """Log lines with the time; a warning logged while an exposure runs names it."""
    from spec2.messages import ExposureFormatter

    return ExposureFormatter("%(asctime)s %(levelname)-7s %(message)s", "%H:%M:%S")


def _setup_logging(verbose: int, quiet: bool, handler: logging.Handler | None = None, level=None):
    from spec2.messages import log_python_warnings, route_crds

    if level is None:
        level = logging.WARNING if quiet else (logging.DEBUG if verbose > 1 else logging.INFO)
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_formatter())
    root = logging.getLogger("spec2")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
    # stdatamodels/dask chatter stays out of the user's way unless asked for
    for noisy in ("stpipe", "stdatamodels", "asdf", "distributed"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose > 1 else logging.ERROR)
    # CRDS's warnings (a context defaulted, a file not found) and Python's go through
    # the handler above, which keeps them off the progress line (and -q keeps them)
    route_crds(logging.DEBUG if verbose > 1 else logging.WARNING)
    log_python_warnings()


def _parse_pairs(values, what):
    out = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key or not rest:
            raise click.BadParameter(f"expected {what}, got {value!r}")
        out[key.strip()] = rest.strip()
    return out


STEPS_PREFIX = "--steps."


def split_step_options(tokens):
    """(inputs, ``STEP.PARAM=VALUE`` texts) of the command's free arguments: strun's
    ``--steps.<step>.<param>=VALUE`` (or ``--steps.<step>.<param> VALUE``) are taken out
    of the inputs; any other unknown ``--option`` is a usage error."""
    inputs, pairs = [], []
    tokens = list(tokens)
    while tokens:
        token = tokens.pop(0)
        if token.startswith(STEPS_PREFIX):
            key, sep, value = token[len(STEPS_PREFIX):].partition("=")
            if not sep:
                if not tokens:
                    raise click.UsageError(f"{token} needs a value ({token}=VALUE)")
                value = tokens.pop(0)
            pairs.append(f"{key}={value}")
        elif token.startswith("-") and len(token) > 1:
            raise click.UsageError(f"no such option: {token.split('=')[0]}")
        else:
            inputs.append(token)
    return inputs, pairs


@dataclass
class Choices:
    """What ``spec2 process`` was asked for: the run's options, and the jwst steps spec2
    does not implement that the user skipped (kept for --save-parameters)."""

    options: object  # spec2.pipeline.RunOptions
    jwst_skipped: tuple = ()


def build_options(output_dir, ref, skip, set_, save_intermediate, stepdefs, steps=(), params=None,
                  step_reftypes=None, crds_steppars=True, run_modes=()) -> Choices:
    """Validate the options against the known steps and reference types.

    Each over the one before: ``--params`` FILE, ``--set``, ``--steps.*`` (``steps``:
    their ``STEP.PARAM=VALUE`` texts), ``--skip``. A jwst step spec2 does not implement,
    named in a skip, is a warning; any other use of an unknown step or parameter, a
    ``--ref`` of a reference type no step that runs uses, or a ``--ref`` file that does
    not exist is a usage error (click exits 2) before any work.

    step_reftypes -- {step: reference types it may open} (plugin claims); default: the
                     StepDefs'
    run_modes     -- the EXP_TYPEs of the run, when ``step_reftypes`` are theirs only:
                     then a step is known to open only the reference types its claims for
                     these modes declare (and the error names the modes)
    """
    from spec2 import jwst_steps
    from spec2.pipeline import RunOptions
    from spec2.recipe import is_true, parameter_error

    settings, overrides, jwst_skipped = _file_choices(params, stepdefs) if params else ({}, {}, [])
    for option, texts in (("--set", set_), ("--steps", steps)):
        what = "STEP.PARAM=VALUE" if option == "--set" else "--steps.STEP.PARAM=VALUE"
        for key, text in _parse_pairs(texts, what).items():
            step, dot, param = key.partition(".")
            if not dot or not param:
                raise click.BadParameter(f"expected {what}, got {key!r}", param_hint=option)
            if option == "--steps" and param.startswith(jwst_steps.OVERRIDE_PREFIX):
                overrides[param[len(jwst_steps.OVERRIDE_PREFIX):].lower()] = text  # jwst's --ref
                continue
            if step not in stepdefs:
                skipping = param == "skip" and is_true(text)
                label = f"--steps.{key}" if option == "--steps" else f"--set {key}"
                jwst_skipped += _unknown_step(step, label, skipping, stepdefs)
                continue
            problem = parameter_error(stepdefs, step, param)
            if problem:
                raise click.BadParameter(f"{problem}; see `spec2 steps {step}`", param_hint=option)
            try:
                settings.setdefault(step, {})[param] = stepdefs[step].param(param).parse(text)
            except ValueError as exc:
                raise click.BadParameter(f"{key}: {exc}", param_hint=option) from None
    skipped = [name for name in skip if name in stepdefs]
    for name in skip:
        if name not in stepdefs:
            jwst_skipped += _unknown_step(name, f"--skip {name}", True, stepdefs)
    overrides.update({k.lower(): v for k, v in _parse_pairs(ref, "REFTYPE=PATH").items()})
    check_overrides(overrides, stepdefs, step_reftypes, set(skipped), settings, run_modes)
    options = RunOptions(Path(output_dir), overrides, frozenset(skipped), settings, save_intermediate,
                         crds_steppars=crds_steppars)
    return Choices(options, tuple(dict.fromkeys(jwst_skipped)))


def _file_choices(params, stepdefs):
    """(settings, overrides, jwst steps skipped) of a ``--params`` file; its notes (what
    spec2 does not use) are logged as warnings."""
    from spec2.errors import InputError
    from spec2.parameter_files import read_parameter_file, translate

    try:
        values = read_parameter_file(params)
        translation = translate(values, stepdefs)
    except InputError as exc:
        raise click.UsageError(f"--params {exc}") from None
    for note in translation.notes(params):
        log.warning(note)
    skipped = [s for s, p in values.steps.items() if s not in stepdefs and p.get("skip") is True]
    return translation.settings, dict(translation.overrides), skipped


def _unknown_step(step, option, skipping, stepdefs) -> list:
    """A step spec2 does not have: skipping one of jwst's is a warning (returns [step],
    kept for --save-parameters); anything else is a usage error."""
    from spec2 import jwst_steps

    if step in jwst_steps.STEP_CLASSES:
        if skipping:
            log.warning("%s: spec2 does not implement jwst step %s; nothing to skip", option, step)
            return [step]
        raise click.UsageError(f"{option}: spec2 does not implement jwst step {step!r} "
                               f"(steps: {', '.join(stepdefs)}; see `spec2 steps`)")
    raise click.BadParameter(f"unknown step {step!r} (steps: {', '.join(stepdefs)})", param_hint=option)


def check_overrides(overrides, stepdefs, step_reftypes, skipped, settings, run_modes=()):
    """A usage error for an override no step that runs would open, or whose file does
    not exist. A step runs unless skipped (--skip, skip=true, or off by default and not
    turned on); CRDS parameter references (pars-*) count as their step's.

    With ``run_modes``, ``step_reftypes`` are the claims of those modes only (a step
    absent opens nothing in this run); without, a step opens its StepDef's types too."""
    from spec2 import jwst_steps
    from spec2.refs import NOT_APPLICABLE

    step_reftypes = step_reftypes or {}
    if run_modes:
        reftypes = {s: set(step_reftypes[s]) for s in stepdefs if s in step_reftypes}
    else:
        reftypes = {s: set(d.reftypes) | set(step_reftypes.get(s, ())) for s, d in stepdefs.items()}
    for step, types in reftypes.items():
        if jwst_steps.pars_reftype(step):
            types.add(jwst_steps.pars_reftype(step))
    users = {}
    for step, types in reftypes.items():
        for reftype in types:
            users.setdefault(reftype, []).append(step)

    def runs(step):
        skip = settings.get(step, {}).get("skip", stepdefs[step].off_by_default)
        return step not in skipped and not skip

    for reftype, value in overrides.items():
        text = f"--ref {reftype}={value}"
        if reftype == jwst_steps.PIPELINE_PARS_REFTYPE:
            pass
        elif reftype not in users:
            import difflib

            scope = f" of this run's modes ({', '.join(run_modes)})" if run_modes else ""
            close = difflib.get_close_matches(reftype, sorted(users), n=3)
            hint = f"; did you mean {' or '.join(close)}?" if close else f" (known: {', '.join(sorted(users))})"
            raise click.UsageError(f"{text}: no step{scope} uses reference type {reftype!r}{hint}")
        elif not any(runs(s) for s in users[reftype]):
            raise click.UsageError(f"{text}: the step(s) using it ({', '.join(users[reftype])}) are skipped")
        if str(value).strip().upper() == NOT_APPLICABLE:
            continue
        path = Path(value).expanduser()
        if not path.is_file():
            raise click.UsageError(f"{text}: no such file" if not path.exists() else f"{text}: not a file")


def claimed_reftypes(pm, exp_types=None) -> dict:
    """{step: the reference types the plugins' claims say it opens} for these EXP_TYPEs
    (None: any). With EXP_TYPEs, a step no plugin claims for them is absent."""
    from spec2.plugins import claims_of

    out: dict = {}
    for (exp_type, step), reftypes in claims_of(pm).reftypes.items():
        if exp_types is None or exp_type in exp_types:
            out.setdefault(step, set()).update(reftypes)
    return out


def input_exp_types(inputs) -> set[str]:
    """The EXP_TYPEs of the science files the inputs name (read from their primary
    headers; inputs that cannot be read are left out: the run reports them)."""
    from astropy.io import fits

    from spec2.association import Exposure, expand_inputs

    previous = logging.root.manager.disable
    logging.disable(logging.CRITICAL)  # the run expands the inputs again and says what it finds
    try:
        jobs = expand_inputs(inputs)
    finally:
        logging.disable(previous)
    found = set()
    for job in jobs:
        if isinstance(job, Exposure):
            try:
                found.add(str(fits.getval(job.science, "EXP_TYPE", ext=0)).strip())
            except (OSError, KeyError, IndexError, ValueError):
                pass
    return found


def save_parameters_file(path, choices: Choices, pm, stepdefs):
    """Write the run's step parameters as a jwst parameter file (``--save-parameters``)."""
    from spec2.parameter_files import parameter_tree, write_parameter_file
    from spec2.plugins import parameter_origins

    options = choices.options
    settings = {s: dict(p) for s, p in options.settings.items()}
    for step in options.skip:
        settings.setdefault(step, {})["skip"] = True
    core = {key for key, origin in parameter_origins(pm).items() if origin == "the core"}
    tree = parameter_tree(settings, stepdefs, core, choices.jwst_skipped)
    try:
        write_parameter_file(path, tree)
    except OSError as exc:
        raise click.UsageError(f"--save-parameters {path}: cannot write ({exc.strerror or exc})") from None
    log.info("step parameters saved to %s", path)


def summarize(results) -> int:
    from spec2.report import summary_line

    failed = [r for r in results if not r.ok]
    for r in failed:
        click.echo(f"FAILED {r.name}: {r.error}", err=True)
    click.echo(summary_line(results), err=True)
    if not results:
        return 1
    # every failure being "no data on this detector" (jwst's 64) keeps that status
    statuses = {getattr(r, "exit_status", 0) or 1 for r in failed}
    return statuses.pop() if len(statuses) == 1 else (1 if statuses else 0)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="spec2")
def main():
    """spec2: calibrate JWST spectroscopic exposures (stage 2, as calwebb_spec2)."""


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("inputs", nargs=-1, type=click.UNPROCESSED)
@click.option("-o", "--output-dir", default=".", show_default=True, help="Where products go.")
@click.option("--ref", multiple=True, metavar="REFTYPE=PATH", help="Use this reference file (or N/A).")
@click.option("--skip", multiple=True, metavar="STEP", help="Skip a step (recorded SKIPPED).")
@click.option("--set", "set_", multiple=True, metavar="STEP.PARAM=VALUE",
              help="Set a step parameter; strun's --steps.STEP.PARAM=VALUE works too.")
@click.option("--params", "params_file", metavar="FILE",
              help="Step parameters from a jwst parameter file (ASDF, as strun --save-parameters writes).")
@click.option("--save-parameters", metavar="FILE",
              help="Write the step parameters as a jwst parameter file (with no INPUTS: only that).")
@click.option("--disable-crds-steppars", is_flag=True, envvar="STPIPE_DISABLE_CRDS_STEPPARS",
              help="Do not apply CRDS parameter references (pars-*) (or $STPIPE_DISABLE_CRDS_STEPPARS).")
@click.option("--save-intermediate", is_flag=True, help="Also save the model after each calibration step.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
              help="Local worker processes (default: one per core for large batches, else none: "
                   "workers take seconds to start).")
@click.option("--scheduler", envvar="SPEC2_SCHEDULER", metavar="ADDRESS",
              help="Run on this Dask distributed scheduler instead (or $SPEC2_SCHEDULER).")
@click.option("--resume", is_flag=True, help="Skip exposures whose products an earlier run completed.")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors; no live progress line.")
@click.option("--trace", is_flag=True, help="Log every hook call: the plugin that answered and its time (or $SPEC2_TRACE=1).")
def process(inputs, output_dir, ref, skip, set_, params_file, save_parameters, disable_crds_steppars,
            save_intermediate, jobs, scheduler, resume, verbose, quiet, trace):
    """Calibrate _rate/_rateints files and level-2 association JSON files.

    Exposures run in parallel; a run report (spec2_report.json) is written next to the
    products. Exit status 0 only when every exposure succeeded.

    Step parameters, lowest precedence first: the defaults, the CRDS parameter
    references (pars-*), --params FILE, then --set / --steps.STEP.PARAM=VALUE / --skip.
    """
    import os

    from spec2.progress import LiveProgress, make_progress

    inputs, step_pairs = split_step_options(inputs)
    if not inputs and not save_parameters:
        raise click.UsageError("missing INPUTS: rate files, association files or folders")
    if trace:  # the environment carries it to worker processes too
        os.environ["SPEC2_TRACE"] = "1"
    progress = make_progress(sys.stderr, quiet)
    if isinstance(progress, LiveProgress):
        # the live line says what is happening; the log keeps to problems unless -v
        level = logging.INFO if verbose == 1 else (logging.DEBUG if verbose > 1 else logging.WARNING)
        _setup_logging(verbose, quiet, progress.handler(_formatter()), level)
    else:
        _setup_logging(verbose, quiet)
    from spec2.batch import process as run_batch
    from spec2.plugins import step_definitions

    pm = _plugin_manager()
    stepdefs = step_definitions(pm)
    # --ref is checked against the steps the run's modes have (any mode's if no input's
    # mode is known or calibrated: the run then says what is wrong with the inputs)
    exp_types = input_exp_types(inputs) if ref and inputs else set()
    run_reftypes = claimed_reftypes(pm, exp_types) if exp_types else {}
    if not run_reftypes:
        exp_types = set()
    choices = build_options(output_dir, ref, skip, set_, save_intermediate, stepdefs, step_pairs, params_file,
                            run_reftypes or claimed_reftypes(pm), crds_steppars=not disable_crds_steppars,
                            run_modes=sorted(exp_types))
    if save_parameters:
        save_parameters_file(save_parameters, choices, pm, stepdefs)
        if not inputs:
            progress.close()
            sys.exit(0)
    from spec2.errors import OutputError

    try:
        results, report = run_batch(
            inputs, choices.options, jobs=jobs, scheduler=scheduler, progress=progress,
            resume=resume, pm=pm,
        )
    except OutputError as exc:  # found before any work; no report, as it could not be written
        click.echo(f"spec2: {exc}", err=True)
        sys.exit(1)
    for r in results:
        for p in r.products:
            click.echo(str(p))
    status = summarize(results)
    click.echo(f"spec2: run report {report}", err=True)
    sys.exit(status)


def _plugin_manager():
    """The plugin manager, or exit 2 with the one-line reason the plugins do not load."""
    from spec2.errors import PluginError
    from spec2.plugins import get_plugin_manager

    try:
        return get_plugin_manager()
    except PluginError as exc:
        click.echo(f"spec2: {exc}", err=True)
        sys.exit(2)


@main.command()
def plugins():
    """List loaded plugins: version, origin, the modes and steps each owns, its hooks."""
    from spec2.plugins import describe_plugins

    pm = _plugin_manager()
    infos = describe_plugins(pm)
    if not infos:
        click.echo("no spec2 plugins are installed")
    for info in infos:
        click.echo(f"{info.name} {info.version}")
        click.echo(f"  origin:         {info.origin}")
        click.echo(f"  exposure types: {', '.join(info.exposure_types) or '-'}")
        for exp_type, steps in info.claims.items():
            owner = "recipe + " if exp_type in info.exposure_types else "steps "
            click.echo(f"    {exp_type}: {owner}{', '.join(steps) or '-'}")
        click.echo(f"  hooks:          {', '.join(info.hooks) or '-'}")


@main.command()
@click.argument("step", required=False)
@click.option("--markdown", is_flag=True, help="The user guide's step table (Markdown).")
def steps(step, markdown):
    """List the steps: what each does, its hook, status keyword, reference types and
    parameters (type, default, help, and the plugin that added it)."""
    from spec2.plugins import step_definitions
    from spec2.step_help import describe_step, markdown_table

    pm = _plugin_manager()
    stepdefs = step_definitions(pm)
    if markdown:
        click.echo(markdown_table(stepdefs), nl=False)
        return
    if step is not None and step not in stepdefs:
        raise click.BadParameter(f"unknown step {step!r} (steps: {', '.join(stepdefs)})", param_hint="STEP")
    for name in [step] if step else stepdefs:
        click.echo(describe_step(pm, stepdefs[name], detailed=step is not None))


@main.command()
@click.argument("directory", default="spec2-demo", required=False)
@click.option("-v", "--verbose", count=True)
@click.option("-q", "--quiet", is_flag=True)
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=1, show_default=True,
              help="Exposures calibrated at once (local worker processes).")
def demo(directory, verbose, quiet, jobs):
    """Simulate exposures with reference files into DIRECTORY, calibrate them as
    `spec2 process` does (run report in DIRECTORY/products), and say PASS or FAIL per case
    against its stated threshold; exit status 1 if any case fails."""
    _setup_logging(verbose, quiet)
    from spec2.demo import run_demo

    sys.exit(run_demo(Path(directory), jobs=jobs))


@main.command()
@click.argument("products", nargs=-1, required=True, metavar="PRODUCT...")
@click.option("-o", "--output-dir", default=None, metavar="DIR",
              help="Where the PNGs go (default: next to each product).")
def plot(products, output_dir):
    """Draw a quick-look PNG of each PRODUCT (_x1d, _x1dints, _s2d, _s3d, _cal, _calints):
    <name>.png. A product that cannot be drawn is reported and the others are still drawn;
    exit status 1 if any could not be, 2 without matplotlib."""
    from spec2.product_kind import ProductError
    from spec2.quicklook import MissingMatplotlib, require_matplotlib, write_quicklook

    try:
        require_matplotlib()
    except MissingMatplotlib as exc:
        click.echo(f"spec2: {exc}", err=True)
        sys.exit(2)
    failed = 0
    for product in products:
        try:
            click.echo(write_quicklook(product, output_dir))
        except ProductError as exc:
            click.echo(f"spec2 plot: {exc}", err=True)
            failed += 1
    sys.exit(1 if failed else 0)


@main.command()
@click.argument("a", metavar="A")
@click.argument("b", metavar="B")
@click.option("--rtol", type=click.FloatRange(min=0), default=1e-5, show_default=True,
              help="Relative tolerance, of B's value.")
@click.option("--atol", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="Absolute tolerance (set it for values near zero).")
@click.option("--json", "json_file", metavar="FILE", help="Also write the result as JSON to FILE.")
def compare(a, b, rtol, atol, json_file):
    """Compare product A with the reference B (the same kind: e.g. spec2's _x1d with
    jwst's): arrays and table columns within RTOL/ATOL, DQ bit by bit, WCS on a grid of
    pixels. Exit status 0 agree, 1 differ, 2 cannot be compared."""
    from spec2.compare import compare_files, render_json, render_text

    result = compare_files(a, b, rtol=rtol, atol=atol)
    click.echo(render_text(result))
    if json_file:
        Path(json_file).write_text(render_json(result) + "\n")
    sys.exit(result.exit_code)


if __name__ == "__main__":  # pragma: no cover
    main()
