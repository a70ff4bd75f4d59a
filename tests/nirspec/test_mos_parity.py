"""NIRSpec MOS parity with jwst 3.0.0, step by step, on one simulated configuration seen
by both detectors: assign_wcs (every slitlet's WCS evaluated on its pixel grid),
msa_flagging (failed-open shutters), extract_2d (each slit's cut-out, wavelengths and MSA
metadata), srctype and resample_spec. jwst runs its steps once
per module; spec2 runs ``spec2.process`` with the intermediate products saved."""

from __future__ import annotations

import numpy as np
import pytest

DETECTORS = ("NRS1", "NRS2")
CALIBRATION_STEPS = ("master_background_mos", "wavecorr", "flat_field", "pathloss", "barshadow", "photom",
                     "extract_1d")
SLIT_ATTRIBUTES = (
    "name", "xstart", "xsize", "ystart", "ysize", "source_id", "slit_ymin", "slit_ymax", "shutter_id",
    "source_name", "source_alias", "stellarity", "source_xpos", "source_ypos", "slitlet_id", "quadrant", "xcen",
    "ycen", "dither_position", "source_ra", "source_dec", "slit_xscale", "slit_yscale", "shutter_state",
)


@pytest.fixture(scope="module")
def mos_sim(tmp_path_factory):
    from spec2.crds_cache import LocalCache, crds_environment
    from spec2_nirspec.sim.mos import simulate_mos

    root = tmp_path_factory.mktemp("mos")
    out = simulate_mos(root / "data", LocalCache(root / "crds"), detectors=DETECTORS)
    out["root"], out["env"] = root, crds_environment(root / "crds")
    return out


@pytest.fixture(scope="module")
def mos_jwst(mos_sim):
    """{detector: {step: model}} from jwst's AssignWcs, MSAFlagOpen, Extract2d, SourceType
    and ResampleSpec steps."""
    from jwst.assign_wcs import AssignWcsStep
    from jwst.extract_2d import Extract2dStep
    from jwst.msaflagopen import MSAFlagOpenStep
    from jwst.resample import ResampleSpecStep
    from jwst.srctype import SourceTypeStep

    out = {}
    with pytest.MonkeyPatch.context() as mp:
        for key, value in mos_sim["env"].items():
            mp.setenv(key, value)
        mp.chdir(mos_sim["msa"].parent)  # jwst finds MSAMETFL in the working folder
        for det in DETECTORS:
            assigned = AssignWcsStep.call(str(mos_sim[(det, 1)]))
            flagged = MSAFlagOpenStep.call(assigned.copy())
            extracted = Extract2dStep.call(flagged)
            typed = SourceTypeStep.call(extracted.copy())
            resampled = ResampleSpecStep.call(typed.copy())
            out[det] = {"assign_wcs": assigned, "msa_flagging": flagged, "extract_2d": extracted, "srctype": typed, "s2d": resampled}
    return out


@pytest.fixture(scope="module")
def mos_spec2(mos_sim):
    from stdatamodels.jwst import datamodels as dm

    import spec2

    out_dir = mos_sim["root"] / "spec2"
    with pytest.MonkeyPatch.context() as mp:
        for key, value in mos_sim["env"].items():
            mp.setenv(key, value)
        # the steps after srctype skipped: the _s2d is resample_spec of srctype's output, as jwst's chain here
        run = spec2.process([str(mos_sim[(d, 1)]) for d in DETECTORS], out_dir, save_intermediate=True,
                            skip=CALIBRATION_STEPS)
    assert all(r.ok for r in run), [r.error for r in run]
    out = {}
    for det in DETECTORS:
        stem = mos_sim[(det, 1)].name.replace("_rate.fits", "")
        out[det] = {step: dm.open(out_dir / f"{stem}_{step}.fits") for step in ("assign_wcs", "msa_flagging", "extract_2d", "srctype")}
        out[det]["s2d"] = dm.open(out_dir / f"{stem}_s2d.fits")
    return out


@pytest.mark.parametrize("det", DETECTORS)
def test_assign_wcs(mos_jwst, mos_spec2, det):
    from gwcs.wcstools import grid_from_bounding_box
    from jwst.assign_wcs.nirspec import nrs_wcs_set_input

    theirs, ours = mos_jwst[det]["assign_wcs"], mos_spec2[det]["assign_wcs"]
    their_slits = theirs.meta.wcs.get_transform("gwa", "slit_frame").slits
    our_slits = ours.meta.wcs.get_transform("gwa", "slit_frame").slits
    assert [s.name for s in our_slits] == [s.name for s in their_slits]
    assert len(our_slits) >= (10 if det == "NRS1" else 3)
    for slit in their_slits:
        tw, ow = nrs_wcs_set_input(theirs, slit.name), nrs_wcs_set_input(ours, slit.name)
        np.testing.assert_allclose(ow.bounding_box, tw.bounding_box, rtol=0, atol=1e-9)
        x, y = grid_from_bounding_box(tw.bounding_box)
        for a, b in zip(ow(x, y), tw(x, y)):
            np.testing.assert_allclose(a, b, rtol=1e-10, equal_nan=True, err_msg=f"slit {slit.name}")
    w_t, w_o = theirs.meta.wcsinfo, ours.meta.wcsinfo
    assert (w_o.waverange_start, w_o.waverange_end, w_o.spectral_order) == (
        w_t.waverange_start, w_t.waverange_end, w_t.spectral_order)


@pytest.mark.parametrize("det", DETECTORS)
def test_msa_flagging(mos_jwst, mos_spec2, det):
    from stdatamodels.jwst.datamodels.dqflags import pixel

    theirs, ours = mos_jwst[det]["msa_flagging"], mos_spec2[det]["msa_flagging"]
    assert ours.meta.cal_step.msa_flagging == "COMPLETE"
    failed_open = (ours.dq & pixel["MSA_FAILED_OPEN"]) > 0
    assert failed_open.sum() > 100  # the simulated failed-open shutters reach both detectors
    np.testing.assert_array_equal(ours.dq, theirs.dq)
    np.testing.assert_array_equal(ours.data, theirs.data)


def test_both_detectors_and_all_quadrants(mos_spec2):
    quadrants = {d: {s.quadrant for s in mos_spec2[d]["extract_2d"].slits} for d in DETECTORS}
    assert quadrants["NRS1"] == {1, 2, 3, 4, 5}
    assert quadrants["NRS2"] and quadrants["NRS2"] <= {3, 4}


@pytest.mark.parametrize("det", DETECTORS)
@pytest.mark.parametrize("step", ["extract_2d", "srctype"])
def test_slits(mos_jwst, mos_spec2, det, step):
    theirs, ours = mos_jwst[det][step], mos_spec2[det][step]
    assert [s.name for s in ours.slits] == [s.name for s in theirs.slits]
    for a, b in zip(ours.slits, theirs.slits):
        for attr in SLIT_ATTRIBUTES + (("source_type",) if step == "srctype" else ()):
            va, vb = getattr(a, attr), getattr(b, attr)
            if isinstance(vb, float):
                assert va == pytest.approx(vb, rel=1e-12), (b.name, attr)
            else:
                assert va == vb, (b.name, attr, va, vb)
        for array in ("data", "dq", "err", "var_poisson", "var_rnoise"):
            np.testing.assert_array_equal(getattr(a, array), getattr(b, array), err_msg=f"{b.name} {array}")
        # float32 in both (the schema's type); the float64 values behind them agree to ~1e-15
        np.testing.assert_array_equal(a.wavelength, b.wavelength, err_msg=b.name)
        assert a.meta.wcsinfo.s_region == b.meta.wcsinfo.s_region
    if step == "srctype":
        assert ours.meta.target.source_type is None
        assert {s.source_type for s in ours.slits} == {"POINT", "EXTENDED"}
        assert all(s.source_type == "EXTENDED" for s in ours.slits if s.source_name.startswith("1234_BKG"))


@pytest.mark.parametrize("det", DETECTORS)
def test_resampled_one_slit_per_slitlet(mos_jwst, mos_spec2, det):
    ours, theirs = mos_spec2[det]["s2d"], mos_jwst[det]["s2d"]
    assert [s.name for s in ours.slits] == [s.name for s in mos_spec2[det]["srctype"].slits]
    assert [s.name for s in ours.slits] == [s.name for s in theirs.slits]
    for a, b in zip(ours.slits, theirs.slits):
        assert a.data.shape == b.data.shape, b.name
        assert np.isfinite(a.data).any(), b.name
        for array in ("data", "err", "wavelength"):
            np.testing.assert_allclose(getattr(a, array), getattr(b, array), rtol=1e-5, atol=1e-9, equal_nan=True,
                                       err_msg=f"{b.name} {array}")
        np.testing.assert_array_equal(a.dq, b.dq, err_msg=b.name)
