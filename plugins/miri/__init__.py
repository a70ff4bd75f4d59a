"""spec2 plugin for MIRI: LRS fixed slit and LRS slitless (time series)."""

__version__ = "0.1.0"
