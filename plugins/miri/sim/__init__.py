"""Simulated MIRI LRS data for tests, benchmarks and ``spec2 demo``; no calibration code
imports it.

:mod:`spec2_miri.sim.lrs` writes fixed-slit and slitless exposures,
:mod:`spec2_miri.sim.references` their reference files in CRDS formats.
"""
