"""Creating stdatamodels models cheaply.

A stdatamodels model loads its class's schema when it is created, and asdf hands back a
deep copy of the cached schema every time: about 10 ms per model. One NIRSpec
fixed-slit exposure creates some twenty-five models (a SlitModel per cut-out and per
resampled slit, a SpecModel per spectrum, their containers), so spec2 loads each class's
schema once per process and passes it in. The model is the same one either way: the
schema is only read, never changed, by the model. SlitModel's constructor would store a
``schema`` keyword as an attribute, so a SlitModel is built by DataModel's constructor
with the schema, followed by what SlitModel's own adds (each keyword set as an attribute).

Every model also merges its schema's ``allOf`` property trees when it is created
(stdatamodels' ``merge_property_trees``, a walk of the whole schema: another ~15 ms a
model). For the schemas loaded here, the merged tree is computed once and handed to each
model: stdatamodels only reads a model's merged schema (extending it makes a new one), so
sharing it changes nothing a model does or writes.
"""

from __future__ import annotations

import functools
import inspect
import threading


@functools.cache
def schema_of(cls) -> dict:
    """The resolved schema of a datamodel class (loaded once per process); a model
    created with it gets the merged property tree computed once (see the module)."""
    from asdf import schema as asdf_schema

    schema = asdf_schema.load_schema(cls.schema_url, resolve_references=True)
    _remember_merged(schema)
    return schema


# id(schema) -> (schema, its merged property tree), for the schemas schema_of loaded (held
# here, so the ids stay theirs); never changed once stored
_MERGED: dict[int, tuple[dict, dict]] = {}
_MERGE_LOCK = threading.Lock()


def _remember_merged(schema: dict):
    from stdatamodels import schema as mschema

    with _MERGE_LOCK:
        original = mschema.merge_property_trees
        original = getattr(original, "__wrapped__", original)
        if mschema.merge_property_trees is original:
            mschema.merge_property_trees = _reuse_merged(original)
        _MERGED[id(schema)] = (schema, original(schema))


def _reuse_merged(merge):
    """``merge`` (stdatamodels' merge_property_trees) answering from _MERGED for the
    schemas in it, by identity; any other schema is merged as before."""

    @functools.wraps(merge)
    def merge_property_trees(schema):
        known = _MERGED.get(id(schema))
        if known is not None and known[0] is schema:
            return known[1]
        return merge(schema)

    return merge_property_trees


@functools.cache
def _takes_schema(cls) -> bool:
    """Whether ``cls(schema=...)`` reaches DataModel's ``schema`` argument: its own
    ``schema`` parameter, or ``**kwargs`` passed on; not SlitModel, whose constructor also
    sets every keyword argument as an attribute."""
    from stdatamodels.jwst.datamodels import SlitModel

    if issubclass(cls, SlitModel):
        return False
    params = inspect.signature(cls.__init__).parameters
    return "schema" in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def _sets_kwargs_as_attributes(cls) -> bool:
    """SlitModel (and subclasses not redefining ``__init__``): the constructor passes the
    keywords on to DataModel, then sets each one as an attribute."""
    from stdatamodels.jwst.datamodels import SlitModel

    return issubclass(cls, SlitModel) and cls.__init__ is SlitModel.__init__


def new_model(cls, *args, **kwargs):
    """``cls(*args, **kwargs)``, with the class's schema loaded once per process."""
    if kwargs.get("schema") is not None or not getattr(cls, "schema_url", None):
        return cls(*args, **kwargs)
    if _takes_schema(cls):
        return cls(*args, schema=schema_of(cls), **kwargs)
    if _sets_kwargs_as_attributes(cls):
        from stdatamodels.jwst.datamodels import SlitModel

        model = cls.__new__(cls)
        super(SlitModel, model).__init__(*args, schema=schema_of(cls), **kwargs)
        for key, value in kwargs.items():
            setattr(model, key, value)
        return model
    return cls(*args, **kwargs)
