"""Shared MIRI LRS fixtures: one simulated data set (with its local CRDS cache) per test
session, calibrated once by jwst 3.0.0 (the oracle) and once by spec2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

NINTS = 30
# the steps whose intermediate products both pipelines save, for step-by-step parity
STEPS = ("assign_wcs", "bkg_subtract", "srctype", "flat_field", "pathloss", "photom")


@pytest.fixture(scope="session")
def lrs_sim(tmp_path_factory):
    from spec2.crds_cache import LocalCache
    from spec2_miri.sim.lrs import simulate_lrs

    root = tmp_path_factory.mktemp("lrs")
    cache = LocalCache(root / "crds")
    out = simulate_lrs(root / "data", cache, nints=NINTS)
    cache.finish()
    out["root"] = root
    out["crds"] = root / "crds"
    return out


def stem(path):
    """The product root of a rate/rateints file: its name without the last suffix."""
    return Path(path).name.rsplit("_", 1)[0]


def crds_env(sim):
    from spec2.crds_cache import crds_environment

    env = dict(os.environ, **crds_environment(sim["crds"]))
    return env


@pytest.fixture(scope="session")
def jwst_products(lrs_sim):
    """jwst's calwebb_spec2 on the nod association and the slitless series (from the
    association's folder, where jwst resolves members)."""
    out = lrs_sim["root"] / "jwst"
    strun = str(Path(sys.executable).parent / "strun")
    save = [f"--steps.{step}.save_results=true" for step in STEPS]
    for target in (lrs_sim["asn"], lrs_sim["tso"]):
        subprocess.run(
            [strun, "calwebb_spec2", Path(target).name, "--output_dir", str(out), *save],
            cwd=Path(target).parent, env=crds_env(lrs_sim), check=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
    return out


@pytest.fixture(scope="session")
def spec2_products(lrs_sim):
    out = lrs_sim["root"] / "spec2"
    spec2 = str(Path(sys.executable).parent / "spec2")
    subprocess.run(
        [spec2, "process", str(lrs_sim["asn"]), str(lrs_sim["tso"]), "-o", str(out), "-q", "--save-intermediate"],
        env=crds_env(lrs_sim), check=True,
    )
    return out
