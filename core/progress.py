"""Progress of a run: exposures done out of the total, the step each running exposure is
in, elapsed time and an estimate of the time left.

Two displays with one interface (``start``, ``step``, ``done``, ``close``), called from
whichever thread hears of the event (the writer thread, Dask's event loop), so both
lock:

* :class:`LiveProgress` keeps one status line at the bottom of a terminal, redrawn on
  every event, and lets log records print above it;
* :class:`LogProgress` writes a plain log line per finished exposure, for files, pipes,
  CI logs and ``-q``.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time

log = logging.getLogger("spec2")


def format_duration(seconds: float) -> str:
    """``75.2`` -> ``1:15``; ``3725`` -> ``1:02:05``."""
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def eta_seconds(done: int, total: int, elapsed: float) -> float | None:
    """Time left if the remaining exposures take as long on average as the finished ones
    (None before the first one finishes)."""
    if done <= 0 or total <= done:
        return None if done <= 0 else 0.0
    return elapsed / done * (total - done)


class _Progress:
    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._lock = threading.RLock()
        self.total = 0
        self.finished = 0
        self.failed = 0
        self.running: dict[str, str] = {}  # exposure -> current step
        self._t0 = clock()

    def start(self, total: int):
        with self._lock:
            self.total, self._t0 = total, self._clock()

    def step(self, name: str, step: str):
        with self._lock:
            self.running[name] = step
            self._changed()

    def done(self, result):
        with self._lock:
            self.running.pop(result.name, None)
            self.finished += 1
            self.failed += 0 if result.ok else 1
            self._finished(result)

    def close(self):
        pass

    @property
    def elapsed(self) -> float:
        return self._clock() - self._t0

    def counts(self) -> str:
        text = f"{self.finished}/{self.total} exposures"
        if self.failed:
            text += f" ({self.failed} failed)"
        eta = eta_seconds(self.finished, self.total, self.elapsed)
        text += f", {format_duration(self.elapsed)} elapsed"
        if eta is not None:
            text += f", ETA {format_duration(eta)}"
        return text

    def _changed(self):
        pass

    def _finished(self, result):
        pass


class LogProgress(_Progress):
    """One log line per finished exposure: ``[3/32] name: done in 2.1 s; 0:07 elapsed, ETA 1:05``.

    The lines are INFO, failures too: ``-q`` shows a failure once, in the summary."""

    def _finished(self, result):
        state = "resumed (products complete)" if result.resumed else (
            f"done in {result.seconds:.1f} s" if result.ok else "FAILED")
        log.info("[%d/%d] %s: %s; %s", self.finished, self.total, result.name, state, self.counts())


class LiveProgress(_Progress):
    """A status line redrawn in place at the bottom of a terminal.

    Log records pass through :meth:`handler`, which clears the line, prints the record
    and redraws the line, so the two never garble each other.
    """

    def __init__(self, stream, clock=time.monotonic, tick=1.0):
        super().__init__(clock)
        self.stream = stream
        self._shown = False
        self._tick = tick
        self._stop = threading.Event()

    def start(self, total: int):
        super().start(total)
        # redraw once a second so elapsed time moves while workers start or a long
        # step runs
        if self._tick:
            threading.Thread(target=self._ticker, name="spec2-progress", daemon=True).start()

    def _ticker(self):
        while not self._stop.wait(self._tick):
            with self._lock:
                if not self._stop.is_set():
                    self._draw()

    def line(self) -> str:
        width = shutil.get_terminal_size((100, 20)).columns
        text = self.counts()
        if self.running:
            text += " | " + "; ".join(f"{n}: {s}" for n, s in sorted(self.running.items()))
        return text[: width - 1]

    def _draw(self):
        self.stream.write("\r\x1b[2K" + self.line())
        self.stream.flush()
        self._shown = True

    def _clear(self):
        if self._shown:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
            self._shown = False

    def _changed(self):
        self._draw()

    def _finished(self, result):
        if not result.ok:  # said as it happens; the summary lists it again at the end
            self._clear()
            self.stream.write(f"FAILED {result.name}: {result.error}\n")
        self._draw()

    def close(self):
        self._stop.set()
        with self._lock:
            self._clear()

    def emit_above(self, text: str):
        with self._lock:
            self._clear()
            self.stream.write(text + "\n")
            if self.total:
                self._draw()
            else:
                self.stream.flush()

    def handler(self, formatter: logging.Formatter) -> logging.Handler:
        progress = self

        class _AboveTheLine(logging.Handler):
            def emit(self, record):
                try:
                    progress.emit_above(self.format(record))
                except Exception:  # a display problem must never stop a run
                    self.handleError(record)

        h = _AboveTheLine()
        h.setFormatter(formatter)
        return h


def make_progress(stream, quiet: bool):
    """The live line on a terminal unless ``quiet``; plain log lines otherwise."""
    if not quiet and hasattr(stream, "isatty") and stream.isatty():
        return LiveProgress(stream)
    return LogProgress()
