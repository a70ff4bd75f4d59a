"""Shared test configuration."""

import os

# A step opening a reference type its plugin's claim does not declare fails the exposure
# (a warning for users): every simulated mode checks the built-in declarations.
os.environ.setdefault("SPEC2_STRICT_CLAIMS", "1")

# Parity tests run jwst's stpipe steps: never let them ask a CRDS server for parameters.
os.environ.setdefault("STPIPE_DISABLE_CRDS_STEPPARS", "true")

# The example third-party plugin (docs/example_plugin) is pip-installed into the test
# environment by tests/test_example_plugin.py; it adds a step to MIRI LRS fixed slit.
# Keep it out of every other test (parity must compare the built-in recipe); its own
# tests switch it back on.
os.environ.setdefault("SPEC2_DISABLE_PLUGINS", "example_outliers")
