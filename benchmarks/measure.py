"""Timing and peak memory of a command, as a user would run it.

Each command runs as a fresh process under GNU time (``/usr/bin/time -f``), so the
figures include interpreter start-up and imports, exactly what a user waits for.
"""

from __future__ import annotations

import os
import statistics
import subprocess
from dataclasses import dataclass, field


@dataclass
class Sample:
    seconds: float
    max_rss_mb: float


@dataclass
class Series:
    label: str
    samples: list[Sample] = field(default_factory=list)

    @property
    def median_seconds(self) -> float:
        return statistics.median(s.seconds for s in self.samples)

    @property
    def peak_mb(self) -> float:
        return max(s.max_rss_mb for s in self.samples)


def run_measured(cmd, env=None, cwd=None) -> Sample:
    """Run ``cmd`` (a list) once; return wall seconds and peak resident memory (MB)."""
    fmt = "__BENCH__ %e %M"
    proc = subprocess.run(
        ["/usr/bin/time", "-f", fmt, *map(str, cmd)],
        env={**os.environ, **(env or {})},
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("__BENCH__")]
    if proc.returncode != 0 or not lines:
        tail = "\n".join(proc.stderr.splitlines()[-15:])
        raise RuntimeError(f"benchmark command failed ({proc.returncode}): {' '.join(map(str, cmd))}\n{tail}")
    _, seconds, kb = lines[-1].split()
    return Sample(float(seconds), float(kb) / 1024.0)


def alternate(commands: dict, repeats: int, prepare=None) -> dict[str, Series]:
    """Run each labelled command ``repeats`` times, alternating between them so that
    machine noise hits both sides alike. ``prepare(label)`` runs before each sample
    (e.g. to empty the output folder)."""
    series = {label: Series(label) for label in commands}
    for _ in range(repeats):
        for label, (cmd, env, cwd) in commands.items():
            if prepare:
                prepare(label)
            series[label].samples.append(run_measured(cmd, env, cwd))
    return series


def pipeline_pair(target, env, cwd, out_jwst, out_spec2, bin_dir):
    """The two commands that calibrate ``target`` (a file or association in ``cwd``):
    jwst's ``strun calwebb_spec2`` and ``spec2 process``, labelled for :func:`alternate`."""
    from pathlib import Path

    name = Path(target).name
    return {
        "jwst": ([Path(bin_dir) / "strun", "calwebb_spec2", name, "--output_dir", out_jwst], env, cwd),
        # one worker on each side: the parallel engines are measured in scaling.py
        "spec2": ([Path(bin_dir) / "spec2", "process", name, "-o", out_spec2, "-q", "-j", "1"], env, cwd),
    }


def emptied(folders):
    """A ``prepare`` callback for :func:`alternate` that empties the output folders."""
    import shutil

    def prepare(_label):
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)

    return prepare


def compare(cases, names, repeats, prepare, per_exposure):
    """Run each named case (jwst against spec2) and return the table rows
    (name, jwst s, spec2 s, ratio, jwst MB, spec2 MB, exposures), printing progress."""
    rows = []
    for name in names:
        series = alternate(cases[name], repeats, prepare=prepare)
        j, s = series["jwst"], series["spec2"]
        ratio = j.median_seconds / s.median_seconds
        rows.append((name, j.median_seconds, s.median_seconds, ratio, j.peak_mb, s.peak_mb, per_exposure[name]))
        print(f"{name}: jwst {j.median_seconds:.2f} s, spec2 {s.median_seconds:.2f} s, ratio {ratio:.1f}, "
              f"peak MB {j.peak_mb:.0f}/{s.peak_mb:.0f}", flush=True)
    return rows


def write_between(path, begin, end, text, heading=""):
    """Replace what lies between the two marker lines of a Markdown file (appending the
    markers, under ``heading``, when the file has none)."""
    content = path.read_text()
    if begin not in content:
        content += f"\n{heading}\n\n{begin}\n{end}\n"
    before, rest = content.split(begin, 1)
    _, after = rest.split(end, 1)
    path.write_text(before + begin + "\n" + text + "\n" + end + after)
