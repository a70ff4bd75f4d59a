"""spec2: JWST stage-2 spectroscopic calibration as a slim core plus instrument plugins.

The core owns the hook specifications (:mod:`spec2.hookspecs`), the plugin manager
(:mod:`spec2.plugins`), the per-exposure runner (:mod:`spec2.pipeline`), reference-file
resolution (:mod:`spec2.refs`) and instrument-agnostic numerics (:mod:`spec2.algorithms`).
Instrument plugins, the built-in ones included, are found through the ``spec2``
entry-point group and mark their hook implementations with :data:`hookimpl`.

``spec2.process(inputs, output_dir=...)`` calibrates from Python (:mod:`spec2.api`).
"""

import pluggy

__version__ = "0.1.0"

#: Marks a hook specification (used by :mod:`spec2.hookspecs` and by plugins that add hooks).
hookspec = pluggy.HookspecMarker("spec2")
#: Marks a hook implementation in a plugin.
hookimpl = pluggy.HookimplMarker("spec2")

__all__ = ["__version__", "hookimpl", "hookspec", "process"]


def __getattr__(name):
    # spec2.process (spec2.api) is imported on first use: ``import spec2`` stays as light
    # as a plugin's import of hookimpl needs
    if name == "process":
        from spec2.api import process

        return process
    raise AttributeError(f"module 'spec2' has no attribute {name!r}")
