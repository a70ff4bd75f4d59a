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
    from spec2_nircam.sim.tsgrism import simulate_tsgrism

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


def same_wfss_product(a, b, step, grid):
    """A WFSS step product of spec2 (``a``) and jwst (``b``) identical: an exposure's
    pixels and wcsinfo (but S_REGION), with the background's scaling factor and mask
    after bkg_subtract; or every cut-out's pixels, identity, wcsinfo, units, photometry
    keywords and slit-WCS world coordinates on a grid of (rows, columns) steps ``grid``."""
    import numpy as np
    from stdatamodels.jwst import datamodels

    assert type(a) is type(b)
    if not isinstance(b, datamodels.MultiSlitModel):
        same_arrays(a, b, step)
        keys = [k for k in b.meta.wcsinfo.instance if k != "s_region"]
        assert {k: a.meta.wcsinfo.instance.get(k) for k in keys} == {k: b.meta.wcsinfo.instance[k] for k in keys}
        if step == "bsub":
            assert a.meta.background.scaling_factor == b.meta.background.scaling_factor
            np.testing.assert_array_equal(a.mask, b.mask)
        return
    assert len(a.slits) == len(b.slits) > 15
    for sa, sb in zip(a.slits, b.slits, strict=True):
        same_arrays(sa, sb, f"{step} slit {sb.name}")
        assert [getattr(sa, k) for k in SLIT_ATTRS] == [getattr(sb, k) for k in SLIT_ATTRS]
        assert sa.meta.wcsinfo.instance == sb.meta.wcsinfo.instance
        assert sa.meta.bunit_data == sb.meta.bunit_data
        if sb.meta.photometry.conversion_megajanskys is not None:
            assert sa.meta.photometry.instance == sb.meta.photometry.instance
        yy, xx = np.mgrid[0 : sb.data.shape[0] : grid[0], 0 : sb.data.shape[1] : grid[1]].astype(float)
        for p, q in zip(sa.meta.wcs(xx, yy), sb.meta.wcs(xx, yy), strict=True):
            np.testing.assert_array_equal(p, q)


@pytest.fixture(scope="session")
def tsgrism_jwst(tsgrism_sim):
    return run_jwst(tsgrism_sim, tsgrism_sim["tso"], tsgrism_sim["root"] / "jwst", STEPS)


@pytest.fixture(scope="session")
def tsgrism_spec2(tsgrism_sim):
    return run_spec2(tsgrism_sim, tsgrism_sim["tso"], tsgrism_sim["root"] / "spec2")
