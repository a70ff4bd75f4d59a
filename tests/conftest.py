"""Shared test configuration."""

import os

# Parity tests run jwst's stpipe steps: never let them ask a CRDS server for parameters.
os.environ.setdefault("STPIPE_DISABLE_CRDS_STEPPARS", "true")
