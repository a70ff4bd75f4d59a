"""spec2 against jwst 3.0.0 on the same simulated NIRSpec MOS exposures, beside the floor.

    python benchmarks/nirspec_mos.py [--repeats 1] [--work DIR] [--out docs/benchmarks.md]

Two NRS1 exposures (G235M/F170LP) of the MOS simulator (plugins/nirspec/sim/mos.py): its
default configuration (14 slitlets of 1 to 5 shutters, a fixed slit, background
slitlets; ``small``) and its benchmark configuration (168 1x3 slitlets over the four
quadrants; ``large``), each calibrated from its rate file to ``_cal``, ``_s2d`` and
``_x1d`` with master background on. jwst (``strun calwebb_spec2``), spec2 (``spec2
process -j 1``) and the floor (floor.py: the references the spec2 run read, the rate
file read and its arrays written with astropy alone) run alternately, whole processes
timed with GNU time. The three figures: the fixed start-up and the marginal cost per
slitlet (through the two sizes), and the floor's.
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
MARK_BEGIN, MARK_END = "<!-- nirspec-mos-begin -->", "<!-- nirspec-mos-end -->"
SIZES = ("small", "large")


def prepare(work: Path, size: str):
    """(rate path, number of slits on NRS1, CRDS environment) of one configuration,
    simulated once into ``work/size``."""
    from spec2.crds_cache import LocalCache, crds_environment

    folder = work / size
    ready = folder / "ready.json"
    if not ready.exists():
        from spec2_nirspec.sim.mos import simulate_mos

        cache = LocalCache(folder / "crds")
        sim = simulate_mos(folder / "data", cache, detectors=("NRS1",), large=size == "large")
        ready.write_text(json.dumps({"rate": str(sim[("NRS1", 1)])}))
    rate = json.loads(ready.read_text())["rate"]
    return rate, crds_environment(folder / "crds")


def slits_in(product) -> int:
    from stdatamodels.jwst import datamodels

    with datamodels.open(product) as model:
        return len(model.slits)


def measure(work: Path, repeats: int) -> dict:
    """{size: (series by label, number of slits)}."""
    results = {}
    for size in SIZES:
        rate, env = prepare(work, size)
        env = {**env, "SPEC2_DISABLE_PLUGINS": "example_outliers"}
        out = {k: work / size / f"out_{k}" for k in ("jwst", "spec2", "floor")}
        for folder in out.values():
            folder.mkdir(parents=True, exist_ok=True)
        data = str(Path(rate).parent)  # jwst finds the MSA file in its working folder
        cases = pipeline_pair(Path(rate).name, env, data, out["jwst"], out["spec2"], BIN)
        run_measured(cases["spec2"][0], env, data)  # for the report: the references the floor reads
        refs = tso_bench.references_used(out["spec2"] / "spec2_report.json", env["CRDS_PATH"])
        n_slits = slits_in(out["spec2"] / Path(rate).name.replace("_rate.fits", "_cal.fits"))
        cases["floor"] = ([sys.executable, tso_bench.FLOOR, "--inputs", rate, "--out-dir", out["floor"],
                           "--refs", *refs], env, data)
        series = alternate(cases, repeats, prepare=emptied(out.values()))
        results[size] = (series, n_slits)
        m = {k: s.median_seconds for k, s in series.items()}
        print(f"{size} ({n_slits} slits): floor {m['floor']:.2f} s, spec2 {m['spec2']:.2f} s, "
              f"jwst {m['jwst']:.2f} s", flush=True)
    return results


def render(results: dict, repeats: int) -> str:
    lines = [
        (f"Median of {repeats} alternating run(s); wall time of the whole process; peak RSS. NRS1, G235M/F170LP, "
         "master background on."),
        "",
        "| exposure | slits | floor | jwst 3.0.0 | spec2 | jwst/spec2 | spec2/floor | peak MB jwst / spec2 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for size, (series, n) in results.items():
        f, j, s = (series[k] for k in ("floor", "jwst", "spec2"))
        lines.append(f"| {size} | {n} | {f.median_seconds:.1f} s | {j.median_seconds:.1f} s | {s.median_seconds:.1f} s "
                     f"| **{j.median_seconds / s.median_seconds:.1f}×** | {s.median_seconds / f.median_seconds:.1f}× "
                     f"| {j.peak_mb:.0f} / {s.peak_mb:.0f} |")
    (a, na), (b, nb) = results["small"], results["large"]
    lines += ["", "| split through the two sizes | floor | jwst 3.0.0 | spec2 |", "|---|---:|---:|---:|"]
    fits = {}
    for label in ("floor", "jwst", "spec2"):
        per = (b[label].median_seconds - a[label].median_seconds) / (nb - na)
        fits[label] = (a[label].median_seconds - na * per, per)
    lines.append("| fixed start-up | " + " | ".join(f"{fits[k][0]:.2f} s" for k in ("floor", "jwst", "spec2")) + " |")
    lines.append("| marginal cost per slitlet | "
                 + " | ".join(f"{1000 * fits[k][1]:.0f} ms" for k in ("floor", "jwst", "spec2")) + " |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--work", type=Path, default=Path("/tmp/spec2-bench-mos"))
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    table = render(measure(args.work, args.repeats), args.repeats)
    print(table)
    if args.out:
        write_between(args.out, MARK_BEGIN, MARK_END, table, "## NIRSpec MOS")


if __name__ == "__main__":
    main()
