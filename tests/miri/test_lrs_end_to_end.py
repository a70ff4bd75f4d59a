"""`spec2 process` end to end on simulated MIRI LRS data from a local CRDS cache:
products named as jwst names them, status keywords, closure against the injected
spectrum, and a bad exposure that does not stop the others."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.miri.conftest import NINTS, crds_env
from tests.miri.conftest import stem as _stem

pytestmark = pytest.mark.slow


def test_products_and_status_keywords(lrs_sim, spec2_products):
    from stdatamodels.jwst import datamodels

    names = sorted(p.name for p in spec2_products.iterdir())
    expected = []
    for nod in lrs_sim["nods"]:
        expected += [f"{_stem(nod)}_{s}.fits" for s in ("cal", "s2d", "x1d")]
    expected += [f"{_stem(lrs_sim['tso'])}_{s}.fits" for s in ("calints", "x1dints")]
    assert sorted(n for n in names if n.rsplit("_", 1)[1] in ("cal.fits", "s2d.fits", "x1d.fits", "calints.fits", "x1dints.fits")) == sorted(expected)
    # --save-intermediate: one product per calibration step, named with jwst's suffixes
    assert f"{_stem(lrs_sim['nods'][0])}_bsub.fits" in names and f"{_stem(lrs_sim['nods'][0])}_flat_field.fits" in names
    with datamodels.open(spec2_products / f"{_stem(lrs_sim['nods'][0])}_cal.fits") as cal:
        steps = cal.meta.cal_step
        assert (steps.assign_wcs, steps.bkg_subtract, steps.flat_field, steps.pathloss, steps.photom) == ("COMPLETE",) * 5
        assert cal.meta.ref_file.flat.name == "crds://spec2sim_miri_lrs_flat.fits"
        assert cal.meta.ref_file.crds.context_used == "jwst_0001.pmap"
    with datamodels.open(spec2_products / f"{_stem(lrs_sim['tso'])}_calints.fits") as cal:
        assert cal.meta.cal_step.pathloss == "SKIPPED" and cal.meta.cal_step.bkg_subtract == "SKIPPED"
        assert cal.data.shape[0] == NINTS


def test_fixed_slit_closure(lrs_sim, spec2_products):
    """The _x1d recovers the injected spectrum. Per-element noise is ~0.3 % here and the
    spline wavelength solution shifts lambda by < 1e-3 micron; 1 % median and 3 % at the
    90th percentile leave room for the two, but not for a missing correction (slit loss
    alone is 10-30 %, the aperture correction 2-10 %). No element is off by more than 3 %:
    a detector defect under the source (once a 16 % dip at 7.26 micron) would be."""
    from stdatamodels.jwst import datamodels

    from spec2_miri.sim.lrs import default_spectrum

    for nod in lrs_sim["nods"]:
        with datamodels.open(spec2_products / f"{_stem(nod)}_x1d.fits") as x1d:
            t = x1d.spec[0].spec_table
            wl, flux = np.asarray(t["WAVELENGTH"]), np.asarray(t["FLUX"])
        sel = (wl > 5.5) & (wl < 13.5) & np.isfinite(flux)
        ratio = flux[sel] / default_spectrum(wl[sel])
        assert sel.sum() > 150
        assert np.median(np.abs(ratio - 1)) < 0.01
        assert np.percentile(np.abs(ratio - 1), 90) < 0.03
        assert np.max(np.abs(ratio - 1)) < 0.03, wl[sel][np.argmax(np.abs(ratio - 1))]


def test_slitless_closure_and_transit(lrs_sim, spec2_products):
    """Per-integration spectra recover the injected spectrum out of transit, and the
    white-light curve recovers the 1 % depth to within 0.1 % (noise ~0.02 % per
    integration in white light)."""
    from stdatamodels.jwst import datamodels

    from spec2_miri.sim.lrs import default_spectrum

    with datamodels.open(spec2_products / f"{_stem(lrs_sim['tso'])}_x1dints.fits") as x1d:
        t = x1d.spec[0].spec_table
        wl, flux = np.asarray(t["WAVELENGTH"]), np.asarray(t["FLUX"])
        assert len(x1d.int_times) == NINTS
    assert flux.shape[0] == NINTS
    lc = lrs_sim["light_curve"]
    oot = lc == lc.max()
    sel = (wl[0] > 5.5) & (wl[0] < 13.5)
    ratio = np.nanmedian(flux[oot][:, sel], axis=0) / default_spectrum(wl[0][sel])
    assert np.nanmedian(np.abs(ratio - 1)) < 0.01
    white = np.nansum(flux[:, sel], axis=1)
    depth = 1 - np.median(white[lc == lc.min()]) / np.median(white[oot])
    assert depth == pytest.approx(1 - lc.min(), abs=1e-3)


def test_missing_member_fails_alone(lrs_sim, tmp_path):
    """An association naming a missing member fails that product with one line; the
    other inputs of the run are still calibrated; exit status 1; nothing half written."""
    data = tmp_path / "data"
    shutil.copytree(Path(lrs_sim["asn"]).parent, data)
    asn = json.loads((data / Path(lrs_sim["asn"]).name).read_text())
    asn["products"][1]["members"][0]["expname"] = "jw_gone_rate.fits"
    (data / "broken_asn.json").write_text(json.dumps(asn))
    out = tmp_path / "out"
    spec2 = str(Path(sys.executable).parent / "spec2")
    res = subprocess.run(
        [spec2, "process", "broken_asn.json", Path(lrs_sim["tso"]).name, "-o", str(out), "-q"],
        cwd=data, env=crds_env(lrs_sim), capture_output=True, text=True,
    )
    assert res.returncode == 1
    failed = [ln for ln in res.stderr.splitlines() if ln.startswith("FAILED")]
    assert len(failed) == 1 and "jw_gone_rate.fits" in failed[0], res.stderr
    names = {p.name for p in out.iterdir()}
    good = _stem(asn["products"][0]["members"][0]["expname"])
    assert f"{good}_x1d.fits" in names and f"{_stem(lrs_sim['tso'])}_x1dints.fits" in names
    assert not any(n.startswith(asn["products"][1]["name"]) for n in names)
    assert not any(n.startswith(".spec2-staging") for n in names)


def test_missing_reference_file_in_cache(lrs_sim, tmp_path):
    """A reference the cache's rmap names but the cache lacks: a clear error naming it."""
    crds = tmp_path / "crds"
    shutil.copytree(lrs_sim["crds"], crds)
    (crds / "references" / "jwst" / "miri" / "spec2sim_miri_lrs_photom.fits").unlink()
    env = crds_env({"crds": crds})
    spec2 = str(Path(sys.executable).parent / "spec2")
    out = tmp_path / "out"
    res = subprocess.run([spec2, "process", str(lrs_sim["nods"][0]), "-o", str(out), "-q"], env=env, capture_output=True, text=True)
    assert res.returncode == 1
    failed = [ln for ln in res.stderr.splitlines() if ln.startswith("FAILED")]
    assert len(failed) == 1 and "photom" in failed[0], res.stderr
    assert [p.name for p in out.iterdir()] == ["spec2_report.json"]  # no product


def _specutils_outcome(path):
    import warnings

    import specutils

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            spectra = specutils.SpectrumList.read(path, format="JWST x1d")
        except Exception as exc:  # noqa: BLE001 - the outcome is what is compared
            return type(exc).__name__
    return [(s.flux.unit.to_string(), s.spectral_axis.unit.to_string(), s.shape) for s in spectra]


@pytest.mark.parity
def test_specutils_reads_ours_as_it_reads_jwsts(lrs_sim, spec2_products, jwst_products):
    """specutils opens our _x1d exactly as it opens jwst's; for _x1dints it fails on
    jwst's own product too (specutils 2.4 expects a SOURCE_TYPE column), and on ours alike."""
    pytest.importorskip("specutils")
    for science, suffix in ((lrs_sim["nods"][0], "x1d"), (lrs_sim["tso"], "x1dints")):
        name = f"{_stem(science)}_{suffix}.fits"
        ours, theirs = _specutils_outcome(spec2_products / name), _specutils_outcome(jwst_products / name)
        assert ours == theirs
        if suffix == "x1d":
            assert ours[0][0] == "Jy" and ours[0][1] == "um"


def test_truncated_fits_fails_alone(lrs_sim, tmp_path):
    """A rate file cut short (a transfer that died) is one clear failure; the good file
    next to it is calibrated; nothing of the broken one is written."""
    broken = tmp_path / "jw_truncated_rate.fits"
    data = Path(lrs_sim["nods"][0]).read_bytes()
    broken.write_bytes(data[: len(data) // 3])
    out = tmp_path / "out"
    spec2 = str(Path(sys.executable).parent / "spec2")
    res = subprocess.run([spec2, "process", str(broken), str(lrs_sim["nods"][1]), "-o", str(out), "-q"],
                         env=crds_env(lrs_sim), capture_output=True, text=True)
    assert res.returncode == 1
    failed = [ln for ln in res.stderr.splitlines() if ln.startswith("FAILED")]
    assert len(failed) == 1 and "jw_truncated_rate.fits" in failed[0], res.stderr
    assert len(failed[0].splitlines()) == 1
    names = {p.name for p in out.iterdir()}
    assert f"{_stem(lrs_sim['nods'][1])}_x1d.fits" in names
    assert not any(n.startswith("jw_truncated") for n in names)
