"""Creating stdatamodels models cheaply.

A stdatamodels model loads its class's schema when it is created, and asdf hands back a
deep copy of the cached schema every time: about 10 ms per model. One NIRSpec
fixed-slit exposure creates some twenty-five models (a SlitModel per cut-out and per
resampled slit, a SpecModel per spectrum, their containers), so spec2 loads each class's
schema once per process and passes it in. The model is the same one either way: the
schema is only read, never changed, by the model. SlitModel's constructor would store a
``schema`` keyword as an attribute, so a SlitModel is built by DataModel's constructor
with the schema, followed by what SlitModel's own adds (each keyword set as an attribute).
"""

from __future__ import annotations

import functools
import inspect


@functools.cache
def schema_of(cls) -> dict:
    """The resolved schema of a datamodel class (loaded once per process)."""
    from asdf import schema as asdf_schema

    return asdf_schema.load_schema(cls.schema_url, resolve_references=True)


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
