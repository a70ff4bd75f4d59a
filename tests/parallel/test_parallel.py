"""Parallel and distributed runs on real MIRI LRS exposures: local worker processes and a
real Dask scheduler with workers on loopback. Products must be identical whatever the
engine; a worker killed in the middle of an exposure fails that exposure alone."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .compare import product_differences

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    """A nod association (two exposures), four more fixed-slit exposures and a short
    slitless series, with their local CRDS cache."""
    from spec2.crds_cache import LocalCache, crds_environment
    from spec2_miri.sim.lrs import fixed_slit_exposure, simulate_lrs

    root = tmp_path_factory.mktemp("parallel")
    cache = LocalCache(root / "crds")
    out = simulate_lrs(root / "data", cache, nints=10)
    cache.finish()
    singles = [
        fixed_slit_exposure(root / "data" / f"jw02000001001_01101_{i + 1:05d}_mirimage_rate.fits",
                            1.0 if i % 2 else -1.0, seed=40 + i)
        for i in range(4)
    ]
    inputs = [str(out["asn"]), *map(str, singles), str(out["tso"])]
    return {"root": root, "inputs": inputs, "singles": singles, "env": crds_environment(root / "crds")}


def spec2(sim, *args, env=None):
    """``spec2 process ARGS`` with the simulation's CRDS settings; a SPEC2_SCHEDULER of the
    caller's own environment is not passed on unless ``env`` sets it."""
    exe = str(Path(sys.executable).parent / "spec2")
    full_env = {k: v for k, v in os.environ.items() if k != "SPEC2_SCHEDULER"}
    full_env.update(sim["env"])
    full_env.update(env or {})
    return subprocess.run([exe, "process", *map(str, args)], env=full_env, capture_output=True, text=True,
                          check=False)


@pytest.fixture(scope="module")
def serial(sim):
    out = sim["root"] / "serial"
    res = spec2(sim, *sim["inputs"], "-o", out, "-j", "1", "-q")
    assert res.returncode == 0, res.stderr
    return out


@pytest.fixture(scope="module")
def crds_env_for_workers(sim):
    """Workers of a cluster read CRDS settings from their own environment."""
    saved = {k: os.environ.get(k) for k in sim["env"]}
    os.environ.update(sim["env"])
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def start_cluster(n_workers=2):
    """A real scheduler and worker processes on loopback, configured as spec2 configures
    its own local cluster."""
    import dask
    from distributed import LocalCluster

    from spec2.dask_engine import LOCAL_SCHEDULER_CONFIG

    with dask.config.set(LOCAL_SCHEDULER_CONFIG):
        return LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                            dashboard_address=":0", silence_logs=logging.ERROR)


@pytest.fixture(scope="module")
def cluster(crds_env_for_workers):
    cluster = start_cluster()
    yield cluster
    cluster.close()


def report_of(out):
    return json.loads((Path(out) / "spec2_report.json").read_text())


def test_local_worker_processes_give_identical_products(sim, serial, tmp_path):
    out = tmp_path / "jobs2"
    res = spec2(sim, *sim["inputs"], "-o", out, "-j", "2")
    assert res.returncode == 0, res.stderr
    assert product_differences(serial, out) == []
    report = report_of(out)
    assert report["engine"] == "2 local worker processes"
    workers = {e["worker"] for e in report["exposures"]}
    assert all(w.startswith("tcp://127.0.0.1:") for w in workers)
    # not on a terminal: plain progress lines, one per exposure
    assert sum("exposures," in line for line in res.stderr.splitlines()) == 7


def test_dask_cluster_gives_identical_products(sim, serial, cluster, tmp_path):
    out = tmp_path / "dask"
    res = spec2(sim, *sim["inputs"], "-o", out, "--scheduler", cluster.scheduler_address, "-q")
    assert res.returncode == 0, res.stderr
    assert product_differences(serial, out) == []
    report = report_of(out)
    assert report["engine"] == f"dask scheduler {cluster.scheduler_address}"
    assert {e["worker"] for e in report["exposures"]} <= set(cluster.scheduler_info["workers"])
    assert report["summary"]["ok"] == 7


def test_scheduler_from_the_environment(sim, cluster, tmp_path):
    out = tmp_path / "env"
    res = spec2(sim, sim["singles"][0], "-o", out, "-q", env={"SPEC2_SCHEDULER": cluster.scheduler_address})
    assert res.returncode == 0, res.stderr
    assert report_of(out)["engine"] == f"dask scheduler {cluster.scheduler_address}"


def test_workers_report_each_step_to_the_client(sim, cluster, tmp_path):
    from spec2.batch import process
    from spec2.pipeline import RunOptions
    from spec2.progress import LogProgress

    class Recorder(LogProgress):
        def __init__(self):
            super().__init__()
            self.events = []

        def _changed(self):
            self.events.append(dict(self.running))

    progress = Recorder()
    results, _ = process(sim["inputs"][1:3], RunOptions(tmp_path / "out"), scheduler=cluster.scheduler_address,
                         progress=progress)
    assert all(r.ok for r in results)
    assert progress.finished == 2
    seen = {step for event in progress.events for step in event.values()}
    assert {"assign_wcs", "flat_field", "photom", "resample_spec", "extract_1d"} <= seen


def test_killed_worker_fails_its_exposure_alone(sim, serial, crds_env_for_workers, tmp_path):
    """SIGKILL a worker in the middle of one exposure: that exposure is reported failed,
    the others complete (identical to the serial run), the exit status is 1, and nothing of
    the killed exposure is left in the output folder."""
    import cloudpickle
    from distributed import Client

    from . import worker_faults

    cloudpickle.register_pickle_by_value(worker_faults)
    doomed = Path(sim["singles"][2]).name.replace("_rate.fits", "")
    with start_cluster() as cluster, Client(cluster) as client:
        client.register_plugin(worker_faults.KillWorkerOn(doomed))
        out = tmp_path / "killed"
        res = spec2(sim, *sim["inputs"], "-o", out, "--scheduler", cluster.scheduler_address, "-q")
    assert res.returncode == 1, res.stderr
    failed = [line for line in res.stderr.splitlines() if line.startswith("FAILED")]
    assert len(failed) == 1 and doomed in failed[0] and "worker" in failed[0], res.stderr
    assert "6 of 7 exposure(s) calibrated, 1 failed" in res.stderr
    names = sorted(p.name for p in out.iterdir())
    assert not any(n.startswith(doomed) for n in names)
    assert not any(n.startswith(".spec2") for n in names)  # no staging folder left
    entry = {e["name"]: e for e in report_of(out)["exposures"]}[doomed]
    assert entry["status"] == "failed" and entry["products"] == []
    # the other six exposures are exactly what the serial run made
    expected = serial.parent / "serial-without-doomed"
    expected.mkdir(exist_ok=True)
    for p in serial.glob("*.fits"):
        if not p.name.startswith(doomed):
            target = expected / p.name
            if not target.exists():
                target.symlink_to(p)
    assert product_differences(expected, out) == []


def test_resume_after_a_failed_run_recalculates_only_what_is_missing(sim, serial, tmp_path):
    out = tmp_path / "resume"
    res = spec2(sim, *sim["inputs"], "-o", out, "-j", "1", "-q")
    assert res.returncode == 0
    victim = Path(sim["singles"][1]).name.replace("_rate.fits", "")
    (out / f"{victim}_x1d.fits").unlink()
    res = spec2(sim, *sim["inputs"], "-o", out, "-j", "2", "--resume", "-q")
    assert res.returncode == 0, res.stderr
    assert "7 of 7 exposure(s) calibrated (6 resumed from an earlier run); 3 product(s) written" in res.stderr
    statuses = {e["name"]: e["status"] for e in report_of(out)["exposures"]}
    assert statuses.pop(victim) == "ok" and set(statuses.values()) == {"resumed"}
    assert product_differences(serial, out) == []


def test_live_progress_line_on_a_terminal(sim, tmp_path):
    """On a terminal (a pseudo-terminal here) the status line is redrawn in place and
    shows the counts and the step; the summary follows it on its own line."""
    import pty
    import select

    master, slave = pty.openpty()
    exe = str(Path(sys.executable).parent / "spec2")
    env = {k: v for k, v in os.environ.items() if k != "SPEC2_SCHEDULER"} | sim["env"]
    proc = subprocess.Popen([exe, "process", *map(str, sim["singles"][:2]), "-o", str(tmp_path / "tty"), "-j", "1"],
                            env=env, stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 120)
        if not ready:
            break
        try:
            data = os.read(master, 4096)
        except OSError:  # the child closed its end
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=120)
    os.close(master)
    text = b"".join(chunks).decode(errors="replace")
    assert proc.returncode == 0, text
    assert "\r\x1b[2K" in text  # redrawn in place
    assert "0/2 exposures" in text and "2/2 exposures" in text
    assert "flat_field" in text  # the running exposure's current step
    assert "spec2: 2 of 2 exposure(s) calibrated" in text
