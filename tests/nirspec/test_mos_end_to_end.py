"""NIRSpec MOS end to end: the whole calwebb_spec2 against jwst 3.0.0, and the injected
spectra recovered from the calibrated slitlets.

One simulated visit (14 slitlets: 1x1 to 1x5, point sources on and off centre, extended
sources, background and virtual slitlets, failed-open shutters; two nod points and an
imprint exposure per detector) is calibrated in three runs:

- ``nod`` (NRS1): science at dither 1, dither 2 as its nod background, the imprint: jwst's
  and spec2's whole calwebb_spec2 (master background skipped by both, since the nod
  subtraction ran);
- ``imprint`` (NRS2): science with the imprint only, master background skipped on request
  (the master background run is test_mos_extract1d.py's): jwst's and spec2's;
- ``closure`` (NRS1): science with the imprint, no background subtraction, spec2 only:
  every slitlet keeps its sky, so extended sources and background slitlets must give
  back the injected surface brightness and point sources their flux.

jwst runs once per configuration for the module (about 80 s on NRS1, 40 s on NRS2).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.nirspec.mos_compare import (
    CAL_ARRAYS,
    S2D_ARRAYS,
    assert_same_slits,
    compared_meta,
    spectra_differences,
)

# point-source spectra differ from jwst's in the last bits of float64 (test_mos_extract1d.py)
X1D_RTOL = 1e-15


def _one_product(asn, out, keep_background):
    """The association's first product only (one science exposure), with or without its
    nod background."""
    doc = json.loads(Path(asn).read_text())
    product = doc["products"][0]
    if not keep_background:
        product["members"] = [m for m in product["members"] if m["exptype"] != "background"]
    doc["products"] = [product]
    Path(out).write_text(json.dumps(doc, indent=1))
    return Path(out)


def _jwst(asn, out_dir, env, skip=()):
    strun = str(Path(sys.executable).parent / "strun")
    args = [f"--steps.{s}.skip=true" for s in skip]
    subprocess.run([strun, "calwebb_spec2", asn.name, "--output_dir", str(out_dir), *args], cwd=asn.parent,
                   env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def mos_e2e(tmp_path_factory):
    import os

    import spec2
    from spec2.crds_cache import LocalCache, crds_environment
    from spec2_nirspec.sim.mos import simulate_mos

    root = tmp_path_factory.mktemp("mos_e2e")
    data = root / "data"
    sim = simulate_mos(data, LocalCache(root / "crds"), dithers=(1, 2), imprint=True)
    env = crds_environment(root / "crds")
    runs = {
        "nod": (_one_product(sim[("asn", "NRS1")], data / "nod_nrs1_asn.json", True), ()),
        "imprint": (_one_product(sim[("asn", "NRS2")], data / "imprint_nrs2_asn.json", False),
                    ("master_background_mos",)),
        "closure": (_one_product(sim[("asn", "NRS1")], data / "closure_nrs1_asn.json", False),
                    ("master_background_mos",)),
    }
    out = {"sim": sim, "runs": {}, "skipped": {name: skip for name, (_asn, skip) in runs.items()}}
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        for name, (asn, skip) in runs.items():
            result = spec2.process([str(asn)], root / "spec2" / name, skip=list(skip))
            assert all(r.ok for r in result), [r.error for r in result]
            if name != "closure":
                _jwst(asn, root / "jwst" / name, dict(os.environ), skip)
            out["runs"][name] = (root / "spec2" / name, root / "jwst" / name)
    return out


def _products(mos_e2e, run, suffix):
    """(spec2's, jwst's) product of a run; jwst's is None for the closure run."""
    from stdatamodels.jwst import datamodels as dm

    ours, theirs = mos_e2e["runs"][run]
    name = next(ours.glob(f"*_{suffix}.fits")).name
    return dm.open(ours / name), (dm.open(theirs / name) if (theirs / name).exists() else None)


@pytest.mark.parametrize("run", ["nod", "imprint"])
def test_cal_identical_to_jwst(mos_e2e, run):
    """Every slit (the MOS slitlets and, on NRS1, the fixed slit S200A1), every array
    and keyword; master background recorded as jwst records it (after the nod
    subtraction the step skips itself: S_MSBSUB SKIPPED; skipped on request: stpipe's
    cal_step.master_background_mos)."""
    ours, theirs = _products(mos_e2e, run, "cal")
    assert assert_same_slits(ours, theirs, CAL_ARRAYS) >= 4
    assert compared_meta(ours.meta.instance) == compared_meta(theirs.meta.instance)
    assert ours.meta.cal_step.imprint == "COMPLETE"
    if run == "nod":
        assert ours.meta.cal_step.bkg_subtract == "COMPLETE"
        assert ours.meta.cal_step.master_background == "SKIPPED"
        assert ours.slits[-1].name == "S200A1"
    else:
        assert ours.meta.cal_step.instance["master_background_mos"] == "SKIPPED"
    assert {s.source_type for s in ours.slits} == {"POINT", "EXTENDED"}


@pytest.mark.parametrize("run", ["nod", "imprint"])
def test_s2d_identical_to_jwst(mos_e2e, run):
    from gwcs.wcstools import grid_from_bounding_box

    ours, theirs = _products(mos_e2e, run, "s2d")
    assert assert_same_slits(ours, theirs, S2D_ARRAYS) >= 4
    assert compared_meta(ours.meta.instance) == compared_meta(theirs.meta.instance)
    for a, b in zip(ours.slits, theirs.slits, strict=True):
        grid = grid_from_bounding_box(a.meta.wcs.bounding_box)
        # RA/Dec/wavelength of every pixel: within 1e-12 (relative), not bit for bit (the
        # order of floating-point operations in the sky rotation differs)
        for p, q in zip(a.meta.wcs(*grid), b.meta.wcs(*grid), strict=True):
            np.testing.assert_allclose(p, q, rtol=1e-11, atol=0, equal_nan=True, err_msg=a.name)


@pytest.mark.parametrize("run", ["nod", "imprint"])
def test_x1d_matches_jwst(mos_e2e, run):
    """The whole calwebb_spec2 down to the _x1d (nod and imprint subtracted): every
    spectrum, attribute and column as jwst's, within X1D_RTOL (point sources' last
    float64 bits)."""
    ours, theirs = _products(mos_e2e, run, "x1d")
    differences = spectra_differences(ours, theirs)
    assert len(ours.spec) >= 4
    assert max(differences.values()) <= X1D_RTOL, {k: v for k, v in differences.items() if v > X1D_RTOL}


# ---------------------------------------------------------------------------------------
# Closure: the calibrated slitlets against what the simulator injected
# ---------------------------------------------------------------------------------------


def _slit_y(slit):
    from gwcs.wcstools import grid_from_bounding_box

    x, y = grid_from_bounding_box(slit.meta.wcs.bounding_box)
    return slit.meta.wcs.get_transform("detector", "slit_frame")(x, y)[1]


def _expected(slit, planned, sky):
    """(expected _cal values, pixels to compare): surface brightness (MJy/sr) for uniform
    light, flux density per pixel (MJy) along the PSF for a point source, at the slit's
    (for point sources wavecorr-corrected) wavelengths."""
    from spec2_nirspec import instrument as ins
    from spec2_nirspec.sim import msa_quadrants as msaq
    from spec2_nirspec.sim.mos import EXTENDED, extended_brightness, point_flux

    lam = np.asarray(slit.wavelength, float)
    if planned.kind == EXTENDED:
        return sky + extended_brightness(planned, lam), np.isfinite(lam)
    if planned.kind == "background":
        return np.full(lam.shape, sky), np.isfinite(lam)
    sigma = ins.psf_sigma_arcsec(lam)
    d = (_slit_y(slit) - slit.source_ypos) * msaq.OPEN_ARCSEC[1]
    profile = 0.1 / (np.sqrt(2 * np.pi) * sigma) * np.exp(-0.5 * (d / sigma) ** 2)
    # the trace's core, where the source outshines the sky (about 1e-3 of it)
    return point_flux(planned, lam) * profile, profile > 0.3 * np.nanmax(profile)


def _closure(slit, planned, sky):
    expected, use = _expected(slit, planned, sky)
    use = use & ((slit.dq & 1) == 0) & np.isfinite(slit.data) & np.isfinite(expected) & (slit.err > 0)
    chi = (slit.data - expected)[use] / slit.err[use]
    # the ratio weighted by 1/ERR^2: pixels deep in a bar's shadow (their noise divided by
    # a shade of ~0.01) count as little as they tell
    weight = 1.0 / slit.err[use].astype(float) ** 2
    ratio = np.sum(weight * slit.data[use]) / np.sum(weight * expected[use])
    return float(ratio), float(chi.mean()), float(chi.std()), int(use.sum())


def test_closure_extended_sources_and_sky(mos_e2e):
    from spec2_nirspec.sim.mos import EXTENDED, SKY_MJY_SR

    plan = {s.slitlet_id: s for s in mos_e2e["sim"]["slitlets"]}
    cal, _ = _products(mos_e2e, "closure", "cal")
    kinds = set()
    for slit in cal.slits:
        planned = plan.get(slit.slitlet_id)
        if slit.quadrant == 5 or planned.kind not in (EXTENDED, "background"):
            continue
        ratio, chi_mean, chi_std, n = _closure(slit, planned, SKY_MJY_SR)
        # tens of thousands of pixels: the mean is known to ~1 % of a sigma; the spread is
        # over 1 because the imprint's noise (Poisson and read) is not in ERR, as in jwst:
        # up to ~1.2 on the faint sky of a background slitlet
        assert abs(ratio - 1) < 0.01 and abs(chi_mean) < 0.05 and 0.9 < chi_std < 1.3, (slit.name, ratio, chi_mean,
                                                                                       chi_std, n)
        kinds.add((planned.kind, len(slit.shutter_state)))
    assert {k for k, _ in kinds} == {EXTENDED, "background"} and {n for _, n in kinds} >= {3, 4, 5}


def test_closure_point_sources(mos_e2e):
    from spec2_nirspec.sim.mos import POINT, SKY_MJY_SR

    plan = {s.slitlet_id: s for s in mos_e2e["sim"]["slitlets"]}
    off_centre = 0
    for run in ("closure", "nod"):  # with its sky, and nod-subtracted
        cal, _ = _products(mos_e2e, run, "cal")
        for slit in cal.slits:
            planned = plan.get(slit.slitlet_id)
            if slit.quadrant == 5 or planned.kind != POINT:
                continue
            if run == "nod" and len(slit.shutter_state) < 3:
                continue  # the source cannot move to another shutter: the nod removes it
            ratio, chi_mean, chi_std, n = _closure(slit, planned, SKY_MJY_SR)
            assert abs(ratio - 1) < 0.005 and abs(chi_mean) < 0.3 and chi_std < 1.1, (run, slit.name, ratio,
                                                                                      chi_mean, chi_std, n)
            off_centre += abs(slit.source_xpos) > 0.1
    assert off_centre >= 4


def test_demo_case_verdict_on_the_nod_x1d(mos_e2e):
    """What `spec2 demo`'s MOS case judges (the same visit): the off-centre point source's
    spectrum in the nod product's _x1d matches the injected spectrum."""
    from spec2.demo import measure
    from spec2_nirspec.demo_mos import judged_case

    path = next(mos_e2e["runs"]["nod"][0].glob("*_x1d.fits"))
    measured = measure(path, judged_case([], len(mos_e2e["sim"]["slitlets"])))
    [check] = measured.checks
    assert check.passed and check.n > 500, check.text()
