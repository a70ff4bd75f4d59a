"""Evaluate an astropy model tree without astropy's per-node call machinery.

Calling a compound model makes astropy validate, broadcast and reshape the inputs and
outputs of every node of the tree, and look its parameters up again, on every call: for
the NIRSpec instrument model (about 60 leaves) some 10 ms a call, whatever the size of the
arrays, and the pipeline evaluates such chains over a hundred times per exposure.
``compile_model`` walks the tree once and returns a plain function that applies the same
operators (``|``, ``&``, the arithmetic ones, ``fix_inputs``) to each leaf's own
``evaluate`` with the parameter values astropy would pass, so the arithmetic, and hence
every value, is the one the model computes when called. A leaf outside the known
families (or one with units) is called as astropy calls it.

Only for evaluating: the model itself (and the gwcs around it, in the products) is
unchanged. Inputs are converted to float arrays as astropy converts them; outputs come
back as a tuple even for one output.
"""

from __future__ import annotations

import operator
from collections.abc import Callable

import numpy as np

_ARITHMETIC = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
               "**": operator.pow}
# leaves whose ``evaluate`` is the whole of what their call computes (no units, no
# bounding box applied by default, no custom __call__)
_DIRECT_MODULES = ("astropy.modeling.", "stdatamodels.jwst.transforms.", "gwcs.")

Evaluator = Callable[..., tuple]


def compile_model(model) -> Evaluator:
    """A function of the model's inputs returning its outputs as a tuple, computed as
    ``model(*inputs)`` computes them (see the module docstring)."""
    return _compile(model)


def _as_tuple(value) -> tuple:
    return value if isinstance(value, tuple) else (value,)


def _compile(model) -> Evaluator:
    from astropy.modeling import CompoundModel
    from astropy.modeling.mappings import Mapping

    if isinstance(model, CompoundModel):
        return _compile_compound(model)
    if isinstance(model, Mapping) and type(model).evaluate is Mapping.evaluate:
        mapping = model.mapping

        def mapped(*inputs):
            inputs = [np.asanyarray(x, dtype=float) for x in inputs]
            return tuple(inputs[i] for i in mapping)

        return mapped
    selector = _slit_selector(model)
    if selector is not None:
        return selector
    if _direct(model):
        return _compile_leaf(model, model.evaluate)
    return lambda *inputs: _as_tuple(model(*inputs))


# NIRSpec's per-slit transforms (stdatamodels): the first input, the slit id, picks the
# slit's own model, evaluated on the other inputs; the id is passed through first or last
_SLIT_SELECTORS = {"Gwa2Slit": "first", "Slit2Gwa": "first", "Slit2Msa": "last"}


def _slit_selector(model):
    cls = type(model)
    where = _SLIT_SELECTORS.get(cls.__name__)
    if where is None or not cls.__module__.startswith("stdatamodels.jwst.transforms"):
        return None
    per_slit, ids = [_compile(m) for m in model.models], model.slit_ids
    if where == "first":
        def evaluate(name, *inputs):
            return (name,) + per_slit[ids.index(name)](*inputs)
    else:
        def evaluate(name, *inputs):
            return per_slit[ids.index(name)](*inputs) + (name,)
    return _compile_leaf(model, evaluate)


def _compile_compound(model) -> Evaluator:
    op = model.op
    if op == "fix_inputs":
        left = _compile(model.left)
        fixed = sorted(
            (key if np.issubdtype(type(key), np.integer) else model.left.inputs.index(key), value)
            for key, value in model.right.items()
        )

        def with_fixed(*inputs):
            inputs = list(inputs)
            for index, value in fixed:
                inputs.insert(index, value)
            return left(*inputs)

        return with_fixed
    left, right = _compile(model.left), _compile(model.right)
    if op == "|":
        return lambda *inputs: right(*left(*inputs))
    if op == "&":
        n_left = model.left.n_inputs
        return lambda *inputs: left(*inputs[:n_left]) + right(*inputs[n_left:])
    if op in _ARITHMETIC:
        fn = _ARITHMETIC[op]
        return lambda *inputs: tuple(fn(a, b) for a, b in zip(left(*inputs), right(*inputs)))
    return lambda *inputs: _as_tuple(model(*inputs))


def _direct(model) -> bool:
    from astropy.modeling import Model

    cls = type(model)
    # astropy writes each class a __call__ with its signature, in its own module; one
    # written anywhere else is the class's own behaviour
    defining = next(k for k in cls.__mro__ if "__call__" in k.__dict__)
    return (
        cls.__module__.startswith(_DIRECT_MODULES)
        and defining.__dict__["__call__"].__code__.co_filename == Model.__call__.__code__.co_filename
        and model.input_units is None
        and model.n_outputs >= 1
    )


def _compile_leaf(model, evaluate) -> Evaluator:
    """``evaluate`` (the leaf's, or what it computes) with the leaf's parameter sets,
    inputs and outputs shaped as ``Model.__call__`` shapes them for a single model."""
    params = list(model._param_sets(raw=True, units=True)) if model.param_names else []
    # a parameter set is the parameter's value with a leading axis of one (single model)
    broadcasting = [np.shape(p)[1:] for p in params if np.shape(p)[1:]] if model.standard_broadcasting else []
    n_outputs = model.n_outputs

    def leaf(*inputs):
        inputs = [np.asanyarray(x, dtype=float) for x in inputs]
        shapes = [x.shape for x in inputs]
        inputs = [x.reshape((1,)) if not x.shape else x for x in inputs]
        outputs = evaluate(*inputs, *params)
        outputs = (outputs,) if n_outputs == 1 else tuple(outputs)
        shape = np.broadcast_shapes(*shapes, *broadcasting) if shapes else None
        return tuple(_shaped(out, shape) for out in outputs)

    return leaf


def _shaped(output, shape):
    """An output reshaped to the broadcast input shape, as astropy reshapes it."""
    if shape is None:
        return output
    if not shape:
        return output.item()
    try:
        return output.reshape(shape)
    except ValueError:
        try:
            return output.item()
        except ValueError:
            return output
