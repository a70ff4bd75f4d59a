"""Reference files: an explicit override first, else CRDS through the ``crds`` client.

CRDS is configured by the standard environment (CRDS_PATH, CRDS_SERVER_URL,
CRDS_CONTEXT, CRDS_MODE), so the same code works against a CRDS server, an
institutional cache, or a local cache with no network. ``crds`` is imported on first
use: an exposure whose references are all overridden never pays for it.

In one process, references are selected as steps ask for them. For a run on workers the
driver selects every reference an exposure's steps declare first (:meth:`RefResolver.select`,
see spec2.ref_selection) and hands the :class:`Selection` to the worker, which then only
reads files from the cache and never asks CRDS. A CRDS that cannot be used at all (no
cache, no server: the client exits the process) becomes :class:`CrdsUnusable`, one line.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from spec2.errors import ReferenceFileError

NOT_APPLICABLE = "N/A"

# Reference models opened in this process, keyed by (path, mtime, size, class): a batch
# of exposures opens each file once. Steps treat reference models as read-only.
_OPENED_FILES: dict[tuple, object] = {}

# The keywords that usually select a reference file; named in "no match" errors.
_SELECTION_KEYS = (
    "meta.instrument.name",
    "meta.instrument.detector",
    "meta.exposure.type",
    "meta.instrument.filter",
    "meta.instrument.grating",
    "meta.instrument.pupil",
    "meta.subarray.name",
)


class CrdsUnusable(ReferenceFileError):
    """CRDS cannot select anything here (no readable cache and no server answering)."""


@dataclass
class Selection:
    """The references selected for one exposure before its run: plain data for a worker.

    paths   -- {reftype: path in the cache, or None for N/A}
    errors  -- {reftype: the one-line ReferenceFileError text}, raised when a step asks
    context -- the CRDS context the selection was made in
    by_exp_type -- {EXP_TYPE: Selection} for the recipe's slit groups that are
               calibrated as another exposure type (see ``RefResolver.for_exp_type``)
    """

    paths: dict[str, str | None] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    context: str | None = None
    by_exp_type: dict[str, Selection] = field(default_factory=dict)


class RefResolver:
    """Finds and opens the reference files of one exposure.

    overrides -- {reftype: path | "N/A" | an open datamodel | a dict (JSON references)};
                 an in-memory value lets tests call hooks with no files and no CRDS.
    use_crds  -- look up types not overridden in CRDS (False: such a lookup is an error).
    selection -- a :class:`Selection` made before the run: types not overridden come from
                 it and CRDS is not asked (but for a type no step declared).

    ``used`` maps every reftype a step asked for to the name to record in its R_*
    keyword: ``crds://<file>`` for CRDS selections, the absolute path for overrides.
    """

    def __init__(self, model=None, overrides=None, use_crds=True, selection=None, exp_type=None):
        self._model = model
        self._exp_type = exp_type  # select as this EXP_TYPE rather than the header's
        self._overrides = dict(overrides or {})
        self._use_crds = use_crds
        self._selection = selection
        self._paths: dict[str, str | None] = {}
        self._opened: dict[str, object] = {}
        self._names: dict[str, str] = {}
        self.used: dict[str, str] = {}
        self.context = selection.context if selection is not None else None
        self._params = None

    def set_model(self, model):
        """Select for this model (the runner calls it after a step changes the model type).

        The CRDS selection keywords are read once per exposure: they are header values
        no step changes, and flattening a model whose WCS is attached is costly."""
        self._model = model

    def for_exp_type(self, exp_type: str) -> RefResolver:
        """A resolver for the same exposure selecting as EXP_TYPE ``exp_type`` (a slit
        group of the recipe calibrated as another type): the same overrides, and the
        selection made for that type before the run, if there was one."""
        selection = None
        if self._selection is not None:
            selection = self._selection.by_exp_type.get(exp_type) or Selection(context=self.context)
        other = RefResolver(self._model, self._overrides, self._use_crds, selection, exp_type=exp_type)
        other.context = other.context or self.context
        return other

    # -- lookup -----------------------------------------------------------------------
    def path(self, reftype: str) -> str | None:
        """Path of the reference file, or None when CRDS (or the override) says N/A."""
        if reftype not in self._paths:
            self._paths[reftype] = self._lookup(reftype)
        self.used[reftype] = self._names[reftype]
        return self._paths[reftype]

    def _lookup(self, reftype):
        if reftype in self._overrides:
            value = self._overrides[reftype]
            if isinstance(value, str) and value.strip().upper() == NOT_APPLICABLE:
                self._names[reftype] = NOT_APPLICABLE
                return None
            if isinstance(value, (str, os.PathLike)):
                path = Path(value).expanduser().resolve()
                if not path.is_file():
                    raise ReferenceFileError(
                        f"--ref {reftype}={value}: no such file"
                    )
                self._names[reftype] = str(path)
                return str(path)
            # an in-memory model or dict: recorded by its filename if it has one
            name = getattr(getattr(value, "meta", None), "filename", None) or "in-memory"
            self._names[reftype] = str(name)
            self._opened[reftype] = value
            return None
        if self._selection is not None:
            return self._selected(reftype)
        if not self._use_crds:
            raise ReferenceFileError(
                f"no {reftype} reference file given and CRDS lookups are off; "
                f"give one with --ref {reftype}=PATH"
            )
        path = self._crds_lookup(reftype)
        self._names[reftype] = NOT_APPLICABLE if path is None else "crds://" + Path(path).name
        return path

    def _selected(self, reftype):
        sel = self._selection
        if reftype in sel.errors:
            raise ReferenceFileError(sel.errors[reftype])
        if reftype not in sel.paths:
            # no claim declares it (the runner warns, or fails under SPEC2_STRICT_CLAIMS):
            # looked up as in one process, so that products do not depend on the engine
            return self._crds_lookup(reftype)
        path = sel.paths[reftype]
        self._names[reftype] = NOT_APPLICABLE if path is None else "crds://" + Path(path).name
        return path

    def _crds_lookup(self, reftype):
        path = self._crds_select([reftype])[reftype]
        self._names[reftype] = NOT_APPLICABLE if path is None else "crds://" + Path(path).name
        return path

    def select(self, reftypes) -> Selection:
        """Select every one of ``reftypes`` not overridden, for a run elsewhere: one CRDS
        query for all, or one per type if that fails (so each type's own error is kept,
        and raised only if a step asks for it). Raises CrdsUnusable."""
        wanted = [r for r in dict.fromkeys(reftypes) if r not in self._overrides]
        selection = Selection()
        if not wanted:
            return selection
        try:
            selection.paths = self._crds_select(wanted)
        except CrdsUnusable:
            raise
        except ReferenceFileError:
            for reftype in wanted:
                try:
                    selection.paths.update(self._crds_select([reftype]))
                except CrdsUnusable:
                    raise
                except ReferenceFileError as exc:
                    selection.errors[reftype] = str(exc)
        selection.context = self.context
        return selection

    def _crds_select(self, reftypes) -> dict[str, str | None]:
        """{reftype: path, or None for N/A} from CRDS; ReferenceFileError names the types."""
        named = ", ".join(reftypes)
        if not os.environ.get("CRDS_PATH") and not os.environ.get("CRDS_SERVER_URL"):
            raise ReferenceFileError(
                f"need a {named} reference file but CRDS is not configured: set CRDS_PATH "
                f"(and CRDS_SERVER_URL, CRDS_CONTEXT) or give --ref {reftypes[0]}=PATH"
            )
        params = self._crds_parameters()
        try:
            import crds
            from crds.core.exceptions import CrdsError

            with _crds_fatal_as_error():
                result = crds.getreferences(params, reftypes=list(reftypes), observatory="jwst")
                self.context = self.context or _context_used()
        except CrdsError as exc:
            keys = ", ".join(
                f"{k.split('.')[-1].upper()}={params[k]}" for k in _SELECTION_KEYS if k in params
            )
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ReferenceFileError(
                f"no {named} reference file for {keys} in CRDS "
                f"({os.environ.get('CRDS_CONTEXT') or 'default context'}): {first}; "
                f"give one with --ref {reftypes[0]}=PATH"
            ) from None
        paths = {}
        for reftype in reftypes:
            path = result.get(reftype, "")
            paths[reftype] = None if not path or path.upper().startswith("NOT FOUND") else path
        return paths

    def _crds_parameters(self):
        if self._params is not None:
            return self._params
        if self._model is None:
            raise ReferenceFileError("reference lookup needs the exposure's header")
        params = {
            k: v
            for k, v in self._model.to_flat_dict(include_arrays=False).items()
            if isinstance(v, (str, int, float, bool)) and k.startswith("meta.")
        }
        # CRDS selects on the instrument-level keywords with upper-case names.
        self._params = {k.upper(): v for k, v in params.items()}
        if self._exp_type is not None:
            self._params["META.EXPOSURE.TYPE"] = self._exp_type
        return self._params

    # -- opening ------------------------------------------------------------------------
    def open(self, reftype: str, model_class=None):
        """The reference file as an open datamodel (cached for the exposure).

        Raises ReferenceFileError when the reference is N/A or unreadable.
        """
        path = self.path(reftype)
        if reftype in self._opened:  # cached, or an in-memory override
            return self._opened[reftype]
        if path is None:
            raise ReferenceFileError(f"no {reftype} reference file applies (N/A) to this exposure")
        stat = os.stat(path)
        key = (path, stat.st_mtime_ns, stat.st_size, model_class)
        model = _OPENED_FILES.get(key)
        if model is None:
            try:
                from stdatamodels.jwst import datamodels

                model = model_class(path) if model_class else datamodels.open(path)
            except Exception as exc:  # corrupt or wrong type: say which file
                raise ReferenceFileError(
                    f"cannot open {reftype} reference file {path}: {exc}"
                ) from None
            _OPENED_FILES[key] = model
        self._opened[reftype] = model
        return model

    def load_json(self, reftype: str) -> dict:
        """A JSON reference file (extract1d, ...) parsed into a dict."""
        path = self.path(reftype)
        if reftype in self._opened:
            return self._opened[reftype]
        if path is None:
            raise ReferenceFileError(f"no {reftype} reference file applies (N/A) to this exposure")
        try:
            with open(path) as fh:
                value = json.load(fh)
        except (OSError, ValueError) as exc:
            raise ReferenceFileError(f"cannot read {reftype} reference file {path}: {exc}") from None
        self._opened[reftype] = value
        return value

    def take_used(self) -> dict[str, str]:
        """Return and forget the references recorded since the last call (one step's)."""
        used, self.used = self.used, {}
        return used


# Why CRDS could not be used, per CRDS setting: later lookups in this process with the
# same setting fail at once with it rather than each paying for the client's attempt.
_UNUSABLE: dict[tuple, str] = {}


def _crds_setting() -> tuple:
    return tuple(os.environ.get(k) for k in ("CRDS_PATH", "CRDS_SERVER_URL", "CRDS_MODE", "CRDS_CONTEXT"))


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


@contextlib.contextmanager
def _crds_fatal_as_error():
    """Run a crds client call whose fatal errors end in ``sys.exit(-1)`` (a cache with no
    configuration and no server): raise CrdsUnusable with the client's reason on one line
    instead. The client's messages are held during the call and passed on afterwards,
    except that fatal one."""
    setting = _crds_setting()
    if setting in _UNUSABLE:
        raise CrdsUnusable(_UNUSABLE[setting])
    logger = logging.getLogger("CRDS")
    handlers, collect = logger.handlers[:], _Collect()
    logger.handlers[:] = [collect]
    try:
        yield
    except SystemExit:
        errors = [r.getMessage() for r in collect.records if r.levelno >= logging.ERROR]
        _UNUSABLE[setting] = crds_unusable_reason(errors[-1] if errors else "")
        collect.records = []
        raise CrdsUnusable(_UNUSABLE[setting]) from None
    finally:
        logger.handlers[:] = handlers
        for record in collect.records:
            logger.handle(record)


def crds_unusable_reason(message: str) -> str:
    """One line from the client's fatal message (its first line and the OS error at its
    end), with the settings that led there."""
    text = " ".join(message.replace("(FATAL)", "").split())
    first = text.split("Cannot continue.")[0].strip(" .") or "the CRDS client stopped"
    cause = text.rsplit(" : ", 1)[1].strip() if " : " in text else ""
    where = (f"CRDS_PATH={os.environ.get('CRDS_PATH') or '(not set)'}, "
             f"CRDS_SERVER_URL={os.environ.get('CRDS_SERVER_URL') or '(not set)'}")
    return f"CRDS cannot be used: {first}{f' ({cause})' if cause else ''}; {where}"


def _context_used():
    try:
        import crds

        return crds.get_context_name("jwst")
    except Exception:
        return os.environ.get("CRDS_CONTEXT")
