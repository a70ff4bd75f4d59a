"""NIRISS plugin hook implementations: wide-field slitless spectroscopy (NIS_WFSS).

The plugin claims its exposure types and steps in ``spec2_claims``; each hook fetches its
reference files through ``refs`` and calls the module that does the work. Heavy imports happen inside the
hooks, so loading the plugin costs nothing.
"""

from __future__ import annotations

from spec2 import hookimpl
from spec2.errors import StepSkipped
from spec2.recipe import Claim, Recipe, Step, optional_int_list

WFSS = "NIS_WFSS"

# calwebb_spec2's grism branch for WFSS: the reference background is scaled and subtracted
# before the flat, the flat before the cut-outs; photom works on the cut-outs (after the
# contamination correction, which is off unless asked for).
_WFSS_CALIBRATE = (Step("assign_wcs", required=True), "bkg_subtract", "flat_field", "extract_2d", "srctype",
                   "wfss_contam", Step("photom", product="cal"), Step("extract_1d", product="x1d"))


@hookimpl
def spec2_claims():
    return [Claim((WFSS,), {
        "assign_wcs": ("specwcs", "distortion", "filteroffset"), "bkg_subtract": ("bkg", "specwcs", "wavelengthrange"),
        "flat_field": ("flat",), "extract_2d": ("specwcs", "wavelengthrange"), "srctype": (),
        "wfss_contam": ("wavelengthrange", "photom"), "photom": ("photom",), "extract_1d": ("apcorr",),
    })]


@hookimpl
def spec2_recipe(exp_type, multi_int):
    return Recipe(_WFSS_CALIBRATE)


@hookimpl
def assign_wcs(model, refs, members):
    from spec2_niriss.wfss import assign_wfss_wcs, grism_name

    grism_name(model)  # a clear error for a non-grism FILTER before any reference is looked up
    filteroffset = refs.open("filteroffset") if refs.path("filteroffset") is not None else None
    return assign_wfss_wcs(model, refs.open("specwcs"), refs.open("distortion"), filteroffset, members)


@hookimpl
def background(model, refs, params, members):
    if refs.path("bkg") is None:
        raise StepSkipped("no WFSS background reference")
    from spec2.steps.wfss_background import run_wfss_background
    from spec2.steps.wfss_sources import catalog_path
    from spec2_niriss.wfss import background_mask

    specwcs, wavelengthrange = refs.open("specwcs"), refs.open("wavelengthrange")
    catalog = catalog_path(model, members)
    return run_wfss_background(
        model, refs.open("bkg"), params,
        lambda mmag: background_mask(model, catalog, wavelengthrange, specwcs, mmag_extract=mmag))


@hookimpl
def flat(model, refs, params):
    from spec2.steps.flat_field import apply_flat

    return apply_flat(model, refs.open("flat"), inverse=params["inverse"])


@hookimpl
def extract_2d(model, refs, params, members):
    from spec2.steps.wfss_sources import catalog_path
    from spec2_niriss.wfss import extract_wfss

    return extract_wfss(
        model, catalog_path(model, members), refs.open("wavelengthrange"), refs.open("specwcs"),
        extract_orders=optional_int_list(params["extract_orders"], "extract_2d.extract_orders"),
        half_height=params["wfss_extract_half_height"], mmag_extract=params["wfss_mmag_extract"],
        nbright=params["wfss_nbright"], source_ids=optional_int_list(params["source_ids"], "extract_2d.source_ids"))


@hookimpl
def srctype(model, params):
    from spec2.steps.srctype import set_slit_source_types

    return set_slit_source_types(model, source_type=params["source_type"])


@hookimpl
def photom(model, refs, params):
    from spec2.steps.call import forward_only

    forward_only(params, "NIRISS WFSS photom")
    from spec2.steps.grism_photom import calibrate_slits

    return calibrate_slits(model, refs.open("photom"))


@hookimpl
def extract(model, refs, params):
    from spec2.steps.extract_slit import extraction_options
    from spec2.steps.extract_wfss import extract_wfss

    apcorr = refs.open("apcorr") if params["apply_apcorr"] and refs.path("apcorr") is not None else None
    m = model.meta.instrument
    return extract_wfss(model, apcorr, match={"filter": m.filter, "pupil": m.pupil},
                        options=extraction_options(params))


@hookimpl
def wfss_contam(model, refs, params, members):
    from spec2.steps.wfss_contam import run_wfss_contam

    return run_wfss_contam(model, refs, params, members)


@hookimpl
def spec2_demo_data(directory, cache):
    """A crowded GR150C field; the truth shown is the brightest point source without
    emission lines (NIRISS does not resolve them) whose first-order trace no other
    source's crosses."""
    import numpy as np

    from spec2.demo import DemoCase
    from spec2_niriss.sim.wfss import simulate_wfss

    out = simulate_wfss(directory / "niriss_wfss", cache, n_sources=40, grism="GR150C")
    s = out["sources"]
    chosen = None
    for i in np.argsort(s.abmag):
        others = np.arange(s.label.size) != i
        near = others & (np.abs(s.y - s.y[i]) < 15) & (np.abs(s.x - s.x[i]) < 450)
        if not s.is_extended[i] and i % 3 != 0 and 60 < s.x[i] < 1700 and 20 < s.y[i] < 2028 and not near.any():
            chosen = int(i)
            break
    wl = np.linspace(1.25, 1.75, 1001)
    return [DemoCase(
        name="NIRISS WFSS",
        description=f"GR150C/F150W field of {s.label.size} sources (orders 1 and 2 cut out), "
                    f"the dispersed sky subtracted; truth shown: source {s.label[chosen]} "
                    f"(AB {s.abmag[chosen]:.1f})",
        inputs=[out["asn"]],
        truth_wavelength=wl,
        truth_flux=out["spectra"][chosen](wl),
        wavelength_range=(1.36, 1.64),
        source_id=int(s.label[chosen]),
        spectral_order=1,
    )]
