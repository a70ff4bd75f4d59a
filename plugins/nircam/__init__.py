"""spec2 plugin package for NIRCam: grism time series (NRC_TSGRISM) and wide-field
slitless spectroscopy (NRC_WFSS).

Registered through the ``spec2`` entry point ``nircam`` (:mod:`spec2_nircam.hooks`).
"""
