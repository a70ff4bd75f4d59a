"""spec2 plugin package for NIRISS: wide-field slitless spectroscopy (NIS_WFSS).

Registered through the ``spec2`` entry point ``niriss`` (:mod:`spec2_niriss.hooks`).
"""
