"""spec2 plugin for NIRSpec: fixed slit (NRS_FIXEDSLIT) and bright-object time series
(NRS_BRIGHTOBJ). Registered through the ``spec2`` entry point ``nirspec``.
"""

__version__ = "0.1.0"
