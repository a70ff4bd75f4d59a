"""Simulated NIRSpec data for tests, benchmarks and ``spec2 demo``; no calibration code
imports it.

:mod:`spec2_nirspec.sim.exposures` writes fixed-slit and BOTS exposures,
:mod:`spec2_nirspec.sim.references_wcs` the eight instrument-model reference files and
:mod:`spec2_nirspec.sim.references_cal` the calibration ones (flats, pathloss, photom,
area, wavecorr, apcorr) in CRDS formats.
"""
