"""Shared NIRSpec fixtures: one simulated data set (fixed-slit exposures and a BOTS time
series, with the whole reference set as a local CRDS cache) per test session, calibrated
once by jwst 3.0.0 (the oracle, every step's product saved) and once by spec2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

NINTS = 20
# the steps whose intermediate products both pipelines save, for step-by-step parity
FS_STEPS = ("assign_wcs", "extract_2d", "srctype", "wavecorr", "flat_field", "pathloss", "photom")
BOTS_STEPS = ("assign_wcs", "extract_2d", "srctype", "wavecorr", "flat_field", "photom")



@pytest.fixture(scope="session")
def nrs_sim(tmp_path_factory):
    from spec2.crds_cache import LocalCache
    from spec2_nirspec.sim.exposures import simulate_nirspec

    root = tmp_path_factory.mktemp("nirspec")
    cache = LocalCache(root / "crds")
    out = simulate_nirspec(root / "data", cache, nints_bots=NINTS)
    out["root"] = root
    out["crds"] = root / "crds"
    return out


@pytest.fixture(scope="session")
def step_data(tmp_path_factory):
    """Light inputs for one-step parity tests (see tests/nirspec/stepdata.py), with the
    CRDS environment jwst wants set for the tests that use them."""
    from tests.nirspec.stepdata import make_step_data

    data = make_step_data(tmp_path_factory.mktemp("nrs_steps"))
    with pytest.MonkeyPatch.context() as mp:
        for key, value in data["env"].items():
            mp.setenv(key, value)
        yield data


def stem(path):
    """The product root of a rate/rateints file: its name without the last suffix."""
    return Path(path).name.rsplit("_", 1)[0]


def crds_env(sim):
    from spec2.crds_cache import crds_environment

    return dict(os.environ, **crds_environment(sim["crds"]))


def exposures(sim):
    return {k: v for k, v in sim.items() if k.startswith(("fs", "bots"))}


@pytest.fixture(scope="session")
def jwst_products(nrs_sim):
    """jwst's calwebb_spec2 on every simulated exposure, saving each step's product."""
    out = nrs_sim["root"] / "jwst"
    strun = str(Path(sys.executable).parent / "strun")
    targets = {**exposures(nrs_sim), "nod_asn": nrs_sim["nod_asn"]}
    for name, path in targets.items():
        steps = BOTS_STEPS if name == "bots" else FS_STEPS + (("bkg_subtract",) if name == "nod_asn" else ())
        save = [f"--steps.{step}.save_results=true" for step in steps]
        subprocess.run(
            [strun, "calwebb_spec2", Path(path).name, "--output_dir", str(out), *save],
            cwd=Path(path).parent, env=crds_env(nrs_sim), check=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
    return out


@pytest.fixture(scope="session")
def spec2_products(nrs_sim):
    out = nrs_sim["root"] / "spec2"
    spec2 = str(Path(sys.executable).parent / "spec2")
    subprocess.run(
        [spec2, "process", *map(str, exposures(nrs_sim).values()), str(nrs_sim["nod_asn"]), "-o", str(out), "-q",
         "--save-intermediate"],
        env=crds_env(nrs_sim), check=True,
    )
    return out
