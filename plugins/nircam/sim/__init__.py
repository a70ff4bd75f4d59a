"""Simulated NIRCam data for tests, benchmarks and ``spec2 demo``; no calibration code
imports it.

:mod:`spec2_nircam.sim.tsgrism` writes grism time-series exposures,
:mod:`spec2_nircam.sim.wfss` WFSS fields (grism and direct images, catalog, association),
:mod:`spec2_nircam.sim.references` their reference files in CRDS formats.
"""
