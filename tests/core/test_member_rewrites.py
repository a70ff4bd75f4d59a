"""The runner's members contract: each hook gets its own copy of the association's
members, and only a step whose StepDef declares ``rewrites_members`` hands its changes
to the steps after it (NIRSpec imprint_subtract -> bkg_subtract)."""

from __future__ import annotations

import json

import pytest

from spec2 import hookimpl, hookspec
from spec2.errors import StepSkipped
from spec2.recipe import Claim, Recipe, Step, StepDef

from .toy import TOY_TYPE, write_rate


class Specs:
    @hookspec(firstresult=True)
    def rewriter(self, model, refs, params, members, input_dir, pm, extra_products):
        """Replace the background members (declared)."""

    @hookspec(firstresult=True)
    def meddler(self, model, refs, params, members, input_dir, pm, extra_products):
        """Replace the background members (not declared)."""


class MembersPlugin:
    __version__ = "1.0"

    def __init__(self, middle):
        self.middle = middle
        self.seen = None  # what bkg_subtract was handed

    @hookimpl
    def spec2_addhooks(self, pluginmanager):
        pluginmanager.add_hookspecs(Specs)

    @hookimpl
    def spec2_step_definitions(self):
        return [StepDef("rewriter", "rewriter", None, (), "declares", rewrites_members=("background",)),
                StepDef("meddler", "meddler", None, (), "does not declare")]

    @hookimpl
    def spec2_claims(self):
        return [Claim((TOY_TYPE,), {"assign_wcs": (), "bkg_subtract": (), "rewriter": (), "meddler": ()})]

    @hookimpl
    def spec2_recipe(self, exp_type, multi_int):
        return Recipe((Step("assign_wcs", required=True), self.middle, Step("bkg_subtract", product="cal")))

    @hookimpl
    def assign_wcs(self, model):
        return model

    def _replace(self, model, members):
        members["background"] = ["replaced"]
        members["imprint"] = ["replaced"]
        return model

    @hookimpl
    def rewriter(self, model, members):
        return self._replace(model, members)

    @hookimpl
    def meddler(self, model, members):
        return self._replace(model, members)

    @hookimpl
    def background(self, model, members):
        self.seen = {k: [str(v) for v in vs] for k, vs in members.items()}
        raise StepSkipped("seen")


@pytest.mark.parametrize(("middle", "skip", "background"), [
    ("rewriter", (), ["replaced"]),
    ("rewriter", ("rewriter",), ["bkg_rate.fits"]),
    ("meddler", (), ["bkg_rate.fits"]),
])
def test_only_declared_member_types_reach_later_steps(tmp_path, middle, skip, background):
    import spec2
    from spec2.plugins import get_plugin_manager

    for name in ("sci", "bkg", "imp"):
        write_rate(tmp_path / f"{name}_rate.fits")
    doc = {"asn_type": "spec2", "asn_rule": "test", "products": [{"name": "jw", "members": [
        {"expname": "sci_rate.fits", "exptype": "science"}, {"expname": "bkg_rate.fits", "exptype": "background"},
        {"expname": "imp_rate.fits", "exptype": "imprint"}]}]}
    (tmp_path / "asn.json").write_text(json.dumps(doc))
    plugin = MembersPlugin(middle)
    results = spec2.process(tmp_path / "asn.json", tmp_path / "out", pm=get_plugin_manager([plugin],
                            load_entrypoints=False), skip=skip)
    assert results.ok, [r.error for r in results]
    assert [p.rsplit("/", 1)[-1] for p in plugin.seen["background"]] == background
    assert [p.rsplit("/", 1)[-1] for p in plugin.seen["imprint"]] == ["imp_rate.fits"]  # not declared
