"""MIRI plugin hook implementations: LRS fixed slit and LRS slitless.

The plugin claims its exposure types and steps in ``spec2_claims``; the core calls these
hooks only for them. Each hook is a thin adapter: it fetches reference files through
``refs`` and calls the step module that does the work (``assign_wcs``, ``pathloss``,
``photom``, ``resample_spec``, ``extract_1d`` here; the instrument-agnostic ones in
:mod:`spec2.steps`). Heavy imports happen inside the hooks so that loading the plugin
costs nothing.
"""

from __future__ import annotations

from spec2 import hookimpl
from spec2.errors import StepSkipped
from spec2.recipe import Claim, Recipe, Step

LRS_FIXEDSLIT = "MIR_LRS-FIXEDSLIT"
LRS_SLITLESS = "MIR_LRS-SLITLESS"
EXPOSURE_TYPES = (LRS_FIXEDSLIT, LRS_SLITLESS)

# calwebb_spec2's order for LRS (_process_common); pathloss and bkg_subtract stay in the
# list so their S_* keywords say SKIPPED where jwst's do.
_CALIBRATE = (Step("assign_wcs", required=True), "bkg_subtract", "srctype", "flat_field", "pathloss",
              Step("photom", product="cal"))


def _is_multi_integration(model) -> bool:
    return model.data.ndim == 3


@hookimpl
def spec2_claims():
    common = {"assign_wcs": ("distortion", "specwcs"), "bkg_subtract": (), "srctype": (), "flat_field": ("flat",),
              "pathloss": ("pathloss",), "photom": ("photom", "area"), "extract_1d": ("extract1d", "apcorr")}
    return [Claim((LRS_FIXEDSLIT,), {**common, "resample_spec": ()}), Claim((LRS_SLITLESS,), common)]


@hookimpl
def spec2_recipe(exp_type, multi_int):
    # jwst resamples only fixed-slit, single-integration data (the _s2d), and extracts
    # fixed-slit spectra from the _s2d; slitless and time series are extracted from _cal(ints).
    resample = (Step("resample_spec", product="s2d"),) if exp_type == LRS_FIXEDSLIT and not multi_int else ()
    return Recipe(_CALIBRATE + resample + (Step("extract_1d", product="x1d"),))


@hookimpl
def assign_wcs(model, refs):
    distortion, specwcs = refs.open("distortion"), refs.open("specwcs")
    from spec2_miri.assign_wcs import as_slit_model, assign_lrs_wcs

    model = assign_lrs_wcs(model, distortion, specwcs)
    # jwst turns LRS images into a SlitModel before srctype; doing it here lets every
    # later step see the same product type as the _cal.
    return as_slit_model(model)


@hookimpl
def background(model, params, members):
    from spec2.steps.background import subtract_association_backgrounds

    return subtract_association_backgrounds(model, params, members)


@hookimpl
def srctype(model, params):
    from spec2.steps.srctype import set_source_type

    return set_source_type(model, source_type=params["source_type"])


@hookimpl
def flat(model, refs, params):
    flat_model = refs.open("flat")
    from spec2.steps.flat_field import apply_flat

    return apply_flat(model, flat_model, inverse=params["inverse"])


@hookimpl
def pathloss(model, refs, params):
    from spec2.steps.call import forward_only

    forward_only(params, "MIRI LRS pathloss")
    if model.meta.exposure.type == LRS_SLITLESS or _is_multi_integration(model):
        raise StepSkipped("no slit loss for slitless or time-series LRS")
    pathloss_model = refs.open("pathloss")
    from spec2_miri.pathloss import apply_lrs_pathloss

    return apply_lrs_pathloss(model, pathloss_model)


@hookimpl
def photom(model, refs, params):
    from spec2.steps.call import forward_only

    forward_only(params, "MIRI LRS photom")
    photom_model = refs.open("photom")
    area = refs.open("area") if refs.path("area") is not None else None
    from spec2_miri.photom import apply_lrs_photom

    return apply_lrs_photom(model, photom_model, area)


@hookimpl
def resample_spec(model, params):
    from spec2_miri.resample_spec import resample_lrs

    return resample_lrs(
        model,
        pixfrac=params["pixfrac"],
        kernel=params["kernel"],
        weight_type=params["weight_type"],
        pixel_scale_ratio=params["pixel_scale_ratio"],
    )


@hookimpl
def extract(model, refs, params):
    ref = refs.load_json("extract1d") if refs.path("extract1d") is not None else None
    apcorr = None
    if params["apply_apcorr"] and refs.path("apcorr") is not None:
        apcorr = refs.open("apcorr")
    from spec2.steps.extract_slit import extraction_options
    from spec2_miri.extract_1d import extract_lrs

    return extract_lrs(
        model,
        ref,
        apcorr,
        apply_apcorr=params["apply_apcorr"],
        **extraction_options(params),
    )


@hookimpl
def spec2_demo_data(directory, cache):
    """A fixed-slit nod pair (as an association) and a slitless transit time series."""
    import numpy as np

    from spec2.demo import DemoCase
    from spec2_miri.sim.lrs import default_spectrum, simulate_lrs

    out = simulate_lrs(directory / "miri_lrs", cache, nints=120)
    wl = np.linspace(4.5, 15.0, 500)
    truth = default_spectrum(wl)
    return [
        DemoCase(
            name="MIRI LRS fixed slit",
            description="point source nodded along the slit; each nod's background is the other nod",
            inputs=[out["asn"]],
            truth_wavelength=wl,
            truth_flux=truth,
            wavelength_range=(5.5, 13.5),
            tolerance=0.01,
        ),
        DemoCase(
            name="MIRI LRS slitless",
            description=f"time series of {len(out['light_curve'])} integrations with a 1 % transit",
            inputs=[out["tso"]],
            truth_wavelength=wl,
            truth_flux=truth,
            light_curve=out["light_curve"],
            wavelength_range=(5.5, 13.5),
            tolerance=0.01,
        ),
    ]
