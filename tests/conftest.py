"""Shared test configuration, and the ``slow``/``parity`` marks applied from the fixtures
a test uses (so that ``pytest -m "not slow"`` is a fast loop)."""

import os

import pytest

# A step opening a reference type its plugin's claim does not declare fails the exposure
# (a warning for users): every simulated mode checks the built-in declarations.
os.environ.setdefault("SPEC2_STRICT_CLAIMS", "1")

# Parity tests run jwst's stpipe steps: never let them ask a CRDS server for parameters.
os.environ.setdefault("STPIPE_DISABLE_CRDS_STEPPARS", "true")

# The example third-party plugin (docs/example_plugin) adds a step to MIRI LRS fixed slit.
# Its tests install it into a folder of their own; should a developer have pip-installed
# it into this environment, it still stays out of every other test (parity must compare
# the built-in recipe).
os.environ.setdefault("SPEC2_DISABLE_PLUGINS", "example_outliers")

# The expensive fixtures: whole simulated data sets and the pipeline runs on them (tens
# of seconds to minutes each). A test that uses one, directly or through another
# fixture, is marked ``slow``. Fixtures are matched by name, in every test directory.
SLOW_FIXTURES = {
    # tests/miri: the LRS data set, jwst's and spec2's products; jwst on one-off sets
    "lrs_sim", "jwst_products", "spec2_products", "jwst_lrs",
    # tests/nirspec: the FS/BOTS data set (and jwst_/spec2_products above); the
    # full-frame inputs of the one-step parity tests, which run jwst steps on them
    "nrs_sim", "step_data",
    # tests/nircam: grism time series; WFSS fields, each with jwst's and spec2's runs
    "tsgrism_sim", "tsgrism_jwst", "tsgrism_spec2", "tsgrism128_sim", "tsgrism128_jwst", "tsgrism128_spec2",
    "wfss_sim", "wfss_jwst", "wfss_spec2",
    "bkg_setup", "nrc_contam",
    # tests/niriss: WFSS fields with jwst's and spec2's runs
    "nis_wfss", "contam_run",
    # tests/nirspec/test_mos_parity.py: simulated MOS exposures, jwst's and spec2's steps on them
    "mos_sim", "mos_jwst", "mos_spec2", "mos_bad_inputs", "mos_nods",
    # tests/nirspec/test_mos_extract1d.py: spec2 process on a MOS exposure, jwst's calwebb_spec2 on it
    "mosx_run", "mosx_jwst",
    # tests/nirspec/test_mos_end_to_end.py: nod + imprint visit, jwst's and spec2's calwebb_spec2
    "mos_e2e",
    # tests/parallel marks its module slow itself (its fixture names are generic)
}

# The fixtures that run jwst (the oracle): a test that uses one is marked ``parity``.
PARITY_FIXTURES = {
    "jwst_products", "jwst_lrs", "tsgrism_jwst", "tsgrism128_jwst", "wfss_jwst", "bkg_setup", "nrc_contam",
    "nis_wfss", "contam_run", "mos_jwst", "mos_nods", "mos_e2e",
    "mosx_jwst",
}


@pytest.hookimpl(tryfirst=True)  # before -m deselects by mark
def pytest_collection_modifyitems(items):
    for item in items:
        used = set(item.fixturenames)
        if used & SLOW_FIXTURES:
            item.add_marker(pytest.mark.slow)
        if used & PARITY_FIXTURES:
            item.add_marker(pytest.mark.parity)


@pytest.fixture(autouse=True)
def _fresh_crds_client():
    """The crds client memoizes its server information and mappings per process: a test
    that points CRDS_PATH/CRDS_SERVER_URL somewhere else must not see the previous test's
    (a real run has one CRDS configuration per process)."""
    yield
    import sys

    utils = sys.modules.get("crds.core.utils")
    if utils is not None:
        utils.clear_function_caches()
