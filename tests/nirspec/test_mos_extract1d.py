"""`spec2 process` on the simulated MOS exposure (NRS1, master background on, a point
source in the fixed slit S200A1) through extract_1d, and its _x1d against jwst 3.0.0's
Extract1dStep on the same _s2d, split as calwebb_spec2 splits it: the MOS slitlets
extracted with the NRS_MSASPEC references, then the fixed slits with the NRS_FIXEDSLIT
ones, appended after them."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

COLUMNS = ("WAVELENGTH", "FLUX", "FLUX_ERROR", "SURF_BRIGHT", "SB_ERROR", "BACKGROUND", "NPIXELS",
           "FLUX_VAR_POISSON", "FLUX_VAR_RNOISE", "FLUX_VAR_FLAT")
SPEC_ATTRIBUTES = ("name", "source_id", "source_type", "slitlet_id", "shutter_state", "extraction_xstart",
                   "extraction_xstop", "extraction_ystart", "extraction_ystop", "source_xpos", "source_ypos")


@pytest.fixture(scope="module")
def mosx_run(tmp_path_factory):
    """The simulated NRS1 exposure and `spec2 process` on it, as a user runs it."""
    from spec2.crds_cache import LocalCache, crds_environment
    from spec2_nirspec.sim.mos import simulate_mos

    root = tmp_path_factory.mktemp("mosx")
    sim = simulate_mos(root / "data", LocalCache(root / "crds"), detectors=("NRS1",))
    env = crds_environment(root / "crds")
    out = root / "out"
    res = subprocess.run([sys.executable, "-m", "spec2.cli", "process", str(sim[("NRS1", 1)]), "-o", str(out)],
                         capture_output=True, text=True, env={**os.environ, **env}, timeout=900, check=False)
    stem = sim[("NRS1", 1)].name.replace("_rate.fits", "")
    return {"sim": sim, "env": env, "out": out, "res": res, "stem": stem,
            "products": {k: out / f"{stem}_{k}.fits" for k in ("cal", "s2d", "x1d")}}


@pytest.fixture(scope="module")
def mosx_jwst(mosx_run):
    """jwst's Extract1dStep on spec2's _s2d, as calwebb_spec2's _extract_nirspec_msa_slits
    runs it: slits named by a number are MSA slitlets, the others fixed slits."""
    from jwst.extract_1d import Extract1dStep
    from stdatamodels.jwst import datamodels as dm

    s2d = dm.open(mosx_run["products"]["s2d"])
    parts = {"NRS_MSASPEC": dm.MultiSlitModel(), "NRS_FIXEDSLIT": dm.MultiSlitModel()}
    for slit in s2d.slits:
        kind = "NRS_MSASPEC" if slit.name.isdigit() else "NRS_FIXEDSLIT"
        slit.meta.exposure.type = kind
        parts[kind].slits.append(slit)
    spectra = []
    with pytest.MonkeyPatch.context() as mp:
        for key, value in mosx_run["env"].items():
            mp.setenv(key, value)
        for kind, part in parts.items():
            if not part.slits:
                continue
            part.update(s2d)
            part.meta.exposure.type = kind
            spectra += list(Extract1dStep.call(part).spec)
    return spectra


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


def test_x1d_matches_jwst_extract1d_on_the_same_s2d(mosx_run, mosx_jwst):
    from stdatamodels.jwst import datamodels as dm

    with dm.open(mosx_run["products"]["x1d"]) as x1d:
        ours = list(x1d.spec)
        assert [s.name for s in ours] == [s.name for s in mosx_jwst]
        for mine, theirs in zip(ours, mosx_jwst, strict=True):
            for attr in SPEC_ATTRIBUTES:
                a, b = getattr(mine, attr, None), getattr(theirs, attr, None)
                if isinstance(b, float):
                    assert a == pytest.approx(b, rel=1e-6, abs=1e-6), (mine.name, attr)
                else:
                    assert a == b, (mine.name, attr)
            for column in COLUMNS:
                a, b = mine.spec_table[column], theirs.spec_table[column]
                np.testing.assert_allclose(a, b, rtol=2e-5, atol=0, equal_nan=True, err_msg=f"{mine.name} {column}")
                assert mine.spec_table.columns[column].unit == theirs.spec_table.columns[column].unit


@pytest.fixture(scope="module")
def mosx_jwst_cal(mosx_run, tmp_path_factory):
    """jwst's calwebb_spec2 on the same rate file (master background on): its _cal."""
    from jwst.pipeline import Spec2Pipeline
    from stdatamodels.jwst import datamodels as dm

    out = tmp_path_factory.mktemp("mosx_jwst")
    rate = mosx_run["sim"][("NRS1", 1)]
    with pytest.MonkeyPatch.context() as mp:
        for key, value in mosx_run["env"].items():
            mp.setenv(key, value)
        mp.chdir(rate.parent)  # jwst finds MSAMETFL in the working folder
        Spec2Pipeline.call(str(rate), output_dir=str(out), save_results=True,
                           steps={"resample_spec": {"skip": True}, "extract_1d": {"skip": True}})
    return dm.open(out / f"{mosx_run['stem']}_cal.fits")


CAL_ARRAYS = ("data", "err", "dq", "var_poisson", "var_rnoise", "var_flat", "wavelength", "pathloss_point",
              "pathloss_uniform")


def test_fixed_slits_in_msa_cal_match_jwst(mosx_run, mosx_jwst_cal):
    """The fixed slit of the MSA configuration (a point source in S200A1) in the _cal:
    calibrated by the fixed-slit rules and references, after the slitlets; the model
    NRS_MSASPEC, the slit NRS_FIXEDSLIT, as jwst writes them."""
    from stdatamodels.jwst import datamodels as dm

    theirs = mosx_jwst_cal
    with dm.open(mosx_run["products"]["cal"]) as ours:
        assert ours.meta.exposure.type == theirs.meta.exposure.type == "NRS_MSASPEC"
        assert [s.name for s in ours.slits] == [s.name for s in theirs.slits]
        fixed = [(a, b) for a, b in zip(ours.slits, theirs.slits, strict=True) if b.quadrant == 5]
        assert [a.name for a, _ in fixed] == ["S200A1"]
        for step in ("wavecorr", "flat_field", "pathloss", "photom"):
            assert getattr(ours.meta.cal_step, step) == getattr(theirs.meta.cal_step, step), step
        for mine, jw in fixed:
            assert mine.meta.exposure.type == jw.meta.exposure.type == "NRS_FIXEDSLIT"
            assert (mine.source_type, mine.wavelength_corrected) == (jw.source_type, jw.wavelength_corrected)
            assert mine.meta.photometry.pixelarea_steradians == pytest.approx(jw.meta.photometry.pixelarea_steradians)
            for name in CAL_ARRAYS:
                a, b = getattr(mine, name), getattr(jw, name)
                assert np.shape(a) == np.shape(b), name
                if name == "dq":
                    np.testing.assert_array_equal(a, b)
                else:
                    np.testing.assert_allclose(a, b, rtol=1e-5, atol=0, equal_nan=True, err_msg=name)


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
