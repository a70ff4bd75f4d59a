"""Example spec2 plugin: an outlier-flagging step added to MIRI LRS fixed slit."""

__version__ = "0.1.0"
