"""``spec2 demo``'s verdicts, run report and plot: the thresholds (pure functions), the
reading of x1d/x1dints products into a PASS/FAIL per case, a failed exposure or a case
without spectra failing the demo, and the exposures run through the batch runner (so the
demo folder gets spec2_report.json)."""

import sys
from pathlib import Path

import numpy as np
import pytest

from spec2.demo import CaseOutcome, DemoCase, calibrate_and_judge, evaluate, summary
from spec2.demo_verdict import check_spectrum, check_transit, white_light
from spec2.pipeline import ExposureResult, RunOptions
from spec2.plugins import get_plugin_manager
from spec2.report import REPORT_NAME

from .toy import ToyPlugin, flat_model, write_rate

WL = np.linspace(1.0, 2.0, 200)


def truth(wl):
    return 0.01 * (1 + 0.3 * np.sin(6 * np.asarray(wl)))


def case(**kw):
    kw.setdefault("light_curve", None)
    return DemoCase("toy case", "a test", [], WL, truth(WL), wavelength_range=(1.2, 1.8), **kw)


def transit_curve(n=60, depth=0.01):
    lc = np.ones(n)
    lc[25:35] = 1 - depth
    lc[23:25] = lc[35:37] = 1 - depth / 2
    return lc


# -- thresholds ---------------------------------------------------------------------------


def test_spectrum_within_noise_passes_and_a_missing_correction_fails():
    rng = np.random.default_rng(1)
    flux = truth(WL) * (1 + 0.01 * rng.standard_normal(WL.size))
    ok = check_spectrum("x", WL, flux, 0.01 * truth(WL), WL, truth(WL), (1.2, 1.8), 0.03)
    assert ok.passed and ok.n == np.count_nonzero((WL >= 1.2) & (WL <= 1.8))
    assert abs(ok.bias) < 0.01 and ok.scatter_bound == pytest.approx(0.04)
    assert "limit ±3.0%" in ok.text()
    # a 10 % missing slit loss: the median ratio moves, whatever the noise
    assert not check_spectrum("x", WL, 0.9 * flux, 0.01 * truth(WL), WL, truth(WL), (1.2, 1.8), 0.03).passed
    # +-10 % element to element with a 1 % error bar: the median is fine, the scatter is not
    wiggle = truth(WL) * (1 + 0.1 * np.where(np.arange(WL.size) % 2, 1, -1))
    bad = check_spectrum("x", WL, wiggle, 0.01 * truth(WL), WL, truth(WL), (1.2, 1.8), 0.03)
    assert abs(bad.bias) <= 0.03 and not bad.passed
    # ... which honest 10 % noise may show
    assert check_spectrum("x", WL, wiggle, 0.1 * truth(WL), WL, truth(WL), (1.2, 1.8), 0.03).passed


def test_spectrum_outside_the_range_or_all_nan_fails():
    check = check_spectrum("x", WL + 5, truth(WL), None, WL, truth(WL), (1.2, 1.8), 0.03)
    assert check.n == 0 and not check.passed and "no finite element" in check.text()
    assert not check_spectrum("x", WL, np.full(WL.size, np.nan), None, WL, truth(WL), (1.2, 1.8), 0.03).passed


def test_transit_depth_recovered_or_not():
    lc = transit_curve()
    rng = np.random.default_rng(2)
    white = 100.0 * lc * (1 + 0.0005 * rng.standard_normal(lc.size))
    ok = check_transit("t", white, lc)
    assert ok.passed and ok.recovered == pytest.approx(0.01, abs=0.001) and ok.injected == pytest.approx(0.01)
    flat = check_transit("t", 100.0 * (1 + 0.0005 * rng.standard_normal(lc.size)), lc)
    assert not flat.passed and "injected 0.0100" in flat.text()


def test_white_light_ignores_columns_with_a_nan():
    flux = np.ones((3, 4))
    flux[1, 2] = np.nan
    np.testing.assert_array_equal(white_light(flux, np.array([1.3, 1.4, 1.5, 3.0]), (1.2, 1.8)), [2, 2, 2])


# -- products to verdicts -----------------------------------------------------------------


def write_x1d(path, flux, error):
    from stdatamodels.jwst import datamodels

    from spec2.steps.extract_slit import single_spec, tso_spec

    flux = np.asarray(flux, float)
    cols = {"FLUX": flux, "FLUX_ERROR": np.broadcast_to(error, flux.shape)}
    if flux.ndim == 2:
        model, spec = datamodels.TSOMultiSpecModel(), tso_spec(cols, WL, {}, None)
    else:
        model, spec = datamodels.MultiSpecModel(), single_spec(cols, WL, {})
    model.spec.append(spec)
    model.save(path)
    return Path(path)


def test_x1d_and_x1dints_products_judged(tmp_path):
    good = write_x1d(tmp_path / "a_x1d.fits", truth(WL), 0.001)
    outcome = evaluate(case(), [ExposureResult("a", products=[tmp_path / "a_cal.fits", good])])
    assert outcome.passed and outcome.lines()[0].startswith("PASS  toy case")

    lc = transit_curve()
    ints = write_x1d(tmp_path / "b_x1dints.fits", lc[:, None] * truth(WL)[None], 0.001)
    series = evaluate(case(light_curve=lc), [ExposureResult("b", products=[ints])])
    assert series.passed and len(series.checks) == 2  # the spectrum and the transit
    assert "out-of-transit" in series.checks[0].label

    no_transit = write_x1d(tmp_path / "c_x1dints.fits", np.ones_like(lc)[:, None] * truth(WL)[None], 0.001)
    flat = evaluate(case(light_curve=lc), [ExposureResult("c", products=[no_transit])])
    assert not flat.passed and flat.checks[0].passed and not flat.checks[1].passed


def test_a_multi_slit_x1d_is_judged_on_the_case_s_source(tmp_path):
    """NIRSpec MOS: one spectrum per slitlet; the case's source_id picks the one compared
    (a wrong pick, here the first spectrum at half the flux, fails the case)."""
    from stdatamodels.jwst import datamodels

    from spec2.steps.extract_slit import single_spec

    model = datamodels.MultiSpecModel()
    for source_id, scale in ((3, 0.5), (7, 1.0), (9, 2.0)):
        spec = single_spec({"FLUX": scale * truth(WL), "FLUX_ERROR": np.full(WL.size, 0.001)}, WL, {})
        spec.source_id = source_id
        model.spec.append(spec)
    model.save(tmp_path / "mos_x1d.fits")
    products = [tmp_path / "mos_x1d.fits"]
    assert evaluate(case(source_id=7), [ExposureResult("a", products=products)]).passed
    assert not evaluate(case(), [ExposureResult("a", products=products)]).passed
    missing = evaluate(case(source_id=8), [ExposureResult("a", products=products)])
    assert not missing.passed and "no spectrum of source 8" in missing.errors[0]


def test_a_case_with_its_own_reader_is_judged_on_its_products_only(tmp_path):
    """A case judged on another product names the products it is judged on and how a
    spectrum is read from them; x1d products are then not judged."""
    s2d, x1d = tmp_path / "a_s2d.fits", write_x1d(tmp_path / "a_x1d.fits", 0.5 * truth(WL), 0.001)
    s2d.write_text("stand-in")
    read = []

    def reader(path, case):
        read.append(path)
        return WL, truth(WL), 0.001 * truth(WL)

    judged = case(judged_suffixes=("_s2d.fits",), reader=reader, source_id=7)
    outcome = evaluate(judged, [ExposureResult("a", products=[x1d, s2d])])
    assert read == [s2d] and outcome.passed
    assert outcome.checks[0].label == "a_s2d.fits source 7"  # no spectral order: not a WFSS x1d


def test_failed_exposure_or_no_spectrum_fails_the_case(tmp_path):
    good = write_x1d(tmp_path / "a_x1d.fits", truth(WL), 0.001)
    failed = evaluate(case(), [ExposureResult("a", products=[good]), ExposureResult("b", error="boom")])
    assert not failed.passed and "b: FAILED: boom" in "\n".join(failed.lines())
    empty = evaluate(case(), [ExposureResult("c", products=[tmp_path / "c_cal.fits"])])
    assert not empty.passed and "no extracted spectrum" in "\n".join(empty.lines())
    assert summary([failed, empty, CaseOutcome(case())]) == "0 of 3 cases PASS; FAILED: toy case, toy case, toy case"


def test_demo_runs_through_the_batch_runner_and_writes_the_report(tmp_path):
    """The toy instrument makes a _cal only: the case runs, the report is written, and the
    verdict is FAIL (nothing to compare), which is the demo's non-zero exit."""
    rate = write_rate(tmp_path / "jw01_rate.fits")
    pm = get_plugin_manager([ToyPlugin()], load_entrypoints=False)
    options = RunOptions(tmp_path / "products", overrides={"flat": flat_model()})
    [outcome], report = calibrate_and_judge([_with_inputs([rate])], options, pm=pm)
    assert report == tmp_path / "products" / REPORT_NAME and report.exists()
    assert [p.name for p in outcome.case.products] == ["jw01_cal.fits"]
    assert not outcome.passed and not outcome.errors


def _with_inputs(inputs):
    c = case()
    c.inputs = list(inputs)
    return c


def test_plot_limits_follow_the_data_not_an_outlier(tmp_path):
    from spec2.demo_plot import binned, robust_limits

    values = np.r_[np.full(500, 1.0) + np.linspace(0, 0.1, 500), 1e4]
    lo, hi = robust_limits(values)
    assert 0.95 < lo < 1.0 and 1.1 < hi < 1.2
    lo, hi = robust_limits(values, include=[0.5, 3.0])  # the truth's line stays in view
    assert lo < 0.5 and 3.0 < hi < 3.5
    wl, _ = binned(np.arange(10.0), np.arange(10.0), 4)
    np.testing.assert_array_equal(wl, [1.5, 5.5])


def test_plot_written_with_a_panel_per_case(tmp_path):
    pytest.importorskip("matplotlib")
    from spec2.demo_plot import plot_outcomes

    lc = transit_curve()
    ints = write_x1d(tmp_path / "b_x1dints.fits", lc[:, None] * truth(WL)[None], 0.001)
    outcomes = [evaluate(case(light_curve=lc), [ExposureResult("b", products=[ints])]), CaseOutcome(case())]
    path = plot_outcomes(outcomes, tmp_path / "demo.png")
    assert path.exists() and path.stat().st_size > 10_000


def test_spectrum_panel_shows_the_range_and_the_data(tmp_path):
    """The NIRISS WFSS panel was a flat line: x over the whole truth, y stretched by one
    wild element. Now x is the case's range and y the bulk of truth and data."""
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from spec2.demo_plot import _spectrum_panel

    flux = truth(WL).copy()
    flux[50] = 100.0  # one wild element, inside the range
    x1d = write_x1d(tmp_path / "a_x1d.fits", flux, 0.001)
    outcome = evaluate(case(), [ExposureResult("a", products=[x1d])])
    fig, ax = plt.subplots()
    _spectrum_panel(ax, outcome)
    assert ax.get_xlim() == pytest.approx((1.2, 1.8))
    lo, hi = ax.get_ylim()  # mJy; the truth spans 7-13 mJy
    assert 5 < lo < 7.5 and 12.5 < hi < 15
    assert ax.get_title().startswith("PASS")
    plt.close(fig)


def test_demo_pictures_are_spec2_plots_of_every_product(tmp_path, monkeypatch):
    """The demo's per-product pictures come from spec2.quicklook (what `spec2 plot`
    draws): one PNG per product, a product that cannot be drawn logged, none without
    matplotlib."""
    pytest.importorskip("matplotlib")
    from spec2.demo import write_pictures
    from spec2.quicklook import figure_for

    rate = write_rate(tmp_path / "jw01_rate.fits")
    pm = get_plugin_manager([ToyPlugin()], load_entrypoints=False)
    options = RunOptions(tmp_path / "products", overrides={"flat": flat_model()})
    [outcome], _ = calibrate_and_judge([_with_inputs([rate])], options, pm=pm)
    x1d = write_x1d(tmp_path / "products" / "jw01_x1d.fits", truth(WL), 0.001)
    bad = tmp_path / "products" / "jw02_x1d.fits"
    bad.write_text("not FITS")
    outcome.case.products += [x1d, bad]
    calls = []
    monkeypatch.setattr("spec2.quicklook.figure_for", lambda *a: calls.append(a[1]) or figure_for(*a))
    pngs = write_pictures([outcome.case], tmp_path / "plots")
    assert [p.name for p in pngs] == ["jw01_cal.png", "jw01_x1d.png"]
    assert calls == ["jw01_cal.fits", "jw01_x1d.fits"] and all(p.stat().st_size > 0 for p in pngs)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    assert write_pictures([outcome.case], tmp_path / "none") == [] and not (tmp_path / "none").exists()
