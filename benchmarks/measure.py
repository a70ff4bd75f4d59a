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
