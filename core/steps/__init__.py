"""Instrument-agnostic step implementations that work on datamodels.

Each module here turns a datamodel and opened reference models into the calibrated
model; the numerics live in :mod:`spec2.algorithms`. Plugins call these from their hooks
when a mode needs nothing instrument-specific.
"""
