"""NIRISS WFSS (NIS_WFSS) end to end: a crowded simulated field through `spec2 process`
and `strun calwebb_spec2` from the same local CRDS cache, for both grisms (GR150C
disperses along rows, GR150R along columns, each with its filter-wheel angle); parity
after every step (the scaled reference background included) and of the x1d, closure on
the sky scale and on isolated point sources, and the header errors."""

from __future__ import annotations

import numpy as np
import pytest

from tests.nircam.conftest import (
    run_jwst,
    run_spec2,
    same_wfss_product,
    spec2_failure,
)

pytestmark = pytest.mark.slow

STEPS = ("assign_wcs", "bkg_subtract", "flat_field", "extract_2d", "srctype", "photom")
PRODUCTS = ("assign_wcs", "bsub", "flat_field", "extract_2d", "srctype", "photom", "cal")
SOURCES = {"GR150C": 40, "GR150R": 20}
STEM = "jw01571010001_04101_00001_nis"


@pytest.fixture(scope="module", params=sorted(SOURCES))
def nis_wfss(request, tmp_path_factory):
    """(simulation, jwst's products, spec2's products) of one grism's exposure."""
    from spec2.crds_cache import LocalCache
    from spec2_niriss.sim.wfss import simulate_wfss

    grism = request.param
    root = tmp_path_factory.mktemp(f"nis_wfss_{grism}")
    cache = LocalCache(root / "crds")
    sim = simulate_wfss(root / "data", cache, n_sources=SOURCES[grism], grism=grism)
    cache.finish()
    sim["root"], sim["crds"] = root, root / "crds"
    return sim, run_jwst(sim, sim["asn"], root / "jwst", STEPS), run_spec2(sim, sim["asn"], root / "spec2")


@pytest.mark.parity
def test_each_step_matches_jwst(nis_wfss):
    """Bit for bit after every step: the exposure (its SIP approximation of the imaging
    WCS, the background's scaling factor and source mask), then every cut-out of every
    order (pixels, wavelengths, identity, PHOTMJSR) and the world coordinates of every
    slit WCS."""
    from stdatamodels.jwst import datamodels

    _, jwst_out, spec2_out = nis_wfss
    for step in PRODUCTS:
        name = f"{STEM}_{step}.fits"
        with datamodels.open(spec2_out / name) as a, datamodels.open(jwst_out / name) as b:
            same_wfss_product(a, b, step, grid=(5, 37))
            if step == "bsub":
                assert a.meta.cal_step.bkg_subtract == b.meta.cal_step.bkg_subtract == "COMPLETE"
            if isinstance(b, datamodels.MultiSlitModel):
                assert {s.meta.wcsinfo.spectral_order for s in b.slits} == {1, 2}


@pytest.mark.parity
def test_x1d_matches_jwst(nis_wfss):
    """One table per order, a row per source of the exposure in each (empty where the
    source has no spectrum in that order), every column identical, units included."""
    from stdatamodels.jwst import datamodels

    _, jwst_out, spec2_out = nis_wfss
    name = f"{STEM}_x1d.fits"
    with datamodels.open(spec2_out / name) as a, datamodels.open(jwst_out / name) as b:
        assert len(a.spec) == len(b.spec) == 2
        for sa, sb in zip(a.spec, b.spec, strict=True):
            ta, tb = sa.spec_table, sb.spec_table
            assert ta.dtype == tb.dtype and ta.shape == tb.shape
            for col in tb.dtype.names:
                if ta[col].dtype.kind == "f":
                    np.testing.assert_array_equal(ta[col], tb[col], err_msg=col)
                else:
                    assert np.array_equal(ta[col], tb[col]), col
                assert str(ta.columns[col].unit) == str(tb.columns[col].unit), col
            for key in ("group_id", "dispersion_direction", "spectral_order", "exposure_time"):
                assert getattr(sa, key) == getattr(sb, key), key


def test_closure_sky_and_isolated_sources(nis_wfss):
    """The scaled reference background recovers the injected sky scale within 0.5 %;
    bright isolated point sources (no other cut-out overlaps theirs) recover the injected
    spectrum within 3 % (median over the band) in order 1 (AB <= 21) and 4 % in the
    fainter, five times more dispersed order 2 (AB <= 20.5)."""
    from stdatamodels.jwst import datamodels

    from spec2_niriss.sim import wfss as simulation

    sim, _, spec2_out = nis_wfss
    with datamodels.open(spec2_out / f"{STEM}_bsub.fits") as bsub:
        assert bsub.meta.background.scaling_factor == pytest.approx(simulation.SKY_SCALE, rel=0.005)
    sources, spectra = sim["sources"], sim["spectra"]
    with datamodels.open(spec2_out / f"{STEM}_cal.fits") as cal:
        boxes = [(int(s.source_id), s.meta.wcsinfo.spectral_order,
                  (s.xstart, s.xstart + s.xsize, s.ystart, s.ystart + s.ysize)) for s in cal.slits]
    with datamodels.open(spec2_out / f"{STEM}_x1d.fits") as x1d:
        rows = {(int(r["SOURCE_ID"]), t.spectral_order): r for t in x1d.spec for r in t.spec_table}

    def overlaps(a, b):
        return a[0] < b[1] and b[0] < a[1] and a[2] < b[3] and b[2] < a[3]

    checked = {1: 0, 2: 0}
    for label, order, box in boxes:
        i = label - 1
        if sources.is_extended[i] or sources.abmag[i] > (21.0 if order == 1 else 20.5):
            continue
        if any(overlaps(box, other) for lab, _, other in boxes if lab != label):
            continue
        row = rows[(label, order)]
        n = int(row["N_ALONGDISP"])
        wl, flux = np.asarray(row["WAVELENGTH"][:n]), np.asarray(row["FLUX"][:n])
        band = (wl > 1.36) & (wl < 1.64) & np.isfinite(flux)
        if band.sum() < 20:
            continue
        ratio = np.median(flux[band] / spectra[i](wl[band]))
        assert ratio == pytest.approx(1.0, abs=0.03 if order == 1 else 0.04), (label, order)
        checked[order] += 1
    assert checked[1] >= 1 and sum(checked.values()) >= 2


@pytest.mark.parametrize("damage", ["no_fwcpos", "imaging_filter"])
def test_header_problems_fail_clearly(damage, nis_wfss, tmp_path):
    import shutil
    from pathlib import Path

    from stdatamodels.jwst import datamodels

    sim = nis_wfss[0]
    data = tmp_path / "data"
    shutil.copytree(Path(sim["asn"]).parent, data)
    with datamodels.open(data / Path(sim["rate"]).name) as m:
        if damage == "no_fwcpos":
            m.meta.instrument.filter_position = None
            expected = "FWCPOS"
        else:
            m.meta.instrument.filter = "CLEAR"
            expected = "GR150C or GR150R"
        m.save(data / Path(sim["rate"]).name)
    assert expected in spec2_failure(sim, data / Path(sim["asn"]).name, tmp_path / "out")
