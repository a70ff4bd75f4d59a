"""The NRS_MSASPEC recipe and claim: jwst's order, the steps this plugin implements, and
the two slit groups (slitlets, then the fixed slits of the configuration) that appear as
soon as a group has steps."""

from types import SimpleNamespace

from spec2.recipe import SlitGroups, Step
from spec2_nirspec import hooks
from spec2_nirspec.mos_slits import is_fixed_slit, is_slitlet


def test_recipe_order_and_claim():
    recipe = hooks.spec2_recipe(exp_type="NRS_MSASPEC", multi_int=False)
    assert recipe.steps == ("assign_wcs", "msa_flagging", "imprint_subtract", "bkg_subtract", "extract_2d", "srctype",
                            "master_background_mos", "wavecorr", "flat_field", "pathloss", "barshadow", "photom",
                            "resample_spec", "extract_1d")
    assert recipe.step("assign_wcs").required
    assert recipe.products() == ("cal", "s2d", "x1d")
    claim = next(c for c in hooks.spec2_claims() if "NRS_MSASPEC" in c.exp_types)
    assert set(claim.steps) == set(recipe.steps)
    assert "msaoper" in claim.steps["msa_flagging"] and "msa" in claim.steps["assign_wcs"]


def test_groups_appear_with_their_steps():
    recipe = hooks.mos_recipe(mos_steps=(Step("flat_field"), Step("photom")), fs_steps=(Step("photom"),))
    [groups] = [e for e in recipe.entries if isinstance(e, SlitGroups)]
    assert [g.name for g in groups.groups] == ["msa", "fixed_slit"]  # fixed slits merged after the slitlets
    assert groups.product == "cal"
    assert recipe.steps.index("srctype") < recipe.steps.index("flat_field") < recipe.steps.index("resample_spec")


def test_slit_selectors():
    assert is_slitlet(SimpleNamespace(quadrant=3)) and not is_fixed_slit(SimpleNamespace(quadrant=3))
    assert is_fixed_slit(SimpleNamespace(quadrant=5)) and not is_slitlet(SimpleNamespace(quadrant=5))
