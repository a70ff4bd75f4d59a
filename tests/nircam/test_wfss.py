"""NIRCam WFSS (NRC_WFSS) end to end: a crowded simulated field through `spec2 process`
and `strun calwebb_spec2` from the same local CRDS cache; parity after every step and of
the x1d, closure on isolated point sources, and the catalog errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.nircam.conftest import (
    run_jwst,
    run_spec2,
    same_wfss_product,
    spec2_failure,
)

pytestmark = pytest.mark.slow

N_SOURCES = 40
STEPS = ("assign_wcs", "bkg_subtract", "flat_field", "extract_2d", "srctype", "photom")
PRODUCTS = ("assign_wcs", "bsub", "flat_field", "extract_2d", "srctype", "photom", "cal")


# (module, grism, sources, seed): GRISMR and GRISMC disperse along rows and columns;
# module B's grisms disperse the other way
CONFIGS = [("A", "GRISMR", N_SOURCES, 5), ("A", "GRISMC", 25, 5), ("B", "GRISMR", 25, 7)]


@pytest.fixture(scope="module", params=CONFIGS, ids=lambda c: f"{c[0]}-{c[1]}")
def wfss_sim(request, tmp_path_factory):
    from spec2.crds_cache import LocalCache
    from spec2_nircam.sim.wfss import simulate_wfss

    module, pupil, n_sources, seed = request.param
    root = tmp_path_factory.mktemp(f"nrc_wfss_{module}_{pupil}")
    cache = LocalCache(root / "crds")
    out = simulate_wfss(root / "data", cache, n_sources=n_sources, seed=seed, pupil=pupil, module=module)
    cache.finish()
    out["root"], out["crds"] = root, root / "crds"
    return out


@pytest.fixture(scope="module")
def wfss_jwst(wfss_sim):
    return run_jwst(wfss_sim, wfss_sim["asn"], wfss_sim["root"] / "jwst", STEPS)


@pytest.fixture(scope="module")
def wfss_spec2(wfss_sim):
    return run_spec2(wfss_sim, wfss_sim["asn"], wfss_sim["root"] / "spec2")


@pytest.mark.parity
@pytest.mark.parametrize("step", PRODUCTS)
def test_each_step_matches_jwst(step, wfss_sim, wfss_jwst, wfss_spec2):
    """Bit for bit after every step: the exposure (with its FITS SIP approximation of the
    imaging WCS), then every cut-out (pixels, wavelengths, identity, units, PHOTMJSR)
    and the world coordinates of every slit WCS."""
    from stdatamodels.jwst import datamodels

    name = f"{wfss_sim['stem']}_{step}.fits"
    with datamodels.open(wfss_spec2 / name) as a, datamodels.open(wfss_jwst / name) as b:
        same_wfss_product(a, b, step, grid=(4, 97))


@pytest.mark.parity
def test_x1d_matches_jwst(wfss_sim, wfss_jwst, wfss_spec2):
    """The WFSS x1d layout (one table per order, a row per source) with every column of
    every row identical, units included; jwst records the full path of its _cal file as
    FILENAME, spec2 the file's name."""
    from stdatamodels.jwst import datamodels

    name = f"{wfss_sim['stem']}_x1d.fits"
    with datamodels.open(wfss_spec2 / name) as a, datamodels.open(wfss_jwst / name) as b:
        assert type(a) is type(b) is datamodels.WFSSMultiSpecModel
        assert len(a.spec) == len(b.spec) == 1
        sa, sb = a.spec[0], b.spec[0]
        ta, tb = sa.spec_table, sb.spec_table
        assert ta.dtype == tb.dtype and ta.shape == tb.shape
        for col in tb.dtype.names:
            if ta[col].dtype.kind == "f":
                np.testing.assert_array_equal(ta[col], tb[col], err_msg=col)
            else:
                assert np.array_equal(ta[col], tb[col]), col
            assert str(ta.columns[col].unit) == str(tb.columns[col].unit), col
        for key in ("group_id", "dispersion_direction", "spectral_order", "exposure_time", "integration_time"):
            assert getattr(sa, key) == getattr(sb, key), key
        assert sa.filename == Path(sb.filename).name


def test_closure_isolated_point_sources(wfss_sim, wfss_spec2):
    """The scaled reference background recovers the injected sky scale within 0.5 %;
    bright point sources whose cut-out no other source's trace crosses: the extracted
    spectrum (aperture-corrected) recovers the injected one within 3 % (median over the
    band); the emission lines (three times the continuum) are where they were put."""
    from stdatamodels.jwst import datamodels

    from spec2_nircam.sim.wfss import SKY_SCALE

    with datamodels.open(wfss_spec2 / f"{wfss_sim['stem']}_bsub.fits") as bsub:
        assert bsub.meta.background.scaling_factor == pytest.approx(SKY_SCALE, rel=0.005)
    sources, spectra = wfss_sim["sources"], wfss_sim["spectra"]
    with datamodels.open(wfss_spec2 / f"{wfss_sim['stem']}_cal.fits") as cal:
        boxes = {int(s.source_id): (s.xstart, s.xstart + s.xsize, s.ystart, s.ystart + s.ysize) for s in cal.slits}
    with datamodels.open(wfss_spec2 / f"{wfss_sim['stem']}_x1d.fits") as x1d:
        t = x1d.spec[0].spec_table
        rows = {int(r["SOURCE_ID"]): r for r in t}

    def overlaps(a, b):
        return a[0] < b[1] and b[0] < a[1] and a[2] < b[3] and b[2] < a[3]

    checked = 0
    for label, box in boxes.items():
        i = label - 1
        if sources.is_extended[i] or sources.abmag[i] > 22.5:
            continue
        if any(overlaps(box, other) for lab, other in boxes.items() if lab != label):
            continue
        row = rows[label]
        n = int(row["N_ALONGDISP"])
        wl, flux = np.asarray(row["WAVELENGTH"][:n]), np.asarray(row["FLUX"][:n])
        band = (wl > 3.95) & (wl < 4.9) & np.isfinite(flux)
        truth = spectra[i](wl[band])
        assert np.median(flux[band] / truth) == pytest.approx(1.0, abs=0.03), label
        checked += 1
    assert checked >= 1


@pytest.mark.parametrize("damage", ["no_catalog_member", "catalog_missing_column"])
def test_catalog_problems_fail_clearly(damage, wfss_sim, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(Path(wfss_sim["asn"]).parent, data)
    asn_path = data / Path(wfss_sim["asn"]).name
    asn = json.loads(asn_path.read_text())
    if damage == "no_catalog_member":
        asn["products"][0]["members"] = [m for m in asn["products"][0]["members"] if m["exptype"] == "science"]
        expected = "needs a source catalog"
    else:
        cat = data / Path(wfss_sim["catalog"]).name
        cat.write_text(cat.read_text().replace("sky_bbox_ur", "sky_bbox_xx"))
        expected = "lacks the column"
    asn_path.write_text(json.dumps(asn))
    assert expected in spec2_failure(wfss_sim, asn_path, tmp_path / "out")
