"""The messages of a run: what each exposure warned about, and library output kept in
the display's order.

Steps warn through the ``spec2`` logger. While an exposure runs, :func:`capture` keeps
every WARNING (and ERROR) its thread logs there, so that the exposure's result can carry
them: a worker process returns them to the driver, which shows them with the exposure's
name, and the run report lists them per exposure. Capture is per thread, because one
process may run one exposure's steps while another thread writes the previous one's
products.

Two other sources are folded into the ``spec2`` logger, so that they are captured the
same way and never write to the terminal behind the progress line's back:

* Python warnings (``warnings.warn``): :func:`log_python_warnings` logs them on
  ``spec2.warnings``;
* the CRDS client, which logs on its own ``CRDS`` logger with its own console handler
  (installed, and its level reset, when ``crds`` is first imported):
  :func:`route_crds` adds a filter to that logger, which filters survive, handing each
  record to ``spec2.crds`` instead.

The command line and worker processes do both for their whole life; the Python API
for the duration of a run (:func:`library_messages_logged`).
"""

from __future__ import annotations

import contextlib
import copy
import logging
import threading
import warnings

SPEC2 = "spec2"
#: Loggers under ``spec2`` that carry other libraries' messages.
CRDS_LOGGER, WARNINGS_LOGGER = "spec2.crds", "spec2.warnings"

_local = threading.local()  # .exposure: (name, messages) while one runs in this thread


def current_exposure() -> str | None:
    """The name of the exposure this thread is running, if any."""
    active = getattr(_local, "exposure", None)
    return active[0] if active else None


def message_text(record: logging.LogRecord) -> str:
    """A record's message as an exposure's warning list shows it: the library named when
    it is not spec2 itself (``CRDS: ...``)."""
    text = record.getMessage().strip()
    if record.name == "CRDS":
        return f"CRDS: {text}"
    return text


class _Capture(logging.Filter):
    """On the spec2 loggers: append each WARNING-or-worse record to the list of the
    exposure running in the thread that logged it (records of threads running none are
    not kept). A filter, not a handler: a logger with no handler of its own (a notebook)
    still shows warnings through Python's last-resort handler."""

    def filter(self, record):
        active = getattr(_local, "exposure", None)
        if active is not None and record.levelno >= logging.WARNING:
            active[1].append(message_text(record))
        return True


_CAPTURE = _Capture()


@contextlib.contextmanager
def capture(name: str, into: list):
    """Append to ``into`` the warnings this thread logs on the ``spec2`` loggers while the
    block runs, as the warnings of exposure ``name``. (A logger's filters apply to what
    is logged on it, not on its children: steps log on ``spec2`` itself.)"""
    for logger_name in (SPEC2, CRDS_LOGGER, WARNINGS_LOGGER):
        logger = logging.getLogger(logger_name)
        if _CAPTURE not in logger.filters:
            logger.addFilter(_CAPTURE)
    saved = getattr(_local, "exposure", None)
    _local.exposure = (name, into)
    try:
        yield into
    finally:
        _local.exposure = saved


class ExposureFormatter(logging.Formatter):
    """Prefixes a warning logged while an exposure runs with that exposure's name, so that
    a line on the terminal says which exposure it is about, and names the library a
    message comes from (``CRDS: ...``). The record is not changed (other handlers see it
    as it was logged)."""

    def formatMessage(self, record):
        text = message_text(record)
        name = current_exposure()
        if name and record.levelno >= logging.WARNING and not text.startswith(f"{name}:"):
            text = f"{name}: {text}"
        if text != record.message:
            record = copy.copy(record)
            record.message = text
        return super().formatMessage(record)


class _ToSpec2(logging.Filter):
    """On the CRDS logger: hand each record to ``spec2.crds`` (its level, handlers and
    capture) and keep it from CRDS's own console handler."""

    def filter(self, record):
        target = logging.getLogger(CRDS_LOGGER)
        if target.isEnabledFor(record.levelno):
            target.handle(record)
        return False


_CRDS_FILTER = _ToSpec2()


def route_crds(level: int = logging.WARNING):
    """Send the CRDS client's messages of ``level`` and above through the ``spec2``
    logger; drop the rest. Safe before or after ``crds`` is imported, and to repeat."""
    logging.getLogger(CRDS_LOGGER).setLevel(level)
    crds_logger = logging.getLogger("CRDS")
    if _CRDS_FILTER not in crds_logger.filters:
        crds_logger.addFilter(_CRDS_FILTER)


def _show_as_log(message, category, filename, lineno, file=None, line=None):
    logging.getLogger(WARNINGS_LOGGER).warning("%s: %s", category.__name__, message)


def log_python_warnings():
    """From now on, Python warnings this process shows are logged on ``spec2.warnings``
    (for a process spec2 owns: the command line, a worker)."""
    warnings.showwarning = _show_as_log


@contextlib.contextmanager
def library_messages_logged(crds_level: int = logging.WARNING):
    """Python warnings and the CRDS client's messages go through the ``spec2`` logger for
    the duration of the block only (the Python API: a notebook's own display is given
    back afterwards)."""
    saved = warnings.showwarning
    crds_logger = logging.getLogger("CRDS")
    routed = _CRDS_FILTER in crds_logger.filters
    warnings.showwarning = _show_as_log
    route_crds(crds_level)
    try:
        yield
    finally:
        warnings.showwarning = saved
        if not routed:
            crds_logger.removeFilter(_CRDS_FILTER)
