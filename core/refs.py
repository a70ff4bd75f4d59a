"""Reference files: an explicit override first, else CRDS through the ``crds`` client.

CRDS is configured by the standard environment (CRDS_PATH, CRDS_SERVER_URL,
CRDS_CONTEXT, CRDS_MODE), so the same code works against a CRDS server, an
institutional cache, or a local cache with no network. ``crds`` is imported on first
use: an exposure whose references are all overridden never pays for it.
"""

from __future__ import annotations

import json
import os
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


class RefResolver:
    """Finds and opens the reference files of one exposure.

    overrides -- {reftype: path | "N/A" | an open datamodel | a dict (JSON references)};
                 an in-memory value lets tests call hooks with no files and no CRDS.
    use_crds  -- look up types not overridden in CRDS (False: such a lookup is an error).

    ``used`` maps every reftype a step asked for to the name to record in its R_*
    keyword: ``crds://<file>`` for CRDS selections, the absolute path for overrides.
    """

    def __init__(self, model=None, overrides=None, use_crds=True):
        self._model = model
        self._overrides = dict(overrides or {})
        self._use_crds = use_crds
        self._paths: dict[str, str | None] = {}
        self._opened: dict[str, object] = {}
        self._names: dict[str, str] = {}
        self.used: dict[str, str] = {}
        self.context = None
        self._params = None

    def set_model(self, model):
        """Select for this model (the runner calls it after a step changes the model type).

        The CRDS selection keywords are read once per exposure: they are header values
        no step changes, and flattening a model whose WCS is attached is costly."""
        self._model = model

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
        if not self._use_crds:
            raise ReferenceFileError(
                f"no {reftype} reference file given and CRDS lookups are off; "
                f"give one with --ref {reftype}=PATH"
            )
        path = self._crds_lookup(reftype)
        self._names[reftype] = NOT_APPLICABLE if path is None else "crds://" + Path(path).name
        return path

    def _crds_lookup(self, reftype):
        if not os.environ.get("CRDS_PATH") and not os.environ.get("CRDS_SERVER_URL"):
            raise ReferenceFileError(
                f"need a {reftype} reference file but CRDS is not configured: set CRDS_PATH "
                f"(and CRDS_SERVER_URL, CRDS_CONTEXT) or give --ref {reftype}=PATH"
            )
        params = self._crds_parameters()
        try:
            import crds
            from crds.core.exceptions import CrdsError

            result = crds.getreferences(params, reftypes=[reftype], observatory="jwst")
            self.context = self.context or _context_used()
        except CrdsError as exc:
            keys = ", ".join(
                f"{k.split('.')[-1].upper()}={params[k]}" for k in _SELECTION_KEYS if k in params
            )
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ReferenceFileError(
                f"no {reftype} reference file for {keys} in CRDS "
                f"({os.environ.get('CRDS_CONTEXT') or 'default context'}): {first}; "
                f"give one with --ref {reftype}=PATH"
            ) from None
        path = result.get(reftype, "")
        if not path or path.upper().startswith("NOT FOUND"):
            return None
        return path

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


def _context_used():
    try:
        import crds

        return crds.get_context_name("jwst")
    except Exception:
        return os.environ.get("CRDS_CONTEXT")
