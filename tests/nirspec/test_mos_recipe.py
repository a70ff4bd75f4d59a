"""The NRS_MSASPEC recipe and claim: jwst's order, the steps this plugin implements, and
the two slit groups (slitlets, then the fixed slits of the configuration) that appear as
soon as a group has steps."""

from types import SimpleNamespace

from spec2.recipe import SlitGroups, Step
from spec2_nirspec import hooks
from spec2_nirspec.mos_slits import (
    is_fixed_slit,
    is_slitlet,
    named_as_fixed_slit,
    named_as_slitlet,
)


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
    groups, extract = [e for e in recipe.entries if isinstance(e, SlitGroups)]
    assert [g.name for g in groups.groups] == ["msa", "fixed_slit"]  # fixed slits merged after the slitlets
    assert groups.product == "cal"
    assert recipe.steps.index("srctype") < recipe.steps.index("flat_field") < recipe.steps.index("resample_spec")
    # the fixed slits are calibrated and extracted as NRS_FIXEDSLIT, as jwst does
    assert [g.exp_type for g in groups.groups] == [None, "NRS_FIXEDSLIT"]
    assert [g.exp_type for g in extract.groups] == [None, "NRS_FIXEDSLIT"] and extract.product == "x1d"


def test_fixed_slits_in_msa_run_the_fixed_slit_steps_as_nrs_fixedslit():
    recipe = hooks.spec2_recipe(exp_type="NRS_MSASPEC", multi_int=False)
    typed = recipe.typed_steps("NRS_MSASPEC")
    assert [s for s, t in typed if t == "NRS_FIXEDSLIT"] == ["wavecorr", "flat_field", "pathloss", "photom",
                                                             "extract_1d"]
    claims = {t: c for c in hooks.spec2_claims() for t in c.exp_types}
    assert all(step in claims[t].steps for step, t in typed)


def test_slit_selectors():
    assert is_slitlet(SimpleNamespace(quadrant=3)) and not is_fixed_slit(SimpleNamespace(quadrant=3))
    assert is_fixed_slit(SimpleNamespace(quadrant=5)) and not is_slitlet(SimpleNamespace(quadrant=5))
    # after resampling, by name, as jwst tells them apart there
    assert named_as_slitlet(SimpleNamespace(name="12")) and not named_as_fixed_slit(SimpleNamespace(name="12"))
    assert named_as_fixed_slit(SimpleNamespace(name="S200A1")) and not named_as_slitlet(SimpleNamespace(name="S200A1"))
