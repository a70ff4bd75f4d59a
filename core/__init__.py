"""spec2: JWST stage-2 spectroscopic calibration as a slim core plus instrument plugins.

The core owns the hook specifications (:mod:`spec2.hookspecs`), the plugin manager
(:mod:`spec2.plugins`), the per-exposure runner (:mod:`spec2.pipeline`), reference-file
resolution (:mod:`spec2.refs`) and instrument-agnostic numerics (:mod:`spec2.algorithms`).
Instrument plugins are found through the ``spec2`` entry-point group.
"""

__version__ = "0.1.0"
