"""`spec2 process` on the simulated MOS exposure (NRS1, master background on, a point
source in the fixed slit S200A1), rate to x1d through every step, against jwst 3.0.0's
whole calwebb_spec2 on the same rate file (one jwst run for the module, ~80 s alone):
the master background's products, the _cal, _s2d and _x1d; and spec2 given that master
background as a user's 1-D spectrum."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.nirspec.mos_compare import (
    CAL_ARRAYS,
    S2D_ARRAYS,
    X1D_COLUMNS,
    assert_same_slits,
    compared_meta,
    spectra_differences,
    spectrum_difference,
)

SAVE_BACKGROUND = "master_background_mos.save_background=true"


def _spec2(args, env):
    return subprocess.run([sys.executable, "-m", "spec2.cli", "process", *map(str, args)], capture_output=True,
                          text=True, env={**os.environ, **env}, timeout=900, check=False)


@pytest.fixture(scope="module")
def mosx_run(tmp_path_factory):
    """The simulated NRS1 exposure and `spec2 process` on it, as a user runs it, saving
    the master background (jwst's save_background)."""
    from spec2.crds_cache import LocalCache, crds_environment
    from spec2_nirspec.sim.mos import simulate_mos

    root = tmp_path_factory.mktemp("mosx")
    sim = simulate_mos(root / "data", LocalCache(root / "crds"), detectors=("NRS1",))
    env = crds_environment(root / "crds")
    out = root / "out"
    res = _spec2([sim[("NRS1", 1)], "-o", out, "--set", SAVE_BACKGROUND], env)
    stem = sim[("NRS1", 1)].name.replace("_rate.fits", "")
    return {"sim": sim, "env": env, "out": out, "res": res, "stem": stem, "root": root,
            "products": {k: out / f"{stem}_{k}.fits" for k in ("cal", "s2d", "x1d")}}


@pytest.fixture(scope="module")
def mosx_jwst(mosx_run):
    """jwst's calwebb_spec2 on the same rate file, every step (master background on,
    save_background): the folder of its products."""
    out = mosx_run["root"] / "jwst"
    rate = mosx_run["sim"][("NRS1", 1)]
    strun = str(Path(sys.executable).parent / "strun")
    # from the rate file's folder: jwst finds MSAMETFL in the working folder
    subprocess.run([strun, "calwebb_spec2", rate.name, "--output_dir", str(out),
                    "--steps.master_background_mos.save_background=true"], cwd=rate.parent,
                   env={**os.environ, **mosx_run["env"]}, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return out


def _pair(mosx_run, folder, suffix):
    from stdatamodels.jwst import datamodels as dm

    name = f"{mosx_run['stem']}_{suffix}.fits"
    return dm.open(mosx_run["out"] / name), dm.open(Path(folder) / name)


def test_process_completes_with_master_background_and_writes_x1d(mosx_run):
    import json

    from stdatamodels.jwst import datamodels as dm

    res = mosx_run["res"]
    assert res.returncode == 0, res.stderr[-3000:]
    assert all(p.is_file() for p in mosx_run["products"].values())
    report = json.loads((mosx_run["out"] / "spec2_report.json").read_text())
    [exposure] = report["exposures"]
    status = {s["step"]: s["status"] for s in exposure["steps"]}
    assert status["master_background_mos[msa]"] == "COMPLETE"
    # the fixed slit calibrated and extracted as NRS_FIXEDSLIT, with its references
    for step in ("wavecorr", "flat_field", "pathloss", "photom", "extract_1d"):
        assert status[f"{step}[fixed_slit]"] == "COMPLETE", step
    references = {s["step"]: s["reference_files"] for s in exposure["steps"]}
    assert references["extract_1d[msa]"]["extract1d"] == "crds://spec2sim_nrs_mos_extract1d.json"
    assert references["extract_1d[fixed_slit]"]["extract1d"] == "crds://spec2sim_nrs_extract1d.json"
    assert references["photom[fixed_slit]"]["photom"] == "crds://spec2sim_nrs_photom.fits"
    with dm.open(mosx_run["products"]["s2d"]) as s2d, dm.open(mosx_run["products"]["x1d"]) as x1d:
        assert x1d.meta.exposure.type == "NRS_MSASPEC"
        assert [s.name for s in x1d.spec] == [s.name for s in s2d.slits]
        # the MOS slitlets first, then the fixed slit of the configuration
        assert x1d.spec[-1].name == "S200A1" and all(s.name.isdigit() for s in x1d.spec[:-1])
        for spec in x1d.spec:
            assert spec.spec_table.columns["FLUX"].unit == "Jy", spec.name
            assert np.isfinite(spec.spec_table["FLUX"]).mean() > 0.5, spec.name


def test_master_background_products_identical_to_jwst(mosx_run, mosx_jwst):
    """save_background: the combined 1-D master background (_masterbg1d: after the sigma
    clip and the moving median), the background slitlets' spectra (_bkgx1d) and the 2-D
    background decalibrated into every slitlet (_masterbg2d: through photom, barshadow,
    pathloss and flat_field inverted) equal jwst's bit for bit, under jwst's names."""
    assert mosx_run["res"].returncode == 0, mosx_run["res"].stderr[-3000:]
    ours, theirs = _pair(mosx_run, mosx_jwst, "masterbg1d")
    [a], [b] = ours.spec, theirs.spec
    assert a.spec_table.columns.names == b.spec_table.columns.names
    for column in b.spec_table.columns.names:
        np.testing.assert_array_equal(a.spec_table[column], b.spec_table[column], err_msg=column)
    assert np.isfinite(b.spec_table["SURF_BRIGHT"]).sum() > 1000
    ours, theirs = _pair(mosx_run, mosx_jwst, "bkgx1d")
    assert [s.name for s in theirs.spec] == [s.name for s in ours.spec] and len(theirs.spec) == 2
    for a, b in zip(ours.spec, theirs.spec, strict=True):
        for column in b.spec_table.columns.names:
            np.testing.assert_array_equal(a.spec_table[column], b.spec_table[column], err_msg=f"{a.name} {column}")
    ours, theirs = _pair(mosx_run, mosx_jwst, "masterbg2d")
    assert [s.name for s in ours.slits] == [s.name for s in theirs.slits]
    for a, b in zip(ours.slits, theirs.slits, strict=True):
        for name in CAL_ARRAYS:
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=f"{a.name} {name}")
        for key, value in b.instance.items():
            if key not in ("meta", "cal_logs") and not hasattr(value, "shape"):
                assert a.instance.get(key) == value, (a.name, key)


def test_cal_and_s2d_identical_to_jwst_with_master_background(mosx_run, mosx_jwst):
    """Every slit of the background-subtracted _cal (the MOS slitlets, then the fixed
    slit S200A1 calibrated by the fixed-slit rules) and of the _s2d: every array
    identical, every attribute and metadata keyword equal, S_MSBSUB COMPLETE in both."""
    for suffix, arrays in (("cal", CAL_ARRAYS), ("s2d", S2D_ARRAYS)):
        ours, theirs = _pair(mosx_run, mosx_jwst, suffix)
        assert assert_same_slits(ours, theirs, arrays) == 14
        assert compared_meta(ours.meta.instance) == compared_meta(theirs.meta.instance), suffix
        assert ours.slits[-1].name == "S200A1" and ours.slits[-1].meta.exposure.type == "NRS_FIXEDSLIT"
    assert ours.meta.cal_step.master_background == theirs.meta.cal_step.master_background == "COMPLETE"


# Where the x1d differs from jwst's, by how much at most (relative): point sources only,
# in the last bit or two of float64 (measured 3.7e-16 on FLUX, 7.2e-16 on its variances),
# because in memory the trace their box follows comes out of the resampled slit's WCS a
# rounding step apart; from the written _s2d they are identical (the test after this one).
X1D_RTOL = 1e-15


def test_x1d_matches_jwst_through_the_whole_pipeline(mosx_run, mosx_jwst):
    """The _x1d, rate to x1d through every step with master background on: the same
    spectra in the same order (the slitlets, then S200A1), every attribute (extraction
    limits, MSA metadata) equal, every column within X1D_RTOL: identical for extended
    sources, within a few float64 rounding steps for point sources."""
    ours, theirs = _pair(mosx_run, mosx_jwst, "x1d")
    assert [s.name for s in ours.spec][-1] == "S200A1"
    differences = spectra_differences(ours, theirs)
    worst = max(differences.values())
    assert worst <= X1D_RTOL, {k: v for k, v in differences.items() if v > X1D_RTOL}
    for spec in ours.spec:
        if spec.source_type == "EXTENDED":
            assert all(differences[(spec.name, c)] == 0 for c in ("WAVELENGTH", "SURF_BRIGHT", "FLUX")), spec.name


def test_x1d_of_the_written_s2d_identical_to_jwst(mosx_run, mosx_jwst):
    """spec2's extract_1d on its own written _s2d (the MOS slitlets; the fixed slit takes
    the fixed-slit references in a run) gives jwst's spectra bit for bit, the aperture
    correction of the point sources included (FITPACK's arithmetic, in its order)."""
    from stdatamodels.jwst import datamodels as dm

    from spec2.api import call_step

    s2d, theirs = _pair(mosx_run, mosx_jwst, "s2d")[0], _pair(mosx_run, mosx_jwst, "x1d")[1]
    slitlets = dm.MultiSlitModel()
    slitlets.update(s2d)
    for slit in s2d.slits:
        if slit.name.isdigit():
            slitlets.slits.append(slit)
    with pytest.MonkeyPatch.context() as mp:
        for key, value in mosx_run["env"].items():
            mp.setenv(key, value)
        ours = call_step("extract_1d", slitlets)
    assert [s.name for s in ours.spec] == [s.name for s in theirs.spec[: len(ours.spec)]]
    assert sum(s.source_type == "POINT" for s in ours.spec) >= 5
    # the columns (slit_ra/slit_dec, from the written WCS's sky, may differ by 1e-15)
    differences = {(a.name, c): spectrum_difference(a, b, c) for a, b in zip(ours.spec, theirs.spec)
                   for c in X1D_COLUMNS}
    assert max(differences.values()) == 0, {k: v for k, v in differences.items() if v}


def test_user_background_gives_jwst_s_master_background_result(mosx_run, mosx_jwst):
    """user_background: the 1-D spectrum given by the user replaces the one from the
    background slitlets. Given jwst's own _masterbg1d, spec2 must give back jwst's
    _masterbg2d and background-subtracted _cal exactly: jwst's step expands a user's
    spectrum as it expands the combined one (both go through expand_to_2d and the same
    decalibration; only the combination is skipped)."""
    from stdatamodels.jwst import datamodels as dm

    out = mosx_run["root"] / "user"
    user = Path(mosx_jwst) / f"{mosx_run['stem']}_masterbg1d.fits"
    res = _spec2([mosx_run["sim"][("NRS1", 1)], "-o", out, "--set", SAVE_BACKGROUND, "--set",
                  f"master_background_mos.user_background={user}", "--skip", "resample_spec", "--skip",
                  "extract_1d"], mosx_run["env"])
    assert res.returncode == 0, res.stderr[-3000:]
    assert not (out / f"{mosx_run['stem']}_bkgx1d.fits").exists()  # no background slitlet was extracted
    for suffix, arrays in (("masterbg2d", CAL_ARRAYS), ("cal", CAL_ARRAYS)):
        with dm.open(out / f"{mosx_run['stem']}_{suffix}.fits") as ours, \
                dm.open(Path(mosx_jwst) / f"{mosx_run['stem']}_{suffix}.fits") as theirs:
            for a, b in zip(ours.slits, theirs.slits, strict=True):
                for name in arrays:
                    np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=f"{suffix} {a.name}")
            if suffix == "cal":
                assert ours.meta.cal_step.master_background == "COMPLETE"


def test_products_open_in_specutils_and_jwst(mosx_run):
    """The _x1d and _s2d read with specutils' JWST readers (one spectrum per slitlet and
    fixed slit, as for jwst's own products) and the _cal with jwst's datamodels."""
    from jwst import datamodels as jdm
    from specutils import SpectrumList

    products = mosx_run["products"]
    with jdm.open(products["cal"]) as cal:
        names = [s.name for s in cal.slits]
    assert len(names) >= 10 and names[-1] == "S200A1"  # the fixed slit after the slitlets
    for kind, unit in (("x1d", "Jy"), ("s2d", "MJy")):
        spectra = SpectrumList.read(products[kind])
        assert len(spectra) == len(names), kind
        assert all(s.spectral_axis.unit == "um" for s in spectra)
        assert str(spectra[0].flux.unit) == unit, kind
