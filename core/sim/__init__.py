"""Simulation helpers shared by the instrument plugins' simulators; no calibration code
imports them.

:mod:`spec2.sim.grism_scene` -- slitless fields: sources, catalogs, dispersed traces.
"""
