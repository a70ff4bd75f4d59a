"""The plugin manager: loads every plugin of the ``spec2`` entry-point group, validates
what they declare, and routes each step of an exposure to the plugin that claims it.

Built-in instrument plugins are declared in spec2's own pyproject exactly as a
third-party package declares its own, so the core never imports a plugin by name.
Tests may pass ``plugins=[...]`` to register in-memory plugins instead.

At load, :func:`validate` checks that every hook implementation has a specification
(pluggy's ``check_pending``: a hook named after its step, ``flat_field`` for ``flat``,
is an error rather than silently never called), that step definitions and parameters do
not collide, and that no two plugins claim one mode or step without an explicit
override. :func:`step_caller` then gives the hook of the plugin that owns a step for an
exposure type, with every other plugin's wrappers around it.
"""

from __future__ import annotations

import difflib
import importlib.metadata
import logging
import os
import time
from dataclasses import dataclass, field

import pluggy

from spec2 import hookspecs
from spec2.errors import PluginError, UnsupportedModeError
from spec2.recipe import CORE_STEPS, Claim, StepDef

ENTRY_POINT_GROUP = "spec2"
#: Comma-separated entry-point names not to load (as pytest's ``-p no:NAME``).
DISABLE_ENV = "SPEC2_DISABLE_PLUGINS"
#: Set to 1 to log every hook call: which plugin answered, how long it took.
TRACE_ENV = "SPEC2_TRACE"
#: The recipe's pseudo-step in the claims table: who gives an exposure type's recipe.
RECIPE = "<recipe>"

log = logging.getLogger("spec2")
trace_log = logging.getLogger("spec2.trace")


def get_plugin_manager(plugins=None, load_entrypoints=True, disabled=None) -> pluggy.PluginManager:
    """Create a plugin manager with the core hookspecs and the plugins registered, and
    validate it (:func:`validate`; raises :class:`spec2.errors.PluginError`).

    ``plugins`` -- extra plugin objects/modules to register (tests); ``load_entrypoints``
    -- also load everything installed under the ``spec2`` entry-point group;
    ``disabled`` -- entry-point names to block (default: from $SPEC2_DISABLE_PLUGINS).
    Hook calls are traced when $SPEC2_TRACE is set (see :func:`enable_trace`).
    """
    pm = pluggy.PluginManager(ENTRY_POINT_GROUP)
    pm.add_hookspecs(hookspecs)
    if disabled is None:
        disabled = [n.strip() for n in os.environ.get(DISABLE_ENV, "").split(",") if n.strip()]
    for name in disabled:
        pm.set_blocked(name)
    # Historic: every plugin registered from now on gets the call at registration.
    pm.hook.spec2_addhooks.call_historic(kwargs=dict(pluginmanager=pm))
    if load_entrypoints:
        pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    for plugin in plugins or ():
        pm.register(plugin)
    validate(pm)
    if os.environ.get(TRACE_ENV, "").strip() not in ("", "0"):
        enable_trace(pm)
    return pm


# ---------------------------------------------------------------------------------------
# Validation and the claims table
# ---------------------------------------------------------------------------------------


@dataclass
class Claims:
    """Who owns what: {(exp_type, step): plugin name}, ``RECIPE`` as the step for the
    recipe, and the reference types each owner declared for its step."""

    owners: dict = field(default_factory=dict)
    reftypes: dict = field(default_factory=dict)  # {(exp_type, step): (reftype, ...)}
    overridden: dict = field(default_factory=dict)  # {(exp_type, step): [plugin names overridden]}

    def owner(self, exp_type, step):
        return self.owners.get((exp_type, step))

    def exposure_types(self) -> list[str]:
        return sorted({t for t, s in self.owners if s == RECIPE})

    def of_plugin(self, name) -> dict:
        """{exp_type: [steps]} this plugin owns (the recipe first)."""
        out: dict = {}
        for (exp_type, step), owner in sorted(self.owners.items()):
            if owner == name:
                out.setdefault(exp_type, []).append(step)
        return out


def validate(pm) -> Claims:
    """Check the loaded plugins and build the claims table (kept on the manager).

    Raises PluginError for a hook implementation with no specification, a step or
    parameter defined twice, a claim of an unknown step or of a step whose hook the
    plugin does not implement, and two plugins claiming one mode or step without one of
    them overriding the other."""
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(_unknown_hook_message(pm, exc)) from None
    stepdefs = step_definitions(pm)
    claims = Claims()
    overrides: dict = {}
    for impl in pm.hook.spec2_claims.get_hookimpls():
        name = pm.get_name(impl.plugin)
        for claim in impl.function() or ():
            if not isinstance(claim, Claim):
                raise PluginError(f"plugin {name}: spec2_claims must return Claim objects, not {claim!r}")
            keys = [(t, RECIPE) for t in claim.exp_types] if claim.recipe else []
            for step, reftypes in claim.steps.items():
                _check_claimed_step(pm, impl.plugin, name, step, stepdefs)
                keys += [(t, step) for t in claim.exp_types]
                for t in claim.exp_types:
                    claims.reftypes[(t, step)] = reftypes
            for key in keys:
                _take(claims, overrides, key, name, claim.override)
    pm._spec2_claims = (_registration_key(pm), claims)
    return claims


def _take(claims, overrides, key, name, override):
    other = claims.owners.get(key)
    what = "the recipe of" if key[1] == RECIPE else f"step {key[1]} for"
    if other is None or other == name:
        claims.owners[key], overrides[key] = name, override
    elif override and not overrides[key]:
        claims.overridden.setdefault(key, []).append(other)
        claims.owners[key], overrides[key] = name, True
    elif overrides[key] and not override:
        claims.overridden.setdefault(key, []).append(name)
    else:
        raise PluginError(
            f"plugins {other} and {name} both claim {what} {key[0]}; uninstall or disable one "
            f"(SPEC2_DISABLE_PLUGINS=NAME), or let one claim it with Claim(..., override=True)"
        )


def _check_claimed_step(pm, plugin, name, step, stepdefs):
    if step not in stepdefs:
        raise PluginError(f"plugin {name} claims unknown step {step!r} (steps: {', '.join(stepdefs)})")
    hook = stepdefs[step].hook
    caller = getattr(pm.hook, hook, None)
    if caller is None or not any(i.plugin is plugin and not i.hookwrapper and not i.wrapper
                                 for i in caller.get_hookimpls()):
        raise PluginError(f"plugin {name} claims step {step} but implements no {hook} hook")


def _unknown_hook_message(pm, exc) -> str:
    plugin = getattr(exc, "plugin", None)
    name = pm.get_name(plugin) if plugin is not None else "?"
    text = str(exc)
    known = [n for n in dir(pm.hook) if not n.startswith("_")]
    for line in text.splitlines():
        if "unknown hook" in line:
            hook = line.split("'")[1] if "'" in line else line
            near = difflib.get_close_matches(hook, known, n=1)
            hint = f"; did you mean {near[0]}?" if near else " (see spec2.hookspecs)"
            return f"plugin {name} implements unknown hook {hook!r}{hint}"
    return f"plugin {name}: {text}"


def _registration_key(pm):
    return tuple(id(p) for p in pm.get_plugins())


def claims_of(pm) -> Claims:
    """The claims table, rebuilt when plugins were registered since the last build."""
    cached = getattr(pm, "_spec2_claims", None)
    if cached is None or cached[0] != _registration_key(pm):
        return validate(pm)
    return cached[1]


# ---------------------------------------------------------------------------------------
# Steps and their parameters
# ---------------------------------------------------------------------------------------


def step_definitions(pm) -> dict[str, StepDef]:
    """The core steps plus every step a plugin declares, each with the parameters
    plugins add to it. Raises PluginError when a step or a parameter is defined twice."""
    return _collect_steps(pm)[0]


def parameter_origins(pm) -> dict:
    """{(step, param): "the core" or "plugin NAME"} for ``spec2 steps``."""
    return _collect_steps(pm)[1]


def _collect_steps(pm):
    """(step definitions, {(step, param): who defined it})."""
    steps = dict(CORE_STEPS)
    origin = {name: "the core" for name in steps}
    for impl in pm.hook.spec2_step_definitions.get_hookimpls():
        plugin = pm.get_name(impl.plugin)
        for step in impl.function() or ():
            if step.name in steps:
                raise PluginError(f"plugin {plugin} defines step {step.name}, already defined by {origin[step.name]}; "
                                  "add parameters to it with spec2_step_parameters instead")
            steps[step.name], origin[step.name] = step, f"plugin {plugin}"
    owners = {(s, p.name): origin[s] for s, d in steps.items() for p in d.params}
    for impl in pm.hook.spec2_step_parameters.get_hookimpls():
        plugin = pm.get_name(impl.plugin)
        for step, params in (impl.function() or {}).items():
            if step not in steps:
                raise PluginError(f"plugin {plugin} adds parameters to unknown step {step!r}")
            for param in params:
                if (step, param.name) in owners:
                    raise PluginError(f"plugin {plugin} adds parameter {step}.{param.name}, "
                                      f"already defined by {owners[(step, param.name)]}")
                owners[(step, param.name)] = f"plugin {plugin}"
            steps[step] = steps[step].with_params(tuple(params))
    return steps, owners


# ---------------------------------------------------------------------------------------
# Routing a call to the owner
# ---------------------------------------------------------------------------------------


def owner_caller(pm, hook_name, owner):
    """The hook ``hook_name`` as the plugin ``owner`` implements it, inside every
    plugin's wrappers: the other plugins' plain implementations are left out."""
    caller = getattr(pm.hook, hook_name)
    others = {
        i.plugin for i in caller.get_hookimpls()
        if not (i.wrapper or i.hookwrapper) and pm.get_name(i.plugin) != owner
    }
    if not others:
        return caller
    cache = pm.__dict__.setdefault("_spec2_subset_callers", {})
    key = (hook_name, owner, _registration_key(pm))
    if key not in cache:
        cache[key] = pm.subset_hook_caller(hook_name, remove_plugins=others)
    return cache[key]


def step_caller(pm, step, exp_type, stepdefs=None):
    """The hook caller that runs ``step`` for an exposure of ``exp_type``: the claiming
    plugin's implementation. Call it with the hook's keyword arguments, e.g.
    ``step_caller(pm, "flat_field", "MIR_LRS-FIXEDSLIT")(model=m, refs=r, params=p)``.
    Raises UnsupportedModeError when no plugin claims the step for that type."""
    stepdefs = stepdefs or step_definitions(pm)
    owner = claims_of(pm).owner(exp_type, step)
    if owner is None:
        raise UnsupportedModeError(f"no plugin implements step {step} for EXP_TYPE={exp_type}")
    return owner_caller(pm, stepdefs[step].hook, owner)


def recipe_caller(pm, exp_type):
    """The ``spec2_recipe`` hook of the plugin that owns ``exp_type``, inside every
    plugin's wrappers; None when no plugin claims the type."""
    owner = claims_of(pm).owner(exp_type, RECIPE)
    return None if owner is None else owner_caller(pm, "spec2_recipe", owner)


# ---------------------------------------------------------------------------------------
# Tracing
# ---------------------------------------------------------------------------------------


def enable_trace(pm):
    """Log every hook call to the ``spec2.trace`` logger: the hook, the plugins whose
    implementations ran, what it returned and how long it took. Returns the undo."""
    started = {}

    def before(hook_name, hook_impls, kwargs):
        started[hook_name] = time.perf_counter()
        model = kwargs.get("model")
        what = f" {type(model).__name__}" if model is not None else ""
        plugins = ", ".join(pm.get_name(i.plugin) for i in reversed(hook_impls))
        trace_log.info("trace: %s(%s)%s -> [%s]", hook_name, ", ".join(kwargs), what, plugins)

    def after(outcome, hook_name, hook_impls, kwargs):
        dt = time.perf_counter() - started.pop(hook_name, time.perf_counter())
        exc = outcome.exception
        result = type(exc).__name__ if exc is not None else type(outcome.get_result()).__name__
        trace_log.info("trace: %s returned %s in %.3f s", hook_name, result, dt)

    trace_log.setLevel(logging.INFO)
    return pm.add_hookcall_monitoring(before, after)


# ---------------------------------------------------------------------------------------
# ``spec2 plugins``
# ---------------------------------------------------------------------------------------


@dataclass
class PluginInfo:
    name: str
    version: str
    origin: str
    exposure_types: list[str]
    hooks: list[str]
    claims: dict = field(default_factory=dict)  # {exp_type: [steps owned]}


def describe_plugins(pm) -> list[PluginInfo]:
    """What ``spec2 plugins`` prints: one record per registered plugin."""
    dists = {id(plugin): dist for plugin, dist in pm.list_plugin_distinfo()}
    table = claims_of(pm)
    infos = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None or plugin is hookspecs:
            continue
        owned = table.of_plugin(name)
        types = sorted(t for t, steps in owned.items() if RECIPE in steps)
        hooks = sorted(
            caller.name
            for caller in (pm.get_hookcallers(plugin) or [])
            if not caller.name.startswith("spec2_")
        )
        dist = dists.get(id(plugin))
        module_file = getattr(plugin, "__file__", None) or type(plugin).__module__
        if dist is not None:
            eps = [
                ep
                for ep in dist.entry_points
                if ep.group == ENTRY_POINT_GROUP and ep.name == name
            ]
            ep_text = f"entry point {eps[0].name} = {eps[0].value}" if eps else "entry point"
            origin = f"{ep_text} ({dist.project_name}) at {module_file}"
            version = dist.version
        else:
            origin = f"registered directly at {module_file}"
            version = getattr(plugin, "__version__", "") or _module_version(plugin)
        claims = {t: [s for s in steps if s != RECIPE] for t, steps in owned.items()}
        infos.append(PluginInfo(name, version, origin, types, hooks, claims))
    return infos


def _module_version(plugin) -> str:
    top = getattr(plugin, "__name__", "").split(".")[0]
    try:
        return importlib.metadata.version(top)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"
