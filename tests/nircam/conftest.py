"""Shared NIRCam grism time-series fixtures: one simulated exposure (with its local CRDS
cache) per test session, calibrated once by jwst 3.0.0 (the oracle) and once by spec2,
both saving every step's product."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.miri.conftest import crds_env, stem

NINTS = 12
STEPS = ("assign_wcs", "flat_field", "extract_2d", "srctype", "photom")


@pytest.fixture(scope="session")
def tsgrism_sim(tmp_path_factory):
    from spec2.crds_cache import LocalCache
    from spec2_nircam.simulate import simulate_tsgrism

    root = tmp_path_factory.mktemp("tsgrism")
    cache = LocalCache(root / "crds")
    out = simulate_tsgrism(root / "data", cache, nints=NINTS)
    cache.finish()
    out["root"], out["crds"], out["stem"] = root, root / "crds", stem(out["tso"])
    return out


def run_jwst(sim, target, out, steps):
    """jwst's calwebb_spec2 on ``target`` from its folder (where jwst resolves association
    members), saving each of ``steps``' products into ``out``."""
    strun = str(Path(sys.executable).parent / "strun")
    save = [f"--steps.{step}.save_results=true" for step in steps]
    subprocess.run([strun, "calwebb_spec2", Path(target).name, "--output_dir", str(out), *save],
                   cwd=Path(target).parent, env=crds_env(sim), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return out


def run_spec2(sim, target, out):
    """`spec2 process` on ``target``, saving every step's product into ``out``."""
    spec2 = str(Path(sys.executable).parent / "spec2")
    subprocess.run([spec2, "process", str(target), "-o", str(out), "-q", "--save-intermediate"],
                   env=crds_env(sim), check=True)
    return out


def spec2_failure(sim, target, out):
    """Run `spec2 process` on an input expected to fail: exit status 1, exactly one
    FAILED line (returned), and no FITS product left in ``out``."""
    spec2 = str(Path(sys.executable).parent / "spec2")
    res = subprocess.run([spec2, "process", str(target), "-o", str(out), "-q"], env=crds_env(sim),
                         capture_output=True, text=True)
    assert res.returncode == 1
    failed = [ln for ln in res.stderr.splitlines() if ln.startswith("FAILED")]
    assert len(failed) == 1, res.stderr
    assert not [p for p in Path(out).iterdir() if p.suffix == ".fits"]
    return failed[0]


ARRAYS = ("data", "err", "dq", "var_poisson", "var_rnoise", "var_flat", "wavelength")
SLIT_ATTRS = ("name", "source_id", "source_type", "is_extended", "xstart", "xsize", "ystart", "ysize",
              "source_xpos", "source_ypos", "source_ra", "source_dec")


def same_arrays(a, b, what):
    """Every pixel array of two models (or slits) identical; absent or empty alike."""
    import numpy as np

    for name in ARRAYS:
        x, y = getattr(a, name, None), getattr(b, name, None)
        if y is None or not np.size(y):
            assert x is None or not np.size(x), (what, name)
            continue
        np.testing.assert_array_equal(x, y, err_msg=f"{what} {name}")


@pytest.fixture(scope="session")
def tsgrism_jwst(tsgrism_sim):
    return run_jwst(tsgrism_sim, tsgrism_sim["tso"], tsgrism_sim["root"] / "jwst", STEPS)


@pytest.fixture(scope="session")
def tsgrism_spec2(tsgrism_sim):
    return run_spec2(tsgrism_sim, tsgrism_sim["tso"], tsgrism_sim["root"] / "spec2")
