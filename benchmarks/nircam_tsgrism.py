"""spec2 against jwst 3.0.0 on the same simulated NIRCam grism time series (NRC_TSGRISM).

    python benchmarks/nircam_tsgrism.py [--repeats 3] [--work DIR] [--out docs/benchmarks.md]

Cases (one worker on each side, commands run alternately, whole processes timed with
GNU time as a user runs them): SUBGRISM64 (64 x 2048) F444W/GRISMR ``_rateints`` of a
bright star with a transit, at 30 and 300 integrations, calibrated to ``_calints`` and
``_x1dints`` by spec2 and by jwst, each beside the floor (floor.py, via tso.py).

Prints a Markdown table (and writes it into --out between the nircam-tsgrism markers).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tso as tso_bench
from measure import write_between

LENGTHS = {"short": tso_bench.LENGTHS[0], "long": tso_bench.LENGTHS[1]}
MARK_BEGIN, MARK_END = "<!-- nircam-tsgrism-begin -->", "<!-- nircam-tsgrism-end -->"
HEADING = "## NIRCam grism time series"


def prepare_data(work: Path):
    from spec2.crds_cache import LocalCache, crds_environment
    from spec2_nircam.sim.references import write_reference_set
    from spec2_nircam.sim.tsgrism import time_series

    if (work / "ready.json").exists():
        return json.loads((work / "ready.json").read_text()), crds_environment(work / "crds")
    data = work / "data"
    data.mkdir(parents=True, exist_ok=True)
    cache = LocalCache(work / "crds")
    write_reference_set(cache)
    cache.finish()
    paths = {"data": str(data)}
    for i, (case, nints) in enumerate(LENGTHS.items()):
        p = data / f"jw01366004001_0410{i + 3}_00001-seg001_nrcalong_rateints.fits"
        paths[case] = str(time_series(p, nints=nints, seed=10 + i)[0])
    (work / "ready.json").write_text(json.dumps(paths))
    return paths, crds_environment(work / "crds")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path("/tmp/spec2-bench-tsgrism"))
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--cases", default="short,long")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    paths, env = prepare_data(args.work)
    env = {**env, "SPEC2_DISABLE_PLUGINS": "example_outliers"}
    rateints = {LENGTHS[name]: paths[name] for name in args.cases.split(",")}
    results = tso_bench.measure_lengths(rateints, env, paths["data"], args.work, args.repeats)
    table = tso_bench.render("SUBGRISM64 F444W/GRISMR", results, args.repeats)
    print(table)
    if args.out:
        write_between(args.out, MARK_BEGIN, MARK_END, table, HEADING)


if __name__ == "__main__":
    main()
