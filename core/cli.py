"""The ``spec2`` command line: ``process``, ``plugins``, ``demo``.

Imports stay inside the commands: ``spec2 --help`` and ``spec2 plugins`` never load
stdatamodels/asdf, and ``process`` loads only what the run uses.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

log = logging.getLogger("spec2")


_FORMAT = logging.Formatter("%(asctime)s %(levelname)-7s %(message)s", "%H:%M:%S")


def _setup_logging(verbose: int, quiet: bool, handler: logging.Handler | None = None, level=None):
    if level is None:
        level = logging.WARNING if quiet else (logging.DEBUG if verbose > 1 else logging.INFO)
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_FORMAT)
    root = logging.getLogger("spec2")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
    # stdatamodels/crds/dask chatter stays out of the user's way unless asked for
    for noisy in ("stpipe", "CRDS", "stdatamodels", "asdf", "distributed"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose > 1 else logging.ERROR)


def _parse_pairs(values, what):
    out = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key or not rest:
            raise click.BadParameter(f"expected {what}, got {value!r}")
        out[key.strip()] = rest.strip()
    return out


def build_options(output_dir, ref, skip, set_, save_intermediate, stepdefs):
    """Validate --ref/--skip/--set against the known steps; return RunOptions."""
    from spec2.pipeline import RunOptions

    overrides = {k.lower(): v for k, v in _parse_pairs(ref, "REFTYPE=PATH").items()}
    for name in skip:
        if name not in stepdefs:
            raise click.BadParameter(f"unknown step {name!r} (steps: {', '.join(stepdefs)})", param_hint="--skip")
    settings: dict = {}
    for key, text in _parse_pairs(set_, "STEP.PARAM=VALUE").items():
        step, dot, param = key.partition(".")
        if not dot or step not in stepdefs:
            raise click.BadParameter(f"unknown step in {key!r} (steps: {', '.join(stepdefs)})", param_hint="--set")
        names = [p.name for p in stepdefs[step].params]
        if param not in names:
            raise click.BadParameter(
                f"step {step} has no parameter {param!r} (parameters: {', '.join(names)}; see `spec2 steps {step}`)",
                param_hint="--set",
            )
        try:
            settings.setdefault(step, {})[param] = stepdefs[step].param(param).parse(text)
        except ValueError as exc:
            raise click.BadParameter(f"{key}: {exc}", param_hint="--set") from None
    return RunOptions(Path(output_dir), overrides, frozenset(skip), settings, save_intermediate)


def summarize(results) -> int:
    from spec2.report import summary_line

    failed = [r for r in results if not r.ok]
    for r in failed:
        click.echo(f"FAILED {r.name}: {r.error}", err=True)
    click.echo(summary_line(results), err=True)
    return 1 if failed or not results else 0


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="spec2")
def main():
    """spec2: calibrate JWST spectroscopic exposures (stage 2, as calwebb_spec2)."""


@main.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("-o", "--output-dir", default=".", show_default=True, help="Where products go.")
@click.option("--ref", multiple=True, metavar="REFTYPE=PATH", help="Use this reference file (or N/A).")
@click.option("--skip", multiple=True, metavar="STEP", help="Skip a step (recorded SKIPPED).")
@click.option("--set", "set_", multiple=True, metavar="STEP.PARAM=VALUE", help="Set a step parameter.")
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
def process(inputs, output_dir, ref, skip, set_, save_intermediate, jobs, scheduler, resume, verbose, quiet, trace):
    """Calibrate _rate/_rateints files and level-2 association JSON files.

    Exposures run in parallel; a run report (spec2_report.json) is written next to the
    products. Exit status 0 only when every exposure succeeded.
    """
    import os

    from spec2.progress import LiveProgress, make_progress

    if trace:  # the environment carries it to worker processes too
        os.environ["SPEC2_TRACE"] = "1"
    progress = make_progress(sys.stderr, quiet)
    if isinstance(progress, LiveProgress):
        # the live line says what is happening; the log keeps to problems unless -v
        level = logging.INFO if verbose == 1 else (logging.DEBUG if verbose > 1 else logging.WARNING)
        _setup_logging(verbose, quiet, progress.handler(_FORMAT), level)
    else:
        _setup_logging(verbose, quiet)
    from spec2.batch import process as run_batch
    from spec2.plugins import step_definitions

    pm = _plugin_manager()
    options = build_options(output_dir, ref, skip, set_, save_intermediate, step_definitions(pm))
    from spec2.errors import OutputError

    try:
        results, report = run_batch(
            inputs, options, jobs=jobs, scheduler=scheduler, progress=progress,
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
def demo(directory, verbose, quiet):
    """Simulate exposures with reference files into DIRECTORY, calibrate them, and compare
    the extracted spectra with the injected ones."""
    _setup_logging(verbose, quiet)
    from spec2.demo import run_demo

    sys.exit(run_demo(Path(directory)))


if __name__ == "__main__":  # pragma: no cover
    main()
