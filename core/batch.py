"""A run of many exposures: what ``spec2 process`` does with its inputs.

0. The output folder is created and checked writable before anything else.
1. Inputs (files, associations, folders of them) become exposures; a file that is also
   an association's science member is that association's product; two inputs that name
   the same product are one exposure (or an error, if they disagree on what it is made of).
2. With ``resume``, exposures whose products an earlier run completed (its report says
   so, and the files are still whole) are not recalculated.
3. The rest run on an engine: in this process (one job or one exposure), on local
   worker processes (``jobs`` > 1; by default only for a batch that repays their start,
   see :func:`auto_jobs`), or on a Dask cluster (``scheduler``). Before workers start,
   the driver selects every exposure's reference files (spec2.ref_selection).
4. The run report is written next to the products, keeping earlier runs' completed
   records, and staging folders of workers that died are removed.

Results come back in input order, whatever the engine; products are identical.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import os
import secrets
import shutil
import tempfile
import time
from pathlib import Path

from spec2.association import Exposure, FailedInput, expand_inputs
from spec2.errors import AssociationError, OutputError
from spec2.pipeline import STAGING_PREFIX, ExposureResult, StepRecord, run_all
from spec2.report import (
    build_report,
    carry_earlier,
    completed_records,
    fingerprint,
    read_report,
    resumable,
    write_report,
)

log = logging.getLogger("spec2")


def default_jobs() -> int:
    """The number of cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


#: Local workers pay off only when each gets at least this many exposures. A worker is a
#: new process that imports stdatamodels/asdf/gwcs and opens its first reference files
#: before its first exposure is done (about 6 s on the 2-core development machine, where
#: a fixed-slit exposure takes 0.7 s), and a run in one process already keeps a second
#: core busy writing products: two workers gained 6 % at 16 exposures each. Measured with
#: benchmarks/scaling.py (docs/benchmarks.md, "The default worker count").
EXPOSURES_PER_WORKER = 24


def auto_jobs(n_exposures: int, cores: int) -> int:
    """The default number of local worker processes for ``n_exposures`` on ``cores``:
    as many as give each worker EXPOSURES_PER_WORKER exposures, at most one per core,
    and 1 (this process, no workers) unless that makes at least two."""
    workers = min(cores, n_exposures // EXPOSURES_PER_WORKER)
    return workers if workers >= 2 else 1


def check_output_dir(path: Path) -> None:
    """Create the output folder if need be and prove it writable by creating and removing
    a file in it; raise OutputError (one line) otherwise. Called before any work, so that
    a folder that cannot take the products is not found out after the calibration."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputError(f"{path}: the output folder is a file") from None
    except OSError as exc:
        raise OutputError(f"{path}: cannot create the output folder: {exc.strerror or exc}") from None
    try:
        fd, probe = tempfile.mkstemp(prefix=".spec2-write-check-", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write in the output folder: {exc.strerror or exc}") from None


def unique_exposures(jobs):
    """One exposure per product name, in input order.

    - A bare file that is also the science member of a given association is dropped: the
      association's product (with its background, imprint, ... members) is the one made,
      whatever the order of the inputs, and logged once at INFO.
    - Repeats of one exposure (same science file and members) are calibrated once.
    - Two different exposures with one product name would write the same files: the
      association's wins over a bare file's, else the earlier input's; the other fails.
    """
    from_asn = {_key(j)[0]: j for j in jobs if isinstance(j, Exposure) and j.source is not None}
    kept = []
    for job in jobs:
        if isinstance(job, Exposure) and job.source is None:
            owner = from_asn.get(_key(job)[0])
            if owner is not None:
                log.info("%s: also the science member of %s; calibrated as its product %s",
                         job.science, owner.source.name, owner.name)
                continue
        kept.append(job)
    # associations claim product names before bare files do
    claim_order = sorted(range(len(kept)), key=lambda i: not (isinstance(kept[i], Exposure) and kept[i].source))
    seen: dict[str, Exposure] = {}
    out: dict[int, object] = {}
    for i in claim_order:
        job = kept[i]
        if isinstance(job, Exposure):
            first = seen.get(job.name)
            if first is not None:
                if _key(first) == _key(job):
                    log.info("%s: given more than once; calibrated once", job.name)
                    continue
                job = FailedInput(job.name, AssociationError(_clash(job, first)))
            else:
                seen[job.name] = job
        out[i] = job
    return [out[i] for i in sorted(out)]


def _origin(e: Exposure) -> str:
    return f"{e.science} (from {e.source.name})" if e.source else str(e.science)


def _clash(job: Exposure, first: Exposure) -> str:
    if _key(job)[0] == _key(first)[0]:  # one science file, other members
        return (f"{_origin(job)}: product {job.name} is already made from the same science file "
                f"with other members{f' by {first.source.name}' if first.source else ''}")
    return f"{_origin(job)}: product name {job.name} is already used by {_origin(first)}"


def _key(e: Exposure):
    """What makes two exposures the same: resolved science path and members."""
    members = tuple(sorted((k, tuple(sorted(Path(p).resolve() for p in v))) for k, v in e.members.items()))
    return Path(e.science).resolve(), members


def process(inputs, options, jobs=None, scheduler=None, progress=None, resume=False, pm=None):
    """Calibrate every input; returns (results in input order, path of the run report).

    ``jobs``: local worker processes; None chooses from the number of exposures to
    calibrate and the cores (:func:`auto_jobs`).

    Raises OutputError, before any work, when the output folder cannot be created or
    written; every other problem fails only the exposure it concerns."""
    started, t0 = datetime.datetime.now().astimezone(), time.perf_counter()
    started_ns = time.time_ns()
    # absolute paths: workers may run in another folder or on another machine
    options = dataclasses.replace(options, output_dir=Path(options.output_dir).resolve())
    check_output_dir(options.output_dir)
    tag = f"{started:%Y%m%dT%H%M%S}-{secrets.token_hex(3)}-"
    work = unique_exposures(expand_inputs(inputs))

    fingerprints, results = {}, {}
    earlier_report = read_report(options.output_dir)  # its completed records are kept
    previous = _completed_entries(earlier_report) if resume else {}
    to_run = []
    for index, job in enumerate(work):
        if isinstance(job, FailedInput):
            results[index] = ExposureResult(job.name, error=str(job.error))
            log.info("%s: FAILED: %s", job.name, job.error)  # the summary shows it
            continue
        try:
            fingerprints[job.name] = fingerprint(job, options)
        except OSError:
            fingerprints[job.name] = None  # a missing file: the run reports it
        if resume and fingerprints[job.name] and resumable(previous.get(job.name), fingerprints[job.name]):
            results[index] = _resumed(previous[job.name])
            continue
        to_run.append((index, job))

    if progress is not None:
        progress.start(len(work))
        for result in results.values():
            progress.done(result)

    if pm is None:
        from spec2.plugins import get_plugin_manager

        pm = get_plugin_manager()
    if jobs is None:
        jobs = auto_jobs(len(to_run), default_jobs())
    if _on_workers(len(to_run), jobs, scheduler):
        to_run = _select_references(pm, to_run, options, results, progress)
    exposures = [job for _, job in to_run]
    engine = _engine_name(len(exposures), jobs, scheduler)
    log.info("spec2: %d exposure(s) to calibrate (%s)%s", len(exposures), engine,
             f", {len(results)} resumed or failed on input" if results else "")
    if pm is None:  # loaded here even if nothing runs: the report names the plugins' versions
        from spec2.plugins import get_plugin_manager

        pm = get_plugin_manager()
    try:
        ran = _run(exposures, options, jobs, scheduler, progress, tag, started_ns, pm)
    finally:
        _remove_staging(options.output_dir, tag)
        if progress is not None:
            progress.close()
    for (index, _), result in zip(to_run, ran):
        results[index] = result
    ordered = [results[i] for i in range(len(work))]
    report = build_report(ordered, fingerprints, started, time.perf_counter() - t0, engine, pm)
    carry_earlier(report, earlier_report)
    return ordered, write_report(report, options.output_dir)


def _on_workers(n, jobs, scheduler) -> bool:
    return bool(scheduler) or (jobs > 1 and n > 1)


def _engine_name(n, jobs, scheduler):
    if scheduler:
        return f"dask scheduler {scheduler}"
    if _on_workers(n, jobs, scheduler):
        return f"{min(jobs, n)} local worker processes"
    return "this process"


def _select_references(pm, to_run, options, results, progress):
    """Select the references of the exposures about to run on workers (workers only read
    the CRDS cache); an exposure CRDS fails for gets its result here. Returns the
    (index, exposure) pairs still to run."""
    from spec2.ref_selection import select_references

    log.info("spec2: selecting the reference files of %d exposure(s)", len(to_run))
    selected, failed = select_references(pm, [job for _, job in to_run], options)
    still = []
    for k, ((index, _), job) in enumerate(zip(to_run, selected)):
        if k in failed:
            results[index] = ExposureResult.of(job, error=failed[k])
            if progress is not None:
                progress.done(results[index])
        else:
            still.append((index, job))
    return still


def _run(exposures, options, jobs, scheduler, progress, tag, started_ns, pm):
    if not exposures:
        return []
    if not _on_workers(len(exposures), jobs, scheduler):
        return run_all(pm, exposures, options, progress, tag)

    import contextlib

    from distributed import Client

    from spec2.dask_engine import local_cluster, run_on_dask
    from spec2.pipeline import product_suffixes
    from spec2.plugins import step_definitions

    suffixes = product_suffixes(step_definitions(pm))
    # absolute science paths too (association members already are)
    exposures = [dataclasses.replace(e, science=Path(e.science).resolve()) for e in exposures]
    with contextlib.ExitStack() as stack:
        target = scheduler or stack.enter_context(local_cluster(min(jobs, len(exposures))))
        client = stack.enter_context(Client(target))
        return run_on_dask(client, exposures, options, progress, tag, started_ns, suffixes)


def _completed_entries(report) -> dict:
    """{name: record} of the exposures earlier runs completed (the latest record wins)."""
    entries = {}
    for entry in completed_records(report):
        entries.setdefault(entry["name"], entry)
    return entries


def _resumed(entry: dict) -> ExposureResult:
    """An earlier run's record, carried into this run's report as it was."""
    steps = [StepRecord(s["step"], s["status"], s["seconds"], s.get("reference_files", {})) for s in entry.get("steps", [])]
    return ExposureResult(
        entry["name"], products=[Path(p["path"]) for p in entry["products"]], steps=steps,
        seconds=entry.get("wall_seconds", 0.0), science=entry.get("science"),
        association=entry.get("association"), worker=entry.get("worker"), resumed=True,
        warnings=list(entry.get("warnings") or []), crds_context=entry.get("crds_context"),
        crds_parameters=entry.get("crds_parameters"),
    )


def _remove_staging(output_dir: Path, tag: str):
    """Staging folders of this run left by a worker that stopped in the middle of a write."""
    for path in output_dir.glob(f"{STAGING_PREFIX}{tag}*"):
        shutil.rmtree(path, ignore_errors=True)
