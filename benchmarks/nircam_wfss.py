"""spec2 against jwst 3.0.0 on the same simulated NIRCam WFSS exposure (NRC_WFSS).

    python benchmarks/nircam_wfss.py [--repeats 2] [--sources 300] [--work DIR] [--out docs/benchmarks.md]

One full-frame F444W/GRISMR exposure of a crowded field (``--sources`` sources, about
95 % with a trace on the detector), calibrated from its association (science + source
catalog) to ``_cal`` and ``_x1d``; one worker on each side, commands run alternately,
whole processes timed with GNU time.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import compare, emptied, pipeline_pair, write_between

BIN = Path(sys.executable).parent
MARK_BEGIN, MARK_END = "<!-- nircam-wfss-begin -->", "<!-- nircam-wfss-end -->"
HEADING = "## NIRCam WFSS"


def prepare_data(work: Path, n_sources):
    from spec2.crds_cache import LocalCache, crds_environment
    from spec2_nircam.simulate_wfss import simulate_wfss

    ready = work / "ready.json"
    if ready.exists() and json.loads(ready.read_text()).get("sources") == n_sources:
        return json.loads(ready.read_text()), crds_environment(work / "crds")
    cache = LocalCache(work / "crds")
    out = simulate_wfss(work / "data", cache, n_sources=n_sources)
    cache.finish()
    paths = {"asn": str(out["asn"]), "data": str(Path(out["asn"]).parent), "sources": n_sources}
    ready.write_text(json.dumps(paths))
    return paths, crds_environment(work / "crds")


def render(rows, repeats, n_sources, n_slits):
    lines = [
        f"Median of {repeats} alternating runs; wall time of the whole process; peak RSS.",
        "",
        "| case | jwst 3.0.0 | spec2 | jwst/spec2 | peak MB jwst / spec2 |",
        "|---|---:|---:|---:|---:|",
    ]
    for _name, j, s, ratio, jm, sm, _n in rows:
        lines.append(f"| full-frame F444W/GRISMR, {n_sources} catalog sources ({n_slits} cut-outs) | {j:.1f} s | "
                     f"{s:.1f} s | **{ratio:.1f}×** | {jm:.0f} / {sm:.0f} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--sources", type=int, default=300)
    parser.add_argument("--work", type=Path, default=Path("/tmp/spec2-bench-nrc-wfss"))
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    paths, env = prepare_data(args.work, args.sources)
    env = {**env, "SPEC2_DISABLE_PLUGINS": "example_outliers"}
    out = {"jwst": args.work / "out_jwst", "spec2": args.work / "out_spec2"}
    cases = {"wfss": pipeline_pair(paths["asn"], env, paths["data"], out["jwst"], out["spec2"], BIN)}
    rows = compare(cases, ["wfss"], args.repeats, emptied(out.values()), {"wfss": 1})
    from stdatamodels.jwst import datamodels

    with datamodels.open(next(out["spec2"].glob("*_cal.fits"))) as cal:
        n_slits = len(cal.slits)
    table = render(rows, args.repeats, args.sources, n_slits)
    print(table)
    if args.out:
        write_between(args.out, MARK_BEGIN, MARK_END, table, HEADING)


if __name__ == "__main__":
    main()
