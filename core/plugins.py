"""The plugin manager: loads every plugin of the ``spec2`` entry-point group.

Built-in instrument plugins are declared in spec2's own pyproject exactly as a
third-party package declares its own, so the core never imports a plugin by name.
Tests may pass ``plugins=[...]`` to register in-memory plugins instead.
"""

from __future__ import annotations

import importlib.metadata
import os
from dataclasses import dataclass

import pluggy

from spec2 import hookspecs
from spec2.recipe import CORE_STEPS, StepDef

ENTRY_POINT_GROUP = "spec2"
#: Comma-separated entry-point names not to load (as pytest's ``-p no:NAME``).
DISABLE_ENV = "SPEC2_DISABLE_PLUGINS"


def get_plugin_manager(plugins=None, load_entrypoints=True, disabled=None) -> pluggy.PluginManager:
    """Create a plugin manager with the core hookspecs and the plugins registered.

    ``plugins`` -- extra plugin objects/modules to register (tests); ``load_entrypoints``
    -- also load everything installed under the ``spec2`` entry-point group;
    ``disabled`` -- entry-point names to block (default: from $SPEC2_DISABLE_PLUGINS).
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
    return pm


def step_definitions(pm) -> dict[str, StepDef]:
    """The core steps plus every step a plugin declares."""
    steps = dict(CORE_STEPS)
    for defs in pm.hook.spec2_step_definitions():
        for step in defs or ():
            steps[step.name] = step
    return steps


@dataclass
class PluginInfo:
    name: str
    version: str
    origin: str
    exposure_types: list[str]
    hooks: list[str]


def describe_plugins(pm) -> list[PluginInfo]:
    """What ``spec2 plugins`` prints: one record per registered plugin."""
    dists = {id(plugin): dist for plugin, dist in pm.list_plugin_distinfo()}
    infos = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None or plugin is hookspecs:
            continue
        impls = pm.hook.spec2_exposure_types.get_hookimpls()
        types = []
        for impl in impls:
            if impl.plugin is plugin:
                types = list(impl.function() or [])
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
        infos.append(PluginInfo(name, version, origin, types, hooks))
    return infos


def _module_version(plugin) -> str:
    top = getattr(plugin, "__name__", "").split(".")[0]
    try:
        return importlib.metadata.version(top)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"
