"""A slit group calibrated as another exposure type (``SlitGroup(..., exp_type=...)``):
the fixed slits of a toy MSA exposure get the references CRDS selects for NRS_FIXEDSLIT
(selected in the driver for a run on workers, or looked up as that type in one process),
run the steps of the plugin that claims them for NRS_FIXEDSLIT, see that type on their
model and slits, and merge back into an NRS_MSASPEC product, extraction included. Uses
the toy plugin (the NRS_FIXEDSLIT owner) and a one-file local CRDS cache whose flat
matches NRS_FIXEDSLIT only."""

from __future__ import annotations

import numpy as np
import pytest
from stdatamodels.jwst import datamodels

from spec2 import hookimpl
from spec2.association import Exposure
from spec2.crds_cache import LocalCache, crds_environment
from spec2.pipeline import RunOptions, calibrate_exposure
from spec2.plugins import get_plugin_manager, step_definitions
from spec2.recipe import Claim, Recipe, SlitGroup, SlitGroups, Step
from spec2.ref_selection import select_references

from .toy import ToyPlugin, flat_model, write_rate

MSA = "NRS_MSASPEC"
FS = "NRS_FIXEDSLIT"  # the toy plugin's type: it owns flat_field (reftype flat) and extract_1d for it


def is_fixed_slit(slit):
    return slit.name.startswith("S")


def is_slitlet(slit):
    return not is_fixed_slit(slit)


class FixedSlits(ToyPlugin):
    """The NRS_FIXEDSLIT owner: records the type its flat and extraction were given."""

    def __init__(self):
        super().__init__()
        self.seen = []  # (step, model EXP_TYPE, slits' EXP_TYPEs)

    @hookimpl
    def spec2_claims(self):
        return [Claim((FS,), {"assign_wcs": (), "flat_field": ("flat",), "extract_1d": ()})]

    def _see(self, step, model):
        self.seen.append((step, model.meta.exposure.type, tuple(s.meta.exposure.type for s in model.slits)))

    @hookimpl
    def flat(self, model, refs, params):
        self._see("flat_field", model)
        f = refs.open("flat").data[0, 0]
        for slit in model.slits:
            slit.data = slit.data / f
        return model

    @hookimpl
    def extract(self, model):
        self._see("extract_1d", model)
        return spectra(model, "fs")


class Msa:
    """The NRS_MSASPEC owner: cuts two slitlets and two fixed slits, calibrates the
    slitlets itself and the fixed slits as NRS_FIXEDSLIT."""

    __version__ = "1.0"

    def __init__(self):
        self.seen = []

    @hookimpl
    def spec2_claims(self):
        return [Claim((MSA,), {"assign_wcs": (), "extract_2d": (), "toy_scale": (), "extract_1d": ()})]

    @hookimpl
    def spec2_recipe(self, exp_type, multi_int):
        calibrate = SlitGroups((SlitGroup("msa", is_slitlet, ("toy_scale",)),
                                SlitGroup("fixed_slit", is_fixed_slit, ("flat_field",), exp_type=FS)), product="cal")
        extract = SlitGroups((SlitGroup("msa", is_slitlet, ("extract_1d",)),
                              SlitGroup("fixed_slit", is_fixed_slit, ("extract_1d",), exp_type=FS)), product="x1d")
        return Recipe((Step("assign_wcs", required=True), "extract_2d", calibrate, extract))

    @hookimpl
    def assign_wcs(self, model):
        return model

    @hookimpl
    def extract_2d(self, model):
        out = datamodels.MultiSlitModel()
        out.update(model)
        for name in ("S200A1", "12", "S400A1", "13"):  # mixed: the merge puts the slitlets first
            slit = datamodels.SlitModel(model.data[:2, :3].copy())
            slit.name = name
            out.slits.append(slit)
        return out

    @hookimpl
    def toy_scale(self, model, params):
        self.seen.append(("toy_scale", model.meta.exposure.type))
        for slit in model.slits:
            slit.data = slit.data * params["factor"]
        return model

    @hookimpl
    def extract(self, model):
        self.seen.append(("extract_1d", model.meta.exposure.type))
        return spectra(model, "msa")


def spectra(model, who):
    """One 'spectrum' per slit: its column sums, named '<slit>:<who extracted it>'."""
    out = datamodels.MultiSpecModel()
    out.update(model)
    dtype = datamodels.SpecModel().get_dtype("spec_table")
    for slit in model.slits:
        table = np.zeros(3, dtype=dtype)
        table["FLUX"] = slit.data.sum(axis=0)
        spec = datamodels.SpecModel(spec_table=table)
        spec.name = f"{slit.name}:{who}"
        out.spec.append(spec)
    return out


@pytest.fixture
def crds_env(tmp_path, monkeypatch):
    """A local CRDS cache with a flat of 2 for NRS_FIXEDSLIT and none for NRS_MSASPEC."""
    flat = tmp_path / "jwst_nirspec_flat_0001.fits"
    flat_model().save(str(flat))
    local = LocalCache(tmp_path / "crds")
    local.add("nirspec", "flat", ("META.EXPOSURE.TYPE",), (FS,), flat)
    cache = local.finish()
    for key, value in crds_environment(cache).items():
        monkeypatch.setenv(key, value)
    return cache


def _rate(tmp_path):
    from stdatamodels.jwst import datamodels as dm

    path = write_rate(tmp_path / "jw01_rate.fits", exp_type=MSA)
    with dm.open(path) as model:
        model.meta.observation.date, model.meta.observation.time = "2024-01-01", "00:00:00"
        model.save(path)
    return path


def _check(result, fs, msa):
    assert result.ok, result.error
    steps = {s.name: s for s in result.steps}
    # the fixed slits' flat is the one CRDS has for NRS_FIXEDSLIT, and the report says so
    assert steps["flat_field[fixed_slit]"].references == {"flat": "crds://jwst_nirspec_flat_0001.fits"}
    assert steps["toy_scale[msa]"].references == {}
    # each group ran as its type, by the plugin that claims the step for that type
    assert msa.seen == [("toy_scale", MSA), ("extract_1d", MSA)]
    assert fs.seen == [("flat_field", FS, (FS, FS)), ("extract_1d", FS, (FS, FS))]
    cal_path, x1d_path = result.products
    with datamodels.open(cal_path) as cal:
        assert cal.meta.exposure.type == MSA  # merged: the exposure's type again
        assert [s.name for s in cal.slits] == ["12", "13", "S200A1", "S400A1"]
        # slitlets x2 (toy_scale), fixed slits / 2 (the NRS_FIXEDSLIT flat)
        np.testing.assert_allclose([s.data.mean() for s in cal.slits], [8.0, 8.0, 2.0, 2.0])
        assert cal.meta.cal_step.flat_field == "COMPLETE"
    with datamodels.open(x1d_path) as x1d:
        assert x1d.meta.exposure.type == MSA
        assert [s.name for s in x1d.spec] == ["12:msa", "13:msa", "S200A1:fs", "S400A1:fs"]
        assert x1d.meta.cal_step.extract_1d == "COMPLETE"


def test_group_of_its_own_type_selected_in_the_driver(tmp_path, crds_env, monkeypatch):
    """On workers: the driver selects the fixed slits' references as NRS_FIXEDSLIT; the
    run never asks CRDS."""
    fs, msa = FixedSlits(), Msa()
    pm = get_plugin_manager([fs, msa], load_entrypoints=False)
    opts = RunOptions(tmp_path / "out")
    [selected], failed = select_references(pm, [Exposure("jw01", _rate(tmp_path))], opts)
    assert failed == {}
    assert selected.references.paths == {}  # nothing declared for NRS_MSASPEC
    assert selected.references.by_exp_type[FS].paths["flat"].endswith("jwst_nirspec_flat_0001.fits")
    monkeypatch.setenv("CRDS_PATH", str(tmp_path / "nowhere"))  # as a worker: CRDS unusable
    monkeypatch.setenv("CRDS_SERVER_URL", "")
    result = calibrate_exposure(pm, selected, opts, step_definitions(pm))
    _check(result, fs, msa)


def test_group_of_its_own_type_in_one_process(tmp_path, crds_env):
    """In one process: the group's references are looked up in CRDS as NRS_FIXEDSLIT."""
    fs, msa = FixedSlits(), Msa()
    pm = get_plugin_manager([fs, msa], load_entrypoints=False)
    opts = RunOptions(tmp_path / "out")
    result = calibrate_exposure(pm, Exposure("jw01", _rate(tmp_path)), opts, step_definitions(pm))
    _check(result, fs, msa)


def test_a_group_step_unclaimed_for_its_type_is_refused(tmp_path, crds_env):
    class NoFixedSlitExtraction(FixedSlits):
        @hookimpl
        def spec2_claims(self):
            return [Claim((FS,), {"assign_wcs": (), "flat_field": ("flat",)})]

    pm = get_plugin_manager([NoFixedSlitExtraction(), Msa()], load_entrypoints=False)
    result = calibrate_exposure(pm, Exposure("jw01", _rate(tmp_path)), RunOptions(tmp_path / "out"),
                                step_definitions(pm))
    assert not result.ok
    assert "no plugin implements step extract_1d for EXP_TYPE=NRS_FIXEDSLIT" in result.error


def test_skipping_the_groups_product_step_makes_no_product(tmp_path, crds_env):
    fs, msa = FixedSlits(), Msa()
    pm = get_plugin_manager([fs, msa], load_entrypoints=False)
    result = calibrate_exposure(pm, Exposure("jw01", _rate(tmp_path)), RunOptions(tmp_path / "out", skip=("extract_1d",)),
                                step_definitions(pm))
    assert result.ok, result.error
    assert [p.name for p in result.products] == ["jw01_cal.fits"]
    assert [(s.name, s.status) for s in result.steps if s.name.startswith("extract_1d")] == [
        ("extract_1d[msa]", "SKIPPED"), ("extract_1d[fixed_slit]", "SKIPPED")]
