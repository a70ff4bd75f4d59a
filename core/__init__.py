"""spec2: JWST stage-2 spectroscopic calibration as a slim core plus instrument plugins.

The core owns the hook specifications (:mod:`spec2.hookspecs`), the plugin manager
(:mod:`spec2.plugins`), the per-exposure runner (:mod:`spec2.pipeline`), reference-file
resolution (:mod:`spec2.refs`) and instrument-agnostic numerics (:mod:`spec2.algorithms`).
Instrument plugins, the built-in ones included, are found through the ``spec2``
entry-point group and mark their hook implementations with :data:`hookimpl`.
"""

import pluggy

__version__ = "0.1.0"

#: Marks a hook specification (used by :mod:`spec2.hookspecs` and by plugins that add hooks).
hookspec = pluggy.HookspecMarker("spec2")
#: Marks a hook implementation in a plugin.
hookimpl = pluggy.HookimplMarker("spec2")

__all__ = ["hookimpl", "hookspec", "__version__"]
