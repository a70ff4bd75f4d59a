"""NIRCam plugin hook implementations: grism time series (NRC_TSGRISM) and wide-field
slitless spectroscopy (NRC_WFSS).

Each hook claims the exposure (returns None for others), fetches its reference files
through ``refs`` and calls the module that does the work. Heavy imports happen inside the
hooks, so loading the plugin costs nothing.
"""

from __future__ import annotations

from spec2 import hookimpl
from spec2.recipe import optional_int_list

TSGRISM = "NRC_TSGRISM"
WFSS = "NRC_WFSS"
EXPOSURE_TYPES = (TSGRISM, WFSS)

# calwebb_spec2's grism branch (_process_grism): for a time series bkg_subtract subtracts
# association backgrounds (SKIPPED without), for WFSS the scaled WFSSBKG reference.
_TSGRISM_CALIBRATE = ("assign_wcs", "bkg_subtract", "flat_field", "extract_2d", "srctype", "photom")
_WFSS_CALIBRATE = ("assign_wcs", "bkg_subtract", "flat_field", "extract_2d", "srctype", "wfss_contam", "photom")


def _is_tsgrism(model) -> bool:
    return model.meta.exposure.type == TSGRISM


def _is_wfss(model) -> bool:
    return model.meta.exposure.type == WFSS


def _is_mine(model) -> bool:
    return model.meta.exposure.type in EXPOSURE_TYPES


@hookimpl
def spec2_exposure_types():
    return list(EXPOSURE_TYPES)


@hookimpl
def spec2_recipe(exp_type, multi_int):
    from spec2.recipe import Recipe

    if exp_type == WFSS:
        return Recipe(_WFSS_CALIBRATE, resample=None, extract="extract_1d")
    if exp_type != TSGRISM:
        return None
    return Recipe(_TSGRISM_CALIBRATE, resample=None, extract="extract_1d")


@hookimpl
def assign_wcs(model, refs, members):
    if not _is_mine(model):
        return None
    if _is_wfss(model):
        from spec2.steps import wfss
        from spec2_nircam.wfss import NRC_WFSS

        return wfss.assign_wcs(model, refs, members, NRC_WFSS)
    filteroffset = refs.open("filteroffset") if refs.path("filteroffset") is not None else None
    from spec2_nircam.assign_wcs import assign_tsgrism_wcs

    return assign_tsgrism_wcs(model, refs.open("specwcs"), refs.open("distortion"), filteroffset)


@hookimpl
def background(model, refs, params, members):
    if _is_wfss(model):
        from spec2.steps import wfss
        from spec2_nircam.wfss import NRC_WFSS

        return wfss.bkg_subtract(model, refs, params, members, NRC_WFSS)
    if not _is_tsgrism(model):
        return None
    from spec2.steps.background import subtract_association_backgrounds

    return subtract_association_backgrounds(model, params, members)


@hookimpl
def flat(model, refs):
    if not _is_mine(model):
        return None
    flat_model = refs.open("flat")
    from spec2.steps.flat_field import apply_flat

    return apply_flat(model, flat_model)


@hookimpl
def extract_2d(model, refs, params, members):
    if not _is_mine(model):
        return None
    if _is_wfss(model):
        from spec2.steps import wfss
        from spec2_nircam.wfss import NRC_WFSS

        return wfss.extract_2d(model, refs, params, members, NRC_WFSS)
    from spec2.wcs.grism import specwcs_orders

    orders = specwcs_orders(refs.open("specwcs"))
    extract_orders = optional_int_list(params["extract_orders"], "extract_2d.extract_orders")
    from spec2_nircam.extract_2d import extract_tso

    height = params["tsgrism_extract_height"]
    return extract_tso(model, refs.open("wavelengthrange"), orders, extract_orders=extract_orders,
                       extract_height=None if height is None or height < 0 else height)


@hookimpl
def srctype(model, params):
    if not _is_mine(model):
        return None
    if _is_wfss(model):
        from spec2.steps.srctype import set_slit_source_types

        return set_slit_source_types(model, source_type=params["source_type"] or None)
    from spec2.steps.srctype import set_source_type

    return set_source_type(model, source_type=params["source_type"] or None)


@hookimpl
def photom(model, refs):
    if not _is_mine(model):
        return None
    photom_model = refs.open("photom")
    from spec2.steps.grism_photom import (
        apply_grism_photom,
        calibrate_slits,
        set_photometry_keywords,
    )

    if _is_wfss(model):
        return calibrate_slits(model, photom_model)

    m = model.meta.instrument
    scalar = apply_grism_photom(model, photom_model, model.meta, filter_name=m.filter, pupil=m.pupil,
                                order=model.meta.wcsinfo.spectral_order, dispaxis=1)
    set_photometry_keywords(model.meta, scalar, photom_model)
    return model


@hookimpl
def extract(model, refs, params):
    if not _is_mine(model):
        return None
    if _is_wfss(model):
        from spec2.steps import wfss

        return wfss.extract_1d(model, refs, params)
    from spec2.steps.extract_slit import extraction_options

    ref = refs.load_json("extract1d") if refs.path("extract1d") is not None else None
    from spec2_nircam.extract_1d import extract_tsgrism

    return extract_tsgrism(model, ref, **extraction_options(params))


@hookimpl
def spec2_demo_data(directory, cache):
    """A grism transit time series of a bright star."""
    import numpy as np

    from spec2.demo import DemoCase
    from spec2_nircam.simulate import default_spectrum, simulate_tsgrism

    out = simulate_tsgrism(directory / "nircam_tsgrism", cache, nints=60)
    wl = np.linspace(3.7, 5.1, 700)
    return [DemoCase(
        name="NIRCam grism time series",
        description=f"F444W/GRISMR transit, {len(out['light_curve'])} integrations with a 0.8 % transit",
        inputs=[out["tso"]],
        truth_wavelength=wl,
        truth_flux=default_spectrum(wl),
        light_curve=out["light_curve"],
        wavelength_range=(3.95, 4.9),
    )]


@hookimpl
def wfss_contam(model, refs, params, members):
    """Off by default; needs the association's direct_image and segmap members."""
    if not _is_wfss(model):
        return None
    from spec2.steps import wfss
    from spec2_nircam.wfss import NRC_WFSS

    return wfss.wfss_contam(model, refs, params, members, NRC_WFSS)
