"""Running exposures on Dask workers: local worker processes or a Dask distributed cluster.

One exposure is one task: :func:`calibrate_on_worker` calibrates it and writes its
products from the worker, so only a small :class:`~spec2.pipeline.ExposureResult`
travels back. Exposures are independent by construction (an exposure's background and
imprint members are read from their own rate files, never from another exposure's
products), so any number of workers gives the same products as one.

Workers tell the client which step each exposure is in through Dask's event log
(``Worker.log_event`` / ``Client.subscribe_topic``), for the progress display.

A worker that dies in the middle of an exposure (killed, out of memory) fails that
exposure: the local cluster is created with ``allowed-failures = 0`` so that the
scheduler does not retry it on another worker (a task that kills its worker once is
likely to do it again), and with ``worker-saturation = 1`` so that no other exposure
waits in that worker's queue and dies with it; a user's own cluster keeps its own
settings. What the worker had staged is removed by the client when the run ends.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger("spec2")

_WORKER_PM = None  # the worker process's plugin manager, loaded once


def worker_plugin_manager():
    """This process's plugin manager for worker tasks, loaded from entry points once (a
    Dask WorkerPlugin may register extra plugins into it)."""
    global _WORKER_PM
    if _WORKER_PM is None:
        from spec2.plugins import get_plugin_manager

        # A worker may run several exposures at once in threads, so the per-assignment
        # schema check is turned off once for the worker's life, not switched per
        # exposure (see spec2.pipeline._no_validation_on_assignment).
        os.environ.setdefault("VALIDATE_ON_ASSIGNMENT", "false")
        # Outcomes travel back in results and events; worker logs would only interleave
        # with the client's display. A step's warnings are captured into its exposure's
        # result (spec2.messages); Python's and the CRDS client's are folded into the
        # spec2 logger so that they are captured too, rather than written to the
        # terminal the worker shares with the client.
        from spec2.messages import log_python_warnings, route_crds

        logger = logging.getLogger("spec2")
        logger.handlers[:] = [logging.NullHandler()]
        logger.propagate = False
        logger.setLevel(logging.WARNING)
        log_python_warnings()
        route_crds(logging.WARNING)
        _WORKER_PM = get_plugin_manager()
    return _WORKER_PM


def calibrate_on_worker(exposure, options, topic, tag):
    """The task: calibrate one exposure and write its products; returns its result."""
    from distributed import get_worker

    from spec2.pipeline import calibrate_exposure
    from spec2.plugins import step_definitions

    worker = get_worker()
    pm = worker_plugin_manager()
    stepdefs = step_definitions(pm)  # a hook call: follows any plugin registered since

    def on_step(name, step):
        worker.log_event(topic, {"name": name, "step": step})

    result = calibrate_exposure(pm, exposure, options, stepdefs, on_step, tag)
    result.worker = worker.address
    return result


#: A local cluster's scheduler: no retry of an exposure whose worker died in it, and no
#: exposure queued on a worker behind a running one (it would be failed with it).
LOCAL_SCHEDULER_CONFIG = {
    "distributed.scheduler.allowed-failures": 0,
    "distributed.scheduler.worker-saturation": 1.0,
}


def local_cluster(n_workers: int):
    """Local worker processes (one thread each) and a scheduler on loopback. The
    scheduler's HTTP server (health checks; the dashboard if bokeh is installed) takes a
    free port: with no address it would ask for 8787 and warn when that is taken."""
    import dask
    from distributed import LocalCluster

    with dask.config.set(LOCAL_SCHEDULER_CONFIG):
        return LocalCluster(
            n_workers=n_workers, threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address=":0", silence_logs=logging.ERROR,
        )


def run_on_dask(client, exposures, options, progress, tag, started_ns, suffixes):
    """Submit every exposure and collect the results in input order.

    ``exposures``: list of spec2.association.Exposure; the returned list matches it.
    ``suffixes``: the product suffixes to clear after a worker died (product_suffixes).
    """
    from distributed import as_completed

    from spec2.pipeline import ExposureResult

    topic = f"spec2-progress-{tag}"
    if progress is not None:
        client.subscribe_topic(topic, lambda event: progress.step(event[1]["name"], event[1]["step"]))
    futures = {}
    for index, exposure in enumerate(exposures):
        future = client.submit(
            calibrate_on_worker, exposure, options, topic, tag,
            key=f"spec2-{tag}-{index}-{exposure.name}", pure=False,
        )
        futures[future] = index
    results: list = [None] * len(exposures)
    for future in as_completed(futures):
        index = futures[future]
        exposure = exposures[index]
        try:
            result = future.result()
            # the worker need not keep it: a result it holds would be recalculated
            # (products rewritten) if that worker died later in the run
            future.release()
        except Exception as exc:  # the worker died or the task could not run there
            result = ExposureResult.of(
                exposure, error=f"{exposure.science}: the worker running it stopped ({type(exc).__name__}: {exc})",
            )
            remove_partial_products(exposure.name, options.output_dir, started_ns, suffixes)
            log.info("%s: FAILED: %s", result.name, result.error)
        # the worker's logger was silent: its warnings are shown here, with the name
        for text in result.warnings:
            log.warning("%s: %s", result.name, text)
        results[index] = result
        if progress is not None:
            progress.done(result)
    if progress is not None:
        client.unsubscribe_topic(topic)
    return results


def remove_partial_products(name, output_dir, started_ns, suffixes):
    """After a worker died in the middle of an exposure's writes, remove the products of
    that exposure it had already moved into place in this run (a moved file keeps the
    modification time it got when it was staged, after ``started_ns``)."""
    output_dir = Path(output_dir)
    for suffix in sorted(suffixes):
        path = output_dir / f"{name}_{suffix}.fits"
        try:
            if path.stat().st_mtime_ns >= started_ns:
                path.unlink()
                log.warning("%s: removed %s, written by the stopped worker", name, path.name)
        except FileNotFoundError:
            pass
