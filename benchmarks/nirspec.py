"""spec2 against jwst 3.0.0 on the same simulated NIRSpec exposures.

    python benchmarks/nirspec.py [--repeats 3] [--work DIR] [--out docs/benchmarks.md]

Cases (one worker on each side, commands run alternately, whole processes timed with
GNU time as a user runs them):

* fs_batch:  10 full-frame fixed-slit exposures (all five slits, G235H on NRS1), one
             association of 10 products; ``strun calwebb_spec2 asn.json`` against
             ``spec2 process asn.json``
* fs_single: one of them on its own
* bots:      a bright-object time series on SUB2048 (G395H, S1600A1) of 30 and 300
             integrations, spec2 and jwst each beside the floor (floor.py, via tso.py)
* fs_batch with ``--parallel``: also ``spec2 process asn.json -j 2`` (two local worker
             processes), against the same jwst runs

Prints a Markdown table (and writes it into --out between the NIRSpec markers).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tso as tso_bench
from measure import alternate, emptied, pipeline_pair, run_measured, write_between

BIN = Path(sys.executable).parent
N_FS = 10
MARK_BEGIN, MARK_END = "<!-- nirspec-begin -->", "<!-- nirspec-end -->"
BOTS_BEGIN, BOTS_END = "<!-- nirspec-bots-begin -->", "<!-- nirspec-bots-end -->"


def prepare_data(work: Path):
    from spec2.crds_cache import LocalCache, crds_environment
    from spec2_nirspec.sim.exposures import (
        Setup,
        simulate_exposure,
        write_references,
    )

    if (work / "ready.json").exists():
        return json.loads((work / "ready.json").read_text()), crds_environment(work / "crds")
    data = work / "data"
    data.mkdir(parents=True, exist_ok=True)
    cache = LocalCache(work / "crds")
    refs = write_references(cache)
    cache.finish()
    fs = []
    for i in range(N_FS):
        setup = Setup(grating="G235H", detector="NRS1", primary="S200A1", xpos=0.1 * (i % 3 - 1), seed=100 + i)
        path, _ = simulate_exposure(data / f"jw02345{i + 1:03d}001_03101_00001_nrs1_rate.fits", setup, refs)
        fs.append(path)
    asn = {"asn_type": "spec2", "asn_rule": "Asn_Lv2Spec", "asn_id": "a3001", "asn_pool": "bench",
           "program": "02345", "products": [
               {"name": p.name.replace("_rate.fits", ""), "members": [{"expname": p.name, "exptype": "science"}]}
               for p in fs]}
    batch = data / "fs_batch_spec2_asn.json"
    batch.write_text(json.dumps(asn, indent=1))
    paths = {"fs_batch": str(batch), "fs_single": str(fs[0]), "data": str(data)}
    (work / "ready.json").write_text(json.dumps(paths))
    return paths, crds_environment(work / "crds")


def prepare_bots(work: Path):
    """{nints: _rateints path} of the BOTS transit series (30 and 300 integrations) and
    the CRDS environment; cached in ``work`` (its own references, no fixed-slit data)."""
    import numpy as np

    from spec2.crds_cache import LocalCache, crds_environment
    from spec2_nirspec.sim.exposures import (
        Setup,
        simulate_exposure,
        transit,
        write_references,
    )

    data = work / "data"
    data.mkdir(parents=True, exist_ok=True)
    paths = {n: data / f"jw02345099001_0410{i + 1}_00001-seg001_nrs1_rateints.fits"
             for i, n in enumerate(tso_bench.LENGTHS)}
    if not all(p.exists() for p in paths.values()):
        cache = LocalCache(work / "crds")
        refs = write_references(cache, detectors=("NRS1",))
        cache.finish()
        for nints, p in paths.items():
            setup = Setup(grating="G395H", detector="NRS1", subarray="SUB2048", primary="S1600A1",
                          exp_type="NRS_BRIGHTOBJ", nints=nints, seed=7)
            curve = transit(np.arange(nints) / nints, 0.5, 0.4, 0.01, 0.08)
            simulate_exposure(p, setup, refs, light_curve=curve)
    paths = {n: str(p) for n, p in paths.items()}
    return paths, crds_environment(work / "crds")


def commands(paths, env, work: Path):
    """{case: {"jwst"|"spec2"|"floor": command}} and the output folders. The floor of a
    case reads the reference files a spec2 run of it used (one spec2 run first, for its
    report), then reads each rate file and writes its arrays with astropy alone."""
    data = paths["data"]
    out = {"jwst": work / "out_jwst", "spec2": work / "out_spec2", "floor": work / "out_floor"}
    for folder in out.values():
        folder.mkdir(parents=True, exist_ok=True)

    cases = {name: pipeline_pair(paths[name], env, data, out["jwst"], out["spec2"], BIN)
             for name in ("fs_batch", "fs_single")}
    run_measured(cases["fs_single"]["spec2"][0], env, data)
    refs = tso_bench.references_used(out["spec2"] / "spec2_report.json", env["CRDS_PATH"])
    rates = {"fs_single": [paths["fs_single"]], "fs_batch": sorted(str(p) for p in Path(data).glob("*_rate.fits"))}
    for name, inputs in rates.items():
        cases[name]["floor"] = ([sys.executable, tso_bench.FLOOR, "--inputs", *inputs, "--out-dir", out["floor"],
                                 "--refs", *refs], env, data)
    return cases, out


def measure(cases, names, repeats, prepare):
    """Table rows (name, jwst s, spec2 s, ratio, jwst MB, spec2 MB, exposures, floor s):
    the three commands of each case run alternately."""
    rows = []
    for name in names:
        series = alternate(cases[name], repeats, prepare=prepare)
        j, s, f = (series[k] for k in ("jwst", "spec2", "floor"))
        rows.append((name, j.median_seconds, s.median_seconds, j.median_seconds / s.median_seconds,
                     j.peak_mb, s.peak_mb, PER_EXPOSURE[name], f.median_seconds))
        print(f"{name}: jwst {j.median_seconds:.2f} s, spec2 {s.median_seconds:.2f} s, "
              f"floor {f.median_seconds:.2f} s, peak MB {j.peak_mb:.0f}/{s.peak_mb:.0f}", flush=True)
    return rows


LABELS = {
    "fs_batch": f"{N_FS} full-frame fixed-slit exposures (5 slits each), one association",
    "fs_single": "one full-frame fixed-slit exposure",
}
PER_EXPOSURE = {"fs_batch": N_FS, "fs_single": 1}


def render(rows, repeats, parallel=None):
    lines = [
        f"Median of {repeats} alternating runs; wall time of the whole process; peak RSS.",
        "",
        ("| case | floor | jwst 3.0.0 | spec2 | jwst/spec2 | spec2/floor | per exposure jwst / spec2 "
         "| peak MB jwst / spec2 |"),
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, j, s, ratio, jm, sm, n, f in rows:
        lines.append(f"| {LABELS[name]} | {f:.1f} s | {j:.1f} s | {s:.1f} s | **{ratio:.1f}×** | {s / f:.1f}× "
                     f"| {j / n:.2f} / {s / n:.2f} s | {jm:.0f} / {sm:.0f} |")
    by = {r[0]: r for r in rows}
    if "fs_batch" in by and "fs_single" in by:
        n = N_FS
        j, s, f = ((by["fs_batch"][k] - by["fs_single"][k]) / (n - 1) for k in (1, 2, 7))
        lines += ["", (f"The three figures of the fixed-slit batch: fixed start-up (single - marginal) "
                      f"jwst {by['fs_single'][1] - j:.2f} s, spec2 {by['fs_single'][2] - s:.2f} s, floor "
                      f"{by['fs_single'][7] - f:.2f} s; marginal cost of one more exposure, (batch - single)/{n - 1}: "
                      f"jwst {j:.2f} s, spec2 {s:.2f} s, floor {f:.2f} s: **{j / s:.1f}×** jwst's, "
                      f"{s / f:.1f}× the floor's.")]
    if parallel is not None and "fs_batch" in by:
        j = by["fs_batch"][1]
        t = parallel.median_seconds
        lines += ["", (f"The same {N_FS}-exposure batch with two local worker processes (`-j 2`; "
                      f"jwst has no such option): {t:.1f} s, "
                      f"{t / N_FS:.2f} s per exposure, **{j / t:.1f}×** jwst's; peak RSS of the largest "
                      f"process {parallel.peak_mb:.0f} MB (each worker is its own process).")]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path("/tmp/spec2-bench-nirspec"))
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--cases", default="fs_single,fs_batch,bots")
    parser.add_argument("--parallel", action="store_true", help="also time the FS batch with -j 2")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    names = args.cases.split(",")
    if "bots" in names:
        names.remove("bots")
        bots, benv = prepare_bots(args.work / "bots")
        benv = {**benv, "SPEC2_DISABLE_PLUGINS": "example_outliers"}
        results = tso_bench.measure_lengths(bots, benv, str(args.work / "bots" / "data"), args.work / "bots",
                                            args.repeats)
        table = tso_bench.render("BOTS SUB2048 G395H/S1600A1", results, args.repeats)
        print(table)
        if args.out:
            write_between(args.out, BOTS_BEGIN, BOTS_END, table, "### BOTS against the floor")
    if not names:
        return
    paths, env = prepare_data(args.work)
    env = {**env, "SPEC2_DISABLE_PLUGINS": "example_outliers"}
    cases, outdirs = commands(paths, env, args.work)

    rows = measure(cases, names, args.repeats, emptied(outdirs.values()))
    parallel = None
    if args.parallel:
        cmd, cenv, cwd = cases["fs_batch"]["spec2"]
        cmd = [*cmd[: cmd.index("-j")], "-j", "2"]
        parallel = alternate({"j2": (cmd, cenv, cwd)}, args.repeats, prepare=emptied(outdirs.values()))["j2"]
        print(f"fs_batch -j 2: {parallel.median_seconds:.2f} s", flush=True)
    table = render(rows, args.repeats, parallel)
    print(table)
    if args.out:
        write_between(args.out, MARK_BEGIN, MARK_END, table, heading="## NIRSpec fixed slit and BOTS")

if __name__ == "__main__":
    main()
