"""master_background_mos in the core: combining 1-D spectra (hand-computed numbers, and
jwst's combine_1d on the same spectra), laying a spectrum onto 2-D wavelengths, and the
round trip on a toy multi-slit mode: a known sky is recovered from the background
slitlets, decalibrated through the toy's flat/pathloss/photom inverses and subtracted
exactly; the user-background path; the bad inputs."""

from __future__ import annotations

import numpy as np
import pytest

from spec2.algorithms.combine1d import (
    Spectrum1D,
    combine_spectra,
    coverage,
    median_filter,
    output_wavelengths,
)
from spec2.algorithms.master_background import expand_to_2d, is_background_slit

from . import toy_mos


def spectrum(wl, sb, weight=1.0, dq=None, err=None):
    wl, sb = np.asarray(wl, float), np.asarray(sb, float)
    err = np.ones_like(sb) if err is None else np.asarray(err, float)
    dq = np.zeros(len(wl), np.uint32) if dq is None else np.asarray(dq, np.uint32)
    return Spectrum1D(wl, sb.copy(), err.copy(), sb.copy(), err.copy(), dq, weight)


# -- combining 1-D spectra ------------------------------------------------------------


def test_weighted_mean_on_a_common_grid():
    out = combine_spectra([spectrum([1, 2, 3], [1, 2, 3], 1.0), spectrum([1, 2, 3], [3, 4, 5], 3.0)])
    np.testing.assert_array_equal(out.wavelength, [1, 2, 3])
    np.testing.assert_allclose(out.surf_bright, [2.5, 3.5, 4.5])  # (1*1 + 3*3)/4, ...
    np.testing.assert_allclose(out.flux, [2.5, 3.5, 4.5])
    np.testing.assert_allclose(out.sb_error, np.sqrt(1 + 9) / 4)
    np.testing.assert_array_equal(out.weight, 4.0)
    np.testing.assert_array_equal(out.n_input, 2)


def test_do_not_use_pixels_are_left_out_and_other_flags_or_ed():
    out = combine_spectra([spectrum([1, 2, 3], [1, 2, 3], dq=[0, 0, 4]),
                           spectrum([1, 2, 3], [3, 40, 5], dq=[0, 1, 0])], sigma_clip=None)
    np.testing.assert_allclose(out.surf_bright, [2, 2, 4])
    np.testing.assert_array_equal(out.n_input, [2, 1, 2])
    np.testing.assert_array_equal(out.dq, [0, 0, 4])


def test_output_grid_of_offset_spectra():
    """[1, 2, 3] and [1.5, 2.5, 3.5]: coverage 2 except 3.5 (past A's last half pixel);
    no clump of equal values, so blocks of two are averaged: 1.25, 2.25; then 3.0 and
    3.5 alone (coverage 1 at 3.5)."""
    wl, n = coverage([np.array([1.0, 2, 3]), np.array([1.5, 2.5, 3.5])])
    np.testing.assert_array_equal(n, [2, 2, 2, 2, 2, 1])
    np.testing.assert_allclose(output_wavelengths(wl, n), [1.25, 2.25, 3.0, 3.5])


def test_sigma_clip_drops_the_outlier():
    spectra = [spectrum([1, 2], [1, 2]), spectrum([1, 2], [1, 2]), spectrum([1, 2], [1, 50])]
    out = combine_spectra(spectra, sigma_clip=3.0)
    np.testing.assert_allclose(out.surf_bright, [1, 2])
    np.testing.assert_array_equal(out.n_input, [3, 2])
    unclipped = combine_spectra([spectrum([1, 2], [1, 2]), spectrum([1, 2], [1, 2]), spectrum([1, 2], [1, 50])])
    np.testing.assert_allclose(unclipped.surf_bright, [1, 18])


def test_median_filter_rounds_even_kernels_down():
    values = np.array([1.0, 9, 2, 3, 4])
    np.testing.assert_array_equal(median_filter(values, 3), [1, 2, 3, 3, 3])
    np.testing.assert_array_equal(median_filter(values, 4), [1, 2, 3, 3, 3])
    np.testing.assert_array_equal(median_filter(values, 1), values)
    np.testing.assert_array_equal(median_filter(values, 2), values)


@pytest.mark.parity
def test_combine_matches_jwst_combine_1d():
    from jwst.combine_1d.combine1d import combine_1d_spectra
    from stdatamodels.jwst import datamodels

    rng = np.random.default_rng(7)
    x1d = datamodels.MultiSpecModel()
    x1d.meta.exposure.exposure_time = 250.0
    dtype = datamodels.SpecModel().get_dtype("spec_table")
    mine = []
    for i in range(4):
        n = 40 + i
        table = np.zeros(n, dtype=dtype)
        table["WAVELENGTH"] = 1.0 + 0.01 * np.arange(n) + 0.0037 * i
        table["FLUX"] = rng.normal(5, 1, n)
        table["SURF_BRIGHT"] = rng.normal(2, 0.3, n)
        table["FLUX_ERROR"] = table["SB_ERROR"] = 0.1
        table["DQ"][rng.integers(0, n, 3)] = 1
        table["DQ"][rng.integers(0, n, 2)] = 4
        if i == 2:
            table["SURF_BRIGHT"][5] = table["FLUX"][5] = 80.0
        spec = datamodels.SpecModel(spec_table=table)
        spec.spectral_order = 1
        x1d.spec.append(spec)
        mine.append(Spectrum1D(table["WAVELENGTH"], table["FLUX"].copy(), table["FLUX_ERROR"].copy(),
                               table["SURF_BRIGHT"].copy(), table["SB_ERROR"].copy(), table["DQ"], 250.0))
    theirs = combine_1d_spectra(x1d, exptime_key="exposure_time", sigma_clip=3.0).spec[0].spec_table
    out = combine_spectra(mine, sigma_clip=3.0)
    np.testing.assert_allclose(out.wavelength, theirs["wavelength"], rtol=0, atol=1e-15)
    for mine_col, their_col in (("flux", "flux"), ("error", "error"), ("surf_bright", "surf_bright"),
                                ("sb_error", "sb_error"), ("weight", "weight"), ("n_input", "n_input")):
        np.testing.assert_allclose(getattr(out, mine_col), theirs[their_col], rtol=1e-12, err_msg=mine_col)
    np.testing.assert_array_equal(out.dq, theirs["dq"])


# -- laying the spectrum onto a slit --------------------------------------------------


def test_expand_interpolates_and_flags_what_the_table_does_not_reach():
    values, outside = expand_to_2d(np.array([[1.5, 2.5], [np.nan, 3.5]]), [3.0, 1.0, 2.0], [30.0, 10.0, 20.0])
    np.testing.assert_array_equal(values, [[15, 25], [0, 0]])
    np.testing.assert_array_equal(outside, [[False, False], [True, True]])


def test_background_slits_by_source_name():
    assert is_background_slit("background_12") and is_background_slit("Bkg-3")
    assert not is_background_slit("galaxy_4") and not is_background_slit(None)


# -- the step on the toy multi-slit mode ------------------------------------------------


def toy_pm(plugin=None):
    from spec2.plugins import get_plugin_manager

    return get_plugin_manager([plugin or toy_mos.ToyMos()], load_entrypoints=False)


def slits_of(rate, pm):
    from spec2.api import call_step

    return call_step("extract_2d", rate, pm=pm)


def expected_after_subtraction(sources):
    """Each slit's DN/s with the sky gone: the source; where the slit's wavelengths run
    past the background slitlets' (1.0 to 1.9375 um), the sky stays."""
    out = {}
    for name, _, _, offset in toy_mos.SLITS:
        wl = toy_mos.wavelength(offset)
        sky = toy_mos.in_dn(toy_mos.background(wl))
        outside = (wl < 1.0) | (wl > 1.9375)
        out[name] = sources.get(name, np.zeros_like(wl)) + np.where(outside, sky, 0.0), outside
    return out


def test_round_trip_recovers_and_subtracts_the_sky():
    from spec2.api import call_step

    plugin = toy_mos.ToyMos()
    pm = toy_pm(plugin)
    sources = toy_mos.source_arrays()
    model = slits_of(toy_mos.raw_exposure(sources), pm)
    out = call_step("master_background_mos", model, pm=pm)
    assert out.meta.cal_step.master_background == "COMPLETE"
    for slit, (name, _, _, _) in zip(out.slits, toy_mos.SLITS, strict=True):
        want, outside = expected_after_subtraction(sources)[name]
        np.testing.assert_allclose(slit.data, want, rtol=0, atol=1e-12, err_msg=name)
        np.testing.assert_array_equal(slit.dq & 1, outside.astype(np.uint32), err_msg=name)
        np.testing.assert_array_equal(slit.err, 0.25)  # the background's noise is not propagated
    # forward as EXTENDED on a copy, resample + extract of the 2 background slitlets,
    # then the inverses last first; the model's own source types are untouched
    names = [(c[0], c[1]) for c in plugin.calls]
    assert names == [("flat_field", False), ("pathloss", False), ("photom", False), ("resample_spec", False),
                     ("extract_1d", False), ("photom", True), ("pathloss", True), ("flat_field", True)]
    assert all(set(types) == {"EXTENDED"} for _, _, types in plugin.calls)
    assert len(plugin.calls[3][2]) == 2
    # the background copy says what ran on it, as jwst's sub-steps record it (extraction
    # reads photom's status to know its units)
    assert plugin.extracted_status == ["COMPLETE"]
    assert [s.source_type for s in out.slits] == [s[2] for s in toy_mos.SLITS]


def test_user_background_is_used_instead_of_the_slitlets(tmp_path):
    from stdatamodels.jwst import datamodels

    from spec2.api import call_step

    x1d = datamodels.MultiSpecModel()
    dtype = datamodels.SpecModel().get_dtype("spec_table")
    table = np.zeros(31, dtype=dtype)
    table["WAVELENGTH"] = 1.0 + 0.03125 * np.arange(31)  # 1.0 .. 1.9375, twice as fine
    table["SURF_BRIGHT"] = toy_mos.background(table["WAVELENGTH"])
    x1d.spec.append(datamodels.SpecModel(spec_table=table))
    x1d.save(str(tmp_path / "sky_x1d.fits"))

    plugin = toy_mos.ToyMos()
    pm = toy_pm(plugin)
    sources = toy_mos.source_arrays()
    model = slits_of(toy_mos.raw_exposure(sources), pm)
    out = call_step("master_background_mos", model, pm=pm,
                    params={"user_background": str(tmp_path / "sky_x1d.fits")})
    assert out.meta.cal_step.master_background == "COMPLETE"
    for slit, (name, _, _, _) in zip(out.slits, toy_mos.SLITS, strict=True):
        want, _ = expected_after_subtraction(sources)[name]
        np.testing.assert_allclose(slit.data, want, rtol=0, atol=1e-12, err_msg=name)
    assert "extract_1d" not in [c[0] for c in plugin.calls]


def test_inverse_adds_the_background_back():
    from spec2.api import call_step

    pm = toy_pm()
    model = slits_of(toy_mos.raw_exposure(toy_mos.source_arrays()), pm)
    before = [s.data.copy() for s in model.slits]
    sub = call_step("master_background_mos", model.copy(), pm=pm)
    add = call_step("master_background_mos", model.copy(), pm=pm, params={"inverse": True})
    for b, s, a in zip(before, sub.slits, add.slits, strict=True):
        np.testing.assert_allclose(a.data - b, b - s.data, atol=1e-12)


def test_no_background_slitlet_fails_the_step_only():
    from spec2.api import call_step

    pm = toy_pm()
    model = slits_of(toy_mos.raw_exposure(), pm)
    for slit in model.slits:
        slit.source_name = "galaxy"
    data = [s.data.copy() for s in model.slits]
    out = call_step("master_background_mos", model, pm=pm)
    assert out.meta.cal_step.master_background == "FAILED"
    for slit, d in zip(out.slits, data, strict=True):
        np.testing.assert_array_equal(slit.data, d)


def test_already_background_subtracted_is_skipped_unless_forced():
    from spec2.api import call_step

    pm = toy_pm()
    model = slits_of(toy_mos.raw_exposure(toy_mos.source_arrays()), pm)
    model.meta.cal_step.bkg_subtract = "COMPLETE"
    data = model.slits[1].data.copy()
    out = call_step("master_background_mos", model, pm=pm)
    assert out.meta.cal_step.master_background == "SKIPPED"
    np.testing.assert_array_equal(out.slits[1].data, data)
    out = call_step("master_background_mos", model, pm=pm, params={"force_subtract": True})
    assert out.meta.cal_step.master_background == "COMPLETE"
    assert not np.array_equal(out.slits[1].data, data)


def test_user_background_that_is_not_a_spectrum_is_an_input_error(tmp_path):
    from spec2.api import call_step
    from spec2.errors import InputError

    pm = toy_pm()
    model = slits_of(toy_mos.raw_exposure(), pm)
    toy_mos.raw_exposure().save(str(tmp_path / "image.fits"))
    with pytest.raises(InputError, match="not a 1-D spectrum"):
        call_step("master_background_mos", model, pm=pm, params={"user_background": str(tmp_path / "image.fits")})
    with pytest.raises(InputError, match="no such file"):
        call_step("master_background_mos", model, pm=pm, params={"user_background": str(tmp_path / "none.fits")})


def test_a_chain_step_that_cannot_invert_is_refused():
    from spec2.api import call_step
    from spec2.errors import UnsupportedModeError

    pm = toy_pm(toy_mos.ToyMos(chain=("flat_field", "extract_2d")))
    model = slits_of(toy_mos.raw_exposure(), pm)
    with pytest.raises(UnsupportedModeError, match="extract_2d has no inverse"):
        call_step("master_background_mos", model, pm=pm)


# -- through spec2 process --------------------------------------------------------------


def test_process_subtracts_and_saves_the_background(tmp_path):
    from stdatamodels.jwst import datamodels

    import spec2

    sources = toy_mos.source_arrays()
    toy_mos.raw_exposure(sources).save(str(tmp_path / "jw_mos_rate.fits"))
    toy_mos.raw_exposure(sources).save(str(tmp_path / "jw_bad_rate.fits"))
    bad = datamodels.ImageModel((2, 2))
    bad.save(str(tmp_path / "not_a_spectrum.fits"))
    out = tmp_path / "out"
    results = spec2.process([tmp_path / "jw_mos_rate.fits"], out, pm=toy_pm(),
                            params={"master_background_mos.save_background": True})
    assert results.ok, [r.error for r in results]
    expected = expected_after_subtraction(sources)
    with datamodels.open(out / "jw_mos_cal.fits") as cal:
        assert cal.meta.cal_step.master_background == "COMPLETE"
        for slit, (name, _, source_type, _) in zip(cal.slits, toy_mos.SLITS, strict=True):
            # then calibrated by the slit's own source type
            dn = expected[name][0]
            want = dn / toy_mos.flat_values() / toy_mos.PATHLOSS[source_type] * toy_mos.PHOTOM[source_type]
            np.testing.assert_allclose(slit.data, want, rtol=0, atol=1e-12, err_msg=name)
    with datamodels.open(out / "jw_mos_masterbg1d.fits") as bg1d:
        table = bg1d.spec[0].spec_table
        np.testing.assert_allclose(table["surf_bright"], toy_mos.background(table["wavelength"]), atol=1e-12)
    with datamodels.open(out / "jw_mos_masterbg2d.fits") as bg2d:
        for slit, (name, _, source_type, offset) in zip(bg2d.slits, toy_mos.SLITS, strict=True):
            assert slit.source_type == source_type
            wl = toy_mos.wavelength(offset)
            inside = (wl >= 1.0) & (wl <= 1.9375)
            np.testing.assert_allclose(slit.data, np.where(inside, toy_mos.in_dn(toy_mos.background(wl)), 0),
                                       atol=1e-12, err_msg=name)
    with datamodels.open(out / "jw_mos_bkgx1d.fits") as bkgx1d:
        assert [s.name for s in bkgx1d.spec] == ["s1", "s3"]

    # a user background that is no spectrum: that exposure fails, one line, nothing written
    results = spec2.process([tmp_path / "jw_bad_rate.fits"], out, pm=toy_pm(),
                            params={"master_background_mos.user_background": str(tmp_path / "not_a_spectrum.fits")})
    (failed,) = results.failed
    assert "not a 1-D spectrum" in failed.error and "\n" not in failed.error
    assert not list(out.glob("jw_bad_*"))


# -- parity of the pieces with jwst 3.0.0's master_background functions -----------------


@pytest.mark.parity
def test_expansion_matches_jwst_bkg_for_multislit():
    from jwst.master_background.expand_to_2d import bkg_for_multislit

    from spec2.steps.master_background_mos import expanded_background

    pm = toy_pm()
    model = slits_of(toy_mos.raw_exposure(toy_mos.source_arrays()), pm)
    model.slits[1].wavelength[1, 3] = np.nan
    tab_wl = np.linspace(1.01, 1.9, 23)
    tab_sb = np.cos(tab_wl) * 7
    theirs = bkg_for_multislit(model, tab_wl, tab_sb, allow_mos=True)
    mine = expanded_background(model.copy(), tab_wl[::-1], tab_sb[::-1])  # a decreasing table is sorted first
    for a, b in zip(theirs.slits, mine.slits, strict=True):
        np.testing.assert_array_equal(a.data, b.data)
        np.testing.assert_array_equal(a.dq, b.dq)


@pytest.mark.parity
@pytest.mark.parametrize("kernel", [1, 4, 5])
def test_master_spectrum_matches_jwst_create_background_from_multispec(kernel):
    from jwst.master_background.nirspec_utils import create_background_from_multispec

    from spec2.steps.master_background_mos import master_spectrum

    pm = toy_pm()
    model = slits_of(toy_mos.raw_exposure(toy_mos.source_arrays()), pm)
    rng = np.random.default_rng(kernel)
    for slit in model.slits:
        slit.data = (slit.data + rng.normal(0, 0.5, slit.data.shape)).astype(np.float32)
    params = {"sigma_clip": 3.0, "median_kernel": kernel}
    wl, sb, master1d, x1d = master_spectrum(pm, model, None, params)
    theirs = create_background_from_multispec(x1d, sigma_clip=3.0, median_kernel=kernel).spec[0].spec_table
    np.testing.assert_array_equal(wl, theirs["wavelength"])
    np.testing.assert_allclose(sb, theirs["surf_bright"], rtol=1e-12)
    np.testing.assert_allclose(master1d.spec[0].spec_table["flux"], theirs["flux"], rtol=1e-12)


def test_a_chain_step_skipped_in_the_run_is_skipped_inside_master_background(tmp_path):
    """jwst's sub-steps take the pipeline's parameters: with pathloss skipped, the
    background is calibrated and decalibrated without it (the toy's extended pathloss
    is a constant, so the sky still comes off exactly)."""
    from stdatamodels.jwst import datamodels

    import spec2

    sources = toy_mos.source_arrays()
    toy_mos.raw_exposure(sources).save(str(tmp_path / "jw_mos_rate.fits"))
    plugin = toy_mos.ToyMos()
    results = spec2.process([tmp_path / "jw_mos_rate.fits"], tmp_path / "out", pm=toy_pm(plugin), skip=["pathloss"])
    assert results.ok, [r.error for r in results]
    assert "pathloss" not in [c[0] for c in plugin.calls]
    assert [c[:2] for c in plugin.calls] == [
        ("flat_field", False), ("photom", False), ("resample_spec", False), ("extract_1d", False),
        ("photom", True), ("flat_field", True),  # master background
        ("flat_field", False), ("photom", False)]  # the recipe
    expected = expected_after_subtraction(sources)
    with datamodels.open(tmp_path / "out" / "jw_mos_cal.fits") as cal:
        assert cal.meta.cal_step.master_background == "COMPLETE" and cal.meta.cal_step.pathloss == "SKIPPED"
        for slit, (name, _, source_type, _) in zip(cal.slits, toy_mos.SLITS, strict=True):
            want = expected[name][0] / toy_mos.flat_values() * toy_mos.PHOTOM[source_type]
            np.testing.assert_allclose(slit.data, want, rtol=0, atol=1e-12, err_msg=name)


def test_a_skip_on_request_is_recorded_under_the_step_name_as_jwst_records_it(tmp_path):
    """stpipe records a step the user skips under the step's name
    (cal_step.master_background_mos), while the step records its own outcomes (COMPLETE,
    FAILED, SKIPPED after a nod subtraction) under S_MSBSUB (cal_step.master_background)."""
    from stdatamodels.jwst import datamodels

    import spec2

    toy_mos.raw_exposure(toy_mos.source_arrays()).save(str(tmp_path / "jw_mos_rate.fits"))
    results = spec2.process([tmp_path / "jw_mos_rate.fits"], tmp_path / "out", pm=toy_pm(),
                            skip=["master_background_mos"])
    assert results.ok, [r.error for r in results]
    with datamodels.open(tmp_path / "out" / "jw_mos_cal.fits") as cal:
        assert cal.meta.cal_step.instance["master_background_mos"] == "SKIPPED"
        assert "master_background" not in cal.meta.cal_step.instance


def test_background_copy_shares_the_slits_wcs_and_copies_their_arrays():
    """The chain only reads the WCS, and deep-copying a NIRSpec slitlet's gwcs costs
    ~0.2 s a slitlet (half a minute on 150 slitlets): the copy keeps the same objects."""
    from astropy.modeling.models import Shift
    from gwcs import coordinate_frames as cf
    from gwcs.wcs import WCS
    from stdatamodels.jwst import datamodels

    from spec2.steps.master_background_mos import copy_sharing_wcs

    model = datamodels.MultiSlitModel()
    for i in range(3):
        slit = datamodels.SlitModel(data=np.full((2, 3), float(i), np.float32))
        frames = (cf.Frame2D(name="detector"), cf.Frame2D(name="world"))
        slit.meta.wcs = WCS([(frames[0], Shift(i) & Shift(0)), (frames[1], None)])
        model.slits.append(slit)
    copy = copy_sharing_wcs(model)
    for own, copied in zip(model.slits, copy.slits, strict=True):
        assert copied.meta.wcs is own.meta.wcs
        copied.data += 1  # the arrays are the copy's own
        assert not np.shares_memory(copied.data, own.data)
    assert [float(s.data[0, 0]) for s in model.slits] == [0.0, 1.0, 2.0]
