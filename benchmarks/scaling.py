"""Many exposures: spec2 with its default worker count, 1, 2 and 4 local worker
processes and on a Dask cluster, against jwst 3.0.0 looping over the same exposures (as
its users do today); and a small batch (one nod pair), where starting workers costs more
than they save.

    python benchmarks/scaling.py [--repeats 3] [--work DIR] [--out docs/benchmarks.md]

Data: 32 simulated MIRI LRS fixed-slit exposures, as 16 nod-pair associations (each
exposure's background is its partner). Each command is a whole process timed with GNU
time; runs alternate between the commands. The Dask cluster (a scheduler and two worker
processes on loopback) is started before the runs and kept: its start-up is not in its
figures, as for a cluster a user already has. What a local cluster's start costs (the
scheduler and two workers, each importing what a calibration needs) is measured apart,
against the time of one exposure: these two figures set spec2.batch.EXPOSURES_PER_WORKER.

Prints Markdown tables (and writes them into --out between the scaling markers).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import alternate, emptied, write_between

from spec2.batch import EXPOSURES_PER_WORKER, auto_jobs, default_jobs

BIN = Path(sys.executable).parent
PAIRS = 16
MARK_BEGIN, MARK_END = "<!-- scaling-begin -->", "<!-- scaling-end -->"
DEFAULT_BEGIN, DEFAULT_END = "<!-- workers-default-begin -->", "<!-- workers-default-end -->"


def prepare_data(work: Path):
    from spec2.association import write_nod_association
    from spec2.crds_cache import LocalCache, crds_environment
    from spec2_miri.sim.lrs import fixed_slit_exposure
    from spec2_miri.sim.references import write_reference_set

    data = work / "data"
    ready = work / "ready.json"
    if ready.exists():
        return json.loads(ready.read_text()), crds_environment(work / "crds")
    data.mkdir(parents=True, exist_ok=True)
    cache = LocalCache(work / "crds")
    write_reference_set(cache)
    cache.finish()
    asns = []
    for pair in range(PAIRS):
        nods = [
            fixed_slit_exposure(data / f"jw01234{pair + 1:03d}001_0310{i + 1}_00001_mirimage_rate.fits",
                                offset, seed=300 + 2 * pair + i)
            for i, offset in enumerate((-1.5, 1.5))
        ]
        names = [p.name.replace("_rate.fits", "") for p in nods]
        asns.append(str(write_nod_association(data / f"jw01234-a{pair + 1:04d}_spec2_00001_asn.json", nods, names)))
    paths = {"asns": asns, "data": str(data)}
    ready.write_text(json.dumps(paths))
    return paths, crds_environment(work / "crds")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path("/tmp/spec2-bench-scaling"))
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--no-jwst", action="store_true", help="leave jwst out (it takes longest)")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    paths, env = prepare_data(args.work)
    env = {**env, "SPEC2_DISABLE_PLUGINS": "example_outliers"}
    data, asns = paths["data"], [Path(a).name for a in paths["asns"]]

    # the cluster's workers take the CRDS settings from the environment they start in
    os.environ.update(env)
    import dask
    from distributed import LocalCluster

    from spec2.dask_engine import LOCAL_SCHEDULER_CONFIG

    with dask.config.set(LOCAL_SCHEDULER_CONFIG):
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=":0")
    outs = {}
    cases = {}

    def spec2(label, *extra):
        outs[label] = args.work / f"out_{label.replace(' ', '_')}"
        cases[label] = ([BIN / "spec2", "process", *asns, "-o", outs[label], "-q", *extra], env, data)

    if not args.no_jwst:
        # jwst's users loop over the associations, one strun per association
        outs["jwst"] = args.work / "out_jwst"
        loop = "; ".join(f"{BIN / 'strun'} calwebb_spec2 {a} --output_dir {outs['jwst']} >/dev/null 2>&1" for a in asns)
        cases["jwst"] = (["bash", "-c", f"set -e; {loop}"], env, data)
    spec2("spec2 (default)")
    spec2("spec2 -j 1", "-j", "1")
    spec2("spec2 -j 2", "-j", "2")
    spec2("spec2 -j 4", "-j", "4")
    spec2("spec2 on a Dask cluster (2 workers)", "--scheduler", cluster.scheduler_address)
    # a small batch: one nod pair
    small = {}
    for label, extra in (("spec2 (default)", ()), ("spec2 -j 1", ("-j", "1")), ("spec2 -j 2", ("-j", "2"))):
        outs[f"small {label}"] = args.work / f"out_small_{label.replace(' ', '_')}"
        small[label] = ([BIN / "spec2", "process", asns[0], "-o", outs[f"small {label}"], "-q", *extra], env, data)
    try:
        series = alternate(cases, args.repeats, prepare=emptied(outs.values()))
        small_series = alternate(small, args.repeats, prepare=emptied(outs.values()))
    finally:
        cluster.close()
    start = cluster_start_seconds(args.repeats)
    table = render(series, args.repeats)
    default = "\n\n".join([render_small(small_series, args.repeats),
                            render_start(start, series["spec2 -j 1"].median_seconds / (2 * PAIRS))])
    print(table + "\n\n" + default)
    if args.out:
        write_between(args.out, MARK_BEGIN, MARK_END, table,
                      heading="## Many exposures: worker processes and a Dask cluster")
        write_between(args.out, DEFAULT_BEGIN, DEFAULT_END, default,
                      heading="### The default worker count")


def _ready():
    """On a worker: what its first exposure would otherwise wait for (the plugins and
    the datamodels loaded)."""
    from stdatamodels.jwst import datamodels  # noqa: F401

    from spec2.dask_engine import worker_plugin_manager

    worker_plugin_manager()


def cluster_start_seconds(repeats) -> float:
    """Median seconds from nothing to a local cluster of two workers ready to calibrate,
    as ``spec2 process -j 2`` starts one."""
    import statistics
    import time

    from distributed import Client

    from spec2.dask_engine import local_cluster

    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        with local_cluster(2) as cluster, Client(cluster) as client:
            client.run(_ready)
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def render_small(series, repeats):
    one = series["spec2 -j 1"].median_seconds
    lines = [
        (f"A small batch: one nod pair (2 exposures); median of {repeats} alternating runs. "
         f"The default runs {auto_jobs(2, default_jobs())} process(es) here."),
        "",
        "| command | wall time | speed-up over spec2 -j 1 |",
        "|---|---:|---:|",
    ]
    for label, ser in series.items():
        lines.append(f"| `{label}` | {ser.median_seconds:.1f} s | {one / ser.median_seconds:.2f}× |")
    return "\n".join(lines)


def render_start(start, per_exposure):
    return (
        f"Starting a local cluster of two workers ready to calibrate: {start:.1f} s, against "
        f"{per_exposure:.2f} s per exposure in one process (32-exposure `-j 1` run / 32): the "
        f"start-up is worth {start / per_exposure:.1f} exposures. The default (spec2.batch.auto_jobs) "
        f"starts workers only when each gets {EXPOSURES_PER_WORKER} exposures or more: on two cores, "
        f"from {2 * EXPOSURES_PER_WORKER} exposures."
    )


def render(series, repeats):
    one = series["spec2 -j 1"].median_seconds
    n = 2 * PAIRS
    lines = [
        (f"{n} MIRI LRS fixed-slit exposures (16 nod-pair associations) on this 2-core machine; "
         f"median of {repeats} alternating runs, wall time of the whole command; peak RSS of its "
         "largest single process (the client, or jwst's one process; each spec2 worker is a "
         "further process of similar size)."),
        "",
        "| command | wall time | per exposure | speed-up over spec2 -j 1 | jwst / this | peak MB |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    jwst = series["jwst"].median_seconds if "jwst" in series else None
    for label, ser in series.items():
        t = ser.median_seconds
        speedup = "—" if label == "jwst" else f"{one / t:.2f}×"
        if label == "spec2 (default)":
            label = f"spec2 (default: {auto_jobs(n, default_jobs())} process(es) for {n})"
        vs = "—" if jwst is None or label == "jwst" else f"**{jwst / t:.1f}×**"
        name = "jwst 3.0.0, one `strun` per association" if label == "jwst" else f"`{label}`"
        lines.append(f"| {name} | {t:.1f} s | {t / n:.2f} s | {speedup} | {vs} | {ser.peak_mb:.0f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
