"""The runner: recipe order, skips, parameters, status and reference keywords, errors,
all-or-nothing products. Uses an in-memory plugin (tests/core/toy.py)."""

import json
from pathlib import Path

import numpy as np
import pytest
from stdatamodels.jwst import datamodels

from spec2 import hookimpl
from spec2.association import Exposure, expand_inputs
from spec2.pipeline import RunOptions, run_all
from spec2.plugins import get_plugin_manager

from .toy import TOY_TYPE, ToyPlugin, flat_model, write_rate


@pytest.fixture
def toy():
    return ToyPlugin()


def run(pm, jobs, tmp_path, **kw):
    kw.setdefault("overrides", {"flat": flat_model()})
    return run_all(pm, jobs, RunOptions(tmp_path / "out", **kw))


def test_recipe_runs_in_order_and_records_status(toy, tmp_path):
    pm = get_plugin_manager([toy], load_entrypoints=False)
    rate = write_rate(tmp_path / "jw01_rate.fits")
    [res] = run(pm, [Exposure("jw01", rate)], tmp_path)
    assert res.ok, res.error
    assert toy.calls == ["assign_wcs", "bkg_subtract", "flat_field", "toy_scale"]
    assert [p.name for p in res.products] == ["jw01_cal.fits"]
    with datamodels.open(res.products[0]) as cal:
        np.testing.assert_allclose(cal.data, 4.0 / 2.0 * 2.0)
        assert cal.meta.cal_step.assign_wcs == "COMPLETE"
        assert cal.meta.cal_step.bkg_subtract == "SKIPPED"
        assert cal.meta.cal_step.flat_field == "COMPLETE"
        assert cal.meta.cal_step.straylight == "COMPLETE"  # the plugin's own step
        assert cal.meta.ref_file.flat.name == "toy_flat.fits"


def test_skip_and_set(toy, tmp_path):
    pm = get_plugin_manager([toy], load_entrypoints=False)
    rate = write_rate(tmp_path / "jw01_rate.fits")
    [res] = run(
        pm, [Exposure("jw01", rate)], tmp_path,
        skip=frozenset({"flat_field"}), settings={"toy_scale": {"factor": 3.0}},
    )
    with datamodels.open(res.products[0]) as cal:
        np.testing.assert_allclose(cal.data, 12.0)
        assert cal.meta.cal_step.flat_field == "SKIPPED"
    assert "flat_field" not in toy.calls


def test_failure_leaves_no_product_and_others_continue(tmp_path):
    toy = ToyPlugin(fail_in="toy_scale")
    pm = get_plugin_manager([toy], load_entrypoints=False)
    good_plugin_run = tmp_path / "jw01_rate.fits"
    write_rate(good_plugin_run)
    results = run(pm, [Exposure("jw01", good_plugin_run), Exposure("jw02", tmp_path / "missing_rate.fits")], tmp_path)
    assert [r.ok for r in results] == [False, False]
    assert "toy failure in toy_scale" in results[0].error
    assert "no such file" in results[1].error
    assert list((tmp_path / "out").iterdir()) == []  # nothing half written, no staging left


def test_one_bad_exposure_does_not_stop_the_next(toy, tmp_path):
    pm = get_plugin_manager([toy], load_entrypoints=False)
    bad = tmp_path / "jw00_rate.fits"
    bad.write_text("not a fits file")
    good = write_rate(tmp_path / "jw01_rate.fits")
    results = run(pm, expand_inputs([bad, good]), tmp_path)
    assert not results[0].ok and "not a FITS file" in results[0].error
    assert results[1].ok


def test_overriding_plugin_takes_the_step(toy, tmp_path):
    from spec2.recipe import Claim

    class Override:
        @hookimpl
        def spec2_claims(self):
            return [Claim((TOY_TYPE,), {"flat_field": ()}, recipe=False, override=True)]

        @hookimpl
        def flat(self, model):
            model.data = model.data * 0 + 7
            return model

    pm = get_plugin_manager([toy, Override()], load_entrypoints=False)
    rate = write_rate(tmp_path / "jw01_rate.fits")
    [res] = run(pm, [Exposure("jw01", rate)], tmp_path)
    with datamodels.open(res.products[0]) as cal:
        np.testing.assert_allclose(cal.data, 14.0)
    assert "flat_field" not in toy.calls  # the toy's own flat was never called


@pytest.mark.parametrize(
    "exp_type, message",
    [("MIR_IMAGE", "not a spectroscopic exposure"), ("NIS_SOSS", "no installed plugin calibrates EXP_TYPE=NIS_SOSS")],
)
def test_unsupported_exposures(toy, tmp_path, exp_type, message):
    pm = get_plugin_manager([toy], load_entrypoints=False)
    rate = write_rate(tmp_path / "jw01_rate.fits", exp_type=exp_type)
    [res] = run(pm, [Exposure("jw01", rate)], tmp_path)
    assert message in res.error
    assert "\n" not in res.error


def test_product_instead_of_rate_is_refused(toy, tmp_path):
    pm = get_plugin_manager([toy], load_entrypoints=False)
    spec = datamodels.MultiSpecModel()
    spec.save(str(tmp_path / "jw01_x1d.fits"))
    [res] = run(pm, [Exposure("jw01", tmp_path / "jw01_x1d.fits")], tmp_path)
    assert "is a MultiSpecModel" in res.error


def test_missing_reference_is_one_clear_line(toy, tmp_path, monkeypatch):
    monkeypatch.delenv("CRDS_PATH", raising=False)
    monkeypatch.delenv("CRDS_SERVER_URL", raising=False)
    pm = get_plugin_manager([toy], load_entrypoints=False)
    rate = write_rate(tmp_path / "jw01_rate.fits")
    [res] = run(pm, [Exposure("jw01", rate)], tmp_path, overrides={})
    assert "flat" in res.error and "--ref flat=PATH" in res.error


def test_association_with_missing_member(toy, tmp_path):
    pm = get_plugin_manager([toy], load_entrypoints=False)
    write_rate(tmp_path / "jw01_rate.fits")
    asn = {
        "asn_type": "spec2",
        "products": [
            {"name": "jw01", "members": [{"expname": "jw01_rate.fits", "exptype": "science"}]},
            {"name": "jw02", "members": [
                {"expname": "jw02_rate.fits", "exptype": "science"},
            ]},
            {"name": "jw03", "members": [
                {"expname": "jw01_rate.fits", "exptype": "science"},
                {"expname": "gone_rate.fits", "exptype": "background"},
            ]},
        ],
    }
    asn_path = tmp_path / "asn.json"
    asn_path.write_text(json.dumps(asn))
    results = run(pm, expand_inputs([asn_path]), tmp_path)
    assert [r.ok for r in results] == [True, False, False]
    assert "member jw02_rate.fits (science) does not exist" in results[1].error
    assert "member gone_rate.fits (background) does not exist" in results[2].error


def test_association_members_reach_the_hook(toy, tmp_path):
    pm = get_plugin_manager([toy], load_entrypoints=False)
    write_rate(tmp_path / "jw01_rate.fits")
    write_rate(tmp_path / "jw02_rate.fits")
    asn_path = tmp_path / "asn.json"
    asn_path.write_text(json.dumps({"products": [{"name": "jw01", "members": [
        {"expname": "jw01_rate.fits", "exptype": "science"},
        {"expname": "jw02_rate.fits", "exptype": "background"}]}]}))
    [res] = run(pm, expand_inputs([asn_path]), tmp_path)
    assert res.ok, res.error
    # the background hook got the background member, by path, and not the science one
    assert [Path(p).name for p in toy.members["background"]] == ["jw02_rate.fits"]
    assert all(Path(p).name != "jw01_rate.fits" for group in toy.members.values() for p in group)
    with datamodels.open(res.products[0]) as cal:
        assert cal.meta.exposure.type == TOY_TYPE
        assert cal.meta.cal_step.bkg_subtract == "COMPLETE"


def test_a_product_asdf_rejects_leaves_no_file_and_the_next_is_written(toy, tmp_path):
    """The ASDF tree of jw01's product holds an integer asdf refuses to write (caught by
    the writer's remembered validation, spec2.asdf_validation): jw01 fails with asdf's
    message and leaves nothing behind; jw02, written after it, is complete."""

    class Poison:
        @hookimpl
        def spec2_claims(self):
            from spec2.recipe import Claim

            return [Claim((TOY_TYPE,), {"flat_field": ()}, recipe=False, override=True)]

        @hookimpl
        def flat(self, model):
            if "jw01" in model.meta.filename:
                model.meta.spec2_test_value = 2**70
            return model

    pm = get_plugin_manager([toy, Poison()], load_entrypoints=False)
    jobs = [Exposure(name, write_rate(tmp_path / f"{name}_rate.fits")) for name in ("jw01", "jw02")]
    bad, good = run(pm, jobs, tmp_path)
    assert not bad.ok and "too large to safely represent" in bad.error
    assert good.ok, good.error
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["jw02_cal.fits"]
    with datamodels.open(tmp_path / "out" / "jw02_cal.fits") as cal:
        np.testing.assert_allclose(cal.data, 8.0)  # the toy scale, no flat (Poison took it)
