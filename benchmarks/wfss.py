"""spec2 against jwst 3.0.0 on the same simulated WFSS exposure (NIS_WFSS or NRC_WFSS).

    python benchmarks/wfss.py --instrument niriss|nircam [--repeats 2] [--sources 300] [--work DIR]
                              [--out docs/benchmarks.md]

One full-frame exposure of a crowded field (``--sources`` sources, about 95 % with a
trace on the detector): NIRISS GR150C/F150W with orders 1 and 2 cut out, or NIRCam
F444W/GRISMR with order 1; calibrated from its association (science + source catalog)
through the scaled reference background to ``_cal`` and ``_x1d``; one worker on each
side, commands run alternately, whole processes timed with GNU time.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import compare, emptied, pipeline_pair, write_between

BIN = Path(sys.executable).parent
INSTRUMENTS = {  # marker, heading, simulator module, what the field is
    "nircam": ("nircam-wfss", "## NIRCam WFSS", "spec2_nircam.sim.wfss", "F444W/GRISMR"),
    "niriss": ("niriss-wfss", "## NIRISS WFSS", "spec2_niriss.sim.wfss", "GR150C/F150W, orders 1 and 2"),
}


def prepare_data(work: Path, n_sources, instrument):
    from importlib import import_module

    from spec2.crds_cache import LocalCache, crds_environment

    simulate_wfss = import_module(INSTRUMENTS[instrument][2]).simulate_wfss
    ready = work / "ready.json"
    if ready.exists() and json.loads(ready.read_text()).get("sources") == n_sources:
        return json.loads(ready.read_text()), crds_environment(work / "crds")
    cache = LocalCache(work / "crds")
    out = simulate_wfss(work / "data", cache, n_sources=n_sources)
    cache.finish()
    paths = {"asn": str(out["asn"]), "data": str(Path(out["asn"]).parent), "sources": n_sources}
    ready.write_text(json.dumps(paths))
    return paths, crds_environment(work / "crds")


def render(rows, repeats, n_sources, n_slits, field):
    lines = [
        f"Median of {repeats} alternating runs; wall time of the whole process; peak RSS.",
        "",
        "| case | jwst 3.0.0 | spec2 | jwst/spec2 | peak MB jwst / spec2 |",
        "|---|---:|---:|---:|---:|",
    ]
    for _name, j, s, ratio, jm, sm, _n in rows:
        lines.append(f"| full-frame {field}, {n_sources} catalog sources ({n_slits} cut-outs) | {j:.1f} s | "
                     f"{s:.1f} s | **{ratio:.1f}×** | {jm:.0f} / {sm:.0f} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instrument", choices=sorted(INSTRUMENTS), required=True)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--sources", type=int, default=300)
    parser.add_argument("--work", type=Path, default=None, help="default /tmp/spec2-bench-<instrument>-wfss")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    marker, heading, _, field = INSTRUMENTS[args.instrument]
    args.work = args.work or Path(f"/tmp/spec2-bench-{args.instrument}-wfss")
    args.work.mkdir(parents=True, exist_ok=True)
    paths, env = prepare_data(args.work, args.sources, args.instrument)
    env = {**env, "SPEC2_DISABLE_PLUGINS": "example_outliers"}
    out = {"jwst": args.work / "out_jwst", "spec2": args.work / "out_spec2"}
    cases = {"wfss": pipeline_pair(paths["asn"], env, paths["data"], out["jwst"], out["spec2"], BIN)}
    rows = compare(cases, ["wfss"], args.repeats, emptied(out.values()), {"wfss": 1})
    from stdatamodels.jwst import datamodels

    with datamodels.open(next(out["spec2"].glob("*_cal.fits"))) as cal:
        n_slits = len(cal.slits)
    table = render(rows, args.repeats, args.sources, n_slits, field)
    print(table)
    if args.out:
        write_between(args.out, f"<!-- {marker}-begin -->", f"<!-- {marker}-end -->", table, heading)


if __name__ == "__main__":
    main()
