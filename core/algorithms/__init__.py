"""Instrument-agnostic numerics: pure functions on numpy arrays, no file I/O, no models."""
