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
NINTS_128 = 4  # the SUBGRISM128 series: small, its point is the cut-out and the AREA
STEPS = ("assign_wcs", "flat_field", "extract_2d", "srctype", "photom")


def simulate(tmp_path_factory, name, nints, rows=64):
    """One simulated SUBGRISM``rows`` series and its local CRDS cache in a fresh folder."""
    from spec2.crds_cache import LocalCache
    from spec2_nircam.sim.tsgrism import simulate_tsgrism

    root = tmp_path_factory.mktemp(name)
    cache = LocalCache(root / "crds")
    out = simulate_tsgrism(root / "data", cache, nints=nints, rows=rows)
    cache.finish()
    out["root"], out["crds"], out["stem"] = root, root / "crds", stem(out["tso"])
    return out


@pytest.fixture(scope="session")
def tsgrism_sim(tmp_path_factory):
    return simulate(tmp_path_factory, "tsgrism", NINTS)


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


ARRAYS = ("data", "err", "dq", "var_poisson", "var_rnoise", "var_flat", "wavelength", "area")
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


TSO_SLIT_META = ("name", "xstart", "xsize", "ystart", "ysize", "source_xpos", "source_ypos", "source_id",
                 "source_type", "source_name", "source_alias")


def same_tsgrism_product(a, b, step):
    """A grism time-series step product of spec2 (``a``) and jwst (``b``) identical: every
    pixel array (AREA included), the cut-out's identity, wcsinfo, units, photometry
    keywords, and the world coordinates of both WCSs on a grid over the data."""
    import numpy as np
    import pytest
    from stdatamodels.jwst import datamodels

    assert type(a) is type(b)
    same_arrays(a, b, step)
    w = ("spectral_order", "dispersion_direction", "siaf_xref_sci", "siaf_yref_sci")
    assert [getattr(a.meta.wcsinfo, k) for k in w] == [getattr(b.meta.wcsinfo, k) for k in w]
    if isinstance(b, datamodels.SlitModel):
        assert [getattr(a, k) for k in TSO_SLIT_META] == [getattr(b, k) for k in TSO_SLIT_META]
    assert a.meta.bunit_data == b.meta.bunit_data
    for key in ("pixelarea_steradians", "pixelarea_arcsecsq", "conversion_megajanskys", "conversion_microjanskys"):
        va, vb = getattr(a.meta.photometry, key), getattr(b.meta.photometry, key)
        assert va == pytest.approx(vb, rel=1e-6) if vb is not None else va is None, key
    # the same world coordinates from both WCSs (frames and transforms as jwst's)
    assert a.meta.wcs.available_frames == b.meta.wcs.available_frames
    ny, nx = b.data.shape[-2:]
    yy, xx = np.mgrid[0:ny:9, 0:nx:101].astype(float)
    args = (xx, yy, np.ones_like(xx)) if step in ("assign_wcs", "flat_field") else (xx, yy)
    for p, q in zip(a.meta.wcs(*args), b.meta.wcs(*args), strict=True):
        np.testing.assert_allclose(p, q, rtol=1e-14, atol=0)


def same_x1dints(a, b, nints):
    """Two ``_x1dints`` identical: every table column bit for bit but the summed variances
    and errors (to 1 ulp: the sums run in another order), the extraction box, INT_TIMES
    and the spectral WCS."""
    import numpy as np

    assert type(a) is type(b) and len(a.spec) == len(b.spec) == 1
    ta, tb = a.spec[0].spec_table, b.spec[0].spec_table
    assert ta.dtype == tb.dtype and ta.shape == tb.shape == (nints,)
    for col in tb.dtype.names:
        if "VAR" in col or col.endswith("ERROR"):
            np.testing.assert_allclose(ta[col], tb[col], rtol=2e-15, atol=0, err_msg=col)
        else:
            np.testing.assert_array_equal(ta[col], tb[col], err_msg=col)
    sa, sb = a.spec[0], b.spec[0]
    for key in ("name", "spectral_order", "dispersion_direction", "source_type", "extraction_xstart",
                "extraction_xstop", "extraction_ystart", "extraction_ystop", "slit_ra", "slit_dec"):
        assert getattr(sa, key) == getattr(sb, key), key
    np.testing.assert_array_equal(a.int_times, b.int_times)
    pix = np.arange(0.0, ta["WAVELENGTH"].shape[1], 50.0)
    for p, q in zip(sa.meta.wcs(pix), sb.meta.wcs(pix), strict=True):
        np.testing.assert_array_equal(p, q)


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


@pytest.fixture(scope="session")
def tsgrism128_sim(tmp_path_factory):
    return simulate(tmp_path_factory, "tsgrism128", NINTS_128, rows=128)


@pytest.fixture(scope="session")
def tsgrism128_jwst(tsgrism128_sim):
    return run_jwst(tsgrism128_sim, tsgrism128_sim["tso"], tsgrism128_sim["root"] / "jwst", STEPS)


@pytest.fixture(scope="session")
def tsgrism128_spec2(tsgrism128_sim):
    return run_spec2(tsgrism128_sim, tsgrism128_sim["tso"], tsgrism128_sim["root"] / "spec2")
