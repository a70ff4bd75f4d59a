"""spec2 against jwst 3.0.0 on the same simulated MIRI LRS exposures.

    python benchmarks/miri_lrs.py [--repeats 3] [--work DIR] [--out docs/benchmarks.md]

Cases (one worker on each side, commands run alternately, whole processes timed with
GNU time as a user runs them):

* batch:   20 fixed-slit exposures (10 nod pairs), one association of 20 products;
           jwst: ``strun calwebb_spec2 asn.json``; spec2: ``spec2 process asn.json``
* tso:     slitless time series (_rateints) of 30 and 300 integrations, each beside the
           floor (floor.py, via tso.py): spec2, jwst and the floor, run alternately
* single:  one fixed-slit exposure, whole process
* startup: the fixed cost inside each figure: the interpreter importing stdatamodels
           and asdf loading its extensions (both pay it), and each tool's own import.

Prints a Markdown table (and writes it into --out between the benchmark markers).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tso as tso_bench
from measure import alternate, compare, emptied, pipeline_pair, write_between

BIN = Path(sys.executable).parent
PAIRS = 10
MARK_BEGIN, MARK_END = "<!-- miri-lrs-begin -->", "<!-- miri-lrs-end -->"
TSO_BEGIN, TSO_END = "<!-- miri-lrs-tso-begin -->", "<!-- miri-lrs-tso-end -->"


def prepare_data(work: Path):
    from spec2.crds_cache import LocalCache, crds_environment
    from spec2_miri.sim.lrs import (
        fixed_slit_exposure,
        nod_association,
    )
    from spec2_miri.sim.references import write_reference_set

    data = work / "data"
    if (work / "ready.json").exists():
        return json.loads((work / "ready.json").read_text()), crds_environment(work / "crds")
    data.mkdir(parents=True, exist_ok=True)
    cache = LocalCache(work / "crds")
    write_reference_set(cache)
    cache.finish()
    rates, products = [], []
    for pair in range(PAIRS):
        nods = []
        for i, offset in enumerate((-1.5, 1.5)):
            p = data / f"jw01234{pair + 1:03d}001_0310{i + 1}_00001_mirimage_rate.fits"
            nods.append(fixed_slit_exposure(p, offset, seed=100 + 2 * pair + i))
        rates += nods
        products += [(p, nods) for p in nods]
    # one association of 20 products; each nod's background is its partner
    asn = {"asn_type": "spec2", "asn_rule": "Asn_Lv2SpecSpecial", "asn_id": "a3001",
           "asn_pool": "bench", "program": "01234", "products": []}
    for science, pair in products:
        members = [{"expname": science.name, "exptype": "science"}]
        members += [{"expname": o.name, "exptype": "background"} for o in pair if o != science]
        asn["products"].append({"name": science.name.replace("_rate.fits", ""), "members": members})
    batch = data / "batch_spec2_asn.json"
    batch.write_text(json.dumps(asn, indent=1))
    single = data / "single_spec2_asn.json"
    nod_association(single, [rates[0]], [rates[0].name.replace("_rate.fits", "")])
    paths = {"batch": str(batch), "single": str(rates[0]), "data": str(data)}
    (work / "ready.json").write_text(json.dumps(paths))
    return paths, crds_environment(work / "crds")


def prepare_tso(work: Path) -> dict:
    """{nints: _rateints path} of the slitless series (30 and 300 integrations), cached;
    the references are prepare_data's."""
    from spec2_miri.sim.lrs import slitless_time_series

    data = work / "data"
    data.mkdir(parents=True, exist_ok=True)
    paths = {}
    for i, nints in enumerate(tso_bench.LENGTHS):
        p = data / f"jw01234099001_0310{i + 1}_00001-seg001_mirimage_rateints.fits"
        if not p.exists():
            slitless_time_series(p, nints=nints)
        paths[nints] = str(p)
    return paths


def commands(paths, env, work: Path):
    data = paths["data"]
    out = {"jwst": work / "out_jwst", "spec2": work / "out_spec2"}

    def pair(target):
        return pipeline_pair(target, env, data, out["jwst"], out["spec2"], BIN)

    startup = {
        "import stdatamodels+asdf": ([sys.executable, "-c", "from stdatamodels.jwst import datamodels as d; d.ImageModel((2, 2))"], env, data),
        "spec2 CLI + plugins": ([BIN / "spec2", "plugins"], env, data),
        "import jwst Spec2Pipeline": ([sys.executable, "-c", "from jwst.pipeline import Spec2Pipeline"], env, data),
    }
    return {"batch": pair(paths["batch"]), "single": pair(paths["single"])}, startup, out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path("/tmp/spec2-bench-miri"))
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--cases", default="single,batch,tso")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    paths, env = prepare_data(args.work)
    env = {**env, "SPEC2_DISABLE_PLUGINS": "example_outliers"}
    cases, startup, outdirs = commands(paths, env, args.work)

    names = args.cases.split(",")
    if "tso" in names:
        results = tso_bench.measure_lengths(prepare_tso(args.work), env, paths["data"], args.work / "tso",
                                            args.repeats)
        table = tso_bench.render("LRS slitless (SLITLESSPRISM)", results, args.repeats)
        print(table)
        if args.out:
            write_between(args.out, TSO_BEGIN, TSO_END, table, "### LRS slitless time series against the floor")
        names.remove("tso")
    if not names:
        return
    per_exposure = {"batch": 2 * PAIRS, "single": 1}
    rows = compare(cases, names, args.repeats, emptied(outdirs.values()), per_exposure)
    st = {label: ser.median_seconds for label, ser in alternate(startup, args.repeats).items()}
    table = render(rows, st, args.repeats) + marginal(rows)
    print(table)
    if args.out:
        write_between(args.out, MARK_BEGIN, MARK_END, table)


LABELS = {
    "batch": f"{2 * PAIRS} fixed-slit exposures, one association (nod pairs)",
    "single": "one fixed-slit exposure",
}


def marginal(rows):
    """Cost of one more exposure in a batch, start-up excluded: (batch - single)/(n - 1)."""
    by_name = {r[0]: r for r in rows}
    if "batch" not in by_name or "single" not in by_name:
        return ""
    n = by_name["batch"][6]
    j = (by_name["batch"][1] - by_name["single"][1]) / (n - 1)
    s = (by_name["batch"][2] - by_name["single"][2]) / (n - 1)
    return (
        f"\n\nMarginal cost of one more fixed-slit exposure in a batch, (batch - single)/{n - 1}: "
        f"jwst {j:.2f} s, spec2 {s:.2f} s, **{j / s:.1f}×**."
    )


def render(rows, startup, repeats):
    lines = [
        f"Median of {repeats} alternating runs; wall time of the whole process; peak RSS.",
        "",
        "| case | jwst 3.0.0 | spec2 | jwst/spec2 | per exposure jwst / spec2 | peak MB jwst / spec2 |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, j, s, ratio, jm, sm, n in rows:
        per = f"{j / n:.2f} s / {s / n:.2f} s" if n > 1 else "—"
        lines.append(f"| {LABELS[name]} | {j:.2f} s | {s:.2f} s | **{ratio:.1f}×** | {per} | {jm:.0f} / {sm:.0f} |")
    lines += ["", "Fixed start-up inside those figures (median wall time of the command alone):", ""]
    lines += ["| start-up component | seconds |", "|---|---:|"]
    lines += [f"| {label} | {sec:.2f} |" for label, sec in startup.items()]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
