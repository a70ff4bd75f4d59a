"""NIRSpec plugin hook implementations: fixed slit (NRS_FIXEDSLIT), bright-object time
series (NRS_BRIGHTOBJ) and multi-object spectroscopy (NRS_MSASPEC).

Thin adapters, as in the MIRI plugin: the plugin claims its exposure types and steps in
``spec2_claims``, and each hook fetches reference files through ``refs`` and calls the
step module. The recipe is calwebb_spec2's for NIRSpec slits
(``_process_nirspec_slits``). wavecorr is a step of this plugin's own: its hook
specification is added through ``spec2_addhooks`` and its StepDef through
``spec2_step_definitions``, as a third-party plugin would add one.
"""

from __future__ import annotations

import logging

from spec2 import hookimpl
from spec2.recipe import Claim, Recipe, SlitGroup, SlitGroups, Step
from spec2_nirspec.mos_slits import (
    is_fixed_slit,
    is_slitlet,
    named_as_fixed_slit,
    named_as_slitlet,
)

FIXEDSLIT = "NRS_FIXEDSLIT"
BRIGHTOBJ = "NRS_BRIGHTOBJ"
MSASPEC = "NRS_MSASPEC"
EXPOSURE_TYPES = (FIXEDSLIT, BRIGHTOBJ, MSASPEC)
IMPRINT_TYPES = (MSASPEC, "NRS_IFU")  # jwst subtracts imprints for these only
# MOS slitlets from DN/s to surface brightness: what master_background_mos runs forward
# (as EXTENDED) and undoes on the expanded background, as jwst's sub-steps
MOS_BACKGROUND_CHAIN = ("flat_field", "pathloss", "barshadow", "photom")
MASTER_BACKGROUND_REFTYPES = ("fflat", "sflat", "dflat", "pathloss", "barshadow", "photom", "area",
                              "extract1d", "apcorr")
log = logging.getLogger("spec2")
# the instrument-model reference types the slit WCS is built from
WCS_REFTYPES = ("disperser", "wavelengthrange", "fpa", "camera", "collimator", "msa", "fore", "ote")

# bkg_subtract and pathloss stay in the list so their S_* keywords say SKIPPED, as jwst's
_CALIBRATE = (Step("assign_wcs", required=True), "bkg_subtract", "extract_2d", "srctype", "wavecorr",
              "flat_field", "pathloss", Step("photom", product="cal"))

# NRS_MSASPEC, as jwst's _process_nirspec_msa_slits: after srctype the slitlets and the
# fixed slits of the MSA configuration are calibrated by their own rules, the fixed slits
# as NRS_FIXEDSLIT (the fixed-slit references and code), appended after the slitlets.
# One tuple per group. jwst's _extract_nirspec_msa_slits extracts them the same way.
MOS_SLIT_STEPS: tuple = ("master_background_mos", "wavecorr", "flat_field", "pathloss", "barshadow", "photom")
FS_IN_MSA_STEPS: tuple = ("wavecorr", "flat_field", "pathloss", "photom")
_MOS_PREPARE = (Step("assign_wcs", required=True), "msa_flagging", "imprint_subtract", "bkg_subtract",
                "extract_2d", "srctype")
# slitlets first, then the fixed slits: in the _cal, _s2d and _x1d alike
_EXTRACT = SlitGroups((SlitGroup("msa", named_as_slitlet, ("extract_1d",)),
                       SlitGroup("fixed_slit", named_as_fixed_slit, ("extract_1d",), exp_type=FIXEDSLIT)),
                      product="x1d")


def mos_recipe(mos_steps=MOS_SLIT_STEPS, fs_steps=FS_IN_MSA_STEPS) -> Recipe:
    """The NRS_MSASPEC recipe; slit groups only when a group has steps."""
    groups = (SlitGroup("msa", is_slitlet, tuple(mos_steps)),
              SlitGroup("fixed_slit", is_fixed_slit, tuple(fs_steps), exp_type=FIXEDSLIT))
    if any(g.steps for g in groups):
        calibrate = (*_MOS_PREPARE, SlitGroups(groups, product="cal"))
    else:
        calibrate = (*_MOS_PREPARE[:-1], Step("srctype", product="cal"))
    return Recipe(calibrate + (Step("resample_spec", product="s2d"), _EXTRACT))


@hookimpl
def spec2_addhooks(pluginmanager):
    from spec2_nirspec.hookspecs import NirspecSteps

    pluginmanager.add_hookspecs(NirspecSteps)


@hookimpl
def spec2_step_definitions():
    from spec2.recipe import Param, StepDef, inverse_param

    return [StepDef("wavecorr", "wavecorr", "wavecorr", (),
                    "NIRSpec: wavelength zero point of off-centre point sources", reftypes=("wavecorr",)),
            # jwst's Spec2Pipeline calls it imprint_subtract; ImprintStep records cal_step.imprint (S_IMPRNT)
            StepDef("imprint_subtract", "imprint", "imprint", (), "NIRSpec MOS/IFU: subtract the association's imprint "
                    "exposure from the science and background members", rewrites_members=("background",)),
            StepDef("barshadow", "barshadow", "barshadow",
                    (inverse_param("bar shadow correction"),
                     Param("source_type", "str", None, "force the source type of every slitlet; None: its own",
                           choices=("POINT", "EXTENDED"))),
                    "NIRSpec MOS: shadow of the MSA bars on extended sources", reftypes=("barshadow",)),
            StepDef("msa_flagging", "msa_flagging", "msa_flagging", (),
                    "NIRSpec MOS: flag pixels lit through failed-open MSA shutters",
                    reftypes=("msaoper",) + WCS_REFTYPES)]


@hookimpl
def spec2_claims():
    common = {"assign_wcs": WCS_REFTYPES, "bkg_subtract": (), "extract_2d": (), "srctype": (),
              "wavecorr": ("wavecorr",), "flat_field": ("fflat", "sflat", "dflat"), "pathloss": ("pathloss",),
              "photom": ("photom", "area"), "extract_1d": ("extract1d", "apcorr")}
    mos = {"assign_wcs": WCS_REFTYPES, "msa_flagging": ("msaoper",) + WCS_REFTYPES, "imprint_subtract": (),
           "bkg_subtract": (), "extract_2d": (), "srctype": (),
           "master_background_mos": MASTER_BACKGROUND_REFTYPES, "wavecorr": ("wavecorr",),
           "flat_field": ("fflat", "sflat", "dflat"), "pathloss": ("pathloss",), "barshadow": ("barshadow",),
           "photom": ("photom", "area"), "resample_spec": (), "extract_1d": ("extract1d", "apcorr")}
    return [Claim((FIXEDSLIT,), {**common, "resample_spec": ()}), Claim((BRIGHTOBJ,), common),
            Claim((MSASPEC,), mos),
            # imprint for the IFU, whose recipe is not this plugin's yet
            Claim(("NRS_IFU",), {"imprint_subtract": ()}, recipe=False)]


@hookimpl
def spec2_recipe(exp_type, multi_int):
    if exp_type == MSASPEC:
        return mos_recipe()
    # jwst resamples single-integration fixed-slit data only
    resample = (Step("resample_spec", product="s2d"),) if exp_type == FIXEDSLIT and not multi_int else ()
    return Recipe(_CALIBRATE + resample + (Step("extract_1d", product="x1d"),))


@hookimpl
def assign_wcs(model, refs, input_dir):
    from spec2_nirspec.wcs_model import build_slit_wcs

    references = {k: refs.open(k) for k in WCS_REFTYPES}
    slits = None
    if model.meta.exposure.type == MSASPEC:
        from spec2_nirspec.msa_metadata import open_msa_slits

        slits = open_msa_slits(model, input_dir, references["msa"])
    wcs, _slits = build_slit_wcs(model, references, slits)
    model.meta.wcs = wcs
    model.meta.wcsinfo.specsys = "BARYCENT"
    model.meta.wcsinfo.dispersion_direction = 1
    return model


@hookimpl
def msa_flagging(model, refs):
    from spec2.errors import StepSkipped
    from spec2_nirspec.msa_flagging import flag_failed_open

    if refs.path("msaoper") is None:
        raise StepSkipped("no msaoper reference file")
    n = flag_failed_open(model, refs.load_json("msaoper"), {k: refs.open(k) for k in WCS_REFTYPES})
    log.info("msa_flagging: %d pixels flagged MSA_FAILED_OPEN", n)
    return model


@hookimpl
def extract_2d(model):
    if model.meta.exposure.type == MSASPEC:
        from spec2_nirspec.mos_slits import extract_mos_slits

        return extract_mos_slits(model)
    from spec2_nirspec.extract_2d import extract_fixed_slits

    return extract_fixed_slits(model)


@hookimpl
def srctype(model, params):
    if model.meta.exposure.type == MSASPEC:
        from spec2_nirspec.mos_slits import mos_source_types

        if params["source_type"] is not None:
            # as jwst 3.0.0: a MOS slit's type comes from its source's stellarity only
            log.warning("srctype.source_type=%s does not apply to MOS slitlets (each takes its source's "
                        "stellarity): ignored", params["source_type"])
        return mos_source_types(model)
    from spec2.steps.srctype import set_source_type

    set_source_type(model, source_type=params["source_type"])
    if model.meta.exposure.type == FIXEDSLIT and hasattr(model, "slits"):
        # the decision applies to the primary slit; the others hold whatever is there
        primary = model.meta.instrument.fixed_slit
        for slit in model.slits:
            if slit.name == primary:
                slit.source_type = model.meta.target.source_type
                if slit.source_type == "EXTENDED":
                    slit.source_xpos = slit.source_ypos = 0.0
            else:
                slit.source_type = "EXTENDED"
    return model


@hookimpl
def wavecorr(model, refs):
    from spec2.errors import StepSkipped
    from spec2_nirspec.wavecorr import apply_wavecorr

    if refs.path("wavecorr") is None:
        raise StepSkipped("no wavecorr reference file")
    model, corrected = apply_wavecorr(model, refs.open("wavecorr"))
    if not corrected:
        raise StepSkipped("no point source to correct")
    return model


@hookimpl
def imprint(model, members):
    from spec2.errors import StepSkipped
    from spec2_nirspec.imprint import imprint_exposure_and_backgrounds

    if not imprint_exposure_and_backgrounds(model, members):
        raise StepSkipped("no imprint member matches the exposure")
    return model


@hookimpl
def master_background_mos(model, refs, params, members, input_dir, pm, extra_products, step_params):
    from spec2.steps.master_background_mos import subtract_master_background

    return subtract_master_background(model, refs, params, pm, MOS_BACKGROUND_CHAIN, extra_products, members,
                                      input_dir, step_params)


@hookimpl
def background(model, params, members):
    from spec2.steps.background import subtract_association_backgrounds

    return subtract_association_backgrounds(model, params, members)


def _is_mos(model) -> bool:
    return model.meta.exposure.type == "NRS_MSASPEC"


@hookimpl
def barshadow(model, refs, params):
    from spec2.errors import StepSkipped

    if not _is_mos(model):
        raise StepSkipped("bar shadows are corrected for MOS exposures only")
    if refs.path("barshadow") is None:
        raise StepSkipped("no barshadow reference file")
    from spec2_nirspec.barshadow import apply_barshadow

    return apply_barshadow(model, refs.open("barshadow"), inverse=params["inverse"],
                           source_type=params.get("source_type"))


@hookimpl
def pathloss(model, refs, params):
    from spec2.errors import StepSkipped
    from spec2.steps.call import forward_only

    if _is_mos(model):
        from spec2_nirspec.pathloss import apply_mos_pathloss

        if refs.path("pathloss") is None:
            raise StepSkipped("no pathloss reference file")
        if not apply_mos_pathloss(model, refs.open("pathloss"), inverse=params["inverse"],
                                  source_type=params.get("source_type")):
            raise StepSkipped("no slitlet had a pathloss correction")
        return model
    forward_only(params, "NIRSpec fixed-slit pathloss")
    if model.meta.exposure.type == BRIGHTOBJ:
        raise StepSkipped("no slit loss for bright-object time series")
    from spec2_nirspec.pathloss import apply_fs_pathloss
    from spec2_nirspec.wavecorr import uncorrected_wavelength

    if not apply_fs_pathloss(model, refs.open("pathloss"), uncorrected_wavelength):
        raise StepSkipped("no slit had a pathloss correction")
    return model


@hookimpl
def photom(model, refs, params):
    from spec2.steps.call import forward_only

    if _is_mos(model):
        from spec2_nirspec.photom import apply_mos_photom

        apply_mos_photom(model, refs.open("photom"), refs.open("area"), inverse=params["inverse"],
                         source_type=params.get("source_type"))
        return model
    forward_only(params, "NIRSpec fixed-slit and BOTS photom")
    from spec2_nirspec.photom import apply_bots_photom, apply_fs_photom
    from spec2_nirspec.wavecorr import uncorrected_wavelength

    photom_model, area = refs.open("photom"), refs.open("area")
    if model.meta.exposure.type == BRIGHTOBJ:
        return apply_bots_photom(model, photom_model, area)
    return apply_fs_photom(model, photom_model, area, uncorrected_wavelength)


@hookimpl
def flat(model, refs, params):
    from spec2.steps.call import forward_only

    parts = [refs.open(k) if refs.path(k) is not None else None for k in ("fflat", "sflat", "dflat")]
    if _is_mos(model):
        from spec2_nirspec.flat_field import apply_mos_flat

        return apply_mos_flat(model, *parts, inverse=params["inverse"])
    forward_only(params, "NIRSpec fixed-slit and BOTS flat_field")
    from spec2_nirspec.flat_field import apply_bots_flat, apply_fs_flat
    from spec2_nirspec.wavecorr import uncorrected_wavelength

    if model.meta.exposure.type == BRIGHTOBJ:
        return apply_bots_flat(model, *parts)
    return apply_fs_flat(model, *parts, uncorrected_wavelength)


@hookimpl
def resample_spec(model, params):
    from spec2.errors import StepSkipped

    if model.slits[0].data.ndim != 2:
        raise StepSkipped("multi-integration fixed-slit data are not resampled")
    from spec2_nirspec.resample import resample_fixed_slits

    return resample_fixed_slits(model, pixfrac=params["pixfrac"], kernel=params["kernel"],
                                weight_type=params["weight_type"], pixel_scale_ratio=params["pixel_scale_ratio"])


@hookimpl
def extract(model, refs, params):
    from spec2.steps.extract_slit import extraction_options
    from spec2_nirspec.extract_1d import extract_nirspec

    ref = refs.load_json("extract1d") if refs.path("extract1d") is not None else None
    apcorr = refs.open("apcorr") if params["apply_apcorr"] and refs.path("apcorr") is not None else None
    return extract_nirspec(
        model, ref, apcorr, apply_apcorr=params["apply_apcorr"],
        **extraction_options(params),
    )


@hookimpl
def spec2_demo_data(directory, cache):
    """A full-frame fixed-slit exposure (a source off-centre in S200A1, sky in the other
    four slits), a BOTS transit series and a MOS visit (nods and imprint), on NRS1."""
    import numpy as np

    from spec2.demo import DemoCase
    from spec2_nirspec.demo_mos import mos_demo_case
    from spec2_nirspec.sim.exposures import (
        Setup,
        default_spectrum,
        simulate_exposure,
        transit,
        write_references,
    )

    folder = directory / "nirspec"
    folder.mkdir(parents=True, exist_ok=True)
    refs = write_references(cache, detectors=("NRS1",))
    fs, _ = simulate_exposure(folder / "jw01234001001_01101_00001_nrs1_rate.fits",
                              Setup(grating="G140M", primary="S200A1", xpos=0.15, ypos=-0.1), refs)
    nints = 60
    curve = transit(np.arange(nints) / nints, 0.5, 0.4, 0.01, 0.08)
    bots, _ = simulate_exposure(folder / "jw01234002001_01101_00001_nrs1_rateints.fits",
                                Setup(grating="G395H", subarray="SUB2048", primary="S1600A1",
                                      exp_type="NRS_BRIGHTOBJ", nints=nints, seed=4), refs, light_curve=curve)
    wl = np.linspace(0.6, 5.3, 20000)  # resolves the 1.5 nm wide emission line
    truth = default_spectrum(wl)
    return [
        DemoCase(name="NIRSpec fixed slit", description="G140M/F100LP, all five slits; the source in S200A1",
                 inputs=[fs], truth_wavelength=wl, truth_flux=truth, wavelength_range=(1.0, 1.85),
                 tolerance=0.02),
        DemoCase(name="NIRSpec BOTS", description=f"G395H/F290LP S1600A1, {nints} integrations with a 1 % transit",
                 inputs=[bots], truth_wavelength=wl, truth_flux=truth, light_curve=curve,
                 wavelength_range=(2.95, 4.0), tolerance=0.02),
        mos_demo_case(directory, cache),
    ]
