"""CRDS parameter references (``pars-*``): step parameters CRDS delivers per mode.

jwst looks up, for an exposure, ``pars-spec2pipeline`` and ``pars-<step class>`` of each
step (``pars-extract1dstep``), and applies what they set over the steps' defaults; a
parameter file and the command line still win. spec2 does the same, so that its
products match the archive's. The precedence, lowest first:

    step defaults < the mode's recipe < CRDS pars-<step> < CRDS pars-spec2pipeline
        < parameter file (--params) < command line (--set, --steps.*, --skip)

:func:`crds_settings` is a function of a resolver (reftype -> path or None, the run's
:class:`spec2.refs.RefResolver` ``path``), so it can be called wherever the exposure's
references are resolved; a ``--ref pars-extract1dstep=FILE`` override works like any other.
"""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass, field

from spec2 import jwst_steps
from spec2.errors import InputError, ReferenceFileError
from spec2.parameter_files import read_parameter_file, translate

log = logging.getLogger("spec2")


def pars_reftypes(steps) -> list[str]:
    """The CRDS parameter reference types an exposure running these steps looks up:
    one per jwst step, then the pipeline's (which wins over the steps')."""
    out = [jwst_steps.pars_reftype(s) for s in steps if jwst_steps.pars_reftype(s)]
    return out + [jwst_steps.PIPELINE_PARS_REFTYPE]


@dataclass
class CrdsPars:
    """The CRDS parameter references of one exposure.

    settings -- {step: {param: value}} they set, as the runner layers them
    files    -- {reftype: file name} of those found (in lookup order)
    problems -- one line per file found but not usable, or value spec2 cannot take
    """

    settings: dict = field(default_factory=dict)
    files: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)

    def record(self, user_settings: dict, skip=frozenset()) -> dict:
        """The run report's entry: each file with the values it set, and which of those
        the user's own settings (parameter file or command line) replaced."""
        applied, overridden = {}, []
        for step, params in self.settings.items():
            for name, value in params.items():
                key = f"{step}.{name}"
                if name in user_settings.get(step, {}) or (name == "skip" and step in skip):
                    overridden.append(key)
                else:
                    applied[key] = value
        return {"files": dict(self.files), "applied": applied, "overridden_by_user": overridden,
                "problems": list(self.problems)}


def crds_settings(resolve, steps, stepdefs) -> CrdsPars:
    """Look up and read the parameter references of ``steps``.

    resolve -- reftype -> path or None (N/A); raises ReferenceFileError when the type
               cannot be looked up (unknown to the CRDS context, CRDS not configured),
               which means "no parameters", as for jwst
    A file spec2 cannot read, or a value of the wrong type, is a problem recorded (and
    warned about by the caller), never a failure: the step's other values still apply.
    """
    out = CrdsPars()
    for reftype in pars_reftypes(steps):
        try:
            with _quiet_crds():
                path = resolve(reftype)
        except ReferenceFileError as exc:
            log.debug("%s: no CRDS parameters (%s)", reftype, exc)
            continue
        if path is None:
            continue
        try:
            values = read_parameter_file(path)
            values.steps = {s: p for s, p in values.steps.items() if s in steps}
            translation = translate(values, stepdefs)
        except InputError as exc:
            out.problems.append(f"{reftype}: {exc}")
            continue
        out.files[reftype] = path
        for step, params in translation.settings.items():
            out.settings.setdefault(step, {}).update(params)
        if translation.unsupported:
            out.problems.append(f"{reftype}: spec2 has no parameter(s) {', '.join(translation.unsupported)}")
    return out


@contextlib.contextmanager
def _quiet_crds():
    """The crds client logs an ERROR for a reference type its context does not know; for
    parameter references that only means "none" (jwst logs it at debug level)."""
    if os.environ.get("CRDS_PATH") or os.environ.get("CRDS_SERVER_URL"):
        # the client sets its logger's level when first imported: import it first
        with contextlib.suppress(ImportError):
            import crds.core.log  # noqa: F401
    logger = logging.getLogger("CRDS")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)
