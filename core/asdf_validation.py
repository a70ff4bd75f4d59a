"""asdf's validation of a product's tree on write, done once per distinct content.

Before asdf writes a tree it validates every tagged node against the schemas of its tag
(gwcs steps and frames, astropy transforms, ndarrays...), with a fresh schema resolver
that loads again every schema it meets. For NIRSpec's per-slit WCSs this is about half
of the time spent writing a product, and most of it is repeated work: the instrument
part of every slit's WCS is the same from slit to slit and from exposure to exposure.

Within :func:`memoised_validation`, that validation (``asdf.schema.validate`` called by
asdf's ``dump_tree`` on this thread) is done by :func:`validate_tree` instead:

- the schemas are resolved once per thread (one resolver kept, so a schema is the same
  object from file to file);
- a tagged node is validated against a schema once per distinct *content* (its tag,
  keys, values and their types, recursively) and schema: validation is a function of
  these alone. A node met again with the same content gets, instead of the validation,
  what validation leaves on the tree (asdf's "validators" ``flowStyle``, ``style`` and
  ``propertyOrder`` set the YAML style and key order of the nodes), recorded once the
  whole tree has passed, so the YAML written is the same. (The record is of the node's
  styles at the end of that tree's validation; it equals what validating the node alone
  sets as long as a node's style comes from its own tag's schema, which holds for every
  schema installed: only the ASDF root and ``ndarray`` schemas set any.)
- keys are numbers interned per thread from each container's flat content, and the
  tuples hold only strings and numbers: cheap to hash, and nothing for the garbage
  collector to follow (see content_keys);
- asdf's two checks after validation (no integer literal beyond 64 bits, mapping keys
  of permitted types) are run on every node, through asdf's own functions where a node
  might fail them.

What is validated, and the errors raised, are asdf's: a node is only skipped after the
same content passed the same schema. Anything else asdf validates (reading, custom
schemas, other threads) goes to asdf's function unchanged. If this asdf's internals are
not the ones this module was written for, :func:`memoised_validation` leaves asdf alone.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import threading

_local = threading.local()
_install_lock = threading.Lock()
_ORIGINAL = None  # asdf.schema.validate, once patched

#: Content/schema pairs remembered per thread (least recently used dropped first).
MAX_ENTRIES = 50_000
#: Distinct container contents remembered per thread (all forgotten past this).
MAX_INTERNED = 200_000

_LEAF_TYPES = (str, int, float, bool, type(None))


def available() -> bool:
    """Whether the installed asdf has what this module relies on."""
    try:
        from asdf import schema, tagged, versioning

        return all(hasattr(schema, name) for name in (
            "validate", "_create_validator", "_make_jsonschema_refresolver", "YAML_VALIDATORS",
            "_validate_large_literals", "_validate_mapping_keys")) and hasattr(
            versioning, "RESTRICTED_KEYS_MIN_VERSION") and hasattr(tagged, "TaggedDict")
    except ImportError:  # pragma: no cover - asdf is a dependency
        return False


@contextlib.contextmanager
def memoised_validation():
    """Within this block, asdf's write validation on this thread goes through
    :func:`validate_tree` (see the module). Nests; does nothing if unavailable."""
    if not available():
        yield
        return
    _install()
    _local.depth = getattr(_local, "depth", 0) + 1
    try:
        yield
    finally:
        _local.depth -= 1


def _install():
    global _ORIGINAL
    from asdf import schema

    with _install_lock:
        if _ORIGINAL is None:
            _ORIGINAL = schema.validate
            schema.validate = _dispatch


def _dispatch(instance, ctx=None, schema=None, validators=None, reading=False, *args, **kwargs):
    """asdf.schema.validate: the write validation of a whole tree on a thread inside
    memoised_validation goes to validate_tree, every other call to asdf's function."""
    if (getattr(_local, "depth", 0) and ctx is not None and schema is None and validators is None
            and not reading and not args and not kwargs and not ctx._custom_schema):
        return validate_tree(instance, ctx)
    return _ORIGINAL(instance, ctx, schema, validators, reading, *args, **kwargs)


class _State:
    """One thread's resolver, validator class and remembered validations, for one set
    of extensions and schemas (a change of either starts a new state)."""

    def __init__(self, ident, ctx):
        from asdf import schema, util

        self.ident = ident
        self.resolver = schema._make_jsonschema_refresolver()
        # Keep every schema document it loads: a schema is then one object for the
        # thread's life, which is what a remembered validation is keyed on.
        self.resolver.cache_remote = True
        self.hits = self.misses = 0  # counts, and the tags validated, for tests and profiles
        self.missed_tags = set()
        self.top_schema = {}  # the (empty) schema a tree is validated with: one object too
        validators = util.HashableDict(schema.YAML_VALIDATORS.copy())
        validators.update(ctx.extension_manager.validator_manager.get_jsonschema_validators())
        self.validators = validators  # held: asdf caches the class on this dict
        # A class of our own: asdf's _create_validator is cached on the validators' content,
        # so the class it hands out is shared with asdf's own validation.
        create = getattr(schema._create_validator, "__wrapped__", schema._create_validator)
        self.cls = _memoising(create(validators=validators, visit_repeat_nodes=False))
        # (content key, id(schema)) -> (schema, [(node index, flow_style, property_order, style)])
        self.memo = collections.OrderedDict()
        self.interned = {}  # flat content of a container -> its key (see content_keys)
        self.counter = itertools.count()


def _state_for(ctx) -> _State:
    import asdf

    ident = (ctx.extension_manager, asdf.get_config().resource_manager, ctx.version)
    state = getattr(_local, "state", None)
    if state is None or any(a is not b and a != b for a, b in zip(state.ident, ident)):
        state = _local.state = _State(ident, ctx)
    return state


def _memoising(cls):
    """Make ``cls`` (asdf's validator class, created for this module alone) skip a tagged
    node whose content already passed the same schema, replaying its side effects."""
    from asdf import tagged

    validate_node = cls.iter_errors

    tagged_types = (tagged.TaggedDict, tagged.TaggedList)

    def iter_errors(self, instance, *args, **kwargs):
        # A plain function: what is not remembered gets asdf's generator itself, with no
        # extra generator layer (this runs for every node and every schema).
        if type(instance) in tagged_types and not args and not kwargs:
            keys = getattr(_local, "keys", None)
            key = keys.get(id(instance)) if keys is not None else None
            if key is not None:
                return _remembered(self, instance, key)
        return validate_node(self, instance, *args, **kwargs)

    def _remembered(self, instance, key):
        memo = _local.state.memo
        schema = self.schema
        slot = (key, id(schema))
        entry = memo.get(slot)
        if entry is not None and entry[0] is schema:
            memo.move_to_end(slot)
            _local.state.hits += 1
            _replay(instance, entry[1])
            return
        _local.state.misses += 1
        _local.state.missed_tags.add(instance._tag)
        failed = False
        for error in validate_node(self, instance):
            failed = True
            yield error
        if not failed:  # remembered once the whole tree has passed (validate_tree)
            _local.passed.append((slot, schema, instance))

    cls.iter_errors = iter_errors
    return cls


def validate_tree(tree, ctx):
    """Validate the tagged ``tree`` as ``asdf.schema.validate(tree, ctx)`` does (same
    errors, same side effects on the tree), skipping what was validated before."""
    from asdf import schema, versioning

    state = _state_for(ctx)
    restricted = ctx.version >= versioning.RESTRICTED_KEYS_MIN_VERSION
    if len(state.interned) > MAX_INTERNED:  # numbers are never reused: memo goes too
        state.interned.clear()
        state.memo.clear()
    keys, suspects = content_keys(tree, state.interned, state.counter)
    # The root is new in every file: never remembered.
    keys[id(tree)] = None
    previous = (getattr(_local, "keys", None), getattr(_local, "recs", None), getattr(_local, "passed", None))
    _local.keys, _local.recs, _local.passed = keys, {}, []
    try:
        validator = state.cls(state.top_schema, ctx=ctx, serialization_context=ctx._create_serialization_context(),
                              resolver=state.resolver)
        validator.validate(tree)
        # The styles validation sets are final now: record them for what passed.
        memo = state.memo
        for slot, schema_, node in _local.passed:
            memo[slot] = (schema_, _record(node))
            if len(memo) > MAX_ENTRIES:
                memo.popitem(last=False)
    finally:
        _local.keys, _local.recs, _local.passed = previous
    for node in suspects:
        schema._validate_large_literals(node, False)
        if restricted:
            schema._validate_mapping_keys(node, False)


def content_keys(tree, interned=None, counter=None):
    """({id(node): key} for every container in ``tree``, [nodes asdf's literal or key
    checks might reject]).

    A key is equal for two nodes exactly when they have the same tag, the same keys and
    items in the same order, and equal leaves of the same types (``1``, ``1.0`` and
    ``True`` differ); it is None for a node holding anything else than containers,
    strings, numbers, booleans and None (such nodes are validated every time). The ids
    stand for the nodes while ``tree`` lives (it holds them all).

    A container's key is a number: ``interned`` maps the flat tuple of its type, tag and
    items (a leaf as its type's name and value, a child container as None and its
    number) to it, and ``counter`` draws new ones. Hashing and comparing a key then
    costs the node's own items, not its subtree; and the tuples hold only strings and
    numbers, which Python's garbage collector does not track (a large MOS product has
    hundreds of thousands of nodes)."""
    import itertools
    import numbers

    import numpy as np
    from asdf import constants, tagged

    interned = {} if interned is None else interned
    counter = itertools.count() if counter is None else counter
    keys: dict[int, int | None] = {}
    suspects: list = []
    tagged_string, tagged_dict, tagged_list = tagged.TaggedString, tagged.TaggedDict, tagged.TaggedList
    lo, hi = constants.MIN_NUMBER, constants.MAX_NUMBER
    in_progress: set[int] = set()
    unkeyable = object()

    def leaf(value, parts):
        """Append the leaf's (type name, value) to ``parts``; False if it has no key."""
        kind = type(value)
        if kind is float or kind is str or kind is bool or value is None:  # the common ones first
            parts += (kind.__name__, value)
            return True
        if (kind is int or isinstance(value, numbers.Integral)) and not lo <= value <= hi:
            suspects.append(value)
        if kind in _LEAF_TYPES or isinstance(value, np.generic):
            parts += (f"{kind.__module__}.{kind.__qualname__}", value)
            return True
        if kind is tagged_string:
            parts += ("TaggedString", (value._tag, str(value)))
            return True
        return False

    def key_of(node):
        ident = id(node)
        if ident in keys:
            return keys[ident]
        kind = type(node)
        if isinstance(node, dict):
            items = node.data if kind is tagged_dict else node
            if any(type(k) is not str for k in items):
                suspects.append(node)
            pairs = items.items()
        elif isinstance(node, (list, tuple)) and not hasattr(node, "_fields"):
            pairs = enumerate(node.data if kind is tagged_list else node)
        else:
            return unkeyable
        if ident in in_progress:  # a cycle: its nodes are validated every time
            return None
        in_progress.add(ident)
        parts = [f"{kind.__module__}.{kind.__qualname__}", getattr(node, "_tag", None)]
        keyed = True
        for k, v in pairs:
            if kind is not list:
                parts += (type(k).__name__, k)
            child = key_of(v)  # every child keyed, even after an unkeyable one
            if child is unkeyable:
                keyed = leaf(v, parts) and keyed
            elif child is None:
                keyed = False
            else:
                parts += (None, child)
        in_progress.discard(ident)
        key = None
        if keyed:
            flat = tuple(parts)
            key = interned.get(flat)
            if key is None:
                key = interned[flat] = next(counter)
        keys[ident] = key
        return key

    if key_of(tree) is unkeyable:
        leaf(tree, [])
    return keys, suspects


_STYLE_ATTRS = ("flow_style", "property_order", "style")
def _record(top):
    """What validation left on the nodes under ``top``: [(path from ``top``, flow_style,
    property_order, style)] for every node where any is set; built from the children's
    records (kept for the tree: taken once its validation is over)."""
    from asdf import tagged

    recs = _local.recs
    known = recs.get(id(top))
    if known is not None:
        return known
    out = None  # most nodes have nothing: they share one empty tuple (fewer objects)
    attrs = (getattr(top, "flow_style", None), getattr(top, "property_order", None), getattr(top, "style", None))
    if attrs != _UNSTYLED:
        out = [((), *attrs)]
    if isinstance(top, dict):
        children = top.items()
    elif isinstance(top, (list, tuple)) and not hasattr(top, "_fields"):
        children = enumerate(top)
    else:
        children = ()
    for k, child in children:
        if isinstance(child, (dict, list, tuple, tagged.TaggedString)):
            below = _record(child)
            if below:
                out = out or []
                out.extend(((k, *path), *rest) for path, *rest in below)
    out = _NOTHING if out is None else tuple(out)
    recs[id(top)] = out
    return out


_NOTHING = ()
_UNSTYLED = (None, None, None)


def _replay(top, record):
    """Set on the nodes under ``top`` (same content as the recorded one) what _record saw."""
    for path, *attrs in record:
        node = top
        for k in path:
            node = node[k]
        for name, value in zip(_STYLE_ATTRS, attrs, strict=True):
            if value is not None:
                setattr(node, name, value)
