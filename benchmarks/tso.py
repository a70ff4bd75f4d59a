"""A time series measured three ways: spec2, jwst 3.0.0 and the floor (floor.py).

Shared by the time-series benchmarks (nirspec.py bots, nircam_tsgrism.py, miri_lrs.py
tso). For each length (30 and 300 integrations) the three commands run alternately, one
worker each, whole processes timed as a user runs them (measure.py). From the two
lengths each command's time splits into a fixed start-up and a marginal cost per
integration (a straight line through the two medians).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from measure import alternate, emptied, pipeline_pair, run_measured

LENGTHS = (30, 300)
FLOOR = Path(__file__).resolve().parent / "floor.py"


def references_used(report_path, crds_root) -> list[Path]:
    """The reference files a spec2 run used (its report's per-step lists), as paths in
    the CRDS cache at ``crds_root``."""
    report = json.loads(Path(report_path).read_text())
    names = set()
    for exposure in report["exposures"]:
        for step in exposure["steps"]:
            names.update(v.removeprefix("crds://") for v in step["reference_files"].values()
                         if v and v.upper() != "N/A")
    found = {p.name: p for p in Path(crds_root, "references").rglob("*") if p.name in names}
    missing = names - set(found)
    if missing:
        raise RuntimeError(f"reference files not in the CRDS cache: {sorted(missing)}")
    return [found[n] for n in sorted(found)]


def measure_lengths(rateints: dict, env, cwd, work: Path, repeats: int) -> dict:
    """{nints: {"spec2"|"jwst"|"floor": Series}} for each ``rateints[nints]`` file."""
    work = Path(work)
    out = {"jwst": work / "out_jwst", "spec2": work / "out_spec2", "floor": work / "out_floor"}
    for folder in out.values():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    results = {}
    for nints, path in rateints.items():
        cases = pipeline_pair(path, env, cwd, out["jwst"], out["spec2"], Path(sys.executable).parent)
        # one spec2 run first: its report names the reference files the floor reads
        run_measured(cases["spec2"][0], env, cwd)
        refs = references_used(out["spec2"] / "spec2_report.json", env["CRDS_PATH"])
        floor_out = out["floor"] / (Path(path).name.replace(".fits", "_floor.fits"))
        cases["floor"] = ([sys.executable, FLOOR, path, floor_out, *refs], env, cwd)
        results[nints] = alternate(cases, repeats, prepare=emptied(out.values()))
        m = {k: s.median_seconds for k, s in results[nints].items()}
        print(f"{nints} integrations: floor {m['floor']:.2f} s, spec2 {m['spec2']:.2f} s, "
              f"jwst {m['jwst']:.2f} s", flush=True)
    return results


def line(series_by_length: dict, label: str):
    """(fixed start-up s, marginal s per integration) of ``label`` through two lengths."""
    (n1, a), (n2, b) = sorted(series_by_length.items())[:2]
    per = (b[label].median_seconds - a[label].median_seconds) / (n2 - n1)
    return a[label].median_seconds - n1 * per, per


def render(case_label: str, results: dict, repeats: int) -> str:
    """The Markdown figures: each length beside the floor, then the three figures (fixed
    start-up, marginal cost per integration, the floor's of each)."""
    lines = [
        f"Median of {repeats} alternating runs, one worker; wall time of the whole process; peak RSS.",
        "",
        "| case | floor | spec2 | jwst 3.0.0 | spec2/floor | jwst/floor | jwst/spec2 | peak MB floor / spec2 / jwst |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for nints, series in sorted(results.items()):
        f, s, j = (series[k] for k in ("floor", "spec2", "jwst"))
        lines.append(
            f"| {case_label}, {nints} integrations | {f.median_seconds:.2f} s | {s.median_seconds:.2f} s | "
            f"{j.median_seconds:.2f} s | **{s.median_seconds / f.median_seconds:.2f}×** | "
            f"{j.median_seconds / f.median_seconds:.1f}× | {j.median_seconds / s.median_seconds:.1f}× | "
            f"{f.peak_mb:.0f} / {s.peak_mb:.0f} / {j.peak_mb:.0f} |")
    if len(results) >= 2:
        fit = {k: line(results, k) for k in ("floor", "spec2", "jwst")}
        lines += [
            "",
            "| split of the whole run (two lengths) | floor | spec2 | jwst 3.0.0 |",
            "|---|---:|---:|---:|",
            "| fixed start-up | " + " | ".join(f"{fit[k][0]:.2f} s" for k in ("floor", "spec2", "jwst")) + " |",
            "| marginal cost per 100 integrations | "
            + " | ".join(f"{100 * fit[k][1]:.2f} s" for k in ("floor", "spec2", "jwst")) + " |",
        ]
    return "\n".join(lines)
