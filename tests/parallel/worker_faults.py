"""A Dask WorkerPlugin that makes a worker process die in the middle of one exposure, to
test what a run does when a worker is killed (out of memory, preempted node, kill -9).

It registers, in each worker's spec2 plugin manager, a hook wrapper around the flat-field
step that sends SIGKILL to its own process when the exposure's file name contains
``marker``. The module is pickled by value, so workers need not import it.
"""

import os
import signal

from distributed.diagnostics.plugin import WorkerPlugin

from spec2 import hookimpl


class _KillOnMarker:
    def __init__(self, marker):
        self.marker = marker

    @hookimpl(wrapper=True)
    def flat(self, model):
        if self.marker in (model.meta.filename or ""):
            os.kill(os.getpid(), signal.SIGKILL)
        return (yield)


class KillWorkerOn(WorkerPlugin):
    """``client.register_plugin(KillWorkerOn("_00003_"))``: also applies to restarted workers."""

    name = "spec2-test-kill-worker"

    def __init__(self, marker):
        self.marker = marker

    def setup(self, worker):
        from spec2.dask_engine import worker_plugin_manager

        worker_plugin_manager().register(_KillOnMarker(self.marker), name="spec2-test-killer")

    def teardown(self, worker):
        from spec2.dask_engine import worker_plugin_manager

        worker_plugin_manager().unregister(name="spec2-test-killer")
