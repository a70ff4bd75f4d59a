"""Simulated NIRISS data for tests, benchmarks and ``spec2 demo``; no calibration code
imports it.

:mod:`spec2_niriss.sim.wfss` writes WFSS fields (grism and direct images, catalog,
association), :mod:`spec2_niriss.sim.references` their reference files in CRDS formats.
"""
